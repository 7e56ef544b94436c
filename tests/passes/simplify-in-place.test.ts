/**
 * A simplify sweep with one match whose rule returns an existing node is done in place (simplify.ts,
 * rewriteInPlace): the same graph text, outputs and counts as the rebuild, on random graphs where the one rewrite's
 * readers often merge with other nodes or match rules themselves (then the pass rebuilds).
 */
import fc from 'fast-check';
import { add, exp, Graph, mul, neg, sin, sub, Tensor } from '../../src';
import { EXACT_RULES, rewritePass } from '../../src/passes/simplify';
import { sliceOf } from './slices';

const inPlace = rewritePass('simplify', EXACT_RULES);
const reference = rewritePass('simplify', EXACT_RULES, 8, false);

describe('simplify in place', () => {
  test('the same graph, outputs, bindings and counts as the rebuild, on random graphs', () => {
    const step = fc.record({
      a: fc.nat(),
      b: fc.nat(),
      kind: fc.integer({ min: 0, max: 6 }),
      out: fc.boolean(),
    });
    let single = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const g = new Graph();
        const pool: Tensor[] = [g.placeholder('x', [2]), g.placeholder('y', [2])];
        const outputs: Tensor[] = [];
        for (const { a, b, kind, out } of steps) {
          const left = pool[a % pool.length];
          const right = pool[b % pool.length];
          const t =
            kind === 0
              ? exp(left)
              : kind === 1
                ? add(left, right)
                : kind === 2
                  ? mul(left, 1) // mul-one: one match
                  : kind === 3
                    ? neg(left) // neg-neg once negated twice
                    : kind === 4
                      ? sub(left, right)
                      : kind === 5
                        ? sin(left)
                        : mul(left, right);
          pool.push(t);
          if (out) outputs.push(t);
        }
        outputs.push(pool[pool.length - 1]);
        const slice = sliceOf(g, outputs);
        const expected = reference.run(slice);
        const actual = inPlace.run(slice);
        if (Object.values(expected.changes).reduce((x, y) => x + y, 0) === 1) single++;
        expect(actual.changes).toEqual(expected.changes);
        expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
        expect(actual.slice.outputs).toEqual(expected.slice.outputs);
        expect([...actual.slice.bindings]).toEqual([...expected.slice.bindings]);
      }),
      { numRuns: 400, seed: 20261206 },
    );
    // The in-place case (one rewrite) came up often.
    expect(single).toBeGreaterThan(50);
  });

  test('a reader that merges once the rewrite is done: the rebuild merges it, and so does the pass', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const y = g.placeholder('y', [2]);
    const early = add(x, y);
    const late = add(mul(x, 1), y); // add(x, y) once mul-one is done: merged with `early`
    const slice = sliceOf(g, [mul(early, late)]);
    const expected = reference.run(slice);
    const actual = inPlace.run(slice);
    expect(expected.changes).toEqual({ 'mul-one': 1, 'mul-self-square': 1 }); // mul(s, s) once merged
    expect(actual.changes).toEqual(expected.changes);
    expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
    expect(actual.slice.graph.toString()).toContain('square');
  });
});
