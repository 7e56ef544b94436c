/**
 * Tour step 3: symbolic vs automatic differentiation. A naive symbolic differentiator (below, over expression
 * trees, applying the sum, product and chain rules with no simplification and no sharing) copies whole subtrees
 * at every product rule, so the derivative's expression swells. lazygrad's gradient is a graph: each forward
 * value is computed once and reused, and each node adds a constant number of gradient nodes, so the gradient
 * graph grows only linearly with the function's graph. Two families: products of n factors (x + 1)(x + 2)…(x + n)
 * and n compositions of the logistic map l ↦ 4l(1 − l).
 */
import { add, ancestors, gradients, Graph, mul, optimize, Session, sub, Tensor } from '../../src';
import { heading, linePlot, table, writeOut } from './util';

/** An expression tree over one variable x. */
export type Expr =
  | { readonly op: 'x' }
  | { readonly op: 'const'; readonly value: number }
  | { readonly op: 'add' | 'sub' | 'mul'; readonly a: Expr; readonly b: Expr };

const X: Expr = { op: 'x' };
const lit = (value: number): Expr => ({ op: 'const', value });
const node = (op: 'add' | 'sub' | 'mul', a: Expr, b: Expr): Expr => ({ op, a, b });

/** d/dx by the textbook rules, with no simplification (0·u and 1·u are kept, as a naive rewriter leaves them). */
export function differentiate(e: Expr): Expr {
  switch (e.op) {
    case 'x':
      return lit(1);
    case 'const':
      return lit(0);
    case 'add':
    case 'sub':
      return node(e.op, differentiate(e.a), differentiate(e.b));
    case 'mul':
      return node('add', node('mul', differentiate(e.a), e.b), node('mul', e.a, differentiate(e.b)));
  }
}

/**
 * Nodes of the expression written out as a tree (what printing it or handing it to a tree rewriter costs).
 * Subtrees are shared between JS objects, so the count is memoized by identity to stay fast.
 */
export function treeSize(e: Expr, memo = new Map<Expr, number>()): number {
  const known = memo.get(e);
  if (known !== undefined) return known;
  const size = e.op === 'x' || e.op === 'const' ? 1 : 1 + treeSize(e.a, memo) + treeSize(e.b, memo);
  memo.set(e, size);
  return size;
}

export function evaluate(e: Expr, x: number, memo = new Map<Expr, number>()): number {
  const known = memo.get(e);
  if (known !== undefined) return known;
  let value: number;
  if (e.op === 'x') value = x;
  else if (e.op === 'const') value = e.value;
  else {
    const [a, b] = [evaluate(e.a, x, memo), evaluate(e.b, x, memo)];
    value = e.op === 'add' ? a + b : e.op === 'sub' ? a - b : a * b;
  }
  memo.set(e, value);
  return value;
}

/** The same expression as lazygrad graph nodes (the graph interns equal nodes, as a DAG would). */
function toGraph(e: Expr, x: Tensor): Tensor {
  if (e.op === 'x') return x;
  if (e.op === 'const') return x.graph.constant(e.value, 'float64');
  const [a, b] = [toGraph(e.a, x), toGraph(e.b, x)];
  return e.op === 'add' ? add(a, b) : e.op === 'sub' ? sub(a, b) : mul(a, b);
}

/** (x + 1)(x + 2)…(x + n), multiplied left to right. */
export function product(n: number): Expr {
  let e = node('add', X, lit(1));
  for (let k = 2; k <= n; k++) e = node('mul', e, node('add', X, lit(k)));
  return e;
}

/** The logistic map l ↦ 4l(1 − l) applied n times to x. */
export function logistic(n: number): Expr {
  let e: Expr = X;
  for (let k = 0; k < n; k++) e = node('mul', node('mul', lit(4), e), node('sub', lit(1), e));
  return e;
}

export interface SwellRow {
  readonly n: number;
  /** Tree nodes of f and of its naive symbolic derivative. */
  readonly expression: number;
  readonly symbolic: number;
  /** lazygrad nodes: f's graph, the gradient's graph (all nodes it needs), and that graph after optimize. */
  readonly forwardGraph: number;
  readonly gradientGraph: number;
  readonly optimized: number;
  /** The gradient graph after optimize without the fusion pass: the rewrites alone (folding, simplify, CSE). */
  readonly unfused: number;
  /** The derivative at x = 0.3 by the symbolic tree and by lazygrad (they must agree). */
  readonly symbolicValue: number;
  readonly lazygradValue: number;
}

export const AT = 0.3;

function measure(n: number, e: Expr): SwellRow {
  const de = differentiate(e);
  const g = new Graph();
  const x = g.placeholder('x', [], 'float64');
  const y = toGraph(e, x);
  const [dx] = gradients(y, [x]) as Tensor[];
  const opt = optimize(g, [dx]);
  const unfused = optimize(g, [dx], { disable: ['fuse'] });
  const count = (r: { graph: Graph; outputs: Tensor[] }): number =>
    ancestors(
      r.graph,
      r.outputs.map((t) => t.id),
    ).length;
  return {
    n,
    expression: treeSize(e),
    symbolic: treeSize(de),
    forwardGraph: ancestors(g, [y.id]).length,
    gradientGraph: ancestors(g, [dx.id]).length,
    optimized: count(opt),
    unfused: count(unfused),
    symbolicValue: evaluate(de, AT),
    lazygradValue: new Session(g).run(dx, { x: AT }).get(),
  };
}

export interface SymbolicSwell {
  readonly products: SwellRow[];
  readonly compositions: SwellRow[];
  readonly svg: string;
  readonly text: string;
}

function swellTable(rows: readonly SwellRow[]): string {
  return table(
    [
      'n',
      'f tree',
      'symbolic df tree',
      'f graph',
      'gradient graph',
      'no fusion',
      'optimized',
      'df(0.3) sym / lazygrad',
    ],
    rows.map((r) => [
      String(r.n),
      String(r.expression),
      String(r.symbolic),
      String(r.forwardGraph),
      String(r.gradientGraph),
      String(r.unfused),
      String(r.optimized),
      `${r.symbolicValue.toPrecision(6)} / ${r.lazygradValue.toPrecision(6)}`,
    ]),
  );
}

/** Runs step 3 for n = 1…maxN and returns both tables' rows, the SVG and the printed text. */
export function symbolicSwell(maxN = 10): SymbolicSwell {
  const ns = Array.from({ length: maxN }, (_, i) => i + 1);
  const products = ns.map((n) => measure(n, product(n)));
  const compositions = ns.map((n) => measure(n, logistic(n)));
  const curve = (rows: readonly SwellRow[], key: 'symbolic' | 'gradientGraph' | 'unfused'): [number, number][] =>
    rows.map((r) => [r.n, r[key]]);
  const svg = linePlot(
    [
      { name: 'logistic: symbolic', points: curve(compositions, 'symbolic'), color: '#dc2626' },
      { name: 'logistic: gradient', points: curve(compositions, 'gradientGraph'), color: '#2563eb' },
      { name: 'logistic: rewritten', points: curve(compositions, 'unfused'), color: '#16a34a' },
      { name: 'product: symbolic', points: curve(products, 'symbolic'), color: '#dc2626', dashed: true },
      { name: 'product: gradient', points: curve(products, 'gradientGraph'), color: '#2563eb', dashed: true },
      { name: 'product: rewritten', points: curve(products, 'unfused'), color: '#16a34a', dashed: true },
    ],
    { title: 'Expression swell: derivative size vs n', xLabel: 'n', yLabel: 'nodes', xLog: false },
  );
  const text = [
    heading('Step 3: symbolic vs automatic differentiation (expression swell)'),
    '',
    'Node counts: "tree" = the expression written out without sharing (the naive symbolic derivative applies',
    'd(uv) = du·v + u·dv and copies u and v each time); "graph" = lazygrad nodes the tensor needs (the forward',
    'nodes included); "no fusion" = after optimize(g, [grad], { disable: [\'fuse\'] }) (constant folding,',
    'simplification, CSE); "optimized" = after optimize(g, [grad]), where fusion also merges elementwise chains',
    'into single fused kernels (so a whole small gradient can become one node).',
    '',
    'Products (x + 1)(x + 2)…(x + n):',
    swellTable(products),
    '',
    'Compositions of the logistic map l ↦ 4l(1 − l), n times:',
    swellTable(compositions),
    '',
    'The symbolic tree grows quadratically for products and exponentially for compositions; the gradient',
    'graph grows linearly in both, because reverse mode reuses every forward value instead of copying it.',
  ].join('\n');
  return { products, compositions, svg, text };
}

if (require.main === module) {
  const result = symbolicSwell();
  console.log(result.text);
  console.log(`\nwrote ${writeOut('symbolic-swell.svg', result.svg)}`);
}
