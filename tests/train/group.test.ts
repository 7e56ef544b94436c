/**
 * The group op (src/ops/state.ts): one fetchable tensor that runs several assigns, committed together after the
 * run; and assigns whose outputs feed other nodes.
 */
import { add, assign, Graph, GraphError, group, mul, NDArray, optimize, Session } from '../../src';

describe('group', () => {
  test('fetching a group of assigns writes every variable', () => {
    const g = new Graph();
    const a = g.variable('a', [1, 2]);
    const b = g.variable('b', 3);
    const both = group([assign(a, mul(a, 10)), assign(b, add(b, 1))]);
    const sess = new Session(g);
    expect(sess.run(both).toArray()).toBe(true);
    expect(sess.run(a).toArray()).toEqual([10, 20]);
    expect(sess.run(b).toArray()).toBe(4);
  });

  test('the grouped assigns read the values from before the run, whatever their order', () => {
    const g = new Graph();
    const a = g.variable('a', 1);
    const b = g.variable('b', 2);
    const swap = group([assign(a, b), assign(b, a)]);
    const sess = new Session(g);
    sess.run(swap);
    expect([sess.run(a).toArray(), sess.run(b).toArray()]).toEqual([2, 1]);
  });

  test('a group is a bool scalar op named group', () => {
    const g = new Graph();
    const a = g.variable('a', 1);
    const t = group([assign(a, 2)]);
    expect([t.dtype, t.shape, t.op]).toEqual(['bool', [], 'group']);
  });

  test('two groups of the same inputs stay two nodes (it is stateful)', () => {
    const g = new Graph();
    const a = g.variable('a', 1);
    const set = assign(a, 2);
    expect(group([set]).id).not.toBe(group([set]).id);
  });

  test('optimization keeps the group and its assigns at every level', () => {
    const g = new Graph();
    const a = g.variable('a', 1);
    const t = group([assign(a, add(a, 0))]);
    for (const level of [0, 1, 2] as const) {
      const { graph } = optimize(g, [t], { level });
      const ops = graph.nodes.map((n) => n.op);
      expect(ops).toContain('group');
      expect(ops).toContain('assign');
    }
  });

  test('an empty group is a GraphError', () => {
    expect(() => group([])).toThrow(GraphError);
  });

  test("an assign's output can feed another node, and the assign is still committed", () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([1, 2]));
    const next = add(assign(w, add(w, 1)), 10);
    const sess = new Session(g);
    expect(sess.run(next).toArray()).toEqual([12, 13]);
    expect(sess.run(w).toArray()).toEqual([2, 3]);
  });
});
