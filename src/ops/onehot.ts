/** oneHot and cumsum: int32 indices to one-hot rows, and running sums along an axis. */
import { DType, ShapeError, Tensor } from '../graph';
import { argumentError, checkAxis, checkIndicesDType, linearTangent, normalizeAxis } from './indexing-common';
import { cumsum as cumsumKernel, oneHot as oneHotKernel } from './kernels';
import { apply, defineOp, requireNumeric, VjpResult } from './record';

/** oneHot(indices) {depth, onValue, offValue, dtype}: no gradient (the indices are integers). */
export const ONE_HOT = defineOp({
  name: 'oneHot',
  arity: 1,
  attrs: { depth: 'int', onValue: 'number', offValue: 'number', dtype: 'dtype' },
  infer([indices], { depth, dtype }) {
    checkIndicesDType(indices);
    if (depth < 0) throw new ShapeError(`depth ${depth} must be a non-negative integer`);
    return { dtype, shape: [...indices.shape, depth] };
  },
  kernel: ([indices], out, attrs) => oneHotKernel(indices, attrs.depth, attrs.onValue, attrs.offValue, out),
});

/** cumsum(x) {axis, exclusive, reverse}. */
export const CUMSUM = defineOp({
  name: 'cumsum',
  arity: 1,
  attrs: { axis: 'int', exclusive: 'bool?', reverse: 'bool?' },
  infer([x], attrs) {
    requireNumeric(x);
    checkAxis(attrs.axis, x.shape.length);
    return x;
  },
  kernel: ([x], out, attrs) => cumsumKernel(x, attrs.axis, attrs.exclusive === true, attrs.reverse === true, out),
  // Each x[i] reaches every later output, so dy flows back summed over the outputs in the other direction.
  vjp: ({ dy, attrs }): VjpResult => [apply(CUMSUM, [dy], { ...attrs, reverse: attrs.reverse !== true })],
  jvp: (args): Tensor | null => linearTangent(CUMSUM, args),
});

/**
 * One-hot rows: out[..., j] = onValue where indices[...] = j, else offValue. Indices outside [0, depth) give a
 * row of offValue. Deliberately float32 by default (tfjs defaults to int32), since one-hot rows mostly meet floats.
 * @example oneHot(labels, 10) // int32 [B] -> float32 [B, 10]
 */
export function oneHot(indices: Tensor, depth: number, onValue = 1, offValue = 0, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(depth) || depth < 0) {
    throw argumentError('oneHot', [indices], `depth ${depth} must be a non-negative integer`);
  }
  return apply(ONE_HOT, [indices], { depth, onValue, offValue, dtype });
}

/**
 * Cumulative sum along `axis`; `exclusive` leaves each element out of its own sum, `reverse` sums from the end.
 * @example cumsum(x, 1)
 */
export function cumsum(x: Tensor, axis = 0, exclusive = false, reverse = false): Tensor {
  return apply(CUMSUM, [x], { axis: normalizeAxis('cumsum', [x], axis, x.rank), exclusive, reverse });
}
