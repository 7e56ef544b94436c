import { exp, Graph, hessians, jacobian, matMul, mul, NDArray, Session, sin, softmax, sum, Tensor } from '../src';

function run(g: Graph, t: Tensor, feeds: Map<Tensor, NDArray>): number[][] {
  return new Session(g).run(t, feeds).toArray() as number[][];
}

describe('jacobian and hessians', () => {
  test('the Jacobian of softmax is diag(s) − s sᵀ', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const J = jacobian(softmax(x), x);
    expect(J.shape).toEqual([3, 3]);
    const values = [0.2, -1, 0.7];
    const e = values.map(Math.exp);
    const s = e.map((v) => v / e.reduce((a, b) => a + b));
    const out = run(g, J, new Map([[x, NDArray.from(values, 'float64')]]));
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        expect(out[i][j]).toBeCloseTo((i === j ? s[i] : 0) - s[i] * s[j], 12);
      }
  });

  test('the Jacobian of a linear map is its matrix, shaped [...y.shape, ...x.shape]', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 1], 'float64');
    const A = g.constant(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      'float64',
    );
    const J = jacobian(matMul(A, x), x);
    expect(J.shape).toEqual([3, 1, 2, 1]);
    const out = new Session(g).run(J, new Map([[x, NDArray.from([[9], [9]], 'float64')]]));
    expect(Array.from(out.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('the Hessian of Σ x³ is diag(6x)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const [H] = hessians(sum(mul(x, mul(x, x))), [x]);
    const out = run(g, H, new Map([[x, NDArray.from([1, -2, 0.5], 'float64')]]));
    // + 0 turns the −0 products of the off-diagonal into plain zeros for the comparison.
    expect(out.map((row) => row.map((v) => v + 0))).toEqual([
      [6, 0, 0],
      [0, -12, 0],
      [0, 0, 3],
    ]);
  });

  test('the Hessian of exp(x0)·sin(x1) matches its closed form', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const parts = x.graph.nameScope('f', () => [exp(x), sin(x)]);
    const f = sum(mul(mul(parts[0], g.constant([1, 0], 'float64')), sum(mul(parts[1], g.constant([0, 1], 'float64')))));
    const [H] = hessians(f, [x]);
    const [a, b] = [0.3, 1.1];
    const out = run(g, H, new Map([[x, NDArray.from([a, b], 'float64')]]));
    const expected = [
      [Math.exp(a) * Math.sin(b), Math.exp(a) * Math.cos(b)],
      [Math.exp(a) * Math.cos(b), -Math.exp(a) * Math.sin(b)],
    ];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(out[i][j]).toBeCloseTo(expected[i][j], 12);
  });

  test('hessians needs a scalar y', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    expect(() => hessians(mul(x, x), [x])).toThrow(/must be a scalar/);
  });
});
