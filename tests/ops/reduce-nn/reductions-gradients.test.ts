/**
 * Gradients of the composite reductions norm and moments (against finite differences in float64, tf.grads with a
 * random dy, and second derivatives), and the exact values at ties in min/max and zeros in prod. The primitive
 * reductions' sweeps are rows of the op table (../cases/reduce.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {
  Graph,
  NDArray,
  Tensor,
  all,
  argMax,
  gradients,
  greater,
  max,
  min,
  moments,
  mul,
  norm,
  prod,
  sum,
} from '../../../src';
import { Rng, distinctArray, expectClose, randomArray, weightedSum } from '../util';
import {
  arrayOf,
  checkFirstOrder,
  checkSecondOrder,
  compareGradientsWithTf,
  expectGradientsMatch,
  expectSecondOrderMatches,
  placeholders,
  run,
  useTfCpu,
} from './helpers';
import { GRAD_AXES } from '../cases/reduce';

useTfCpu();

type Axis = number | number[] | undefined;

/** The shapes, axes and keepDims of the op table's reduction gradient rows. */
const AXES = GRAD_AXES;

function distinct(seed: number, shape: number[]): number[] {
  return Array.from(distinctArray(new Rng(seed), shape, 'float64', 0.23).data);
}

describe('gradients vs finite differences (float64)', () => {
  const cases = AXES.map(([shape, axis, keepDims], i) => ({ shape, axis, keepDims, seed: 10 + i }));

  test.each(cases)('moments: shape $shape, axis $axis, keepDims $keepDims', ({ shape, axis, keepDims, seed }) => {
    const rng = new Rng(seed);
    const g = new Graph();
    const { xs, feeds } = placeholders(g, rng, [{ shape }]);
    const m = moments(xs[0], axis, keepDims);
    const loss = weightedSum(rng, m.mean).add(weightedSum(rng, m.variance));
    expectGradientsMatch(loss, feeds);
  });

  const norms: [string, 'euclidean' | 'fro' | number, Axis][] = [
    ['euclidean, all elements', 'euclidean', undefined],
    ['euclidean, axis 1', 'euclidean', 1],
    ['2, axis -1', 2, -1],
    ['1, axis 0', 1, 0],
    ['Infinity, axis 1', Infinity, 1],
    ['-Infinity, axis 1', -Infinity, 1],
    ['3, axis 1', 3, 1],
    ['0.5, axis 0', 0.5, 0],
    ['fro, axes [1, 2]', 'fro', [1, 2]],
    ['1, axes [0, 2]', 1, [0, 2]],
    ['Infinity, axes [1, 2]', Infinity, [1, 2]],
    ['-Infinity, axes [2, 1]', -Infinity, [2, 1]],
    ['-1, axes [0, 1]', -1, [0, 1]],
  ];
  test.each(norms.map(([name, ord, axis], i) => ({ name, ord, axis, seed: 40 + i })))(
    'norm $name',
    ({ ord, axis, seed }) => {
      // Distinct magnitudes keep the ∞-norms off their kinks; all away from 0 keeps |x| differentiable.
      const values = distinct(seed, [2, 3, 4]).map((v) => (v >= 0 ? v + 0.1 : v - 0.1));
      checkFirstOrder(seed, [{ shape: [2, 3, 4], values }], (x) => norm(x, ord, axis, seed % 2 === 0));
    },
  );
});

describe('ties in min and max share the gradient equally', () => {
  test.each([
    ['max', max],
    ['min', min],
  ] as [string, (x: Tensor, axis?: number) => Tensor][])('%s', (name, op) => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 4], 'float64');
    const s = name === 'max' ? 1 : -1;
    const rows = [
      [s * 3, s * 1, s * 3, s * 3],
      [s * 2, s * 2, 0, s * -1],
    ];
    const [dx] = gradients(sum(mul(op(x, 1), g.constant([10, 100], 'float64'))), [x]);
    const [got] = run([dx as Tensor], [[x, NDArray.from(rows, 'float64')]]);
    expectClose(got, { shape: [2, 4], data: [10 / 3, 0, 10 / 3, 10 / 3, 50, 50, 0, 0] }, 1e-15);
  });
});

describe('prod with zeros', () => {
  const shape = [3, 4];
  // Row 0 holds one zero, row 1 two, row 2 three: each row exercises another case of the gradient.
  const values = [1.5, 0, -2, 0.5, 0, 1.25, 0, 3, 0, 0, 2, 0];

  test('the gradient is the product of the other elements, for any number of zeros', () => {
    const g = new Graph();
    const x = g.placeholder('x', shape, 'float64');
    const dy = g.constant([1, 10, 100], 'float64');
    const [dx] = gradients(prod(x, 1), [x], [dy]);
    const [got] = run([dx as Tensor], [[x, arrayOf(values, shape, 'float64')]]);
    const expected = values.map((_, i) => {
      const row = Math.floor(i / 4);
      let p = 1;
      for (let k = 0; k < 4; k++) if (row * 4 + k !== i) p *= values[row * 4 + k];
      return p * [1, 10, 100][row];
    });
    expectClose(got, { shape, data: expected }, 1e-15);
  });

  test('first derivative agrees with finite differences', () => {
    checkFirstOrder(70, [{ shape, values }], (x) => prod(x, 1));
    const oneZero = values.map((v, i) => (v === 0 && i !== 4 ? 0.5 + i / 10 : v));
    checkFirstOrder(71, [{ shape, values: oneZero }], (x) => prod(x, [0, 1], true));
  });

  test.each([
    ['one zero', [1.5, 0, -2, 0.5, 0.75, 1.25, -1.1, 3]],
    ['two zeros', [1.5, 0, -2, 0, 0.75, 0, 0, 3]],
    ['no zeros', [1.5, 0.5, -2, 0.8, 0.75, 1.25, -1.1, 3]],
  ])('second derivative agrees with finite differences: %s', (_name, vals) => {
    checkSecondOrder(72, [{ shape: [2, 4], values: vals }], (x) => prod(x, 1), 1e-6);
  });

  test('second derivative over several axes with one zero per group', () => {
    const vals = [0.9, 1.1, 0, -1.2, 1.3, 0.7, 0.8, 0, -0.6, 1.4, 1.05, -0.95];
    checkSecondOrder(73, [{ shape: [2, 3, 2], values: vals }], (x) => prod(x, [0, 2]), 1e-6);
  });

  test('matches tfjs, including zeros, with a random dy', () => {
    compareGradientsWithTf(
      74,
      [arrayOf(values, shape)],
      [],
      ([x]) => prod(x, 1),
      ([x]) => tf.prod(x, 1),
    );
  });
});

describe('gradients vs tfjs (float32, random dy)', () => {
  const cases = AXES.map(([shape, axis, keepDims], i) => ({ shape, axis, keepDims, seed: 80 + i }));

  test.each(cases)('moments: shape $shape, axis $axis, keepDims $keepDims', ({ shape, axis, keepDims, seed }) => {
    const rng = new Rng(seed);
    const w = randomArray(rng, [1], 'float32');
    compareGradientsWithTf(
      seed,
      [randomArray(rng, shape, 'float32')],
      [w],
      ([x], [c]) => {
        const m = moments(x, axis, keepDims);
        return m.mean.add(m.variance.mul(c));
      },
      ([x], [c]) => {
        const m = tf.moments(x, axis, keepDims);
        return tf.add(m.mean, tf.mul(m.variance, c));
      },
    );
  });

  const norms: ['euclidean' | 'fro' | number, number | [number, number] | undefined][] = [
    ['euclidean', undefined],
    ['euclidean', 1],
    [1, 0],
    [Infinity, 2],
    [-Infinity, 1],
    ['fro', [1, 2]],
    [1, [0, 2]],
    [Infinity, [1, 2]],
    [-Infinity, [0, 1]],
  ];
  test.each(norms.map(([ord, axis], i) => ({ ord, axis, seed: 90 + i })))(
    'norm ord $ord, axis $axis',
    ({ ord, axis, seed }) => {
      // Random values: no ties between the row or column sums the ∞-norms pick from (tfjs does not share ties).
      compareGradientsWithTf(
        seed,
        [randomArray(new Rng(seed), [2, 3, 4], 'float32', { awayFromZero: 0.1 })],
        [],
        ([x]) => norm(x, ord, axis, true),
        ([x]) => tf.norm(x, ord, axis, true),
      );
    },
  );
});

describe('second derivatives vs finite differences', () => {
  const norms: ['euclidean' | 'fro' | number, number | number[] | undefined][] = [
    ['euclidean', undefined],
    ['euclidean', -1],
    [3, 1],
    ['fro', [0, 1]],
  ];
  test.each(norms.map(([ord, axis], i) => ({ ord, axis, seed: 140 + i })))(
    'norm ord $ord, axis $axis',
    ({ ord, axis, seed }) => {
      checkSecondOrder(seed, [{ shape: [3, 4], options: { awayFromZero: 0.2 } }], (x) => norm(x, ord, axis));
    },
  );

  test('moments: the variance', () => {
    const rng = new Rng(150);
    const g = new Graph();
    const { xs, feeds } = placeholders(g, rng, [{ shape: [3, 4] }]);
    expectSecondOrderMatches(rng, weightedSum(rng, moments(xs[0], 1).variance), feeds);
  });
});

describe('ops without a gradient', () => {
  test('argMax and all pass no gradient (their outputs are int32 and bool)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3, 4], 'float32');
    const picked = mul(x, argMax(x, 1).reshape([3, 1]).cast('float32'));
    const masked = mul(x, all(greater(x, 0), 1, true).cast('float32'));
    const [dPicked, dMasked] = [gradients(sum(picked), [x])[0], gradients(sum(masked), [x])[0]];
    const value = randomArray(new Rng(1), [3, 4], 'float32');
    const [a, b] = run(
      [dPicked as Tensor, dMasked as Tensor, argMax(x, 1), all(greater(x, 0), 1, true)],
      [[x, value]],
    ).slice(2);
    // x · c with c built from x by non-differentiable ops: the gradient is c itself.
    const [ga, gb] = run([dPicked as Tensor, dMasked as Tensor], [[x, value]]);
    expect(Array.from(ga.data)).toEqual(Array.from({ length: 12 }, (_, i) => a.data[Math.floor(i / 4)]));
    expect(Array.from(gb.data)).toEqual(Array.from({ length: 12 }, (_, i) => b.data[Math.floor(i / 4)]));
  });
});
