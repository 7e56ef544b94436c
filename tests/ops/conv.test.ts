/**
 * conv2d beyond the op table: gradients when the spatial dims are unknown until run time (the gradient ops then
 * read the shape from a third input), forward-mode tangents and Hessian-vector products (jvp of a gradient)
 * against their reverse-mode equivalents, and the shape errors.
 */
import {
  conv2d,
  gradients,
  groupedConv2d,
  Graph,
  jvp,
  mul,
  NDArray,
  Session,
  ShapeError,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { Rng, expectClose, randomArray } from './util';

const rng = new Rng(1601);
const X = randomArray(rng, [2, 7, 6, 3], 'float64');
const F = randomArray(rng, [3, 2, 3, 4], 'float64');
const W = randomArray(rng, [2, 4, 3, 4], 'float64');

function lossOf(x: Tensor, f: Tensor, w: Tensor): Tensor {
  return sum(mul(tanh(conv2d(x, f, 2, 'same')), w));
}

test('gradients with unknown spatial dims equal those with static shapes', () => {
  const run = (xShape: (number | null)[], fShape: (number | null)[]): NDArray[] => {
    const g = new Graph();
    const x = g.placeholder('x', xShape, 'float64');
    const f = g.placeholder('f', fShape, 'float64');
    const loss = lossOf(x, f, g.constant(W));
    const [dx, df] = gradients(loss, [x, f]) as Tensor[];
    return new Session(g).run(
      [dx, df],
      new Map([
        [x, X],
        [f, F],
      ]),
    );
  };
  const known = run([2, 7, 6, 3], [3, 2, 3, 4]);
  const unknown = run([null, null, null, 3], [null, null, 3, 4]);
  expectClose(unknown[0], known[0], 1e-12);
  expectClose(unknown[1], known[1], 1e-12);
});

test('the jvp of the conv equals the directional derivative from the gradient', () => {
  const g = new Graph();
  const x = g.placeholder('x', [2, 7, 6, 3], 'float64');
  const f = g.placeholder('f1', [3, 2, 3, 4], 'float64');
  const tx = randomArray(rng, [2, 7, 6, 3], 'float64');
  const tf = randomArray(rng, [3, 2, 3, 4], 'float64');
  const loss = lossOf(x, f, g.constant(W));
  const [forward] = jvp(loss, [x, f], [tx, tf]);
  const [dx, df] = gradients(loss, [x, f]) as Tensor[];
  const reverse = sum(mul(dx, g.constant(tx))).add(sum(mul(df, g.constant(tf))));
  // The Hessian-vector product: forward mode over the reverse-mode gradient.
  const [hvpX] = jvp(dx, [x, f], [tx, tf]);
  const [hvpCheck] = gradients(reverse, [x]) as Tensor[];
  const feeds = new Map([
    [x, X],
    [f, F],
  ]);
  const [a, b, c, d] = new Session(g).run([forward, reverse, hvpX, hvpCheck], feeds);
  expectClose(a, b, 1e-12);
  expectClose(c, d, 1e-10);
});

describe('shape errors', () => {
  const g = new Graph();
  const x = g.placeholder('x', [1, 5, 5, 3]);
  test('channels that do not match the filter', () => {
    expect(() => conv2d(x, g.placeholder('f2', [3, 3, 2, 4]), 1, 'same')).toThrow(
      /the input has 3 channels but the filter takes 2/,
    );
  });
  test('a filter larger than the input', () => {
    expect(() => conv2d(x, g.placeholder('f3', [6, 3, 3, 4]), 1, 'valid')).toThrow(ShapeError);
  });
  test('a malformed explicit padding', () => {
    expect(() => conv2d(x, g.placeholder('f4', [3, 3, 3, 4]), 1, [[0, 0]])).toThrow(/pad \[\[0,0\]\] is not valid/);
  });
  test('channels that do not split into the groups', () => {
    expect(() => groupedConv2d(x, g.placeholder('fGroups', [3, 3, 1, 4]), 2, 1, 'same')).toThrow(
      /3 channels do not split into 2 groups/,
    );
  });
  test('a rank-2 input', () => {
    expect(() => conv2d(g.placeholder('v', [5, 5]), g.placeholder('f5', [3, 3, 3, 4]), 1, 'same')).toThrow(
      /must have rank 4/,
    );
  });
});
