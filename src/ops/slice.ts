/** slice and stridedSlice: boxes and strided windows of a tensor, and the gradient that scatters back into one. */
import { Dim, formatShape, Shape, ShapeError, Tensor } from '../graph';
import { AttrsOf } from './attrs';
import { argumentError, isIndex, linearTangent, mergeDim } from './indexing-common';
import { stridedScatter, stridedSlice as stridedSliceKernel } from './kernels';
import { apply, defineOp, VjpResult } from './record';

/**
 * A strided slice over every dim of x (TensorFlow's masks already expanded by the builder): the attrs of
 * stridedSlice and stridedSliceGrad.
 * - begin: first index per dim; null = from the start in the stride's direction (a begin mask).
 * - end: end (exclusive) per dim; null = through the last element in the stride's direction (an end mask).
 * - shrinkAxes: dims of x that keep one element (begin) and are dropped from the output.
 * - newAxes: positions in the output where a size-1 dim is inserted.
 */
const SLICE_SPEC = { begin: 'bounds', end: 'bounds', strides: 'ints', shrinkAxes: 'ints', newAxes: 'ints' } as const;

/** A dense strided slice: the attribute type of the stridedSlice record (see SLICE_SPEC). */
export type SliceSpec = AttrsOf<typeof SLICE_SPEC>;

/** The first index and the number of elements of one dim of size n under a strided slice (TensorFlow's rules). */
export function resolveSliceDim(spec: SliceSpec, d: number, n: number): { start: number; count: number } {
  const b = spec.begin[d];
  const e = spec.end[d];
  const s = spec.strides[d];
  if (spec.shrinkAxes.includes(d)) {
    const first = b ?? 0; // checkSpec: a shrunk dim has a begin index
    const i = first < 0 ? first + n : first;
    if (i < 0 || i >= n) {
      throw new ShapeError(`index ${b} of dim ${d} is out of range for size ${n}; valid indices are ${-n} to ${n - 1}`);
    }
    return { start: i, count: 1 };
  }
  // Indices count from the end when negative, then clamp to the range the stride's direction can reach.
  const lo = s > 0 ? 0 : -1;
  const hi = s > 0 ? n : n - 1;
  const clamp = (v: number): number => Math.min(hi, Math.max(lo, v < 0 ? v + n : v));
  const start = b === null ? (s > 0 ? 0 : n - 1) : clamp(b);
  const stop = e === null ? (s > 0 ? n : -1) : clamp(e);
  const span = stop - start;
  return { start, count: span === 0 || span < 0 !== s < 0 ? 0 : Math.ceil(span / s) };
}

function checkSpec(spec: SliceSpec, rank: number): void {
  const { begin, end, strides, shrinkAxes, newAxes } = spec;
  if (begin.length !== rank || end.length !== rank || strides.length !== rank) {
    throw new ShapeError(`a strided slice of a rank-${rank} tensor needs begin, end and strides of length ${rank}`);
  }
  strides.forEach((s, d) => {
    if (!Number.isInteger(s) || s === 0) throw new ShapeError(`stride ${s} of dim ${d} must be a non-zero integer`);
  });
  [...begin, ...end].forEach((v) => {
    if (v !== null && !Number.isInteger(v)) throw new ShapeError(`slice bounds must be integers, got ${v}`);
  });
  for (const d of shrinkAxes) {
    if (!isIndex(d, 0, rank) || begin[d] === null || strides[d] <= 0) {
      throw new ShapeError(`shrink axis ${d} needs a dim of x, a begin index and a positive stride`);
    }
  }
  const outRank = rank - shrinkAxes.length + newAxes.length;
  if (newAxes.some((a, i) => !isIndex(a, 0, outRank) || (i > 0 && a <= newAxes[i - 1]))) {
    throw new ShapeError(`new axes ${JSON.stringify(newAxes)} must be sorted positions in the rank-${outRank} output`);
  }
}

/** The output shape of a strided slice of `shape`: counts (unknown where the dim is), shrunk and new axes applied. */
function specShape(spec: SliceSpec, shape: Shape): Dim[] {
  checkSpec(spec, shape.length);
  const kept: Dim[] = [];
  shape.forEach((n, d) => {
    const shrink = spec.shrinkAxes.includes(d);
    const count = n === null ? null : resolveSliceDim(spec, d, n).count;
    if (!shrink) kept.push(count);
  });
  const out: Dim[] = [];
  for (let i = 0, k = 0; i < kept.length + spec.newAxes.length; i++) {
    out.push(spec.newAxes.includes(i) ? 1 : kept[k++]);
  }
  return out;
}

/** Concrete starts, strides and counts of a strided slice of a concrete shape, for the kernels. */
function specWindow(spec: SliceSpec, shape: readonly number[]): { begin: number[]; counts: number[] } {
  const begin: number[] = [];
  const counts: number[] = [];
  shape.forEach((n, d) => {
    const { start, count } = resolveSliceDim(spec, d, n);
    begin.push(start);
    counts.push(count);
  });
  return { begin, counts };
}

/** Picks index i of `axis` and drops that axis: one piece of unstack, or stack's gradient for input i. */
export function pickSpec(rank: number, axis: number, i: number): SliceSpec {
  const begin: (number | null)[] = new Array<number | null>(rank).fill(null);
  const end: (number | null)[] = new Array<number | null>(rank).fill(null);
  begin[axis] = i;
  end[axis] = i + 1;
  return { begin, end, strides: new Array<number>(rank).fill(1), shrinkAxes: [axis], newAxes: [] };
}

/** slice(x) {begin, size}: one entry per dim, size -1 = to the end. */
export const SLICE = defineOp({
  name: 'slice',
  arity: 1,
  attrs: { begin: 'ints', size: 'ints' },
  infer([x], attrs) {
    const { begin, size } = attrs;
    const rank = x.shape.length;
    if (begin.length !== rank || size.length !== rank) {
      throw new ShapeError(`begin ${JSON.stringify(begin)} and size ${JSON.stringify(size)} need ${rank} entries`);
    }
    const shape = x.shape.map((n, d) => {
      const b = begin[d];
      const s = size[d];
      if (!Number.isInteger(b) || b < 0 || !Number.isInteger(s) || s < -1) {
        throw new ShapeError(`begin[${d}] = ${b} must be >= 0 and size[${d}] = ${s} >= 0 or -1 (to the end)`);
      }
      if (n === null) return s === -1 ? null : s;
      if (b > n || (s !== -1 && b + s > n)) {
        throw new ShapeError(
          `begin[${d}] + size[${d}] = ${b} + ${s === -1 ? n - b : s} exceeds dim ${d} of size ${n}; ` +
            `a slice must lie within ${formatShape(x.shape)}`,
        );
      }
      return s === -1 ? n - b : s;
    });
    return { dtype: x.dtype, shape };
  },
  kernel([x], out, attrs) {
    stridedSliceKernel(
      x,
      attrs.begin,
      x.shape.map(() => 1),
      out.shape,
      out,
    );
  },
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => {
    const { begin } = attrs;
    const end = attrs.size.map((s, d) => (s === -1 ? null : begin[d] + s));
    const spec: SliceSpec = { begin, end, strides: begin.map(() => 1), shrinkAxes: [], newAxes: [] };
    return [apply(STRIDED_SLICE_GRAD, [dy, x], spec)];
  },
  jvp: (args): Tensor | null => linearTangent(SLICE, args),
});

/** stridedSlice(x) with a dense SliceSpec as attrs. */
export const STRIDED_SLICE = defineOp({
  name: 'stridedSlice',
  arity: 1,
  attrs: SLICE_SPEC,
  infer: ([x], spec) => ({ dtype: x.dtype, shape: specShape(spec, x.shape) }),
  kernel([x], out, spec) {
    const { begin, counts } = specWindow(spec, x.shape);
    stridedSliceKernel(x, begin, spec.strides, counts, out);
  },
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => [apply(STRIDED_SLICE_GRAD, [dy, x], attrs)],
  jvp: (args): Tensor | null => linearTangent(STRIDED_SLICE, args),
});

/** stridedSliceGrad(dy, x): zeros shaped like x with dy written where stridedSlice(x) reads. */
export const STRIDED_SLICE_GRAD = defineOp({
  name: 'stridedSliceGrad',
  arity: 2,
  attrs: SLICE_SPEC,
  infer([dy, x], spec) {
    const sliced = specShape(spec, x.shape);
    const fits = sliced.length === dy.shape.length && sliced.every((d, i) => mergeDim(d, dy.shape[i]) !== undefined);
    if (!fits) {
      throw new ShapeError(`dy ${formatShape(dy.shape)} does not match the slice ${formatShape(sliced)} of x`);
    }
    return { dtype: dy.dtype, shape: x.shape };
  },
  kernel([dy], out, spec) {
    const { begin, counts } = specWindow(spec, out.shape);
    stridedScatter(dy, begin, spec.strides, counts, 0, out);
  },
  vjp: ({ dy, attrs, needs }): VjpResult => [needs[0] ? apply(STRIDED_SLICE, [dy], attrs) : null, null],
  jvp: (args): Tensor | null => linearTangent(STRIDED_SLICE_GRAD, args),
});

/**
 * A box of x starting at `begin` with `size` elements per dim (-1 = to the end); missing trailing dims are taken
 * whole, and a number means the first dim.
 * @example slice(x, [0, 1], [2, -1])
 */
export function slice(x: Tensor, begin: number | readonly number[], size?: number | readonly number[]): Tensor {
  const rank = x.rank;
  const starts = typeof begin === 'number' ? [begin] : [...begin];
  const sizes = size === undefined ? [] : typeof size === 'number' ? [size] : [...size];
  if (starts.length > rank || sizes.length > rank) {
    throw argumentError(
      'slice',
      [x],
      `begin ${JSON.stringify(begin)} and size ${JSON.stringify(size)} exceed rank ${rank}`,
    );
  }
  while (starts.length < rank) starts.push(0);
  while (sizes.length < rank) sizes.push(-1);
  return apply(SLICE, [x], { begin: starts, size: sizes });
}

function maskBit(mask: number, i: number): boolean {
  return Math.floor(mask / 2 ** i) % 2 === 1;
}

/**
 * Expands TensorFlow's sparse slice spec (with ellipsis, new-axis and shrink masks) into one entry per dim of a
 * rank-`rank` tensor, as TensorFlow's BuildDenseSpec does.
 */
function denseSpec(
  rank: number,
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  masks: { begin: number; end: number; ellipsis: number; newAxis: number; shrink: number },
): SliceSpec {
  const sparse = strides.length;
  const bits = (mask: number): number[] => Array.from({ length: sparse }, (_, i) => i).filter((i) => maskBit(mask, i));
  const ellipses = bits(masks.ellipsis);
  if (ellipses.length > 1) throw new Error('at most one ellipsis (one bit of ellipsisMask) is allowed');
  // Without an ellipsis, one is implied after the last entry: the remaining dims are taken whole.
  const ellipsis = ellipses.length === 1 ? ellipses[0] : sparse;
  const entries = ellipses.length === 1 ? sparse : sparse + 1;
  const newAfterEllipsis = bits(masks.newAxis).filter((i) => i > ellipsis).length;
  const spec: { [K in keyof SliceSpec]: SliceSpec[K][number][] } = {
    begin: [],
    end: [],
    strides: [],
    shrinkAxes: [],
    newAxes: [],
  };
  let outRank = 0;
  for (let i = 0; i < entries; i++) {
    if (i === ellipsis) {
      const next = Math.min(rank - (entries - i) + 1 + newAfterEllipsis, rank);
      while (spec.begin.length < next) {
        spec.begin.push(null);
        spec.end.push(null);
        spec.strides.push(1);
        outRank++;
      }
    } else if (maskBit(masks.newAxis, i)) {
      spec.newAxes.push(outRank++);
    } else {
      const d = spec.begin.length;
      if (d === rank) throw new Error(`the slice names more dims than x has (rank ${rank})`);
      const shrink = maskBit(masks.shrink, i);
      // A shrunk dim keeps the element at begin whatever the masks say, as in TensorFlow.
      spec.begin.push(maskBit(masks.begin, i) && !shrink ? null : begin[i]);
      spec.end.push(maskBit(masks.end, i) || shrink ? null : end[i]);
      spec.strides.push(strides[i]);
      if (shrink) spec.shrinkAxes.push(d);
      else outRank++;
    }
  }
  return spec;
}

/**
 * TensorFlow's strided slice: x[begin:end:strides] per dim, with negative indices from the end, negative strides,
 * and bit masks (bit i refers to entry i of begin/end/strides): beginMask/endMask ignore begin[i]/end[i],
 * ellipsisMask makes entry i stand for all remaining dims, newAxisMask inserts a size-1 dim, shrinkAxisMask keeps
 * only index begin[i] and drops the dim.
 * @example stridedSlice(x, [0, -1], [2, 0], [1, -1]) // rows 0..1, columns reversed except the first
 */
export function stridedSlice(
  x: Tensor,
  begin: readonly number[],
  end: readonly number[],
  strides?: readonly number[],
  beginMask = 0,
  endMask = 0,
  ellipsisMask = 0,
  newAxisMask = 0,
  shrinkAxisMask = 0,
): Tensor {
  const steps = strides ?? begin.map(() => 1);
  if (begin.length !== steps.length || end.length !== steps.length) {
    throw argumentError(
      'stridedSlice',
      [x],
      `begin ${JSON.stringify(begin)}, end ${JSON.stringify(end)} and strides ${JSON.stringify(steps)} ` +
        'must have the same length',
    );
  }
  let spec: SliceSpec;
  try {
    spec = denseSpec(x.rank, begin, end, steps, {
      begin: beginMask,
      end: endMask,
      ellipsis: ellipsisMask,
      newAxis: newAxisMask,
      shrink: shrinkAxisMask,
    });
  } catch (error) {
    throw argumentError('stridedSlice', [x], (error as Error).message);
  }
  return apply(STRIDED_SLICE, [x], spec);
}
