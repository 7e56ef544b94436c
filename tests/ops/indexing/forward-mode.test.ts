/**
 * Forward mode (jvp) through the indexing ops. They are linear, so each has a forward rule applying the op to the
 * tangent; the tangents are checked against finite differences of the op along the tangent, and a tangent that
 * meets a nonlinearity afterwards is checked the same way.
 */
import {
  concat,
  cumsum,
  gather,
  Graph,
  jvp,
  NDArray,
  pad,
  reverse,
  scatterAdd,
  Session,
  slice,
  square,
  stack,
  stridedSlice,
  Tensor,
  tile,
} from '../../../src';
import { expectClose, Rng } from '../util';
import { f64 } from './helpers';

type Build = (...xs: Tensor[]) => Tensor;

/** jvp(y, xs, vs) against (y(x + εv) − y(x − εv)) / 2ε, all in float64. */
function expectTangentMatchesFd(seed: number, shapes: readonly number[][], build: Build): void {
  const rng = new Rng(seed);
  const xs = shapes.map((s) => f64(rng, s));
  const vs = shapes.map((s) => f64(rng, s));
  const g = new Graph();
  const placeholders = shapes.map((s, i) => g.placeholder(`x${i}`, s, 'float64'));
  const y = build(...placeholders);
  const [tangent] = jvp(
    y,
    placeholders,
    vs.map((v) => g.constant(v)),
  );
  const session = new Session(g);
  const at = (sign: number): NDArray => {
    const eps = 1e-6 * sign;
    const moved = xs.map(
      (x, i) =>
        new NDArray(
          Float64Array.from(x.data, (value, j) => value + eps * vs[i].data[j]),
          x.shape,
        ),
    );
    return session.run(y, new Map(placeholders.map((p, i) => [p, moved[i]] as [Tensor, NDArray])));
  };
  const plus = at(1);
  const minus = at(-1);
  const numeric = new NDArray(
    Float64Array.from(plus.data, (p, j) => (p - minus.data[j]) / 2e-6),
    plus.shape,
  );
  const got = session.run(tangent, new Map(placeholders.map((p, i) => [p, xs[i]] as [Tensor, NDArray])));
  expectClose(got, numeric, 1e-6);
  expect(Array.from(numeric.data).some((v) => Math.abs(v) > 1e-8)).toBe(true);
}

const likeConstant = (x: Tensor, shape: number[]): Tensor => x.graph.constant(NDArray.zeros(shape, 'float64'));

test.each<[string, number[][], Build]>([
  [
    'concat',
    [
      [2, 2],
      [2, 3],
    ],
    (a, b) => concat([a, b], 1),
  ],
  ['stack', [[3], [3]], (a, b) => stack([a, b], 1)],
  ['slice', [[3, 4]], (x) => slice(x, [1, 1], [2, -1])],
  ['stridedSlice', [[4, 5]], (x) => stridedSlice(x, [-1, 0], [0, 5], [-1, 2])],
  ['gather', [[4, 2]], (x) => gather(x, [3, 0, 3])],
  ['scatterAdd', [[3, 2]], (u) => scatterAdd(u, [1, 1, 0], likeConstant(u, [2, 2]))],
  ['tile', [[2, 2]], (x) => tile(x, [2, 3])],
  [
    'pad (the padding value has no tangent)',
    [[2, 3]],
    (x) =>
      pad(
        x,
        [
          [1, 0],
          [0, 2],
        ],
        5,
      ),
  ],
  ['reverse', [[2, 3]], (x) => reverse(x, 1)],
  ['cumsum', [[2, 4]], (x) => cumsum(x, 1, true, true)],
  ['a nonlinearity after gather and concat', [[3, 2]], (x) => square(concat([gather(x, [2, 2]), x], 0))],
])('%s: the tangent matches finite differences', (_name, shapes, build) => {
  expectTangentMatchesFd(7, shapes, build);
});

test('the forward rules build no reverse-mode nodes', () => {
  const g = new Graph();
  const x = g.placeholder('x', [3, 2], 'float64');
  const y = tile(gather(slice(x, [1, 0]), [1, 0]), [2, 1]);
  const before = g.size;
  jvp(y, [x], [g.constant(NDArray.zeros([3, 2], 'float64'))]);
  const added = g.nodes.slice(before).map((n) => n.op);
  expect(added.filter((op) => op !== 'constant')).toEqual(['slice', 'gather', 'tile']);
});
