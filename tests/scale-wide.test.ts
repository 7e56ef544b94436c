import { add, addN, concat, Graph, gradients, mul, Session, sin, sum, Tensor } from '../src';

/**
 * 10,000-node wide graphs: thousands of independent terms feeding one addN or one concat. They must build,
 * differentiate, optimize and run without a stack overflow, at both optimization levels.
 */
const WIDTH = 4;
const x0 = [0.1, -0.7, 1.3, 2.2];

/**
 * Terms sin(x·a_i + b_i), five nodes each, until the graph has `nodes` nodes. The coefficients are distinct: the graph
 * reuses an identical node instead of adding it again, so repeated terms would never grow it.
 */
function terms(g: Graph, x: Tensor, nodes: number): { ts: Tensor[]; coefficients: [number, number][] } {
  const ts: Tensor[] = [];
  const coefficients: [number, number][] = [];
  while (g.size < nodes) {
    const k = ts.length;
    const a = 1 + k * 1e-4;
    const b = k * 1e-3;
    coefficients.push([a, b]);
    ts.push(sin(add(mul(x, a), b)));
  }
  return { ts, coefficients };
}

/** The value and gradient of Σ_i Σ_j sin(a_i·x_j + b_i) at x0, in plain JS. */
function reference(coefficients: readonly [number, number][]): { value: number; grad: number[] } {
  let value = 0;
  const grad = x0.map(() => 0);
  for (const [a, b] of coefficients) {
    x0.forEach((v, j) => {
      value += Math.sin(a * v + b);
      grad[j] += a * Math.cos(a * v + b);
    });
  }
  return { value, grad };
}

function expectAgrees(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected)));
}

describe('wide graphs', () => {
  test.each([0, 2] as const)('10,000 terms summed by addN build, differentiate and run at level %i', (level) => {
    const g = new Graph();
    const x = g.placeholder('x', [WIDTH], 'float64');
    const { ts, coefficients } = terms(g, x, 10_000);
    const y = sum(addN(ts));
    expect(g.size).toBeGreaterThanOrEqual(10_000);
    const [dx] = gradients(y, [x]) as Tensor[];
    const sess = new Session(g, { optimize: { level }, backend: 'js' });
    const [value, grad] = sess.run([y, dx], { x: x0 });
    const expected = reference(coefficients);
    expectAgrees(value.data[0], expected.value);
    Array.from(grad.data).forEach((v, j) => expectAgrees(v, expected.grad[j]));
  });

  test.each([0, 2] as const)('10,000 terms joined by concat build, differentiate and run at level %i', (level) => {
    const g = new Graph();
    const x = g.placeholder('x', [WIDTH], 'float64');
    const { ts, coefficients } = terms(g, x, 10_000);
    const y = sum(concat(ts, 0));
    const [dx] = gradients(y, [x]) as Tensor[];
    expect(g.size).toBeGreaterThanOrEqual(20_000);
    const sess = new Session(g, { optimize: { level }, backend: 'js' });
    const [value, grad] = sess.run([y, dx], { x: x0 });
    const expected = reference(coefficients);
    expectAgrees(value.data[0], expected.value);
    Array.from(grad.data).forEach((v, j) => expectAgrees(v, expected.grad[j]));
  });

  test('10,000 independent fetches of one graph run in one call', () => {
    const g = new Graph();
    const x = g.placeholder('x', [WIDTH], 'float64');
    const { ts, coefficients } = terms(g, x, 10_000);
    const values = new Session(g, { backend: 'js' }).run(ts, { x: x0 });
    expect(values).toHaveLength(ts.length);
    const [a, b] = coefficients[coefficients.length - 1];
    expectAgrees(values[values.length - 1].data[2], Math.sin(a * x0[2] + b));
  });
});
