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
    for (let ox = 0; ox < outW; ox++) {
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
  for (let row = 0; row < n * outH; row++) {
    const b = row / outH;
    const y = (row - b * outH) * sh - top;
    const kh0 = Win.firstTap(y, dh);
    const kh1 = Win.endTap(y, dh, fh, inH);
    const dRow = dy + ((<usize>(row * outW) * <usize>OC) << 2);
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
          let p = xRow + ((<usize>(ox0 * sw + shift) * <usize>C) << 2);
          let d = dRow + ((<usize>(ox0 * OC + c)) << 2);
          for (let ox = ox0; ox < ox1; ox++) {
            s = VMath.madd(Dw.ldSpread(p, c, mult, k), Win.ld(d, k), s);
            p += xStep;
            d += dStep;
          }
          const a = accRow + ((<usize>c) << 3);
          v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(s)));
          v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(i32x4.shuffle(s, s, 2, 3, 0, 1))), 16);
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
