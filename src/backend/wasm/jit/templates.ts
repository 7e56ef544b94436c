/**
 * The fused ops as SIMD lane arithmetic: one template per interpreter opcode (assembly/fused.ts), each the same
 * sequence of lane operations as the interpreter's `apply` and assembly/vmath.ts's exp, log, tanh, sigmoid, log1p
 * and expm1, so a jitted group computes what the interpreter computes, bit for bit.
 *
 * Templates build straight-line SSA (`Lanes`): compile.ts then emits it for several vectors at once, instruction by
 * instruction interleaved, so that the core always has independent work (an exp is a chain of ~25 dependent
 * operations; one vector at a time leaves the core waiting on it). There is no branch in a template: vmath.ts's
 * two rare-case branches are taken for every vector here, which gives the same bits (see exp and expm1).
 */
import { OP_CODES } from '../opcodes.generated';
import { f32Bytes, i32Bytes, SIMD, type SimdOp } from './encode';

// assembly/vmath.ts's constants (float32, as AssemblyScript rounds its f32 literals).
const LOG2E = 1.442695041;
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;
const MAGIC = 12582912;
const MAGIC_BITS = 0x4b400000;
const SIGN = 0x80000000 | 0;
const F32_NAN_BITS = 0x7fc00000;
// assembly/fused.ts's SELU constants.
const SELU_SCALE = 1.0507009873554805;
const SELU_SCALE_ALPHA = 1.7580993408473768;

const EXP_POLY = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
const TANH_POLY = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];
// VMath.tanhFast's (ONNX Runtime's MLAS tanh, Eigen's coefficients): x·(P(x²)/Q(x²)), x clamped to ±TANH_FAST_CLAMP.
const TANH_FAST_P = [
  -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8, 1.48572235717979e-5,
  6.37261928875436e-4, 4.89352455891786e-3,
];
const TANH_FAST_Q = [1.19825839466702e-6, 1.18534705686654e-4, 2.268434632439e-3, 4.89352518554385e-3];
const TANH_FAST_CLAMP = 9;
const LOG_POLY = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
];
const EXPM1_POLY = [2.48015873e-5, 1.98412698e-4, 1.38888889e-3, 8.33333333e-3, 4.16666667e-2, 1.66666667e-1, 0.5];

/** A value of the SSA: an instruction's index. */
export type Value = number;

/** Bounds every non-NaN lane of a value lies within (NaN lanes take the same path through every template). */
export type Range = readonly [lo: number, hi: number];
const UNBOUNDED: Range = [-Infinity, Infinity];
// exp's arguments within this need neither vmath.ts's clamp nor its two-step scaling (it switches at |x| > 87; the
// margin covers float32 rounding of the values the bounds were computed for in double).
const EXP_NARROW = 86;
// tanh(x) is 1 in float32 from |x| = 10 on, in vmath.ts too (1 − 2/(e^20 + 1) rounds to 1): exp's argument 2|x| is
// clamped there, which keeps it narrow.
const TANH_SATURATED = 10;

/** [lo, hi], or unbounded where the bounds are NaN (∞ − ∞, 0·∞). */
function range(lo: number, hi: number): Range {
  if (Number.isNaN(lo) || Number.isNaN(hi)) return UNBOUNDED;
  // Widened by a few float32 ulps: the lanes are rounded results, the bounds exact ones.
  return [lo - Math.abs(lo) * 1e-6 - 1e-30, hi + Math.abs(hi) * 1e-6 + 1e-30];
}

function isNarrow(r: Range): boolean {
  return r[0] >= -EXP_NARROW && r[1] <= EXP_NARROW;
}

/**
 * One instruction: a SIMD op over earlier values (`shift`: an i32x4 shift by a constant count), a constant, or a
 * value from outside the group's arithmetic (`source`: an input vector, a row, a scalar; compile.ts supplies it).
 */
export type Instruction =
  | { readonly kind: 'op'; readonly op: SimdOp; readonly args: readonly Value[] }
  | { readonly kind: 'shift'; readonly op: SimdOp; readonly args: readonly [Value]; readonly count: number }
  | { readonly kind: 'const'; readonly bytes: readonly number[]; readonly args: readonly [] }
  | { readonly kind: 'source'; readonly source: number; readonly args: readonly [] };

/** A straight-line program over v128 values; `relaxed` makes madd a relaxed_madd (the -relaxed builds' VMath.madd). */
export class Lanes {
  readonly code: Instruction[] = [];
  private readonly constants = new Map<string, Value>();
  private readonly ranges = new Map<Value, Range>();

  constructor(readonly relaxed: boolean) {}

  private push(instruction: Instruction): Value {
    return this.code.push(instruction) - 1;
  }

  /** A value supplied by the emitter (an input's vector, say), identified by `source`. */
  source(source: number): Value {
    return this.push({ kind: 'source', source, args: [] });
  }

  /** Four equal float32 lanes. */
  c(value: number): Value {
    const lane = f32Bytes(value);
    return this.bits([...lane, ...lane, ...lane, ...lane]);
  }

  /** Four equal int32 lanes (a bit pattern; as float32 its range is that one value). */
  ci(bits: number): Value {
    const lane = i32Bytes(bits);
    const value = this.bits([...lane, ...lane, ...lane, ...lane]);
    const f = new Float32Array(Uint8Array.from(lane).buffer)[0];
    if (Number.isFinite(f)) this.ranges.set(value, [f, f]);
    return value;
  }

  /** What is known of a value's lanes: a range, or unbounded. */
  rangeOf(value: Value): Range {
    return this.ranges.get(value) ?? UNBOUNDED;
  }

  private bits(bytes: number[]): Value {
    const key = bytes.join();
    let value = this.constants.get(key);
    if (value === undefined) {
      value = this.push({ kind: 'const', bytes, args: [] });
      this.constants.set(key, value);
    }
    return value;
  }

  op(op: SimdOp, ...args: Value[]): Value {
    return this.push({ kind: 'op', op, args });
  }

  shift(op: SimdOp, a: Value, count: number): Value {
    return this.push({ kind: 'shift', op, args: [a], count });
  }

  add(a: Value, b: Value): Value {
    return this.op(SIMD.f32x4Add, a, b);
  }
  sub(a: Value, b: Value): Value {
    return this.op(SIMD.f32x4Sub, a, b);
  }
  mul(a: Value, b: Value): Value {
    return this.op(SIMD.f32x4Mul, a, b);
  }
  div(a: Value, b: Value): Value {
    return this.op(SIMD.f32x4Div, a, b);
  }
  and(a: Value, b: Value): Value {
    return this.op(SIMD.v128And, a, b);
  }
  or(a: Value, b: Value): Value {
    return this.op(SIMD.v128Or, a, b);
  }
  /** Lanes of a where mask is set, else b (v128.bitselect). */
  select(a: Value, b: Value, mask: Value): Value {
    return this.op(SIMD.v128Bitselect, a, b, mask);
  }

  /** a·b + c as VMath.madd. */
  madd(a: Value, b: Value, c: Value): Value {
    return this.relaxed ? this.op(SIMD.f32x4RelaxedMadd, a, b, c) : this.add(this.mul(a, b), c);
  }

  /** x within [lo, hi] as vmath.ts clamps: pmax then pmin, which keep NaN lanes. */
  private clamp(x: Value, lo: number, hi: number): Value {
    return this.op(SIMD.f32x4Pmin, this.op(SIMD.f32x4Pmax, x, this.c(lo)), this.c(hi));
  }

  /** Horner's rule from coefficients[0]: p = madd(p, x, next). */
  private horner(coefficients: readonly number[], x: Value): Value {
    let p = this.c(coefficients[0]);
    for (let i = 1; i < coefficients.length; i++) p = this.madd(p, x, this.c(coefficients[i]));
    return p;
  }

  /** VMath.pow2i: 2^n for int lanes n, built in the exponent field. */
  private pow2i(n: Value): Value {
    return this.shift(SIMD.i32x4Shl, this.op(SIMD.i32x4Add, n, this.ci(127)), 23);
  }

  /**
   * VMath.exp. vmath.ts clamps x to [-104, 89] and scales by 2^(n/2) twice only for vectors with a lane beyond
   * ±87; here every vector does. For |x| <= 87 both change nothing (the clamp is the identity, and p·2^n1·2^(n−n1)
   * multiplies by powers of two within the normal range, exactly, as p·2^n does): the same bits, no branch.
   */
  exp(x: Value, narrow = isNarrow(this.rangeOf(x))): Value {
    // `narrow`: no lane beyond ±86 (but NaN): vmath.ts's common path, which is then exactly what it computes.
    const xc = narrow ? x : this.clamp(x, -104, 89);
    const t = this.add(this.mul(xc, this.c(LOG2E)), this.c(MAGIC));
    const n = this.sub(t, this.c(MAGIC));
    let r = this.sub(xc, this.mul(n, this.c(LN2_HI)));
    r = this.sub(r, this.mul(n, this.c(LN2_LO)));
    let p = this.horner(EXP_POLY, r);
    p = this.add(this.add(this.mul(p, this.mul(r, r)), r), this.c(1));
    const ni = this.op(SIMD.i32x4Sub, t, this.ci(MAGIC_BITS));
    if (narrow) return this.mul(p, this.pow2i(ni));
    const n1 = this.shift(SIMD.i32x4ShrS, ni, 1);
    return this.mul(this.mul(p, this.pow2i(n1)), this.pow2i(this.op(SIMD.i32x4Sub, ni, n1)));
  }

  /** VMath.tanh. */
  tanh(x: Value): Value {
    const sign = this.and(x, this.ci(SIGN));
    const ax = this.op(SIMD.v128Andnot, x, this.ci(SIGN));
    // Clamped where tanh is 1 anyway (pmin keeps NaN): exp then takes its narrow path, with vmath.ts's bits.
    const clamped = this.op(SIMD.f32x4Pmin, ax, this.c(TANH_SATURATED));
    const e = this.exp(this.add(clamped, clamped), true);
    const large = this.sub(this.c(1), this.div(this.c(2), this.add(e, this.c(1))));
    const z = this.mul(ax, ax);
    const p = this.horner(TANH_POLY, z);
    const small = this.add(this.mul(this.mul(p, z), ax), ax);
    const y = this.select(small, large, this.op(SIMD.f32x4Lt, ax, this.c(0.625)));
    return this.or(y, sign);
  }

  /** VMath.tanhFast: clamp, x·(P(x²)/Q(x²)), the result clamped to ±1. */
  tanhFast(x: Value): Value {
    const xc = this.clamp(x, -TANH_FAST_CLAMP, TANH_FAST_CLAMP);
    const z = this.mul(xc, xc);
    const p = this.horner(TANH_FAST_P, z);
    const q = this.horner(TANH_FAST_Q, z);
    return this.clamp(this.mul(xc, this.div(p, q)), -1, 1);
  }

  /** VMath.sigmoid. */
  sigmoid(x: Value): Value {
    const e = this.exp(this.or(x, this.ci(SIGN)));
    const num = this.select(this.c(1), e, this.op(SIMD.f32x4Ge, x, this.c(0)));
    return this.div(num, this.add(this.c(1), e));
  }

  /** VMath.log. */
  log(x: Value): Value {
    const tiny = this.op(SIMD.f32x4Lt, x, this.c(1.17549435e-38));
    const xs = this.select(this.mul(x, this.c(8388608)), x, tiny);
    let e = this.op(SIMD.i32x4Sub, this.shift(SIMD.i32x4ShrU, xs, 23), this.ci(126));
    e = this.op(SIMD.i32x4Sub, e, this.and(tiny, this.ci(23)));
    let m = this.or(this.and(xs, this.ci(0x007fffff)), this.ci(0x3f000000));
    const low = this.op(SIMD.f32x4Lt, m, this.c(0.707106781));
    e = this.op(SIMD.i32x4Add, e, low);
    m = this.sub(this.add(m, this.and(m, low)), this.c(1));
    const fe = this.op(SIMD.f32x4ConvertI32x4S, e);
    const z = this.mul(m, m);
    const p = this.horner(LOG_POLY, m);
    let y = this.mul(this.mul(p, m), z);
    y = this.madd(fe, this.c(LN2_LO), y);
    y = this.madd(z, this.c(-0.5), y);
    let r = this.add(m, y);
    r = this.madd(fe, this.c(LN2_HI), r);
    r = this.select(this.c(-Infinity), r, this.op(SIMD.f32x4Eq, x, this.c(0)));
    r = this.select(this.ci(F32_NAN_BITS), r, this.op(SIMD.f32x4Lt, x, this.c(0)));
    const special = this.or(this.op(SIMD.f32x4Ne, x, x), this.op(SIMD.f32x4Eq, x, this.c(Infinity)));
    return this.select(x, r, special);
  }

  /** VMath.log1p. */
  log1p(x: Value): Value {
    const u = this.add(x, this.c(1));
    const r = this.mul(this.log(u), this.div(x, this.sub(u, this.c(1))));
    const keep = this.or(this.op(SIMD.f32x4Eq, u, this.c(1)), this.op(SIMD.f32x4Eq, x, this.c(Infinity)));
    return this.select(x, r, keep);
  }

  /**
   * VMath.expm1. vmath.ts replaces lanes above 88 by exp(x) only for vectors that have one; here exp(x) is
   * computed for every vector and selected by the same mask: the same bits, no branch, an exp more of work.
   */
  expm1(x: Value): Value {
    const c = this.clamp(x, -30, 88);
    const t = this.add(this.mul(c, this.c(LOG2E)), this.c(MAGIC));
    const n = this.sub(t, this.c(MAGIC));
    let r = this.sub(c, this.mul(n, this.c(LN2_HI)));
    r = this.sub(r, this.mul(n, this.c(LN2_LO)));
    const p = this.horner(EXPM1_POLY, r);
    const em = this.madd(this.mul(r, r), p, r);
    const scale = this.pow2i(this.op(SIMD.i32x4Sub, t, this.ci(MAGIC_BITS)));
    let y = this.madd(scale, em, this.sub(scale, this.c(1)));
    y = this.select(x, y, this.op(SIMD.f32x4Lt, this.op(SIMD.f32x4Abs, x), this.c(2.98023224e-8)));
    return this.select(this.exp(x), y, this.op(SIMD.f32x4Gt, x, this.c(88)));
  }

  /** VMath.relu: NaN stays, −0 becomes 0. */
  relu(x: Value): Value {
    return this.and(x, this.or(this.op(SIMD.f32x4Gt, x, this.c(0)), this.op(SIMD.f32x4Ne, x, x)));
  }

  /** log1p(e^−|x|): softplus's and logSigmoid's shared tail. */
  private softTail(x: Value): Value {
    return this.log1p(this.exp(this.or(x, this.ci(SIGN))));
  }

  /**
   * One fused op (an interpreter opcode other than a FILL) over its operands, the result's range recorded (exp
   * takes its narrow path where its argument's range allows). Throws for an opcode it lacks.
   */
  apply(code: number, args: readonly Value[]): Value {
    const value = this.template(code, args);
    const bounds = resultRange(
      code,
      args.map((a) => this.rangeOf(a)),
    );
    if (bounds !== UNBOUNDED && !this.ranges.has(value)) this.ranges.set(value, bounds);
    return value;
  }

  private template(code: number, args: readonly Value[]): Value {
    const [x, y, z] = args;
    switch (code) {
      case OP_CODES.copy:
        return x;
      case OP_CODES.neg:
        return this.op(SIMD.f32x4Neg, x);
      case OP_CODES.abs:
        return this.op(SIMD.f32x4Abs, x);
      case OP_CODES.sqrt:
        return this.op(SIMD.f32x4Sqrt, x);
      case OP_CODES.floor:
        return this.op(SIMD.f32x4Floor, x);
      case OP_CODES.ceil:
        return this.op(SIMD.f32x4Ceil, x);
      case OP_CODES.square:
        return this.mul(x, x);
      case OP_CODES.exp:
        return this.exp(x);
      case OP_CODES.log:
        return this.log(x);
      case OP_CODES.tanh:
        return this.tanh(x);
      case OP_CODES.tanhFast:
        return this.tanhFast(x);
      case OP_CODES.sigmoid:
        return this.sigmoid(x);
      case OP_CODES.relu:
        return this.relu(x);
      case OP_CODES.log1p:
        return this.log1p(x);
      case OP_CODES.expm1:
        return this.expm1(x);
      case OP_CODES.reciprocal:
        return this.div(this.c(1), x);
      case OP_CODES.rsqrt:
        return this.div(this.c(1), this.op(SIMD.f32x4Sqrt, x));
      case OP_CODES.softplus: {
        const tail = this.softTail(x);
        return this.select(this.add(x, tail), tail, this.op(SIMD.f32x4Gt, x, this.c(0)));
      }
      case OP_CODES.logSigmoid: {
        const tail = this.softTail(x);
        return this.select(this.sub(x, tail), this.op(SIMD.f32x4Neg, tail), this.op(SIMD.f32x4Lt, x, this.c(0)));
      }
      case OP_CODES.elu:
        return this.select(x, this.expm1(x), this.op(SIMD.f32x4Ge, x, this.c(0)));
      case OP_CODES.selu: {
        const pos = this.mul(x, this.c(SELU_SCALE));
        const neg = this.mul(this.expm1(x), this.c(SELU_SCALE_ALPHA));
        return this.select(pos, neg, this.op(SIMD.f32x4Ge, x, this.c(0)));
      }
      case OP_CODES.relu6:
        return this.op(SIMD.f32x4Min, this.op(SIMD.f32x4Max, x, this.c(0)), this.c(6));
      case OP_CODES.sign: {
        let r = this.and(x, this.op(SIMD.f32x4Ne, x, x));
        r = this.select(this.c(-1), r, this.op(SIMD.f32x4Lt, x, this.c(0)));
        return this.select(this.c(1), r, this.op(SIMD.f32x4Gt, x, this.c(0)));
      }
      case OP_CODES.add:
        return this.add(x, y);
      case OP_CODES.sub:
        return this.sub(x, y);
      case OP_CODES.mul:
        return this.mul(x, y);
      case OP_CODES.div:
        return this.div(x, y);
      case OP_CODES.maximum:
        return this.op(SIMD.f32x4Max, x, y);
      case OP_CODES.minimum:
        return this.op(SIMD.f32x4Min, x, y);
      case OP_CODES.squaredDifference: {
        const d = this.sub(x, y);
        return this.mul(d, d);
      }
      case OP_CODES.prelu:
        // prelu(x, alpha) = x < 0 ? alpha·x : x.
        return this.select(this.mul(y, x), x, this.op(SIMD.f32x4Lt, x, this.c(0)));
      case OP_CODES.reluGrad:
        // reluGrad(dy, x) = dy · (x > 0 ? 1 : 0).
        return this.mul(x, this.and(this.op(SIMD.f32x4Gt, y, this.c(0)), this.c(1)));
      case OP_CODES.clip: {
        // clipByValue(x, lo, hi) = x > hi ? hi : x < lo ? lo : x.
        const r = this.select(y, x, this.op(SIMD.f32x4Lt, x, y));
        return this.select(z, r, this.op(SIMD.f32x4Gt, x, z));
      }
      default:
        throw new Error(`fused jit: no template for opcode ${code}`);
    }
  }
}

/** Bounds of an op's result from its operands' (interval arithmetic; unbounded where not worked out). */
function resultRange(code: number, [a, b]: readonly Range[]): Range {
  const abs = (r: Range): Range => (r[0] >= 0 ? r : r[1] <= 0 ? [-r[1], -r[0]] : [0, Math.max(-r[0], r[1])]);
  switch (code) {
    case OP_CODES.copy:
      return a;
    case OP_CODES.neg:
      return range(-a[1], -a[0]);
    case OP_CODES.abs:
      return abs(a);
    case OP_CODES.square: {
      const m = abs(a);
      return range(m[0] * m[0], m[1] * m[1]);
    }
    case OP_CODES.sqrt:
      return range(Math.sqrt(Math.max(a[0], 0)), Math.sqrt(Math.max(a[1], 0)));
    case OP_CODES.exp:
      return range(Math.exp(a[0]), Math.exp(a[1]));
    case OP_CODES.tanh:
    case OP_CODES.tanhFast:
      return [-1, 1];
    case OP_CODES.sigmoid:
      return [0, 1];
    case OP_CODES.relu:
      return range(Math.max(a[0], 0), Math.max(a[1], 0));
    case OP_CODES.relu6:
      return [0, 6];
    case OP_CODES.add:
      return range(a[0] + b[0], a[1] + b[1]);
    case OP_CODES.sub:
      return range(a[0] - b[1], a[1] - b[0]);
    case OP_CODES.mul: {
      const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
      return range(Math.min(...p), Math.max(...p));
    }
    case OP_CODES.maximum:
      return range(Math.max(a[0], b[0]), Math.max(a[1], b[1]));
    case OP_CODES.minimum:
      return range(Math.min(a[0], b[0]), Math.min(a[1], b[1]));
    default:
      return UNBOUNDED;
  }
}
