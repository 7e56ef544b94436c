/**
 * A copy (Graph.copyNode from the source graph, Graph.compacted) takes the hash of its node's content (op, dtype,
 * shape, attrs, value) and its attrs' key from the graph it copies, and hashes only its new inputs. The result must be
 * the graph a copy that recomputes both gives (copyNode without the source): the same nodes, merges and names, through
 * chains of rebuilds and compactions, with attrs, constants (-0 and NaN among their elements) and rewrites that make
 * nodes equal.
 */
import fc from 'fast-check';
import { add, exp, Graph, isLeafOp, mul, neg, opRecord, reshape, Slice, sum, Tensor } from '../../src';
import { emit } from '../../src/passes/pattern';
import { copyLeaf, dropDead, liveNodes, rebuild, Rewriter } from '../../src/passes/slice';

/** `rebuild` whose copies recompute their hashes and attrs keys (copyNode without the source graph). */
function rebuildRecomputing(slice: Slice, rewrite: Rewriter): Slice {
  const source = slice.graph;
  const live = liveNodes(source, slice.outputs);
  const target = new Graph();
  const mapped = new Int32Array(source.size).fill(-1);
  for (let id = 0; id < source.size; id++) {
    if (live[id] === 0) continue;
    const node = source.node(id);
    const inputs = node.inputs.map((i) => mapped[i]);
    let result = rewrite(node, inputs, target, (i) => mapped[i]);
    if (result === undefined) {
      result = isLeafOp(node.op)
        ? copyLeaf(node, target)
        : target.copyNode(node, inputs, opRecord(node.op).stateful === true);
    }
    mapped[id] = result;
  }
  return { graph: target, outputs: slice.outputs.map((id) => mapped[id]), bindings: new Map() };
}

describe('copies carry the hashes of their source', () => {
  test('the same graph as copies that recompute them, through rebuilds and compactions', () => {
    const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 6 }), out: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), fc.nat(), (steps, seed) => {
        const g = new Graph();
        const pool: Tensor[] = [
          g.placeholder('x', [2, 2]),
          g.constant([
            [1, -0],
            [NaN, 2],
          ]),
          g.constant([
            [1, 0],
            [NaN, 2],
          ]),
        ];
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
                  ? neg(left)
                  : kind === 3
                    ? mul(left, right)
                    : kind === 4
                      ? reshape(sum(left, 0, true), [2, 1])
                      : kind === 5
                        ? reshape(sum(left, 1), [1, 2])
                        : add(
                            left,
                            g.constant([
                              [(a % 3) - 1, -0],
                              [0, b % 2],
                            ]),
                          );
          pool.push(t.shape.length === 2 && t.shape[0] === 2 && t.shape[1] === 2 ? t : add(t, pool[0]));
          if (out) outputs.push(pool[pool.length - 1]);
        }
        outputs.push(pool[pool.length - 1]);
        const start: Slice = { graph: g, outputs: outputs.map((t) => t.id), bindings: new Map() };
        let carried = dropDead(rebuild(start));
        let recomputed = dropDead(rebuildRecomputing(start, () => undefined));
        expect(carried.graph.toString()).toBe(recomputed.graph.toString());
        for (let round = 0; round < 3; round++) {
          // Exps become negs of their input (merging with a neg already there), and some adds muls.
          const rewriter: Rewriter = (node, inputs, target) => {
            if (node.op === 'exp') return emit(target, 'neg', inputs, {}, node.name);
            if (node.op === 'add' && (node.id + seed + round) % 3 === 0)
              return emit(target, 'mul', inputs, {}, node.name);
            return undefined;
          };
          carried = dropDead(rebuild(carried, rewriter));
          recomputed = dropDead(rebuildRecomputing(recomputed, rewriter));
          expect(carried.graph.toString()).toBe(recomputed.graph.toString());
          expect(carried.outputs).toEqual(recomputed.outputs);
        }
        // A node added to the copy merges with the equal node there, as in the recomputing copy.
        for (const id of carried.outputs) {
          const node = carried.graph.node(id);
          if (node.inputs.length === 0) continue;
          expect(carried.graph.copyNode(node, node.inputs, false)).toBe(id);
        }
      }),
      { numRuns: 200 },
    );
  });
});
