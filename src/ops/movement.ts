import { Dim, formatShape, isFullyKnown, Shape, ShapeError, shapesEqual, sizeOf, Tensor } from '../graph';
import { broadcastTo as broadcastKernel, sumTo as sumToKernel, transpose as transposeKernel } from './kernels';
import { apply, defineOp, OpRecord, VjpResult } from './record';

const copyKernel: OpRecord['kernel'] = ([x], out) => out.data.set(x.data);

/** The output shape of reshape(x, target), where target may hold one -1; null dims stay unknown. */
function reshapeInfer(input: Shape, target: readonly number[]): Dim[] {
  const inferred = target.filter((d) => d === -1).length;
  if (inferred > 1 || target.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError(`invalid target shape ${JSON.stringify(target)}; use non-negative sizes and at most one -1`);
  }
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (!isFullyKnown(input)) return target.map((d) => (d === -1 ? null : d));
  const size = sizeOf(input);
  if (inferred === 0) {
    if (known !== size) {
      throw new ShapeError(`cannot reshape ${size} elements ${formatShape(input)} into ${formatShape(target)}`);
    }
    return [...target];
  }
  if (known === 0 || size % known !== 0) {
    throw new ShapeError(`cannot reshape ${size} elements ${formatShape(input)} into ${formatShape(target)}`);
  }
  return target.map((d) => (d === -1 ? size / known : d));
}

export const RESHAPE = defineOp({
  name: 'reshape',
  arity: 1,
  attrs: { shape: 'ints' },
  infer: ([x], attrs) => ({ dtype: x.dtype, shape: reshapeInfer(x.shape, attrs.shape) }),
  kernel: copyKernel,
  vjp: ({ inputs: [x], dy }) => [reshapeLike(dy, x)],
});

function checkPerm(perm: readonly number[], rank: number): void {
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
    throw new ShapeError(`perm ${JSON.stringify(perm)} is not a permutation of 0..${rank - 1}`);
  }
}

export const TRANSPOSE = defineOp({
  name: 'transpose',
  arity: 1,
  attrs: { perm: 'ints' },
  infer([x], { perm }) {
    checkPerm(perm, x.shape.length);
    return { dtype: x.dtype, shape: perm.map((p) => x.shape[p]) };
  },
  kernel: ([x], out, attrs) => transposeKernel(x, attrs.perm, out),
  vjp: ({ dy, attrs }) => {
    const { perm } = attrs;
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [transpose(dy, inverse)];
  },
});

/**
 * The static shape of `input` broadcast to `target`, or null when they cannot broadcast: aligned from the right,
 * each input dim must be 1 or the target's dim. An unknown dim on either side is accepted (an unknown input dim
 * against a target's 1 too: it must be fed as 1), because the session re-infers every node with the fed shapes
 * before it runs, and that re-inference throws for the sizes that do not fit.
 */
function broadcastToStatic(input: Shape, target: Shape): Dim[] | null {
  const lead = target.length - input.length;
  if (lead < 0) return null;
  const out: Dim[] = [...target];
  for (let i = 0; i < input.length; i++) {
    const d = input[i];
    const t = target[i + lead];
    if (d === 1 || d === null) continue;
    if (t === null) out[i + lead] = d;
    else if (t !== d) return null;
  }
  return out;
}

function broadcastToShape(input: Shape, target: Shape): Dim[] {
  const shape = broadcastToStatic(input, target);
  if (shape === null) {
    throw new ShapeError(
      `cannot broadcast ${formatShape(input)} to ${formatShape(target)}; aligned from the right, each dim of the ` +
        "input must be 1 or the target's dim, and the input may not have more dims than the target",
    );
  }
  return shape;
}

export const BROADCAST_TO = defineOp({
  name: 'broadcastTo',
  arity: 1,
  attrs: { shape: 'ints' },
  infer: ([x], attrs) => ({ dtype: x.dtype, shape: broadcastToShape(x.shape, attrs.shape) }),
  kernel: ([x], out) => broadcastKernel(x, out),
  // autodiff sums the gradient back to x's shape (undoing broadcasting is done in one place)
  vjp: ({ dy }) => [dy],
});

/** broadcastLike(x, like): x broadcast to like's shape (known only at run time when like has unknown dims). */
export const BROADCAST_LIKE: OpRecord = {
  name: 'broadcastLike',
  arity: 2,
  shapeOnlyInputs: [1],
  infer: ([x, like]) => ({ dtype: x.dtype, shape: broadcastToShape(x.shape, like.shape) }),
  kernel: ([x], out) => broadcastKernel(x, out),
  vjp: ({ dy }) => [dy, null],
};

/** sumTo(x, like): x summed down to like's shape: the reverse of broadcasting, used by autodiff. */
export const SUM_TO: OpRecord = {
  name: 'sumTo',
  arity: 2,
  shapeOnlyInputs: [1],
  infer([x, like]) {
    // The reverse of broadcasting like to x's shape, so like must broadcast to x (checked again with the fed shapes).
    if (broadcastToStatic(like.shape, x.shape) === null) {
      throw new ShapeError(
        `cannot sum ${formatShape(x.shape)} down to ${formatShape(like.shape)}; the target must broadcast to the ` +
          "input: aligned from the right, each of its dims 1 or the input's dim, and no more dims than the input",
      );
    }
    return { dtype: x.dtype, shape: like.shape };
  },
  kernel: ([x], out) => sumToKernel(x, out),
  vjp: ({ inputs: [x], dy }) => [broadcastLike(dy, x), null],
};

/** reshapeLike(x, like): x with like's shape (the gradient of reshape when dims are unknown). */
export const RESHAPE_LIKE: OpRecord = {
  name: 'reshapeLike',
  arity: 2,
  shapeOnlyInputs: [1],
  infer([x, like]) {
    if (isFullyKnown(x.shape) && isFullyKnown(like.shape) && sizeOf(x.shape) !== sizeOf(like.shape)) {
      throw new ShapeError(`cannot reshape ${formatShape(x.shape)} into ${formatShape(like.shape)}`);
    }
    return { dtype: x.dtype, shape: like.shape };
  },
  kernel: copyKernel,
  vjp: ({ inputs: [x], dy }) => [reshapeLike(dy, x), null],
};

/**
 * ensureShapeLike(x, like): x itself, checked to have like's shape (same rank; equal dims). Where a dim is unknown on
 * either side, the session's re-inference with the fed shapes checks it before the run, so a mismatch is always a
 * ShapeError and never a silent broadcast (as TensorFlow's EnsureShape, against a tensor's shape). Gradients put
 * it on a gradY whose shape is not known to match its y's.
 */
export const ENSURE_SHAPE_LIKE: OpRecord = {
  name: 'ensureShapeLike',
  arity: 2,
  shapeOnlyInputs: [1],
  infer([x, like]) {
    const fits =
      x.shape.length === like.shape.length &&
      x.shape.every((d, i) => d === null || like.shape[i] === null || d === like.shape[i]);
    if (!fits) {
      throw new ShapeError(
        `x ${formatShape(x.shape)} does not have the shape ${formatShape(like.shape)} of 'like'; ensureShapeLike ` +
          'never broadcasts (a gradY has the shape of its y, a jvp tangent the shape of its x)',
      );
    }
    return { dtype: x.dtype, shape: x.shape.map((d, i) => d ?? like.shape[i]) };
  },
  kernel: copyKernel,
  vjp: ({ dy }) => [dy, null],
};

function expandedShape(shape: Shape, axes: readonly number[]): Dim[] {
  const rank = shape.length + axes.length;
  const out: Dim[] = [];
  let source = 0;
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : shape[source++]);
  return out;
}

function checkAxes(axes: readonly number[], rank: number): void {
  if (axes.some((a, i) => !Number.isInteger(a) || a < 0 || a >= rank || (i > 0 && a <= axes[i - 1]))) {
    throw new ShapeError(`axes ${JSON.stringify(axes)} must be sorted, unique and within [0, ${rank})`);
  }
}

/** expandDims with sorted, non-negative axes of the output (builders normalize tfjs-style arguments). */
export const EXPAND_DIMS = defineOp({
  name: 'expandDims',
  arity: 1,
  attrs: { axes: 'ints' },
  infer([x], { axes }) {
    checkAxes(axes, x.shape.length + axes.length);
    return { dtype: x.dtype, shape: expandedShape(x.shape, axes) };
  },
  kernel: copyKernel,
  vjp: ({ dy, attrs }): VjpResult => [apply(SQUEEZE, [dy], { axes: attrs.axes })],
});

export const SQUEEZE = defineOp({
  name: 'squeeze',
  arity: 1,
  attrs: { axes: 'ints' },
  infer([x], { axes }) {
    checkAxes(axes, x.shape.length);
    for (const a of axes) {
      if (x.shape[a] !== 1 && x.shape[a] !== null) {
        throw new ShapeError(`cannot squeeze axis ${a} of ${formatShape(x.shape)}: its size is not 1`);
      }
    }
    return { dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) };
  },
  kernel: copyKernel,
  vjp: ({ dy, attrs }): VjpResult => [apply(EXPAND_DIMS, [dy], { axes: attrs.axes })],
});

export const MOVEMENT_OPS: readonly OpRecord[] = [
  RESHAPE,
  TRANSPOSE,
  BROADCAST_TO,
  BROADCAST_LIKE,
  SUM_TO,
  RESHAPE_LIKE,
  ENSURE_SHAPE_LIKE,
  EXPAND_DIMS,
  SQUEEZE,
];

// ---- builders ---------------------------------------------------------------------------------------

/** Reshapes x; one dim of `shape` may be -1. @example reshape(x, [-1, 784]) */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return apply(RESHAPE, [x], { shape: [...shape] });
}

/** Permutes dims; the default reverses them. @example transpose(w) */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i);
  return apply(TRANSPOSE, [x], { perm: [...p] });
}

/** Broadcasts x to a shape. @example broadcastTo(b, [4, 3]) */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  return apply(BROADCAST_TO, [x], { shape: [...shape] });
}

/** Broadcasts x to the shape of `like`. @example broadcastLike(dy, x) */
export function broadcastLike(x: Tensor, like: Tensor): Tensor {
  if (isFullyKnown(x.shape) && isFullyKnown(like.shape) && shapesEqual(x.shape, like.shape)) return x;
  return apply(BROADCAST_LIKE, [x, like]);
}

/** Sums x down to the shape of `like` (the reverse of broadcasting). @example sumTo(dy, b) */
export function sumTo(x: Tensor, like: Tensor): Tensor {
  if (isFullyKnown(x.shape) && isFullyKnown(like.shape) && shapesEqual(x.shape, like.shape)) return x;
  return apply(SUM_TO, [x, like]);
}

/** Reshapes x to the shape of `like`. @example reshapeLike(dy, x) */
export function reshapeLike(x: Tensor, like: Tensor): Tensor {
  if (isFullyKnown(like.shape)) {
    return isFullyKnown(x.shape) && shapesEqual(x.shape, like.shape) ? x : reshape(x, like.shape);
  }
  return apply(RESHAPE_LIKE, [x, like]);
}

/** x, checked to have the shape of `like` (at run time where dims are unknown). @example ensureShapeLike(gy, y) */
export function ensureShapeLike(x: Tensor, like: Tensor, name?: string): Tensor {
  if (isFullyKnown(x.shape) && isFullyKnown(like.shape) && shapesEqual(x.shape, like.shape)) return x;
  return apply(ENSURE_SHAPE_LIKE, [x, like], {}, name);
}

/** Inserts size-1 dims; `axis` is a position (or positions) in the output, negative counts from the end. */
export function expandDims(x: Tensor, axis: number | readonly number[] = 0): Tensor {
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const rank = x.rank + list.length;
  const axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  return apply(EXPAND_DIMS, [x], { axes });
}

/**
 * Removes size-1 dims: the given axes, or every dim of size 1 by default. Without axes every dim of x must be
 * known: which dims an unknown one removes is known only when fed, and the output's rank must be known when the
 * graph is built (TensorFlow would make the output's rank unknown), so pass the axes then.
 * @example squeeze(x, [0])
 */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  if (axis === undefined && !isFullyKnown(x.shape)) {
    const unknown = x.shape.flatMap((d, i) => (d === null ? [i] : []));
    throw new ShapeError(
      `squeeze: '${x.name}' ${formatShape(x.shape)} has unknown dims (${unknown.length > 1 ? 'axes' : 'axis'} ` +
        `${unknown.join(', ')}), so which dims are 1 is known only when fed; pass the axes to remove, e.g. ` +
        `squeeze(x, [${x.shape.flatMap((d, i) => (d === 1 || d === null ? [i] : [])).join(', ')}])`,
    );
  }
  const list =
    axis === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : typeof axis === 'number' ? [axis] : axis;
  const axes = [...new Set(list.map((a) => (a < 0 ? a + x.rank : a)))].sort((a, b) => a - b);
  return apply(SQUEEZE, [x], { axes });
}
