// Depthwise 2-D convolution over NHWC f32 tensors (conv2d with groups = in channels): the forward conv and its two
// gradients, direct loops with four output channels per vector. The filter is [fh, fw, 1, C·mult]: output channel
// o = c·mult + j reads input channel c = o / mult. Sums are f32 (fused multiply-add in the relaxed builds), except
// the filter gradient's long sums over every pixel, which add each output row's f32 partial sum into f64.
import { VMath } from './vmath';
import {
  GEOM_C,
  GEOM_DH,
  GEOM_DW,
  GEOM_EXTRA,
  GEOM_FH,
  GEOM_FW,
  GEOM_IN_H,
  GEOM_IN_W,
  GEOM_LEFT,
  GEOM_N,
  GEOM_OUT_H,
  GEOM_OUT_W,
  GEOM_SH,
  GEOM_SW,
  GEOM_TOP,
  Win,
} from './window';

function gather(p: usize, o: i32, mult: i32, count: i32): v128 {
  let v = f32x4.splat(load<f32>(p + ((<usize>(o / mult)) << 2)));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + ((<usize>((o + 1) / mult)) << 2)));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + ((<usize>((o + 2) / mult)) << 2)));
  if (count > 3) v = f32x4.replace_lane(v, 3, load<f32>(p + ((<usize>((o + 3) / mult)) << 2)));
  return v;
}

/** Inlined helpers. */
class Dw {
  /** Adds the four f32 lanes of s to the four f64s at a. */
  @inline static addF64(a: usize, s: v128): void {
    v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(s)));
    v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(i32x4.shuffle(s, s, 2, 3, 0, 1))), 16);
  }

  /** The taps of one filter row at p, p + step, p + 2·step: a + x0·f0 + x1·f1 + x2·f2. */
  @inline static row3(p: usize, step: usize, f0: v128, f1: v128, f2: v128, a: v128): v128 {
    a = VMath.madd(v128.load(p), f0, a);
    a = VMath.madd(v128.load(p + step), f1, a);
    return VMath.madd(v128.load(p + 2 * step), f2, a);
  }

  /**
   * Lanes o .. o + count − 1 of channel-multiplied data: element (o + i) / mult of the pixel at p (mult 1: a plain
   * load). The gather is for multipliers above 1, which are rare.
   */
  @inline static ldSpread(p: usize, o: i32, mult: i32, count: i32): v128 {
    if (mult == 1) return Win.ld(p + ((<usize>o) << 2), count);
    return gather(p, o, mult, count);
  }
}

/** Lanes c .. c + count − 1 of channel j of each group of mult at p (elements (c + i)·mult + j). */
function gatherStrided(p: usize, c: i32, mult: i32, j: i32, count: i32): v128 {
  const q = p + ((<usize>(c * mult + j)) << 2);
  const step = (<usize>mult) << 2;
  let v = f32x4.splat(load<f32>(q));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(q + step));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(q + 2 * step));
  if (count > 3) v = f32x4.replace_lane(v, 3, load<f32>(q + 3 * step));
  return v;
}

/**
 * y[b, oy, ox, o] = Σ x[b, oy·sh − top + kh·dh, ox·sw − left + kw·dw, o / mult] · f[kh, kw, o] over the taps inside
 * the input. Output rows [r0, r1) (over batch × outH), output channels [c0, c1).
 */
export function dwConv2d(g: usize, x: usize, f: usize, out: usize, r0: i32, r1: i32, c0: i32, c1: i32): void {
  const outW = Win.geom(g, GEOM_OUT_W);
  const sw = Win.geom(g, GEOM_SW);
  const dw = Win.geom(g, GEOM_DW);
  const left = Win.geom(g, GEOM_LEFT);
  const inW = Win.geom(g, GEOM_IN_W);
  const square3 = Win.geom(g, GEOM_FH) == 3 && Win.geom(g, GEOM_FW) == 3 && Win.geom(g, GEOM_EXTRA) == 1;
  if (!square3) {
    dwGeneric(g, x, f, out, r0, r1, c0, c1, 0, outW);
    return;
  }
  // 3×3, multiplier 1 (MobileNet's case): the columns whose three taps are all inside, over whole vectors of
  // channels, keep the nine filter vectors in registers; the edge columns and the last 1–3 channels go generic.
  const oxA = min(outW, (left + sw - 1) / sw);
  const oxB = max(oxA, min(outW, (inW - 2 * dw + left + sw - 1) / sw));
  const cv = c0 + ((c1 - c0) & ~3);
  dw3x3(g, x, f, out, r0, r1, c0, cv, oxA, oxB);
  dwGeneric(g, x, f, out, r0, r1, c0, c1, 0, oxA);
  dwGeneric(g, x, f, out, r0, r1, c0, c1, oxB, outW);
  if (cv < c1) dwGeneric(g, x, f, out, r0, r1, cv, c1, oxA, oxB);
}

/** A 3×3 filter (multiplier 1) over columns [oxA, oxB), all of whose taps are inside, channels [c0, c1) in fours. */
function dw3x3(g: usize, x: usize, f: usize, out: usize, r0: i32, r1: i32, c0: i32, c1: i32, oxA: i32, oxB: i32): void {
  const inH = Win.geom(g, GEOM_IN_H);
  const inW = Win.geom(g, GEOM_IN_W);
  const C = Win.geom(g, GEOM_C);
  const outH = Win.geom(g, GEOM_OUT_H);
  const sh = Win.geom(g, GEOM_SH);
  const sw = Win.geom(g, GEOM_SW);
  const dh = Win.geom(g, GEOM_DH);
  const dw = Win.geom(g, GEOM_DW);
  const top = Win.geom(g, GEOM_TOP);
  const left = Win.geom(g, GEOM_LEFT);
  const outW = Win.geom(g, GEOM_OUT_W);
  const tapStep = (<usize>dw * <usize>C) << 2;
  const oxStep = (<usize>sw * <usize>C) << 2;
  const fRow = (<usize>(3 * C)) << 2;
  const fTap = (<usize>C) << 2;
  const zero = f32x4.splat(0);
  for (let row = r0; row < r1; row++) {
    const b = row / outH;
    const y = (row - b * outH) * sh - top;
    const kh0 = Win.firstTap(y, dh);
    const kh1 = Win.endTap(y, dh, 3, inH);
    if (kh0 >= kh1) {
      for (let ox = oxA; ox < oxB; ox++) {
        const o = out + ((<usize>(row * outW + ox) * <usize>C) << 2);
        for (let c = c0; c < c1; c += 4) v128.store(o + ((<usize>c) << 2), zero);
      }
      continue;
    }
    const has0 = kh0 == 0;
    const has1 = kh0 <= 1 && kh1 > 1;
    const has2 = kh1 == 3;
    // Input rows y, y + dh, y + 2·dh (only the ones inside are read), column ox·sw − left at ox = oxA.
    const first = x + ((<usize>((b * inH + y + kh0 * dh) * inW + oxA * sw - left) * <usize>C) << 2);
    const rowStep = (<usize>(dh * inW * C)) << 2;
    for (let c = c0; c < c1; c += 4) {
      const cb = (<usize>c) << 2;
      const q = f + cb;
      const f00 = has0 ? v128.load(q) : zero;
      const f01 = has0 ? v128.load(q + fTap) : zero;
      const f02 = has0 ? v128.load(q + 2 * fTap) : zero;
      const f10 = has1 ? v128.load(q + fRow) : zero;
      const f11 = has1 ? v128.load(q + fRow + fTap) : zero;
      const f12 = has1 ? v128.load(q + fRow + 2 * fTap) : zero;
      const f20 = has2 ? v128.load(q + 2 * fRow) : zero;
      const f21 = has2 ? v128.load(q + 2 * fRow + fTap) : zero;
      const f22 = has2 ? v128.load(q + 2 * fRow + 2 * fTap) : zero;
      let p = first + cb;
      let o = out + ((<usize>(row * outW + oxA) * <usize>C) << 2) + cb;
      const oStep = (<usize>C) << 2;
      if (has0 && has1 && has2) {
        for (let ox = oxA; ox < oxB; ox++) {
          let a = Dw.row3(p, tapStep, f00, f01, f02, zero);
          a = Dw.row3(p + rowStep, tapStep, f10, f11, f12, a);
          v128.store(o, Dw.row3(p + 2 * rowStep, tapStep, f20, f21, f22, a));
          p += oxStep;
          o += oStep;
        }
      } else {
        // The first or last rows of the image: only the rows inside, in kh order from kh0.
        for (let ox = oxA; ox < oxB; ox++) {
          let a = zero;
          let r = p;
          if (has0) {
            a = Dw.row3(r, tapStep, f00, f01, f02, a);
            r += rowStep;
          }
          if (has1) {
            a = Dw.row3(r, tapStep, f10, f11, f12, a);
            r += rowStep;
          }
          if (has2) a = Dw.row3(r, tapStep, f20, f21, f22, a);
          v128.store(o, a);
          p += oxStep;
          o += oStep;
        }
      }
    }
  }
}

/** The general kernel over output columns [ox0, ox1): any filter, multiplier, stride and dilation. */
function dwGeneric(
  g: usize,
  x: usize,
  f: usize,
  out: usize,
  r0: i32,
  r1: i32,
  c0: i32,
  c1: i32,
  ox0: i32,
  ox1: i32,
): void {
  const inH = Win.geom(g, GEOM_IN_H);
  const inW = Win.geom(g, GEOM_IN_W);
  const C = Win.geom(g, GEOM_C);
  const outH = Win.geom(g, GEOM_OUT_H);
  const outW = Win.geom(g, GEOM_OUT_W);
  const fh = Win.geom(g, GEOM_FH);
  const fw = Win.geom(g, GEOM_FW);
  const sh = Win.geom(g, GEOM_SH);
  const sw = Win.geom(g, GEOM_SW);
  const dh = Win.geom(g, GEOM_DH);
  const dw = Win.geom(g, GEOM_DW);
  const top = Win.geom(g, GEOM_TOP);
  const left = Win.geom(g, GEOM_LEFT);
  const mult = Win.geom(g, GEOM_EXTRA);
  const OC = C * mult;
  const xStep = (<usize>dw * <usize>C) << 2;
  const fStep = (<usize>OC) << 2;
  for (let row = r0; row < r1; row++) {
    const b = row / outH;
    const y = (row - b * outH) * sh - top;
    const kh0 = Win.firstTap(y, dh);
    const kh1 = Win.endTap(y, dh, fh, inH);
    for (let ox = ox0; ox < ox1; ox++) {
      const xx = ox * sw - left;
      const kw0 = Win.firstTap(xx, dw);
      const kw1 = Win.endTap(xx, dw, fw, inW);
      const o = out + ((<usize>(row * outW + ox) * <usize>OC) << 2);
      let c = c0;
      // Two vectors at a time: two accumulation chains, and each tap's x pixel address computed once.
      for (; c + 8 <= c1; c += 8) {
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        for (let kh = kh0; kh < kh1; kh++) {
          let p = x + ((<usize>((b * inH + y + kh * dh) * inW + xx + kw0 * dw) * <usize>C) << 2);
          let q = f + ((<usize>((kh * fw + kw0) * OC + c)) << 2);
          for (let kw = kw0; kw < kw1; kw++) {
            a0 = VMath.madd(Dw.ldSpread(p, c, mult, 4), v128.load(q), a0);
            a1 = VMath.madd(Dw.ldSpread(p, c + 4, mult, 4), v128.load(q, 16), a1);
            p += xStep;
            q += fStep;
          }
        }
        v128.store(o + ((<usize>c) << 2), a0);
        v128.store(o + ((<usize>c) << 2), a1, 16);
      }
      for (; c < c1; c += 4) {
        const k = min(4, c1 - c);
        let a = f32x4.splat(0);
        for (let kh = kh0; kh < kh1; kh++) {
          let p = x + ((<usize>((b * inH + y + kh * dh) * inW + xx + kw0 * dw) * <usize>C) << 2);
          let q = f + ((<usize>((kh * fw + kw0) * OC + c)) << 2);
          for (let kw = kw0; kw < kw1; kw++) {
            a = VMath.madd(Dw.ldSpread(p, c, mult, k), Win.ld(q, k), a);
            p += xStep;
            q += fStep;
          }
        }
        Win.st(o + ((<usize>c) << 2), a, k);
      }
    }
  }
}

/**
 * dx[b, iy, ix, c] = Σ dy[b, oy, ox, c·mult + j] · f[kh, kw, c·mult + j] over the (oy, ox, kh, kw) whose window tap
 * lands on (iy, ix), and j < mult: gathered per input pixel, so rows of dx split freely. Input rows [r0, r1) (over
 * batch × inH), input channels [c0, c1).
 */
export function dwConv2dInput(g: usize, dy: usize, f: usize, dx: usize, r0: i32, r1: i32, c0: i32, c1: i32): void {
  const inH = Win.geom(g, GEOM_IN_H);
  const inW = Win.geom(g, GEOM_IN_W);
  const C = Win.geom(g, GEOM_C);
  const outH = Win.geom(g, GEOM_OUT_H);
  const outW = Win.geom(g, GEOM_OUT_W);
  const fh = Win.geom(g, GEOM_FH);
  const fw = Win.geom(g, GEOM_FW);
  const sh = Win.geom(g, GEOM_SH);
  const sw = Win.geom(g, GEOM_SW);
  const dh = Win.geom(g, GEOM_DH);
  const dw = Win.geom(g, GEOM_DW);
  const top = Win.geom(g, GEOM_TOP);
  const left = Win.geom(g, GEOM_LEFT);
  const mult = Win.geom(g, GEOM_EXTRA);
  const OC = C * mult;
  for (let row = r0; row < r1; row++) {
    const b = row / inH;
    const iy = row - b * inH;
    for (let ix = 0; ix < inW; ix++) {
      const o = dx + ((<usize>(row * inW + ix) * <usize>C) << 2);
      if (mult == 1) {
        // Multiplier 1: find each tap landing here once, then run it over the channels, accumulating in dx's pixel
        // (in L1) rather than re-deriving the taps for every four channels.
        for (let c = c0; c < c1; c += 4) Win.st(o + ((<usize>c) << 2), f32x4.splat(0), min(4, c1 - c));
        for (let kh = 0; kh < fh; kh++) {
          const ty = iy + top - kh * dh;
          if (ty < 0) break;
          const oy = ty / sh;
          if (oy * sh != ty || oy >= outH) continue;
          for (let kw = 0; kw < fw; kw++) {
            const tx = ix + left - kw * dw;
            if (tx < 0) break;
            const ox = tx / sw;
            if (ox * sw != tx || ox >= outW) continue;
            const d = dy + ((<usize>((b * outH + oy) * outW + ox) * <usize>C) << 2);
            const q = f + ((<usize>((kh * fw + kw) * C)) << 2);
            for (let c = c0; c < c1; c += 4) {
              const k = min(4, c1 - c);
              const cb = (<usize>c) << 2;
              Win.st(o + cb, VMath.madd(Win.ld(d + cb, k), Win.ld(q + cb, k), Win.ld(o + cb, k)), k);
            }
          }
        }
        continue;
      }
      for (let c = c0; c < c1; c += 4) {
        const k = min(4, c1 - c);
        let a = f32x4.splat(0);
        for (let kh = 0; kh < fh; kh++) {
          const ty = iy + top - kh * dh;
          if (ty < 0) break;
          const oy = ty / sh;
          if (oy * sh != ty || oy >= outH) continue;
          for (let kw = 0; kw < fw; kw++) {
            const tx = ix + left - kw * dw;
            if (tx < 0) break;
            const ox = tx / sw;
            if (ox * sw != tx || ox >= outW) continue;
            const d = dy + ((<usize>((b * outH + oy) * outW + ox) * <usize>OC) << 2);
            const q = f + ((<usize>((kh * fw + kw) * OC)) << 2);
            if (mult == 1) {
              a = VMath.madd(Win.ld(d + ((<usize>c) << 2), k), Win.ld(q + ((<usize>c) << 2), k), a);
            } else {
              for (let j = 0; j < mult; j++) {
                a = VMath.madd(gatherStrided(d, c, mult, j, k), gatherStrided(q, c, mult, j, k), a);
              }
            }
          }
        }
        Win.st(o + ((<usize>c) << 2), a, k);
      }
    }
  }
}

/**
 * One output row's share of a 3×3 filter gradient (multiplier 1): for the interior columns [oxA, oxB) and channels
 * [c0, c1) in fours, the nine tap sums over the row in f32 registers, added into the f64 sums at acc.
 */
function dw3x3FilterRow(
  g: usize,
  x: usize,
  dRow: usize,
  acc: usize,
  b: i32,
  y: i32,
  kh0: i32,
  kh1: i32,
  c0: i32,
  c1: i32,
  oxA: i32,
  oxB: i32,
): void {
  const inH = Win.geom(g, GEOM_IN_H);
  const inW = Win.geom(g, GEOM_IN_W);
  const C = Win.geom(g, GEOM_C);
  const sw = Win.geom(g, GEOM_SW);
  const dh = Win.geom(g, GEOM_DH);
  const dw = Win.geom(g, GEOM_DW);
  const left = Win.geom(g, GEOM_LEFT);
  const tapStep = (<usize>dw * <usize>C) << 2;
  const oxStep = (<usize>sw * <usize>C) << 2;
  const rowStep = (<usize>(dh * inW * C)) << 2;
  const pixel = (<usize>C) << 2;
  const tapAcc = (<usize>C) << 3;
  const first = x + ((<usize>((b * inH + y + kh0 * dh) * inW + oxA * sw - left) * <usize>C) << 2);
  const rows = kh1 - kh0;
  for (let c = c0; c < c1; c += 4) {
    const cb = (<usize>c) << 2;
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let s2 = s0;
    let s3 = s0;
    let s4 = s0;
    let s5 = s0;
    let s6 = s0;
    let s7 = s0;
    let s8 = s0;
    let p = first + cb;
    let d = dRow + ((<usize>(oxA * C)) << 2) + cb;
    for (let ox = oxA; ox < oxB; ox++) {
      const dv = v128.load(d);
      s0 = VMath.madd(v128.load(p), dv, s0);
      s1 = VMath.madd(v128.load(p + tapStep), dv, s1);
      s2 = VMath.madd(v128.load(p + 2 * tapStep), dv, s2);
      if (rows > 1) {
        const q = p + rowStep;
        s3 = VMath.madd(v128.load(q), dv, s3);
        s4 = VMath.madd(v128.load(q + tapStep), dv, s4);
        s5 = VMath.madd(v128.load(q + 2 * tapStep), dv, s5);
      }
      if (rows > 2) {
        const q = p + 2 * rowStep;
        s6 = VMath.madd(v128.load(q), dv, s6);
        s7 = VMath.madd(v128.load(q + tapStep), dv, s7);
        s8 = VMath.madd(v128.load(q + 2 * tapStep), dv, s8);
      }
      p += oxStep;
      d += pixel;
    }
    // Row r of the sums is filter row kh0 + r.
    const a = acc + <usize>(kh0 * 3) * tapAcc + ((<usize>c) << 3);
    Dw.addF64(a, s0);
    Dw.addF64(a + tapAcc, s1);
    Dw.addF64(a + 2 * tapAcc, s2);
    if (rows > 1) {
      Dw.addF64(a + 3 * tapAcc, s3);
      Dw.addF64(a + 4 * tapAcc, s4);
      Dw.addF64(a + 5 * tapAcc, s5);
    }
    if (rows > 2) {
      Dw.addF64(a + 6 * tapAcc, s6);
      Dw.addF64(a + 7 * tapAcc, s7);
      Dw.addF64(a + 8 * tapAcc, s8);
    }
  }
}

/**
 * df[kh, kw, o] = Σ x[b, oy·sh − top + kh·dh, ox·sw − left + kw·dw, o / mult] · dy[b, oy, ox, o] over every output
 * pixel whose tap lands inside: per output row an f32 sum over its pixels, added into f64 sums at `acc` (fh·fw·OC
 * f64s of the calling thread's scratch). Output channels [c0, c1): both threads read all rows and write disjoint
 * channels, so a split changes no element's arithmetic.
 */
export function dwConv2dFilter(g: usize, x: usize, dy: usize, df: usize, c0: i32, c1: i32, acc: usize): void {
  const n = Win.geom(g, GEOM_N);
  const inH = Win.geom(g, GEOM_IN_H);
  const inW = Win.geom(g, GEOM_IN_W);
  const C = Win.geom(g, GEOM_C);
  const outH = Win.geom(g, GEOM_OUT_H);
  const outW = Win.geom(g, GEOM_OUT_W);
  const fh = Win.geom(g, GEOM_FH);
  const fw = Win.geom(g, GEOM_FW);
  const sh = Win.geom(g, GEOM_SH);
  const sw = Win.geom(g, GEOM_SW);
  const dh = Win.geom(g, GEOM_DH);
  const dw = Win.geom(g, GEOM_DW);
  const top = Win.geom(g, GEOM_TOP);
  const left = Win.geom(g, GEOM_LEFT);
  const mult = Win.geom(g, GEOM_EXTRA);
  const OC = C * mult;
  const taps = fh * fw;
  memory.fill(acc, 0, (<usize>(taps * OC)) << 3);
  const xStep = (<usize>sw * <usize>C) << 2;
  const dStep = (<usize>OC) << 2;
  // 3×3, multiplier 1: the interior columns (all three taps inside) of whole vectors of channels take dw3x3Filter;
  // the generic loops below skip them there.
  const fast = fh == 3 && fw == 3 && mult == 1;
  const oxA = fast ? min(outW, (left + sw - 1) / sw) : 0;
  const oxB = fast ? max(oxA, min(outW, (inW - 2 * dw + left + sw - 1) / sw)) : 0;
  const cv = fast ? c0 + ((c1 - c0) & ~3) : c0;
  for (let row = 0; row < n * outH; row++) {
    const b = row / outH;
    const y = (row - b * outH) * sh - top;
    const kh0 = Win.firstTap(y, dh);
    const kh1 = Win.endTap(y, dh, fh, inH);
    const dRow = dy + ((<usize>(row * outW) * <usize>OC) << 2);
    if (fast && oxA < oxB && kh0 < kh1) dw3x3FilterRow(g, x, dRow, acc, b, y, kh0, kh1, c0, cv, oxA, oxB);
    for (let kh = kh0; kh < kh1; kh++) {
      const xRow = x + ((<usize>((b * inH + y + kh * dh) * inW) * <usize>C) << 2);
      for (let kw = 0; kw < fw; kw++) {
        // The output columns whose tap kw lands inside: ox·sw − left + kw·dw in [0, inW).
        const shift = kw * dw - left;
        const ox0 = shift >= 0 ? 0 : (-shift + sw - 1) / sw;
        const ox1 = min(outW, shift >= inW ? 0 : (inW - shift + sw - 1) / sw);
        if (ox0 >= ox1) continue;
        const accRow = acc + ((<usize>((kh * fw + kw) * OC)) << 3);
        for (let c = c0; c < c1; c += 4) {
          const k = min(4, c1 - c);
          let s = f32x4.splat(0);
          // Two column ranges around the interior the fast path took (when it took this channel block).
          const skip = c < cv;
          const end = skip ? min(ox1, oxA) : ox1;
          let p = xRow + ((<usize>(ox0 * sw + shift) * <usize>C) << 2);
          let d = dRow + ((<usize>(ox0 * OC + c)) << 2);
          for (let ox = ox0; ox < end; ox++) {
            s = VMath.madd(Dw.ldSpread(p, c, mult, k), Win.ld(d, k), s);
            p += xStep;
            d += dStep;
          }
          if (skip) {
            const from = max(ox0, oxB);
            p = xRow + ((<usize>(from * sw + shift) * <usize>C) << 2);
            d = dRow + ((<usize>(from * OC + c)) << 2);
            for (let ox = from; ox < ox1; ox++) {
              s = VMath.madd(Dw.ldSpread(p, c, mult, k), Win.ld(d, k), s);
              p += xStep;
              d += dStep;
            }
          }
          Dw.addF64(accRow + ((<usize>c) << 3), s);
        }
      }
    }
  }
  for (let t = 0; t < taps; t++) {
    const a = acc + ((<usize>(t * OC)) << 3);
    const o = df + ((<usize>(t * OC)) << 2);
    for (let c = c0; c < c1; c += 4) {
      const k = min(4, c1 - c);
      const lo = f32x4.demote_f64x2_zero(v128.load(a + ((<usize>c) << 3)));
      const hi = f32x4.demote_f64x2_zero(v128.load(a + ((<usize>c) << 3), 16));
      Win.st(o + ((<usize>c) << 2), i32x4.shuffle(lo, hi, 0, 1, 4, 5), k);
    }
  }
}
