/**
 * Kernels that treat the elements a reduction combines as one group and need the whole group at once
 * (a stable log-sum-exp, the exclusive product, the fused softmax cross-entropy).
 */
import type { Buf, TypedArray } from './types';
import { checkSize, contiguousStrides, shapeStr } from './util';

/** Element r of group g sits at bases[g] + offsets[r]; groups come in the row-major order of the kept dims. */
interface GroupLayout {
  readonly bases: Int32Array;
  readonly offsets: Int32Array;
}

/** Flat offsets of every multi-index over `dims` (each with its stride), in row-major order. */
function offsetsOver(shape: readonly number[], strides: readonly number[], dims: readonly number[]): Int32Array {
  let count = 1;
  for (const d of dims) count *= shape[d];
  const out = new Int32Array(count);
  if (count === 0) return out;
  const idx = new Int32Array(dims.length);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    out[i] = offset;
    for (let k = dims.length - 1; k >= 0; k--) {
      const d = dims[k];
      offset += strides[d];
      if (++idx[k] < shape[d]) break;
      offset -= strides[d] * shape[d];
      idx[k] = 0;
    }
  }
  return out;
}

// Memory is O(groups + group size), not O(size): the two offset lists combine into every element's position.
function groupLayout(what: string, x: Buf, axes: readonly number[]): GroupLayout {
  const shape = x.shape;
  checkSize(what, x);
  if (axes.some((a, i) => !(a >= 0 && a < shape.length) || (i > 0 && a <= axes[i - 1]))) {
    throw new Error(`${what}: axes [${axes.join(',')}] invalid for shape ${shapeStr(shape)}`);
  }
  const strides = contiguousStrides(shape);
  const kept: number[] = [];
  for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) kept.push(d);
  return { bases: offsetsOver(shape, strides, kept), offsets: offsetsOver(shape, strides, axes) };
}

function groupMax(xd: TypedArray, base: number, offsets: Int32Array): number {
  let m = -Infinity;
  for (let r = 0; r < offsets.length; r++) {
    const v = xd[base + offsets[r]];
    if (v > m) m = v;
    else if (v !== v) return NaN;
  }
  return m;
}

/** [outer, n, inner] when `axes` are consecutive dims (so each group is n elements `inner` apart), else null. */
function blockOf(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  if (axes.length === 0 || axes.some((a, i) => a !== axes[0] + i)) return null;
  let outer = 1;
  let n = 1;
  let inner = 1;
  for (let d = 0; d < shape.length; d++) {
    if (d < axes[0]) outer *= shape[d];
    else if (d <= axes[axes.length - 1]) n *= shape[d];
    else inner *= shape[d];
  }
  return [outer, n, inner];
}

/**
 * Consecutive reduced dims with trailing kept dims: sweeps rows of `inner` contiguous elements, keeping the
 * per-column max and sum in float64 vectors, so that memory is read in order.
 */
function stridedLogSumExp(xd: TypedArray, od: TypedArray, outer: number, n: number, inner: number): void {
  const max = new Float64Array(inner);
  const sum = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    max.fill(-Infinity);
    sum.fill(0);
    for (let j = 0, row = base; j < n; j++, row += inner) {
      for (let i = 0; i < inner; i++) {
        const v = xd[row + i];
        if (v > max[i] || v !== v) max[i] = v;
      }
    }
    for (let i = 0; i < inner; i++) if (!Number.isFinite(max[i]) && max[i] === max[i]) max[i] = 0;
    for (let j = 0, row = base; j < n; j++, row += inner) {
      for (let i = 0; i < inner; i++) sum[i] += Math.exp(xd[row + i] - max[i]);
    }
    for (let i = 0; i < inner; i++) od[o * inner + i] = max[i] + Math.log(sum[i]);
  }
}

/**
 * log Σ exp(x) over `axes`, shifted by the group max so that nothing overflows. An infinite max is not
 * subtracted (as TensorFlow does): all −∞ gives −∞ and a +∞ gives +∞ rather than NaN from ∞ − ∞.
 */
export function logSumExp(x: Buf, axes: readonly number[], out: Buf): void {
  const { bases, offsets } = groupLayout('logSumExp', x, axes);
  const xd = x.data;
  const od = out.data;
  if (od.length !== bases.length) throw new Error(`logSumExp: output ${shapeStr(out.shape)} for ${shapeStr(x.shape)}`);
  const block = blockOf(x.shape, axes);
  if (block !== null && block[2] > 1 && block[1] > 0) {
    stridedLogSumExp(xd, od, block[0], block[1], block[2]);
    return;
  }
  for (let g = 0; g < bases.length; g++) {
    const base = bases[g];
    const m = groupMax(xd, base, offsets);
    const shift = Number.isFinite(m) ? m : 0;
    let s = 0;
    for (let r = 0; r < offsets.length; r++) s += Math.exp(xd[base + offsets[r]] - shift);
    od[g] = shift + Math.log(s);
  }
}

// The prefix products of one group, reused across calls; past this many elements allocated per call instead, so
// that one huge product does not pin its memory forever.
const MAX_KEPT_SCRATCH = 1 << 20;
let keptScratch = new Float64Array(0);

function scratch(n: number): Float64Array {
  if (n > MAX_KEPT_SCRATCH) return new Float64Array(n);
  if (keptScratch.length < n) keptScratch = new Float64Array(Math.max(n, keptScratch.length * 2));
  return keptScratch;
}

/**
 * out[i] = the product of the other elements of i's group over `axes` (out has x's shape). Prefix and suffix
 * products, never a division, so zeros in the group are exact.
 */
export function prodExcept(x: Buf, axes: readonly number[], out: Buf): void {
  const { bases, offsets } = groupLayout('prodExcept', x, axes);
  const xd = x.data;
  const od = out.data;
  if (od.length !== xd.length) throw new Error(`prodExcept: output ${shapeStr(out.shape)} for ${shapeStr(x.shape)}`);
  const n = offsets.length;
  const prefix = scratch(n);
  for (let g = 0; g < bases.length; g++) {
    const base = bases[g];
    let p = 1;
    for (let r = 0; r < n; r++) {
      prefix[r] = p;
      p *= xd[base + offsets[r]];
    }
    let s = 1;
    for (let r = n - 1; r >= 0; r--) {
      const at = base + offsets[r];
      od[at] = prefix[r] * s;
      s *= xd[at];
    }
  }
}

/**
 * loss = −Σ labels · logSoftmax(logits) along `axis` (out has the logits' shape without `axis`). Classes with a
 * zero label are skipped, so a logit of −∞ (a masked class) does not turn the loss into 0 · ∞ = NaN.
 */
export function softmaxCrossEntropy(labels: Buf, logits: Buf, axis: number, out: Buf): void {
  const shape = logits.shape;
  const size = checkSize('softmaxCrossEntropy', logits);
  if (labels.data.length !== size || labels.shape.length !== shape.length) {
    throw new Error(`softmaxCrossEntropy: labels ${shapeStr(labels.shape)} vs logits ${shapeStr(shape)}`);
  }
  if (!(axis >= 0 && axis < shape.length)) {
    throw new Error(`softmaxCrossEntropy: axis ${axis} out of range for ${shapeStr(shape)}`);
  }
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  const n = shape[axis];
  const yd = labels.data;
  const xd = logits.data;
  const od = out.data;
  if (od.length !== outer * inner) throw new Error(`softmaxCrossEntropy: output ${shapeStr(out.shape)}`);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const end = base + n * inner;
      let m = -Infinity;
      for (let p = base; p < end; p += inner) {
        const v = xd[p];
        if (v > m || v !== v) m = v;
      }
      const shift = Number.isFinite(m) ? m : 0;
      let s = 0;
      for (let p = base; p < end; p += inner) s += Math.exp(xd[p] - shift);
      const logS = Math.log(s);
      let loss = 0;
      for (let p = base; p < end; p += inner) {
        const y = yd[p];
        if (y !== 0) loss += y * (shift - xd[p] + logS);
      }
      od[o * inner + i] = loss;
    }
  }
}

/**
 * loss = −Σ labels · ls along `axis`, with ls a log-softmax the graph already computed (out drops `axis`). As in
 * softmaxCrossEntropy, classes with a zero label are skipped, so an ls of −∞ (a masked class) gives no NaN.
 */
export function crossEntropyFromLogSoftmax(labels: Buf, ls: Buf, axis: number, out: Buf): void {
  const shape = ls.shape;
  const size = checkSize('crossEntropyFromLogSoftmax', ls);
  if (labels.data.length !== size || labels.shape.length !== shape.length) {
    throw new Error(`crossEntropyFromLogSoftmax: labels ${shapeStr(labels.shape)} vs log-softmax ${shapeStr(shape)}`);
  }
  if (!(axis >= 0 && axis < shape.length)) {
    throw new Error(`crossEntropyFromLogSoftmax: axis ${axis} out of range for ${shapeStr(shape)}`);
  }
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  const n = shape[axis];
  const yd = labels.data;
  const ld = ls.data;
  const od = out.data;
  if (od.length !== outer * inner) throw new Error(`crossEntropyFromLogSoftmax: output ${shapeStr(out.shape)}`);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const end = base + n * inner;
      let loss = 0;
      for (let p = base; p < end; p += inner) {
        const y = yd[p];
        if (y !== 0) loss -= y * ld[p];
      }
      od[o * inner + i] = loss;
    }
  }
}
