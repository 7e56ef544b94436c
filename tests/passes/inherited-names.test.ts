/**
 * A rebuild's target and a compaction keep the names of the nodes they copy through the source's name tables
 * (Graph.inheritNames) instead of refilling a table of every name. The names must be exactly those a graph with its
 * own full table gives (a copy whose name a rewrite took first is suffixed the same way), and every name must be
 * found by `byName`, after chains of rebuilds and compactions and after `settleNames`.
 */
import fc from 'fast-check';
import { add, exp, Graph, isLeafOp, mul, neg, optimize, sin, Slice, Tensor } from '../../src';
import { emit } from '../../src/passes/pattern';
import { copyLeaf, copyOp, dropDead, liveNodes, rebuild, Rewriter } from '../../src/passes/slice';
import { sliceOf } from './slices';

/** `rebuild` as it was before inheritance: the target fills its own table of every name. */
function rebuildOwnNames(slice: Slice, rewrite: Rewriter): Slice {
  const source = slice.graph;
  const live = liveNodes(source, slice.outputs);
  const target = new Graph();
  const mapped = new Int32Array(source.size).fill(-1);
  for (let id = 0; id < source.size; id++) {
    if (live[id] === 0) continue;
    const node = source.node(id);
    const inputs = node.inputs.map((i) => mapped[i]);
    let result = rewrite(node, inputs, target, (i) => mapped[i]);
    if (result === undefined)
      result = isLeafOp(node.op) ? copyLeaf(node, target) : copyOp(source, node, inputs, target);
    mapped[id] = result;
  }
  return { graph: target, outputs: slice.outputs.map((id) => mapped[id]), bindings: new Map() };
}

function expectNamesFound(graph: Graph): void {
  const names = new Set<string>();
  for (const node of graph.nodes) {
    expect(names.has(node.name)).toBe(false);
    names.add(node.name);
    expect(graph.byName(node.name)?.id).toBe(node.id);
  }
  expect(graph.byName('no such name')).toBeUndefined();
}

const NAMES = ['s/add', 's/add_1', 's/mul', 's/neg_1', 'n/neg', 'x_1', 'a', 's/exp'];

describe('names kept through the source graph', () => {
  test('the same names as a target with its own table, through chains of rebuilds and compactions', () => {
    const step = fc.record({
      a: fc.nat(),
      b: fc.nat(),
      kind: fc.integer({ min: 0, max: 4 }),
      out: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: NAMES.length - 1 }), { minLength: 1, maxLength: 4 }),
        (steps, emitted) => {
          const g = new Graph();
          const pool: Tensor[] = [g.placeholder('x', [2])];
          const outputs: Tensor[] = [];
          for (const { a, b, kind, out } of steps) {
            const left = pool[a % pool.length];
            const right = pool[b % pool.length];
            const t = g.nameScope('s', () =>
              kind === 0
                ? exp(left)
                : kind === 1
                  ? add(left, right)
                  : kind === 2
                    ? neg(left)
                    : kind === 3
                      ? sin(left)
                      : mul(left, right),
            );
            // Names of the user's graph that the rewrites' names below collide with.
            pool.push(kind === 4 ? g.nameScope('n', () => neg(t)) : t);
            if (out) outputs.push(pool[pool.length - 1]);
          }
          outputs.push(pool[pool.length - 1]);
          let own = sliceOf(g, outputs, { bound: false });
          let kept = own;
          // Three rounds: each rewrites the exps and sins into a new node named from the list (taking names that
          // later copies then must give up), then drops dead nodes.
          for (let round = 0; round < 3; round++) {
            const rewriter =
              (k: number): Rewriter =>
              (node, inputs, target) => {
                if (node.op !== 'exp' && node.op !== 'sin') return undefined;
                const name = NAMES[emitted[(node.id + k) % emitted.length]];
                return emit(target, node.op === 'exp' ? 'sin' : 'exp', inputs, {}, name);
              };
            own = dropDead(rebuildOwnNames(own, rewriter(round)));
            kept = dropDead(rebuild(kept, rewriter(round)));
            expect(kept.graph.toString()).toBe(own.graph.toString());
            expect(kept.outputs).toEqual(own.outputs);
            expectNamesFound(kept.graph);
          }
          // A node added now takes the same name in both (a suffix where the name is taken).
          for (const name of NAMES) {
            const a = own.graph.tensor(own.outputs[0]);
            const b = kept.graph.tensor(kept.outputs[0]);
            expect(emit(kept.graph, 'neg', [b.id], {}, name)).toBe(emit(own.graph, 'neg', [a.id], {}, name));
            expect(kept.graph.toString()).toBe(own.graph.toString());
          }
          kept.graph.settleNames();
          expectNamesFound(kept.graph);
          emit(kept.graph, 'exp', [kept.outputs[0]], {}, 'a');
          emit(own.graph, 'exp', [own.outputs[0]], {}, 'a');
          expect(kept.graph.toString()).toBe(own.graph.toString());
        },
      ),
      { numRuns: 150 },
    );
  });

  test('an exact name (a placeholder) taken through the source tables is an error, as with a full table', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const y = exp(x);
    const slice = sliceOf(g, [y], { bound: false });
    const copy = rebuild(slice);
    expect(() => copy.graph.placeholder('x', [2])).toThrow(/a node named 'x' already exists \(placeholder\)/);
    expect(copy.graph.placeholder('x_1', [2]).name).toBe('x_1');
  });

  test('the optimized graph settles its names: every name found, new names suffixed past the taken ones', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 2]);
    let h = x;
    for (let k = 0; k < 50; k++) h = add(h, mul(exp(h), 1));
    const { graph } = optimize(g, [h]);
    expectNamesFound(graph);
    const last = graph.nodes[graph.size - 1];
    expect(graph.tensor(last.id).name).toBe(last.name);
    const taken = graph.nodes.find((n) => n.op === 'exp')?.name as string;
    expect(emit(graph, 'neg', [last.id], {}, taken)).toBe(graph.size - 1);
    expect(graph.node(graph.size - 1).name).not.toBe(taken);
    expectNamesFound(graph);
  });
});
