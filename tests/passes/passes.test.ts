import fc from 'fast-check';
import {
  add,
  broadcastLike,
  identity,
  log,
  optimize,
  reshape,
  constantFolding,
  cos,
  div,
  exp,
  Graph,
  gradients,
  matMul,
  max,
  mul,
  NDArray,
  neg,
  onesLike,
  prune,
  rebuild,
  relu,
  runPipeline,
  Session,
  sigmoid,
  sin,
  softmax,
  square,
  sub,
  sum,
  sumTo,
  tanh,
  Tensor,
  transpose,
} from '../../src';

describe('CSE', () => {
  test('golden: commuted and repeated subexpressions merge', () => {
    const g = new Graph();
    const a = g.placeholder('a', [2]);
    const b = g.placeholder('b', [2]);
    // a·b and b·a are one value; so are the two exp nodes built over them.
    const y = add(exp(mul(a, b)), exp(mul(b, a)));
    const { graph, report } = optimize(g, [y], { level: 1 });
    expect(graph.toString()).toBe(
      [
        '%0 = placeholder() : float32[2]  # a',
        '%1 = placeholder() : float32[2]  # b',
        '%2 = mul(%0, %1) : float32[2]  # mul',
        '%3 = exp(%2) : float32[2]  # exp',
        '%4 = add(%3, %3) : float32[2]  # add',
      ].join('\n'),
    );
    expect(report.find((r) => r.pass === 'cse')?.changes.merged).toBe(2);
  });
});

describe('constant folding', () => {
  test('golden: constant subexpressions fold, fed and variable paths stay', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const w = g.variable('w', [1, 1]);
    const c = mul(add(g.constant([1, 2]), 3), 2); // all constant: folds to <8, 10>
    const y = add(mul(x, c), w);
    // Fusion would merge mul and add into one node; this test is about folding.
    const sess = new Session(g, { optimize: { disable: ['fuse'] } });
    const text = sess.explain(y, { x: [1, 1] });
    expect(text.slice(text.indexOf('plan:'))).toBe(
      [
        'plan: 2 steps over 5 slots',
        '  %0 = placeholder() : float32[2]  # x',
        '  %1 = variable() : float32[2]  # w',
        '  %2 = constant() <8, 10> : float32[2]  # mul',
        '  %3 = mul(%0, %2) : float32[2]  # mul_1',
        '  %4 = add(%3, %1) : float32[2]  # add_1',
        'outputs: %4',
        'memory: 8 B in 1 reused buffers (0 steps in place) for 8 B of intermediates; 8 B of results allocated per run',
      ].join('\n'),
    );
    expect(text).toMatch(/fold +nodes 9 → 5 \(−4\) {2}folded 2, removed 4/);
    expect(sess.run(y, { x: [1, 1] }).toArray()).toEqual([9, 11]);
  });

  test("never touches the user's graph", () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const y = mul(x, add(g.constant(1), g.constant(2)));
    const before = g.toString();
    new Session(g).run(y, { x: 2 });
    expect(g.toString()).toBe(before);
  });

  test('a node whose value depends only on known shapes folds (onesLike of a fed tensor)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null]);
    const y = mul(onesLike(x), 3);
    expect(new Session(g).explain(y, { x: [1, 2] })).toMatch(/folded 2/);
  });

  test("an input read only for its shape need not be constant: broadcastLike(constant, like) folds, like's producer dies", () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const like = exp(x);
    const row = exp(g.placeholder('row', [3]));
    const y = mul(
      broadcastLike(g.constant(2), like),
      sumTo(
        g.constant([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        row,
      ),
    );
    const slice = { graph: g, outputs: [y.id], bindings: new Map<number, number>() };
    const { slice: folded, changes } = constantFolding().run(slice);
    // broadcastLike, sumTo and the mul of their values: three folds; exp(x) is then read by nothing.
    expect(changes.folded).toBe(3);
    const ops = folded.graph.nodes.map((n) => n.op);
    expect(ops).not.toContain('exp');
    expect(ops).not.toContain('broadcastLike');
    expect(ops).not.toContain('sumTo');
    const value = folded.graph.node(folded.outputs[0]).value;
    expect(Array.from(value?.data ?? [])).toEqual([10, 14, 18, 10, 14, 18]);
    // The value read from the input is still needed: a broadcast of x itself does not fold.
    const kept = constantFolding().run({ graph: g, outputs: [broadcastLike(like, x).id], bindings: new Map() });
    expect(kept.changes.folded).toBe(0);
  });

  test('respects the size cap', () => {
    const g = new Graph();
    const big = g.constant(new Float32Array(100));
    const slice = { graph: g, outputs: [mul(big, 2).id], bindings: new Map<number, number>() };
    expect(constantFolding(10).run(slice).changes.folded).toBe(0);
    expect(constantFolding(1000).run(slice).changes.folded).toBe(1);
  });

  test('the pipeline reaches a fixed point and reports every pass of the first round', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const y = add(x, mul(g.constant(2), g.constant(3)));
    const { slice, reports } = runPipeline({ graph: g, outputs: [y.id], bindings: new Map() }, [
      constantFolding(),
      prune,
    ]);
    expect(reports.map((r) => r.pass)).toEqual(['fold', 'prune']);
    expect(slice.graph.size).toBe(3);
  });

  test('the gradients of a summed loss reach the fixed point in one round (each pass reported once)', () => {
    // sum's gradient seeds ones broadcast like the loss's input: folded in the first round, and the mul by them
    // dropped in the same round's simplify; before, a second round folded the broadcast and a third confirmed it.
    const g = new Graph();
    const x = g.placeholder('x', [4, 3]);
    const w = g.variable('w', new NDArray(new Float32Array(12).fill(0.5), [3, 4]));
    const h = tanh(matMul(x, w));
    const loss = sum(h);
    const grads = gradients(loss, [x, w]) as Tensor[];
    for (const level of [1, 2] as const) {
      const { report } = optimize(g, [loss, ...grads], { level });
      const passes = report.map((r) => r.pass);
      // The slice's report is a prune too; every other pass once.
      expect(passes.filter((p) => p !== 'prune')).toEqual([...new Set(passes.filter((p) => p !== 'prune'))]);
      expect(passes.filter((p) => p === 'prune')).toHaveLength(2);
      expect(report.find((r) => r.pass === 'simplify')?.changes['mul-one']).toBeGreaterThan(0);
    }
  });

  test('rebuild re-interns equal nodes (structural sharing)', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const y = add(mul(x, 2), 1);
    const rebuilt = rebuild({ graph: g, outputs: [y.id], bindings: new Map() });
    expect(rebuilt.graph.toString()).toBe(g.toString());
  });
});

// ---- property: level 0 and level 2 agree on random graphs ------------------------------------------------

type Build = (a: Tensor, b: Tensor) => Tensor;

/** Ops that keep an operand's [r, c] shape (or broadcast back to it), so any two pool entries combine. */
const unaryOps: Build[] = [
  (a) => neg(a),
  (a) => square(tanh(a)),
  (a) => sin(a),
  (a) => cos(a),
  (a) => sigmoid(a),
  (a) => relu(a),
  (a) => exp(tanh(a)),
  (a) => log(add(square(a), 1)),
  (a) => softmax(a),
  (a) => transpose(transpose(a)),
  (a) => mul(a, 1),
  (a) => add(a, 0),
  (a) => neg(neg(a)),
  (a) => identity(a),
  (a) =>
    reshape(
      reshape(a, [-1]),
      a.shape.map((d) => d ?? -1),
    ),
];
const binaryOps: Build[] = [
  (a, b) => add(a, b),
  (a, b) => sub(a, b),
  (a, b) => mul(a, b),
  (a, b) => div(a, add(square(b), 1)),
  (a, b) => add(mul(a, b), mul(b, a)),
  (a, b) => add(a, sum(b, -1, true)),
  (a, b) => add(a, max(b, 0, true)),
  (a, b) => mul(a, mul(b, b)),
];

const program = fc.array(fc.record({ unary: fc.boolean(), op: fc.nat(), a: fc.nat(), b: fc.nat() }), {
  minLength: 5,
  maxLength: 40,
});

function buildRandom(
  rows: number,
  cols: number,
  steps: { unary: boolean; op: number; a: number; b: number }[],
): { g: Graph; outputs: Tensor[] } {
  const g = new Graph();
  const pool: Tensor[] = [
    g.placeholder('x', [rows, cols]),
    g.placeholder('y', [null, cols]),
    g.constant(Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => (r - c) / 3))),
    g.constant(Array.from({ length: cols }, (_, c) => 0.1 * (c + 1))),
    g.variable('w', [Array.from({ length: cols }, (_, c) => c - 1)]),
  ];
  for (const step of steps) {
    const a = pool[step.a % pool.length];
    const b = pool[step.b % pool.length];
    const ops = step.unary ? unaryOps : binaryOps;
    pool.push(ops[step.op % ops.length](a, b));
  }
  return { g, outputs: pool.slice(5) };
}

function sameValues(a: NDArray, b: NDArray): boolean {
  if (a.shape.join() !== b.shape.join()) return false;
  for (let i = 0; i < a.size; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (Number.isNaN(x) !== Number.isNaN(y)) return false;
    if (!Number.isNaN(x) && x !== y && Math.abs(x - y) > 1e-4 * Math.max(1, Math.abs(x))) return false;
  }
  return true;
}

describe('pass equivalence (property)', () => {
  test('level 0 and level 2 give the same values and gradients on random graphs of 5–40 nodes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        program,
        fc.boolean(),
        (rows, cols, steps, broadcastY) => {
          const { g, outputs } = buildRandom(rows, cols, steps);
          const feeds = {
            x: Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => Math.sin(r * 7 + c))),
            y: Array.from({ length: broadcastY ? 1 : rows }, (_, r) =>
              Array.from({ length: cols }, (_, c) => Math.cos(r + c * 3)),
            ),
          };
          const last = outputs[outputs.length - 1];
          const grads = gradients(sum(last), [g.byName('x') as Tensor, g.byName('w') as Tensor], undefined, {
            unconnected: 'zero',
          }) as Tensor[];
          const fetches = [...outputs, ...grads];
          const on = new Session(g, { optimize: { level: 2, verify: true } }).run(fetches, feeds);
          const off = new Session(g, { optimize: { level: 0 } }).run(fetches, feeds);
          return on.every((value, i) => sameValues(value, off[i]));
        },
      ),
      { numRuns: 150, seed: 20261126 },
    );
  });
});
