/**
 * Gradients of composite losses compared with tf.grads on the tfjs CPU backend, in float32: the same loss is
 * written once with lazygrad builders and once with tfjs ops, over the same seeded inputs and constants. Single
 * ops with a random dy are rows of the op table (suites/gradients-tfjs.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {
  NDArray,
  Tensor,
  add,
  div,
  log,
  logSoftmax,
  matMul,
  mean,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  softmax,
  sqrt,
  square,
  sub,
  sum,
  tanh,
} from '../../src';
import { compareGradientsWithTf, useTfjsCpu } from './harness';
import { RandomOptions, Rng, randomArray } from './util';

beforeAll(useTfjsCpu);

/**
 * The loss value and d loss / d x for every x, lazygrad's `gradients` against tfjs's `tf.grads` (the harness's
 * check, with a random scalar dy); `consts` are float32 arrays both sides see as constants.
 */
function compareGradients(
  seed: number,
  inputs: readonly NDArray[],
  consts: readonly NDArray[],
  ours: (xs: Tensor[], cs: Tensor[]) => Tensor,
  theirs: (xs: tf.Tensor[], cs: tf.Tensor[]) => tf.Tensor,
): void {
  const scalar = (xs: Tensor[], cs: Tensor[]): Tensor => {
    const loss = ours(xs, cs);
    expect(loss.shape).toEqual([]);
    return loss;
  };
  compareGradientsWithTf(seed, inputs, consts, scalar, theirs);
}

function rand(rng: Rng, shape: number[], options: RandomOptions = {}): NDArray {
  return randomArray(rng, shape, 'float32', options);
}

test('softmax cross-entropy: -mean(sum(labels * logSoftmax(logits), -1))', () => {
  const rng = new Rng(3000);
  const labels = NDArray.from(
    [
      [1, 0, 0, 0],
      [0, 0, 1, 0],
      [0.25, 0.25, 0.5, 0],
    ],
    'float32',
  );
  compareGradients(
    3000,
    [rand(rng, [3, 4], { lo: -4, hi: 4 })],
    [labels],
    ([logits], [y]) => neg(mean(sum(mul(y, logSoftmax(logits)), -1))),
    ([logits], [y]) => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1))),
  );
});

test('softmax cross-entropy written as -log(softmax) with a weight matrix and bias', () => {
  const rng = new Rng(3001);
  const labels = NDArray.from(
    [
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1],
      [0, 1, 0],
    ],
    'float32',
  );
  compareGradients(
    3001,
    [rand(rng, [4, 5]), rand(rng, [5, 3]), rand(rng, [3])],
    [labels],
    ([x, w, b], [y]) => neg(mean(sum(mul(y, log(softmax(add(matMul(x, w), b)))), 1))),
    ([x, w, b], [y]) => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.softmax(tf.add(tf.matMul(x, w), b)))), 1))),
  );
});

test('broadcasting add and mul: [2, 3] * [3] + [2, 1]', () => {
  const rng = new Rng(3004);
  const w = rand(rng, [2, 3]);
  compareGradients(
    3004,
    [rand(rng, [2, 3]), rand(rng, [3]), rand(rng, [2, 1])],
    [w],
    ([a, b, c], [k]) => sum(mul(square(add(mul(a, b), c)), k)),
    ([a, b, c], [k]) => tf.sum(tf.mul(tf.square(tf.add(tf.mul(a, b), c)), k)),
  );
});

test('broadcasting [2, 1] with [1, 4] and a scalar', () => {
  const rng = new Rng(3005);
  compareGradients(
    3005,
    [rand(rng, [2, 1]), rand(rng, [1, 4]), rand(rng, [])],
    [],
    ([a, b, s]) => sum(mul(sub(a, b), mul(s, b))),
    ([a, b, s]) => tf.sum(tf.mul(tf.sub(a, b), tf.mul(s, b))),
  );
});

test('sigmoid / tanh chain', () => {
  const rng = new Rng(3006);
  const w = rand(rng, [3, 4]);
  compareGradients(
    3006,
    [rand(rng, [3, 4], { lo: -3, hi: 3 })],
    [w],
    ([x], [k]) => sum(mul(tanh(sub(mul(sigmoid(x), 3), 1)), k)),
    ([x], [k]) => tf.sum(tf.mul(tf.tanh(tf.sub(tf.mul(tf.sigmoid(x), 3), 1)), k)),
  );
});

test('mean, sqrt, div and pow composite', () => {
  const rng = new Rng(3008);
  compareGradients(
    3008,
    [rand(rng, [3, 4], { lo: 0.5, hi: 2 }), rand(rng, [4], { lo: 0.5, hi: 2 })],
    [],
    ([a, b]) => mean(div(sqrt(a), pow(b, 3)), 0).sum(),
    ([a, b]) => tf.sum(tf.mean(tf.div(tf.sqrt(a), tf.pow(b, 3)), 0)),
  );
});

test('two-layer relu MLP with mean squared error', () => {
  const rng = new Rng(3009);
  const target = rand(rng, [6, 2]);
  compareGradients(
    3009,
    [rand(rng, [6, 3]), rand(rng, [3, 8]), rand(rng, [8], { lo: 0.1, hi: 0.5 }), rand(rng, [8, 2])],
    [target],
    ([x, w1, b1, w2], [t]) => mean(square(sub(relu(add(matMul(x, w1), b1)).matMul(w2), t))),
    ([x, w1, b1, w2], [t]) => tf.mean(tf.square(tf.sub(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), t))),
  );
});
