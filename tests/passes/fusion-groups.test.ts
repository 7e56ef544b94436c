/**
 * findGroups counts each producer's reads by the group's members against its uses, and planFusion counts a scalar
 * constant's reads by fused members likewise, instead of walking a list of each node's consumers. On random graphs
 * (dense layers, activations, gradients, scalar constants, shared and fetched intermediates; every op fusible or
 * some kept out; the whole graph or a view of part of it) the groups and the nodes left uncopied are those the
 * consumer lists gave (the reference below is the code before the change). planEpilogue finds the live nodes and
 * their uses in one sweep and lists the nodes that may have an action: the live nodes are liveNodes', and every node
 * given an action is listed.
 */
import fc from 'fast-check';
import {
  add,
  exp,
  gradients,
  Graph,
  isFloat,
  isFullyKnown,
  matMul,
  mul,
  NDArray,
  Node,
  opRecord,
  optimize,
  relu,
  shapesEqual,
  sigmoid,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { planEpilogue } from '../../src/passes/epilogue';
import { FusionView, planFusion } from '../../src/passes/fuse';
import { liveNodes } from '../../src/passes/slice';

const MAX_GROUP = 48;

function fusible(node: Node, exclude: ReadonlySet<string>): boolean {
  if (node.inputs.length === 0 || !isFullyKnown(node.shape) || !isFloat(node.dtype)) return false;
  if (exclude.has(node.op)) return false;
  const record = opRecord(node.op);
  return record.template !== undefined && record.stateful !== true;
}

function literalOf(node: Node): number | undefined {
  return node.op === 'constant' && node.value !== undefined && node.shape.length === 0 ? node.value.data[0] : undefined;
}

function findGroups(
  view: FusionView,
  outputs: readonly number[],
  exclude: ReadonlySet<string>,
): { groupOf: Int32Array; groups: number[][]; start: Int32Array; consumers: Int32Array; isOutput: Uint8Array } {
  const { nodes, present } = view;
  const size = nodes.length;
  const groupOf = new Int32Array(size).fill(-1);
  // Each node's consumers, in flat arrays (one array per node was 150k arrays for the GC at 200k nodes).
  const start = new Int32Array(size + 1);
  for (let id = 0; id < size; id++) {
    if (present !== undefined && present[id] === 0) continue;
    for (const input of nodes[id].inputs) start[input + 1]++;
  }
  for (let id = 0; id < size; id++) start[id + 1] += start[id];
  const consumers = new Int32Array(start[size]);
  const filled = start.slice(0, size);
  for (let id = 0; id < size; id++) {
    if (present !== undefined && present[id] === 0) continue;
    for (const input of nodes[id].inputs) consumers[filled[input]++] = id;
  }
  const consumedInGroup = (id: number, group: number): boolean => {
    for (let k = start[id]; k < start[id + 1]; k++) if (groupOf[consumers[k]] !== group) return false;
    return true;
  };
  const isOutput = new Uint8Array(size);
  for (const id of outputs) isOutput[id] = 1;
  const groups: number[][] = [];
  for (let root = size - 1; root >= 0; root--) {
    if (present !== undefined && present[root] === 0) continue;
    const rootNode = nodes[root];
    if (groupOf[root] !== -1 || !fusible(rootNode, exclude)) continue;
    const group = groups.length;
    const members = [root];
    groupOf[root] = group;
    const stack = [...rootNode.inputs];
    while (stack.length > 0 && members.length < MAX_GROUP) {
      const id = stack.pop() as number;
      if (groupOf[id] !== -1 || isOutput[id] === 1) continue;
      const node = nodes[id];
      if (!fusible(node, exclude) || node.dtype !== rootNode.dtype || !shapesEqual(node.shape, rootNode.shape))
        continue;
      if (!consumedInGroup(id, group)) continue;
      groupOf[id] = group;
      members.push(id);
      for (const input of node.inputs) stack.push(input);
    }
    groups.push(members.sort((a, b) => a - b));
  }
  return { groupOf, groups, start, consumers, isOutput };
}

function referencePlan(view: FusionView, outputs: readonly number[], exclude: ReadonlySet<string>) {
  const { nodes } = view;
  const { groupOf, groups, start, consumers, isOutput } = findGroups(view, outputs, exclude);
  const fusedGroups = groups.filter((g) => g.length >= 2);
  if (fusedGroups.length === 0) return null;
  const absorbed = new Uint8Array(nodes.length);
  for (const members of fusedGroups) for (let k = 0; k < members.length - 1; k++) absorbed[members[k]] = 1;
  for (let id = 0; id < nodes.length; id++) {
    if (start[id] === start[id + 1] || isOutput[id] === 1 || literalOf(nodes[id]) === undefined) continue;
    if (view.present !== undefined && view.present[id] === 0) continue;
    let onlyGroups = true;
    for (let k = start[id]; k < start[id + 1] && onlyGroups; k++) {
      const group = groupOf[consumers[k]];
      onlyGroups = group >= 0 && groups[group].length >= 2;
    }
    if (onlyGroups) absorbed[id] = 1;
  }
  return { groups: fusedGroups, absorbed };
}

const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 12 }), out: fc.boolean() });

function randomGraph(steps: { a: number; b: number; kind: number; out: boolean }[], grad: boolean) {
  const g = new Graph();
  const x = g.placeholder('x', [2, 3]);
  const w = g.variable('w', new NDArray(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), [3, 3]));
  const bias = g.variable('b', new NDArray(new Float32Array([1, 2, 3]), [3]));
  const pool: Tensor[] = [x];
  const outputs: Tensor[] = [];
  for (const { a, b, kind, out } of steps) {
    const left = pool[a % pool.length];
    const right = pool[b % pool.length];
    const ops = [
      () => matMul(left, w),
      () => add(left, bias),
      () => relu(left),
      () => tanh(left),
      () => sigmoid(left),
      () => add(left, right),
      () => mul(left, right),
      () => mul(left, left),
      () => exp(left),
      () => mul(left, 2),
      () => add(exp(left), 0.5),
      () => tanh(mul(add(matMul(left, w), bias), 3)),
      () => relu(add(left, right)),
    ];
    const t = ops[kind]();
    pool.push(t);
    if (out) outputs.push(t);
  }
  outputs.push(pool[pool.length - 1]);
  if (grad) {
    const last = pool[pool.length - 1];
    const loss = sum(mul(last, last));
    outputs.push(loss, ...gradients(loss, [w, bias, x]).filter((t): t is Tensor => t !== null));
  }
  return { g, outputs };
}

describe('fusion groups counted, not looked up in consumer lists', () => {
  test.each([
    { name: 'every op fused', exclude: [] as string[] },
    { name: 'exp kept unfused', exclude: ['exp'] },
  ])('the groups and uncopied nodes of the reference, on random graphs ($name)', ({ exclude }) => {
    const excluded = new Set(exclude);
    let fusedSeen = 0;
    let literalsSeen = 0;
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 24 }),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        (steps, grad, partial, cut) => {
          const { g, outputs } = randomGraph(steps, grad);
          const { graph, outputs: fetched } = optimize(g, outputs, { level: 0 });
          let outs = fetched.map((t) => t.id);
          let present: Uint8Array | undefined;
          let uses: Int32Array | undefined;
          if (partial) {
            // A view of what some of the outputs read, with their uses counted (as epilogueAndFusion gives fusion).
            outs = outs.slice(0, 1 + (cut % outs.length));
            present = new Uint8Array(graph.size);
            uses = new Int32Array(graph.size);
            for (const id of outs) present[id] = 1;
            for (let id = graph.size - 1; id >= 0; id--) {
              if (present[id] === 0) continue;
              for (const input of graph.nodes[id].inputs) {
                present[input] = 1;
                uses[input]++;
              }
            }
          }
          const view = { nodes: graph.nodes, present };
          const actual = planFusion({ ...view, uses: cut % 2 === 0 ? uses : undefined }, outs, excluded);
          const expected = referencePlan(view, outs, excluded);
          expect(actual === null).toBe(expected === null);
          if (actual === null || expected === null) return;
          expect(actual.groups).toEqual(expected.groups);
          expect([...actual.absorbed]).toEqual([...expected.absorbed]);
          fusedSeen += actual.groups.length;
          for (let id = 0; id < graph.size; id++) {
            if (expected.absorbed[id] === 1 && graph.nodes[id].op === 'constant') literalsSeen++;
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(fusedSeen).toBeGreaterThan(100);
    expect(literalsSeen).toBeGreaterThan(20);
  });

  test('planEpilogue: the live nodes of liveNodes, and every node given an action listed, on random graphs', () => {
    let actionsSeen = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 24 }), fc.boolean(), (steps, grad) => {
        const { g, outputs } = randomGraph(steps, grad);
        const { graph, outputs: fetched } = optimize(g, outputs, { level: 1 });
        const slice = { graph, outputs: fetched.map((t) => t.id), bindings: new Map<number, number>() };
        const plan = planEpilogue(slice);
        expect([...plan.live]).toEqual([...liveNodes(graph, slice.outputs)]);
        const listed = new Set(plan.candidates);
        expect([...plan.candidates]).toEqual([...listed].sort((a, b) => a - b));
        for (const node of graph.nodes) {
          for (const skipping of [true, false]) {
            const action = plan.live[node.id] === 1 ? plan.actionOf(node, skipping) : undefined;
            if (action === undefined) continue;
            expect(listed.has(node.id)).toBe(true);
            actionsSeen++;
          }
        }
        for (const id of plan.candidates) expect(plan.live[id]).toBe(1);
      }),
      { numRuns: 300 },
    );
    expect(actionsSeen).toBeGreaterThan(100);
  });
});
