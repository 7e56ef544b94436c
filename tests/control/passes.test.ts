/**
 * The control-flow passes (src/passes/control.ts): loop-invariant code motion out of scan and whileLoop bodies (never
 * out of cond branches), pruning of unused loop variables, carries, ys and captures, and inlining a cond whose
 * predicate is constant; golden text IR, their reports in explain, and a random-graph property: optimized (level 2)
 * and unoptimized (level 0) runs agree, on both backends.
 */
import fc from 'fast-check';
import {
  add,
  cond,
  controlSibling,
  gather,
  gradients,
  Graph,
  greater,
  less,
  logicalAnd,
  matMul,
  mul,
  NDArray,
  neg,
  optimize,
  reshape,
  scan,
  Session,
  sin,
  sub,
  sum,
  tanh,
  Tensor,
  transpose,
  whileLoop,
} from '../../src';

function changes(report: ReturnType<typeof optimize>['report'], pass: string): { [rule: string]: number } {
  const found = report.filter((r) => r.pass === pass);
  const total: { [rule: string]: number } = {};
  for (const r of found) for (const [k, n] of Object.entries(r.changes)) total[k] = (total[k] ?? 0) + n;
  return total;
}

describe('loop-invariant code motion', () => {
  test('matMul of two captured weights and a transpose leave a scan body (golden)', () => {
    const g = new Graph();
    const w = g.placeholder('W', [2, 2], 'float64');
    const u = g.placeholder('U', [2, 2], 'float64');
    const xs = g.placeholder('xs', [5, 1, 2], 'float64');
    const [last] = scan(
      (h: Tensor, x: Tensor) => {
        const h2 = tanh(add(matMul(x, w), matMul(h, matMul(u, transpose(w)))));
        return [h2, h2];
      },
      g.constant([[0, 0]], 'float64'),
      xs,
    );
    const { graph, report } = optimize(g, [last], { level: 1, disable: ['simplify'] });
    expect(changes(report, 'licm')).toEqual({ hoisted: 2 });
    expect(graph.toString()).toBe(
      [
        '%0 = placeholder() : float64[2, 2]  # W',
        '%1 = placeholder() : float64[2, 2]  # U',
        '%2 = placeholder() : float64[5, 1, 2]  # xs',
        '%3 = constant() <0, 0> : float64[1, 2]  # Const',
        '%4 = transpose(%0) {perm=[1,0]} : float64[2, 2]  # scan/transpose',
        '%5 = matMul(%1, %4) {transposeA=false, transposeB=false} : float64[2, 2]  # scan/matMul_1',
        '%6 = scan(%3, %2, %0, %5) {carries=1, xs=1, output="carry:0"} : float64[1, 2]  # scan/carry:0',
        '  body(%0 carry0: float64[1, 2], %1 x0: float64[1, 2], %2 W: float64[2, 2], %4 matMul_1: float64[2, 2]) -> (%7)',
        '    %3 = matMul(%1, %2) {transposeA=false, transposeB=false} : float64[1, 2]  # matMul',
        '    %5 = matMul(%0, %4) {transposeA=false, transposeB=false} : float64[1, 2]  # matMul_2',
        '    %6 = add(%3, %5) : float64[1, 2]  # add',
        '    %7 = tanh(%6) : float64[1, 2]  # tanh',
      ].join('\n'),
    );
  });

  test('a whileLoop body: the invariant leaves, the condition gets the new parameter too; values unchanged', () => {
    const g = new Graph();
    const w = g.placeholder('W', [2, 2], 'float64');
    const [, v] = whileLoop(
      ([i]) => less(i, 3),
      ([i, a]) => [add(i, 1), tanh(matMul(a, transpose(w)))],
      [g.constant(0, 'int32'), g.constant([[1, -1]], 'float64')],
      { maximumIterations: 5 },
    );
    const { graph, report } = optimize(g, [v], { level: 1, disable: ['simplify'] });
    expect(changes(report, 'licm')).toEqual({ hoisted: 1 });
    const text = graph.toString();
    expect(text).toContain('= transpose(%');
    expect(text).toMatch(/ {2}cond\(%0 var0: int32\[\], %1 var1: float64\[1, 2\], %\d+ transpose: float64\[2, 2\]\)/);
    const feeds = {
      W: NDArray.from(
        [
          [0.5, 1],
          [-2, 0.25],
        ],
        'float64',
      ),
    };
    const plain = new Session(g, { optimize: false }).run(v, feeds);
    expect(Array.from(new Session(g).run(v, feeds).data)).toEqual(Array.from(plain.data));
  });

  test("the condition's new parameter gets a name of its own when the condition already uses the hoisted node's", () => {
    const g = new Graph();
    const w = g.placeholder('W', [2, 2], 'float64');
    const [, v] = whileLoop(
      ([i]) => logicalAnd(less(i, 3), greater(sum(transpose(w)), -100)),
      ([i, a]) => [add(i, 1), tanh(matMul(a, transpose(w)))],
      [g.constant(0, 'int32'), g.constant([[1, -1]], 'float64')],
      { maximumIterations: 5 },
    );
    const { graph } = optimize(g, [v], { level: 1, disable: ['simplify'] });
    expect(graph.toString()).toMatch(
      / {2}cond\(%0 var0: int32\[\], %1 var1: float64\[1, 2\], %\d+ W: float64\[2, 2\], %\d+ transpose_1: /,
    );
    const feeds = {
      W: NDArray.from(
        [
          [0.5, 1],
          [-2, 0.25],
        ],
        'float64',
      ),
    };
    const plain = new Session(g, { optimize: false }).run(v, feeds);
    expect(Array.from(new Session(g).run(v, feeds).data)).toEqual(Array.from(plain.data));
  });

  test('nothing leaves a cond branch (only the taken branch may run)', () => {
    const g = new Graph();
    const w = g.placeholder('W', [2, 2], 'float64');
    const p = g.placeholder('p', [], 'bool');
    const y = cond(
      p,
      () => matMul(w, transpose(w)),
      () => w,
    );
    const { report } = optimize(g, [y], { level: 1 });
    expect(changes(report, 'licm')).toEqual({ hoisted: 0 });
  });

  test('a gather (it throws on an index out of range) stays in a whileLoop body that may not run', () => {
    const g = new Graph();
    const table = g.placeholder('table', [3], 'float64');
    const k = g.placeholder('k', [1], 'int32');
    const n = g.placeholder('n', [], 'int32');
    const [, v] = whileLoop(
      ([i]) => less(i, n),
      ([i, a]) => [add(i, 1), add(a, gather(table, k))],
      [g.constant(0, 'int32'), g.constant([0], 'float64')],
      { maximumIterations: 4 },
    );
    const { report } = optimize(g, [v], { level: 1 });
    expect(changes(report, 'licm')).toEqual({ hoisted: 0 });
    // The loop runs no iteration: the bad index is never read.
    const out = new Session(g).run(v, { table: [1, 2, 3], k: NDArray.from([7], 'int32'), n: NDArray.from(0, 'int32') });
    expect(Array.from(out.data)).toEqual([0]);
  });

  test('a stacked body value (what a gradient asks a loop for) is renumbered and keeps its values', () => {
    const g = new Graph();
    const w = g.placeholder('W', [2, 2], 'float64');
    const xs = g.placeholder('xs', [3, 2], 'float64');
    const [last] = scan(
      (h: Tensor, x: Tensor) => [tanh(add(x, reshape(matMul(reshape(h, [1, 2]), mul(w, 2)), [2]))), null],
      g.constant([0.5, -0.5], 'float64'),
      xs,
    );
    // Body node 7 is the tanh's input: stacked at every step.
    const body = last.node.attrs.body as { nodes: { op: string }[] };
    const addIndex = body.nodes.findIndex((node) => node.op === 'add');
    const stack = controlSibling(g, last.node, `stack:${addIndex}`);
    const feeds = {
      W: NDArray.from(
        [
          [0.5, 1],
          [-2, 0.25],
        ],
        'float64',
      ),
      xs: NDArray.from(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        'float64',
      ),
    };
    const plain = new Session(g, { optimize: false }).run([last, stack], feeds);
    const optimized = new Session(g).run([last, stack], feeds);
    expect(optimized.map((v) => Array.from(v.data))).toEqual(plain.map((v) => Array.from(v.data)));
    expect(changes(optimize(g, [last, stack], { level: 1 }).report, 'licm')).toEqual({ hoisted: 1 });
  });
});

describe('the control-flow passes in the pipeline', () => {
  test('they can be disabled by name, and pass the verifier', () => {
    const g = new Graph();
    const w = g.placeholder('W', [2, 2], 'float64');
    const xs = g.placeholder('xs', [3, 1, 2], 'float64');
    const [last] = scan(
      (h: Tensor, x: Tensor) => [tanh(add(matMul(x, w), matMul(h, transpose(w)))), null],
      g.constant([[0, 0]], 'float64'),
      xs,
    );
    expect(changes(optimize(g, [last], { level: 2, verify: true }).report, 'licm')).toEqual({ hoisted: 1 });
    const off = optimize(g, [last], { level: 2, disable: ['licm', 'loopPrune', 'inline'] }).report;
    expect(off.some((r) => ['licm', 'loopPrune', 'inline'].includes(r.pass))).toBe(false);
    const feeds = {
      W: NDArray.from(
        [
          [0.5, 1],
          [-2, 0.25],
        ],
        'float64',
      ),
      xs: NDArray.from([[[1, 2]], [[3, 4]], [[5, 6]]], 'float64'),
    };
    const without = new Session(g, { optimize: { disable: ['licm', 'loopPrune', 'inline'] } }).run(last, feeds);
    expect(Array.from(new Session(g).run(last, feeds).data)).toEqual(Array.from(without.data));
  });

  test('a graph without control flow reports no control-flow pass', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const { report } = optimize(g, [tanh(x)], { level: 2 });
    expect(report.map((r) => r.pass)).not.toContain('licm');
  });
});

describe('pruning unused loop outputs', () => {
  test('a while variable nothing needs, and the captures only it read, leave the loop (golden)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const [count] = whileLoop(
      ([i]) => less(i, 3),
      ([i, a]) => [add(i, 1), mul(a, x)],
      [g.constant(0, 'int32'), x],
      { maximumIterations: 8 },
    );
    const { graph, report } = optimize(g, [count], { level: 1 });
    expect(changes(report, 'loopPrune')).toEqual({ pruned: 1, captures: 1 });
    expect(graph.toString()).toBe(
      [
        '%0 = constant() <0> : int32[]  # Const',
        '%1 = while(%0) {maximumIterations=8, output="var:0"} : int32[]  # while/var:0',
        '  cond(%0 var0: int32[]) -> (%2)',
        '    %1 = constant() <3> : int32[]  # Const',
        '    %2 = less(%0, %1) : bool[]  # less',
        '  body(%0 var0: int32[]) -> (%2)',
        '    %1 = constant() <1> : int32[]  # Const',
        '    %2 = add(%0, %1) : int32[]  # add',
      ].join('\n'),
    );
    expect(Array.from(new Session(g).run(count, { x: [1, 2] }).data)).toEqual([3]);
  });

  test('a scan carry that a needed carry reads stays; unread carries and unasked ys go; outputs renumbered', () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [4, 2], 'float64');
    const [carry, ys] = scan(
      ([a, b, c]: Tensor[], x: Tensor) => [
        [add(a, b), add(b, x), mul(c, x)],
        [sin(a), neg(c)],
      ],
      [g.constant([0, 0], 'float64'), g.constant([1, 1], 'float64'), g.constant([2, 2], 'float64')],
      xs,
    );
    const [a] = carry as Tensor[];
    const [, negC] = ys as Tensor[];
    const fetch = [a, negC];
    const { graph, report } = optimize(g, fetch, { level: 1 });
    // c is needed by ys:1; b by a; nothing is unread, but ys:0 is unasked.
    expect(changes(report, 'loopPrune')).toEqual({ pruned: 1, captures: 0 });
    expect(graph.toString()).toContain('output="ys:0"} : float64[4, 2]  # scan/ys:1');
    const onlyA = optimize(g, [a], { level: 1 });
    expect(changes(onlyA.report, 'loopPrune')).toEqual({ pruned: 3, captures: 0 });
    expect(onlyA.graph.toString()).toContain('{carries=2, xs=1, output="carry:0"}');
    const feeds = {
      xs: NDArray.from(
        [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ],
        'float64',
      ),
    };
    const plain = new Session(g, { optimize: false }).run(fetch, feeds);
    expect(new Session(g).run(fetch, feeds).map((v) => Array.from(v.data))).toEqual(
      plain.map((v) => Array.from(v.data)),
    );
  });
});

describe('inlining a cond on a constant predicate', () => {
  test('the taken branch replaces the cond (golden)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const y = cond(
      greater(g.constant(1, 'float64'), 0),
      () => mul(tanh(x), 3),
      () => neg(x),
    );
    const { graph, report } = optimize(g, [y], { level: 1 });
    expect(changes(report, 'inline')).toEqual({ inlined: 1 });
    expect(graph.toString()).toBe(
      [
        '%0 = placeholder() : float64[2]  # x',
        '%1 = tanh(%0) : float64[2]  # cond/tanh',
        '%2 = constant() <3> : float64[]  # cond/Const',
        '%3 = mul(%1, %2) : float64[2]  # cond/mul',
      ].join('\n'),
    );
  });

  test('explain reports what the control-flow passes did', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const w = g.placeholder('W', [2, 2], 'float64');
    const y = cond(
      less(g.constant(1, 'float64'), 0),
      () => x,
      () => neg(x),
    );
    const [v] = scan((h: Tensor) => [tanh(reshape(matMul(reshape(h, [1, 2]), mul(w, w)), [2])), null], y, null, {
      length: 3,
    });
    const text = new Session(g).explain(v);
    expect(text).toMatch(/inline +nodes \d+ → \d+ \([^)]*\) {2}inlined 1/);
    expect(text).toMatch(/licm +nodes \d+ → \d+ \([^)]*\) {2}hoisted 1/);
  });
});

// ---- property: optimized and unoptimized runs agree on random graphs with control flow ----------------------------

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Context {
  readonly g: Graph;
  readonly w: Tensor;
  readonly u: Tensor;
  readonly xs: Tensor;
  readonly next: () => number;
}

function pick<T>(ctx: Context, list: readonly T[]): T {
  return list[Math.floor(ctx.next() * list.length)];
}

/** Adds 2–4 random values of shape [2] to the pool (constructs nest up to depth 2), and returns the pool. */
function grow(ctx: Context, start: readonly Tensor[], depth: number): Tensor[] {
  const pool = [...start];
  const steps = 2 + Math.floor(ctx.next() * 3);
  for (let s = 0; s < steps; s++) {
    const a = pick(ctx, pool);
    const b = pick(ctx, pool);
    const kind = Math.floor(ctx.next() * (depth < 2 ? 7 : 4));
    let made: Tensor[];
    switch (kind) {
      case 0:
        made = [pick(ctx, [tanh, sin, neg])(a)];
        break;
      case 1:
        made = [pick(ctx, [add, sub, mul])(a, b)];
        break;
      case 2:
        made = [tanh(reshape(matMul(reshape(a, [1, 2]), ctx.w), [2]))];
        break;
      case 3:
        // Invariant work inside bodies: a product of the two weights.
        made = [add(a, sum(matMul(ctx.u, transpose(ctx.w)), 0))];
        break;
      case 4: {
        const outputs = 1 + Math.floor(ctx.next() * 2);
        const branch = (): Tensor[] => grow(ctx, [a, b], depth + 1).slice(-outputs);
        made = cond(greater(sum(a), 0), branch, branch) as Tensor[];
        break;
      }
      case 5: {
        const carries = 1 + Math.floor(ctx.next() * 2);
        const init = [a, b].slice(0, carries);
        const [carry, ys] = scan(
          (c: Tensor[], x: Tensor) => {
            const inner = grow(ctx, [...c, x], depth + 1);
            return [inner.slice(-carries), inner.slice(-1 - Math.floor(ctx.next() * 2))];
          },
          init,
          ctx.xs,
          { reverse: ctx.next() < 0.3 },
        );
        made = [...(carry as Tensor[]), ...(ys as Tensor[]).map((y) => sum(y, 0))];
        break;
      }
      default: {
        const limit = Math.floor(ctx.next() * 4);
        // Sometimes the condition reads a captured tensor too (a capture only the condition keeps alive).
        const guarded = ctx.next() < 0.5;
        const vars = whileLoop(
          ([i]) => (guarded ? logicalAnd(less(i, limit), greater(sum(b), -1e9)) : less(i, limit)),
          ([i, p, q]) => {
            const inner = grow(ctx, [p, q], depth + 1);
            return [add(i, 1), inner[inner.length - 1], tanh(inner[inner.length - 2])];
          },
          [ctx.g.constant(0, 'int32'), a, b],
          { maximumIterations: 4 },
        );
        made = vars.slice(1);
      }
    }
    pool.push(...made);
  }
  return pool;
}

const FEEDS = {
  x: NDArray.from([0.3, -0.7], 'float64'),
  y: NDArray.from([-0.2, 0.9], 'float64'),
  W: NDArray.from(
    [
      [0.5, -0.4],
      [0.3, 0.8],
    ],
    'float64',
  ),
  U: NDArray.from(
    [
      [0.1, 0.6],
      [-0.7, 0.2],
    ],
    'float64',
  ),
  xs: NDArray.from(
    [
      [1, -1],
      [0.5, 2],
      [-0.3, 0.4],
    ],
    'float64',
  ),
};

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= 1e-9 * (1 + Math.abs(b));
}

describe.each(['js', 'wasm'] as const)('random graphs with cond, whileLoop and scan (%s backend)', (backend) => {
  test('optimized (level 2) and unoptimized (level 0) runs give the same values', () => {
    let hoisted = 0;
    let pruned = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const g = new Graph();
        const ctx: Context = {
          g,
          w: g.placeholder('W', [2, 2], 'float64'),
          u: g.placeholder('U', [2, 2], 'float64'),
          xs: g.placeholder('xs', [3, 2], 'float64'),
          next: rng(seed),
        };
        const pool = grow(ctx, [g.placeholder('x', [2], 'float64'), g.placeholder('y', [2], 'float64')], 0);
        // Fetch the last value and a random other one: constructs with outputs nobody asks for get pruned.
        const fetches = [pool[pool.length - 1], pick(ctx, pool.slice(2))];
        // Half the graphs also fetch gradients: the backward constructs ask the forward ones for stacked body values
        // (`stack:i` siblings), which hoisting and pruning renumber.
        if (ctx.next() < 0.5) {
          const grads = gradients(sum(fetches[0]), [pool[0], ctx.w]);
          for (const grad of grads) if (grad !== null) fetches.push(grad);
        }
        const plain = new Session(g, { backend, optimize: false }).run(fetches, FEEDS);
        const optimized = new Session(g, { backend }).run(fetches, FEEDS);
        optimized.forEach((value, k) => {
          const expected = Array.from(plain[k].data);
          Array.from(value.data).forEach((v, i) => {
            if (!close(v, expected[i]))
              throw new Error(`seed ${seed}: fetch ${k}[${i}] is ${v}, expected ${expected[i]}`);
          });
        });
        const { report } = optimize(g, fetches, { level: 2 });
        hoisted += changes(report, 'licm').hoisted ?? 0;
        pruned += changes(report, 'loopPrune').pruned ?? 0;
      }),
      { numRuns: 30, seed: 1717 },
    );
    // The property exercised the passes, not only graphs they leave alone.
    expect(hoisted).toBeGreaterThan(0);
    expect(pruned).toBeGreaterThan(0);
  });
});
