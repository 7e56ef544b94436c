// An interpreter for fused elementwise groups. A program is data (i32 words in memory, built and validated by
// src/backend/wasm/program.ts), run block by block: for each block of BLOCK floats, each instruction is one
// tight SIMD loop over the block, so the `switch` on the opcode costs once per instruction per block, not per
// element, and intermediates stay in L1-sized register rows instead of full-size arrays. We cannot generate wasm
// at run time, and this keeps the per-op loops as fast as the single-op kernels.
//
// Instruction: FUSED_WORDS i32 words [op, dst, a, b, c]. An operand ref r >= 0 names register row r; r < 0 names
// input −1 − r, a full array of floats read at the block's position. dst is a register, or −1 for the output.
// Scalar inputs and literals are not operands: FILL instructions at the program's start splat them into registers
// once per call (a FILL's `a` is the scalar input's index or the literal's f32 bits).
import { VMath } from './vmath';
import { Abs, Add, Div, Exp, Log, Mul, Neg, Relu, Sigmoid, Sqrt, Square, Sub, Tanh, TanhFast } from './lanes';

export const FUSED_WORDS = 5;
export const FUSED_REGISTERS = 64;
export const FUSED_MAX_INPUTS = 64;

export const OP_FILL_SCALAR = 0;
export const OP_FILL_LITERAL = 1;
export const OP_COPY = 2;
export const OP_NEG = 3;
export const OP_ABS = 4;
export const OP_SQRT = 5;
export const OP_SQUARE = 6;
export const OP_EXP = 7;
export const OP_LOG = 8;
export const OP_TANH = 9;
export const OP_SIGMOID = 10;
export const OP_RELU = 11;
export const OP_RECIPROCAL = 12;
export const OP_RSQRT = 13;
export const OP_LOG1P = 14;
export const OP_EXPM1 = 15;
export const OP_SOFTPLUS = 16;
export const OP_LOG_SIGMOID = 17;
export const OP_ELU = 18;
export const OP_SELU = 19;
export const OP_RELU6 = 20;
export const OP_FLOOR = 21;
export const OP_CEIL = 22;
export const OP_SIGN = 23;
export const OP_TANH_FAST = 24;
export const OP_ADD = 32;
export const OP_SUB = 33;
export const OP_MUL = 34;
export const OP_DIV = 35;
export const OP_MAXIMUM = 36;
export const OP_MINIMUM = 37;
export const OP_SQUARED_DIFFERENCE = 38;
export const OP_PRELU = 39;
export const OP_RELU_GRAD = 40;
export const OP_CLIP = 48;
// A row-broadcast input: [op, dst, input, rowLength, 0] fills register dst, per block, with the input's elements
// (position mod rowLength), position being the block's element index (a bias or a per-channel statistic).
export const OP_FILL_ROW = 49;

const BLOCK = 256;
const BLOCK_BYTES: usize = BLOCK * 4;
// Scratch: the register rows, then one 16-byte staging row per input and one for the output (the last 1–3 floats).
const STAGE: usize = <usize>FUSED_REGISTERS * BLOCK_BYTES;
const STAGE_OUT: usize = STAGE + FUSED_MAX_INPUTS * 16;

/** Bytes of the scratch area each thread passes to fusedRun. */
export function fusedScratchBytes(): i32 {
  return <i32>(STAGE_OUT + 16);
}

// tfjs's (and the SELU paper's) constants, as src/ops/unary.ts.
const SELU_SCALE: f32 = 1.0507009873554805;
const SELU_SCALE_ALPHA: f32 = 1.7580993408473768;
const SIGN_BIT = 0x80000000;

class Copy {
  @inline apply(x: v128): v128 {
    return x;
  }
}
class Reciprocal {
  @inline apply(x: v128): v128 {
    return f32x4.div(f32x4.splat(1), x);
  }
}
class Rsqrt {
  @inline apply(x: v128): v128 {
    return f32x4.div(f32x4.splat(1), f32x4.sqrt(x));
  }
}
class Log1p {
  @inline apply(x: v128): v128 {
    return VMath.log1p(x);
  }
}
class Expm1 {
  @inline apply(x: v128): v128 {
    return VMath.expm1(x);
  }
}
// softplus(x) = x > 0 ? x + log1p(e^−x) : log1p(eˣ), both sides being log1p(e^−|x|) plus x or 0.
class Softplus {
  @inline apply(x: v128): v128 {
    const tail = VMath.log1p(VMath.exp(v128.or(x, i32x4.splat(SIGN_BIT))));
    return v128.bitselect(f32x4.add(x, tail), tail, f32x4.gt(x, f32x4.splat(0)));
  }
}
// logSigmoid(x) = x < 0 ? x − log1p(eˣ) : −log1p(e^−x) (the second is −0 at +∞, as the template gives).
class LogSigmoid {
  @inline apply(x: v128): v128 {
    const tail = VMath.log1p(VMath.exp(v128.or(x, i32x4.splat(SIGN_BIT))));
    return v128.bitselect(f32x4.sub(x, tail), f32x4.neg(tail), f32x4.lt(x, f32x4.splat(0)));
  }
}
class Elu {
  @inline apply(x: v128): v128 {
    return v128.bitselect(x, VMath.expm1(x), f32x4.ge(x, f32x4.splat(0)));
  }
}
class Selu {
  @inline apply(x: v128): v128 {
    const pos = f32x4.mul(x, f32x4.splat(SELU_SCALE));
    const neg = f32x4.mul(VMath.expm1(x), f32x4.splat(SELU_SCALE_ALPHA));
    return v128.bitselect(pos, neg, f32x4.ge(x, f32x4.splat(0)));
  }
}
// Math.min(Math.max(x, 0), 6): wasm's min and max propagate NaN and order −0 below +0, as Math's do.
class Relu6 {
  @inline apply(x: v128): v128 {
    return f32x4.min(f32x4.max(x, f32x4.splat(0)), f32x4.splat(6));
  }
}
class Floor {
  @inline apply(x: v128): v128 {
    return f32x4.floor(x);
  }
}
class Ceil {
  @inline apply(x: v128): v128 {
    return f32x4.ceil(x);
  }
}
// 1, −1, +0 for ±0, NaN for NaN (the template's `$0 === 0 ? 0` gives +0 for −0 too).
class Sign {
  @inline apply(x: v128): v128 {
    let r = v128.and(x, f32x4.ne(x, x));
    r = v128.bitselect(f32x4.splat(-1), r, f32x4.lt(x, f32x4.splat(0)));
    return v128.bitselect(f32x4.splat(1), r, f32x4.gt(x, f32x4.splat(0)));
  }
}

class Maximum {
  @inline apply(x: v128, y: v128): v128 {
    return f32x4.max(x, y);
  }
}
class Minimum {
  @inline apply(x: v128, y: v128): v128 {
    return f32x4.min(x, y);
  }
}
class SquaredDifference {
  @inline apply(x: v128, y: v128): v128 {
    const d = f32x4.sub(x, y);
    return f32x4.mul(d, d);
  }
}
// prelu(x, alpha) = x < 0 ? alpha·x : x.
class Prelu {
  @inline apply(x: v128, alpha: v128): v128 {
    return v128.bitselect(f32x4.mul(alpha, x), x, f32x4.lt(x, f32x4.splat(0)));
  }
}
// reluGrad(dy, x) = dy · (x > 0 ? 1 : 0): a NaN dy stays NaN, as in the graph's product.
class ReluGrad {
  @inline apply(dy: v128, x: v128): v128 {
    return f32x4.mul(dy, v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1)));
  }
}

// clipByValue(x, lo, hi) = x > hi ? hi : x < lo ? lo : x (NaN passes through).
class Clip {
  @inline apply(x: v128, lo: v128, hi: v128): v128 {
    const r = v128.bitselect(lo, x, f32x4.lt(x, lo));
    return v128.bitselect(hi, r, f32x4.gt(x, hi));
  }
}

// Two vectors per iteration when the count allows: the loads of the second overlap the first's arithmetic.
function map1<F>(a: usize, d: usize, nv: i32): void {
  const f = changetype<F>(0);
  let i = 0;
  for (; i + 2 <= nv; i += 2) {
    const x0 = v128.load(a);
    const x1 = v128.load(a, 16);
    v128.store(d, f.apply(x0));
    v128.store(d, f.apply(x1), 16);
    a += 32;
    d += 32;
  }
  if (i < nv) v128.store(d, f.apply(v128.load(a)));
}

function map2<F>(a: usize, b: usize, d: usize, nv: i32): void {
  const f = changetype<F>(0);
  let i = 0;
  for (; i + 2 <= nv; i += 2) {
    const x0 = v128.load(a);
    const x1 = v128.load(a, 16);
    const y0 = v128.load(b);
    const y1 = v128.load(b, 16);
    v128.store(d, f.apply(x0, y0));
    v128.store(d, f.apply(x1, y1), 16);
    a += 32;
    b += 32;
    d += 32;
  }
  if (i < nv) v128.store(d, f.apply(v128.load(a), v128.load(b)));
}

function map3<F>(a: usize, b: usize, c: usize, d: usize, nv: i32): void {
  const f = changetype<F>(0);
  for (let i = 0; i < nv; i++) {
    v128.store(d, f.apply(v128.load(a), v128.load(b), v128.load(c)));
    a += 16;
    b += 16;
    c += 16;
    d += 16;
  }
}

/** Fills `count` floats at d with row[(pos + j) mod length], j < count: whole runs of the row copied at once. */
function fillRow(row: usize, length: i32, pos: i32, d: usize, count: i32): void {
  let j = pos % length;
  while (count > 0) {
    const run = min(length - j, count);
    memory.copy(d, row + ((<usize>j) << 2), (<usize>run) << 2);
    d += (<usize>run) << 2;
    count -= run;
    j = 0;
  }
}

/**
 * out[i] = row[i mod length] for i in [start, end): a broadcast of trailing dims (broadcastTo of a bias or of
 * per-channel values). One period is filled in phase, then the filled part is copied after itself, doubling.
 */
export function tileRow(row: usize, length: i32, out: usize, start: i32, end: i32): void {
  const total = end - start;
  if (total <= 0 || length <= 0) return;
  const base = out + ((<usize>start) << 2);
  let filled = min(length, total);
  fillRow(row, length, start, base, filled);
  while (filled < total) {
    const count = min(filled, total - filled);
    memory.copy(base + ((<usize>filled) << 2), base, (<usize>count) << 2);
    filled += count;
  }
}

/** Where operand `ref` lives for the block at byte offset `at` (in the staging rows for the tail). */
function operand(ref: i32, inputs: usize, at: usize, scratch: usize, tail: bool): usize {
  if (ref >= 0) return scratch + <usize>(ref & (FUSED_REGISTERS - 1)) * BLOCK_BYTES;
  const k = <usize>((-1 - ref) & (FUSED_MAX_INPUTS - 1));
  return tail ? scratch + STAGE + k * 16 : <usize>load<i32>(inputs + k * 4) + at;
}

function runBlock(
  program: usize,
  first: i32,
  nInstr: i32,
  inputs: usize,
  out: usize,
  at: usize,
  nv: i32,
  scratch: usize,
  tail: bool,
): void {
  for (let i = first; i < nInstr; i++) {
    const p = program + <usize>(i * FUSED_WORDS * 4);
    const op = load<i32>(p);
    const dst = load<i32>(p, 4);
    const d = dst >= 0 ? operand(dst, inputs, at, scratch, tail) : tail ? scratch + STAGE_OUT : out + at;
    const a = operand(load<i32>(p, 8), inputs, at, scratch, tail);
    const b = operand(load<i32>(p, 12), inputs, at, scratch, tail);
    switch (op) {
      case OP_COPY:
        map1<Copy>(a, d, nv);
        break;
      case OP_NEG:
        map1<Neg>(a, d, nv);
        break;
      case OP_ABS:
        map1<Abs>(a, d, nv);
        break;
      case OP_SQRT:
        map1<Sqrt>(a, d, nv);
        break;
      case OP_SQUARE:
        map1<Square>(a, d, nv);
        break;
      case OP_EXP:
        map1<Exp>(a, d, nv);
        break;
      case OP_LOG:
        map1<Log>(a, d, nv);
        break;
      case OP_TANH:
        map1<Tanh>(a, d, nv);
        break;
      case OP_TANH_FAST:
        map1<TanhFast>(a, d, nv);
        break;
      case OP_SIGMOID:
        map1<Sigmoid>(a, d, nv);
        break;
      case OP_RELU:
        map1<Relu>(a, d, nv);
        break;
      case OP_RECIPROCAL:
        map1<Reciprocal>(a, d, nv);
        break;
      case OP_RSQRT:
        map1<Rsqrt>(a, d, nv);
        break;
      case OP_LOG1P:
        map1<Log1p>(a, d, nv);
        break;
      case OP_EXPM1:
        map1<Expm1>(a, d, nv);
        break;
      case OP_SOFTPLUS:
        map1<Softplus>(a, d, nv);
        break;
      case OP_LOG_SIGMOID:
        map1<LogSigmoid>(a, d, nv);
        break;
      case OP_ELU:
        map1<Elu>(a, d, nv);
        break;
      case OP_SELU:
        map1<Selu>(a, d, nv);
        break;
      case OP_RELU6:
        map1<Relu6>(a, d, nv);
        break;
      case OP_FLOOR:
        map1<Floor>(a, d, nv);
        break;
      case OP_CEIL:
        map1<Ceil>(a, d, nv);
        break;
      case OP_SIGN:
        map1<Sign>(a, d, nv);
        break;
      case OP_ADD:
        map2<Add>(a, b, d, nv);
        break;
      case OP_SUB:
        map2<Sub>(a, b, d, nv);
        break;
      case OP_MUL:
        map2<Mul>(a, b, d, nv);
        break;
      case OP_DIV:
        map2<Div>(a, b, d, nv);
        break;
      case OP_MAXIMUM:
        map2<Maximum>(a, b, d, nv);
        break;
      case OP_MINIMUM:
        map2<Minimum>(a, b, d, nv);
        break;
      case OP_SQUARED_DIFFERENCE:
        map2<SquaredDifference>(a, b, d, nv);
        break;
      case OP_PRELU:
        map2<Prelu>(a, b, d, nv);
        break;
      case OP_RELU_GRAD:
        map2<ReluGrad>(a, b, d, nv);
        break;
      case OP_FILL_ROW: {
        const row = <usize>load<i32>(inputs + <usize>((load<i32>(p, 8) & (FUSED_MAX_INPUTS - 1)) * 4));
        fillRow(row, max(load<i32>(p, 12), 1), <i32>(at >> 2), d, nv << 2);
        break;
      }
      case OP_CLIP:
        map3<Clip>(a, b, operand(load<i32>(p, 16), inputs, at, scratch, tail), d, nv);
        break;
    }
  }
}

/** Copies the last `count` (1–3) floats at byte offset `at` of every input the program reads into its staging row. */
function stageTail(
  program: usize,
  first: i32,
  nInstr: i32,
  inputs: usize,
  at: usize,
  count: i32,
  scratch: usize,
): void {
  for (let i = first; i < nInstr; i++) {
    const p = program + <usize>(i * FUSED_WORDS * 4);
    for (let w = 2; w < FUSED_WORDS; w++) {
      const ref = load<i32>(p + <usize>(w * 4));
      if (ref >= 0) continue;
      const k = <usize>((-1 - ref) & (FUSED_MAX_INPUTS - 1));
      const src = <usize>load<i32>(inputs + k * 4) + at;
      const dst = scratch + STAGE + k * 16;
      v128.store(dst, i32x4.splat(0));
      for (let j = 0; j < count; j++) store<f32>(dst + <usize>(j * 4), load<f32>(src + <usize>(j * 4)));
    }
  }
}

/**
 * Runs a fused program over elements [start, end): out[i] = the last instruction's value at i. `program` holds
 * nInstr instructions (FUSED_WORDS i32 each, the FILLs first); `inputs` holds one i32 byte offset per input (a
 * full array of floats, or one float for a scalar input that a FILL reads); `scratch` holds fusedScratchBytes()
 * bytes of this thread's own. out may be one of the inputs (each element is read before it is written), but must
 * not overlap one partially. Nothing outside [start, end) of the inputs and out is read or written.
 */
export function fusedRun(
  program: usize,
  nInstr: i32,
  inputs: usize,
  out: usize,
  start: i32,
  end: i32,
  scratch: usize,
): void {
  if (end <= start) return;
  let first = 0;
  for (; first < nInstr; first++) {
    const p = program + <usize>(first * FUSED_WORDS * 4);
    const op = load<i32>(p);
    if (op != OP_FILL_SCALAR && op != OP_FILL_LITERAL) break;
    const a = load<i32>(p, 8);
    const v =
      op == OP_FILL_SCALAR
        ? v128.load32_splat(<usize>load<i32>(inputs + <usize>((a & (FUSED_MAX_INPUTS - 1)) * 4)))
        : i32x4.splat(a);
    const row = scratch + <usize>(load<i32>(p, 4) & (FUSED_REGISTERS - 1)) * BLOCK_BYTES;
    for (let j: usize = 0; j < BLOCK_BYTES; j += 16) v128.store(row + j, v);
  }
  const vecEnd = start + ((end - start) & ~3);
  for (let i = start; i < vecEnd; i += BLOCK) {
    const m = min(BLOCK, vecEnd - i);
    runBlock(program, first, nInstr, inputs, out, (<usize>i) << 2, m >> 2, scratch, false);
  }
  const count = end - vecEnd;
  if (count > 0) {
    const at = (<usize>vecEnd) << 2;
    stageTail(program, first, nInstr, inputs, at, count, scratch);
    runBlock(program, first, nInstr, inputs, out, at, 1, scratch, true);
    const src = scratch + STAGE_OUT;
    for (let j = 0; j < count; j++) store<f32>(out + at + <usize>(j * 4), load<f32>(src + <usize>(j * 4)));
  }
}
