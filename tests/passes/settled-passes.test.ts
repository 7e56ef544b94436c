/**
 * `runPipeline` does not run a pass on a slice it is known to leave unchanged (it left that very slice unchanged
 * before, or returned it itself and is `idempotent`), and stops once every pass is known to leave the current slice
 * unchanged. On random graphs whose pipelines take one to three rounds, the result and every report equal those of
 * the plain loop that runs every pass in every round; and each pass declared idempotent changes nothing on its own
 * result.
 */
import fc from 'fast-check';
import {
  add,
  broadcastLike,
  exp,
  gradients,
  Graph,
  matMul,
  mul,
  NDArray,
  optimize,
  sigmoid,
  Slice,
  sub,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { pipelineFor } from '../../src/passes/optimize';
import { Pass, PassReport, runPipeline } from '../../src/passes/pass';
import { liveNodes } from '../../src/passes/slice';
import { passVisits } from '../../src/passes/visits';
import { sliceOf } from './slices';

const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 11 }), out: fc.boolean() });

/** Layers, sums, constants to fold, identities to simplify, sigmoid formulas to stabilize; a summed loss's gradients. */
function randomGraph(steps: { a: number; b: number; kind: number; out: boolean }[], grad: boolean) {
  const g = new Graph();
  const x = g.placeholder('x', [2, 3]);
  const w = g.variable('w', new NDArray(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), [3, 3]));
  const pool: Tensor[] = [x];
  const outputs: Tensor[] = [];
  for (const { a, b, kind, out } of steps) {
    const left = pool[a % pool.length];
    const right = pool[b % pool.length];
    const ops = [
      () => tanh(matMul(left, w)),
      () => add(left, right),
      () => add(add(left, right), left),
      () => mul(left, right),
      () => mul(left, broadcastLike(g.constant(1), right)),
      () => add(left, mul(g.constant(2), g.constant(0))),
      () => sub(left, broadcastLike(g.constant(0), left)),
      () => mul(exp(left), add(g.constant(1), g.constant(1))),
      () => sigmoid(left),
      () => tanh(add(mul(left, g.constant(1)), right)),
      () => add(left, sum(right)),
      () => exp(broadcastLike(sum(left), right)),
    ];
    const t = ops[kind]();
    pool.push(t);
    if (out) outputs.push(t);
  }
  const last = pool[pool.length - 1];
  outputs.push(last);
  if (grad) {
    const loss = sum(mul(last, last));
    outputs.push(loss, ...gradients(loss, [w, x]).filter((t): t is Tensor => t !== null));
  }
  return { g, outputs };
}

/** The loop before: every pass in every round, until a round changes nothing. */
function everyPassEveryRound(
  slice: Slice,
  passes: readonly Pass[],
): { slice: Slice; reports: PassReport[]; runs: number } {
  const reports: PassReport[] = [];
  let current = slice;
  let runs = 0;
  for (let round = 0; round < 8; round++) {
    let changed = false;
    for (const pass of passes) {
      runs++;
      const result = pass.run(current);
      const total = Object.values(result.changes).reduce((a, b) => a + b, 0);
      if (total > 0 || round === 0) {
        reports.push({
          pass: pass.name,
          nodesBefore: current.graph.size,
          nodesAfter: result.slice.graph.size,
          changes: result.changes,
          timeMs: 0,
        });
      }
      if (total > 0) changed = true;
      current = result.slice;
    }
    if (!changed) break;
  }
  return { slice: current, reports, runs };
}

const withoutTime = (reports: readonly PassReport[]) => reports.map((r) => ({ ...r, timeMs: 0 }));

describe('passes known to leave a slice unchanged are not run on it', () => {
  test('the same slice and reports as every pass in every round, on random graphs', () => {
    let skipped = 0;
    let multiRound = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), fc.boolean(), fc.boolean(), (steps, grad, two) => {
        const { g, outputs } = randomGraph(steps, grad);
        const slice = sliceOf(g, outputs);
        const passes = pipelineFor({ level: two ? 2 : 1 }).rewrite;
        const expected = everyPassEveryRound(slice, passes);
        // The same passes, counted.
        let runs = 0;
        const counted = passes.map((pass): Pass => ({
          name: pass.name,
          idempotent: pass.idempotent,
          run: (s) => {
            runs++;
            return pass.run(s);
          },
        }));
        const actual = runPipeline(slice, counted);
        expect(withoutTime(actual.reports)).toEqual(withoutTime(expected.reports));
        expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
        expect(actual.slice.outputs).toEqual(expected.slice.outputs);
        expect([...actual.slice.bindings]).toEqual([...expected.slice.bindings]);
        if (expected.runs > passes.length) multiRound++;
        skipped += expected.runs - runs;
      }),
      { numRuns: 150, seed: 20261206 },
    );
    // The property saw pipelines of more than one round, and passes left out of them.
    expect(multiRound).toBeGreaterThan(20);
    expect(skipped).toBeGreaterThan(50);
  });

  test('the same as every pass in every round, for passes that undo and expose each other (a counter as the slice)', () => {
    // A slice stands for a number n (one object per n, as a pass that changes nothing returns the slice it was given);
    // each pass takes n down by a rule, so passes expose work for each other and for themselves over the rounds.
    const slices = new Map<number, Slice>();
    const sliceFor = (n: number): Slice => {
      let slice = slices.get(n);
      if (slice === undefined) {
        slice = { graph: { size: n } as unknown as Graph, outputs: [], bindings: new Map() };
        slices.set(n, slice);
      }
      return slice;
    };
    const rule = (name: string, f: (n: number) => number, idempotent: boolean): Pass => ({
      name,
      idempotent,
      run: (slice) => {
        const n = slice.graph.size;
        const next = f(n);
        return { slice: sliceFor(next), changes: { [name]: n - next } };
      },
    });
    const rules: Pass[] = [
      rule('even', (n) => n - (n % 2), true), // odd to even: its result is a fixed point of it
      rule('thirds', (n) => (n > 0 && n % 3 === 0 ? n - 3 : n), false), // exposes itself again
      rule('fives', (n) => (n % 5 === 4 ? n - 1 : n), true),
      rule('sevens', (n) => (n % 7 === 0 && n > 0 ? n - 2 : n), false),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.shuffledSubarray(rules, { minLength: 1 }), (n, passes) => {
        const expected = everyPassEveryRound(sliceFor(n), passes);
        const actual = runPipeline(sliceFor(n), passes);
        expect(actual.slice.graph.size).toBe(expected.slice.graph.size);
        expect(withoutTime(actual.reports)).toEqual(withoutTime(expected.reports));
      }),
      { numRuns: 300, seed: 20261208 },
    );
  });

  test('a pass declared idempotent changes nothing on its own result', () => {
    const idempotent = pipelineFor({ level: 2 }).rewrite.filter((pass) => pass.idempotent === true);
    expect(idempotent.map((pass) => pass.name).sort()).toEqual(['cse', 'fold', 'prune']);
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), fc.boolean(), (steps, grad) => {
        const { g, outputs } = randomGraph(steps, grad);
        let slice = sliceOf(g, outputs);
        // Each pass on slices the pipeline gives it: after every pass before it, in the first round.
        for (const pass of pipelineFor({ level: 2 }).rewrite) {
          const once = pass.run(slice);
          if (pass.idempotent === true) {
            const twice = pass.run(once.slice);
            expect([pass.name, Object.values(twice.changes).every((n) => n === 0)]).toEqual([pass.name, true]);
            expect(twice.slice).toBe(once.slice);
          }
          slice = once.slice;
        }
      }),
      { numRuns: 150, seed: 20261207 },
    );
  });
});

describe('liveness is swept once per slice', () => {
  test('the same answer as a fresh sweep; swept again for a grown graph or other outputs', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const a = exp(x);
    const b = tanh(x);
    const y = add(a, x);
    const outputs = [y.id];
    const before = passVisits.livenessReused;
    const first = liveNodes(g, outputs);
    expect(Array.from(first)).toEqual([1, 1, 0, 1]);
    expect(liveNodes(g, outputs)).toBe(first);
    expect(passVisits.livenessReused).toBe(before + 1);
    // Other outputs (an equal array that is another object too): a sweep of their own.
    expect(Array.from(liveNodes(g, [b.id]))).toEqual([1, 0, 1, 0]);
    expect(Array.from(liveNodes(g, [y.id]))).toEqual([1, 1, 0, 1]);
    // The graph grew: swept again, the new node dead.
    const again = liveNodes(g, outputs);
    mul(y, y);
    const grown = liveNodes(g, outputs);
    expect(grown).not.toBe(again);
    expect(Array.from(grown)).toEqual([1, 1, 0, 1, 0]);
  });

  test('the passes of a pipeline share the sweeps of one slice', () => {
    const { g, outputs } = randomGraph(
      Array.from({ length: 12 }, (_, k) => ({ a: k, b: 2 * k + 1, kind: k % 12, out: k % 3 === 0 })),
      true,
    );
    const before = passVisits.livenessReused;
    optimize(g, outputs, { level: 2 });
    expect(passVisits.livenessReused).toBeGreaterThan(before + 3);
  });
});
