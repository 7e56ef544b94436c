/**
 * losses.* as in TensorFlow.js: composite functions over primitives (the fused softmax and sigmoid
 * cross-entropies are primitives in nn.ts, for numerical safety).
 */
import { formatShape, GraphError, isFullyKnown, ShapeError, sizeOf, Tensor } from '../graph';
import { add, cast, div, equal, greater, mul, onesLike, square, sub, where, zerosLike } from './elementwise';
import { sigmoidCrossEntropyWithLogits, softmaxCrossEntropyWithLogits } from './nn';
import { TensorLike, apply, toTensor } from './record';
import { mean, REDUCED_SIZE, sum } from './reduce';
import { abs } from './unary';

/** How a loss reduces its per-element values (the numbers are tfjs's, so tf.Reduction values work too). */
export const Reduction = { NONE: 0, MEAN: 1, SUM: 2, SUM_BY_NONZERO_WEIGHTS: 3 } as const;
export type Reduction = (typeof Reduction)[keyof typeof Reduction];

/** A tensor-like in `like`'s graph with `like`'s dtype (casting a tensor of another dtype, e.g. int32 labels). */
function asDTypeOf(value: TensorLike, like: Tensor): Tensor {
  const t = toTensor(like.graph, value, like.dtype);
  return t.dtype === like.dtype ? t : cast(t, like.dtype);
}

function checkSameShape(name: string, what: string, labels: Tensor, other: Tensor): void {
  const a = labels.shape;
  const b = other.shape;
  if (a.length !== b.length || a.some((d, i) => d !== null && b[i] !== null && d !== b[i])) {
    throw new ShapeError(
      `losses.${name}: labels ${formatShape(a)} and ${what} ${formatShape(b)} must have the same shape`,
    );
  }
}

/** The element count of x as a scalar of x's dtype: a constant when x's shape is known. */
function numElements(x: Tensor): Tensor {
  if (isFullyKnown(x.shape)) return x.graph.constant(sizeOf(x.shape), x.dtype);
  return apply(REDUCED_SIZE, [x], { axes: x.shape.map((_, i) => i), dtype: x.dtype });
}

/** numerator / denominator, or 0 where the denominator is 0 (TensorFlow's div_no_nan), with NaN-free gradients. */
function divNoNan(numerator: Tensor, denominator: Tensor): Tensor {
  const isZero = equal(denominator, 0);
  return where(isZero, zerosLike(numerator), div(numerator, where(isZero, onesLike(denominator), denominator)));
}

/**
 * Weights and reduces per-element losses as tf.losses.computeWeightedLoss. A zero denominator (all weights zero)
 * gives 0, as TensorFlow does, where tfjs gives NaN.
 * @example losses.computeWeightedLoss(perExample, weights, Reduction.MEAN)
 */
function computeWeightedLoss(
  losses: Tensor,
  weights?: TensorLike | null,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  const w = weights === undefined || weights === null ? null : asDTypeOf(weights, losses);
  return losses.graph.nameScope('computeWeightedLoss', () => {
    const weighted = w === null ? losses : mul(losses, w);
    switch (reduction) {
      case Reduction.NONE:
        return weighted;
      case Reduction.SUM:
        return sum(weighted);
      case Reduction.MEAN: {
        if (w === null) return mean(weighted);
        // Each weight stands for losses.size / weights.size elements when it broadcasts (tfjs counts it that often).
        const factor = div(numElements(losses), numElements(w));
        const repeats = where(greater(factor, 1), factor, onesLike(factor));
        return divNoNan(sum(weighted), mul(sum(w), repeats));
      }
      case Reduction.SUM_BY_NONZERO_WEIGHTS: {
        if (w === null) return div(sum(weighted), numElements(losses));
        const nonzero = sub(1, cast(equal(mul(w, onesLike(losses)), 0), losses.dtype));
        return divNoNan(sum(weighted), sum(nonzero));
      }
      default:
        throw new GraphError(
          `losses: unknown reduction ${String(reduction)}; use Reduction.NONE, MEAN, SUM or SUM_BY_NONZERO_WEIGHTS`,
        );
    }
  });
}

/**
 * Softmax cross-entropy of `logits` against one-hot (or soft) labels along the last axis, optionally with label
 * smoothing (labels·(1 − s) + s / classes), then weighted and reduced.
 * @example losses.softmaxCrossEntropy(onehot, logits)
 */
function softmaxCrossEntropy(
  onehotLabels: TensorLike,
  logits: Tensor,
  weights?: TensorLike | null,
  labelSmoothing = 0,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  let labels = asDTypeOf(onehotLabels, logits);
  checkSameShape('softmaxCrossEntropy', 'logits', labels, logits);
  return logits.graph.nameScope('softmaxCrossEntropy', () => {
    if (labelSmoothing > 0) {
      const last = logits.rank - 1;
      const classes = logits.shape[last];
      const count = classes !== null ? classes : apply(REDUCED_SIZE, [logits], { axes: [last], dtype: logits.dtype });
      labels = add(mul(labels, 1 - labelSmoothing), div(logits.graph.constant(labelSmoothing, logits.dtype), count));
    }
    return computeWeightedLoss(softmaxCrossEntropyWithLogits(labels, logits, -1), weights, reduction);
  });
}

/**
 * Sigmoid cross-entropy of `logits` against multi-class labels in [0, 1], optionally with label smoothing
 * (labels·(1 − s) + s / 2), then weighted and reduced. Stable for any logit size.
 * @example losses.sigmoidCrossEntropy(targets, logits)
 */
function sigmoidCrossEntropy(
  multiClassLabels: TensorLike,
  logits: Tensor,
  weights?: TensorLike | null,
  labelSmoothing = 0,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  let labels = asDTypeOf(multiClassLabels, logits);
  checkSameShape('sigmoidCrossEntropy', 'logits', labels, logits);
  return logits.graph.nameScope('sigmoidCrossEntropy', () => {
    if (labelSmoothing > 0) labels = add(mul(labels, 1 - labelSmoothing), 0.5 * labelSmoothing);
    return computeWeightedLoss(sigmoidCrossEntropyWithLogits(labels, logits), weights, reduction);
  });
}

/** (labels − predictions)², weighted and reduced. @example losses.meanSquaredError(targets, predictions) */
function meanSquaredError(
  labels: TensorLike,
  predictions: Tensor,
  weights?: TensorLike | null,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  const y = asDTypeOf(labels, predictions);
  checkSameShape('meanSquaredError', 'predictions', y, predictions);
  return predictions.graph.nameScope('meanSquaredError', () =>
    computeWeightedLoss(square(sub(y, predictions)), weights, reduction),
  );
}

/** |labels − predictions|, weighted and reduced. @example losses.absoluteDifference(targets, predictions) */
function absoluteDifference(
  labels: TensorLike,
  predictions: Tensor,
  weights?: TensorLike | null,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  const y = asDTypeOf(labels, predictions);
  checkSameShape('absoluteDifference', 'predictions', y, predictions);
  return predictions.graph.nameScope('absoluteDifference', () =>
    computeWeightedLoss(abs(sub(y, predictions)), weights, reduction),
  );
}

/**
 * Huber loss: ½e² for |e| ≤ delta, delta·(|e| − ½delta) beyond, with e = predictions − labels; weighted and
 * reduced. @example losses.huberLoss(targets, predictions, undefined, 0.5)
 */
function huberLoss(
  labels: TensorLike,
  predictions: Tensor,
  weights?: TensorLike | null,
  delta = 1.0,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): Tensor {
  const y = asDTypeOf(labels, predictions);
  checkSameShape('huberLoss', 'predictions', y, predictions);
  return predictions.graph.nameScope('huberLoss', () => {
    const error = abs(sub(predictions, y));
    // min(error, delta); at error = delta the gradient goes to error, as tfjs's minimum does.
    const quadratic = where(greater(error, delta), delta, error);
    const linear = sub(error, quadratic);
    return computeWeightedLoss(add(mul(square(quadratic), 0.5), mul(linear, delta)), weights, reduction);
  });
}

/** The tf.losses namespace: TensorFlow.js names and positional arguments. */
export const losses = {
  computeWeightedLoss,
  softmaxCrossEntropy,
  sigmoidCrossEntropy,
  meanSquaredError,
  absoluteDifference,
  huberLoss,
};
