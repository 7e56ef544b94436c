// 2-D pooling over NHWC f32 tensors, four channels per vector, with the JS kernels' exact results
// (src/ops/kernels/pool.ts): windows clipped to the input, the first of equal maxima wins (a NaN wins over numbers),
// average sums in f64 divided once. Every kernel takes the geometry block (window.ts) and a range: forward kernels
// a range of output rows (over batch × outH) and of channels; the gradients, which scatter into overlapping
// windows, a range of batches and of channels (each element's arithmetic and order are those of the JS kernel, so
// any split gives the same bits).
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
  GEOM_OUT_H,
  GEOM_OUT_W,
  GEOM_SH,
  GEOM_SW,
  GEOM_TOP,
  Win,
} from './window';

/** Inlined helpers. */
class Pool {
  /** Lanes where v replaces the running maximum m: v > m, or v is NaN and m is not (the JS kernel's rule). */
  @inline static takes(v: v128, m: v128): v128 {
    return v128.or(f32x4.gt(v, m), v128.andnot(f32x4.ne(v, v), f32x4.ne(m, m)));
  }

  /** The divisor of a window: its input pixels, or the whole window when the padding counts (0: no pixels). */
  @inline static divisor(y0: i32, y1: i32, x0: i32, x1: i32, dh: i32, dw: i32, whole: i32, countPadding: bool): f64 {
    const pixels = Win.tapCount(y0, y1, dh) * Win.tapCount(x0, x1, dw);
    return <f64>(countPadding && pixels > 0 ? whole : pixels);
  }
}

/** out = the maximum of each window (−∞ for a window without input pixels), output rows [r0, r1), channels [c0, c1). */
export function maxPool(g: usize, x: usize, out: usize, r0: i32, r1: i32, c0: i32, c1: i32): void {
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
  const pixelBytes = (<usize>C) << 2;
  const minusInf = f32x4.splat(-Infinity);
  for (let row = r0; row < r1; row++) {
    const b = row / outH;
    const y = (row - b * outH) * sh - top;
    const y0 = Win.firstInside(y, dh);
    const y1 = min(y + (fh - 1) * dh + 1, inH);
    for (let ox = 0; ox < outW; ox++) {
      const xx = ox * sw - left;
      const x0 = Win.firstInside(xx, dw);
      const x1 = min(xx + (fw - 1) * dw + 1, inW);
      const o = out + ((<usize>(row * outW + ox) * <usize>C) << 2);
      let c = c0;
      // Eight channels at a time: two independent chains, the window's loop overhead shared.
      for (; c + 8 <= c1; c += 8) {
        let m0 = minusInf;
        let m1 = minusInf;
        for (let r = y0; r < y1; r += dh) {
          let p = x + ((<usize>((b * inH + r) * inW + x0) * <usize>C + <usize>c) << 2);
          for (let col = x0; col < x1; col += dw) {
            const v0 = v128.load(p);
            const v1 = v128.load(p, 16);
            m0 = v128.bitselect(v0, m0, Pool.takes(v0, m0));
            m1 = v128.bitselect(v1, m1, Pool.takes(v1, m1));
            p += <usize>dw * pixelBytes;
          }
        }
        v128.store(o + ((<usize>c) << 2), m0);
        v128.store(o + ((<usize>c) << 2), m1, 16);
      }
      for (; c < c1; c += 4) {
        const k = min(4, c1 - c);
        let m = minusInf;
        for (let r = y0; r < y1; r += dh) {
          let p = x + ((<usize>((b * inH + r) * inW + x0) * <usize>C + <usize>c) << 2);
          for (let col = x0; col < x1; col += dw) {
            const v = Win.ld(p, k);
            m = v128.bitselect(v, m, Pool.takes(v, m));
            p += <usize>dw * pixelBytes;
          }
        }
        Win.st(o + ((<usize>c) << 2), m, k);
      }
    }
  }
}

/**
 * out = g (x's shape) read where each window of x has its maximum (0 for a window without input pixels): the
 * gradient of maxPoolGrad with respect to dy. Output rows [r0, r1), channels [c0, c1).
 */
export function maxPoolGradGrad(g: usize, x: usize, gx: usize, out: usize, r0: i32, r1: i32, c0: i32, c1: i32): void {
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
  const pixelBytes = (<usize>C) << 2;
  const minusInf = f32x4.splat(-Infinity);
  for (let row = r0; row < r1; row++) {
    const b = row / outH;
    const y = (row - b * outH) * sh - top;
    const y0 = Win.firstInside(y, dh);
    const y1 = min(y + (fh - 1) * dh + 1, inH);
    for (let ox = 0; ox < outW; ox++) {
      const xx = ox * sw - left;
      const x0 = Win.firstInside(xx, dw);
      const x1 = min(xx + (fw - 1) * dw + 1, inW);
      const o = out + ((<usize>(row * outW + ox) * <usize>C) << 2);
      const empty = y0 >= y1 || x0 >= x1;
      const first = (<usize>((b * inH + y0) * inW + x0) * <usize>C) << 2;
      for (let c = c0; c < c1; c += 4) {
        const k = min(4, c1 - c);
        const cb = (<usize>c) << 2;
        if (empty) {
          Win.st(o + cb, f32x4.splat(0), k);
          continue;
        }
        // Starting from −∞ with the first tap's g is the JS rule (the first tap wins unless a later one beats it).
        let m = minusInf;
        let gm = Win.ld(gx + first + cb, k);
        for (let r = y0; r < y1; r += dh) {
          const at = (<usize>((b * inH + r) * inW + x0) * <usize>C + <usize>c) << 2;
          let p = x + at;
          let q = gx + at;
          for (let col = x0; col < x1; col += dw) {
            const v = Win.ld(p, k);
            const t = Pool.takes(v, m);
            m = v128.bitselect(v, m, t);
            gm = v128.bitselect(Win.ld(q, k), gm, t);
            p += <usize>dw * pixelBytes;
            q += <usize>dw * pixelBytes;
          }
        }
        Win.st(o + cb, gm, k);
      }
    }
  }
}

/** Zeroes channels [c0, c1) of every pixel of batches [b0, b1) of an [n, h, w, C] tensor. */
function zeroChannels(p: usize, pixels: i32, C: i32, c0: i32, c1: i32): void {
  const zero = f32x4.splat(0);
  for (let i = 0; i < pixels; i++) {
    const q = p + ((<usize>i * <usize>C) << 2);
    for (let c = c0; c < c1; c += 4) Win.st(q + ((<usize>c) << 2), zero, min(4, c1 - c));
  }
}

/**
 * dx (x's shape) = dy added at the position of each window's maximum, zero elsewhere. Batches [b0, b1), channels
 * [c0, c1); per pixel the additions come in the JS kernel's order (windows in row-major order), in f32.
 */
export function maxPoolGrad(g: usize, x: usize, dy: usize, dx: usize, b0: i32, b1: i32, c0: i32, c1: i32): void {
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
  const pixelBytes = (<usize>C) << 2;
  const image = inH * inW;
  zeroChannels(dx + ((<usize>(b0 * image) * <usize>C) << 2), (b1 - b0) * image, C, c0, c1);
  const minusInf = f32x4.splat(-Infinity);
  const one = i32x4.splat(1);
  for (let b = b0; b < b1; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const y = oy * sh - top;
      const y0 = Win.firstInside(y, dh);
      const y1 = min(y + (fh - 1) * dh + 1, inH);
      for (let ox = 0; ox < outW; ox++) {
        const xx = ox * sw - left;
        const x0 = Win.firstInside(xx, dw);
        const x1 = min(xx + (fw - 1) * dw + 1, inW);
        if (y0 >= y1 || x0 >= x1) continue;
        const d = dy + ((<usize>((b * outH + oy) * outW + ox) * <usize>C) << 2);
        for (let c = c0; c < c1; c += 4) {
          const k = min(4, c1 - c);
          const cb = (<usize>c) << 2;
          // Pass 1: which tap holds each lane's maximum (tap 0 unless a later one beats the running maximum).
          let m = minusInf;
          let best = i32x4.splat(0);
          let tap = i32x4.splat(0);
          for (let r = y0; r < y1; r += dh) {
            let p = x + ((<usize>((b * inH + r) * inW + x0) * <usize>C) << 2) + cb;
            for (let col = x0; col < x1; col += dw) {
              const v = Win.ld(p, k);
              const t = Pool.takes(v, m);
              m = v128.bitselect(v, m, t);
              best = v128.bitselect(tap, best, t);
              tap = i32x4.add(tap, one);
              p += <usize>dw * pixelBytes;
            }
          }
          // Pass 2: add dy at that tap (+0 elsewhere, which leaves every value as it is: dx is never −0).
          const dv = Win.ld(d + cb, k);
          tap = i32x4.splat(0);
          for (let r = y0; r < y1; r += dh) {
            let p = dx + ((<usize>((b * inH + r) * inW + x0) * <usize>C) << 2) + cb;
            for (let col = x0; col < x1; col += dw) {
              Win.st(p, f32x4.add(Win.ld(p, k), v128.and(dv, i32x4.eq(best, tap))), k);
              tap = i32x4.add(tap, one);
              p += <usize>dw * pixelBytes;
            }
          }
        }
      }
    }
  }
}

/** out = the mean of each window over its input pixels (0 without pixels), summed in f64, divided once. */
export function avgPool(g: usize, x: usize, out: usize, r0: i32, r1: i32, c0: i32, c1: i32): void {
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
  const countPadding = Win.geom(g, GEOM_EXTRA) != 0;
  const pixelBytes = (<usize>C) << 2;
  for (let row = r0; row < r1; row++) {
    const b = row / outH;
    const y = (row - b * outH) * sh - top;
    const y0 = Win.firstInside(y, dh);
    const y1 = min(y + (fh - 1) * dh + 1, inH);
    for (let ox = 0; ox < outW; ox++) {
      const xx = ox * sw - left;
      const x0 = Win.firstInside(xx, dw);
      const x1 = min(xx + (fw - 1) * dw + 1, inW);
      const count = Pool.divisor(y0, y1, x0, x1, dh, dw, fh * fw, countPadding);
      const o = out + ((<usize>(row * outW + ox) * <usize>C) << 2);
      const tapStep = <usize>dw * pixelBytes;
      let c = c0;
      // Eight channels at a time: four independent f64 chains, the window's loop overhead shared; pairs of floats
      // are loaded straight into the low half and promoted.
      for (; c + 8 <= c1; c += 8) {
        let s0 = f64x2.splat(0);
        let s1 = s0;
        let s2 = s0;
        let s3 = s0;
        for (let r = y0; r < y1; r += dh) {
          let p = x + ((<usize>((b * inH + r) * inW + x0) * <usize>C + <usize>c) << 2);
          for (let col = x0; col < x1; col += dw) {
            s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v128.load64_zero(p)));
            s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.load64_zero(p, 8)));
            s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v128.load64_zero(p, 16)));
            s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.load64_zero(p, 24)));
            p += tapStep;
          }
        }
        let v0 = f32x4.splat(0);
        let v1 = v0;
        if (count > 0) {
          const d = f64x2.splat(count);
          const a0 = f32x4.demote_f64x2_zero(f64x2.div(s0, d));
          const a1 = f32x4.demote_f64x2_zero(f64x2.div(s1, d));
          const a2 = f32x4.demote_f64x2_zero(f64x2.div(s2, d));
          const a3 = f32x4.demote_f64x2_zero(f64x2.div(s3, d));
          v0 = i32x4.shuffle(a0, a1, 0, 1, 4, 5);
          v1 = i32x4.shuffle(a2, a3, 0, 1, 4, 5);
        }
        v128.store(o + ((<usize>c) << 2), v0);
        v128.store(o + ((<usize>c) << 2), v1, 16);
      }
      for (; c < c1; c += 4) {
        const k = min(4, c1 - c);
        let lo = f64x2.splat(0);
        let hi = f64x2.splat(0);
        for (let r = y0; r < y1; r += dh) {
          let p = x + ((<usize>((b * inH + r) * inW + x0) * <usize>C + <usize>c) << 2);
          for (let col = x0; col < x1; col += dw) {
            const v = Win.ld(p, k);
            lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
            hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
            p += <usize>dw * pixelBytes;
          }
        }
        let v = f32x4.splat(0);
        if (count > 0) {
          const d = f64x2.splat(count);
          const a = f32x4.demote_f64x2_zero(f64x2.div(lo, d));
          const z = f32x4.demote_f64x2_zero(f64x2.div(hi, d));
          v = i32x4.shuffle(a, z, 0, 1, 4, 5);
        }
        Win.st(o + ((<usize>c) << 2), v, k);
      }
    }
  }
}

/**
 * dx (x's shape) = each dy spread evenly over its window's input pixels. Batches [b0, b1), channels [c0, c1); per
 * pixel the additions come in the JS kernel's order, each f32(dx + dy / count) computed in f64 as there.
 */
export function avgPoolGrad(g: usize, dy: usize, dx: usize, b0: i32, b1: i32, c0: i32, c1: i32): void {
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
  const countPadding = Win.geom(g, GEOM_EXTRA) != 0;
  const pixelBytes = (<usize>C) << 2;
  const image = inH * inW;
  zeroChannels(dx + ((<usize>(b0 * image) * <usize>C) << 2), (b1 - b0) * image, C, c0, c1);
  for (let b = b0; b < b1; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const y = oy * sh - top;
      const y0 = Win.firstInside(y, dh);
      const y1 = min(y + (fh - 1) * dh + 1, inH);
      for (let ox = 0; ox < outW; ox++) {
        const xx = ox * sw - left;
        const x0 = Win.firstInside(xx, dw);
        const x1 = min(xx + (fw - 1) * dw + 1, inW);
        const count = Pool.divisor(y0, y1, x0, x1, dh, dw, fh * fw, countPadding);
        if (count == 0) continue;
        const d = dy + ((<usize>((b * outH + oy) * outW + ox) * <usize>C) << 2);
        const div = f64x2.splat(count);
        for (let c = c0; c < c1; c += 4) {
          const k = min(4, c1 - c);
          const cb = (<usize>c) << 2;
          const gv = Win.ld(d + cb, k);
          const qlo = f64x2.div(f64x2.promote_low_f32x4(gv), div);
          const qhi = f64x2.div(f64x2.promote_low_f32x4(i32x4.shuffle(gv, gv, 2, 3, 0, 1)), div);
          for (let r = y0; r < y1; r += dh) {
            let p = dx + ((<usize>((b * inH + r) * inW + x0) * <usize>C) << 2) + cb;
            for (let col = x0; col < x1; col += dw) {
              const v = Win.ld(p, k);
              const lo = f32x4.demote_f64x2_zero(f64x2.add(f64x2.promote_low_f32x4(v), qlo));
              const hi = f32x4.demote_f64x2_zero(
                f64x2.add(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), qhi),
              );
              Win.st(p, i32x4.shuffle(lo, hi, 0, 1, 4, 5), k);
              p += <usize>dw * pixelBytes;
            }
          }
        }
      }
    }
  }
}
