/**
 * Constant folding without a rebuild (fold.ts, foldInPlace) gives exactly what the rebuild gives: the same graph
 * text, outputs, bindings and counts, on random graphs where folded values often equal other constants (the rebuild
 * merges those, so the pass must fall back to it) and often do not.
 */
import fc from 'fast-check';
import {
  add,
  allocate,
  broadcastLike,
  constantFolding,
  exp,
  foldNode,
  Graph,
  mul,
  NDArray,
  Node,
  onesLike,
  opRecord,
  sin,
  Slice,
  sum,
  Tensor,
} from '../../src';
import { dropDead, rebuild } from '../../src/passes/slice';
import { sliceOf } from './slices';

/** The fold pass as a rebuild (how it always ran before it could fold in place): the reference. */
function referenceFold(slice: Slice): { slice: Slice; folded: number; removed: number } {
  let folded = 0;
  const result = rebuild(slice, (node: Node, inputs, target) => {
    const sources = inputs.map((id) => target.node(id));
    if (sources.length === 0 || node.op === 'placeholder') return undefined;
    // An input the op reads only for its (known) shape need not be constant (onesLike's, broadcastLike's `like`).
    const record = opRecord(node.op);
    const valueRead = (k: number): boolean =>
      !(record.shapeOnly === true || record.shapeOnlyInputs?.includes(k) === true);
    if (!sources.every((s, k) => !valueRead(k) || s.op === 'constant')) return undefined;
    const buffers = sources.map((s) => s.value ?? { data: allocate(s.dtype, 0), shape: s.shape as number[] });
    folded++;
    return target.constant(foldNode(node, buffers), node.dtype, node.name).id;
  });
  if (folded === 0) return { slice, folded, removed: 0 };
  const pruned = dropDead(result);
  return { slice: pruned, folded, removed: result.graph.size - pruned.graph.size };
}

describe('fold in place', () => {
  test('the same graph, outputs, bindings and counts as the rebuild, on random graphs', () => {
    const step = fc.record({
      a: fc.nat(),
      b: fc.nat(),
      kind: fc.integer({ min: 0, max: 6 }),
      k: fc.integer({ min: -2, max: 2 }),
      out: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const g = new Graph();
        const pool: Tensor[] = [g.placeholder('x', [2]), g.constant([1, 2]), g.constant(1), g.constant([0, 0])];
        const outputs: Tensor[] = [];
        for (const { a, b, kind, k, out } of steps) {
          const left = pool[a % pool.length];
          const right = pool[b % pool.length];
          const t =
            kind === 0
              ? exp(left)
              : kind === 1
                ? add(left, k)
                : kind === 2
                  ? mul(left, right)
                  : kind === 3
                    ? onesLike(left)
                    : kind === 4
                      ? sum(left)
                      : kind === 5
                        ? add(sin(left), right)
                        : broadcastLike(sum(left), right); // folds when left is constant, whatever right is
          pool.push(t);
          if (out) outputs.push(t);
        }
        outputs.push(pool[pool.length - 1]);
        const slice = sliceOf(g, outputs);
        const expected = referenceFold(slice);
        const actual = constantFolding().run(slice);
        expect(actual.changes).toEqual({ folded: expected.folded, removed: expected.removed });
        expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
        expect(actual.slice.outputs).toEqual(expected.slice.outputs);
        expect([...actual.slice.bindings]).toEqual([...expected.slice.bindings]);
      }),
      { numRuns: 400, seed: 20261206 },
    );
  });

  test('a folded value equal to a constant merges with it, and readers that then equal other nodes merge too', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const two = g.constant(2);
    const early = mul(x, two);
    const folded = add(g.constant(1), 1); // 2 once folded, the constant above
    const late = mul(x, folded); // then equal to `early`: the rebuild merges them
    const other = sin(add(folded, x));
    const y = add(add(early, late), other);
    const slice = sliceOf(g, [y]);
    const expected = referenceFold(slice);
    const actual = constantFolding().run(slice);
    expect(actual.changes).toEqual({ folded: expected.folded, removed: expected.removed });
    expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
    expect(actual.slice.graph.nodes.filter((n) => n.op === 'mul')).toHaveLength(1);
  });

  test('a fold whose value is new is done in place: one compaction, the other nodes as they were', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const c = g.constant(new NDArray(new Float32Array([1, 2, 3]), [3]));
    const y = add(mul(x, exp(c)), sin(x));
    const slice = sliceOf(g, [y]);
    const { slice: folded, changes } = constantFolding().run(slice);
    expect(changes).toEqual({ folded: 1, removed: 1 });
    const text = folded.graph.toString();
    expect(text).toContain('constant() <2.71828');
    expect(text).not.toContain('exp(');
    expect(folded.graph.size).toBe(slice.graph.size - 1);
  });
});
