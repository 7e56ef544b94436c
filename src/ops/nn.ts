import { formatShape, ShapeError, Tensor } from '../graph';
import { exp, mul, sub } from './elementwise';
import { logSoftmax as logSoftmaxKernel, softmax as softmaxKernel } from './kernels';
import { apply, OpRecord, requireFloat, TensorInfo } from './record';
import { sum } from './reduce';

function axisInfer([x]: readonly TensorInfo[], attrs: { readonly [key: string]: unknown }): TensorInfo {
  requireFloat(x);
  const axis = attrs.axis as number;
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new ShapeError(`axis ${axis} is out of range for ${formatShape(x.shape)}; it needs rank >= 1`);
  }
  return x;
}

/** softmax along one axis, computed stably (the max is subtracted first). */
export const SOFTMAX: OpRecord = {
  name: 'softmax',
  arity: 1,
  infer: axisInfer,
  kernel: ([x], out, attrs) => softmaxKernel(x, attrs.axis as number, out),
  // dx = y · (dy − Σ dy·y), the sum along the softmax axis
  vjp: ({ output: y, dy, attrs }) => [mul(y, sub(dy, sum(mul(dy, y), attrs.axis as number, true)))],
};

/** log(softmax(x)) along one axis, computed as x − max − log Σ exp(x − max). */
export const LOG_SOFTMAX: OpRecord = {
  name: 'logSoftmax',
  arity: 1,
  infer: axisInfer,
  kernel: ([x], out, attrs) => logSoftmaxKernel(x, attrs.axis as number, out),
  // dx = dy − softmax(x) · Σ dy
  vjp: ({ output: y, dy, attrs }) => [sub(dy, mul(exp(y), sum(dy, attrs.axis as number, true)))],
};

export const NN_OPS: readonly OpRecord[] = [SOFTMAX, LOG_SOFTMAX];

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
