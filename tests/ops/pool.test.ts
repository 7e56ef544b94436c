/**
 * Pooling conventions the op table does not show: which of equal maxima gets the gradient, maxPoolGradGrad (max
 * pooling's second-order op) read against maxPool, forward-mode rules, error messages, and global pooling.
 */
import * as tf from '@tensorflow/tfjs';
import {
  apply,
  avgPool,
  globalAvgPool,
  globalMaxPool,
  gradients,
  Graph,
  jvp,
  MAX_POOL_GRAD_GRAD,
  maxPool,
  maxPoolWithArgmax,
  mul,
  NDArray,
  Session,
  ShapeError,
  sum,
  Tensor,
} from '../../src';
import { arrayOf } from './harness';
import { expectClose, randomArray, Rng } from './util';

function run(fetch: Tensor, feeds: [Tensor, NDArray][]): NDArray {
  return new Session(fetch.graph).run(fetch, new Map(feeds));
}

describe('maxPool', () => {
  test('gives the gradient of equal maxima to the first in the window, as tfjs does', () => {
    const values = [1, 3, 3, 0, 3, 3, 2, 2, 5, 5, 5, 5, 0, 1, 5, 2];
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 1]);
    const [dx] = gradients(sum(maxPool(x, 2, 2, 'valid')), [x]);
    const got = run(dx as Tensor, [[x, arrayOf(values, [1, 4, 4, 1])]]);
    const want = tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid').sum())(
      tf.tensor(values, [1, 4, 4, 1]),
    );
    expect(Array.from(got.data)).toEqual(Array.from(want.dataSync()));
    expect(Array.from(got.data)).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });

  test('maxPoolWithArgmax indexes the first of equal maxima, as tfjs does', () => {
    const values = [1, 3, 3, 0, 3, 3, 2, 2, 5, 5, 5, 5, 0, 1, 5, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4];
    const g = new Graph();
    const x = g.placeholder('x', [2, 4, 2, 2]);
    const { result, indexes } = maxPoolWithArgmax(x, 2, 2, 'valid', true);
    const [got, gotIndexes] = new Session(g).run([result, indexes], new Map([[x, arrayOf(values, [2, 4, 2, 2])]]));
    const want = tf.maxPoolWithArgmax(tf.tensor4d(values, [2, 4, 2, 2]), 2, 2, 'valid', true);
    expect(gotIndexes.dtype).toBe('int32');
    expect(Array.from(gotIndexes.data)).toEqual(Array.from(want.indexes.dataSync()));
    expect(Array.from(got.data)).toEqual(Array.from(want.result.dataSync()));
  });

  test("a NaN in a window is its maximum, as in lazygrad's max (tfjs's cpu backend skips NaN)", () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 2, 4, 1]);
    const got = run(maxPool(x, 2, 2, 'valid'), [[x, arrayOf([1, NaN, 5, 6, 3, 4, 7, 8], [1, 2, 4, 1])]]);
    expect(Array.from(got.data)).toEqual([NaN, 8]);
  });

  test("'same' padding is never the maximum: windows of negative values give their own maximum", () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3, 3, 1]);
    const got = run(maxPool(x, 3, 1, 'same'), [[x, arrayOf([-9, -8, -7, -6, -5, -4, -3, -2, -1], [1, 3, 3, 1])]]);
    expect(Array.from(got.data)).toEqual([-5, -4, -4, -2, -1, -1, -2, -1, -1]);
  });

  test('maxPoolGradGrad(x, g) reads g where maxPool reads x: maxPoolGradGrad(x, x) = maxPool(x)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 5, 5, 3], 'float64');
    const attrs = { filterSize: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] };
    const value = randomArray(new Rng(7), [2, 5, 5, 3]);
    const twice = run(apply(MAX_POOL_GRAD_GRAD, [x, x], attrs), [[x, value]]);
    expect(Array.from(twice.data)).toEqual(Array.from(run(maxPool(x, 3, 2, 'same'), [[x, value]]).data));
  });

  test('its forward-mode tangent equals the gradient-based directional derivative', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 2], 'float64');
    const t = g.placeholder('t', [1, 4, 4, 2], 'float64');
    const y = maxPool(x, 2, 1, 'same');
    const [tangent] = jvp(sum(y), [x], [t]);
    const [dx] = gradients(sum(y), [x]);
    const rng = new Rng(3);
    const feeds: [Tensor, NDArray][] = [
      [x, randomArray(rng, [1, 4, 4, 2])],
      [t, randomArray(rng, [1, 4, 4, 2])],
    ];
    const directional = run(sum(mul(dx as Tensor, t)), feeds);
    expectClose(run(tangent, feeds), directional, 1e-12);
  });

  test('says which window argument is wrong', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 1]);
    expect(() => maxPool(x, 5, 1, 'valid')).toThrow(/window's height span 5 is larger than the padded height 4/);
    expect(() => maxPool(x, 0, 1, 'valid')).toThrow(/filterSize \[0,0\] must be two positive integers/);
    expect(() => maxPool(x, 2, 1, 'same', 'ceil')).toThrow(/dimRoundingMode 'ceil' needs a number padding/);
    expect(() => maxPool(g.placeholder('v', [4, 4]), 2, 1, 'valid')).toThrow(ShapeError);
  });

  test('is a chainable method, as avgPool is, and takes one image of rank 3', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 6, 2]);
    expect(x.maxPool(2, 2, 'valid').shape).toEqual([2, 3, 2]);
    expect(x.avgPool([3, 2], 1, 'same').shape).toEqual([4, 6, 2]);
  });
});

describe('avgPool', () => {
  test("leaves 'same' padding out of the count", () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 2, 2, 1]);
    const got = run(avgPool(x, 3, 1, 'same'), [[x, arrayOf([1, 2, 3, 4], [1, 2, 2, 1])]]);
    expect(Array.from(got.data)).toEqual([2.5, 2.5, 2.5, 2.5]);
  });

  test('its forward-mode tangent is avgPool of the tangent', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 5, 5, 1], 'float64');
    const t = g.placeholder('t', [1, 5, 5, 1], 'float64');
    const [tangent] = jvp(avgPool(x, 3, 2, 'same'), [x], [t]);
    const value = randomArray(new Rng(5), [1, 5, 5, 1]);
    expectClose(
      run(tangent, [
        [x, value],
        [t, value],
      ]),
      run(avgPool(t, 3, 2, 'same'), [[t, value]]),
      1e-12,
    );
  });
});

describe('global pooling', () => {
  test('globalAvgPool and globalMaxPool reduce height and width, as tfjs layers do', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3, 4, 5]);
    const value = randomArray(new Rng(11), [2, 3, 4, 5], 'float32');
    const input = tf.tensor(Array.from(value.data), [2, 3, 4, 5]);
    const avg = tf.layers.globalAveragePooling2d({}).apply(input) as tf.Tensor;
    const mx = tf.layers.globalMaxPooling2d({}).apply(input) as tf.Tensor;
    expectClose(run(globalAvgPool(x), [[x, value]]), { shape: avg.shape, data: avg.dataSync() }, 1e-6);
    expectClose(run(globalMaxPool(x), [[x, value]]), { shape: mx.shape, data: mx.dataSync() }, 1e-6);
    expect(globalAvgPool(x, true).shape).toEqual([2, 1, 1, 5]);
    expect(globalMaxPool(x, true).shape).toEqual([2, 1, 1, 5]);
  });
});
