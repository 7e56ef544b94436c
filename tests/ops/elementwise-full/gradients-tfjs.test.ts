/**
 * Gradients against tf.grads on the tfjs cpu backend, in float32, with a random dy fed as gradYs. Inputs stay off
 * the points where the two libraries document different one-sided choices (abs at 0) or where the op has a kink
 * or pole, except in the tests that are about ties and kinks.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Tensor,
  abs,
  acos,
  acosh,
  addN,
  asin,
  asinh,
  atan,
  atan2,
  atanh,
  ceil,
  clipByValue,
  cosh,
  elu,
  erf,
  expm1,
  floor,
  leakyRelu,
  log1p,
  logSigmoid,
  maximum,
  minimum,
  mod,
  prelu,
  reciprocal,
  relu6,
  round,
  rsqrt,
  selu,
  sign,
  sinh,
  softplus,
  squaredDifference,
  tan,
} from '../../../src';
import { RandomOptions } from '../util';
import { checkGradientsVsTfjs, Operand, useTfjsCpu } from './helpers';

beforeAll(useTfjsCpu);

type Unary = (x: Tensor) => Tensor;
type TfUnary = (x: tf.Tensor) => tf.Tensor;

describe('unary ops', () => {
  const ops: [string, Unary, TfUnary, RandomOptions][] = [
    ['abs', abs, tf.abs, { awayFromZero: 0.05 }],
    ['sign (zero gradient)', sign, tf.sign, {}],
    ['rsqrt', rsqrt, tf.rsqrt, { lo: 0.2, hi: 5 }],
    ['reciprocal', reciprocal, tf.reciprocal, { lo: -3, hi: 3, awayFromZero: 0.3 }],
    ['expm1', expm1, tf.expm1, { lo: -3, hi: 3 }],
    ['log1p', log1p, tf.log1p, { lo: -0.8, hi: 5 }],
    ['tan', tan, tf.tan, { lo: -1.2, hi: 1.2 }],
    ['asin', asin, tf.asin, { lo: -0.9, hi: 0.9 }],
    ['acos', acos, tf.acos, { lo: -0.9, hi: 0.9 }],
    ['atan', atan, tf.atan, { lo: -4, hi: 4 }],
    ['sinh', sinh, tf.sinh, { lo: -3, hi: 3 }],
    ['cosh', cosh, tf.cosh, { lo: -3, hi: 3 }],
    ['asinh', asinh, tf.asinh, { lo: -4, hi: 4 }],
    ['acosh', acosh, tf.acosh, { lo: 1.2, hi: 5 }],
    ['atanh', atanh, tf.atanh, { lo: -0.9, hi: 0.9 }],
    ['logSigmoid', logSigmoid, tf.logSigmoid, { lo: -10, hi: 10 }],
    ['softplus', softplus, tf.softplus, { lo: -10, hi: 10 }],
    ['relu6', relu6, tf.relu6, { lo: -2, hi: 8, awayFromZero: 0.05 }],
    ['elu', elu, tf.elu, { lo: -3, hi: 3, awayFromZero: 0.05 }],
    ['selu', selu, tf.selu, { lo: -3, hi: 3, awayFromZero: 0.05 }],
    ['leakyRelu', leakyRelu, tf.leakyRelu, { awayFromZero: 0.05 }],
    ['erf', erf, tf.erf, { lo: -3, hi: 3 }],
    ['floor (zero gradient)', floor, tf.floor, {}],
    ['ceil (zero gradient)', ceil, tf.ceil, {}],
    ['round (zero gradient)', round, tf.round, {}],
    ['clipByValue', (x) => clipByValue(x, -0.5, 1), (x) => tf.clipByValue(x, -0.5, 1), {}],
  ];
  const shapes: number[][] = [[], [2, 3], [2, 1, 2, 3]];
  const cases = ops.flatMap(([name, ours, theirs, options], k) =>
    shapes.map((shape, i) => ({ name, ours, theirs, options, shape, seed: 5000 + 10 * k + i, label: `${shape}` })),
  );
  test.each(cases)('$name on shape [$label]', ({ ours, theirs, options, shape, seed }) => {
    checkGradientsVsTfjs(seed, [{ shape, options }], ours, theirs);
  });

  test('kinks take the side tfjs takes: relu6 at 0 and 6, elu, selu and leakyRelu at 0, clip at its bounds', () => {
    const x: Operand = { shape: [5], values: [0, 6, -0.5, 1, 3] };
    checkGradientsVsTfjs(1, [x], relu6, tf.relu6);
    checkGradientsVsTfjs(1, [x], elu, tf.elu);
    checkGradientsVsTfjs(1, [x], selu, tf.selu);
    checkGradientsVsTfjs(
      1,
      [x],
      (t) => leakyRelu(t),
      (t) => tf.leakyRelu(t),
    );
    checkGradientsVsTfjs(
      1,
      [x],
      (t) => clipByValue(t, -0.5, 1),
      (t) => tf.clipByValue(t, -0.5, 1),
    );
  });
});

/**
 * tfjs's gradients of maximum, minimum, squaredDifference and prelu do not sum over broadcast dims (tf.grads
 * throws "The gradient of input 'b' has shape '2,3', which does not match..."), so the reference broadcasts both
 * operands explicitly first; tfjs's broadcastTo gradient then does the summing.
 */
function broadcastFirst(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return (a, b) => {
    const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return op(tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
  };
}

describe('binary ops with broadcasting', () => {
  const pairs: [string, number[], number[]][] = [
    ['[2, 3] and [2, 3]', [2, 3], [2, 3]],
    ['[2, 3] and [3]', [2, 3], [3]],
    ['[] and [2, 2]', [], [2, 2]],
    ['[2, 1, 3] and [4, 1]', [2, 1, 3], [4, 1]],
    ['[2, 3, 1, 4] and [3, 2, 1]', [2, 3, 1, 4], [3, 2, 1]],
  ];
  const nonzero: RandomOptions = { lo: -3, hi: 3, awayFromZero: 0.4 };
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, RandomOptions][] = [
    ['maximum', maximum, broadcastFirst(tf.maximum), {}],
    ['minimum', minimum, broadcastFirst(tf.minimum), {}],
    ['squaredDifference', squaredDifference, broadcastFirst(tf.squaredDifference), {}],
    ['mod', mod, tf.mod, nonzero],
    ['atan2', atan2, tf.atan2, nonzero],
    ['prelu', prelu, broadcastFirst(tf.prelu), {}],
  ];
  const cases = ops.flatMap(([name, ours, theirs, ob], k) =>
    pairs.map(([label, sa, sb], i) => ({ name, label, ours, theirs, ob, sa, sb, seed: 6000 + 10 * k + i })),
  );
  test.each(cases)('$name of $label', ({ ours, theirs, ob, sa, sb, seed }) => {
    checkGradientsVsTfjs(
      seed,
      [
        { shape: sa, options: { lo: -3, hi: 3 } },
        { shape: sb, options: ob },
      ],
      ours,
      theirs,
    );
  });

  test('maximum and minimum split ties like tfjs: all of dy to a', () => {
    const a: Operand = { shape: [4], values: [1, 2, -1, 0.5] };
    const b: Operand = { shape: [4], values: [1, 1, -1, 0.75] };
    checkGradientsVsTfjs(2, [a, b], maximum, tf.maximum);
    checkGradientsVsTfjs(2, [a, b], minimum, tf.minimum);
  });

  test('addN of three tensors gives dy to each', () => {
    const shape = [2, 3];
    checkGradientsVsTfjs(
      3,
      [{ shape }, { shape }, { shape }],
      (a, b, c) => addN([a, b, c]),
      (a, b, c) => tf.addN([a, b, c]),
    );
  });

  test('addN with one tensor used twice accumulates', () => {
    checkGradientsVsTfjs(
      4,
      [{ shape: [3] }, { shape: [3] }],
      (a, b) => addN([a, b, a]),
      (a, b) => tf.addN([a, b, a]),
    );
  });
});
