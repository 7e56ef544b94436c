/**
 * Kernels for joining, slicing, gathering and scanning. Every one walks its arrays with precomputed strides (no
 * per-element allocation); data-dependent failures (an index out of range) throw a plain Error naming the index,
 * which the session turns into a RuntimeError naming the node.
 */
import { broadcastTo, sumTo } from './broadcast';
import type { Buf, TypedArray } from './types';
import { checkSize, coalesce, contiguousStrides, shapeStr, sizeOf } from './util';

// Runs at least this long are copied with TypedArray#set (a memmove); shorter ones element by element, which
// avoids creating a subarray view per run.
const SET_THRESHOLD = 32;

function copyRun(src: TypedArray, from: number, dst: TypedArray, to: number, n: number): void {
  if (n >= SET_THRESHOLD) {
    dst.set(src.subarray(from, from + n), to);
    return;
  }
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
}

/**
 * dst[dstOffset + Σ i_d·dstSt_d] = src[srcOffset + Σ i_d·srcSt_d] over every index of `shape`: the one walk behind
 * strided slicing (strided read, dense write) and its scatter (dense read, strided write).
 */
function stridedCopy(
  src: TypedArray,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const plan = coalesce(shape, [srcStrides, dstStrides]);
  const dims = plan.shape;
  const [ss, ds] = plan.strides;
  const r = dims.length;
  const inner = dims[r - 1];
  const si = ss[r - 1];
  const di = ds[r - 1];
  const outer = n / inner;
  const idx = new Int32Array(r);
  let s = srcOffset;
  let d = dstOffset;
  for (let t = 0; t < outer; t++) {
    if (si === 1 && di === 1) copyRun(src, s, dst, d, inner);
    else for (let j = 0, p = s, q = d; j < inner; j++, p += si, q += di) dst[q] = src[p];
    for (let k = r - 2; k >= 0; k--) {
      s += ss[k];
      d += ds[k];
      if (++idx[k] < dims[k]) break;
      s -= ss[k] * dims[k];
      d -= ds[k] * dims[k];
      idx[k] = 0;
    }
  }
}

/** The flat offset of `begin` and the per-dim steps of a strided window into a dense array of `shape`. */
function window(
  what: string,
  shape: readonly number[],
  begin: readonly number[],
  strides: readonly number[],
  counts: readonly number[],
): { offset: number; steps: number[] } {
  const r = shape.length;
  if (begin.length !== r || strides.length !== r || counts.length !== r) {
    throw new Error(
      `${what}: begin [${begin.join(',')}], strides [${strides.join(',')}] and counts [${counts.join(',')}] ` +
        `must each have one entry per dim of ${shapeStr(shape)}`,
    );
  }
  const st = contiguousStrides(shape);
  let offset = 0;
  const steps = new Array<number>(r);
  const empty = sizeOf(counts) === 0;
  for (let d = 0; d < r; d++) {
    const last = begin[d] + (counts[d] - 1) * strides[d];
    if (!empty && (begin[d] < 0 || begin[d] >= shape[d] || last < 0 || last >= shape[d])) {
      throw new Error(
        `${what}: dim ${d} reads indices ${begin[d]} to ${last}, outside [0, ${shape[d]}) of ${shapeStr(shape)}`,
      );
    }
    offset += begin[d] * st[d];
    steps[d] = strides[d] * st[d];
  }
  return { offset, steps };
}

/**
 * out = the elements x[begin + i·strides] for every index i of `counts`, in row-major order of `counts` (out's own
 * shape may add or drop size-1 dims). Negative strides read backwards.
 */
export function stridedSlice(
  x: Buf,
  begin: readonly number[],
  strides: readonly number[],
  counts: readonly number[],
  out: Buf,
): void {
  checkSize('stridedSlice', x);
  const n = checkSize('stridedSlice', out);
  if (n !== sizeOf(counts)) {
    throw new Error(`stridedSlice: output ${shapeStr(out.shape)} does not hold counts [${counts.join(',')}]`);
  }
  const { offset, steps } = window('stridedSlice', x.shape, begin, strides, counts);
  stridedCopy(x.data, offset, steps, out.data, 0, contiguousStrides(counts), counts);
}

/**
 * The adjoint of stridedSlice: out (of x's shape) is `fill` everywhere except at the sliced positions, which get
 * the elements of `src` in order. Also pad (src placed at an offset inside a constant).
 */
export function stridedScatter(
  src: Buf,
  begin: readonly number[],
  strides: readonly number[],
  counts: readonly number[],
  fill: number,
  out: Buf,
): void {
  checkSize('stridedScatter', out);
  const n = checkSize('stridedScatter', src);
  if (n !== sizeOf(counts)) {
    throw new Error(`stridedScatter: source ${shapeStr(src.shape)} does not hold counts [${counts.join(',')}]`);
  }
  out.data.fill(fill);
  const { offset, steps } = window('stridedScatter', out.shape, begin, strides, counts);
  stridedCopy(src.data, 0, contiguousStrides(counts), out.data, offset, steps, counts);
}

/**
 * Joins inputs along `axis` of out: each input contributes size/outer contiguous elements per row of the dims
 * before `axis`. The same layout serves concat (inputs share out's leading dims) and stack (each input fills one
 * slot of the new axis).
 */
export function concat(inputs: readonly Buf[], axis: number, out: Buf): void {
  const n = checkSize('concat', out);
  let total = 0;
  for (const x of inputs) total += checkSize('concat', x);
  if (total !== n) {
    throw new Error(
      `concat: inputs ${inputs.map((x) => shapeStr(x.shape)).join(', ')} do not fill output ${shapeStr(out.shape)}`,
    );
  }
  if (n === 0) return;
  const outer = sizeOf(out.shape.slice(0, axis));
  const row = n / outer;
  const od = out.data;
  let offset = 0;
  for (const x of inputs) {
    const block = x.data.length / outer;
    const xd = x.data;
    for (let o = 0; o < outer; o++) copyRun(xd, o * block, od, o * row + offset, block);
    offset += block;
  }
}

/** x viewed as [batch, outer, n, inner] and indices as [batch, k], by the dims around `axis` and `batchDims`. */
function gatherDims(
  what: string,
  xShape: readonly number[],
  indices: Buf,
  axis: number,
  batchDims: number,
): { batch: number; outer: number; n: number; inner: number; k: number } {
  if (!(axis >= batchDims && axis < xShape.length && batchDims <= indices.shape.length)) {
    throw new Error(`${what}: axis ${axis} and batchDims ${batchDims} do not fit ${shapeStr(xShape)}`);
  }
  const batch = sizeOf(xShape.slice(0, batchDims));
  if (sizeOf(indices.shape.slice(0, batchDims)) !== batch) {
    throw new Error(`${what}: indices ${shapeStr(indices.shape)} do not share the batch dims of ${shapeStr(xShape)}`);
  }
  return {
    batch,
    outer: sizeOf(xShape.slice(batchDims, axis)),
    n: xShape[axis],
    inner: sizeOf(xShape.slice(axis + 1)),
    k: sizeOf(indices.shape.slice(batchDims)),
  };
}

/** Throws naming the first index outside [0, n), with its position in the indices array. */
function checkIndices(what: string, indices: Buf, axis: number, n: number): void {
  const id = indices.data;
  for (let i = 0; i < id.length; i++) {
    const v = id[i];
    if (v >= 0 && v < n) continue;
    const position: number[] = [];
    let rest = i;
    for (let d = indices.shape.length - 1; d >= 0; d--) {
      position.unshift(rest % indices.shape[d]);
      rest = Math.floor(rest / indices.shape[d]);
    }
    const valid = n === 0 ? `axis ${axis} has size 0, so no index is valid` : `valid indices are 0 to ${n - 1}`;
    throw new Error(`${what}: indices[${position.join(', ')}] = ${v} is out of range for axis ${axis}: ${valid}`);
  }
}

/** out[b, o, j, i] = x[b, o, indices[b, j], i] with x, indices and out viewed as in gatherDims. */
export function gather(x: Buf, indices: Buf, axis: number, batchDims: number, out: Buf): void {
  checkSize('gather', x);
  checkSize('gather', indices);
  const total = checkSize('gather', out);
  const { batch, outer, n, inner, k } = gatherDims('gather', x.shape, indices, axis, batchDims);
  if (total !== batch * outer * k * inner) {
    throw new Error(`gather: output ${shapeStr(out.shape)} does not fit x ${shapeStr(x.shape)} and indices`);
  }
  checkIndices('gather', indices, axis, n);
  const xd = x.data;
  const id = indices.data;
  const od = out.data;
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < outer; p++) {
      const base = (b * outer + p) * n;
      for (let j = 0; j < k; j++, o += inner) copyRun(xd, (base + id[b * k + j]) * inner, od, o, inner);
    }
  }
}

/**
 * The adjoint of gather: out (x's shape) is zero except that each slice of `updates` is added at the position
 * its index names; repeated indices accumulate.
 */
export function scatterAdd(updates: Buf, indices: Buf, axis: number, batchDims: number, out: Buf): void {
  checkSize('scatterAdd', indices);
  const total = checkSize('scatterAdd', updates);
  checkSize('scatterAdd', out);
  const { batch, outer, n, inner, k } = gatherDims('scatterAdd', out.shape, indices, axis, batchDims);
  if (total !== batch * outer * k * inner) {
    throw new Error(`scatterAdd: updates ${shapeStr(updates.shape)} do not fit output ${shapeStr(out.shape)}`);
  }
  checkIndices('scatterAdd', indices, axis, n);
  const ud = updates.data;
  const id = indices.data;
  const od = out.data;
  od.fill(0);
  let u = 0;
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < outer; p++) {
      const base = (b * outer + p) * n;
      for (let j = 0; j < k; j++) {
        const to = (base + id[b * k + j]) * inner;
        for (let i = 0; i < inner; i++) od[to + i] += ud[u++];
      }
    }
  }
}

/** [d0, d1, …] and reps [r0, r1, …] interleaved as [r0, d0, r1, d1, …]: tiling is broadcasting in this view. */
function tiledViews(shape: readonly number[], reps: readonly number[]): { small: number[]; big: number[] } {
  if (reps.length !== shape.length) throw new Error(`tile: reps [${reps.join(',')}] for ${shapeStr(shape)}`);
  const small: number[] = [];
  const big: number[] = [];
  shape.forEach((d, i) => {
    small.push(1, d);
    big.push(reps[i], d);
  });
  return { small, big };
}

/** out = x repeated reps[d] times along each dim d. */
export function tile(x: Buf, reps: readonly number[], out: Buf): void {
  const { small, big } = tiledViews(x.shape, reps);
  broadcastTo({ data: x.data, shape: small }, { data: out.data, shape: big });
}

/** The adjoint of tile: out (x's shape) is the sum of the reps tiles of dy. */
export function sumTiles(dy: Buf, reps: readonly number[], out: Buf): void {
  const { small, big } = tiledViews(out.shape, reps);
  sumTo({ data: dy.data, shape: big }, { data: out.data, shape: small });
}

/** out = x surrounded by `value`: paddings[d] = [before, after] elements along dim d. */
export function pad(x: Buf, paddings: readonly (readonly number[])[], value: number, out: Buf): void {
  const ones = x.shape.map(() => 1);
  stridedScatter(
    x,
    paddings.map((p) => p[0]),
    ones,
    x.shape,
    value,
    out,
  );
}

/** out = x reversed along each of `axes`. */
export function reverse(x: Buf, axes: readonly number[], out: Buf): void {
  const begin = x.shape.map((d, i) => (axes.includes(i) ? d - 1 : 0));
  const strides = x.shape.map((_, i) => (axes.includes(i) ? -1 : 1));
  stridedSlice(x, begin, strides, x.shape, out);
}

/** out[..., j] = onValue where indices[...] = j, else offValue (indices outside [0, depth) give a row of offValue). */
export function oneHot(indices: Buf, depth: number, onValue: number, offValue: number, out: Buf): void {
  const m = checkSize('oneHot', indices);
  if (checkSize('oneHot', out) !== m * depth) {
    throw new Error(`oneHot: output ${shapeStr(out.shape)} for indices ${shapeStr(indices.shape)} and depth ${depth}`);
  }
  const id = indices.data;
  const od = out.data;
  od.fill(offValue);
  for (let i = 0; i < m; i++) {
    const v = id[i];
    if (v >= 0 && v < depth) od[i * depth + v] = onValue;
  }
}

/**
 * Running sums along `axis`: out[j] = Σ x[i] over i <= j (i < j when exclusive; i >= j / i > j when reversed).
 * Each row is the previous row of out plus one row of x, so the inner dims run as contiguous vectors.
 */
export function cumsum(x: Buf, axis: number, exclusive: boolean, reverse: boolean, out: Buf): void {
  const n = checkSize('cumsum', x);
  if (checkSize('cumsum', out) !== n || axis < 0 || axis >= x.shape.length) {
    throw new Error(`cumsum: axis ${axis} of ${shapeStr(x.shape)} into ${shapeStr(out.shape)}`);
  }
  if (n === 0) return;
  const len = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = n / (len * inner);
  const xd = x.data;
  const od = out.data;
  // Walking backwards is walking forwards with a negative row step from the last row.
  const step = reverse ? -inner : inner;
  for (let o = 0; o < outer; o++) {
    const first = o * len * inner + (reverse ? (len - 1) * inner : 0);
    if (exclusive) od.fill(0, first, first + inner);
    else copyRun(xd, first, od, first, inner);
    for (let j = 1, row = first + step; j < len; j++, row += step) {
      const prev = row - step;
      const add = exclusive ? prev : row;
      for (let i = 0; i < inner; i++) od[row + i] = od[prev + i] + xd[add + i];
    }
  }
}
