/**
 * Forward values of the indexing ops against TensorFlow.js (cpu backend) beyond the op table's sweeps
 * (../cases/indexing.ts): int32 and bool inputs, JS-array arguments, the composites unstack and split, the
 * stridedSlice cases tfjs gets wrong (against NumPy's values), and the generators.
 */
import * as tf from '@tensorflow/tfjs';
import {
  concat,
  cumsum,
  gather,
  linspace,
  oneHot,
  ones,
  pad,
  range,
  Session,
  slice,
  split,
  stack,
  stridedSlice,
  tile,
  unstack,
  zeros,
  fill,
  Graph,
  NDArray,
  Tensor,
} from '../../../src';
import { Rng } from '../util';
import { expectForwardMatches, ints, tfTensor, useTfCpu, values } from './helpers';

beforeAll(useTfCpu);

describe('concat', () => {
  test('int32 and bool inputs keep their dtype', () => {
    const rng = new Rng(2);
    expectForwardMatches(
      [values(rng, [2, 2], 'int32'), values(rng, [2, 3], 'int32')],
      (a, b) => concat([a, b], 1),
      (a, b) => tf.concat([a, b], 1),
    );
    expectForwardMatches(
      [values(rng, [3], 'bool'), values(rng, [2], 'bool')],
      (a, b) => concat([a, b]),
      (a, b) => tf.concat([a, b]),
    );
  });

  test('JS arrays join tensors as constants of their dtype', () => {
    const rng = new Rng(3);
    expectForwardMatches(
      [values(rng, [2, 2])],
      (a) => concat([a, [[5], [6]]], 1),
      (a) => tf.concat([a, tf.tensor([[5], [6]])], 1),
    );
  });

  test('a single tensor is returned as it is', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    expect(concat([x], 1)).toBe(x);
  });
});

describe('stack', () => {
  test('bool tensors', () => {
    const rng = new Rng(11);
    expectForwardMatches(
      [values(rng, [3], 'bool'), values(rng, [3], 'bool')],
      (a, b) => stack([a, b], 1),
      (a, b) => tf.stack([a, b], 1),
    );
  });
});

describe('unstack', () => {
  const cases: [string, number[], number][] = [
    ['rows of a matrix', [3, 2], 0],
    ['columns of a matrix (axis -1)', [3, 2], -1],
    ['rank 3 along axis 1', [2, 3, 4], 1],
    ['rank 4 along axis 2', [2, 1, 3, 2], 2],
    ['pieces with a size-0 dim', [2, 0], 0],
  ];
  test.each(cases)('%s', (_name, shape, axis) => {
    const rng = new Rng(20);
    expectForwardMatches(
      [values(rng, shape)],
      (x) => unstack(x, axis),
      (x) => tf.unstack(x, axis),
    );
  });

  test('a size-0 axis gives no pieces', () => {
    const g = new Graph();
    expect(unstack(g.placeholder('x', [0, 3]))).toEqual([]);
  });
});

describe('split', () => {
  const cases: [string, number[], number | number[], number][] = [
    ['into equal parts', [6, 2], 3, 0],
    ['by sizes along axis 1', [2, 6], [1, 2, 3], 1],
    ['with one inferred size', [2, 5], [2, -1, 1], 1],
    ['rank 3 along axis -1', [2, 2, 4], 2, -1],
    ['rank 4 with a size-0 piece', [2, 3, 1, 2], [0, 3], 1],
  ];
  test.each(cases)('%s', (_name, shape, splits, axis) => {
    const rng = new Rng(30);
    expectForwardMatches(
      [values(rng, shape)],
      (x) => split(x, splits, axis),
      (x) => tf.split(x, Array.isArray(splits) ? [...splits] : splits, axis),
    );
  });
});

describe('slice', () => {
  test('int32 input', () => {
    const rng = new Rng(41);
    expectForwardMatches(
      [values(rng, [3, 3], 'int32')],
      (x) => slice(x, [1, 0], [2, 2]),
      (x) => tf.slice(x, [1, 0], [2, 2]),
    );
  });
});

describe('stridedSlice', () => {
  // tfjs 4.22 fails these (wrong values, or an exception); the expected values are NumPy's for the same index
  // expression over x = arange(size).reshape(shape).
  function arange(shape: number[]): Tensor {
    const g = new Graph();
    const n = shape.reduce((a, b) => a * b, 1);
    return g.constant(
      new NDArray(
        Float32Array.from({ length: n }, (_, i) => i),
        shape,
      ),
    );
  }

  test('shrink and negative strides on rank 4 (NumPy x[2:0:-1, 0:4:2, 0, -1:0:-2])', () => {
    const y = stridedSlice(arange([3, 4, 2, 5]), [2, 0, 0, -1], [0, 4, 2, 0], [-1, 2, 1, -2], 0, 0, 0, 0, 4);
    expect(new Session(y.graph).run(y).toArray()).toEqual([
      [
        [84, 82],
        [104, 102],
      ],
      [
        [44, 42],
        [64, 62],
      ],
    ]);
  });

  test('an ellipsis followed by a new axis (NumPy x[1, ..., newaxis, 2:5:2])', () => {
    const y = stridedSlice(arange([2, 3, 4, 5]), [1, 0, 0, 2], [2, 0, 0, 5], [1, 1, 1, 2], 0, 0, 2, 4, 1);
    expect(y.shape).toEqual([3, 4, 1, 2]);
    const rows = [62, 82, 102].map((start) => [0, 5, 10, 15].map((k) => [[start + k, start + k + 2]]));
    expect(new Session(y.graph).run(y).toArray()).toEqual(rows);
  });

  /** The indices a Python/NumPy slice b:e:s picks from a dim of size n (CPython's slice.indices), null = omitted. */
  function pythonIndices(n: number, b: number | null, e: number | null, s: number): number[] {
    const lower = s < 0 ? -1 : 0;
    const upper = s < 0 ? n - 1 : n;
    const bound = (v: number | null, omitted: number): number =>
      v === null ? omitted : v < 0 ? Math.max(v + n, lower) : Math.min(v, upper);
    const start = bound(b, s < 0 ? upper : lower);
    const stop = bound(e, s < 0 ? lower : upper);
    const out: number[] = [];
    for (let i = start; s > 0 ? i < stop : i > stop; i += s) out.push(i);
    return out;
  }

  test('random slices with masks and negative strides on ranks 1-4 match NumPy semantics', () => {
    const rng = new Rng(51);
    for (let trial = 0; trial < 200; trial++) {
      const rank = rng.int(1, 4);
      const shape = Array.from({ length: rank }, () => rng.int(0, 5));
      const begin = shape.map((n) => rng.int(-n - 2, n + 2));
      const end = shape.map((n) => rng.int(-n - 2, n + 2));
      const strides = shape.map(() => rng.int(1, 3) * (rng.next() < 0.5 ? -1 : 1));
      const beginMask = rng.int(0, 2 ** rank - 1);
      const endMask = rng.int(0, 2 ** rank - 1);
      const picks = shape.map((n, d) =>
        pythonIndices(n, beginMask & (1 << d) ? null : begin[d], endMask & (1 << d) ? null : end[d], strides[d]),
      );
      const x = arange(shape);
      const y = stridedSlice(x, begin, end, strides, beginMask, endMask);
      const got = new Session(x.graph).run(y);
      expect([...got.shape]).toEqual(picks.map((p) => p.length));
      // The expected elements in row-major order of the picked indices.
      const strideOf = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      let flat = [0];
      picks.forEach((p, d) => (flat = flat.flatMap((o) => p.map((i) => o + i * strideOf[d]))));
      expect(Array.from(got.data)).toEqual(flat);
    }
  });

  test('begin past end gives an empty result (NumPy x[3:1, 0:3])', () => {
    const y = stridedSlice(arange([4, 3]), [3, 0], [1, 3], [1, 1]);
    expect(y.shape).toEqual([0, 3]);
    expect(new Session(y.graph).run(y).size).toBe(0);
  });
});

describe('gather', () => {
  test('indices given as a JS array become an int32 constant', () => {
    const rng = new Rng(61);
    expectForwardMatches(
      [values(rng, [4, 2])],
      (x) =>
        gather(x, [
          [3, 0],
          [1, 1],
        ]),
      (x) =>
        tf.gather(
          x,
          tf.tensor2d(
            [
              [3, 0],
              [1, 1],
            ],
            [2, 2],
            'int32',
          ),
        ),
    );
  });

  test('int32 values', () => {
    const rng = new Rng(62);
    expectForwardMatches(
      [values(rng, [4, 3], 'int32'), ints([2, 2, 0], [3])],
      (x, i) => gather(x, i, 1),
      (x, i) => tf.gather(x, i, 1),
    );
  });
});

describe('tile', () => {
  test('int32 values', () => {
    const rng = new Rng(71);
    expectForwardMatches(
      [values(rng, [2, 2], 'int32')],
      (x) => tile(x, [2, 2]),
      (x) => tf.tile(x, [2, 2]),
    );
  });
});

describe('pad', () => {
  test('int32 values', () => {
    const rng = new Rng(81);
    expectForwardMatches(
      [values(rng, [2, 2], 'int32')],
      (x) =>
        pad(
          x,
          [
            [1, 1],
            [0, 2],
          ],
          5,
        ),
      (x) =>
        tf.pad(
          x,
          [
            [1, 1],
            [0, 2],
          ],
          5,
        ),
    );
  });
});

describe('oneHot', () => {
  test('an int32 output on request', () => {
    expectForwardMatches(
      [ints([2, 0], [2])],
      (i) => oneHot(i, 3, 1, 0, 'int32'),
      (i) => tf.oneHot(i as tf.Tensor1D, 3),
    );
  });
});

describe('cumsum', () => {
  test('a negative axis counts from the end', () => {
    // tfjs 4.22 mishandles negative cumsum axes, so its side gets the positive axis.
    const rng = new Rng(102);
    expectForwardMatches(
      [values(rng, [2, 3, 4])],
      (x) => cumsum(x, -2, false, true),
      (x) => tf.cumsum(x, 1, false, true),
    );
  });

  test('int32 values', () => {
    const rng = new Rng(101);
    expectForwardMatches(
      [values(rng, [2, 5], 'int32')],
      (x) => cumsum(x, 1, true),
      (x) => tf.cumsum(x, 1, true),
    );
  });
});

describe('generators', () => {
  function expectConstant(t: Tensor, expected: tf.Tensor): void {
    const got = new Session(t.graph).run(t);
    expect(t.op).toBe('constant');
    expect(got.dtype).toBe(expected.dtype);
    expect([...got.shape]).toEqual(expected.shape);
    const want = Array.from(expected.dataSync() as ArrayLike<number>, Number);
    Array.from(got.data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expected.dispose();
  }

  test('zeros, ones and fill', () => {
    const g = new Graph();
    expectConstant(zeros([2, 3], g), tf.zeros([2, 3]));
    expectConstant(zeros([2, 0], 'int32', g), tf.zeros([2, 0], 'int32'));
    expectConstant(ones([3], g), tf.ones([3]));
    expectConstant(ones([2, 2], 'int32', g), tf.ones([2, 2], 'int32'));
    expectConstant(fill([2, 2], 4.5, g), tf.fill([2, 2], 4.5));
    expectConstant(fill([], 7, 'int32', g), tf.fill([], 7, 'int32'));
  });

  test('range counts up, down, by fractions and into empty', () => {
    const g = new Graph();
    expectConstant(range(0, 9, 2, g), tf.range(0, 9, 2));
    expectConstant(range(0, 5, g), tf.range(0, 5));
    expectConstant(range(5, 0, g), tf.range(5, 0));
    expectConstant(range(5, -3, -3, g), tf.range(5, -3, -3));
    expectConstant(range(0, 1, 0.25, g), tf.range(0, 1, 0.25));
    expectConstant(range(1, 4, 1, 'int32', g), tf.range(1, 4, 1, 'int32'));
    expectConstant(range(0, 5, -1, g), tf.range(0, 5, -1));
    expectConstant(range(3, 3, g), tf.range(3, 3));
  });

  test('linspace includes both ends', () => {
    const g = new Graph();
    expectConstant(linspace(0, 9, 10, g), tf.linspace(0, 9, 10));
    expectConstant(linspace(-1, 1, 5, g), tf.linspace(-1, 1, 5));
    expectConstant(linspace(2, 3, 1, g), tf.linspace(2, 3, 1));
  });

  test('a generated constant feeds other ops', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const y = concat([x, range(0, 2, g)]);
    const out = new Session(g).run(y, { x: [7, 8, 9] });
    expect(out.toArray()).toEqual([7, 8, 9, 0, 1]);
    expect(tfTensor(out).shape).toEqual([5]);
  });
});
