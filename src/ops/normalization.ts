/**
 * Normalization layers as composites over elementwise and reduction primitives: batchNorm (tfjs's inference form),
 * batchNormTraining (batch statistics and moving-average updates, as Keras's BatchNormalization in training) and
 * layerNorm (tf.layers.layerNormalization's math). Their elementwise part over x fuses into one group (the
 * per-channel factor rsqrt(variance + ε)·scale is computed once, on the statistics' own shape), so a composite costs
 * no more at run time than a fused kernel, and its gradients and second derivatives come from the primitives'.
 * Two primitives live here too: localResponseNormalization (tfjs's, one pass over x) and windowSum, the windowed
 * channel sum its gradient is built from.
 */
import { broadcastStatic, DTypeError, formatShape, GraphError, shapesEqual, ShapeError, Tensor } from '../graph';
import { add, div, mul, pow, square, sub } from './elementwise';
import { localResponseNormalization as lrnKernel, windowSum as windowSumKernel } from './kernels/normalization';
import { reshape } from './movement';
import { apply, defineOp, OpRecord, requireFloat, TensorLike, toTensor } from './record';
import { moments } from './reduce';
import { assign, group } from './state';
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

/** Options of batchNormTraining; the defaults are tf.keras BatchNormalization's. */
export interface BatchNormTrainingOptions {
  /** The axes the statistics are taken over (default: all but the last, channels last). */
  readonly axes?: readonly number[];
  /** The moving averages keep this much of their value at each step (default 0.99). */
  readonly momentum?: number;
  /** Added to the variance before its square root (default 0.001). */
  readonly varianceEpsilon?: number;
}

/** What batchNormTraining returns: the output, the batch statistics and the moving-average updates. */
export interface BatchNormTraining {
  /** x normalized with the batch's own statistics (gradients flow through them). */
  readonly y: Tensor;
  /** The batch mean and (population) variance, shaped as the moving variables. */
  readonly mean: Tensor;
  readonly variance: Tensor;
  /** The two assigns of the moving mean and variance. */
  readonly updates: readonly [Tensor, Tensor];
  /** group(updates): fetch it (or group it with an optimizer's step) to move the averages. */
  readonly update: Tensor;
}

function resolveAxes(x: Tensor, axes: readonly number[] | undefined): number[] {
  if (axes === undefined) return x.shape.slice(0, -1).map((_, i) => i);
  const resolved = axes.map((a) => (a < 0 ? a + x.rank : a));
  if (axes.length === 0 || resolved.some((a, i) => !Number.isInteger(axes[i]) || a < 0 || a >= x.rank)) {
    throw new ShapeError(
      `${where('batchNormTraining', x)}: axes [${axes.join(', ')}] must be a non-empty list of axes in ` +
        `[${-x.rank}, ${x.rank})`,
    );
  }
  if (new Set(resolved).size !== resolved.length) {
    throw new ShapeError(`${where('batchNormTraining', x)}: axes [${axes.join(', ')}] repeat an axis`);
  }
  return resolved;
}

function movingVariable(x: Tensor, what: string, v: Tensor, axes: readonly number[]): void {
  if (!(v instanceof Tensor) || v.op !== 'variable') {
    throw new GraphError(`${where('batchNormTraining', x)}: ${what} must be a variable (its average is assigned)`);
  }
  if (v.dtype !== x.dtype) {
    throw new DTypeError(`${where('batchNormTraining', x)}: ${what} is ${v.dtype}; it must have x's dtype ${x.dtype}`);
  }
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const squeezed = x.shape.filter((_, i) => !axes.includes(i));
  // The kept shape may drop leading 1s, as a broadcasting statistic does ([C, 1, 1] for NCHW).
  const padded = [...new Array<number>(Math.max(0, x.rank - v.rank)).fill(1), ...v.shape];
  if (!shapesEqual(v.shape, squeezed) && !(v.rank <= x.rank && shapesEqual(padded, kept))) {
    throw new ShapeError(
      `${where('batchNormTraining', x)}: ${what} ${formatShape(v.shape)} must have the statistics' shape ` +
        `${formatShape(squeezed)} (or ${formatShape(kept)} with the reduced axes kept, leading 1s optional)`,
    );
  }
}

/**
 * Batch normalization in training, as tf.keras BatchNormalization with training = true (and ONNX
 * BatchNormalization with training_mode = 1): x is normalized with the mean and population variance of the batch
 * over `axes` (gradients flow through them), and the moving averages move toward them:
 * moving ← moving·momentum + batch·(1 − momentum), as graph ops (assigns) that run when `update` is fetched.
 * TensorFlow's fused kernel updates the moving variance with the Bessel-corrected batch variance instead.
 * @example
 * const bn = batchNormTraining(x, movingMean, movingVariance, beta, gamma);
 * sess.run([loss, group([train.sgd(0.1).minimize(loss), bn.update])], feeds);
 */
export function batchNormTraining(
  x: Tensor,
  movingMean: Tensor,
  movingVariance: Tensor,
  offset?: TensorLike | null,
  scale?: TensorLike | null,
  options: BatchNormTrainingOptions = {},
): BatchNormTraining {
  requireFloatX('batchNormTraining', x);
  const { momentum = 0.99, varianceEpsilon = 0.001 } = options;
  if (!(momentum >= 0 && momentum <= 1)) {
    throw new GraphError(`${where('batchNormTraining', x)}: momentum ${momentum} must be in [0, 1]`);
  }
  const axes = resolveAxes(x, options.axes);
  const o = offset === undefined || offset === null ? null : statistic('batchNormTraining', 'offset', x, offset);
  const s = scale === undefined || scale === null ? null : statistic('batchNormTraining', 'scale', x, scale);
  movingVariable(x, 'movingMean', movingMean, axes);
  movingVariable(x, 'movingVariance', movingVariance, axes);
  return x.graph.nameScope('batchNormTraining', () => {
    const batch = moments(x, axes, true);
    const y = normalize(x, batch.mean, batch.variance, o, s, varianceEpsilon);
    const mean = reshape(
      batch.mean,
      movingMean.shape.map((d) => d ?? -1),
    );
    const variance = reshape(
      batch.variance,
      movingVariance.shape.map((d) => d ?? -1),
    );
    const moved = (moving: Tensor, value: Tensor): Tensor =>
      assign(moving, add(mul(moving, momentum), mul(value, 1 - momentum)));
    const updates: [Tensor, Tensor] = [moved(movingMean, mean), moved(movingVariance, variance)];
    return { y, mean, variance, updates, update: group(updates) };
  });
}

/**
 * Layer normalization over `axes` (default: the last), with the math of tf.layers.layerNormalization:
 * (x − mean) / √(variance + epsilon) · gamma + beta, the mean and population variance taken per example over
 * `axes`. gamma and beta are optional and broadcast against x (usually of the normalized axes' shape). There is no
 * tfjs op of this name; the argument order (x, axes, epsilon, gamma, beta) is lazygrad's.
 * @example layerNorm(h, [-1], 1e-3, gamma, beta)
 */
export function layerNorm(
  x: Tensor,
  axes: number | readonly number[] = -1,
  epsilon = 0.001,
  gamma?: TensorLike | null,
  beta?: TensorLike | null,
): Tensor {
  requireFloatX('layerNorm', x);
  const list = typeof axes === 'number' ? [axes] : axes;
  const resolved = list.map((a) => (a < 0 ? a + x.rank : a));
  if (list.length === 0 || resolved.some((a, i) => !Number.isInteger(list[i]) || a < 0 || a >= x.rank)) {
    throw new ShapeError(
      `${where('layerNorm', x)}: axes [${list.join(', ')}] must be a non-empty list of axes in [${-x.rank}, ${x.rank})`,
    );
  }
  const g = gamma === undefined || gamma === null ? null : statistic('layerNorm', 'gamma', x, gamma);
  const b = beta === undefined || beta === null ? null : statistic('layerNorm', 'beta', x, beta);
  return x.graph.nameScope('layerNorm', () => {
    const { mean, variance } = moments(x, resolved, true);
    return normalize(x, mean, variance, b, g, epsilon);
  });
}

/**
 * windowSum(x, axis, radius): the sum of x over a window of 2·radius + 1 entries along `axis`, centred on each
 * entry and cut at the ends (the sum of squares of local response normalization). Linear, and its window is
 * symmetric, so it is its own adjoint: the gradient is windowSum(dy) and the tangent windowSum(t).
 */
export const WINDOW_SUM = defineOp({
  name: 'windowSum',
  arity: 1,
  attrs: { axis: 'int', radius: 'int' },
  infer([x], { axis, radius }) {
    requireFloat(x);
    if (!(axis >= 0 && axis < x.shape.length)) {
      throw new ShapeError(`axis ${axis} is out of range for ${formatShape(x.shape)}; it needs rank >= 1`);
    }
    if (!(radius >= 0)) throw new ShapeError(`the radius must be a non-negative integer, got ${radius}`);
    return x;
  },
  kernel: ([x], out, { axis, radius }) => windowSumKernel(x, axis, radius, out),
  vjp: ({ dy, attrs }) => [windowSumOf(dy, attrs)],
  jvp: ({ tangents: [t], attrs }) => t && windowSumOf(t, attrs),
});

function windowSumOf(x: Tensor, attrs: { readonly axis: number; readonly radius: number }): Tensor {
  return apply(WINDOW_SUM, [x], attrs);
}

/**
 * The sum of x over a window of 2·radius + 1 entries along `axis` (default the last) centred on each entry, cut at
 * the ends. @example windowSum(square(x), -1, 2)
 */
export function windowSum(x: Tensor, axis = -1, radius = 1): Tensor {
  const resolved = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(axis) || resolved < 0 || resolved >= x.rank) {
    throw new ShapeError(
      `${where('windowSum', x)}: axis ${axis} is out of range; valid axes are in [${-x.rank}, ${x.rank})`,
    );
  }
  if (!Number.isInteger(radius) || radius < 0) {
    throw new GraphError(`${where('windowSum', x)}: radius ${radius} must be a non-negative integer`);
  }
  return apply(WINDOW_SUM, [x], { axis: resolved, radius });
}

type LrnAttrs = {
  readonly axis: number;
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;
};

function lrnOf(x: Tensor, attrs: LrnAttrs): Tensor {
  return apply(LOCAL_RESPONSE_NORMALIZATION, [x], attrs);
}

/**
 * localResponseNormalization(x): x · (bias + alpha·windowSum(x²))^−beta along `axis`, one pass over x. Its gradient,
 * from ops with gradients (itself among them, through y): with base = bias + alpha·windowSum(x²),
 * dx = dy·base^−beta − 2·alpha·beta·x·windowSum(dy·y / base) (the window is symmetric, so windowSum is its adjoint).
 */
export const LOCAL_RESPONSE_NORMALIZATION = defineOp({
  name: 'localResponseNormalization',
  arity: 1,
  attrs: { axis: 'int', depthRadius: 'int', bias: 'number', alpha: 'number', beta: 'number' },
  infer([x], { axis, depthRadius }) {
    requireFloat(x);
    if (!(axis >= 0 && axis < x.shape.length)) {
      throw new ShapeError(`axis ${axis} is out of range for ${formatShape(x.shape)}; it needs rank >= 1`);
    }
    if (!(depthRadius >= 0)) throw new ShapeError(`depthRadius must be a non-negative integer, got ${depthRadius}`);
    return x;
  },
  kernel: ([x], out, { axis, depthRadius, bias, alpha, beta }) =>
    lrnKernel(x, axis, depthRadius, bias, alpha, beta, out),
  vjp: ({ inputs: [x], output: y, dy, attrs }): [Tensor] => {
    const { axis, depthRadius, bias, alpha, beta } = attrs;
    const window = { axis, radius: depthRadius };
    const base = add(mul(windowSumOf(square(x), window), alpha), bias);
    const direct = mul(dy, pow(base, -beta));
    const through = mul(mul(x, -2 * alpha * beta), windowSumOf(div(mul(dy, y), base), window));
    return [add(direct, through)];
  },
});

/**
 * Local response normalization, as tf.localResponseNormalization: x / (bias + alpha·Σ x²)^beta with the sum over
 * the depthRadius channels on each side (channels last; rank 3 or 4 in tfjs, any rank here). One primitive (a
 * single pass over x); `axis` (lazygrad's, default the last) lets ONNX's NCHW LRN use it directly.
 * @example localResponseNormalization(x, 2, 1, 1e-4, 0.75)
 */
export function localResponseNormalization(
  x: Tensor,
  depthRadius = 5,
  bias = 1,
  alpha = 1,
  beta = 0.5,
  axis = -1,
): Tensor {
  requireFloatX('localResponseNormalization', x);
  if (x.rank === 0) throw new ShapeError(`${where('localResponseNormalization', x)}: x needs rank >= 1`);
  const resolved = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(axis) || resolved < 0 || resolved >= x.rank) {
    throw new ShapeError(
      `${where('localResponseNormalization', x)}: axis ${axis} is out of range; valid axes are in [${-x.rank}, ${x.rank})`,
    );
  }
  if (!Number.isInteger(depthRadius) || depthRadius < 0) {
    throw new GraphError(
      `${where('localResponseNormalization', x)}: depthRadius ${depthRadius} must be a non-negative integer`,
    );
  }
  return lrnOf(x, { axis: resolved, depthRadius, bias, alpha, beta });
}

/** The normalization family's primitives. */
export const NORMALIZATION_OPS: readonly OpRecord[] = [WINDOW_SUM, LOCAL_RESPONSE_NORMALIZATION];
