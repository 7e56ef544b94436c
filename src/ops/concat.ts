/** concat, stack and their inverses (split, unstack): joining tensors along an axis and cutting them apart. */
import { ShapeError, Tensor } from '../graph';
import { zerosLike } from './elementwise';
import {
  argumentError,
  checkAxis,
  isIndex,
  joinTangent,
  linearTangent,
  normalizeAxis,
  rankOf,
  sharedDims,
  tensorsOf,
} from './indexing-common';
import { concat as concatKernel, stridedSlice as stridedSliceKernel } from './kernels';
import { apply, defineOp, requireSameDType, TensorLike, VjpResult } from './record';
import { pickSpec, slice, SLICE, STRIDED_SLICE } from './slice';

/** concat(...xs) along `axis`. */
export const CONCAT = defineOp({
  name: 'concat',
  arity: 'variadic',
  attrs: { axis: 'int' },
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new ShapeError('needs at least one tensor');
    const dtype = requireSameDType(inputs);
    const rank = inputs[0].shape.length;
    if (rank === 0) throw new ShapeError('cannot concatenate scalars; use stack(tensors) to join them into a vector');
    const axis = checkAxis(attrs.axis, rank);
    const shape = sharedDims(inputs, axis, `every dim except the concat axis ${axis} must match`);
    const sizes = inputs.map((x) => x.shape[axis]);
    shape[axis] = sizes.includes(null) ? null : (sizes as number[]).reduce((a, b) => a + b, 0);
    return { dtype, shape };
  },
  kernel: (inputs, out, attrs) => concatKernel(inputs, attrs.axis, out),
  vjp: ({ inputs, dy, attrs, needs }): VjpResult => {
    const { axis } = attrs;
    const sizes = inputs.map((x) => x.shape[axis]);
    if (sizes.includes(null)) {
      // Offsets known only at run time: a primitive reads them from the inputs' shapes.
      return inputs.map((_, i) => (needs[i] ? apply(CONCAT_PART, [dy, ...inputs], { axis, index: i }) : null));
    }
    let offset = 0;
    return (sizes as number[]).map((size, i) => {
      const begin = offset;
      offset += size;
      if (!needs[i]) return null;
      const starts = dy.shape.map((_, d) => (d === axis ? begin : 0));
      return slice(
        dy,
        starts,
        dy.shape.map((_, d) => (d === axis ? size : -1)),
      );
    });
  },
  jvp: (args): Tensor => joinTangent(CONCAT, args),
});

/**
 * concatPart(dy, ...xs): the part of dy (a concatenation of tensors shaped like xs along `axis`) that input
 * `index` occupies. The gradient of concat when the sizes along the axis are known only at run time.
 */
export const CONCAT_PART = defineOp({
  name: 'concatPart',
  arity: 'variadic',
  attrs: { axis: 'int', index: 'int' },
  infer(inputs, attrs) {
    const [dy, ...parts] = inputs;
    const { axis, index } = attrs;
    if (!isIndex(index, 0, parts.length)) throw new ShapeError(`index ${index} must name one of ${parts.length} parts`);
    const shape = sharedDims([dy, ...parts], axis, `every dim except axis ${axis} must match`);
    shape[axis] = parts[index].shape[axis];
    return { dtype: dy.dtype, shape };
  },
  kernel([dy, ...parts], out, attrs) {
    const { axis } = attrs;
    let offset = 0;
    for (let i = 0; i < attrs.index; i++) offset += parts[i].shape[axis];
    const begin = out.shape.map((_, d) => (d === axis ? offset : 0));
    stridedSliceKernel(
      dy,
      begin,
      begin.map(() => 1),
      out.shape,
      out,
    );
  },
  vjp: ({ inputs: [, ...parts], dy, attrs, needs }): VjpResult => [
    needs[0]
      ? concat(
          parts.map((p, i) => (i === attrs.index ? dy : zerosLike(p))),
          attrs.axis,
        )
      : null,
    ...parts.map(() => null),
  ],
  jvp: (args): Tensor | null => linearTangent(CONCAT_PART, args),
});

/** stack(...xs) along a new `axis`. */
export const STACK = defineOp({
  name: 'stack',
  arity: 'variadic',
  attrs: { axis: 'int' },
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new ShapeError('needs at least one tensor');
    const dtype = requireSameDType(inputs);
    const shape = sharedDims(inputs, null, 'stacked tensors must all have the same shape');
    const axis = checkAxis(attrs.axis, shape.length + 1);
    shape.splice(axis, 0, inputs.length);
    return { dtype, shape };
  },
  // The inputs fill the output in the same blocks as a concat along the new axis.
  kernel: (inputs, out, attrs) => concatKernel(inputs, attrs.axis, out),
  vjp: ({ inputs, dy, attrs, needs }): VjpResult =>
    inputs.map((_, i) => (needs[i] ? apply(STRIDED_SLICE, [dy], pickSpec(dy.rank, attrs.axis, i)) : null)),
  jvp: (args): Tensor => joinTangent(STACK, args),
});

/**
 * Joins tensors along an existing axis (negative counts from the end).
 * @example concat([a, b], 1) // [2, 3] and [2, 4] -> [2, 7]
 */
export function concat(tensors: readonly TensorLike[], axis = 0): Tensor {
  const inputs = tensorsOf('concat', tensors);
  const rank = rankOf(tensors[0]);
  if (rank === 0) throw argumentError('concat', inputs, 'cannot concatenate scalars; use stack(tensors)');
  const resolved = normalizeAxis('concat', inputs, axis, rank);
  if (tensors.length === 1) return inputs[0];
  return apply(CONCAT, tensors, { axis: resolved });
}

/**
 * Joins same-shaped tensors along a new axis.
 * @example stack([a, b, c]) // three [2] -> [3, 2]
 */
export function stack(tensors: readonly TensorLike[], axis = 0): Tensor {
  const inputs = tensorsOf('stack', tensors);
  const resolved = normalizeAxis('stack', inputs, axis, rankOf(tensors[0]) + 1);
  return apply(STACK, tensors, { axis: resolved });
}

/**
 * Splits x along `axis` into its slices, dropping that axis; the axis size must be known.
 * @example const [row0, row1] = unstack(x) // x: [2, 3]
 */
export function unstack(x: Tensor, axis = 0): Tensor[] {
  const resolved = normalizeAxis('unstack', [x], axis, x.rank);
  const n = x.shape[resolved];
  if (n === null) {
    throw argumentError('unstack', [x], `axis ${axis} has an unknown size, so the number of pieces is unknown`);
  }
  return Array.from({ length: n }, (_, i) => apply(STRIDED_SLICE, [x], pickSpec(x.rank, resolved, i), 'unstack'));
}

/**
 * Splits x along `axis` into `numOrSizeSplits` equal pieces, or pieces of the given sizes (one may be -1).
 * @example const [a, b] = split(x, [1, -1], 1)
 */
export function split(x: Tensor, numOrSizeSplits: number | readonly number[], axis = 0): Tensor[] {
  const resolved = normalizeAxis('split', [x], axis, x.rank);
  const n = x.shape[resolved];
  const fail = (message: string): ShapeError => argumentError('split', [x], message);
  if (n === null) throw fail(`axis ${axis} has an unknown size; split needs it known (slice() works without it)`);
  let sizes: number[];
  if (typeof numOrSizeSplits === 'number') {
    if (!Number.isInteger(numOrSizeSplits) || numOrSizeSplits <= 0 || n % numOrSizeSplits !== 0) {
      throw fail(`${numOrSizeSplits} pieces do not evenly divide axis ${axis} of size ${n}`);
    }
    sizes = new Array<number>(numOrSizeSplits).fill(n / numOrSizeSplits);
  } else {
    sizes = [...numOrSizeSplits];
    const inferred = sizes.filter((s) => s === -1).length;
    if (inferred > 1 || sizes.some((s) => !Number.isInteger(s) || s < -1)) {
      throw fail(`sizes ${JSON.stringify(sizes)} must be non-negative integers with at most one -1`);
    }
    const known = sizes.reduce((a, s) => (s === -1 ? a : a + s), 0);
    if (inferred === 1 ? known > n : known !== n) {
      throw fail(`sizes ${JSON.stringify(sizes)} must add up to the size ${n} of axis ${axis}`);
    }
    sizes = sizes.map((s) => (s === -1 ? n - known : s));
  }
  let offset = 0;
  return sizes.map((size) => {
    const begin = x.shape.map((_, d) => (d === resolved ? offset : 0));
    offset += size;
    return apply(SLICE, [x], { begin, size: x.shape.map((_, d) => (d === resolved ? size : -1)) }, 'split');
  });
}
