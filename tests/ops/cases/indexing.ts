/**
 * Rows of the indexing ops (ops/indexing.ts): forward values against tfjs on float32 inputs to 1e-6, over ranks
 * 1–4, size-0 dims and negative axes. Their gradients, checked with unknown dims and indices held constant, and
 * the cases tfjs gets wrong (checked against NumPy's values) are bespoke tests in indexing/.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Build, TfBuild } from '../harness';
import { Case, OpRow } from './table';

type Shape = number[];

/** One float operand per shape, with the attribute variant `build` / `tfjs`. */
function over(label: string, shapes: readonly Shape[], build: Build, tfjs: TfBuild): Case {
  return { label, inputs: shapes.map((shape) => ({ shape })), build, tfjs };
}

function row(op: string, forward: Case[], gradients: Pick<OpRow, 'gradFd' | 'gradTfjs'> = {}): OpRow {
  return { op, build: forward[0].build as Build, tfjs: forward[0].tfjs, forward, tol: { forward: 1e-6 }, ...gradients };
}

/** A gradient case over float operands of `shapes`, built by `build` (and `tfjs`, for the tf.grads check). */
function grad(label: string, shapes: readonly Shape[], build: Build, tfjs?: TfBuild): Case {
  return { label, inputs: shapes.map((shape) => ({ shape })), build, tfjs };
}

const FLAGS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

// [name, shape, begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask]
type Strided = [string, Shape, Shape, Shape, Shape | undefined, number, number, number, number, number];
const STRIDED: Strided[] = [
  ['a plain slice', [5, 4], [1, 0], [4, 3], undefined, 0, 0, 0, 0, 0],
  ['step 2 on both dims', [6, 5], [0, 1], [6, 5], [2, 2], 0, 0, 0, 0, 0],
  ['negative strides reverse', [5, 4], [-1, 3], [0, -5], [-1, -2], 0, 0, 0, 0, 0],
  ['negative stride with masks (full reverse)', [5], [0], [0], [-1], 1, 1, 0, 0, 0],
  ['negative indices count from the end', [6, 3], [-4, -2], [-1, 3], [1, 1], 0, 0, 0, 0, 0],
  ['out-of-range bounds clamp', [4, 3], [-10, 1], [10, 100], [1, 1], 0, 0, 0, 0, 0],
  ['begin and end masks', [5, 4], [3, 2], [1, 1], [1, 1], 1, 2, 0, 0, 0],
  ['shrink the first dim', [3, 4], [1, 0], [2, 4], [1, 1], 0, 0, 0, 0, 1],
  ['shrink with a negative index', [3, 4], [0, -1], [0, 0], [1, 1], 1, 1, 0, 0, 2],
  ['a new axis in front', [3, 4], [0, 0, 1], [0, 3, 3], [1, 1, 1], 0, 0, 0, 1, 0],
  ['ellipsis then the last dim', [2, 3, 4], [0, 1], [0, 3], [1, 1], 0, 0, 1, 0, 0],
  ['fewer entries than dims', [4, 3, 2], [1], [3], [1], 0, 0, 0, 0, 0],
]; // prettier-ignore

// [name, shape, indices, indicesShape, axis, batchDims]
const GATHERS: [string, Shape, number[], Shape, number, number][] = [
  ['from a vector', [5], [4, 0, 2, 2], [4], 0, 0],
  ['rows of a matrix', [4, 3], [3, 1], [2], 0, 0],
  ['columns of a matrix (axis -1)', [2, 4], [0, 3, 3], [3], -1, 0],
  ['with 2-D indices on rank 3', [2, 5, 3], [4, 0, 1, 1, 2, 3], [2, 3], 1, 0],
  ['on rank 4 along axis 2', [2, 2, 4, 3], [3, 0], [2], 2, 0],
  ['with a batch dim', [2, 4, 3], [3, 0, 1, 1, 2, 0], [2, 3], 1, 1],
  ['with a scalar index', [3, 4], [2], [], 1, 0],
  ['with no indices', [3, 4], [], [0], 0, 0],
];

const PADS: [string, Shape, [number, number][], number][] = [
  ['a vector', [4], [[1, 2]], 0],
  ['a matrix with a constant', [2, 3], [[1, 0], [2, 1]], -1.5],
  ['rank 3', [2, 2, 3], [[0, 1], [1, 1], [2, 0]], 3],
  ['rank 4', [1, 2, 2, 2], [[1, 1], [0, 0], [1, 2], [0, 1]], 0],
  ['a size-0 dim', [0, 2], [[1, 1], [0, 1]], 7],
]; // prettier-ignore

const ROWS: readonly OpRow[] = [
  row(
    'concat',
    ([
        ['two vectors', [[3], [2]], 0],
        ['matrices along axis 1', [[2, 3], [2, 4]], 1],
        ['matrices along axis -1', [[2, 3], [2, 1]], -1],
        ['rank 3 with a size-0 piece', [[2, 3, 4], [2, 0, 4], [2, 1, 4]], 1],
        ['rank 4 along axis 0, three inputs', [[1, 2, 2, 3], [2, 2, 2, 3], [1, 2, 2, 3]], 0],
        ['rank 4 along the last axis', [[2, 1, 2, 3], [2, 1, 2, 1]], 3],
        ['pieces with a size-0 outer dim', [[0, 2], [0, 3]], 1],
      ] as [string, Shape[], number][]) // prettier-ignore
      .map(([label, shapes, axis]) =>
        over(
          label,
          shapes,
          (...xs) => lg.concat(xs, axis),
          (...xs) => tf.concat(xs, axis),
        ),
      ),
    {
      gradFd: [
        grad(
          'two matrices along axis 1',
          [
            [2, 3],
            [2, 2],
          ],
          (a, b) => lg.concat([a, b], 1),
        ),
        grad(
          'three rank-3 tensors along axis -1 (one of size 0)',
          [
            [2, 1, 2],
            [2, 1, 0],
            [2, 1, 3],
          ],
          (a, b, c) => lg.concat([a, b, c], -1),
        ),
        grad('with a tensor used twice', [[2, 2]], (a) => lg.concat([a, lg.mul(a, a), a], 0)),
      ],
      gradTfjs: [
        grad(
          'rank 4',
          [
            [2, 1, 2, 3],
            [2, 2, 2, 3],
          ],
          (a, b) => lg.concat([a, b], 1),
          (a, b) => tf.concat([a, b], 1),
        ),
      ],
    },
  ),
  row(
    'stack',
    (
      [
        ['scalars into a vector', [], 3, 0],
        ['vectors along axis 0', [4], 3, 0],
        ['vectors along axis 1', [4], 2, 1],
        ['matrices along axis -1', [2, 3], 3, -1],
        ['rank 3 along axis 2', [2, 3, 2], 2, 2],
        ['size-0 tensors', [0, 3], 2, 1],
      ] as [string, Shape, number, number][]
    ).map(([label, shape, n, axis]) =>
      over(
        label,
        Array.from({ length: n }, () => shape),
        (...xs) => lg.stack(xs, axis),
        (...xs) => tf.stack(xs, axis),
      ),
    ),
    {
      gradFd: [
        grad(
          'three matrices along axis 1',
          [
            [2, 3],
            [2, 3],
            [2, 3],
          ],
          (a, b, c) => lg.stack([a, b, c], 1),
        ),
        grad('scalars', [[], []], (a, b) => lg.stack([a, b])),
      ],
      gradTfjs: [
        grad(
          'rank 3 along the last axis',
          [
            [2, 3, 2],
            [2, 3, 2],
          ],
          (a, b) => lg.stack([a, b], -1),
          (a, b) => tf.stack([a, b], -1),
        ),
      ],
    },
  ),
  row(
    'slice',
    (
      [
        ['a box of a matrix', [4, 5], [1, 2], [2, -1]],
        ['a number begin and size on a vector', [6], 2, 3],
        ['missing trailing dims taken whole', [3, 4, 2], [1], [2]],
        ['rank 3, to the end', [3, 4, 2], [1, 0, 1], [-1, 2, -1]],
        ['rank 4', [2, 3, 4, 2], [1, 1, 0, 1], [1, 2, 3, 1]],
        ['an empty slice', [4, 3], [2, 1], [0, 2]],
        ['everything when size is omitted', [2, 3], [0, 0], undefined],
      ] as [string, Shape, number | number[], number | number[] | undefined][]
    ).map(([label, shape, begin, size]) =>
      over(
        label,
        [shape],
        (x) => lg.slice(x, begin, size),
        (x) => tf.slice(x, begin, size),
      ),
    ),
    {
      gradFd: [grad('rank 3', [[3, 4, 2]], (x) => lg.slice(x, [1, 1, 0], [2, -1, 1]))],
      gradTfjs: [
        grad(
          'rank 4',
          [[2, 3, 4, 2]],
          (x) => lg.slice(x, [1, 0, 1, 0], [1, 2, 3, -1]),
          (x) => tf.slice(x, [1, 0, 1, 0], [1, 2, 3, -1]),
        ),
      ],
    },
  ),
  row(
    'stridedSlice',
    STRIDED.map(([label, shape, begin, end, strides, bm, em, elm, nam, sam]) =>
      over(
        label,
        [shape],
        (x) => lg.stridedSlice(x, begin, end, strides, bm, em, elm, nam, sam),
        (x) => tf.stridedSlice(x, begin, end, strides, bm, em, elm, nam, sam),
      ),
    ),
    {
      // tfjs has no gradient for stridedSlice.
      gradFd: [
        grad('negative strides', [[5, 4]], (x) => lg.stridedSlice(x, [-1, 3], [0, -5], [-2, -1])),
        grad('shrink, new axis and ellipsis', [[3, 4, 5]], (x) =>
          lg.stridedSlice(x, [1, 0, 0, 1], [2, 0, 0, 5], [1, 1, 1, 2], 0, 0, 2, 4, 1),
        ),
      ],
    },
  ),
  row(
    'gather',
    GATHERS.map(([label, shape, indices, indicesShape, axis, batchDims]) => ({
      label,
      inputs: [{ shape }, { shape: indicesShape, dtype: 'int32', values: indices }],
      build: (x, i) => lg.gather(x, i, axis, batchDims),
      tfjs: (x, i) => tf.gather(x, i, axis, batchDims),
    })),
    {
      gradFd: [
        grad('repeated indices accumulate', [[3, 2]], (x) => lg.gather(x, [2, 0, 2, 2])),
        grad('2-D indices along axis 1 of rank 3', [[2, 4, 2]], (x) =>
          lg.gather(
            x,
            [
              [3, 0],
              [1, 3],
            ],
            1,
          ),
        ),
        grad('with a batch dim', [[2, 3, 2]], (x) =>
          lg.gather(
            x,
            [
              [2, 2],
              [0, 1],
            ],
            1,
            1,
          ),
        ),
      ],
      gradTfjs: (
        [
          ['axis 1 with repeated indices', [3, 4, 2], [3, 0, 3, 1, 3], [5], 1, 0],
          ['2-D indices along axis 0', [5, 3], [4, 4, 0, 1, 2, 4], [2, 3], 0, 0],
          ['with a batch dim', [2, 4, 3], [3, 3, 0, 1, 2, 1], [2, 3], 1, 1],
        ] as [string, Shape, number[], Shape, number, number][]
      ).map(([label, shape, indices, indicesShape, axis, batchDims]) => ({
        label,
        inputs: [{ shape }, { shape: indicesShape, dtype: 'int32', values: indices }],
        build: (x, i) => lg.gather(x, i, axis, batchDims),
        tfjs: (x, i) => tf.gather(x, i, axis, batchDims),
      })),
    },
  ),
  row(
    'tile',
    (
      [
        ['a vector', [3], [3]],
        ['a matrix along rows', [2, 3], [2, 1]],
        ['a matrix along both dims', [2, 3], [2, 3]],
        ['rank 3', [1, 2, 3], [3, 1, 2]],
        ['rank 4', [2, 1, 2, 1], [1, 2, 2, 3]],
        ['zero repetitions', [2, 3], [0, 2]],
        ['a size-0 dim', [0, 2], [3, 2]],
      ] as [string, Shape, number[]][]
    ).map(([label, shape, reps]) =>
      over(
        label,
        [shape],
        (x) => lg.tile(x, reps),
        (x) => tf.tile(x, reps),
      ),
    ),
    {
      gradFd: [grad('both dims of a matrix', [[2, 3]], (x) => lg.tile(x, [2, 3]))],
      gradTfjs: [
        grad(
          'rank 3',
          [[1, 2, 3]],
          (x) => lg.tile(x, [2, 1, 2]),
          (x) => tf.tile(x, [2, 1, 2]),
        ),
      ],
    },
  ),
  row(
    'pad',
    PADS.map(([label, shape, paddings, value]) =>
      over(
        label,
        [shape],
        (x) => lg.pad(x, paddings, value),
        (x) => tf.pad(x, paddings, value),
      ),
    ),
    {
      gradFd: [
        grad('a matrix', [[2, 3]], (x) =>
          lg.pad(
            x,
            [
              [1, 2],
              [0, 1],
            ],
            3,
          ),
        ),
      ],
      gradTfjs: [
        grad(
          'rank 4',
          [[2, 1, 2, 3]],
          (x) =>
            lg.pad(
              x,
              [
                [0, 1],
                [1, 1],
                [2, 0],
                [0, 0],
              ],
              -1,
            ),
          (x) =>
            tf.pad(
              x,
              [
                [0, 1],
                [1, 1],
                [2, 0],
                [0, 0],
              ],
              -1,
            ),
        ),
      ],
    },
  ),
  row(
    'reverse',
    (
      [
        ['a vector', [5], undefined],
        ['all axes of a matrix', [2, 3], undefined],
        ['one axis', [2, 3], 1],
        ['a negative axis', [2, 3, 4], -2],
        ['two axes of rank 4', [2, 3, 2, 2], [0, 3]],
        ['a size-0 dim', [0, 3], [0, 1]],
      ] as [string, Shape, number | number[] | undefined][]
    ).map(([label, shape, axis]) =>
      over(
        label,
        [shape],
        (x) => lg.reverse(x, axis),
        (x) => tf.reverse(x, axis),
      ),
    ),
    {
      gradFd: [grad('two axes of rank 3', [[2, 3, 2]], (x) => lg.reverse(x, [0, -1]))],
      gradTfjs: [
        grad(
          'all axes',
          [[3, 2, 2]],
          (x) => lg.reverse(x),
          (x) => tf.reverse(x),
        ),
      ],
    },
  ),
  row(
    'oneHot',
    (
      [
        ['a vector of labels', [0, 2, 1, 2], [4], 3, 1, 0],
        ['a matrix of labels', [0, 4, 3, 1, 1, 2], [2, 3], 5, 1, 0],
        ['labels out of range give rows of offValue', [-1, 3, 7], [3], 4, 1, 0],
        ['custom on and off values', [1, 0], [2], 2, 0.9, 0.05],
      ] as [string, number[], Shape, number, number, number][]
    ).map(([label, labels, shape, depth, on, off]) => ({
      label,
      inputs: [{ shape, dtype: 'int32', values: labels }],
      build: (i) => lg.oneHot(i, depth, on, off),
      tfjs: (i) => tf.oneHot(i as tf.Tensor1D, depth, on, off, 'float32'),
    })),
  ),
  row(
    'cumsum',
    (
      [
        ['a vector', [6], 0, false, false],
        ['exclusive', [6], 0, true, false],
        ['reversed', [6], 0, false, true],
        ['exclusive and reversed', [6], 0, true, true],
        ['a matrix along axis 1', [3, 4], 1, false, false],
        ['rank 3 along axis 1, reversed', [2, 3, 4], 1, false, true],
        ['rank 4 along axis 0, exclusive', [3, 2, 2, 2], 0, true, false],
        ['a size-0 dim', [0, 3], 1, false, false],
      ] as [string, Shape, number, boolean, boolean][]
    ).map(([label, shape, axis, exclusive, reversed]) =>
      over(
        label,
        [shape],
        (x) => lg.cumsum(x, axis, exclusive, reversed),
        (x) => tf.cumsum(x, axis, exclusive, reversed),
      ),
    ),
    {
      gradFd: FLAGS.map(([exclusive, reversed]) =>
        grad(`exclusive ${exclusive}, reverse ${reversed}`, [[3, 4]], (x) => lg.cumsum(x, 1, exclusive, reversed)),
      ),
      // tfjs 4.22's cumsum gradient has the wrong shape for any axis but the last, so it is compared on the last one.
      gradTfjs: FLAGS.map(([exclusive, reversed]) =>
        grad(
          `exclusive ${exclusive}, reverse ${reversed} on rank 3`,
          [[2, 3, 4]],
          (x) => lg.cumsum(x, 2, exclusive, reversed),
          (x) => tf.cumsum(x, 2, exclusive, reversed),
        ),
      ),
    },
  ),
];

/** Second derivatives: each op composed with a nonlinearity, so its gradient is differentiated again. */
const SECOND_ORDER: { readonly [op: string]: Case[] } = {
  gather: [
    grad('then square, with repeated indices', [[4, 3]], (x) => lg.square(lg.gather(x, [3, 0, 3, 1], 0))),
    grad('with a batch dim then square', [[2, 3, 2]], (x) =>
      lg.square(
        lg.gather(
          x,
          [
            [2, 2],
            [0, 1],
          ],
          1,
          1,
        ),
      ),
    ),
  ],
  slice: [grad('then exp', [[3, 4]], (x) => lg.exp(lg.slice(x, [1, 1], [2, -1])))],
  stridedSlice: [
    grad('with negative strides and a shrink then square', [[3, 5]], (x) =>
      lg.square(lg.stridedSlice(x, [1, -1], [2, 0], [1, -2], 0, 0, 0, 0, 1)),
    ),
  ],
  concat: [
    grad(
      'then square',
      [
        [2, 2],
        [2, 3],
      ],
      (a, b) => lg.square(lg.concat([a, b], 1)),
    ),
  ],
  stack: [grad('then tanh', [[3], [3]], (a, b) => lg.tanh(lg.stack([a, b], 1)))],
  tile: [grad('then square', [[2, 2]], (x) => lg.square(lg.tile(x, [2, 3])))],
  pad: [
    grad('then sin', [[2, 3]], (x) =>
      lg.sin(
        lg.pad(
          x,
          [
            [1, 0],
            [2, 1],
          ],
          0.5,
        ),
      ),
    ),
  ],
  reverse: [grad('then square', [[2, 3]], (x) => lg.square(lg.reverse(x, 1)))],
  cumsum: [grad('then square', [[2, 4]], (x) => lg.square(lg.cumsum(x, 1, true, true)))],
};

export const INDEXING_ROWS: readonly OpRow[] = ROWS.map((row) => ({ ...row, secondOrder: SECOND_ORDER[row.op] }));
