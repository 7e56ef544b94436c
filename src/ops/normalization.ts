/**
 * Normalization layers as composites over elementwise and reduction primitives: batchNorm (tfjs's inference form),
 * batchNormTraining (batch statistics and moving-average updates, as Keras's BatchNormalization in training) and
 * layerNorm (tf.layers.layerNormalization's math). Their elementwise part over x fuses into one group (the
 * per-channel factor rsqrt(variance + ε)·scale is computed once, on the statistics' own shape), so a composite costs
 * no more at run time than a fused kernel, and its gradients and second derivatives come from the primitives'.
 */
import { broadcastStatic, DTypeError, formatShape, shapesEqual, ShapeError, Tensor } from '../graph';
import { add, mul, sub } from './elementwise';
import { TensorLike, toTensor } from './record';
import { rsqrt } from './unary';

/** The start of a builder's error message: the op, its node name and its input x. */
function where(name: string, x: Tensor): string {
  return `${name} '${x.graph.scopePrefix}${name}' (input '${x.name}' ${x.dtype}${formatShape(x.shape)})`;
}

/** A statistic as a tensor of x's dtype that broadcasts against x without changing x's shape. */
function statistic(name: string, what: string, x: Tensor, value: TensorLike): Tensor {
  const t = toTensor(x.graph, value, x.dtype);
  if (t.dtype !== x.dtype) {
    throw new DTypeError(`${where(name, x)}: ${what} is ${t.dtype}; it must have x's dtype ${x.dtype}`);
  }
  const shape = broadcastStatic(x.shape, t.shape);
  if (shape === null || !shapesEqual(shape, x.shape)) {
    throw new ShapeError(
      `${where(name, x)}: ${what} ${formatShape(t.shape)} must broadcast against x without changing its shape ` +
        `(a [channels] vector for channels last, or a tensor of x's rank with 1 on the reduced axes)`,
    );
  }
  return t;
}

function requireFloatX(name: string, x: Tensor): void {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') {
    throw new DTypeError(`${where(name, x)}: expects a float32 or float64 x; cast it with cast(x, 'float32')`);
  }
}

/** (x − mean) · (scale · rsqrt(variance + ε)) + offset, with the statistics already checked. */
function normalize(
  x: Tensor,
  mean: Tensor,
  variance: Tensor,
  offset: Tensor | null,
  scale: Tensor | null,
  epsilon: number,
): Tensor {
  const inverse = rsqrt(add(variance, epsilon));
  const factor = scale === null ? inverse : mul(inverse, scale);
  const y = mul(sub(x, mean), factor);
  return offset === null ? y : add(y, offset);
}

/**
 * Batch normalization with given statistics, as tf.batchNorm: (x − mean) · scale / √(variance + varianceEpsilon) +
 * offset. The statistics broadcast against x (a [channels] vector normalizes the last axis, channels last); offset
 * and scale are optional. Any rank. A composite: it fuses into one elementwise pass over x.
 * @example batchNorm(x, movingMean, movingVariance, beta, gamma)
 */
export function batchNorm(
  x: Tensor,
  mean: TensorLike,
  variance: TensorLike,
  offset?: TensorLike | null,
  scale?: TensorLike | null,
  varianceEpsilon = 0.001,
): Tensor {
  requireFloatX('batchNorm', x);
  const m = statistic('batchNorm', 'mean', x, mean);
  const v = statistic('batchNorm', 'variance', x, variance);
  const o = offset === undefined || offset === null ? null : statistic('batchNorm', 'offset', x, offset);
  const s = scale === undefined || scale === null ? null : statistic('batchNorm', 'scale', x, scale);
  return x.graph.nameScope('batchNorm', () => normalize(x, m, v, o, s, varianceEpsilon));
}
