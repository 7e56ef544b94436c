/**
 * `addn` does not copy the inner sums a flattened add absorbs (simplify.ts, addChainPass): it compacts the slice with
 * each outermost flattened add replaced by its addN (`flattenInPlace`), or, when a new addN would merge with another,
 * rebuilds without them (`rebuildSkipping`), which falls back to the full rebuild when a node merges. On random sum
 * graphs (shared sums, broadcasts, outputs, and sums grouped both ways, whose addNs merge), both shortcuts give the
 * slice and count of the full rebuild.
 */
import fc from 'fast-check';
import { add, exp, Graph, sin, Tensor } from '../../src';
import { addChainPass } from '../../src/passes/simplify';
import { sliceOf } from './slices';

const shortcut = addChainPass();
const skipping = addChainPass(true, false);
const reference = addChainPass(false);

describe('addn skips the sums it absorbs', () => {
  test('the same slice and count as the full rebuild, on random sum graphs', () => {
    const step = fc.record({
      a: fc.nat(),
      b: fc.nat(),
      c: fc.nat(),
      kind: fc.integer({ min: 0, max: 5 }),
      out: fc.boolean(),
    });
    let changed = 0;
    let merged = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const g = new Graph();
        const pool: Tensor[] = [g.placeholder('x', [2]), g.placeholder('y', [1, 2]), g.placeholder('z', [2])];
        const outputs: Tensor[] = [];
        for (const { a, b, c, kind, out } of steps) {
          const left = pool[a % pool.length];
          const right = pool[b % pool.length];
          const third = pool[c % pool.length];
          const t =
            kind === 0
              ? exp(left)
              : kind === 1
                ? add(left, sin(right))
                : kind === 2
                  ? // (l + r) + t and l + (r + t): both flatten to addN(l, r, t), which then merge.
                    add(add(add(left, right), third), add(left, add(right, third)))
                  : add(left, right);
          pool.push(t);
          if (out) outputs.push(t);
        }
        outputs.push(pool[pool.length - 1]);
        const slice = sliceOf(g, outputs);
        const expected = reference.run(slice);
        const actual = shortcut.run(slice);
        const skipped = skipping.run(slice);
        expect(skipped.slice.graph.toString()).toBe(expected.slice.graph.toString());
        expect(skipped.slice.graph.nodes.map((node) => node.name)).toEqual(
          expected.slice.graph.nodes.map((node) => node.name),
        );
        expect(actual.slice.graph.nodes.map((node) => node.name)).toEqual(
          expected.slice.graph.nodes.map((node) => node.name),
        );
        if (expected.slice !== slice) changed++;
        if (steps.some((s) => s.kind === 2)) merged++;
        expect(actual.changes).toEqual(expected.changes);
        expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
        expect(actual.slice.outputs).toEqual(expected.slice.outputs);
        expect([...actual.slice.bindings]).toEqual([...expected.slice.bindings]);
      }),
      { numRuns: 300, seed: 20261206 },
    );
    // The property saw graphs the pass changed, and graphs whose flattened sums merge.
    expect(changed).toBeGreaterThan(60);
    expect(merged).toBeGreaterThan(50);
  });

  test('flattened sums that merge: the full rebuild merges them, and so does the pass', () => {
    const g = new Graph();
    const [x, y, z] = ['x', 'y', 'z'].map((name) => g.placeholder(name, [2]));
    const left = add(add(x, y), z);
    const right = add(x, add(y, z));
    const slice = sliceOf(g, [exp(left), exp(right)]);
    const expected = reference.run(slice);
    const actual = shortcut.run(slice);
    expect(actual.changes).toEqual({ 'add-chain-addn': 2 });
    expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
    // One addN, read by one exp: both sums and both exps merged.
    expect(actual.slice.graph.nodes.filter((node) => node.op === 'addN')).toHaveLength(1);
    expect(actual.slice.graph.nodes.filter((node) => node.op === 'exp')).toHaveLength(1);
  });
});
