// What the windowed NHWC kernels (pool.ts, depthwise.ts) share: the geometry block and partial-vector access.
//
// The geometry is a block of i32s in memory written by the JS side (more numbers than a helper-thread job carries
// as arguments); both threads read it, each with its own row or channel range.

export const GEOM_N = 0;
export const GEOM_IN_H = 1;
export const GEOM_IN_W = 2;
export const GEOM_C = 3;
export const GEOM_OUT_H = 4;
export const GEOM_OUT_W = 5;
export const GEOM_FH = 6;
export const GEOM_FW = 7;
export const GEOM_SH = 8;
export const GEOM_SW = 9;
export const GEOM_DH = 10;
export const GEOM_DW = 11;
export const GEOM_TOP = 12;
export const GEOM_LEFT = 13;
/** The channel multiplier (depthwise) or 1 when the padding counts in an average (pooling). */
export const GEOM_EXTRA = 14;
export const GEOM_WORDS = 16;

// A partial vector (1–3 lanes) is read and written lane by lane, so no access leaves the caller's buffers.
function loadPartial(p: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

function storePartial(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Inlined helpers of the windowed kernels. */
export class Win {
  @inline static geom(g: usize, field: i32): i32 {
    return load<i32>(g + ((<usize>field) << 2));
  }

  /** The first position start + i·step (i >= 0) that is >= 0. */
  @inline static firstInside(start: i32, step: i32): i32 {
    return start >= 0 ? start : start + ((-start + step - 1) / step) * step;
  }

  /** How many positions r0, r0 + step, … lie below r1. */
  @inline static tapCount(r0: i32, r1: i32, step: i32): i32 {
    return r1 > r0 ? (r1 - r0 - 1) / step + 1 : 0;
  }

  /** The first tap index k of a window starting at `start` with dilation `d` whose position start + k·d is >= 0. */
  @inline static firstTap(start: i32, d: i32): i32 {
    return start >= 0 ? 0 : (-start + d - 1) / d;
  }

  /** One past the last tap index k < taps whose position start + k·d is < size. */
  @inline static endTap(start: i32, d: i32, taps: i32, size: i32): i32 {
    if (start >= size) return 0;
    const k = (size - start + d - 1) / d;
    return k < taps ? k : taps;
  }

  /** `count` lanes (4 or fewer) at p; missing lanes are 0. */
  @inline static ld(p: usize, count: i32): v128 {
    return count >= 4 ? v128.load(p) : loadPartial(p, count);
  }

  @inline static st(p: usize, v: v128, count: i32): void {
    if (count >= 4) v128.store(p, v);
    else storePartial(p, v, count);
  }
}
