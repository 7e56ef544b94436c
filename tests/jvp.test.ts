import {
  customGradient,
  exp,
  formatGraph,
  Graph,
  gradients,
  identity,
  jvp,
  matMul,
  mul,
  NDArray,
  SaveFunc,
  Session,
  sin,
  softmax,
  sum,
  tanh,
  Tensor,
} from '../src';

function values(g: Graph, fetches: Tensor[], feeds: Map<Tensor, NDArray>): number[][] {
  return new Session(g).run(fetches, feeds).map((v) => Array.from(v.data));
}

describe('jvp (forward mode)', () => {
  test('agrees with reverse mode on Jacobian-vector products: ⟨u, J v⟩ = ⟨Jᵀu, v⟩', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3], 'float64');
    const w = g.placeholder('w', [3, 4], 'float64');
    const v = g.placeholder('v', [2, 3], 'float64');
    const u = g.placeholder('u', [2, 4], 'float64');
    const y = softmax(tanh(matMul(mul(x, sin(x)), w)));
    const [jv] = jvp(y, [x], [v]);
    const [jtu] = gradients(y, [x], [u]) as Tensor[];
    const left = sum(mul(u, jv));
    const right = sum(mul(jtu, v));
    const feeds = new Map<Tensor, NDArray>([
      [
        x,
        NDArray.from(
          [
            [0.1, -0.4, 0.7],
            [1.2, 0.3, -0.9],
          ],
          'float64',
        ),
      ],
      [
        w,
        NDArray.from(
          [
            [0.5, -1, 0.2, 0.3],
            [0.1, 0.4, -0.6, 0.8],
            [-0.3, 0.9, 0.05, -0.2],
          ],
          'float64',
        ),
      ],
      [
        v,
        NDArray.from(
          [
            [1, 0.5, -0.25],
            [0.3, -0.7, 0.2],
          ],
          'float64',
        ),
      ],
      [
        u,
        NDArray.from(
          [
            [0.2, -0.1, 0.4, 1],
            [0.6, 0.3, -0.5, 0.1],
          ],
          'float64',
        ),
      ],
    ]);
    const [l, r] = values(g, [left, right], feeds);
    expect(l[0]).toBeCloseTo(r[0], 12);
  });

  test('matches a finite-difference directional derivative', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const f = (t: Tensor): Tensor => exp(mul(sin(t), t));
    const [jv] = jvp(f(x), [x], [g.constant([1, -2, 0.5], 'float64')]);
    const point = [0.3, -0.8, 1.1];
    const direction = [1, -2, 0.5];
    const [analytic] = values(g, [jv], new Map([[x, NDArray.from(point, 'float64')]]));
    const h = 1e-6;
    const at = (s: number): number[] =>
      point.map((p, i) => Math.exp(Math.sin(p + s * direction[i]) * (p + s * direction[i])));
    const plus = at(h);
    const minus = at(-h);
    analytic.forEach((a, i) => expect(a).toBeCloseTo((plus[i] - minus[i]) / (2 * h), 7));
  });

  test('a y that does not depend on x gets a zero tangent', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const k = g.placeholder('k', [2]);
    const [t] = jvp(sin(k), [x], [g.constant([1, 1])]);
    expect(new Session(g).run(t, { k: [1, 2] }).toArray()).toEqual([0, 0]);
  });

  test('the tangent must have its x shape', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    expect(() => jvp(sin(x), [x], [g.constant([1, 2, 3])])).toThrow(/tangent for 'x'/);
  });
});

describe('customGradient', () => {
  test('gradients() uses the user gradient, and the op prints as customGradient', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    // Forward: x²; gradient: a deliberately different rule, dy·10·x, to show it is the one used.
    const op = customGradient((input: Tensor, save: SaveFunc) => {
      save([input]);
      return { value: mul(input, input), gradFunc: (dy, saved) => [mul(dy, mul(saved[0], 10))] };
    });
    const y = op(x);
    const [dx] = gradients(sum(y), [x]) as Tensor[];
    const out = new Session(g).run([y, dx], { x: [1, 2, 3] });
    expect(out[0].toArray()).toEqual([1, 4, 9]);
    expect(out[1].toArray()).toEqual([10, 20, 30]);
    expect(formatGraph(dx)).toMatch(/customGradient\(%\d+, %0, %0\)/);
  });

  test('a straight-through estimator: identity forward, gradient clipped', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const st = customGradient((input: Tensor) => ({
      value: identity(input),
      gradFunc: (dy) => [mul(dy, 0.5)],
    }));
    const [dx] = gradients(sum(mul(st(x), 4)), [x]) as Tensor[];
    expect(new Session(g).run(dx, { x: [3, -1] }).toArray()).toEqual([2, 2]);
  });
});
