/**
 * Rows of matMul (ops/linalg.ts) and of softmax and logSoftmax (ops/nn.ts). tfjs's softmax takes only the last
 * axis, so the twin moves the axis last and back; tfjs's batched matMul mis-broadcasts batch dims of rank > 1 and
 * its gradient does not reduce a broadcast operand, so those twins broadcast explicitly first.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { RandomOptions } from '../util';
import { Build, TfBuild } from '../harness';
import { Case, OpRow } from './table';

type Shape = readonly number[];
const show = (s: Shape): string => `[${s.join(', ')}]`;

/** The four transpose combinations, each with the operand shapes that make them conform. */
const TRANSPOSES: [boolean, boolean, Shape, Shape][] = [
  [false, false, [3, 4], [4, 5]],
  [true, false, [4, 3], [4, 5]],
  [false, true, [3, 4], [5, 4]],
  [true, true, [4, 3], [5, 4]],
];
/** The same for the gradient checks, with a smaller output. */
const TRANSPOSES_SMALL: [boolean, boolean, Shape, Shape][] = [
  [false, false, [3, 4], [4, 2]],
  [true, false, [4, 3], [4, 2]],
  [false, true, [3, 4], [2, 4]],
  [true, true, [4, 3], [2, 4]],
];

function mm(label: string, sa: Shape, sb: Shape, ta = false, tb = false, extra: Partial<Case> = {}): Case {
  return {
    label: `${label}${ta || tb ? ` transposeA=${ta} transposeB=${tb}` : ''}`,
    inputs: [{ shape: sa }, { shape: sb }],
    build: (a, b) => lg.matMul(a, b, ta, tb),
    tfjs: (a, b) => tf.matMul(a, b, ta, tb),
    ...extra,
  };
}

/** tfjs reference of a matMul whose batch dims broadcast: broadcast both operands to `batch` first. */
function broadcastBatch(batch: Shape, ta: boolean, tb: boolean): TfBuild {
  return (a, b) =>
    tf.matMul(
      tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]),
      tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]),
      ta,
      tb,
    );
}

const BROADCAST_TRANSPOSES: [boolean, boolean][] = [
  [true, false],
  [false, true],
  [true, true],
];

const MATMUL: OpRow = {
  op: 'matMul',
  build: (a, b) => lg.matMul(a, b),
  tfjs: (a, b) => tf.matMul(a, b),
  forward: [
    ...TRANSPOSES.map(([ta, tb, sa, sb]) => mm('', sa, sb, ta, tb)),
    ...TRANSPOSES.map(([ta, tb, sa, sb]) => {
      const scale = (s: Shape): number[] => s.map((d) => d * 5 + 1);
      return mm('packed-kernel sizes', scale(sa), scale(sb), ta, tb);
    }),
    mm('batched rank-3 by rank-3', [2, 3, 4], [2, 4, 5]),
    mm('batched rank-3 by rank-2 broadcasts the matrix over the batch', [3, 2, 4], [4, 5]),
    mm('batch dims broadcast against each other ([2,1,3,4] x [3,4,2])', [2, 1, 3, 4], [3, 4, 2], false, false, {
      tfjs: broadcastBatch([2, 3], false, false),
    }),
    ...BROADCAST_TRANSPOSES.map(([ta, tb]) =>
      mm('batched with broadcast batch dims', ta ? [2, 1, 6, 5] : [2, 1, 5, 6], tb ? [3, 7, 6] : [3, 6, 7], ta, tb, {
        tfjs: broadcastBatch([2, 3], ta, tb),
      }),
    ),
    {
      label: 'chained methods x.matMul(w).add(1).relu()',
      inputs: [{ shape: [4, 3] }, { shape: [3, 2] }],
      build: (x, w) => x.matMul(w).add(1).relu(),
      tfjs: (x, w) => tf.relu(tf.add(tf.matMul(x, w), 1)),
    },
  ],
  gradFd: [
    ...TRANSPOSES_SMALL.map(([ta, tb, sa, sb]) => mm('', sa, sb, ta, tb)),
    mm('batched rank-3 by rank-3', [2, 3, 4], [2, 4, 2]),
    mm('batched rank-3 by rank-2: the matrix gradient is summed over the batch', [3, 2, 4], [4, 2]),
    mm('rank-2 by batched rank-3: the matrix gradient is summed over the batch', [2, 3], [2, 3, 4]),
    mm('broadcast batch dims [2, 1, 3, 2] x [3, 2, 2]', [2, 1, 3, 2], [3, 2, 2]),
    ...BROADCAST_TRANSPOSES.map(([ta, tb]) =>
      mm('broadcast batch dims', ta ? [1, 3, 2, 3] : [1, 3, 3, 2], tb ? [2, 1, 4, 2] : [2, 1, 2, 4], ta, tb),
    ),
    mm('packed-kernel sizes (8 x 6 x 8)', [8, 6], [6, 8]),
  ],
  gradTfjs: [
    ...TRANSPOSES.map(([ta, tb, sa, sb]) => mm('', sa, sb, ta, tb)),
    mm('batched with a broadcast matrix operand', [2, 3, 4], [4, 5], false, false, {
      tfjs: (a, b) => tf.matMul(a, tf.broadcastTo(b, [2, 4, 5])),
    }),
  ],
  secondOrder: [
    ...TRANSPOSES_SMALL.map(([ta, tb, sa, sb]) => mm('(mixed second derivatives)', sa, sb, ta, tb)),
    mm('batched broadcast matMul inside tanh', [2, 3, 2], [2, 4], false, false, {
      build: (a, b) => lg.tanh(lg.matMul(a, b)),
    }),
  ],
};

type Softmax = (x: lg.Tensor, axis?: number) => lg.Tensor;
type TfSoftmax = (x: tf.Tensor, axis?: number) => tf.Tensor;

function softmaxRow(op: 'softmax' | 'logSoftmax', ours: Softmax, theirs: TfSoftmax): OpRow {
  const wide: RandomOptions = { lo: -40, hi: 40 };
  const along = (axis: number | undefined, twin: TfBuild): Pick<Case, 'build' | 'tfjs'> => ({
    build: (x) => ours(x, axis),
    tfjs: twin,
  });
  const fdCases: [string, Shape, number][] = [
    ['last axis of [3, 4]', [3, 4], -1],
    ['first axis of [3, 4]', [3, 4], 0],
    ['middle axis of [2, 3, 2]', [2, 3, 2], 1],
    ['the only axis of [5]', [5], 0],
  ];
  return {
    op,
    build: ((x: lg.Tensor) => ours(x)) as Build,
    tfjs: ((x: tf.Tensor) => theirs(x)) as TfBuild,
    forward: [
      { label: 'along the last axis by default', inputs: [{ shape: [3, 5], options: wide }] },
      {
        label: 'along axis -1 of a rank-3 tensor',
        inputs: [{ shape: [2, 3, 4], options: wide }],
        ...along(-1, (x) => theirs(x, -1)),
      },
      {
        label: 'along the first axis of a rank-2 tensor',
        inputs: [{ shape: [4, 3], options: wide }],
        ...along(0, (x) => tf.transpose(theirs(tf.transpose(x)))),
      },
      {
        label: 'along the first axis of a rank-3 tensor',
        inputs: [{ shape: [4, 2, 3], options: wide }],
        ...along(0, (x) => tf.transpose(theirs(tf.transpose(x, [1, 2, 0])), [2, 0, 1])),
      },
      {
        label: 'along a middle axis of a rank-3 tensor',
        inputs: [{ shape: [2, 5, 3] }],
        ...along(1, (x) => tf.transpose(theirs(tf.transpose(x, [0, 2, 1])), [0, 2, 1])),
      },
      {
        label: 'of huge logits is finite',
        inputs: [{ shape: [2, 3], values: [1000, 1001, 999, -1000, 0, 1000] }],
      },
    ],
    gradFd: fdCases.map(([label, shape, axis]) => ({
      label: `along the ${label}`,
      inputs: [{ shape, options: { lo: -3, hi: 3 } }],
      build: (x) => ours(x, axis),
    })),
    secondOrder: [-1, 0].map((axis) => ({
      label: `along axis ${axis} of ${show([3, 4])}`,
      inputs: [{ shape: [3, 4], options: { lo: -2, hi: 2 } }],
      build: (x) => ours(x, axis),
    })),
  };
}

export const LINALG_NN_ROWS: readonly OpRow[] = [
  MATMUL,
  softmaxRow('softmax', lg.softmax, tf.softmax),
  softmaxRow('logSoftmax', lg.logSoftmax, tf.logSoftmax),
];
