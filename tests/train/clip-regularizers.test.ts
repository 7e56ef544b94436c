/**
 * clipByGlobalNorm / globalNorm (TensorFlow's formula; tfjs has no such function, so the reference is built from
 * tfjs ops) and the weight penalties (tfjs's tf.regularizers, TensorFlow's l2_loss).
 */
import * as tf from '@tensorflow/tfjs';
import {
  add,
  clipByGlobalNorm,
  DTypeError,
  globalNorm,
  Graph,
  GraphError,
  l2Loss,
  NDArray,
  regularizers,
  Session,
  sum,
  square,
  Tensor,
  train,
} from '../../src';
import { expectClose, randomArray, Rng } from '../ops/util';

const TOL = 1e-5;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

function toTf(a: NDArray): tf.Tensor {
  return tf.tensor(Array.from(a.data), [...a.shape], 'float32');
}

function fromTf(t: tf.Tensor): NDArray {
  return new NDArray(Float32Array.from(t.dataSync()), [...t.shape]);
}

/** TensorFlow's clip_by_global_norm written with tfjs ops. */
function tfjsClip(values: readonly NDArray[], clipNorm: number): [NDArray[], number] {
  const tensors = values.map(toTf);
  const norm = tf.sqrt(tf.addN(tensors.map((t) => tf.sum(tf.square(t)))));
  const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
  const clipped = tensors.map((t) => tf.mul(t, scale));
  const result: [NDArray[], number] = [clipped.map(fromTf), norm.dataSync()[0]];
  tf.dispose([...tensors, norm, scale, ...clipped]);
  return result;
}

function clipCase(seed: number, shapes: number[][], clipNorm: number, spread = 2): void {
  const rng = new Rng(seed);
  const values = shapes.map((s) => randomArray(rng, s, 'float32', { lo: -spread, hi: spread }));
  const g = new Graph();
  const [clipped, norm] = clipByGlobalNorm(
    values.map((v) => g.constant(v)),
    clipNorm,
  );
  const sess = new Session(g);
  const [want, wantNorm] = tfjsClip(values, clipNorm);
  expect(sess.run(norm).get()).toBeCloseTo(wantNorm, 4);
  clipped.forEach((t, i) => expectClose(sess.run(t as Tensor), want[i], TOL, `tensor ${i}`));
}

describe('clipByGlobalNorm matches tfjs', () => {
  test('a global norm above clipNorm scales every tensor by clipNorm / norm', () => {
    clipCase(1, [[3, 4], [5], []], 1);
  });

  test('a global norm below clipNorm leaves the tensors as they are', () => {
    clipCase(2, [[2, 2], [3]], 100);
  });

  test('rank 3 and 4 tensors', () => {
    clipCase(
      3,
      [
        [2, 3, 4],
        [2, 1, 3, 2],
      ],
      2.5,
    );
  });

  test('the clipped tensors have global norm clipNorm', () => {
    const g = new Graph();
    const [clipped] = clipByGlobalNorm([g.constant([3, 4]), g.constant([[12]])], 6.5);
    expect(new Session(g).run(globalNorm(clipped)).get()).toBeCloseTo(6.5, 5);
  });
});

describe('clipByGlobalNorm details', () => {
  test('null entries stay null and do not count', () => {
    const g = new Graph();
    const [clipped, norm] = clipByGlobalNorm([null, g.constant([3, 4]), null], 1);
    expect(clipped[0]).toBeNull();
    expect(clipped[2]).toBeNull();
    const sess = new Session(g);
    expect(sess.run(norm).get()).toBe(5);
    expectClose(sess.run(clipped[1] as Tensor), { shape: [2], data: [0.6, 0.8] }, TOL);
  });

  test('all-zero tensors stay zero (no NaN from 1 / 0)', () => {
    const g = new Graph();
    const [[clipped]] = clipByGlobalNorm([g.constant([0, 0])], 1);
    expect(new Session(g).run(clipped as Tensor).toArray()).toEqual([0, 0]);
  });

  test('an infinite norm gives NaN, as in TensorFlow', () => {
    const g = new Graph();
    const [[clipped]] = clipByGlobalNorm([g.constant([Infinity, 1])], 1);
    const out = new Session(g).run(clipped as Tensor);
    expect(Array.from(out.data).every(Number.isNaN)).toBe(true);
  });

  test('clipNorm may be a scalar tensor fed at run time', () => {
    const g = new Graph();
    const limit = g.placeholder('limit', []);
    const [[clipped]] = clipByGlobalNorm([g.constant([3, 4])], limit);
    expectClose(new Session(g).run(clipped as Tensor, { limit: 2.5 }), { shape: [2], data: [1.5, 2] }, TOL);
  });

  test('float64 and float32 tensors clip together; each keeps its dtype', () => {
    const g = new Graph();
    const [clipped, norm] = clipByGlobalNorm([g.constant(NDArray.from([3], 'float64')), g.constant([4])], 1);
    expect(norm.dtype).toBe('float64');
    expect((clipped[1] as Tensor).dtype).toBe('float32');
    expectClose(new Session(g).run(clipped[1] as Tensor), { shape: [1], data: [0.8] }, TOL);
  });

  test('clipped gradients feed applyGradients', () => {
    const g = new Graph();
    const w = g.variable('w', [3, 4]);
    const optimizer = train.sgd(1);
    const pairs = optimizer.computeGradients(sum(square(w))); // gradient 2w = [6, 8], norm 10
    const [clipped] = clipByGlobalNorm(
      pairs.map(([grad]) => grad),
      5,
    );
    const sess = new Session(g);
    sess.run(optimizer.applyGradients(pairs.map(([, v], i) => [clipped[i], v])));
    expectClose(sess.run(w), { shape: [2], data: [0, 0] }, TOL);
  });

  test('a non-positive clipNorm is a GraphError; all-null tensors are a GraphError; int32 a DTypeError', () => {
    const g = new Graph();
    expect(() => clipByGlobalNorm([g.constant([1])], 0)).toThrow(GraphError);
    expect(() => clipByGlobalNorm([null], 1)).toThrow(GraphError);
    expect(() => clipByGlobalNorm([g.constant([1], 'int32')], 1)).toThrow(DTypeError);
  });
});

describe('regularizers match tfjs', () => {
  const rng = new Rng(7);
  const weights = randomArray(rng, [4, 5], 'float32');
  const other = randomArray(rng, [3], 'float32');

  function ours(penalty: (w: Tensor, v: Tensor) => Tensor): number {
    const g = new Graph();
    return new Session(g).run(penalty(g.constant(weights), g.constant(other))).get();
  }

  function theirs(regularizer: { apply: (x: tf.Tensor) => tf.Scalar }, list: NDArray[]): number {
    return tf.tidy(() => list.reduce((s, a) => s + regularizer.apply(toTf(a)).dataSync()[0], 0));
  }

  test('l2: l2 · Σw²', () => {
    expect(ours((w) => regularizers.l2({ l2: 0.03 }).apply(w))).toBeCloseTo(
      theirs(tf.regularizers.l2({ l2: 0.03 }), [weights]),
      5,
    );
  });

  test('l1: l1 · Σ|w|', () => {
    expect(ours((w) => regularizers.l1({ l1: 0.02 }).apply(w))).toBeCloseTo(
      theirs(tf.regularizers.l1({ l1: 0.02 }), [weights]),
      5,
    );
  });

  test('l1l2 with its defaults (0.01 and 0.01)', () => {
    expect(ours((w) => regularizers.l1l2().apply(w))).toBeCloseTo(theirs(tf.regularizers.l1l2(), [weights]), 5);
  });

  test('a list of weights gives the sum of their penalties', () => {
    expect(ours((w, v) => regularizers.l2({ l2: 0.5 }).apply([w, v]))).toBeCloseTo(
      theirs(tf.regularizers.l2({ l2: 0.5 }), [weights, other]),
      4,
    );
  });

  test('l2Loss is Σw² / 2 (TensorFlow tf.nn.l2_loss)', () => {
    const g = new Graph();
    expect(new Session(g).run(l2Loss(g.constant([1, 2, 3]))).get()).toBe(7);
  });

  test('a penalty in the loss decays the weights: one sgd step gives w·(1 − 2·lr·l2)', () => {
    const g = new Graph();
    const w = g.variable('w', [2, -4]);
    const x = g.placeholder('x', []);
    const loss = add(sum(square(x)), regularizers.l2({ l2: 0.25 }).apply(w));
    const sess = new Session(g);
    sess.run(train.sgd(0.1).minimize(loss), { x: 1 });
    expectClose(sess.run(w), { shape: [2], data: [2 * 0.95, -4 * 0.95] }, TOL);
  });

  test('a negative factor is a GraphError; int32 weights a DTypeError', () => {
    expect(() => regularizers.l2({ l2: -1 })).toThrow(GraphError);
    const g = new Graph();
    expect(() => regularizers.l2().apply(g.constant([1], 'int32'))).toThrow(DTypeError);
  });
});
