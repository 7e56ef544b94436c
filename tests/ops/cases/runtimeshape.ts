/**
 * Rows of the run-time shape family (ops/runtimeshape.ts): reshapeDims, whose target dims may be dims of its inputs
 * times a factor. Here the shapes are known, so its twin is tf.reshape to the same numbers; the run-time case (dims
 * unknown when the graph is built, ONNX export and import) is tests/interop/onnx-runtime-shapes.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Case, OpRow } from './table';

type Spec = (x: lg.Tensor) => lg.DimSpec[];

/** [label, input shape, the target as dims of x, the same target as numbers]. */
const TARGETS: readonly (readonly [string, readonly number[], Spec, readonly number[]])[] = [
  [
    '[2, 3, 4] to [x.0, x.1 · 4]',
    [2, 3, 4],
    (x) => [
      { of: x, axis: 0 },
      { of: x, axis: 1, factor: 4 },
    ],
    [2, 12],
  ],
  ['[2, 3, 4] to [x.2, -1, 1]', [2, 3, 4], (x) => [{ of: x, axis: 2 }, -1, 1], [4, 6, 1]],
  ['[6, 2] to [3, x.1, 2] (literals only)', [6, 2], () => [3, 2, 2], [3, 2, 2]],
  [
    '[4, 1, 3] to [x.0 · 3, x.1]',
    [4, 1, 3],
    (x) => [
      { of: x, axis: 0, factor: 3 },
      { of: x, axis: 1 },
    ],
    [12, 1],
  ],
];

function cases(square: boolean): Case[] {
  return TARGETS.map(([label, shape, spec, numbers]) => ({
    label,
    inputs: [{ shape, options: { lo: -2, hi: 2 } }],
    build: (x: lg.Tensor) => (square ? lg.square(lg.reshapeDims(x, spec(x))) : lg.reshapeDims(x, spec(x))),
    tfjs: (x: tf.Tensor) => tf.reshape(x, [...numbers]),
  }));
}

export const RUNTIME_SHAPE_ROWS: readonly OpRow[] = [
  {
    op: 'reshapeDims',
    build: (x) => lg.reshapeDims(x, [{ of: x, axis: 0 }, -1]),
    tfjs: (x) => tf.reshape(x, [x.shape[0], -1]),
    forward: cases(false),
    gradFd: cases(false),
    gradTfjs: cases(false),
    // Linear: squared, the second derivative runs the gradient (reshapeLike) through again.
    secondOrder: cases(true),
  },
];
