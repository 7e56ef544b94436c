import { Graph, Node } from '../graph';
import { addOp, opRecord } from '../ops';
import { Pass } from './pass';
import { liveNodes, rebuild } from './slice';

/**
 * Common subexpression elimination: rebuilding re-interns every node (equal op, inputs and attrs give one
 * node), and the inputs of commutative ops (OpRecord.commutative) are put in a canonical (ascending id) order
 * first, so `a + b` and `b + a` merge too.
 */
export const cse: Pass = {
  name: 'cse',
  run(slice) {
    const result = rebuild(slice, (node: Node, inputs: readonly number[], target: Graph) => {
      const record = opRecord(node.op);
      if (record.commutative !== true) return undefined;
      const sorted = [...inputs].sort((a, b) => a - b);
      return addOp(target, record, sorted, node.attrs, node.name).id;
    });
    let live = 0;
    for (const flag of liveNodes(slice.graph, slice.outputs)) live += flag;
    const merged = live - result.graph.size;
    // Only reorderings, nothing merged: keep the slice as it was (no change to report).
    if (merged === 0) return { slice, changes: { merged: 0 } };
    return { slice: result, changes: { merged } };
  },
};
