/**
 * Forward values of the reductions against TensorFlow.js (cpu backend, float32): several shapes up to rank 4,
 * axes as numbers, negative numbers and arrays, keepDims both ways; plus the values tfjs cannot give (empty
 * reductions, infinities in logSumExp).
 */
import * as tf from '@tensorflow/tfjs';
import {
  Graph,
  NDArray,
  Tensor,
  all,
  any,
  argMax,
  argMin,
  logSumExp,
  max,
  mean,
  min,
  moments,
  norm,
  prod,
  sum,
} from '../../../src';
import { Rng, distinctArray, expectClose } from '../util';
import { arrayOf, checkForward, run, useTfCpu } from './helpers';

useTfCpu();

type Axis = number | number[] | undefined;
type Reducer = (x: Tensor, axis?: number | readonly number[], keepDims?: boolean) => Tensor;
type TfReducer = (x: tf.Tensor, axis?: number | number[], keepDims?: boolean) => tf.Tensor;

const CASES: [number[], Axis][] = [
  [[], undefined],
  [[5], undefined],
  [[5], 0],
  [[5], -1],
  [[3, 4], 1],
  [[3, 4], -2],
  [
    [3, 4],
    [0, 1],
  ],
  [
    [2, 3, 4],
    [0, 2],
  ],
  [
    [2, 3, 4],
    [-1, 0],
  ],
  [[2, 3, 4], 1],
  [
    [2, 3, 2, 3],
    [1, 3],
  ],
  [[2, 3, 2, 3], [-3]],
  [
    [2, 3, 2, 3],
    [0, 1, 2],
  ],
  [[2, 3, 2, 3], undefined],
];

const FLOAT_REDUCERS: [string, Reducer, TfReducer][] = [
  ['sum', sum, tf.sum],
  ['mean', mean, tf.mean],
  ['max', max, tf.max],
  ['min', min, tf.min],
  ['prod', prod, tf.prod],
  ['logSumExp', logSumExp, tf.logSumExp],
];

describe.each(FLOAT_REDUCERS)('%s matches tfjs', (name, ours, theirs) => {
  const cases = CASES.flatMap(([shape, axis], i) =>
    [false, true].map((keepDims) => ({ shape, axis, keepDims, seed: 100 * i + (keepDims ? 1 : 0) })),
  );
  test.each(cases)('shape $shape, axis $axis, keepDims $keepDims', ({ shape, axis, keepDims, seed }) => {
    checkForward(
      seed + name.length * 1000,
      [{ shape, options: { lo: -1.6, hi: 1.6 } }],
      (x) => ours(x, axis, keepDims),
      (x) => theirs(x, axis, keepDims),
    );
  });
});

test('sum, max, min and prod of int32 stay int32 and match tfjs', () => {
  for (const [ours, theirs] of [
    [sum, tf.sum],
    [max, tf.max],
    [min, tf.min],
    [prod, tf.prod],
  ] as [Reducer, TfReducer][]) {
    checkForward(
      7,
      [{ shape: [3, 4], dtype: 'int32', options: { lo: -3, hi: 3 } }],
      (x) => ours(x, 1),
      (x) => theirs(x, 1),
    );
  }
});

describe.each([
  ['all', all, tf.all],
  ['any', any, tf.any],
] as [string, Reducer, TfReducer][])('%s matches tfjs on bool input', (name, ours, theirs) => {
  test.each(CASES.map(([shape, axis], i) => ({ shape, axis, seed: 500 + i })))(
    'shape $shape, axis $axis',
    ({ shape, axis, seed }) => {
      // Mostly true for all (so that some groups are all true), mostly false for any.
      const options = name === 'all' ? { lo: -0.3, hi: 4 } : { lo: -4, hi: 0.3 };
      for (const keepDims of [false, true]) {
        checkForward(
          seed,
          [{ shape, dtype: 'bool', options }],
          (x) => ours(x, axis, keepDims),
          (x) => theirs(x, axis, keepDims),
        );
      }
    },
  );
});

describe.each([
  ['argMax', argMax, tf.argMax],
  ['argMin', argMin, tf.argMin],
] as [string, (x: Tensor, axis?: number) => Tensor, (x: tf.Tensor, axis?: number) => tf.Tensor][])(
  '%s matches tfjs and returns int32',
  (_name, ours, theirs) => {
    const cases: [number[], number | undefined][] = [
      [[6], undefined],
      [[3, 4], undefined],
      [[3, 4], 1],
      [[3, 4], -1],
      [[2, 3, 4], 1],
      [[2, 3, 2, 3], -2],
      [[2, 3, 2, 3], 3],
    ];
    test.each(cases.map(([shape, axis], i) => ({ shape, axis, seed: 700 + i })))(
      'shape $shape, axis $axis',
      ({ shape, axis }) => {
        const values = Array.from(distinctArray(new Rng(shape.length), shape, 'float32').data);
        checkForward(
          1,
          [{ shape, values }],
          (x) => {
            const y = ours(x, axis);
            expect(y.dtype).toBe('int32');
            return y;
          },
          (x) => theirs(x, axis),
        );
      },
    );

    test('the first of tied extremes wins, as in tfjs', () => {
      const values = [1, 3, 3, -2, 0, 0, -2, 1, 5, -2, 5, 5];
      checkForward(
        1,
        [{ shape: [3, 4], values }],
        (x) => ours(x, 1),
        (x) => theirs(x, 1),
      );
      checkForward(
        1,
        [{ shape: [3, 4], values }],
        (x) => ours(x, 0),
        (x) => theirs(x, 0),
      );
    });

    test('int32 input', () => {
      checkForward(
        2,
        [{ shape: [4, 5], dtype: 'int32', options: { lo: -9, hi: 9 } }],
        (x) => ours(x, 1),
        (x) => theirs(x, 1),
      );
    });
  },
);

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
