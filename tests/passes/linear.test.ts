/**
 * The passes are linear in the graph (issue 20): the same rewrites as before on small graphs, rewrite counts that
 * grow exactly linearly along a deep chain, work counters (passes/visits.ts) that grow exactly linearly too, and no
 * recursion over a 100,000-node chain.
 */
import fc from 'fast-check';
import {
  add,
  addNPass,
  exp,
  gradients,
  Graph,
  matMul,
  NDArray,
  optimize,
  OptimizeResult,
  Session,
  sin,
  Slice,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { addOp, opRecord } from '../../src/ops';
import { sameType } from '../../src/passes/pattern';
import { dropDead, rebuild } from '../../src/passes/slice';
import { passVisits, resetPassVisits } from '../../src/passes/visits';
import { sliceOf } from './slices';

/** The addn pass as it was before issue 20 (every intermediate addN built, O(n²) on a chain): the reference. */
function referenceAddN(slice: Slice): { slice: Slice; count: number } {
  const source = slice.graph;
  const uses = new Int32Array(source.size);
  for (const node of source.nodes) for (const input of node.inputs) uses[input]++;
  for (const id of slice.outputs) uses[id]++;
  let count = 0;
  const result = rebuild(slice, (node, inputs, target) => {
    if (node.op !== 'add') return undefined;
    const terms: number[] = [];
    let flattened = false;
    node.inputs.forEach((sourceId, k) => {
      const inner = target.node(inputs[k]);
      if (uses[sourceId] === 1 && (inner.op === 'add' || inner.op === 'addN')) {
        terms.push(...inner.inputs);
        flattened = true;
      } else {
        terms.push(inputs[k]);
      }
    });
    if (!flattened || !terms.every((id) => sameType(target.node(id), node))) return undefined;
    count++;
    return addOp(target, opRecord('addN'), terms, {}, node.name).id;
  });
  return { slice: count === 0 ? slice : dropDead(result), count };
}

/** A slice of a whole graph (every node kept, as a session's slice would be). */

describe('addn (linear)', () => {
  test('flattens exactly as the quadratic reference did, on random sum graphs (shared sums, broadcasts, outputs)', () => {
    // Each step adds two earlier tensors; shapes [2], [1, 2] and [] mix, so some sums broadcast (and do not flatten).
    const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 5 }), out: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const g = new Graph();
        const pool: Tensor[] = [g.placeholder('x', [2]), g.placeholder('y', [1, 2]), g.placeholder('z', [])];
        const outputs: Tensor[] = [];
        for (const { a, b, kind, out } of steps) {
          const left = pool[a % pool.length];
          const right = pool[b % pool.length];
          const t = kind === 0 ? exp(left) : kind === 1 ? add(left, sin(right)) : add(left, right);
          pool.push(t);
          if (out) outputs.push(t);
        }
        outputs.push(pool[pool.length - 1]);
        const slice = sliceOf(g, outputs, { bound: false });
        const expected = referenceAddN(slice);
        const actual = addNPass.run(slice);
        expect(actual.changes['add-chain-addn']).toBe(expected.count);
        expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
        expect(actual.slice.outputs).toEqual(expected.slice.outputs);
      }),
      { numRuns: 300, seed: 20261206 },
    );
  });

  test('a sum of n terms is one addN built once: the terms gathered are n, not n²/2', () => {
    for (const n of [1000, 4000]) {
      const g = new Graph();
      const x = g.placeholder('x', [3]);
      let total = exp(x);
      for (let i = 1; i < n; i++) total = add(total, sin(plus(x, i)));
      resetPassVisits();
      const { slice, changes } = addNPass.run(sliceOf(g, [total], { bound: false }));
      // The first add reads no sum (not flattened); each later one flattens the sum before it.
      expect(changes['add-chain-addn']).toBe(n - 2);
      const last = slice.graph.node(slice.outputs[0]);
      expect(last.op).toBe('addN');
      expect(last.inputs).toHaveLength(n);
      expect(slice.graph.nodes.filter((node) => node.op === 'addN')).toHaveLength(1);
      // The outermost add's two operands, then each absorbed flattened sum's two operands, once each.
      expect(passVisits.addnTerms).toBe(2 * (n - 2));
    }
  });
});

/** The residual chain of benchmarks/analyses.ts with exactly `blocks` blocks, and its loss and gradients. */
function chain(blocks: number): { g: Graph; fetches: Tensor[] } {
  const g = new Graph();
  const x = g.placeholder('x', [2, 8]);
  const w = g.variable(
    'w',
    new NDArray(
      new Float32Array(64).map((_, i) => Math.sin(i) * 0.3),
      [8, 8],
    ),
  );
  const b = g.variable(
    'b',
    new NDArray(
      new Float32Array(8).map((_, i) => Math.cos(i) * 0.1),
      [8],
    ),
  );
  let h = x;
  for (let i = 0; i < blocks; i++) h = add(h, tanh(add(matMul(h, w), b)));
  const loss = sum(h);
  return { g, fetches: [loss, ...(gradients(loss, [w, b]) as Tensor[])] };
}

/** Every count of every report of an optimize, by pass (summed over rounds), and the work counters. */
function measure(blocks: number): { counts: Map<string, number>; visits: Map<string, number>; result: OptimizeResult } {
  const { g, fetches } = chain(blocks);
  resetPassVisits();
  const result = optimize(g, fetches);
  const counts = new Map<string, number>();
  for (const report of result.report) {
    for (const [rule, n] of Object.entries(report.changes)) {
      const key = `${report.pass}/${rule}`;
      counts.set(key, (counts.get(key) ?? 0) + n);
    }
    counts.set(`${report.pass}/nodesAfter`, report.nodesAfter);
  }
  counts.set('optimized nodes', result.graph.size);
  return { counts, visits: new Map(Object.entries(passVisits)), result };
}

/** f(n) = a·n + b exactly: equal increments over equal steps of n. */
function expectLinear(label: string, at: (n: number) => number, n: readonly [number, number, number]): void {
  const [f1, f2, f3] = n.map(at);
  expect({ label, increment: (f3 - f2) * (n[1] - n[0]) }).toEqual({ label, increment: (f2 - f1) * (n[2] - n[1]) });
}

describe('the pipeline on a deep chain', () => {
  const sizes = [250, 500, 2500] as const; // blocks: about 1k, 2k and 10k forward nodes; 3× that with gradients
  const runs = new Map<number, ReturnType<typeof measure>>();
  beforeAll(() => {
    for (const blocks of sizes) runs.set(blocks, measure(blocks));
  }, 300_000);

  test('every rewrite count and node count grows exactly linearly with the chain (as the small graph does)', () => {
    const keys = [...(runs.get(250) as ReturnType<typeof measure>).counts.keys()];
    for (const blocks of sizes)
      expect([...(runs.get(blocks) as ReturnType<typeof measure>).counts.keys()]).toEqual(keys);
    for (const key of keys) expectLinear(key, (n) => runs.get(n)?.counts.get(key) as number, sizes);
    // What the chain's rewrites are, per block: the gradient's sumTo made static, its sums flattened, a bias-add and
    // a tanh fused into each matMul, three elementwise ops fused per block.
    const per = (key: string): number =>
      ((runs.get(500)?.counts.get(key) as number) - (runs.get(250)?.counts.get(key) as number)) / 250;
    expect(per('simplify/sum-to-static')).toBe(1);
    expect(per('addn/add-chain-addn')).toBe(2);
    expect(per('epilogue/matmul-bias')).toBe(1);
    expect(per('epilogue/matmul-activation')).toBe(1);
    expect(per('fuse/fused')).toBe(3);
  });

  test('the work counters grow exactly linearly: each node is visited a bounded number of times', () => {
    const keys = [...(runs.get(250) as ReturnType<typeof measure>).visits.keys()];
    for (const key of keys) expectLinear(key, (n) => runs.get(n)?.visits.get(key) as number, sizes);
    const big = runs.get(2500) as ReturnType<typeof measure>;
    const sliced = big.result.report[0].nodesAfter;
    // Rebuilds copy each node a few times in all (one per rebuilding pass), never once per rewrite.
    expect(big.visits.get('copies')).toBeLessThan(12 * sliced);
    expect(big.visits.get('addnTerms')).toBeLessThan(sliced);
    expect(big.visits.get('ruleTrials')).toBeLessThan(40 * sliced);
  });
});

describe('interning by structural hash', () => {
  test('equal nodes merge; -0 and 0, other attrs, dtypes or shapes do not; NaN constants do', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    expect(add(x, 1).id).toBe(add(x, 1).id);
    expect(g.constant(-0).id).not.toBe(g.constant(0).id);
    expect(g.constant(NaN).id).toBe(g.constant(NaN).id);
    expect(g.constant([1, 2]).id).not.toBe(g.constant([2, 1]).id);
    expect(g.constant(1, 'int32').id).not.toBe(g.constant(1, 'float32').id);
    expect(g.constant([1]).id).not.toBe(g.constant(1).id);
    expect(sum(x, [0]).id).not.toBe(sum(x, [0], true).id);
    expect(sum(x, [0], true).id).toBe(sum(x, [0], true).id);
  });

  test('a compacted graph (what dropDead returns) finds its nodes by name and merges equal nodes added later', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const dead = exp(x);
    const y = add(sin(x), 2);
    const keep = new Uint8Array(g.size).fill(1);
    keep[dead.id] = 0;
    const { graph, mapped } = g.compacted(keep);
    expect(graph.size).toBe(g.size - 1);
    expect(mapped[dead.id]).toBe(-1);
    expect(graph.byName(y.name)?.id).toBe(mapped[y.id]);
    const again = add(sin(graph.tensor(mapped[x.id])), 2);
    expect(again.id).toBe(mapped[y.id]);
    expect(graph.size).toBe(g.size - 1);
    expect(exp(graph.tensor(mapped[x.id])).id).toBe(graph.size - 1); // the dropped node is built anew
  });
});

describe('a 100,000-node chain', () => {
  test('optimizes and runs without overflowing the stack (every pass iterative)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4]);
    let h = x;
    while (g.size < 100_000) h = add(h, exp(plus(h, -1)));
    const loss = sum(h);
    const { graph, report } = optimize(g, [loss]);
    expect(report.find((r) => r.pass === 'addn')).toBeDefined();
    expect(graph.size).toBeLessThan(g.size);
    const feeds = { x: [0.1, 0.2, 0.3, 0.4] };
    const value = new Session(g).run(loss, feeds).toArray() as number;
    const reference = new Session(g, { optimize: false }).run(loss, feeds).toArray() as number;
    expect(value).toBeCloseTo(reference, 3);
  }, 300_000);
});

function plus(t: Tensor, k: number): Tensor {
  return add(t, k);
}
