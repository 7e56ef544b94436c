import { Graph, Node } from '../graph/graph';
import { canonicalJSON } from '../graph/textir';
import { addOp } from '../ops/record';
import { opRecord } from '../ops/registry';
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
  // The rebuild interns in id order: a node whose inputs merged is built after them and merges in the same sweep.
  idempotent: true,
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
 * over the ids, each node maps to its own). One numeric key per live commutative node (op and inputs in order);
 * nodes with equal keys are compared in full, attrs too (op, inputs and attrs determine the dtype and shape).
 */
function mayMerge(slice: Slice): boolean {
  const graph = slice.graph;
  const live = liveNodes(graph, slice.outputs);
  // Numeric keys (a hash of op, inputs in order and attrs) into chains of the nodes that had them; equal keys are
  // compared in full. No string per node.
  const heads = new Map<number, number>();
  const next = new Int32Array(graph.size).fill(-1);
  const attrsOf = new Map<number, string>();
  const attrsKey = (node: Node): string => {
    let key = attrsOf.get(node.id);
    if (key === undefined) {
      key = canonicalJSON(node.attrs);
      attrsOf.set(node.id, key);
    }
    return key;
  };
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
    let hash = stringHash(node.op);
    for (let k = 0; k < inputs.length; k++) hash = Math.imul(hash ^ inputs[k], 0x01000193);
    hash = (hash ^ inputs.length) & 0x3fffffff;
    const first = heads.get(hash);
    for (let other = first ?? -1; other !== -1; other = next[other]) {
      const seen = graph.node(other);
      const seenInputs = [...seen.inputs].sort((a, b) => a - b);
      if (seen.op !== node.op || seenInputs.length !== inputs.length) continue;
      if (!seenInputs.every((input, k) => input === inputs[k])) continue;
      if (attrsKey(seen) === attrsKey(node)) return true;
    }
    if (first !== undefined) next[node.id] = first;
    heads.set(hash, node.id);
  }
  return false;
}

const opHashes = new Map<string, number>();
function stringHash(text: string): number {
  let hash = opHashes.get(text);
  if (hash === undefined) {
    hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    opHashes.set(text, hash);
  }
  return hash;
}
