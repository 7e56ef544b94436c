/**
 * What the op table does not show of the 3-D ops (ops/conv3d.ts, ops/pool3d.ts): maxPool3dGradGrad read against
 * maxPool3d, ties, forward-mode rules against gradients, a Hessian-vector product through a small 3-D conv net,
 * shape errors; dimRoundingMode's checks on the 2-D conv builders; and the chain methods batchNorm,
 * localResponseNormalization and pool.
 */
import * as tf from '@tensorflow/tfjs';
import {
  apply,
  avgPool3d,
  batchNorm,
  conv2d,
  conv3d,
  gradients,
  Graph,
  jvp,
  localResponseNormalization,
  MAX_POOL3D_GRAD_GRAD,
  maxPool3d,
  mul,
  NDArray,
  pool,
  Session,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { arrayOf } from './harness';
import { expectClose, randomArray, Rng } from './util';

type Feed = [Tensor, NDArray];

function run(fetch: Tensor, feeds: Feed[]): NDArray {
  return new Session(fetch.graph).run(fetch, new Map(feeds));
}

describe('maxPool3d', () => {
  test('maxPool3dGradGrad(x, g) reads g where maxPool3d reads x: maxPool3dGradGrad(x, x) = maxPool3d(x)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 4, 5, 5, 3], 'float64');
    const attrs = { filterSize: [2, 3, 3], strides: [2, 2, 2], pads: [0, 0, 1, 1, 1, 1] };
    const value = randomArray(new Rng(7), [2, 4, 5, 5, 3]);
    const twice = run(apply(MAX_POOL3D_GRAD_GRAD, [x, x], attrs), [[x, value]]);
    expect(Array.from(twice.data)).toEqual(Array.from(run(maxPool3d(x, [2, 3, 3], 2, 'same'), [[x, value]]).data));
  });

  test('gives the gradient of equal maxima to the last in the window, as tfjs does', () => {
    const values = Array.from({ length: 16 }, (_, i) => [3, 3, 1, 3][i % 4]);
    const g = new Graph();
    const x = g.placeholder('x', [1, 2, 2, 4, 1]);
    const [dx] = gradients(sum(maxPool3d(x, 2, 2, 'valid')), [x]);
    const got = run(dx as Tensor, [[x, arrayOf(values, [1, 2, 2, 4, 1])]]);
    const want = tf.grad((t: tf.Tensor) => tf.maxPool3d(t as tf.Tensor5D, 2, 2, 'valid').sum())(
      tf.tensor(values, [1, 2, 2, 4, 1]),
    );
    expect(Array.from(got.data)).toEqual(Array.from(want.dataSync()));
    expect(Array.from(got.data).filter((v) => v === 1)).toHaveLength(2);
  });

  test('its forward-mode tangent equals the gradient-based directional derivative', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3, 4, 4, 2], 'float64');
    const t = g.placeholder('t', [1, 3, 4, 4, 2], 'float64');
    for (const y of [maxPool3d(x, 2, 1, 'same'), avgPool3d(x, 3, 2, 'same')]) {
      const [tangent] = jvp(sum(mul(y, y)), [x], [t]);
      const [dx] = gradients(sum(mul(y, y)), [x]);
      const rng = new Rng(3);
      const feeds: Feed[] = [
        [x, randomArray(rng, [1, 3, 4, 4, 2])],
        [t, randomArray(rng, [1, 3, 4, 4, 2])],
      ];
      expectClose(run(tangent, feeds), run(sum(mul(dx as Tensor, t)), feeds), 1e-12);
    }
  });

  test('says which window argument is wrong', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 4, 1]);
    expect(() => maxPool3d(x, [5, 2, 2], 1, 'valid')).toThrow(
      /window's depth span 5 is larger than the padded depth 4/,
    );
    expect(() => avgPool3d(x, 0, 1, 'valid')).toThrow(/filterSize \[0,0,0\] must be three positive integers/);
    expect(() => maxPool3d(x, 2, 1, 'same', 'ceil')).toThrow(/dimRoundingMode 'ceil' needs a number padding/);
    expect(() => maxPool3d(g.placeholder('v', [4, 4, 4]), 2, 1, 'valid')).toThrow(/rank 5 \(or 4\)/);
  });
});

describe('conv3d', () => {
  test('its forward-mode tangent (bilinear) equals the gradient-based directional derivative', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3, 4, 3, 2], 'float64');
    const f = g.placeholder('f', [2, 2, 2, 2, 3], 'float64');
    const tx = g.placeholder('tx', [1, 3, 4, 3, 2], 'float64');
    const tf3 = g.placeholder('tf', [2, 2, 2, 2, 3], 'float64');
    const loss = sum(tanh(conv3d(x, f, [1, 2, 1], 'same', 'NDHWC', [1, 1, 2])));
    const [tangent] = jvp(loss, [x, f], [tx, tf3]);
    const [dx, df] = gradients(loss, [x, f]) as Tensor[];
    const rng = new Rng(11);
    const feeds: Feed[] = [x, f, tx, tf3].map((p) => [p, randomArray(rng, p.shape as number[])]);
    const directional = run(sum(mul(dx, tx)).add(sum(mul(df, tf3))), feeds);
    expectClose(run(tangent, feeds), directional, 1e-12);
  });

  test('a Hessian-vector product through a small 3-D conv net matches finite differences of the gradient', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 4, 1], 'float64');
    const w1 = g.placeholder('w1', [2, 2, 2, 1, 2], 'float64');
    const w2 = g.placeholder('w2', [2, 2, 2, 2, 1], 'float64');
    const v = g.placeholder('v', [2, 2, 2, 1, 2], 'float64');
    const h = tanh(conv3d(x, w1, 1, 'same'));
    const loss = sum(mul(maxPool3d(conv3d(h, w2, 1, 'valid'), 2, 1, 'valid'), 1).square());
    const [dw1] = gradients(loss, [w1]) as Tensor[];
    const [hv] = gradients(sum(mul(dw1, v)), [w1]) as Tensor[];
    const rng = new Rng(5);
    const xs = randomArray(rng, [1, 4, 4, 4, 1]);
    const w1s = randomArray(rng, [2, 2, 2, 1, 2]);
    const w2s = randomArray(rng, [2, 2, 2, 2, 1]);
    const vs = randomArray(rng, [2, 2, 2, 1, 2]);
    const eps = 1e-5;
    const shifted = (sign: number): NDArray => {
      const w = new Float64Array(w1s.data.length);
      w.forEach((_, i) => (w[i] = w1s.data[i] + sign * eps * vs.data[i]));
      return run(dw1, [
        [x, xs],
        [w1, new NDArray(w, [2, 2, 2, 1, 2], 'float64')],
        [w2, w2s],
      ]);
    };
    const [plus, minus] = [shifted(1), shifted(-1)];
    const fd = new NDArray(
      Float64Array.from(plus.data, (p, i) => (p - minus.data[i]) / (2 * eps)),
      [2, 2, 2, 1, 2],
      'float64',
    );
    const got = run(hv, [
      [x, xs],
      [w1, w1s],
      [w2, w2s],
      [v, vs],
    ]);
    expect(Math.max(...Array.from(got.data, Math.abs))).toBeGreaterThan(1e-3);
    expectClose(got, fd, 1e-6);
  });

  test('its gradients read dims unknown when differentiating from x and the filter at run time', () => {
    const rng = new Rng(13);
    const xs = randomArray(rng, [2, 3, 4, 3, 2]);
    const fs = randomArray(rng, [2, 2, 2, 2, 3]);
    const gradientsFor = (xShape: (number | null)[], fShape: (number | null)[]): NDArray[] => {
      const g = new Graph();
      const x = g.placeholder('x', xShape, 'float64');
      const f = g.placeholder('f', fShape, 'float64');
      const grads = gradients(sum(tanh(conv3d(x, f, [2, 1, 1], 'same'))), [x, f]) as Tensor[];
      return new Session(g).run(
        grads,
        new Map<Tensor, NDArray>([
          [x, xs],
          [f, fs],
        ]),
      );
    };
    const known = gradientsFor([2, 3, 4, 3, 2], [2, 2, 2, 2, 3]);
    const unknown = gradientsFor([null, null, null, null, 2], [null, null, null, 2, 3]);
    known.forEach((want, i) => expectClose(unknown[i], want, 0));
  });

  test('says what is wrong with the shapes', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 4, 3]);
    expect(() => conv3d(x, g.placeholder('f', [2, 2, 2, 2, 4]), 1, 'same')).toThrow(
      /the input has 3 channels but the filter takes 2/,
    );
    expect(() => conv3d(x, g.placeholder('f4', [2, 2, 3, 4]), 1, 'same')).toThrow(/the filter must have rank 5/);
    expect(() => conv3d(x, g.placeholder('big', [5, 2, 2, 3, 4]), 1, 'valid')).toThrow(
      /the filter's depth 5 \(dilation 1\) does not fit/,
    );
    expect(() => conv3d(x, g.placeholder('f2', [2, 2, 2, 3, 4]), [1, 1] as never, 'same')).toThrow(
      /strides \[1,1\] must be a number or three numbers/,
    );
  });
});

describe('dimRoundingMode of the 2-D convolutions', () => {
  test('needs a number or explicit padding, as tfjs', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 6, 6, 2]);
    const f = g.placeholder('f', [3, 3, 2, 2]);
    expect(() => conv2d(x, f, 2, 'same', 'NHWC', 1, 'ceil')).toThrow(/pad must be a number or explicit/);
    expect(conv2d(x, f, 2, 1, 'NHWC', 1, 'ceil').shape).toEqual([1, 4, 4, 2]);
    expect(conv2d(x, f, 2, 1, 'NHWC', 1, 'floor').shape).toEqual([1, 3, 3, 2]);
    expect(() => conv2d(g.placeholder('u', [1, null, 6, 2]), f, 2, 1, 'NHWC', 1, 'ceil')).toThrow(
      /dimRoundingMode needs the input's height and width/,
    );
  });
});

describe('chain methods', () => {
  test('batchNorm, localResponseNormalization and pool chain as their builders', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 4, 4, 3], 'float64');
    const value = randomArray(new Rng(9), [2, 4, 4, 3]);
    const pairs: [Tensor, Tensor][] = [
      [
        x.batchNorm([0.1, 0.2, 0.3], [1, 2, 3], [0, 1, 0], [2, 1, 1], 0.01),
        batchNorm(x, [0.1, 0.2, 0.3], [1, 2, 3], [0, 1, 0], [2, 1, 1], 0.01),
      ],
      [x.localResponseNormalization(1, 2, 0.5, 0.75), localResponseNormalization(x, 1, 2, 0.5, 0.75)],
      [x.pool([2, 2], 'max', 'same', 1, 2), pool(x, [2, 2], 'max', 'same', 1, 2)],
    ];
    for (const [chained, built] of pairs) {
      expect(Array.from(run(chained, [[x, value]]).data)).toEqual(Array.from(run(built, [[x, value]]).data));
    }
  });
});
