import { Graph, Node } from '../graph';
import { addOp, opRecord } from '../ops';
import { Pass } from './pass';
import { liveNodes, rebuild } from './slice';

/** Ops whose inputs can be reordered without changing the result (or its broadcast shape). */
export const COMMUTATIVE_OPS: ReadonlySet<string> = new Set([
  'add',
  'mul',
  'maximum',
  'minimum',
  'equal',
  'notEqual',
  'logicalAnd',
  'logicalOr',
  'squaredDifference',
  'addN',
]);

/**
 * Common subexpression elimination: rebuilding re-interns every node (equal op, inputs and attrs give one
 * node), and the inputs of commutative ops are put in a canonical (ascending id) order first, so `a + b` and
 * `b + a` merge too.
 */
export const cse: Pass = {
  name: 'cse',
  run(slice) {
    const result = rebuild(slice, (node: Node, inputs: readonly number[], target: Graph) => {
      if (!COMMUTATIVE_OPS.has(node.op)) return undefined;
      const sorted = [...inputs].sort((a, b) => a - b);
      return addOp(target, opRecord(node.op), sorted, node.attrs, node.name).id;
    });
    let live = 0;
    for (const flag of liveNodes(slice.graph, slice.outputs)) live += flag;
    const merged = live - result.graph.size;
    // Only reorderings, nothing merged: keep the slice as it was (no change to report).
    if (merged === 0) return { slice, changes: { merged: 0 } };
    return { slice: result, changes: { merged } };
  },
};
