// Row-wise kernels over a [rows, cols] f32 matrix (the last axis of any tensor): softmax, log-softmax, softmax
// cross-entropy and reductions. Sums accumulate in f64, as the JS kernels do, so long rows round once.
import { VMath } from './vmath';

// NaN wins, as in the JS kernels. pmax is one instruction where max's NaN rules cost several, so NaN lanes are
// tracked on the side; four accumulators keep the dependency chains short.
function maxRow(p: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity);
  let m1 = m0;
  let m2 = m0;
  let m3 = m0;
  let nan = i32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    m0 = f32x4.pmax(m0, v0);
    m1 = f32x4.pmax(m1, v1);
    m2 = f32x4.pmax(m2, v2);
    m3 = f32x4.pmax(m3, v3);
    nan = v128.or(
      nan,
      v128.or(v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)), v128.or(f32x4.ne(v2, v2), f32x4.ne(v3, v3))),
    );
    p += 64;
  }
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p);
    m0 = f32x4.pmax(m0, v);
    nan = v128.or(nan, f32x4.ne(v, v));
    p += 16;
  }
  let m = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
  m = f32x4.pmax(m, f32x4.shuffle(m, m, 2, 3, 0, 1));
  m = f32x4.pmax(m, f32x4.shuffle(m, m, 1, 0, 3, 2));
  let s = f32x4.extract_lane(m, 0);
  for (; i < n; i++) {
    const v = load<f32>(p);
    if (v > s || v != v) s = v;
    p += 4;
  }
  return v128.any_true(nan) ? NaN : s;
}

function sumRow(p: usize, n: i32): f64 {
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)));
    p += 16;
  }
  s0 = f64x2.add(s0, s1);
  let s = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  for (; i < n; i++) {
    s += <f64>load<f32>(p);
    p += 4;
  }
  return s;
}

/** out[r] = Σ_j x[r, j]. */
export function rowSum(x: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    store<f32>(out, <f32>sumRow(x, cols));
    x += <usize>(cols * 4);
    out += 4;
  }
}

/** out[r] = max_j x[r, j] (−∞ for an empty row, NaN if the row holds one). */
export function rowMax(x: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    store<f32>(out, maxRow(x, cols));
    x += <usize>(cols * 4);
    out += 4;
  }
}

/** out[j] = Σ_r x[r, j]: the bias gradient. Strips of 8 columns keep their sums in f64 registers. */
export function colSum(x: usize, out: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>(cols * 4);
  let j = 0;
  for (; j + 8 <= cols; j += 8) {
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let s2 = f64x2.splat(0);
    let s3 = f64x2.splat(0);
    let p = x + <usize>(j * 4);
    for (let r = 0; r < rows; r++) {
      const v = v128.load(p);
      const w = v128.load(p, 16);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)));
      s2 = f64x2.add(s2, f64x2.promote_low_f32x4(w));
      s3 = f64x2.add(s3, f64x2.promote_low_f32x4(f32x4.shuffle(w, w, 2, 3, 0, 1)));
      p += rowBytes;
    }
    const o = out + <usize>(j * 4);
    v128.store(o, f32x4.shuffle(f32x4.demote_f64x2_zero(s0), f32x4.demote_f64x2_zero(s1), 0, 1, 4, 5));
    v128.store(o, f32x4.shuffle(f32x4.demote_f64x2_zero(s2), f32x4.demote_f64x2_zero(s3), 0, 1, 4, 5), 16);
  }
  for (; j < cols; j++) {
    let s: f64 = 0;
    let p = x + <usize>(j * 4);
    for (let r = 0; r < rows; r++) {
      s += <f64>load<f32>(p);
      p += rowBytes;
    }
    store<f32>(out + <usize>(j * 4), <f32>s);
  }
}

/**
 * Writes e^(x − m) over a row (unless out is 0) and returns its sum. Blocks of 32 are summed in f32 (4 terms per
 * lane, the terms are in [0, 1]) and the block sums in f64, which costs little next to the exp.
 */
function expShiftRow(x: usize, out: usize, n: i32, m: f32): f64 {
  const mv = f32x4.splat(m);
  let total = f64x2.splat(0);
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    for (let j = 0; j < 4; j++) {
      const e0 = VMath.exp(f32x4.sub(v128.load(x), mv));
      const e1 = VMath.exp(f32x4.sub(v128.load(x, 16), mv));
      if (out != 0) {
        v128.store(out, e0);
        v128.store(out, e1, 16);
        out += 32;
      }
      s0 = f32x4.add(s0, e0);
      s1 = f32x4.add(s1, e1);
      x += 32;
    }
    s0 = f32x4.add(s0, s1);
    total = f64x2.add(total, f64x2.promote_low_f32x4(s0));
    total = f64x2.add(total, f64x2.promote_low_f32x4(f32x4.shuffle(s0, s0, 2, 3, 0, 1)));
  }
  for (; i + 4 <= n; i += 4) {
    const e = VMath.exp(f32x4.sub(v128.load(x), mv));
    if (out != 0) {
      v128.store(out, e);
      out += 16;
    }
    total = f64x2.add(total, f64x2.promote_low_f32x4(e));
    total = f64x2.add(total, f64x2.promote_low_f32x4(f32x4.shuffle(e, e, 2, 3, 0, 1)));
    x += 16;
  }
  let s = f64x2.extract_lane(total, 0) + f64x2.extract_lane(total, 1);
  for (; i < n; i++) {
    const e = f32x4.extract_lane(VMath.exp(f32x4.splat(load<f32>(x) - m)), 0);
    if (out != 0) {
      store<f32>(out, e);
      out += 4;
    }
    s += <f64>e;
    x += 4;
  }
  return s;
}

/** Row-wise softmax: exp(x − max) / Σ exp(x − max). out may alias x. */
export function softmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>(cols * 4);
  for (let r = 0; r < rows; r++) {
    // Scaling by the reciprocal (rounded once, from f64) instead of dividing: within an ulp, and divps is slow.
    const inv = <f32>(1 / expShiftRow(x, out, cols, maxRow(x, cols)));
    const iv = f32x4.splat(inv);
    let p = out;
    let i = 0;
    for (; i + 8 <= cols; i += 8) {
      v128.store(p, f32x4.mul(v128.load(p), iv));
      v128.store(p, f32x4.mul(v128.load(p, 16), iv), 16);
      p += 32;
    }
    for (; i < cols; i++) {
      store<f32>(p, load<f32>(p) * inv);
      p += 4;
    }
    x += rowBytes;
    out += rowBytes;
  }
}

/** Row-wise log-softmax: (x − max) − log Σ exp(x − max). out may alias x. */
export function logSoftmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>(cols * 4);
  for (let r = 0; r < rows; r++) {
    const m = maxRow(x, cols);
    const ls = <f32>Math.log(expShiftRow(x, 0, cols, m));
    const mv = f32x4.splat(m);
    const lv = f32x4.splat(ls);
    let p = x;
    let o = out;
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      v128.store(o, f32x4.sub(f32x4.sub(v128.load(p), mv), lv));
      p += 16;
      o += 16;
    }
    for (; i < cols; i++) {
      store<f32>(o, load<f32>(p) - m - ls);
      p += 4;
      o += 4;
    }
    x += rowBytes;
    out += rowBytes;
  }
}

/**
 * loss[r] = −Σ_j labels[r, j] · logSoftmax(logits)[r, j], in f64. Classes with a zero label are skipped, so a
 * masked logit of −∞ does not turn the loss into 0 · ∞ = NaN; an infinite max is not subtracted (as in JS).
 */
export function softmaxCrossEntropy(labels: usize, logits: usize, out: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>(cols * 4);
  for (let r = 0; r < rows; r++) {
    const m = maxRow(logits, cols);
    const shift: f32 = m - m == 0 ? m : 0;
    const c = <f64>shift + Math.log(expShiftRow(logits, 0, cols, shift));
    const cv = f64x2.splat(c);
    const zero = f64x2.splat(0);
    let acc = f64x2.splat(0);
    let y = labels;
    let x = logits;
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const yv = v128.load(y);
      const xv = v128.load(x);
      const ylo = f64x2.promote_low_f32x4(yv);
      const yhi = f64x2.promote_low_f32x4(f32x4.shuffle(yv, yv, 2, 3, 0, 1));
      const tlo = f64x2.mul(ylo, f64x2.sub(cv, f64x2.promote_low_f32x4(xv)));
      const thi = f64x2.mul(yhi, f64x2.sub(cv, f64x2.promote_low_f32x4(f32x4.shuffle(xv, xv, 2, 3, 0, 1))));
      acc = f64x2.add(acc, v128.and(tlo, f64x2.ne(ylo, zero)));
      acc = f64x2.add(acc, v128.and(thi, f64x2.ne(yhi, zero)));
      y += 16;
      x += 16;
    }
    let loss = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    for (; i < cols; i++) {
      const yi = <f64>load<f32>(y);
      if (yi != 0) loss += yi * (c - <f64>load<f32>(x));
      y += 4;
      x += 4;
    }
    store<f32>(out, <f32>loss);
    labels += rowBytes;
    logits += rowBytes;
    out += 4;
  }
}

/**
 * loss[r] = −Σ_j labels[r, j] · ls[r, j], in f64, with ls a log-softmax computed already (no max or exp here).
 * Classes with a zero label are skipped, so a masked ls of −∞ does not turn the loss into 0 · ∞ = NaN.
 */
export function crossEntropyFromLogSoftmax(labels: usize, ls: usize, out: usize, rows: i32, cols: i32): void {
  const zero = f64x2.splat(0);
  for (let r = 0; r < rows; r++) {
    let acc = f64x2.splat(0);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const yv = v128.load(labels);
      const xv = v128.load(ls);
      const ylo = f64x2.promote_low_f32x4(yv);
      const yhi = f64x2.promote_low_f32x4(f32x4.shuffle(yv, yv, 2, 3, 0, 1));
      const tlo = f64x2.mul(ylo, f64x2.promote_low_f32x4(xv));
      const thi = f64x2.mul(yhi, f64x2.promote_low_f32x4(f32x4.shuffle(xv, xv, 2, 3, 0, 1)));
      acc = f64x2.sub(acc, v128.and(tlo, f64x2.ne(ylo, zero)));
      acc = f64x2.sub(acc, v128.and(thi, f64x2.ne(yhi, zero)));
      labels += 16;
      ls += 16;
    }
    let loss = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    for (; i < cols; i++) {
      const yi = <f64>load<f32>(labels);
      if (yi != 0) loss -= yi * <f64>load<f32>(ls);
      labels += 4;
      ls += 4;
    }
    store<f32>(out, <f32>loss);
    out += 4;
  }
}
