/**
 * Rows of the normalization composites (ops/normalization.ts) and of the activations step, hardSigmoid and
 * hardSwish. tfjs's batchNorm takes its statistics as [channels] vectors or tensors of x's rank; its gradient sums
 * the statistics' gradients over the broadcast axes.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Build, Operand, TfBuild } from '../harness';
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

/** batchNormTraining's output over placeholders x, offset, scale, with fresh moving variables of the channels. */
function trainingY(axes?: number[], momentum?: number): (x: lg.Tensor, o: lg.Tensor, s: lg.Tensor) => lg.Tensor {
  return (x, o, s) => {
    const stats = o.shape.map((d) => d as number);
    const moving = (name: string): lg.Tensor =>
      x.graph.variable(name, lg.initializers.constant({ value: 0.5 }), {
        trainable: false,
        dtype: x.dtype,
        shape: stats,
      });
    return lg.batchNormTraining(x, moving('movingMean'), moving('movingVariance'), o, s, {
      axes,
      momentum,
    }).y;
  };
}

/**
 * The same in tfjs: tf.moments of the batch, then the normalization written out (tf.batchNorm asserts that the
 * kept-dims statistics and the offset share a rank).
 */
function tfTraining(axes: number[], epsilon = 0.001): (x: tf.Tensor, o: tf.Tensor, s: tf.Tensor) => tf.Tensor {
  return (x, o, s) => {
    const { mean, variance } = tf.moments(x, axes, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), s), o);
  };
}

function trainingCase(x: Shape, stats: Shape, axes: number[], explicit: boolean): Case {
  return {
    label: `x ${show(x)} over axes [${axes.join(', ')}]${explicit ? '' : ' (the default)'}`,
    inputs: [{ shape: x }, { shape: stats }, { shape: stats, options: POSITIVE }],
    build: trainingY(explicit ? axes : undefined) as Build,
    tfjs: tfTraining(axes) as TfBuild,
  };
}

const BATCH_NORM_TRAINING: OpRow = {
  op: 'batchNormTraining',
  build: trainingY() as Build,
  tfjs: tfTraining([0]) as TfBuild,
  forward: [
    trainingCase([6, 4], [4], [0], false),
    trainingCase([2, 3, 3, 4], [4], [0, 1, 2], false),
    trainingCase([2, 3, 2, 2], [3, 1, 1], [0, 2, 3], true),
  ],
  gradFd: [trainingCase([4, 3], [3], [0], false), trainingCase([2, 2, 2, 3], [3], [0, 1, 2], false)],
  gradTfjs: [trainingCase([5, 4], [4], [0], false), trainingCase([2, 3, 2, 2], [3, 1, 1], [0, 2, 3], true)],
  secondOrder: [trainingCase([3, 2], [2], [0], false), trainingCase([2, 2, 2], [2], [0, 1], false)],
};

/** layerNorm over `axes` with gamma and beta of the normalized axes' shape, and its tfjs twin from tf.moments. */
function layerNormCase(x: Shape, axes: number[], params: Shape, epsilon = 0.001): Case {
  return {
    label: `x ${show(x)} over axes [${axes.join(', ')}], epsilon ${epsilon}`,
    inputs: [{ shape: x }, { shape: params }, { shape: params }],
    build: (x, g, b) => lg.layerNorm(x, axes, epsilon, g, b),
    tfjs: (x, g, b) => {
      const { mean, variance } = tf.moments(x, axes, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), g), b);
    },
  };
}

const LAYER_NORM: OpRow = {
  op: 'layerNorm',
  build: (x, g, b) => lg.layerNorm(x, -1, 0.001, g, b),
  tfjs: (x, g, b) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 0.001))), g), b);
  },
  forward: [
    layerNormCase([3, 8], [-1], [8]),
    layerNormCase([2, 3, 4], [1, 2], [3, 4], 1e-5),
    layerNormCase([2, 3, 4], [2], [4]),
    {
      label: 'without gamma and beta',
      inputs: [{ shape: [4, 5] }],
      build: (x) => lg.layerNorm(x),
      tfjs: (x) => {
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 0.001)));
      },
    },
  ],
  gradFd: [layerNormCase([3, 4], [-1], [4]), layerNormCase([2, 2, 3], [1, 2], [2, 3])],
  gradTfjs: [layerNormCase([3, 6], [-1], [6]), layerNormCase([2, 3, 4], [1, 2], [3, 4])],
  secondOrder: [layerNormCase([2, 3], [-1], [3]), layerNormCase([2, 2, 2], [0, 2], [2, 1, 2])],
};

/** windowSum in tfjs: x padded with `radius` zeros along `axis`, and the 2·radius + 1 shifted slices added. */
function tfWindowSum(axis: number, radius: number): TfBuild {
  return (x) => {
    const paddings = x.shape.map((_, i): [number, number] => (i === axis ? [radius, radius] : [0, 0]));
    const padded = tf.pad(x, paddings);
    const parts = Array.from({ length: 2 * radius + 1 }, (_, k) =>
      tf.slice(
        padded,
        x.shape.map((_, i) => (i === axis ? k : 0)),
        x.shape,
      ),
    );
    return tf.addN(parts);
  };
}

function windowCase(x: Shape, axis: number, radius: number): Case {
  return {
    label: `x ${show(x)} along axis ${axis}, radius ${radius}`,
    inputs: [{ shape: x }],
    build: (t) => lg.windowSum(t, axis, radius),
    tfjs: tfWindowSum(axis < 0 ? axis + x.length : axis, radius),
  };
}

const WINDOW_SUM: OpRow = {
  op: 'windowSum',
  build: (x) => lg.windowSum(x),
  tfjs: tfWindowSum(0, 1),
  forward: [
    windowCase([7], 0, 1),
    windowCase([2, 3, 6], -1, 2),
    windowCase([2, 5, 3], 1, 1),
    windowCase([2, 4], 1, 5),
    windowCase([3, 4], 0, 0),
  ],
  gradFd: [windowCase([2, 5], -1, 1), windowCase([3, 2, 2], 0, 2)],
  gradTfjs: [windowCase([2, 3, 6], -1, 2), windowCase([4, 3], 0, 1)],
  secondOrder: [
    {
      ...windowCase([2, 4], -1, 1),
      label: 'inside a square',
      build: (t) => lg.square(lg.windowSum(lg.square(t), -1, 1)),
    },
  ],
};

function lrnCase(x: Shape, depthRadius: number, bias: number, alpha: number, beta: number): Case {
  return {
    label: `x ${show(x)}, depthRadius ${depthRadius}, bias ${bias}, alpha ${alpha}, beta ${beta}`,
    inputs: [{ shape: x }],
    build: (t) => lg.localResponseNormalization(t, depthRadius, bias, alpha, beta),
    tfjs: (t) => tf.localResponseNormalization(t as tf.Tensor4D, depthRadius, bias, alpha, beta),
  };
}

const LRN: OpRow = {
  op: 'localResponseNormalization',
  build: (x) => lg.localResponseNormalization(x),
  tfjs: (x) => tf.localResponseNormalization(x as tf.Tensor4D),
  forward: [
    { label: 'the defaults on [2, 2, 2, 12]', inputs: [{ shape: [2, 2, 2, 12] }] },
    lrnCase([1, 3, 3, 8], 2, 1, 1e-4, 0.75),
    lrnCase([2, 2, 3, 5], 1, 2, 0.5, 0.5),
    lrnCase([4, 3, 6], 3, 1, 1, 1),
  ],
  gradFd: [lrnCase([1, 2, 2, 5], 2, 1, 0.5, 0.75), lrnCase([2, 1, 2, 4], 5, 1, 1, 0.5)],
  gradTfjs: [
    lrnCase([1, 3, 3, 8], 2, 1, 0.1, 0.75),
    lrnCase([2, 2, 2, 6], 5, 1, 1, 0.5),
    lrnCase([2, 2, 5], 1, 2, 0.5, 1),
  ],
  secondOrder: [lrnCase([1, 1, 2, 5], 2, 1, 0.5, 0.75)],
};

const stepCase = (shape: Shape, alpha?: number): Case => ({
  label: `${show(shape)}${alpha === undefined ? '' : `, alpha ${alpha}`}`,
  inputs: [{ shape, options: { awayFromZero: 0.05 } }],
  build: (x) => lg.step(x, alpha),
  tfjs: (x) => tf.step(x, alpha),
});

const STEP: OpRow = {
  op: 'step',
  build: (x) => lg.step(x),
  tfjs: (x) => tf.step(x),
  forward: [
    stepCase([2, 3, 4]),
    stepCase([7], 0.3),
    stepCase([], -1),
    {
      label: 'NaN stays NaN, 0 and -0 give alpha, chained x.step(alpha)',
      inputs: [{ shape: [5], values: [NaN, 0, -0, 2, -2] }],
      build: (x) => x.step(0.25),
      tfjs: (x) => tf.step(x, 0.25),
    },
  ],
  gradFd: [stepCase([2, 3], 0.5)],
  gradTfjs: [stepCase([2, 3]), stepCase([4], 0.2)],
  secondOrder: [stepCase([2, 3], 0.5)],
  zeroGradient: true,
  zeroSecondOrder: true,
};

/** hardSigmoid in tfjs: the clipped line. */
const tfHardSigmoid =
  (alpha: number, beta: number): TfBuild =>
  (x) =>
    tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);

function hardSigmoidCase(shape: Shape, alpha: number, beta: number, lo = -4, hi = 4): Case {
  return {
    label: `${show(shape)}, alpha ${alpha}, beta ${beta}, x in [${lo}, ${hi})`,
    inputs: [{ shape, options: { lo, hi } }],
    build: (x) => lg.hardSigmoid(x, alpha, beta),
    tfjs: tfHardSigmoid(alpha, beta),
  };
}

const HARD_SIGMOID: OpRow = {
  op: 'hardSigmoid',
  build: (x) => lg.hardSigmoid(x),
  tfjs: tfHardSigmoid(0.2, 0.5),
  forward: [
    {
      label: 'the defaults (0.2, 0.5) across both flat parts',
      inputs: [{ shape: [3, 5], options: { lo: -5, hi: 5 } }],
    },
    hardSigmoidCase([2, 3, 4], 1 / 6, 0.5),
    hardSigmoidCase([6], -0.5, 0.2),
  ],
  gradFd: [hardSigmoidCase([2, 3], 0.2, 0.5, -2, 2), hardSigmoidCase([7], 0.5, 0.1, -1.5, 1.5)],
  gradTfjs: [hardSigmoidCase([3, 4], 0.2, 0.5, -6, 6), hardSigmoidCase([5], 1 / 6, 0.5)],
  secondOrder: [hardSigmoidCase([2, 3], 0.2, 0.5, -2, 2)],
  zeroSecondOrder: true,
};

/** hardSwish in tfjs: x times the clipped line x/6 + 1/2. */
const tfHardSwish: TfBuild = (x) => tf.mul(x, tf.clipByValue(tf.add(tf.div(x, 6), 0.5), 0, 1));

const HARD_SWISH: OpRow = {
  op: 'hardSwish',
  build: (x) => lg.hardSwish(x),
  tfjs: tfHardSwish,
  forward: [
    { label: '[3, 5] across all three parts', inputs: [{ shape: [3, 5], options: { lo: -6, hi: 6 } }] },
    { label: 'at the kinks and NaN', inputs: [{ shape: [5], values: [-3, 3, 0, NaN, 100] }] },
  ],
  gradFd: [
    { label: 'the curved part', inputs: [{ shape: [2, 3], options: { lo: -2.9, hi: 2.9 } }] },
    { label: 'all three parts', inputs: [{ shape: [8], values: [-5, -4, -2, -0.5, 0.5, 2.5, 4, 7] }] },
  ],
  gradTfjs: [{ label: '[3, 4] across all three parts', inputs: [{ shape: [3, 4], options: { lo: -6, hi: 6 } }] }],
  secondOrder: [{ label: 'the curved part', inputs: [{ shape: [2, 3], options: { lo: -2.9, hi: 2.9 } }] }],
  d2: { fn: (x) => (x > -3 && x < 3 ? 1 / 3 : 0), options: { lo: -2.9, hi: 2.9 } },
};

export const NORMALIZATION_ROWS: readonly OpRow[] = [
  STEP,
  HARD_SIGMOID,
  HARD_SWISH,
  BATCH_NORM,
  BATCH_NORM_TRAINING,
  LAYER_NORM,
  WINDOW_SUM,
  LRN,
];

/** The rows above whose op is a composite builder rather than a registry op. */
export const NORMALIZATION_COMPOSITES: readonly string[] = ['batchNorm', 'batchNormTraining', 'layerNorm'];
