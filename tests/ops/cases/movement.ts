/**
 * Rows of the movement ops (ops/movement.ts) and of where and cast. Their gradients are linear, so a gradient
 * check over random values exercises every element; where's gradient under a constant condition, cast's dtypes
 * and the unknown-dim cases are bespoke tests in gradients-fd.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Build, TfBuild } from '../harness';
import { Case, OpRow } from './table';

type Shape = readonly number[];
const show = (s: Shape): string => JSON.stringify(s);

/** A case over one float operand of `shape` with the attribute variant `build` / `tfjs`. */
function one(label: string, shape: Shape, build: Build, tfjs?: TfBuild): Case {
  return { label, inputs: [{ shape }], build, tfjs };
}

const RESHAPES: number[][] = [[-1, 4], [6, -1], [-1], [2, -1, 2], [4, 3, 2]];
const BROADCASTS: [number[], number[]][] = [
  [[3], [2, 3]],
  [
    [2, 1],
    [2, 4],
  ],
  [[], [2, 2]],
  [
    [1, 3],
    [2, 2, 3],
  ],
];

export const MOVEMENT_ROWS: readonly OpRow[] = [
  {
    op: 'transpose',
    build: (x) => lg.transpose(x),
    tfjs: (x) => tf.transpose(x),
    forward: [
      one(
        'with a perm',
        [2, 3, 4],
        (x) => lg.transpose(x, [1, 2, 0]),
        (x) => tf.transpose(x, [1, 2, 0]),
      ),
      one(
        'with the default perm reverses the dims',
        [2, 3, 4],
        (x) => lg.transpose(x),
        (x) => tf.transpose(x),
      ),
      one(
        'of a rank-4 tensor larger than one tile',
        [3, 40, 2, 35],
        (x) => lg.transpose(x, [3, 0, 2, 1]),
        (x) => tf.transpose(x, [3, 0, 2, 1]),
      ),
    ],
    gradFd: [[1, 2, 0], [2, 0, 1], undefined].map((perm) =>
      one(`[2, 3, 4] with perm ${perm === undefined ? 'default' : show(perm)}`, [2, 3, 4], (x) =>
        lg.transpose(x, perm),
      ),
    ),
  },
  {
    op: 'reshape',
    build: (x) => lg.reshape(x, [-1]),
    tfjs: (x) => tf.reshape(x, [-1]),
    forward: [
      ...RESHAPES.map((shape) =>
        one(
          `[2, 3, 4] to ${show(shape)}`,
          [2, 3, 4],
          (x) => lg.reshape(x, shape),
          (x) => tf.reshape(x, shape),
        ),
      ),
      one(
        'of a scalar to [1, 1] and back',
        [],
        (x) => lg.reshape(lg.reshape(x, [1, -1]), []),
        (x) => tf.reshape(tf.reshape(x, [1, -1]), []),
      ),
    ],
    gradFd: [[-1, 4], [6, -1], [-1], [4, 3, 2]].map((shape) =>
      one(`[2, 3, 4] to ${show(shape)}`, [2, 3, 4], (x) => lg.reshape(x, shape)),
    ),
  },
  {
    op: 'broadcastTo',
    build: (x) => lg.broadcastTo(x, [2, 2]),
    tfjs: (x) => tf.broadcastTo(x, [2, 2]),
    forward: BROADCASTS.map(([from, to]) =>
      one(
        `${show(from)} -> ${show(to)}`,
        from,
        (x) => lg.broadcastTo(x, to),
        (x) => tf.broadcastTo(x, to),
      ),
    ),
    gradFd: BROADCASTS.map(([from, to]) =>
      one(`${show(from)} -> ${show(to)} sums the gradient back`, from, (x) => lg.broadcastTo(x, to)),
    ),
  },
  {
    op: 'expandDims',
    build: (x) => lg.expandDims(x, 0),
    tfjs: (x) => tf.expandDims(x, 0),
    forward: [0, 1, 2, -1, -3].map((axis) =>
      one(
        `at axis ${axis}`,
        [2, 3],
        (x) => lg.expandDims(x, axis),
        (x) => tf.expandDims(x, axis),
      ),
    ),
    gradFd: [0, 1, -1].map((axis) => one(`at axis ${axis}`, [2, 3], (x) => lg.expandDims(x, axis))),
  },
  {
    op: 'squeeze',
    build: (x) => lg.squeeze(x),
    tfjs: (x) => tf.squeeze(x),
    forward: [
      one(
        'without axes removes every size-1 dim',
        [1, 3, 1, 2],
        (x) => lg.squeeze(x),
        (x) => tf.squeeze(x),
      ),
      one(
        'with explicit and negative axes',
        [1, 3, 1, 2],
        (x) => lg.squeeze(x, [0, -2]),
        (x) => tf.squeeze(x, [0, 2]),
      ),
    ],
    gradFd: (
      [
        ['all size-1 dims', undefined],
        ['axis [0]', [0]],
        ['negative axis -2', -2],
      ] as [string, number | number[] | undefined][]
    ).map(([label, axis]) => one(`of [1, 3, 1, 2] over ${label}`, [1, 3, 1, 2], (x) => lg.squeeze(x, axis))),
  },
  {
    op: 'where',
    build: (c, a, b) => lg.where(c, a, b),
    tfjs: (c, a, b) => tf.where(c, a, b),
    forward: [
      { label: 'equal shapes', inputs: [{ shape: [2, 3], dtype: 'bool' }, { shape: [2, 3] }, { shape: [2, 3] }] },
      {
        label: 'broadcasts condition [2, 3], a [3] and b []',
        inputs: [{ shape: [2, 3], dtype: 'bool' }, { shape: [3] }, { shape: [] }],
      },
      one(
        'with a computed condition, as in a masked relu',
        [3, 4],
        (x) => lg.where(lg.greater(x, 0), x, lg.zerosLike(x)),
        (x) => tf.relu(x),
      ),
    ],
    gradFd: [
      {
        label: 'with a data-dependent condition (a hand-written relu)',
        inputs: [{ shape: [3, 4], options: { awayFromZero: 0.1 } }],
        build: (x) => lg.where(lg.greater(x, 0), x, lg.mul(x, 0.1)),
      },
    ],
  },
  {
    op: 'cast',
    build: (x) => lg.cast(x, 'int32'),
    tfjs: (x) => tf.cast(x, 'int32'),
    forward: [
      ...(['int32', 'bool'] as const).map((dtype) => ({
        label: `float32 -> ${dtype} (${dtype === 'int32' ? 'truncates toward zero' : 'is x != 0'})`,
        inputs: [{ shape: [2, 5], values: [-2.7, -1.5, -0.5, -0.0, 0, 0.5, 0.99, 1.5, 2.9, 1e6 + 0.75] }],
        build: (x: lg.Tensor) => lg.cast(x, dtype),
        tfjs: (x: tf.Tensor) => tf.cast(x, dtype),
      })),
      {
        label: 'int32 -> float32 and bool -> float32',
        inputs: [
          { shape: [3], dtype: 'int32', values: [-4, 0, 9] },
          { shape: [3], dtype: 'bool', values: [1, 0, 1] },
        ],
        build: (i, b) => lg.add(lg.cast(i, 'float32'), lg.cast(b, 'float32')),
        tfjs: (i, b) => tf.add(tf.cast(i, 'float32'), tf.cast(b, 'float32')),
      },
      {
        label: 'int32 -> bool',
        inputs: [{ shape: [4], dtype: 'int32', values: [-2, 0, 1, 0] }],
        build: (x) => lg.cast(x, 'bool'),
        tfjs: (x) => tf.cast(x, 'bool'),
      },
    ],
  },
];
