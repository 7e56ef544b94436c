import { canonicalJSON, Graph, Node } from '../graph';
import { addOp, opRecord } from '../ops';
import { Pass } from './pass';
import { liveNodes, rebuild, Slice } from './slice';
import { passVisits } from './visits';

/**
 * Common subexpression elimination: rebuilding re-interns every node (equal op, inputs and attrs give one
 * node), and the inputs of commutative ops (OpRecord.commutative) are put in a canonical (ascending id) order
 * first, so `a + b` and `b + a` merge too.
 */
export const cse: Pass = {
  name: 'cse',
  run(slice) {
    if (!mayMerge(slice)) return { slice, changes: { merged: 0 } };
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

/**
 * Whether the rebuild can merge anything. A slice is hash-consed (built by interning: no two live stateless nodes
 * have one op, inputs and attrs), so the first merge of a rebuild is of a commutative node whose inputs, put in
 * order, make it equal to another live node of its op; without such a pair no merge happens at all (by induction
 * over the ids, each node maps to its own). One key per live commutative node (op, inputs in order, attrs: these
 * determine the dtype and shape).
 */
function mayMerge(slice: Slice): boolean {
  const graph = slice.graph;
  const live = liveNodes(graph, slice.outputs);
  const keys = new Set<string>();
  for (const node of graph.nodes) {
    if (live[node.id] === 0 || opRecord(node.op).commutative !== true) continue;
    passVisits.cseChecks++;
    let inputs = node.inputs;
    for (let k = 1; k < inputs.length; k++) {
      if (inputs[k - 1] > inputs[k]) {
        inputs = [...inputs].sort((a, b) => a - b);
        break;
      }
    }
    const key = `${node.op}|${inputs.join(',')}|${canonicalJSON(node.attrs)}`;
    if (keys.has(key)) return true;
    keys.add(key);
  }
  return false;
}
