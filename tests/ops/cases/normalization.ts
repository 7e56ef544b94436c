/**
 * Rows of the normalization composites (ops/normalization.ts) and of the activations step, hardSigmoid and
 * hardSwish. tfjs's batchNorm takes its statistics as [channels] vectors or tensors of x's rank; its gradient sums
 * the statistics' gradients over the broadcast axes.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Operand } from '../harness';
import { Case, OpRow } from './table';

type Shape = readonly number[];
const show = (s: Shape): string => `[${s.join(', ')}]`;

const POSITIVE = { lo: 0.2, hi: 2 };

/** x, mean, variance, offset, scale: the statistics of `stats`'s shape, the variance positive. */
function batchNormCase(x: Shape, stats: Shape, extra: Partial<Case> = {}): Case {
  const operands: Operand[] = [
    { shape: x },
    { shape: stats },
    { shape: stats, options: POSITIVE },
    { shape: stats },
    { shape: stats },
  ];
  return { label: `x ${show(x)}, statistics ${show(stats)}`, inputs: operands, ...extra };
}

/** Without offset and scale: three operands, as tf.batchNorm(x, mean, variance). */
function batchNormBare(x: Shape, stats: Shape): Case {
  return {
    label: `x ${show(x)}, statistics ${show(stats)}, no offset or scale`,
    inputs: [{ shape: x }, { shape: stats }, { shape: stats, options: POSITIVE }],
    build: (x, m, v) => lg.batchNorm(x, m, v),
    tfjs: (x, m, v) => tf.batchNorm(x, m, v),
  };
}

const BATCH_NORM: OpRow = {
  op: 'batchNorm',
  build: (x, m, v, o, s) => lg.batchNorm(x, m, v, o, s),
  tfjs: (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s),
  forward: [
    batchNormCase([2, 3, 3, 4], [4]),
    batchNormCase([2, 5], [5]),
    batchNormCase([7], [7]),
    batchNormCase([2, 3, 4], [2, 3, 4]),
    batchNormBare([3, 2, 2, 3], [3]),
    batchNormCase([2, 2, 2, 3], [3], {
      label: 'varianceEpsilon 0.5',
      build: (x, m, v, o, s) => lg.batchNorm(x, m, v, o, s, 0.5),
      tfjs: (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 0.5),
    }),
  ],
  gradFd: [
    batchNormCase([2, 2, 3], [3]),
    batchNormCase([3, 2], [2]),
    batchNormCase([2, 3], [2, 3]),
    { ...batchNormBare([2, 1, 3], [3]), tfjs: undefined },
  ],
  gradTfjs: [
    batchNormCase([2, 3, 3, 4], [4]),
    batchNormCase([3, 5], [5]),
    {
      // tf.grads through tf.batchNorm without offset and scale throws (it saves the absent tensors for its
      // gradient), so the twin passes the neutral ones.
      ...batchNormBare([2, 2, 2, 3], [3]),
      tfjs: (x, m, v) => tf.batchNorm(x, m, v, tf.zerosLike(m), tf.onesLike(m)),
    },
  ],
  secondOrder: [batchNormCase([2, 2, 3], [3]), batchNormCase([3, 2], [2])],
};

export const NORMALIZATION_ROWS: readonly OpRow[] = [BATCH_NORM];

/** The rows above whose op is a composite builder rather than a registry op. */
export const NORMALIZATION_COMPOSITES: readonly string[] = ['batchNorm'];
