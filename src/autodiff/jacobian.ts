import { formatShape, isFullyKnown, NDArray, ShapeError, sizeOf, Tensor } from '../graph';
import { reshape, stack, zerosLike } from '../ops';
import { gradients } from './gradients';

/**
 * The full Jacobian ∂y/∂x as one tensor of shape [...y.shape, ...x.shape]: one reverse pass per element of y,
 * each seeded with a one-hot cotangent, stacked. Meant for small functions (y's shape must be known).
 *
 * @example const J = jacobian(softmax(x), x); // [n, n] for x of shape [n]
 */
export function jacobian(y: Tensor, x: Tensor): Tensor {
  if (!isFullyKnown(y.shape)) {
    throw new ShapeError(`jacobian: y '${y.name}' has shape ${formatShape(y.shape)}; its dims must all be known`);
  }
  const size = sizeOf(y.shape);
  return y.graph.nameScope('jacobian', () => {
    const rows: Tensor[] = [];
    for (let i = 0; i < size; i++) {
      const seed = NDArray.zeros(y.shape as number[], y.dtype);
      seed.data[i] = 1;
      const [row] = gradients(y, [x], [y.graph.constant(seed, y.dtype)], { unconnected: 'zero' });
      rows.push(row ?? zerosLike(x));
    }
    const stacked = size === 0 ? zerosLike(x) : stack(rows, 0);
    if (y.shape.length === 1) return stacked;
    if (!isFullyKnown(x.shape)) {
      throw new ShapeError(
        `jacobian: x '${x.name}' has shape ${formatShape(x.shape)}; for a y of rank ${y.shape.length}, its dims ` +
          'must all be known',
      );
    }
    return reshape(stacked, [...(y.shape as number[]), ...(x.shape as number[])]);
  });
}

/**
 * Hessians of a scalar y: for each x, the tensor of second derivatives ∂²y/∂x∂x of shape [...x.shape, ...x.shape],
 * as the Jacobian of the gradient (so it needs rules that differentiate twice, which every rule here does).
 *
 * @example const [H] = hessians(sum(mul(x, mul(x, x))), [x]); // diag(6x)
 */
export function hessians(y: Tensor, xs: readonly Tensor[]): Tensor[] {
  if (y.shape.length !== 0 && !(isFullyKnown(y.shape) && sizeOf(y.shape) === 1)) {
    throw new ShapeError(`hessians: y '${y.name}' must be a scalar, got ${formatShape(y.shape)}`);
  }
  return xs.map((x) => {
    const [g] = gradients(y, [x], undefined, { unconnected: 'zero' }) as Tensor[];
    return jacobian(g, x);
  });
}
