/**
 * simplify does not copy the nodes its rules replace (simplify.ts, sweepVirtual: the rules try a virtual copy first,
 * whose name is reserved as the copy's would have been). On random graphs with many rewrites (sumTo, broadcastLike
 * and reshapeLike with static shapes, identities that make two nodes one, nodes named so that the copies' names
 * clash), the pass gives the slice, names and counts of the sweep that copies every node and compacts after.
 */
import fc from 'fast-check';
import {
  add,
  addOp,
  broadcastLike,
  exp,
  Graph,
  identity,
  log,
  mul,
  opRecord,
  reshapeLike,
  sub,
  sumTo,
  Tensor,
} from '../../src';
import { EXACT_RULES, rewritePass, STABILIZING_RULES } from '../../src/passes/simplify';
import { passVisits } from '../../src/passes/visits';
import { sliceOf } from './slices';

const NAMES = ['sumTo_1', 'sumTo_1_1', 'sumTo_2_1', 'sumTo/sum', 'sumTo_1_1/sum', 'broadcastLike_1', 'reshape'];

describe('simplify without copies of what it replaces', () => {
  test.each([
    { name: 'simplify', rules: EXACT_RULES },
    { name: 'stabilize', rules: STABILIZING_RULES },
  ])('$name: the same slice, names and counts as the sweep with copies, on random graphs', ({ name, rules }) => {
    const shortcut = rewritePass(name, rules);
    const reference = rewritePass(name, rules, 8, false);
    const step = fc.record({
      a: fc.nat(),
      b: fc.nat(),
      kind: fc.integer({ min: 0, max: 11 }),
      named: fc.nat({ max: NAMES.length + 3 }),
      out: fc.boolean(),
    });
    let skipped = 0;
    let rewritten = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const g = new Graph();
        const row = g.placeholder('row', [3]);
        const column = g.placeholder('column', [1, 3]);
        const pool: Tensor[] = [g.placeholder('x', [2, 3]), g.placeholder('y', [2, 3])];
        const outputs: Tensor[] = [];
        for (const { a, b, kind, named, out } of steps) {
          const left = pool[a % pool.length];
          const right = pool[b % pool.length];
          const like = [row, column, right][b % 3];
          // A sumTo under a name of its own (else the default): names the copies' names may run into.
          const sumOf = (input: Tensor): Tensor =>
            named < NAMES.length
              ? g.tensor(addOp(g, opRecord('sumTo'), [input.id, like.id], {}, NAMES[named]).id)
              : sumTo(input, like);
          const summed = sumOf(left);
          const t = [
            () => exp(left),
            () => add(left, right),
            () => broadcastLike(summed, left),
            () => broadcastLike(summed, right),
            () => reshapeLike(broadcastLike(summed, left), right),
            () => identity(left), // two nodes become one: the nodes reading it are copied
            () => mul(left, 1),
            () => log(add(left, 1)),
            () => sub(exp(left), 1),
            () => add(broadcastLike(sumTo(left, row), left), broadcastLike(sumTo(right, row), right)),
            () => mul(exp(left), exp(left)),
            // After a sumTo of `left`, its copy equals this one's once identity(left) is left: a copy never made.
            () => broadcastLike(sumOf(identity(left)), left),
          ][kind]();
          pool.push(t);
          if (out) outputs.push(t);
        }
        outputs.push(pool[pool.length - 1]);
        const slice = sliceOf(g, outputs);
        const before = passVisits.copies;
        const expected = reference.run(slice);
        const copies = passVisits.copies - before;
        const actual = shortcut.run(slice);
        if (expected.slice !== slice) rewritten++;
        if (passVisits.copies - before - copies < copies && expected.slice !== slice) skipped++;
        expect(actual.changes).toEqual(expected.changes);
        expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
        expect(actual.slice.graph.nodes.map((node) => node.name)).toEqual(
          expected.slice.graph.nodes.map((node) => node.name),
        );
        expect(actual.slice.outputs).toEqual(expected.slice.outputs);
        expect([...actual.slice.bindings]).toEqual([...expected.slice.bindings]);
      }),
      { numRuns: 300, seed: 20261206 },
    );
    // The property saw many graphs rewritten, most of them without the copies.
    expect(rewritten).toBeGreaterThan(100);
    expect(skipped).toBeGreaterThan(50);
  });

  test('a copy that would merge with a copy the sweep did not make: the sweep with copies decides', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const row = g.placeholder('row', [3]);
    const named = (input: Tensor, name: string): Tensor =>
      g.tensor(addOp(g, opRecord('sumTo'), [input.id, row.id], {}, name).id);
    // `early` is rewritten from its virtual copy (no copy made). identity(x) becomes x, so `merged`'s copy equals
    // the copy of `early` the sweep with copies made (and left dead): it merges with it and takes no name, and
    // `later`'s copy takes w_1_1.
    const early = named(x, 'q');
    const merged = named(identity(x), 'w_1_1');
    const w = named(exp(x), 'w');
    const later = named(exp(exp(x)), 'w_1');
    const slice = sliceOf(g, [early, merged, w, later]);
    const expected = rewritePass('simplify', EXACT_RULES, 8, false).run(slice);
    const actual = rewritePass('simplify', EXACT_RULES).run(slice);
    expect(actual.changes).toEqual(expected.changes);
    expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
    expect(expected.slice.graph.toString()).toContain('# w_1_1/sum');
  });

  test('two nodes made one: a node reading their image is copied (its copy merges as in the sweep with copies)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const row = g.placeholder('row', [3]);
    const named = (input: Tensor, name: string): Tensor =>
      g.tensor(addOp(g, opRecord('sumTo'), [input.id, row.id], {}, name).id);
    // identity(x) becomes x: `merged`'s copy then merges with `first`'s (left dead), and takes no name; `later`'s
    // copy takes w_1_1 (its own name w_1 is taken by w's reshape), which a reserved name for `merged` would move.
    const first = named(identity(x), 'q');
    const merged = named(x, 'w_1_1');
    const w = named(exp(x), 'w');
    const later = named(exp(exp(x)), 'w_1');
    const slice = sliceOf(g, [first, merged, w, later]);
    const expected = rewritePass('simplify', EXACT_RULES, 8, false).run(slice);
    const actual = rewritePass('simplify', EXACT_RULES).run(slice);
    expect(actual.changes).toEqual(expected.changes);
    expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
    expect(expected.slice.graph.toString()).toContain('# w_1_1/sum');
  });
});
