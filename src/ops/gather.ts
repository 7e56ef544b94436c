/** gather and its adjoint scatterAdd: picking slices of a tensor by int32 indices, and adding them back. */
import { Dim, DTypeError, formatShape, Graph, NDArray, ShapeError, Tensor } from '../graph';
import { argumentError, checkIndicesDType, isIndex, linearTangent, mergeDim, normalizeAxis } from './indexing-common';
import { gather as gatherKernel, scatterAdd as scatterAddKernel } from './kernels';
import { apply, defineOp, TensorInfo, TensorLike, VjpResult } from './record';

const GATHER_ATTRS = { axis: 'int', batchDims: 'int' } as const;

/** gather's output shape: x.shape[:axis] + indices.shape[batchDims:] + x.shape[axis + 1:], batch dims shared. */
function gatherShape(x: TensorInfo, indices: TensorInfo, axis: number, batchDims: number): Dim[] {
  checkIndicesDType(indices);
  if (!isIndex(axis, 0, x.shape.length)) {
    throw new ShapeError(`axis ${axis} is out of range for rank ${x.shape.length}`);
  }
  if (!isIndex(batchDims, 0, Math.min(axis, indices.shape.length) + 1)) {
    throw new ShapeError(
      `batchDims ${batchDims} must be in [0, ${Math.min(axis, indices.shape.length)}]: at most the axis (${axis}) ` +
        `and the rank of indices (${indices.shape.length})`,
    );
  }
  const batch = x.shape.slice(0, batchDims).map((d, i) => {
    const merged = mergeDim(d, indices.shape[i]);
    if (merged === undefined) {
      throw new ShapeError(
        `batch dim ${i} differs: x has size ${d} but indices ${formatShape(indices.shape)} have ${indices.shape[i]}`,
      );
    }
    return merged;
  });
  return [...batch, ...x.shape.slice(batchDims, axis), ...indices.shape.slice(batchDims), ...x.shape.slice(axis + 1)];
}

/** gather(x, indices) {axis, batchDims}. */
export const GATHER = defineOp({
  name: 'gather',
  arity: 2,
  attrs: GATHER_ATTRS,
  infer: ([x, indices], { axis, batchDims }) => ({ dtype: x.dtype, shape: gatherShape(x, indices, axis, batchDims) }),
  kernel: ([x, indices], out, attrs) => gatherKernel(x, indices, attrs.axis, attrs.batchDims, out),
  vjp: ({ inputs: [x, indices], dy, attrs, needs }): VjpResult => [
    needs[0] ? apply(SCATTER_ADD, [dy, indices, x], attrs) : null,
    null,
  ],
  jvp: (args): Tensor | null => linearTangent(GATHER, args),
});

/** scatterAdd(updates, indices, like) {axis, batchDims}: the adjoint of gather, shaped like `like`. */
export const SCATTER_ADD = defineOp({
  name: 'scatterAdd',
  arity: 3,
  attrs: GATHER_ATTRS,
  infer([updates, indices, like], attrs) {
    const expected = gatherShape(like, indices, attrs.axis, attrs.batchDims);
    const fits =
      expected.length === updates.shape.length && expected.every((d, i) => mergeDim(d, updates.shape[i]) !== undefined);
    if (!fits) {
      throw new ShapeError(
        `updates ${formatShape(updates.shape)} must have the shape gather would give, ${formatShape(expected)}`,
      );
    }
    if (updates.dtype !== like.dtype) {
      throw new DTypeError(`updates are ${updates.dtype} but like is ${like.dtype}; they must match`);
    }
    return like;
  },
  kernel: ([updates, indices], out, attrs) => scatterAddKernel(updates, indices, attrs.axis, attrs.batchDims, out),
  vjp: ({ inputs: [, indices], dy, attrs, needs }): VjpResult => [
    needs[0] ? apply(GATHER, [dy, indices], attrs) : null,
    null,
    null,
  ],
  jvp: (args): Tensor | null => linearTangent(SCATTER_ADD, args),
});

/** Indices as an int32 tensor in `graph`: a Tensor is checked by inference, JS values must be integers. */
function indicesTensor(op: string, graph: Graph, indices: TensorLike): Tensor {
  if (indices instanceof Tensor) return indices;
  const values = NDArray.from(indices, indices instanceof NDArray ? undefined : 'float64');
  if (values.dtype !== 'int32') {
    const bad = Array.from(values.data).find((v) => !Number.isInteger(v));
    if (bad !== undefined) throw new DTypeError(`${op}: index ${bad} is not an integer`);
  }
  return graph.constant(values.astype('int32'), 'int32');
}

/**
 * Picks slices of x along `axis` at int32 `indices` (a tensor or JS array); with batchDims, the leading dims of x
 * and indices are paired. Indices out of range are an error when the graph runs.
 * @example gather(embeddings, ids) // [V, D] and [B] -> [B, D]
 */
export function gather(x: Tensor, indices: TensorLike, axis = 0, batchDims = 0): Tensor {
  const ids = indicesTensor('gather', x.graph, indices);
  const resolved = normalizeAxis('gather', [x, ids], axis, x.rank);
  const rank = ids.rank;
  if (!Number.isInteger(batchDims) || batchDims < -rank || batchDims > rank) {
    throw argumentError('gather', [x, ids], `batchDims ${batchDims} must be in [${-rank}, ${rank}]`);
  }
  return apply(GATHER, [x, ids], { axis: resolved, batchDims: batchDims < 0 ? batchDims + rank : batchDims });
}

/**
 * The adjoint of gather (not in TensorFlow.js): zeros shaped like `like`, plus each slice of `updates` added where
 * its index points along `axis`; repeated indices accumulate. gather's gradient.
 * @example scatterAdd(dy, ids, embeddings) // [B, D] into [V, D]
 */
export function scatterAdd(updates: Tensor, indices: TensorLike, like: Tensor, axis = 0, batchDims = 0): Tensor {
  const ids = indicesTensor('scatterAdd', updates.graph, indices);
  const resolved = normalizeAxis('scatterAdd', [updates, ids, like], axis, like.rank);
  const rank = ids.rank;
  if (!Number.isInteger(batchDims) || batchDims < -rank || batchDims > rank) {
    throw argumentError('scatterAdd', [updates, ids, like], `batchDims ${batchDims} must be in [${-rank}, ${rank}]`);
  }
  const attrs = { axis: resolved, batchDims: batchDims < 0 ? batchDims + rank : batchDims };
  return apply(SCATTER_ADD, [updates, ids, like], attrs);
}
