/**
 * Forward values against TensorFlow.js (cpu backend) that are not one op over one sweep: int32 composites,
 * a JS number exponent, a network of constants folded by the optimizer, and fixed engine bugs. The per-op sweeps
 * (shapes, broadcasting, attributes) are rows of the op table, checked by suites/forward.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Graph,
  NDArray,
  Session,
  add,
  cast,
  div,
  equal,
  greater,
  matMul,
  max,
  mean,
  neg,
  pow,
  relu,
  softmax,
  square,
  sum,
  tanh,
  where,
} from '../../src';
import { Operand, checkForward, tfTensor, useTfjsCpu } from './harness';
import { Rng, expectClose, randomArray } from './util';

const TOL = 1e-5;

beforeAll(useTfjsCpu);

describe('int32 composites match tfjs', () => {
  test('equal and greater also work on int32 inputs', () => {
    checkForward(
      1,
      [
        { shape: [2, 3], dtype: 'int32', values: [1, 2, 3, -1, 0, 5] },
        { shape: [3], dtype: 'int32', values: [1, 0, 5] },
      ],
      (a, b) => where(equal(a, b), cast(greater(a, b), 'int32'), a),
      (a, b) => tf.where(tf.equal(a, b), tf.cast(tf.greater(a, b), 'int32'), a),
    );
  });

  test('relu, neg and square accept int32 like tfjs', () => {
    checkForward(
      3,
      [{ shape: [5], dtype: 'int32', values: [-3, -1, 0, 2, 7] }],
      (x) => add(relu(x), add(neg(x), square(x))),
      (x) => tf.add(tf.relu(x), tf.add(tf.neg(x), tf.square(x))),
    );
  });

  test('sum and max of int32 match tfjs exactly', () => {
    checkForward(
      17,
      [{ shape: [2, 3], dtype: 'int32', values: [4, -2, 7, 0, 9, -5] }],
      (x) => add(sum(x, 0), max(x, 0)),
      (x) => tf.add(tf.sum(x, 0), tf.max(x, 0)),
    );
  });
});

describe('pow', () => {
  const base: Operand = { shape: [8], values: [-3, -2.5, -1.5, -1, -0.5, 0.5, 1.25, 2] };

  test('a JS number exponent becomes a constant of the base dtype', () => {
    checkForward(
      6,
      [base],
      (x) => pow(x, 3),
      (x) => tf.pow(x, 3),
    );
  });
});

describe('constant inputs give the same values with and without the optimizer', () => {
  // All inputs constant: with optimize on, the whole graph is folded at compile time by the same kernels.
  test.each([true, false])('optimize=%s: a small MLP of constants matches tfjs', (optimize) => {
    const rng = new Rng(41);
    const xv = randomArray(rng, [4, 3], 'float32');
    const wv = randomArray(rng, [3, 5], 'float32');
    const bv = randomArray(rng, [5], 'float32');
    const g = new Graph();
    const y = softmax(tanh(add(matMul(g.constant(xv), g.constant(wv)), g.constant(bv))));
    const got = new Session(g, { optimize }).run(y);
    const want = tf.tidy(() => {
      const t = tf.softmax(tf.tanh(tf.add(tf.matMul(tfTensor(xv), tfTensor(wv)), tfTensor(bv))));
      return { shape: t.shape, data: Array.from(t.dataSync()) };
    });
    expectClose(got, want, TOL);
  });
});

describe('known engine bugs', () => {
  // src/ops/reduce.ts mean(): for a fully known shape it builds mul(sum, 1 / count) with 1 / count a JS number,
  // which becomes a constant of x's dtype. For int32 that was truncated to 0 (every int32 mean was 0); since
  // apply() started rejecting fractional numbers for int32 it is a DTypeError ("mul: the number 0.25 is not an
  // integer"). tfjs returns 2.5 (float32), TensorFlow 2 (int32 division); either would do.
  test('mean of an int32 tensor of known shape is not truncated to 0', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4], 'int32');
    const out = new Session(g).run(mean(x), { x: NDArray.from([1, 2, 3, 4], 'int32') });
    expect(out.get()).toBe(2.5);
  });

  // Same function, unknown dims: it divides the int32 sum by a float32 reducedSize node, which is a
  // DTypeError at build time, so mean of an int32 placeholder [null] cannot even be built.
  test('mean of an int32 tensor with an unknown dim can be built and run', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null], 'int32');
    const m = mean(x);
    const out = new Session(g).run(m, { x: NDArray.from([1, 2, 3, 4], 'int32') });
    expect(out.get()).toBe(2.5);
  });

  // src/graph/graph.ts internKey(): constants are interned by `Array.prototype.join` of their data, which
  // prints -0 as "0", so a -0 constant is merged into an existing +0 constant of the same dtype and shape.
  // div(x, -0) then divides by +0: +Infinity instead of tfjs's -Infinity, depending on unrelated nodes.
  test('div by a -0 constant is -Infinity even when the graph already has a +0 constant', () => {
    checkForward(
      42,
      [{ shape: [2], values: [1, 2] }],
      (x) => {
        add(x, 0); // an unrelated node that creates the +0 constant first
        return div(x, -0);
      },
      (x) => tf.div(x, tf.scalar(-0)),
    );
  });

  // Same root cause through constant folding: neg(0) folds to a -0 constant, which the rebuilt graph interns
  // into the +0 constant already there, so the optimizer changes the result (optimize=false gives -Infinity).
  test('constant folding keeps -0: x / neg(0) is -Infinity with the optimizer on', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const zero = g.constant(0);
    const y = div(add(x, zero), neg(zero));
    const plain = new Session(g, { optimize: false }).run(y, { x: [1, 2] });
    expect(Array.from(plain.data)).toEqual([-Infinity, -Infinity]);
    const optimized = new Session(g).run(y, { x: [1, 2] });
    expect(Array.from(optimized.data)).toEqual([-Infinity, -Infinity]);
  });
});
