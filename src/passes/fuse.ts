import { Graph, isFloat, isFullyKnown, Node, shapesEqual } from '../graph';
import { addOp, FUSED, FusedArg, FusedStepAttr, opRecord } from '../ops';
import { Pass } from './pass';
import { dropDead, rebuild, rebuildSkipping, Rewriter } from './slice';

/**
 * Float groups only: a fused loop keeps intermediates as JS doubles, which for floats only changes rounding (as
 * any fusing compiler does), but for int32 or bool would skip the truncation each unfused step performs.
 */
/**
 * A group's loop body holds one expression per member; past a few dozen ops the body stops fitting V8's inlining
 * and register budgets, and a long chain (a 100,000-node graph) must not become one giant function.
 */
const MAX_GROUP = 48;

function fusible(node: Node, exclude: ReadonlySet<string>): boolean {
  if (node.inputs.length === 0 || !isFullyKnown(node.shape) || !isFloat(node.dtype)) return false;
  if (exclude.has(node.op)) return false;
  const record = opRecord(node.op);
  return record.template !== undefined && record.stateful !== true;
}

/**
 * A scalar constant folds into the generated loop as a literal. Only rank 0: a [1] or [1, 1] constant could still
 * raise the rank of the broadcast output shape, which the fused node infers from its remaining inputs.
 */
function literalOf(node: Node): number | undefined {
  return node.op === 'constant' && node.value !== undefined && node.shape.length === 0 ? node.value.data[0] : undefined;
}

/**
 * Groups elementwise nodes: walking down from each unassigned fusible node (in descending id order, so every
 * consumer is seen before its producers), a producer joins the group when it is fusible, has the group's shape
 * and dtype, is not an output, and all its consumers are already in the group. Returns group index per node (-1
 * for none) and the members of each group.
 */
function findGroups(
  graph: Graph,
  outputs: readonly number[],
  exclude: ReadonlySet<string>,
): { groupOf: Int32Array; groups: number[][] } {
  const size = graph.size;
  const groupOf = new Int32Array(size).fill(-1);
  // Each node's consumers, in flat arrays (one array per node was 150k arrays for the GC at 200k nodes).
  const start = new Int32Array(size + 1);
  for (const node of graph.nodes) for (const input of node.inputs) start[input + 1]++;
  for (let id = 0; id < size; id++) start[id + 1] += start[id];
  const consumers = new Int32Array(start[size]);
  const filled = start.slice(0, size);
  for (const node of graph.nodes) for (const input of node.inputs) consumers[filled[input]++] = node.id;
  const consumedInGroup = (id: number, group: number): boolean => {
    for (let k = start[id]; k < start[id + 1]; k++) if (groupOf[consumers[k]] !== group) return false;
    return true;
  };
  const isOutput = new Uint8Array(size);
  for (const id of outputs) isOutput[id] = 1;
  const groups: number[][] = [];
  for (let root = size - 1; root >= 0; root--) {
    const rootNode = graph.node(root);
    if (groupOf[root] !== -1 || !fusible(rootNode, exclude)) continue;
    const group = groups.length;
    const members = [root];
    groupOf[root] = group;
    const stack = [...rootNode.inputs];
    while (stack.length > 0 && members.length < MAX_GROUP) {
      const id = stack.pop() as number;
      if (groupOf[id] !== -1 || isOutput[id] === 1) continue;
      const node = graph.node(id);
      if (!fusible(node, exclude) || node.dtype !== rootNode.dtype || !shapesEqual(node.shape, rootNode.shape))
        continue;
      if (!consumedInGroup(id, group)) continue;
      groupOf[id] = group;
      members.push(id);
      for (const input of node.inputs) stack.push(input);
    }
    groups.push(members.sort((a, b) => a - b));
  }
  return { groupOf, groups };
}

/**
 * Elementwise fusion: each maximal group of two or more elementwise ops becomes one `fused` node whose kernel is
 * generated once from the ops' templates; the chain then makes one pass over memory with no intermediates.
 */
export function elementwiseFusion(exclude: readonly string[] = [], skip = true): Pass {
  const excluded = new Set(exclude);
  return {
    name: 'fuse',
    run(slice) {
      const source = slice.graph;
      const { groupOf, groups } = findGroups(source, slice.outputs, excluded);
      const fusedGroups = groups.filter((g) => g.length >= 2);
      if (fusedGroups.length === 0) return { slice, changes: { fused: 0, groups: 0 } };
      const rootOf = new Map<number, number[]>();
      for (const members of fusedGroups) rootOf.set(members[members.length - 1], members);
      let fusedNodes = 0;
      const fuseGroup: Rewriter = (node, _inputs, target, mapped) => {
        const members = rootOf.get(node.id);
        if (members === undefined) return undefined;
        fusedNodes += members.length;
        const stepIndex = new Map<number, number>();
        const externals: number[] = [];
        const steps: FusedStepAttr[] = [];
        const display: string[] = [];
        const group = groupOf[node.id];
        for (const id of members) {
          const member = source.node(id);
          const args: FusedArg[] = [];
          const shown: string[] = [];
          for (const input of member.inputs) {
            if (groupOf[input] === group && stepIndex.has(input)) {
              const step = stepIndex.get(input) as number;
              args.push({ step });
              shown.push(display[step]);
              continue;
            }
            const value = literalOf(source.node(input));
            if (value !== undefined) {
              args.push({ value });
              shown.push(String(value));
              continue;
            }
            let k = externals.indexOf(input);
            if (k < 0) k = externals.push(input) - 1;
            args.push({ input: k });
            shown.push(`$${k}`);
          }
          stepIndex.set(id, steps.length);
          steps.push({ op: member.op, args });
          // Nested text reads best; past a length, refer to an earlier step by its index instead.
          const text = `${member.op}(${shown.join(', ')})`;
          display.push(text.length <= 160 ? text : `${member.op}(…)`);
        }
        const attrs = { expr: display[display.length - 1], dtype: node.dtype, steps };
        return addOp(target, FUSED, externals.map(mapped), attrs, node.name).id;
      };
      // A group's members other than its root are read only within the group: dead once it is fused, so not copied.
      const absorbed = new Uint8Array(source.size);
      for (const members of fusedGroups) for (let k = 0; k < members.length - 1; k++) absorbed[members[k]] = 1;
      // (`skip: false`: copy them, what a merge makes it do; the reference the tests compare the shortcut with.)
      let pruned = skip ? rebuildSkipping(slice, absorbed, fuseGroup) : null;
      if (pruned === null) {
        fusedNodes = 0;
        pruned = dropDead(rebuild(slice, fuseGroup));
      }
      return { slice: pruned, changes: { fused: fusedNodes, groups: fusedGroups.length } };
    },
  };
}

/** Fusion of every fusible op (what level 2 runs unless a backend keeps some ops to its own kernels). */
export const fuse: Pass = elementwiseFusion();
