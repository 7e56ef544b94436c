import {
  add,
  div,
  EXACT_RULES,
  exp,
  Graph,
  gradients,
  log,
  mul,
  neg,
  optimize,
  reshape,
  sin,
  softmax,
  STABILIZING_RULES,
  sum,
  Tensor,
} from '../../src';

/**
 * Rules written against the exact nodes a vjp (or autodiff's central broadcasting) builds. Each is checked on the
 * real gradient from gradients(): if a vjp changes and its rule stops matching, the rewrite silently stops
 * happening (a NaN comes back, or an array of ones is filled every step) and the test here fails.
 */

interface Case {
  /** The rule that must fire. */
  readonly rule: string;
  /** Builds the user's graph and returns the gradient to compile, and concrete shapes for unknown dims. */
  readonly build: (g: Graph) => { fetch: Tensor; shapes?: Map<Tensor, number[]> };
  /** What the rewritten gradient must (not) contain, as op names of the optimized graph. */
  readonly has?: readonly string[];
  readonly lacks: readonly string[];
}

/** More elements than constant folding materializes, so the gradient's onesLike seed stays a node. */
const big = (g: Graph): Tensor => g.placeholder('big', [300, 300]);
const grad = (y: Tensor, x: Tensor): Tensor => (gradients(y, [x]) as Tensor[])[0];
/** The gradient of y for a cotangent fed from outside (as from later layers): a seed folding cannot absorb. */
const backprop = (y: Tensor, x: Tensor): Tensor =>
  (gradients(y, [x], [y.graph.placeholder('dy', y.shape)]) as Tensor[])[0];

const CASES: readonly Case[] = [
  // sin's vjp multiplies the seed onesLike(y) by cos(x).
  { rule: 'mul-ones-like', build: (g) => ({ fetch: grad(sin(big(g)), g.byName('big') as Tensor) }), has: ['cos'], lacks: ['onesLike', 'mul'] },
  // log's vjp divides the seed by x.
  { rule: 'div-ones-like', build: (g) => ({ fetch: grad(log(big(g)), g.byName('big') as Tensor) }), has: ['reciprocal'], lacks: ['onesLike', 'div'] },
  {
    rule: 'sigmoid-gradient',
    build: (g) => {
      const x = g.placeholder('x', [4]);
      return { fetch: backprop(div(1, add(1, exp(neg(x)))), x) };
    },
    has: ['sigmoid'],
    lacks: ['exp', 'square', 'div'],
  },
  {
    rule: 'log-softmax-gradient',
    build: (g) => {
      const x = g.placeholder('x', [2, 3]);
      return { fetch: backprop(log(softmax(x)), x) };
    },
    has: ['softmax', 'sub'],
    lacks: ['div', 'log'],
  },
  // sum's vjp broadcasts dy back with broadcastLike(dy, x) while x's batch dim is unknown (a dy that is no constant:
  // fold takes broadcastLike(constant, x) first, its `like` read only for its shape).
  {
    rule: 'like-to-static',
    build: (g) => {
      const x = g.placeholder('x', [null, 3]);
      return { fetch: grad(exp(sum(exp(x))), x), shapes: new Map([[x, [2, 3]]]) };
    },
    lacks: ['broadcastLike'],
  },
  // reshape's vjp reshapes dy back with reshapeLike(dy, x).
  {
    rule: 'like-to-static',
    build: (g) => {
      const x = g.placeholder('x', [null, 3]);
      return { fetch: grad(sum(exp(reshape(x, [-1]))), x), shapes: new Map([[x, [2, 3]]]) };
    },
    lacks: ['reshapeLike'],
  },
  // autodiff undoes the broadcast of b with sumTo(dy, b).
  {
    rule: 'sum-to-static',
    build: (g) => {
      const x = g.placeholder('x', [null, 3]);
      const b = g.placeholder('b', [3]);
      return { fetch: grad(sum(exp(add(x, b))), b), shapes: new Map([[x, [2, 3]]]) };
    },
    has: ['sum'],
    lacks: ['sumTo'],
  },
  // ...and puts a sumTo on every input whose shape it cannot prove equal to the output's.
  {
    rule: 'broadcast-same',
    build: (g) => {
      const x = g.placeholder('x', [null, 3]);
      const w = g.placeholder('w', [null, 3]);
      return { fetch: grad(sum(exp(mul(x, w))), x), shapes: new Map([[x, [2, 3]], [w, [2, 3]]]) };
    },
    lacks: ['sumTo'],
  },
]; // prettier-ignore

test.each(CASES.map((c) => [c.rule, c] as const))('%s fires on the gradient autodiff builds', (rule, c) => {
  const g = new Graph();
  const { fetch, shapes } = c.build(g);
  const { graph, report } = optimize(g, [fetch], { verify: true, disable: ['fuse', 'epilogue'], shapes });
  const fired = report.reduce((n, r) => n + (r.changes[rule] ?? 0), 0);
  expect(fired).toBeGreaterThan(0);
  const ops = new Set(graph.nodes.map((n) => n.op));
  for (const name of c.has ?? []) expect([name, ops.has(name)]).toEqual([name, true]);
  for (const name of c.lacks) expect([name, ops.has(name)]).toEqual([name, false]);
});

test('the rules above are rules of the tables', () => {
  const names = new Set([...EXACT_RULES, ...STABILIZING_RULES].map((r) => r.name));
  expect(CASES.map((c) => c.rule).filter((rule) => !names.has(rule))).toEqual([]);
});
