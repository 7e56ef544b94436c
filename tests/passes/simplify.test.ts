import {
  add,
  broadcastLike,
  broadcastTo,
  cast,
  div,
  EXACT_RULES,
  exp,
  Graph,
  identity,
  log,
  matMul,
  mul,
  neg,
  onesLike,
  optimize,
  pow,
  reshape,
  Session,
  softmax,
  sqrt,
  stopGradient,
  sub,
  sum,
  sumTo,
  Tensor,
  transpose,
} from '../../src';

/** The ops left in the optimized graph (leaves dropped), and the counts of rules that fired. */
function optimized(y: Tensor, level: 0 | 1 | 2 = 2): { ops: string[]; fired: { [rule: string]: number } } {
  // Fusion is left out: it would hide which elementwise ops the rules left behind.
  const { graph, report } = optimize(y.graph, [y], { level, verify: true, disable: ['fuse'] });
  const fired: { [rule: string]: number } = {};
  for (const r of report) for (const [k, n] of Object.entries(r.changes)) fired[k] = (fired[k] ?? 0) + n;
  const leaves = new Set(['placeholder', 'constant', 'variable']);
  return { ops: graph.nodes.filter((n) => !leaves.has(n.op)).map((n) => n.op), fired };
}

/** One placeholder per graph with more elements than constant folding materializes. */
function big(g: Graph): Tensor {
  return g.byName('big') ?? g.placeholder('big', [300, 300]);
}

function setup(): { g: Graph; x: Tensor; m: Tensor } {
  const g = new Graph();
  return { g, x: g.placeholder('x', [2, 3]), m: g.placeholder('m', [3, 4]) };
}

describe('a literal in a pattern sees through a broadcast or reshape of a constant (one level)', () => {
  test('mul-one drops a mul by ones broadcast to its shape, and the values stay', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const ones = broadcastTo(g.constant(1), [2, 3]);
    const y = sin2(mul(x, ones));
    const { graph, report } = optimize(g, [y], { level: 2, verify: true, disable: ['fuse', 'fold'] });
    expect(report.find((r) => r.pass === 'simplify')?.changes['mul-one']).toBe(1);
    expect(graph.nodes.filter((n) => n.op === 'mul')).toHaveLength(1); // sin2's own
    const feed = { x: [[1, 2, 3], [4, 5, 6]] }; // prettier-ignore
    const plain = new Session(g, { optimize: false }).run(y, feed).toArray();
    expect(new Session(g, { optimize: { level: 2, disable: ['fold'] } }).run(y, feed).toArray()).toEqual(plain);
  });

  test('not through a broadcast of a constant whose elements differ, nor one that changes the result shape', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const row = g.placeholder('row', [3]);
    const mixed = mul(x, broadcastTo(g.constant([1, 2, 1]), [2, 3]));
    const wider = mul(row, broadcastTo(g.constant(1), [2, 3])); // row·1 broadcast: [2, 3], not row's [3]
    const reshaped = mul(x, reshape(g.constant([1, 1, 1, 1, 1, 1]), [2, 3]));
    const { graph, report } = optimize(g, [mixed, wider, reshaped], { level: 1, disable: ['fold'] });
    expect(report.find((r) => r.pass === 'simplify')?.changes['mul-one']).toBe(1); // `reshaped` alone
    expect(graph.nodes.filter((n) => n.op === 'mul')).toHaveLength(2);
    const feed = { x: [[1, 2, 3], [4, 5, 6]], row: [7, 8, 9] }; // prettier-ignore
    const plain = new Session(g, { optimize: false }).run([mixed, wider, reshaped], feed).map((t) => t.toArray());
    const fast = new Session(g, { optimize: { level: 1, disable: ['fold'] } }).run([mixed, wider, reshaped], feed);
    expect(fast.map((t) => t.toArray())).toEqual(plain);
  });
});

describe('exact simplification rules (one test per rule)', () => {
  const cases: [string, (s: ReturnType<typeof setup>) => Tensor, string[]][] = [
    ['add-zero', ({ x }) => sin2(add(x, 0)), ['mul']],
    ['sub-zero', ({ x }) => sin2(sub(x, 0)), ['mul']],
    ['mul-one', ({ x }) => sin2(mul(1, x)), ['mul']],
    ['div-one', ({ x }) => sin2(div(x, 1)), ['mul']],
    ['neg-neg', ({ x }) => sin2(neg(neg(x))), ['mul']],
    ['identity', ({ x }) => sin2(identity(x)), ['mul']],
    ['stop-gradient', ({ x }) => sin2(stopGradient(x)), ['mul']],
    ['cast-same', ({ x }) => sin2(cast(x, 'float32')), ['mul']],
    ['broadcast-same', ({ x }) => sin2(broadcastTo(x, [2, 3])), ['mul']],
    ['sum-no-axes', ({ x }) => sin2(sum(x, [])), ['mul']],
    ['reshape-reshape', ({ x }) => sin2(reshape(reshape(x, [6]), [3, 2])), ['reshape', 'mul']],
    ['transpose-transpose', ({ x }) => sin2(transpose(transpose(x))), ['mul']],
    ['transpose-into-matmul-a', ({ x }) => matMul(transpose(x), x), ['matMul']],
    ['transpose-into-matmul-b', ({ x }) => matMul(x, transpose(x)), ['matMul']],
    ['mul-self-square', ({ x }) => mul(exp(x), exp(x)), ['exp', 'square']],
    ['pow-two-square', ({ x }) => pow(x, 2), ['square']],
    // (on an array above the folding size limit: a smaller onesLike folds into a constant first)
    ['mul-ones-like', ({ g }) => sin2(mul(onesLike(exp(big(g))), big(g))), ['mul']],
    ['div-ones-like', ({ g }) => div(onesLike(big(g)), big(g)), ['reciprocal']],
    ['pow-minus-one-reciprocal', ({ x }) => pow(x, -1), ['reciprocal']],
    ['div-sqrt-rsqrt', ({ x, m }) => div(x, sqrt(sum(m))), ['sum', 'rsqrt', 'mul']],
    ['add-chain-addn', ({ x }) => add(add(exp(x), sin2(x)), x), ['exp', 'mul', 'addN']],
    ['transpose-identity', ({ x }) => sin2(transpose(x, [0, 1])), ['mul']],
    ['like-to-static', ({ x }) => sin2(broadcastLike(sum(x, 0, true), x)), ['sum', 'broadcastTo', 'mul']],
    ['sum-to-static', ({ x }) => sin2(sumTo(x, sum(x, 0, true))), ['sum', 'mul']],
  ];
  test.each(cases)('%s', (rule, build, expectedOps) => {
    const s = setup();
    const y = build(s);
    const { ops, fired } = optimized(y);
    expect(fired[rule]).toBeGreaterThan(0);
    expect(ops).toEqual(expectedOps);
  });

  test('every exact rule has a test above', () => {
    const tested = new Set(cases.map((c) => c[0]));
    tested.delete('add-chain-addn'); // a pass of its own (addn), not a table rule
    expect(EXACT_RULES.map((r) => r.name).filter((n) => !tested.has(n))).toEqual([]);
  });

  test('transpose into matMul flips the transpose flag (one matMul, no transpose)', () => {
    const g = new Graph();
    const a = g.placeholder('a', [3, 2]);
    const b = g.placeholder('b', [3, 4]);
    const y = matMul(transpose(a), b);
    const { graph } = optimize(g, [y]);
    expect(graph.toString()).toContain('matMul(%0, %1) {transposeA=true, transposeB=false}');
    const feeds = {
      a: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      b: [
        [1, 0, 0, 1],
        [0, 1, 0, 1],
        [0, 0, 1, 1],
      ],
    };
    expect(new Session(g).run(y, feeds).toArray()).toEqual(new Session(g, { optimize: false }).run(y, feeds).toArray());
  });

  test('not x·0 → 0: multiplying by zero is kept (NaN·0 is NaN)', () => {
    const { x } = setup();
    const y = mul(x, 0);
    expect(optimized(y).ops).toEqual(['mul']);
    const out = new Session(x.graph).run(y, {
      x: [
        [NaN, Infinity, 1],
        [2, 3, 4],
      ],
    });
    expect(Number.isNaN(out.data[0])).toBe(true);
    expect(Number.isNaN(out.data[1])).toBe(true);
  });

  test('x + 0 with broadcasting is not removed (the shape would change)', () => {
    const g = new Graph();
    const v = g.placeholder('v', [3]);
    const y = add(
      v,
      g.constant([
        [0, 0, 0],
        [0, 0, 0],
      ]),
    );
    expect(optimized(y).ops).toEqual(['add']);
  });

  test('level 0 leaves the graph as built', () => {
    const { x } = setup();
    expect(optimized(neg(neg(x)), 0).ops).toEqual(['neg', 'neg']);
  });
});

describe('addn', () => {
  test('a shared inner sum is not flattened into its consumers (no quadratic growth)', () => {
    const g = new Graph();
    let h = g.placeholder('h', [4]);
    for (let i = 0; i < 50; i++) h = add(h, exp(h));
    const { graph } = optimize(g, [h], { disable: ['fuse'] });
    const sizes = graph.nodes.filter((n) => n.op === 'addN').map((n) => n.inputs.length);
    expect(Math.max(0, ...sizes)).toBeLessThanOrEqual(2);
    expect(graph.size).toBeLessThan(110);
  });
});

describe('stabilization', () => {
  test('log(softmax(x)) becomes logSoftmax: finite where the unstabilized graph gives -Infinity', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3]);
    const y = log(softmax(x));
    expect(optimized(y).ops).toEqual(['logSoftmax']);
    const feeds = { x: [[0, 1000, -1000]] };
    const stable = new Session(g).run(y, feeds).toArray() as number[][];
    const naive = new Session(g, { optimize: { level: 1 } }).run(y, feeds).toArray() as number[][];
    expect(naive[0][2]).toBe(-Infinity);
    expect(stable[0][2]).toBeCloseTo(-2000, 3);
    expect(stable[0][1]).toBeCloseTo(0, 5);
  });
});

function sin2(t: Tensor): Tensor {
  return mul(t, 2);
}
