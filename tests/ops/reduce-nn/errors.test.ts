/**
 * Misuse of the reductions is caught when the graph is built, with a message naming the op, the input and what
 * would be valid.
 */
import {
  DTypeError,
  Graph,
  GraphError,
  NDArray,
  Tensor,
  all,
  any,
  argMax,
  argMin,
  logSumExp,
  min,
  moments,
  norm,
  prod,
  sum,
} from '../../../src';
import { expectClose } from '../util';
import { run } from './helpers';

type Reducer = (x: Tensor, axis?: number | readonly number[], keepDims?: boolean) => Tensor;

const REDUCERS: [string, Reducer][] = [
  ['min', min],
  ['prod', prod],
  ['logSumExp', logSumExp],
  ['moments', (x, axis, keepDims) => moments(x, axis, keepDims).mean],
];

describe.each(REDUCERS)('%s rejects bad axes', (name, op) => {
  test('an axis past the rank', () => {
    const x = new Graph().placeholder('x', [2, 3]);
    expect(() => op(x, 2)).toThrow(
      new RegExp(
        `${name} '${name}' \\(input 'x' float32\\[2, 3\\]\\): axis 2 is out of range; valid axes are in \\[-2, 2\\)`,
      ),
    );
  });

  test('a negative axis below −rank', () => {
    const x = new Graph().placeholder('x', [2, 3, 4]);
    expect(() => op(x, [0, -4])).toThrow(/axis \[0,-4\] is out of range; valid axes are in \[-3, 3\)/);
  });

  test('a fractional axis', () => {
    const x = new Graph().placeholder('x', [2, 3]);
    expect(() => op(x, 0.5)).toThrow(/axis 0.5 is out of range/);
  });
});

describe('all and any', () => {
  test.each([
    ['all', all],
    ['any', any],
  ] as [string, Reducer][])('%s of a float tensor is a DTypeError suggesting a comparison', (name, op) => {
    const x = new Graph().placeholder('x', [2, 3]);
    expect(() => op(x)).toThrow(DTypeError);
    expect(() => op(x)).toThrow(new RegExp(`${name} '${name}' .*expects a bool input, got float32; compare first`));
  });

  test('a bad axis is a ShapeError', () => {
    const b = new Graph().placeholder('b', [2], 'bool');
    expect(() => all(b, 1)).toThrow(/axis 1 is out of range; valid axes are in \[-1, 1\)/);
  });
});

describe('argMax and argMin', () => {
  test.each([
    ['argMax', argMax],
    ['argMin', argMin],
  ] as [string, (x: Tensor, axis?: number) => Tensor][])('%s: axis out of range', (name, op) => {
    const x = new Graph().placeholder('x', [2, 3]);
    expect(() => op(x, -3)).toThrow(
      new RegExp(`${name} '${name}' .*axis -3 is out of range; valid axes are in \\[-2, 2\\)`),
    );
  });

  test('a scalar has no axis to reduce', () => {
    expect(() => argMax(new Graph().placeholder('s', []))).toThrow(
      /axis 0 is out of range; valid axes are in \[0, 0\)/,
    );
  });

  test('an empty axis is a ShapeError: no index to return', () => {
    expect(() => argMin(new Graph().placeholder('x', [3, 0]), 1)).toThrow(/axis 1 of \[3, 0\] is empty/);
  });

  test('a bool input is a DTypeError', () => {
    expect(() => argMax(new Graph().placeholder('b', [3], 'bool'))).toThrow(DTypeError);
  });
});

describe('norm', () => {
  const x = (): Tensor => new Graph().placeholder('x', [2, 3, 4]);

  test('three axes are not a vector or matrix norm', () => {
    expect(() => norm(x(), 'fro', [0, 1, 2])).toThrow(/give one axis \(vector norm\), two distinct axes/);
  });

  test('the same axis twice is not a matrix', () => {
    expect(() => norm(x(), 'fro', [1, -2])).toThrow(/two distinct axes/);
  });

  test('an axis out of range', () => {
    expect(() => norm(x(), 'euclidean', 3)).toThrow(/axis 3 is out of range; valid axes are in \[-3, 3\)/);
  });

  test("'fro' over one axis is not a vector norm", () => {
    expect(() => norm(x(), 'fro', 1)).toThrow(GraphError);
    expect(() => norm(x(), 'fro', 1)).toThrow(/ord fro is not supported for a vector norm/);
  });

  test('the spectral norm (ord 2 over two axes) is not supported', () => {
    expect(() => norm(x(), 2, [1, 2])).toThrow(/ord 2 is not supported for a matrix norm; use 'fro'/);
  });

  test('an unknown ord', () => {
    expect(() => norm(x(), NaN, 1)).toThrow(/ord NaN is not supported/);
  });
});

describe('kernels see concrete shapes at run time', () => {
  test('reductions over unknown dims infer unknown output dims and run', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3], 'float64');
    const ys = [min(x, 0), prod(x, 1, true), logSumExp(x, -1), argMax(x, 1), norm(x, 1, [0, 1])];
    expect(ys.map((y) => y.shape)).toEqual([[3], [null, 1], [null], [null], []]);
    const outs = run(ys, [
      [
        x,
        NDArray.from(
          [
            [1, 2, 3],
            [4, -5, 6],
          ],
          'float64',
        ),
      ],
    ]);
    const lse = (r: number[]): number => Math.log(r.reduce((t, v) => t + Math.exp(v), 0));
    const expected = [[1, -5, 3], [6, -120], [lse([1, 2, 3]), lse([4, -5, 6])], [2, 2], [9]];
    outs.forEach((o, i) => expectClose(o, { shape: [...o.shape], data: expected[i] }, 1e-15));
  });

  test('sum over unknown dims with moments', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null], 'float64');
    const { mean, variance } = moments(x);
    const [m, v] = run([mean, variance], [[x, NDArray.from([1, 2, 3, 6], 'float64')]]);
    expect(m.data[0]).toBe(3);
    expect(v.data[0]).toBe(3.5);
    expect(sum(x).shape).toEqual([]);
  });
});
