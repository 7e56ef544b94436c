/**
 * Rows of the two primitive cross-entropies with logits (ops/nn.ts). Their first input is the labels: soft labels
 * that sum to 1 along the class axis for the softmax one, probabilities for the sigmoid one. The tf.losses
 * composites, the ±1000 logits, masked classes and the errors are bespoke tests in reduce-nn/losses.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Build, TfBuild, arrayOf } from '../harness';
import { Rng, randomArray, sizeOf } from '../util';
import { Case, OpRow } from './table';

/** Rows of soft labels that sum to 1 along `axis`. */
export function softLabels(
  rng: Rng,
  shape: readonly number[],
  axis = -1,
  dtype: 'float32' | 'float64' = 'float32',
): lg.NDArray {
  const raw = randomArray(rng, shape, 'float64', { lo: 0, hi: 3 });
  const a = ((axis % shape.length) + shape.length) % shape.length;
  const inner = sizeOf(shape.slice(a + 1));
  const n = shape[a];
  const out = new Float64Array(raw.size);
  for (let o = 0; o < raw.size / (n * inner); o++) {
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += raw.data[o * n * inner + j * inner + i];
      for (let j = 0; j < n; j++) out[o * n * inner + j * inner + i] = raw.data[o * n * inner + j * inner + i] / s;
    }
  }
  return new lg.NDArray(dtype === 'float32' ? Float32Array.from(out) : out, [...shape], dtype);
}

/** One-hot rows along the last axis. */
export function oneHotLabels(rng: Rng, rows: number, classes: number, dtype: 'float32' | 'float64' = 'float32') {
  const values = new Array<number>(rows * classes).fill(0);
  for (let r = 0; r < rows; r++) values[r * classes + rng.int(0, classes - 1)] = 1;
  return arrayOf(values, [rows, classes], dtype);
}

/** tfjs has the softmax cross-entropy only as a loss with a reduction: the twin writes it out. */
export const tfSoftmaxCE = (labels: tf.Tensor, logits: tf.Tensor, axis: number): tf.Tensor =>
  tf.neg(tf.sum(tf.mul(labels, tf.sub(logits, tf.logSumExp(logits, axis, true))), axis));
export const tfSigmoidCE = (y: tf.Tensor, x: tf.Tensor): tf.Tensor =>
  tf.losses.sigmoidCrossEntropy(y, x, undefined, 0, tf.Reduction.NONE);

const SOFTMAX_CASES: [number[], number][] = [
  [[5], 0],
  [[4, 5], -1],
  [[2, 3, 4], -1],
  [[2, 3, 4], 1],
  [[2, 3, 2, 3], 0],
];

/** Soft labels (float64 values, rounded to float32 where the check is float32) and logits in `logits`. */
function softmaxCase(i: number, shape: number[], axis: number, lo: number, dtype: 'float32' | 'float64'): Case {
  return {
    label: `shape [${shape.join(', ')}], axis ${axis}`,
    inputs: [
      { shape, values: Array.from(softLabels(new Rng(10 + i), shape, axis, dtype).data) },
      { shape, options: { lo: -lo, hi: lo } },
    ],
    build: (y, x) => lg.softmaxCrossEntropyWithLogits(y, x, axis),
    tfjs: (y, x) => tfSoftmaxCE(y, x, axis),
  };
}

/** The same case on the one-kernel primitive (what the stabilize pass writes), built directly. */
function fusedCase(i: number, shape: number[], axis: number, lo: number, dtype: 'float32' | 'float64'): Case {
  const normalized = axis < 0 ? axis + shape.length : axis;
  return {
    ...softmaxCase(i, shape, axis, lo, dtype),
    build: (y, x) => lg.apply(lg.SOFTMAX_CROSS_ENTROPY, [y, x], { axis: normalized }),
  };
}

const sigmoidInputs = (shape: number[], logits: number): Case['inputs'] => [
  { shape, options: { lo: 0, hi: 1 } },
  { shape, options: { lo: -logits, hi: logits } },
];

export const LOSS_ROWS: readonly OpRow[] = [
  // softmaxCrossEntropyWithLogits() builds logSoftmax + softmaxCrossEntropyFromLogSoftmax (the gradient reads the
  // forward's log-softmax); the one-kernel primitive the stabilize pass writes has its own row below.
  {
    op: 'softmaxCrossEntropyFromLogSoftmax',
    build: (y, x) => lg.softmaxCrossEntropyWithLogits(y, x),
    tfjs: (y, x) => tf.losses.softmaxCrossEntropy(y, x, undefined, 0, tf.Reduction.NONE),
    forwardLevels: [true, false],
    forward: [
      ...SOFTMAX_CASES.map(([shape, axis], i) => softmaxCase(i, shape, axis, 4, 'float32')),
      {
        label: 'one-hot labels, as tf.losses.softmaxCrossEntropy with no reduction',
        inputs: [{ shape: [6, 4], values: Array.from(oneHotLabels(new Rng(20), 6, 4).data) }, { shape: [6, 4] }],
      },
    ],
    gradFd: SOFTMAX_CASES.map(([shape, axis], i) => softmaxCase(i, shape, axis, 3, 'float64')),
    gradTfjs: SOFTMAX_CASES.map(([shape, axis], i) => softmaxCase(i, shape, axis, 4, 'float32')),
    secondOrder: SOFTMAX_CASES.slice(1).map(([shape, axis], i) => softmaxCase(i + 1, shape, axis, 3, 'float64')),
  },
  {
    op: 'softmaxCrossEntropyWithLogits',
    build: (y, x) => lg.apply(lg.SOFTMAX_CROSS_ENTROPY, [y, x], { axis: 1 }),
    tfjs: (y, x) => tf.losses.softmaxCrossEntropy(y, x, undefined, 0, tf.Reduction.NONE),
    forwardLevels: [true, false],
    forward: [
      ...SOFTMAX_CASES.map(([shape, axis], i) => fusedCase(i, shape, axis, 4, 'float32')),
      {
        label: 'one-hot labels, as tf.losses.softmaxCrossEntropy with no reduction',
        inputs: [{ shape: [6, 4], values: Array.from(oneHotLabels(new Rng(20), 6, 4).data) }, { shape: [6, 4] }],
      },
    ],
    gradFd: SOFTMAX_CASES.map(([shape, axis], i) => fusedCase(i, shape, axis, 3, 'float64')),
    gradTfjs: SOFTMAX_CASES.map(([shape, axis], i) => fusedCase(i, shape, axis, 4, 'float32')),
    secondOrder: SOFTMAX_CASES.slice(1).map(([shape, axis], i) => fusedCase(i + 1, shape, axis, 3, 'float64')),
  },
  {
    op: 'sigmoidCrossEntropyWithLogits',
    build: lg.sigmoidCrossEntropyWithLogits as Build,
    tfjs: tfSigmoidCE as TfBuild,
    forwardLevels: [true, false],
    forward: [
      ...[[6], [3, 4], [2, 3, 4], [2, 2, 3, 2]].map((shape) => ({
        label: `shape [${shape.join(', ')}]`,
        inputs: sigmoidInputs(shape, 6),
      })),
      {
        label: 'broadcasts labels against logits',
        inputs: [
          { shape: [4], options: { lo: 0, hi: 1 } },
          { shape: [3, 4], options: { lo: -6, hi: 6 } },
        ],
        tfjs: (y, x) => tfSigmoidCE(tf.broadcastTo(y, [3, 4]), x),
      },
    ],
    gradFd: [{ label: 'labels and logits', inputs: sigmoidInputs([3, 4], 5) }],
    gradTfjs: [
      {
        label: 'labels and logits',
        inputs: [
          { shape: [2, 3, 4], options: { lo: 0, hi: 1 } },
          { shape: [2, 3, 4], options: { lo: -5, hi: 5, awayFromZero: 0.05 } },
        ],
      },
    ],
    secondOrder: [{ label: 'labels and logits', inputs: sigmoidInputs([3, 4], 5) }],
  },
];
