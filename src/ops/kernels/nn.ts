import type { Buf, TypedArray } from './types';
import { checkSize, shapeStr } from './util';

/** [outer, n, inner] view of x around `axis`, so that axis elements sit `inner` apart. */
function split(what: string, x: Buf, axis: number, out: Buf): [number, number, number] {
  const xs = x.shape;
  if (!(axis >= 0 && axis < xs.length)) throw new Error(`${what}: axis ${axis} out of range for ${shapeStr(xs)}`);
  const size = checkSize(what, x);
  if (checkSize(what, out) !== size) throw new Error(`${what}: output ${shapeStr(out.shape)} for ${shapeStr(xs)}`);
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= xs[d];
  let inner = 1;
  for (let d = axis + 1; d < xs.length; d++) inner *= xs[d];
  return [outer, xs[axis], inner];
}

// NaN must win the max, or a NaN row would come out as finite garbage instead of NaN.
function rowMax(xd: TypedArray, p: number, n: number): number {
  let m = -Infinity;
  for (let end = p + n; p < end; p++) {
    const v = xd[p];
    if (v > m) m = v;
    else if (v !== v) return NaN;
  }
  return m;
}

/**
 * Strided-axis case for both ops: sweeps rows of `inner` contiguous elements so that memory is read in order,
 * keeping the per-column max and sum in float64 vectors. `log` selects log-softmax.
 */
function stridedSoftmax(xd: TypedArray, od: TypedArray, outer: number, n: number, inner: number, log: boolean) {
  const max = new Float64Array(inner);
  const sum = new Float64Array(inner);
  const block = n * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * block;
    max.fill(-Infinity);
    sum.fill(0);
    for (let j = 0, row = base; j < n; j++, row += inner) {
      for (let i = 0; i < inner; i++) {
        const v = xd[row + i];
        if (v > max[i] || v !== v) max[i] = v;
      }
    }
    if (log) {
      for (let j = 0, row = base; j < n; j++, row += inner) {
        for (let i = 0; i < inner; i++) sum[i] += Math.exp(xd[row + i] - max[i]);
      }
      for (let i = 0; i < inner; i++) sum[i] = Math.log(sum[i]);
      for (let j = 0, row = base; j < n; j++, row += inner) {
        for (let i = 0; i < inner; i++) od[row + i] = xd[row + i] - max[i] - sum[i];
      }
    } else {
      for (let j = 0, row = base; j < n; j++, row += inner) {
        for (let i = 0; i < inner; i++) {
          const e = Math.exp(xd[row + i] - max[i]);
          od[row + i] = e;
          sum[i] += e;
        }
      }
      for (let j = 0, row = base; j < n; j++, row += inner) {
        for (let i = 0; i < inner; i++) od[row + i] /= sum[i];
      }
    }
  }
}

/** Numerically stable softmax along `axis`: exp(x - max) / sum(exp(x - max)). */
export function softmax(x: Buf, axis: number, out: Buf): void {
  const [outer, n, inner] = split('softmax', x, axis, out);
  if (outer * n * inner === 0) return;
  const xd = x.data;
  const od = out.data;
  if (inner !== 1) {
    stridedSoftmax(xd, od, outer, n, inner, false);
    return;
  }
  for (let o = 0, p = 0; o < outer; o++, p += n) {
    const m = rowMax(xd, p, n);
    let s = 0;
    for (let j = p, end = p + n; j < end; j++) {
      const e = Math.exp(xd[j] - m);
      od[j] = e;
      s += e;
    }
    for (let j = p, end = p + n; j < end; j++) od[j] /= s;
  }
}

/** Numerically stable log-softmax along `axis`: x - max - log(sum(exp(x - max))). */
export function logSoftmax(x: Buf, axis: number, out: Buf): void {
  const [outer, n, inner] = split('logSoftmax', x, axis, out);
  if (outer * n * inner === 0) return;
  const xd = x.data;
  const od = out.data;
  if (inner !== 1) {
    stridedSoftmax(xd, od, outer, n, inner, true);
    return;
  }
  for (let o = 0, p = 0; o < outer; o++, p += n) {
    const m = rowMax(xd, p, n);
    let s = 0;
    for (let j = p, end = p + n; j < end; j++) s += Math.exp(xd[j] - m);
    // (x - max) first: it is exact for x near max, where adding log(s) to max first would round.
    const ls = Math.log(s);
    for (let j = p, end = p + n; j < end; j++) od[j] = xd[j] - m - ls;
  }
}
