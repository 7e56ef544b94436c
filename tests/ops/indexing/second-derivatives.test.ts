/**
 * Second derivatives through the indexing ops beyond their op-table rows (../cases/indexing.ts): scatterAdd (the
 * gradient of gather) itself, a concat along a dim of unknown size, and the composites unstack and split, each
 * composed with a nonlinearity and compared with finite differences of the first derivative.
 */
import { concat, exp, mul, NDArray, scatterAdd, split, square, tanh, unstack } from '../../../src';
import { Rng } from '../util';
import { expectGradientsMatchFd, expectSecondOrderMatchesFd, f64 } from './helpers';

test('scatterAdd then square (its gradient is gather)', () => {
  const rng = new Rng(3);
  const like = NDArray.zeros([3, 2], 'float64');
  expectSecondOrderMatchesFd(3, [f64(rng, [4, 2])], (u) => square(scatterAdd(u, [2, 0, 2, 1], u.graph.constant(like))));
});

test('scatterAdd accumulates repeated indices in its gradient', () => {
  const rng = new Rng(4);
  expectGradientsMatchFd(4, [f64(rng, [4, 2]), f64(rng, [3, 2])], (u, l) => mul(scatterAdd(u, [2, 0, 2, 1], l), l));
});

test('concat along a dim of unknown size then tanh', () => {
  // The sizes along the axis are known only at run time, so concat's gradient is concatPart, differentiated here.
  const rng = new Rng(8);
  const shapes = [
    [null, 2],
    [null, 2],
  ];
  expectSecondOrderMatchesFd(8, [f64(rng, [2, 2]), f64(rng, [3, 2])], (a, b) => tanh(concat([a, b], 0)), shapes);
});

test('unstack then square', () => {
  const rng = new Rng(10);
  expectSecondOrderMatchesFd(10, [f64(rng, [3, 2])], (x) => unstack(x, 1).map(square));
});

test('split then exp', () => {
  const rng = new Rng(11);
  expectSecondOrderMatchesFd(11, [f64(rng, [2, 5])], (x) => split(x, [2, -1], 1).map(exp));
});
