// Float32 transcendental functions on four lanes: range reduction plus a polynomial (Cephes' single-precision
// coefficients), branch-free per lane so that a whole vector takes one path. Measured against Math.* in double:
// exp ≤ 1 ulp, tanh ≤ 1.5 ulp, sigmoid ≤ 2.5 ulp. They are `@inline` methods (AssemblyScript inlines them into
// every loop that calls them; a call per vector would cost as much as the arithmetic).

export const ACT_NONE = 0;
export const ACT_RELU = 1;
export const ACT_SIGMOID = 2;
export const ACT_TANH = 3;
/** tanh as ONNX Runtime (MLAS), TensorFlow (Eigen) and XLA compute it: the session option `fastTanh`. */
export const ACT_TANH_FAST = 4;

const LOG2E: f32 = 1.442695041;
// ln 2 split in two so that n·LN2_HI is exact for |n| < 2^9: the reduction x − n·ln2 loses no bits.
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444e-4;
// Adding 1.5·2^23 rounds to an integer and leaves it in the low mantissa bits (no float→int conversion needed).
const MAGIC: f32 = 12582912;
const MAGIC_BITS = 0x4b400000;
const SIGN = 0x80000000;

export class VMath {
  /** a·b + c: one fused instruction where relaxed SIMD is compiled in (the `-relaxed` builds), else mul + add. */
  @inline static madd(a: v128, b: v128, c: v128): v128 {
    if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
    return f32x4.add(f32x4.mul(a, b), c);
  }

  /** 2^n for integer lanes n in [-126, 128] (128 gives +∞), built in the exponent field. */
  @inline static pow2i(n: v128): v128 {
    return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
  }

  /** eˣ per lane. Overflows to +∞ past ~88.72, underflows through the subnormals to 0, NaN stays NaN. */
  @inline static exp(x: v128): v128 {
    // |x| > 87 is rare: those vectors are clamped (pmin/pmax keep NaN lanes) and scaled in two steps below.
    const wide = v128.any_true(f32x4.gt(f32x4.abs(x), f32x4.splat(87)));
    if (wide) x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-104)), f32x4.splat(89));
    const t = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(MAGIC));
    const n = f32x4.sub(t, f32x4.splat(MAGIC));
    let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
    r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
    let p = f32x4.splat(1.98756915e-4);
    p = VMath.madd(p, r, f32x4.splat(1.3981999507e-3));
    p = VMath.madd(p, r, f32x4.splat(8.3334519073e-3));
    p = VMath.madd(p, r, f32x4.splat(4.1665795894e-2));
    p = VMath.madd(p, r, f32x4.splat(1.6666665459e-1));
    p = VMath.madd(p, r, f32x4.splat(5.0000001201e-1));
    p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
    const ni = i32x4.sub(t, i32x4.splat(MAGIC_BITS));
    if (!wide) return f32x4.mul(p, VMath.pow2i(ni));
    // n in [-150, 128]: scaling by 2^(n/2) twice keeps both factors normal, rounds once, and overflows or goes
    // subnormal only when the result does.
    const n1 = i32x4.shr_s(ni, 1);
    return f32x4.mul(f32x4.mul(p, VMath.pow2i(n1)), VMath.pow2i(i32x4.sub(ni, n1)));
  }

  /** tanh per lane: an odd polynomial below |x| = 0.625 (where 1 − 2/(e²ˣ + 1) would cancel), that formula above. */
  @inline static tanh(x: v128): v128 {
    const sign = v128.and(x, i32x4.splat(SIGN));
    const ax = v128.andnot(x, i32x4.splat(SIGN));
    // Large: 1 - 2 / (e^2|x| + 1); e^2|x| = +∞ gives exactly 1.
    const e = VMath.exp(f32x4.add(ax, ax));
    const large = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
    // Small: x + x³·P(x²).
    const z = f32x4.mul(ax, ax);
    let p = f32x4.splat(-5.70498872745e-3);
    p = VMath.madd(p, z, f32x4.splat(2.06390887954e-2));
    p = VMath.madd(p, z, f32x4.splat(-5.37397155531e-2));
    p = VMath.madd(p, z, f32x4.splat(1.33314422036e-1));
    p = VMath.madd(p, z, f32x4.splat(-3.33332819422e-1));
    const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), ax), ax);
    // A NaN lane fails the comparison and takes `large`, which is NaN too.
    const y = v128.bitselect(small, large, f32x4.lt(ax, f32x4.splat(0.625)));
    return v128.or(y, sign);
  }

  /**
   * tanh per lane as ONNX Runtime's MLAS computes it (Eigen's rational form, also TensorFlow's and XLA's): x clamped
   * to ±9, then x·P(x²)/Q(x²) with P of degree 6 and Q of degree 3, one division and no exp (25 operations against
   * `tanh`'s 47). ≤ 7 ulp (6.58 at x ≈ 6.03, from rounding P and Q where x² is large; the fit alone is 1.6) against
   * `tanh`'s 1.5. Two departures from MLAS: it is evaluated as x·(P/Q), not (x·P)/Q, which loses up to 104 ulp where
   * x·P goes subnormal (|x| < 10⁻³⁵); and the result is clamped to ±1, as the form reaches 1.0000002 near |x| = 8.4,
   * where 1 − y² would turn negative. NaN stays NaN (pmin/pmax keep it), ±0 keeps its sign, ±∞ gives ±1.
   */
  @inline static tanhFast(x: v128): v128 {
    const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-9)), f32x4.splat(9));
    const z = f32x4.mul(xc, xc);
    let p = f32x4.splat(-2.76076847742355e-16);
    p = VMath.madd(p, z, f32x4.splat(2.00018790482477e-13));
    p = VMath.madd(p, z, f32x4.splat(-8.60467152213735e-11));
    p = VMath.madd(p, z, f32x4.splat(5.12229709037114e-8));
    p = VMath.madd(p, z, f32x4.splat(1.48572235717979e-5));
    p = VMath.madd(p, z, f32x4.splat(6.37261928875436e-4));
    p = VMath.madd(p, z, f32x4.splat(4.89352455891786e-3));
    let q = f32x4.splat(1.19825839466702e-6);
    q = VMath.madd(q, z, f32x4.splat(1.18534705686654e-4));
    q = VMath.madd(q, z, f32x4.splat(2.268434632439e-3));
    q = VMath.madd(q, z, f32x4.splat(4.89352518554385e-3));
    const y = f32x4.mul(xc, f32x4.div(p, q));
    return f32x4.pmin(f32x4.pmax(y, f32x4.splat(-1)), f32x4.splat(1));
  }

  /** 1 / (1 + e⁻ˣ) per lane, as e^x / (1 + e^x) for x < 0 so that neither side overflows or loses the tail. */
  @inline static sigmoid(x: v128): v128 {
    const e = VMath.exp(v128.or(x, i32x4.splat(SIGN))); // e^-|x|
    // NaN fails the comparison: num = e = NaN.
    const num = v128.bitselect(f32x4.splat(1), e, f32x4.ge(x, f32x4.splat(0)));
    return f32x4.div(num, f32x4.add(f32x4.splat(1), e));
  }

  /**
   * ln x per lane (Cephes' logf): x = m·2^e with m in [√½, √2), ln x = e·ln 2 + ln m with ln(1 + f) as f − f²/2 +
   * f³·P(f). Subnormal x is scaled by 2^23 first (exact). log(0) = −∞, log(x < 0) = NaN, NaN and +∞ pass through.
   */
  @inline static log(x: v128): v128 {
    const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
    const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608)), x, tiny);
    const bits = xs;
    // The exponent with m in [0.5, 1), less 23 for the scaled subnormals.
    let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
    e = i32x4.sub(e, v128.and(tiny, i32x4.splat(23)));
    let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
    // m < √½: use 2m − 1 and e − 1, so that f = m − 1 lies in [√½ − 1, √2 − 1).
    const low = f32x4.lt(m, f32x4.splat(0.707106781));
    e = i32x4.add(e, low); // a true lane is −1
    m = f32x4.sub(f32x4.add(m, v128.and(m, low)), f32x4.splat(1));
    const fe = f32x4.convert_i32x4_s(e);
    const z = f32x4.mul(m, m);
    let p = f32x4.splat(7.0376836292e-2);
    p = VMath.madd(p, m, f32x4.splat(-1.151461031e-1));
    p = VMath.madd(p, m, f32x4.splat(1.167699874e-1));
    p = VMath.madd(p, m, f32x4.splat(-1.2420140846e-1));
    p = VMath.madd(p, m, f32x4.splat(1.4249322787e-1));
    p = VMath.madd(p, m, f32x4.splat(-1.6668057665e-1));
    p = VMath.madd(p, m, f32x4.splat(2.0000714765e-1));
    p = VMath.madd(p, m, f32x4.splat(-2.4999993993e-1));
    p = VMath.madd(p, m, f32x4.splat(3.3333331174e-1));
    let y = f32x4.mul(f32x4.mul(p, m), z);
    y = VMath.madd(fe, f32x4.splat(LN2_LO), y);
    y = VMath.madd(z, f32x4.splat(-0.5), y);
    let r = f32x4.add(m, y);
    r = VMath.madd(fe, f32x4.splat(LN2_HI), r);
    // The special lanes: 0 → −∞, negative → NaN, NaN and +∞ → themselves.
    r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
    r = v128.bitselect(f32x4.splat(NaN), r, f32x4.lt(x, f32x4.splat(0)));
    return v128.bitselect(x, r, v128.or(f32x4.ne(x, x), f32x4.eq(x, f32x4.splat(Infinity))));
  }

  /**
   * ln(1 + x) per lane: with u = 1 + x rounded, ln u · x / (u − 1) cancels u's rounding error (Goldberg's
   * Theorem 4); x itself where u = 1 (tiny x, ±0 keeps its sign) or x = +∞.
   */
  @inline static log1p(x: v128): v128 {
    const u = f32x4.add(x, f32x4.splat(1));
    const r = f32x4.mul(VMath.log(u), f32x4.div(x, f32x4.sub(u, f32x4.splat(1))));
    return v128.bitselect(x, r, v128.or(f32x4.eq(u, f32x4.splat(1)), f32x4.eq(x, f32x4.splat(Infinity))));
  }

  /**
   * eˣ − 1 per lane without cancellation near 0: x = n·ln 2 + r, |r| ≤ ln2/2, eˣ − 1 = 2ⁿ·expm1(r) + (2ⁿ − 1) where
   * both terms are exact for the n that matter and expm1(r) is a Taylor polynomial (degree 8, error < 2^-30).
   */
  @inline static expm1(x: v128): v128 {
    // Below −30 the result is −1 in float32; above 88, eˣ − 1 = eˣ (done by exp, which also overflows right).
    const c = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-30)), f32x4.splat(88));
    const t = f32x4.add(f32x4.mul(c, f32x4.splat(LOG2E)), f32x4.splat(MAGIC));
    const n = f32x4.sub(t, f32x4.splat(MAGIC));
    let r = f32x4.sub(c, f32x4.mul(n, f32x4.splat(LN2_HI)));
    r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
    let p = f32x4.splat(2.48015873e-5); // 1/8!
    p = VMath.madd(p, r, f32x4.splat(1.98412698e-4));
    p = VMath.madd(p, r, f32x4.splat(1.38888889e-3));
    p = VMath.madd(p, r, f32x4.splat(8.33333333e-3));
    p = VMath.madd(p, r, f32x4.splat(4.16666667e-2));
    p = VMath.madd(p, r, f32x4.splat(1.66666667e-1));
    p = VMath.madd(p, r, f32x4.splat(0.5));
    const em = VMath.madd(f32x4.mul(r, r), p, r);
    const scale = VMath.pow2i(i32x4.sub(t, i32x4.splat(MAGIC_BITS)));
    let y = VMath.madd(scale, em, f32x4.sub(scale, f32x4.splat(1)));
    // expm1(x) = x in float32 for |x| < 2^-25, which keeps −0 and the subnormals exact.
    y = v128.bitselect(x, y, f32x4.lt(f32x4.abs(x), f32x4.splat(2.98023224e-8)));
    const huge = f32x4.gt(x, f32x4.splat(88));
    if (v128.any_true(huge)) y = v128.bitselect(VMath.exp(x), y, huge);
    return y;
  }

  /** max(x, 0) per lane with JavaScript's NaN and -0 results (NaN stays, -0 becomes 0). */
  @inline static relu(x: v128): v128 {
    return v128.and(x, v128.or(f32x4.gt(x, f32x4.splat(0)), f32x4.ne(x, x)));
  }
}

/** The activation selected by code (ACT_*), identity for ACT_NONE. */
export function applyAct(v: v128, act: i32): v128 {
  if (act == ACT_RELU) return VMath.relu(v);
  if (act == ACT_SIGMOID) return VMath.sigmoid(v);
  if (act == ACT_TANH) return VMath.tanh(v);
  if (act == ACT_TANH_FAST) return VMath.tanhFast(v);
  return v;
}
