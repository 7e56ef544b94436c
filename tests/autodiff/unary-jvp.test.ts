import { allOps, Graph, gradients, jvp, NDArray, OpRecord, opRecord, Session, sum, Tensor, zerosLike } from '../../src';
import { apply } from '../../src/ops/record';

/**
 * Forward rules of the elementwise unary ops. unaryOp derives each from the op's vjp (a diagonal Jacobian is its
 * own transpose: the tangent is the vjp with dy = tangent); the piecewise-constant ops give a zero tangent.
 */

/** Every elementwise op of one input with a gradient rule (stopGradient's forward rule is zero by design). */
const UNARY = allOps()
  .filter((r) => r.arity === 1 && r.scalar !== undefined && r.vjp !== undefined && r.name !== 'stopGradient')
  .map((r) => r.name)
  .sort();

// Points inside each op's domain, away from kinks, integers and halves, where finite differences are exact enough.
const DEFAULT = [-1.3, -0.45, 0.35, 0.8, 1.7];
const DOMAINS: { readonly [op: string]: readonly number[] } = {
  log: [0.3, 0.8, 1.7, 2.6],
  sqrt: [0.3, 0.8, 1.7, 2.6],
  rsqrt: [0.3, 0.8, 1.7, 2.6],
  log1p: [-0.6, 0.3, 0.8, 2.6],
  acosh: [1.2, 1.7, 2.5, 3.1],
  asin: [-0.7, -0.2, 0.3, 0.6],
  acos: [-0.7, -0.2, 0.3, 0.6],
  atanh: [-0.7, -0.2, 0.3, 0.6],
  relu6: [-1.3, 0.35, 2.5, 5.2, 6.8],
};
const domainOf = (op: string): readonly number[] => DOMAINS[op] ?? DEFAULT;
const TANGENT = [0.7, -1.1, 0.4, 1.3, -0.6];
const H = 1e-6;

function setup(op: string): { g: Graph; x: Tensor; v: Tensor; y: Tensor; feeds: Map<Tensor, NDArray> } {
  const g = new Graph();
  const xs = domainOf(op);
  const x = g.placeholder('x', [xs.length], 'float64');
  const v = g.placeholder('v', [xs.length], 'float64');
  const y = apply(opRecord(op), [x]);
  const feeds = new Map<Tensor, NDArray>([
    [x, NDArray.from([...xs], 'float64')],
    [v, NDArray.from(TANGENT.slice(0, xs.length), 'float64')],
  ]);
  return { g, x, v, y, feeds };
}

function run(g: Graph, fetches: Tensor[], feeds: Map<Tensor, NDArray>): number[][] {
  return new Session(g, { backend: 'js' }).run(fetches, feeds).map((a) => Array.from(a.data));
}

/** The double-VJP construction jvp() falls back to for ops without a forward rule: d/du ⟨vjp(u), v⟩. */
function doubleVjp(y: Tensor, x: Tensor, v: Tensor): Tensor | null {
  const u = y.graph.placeholder('u', y.shape, y.dtype);
  const [pulled] = gradients(y, [x], [u]) as Tensor[];
  return gradients(pulled, [u], [v])[0];
}

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`element ${i}: ${a} vs ${expected[i]} (tolerance ${tolerance})\n${actual}\n${expected}`);
    }
  });
}

/** Central finite differences of f along the tangent, in float64. */
function finiteDifference(op: string, f: (g: Graph, x: Tensor) => Tensor): number[] {
  const xs = domainOf(op);
  const shifted = (sign: number): number[] => {
    const g = new Graph();
    const x = g.placeholder('x', [xs.length], 'float64');
    const at = xs.map((value, i) => value + sign * H * TANGENT[i]);
    return run(g, [f(g, x)], new Map([[x, NDArray.from(at, 'float64')]]))[0];
  };
  const plus = shifted(1);
  const minus = shifted(-1);
  return plus.map((p, i) => (p - minus[i]) / (2 * H));
}

test('the unary ops under test are the elementwise ops of one input with a gradient', () => {
  expect(UNARY).toEqual([
    'abs', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'ceil', 'cos', 'cosh', 'elu', 'erf', 'exp', 'expm1',
    'floor', 'hardSwish', 'identity', 'log', 'log1p', 'logSigmoid', 'neg', 'reciprocal', 'relu', 'relu6', 'round', 'rsqrt',
    'selu', 'sigmoid', 'sign', 'sin', 'sinh', 'softplus', 'sqrt', 'square', 'tan', 'tanh',
  ]); // prettier-ignore
});

test('every unary op with a gradient has a forward rule (none falls back to the double-VJP)', () => {
  const without = allOps()
    .filter((r: OpRecord) => r.arity === 1 && r.scalar !== undefined && r.vjp !== undefined && r.jvp === undefined)
    .map((r) => r.name);
  expect(without).toEqual([]);
});

describe.each(UNARY)('%s', (op) => {
  test('jvp equals finite differences in float64', () => {
    const { g, x, v, y, feeds } = setup(op);
    const [tangent] = jvp(y, [x], [v]);
    const expected = finiteDifference(op, (_g, xx) => apply(opRecord(op), [xx]));
    expectClose(run(g, [tangent], feeds)[0], expected, 1e-6);
  });

  test('jvp equals the double-VJP construction', () => {
    const { g, x, v, y, feeds } = setup(op);
    const [tangent] = jvp(y, [x], [v]);
    const reference = doubleVjp(y, x, v);
    const expected = reference === null ? domainOf(op).map(() => 0) : run(g, [reference], feeds)[0];
    expectClose(run(g, [tangent], feeds)[0], expected, 1e-14);
  });

  test('jvp builds fewer nodes than the double-VJP', () => {
    const derived = setup(op);
    const before = derived.g.size;
    jvp(derived.y, [derived.x], [derived.v]);
    const derivedNodes = derived.g.size - before;
    const reference = setup(op);
    const beforeReference = reference.g.size + 1; // the placeholder u stands for jvp's own dummy cotangent
    // Like jvp(), a zero (null) tangent of y ends as zerosLike(y).
    if (doubleVjp(reference.y, reference.x, reference.v) === null) zerosLike(reference.y);
    const referenceNodes = reference.g.size - beforeReference;
    // identity's rule passes the tangent on, and so does its double VJP: no node either way.
    if (op === 'identity') expect([derivedNodes, referenceNodes]).toEqual([0, 0]);
    else expect(derivedNodes).toBeLessThan(referenceNodes);
  });

  test('forward over reverse: jvp of the gradient is the Hessian-vector product', () => {
    const { g, x, v, y, feeds } = setup(op);
    const [gradient] = gradients(sum(y), [x], undefined, { unconnected: 'zero' }) as Tensor[];
    const [hvp] = jvp(gradient, [x], [v]);
    const expected = finiteDifference(op, (gg, xx) => {
      const [dx] = gradients(sum(apply(opRecord(op), [xx])), [xx], undefined, { unconnected: 'zero' }) as Tensor[];
      return dx;
    });
    expectClose(run(g, [hvp], feeds)[0], expected, 1e-6);
  });

  test('forward over forward and reverse over forward: second derivatives through the derived rule', () => {
    const { g, x, v, y, feeds } = setup(op);
    const [tangent] = jvp(y, [x], [v]);
    const [second] = jvp(tangent, [x], [v]); // f''(x)·v²
    const [reverse] = gradients(sum(tangent), [x], undefined, { unconnected: 'zero' }) as Tensor[]; // f''(x)·v
    const firstAlong = (_g: Graph, xx: Tensor): Tensor => {
      const gg = xx.graph;
      const vv = gg.constant(TANGENT.slice(0, domainOf(op).length), 'float64');
      return jvp(apply(opRecord(op), [xx]), [xx], [vv])[0];
    };
    const expected = finiteDifference(op, firstAlong);
    const [secondValue, reverseValue] = run(g, [second, reverse], feeds);
    expectClose(secondValue, expected, 1e-6);
    // The gradient of Σ f'(x)·v is f''(x)·v: the same derivative without the last factor v.
    const tangentValues = TANGENT.slice(0, domainOf(op).length);
    expectClose(
      reverseValue.map((r, i) => r * tangentValues[i]),
      expected,
      1e-6,
    );
  });
});
