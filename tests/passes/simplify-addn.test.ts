/**
 * `simplify` and `addn` without a compaction between them (simplify.ts, simplifyAndAddn): addn is given simplify's
 * sweep with the dead nodes it leaves and counts the uses of live nodes only. On random graphs whose rewrites leave
 * dead nodes that read sums (neg(neg(s)), sumTo of a sum, identities, ·1), the pair gives the slice, names, outputs,
 * bindings and both reports (times aside) of simplify's `run` then addn's `run`; and `optimize` gives the same
 * reports and graph as with `verify` (which runs the passes one by one).
 */
import fc from 'fast-check';
import { add, exp, Graph, identity, mul, neg, optimize, PassReport, sin, sumTo, Tensor } from '../../src';
import { addChainPass, simplify, simplifyAndAddn } from '../../src/passes/simplify';
import { sliceOf } from './slices';

const withoutTime = (reports: readonly PassReport[]) => reports.map(({ timeMs: _timeMs, ...rest }) => rest);

function randomGraph(steps: readonly { a: number; b: number; kind: number; out: boolean }[]): {
  g: Graph;
  outputs: Tensor[];
} {
  const g = new Graph();
  const row = g.placeholder('row', [3]);
  const pool: Tensor[] = [g.placeholder('x', [2, 3]), g.placeholder('y', [2, 3]), g.placeholder('z', [2, 3])];
  const outputs: Tensor[] = [];
  for (const { a, b, kind, out } of steps) {
    const left = pool[a % pool.length];
    const right = pool[b % pool.length];
    const t = [
      () => add(left, right),
      () => add(add(left, right), sin(right)),
      // The inner neg is read only by the outer one, which becomes the inner sum: dead, and it reads that sum.
      () => add(neg(neg(add(left, right))), right),
      () => add(sumTo(left, row), sumTo(add(left, right), row)),
      () => add(identity(left), mul(right, 1)),
      () => exp(left),
    ][kind]();
    pool.push(t);
    if (out) outputs.push(t);
  }
  outputs.push(pool[pool.length - 1]);
  return { g, outputs };
}

const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 5 }), out: fc.boolean() });

describe('simplify and addn without a compaction between them', () => {
  test('the same slice and reports as simplify then addn, on random graphs', () => {
    const pair = simplifyAndAddn();
    const addn = addChainPass();
    let deadLeft = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const { g, outputs } = randomGraph(steps);
        const slice = sliceOf(g, outputs);
        const first = simplify.run(slice);
        const second = addn.run(first.slice);
        const expected = [
          {
            pass: 'simplify',
            nodesBefore: slice.graph.size,
            nodesAfter: first.slice.graph.size,
            changes: first.changes,
          },
          {
            pass: 'addn',
            nodesBefore: first.slice.graph.size,
            nodesAfter: second.slice.graph.size,
            changes: second.changes,
          },
        ];
        const actual = pair.runParts(slice);
        if (
          simplify.runKeepingDead(slice).dead &&
          first.slice.graph.size < simplify.runKeepingDead(slice).slice.graph.size
        ) {
          deadLeft++;
        }
        expect(withoutTime(actual.reports)).toEqual(expected);
        expect(actual.slice.graph.toString()).toBe(second.slice.graph.toString());
        expect(actual.slice.graph.nodes.map((node) => node.name)).toEqual(
          second.slice.graph.nodes.map((node) => node.name),
        );
        expect(actual.slice.outputs).toEqual(second.slice.outputs);
        expect([...actual.slice.bindings]).toEqual([...second.slice.bindings]);
      }),
      { numRuns: 300, seed: 20261206 },
    );
    // Most graphs left dead nodes for addn to skip.
    expect(deadLeft).toBeGreaterThan(100);
  });

  test('optimize gives the graph and reports it gives with the passes run one by one (verify)', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), (steps) => {
        const { g, outputs } = randomGraph(steps);
        const together = optimize(g, outputs);
        const separately = optimize(g, outputs, { verify: true });
        expect(withoutTime(together.report)).toEqual(withoutTime(separately.report));
        expect(together.graph.toString()).toBe(separately.graph.toString());
      }),
      { numRuns: 100, seed: 20261207 },
    );
  });
});
