/**
 * Compiles a fused group's steps into a program for the wasm interpreter (assembly/fused.ts). The steps may come
 * from a loaded JSON graph, so every field is checked here: op names against the fixed table below, argument
 * references as integers in range, literals as numbers. The interpreter trusts what this produces.
 *
 * Layout (FUSED_WORDS i32 words per instruction: op, dst, a, b, c): FILL instructions first (each splats a scalar
 * input or a literal into a register once per call), then one instruction per step. An operand r >= 0 is register
 * row r, r < 0 is full input −1 − r; dst −1 is the output (only the last step writes it).
 */
import { FUSED_MAX_INPUTS, FUSED_REGISTERS, FUSED_WORDS, OP_CODES } from './opcodes.generated';

/** How an input is read: a full array of n floats, or one float broadcast to all n. */
/**
 * How a fused node's input is read: 'full' (n floats, n the output's size), 'scalar' (one float), or `row:L` (L
 * floats repeating along the output: element i reads element i mod L, a trailing-dims broadcast such as a bias).
 */
export type FusedInputKind = 'full' | 'scalar' | `row:${number}`;

/** The row length of a `row:L` kind (an integer >= 1), else 0. */
function rowLength(kind: string): number {
  if (!kind.startsWith('row:')) return 0;
  const length = Number(kind.slice(4));
  return Number.isSafeInteger(length) && length >= 1 && length < 2 ** 31 ? length : 0;
}

/** One step as the fused node's attrs hold it: an op name and its arguments (see src/ops/fused.ts). */
export interface FusedProgramStep {
  readonly op: string;
  readonly args: readonly unknown[];
}

/** Instructions a program may hold: the kernels reserve room for this many in wasm memory. */
export const FUSED_MAX_INSTRUCTIONS = 512;

/**
 * The ops the interpreter runs, by op name: opcode (assembly/fused.ts OP_*, generated) and arity. Each matches its
 * record's template in src/ops (elementwise.ts, unary.ts) in float32, NaN, ±0 and ±∞ included.
 */
const OPS: ReadonlyMap<string, { readonly code: number; readonly arity: number }> = new Map([
  ['identity', { code: OP_CODES.copy, arity: 1 }],
  ['stopGradient', { code: OP_CODES.copy, arity: 1 }],
  ['neg', { code: OP_CODES.neg, arity: 1 }],
  ['abs', { code: OP_CODES.abs, arity: 1 }],
  ['sqrt', { code: OP_CODES.sqrt, arity: 1 }],
  ['square', { code: OP_CODES.square, arity: 1 }],
  ['exp', { code: OP_CODES.exp, arity: 1 }],
  ['log', { code: OP_CODES.log, arity: 1 }],
  ['tanh', { code: OP_CODES.tanh, arity: 1 }],
  ['sigmoid', { code: OP_CODES.sigmoid, arity: 1 }],
  ['relu', { code: OP_CODES.relu, arity: 1 }],
  ['reciprocal', { code: OP_CODES.reciprocal, arity: 1 }],
  ['rsqrt', { code: OP_CODES.rsqrt, arity: 1 }],
  ['log1p', { code: OP_CODES.log1p, arity: 1 }],
  ['expm1', { code: OP_CODES.expm1, arity: 1 }],
  ['softplus', { code: OP_CODES.softplus, arity: 1 }],
  ['logSigmoid', { code: OP_CODES.logSigmoid, arity: 1 }],
  ['elu', { code: OP_CODES.elu, arity: 1 }],
  ['selu', { code: OP_CODES.selu, arity: 1 }],
  ['relu6', { code: OP_CODES.relu6, arity: 1 }],
  ['floor', { code: OP_CODES.floor, arity: 1 }],
  ['ceil', { code: OP_CODES.ceil, arity: 1 }],
  ['sign', { code: OP_CODES.sign, arity: 1 }],
  ['add', { code: OP_CODES.add, arity: 2 }],
  ['sub', { code: OP_CODES.sub, arity: 2 }],
  ['mul', { code: OP_CODES.mul, arity: 2 }],
  ['div', { code: OP_CODES.div, arity: 2 }],
  ['maximum', { code: OP_CODES.maximum, arity: 2 }],
  ['minimum', { code: OP_CODES.minimum, arity: 2 }],
  ['squaredDifference', { code: OP_CODES.squaredDifference, arity: 2 }],
  ['prelu', { code: OP_CODES.prelu, arity: 2 }],
  ['reluGrad', { code: OP_CODES.reluGrad, arity: 2 }],
  ['clipByValue', { code: OP_CODES.clip, arity: 3 }],
]);

/** tanh under the session option `fastTanh`: ONNX Runtime's rational form (assembly/vmath.ts `tanhFast`). */
const FAST_TANH = { code: OP_CODES.tanhFast, arity: 1 };

/** How a program computes what has more than one form: `fastTanh` runs tanh as `VMath.tanhFast` (≤ 7 ulp). */
export interface FusedProgramOptions {
  readonly fastTanh?: boolean;
}

/** The op names the interpreter runs (a fused group with any other op keeps the JS kernel). */
export const FUSED_WASM_OPS: readonly string[] = [...OPS.keys()];

const F32_MAX = 3.4028234663852886e38;
const f32Bits = new Int32Array(1);
const f32View = new Float32Array(f32Bits.buffer);

type Arg = { kind: 'input'; index: number } | { kind: 'step'; index: number } | { kind: 'value'; value: number };

function fail(message: string): never {
  throw new Error(`fused wasm program: ${message}`);
}

function isIndex(v: unknown, limit: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < limit;
}

function parseArg(raw: unknown, j: number, a: number, inputCount: number): Arg {
  if (typeof raw !== 'object' || raw === null) fail(`step ${j} arg ${a} must be {input}, {step} or {value}`);
  const keys = Object.keys(raw);
  const record = raw as Record<string, unknown>;
  if (keys.length !== 1) fail(`step ${j} arg ${a} must have exactly one of input, step, value; has ${keys.join(', ')}`);
  if ('input' in record) {
    if (!isIndex(record.input, inputCount)) fail(`step ${j} reads input ${String(record.input)} of ${inputCount}`);
    return { kind: 'input', index: record.input };
  }
  if ('step' in record) {
    if (!isIndex(record.step, j)) fail(`step ${j} reads step ${String(record.step)}, which is not an earlier step`);
    return { kind: 'step', index: record.step };
  }
  if ('value' in record) {
    if (typeof record.value !== 'number') fail(`step ${j} arg ${a} has a literal that is not a number`);
    return { kind: 'value', value: record.value };
  }
  return fail(`step ${j} arg ${a} must be {input}, {step} or {value}; got key ${keys[0]}`);
}

function literalBits(value: number): number {
  f32View[0] = value;
  return f32Bits[0];
}

/**
 * The interpreter program of a fused group, or null when the interpreter cannot run it (an op outside its table,
 * too many inputs, registers or instructions, a finite literal beyond float32's range): then the JS fused kernel
 * runs. Malformed steps (bad references, wrong arity, non-number literals) throw. `inputKinds` gives each input of
 * the fused node: 'full' (n floats, n the output's size), 'scalar' (one float) or `row:L` (L floats repeated along
 * the output, as a trailing-dims broadcast reads them); any other kind gives null.
 * @example const program = compileFusedProgram([{ op: 'exp', args: [{ input: 0 }] }], ['full']);
 */
export function compileFusedProgram(
  steps: readonly FusedProgramStep[],
  inputKinds: readonly string[],
  options: FusedProgramOptions = {},
): Int32Array | null {
  if (!Array.isArray(steps) || steps.length === 0) fail('steps must be a non-empty list');
  if (!Array.isArray(inputKinds)) fail('inputKinds must be a list');
  const inputCount = inputKinds.length;
  let supported =
    inputCount <= FUSED_MAX_INPUTS &&
    inputKinds.every((k) => k === 'full' || k === 'scalar' || (typeof k === 'string' && rowLength(k) > 0));
  const parsed: { code: number; args: Arg[] }[] = [];
  (steps as readonly unknown[]).forEach((raw, j) => {
    if (typeof raw !== 'object' || raw === null) fail(`step ${j} must be an object {op, args}`);
    const step = raw as { op?: unknown; args?: unknown };
    if (typeof step.op !== 'string') fail(`step ${j} has no op name`);
    if (!Array.isArray(step.args)) fail(`step ${j} (${step.op}) has no args list`);
    const args = (step.args as unknown[]).map((arg, a) => parseArg(arg, j, a, inputCount));
    const entry = step.op === 'tanh' && options.fastTanh === true ? FAST_TANH : OPS.get(step.op);
    if (entry === undefined) {
      supported = false;
      return;
    }
    if (args.length !== entry.arity) fail(`step ${j} (${step.op}) takes ${entry.arity} args, got ${args.length}`);
    for (const arg of args)
      if (arg.kind === 'value' && Number.isFinite(arg.value) && Math.abs(arg.value) > F32_MAX) {
        supported = false;
      }
    parsed.push({ code: entry.code, args });
  });
  if (!supported) return null;
  return assemble(parsed, inputKinds as readonly FusedInputKind[]);
}

function assemble(
  steps: readonly { code: number; args: Arg[] }[],
  kinds: readonly FusedInputKind[],
): Int32Array | null {
  const words: number[] = [];
  let registers = 0;
  // Constants first: one register per scalar input and per distinct literal (by its float32 bits), filled once.
  const scalarRegister = new Map<number, number>();
  const literalRegister = new Map<number, number>();
  for (const step of steps) {
    for (const arg of step.args) {
      if (arg.kind === 'input' && kinds[arg.index] === 'scalar' && !scalarRegister.has(arg.index)) {
        scalarRegister.set(arg.index, registers);
        words.push(OP_CODES.fillScalar, registers++, arg.index, 0, 0);
      } else if (arg.kind === 'value') {
        const bits = literalBits(arg.value);
        if (literalRegister.has(bits)) continue;
        literalRegister.set(bits, registers);
        words.push(OP_CODES.fillLiteral, registers++, bits, 0, 0);
      }
    }
  }
  // Row inputs next: one register each, filled per block with the row's elements at the block's position.
  const rowRegister = new Map<number, number>();
  for (const step of steps) {
    for (const arg of step.args) {
      if (arg.kind !== 'input' || rowLength(kinds[arg.index]) === 0 || rowRegister.has(arg.index)) continue;
      rowRegister.set(arg.index, registers);
      words.push(OP_CODES.fillRow, registers++, arg.index, rowLength(kinds[arg.index]), 0);
    }
  }
  // Step results: a register is reused once its value's last reader has run (reads precede the write per element).
  const lastUse = steps.map(() => -1);
  steps.forEach((step, j) => {
    for (const arg of step.args) if (arg.kind === 'step') lastUse[arg.index] = j;
  });
  const free: number[] = [];
  const row: number[] = [];
  const last = steps.length - 1;
  steps.forEach((step, j) => {
    const refs = step.args.map((arg) => {
      if (arg.kind === 'step') return row[arg.index];
      if (arg.kind === 'value') return literalRegister.get(literalBits(arg.value)) as number;
      if (kinds[arg.index] === 'scalar') return scalarRegister.get(arg.index) as number;
      return rowRegister.get(arg.index) ?? -1 - arg.index;
    });
    for (const arg of step.args) {
      if (arg.kind === 'step' && lastUse[arg.index] === j && !free.includes(row[arg.index])) free.push(row[arg.index]);
    }
    const dst = j === last ? -1 : (free.pop() ?? registers++);
    row.push(dst);
    words.push(step.code, dst, refs[0] ?? 0, refs[1] ?? 0, refs[2] ?? 0);
  });
  if (registers > FUSED_REGISTERS || words.length / FUSED_WORDS > FUSED_MAX_INSTRUCTIONS) return null;
  return Int32Array.from(words);
}
