/**
 * A fused group compiled to WebAssembly: the interpreter's program (program.ts, already validated there) becomes
 * one function whose loop computes the whole group for four elements at a time with every intermediate in a v128
 * local: no dispatch per op, no register rows in memory. The function has the interpreter's contract (fusedRun in
 * assembly/fused.ts): run(table, out, start, end, scratch) computes elements [start, end), `table` holding each
 * input's byte offset, `scratch` this thread's scratch (the tail's staging rows), and reads and writes nothing else.
 *
 * What compiles: every opcode of the interpreter (templates.ts), full inputs, scalar inputs, literals, and row
 * broadcasts whose length is a multiple of 4 (a row is then read four floats at a time in phase). A row of another
 * length returns null: the interpreter runs that group. `start` must be a multiple of 4 (the kernels split there).
 */
import { FUSED_MAX_INPUTS, FUSED_REGISTERS, FUSED_WORDS, OP_CODES } from '../opcodes.generated';
import { FunctionBody, I32, moduleOf, OP, SIMD, V128, type MemoryImport } from './encode';
import { Lanes, type Value } from './templates';

/** The exported function's name. */
export const JIT_EXPORT = 'run';

/** Bytes of scratch the jitted function uses: one 16-byte staging row per input and one for the output. */
export const JIT_SCRATCH_BYTES = (FUSED_MAX_INPUTS + 1) * 16;

/** How the module is built: its memory import, and whether VMath.madd is relaxed_madd (the -relaxed builds). */
export interface JitTarget extends MemoryImport {
  readonly relaxed: boolean;
}

// Parameters of the jitted function.
const TABLE = 0;
const OUT = 1;
const START = 2;
const END = 3;
const SCRATCH = 4;

// Vectors per iteration of the main loop, their code interleaved: independent dependency chains keep the core busy
// (measured on the 8-op chain against the interpreter: 1 vector 0.6×, 2: 1.0×, 4: 1.35×, 5 and 6 ~5% better than 4
// on the chain, tanh and sigmoid alone and the chain's gradient, 8 slower: registers spill).
const DEFAULT_UNROLL = 5;
// Groups longer than this (in SSA instructions; the 8-op chain is ~90) are emitted two vectors at a time, and
// beyond MAX_LANE_INSTRUCTIONS not compiled at all (the module would grow past ~1 MB).
const LONG_GROUP = 2000;
const MAX_LANE_INSTRUCTIONS = 12000;
const V128_ALIGN = 4; // log2(16)
const I32_ALIGN = 2;

/** One decoded instruction of the interpreter's program. */
interface Instruction {
  readonly code: number;
  readonly dst: number;
  readonly refs: readonly number[];
}

/** Operand count of each compute opcode (FILLs excluded). */
function arity(code: number): number {
  if (code === OP_CODES.clip) return 3;
  return code >= OP_CODES.add ? 2 : 1;
}

function decode(program: Int32Array): Instruction[] {
  if (program.length === 0 || program.length % FUSED_WORDS !== 0) {
    throw new Error(`fused jit: a program is whole instructions of ${FUSED_WORDS} words, got ${program.length}`);
  }
  const out: Instruction[] = [];
  for (let i = 0; i < program.length; i += FUSED_WORDS) {
    out.push({ code: program[i], dst: program[i + 1], refs: [program[i + 2], program[i + 3], program[i + 4]] });
  }
  return out;
}

function checkRegister(r: number): number {
  if (!Number.isInteger(r) || r < 0 || r >= FUSED_REGISTERS) throw new Error(`fused jit: register ${r} out of range`);
  return r;
}

function checkInput(k: number): number {
  if (!Number.isInteger(k) || k < 0 || k >= FUSED_MAX_INPUTS) throw new Error(`fused jit: input ${k} out of range`);
  return k;
}

/** What a group's straight-line code reads from outside: full input k, row register r, scalar register r. */
const SOURCE_ROW = FUSED_MAX_INPUTS;
const SOURCE_SCALAR = FUSED_MAX_INPUTS + FUSED_REGISTERS;

/** The group as SSA (templates.ts): every step in program order, the output's value last. */
function groupCode(
  steps: readonly Instruction[],
  fills: ReadonlyMap<number, Value | 'row' | 'scalar'>,
  lanes: Lanes,
): Value {
  const registers = new Map<number, Value>();
  for (const [r, fill] of fills) {
    registers.set(
      r,
      fill === 'row' ? lanes.source(SOURCE_ROW + r) : fill === 'scalar' ? lanes.source(SOURCE_SCALAR + r) : fill,
    );
  }
  const inputs = new Map<number, Value>();
  let result: Value | null = null;
  for (const step of steps) {
    const args = step.refs.slice(0, arity(step.code)).map((ref) => {
      if (ref >= 0) {
        const value = registers.get(checkRegister(ref));
        if (value === undefined) throw new Error(`fused jit: register ${ref} is read before it is written`);
        return value;
      }
      const k = checkInput(-1 - ref);
      let value = inputs.get(k);
      if (value === undefined) {
        value = lanes.source(k);
        inputs.set(k, value);
      }
      return value;
    });
    const value = lanes.apply(step.code, args);
    if (step.dst >= 0) registers.set(checkRegister(step.dst), value);
    else result = value;
  }
  if (result === null) throw new Error('fused jit: no instruction writes the output');
  return result;
}

/**
 * Emits `lanes`' code for `copies` vectors, each instruction for every copy before the next instruction (the
 * copies' chains interleave), each value in a local released after its last use. `source(id, copy)` pushes a
 * source's vector; `store(copy, push)` stores the result (push leaves it on the stack).
 */
function emitInterleaved(
  b: FunctionBody,
  lanes: Lanes,
  result: Value,
  copies: number,
  source: (id: number, copy: number) => void,
  store: (copy: number, push: () => void) => void,
): void {
  const code = lanes.code;
  const lastUse = code.map(() => -1);
  code.forEach((instruction, i) => {
    for (const a of instruction.args) lastUse[a] = i;
  });
  lastUse[result] = code.length;
  const locals: number[][] = code.map(() => []);
  const push = (value: Value, copy: number): void => {
    const instruction = code[value];
    if (instruction.kind === 'const') b.v128(instruction.bytes);
    else b.get(locals[value][copy]);
  };
  code.forEach((instruction, i) => {
    if (instruction.kind === 'const' || lastUse[i] < 0) return;
    for (let u = 0; u < copies; u++) {
      if (instruction.kind === 'source') source(instruction.source, u);
      else {
        for (const a of instruction.args) push(a, u);
        if (instruction.kind === 'shift') b.i32(instruction.count);
        b.simd(instruction.op);
      }
      const local = b.local(V128);
      b.set(local);
      locals[i][u] = local;
    }
    new Set(instruction.args).forEach((a) => {
      if (lastUse[a] === i && code[a].kind !== 'const') b.release(...locals[a]);
    });
  });
  for (let u = 0; u < copies; u++) store(u, () => push(result, u));
  if (code[result].kind !== 'const') b.release(...locals[result]);
}

/**
 * The module bytes of a group's program, or null when the JIT cannot express it (a row whose length is not a
 * multiple of 4; an opcode without a template). Throws for a malformed program (register or input out of range).
 * `unroll`: vectors per iteration of the main loop (interleaved), default 5; `poolConstants`: constants in locals.
 */
export function compileFusedJit(
  program: Int32Array,
  target: JitTarget,
  options: { readonly unroll?: number; readonly poolConstants?: boolean } = {},
): Uint8Array | null {
  const instructions = decode(program);
  const b = new FunctionBody([I32, I32, I32, I32, I32]);
  b.poolConstants = options.poolConstants ?? false;

  // The inputs' byte offsets, loaded from the table once per call.
  const pointer = new Map<number, number>();
  const pointerOf = (k: number): number => {
    let local = pointer.get(checkInput(k));
    if (local === undefined) {
      local = b.local(I32);
      b.get(TABLE)
        .mem(OP.i32Load, I32_ALIGN, 4 * k)
        .set(local);
      pointer.set(k, local);
    }
    return local;
  };

  // FILLs: scalars splat once per call into a local, literals are constants, rows are read in phase per vector.
  const lanes = new Lanes(target.relaxed);
  const fills = new Map<number, Value | 'row' | 'scalar'>();
  const scalars = new Map<number, number>();
  const rows = new Map<number, { pointer: number; bytes: number }>();
  let first = 0;
  for (; first < instructions.length; first++) {
    const { code, dst, refs } = instructions[first];
    if (code === OP_CODES.fillScalar) {
      const p = pointerOf(refs[0]);
      const local = b.local(V128);
      b.get(p).simdMem(SIMD.v128Load32Splat, 2).set(local);
      scalars.set(checkRegister(dst), local);
      fills.set(dst, 'scalar');
    } else if (code === OP_CODES.fillLiteral) {
      fills.set(checkRegister(dst), lanes.ci(refs[0]));
    } else if (code === OP_CODES.fillRow) {
      const length = refs[1];
      if (!Number.isInteger(length) || length < 4 || length % 4 !== 0 || length >= 2 ** 28) return null;
      rows.set(checkRegister(dst), { pointer: pointerOf(refs[0]), bytes: length * 4 });
      fills.set(dst, 'row');
    } else break;
  }
  const steps = instructions.slice(first);
  if (steps.length === 0) throw new Error('fused jit: a program without a compute instruction');
  for (const step of steps) {
    if (step.code === OP_CODES.fillScalar || step.code === OP_CODES.fillLiteral || step.code === OP_CODES.fillRow) {
      throw new Error('fused jit: a FILL after the first compute instruction');
    }
  }
  let result: Value;
  try {
    result = groupCode(steps, fills, lanes);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('fused jit: no template')) return null;
    throw e;
  }
  // A very long group (hundreds of transcendental steps) would make a module of megabytes: the interpreter runs it.
  if (lanes.code.length > MAX_LANE_INSTRUCTIONS) return null;
  const fullInputs = new Set<number>();
  for (const instruction of lanes.code) {
    if (instruction.kind === 'source' && instruction.source < SOURCE_ROW) fullInputs.add(instruction.source);
  }
  for (const k of fullInputs) pointerOf(k);

  const at = b.local(I32);
  const vecEnd = b.local(I32);
  const endBytes = b.local(I32);
  b.get(START).i32(2).op(OP.i32Shl).set(at);
  b.get(START).get(END).get(START).op(OP.i32Sub).i32(-4).op(OP.i32And).op(OP.i32Add).i32(2).op(OP.i32Shl).set(vecEnd);
  b.get(END).i32(2).op(OP.i32Shl).set(endBytes);

  /** Pushes a row's four floats for the vector `copy` vectors past `at` (the row's byte length divides by 16). */
  const pushRow = (r: number, copy: number): void => {
    const row = rows.get(r) as { pointer: number; bytes: number };
    b.get(row.pointer).get(at);
    if (copy > 0) b.i32(16 * copy).op(OP.i32Add);
    b.i32(row.bytes).op(OP.i32RemU).op(OP.i32Add).simdMem(SIMD.v128Load, 2);
  };
  const source = (loadFull: (k: number, copy: number) => void) => (id: number, copy: number) => {
    if (id < SOURCE_ROW) loadFull(id, copy);
    else if (id < SOURCE_SCALAR) pushRow(id - SOURCE_ROW, copy);
    else b.get(scalars.get(id - SOURCE_SCALAR) as number);
  };
  const emitVectors = (copies: number): void => {
    emitInterleaved(
      b,
      lanes,
      result,
      copies,
      source((k, copy) =>
        b
          .get(pointerOf(k))
          .get(at)
          .op(OP.i32Add)
          .simdMem(SIMD.v128Load, V128_ALIGN, 16 * copy),
      ),
      (copy, push) => {
        b.get(OUT).get(at).op(OP.i32Add);
        push();
        b.simdMem(SIMD.v128Store, V128_ALIGN, 16 * copy);
      },
    );
    b.get(at)
      .i32(16 * copies)
      .op(OP.i32Add)
      .set(at);
  };
  // The vector loop, `unroll` vectors per iteration, then one at a time.
  const unroll = Math.max(1, options.unroll ?? (lanes.code.length > LONG_GROUP ? 2 : DEFAULT_UNROLL));
  if (unroll > 1) {
    b.block().loop();
    b.get(at)
      .i32(16 * unroll)
      .op(OP.i32Add)
      .get(vecEnd)
      .op(OP.i32GtU)
      .brIf(1);
    emitVectors(unroll);
    b.br(0).end().end();
  }
  b.block().loop();
  b.get(at).get(vecEnd).op(OP.i32GeU).brIf(1);
  emitVectors(1);
  b.br(0).end().end();

  // The last 1–3 elements: full inputs staged (zero-padded) in scratch, the result copied out of it.
  const count = b.local(I32);
  b.get(endBytes).get(at).op(OP.i32GtU).if();
  b.get(endBytes).get(at).op(OP.i32Sub).set(count);
  for (const k of fullInputs) {
    b.get(SCRATCH)
      .i32x4(0)
      .simdMem(SIMD.v128Store, 0, 16 * k);
    b.get(SCRATCH)
      .i32(16 * k)
      .op(OP.i32Add)
      .get(pointerOf(k))
      .get(at)
      .op(OP.i32Add)
      .get(count)
      .memoryCopy();
  }
  const outStage = 16 * FUSED_MAX_INPUTS;
  emitInterleaved(
    b,
    lanes,
    result,
    1,
    source((k) => b.get(SCRATCH).simdMem(SIMD.v128Load, 0, 16 * k)),
    (_copy, push) => {
      b.get(SCRATCH);
      push();
      b.simdMem(SIMD.v128Store, 0, outStage);
    },
  );
  b.get(OUT).get(at).op(OP.i32Add).get(SCRATCH).i32(outStage).op(OP.i32Add).get(count).memoryCopy();
  b.end();
  return moduleOf(b, JIT_EXPORT, target);
}
