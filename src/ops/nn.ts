import { broadcastStatic, Dim, formatShape, ShapeError, Tensor } from '../graph';
import { exp, mul, neg, sigmoid, sub } from './elementwise';
import {
  binary,
  crossEntropyFromLogSoftmax as crossEntropyFromLogSoftmaxKernel,
  logSoftmax as logSoftmaxKernel,
  softmax as softmaxKernel,
  softmaxCrossEntropy as softmaxCrossEntropyKernel,
} from './kernels';
import { expandDims } from './movement';
import { apply, defineOp, OpRecord, requireFloat, requireSameDType, TensorInfo, TensorLike } from './record';
import { sum } from './reduce';

function axisInfer([x]: readonly TensorInfo[], { axis }: { readonly axis: number }): TensorInfo {
  requireFloat(x);
  if (axis < 0 || axis >= x.shape.length) {
    throw new ShapeError(`axis ${axis} is out of range for ${formatShape(x.shape)}; it needs rank >= 1`);
  }
  return x;
}

/** softmax along one axis, computed stably (the max is subtracted first). */
export const SOFTMAX = defineOp({
  name: 'softmax',
  arity: 1,
  attrs: { axis: 'int' },
  infer: axisInfer,
  kernel: ([x], out, attrs) => softmaxKernel(x, attrs.axis, out),
  // dx = y · (dy − Σ dy·y), the sum along the softmax axis
  vjp: ({ output: y, dy, attrs }) => [mul(y, sub(dy, sum(mul(dy, y), attrs.axis, true)))],
});

/** log(softmax(x)) along one axis, computed as x − max − log Σ exp(x − max). */
export const LOG_SOFTMAX = defineOp({
  name: 'logSoftmax',
  arity: 1,
  attrs: { axis: 'int' },
  infer: axisInfer,
  kernel: ([x], out, attrs) => logSoftmaxKernel(x, attrs.axis, out),
  // dx = dy − softmax(x) · Σ dy
  vjp: ({ output: y, dy, attrs }) => [sub(dy, mul(exp(y), sum(dy, attrs.axis, true)))],
});

/** The loss's dtype and shape: labels and logits alike, `axis` dropped. */
function crossEntropyInfer([labels, logits]: readonly TensorInfo[], { axis }: { readonly axis: number }): TensorInfo {
  const dtype = requireSameDType([labels, logits]);
  requireFloat(logits);
  const shape: Dim[] = logits.shape.map((d, i) => d ?? labels.shape[i] ?? null);
  if (
    labels.shape.length !== logits.shape.length ||
    labels.shape.some((d, i) => d !== null && logits.shape[i] !== null && d !== logits.shape[i])
  ) {
    throw new ShapeError(
      `labels ${formatShape(labels.shape)} and logits ${formatShape(logits.shape)} must have the same shape`,
    );
  }
  if (axis < 0 || axis >= shape.length) {
    throw new ShapeError(`axis ${axis} is out of range for ${formatShape(logits.shape)}; it needs rank >= 1`);
  }
  return { dtype, shape: shape.filter((_, i) => i !== axis) };
}

/**
 * softmaxCrossEntropyWithLogits(labels, logits): −Σ labels · logSoftmax(logits) along `axis`, fused so that it is
 * stable at any logit size. Gradients (as TensorFlow): logits (softmax − labels)·dy, labels −logSoftmax·dy. The
 * builder of the same name makes the two-node form below instead (whose gradient reads the forward's log-softmax);
 * this one-kernel primitive is what the stabilize pass writes for a written-out −Σ labels·logSoftmax(x), after any
 * gradients were built, and what graphs saved before the two-node form hold (their gradient recomputes softmax).
 */
export const SOFTMAX_CROSS_ENTROPY = defineOp({
  name: 'softmaxCrossEntropyWithLogits',
  arity: 2,
  attrs: { axis: 'int' },
  infer: crossEntropyInfer,
  kernel: ([labels, logits], out, attrs) => softmaxCrossEntropyKernel(labels, logits, attrs.axis, out),
  vjp: ({ inputs: [labels, logits], dy, attrs, needs }) => {
    const { axis } = attrs;
    const dyKept = expandDims(dy, axis);
    return [
      needs[0] ? mul(dyKept, neg(logSoftmax(logits, axis))) : null,
      needs[1] ? mul(dyKept, sub(softmax(logits, axis), labels)) : null,
    ];
  },
});

/**
 * The softmax cross-entropy of `logits` read from their log-softmax `ls` (an input, = logSoftmax(logits, axis)):
 * −Σ labels · ls along `axis`, one pass with no reduction over exp. softmaxCrossEntropyWithLogits builds the pair
 * (logSoftmax node, this node) so that the logits gradient (exp(ls) − labels)·dy, as TensorFlow's, reads the
 * forward's ls: one elementwise pass, no second max/sum-exp over the logits. `logits` is an input for the gradient
 * only (the kernel does not read it), and `ls` gets no gradient of its own: the logits gradient above is the whole
 * derivative through ls too, and derivatives of the gradient (Hessian-vector products) flow through the ls node.
 */
export const SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX = defineOp({
  name: 'softmaxCrossEntropyFromLogSoftmax',
  arity: 3,
  attrs: { axis: 'int' },
  infer([labels, logits, ls], attrs) {
    const out = crossEntropyInfer([labels, logits], attrs);
    if (ls.dtype !== logits.dtype || ls.shape.length !== logits.shape.length) {
      throw new ShapeError(
        `the log-softmax ${ls.dtype}${formatShape(ls.shape)} must have the logits' dtype and shape ` +
          `(${logits.dtype}${formatShape(logits.shape)})`,
      );
    }
    return out;
  },
  kernel: ([labels, , ls], out, attrs) => crossEntropyFromLogSoftmaxKernel(labels, ls, attrs.axis, out),
  vjp: ({ inputs: [labels, , ls], dy, attrs, needs }) => {
    const dyKept = expandDims(dy, attrs.axis);
    return [needs[0] ? mul(dyKept, neg(ls)) : null, needs[1] ? mul(dyKept, sub(exp(ls), labels)) : null, null];
  },
});

/** max(x, 0) − x·z + log(1 + e^−|x|), with z the labels and x the logits: never overflows. */
function sigmoidCrossEntropyScalar(z: number, x: number): number {
  return (x > 0 ? x : 0) - x * z + Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * sigmoidCrossEntropyWithLogits(labels, logits), elementwise with broadcasting. Gradients: logits
 * (sigmoid(x) − z)·dy, labels −x·dy.
 */
export const SIGMOID_CROSS_ENTROPY: OpRecord = (() => {
  const kernel = binary(sigmoidCrossEntropyScalar);
  return {
    name: 'sigmoidCrossEntropyWithLogits',
    arity: 2,
    scalar: sigmoidCrossEntropyScalar,
    template: '(($1 > 0 ? $1 : 0) - $1 * $0 + Math.log1p(Math.exp(-Math.abs($1))))',
    inPlace: true,
    infer(inputs: readonly TensorInfo[]): TensorInfo {
      const dtype = requireSameDType(inputs);
      requireFloat(inputs[0]);
      const shape = broadcastStatic(inputs[0].shape, inputs[1].shape);
      if (shape === null) {
        throw new ShapeError(
          `labels ${formatShape(inputs[0].shape)} and logits ${formatShape(inputs[1].shape)} cannot broadcast`,
        );
      }
      return { dtype, shape };
    },
    kernel: ([labels, logits], out) => kernel(labels, logits, out),
    vjp: ({ inputs: [labels, logits], dy, needs }) => [
      needs[0] ? mul(dy, neg(logits)) : null,
      needs[1] ? mul(dy, sub(sigmoid(logits), labels)) : null,
    ],
  };
})();

export const NN_OPS: readonly OpRecord[] = [
  SOFTMAX,
  LOG_SOFTMAX,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX,
  SIGMOID_CROSS_ENTROPY,
];

function normalizeAxis(name: string, x: Tensor, axis: number): number {
  const resolved = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(axis) || resolved < 0 || resolved >= x.rank) {
    throw new ShapeError(
      `${name} '${x.graph.scopePrefix}${name}' (input '${x.name}' ${x.dtype}${formatShape(x.shape)}): ` +
        `axis ${axis} is out of range; valid axes are in [${-x.rank}, ${x.rank})`,
    );
  }
  return resolved;
}

/** Softmax along `dim` (the last by default). @example softmax(logits) */
export function softmax(logits: Tensor, dim = -1): Tensor {
  return apply(SOFTMAX, [logits], { axis: normalizeAxis('softmax', logits, dim) });
}

/** Log-softmax along `axis` (the last by default). @example logSoftmax(logits) */
export function logSoftmax(logits: Tensor, axis = -1): Tensor {
  return apply(LOG_SOFTMAX, [logits], { axis: normalizeAxis('logSoftmax', logits, axis) });
}

/**
 * −Σ labels · logSoftmax(logits) along `axis` (the last by default), fused and stable; the result drops `axis`.
 * As TensorFlow's tf.nn.softmax_cross_entropy_with_logits. @example softmaxCrossEntropyWithLogits(onehot, logits)
 */
export function softmaxCrossEntropyWithLogits(labels: TensorLike, logits: Tensor, axis = -1): Tensor {
  const attrs = { axis: normalizeAxis('softmaxCrossEntropyWithLogits', logits, axis) };
  // Two nodes, not the one fused primitive: the gradient reads the log-softmax instead of recomputing softmax.
  return apply(SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX, [labels, logits, apply(LOG_SOFTMAX, [logits], attrs)], attrs);
}

/**
 * Elementwise logistic loss of `logits` against `labels` in [0, 1], stable at any logit size. As TensorFlow's
 * tf.nn.sigmoid_cross_entropy_with_logits. @example sigmoidCrossEntropyWithLogits(targets, logits)
 */
export function sigmoidCrossEntropyWithLogits(labels: TensorLike, logits: Tensor): Tensor {
  return apply(SIGMOID_CROSS_ENTROPY, [labels, logits]);
}
