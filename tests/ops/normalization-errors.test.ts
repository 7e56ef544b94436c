/** The argument checks of the normalization builders and activations: what is wrong, named at the call. */
import {
  batchNorm,
  DTypeError,
  Graph,
  GraphError,
  hardSigmoid,
  layerNorm,
  localResponseNormalization,
  NDArray,
  Session,
  ShapeError,
  windowSum,
} from '../../src';

const g = new Graph();
const x = g.placeholder('x', [2, 3, 4]);

test('batchNorm: a statistic that would change the shape of x is a ShapeError naming it', () => {
  expect(() => batchNorm(x, g.placeholder('m3', [3]), g.placeholder('v4', [4]))).toThrow(ShapeError);
  expect(() => batchNorm(x, g.placeholder('m5', [5]), g.placeholder('v', [4]))).toThrow(
    /batchNorm 'batchNorm' \(input 'x' float32\[2, 3, 4\]\): mean \[5\] must broadcast against x/,
  );
  expect(() => batchNorm(x, 0, 1, null, g.placeholder('s', [2, 2, 3, 4]))).toThrow(/scale \[2, 2, 3, 4\]/);
});

test('batchNorm: statistics of another dtype, or an int32 x, are DTypeErrors', () => {
  expect(() => batchNorm(x, g.placeholder('m64', [4], 'float64'), 1)).toThrow(DTypeError);
  expect(() => batchNorm(g.placeholder('xi', [2, 4], 'int32'), 0, 1)).toThrow(/expects a float32 or float64 x/);
});

test('batchNorm: numbers are statistics too, and unknown dims pass through', () => {
  const h = new Graph();
  const open = h.placeholder('x', [null, 2]);
  const y = batchNorm(open, 1, 4, 0.5, 2, 0);
  expect(y.shape).toEqual([null, 2]);
  const out = new Session(h).run(y, new Map([[open, NDArray.from([[3, 5]])]]));
  expect(Array.from(out.data)).toEqual([2.5, 4.5]); // (x − 1) / √4 · 2 + 0.5
});

test('layerNorm: axes out of range, and gamma of the wrong shape', () => {
  expect(() => layerNorm(x, [3])).toThrow(/layerNorm 'layerNorm' .*axes \[3\] must be a non-empty list/);
  expect(() => layerNorm(x, [], 1e-3)).toThrow(ShapeError);
  expect(() => layerNorm(x, -1, 1e-3, g.placeholder('gamma', [3]))).toThrow(/gamma \[3\] must broadcast/);
});

test('windowSum and localResponseNormalization: bad axis, radius and rank', () => {
  expect(() => windowSum(x, 3, 1)).toThrow(/axis 3 is out of range; valid axes are in \[-3, 3\)/);
  expect(() => windowSum(x, -1, -1)).toThrow(GraphError);
  expect(() => windowSum(x, -1, 1.5)).toThrow(/radius 1.5 must be a non-negative integer/);
  expect(() => localResponseNormalization(g.placeholder('s0', []))).toThrow(/x needs rank >= 1/);
});

test('hardSigmoid: alpha and beta must be scalars', () => {
  expect(() => hardSigmoid(x, [0.1, 0.2] as unknown as number)).toThrow(/alpha and beta must be scalars/);
});
