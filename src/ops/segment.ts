/**
 * unsortedSegmentSum: sums of the rows of x grouped by segment id, built over scatterAdd (gather's adjoint, the same
 * scatter) with the ids outside [0, numSegments) dropped, as tfjs drops them. Its gradient is then gather's, with
 * the dropped rows zero: TensorFlow's _GatherDropNegatives.
 */
import { DTypeError, NDArray, Tensor } from '../graph';
import { greaterEqual, less, logicalAnd } from './compare';
import { where, zerosLike } from './elementwise';
import { zeros } from './generators';
import { scatterAdd } from './gather';
import { argumentError } from './indexing-common';
import { expandDims, reshape } from './movement';
import { TensorLike } from './record';

/**
 * Sums the slices of x along its first dims into `numSegments` segments: out[s] = Σ x[i] over the i with
 * segmentIds[i] = s, as tf.unsortedSegmentSum. segmentIds (int32) has the shape of x's leading dims (tfjs: one
 * dim); ids outside [0, numSegments) are dropped; empty segments are zero.
 * @example unsortedSegmentSum(x, [0, 2, 0], 3) // [3, D] -> [3, D]
 */
export function unsortedSegmentSum(x: Tensor, segmentIds: TensorLike, numSegments: number): Tensor {
  const op = 'unsortedSegmentSum';
  let ids: Tensor;
  if (segmentIds instanceof Tensor) ids = segmentIds;
  else {
    const values = NDArray.from(segmentIds, segmentIds instanceof NDArray ? undefined : 'float64');
    const bad = Array.from(values.data).find((v) => !Number.isInteger(v));
    if (bad !== undefined) throw new DTypeError(`${op}: segment id ${bad} is not an integer`);
    ids = x.graph.constant(values.astype('int32'), 'int32');
  }
  if (ids.dtype !== 'int32') throw new DTypeError(`${op}: segmentIds must be int32, got ${ids.dtype}`);
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw argumentError(op, [x, ids], `numSegments must be a non-negative integer, got ${numSegments}`);
  }
  const k = ids.rank;
  const lead = x.shape.slice(0, k);
  if (k < 1 || k > x.rank || ids.shape.some((d, i) => d !== null && lead[i] !== null && d !== lead[i])) {
    throw argumentError(op, [x, ids], `segmentIds must have the shape of x's leading dims`);
  }
  const rest = x.shape.slice(k);
  if (rest.some((d) => d === null)) throw argumentError(op, [x, ids], 'needs the dims after the segmented ones known');
  const restDims = rest as number[];
  // TensorFlow's segment ids may cover several leading dims: flatten them into one.
  const flatIds = k === 1 ? ids : reshape(ids, [-1]);
  const flatX = k === 1 ? x : reshape(x, [-1, ...restDims]);
  const kept = logicalAnd(greaterEqual(flatIds, 0), less(flatIds, numSegments));
  const safeIds = where(kept, flatIds, zerosLike(flatIds));
  const keptRows =
    restDims.length === 0
      ? kept
      : expandDims(
          kept,
          restDims.map((_, i) => i + 1),
        );
  const keptX = where(keptRows, flatX, zerosLike(flatX));
  return scatterAdd(keptX, safeIds, zeros([numSegments, ...restDims], x.dtype, x.graph));
}
