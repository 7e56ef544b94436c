/**
 * The graphs of a pipeline share one name space (Graph.inheritNames): every name numbered once, each graph saying by
 * number which names it holds, and the numbers of `base_1`, `base_2`, … kept per base so that a walk past taken
 * suffixes builds no strings. The names must be exactly the rule's: a name not taken in the graph is kept, a taken one
 * gets the first `_k` past the graph's own counter for it that is not taken in the graph.
 */
import fc from 'fast-check';
import { Graph, isLeafOp, Slice, Tensor } from '../../src';
import { emit } from '../../src/passes/pattern';
import { copyLeaf, copyOp, dropDead, liveNodes, rebuild, Rewriter } from '../../src/passes/slice';

/** Names that collide with each other's suffixed forms. */
const POOL = ['a', 'a_1', 'a_2', 'a_1_1', 'a_3', 'b', 'b_2', 'neg', 'neg_1', 'exp_1'];

/** The rule, with a set of every name: what `uniqueName` gives, for a graph that numbers names as it goes. */
class NamingModel {
  private readonly taken = new Set<string>();
  private readonly counters = new Map<string, number>();
  constructor(names: Iterable<string> = []) {
    for (const name of names) this.taken.add(name);
  }
  give(base: string): string {
    let name = base;
    if (this.taken.has(base)) {
      let counter = this.counters.get(base) ?? 0;
      do {
        counter++;
        name = `${base}_${counter}`;
      } while (this.taken.has(name));
      this.counters.set(base, counter);
    }
    this.taken.add(name);
    return name;
  }
}

/** `rebuild` with a target of its own name space (no inheritance): the reference for a rebuild's names. */
function rebuildOwnSpace(slice: Slice, rewrite: Rewriter): Slice {
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

describe('one name space per pipeline', () => {
  test('names given in one graph follow the rule (suffix walks past taken names, per-base counters)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: POOL.length - 1 }), { minLength: 1, maxLength: 60 }), (picks) => {
        const g = new Graph();
        const model = new NamingModel();
        let last = g.placeholder(model.give('x'), [2]).id;
        for (const pick of picks) {
          last = emit(g, 'neg', [last], {}, POOL[pick]);
          expect(g.node(last).name).toBe(model.give(POOL[pick]));
        }
        for (const node of g.nodes) expect(g.byName(node.name)?.id).toBe(node.id);
      }),
      { numRuns: 200 },
    );
  });

  test('a copy of a graph gives new names past its own names only, after the copies freed some', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: POOL.length - 1 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: POOL.length - 1 }), { minLength: 1, maxLength: 10 }),
        fc.nat(),
        (picks, later, cut) => {
          const g = new Graph();
          const x = g.placeholder('x', [2]);
          // Two chains; the second is dropped by the copy, freeing its names in the copy.
          let kept: Tensor = x;
          let dropped: Tensor = x;
          picks.forEach((pick, k) => {
            if ((k + cut) % 3 === 0) dropped = g.tensor(emit(g, 'exp', [dropped.id], {}, POOL[pick]));
            else kept = g.tensor(emit(g, 'neg', [kept.id], {}, POOL[pick]));
          });
          const slice: Slice = { graph: g, outputs: [kept.id], bindings: new Map() };
          const copy = rebuild(slice).graph;
          const model = new NamingModel(copy.nodes.map((n) => n.name));
          let last = copy.size - 1;
          for (const pick of later) {
            last = emit(copy, 'neg', [last], { k: last }, POOL[pick]);
            expect(copy.node(last).name).toBe(model.give(POOL[pick]));
          }
          for (const node of copy.nodes) expect(copy.byName(node.name)?.id).toBe(node.id);
          // The source still finds its own names (the space it shares knows the copy's names too).
          for (const node of g.nodes) expect(g.byName(node.name)?.id).toBe(node.id);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a name looked up in one graph and then added by another graph of the space is numbered once', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const y = g.tensor(emit(g, 'neg', [x.id], {}, 'y'));
    const copy = rebuild({ graph: g, outputs: [y.id], bindings: new Map() }).graph;
    expect(g.byName('fresh')).toBeUndefined();
    const inCopy = emit(copy, 'exp', [copy.size - 1], {}, 'fresh');
    const inSource = emit(g, 'exp', [y.id], {}, 'fresh');
    expect(copy.node(inCopy).name).toBe('fresh');
    expect(g.node(inSource).name).toBe('fresh');
    expect(copy.byName('fresh')?.id).toBe(inCopy);
    expect(g.byName('fresh')?.id).toBe(inSource);
  });

  test('chains of rebuilds (and two rebuilds of one source) name as targets of their own spaces do', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 25 }),
        fc.array(fc.integer({ min: 0, max: POOL.length - 1 }), { minLength: 1, maxLength: 5 }),
        (kinds, emitted) => {
          const g = new Graph();
          let h: Tensor = g.placeholder('x', [2]);
          const outputs: number[] = [];
          kinds.forEach((kind, k) => {
            const name = POOL[(kind + k) % POOL.length];
            h = g.tensor(emit(g, kind === 0 ? 'exp' : kind === 1 ? 'sin' : 'neg', [h.id], {}, name));
            if (kind === 3) outputs.push(h.id);
          });
          outputs.push(h.id);
          let own: Slice = { graph: g, outputs, bindings: new Map() };
          let shared = own;
          for (let round = 0; round < 3; round++) {
            const rewriter: Rewriter = (node, inputs, target) => {
              if (node.op !== 'exp' && node.op !== 'sin') return undefined;
              const name = POOL[emitted[(node.id + round) % emitted.length]];
              return emit(target, node.op === 'exp' ? 'sin' : 'exp', inputs, {}, name);
            };
            // An abandoned sibling first: it numbers names in the shared space that the next target does not hold.
            rebuild(shared, (node, inputs, target) =>
              inputs.length === 0 ? undefined : emit(target, 'neg', inputs, {}, `${node.name}_1`),
            );
            own = dropDead(rebuildOwnSpace(own, rewriter));
            shared = dropDead(rebuild(shared, rewriter));
            expect(shared.graph.toString()).toBe(own.graph.toString());
            for (const node of shared.graph.nodes) expect(shared.graph.byName(node.name)?.id).toBe(node.id);
          }
          for (const name of POOL) {
            expect(emit(shared.graph, 'neg', [shared.outputs[0]], { n: name }, name)).toBe(
              emit(own.graph, 'neg', [own.outputs[0]], { n: name }, name),
            );
          }
          expect(shared.graph.toString()).toBe(own.graph.toString());
        },
      ),
      { numRuns: 150 },
    );
  });
});
