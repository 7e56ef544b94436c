/**
 * A small WebAssembly assembler: LEB128, the binary module's sections, and a function body builder with typed
 * locals and the SIMD128 opcodes the fused-group compiler (compile.ts) emits. It writes bytes only; what those
 * bytes compute is decided by the engine's own templates (templates.ts), never by loaded text.
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F32 | typeof V128;

/** Block types: no result, or one value. */
export const VOID = 0x40;

/** Core opcodes (one byte). */
export const OP = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  f32Load: 0x2a,
  i32Store: 0x36,
  f32Store: 0x38,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32LeU: 0x4d,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32RemU: 0x70,
  i32And: 0x71,
  i32Shl: 0x74,
} as const;

/** SIMD opcodes (after the 0xfd prefix, as LEB128 u32). */
export const SIMD = {
  v128Load: 0x00,
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  v128Not: 0x4d,
  v128And: 0x4e,
  v128Andnot: 0x4f,
  v128Or: 0x50,
  v128Xor: 0x51,
  v128Bitselect: 0x52,
  v128AnyTrue: 0x53,
  f32x4Ceil: 0x67,
  f32x4Floor: 0x68,
  i32x4Shl: 0xab,
  i32x4ShrS: 0xac,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  f32x4ConvertI32x4S: 0xfa,
  f32x4RelaxedMadd: 0x105,
} as const;
export type SimdOp = (typeof SIMD)[keyof typeof SIMD];

const SIMD_PREFIX = 0xfd;
const BULK_PREFIX = 0xfc;
const MEMORY_COPY = 10;

/** Unsigned LEB128 of a non-negative integer below 2^53. */
export function uleb(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`uleb: ${value} is not a non-negative integer`);
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** Signed LEB128 of an integer in [-2^31, 2^31) (i32.const's immediate). */
export function sleb(value: number): number[] {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RangeError(`sleb: ${value} is not a 32-bit integer`);
  }
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A name as the binary format writes it: its UTF-8 length, then the bytes (ASCII here). */
export function name(text: string): number[] {
  const bytes = [...text].map((ch) => {
    const code = ch.charCodeAt(0);
    if (code > 0x7e || code < 0x20) throw new RangeError(`name: only printable ASCII, got ${JSON.stringify(text)}`);
    return code;
  });
  return [...uleb(bytes.length), ...bytes];
}

/** Appends `items` to `out` (a loop: spreading a body of 100 KB into a literal is slow in V8). */
function append(out: number[], items: readonly number[]): number[] {
  for (let i = 0; i < items.length; i++) out.push(items[i]);
  return out;
}

/** A section: its id, its byte size, its contents. */
export function section(id: number, contents: readonly number[]): number[] {
  return append(append([id], uleb(contents.length)), contents);
}

/** A vector: its element count, then the elements' bytes. */
export function vector(items: readonly (readonly number[])[]): number[] {
  const out = uleb(items.length);
  for (const item of items) append(out, item);
  return out;
}

const f32Scratch = new Float32Array(1);
const u8Scratch = new Uint8Array(f32Scratch.buffer);

/** The four little-endian bytes of a float32 (value rounded to float32 first). */
export function f32Bytes(value: number): number[] {
  f32Scratch[0] = value;
  return [...u8Scratch];
}

/** The four little-endian bytes of an int32 (or uint32) bit pattern. */
export function i32Bytes(bits: number): number[] {
  return [bits & 0xff, (bits >>> 8) & 0xff, (bits >>> 16) & 0xff, (bits >>> 24) & 0xff];
}

/** A function body under construction: parameters, locals declared as needed, and its instructions. */
export class FunctionBody {
  readonly bytes: number[] = [];
  private readonly localTypes: ValueType[] = [];
  /**
   * With `poolConstants`, each distinct v128 constant is set once in a local at the function's start and read from
   * it: V8 builds a v128.const from immediates each time it appears (several instructions), a local is a register
   * or one load.
   */
  poolConstants = false;
  private readonly pool = new Map<string, number>();
  private readonly prologue: number[] = [];

  constructor(readonly params: readonly ValueType[]) {}

  // Locals are reused: one released (its value dead) serves the next request of its type. Few locals matter to V8,
  // which gives every local assigned in a loop a phi at the loop's head, live around the whole loop.
  private readonly free = new Map<ValueType, number[]>();
  private readonly scopes: number[][] = [];

  /** A local of `type` (a released one, or a new one): its index. */
  local(type: ValueType): number {
    const index = this.free.get(type)?.pop() ?? this.declare(type);
    this.scopes[this.scopes.length - 1]?.push(index);
    return index;
  }

  /** A new local that is never reused. */
  private declare(type: ValueType): number {
    return this.params.length + this.localTypes.push(type) - 1;
  }

  /** Hands locals back: their values are dead, later `local` calls may reuse them. */
  release(...indices: number[]): void {
    for (const index of indices) {
      const type = this.localTypes[index - this.params.length];
      if (type === undefined) throw new RangeError(`release: ${index} is not a local`);
      const list = this.free.get(type) ?? [];
      if (list.includes(index)) throw new RangeError(`release: local ${index} released twice`);
      list.push(index);
      this.free.set(type, list);
    }
  }

  /** Runs `emit`; the locals it took are released afterwards (it leaves its result on the stack, not in them). */
  scope(emit: () => void): void {
    this.scopes.push([]);
    try {
      emit();
    } finally {
      this.release(...(this.scopes.pop() as number[]));
    }
  }

  /** How many locals (not parameters) were declared. */
  get localCount(): number {
    return this.localTypes.length;
  }

  op(code: number, ...immediates: number[]): this {
    this.bytes.push(code, ...immediates);
    return this;
  }

  simd(code: SimdOp): this {
    this.bytes.push(SIMD_PREFIX, ...uleb(code));
    return this;
  }

  get(index: number): this {
    return this.op(OP.localGet, ...uleb(index));
  }

  set(index: number): this {
    return this.op(OP.localSet, ...uleb(index));
  }

  tee(index: number): this {
    return this.op(OP.localTee, ...uleb(index));
  }

  i32(value: number): this {
    return this.op(OP.i32Const, ...sleb(value));
  }

  /** v128.const of 16 bytes (or the local holding it, with `poolConstants`). */
  v128(bytes: readonly number[]): this {
    if (bytes.length !== 16) throw new RangeError(`v128.const takes 16 bytes, got ${bytes.length}`);
    if (!this.poolConstants) {
      this.bytes.push(SIMD_PREFIX, ...uleb(SIMD.v128Const), ...bytes);
      return this;
    }
    const key = bytes.join();
    let local = this.pool.get(key);
    if (local === undefined) {
      local = this.declare(V128);
      this.pool.set(key, local);
      this.prologue.push(SIMD_PREFIX, ...uleb(SIMD.v128Const), ...bytes, OP.localSet, ...uleb(local));
    }
    return this.get(local);
  }

  /** v128.const of four equal float32 lanes. */
  f32x4(value: number): this {
    const lane = f32Bytes(value);
    return this.v128([...lane, ...lane, ...lane, ...lane]);
  }

  /** v128.const of four equal int32 lanes (a bit pattern). */
  i32x4(bits: number): this {
    const lane = i32Bytes(bits);
    return this.v128([...lane, ...lane, ...lane, ...lane]);
  }

  /** A memory access: alignment as log2 bytes, constant byte offset. */
  mem(code: number, alignLog2: number, offset = 0): this {
    return this.op(code, ...uleb(alignLog2), ...uleb(offset));
  }

  simdMem(code: SimdOp, alignLog2: number, offset = 0): this {
    this.simd(code);
    this.bytes.push(...uleb(alignLog2), ...uleb(offset));
    return this;
  }

  /** memory.copy (bulk memory) within memory 0: [dst, src, n] on the stack. */
  memoryCopy(): this {
    return this.op(BULK_PREFIX, ...uleb(MEMORY_COPY), 0, 0);
  }

  block(type: number = VOID): this {
    return this.op(OP.block, type);
  }

  loop(type: number = VOID): this {
    return this.op(OP.loop, type);
  }

  if(type: number = VOID): this {
    return this.op(OP.if, type);
  }

  else(): this {
    return this.op(OP.else);
  }

  end(): this {
    return this.op(OP.end);
  }

  br(depth: number): this {
    return this.op(OP.br, ...uleb(depth));
  }

  brIf(depth: number): this {
    return this.op(OP.brIf, ...uleb(depth));
  }

  /** The code section entry: size, local declarations (runs of one type), instructions, end. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const type of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === type) last[0]++;
      else groups.push([1, type]);
    }
    const locals = vector(groups.map(([count, type]) => [...uleb(count), type]));
    const body = append(append(append([], locals), this.prologue), this.bytes);
    body.push(OP.end);
    return append(uleb(body.length), body);
  }
}

/** How the module's one memory is imported: as `env.memory`, ordinary or shared. */
export interface MemoryImport {
  readonly shared: boolean;
  /** The maximum in pages a shared import declares (it must be at least the memory's own maximum). */
  readonly maximumPages: number;
}

const MAGIC_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const TYPE_SECTION = 1;
const IMPORT_SECTION = 2;
const FUNCTION_SECTION = 3;
const EXPORT_SECTION = 7;
const CODE_SECTION = 10;
const FUNC_TYPE = 0x60;
const MEMORY_KIND = 0x02;
const FUNC_KIND = 0x00;

/**
 * A module of one function exported as `exportName`, importing `env.memory`: the header, then the type, import,
 * function, export and code sections. The function returns nothing.
 */
export function moduleOf(body: FunctionBody, exportName: string, memory: MemoryImport): Uint8Array {
  const type = [FUNC_TYPE, ...vector(body.params.map((t) => [t])), ...vector([])];
  const limits = memory.shared ? [0x03, ...uleb(0), ...uleb(memory.maximumPages)] : [0x00, ...uleb(0)];
  const memoryImport = [...name('env'), ...name('memory'), MEMORY_KIND, ...limits];
  const parts = [
    MAGIC_VERSION,
    section(TYPE_SECTION, vector([type])),
    section(IMPORT_SECTION, vector([memoryImport])),
    section(FUNCTION_SECTION, vector([uleb(0)])),
    section(EXPORT_SECTION, vector([[...name(exportName), FUNC_KIND, ...uleb(0)]])),
    section(CODE_SECTION, vector([body.encode()])),
  ];
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
