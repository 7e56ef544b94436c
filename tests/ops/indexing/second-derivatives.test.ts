/**
 * Second derivatives through the indexing ops: each op composed with a nonlinearity (the ops themselves are
 * linear), its gradient graph differentiated again and compared with finite differences of the first derivative.
 * This exercises the gradient rules of the gradient primitives (scatterAdd, stridedSliceGrad, sumTiles,
 * concatPart) as well.
 */
import {
  concat,
  cumsum,
  exp,
  gather,
  mul,
  NDArray,
  pad,
  reverse,
  scatterAdd,
  sin,
  slice,
  split,
  square,
  stack,
  stridedSlice,
  tanh,
  tile,
  unstack,
} from '../../../src';
import { Rng } from '../util';
import { expectGradientsMatchFd, expectSecondOrderMatchesFd, f64 } from './helpers';

test('gather then square, with repeated indices', () => {
  const rng = new Rng(1);
  expectSecondOrderMatchesFd(1, [f64(rng, [4, 3])], (x) => square(gather(x, [3, 0, 3, 1], 0)));
});

test('gather with a batch dim then square', () => {
  const rng = new Rng(2);
  expectSecondOrderMatchesFd(2, [f64(rng, [2, 3, 2])], (x) =>
    square(
      gather(
        x,
        [
          [2, 2],
          [0, 1],
        ],
        1,
        1,
      ),
    ),
  );
});

test('scatterAdd then square (its gradient is gather)', () => {
  const rng = new Rng(3);
  const like = NDArray.zeros([3, 2], 'float64');
  expectSecondOrderMatchesFd(3, [f64(rng, [4, 2])], (u) => square(scatterAdd(u, [2, 0, 2, 1], u.graph.constant(like))));
});

test('scatterAdd accumulates repeated indices in its gradient', () => {
  const rng = new Rng(4);
  expectGradientsMatchFd(4, [f64(rng, [4, 2]), f64(rng, [3, 2])], (u, l) => mul(scatterAdd(u, [2, 0, 2, 1], l), l));
});

test('slice then exp', () => {
  const rng = new Rng(5);
  expectSecondOrderMatchesFd(5, [f64(rng, [3, 4])], (x) => exp(slice(x, [1, 1], [2, -1])));
});

test('stridedSlice with negative strides and a shrink then square', () => {
  const rng = new Rng(6);
  expectSecondOrderMatchesFd(6, [f64(rng, [3, 5])], (x) =>
    square(stridedSlice(x, [1, -1], [2, 0], [1, -2], 0, 0, 0, 0, 1)),
  );
});

test('concat then square', () => {
  const rng = new Rng(7);
  expectSecondOrderMatchesFd(7, [f64(rng, [2, 2]), f64(rng, [2, 3])], (a, b) => square(concat([a, b], 1)));
});

test('concat along a dim of unknown size then tanh', () => {
  const rng = new Rng(8);
  const shapes = [
    [null, 2],
    [null, 2],
  ];
  expectSecondOrderMatchesFd(8, [f64(rng, [2, 2]), f64(rng, [3, 2])], (a, b) => tanh(concat([a, b], 0)), shapes);
});

test('stack then tanh', () => {
  const rng = new Rng(9);
  expectSecondOrderMatchesFd(9, [f64(rng, [3]), f64(rng, [3])], (a, b) => tanh(stack([a, b], 1)));
});

test('unstack then square', () => {
  const rng = new Rng(10);
  expectSecondOrderMatchesFd(10, [f64(rng, [3, 2])], (x) => unstack(x, 1).map(square));
});

test('split then exp', () => {
  const rng = new Rng(11);
  expectSecondOrderMatchesFd(11, [f64(rng, [2, 5])], (x) => split(x, [2, -1], 1).map(exp));
});

test('tile then square', () => {
  const rng = new Rng(12);
  expectSecondOrderMatchesFd(12, [f64(rng, [2, 2])], (x) => square(tile(x, [2, 3])));
});

test('pad then sin', () => {
  const rng = new Rng(13);
  expectSecondOrderMatchesFd(13, [f64(rng, [2, 3])], (x) =>
    sin(
      pad(
        x,
        [
          [1, 0],
          [2, 1],
        ],
        0.5,
      ),
    ),
  );
});

test('reverse then square', () => {
  const rng = new Rng(14);
  expectSecondOrderMatchesFd(14, [f64(rng, [2, 3])], (x) => square(reverse(x, 1)));
});

test('cumsum then square', () => {
  const rng = new Rng(15);
  expectSecondOrderMatchesFd(15, [f64(rng, [2, 4])], (x) => square(cumsum(x, 1, true, true)));
});
