import type { Buf, TypedArray } from './types';
import { checkSize, shapeStr } from './util';

export type ReduceKind = 'sum' | 'max' | 'min' | 'prod' | 'mean' | 'all' | 'any';

function identity(kind: ReduceKind): number {
  switch (kind) {
    case 'sum':
    case 'mean':
    case 'any':
      return 0;
    case 'prod':
    case 'all':
      return 1;
    case 'max':
      return -Infinity;
    case 'min':
      return Infinity;
  }
}

/** Reduces a contiguous run; mean yields the plain sum, divided once at the end. */
function reduceRun(kind: ReduceKind, d: TypedArray, start: number, n: number): number {
  const end = start + n;
  switch (kind) {
    case 'sum':
    case 'mean': {
      // Four independent accumulators break the add dependency chain (~3x faster on long runs).
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = start;
      for (; i + 3 < end; i += 4) {
        s0 += d[i];
        s1 += d[i + 1];
        s2 += d[i + 2];
        s3 += d[i + 3];
      }
      for (; i < end; i++) s0 += d[i];
      return s0 + s1 + (s2 + s3);
    }
    case 'prod': {
      let p = 1;
      for (let i = start; i < end; i++) p *= d[i];
      return p;
    }
    case 'max': {
      let m = -Infinity;
      for (let i = start; i < end; i++) {
        const v = d[i];
        if (v > m) m = v;
        else if (v !== v) return NaN;
      }
      return m;
    }
    case 'min': {
      let m = Infinity;
      for (let i = start; i < end; i++) {
        const v = d[i];
        if (v < m) m = v;
        else if (v !== v) return NaN;
      }
      return m;
    }
    case 'all':
      for (let i = start; i < end; i++) if (d[i] === 0) return 0;
      return 1;
    case 'any':
      for (let i = start; i < end; i++) if (d[i] !== 0) return 1;
      return 0;
  }
}

function combine(kind: ReduceKind, acc: number, v: number): number {
  switch (kind) {
    case 'sum':
    case 'mean':
      return acc + v;
    case 'prod':
      return acc * v;
    case 'max':
      return v > acc || v !== v ? v : acc;
    case 'min':
      return v < acc || v !== v ? v : acc;
    case 'all':
      return acc !== 0 && v !== 0 ? 1 : 0;
    case 'any':
      return acc !== 0 || v !== 0 ? 1 : 0;
  }
}

/** acc[ao + j] = combine(acc[ao + j], d[start + j]) for j < n, with the kind switch hoisted out of the loop. */
function combineRun(kind: ReduceKind, acc: Float64Array, ao: number, d: TypedArray, start: number, n: number): void {
  const shift = start - ao;
  const end = ao + n;
  switch (kind) {
    case 'sum':
    case 'mean':
      for (let j = ao; j < end; j++) acc[j] += d[j + shift];
      return;
    case 'prod':
      for (let j = ao; j < end; j++) acc[j] *= d[j + shift];
      return;
    case 'max':
      for (let j = ao; j < end; j++) {
        const v = d[j + shift];
        if (v > acc[j] || v !== v) acc[j] = v;
      }
      return;
    case 'min':
      for (let j = ao; j < end; j++) {
        const v = d[j + shift];
        if (v < acc[j] || v !== v) acc[j] = v;
      }
      return;
    case 'all':
      for (let j = ao; j < end; j++) if (d[j + shift] === 0) acc[j] = 0;
      return;
    case 'any':
      for (let j = ao; j < end; j++) if (d[j + shift] !== 0) acc[j] = 1;
      return;
  }
}

/**
 * Reduces x over `axes` (non-negative, sorted, unique). out may have the keepDims or the squeezed shape: both have
 * the same element order. Accumulation is in float64 whatever the dtype, so float32 sums round once, at the store.
 */
export function reduce(kind: ReduceKind, x: Buf, axes: readonly number[], out: Buf): void {
  const xs = x.shape;
  const xd = x.data;
  const od = out.data;
  const rank = xs.length;
  // Coalesce into alternating blocks of kept/reduced dims; size-1 dims belong to neither.
  const sizes: number[] = [];
  const red: boolean[] = [];
  let ai = 0;
  let xSize = 1;
  let outSize = 1;
  for (let d = 0; d < rank; d++) {
    const isRed = ai < axes.length && axes[ai] === d;
    if (isRed) ai++;
    const n = xs[d];
    xSize *= n;
    if (!isRed) outSize *= n;
    if (n === 1) continue;
    const last = sizes.length - 1;
    if (last >= 0 && red[last] === isRed) sizes[last] *= n;
    else {
      sizes.push(n);
      red.push(isRed);
    }
  }
  if (ai !== axes.length) throw new Error(`reduce: axes [${axes.join(',')}] invalid for shape ${shapeStr(xs)}`);
  checkSize('reduce', x);
  if (od.length !== outSize) {
    throw new Error(`reduce: output ${shapeStr(out.shape)} does not fit ${shapeStr(xs)} over [${axes.join(',')}]`);
  }
  if (outSize === 0) return;
  const count = xSize / outSize;
  if (xSize === 0) {
    od.fill(kind === 'mean' ? NaN : identity(kind));
    return;
  }
  const m = sizes.length;
  if (m === 0) {
    const v = combine(kind, identity(kind), xd[0]);
    od[0] = v;
    return;
  }
  // No reduced block except the innermost: each output is one contiguous run, written exactly once.
  if (red[m - 1] && (m === 1 || (m === 2 && !red[0]))) {
    const n = sizes[m - 1];
    const div = kind === 'mean' ? count : 1;
    for (let k = 0, p = 0; k < outSize; k++, p += n) od[k] = reduceRun(kind, xd, p, n) / div;
    return;
  }
  // General case: one contiguous pass over x, combining into a float64 accumulator the shape of out.
  const acc = od instanceof Float64Array ? od : new Float64Array(outSize);
  acc.fill(identity(kind));
  const outSt = new Array<number>(m);
  for (let j = m - 1, s = 1; j >= 0; j--) {
    outSt[j] = red[j] ? 0 : s;
    if (!red[j]) s *= sizes[j];
  }
  const inner = sizes[m - 1];
  const innerRed = red[m - 1];
  const outer = xSize / inner;
  const idx = new Int32Array(m);
  let io = 0;
  for (let t = 0, p = 0; t < outer; t++, p += inner) {
    if (innerRed) acc[io] = combine(kind, acc[io], reduceRun(kind, xd, p, inner));
    else combineRun(kind, acc, io, xd, p, inner);
    for (let d = m - 2; d >= 0; d--) {
      io += outSt[d];
      if (++idx[d] < sizes[d]) break;
      io -= outSt[d] * sizes[d];
      idx[d] = 0;
    }
  }
  if (kind === 'mean') {
    for (let k = 0; k < outSize; k++) od[k] = acc[k] / count;
  } else if (acc !== od) {
    od.set(acc);
  }
}

/**
 * Index of the first max/min along `axis` (out is int32, x's shape without `axis`). NaN wins, first one first,
 * matching `reduce`, which lets NaN through.
 */
export function argReduce(kind: 'max' | 'min', x: Buf, axis: number, out: Buf): void {
  const xs = x.shape;
  if (axis < 0 || axis >= xs.length) throw new Error(`argReduce: axis ${axis} out of range for ${shapeStr(xs)}`);
  checkSize('argReduce', x);
  const n = xs[axis];
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= xs[d];
  let inner = 1;
  for (let d = axis + 1; d < xs.length; d++) inner *= xs[d];
  const xd = x.data;
  const od = out.data;
  if (od.length !== outer * inner) throw new Error(`argReduce: output ${shapeStr(out.shape)} for ${shapeStr(xs)}`);
  if (outer * inner === 0) return;
  if (n === 0) throw new Error(`argReduce: arg${kind} of an empty axis (shape ${shapeStr(xs)}, axis ${axis})`);
  const isMax = kind === 'max';
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++, p += n) {
      let best = xd[p];
      let bi = 0;
      if (best === best) {
        for (let j = 1; j < n; j++) {
          const v = xd[p + j];
          if (isMax ? v > best : v < best) {
            best = v;
            bi = j;
          } else if (v !== v) {
            bi = j;
            break;
          }
        }
      }
      od[o] = bi;
    }
    return;
  }
  // Strided axis: sweep rows of `inner` contiguous elements, tracking the best of each column.
  const best = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    const ob = o * inner;
    for (let i = 0; i < inner; i++) {
      best[i] = xd[base + i];
      od[ob + i] = 0;
    }
    for (let j = 1; j < n; j++) {
      const row = base + j * inner;
      for (let i = 0; i < inner; i++) {
        const v = xd[row + i];
        const b = best[i];
        if ((isMax ? v > b : v < b) || (v !== v && b === b)) {
          best[i] = v;
          od[ob + i] = j;
        }
      }
    }
  }
}
