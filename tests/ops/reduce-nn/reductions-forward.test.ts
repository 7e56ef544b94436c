/**
 * Forward values of the composite reductions norm and moments against TensorFlow.js (cpu backend, float32), and
 * the values tfjs cannot give (empty reductions, infinities in logSumExp). The primitive reductions' sweeps over
 * shapes, axes and keepDims are rows of the op table (../cases/reduce.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { Graph, NDArray, all, any, logSumExp, max, min, moments, norm, prod, sum } from '../../../src';
import { expectClose } from '../util';
import { arrayOf, checkForward, run, useTfCpu } from './helpers';

useTfCpu();

type Axis = number | number[] | undefined;

describe('norm matches tfjs', () => {
  const vectorCases: [number[], number | undefined][] = [
    [[7], undefined],
    [[3, 4], undefined],
    [[2, 3, 4], undefined],
    [[3, 4], 1],
    [[2, 3, 4], 0],
    [[2, 3, 2, 3], 2],
  ];
  const ords: ('euclidean' | number)[] = ['euclidean', 2, 1, Infinity, -Infinity];
  const cases = vectorCases.flatMap(([shape, axis]) =>
    ords.flatMap((ord) => [false, true].map((keepDims) => ({ shape, axis, ord, keepDims }))),
  );
  test.each(cases)(
    'vector: shape $shape, ord $ord, axis $axis, keepDims $keepDims',
    ({ shape, axis, ord, keepDims }) => {
      checkForward(
        shape.length * 10 + (axis ?? 9),
        [{ shape }],
        (x) => norm(x, ord, axis, keepDims),
        (x) => tf.norm(x, ord, axis, keepDims),
      );
    },
  );

  const matrixCases: [number[], [number, number]][] = [
    [
      [3, 4],
      [0, 1],
    ],
    [
      [2, 3, 4],
      [1, 2],
    ],
    [
      [2, 3, 4],
      [0, 2],
    ],
    [
      [2, 3, 2, 3],
      [0, 3],
    ],
  ];
  const matrixOrds: ('fro' | 'euclidean' | number)[] = ['fro', 'euclidean', 1, Infinity, -Infinity];
  const mcases = matrixCases.flatMap(([shape, axis]) =>
    matrixOrds.flatMap((ord) => [false, true].map((keepDims) => ({ shape, axis, ord, keepDims }))),
  );
  test.each(mcases)(
    'matrix: shape $shape, ord $ord, axis $axis, keepDims $keepDims',
    ({ shape, axis, ord, keepDims }) => {
      checkForward(
        shape.length * 100 + axis[1],
        [{ shape }],
        (x) => norm(x, ord, axis, keepDims),
        (x) => tf.norm(x, ord, axis, keepDims),
      );
    },
  );

  test('negative matrix axes give the same norm as their non-negative form', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3, 4], 'float64');
    const value = NDArray.from(
      Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3),
      'float64',
    );
    const fed = new NDArray(value.data, [2, 3, 4], 'float64');
    for (const ord of ['fro', 1, Infinity, -Infinity] as const) {
      const [a, b] = run([norm(x, ord, [-2, -1]), norm(x, ord, [1, 2])], [[x, fed]]);
      expectClose(a, b, 0);
    }
  });

  test('the matrix 1-norm follows the order of the axes: axis [1, 0] is the ∞-norm of axis [0, 1]', () => {
    checkForward(
      3,
      [{ shape: [3, 4] }],
      (x) => norm(x, 1, [1, 0]),
      (x) => tf.norm(x, Infinity, [0, 1]),
    );
  });

  test('general p-norms: (Σ|x|^p)^(1/p) and the count of non-zeros for p = 0', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 4], 'float64');
    const rows = [
      [1, -2, 0, 3],
      [0.5, 0, 0, -4],
    ];
    const fed = NDArray.from(rows, 'float64');
    const [p3, pHalf, pMinus1, p0] = run(
      [norm(x, 3, 1), norm(x, 0.5, 1), norm(x, -1, 1, true), norm(x, 0, 1)],
      [[x, fed]],
    );
    const pnorm = (r: number[], p: number): number => r.reduce((s, v) => s + Math.abs(v) ** p, 0) ** (1 / p);
    expectClose(p3, { shape: [2], data: rows.map((r) => pnorm(r, 3)) }, 1e-14);
    expectClose(pHalf, { shape: [2], data: rows.map((r) => pnorm(r, 0.5)) }, 1e-14);
    // numpy's convention: a zero makes Σ|x|^-1 infinite, so the −1 norm is 0.
    expectClose(pMinus1, { shape: [2, 1], data: [0, 0] }, 0);
    expectClose(p0, { shape: [2], data: [3, 2] }, 0);
  });

  test("'fro' over all elements is the euclidean norm of the flattened tensor", () => {
    checkForward(
      4,
      [{ shape: [3, 4] }],
      (x) => norm(x, 'fro'),
      (x) => tf.norm(x, 'euclidean'),
    );
  });
});

describe('moments matches tfjs', () => {
  const cases: [number[], Axis][] = [
    [[6], undefined],
    [[3, 4], 0],
    [[3, 4], -1],
    [
      [2, 3, 4],
      [0, 1],
    ],
    [
      [2, 3, 2, 3],
      [0, 1, 2],
    ],
    [
      [2, 3, 2, 3],
      [-1, 1],
    ],
  ];
  test.each(cases.flatMap(([shape, axis]) => [false, true].map((keepDims) => ({ shape, axis, keepDims }))))(
    'shape $shape, axis $axis, keepDims $keepDims',
    ({ shape, axis, keepDims }) => {
      checkForward(
        shape.length,
        [{ shape }],
        (x) => {
          const m = moments(x, axis, keepDims);
          return [m.mean, m.variance];
        },
        (x) => {
          const m = tf.moments(x, axis, keepDims);
          return [m.mean, m.variance];
        },
      );
    },
  );
});

describe('values tfjs does not cover', () => {
  test('reductions over an empty axis give the identity of their operation', () => {
    const g = new Graph();
    const x = g.placeholder('x', [0, 3], 'float32');
    const empty = new NDArray(new Float32Array(0), [0, 3], 'float32');
    const outs = run([sum(x, 0), prod(x, 0), max(x, 0), min(x, 0), logSumExp(x, 0)], [[x, empty]]);
    const expected = [0, 1, -Infinity, Infinity, -Infinity];
    outs.forEach((o, i) => expect(Array.from(o.data)).toEqual([expected[i], expected[i], expected[i]]));
    const b = g.placeholder('b', [2, 0], 'bool');
    const [a, o] = run([all(b, 1), any(b, 1)], [[b, new NDArray(new Uint8Array(0), [2, 0], 'bool')]]);
    expect(Array.from(a.data)).toEqual([1, 1]);
    expect(Array.from(o.data)).toEqual([0, 0]);
  });

  test('logSumExp is exact for huge inputs and infinite maxima (no Inf − Inf)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 3], 'float64');
    const rows = [
      [1000, 1000, -1000],
      [-Infinity, -Infinity, -Infinity],
      [Infinity, 1, 2],
      [-Infinity, 0, 0],
    ];
    const columns = g.placeholder('columns', [3, 4], 'float64');
    const transposed = rows[0].map((_, j) => rows.map((r) => r[j]));
    const [y, z] = run(
      [logSumExp(x, 1), logSumExp(columns, 0)],
      [
        [x, NDArray.from(rows, 'float64')],
        [columns, NDArray.from(transposed, 'float64')],
      ],
    );
    const expected = [1000 + Math.log(2), -Infinity, Infinity, Math.log(2)];
    expectClose(y, { shape: [4], data: expected }, 1e-15);
    expectClose(z, { shape: [4], data: expected }, 1e-15);
  });

  test('logSumExp over several axes equals the log of the summed exponentials', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3, 4], 'float64');
    const value = arrayOf(
      Array.from({ length: 24 }, (_, i) => Math.cos(i * 1.7) * 4),
      [2, 3, 4],
      'float64',
    );
    const [y] = run([logSumExp(x, [0, 2], true)], [[x, value]]);
    const expected: number[] = [];
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) s += Math.exp(value.data[i * 12 + j * 4 + k]);
      expected.push(Math.log(s));
    }
    expectClose(y, { shape: [1, 3, 1], data: expected }, 1e-14);
  });

  test('a NaN propagates through min, prod and logSumExp', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const outs = run([min(x), prod(x), logSumExp(x)], [[x, NDArray.from([1, NaN, -1], 'float64')]]);
    for (const o of outs) expect(Number.isNaN(o.data[0])).toBe(true);
    const m = g.placeholder('m', [3, 2], 'float64');
    const [columns] = run(
      [logSumExp(m, 0)],
      [
        [
          m,
          NDArray.from(
            [
              [1, 0],
              [NaN, 0],
              [-1, 0],
            ],
            'float64',
          ),
        ],
      ],
    );
    expect(Number.isNaN(columns.data[0])).toBe(true);
    expect(columns.data[1]).toBeCloseTo(Math.log(3), 14);
  });
});
