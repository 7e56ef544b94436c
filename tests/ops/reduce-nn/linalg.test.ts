/**
 * dot and outerProduct: forward against tfjs for every rank pairing, gradients against finite differences and
 * tf.grads, second derivatives, and shape errors.
 */
import * as tf from '@tensorflow/tfjs';
import { Graph, NDArray, ShapeError, dot, outerProduct, square } from '../../../src';
import { Rng, expectClose, randomArray } from '../util';
import { checkFirstOrder, checkForward, checkSecondOrder, compareGradientsWithTf, run, useTfCpu } from './helpers';

useTfCpu();

const DOT_CASES: [string, number[], number[]][] = [
  ['vector · vector', [5], [5]],
  ['matrix · vector', [3, 5], [5]],
  ['vector · matrix', [5], [5, 4]],
  ['matrix · matrix', [3, 5], [5, 4]],
  ['length-1 vectors', [1], [1]],
];

describe('dot', () => {
  test.each(DOT_CASES.map(([name, a, b], i) => ({ name, a, b, seed: 10 + i })))(
    '$name matches tfjs',
    ({ a, b, seed }) => {
      checkForward(seed, [{ shape: a }, { shape: b }], dot, tf.dot);
    },
  );

  test.each(DOT_CASES.map(([name, a, b], i) => ({ name, a, b, seed: 20 + i })))(
    '$name: gradient vs finite differences',
    ({ a, b, seed }) => {
      checkFirstOrder(seed, [{ shape: a }, { shape: b }], dot);
    },
  );

  test.each(DOT_CASES.map(([name, a, b], i) => ({ name, a, b, seed: 30 + i })))(
    '$name: gradient vs tfjs',
    ({ a, b, seed }) => {
      const rng = new Rng(seed);
      compareGradientsWithTf(
        seed,
        [randomArray(rng, a, 'float32'), randomArray(rng, b, 'float32')],
        [],
        ([x, y]) => dot(x, y),
        ([x, y]) => tf.dot(x, y),
      );
    },
  );

  test('second derivative of a squared dot product vs finite differences', () => {
    checkSecondOrder(40, [{ shape: [3, 4] }, { shape: [4] }], (a, b) => square(dot(a, b)));
  });

  test('int32 operands give an int32 result', () => {
    checkForward(
      41,
      [
        { shape: [2, 3], dtype: 'int32', options: { lo: -4, hi: 4 } },
        { shape: [3], dtype: 'int32', options: { lo: -4, hi: 4 } },
      ],
      dot,
      tf.dot,
    );
  });

  test('a JS array operand becomes a constant of the tensor operand dtype', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3], 'float64');
    const y = dot(x, [1, 10, 100]);
    expect(y.shape).toEqual([2]);
    const [out] = run(
      [y],
      [
        [
          x,
          NDArray.from(
            [
              [1, 2, 3],
              [4, 5, 6],
            ],
            'float64',
          ),
        ],
      ],
    );
    expectClose(out, { shape: [2], data: [321, 654] }, 0);
  });

  test('unknown dims stay unknown and resolve at run time', () => {
    const g = new Graph();
    const a = g.placeholder('a', [null, 3], 'float64');
    const v = g.placeholder('v', [3], 'float64');
    const y = dot(a, v);
    expect(y.shape).toEqual([null]);
    const [out] = run(
      [y],
      [
        [
          a,
          NDArray.from(
            [
              [1, 0, 0],
              [0, 1, 0],
              [0, 0, 1],
              [1, 1, 1],
            ],
            'float64',
          ),
        ],
        [v, NDArray.from([2, 3, 4], 'float64')],
      ],
    );
    expectClose(out, { shape: [4], data: [2, 3, 4, 9] }, 0);
  });

  test('rank 0 or 3 operands are a ShapeError naming the ranks', () => {
    const g = new Graph();
    expect(() => dot(g.placeholder('a', [2, 2, 2]), g.placeholder('b', [2]))).toThrow(ShapeError);
    expect(() => dot(g.placeholder('c', []), g.placeholder('d', [2]))).toThrow(/rank 1 or 2, got ranks 0 and 1/);
  });

  test('mismatched inner dims are a ShapeError naming both', () => {
    const g = new Graph();
    expect(() => dot(g.placeholder('a', [2, 3]), g.placeholder('b', [4, 2]))).toThrow(/inner dims differ \(3 vs 4\)/);
    expect(() => dot(g.placeholder('c', [3]), g.placeholder('d', [2]))).toThrow(ShapeError);
  });
});

describe('outerProduct', () => {
  test.each([
    [[3], [4]],
    [[1], [5]],
    [[6], [1]],
  ])('%j ⊗ %j matches tfjs', (a, b) => {
    checkForward(50, [{ shape: a }, { shape: b }], outerProduct, (x, y) =>
      tf.outerProduct(x as tf.Tensor1D, y as tf.Tensor1D),
    );
  });

  test('gradient vs finite differences', () => {
    checkFirstOrder(51, [{ shape: [3] }, { shape: [4] }], outerProduct);
  });

  test('gradient vs tfjs', () => {
    const rng = new Rng(52);
    compareGradientsWithTf(
      52,
      [randomArray(rng, [3], 'float32'), randomArray(rng, [4], 'float32')],
      [],
      ([x, y]) => outerProduct(x, y),
      ([x, y]) => tf.outerProduct(x as tf.Tensor1D, y as tf.Tensor1D),
    );
  });

  test('second derivative vs finite differences', () => {
    checkSecondOrder(53, [{ shape: [3] }, { shape: [2] }], (a, b) => square(outerProduct(a, b)));
  });

  test('non-vector operands are a ShapeError', () => {
    const g = new Graph();
    expect(() => outerProduct(g.placeholder('a', [2, 2]), g.placeholder('b', [2]))).toThrow(
      /must be rank 1, got ranks 2 and 1/,
    );
  });
});
