import { Graph, Node } from '../graph/graph';
import { NDArray } from '../graph/ndarray';
import { shapesEqual } from '../graph/shape';
import { canonicalJSON } from '../graph/textir';
import { addOp } from '../ops/record';
import { isLeafOp, opRecord } from '../ops/registry';
import { passVisits } from './visits';

/**
 * A session's private piece of graph: the nodes that compute `outputs`. `bindings` maps a private placeholder,
 * variable or other stateful node to the node of the user's graph it stands for (a feed, a variable's state, a
 * random op's run count).
 */
export interface Slice {
  readonly graph: Graph;
  readonly outputs: readonly number[];
  readonly bindings: ReadonlyMap<number, number>;
}

/**
 * Decides what a node of the old slice becomes in the new one; undefined keeps it as it is. `inputs` are the
 * node's inputs already mapped into `target`; `mapped(id)` maps any earlier live node of the old slice.
 */
export type Rewriter = (
  node: Node,
  inputs: readonly number[],
  target: Graph,
  mapped: (id: number) => number,
) => number | undefined;

/**
 * Ids of nodes that some output depends on (an iterative sweep from the outputs): 1 live, 0 dead. The array is
 * shared (callers only read it): the last one computed for a graph is kept while the graph has the same size and is
 * asked about the same outputs array, as the passes of a pipeline ask about one slice in turn (`fold`, `cse`,
 * `simplify`, `addn`, `prune` each sweep it otherwise, ten times per compile).
 */
export function liveNodes(graph: Graph, outputs: readonly number[]): Uint8Array {
  const known = liveness.get(graph);
  if (known !== undefined && known.outputs === outputs && known.size === graph.size) {
    passVisits.livenessReused++;
    return known.live;
  }
  const live = new Uint8Array(graph.size);
  for (const id of outputs) live[id] = 1;
  for (let id = graph.size - 1; id >= 0; id--) {
    if (live[id] === 0) continue;
    for (const input of graph.node(id).inputs) live[input] = 1;
  }
  liveness.set(graph, { outputs, size: graph.size, live });
  return live;
}

/** The last liveness computed per graph (`liveNodes`). */
const liveness = new WeakMap<Graph, { outputs: readonly number[]; size: number; live: Uint8Array }>();

/** Copies a leaf node (placeholder, variable, constant) into another graph under the same name. */
export function copyLeaf(node: Node, target: Graph, shape: readonly number[] | null = null): number {
  switch (node.op) {
    case 'placeholder':
      return target.placeholder(node.name, shape ?? node.shape, node.dtype).id;
    case 'variable':
      return target.variable(node.name, node.value as NDArray).id;
    default:
      return target.constant(node.value as NDArray, node.dtype, node.name).id;
  }
}

/**
 * Adds `node` of `source` (not a leaf) to `target` reading `inputs` (ids in `target`): copied as it is when every
 * input has the dtype and shape the node was inferred from (its op's rule would infer the same again), else built
 * and re-inferred by its op's rule. Equal nodes merge either way.
 */
export function copyOp(source: Graph, node: Node, inputs: readonly number[], target: Graph): number {
  passVisits.copies++;
  const record = opRecord(node.op);
  for (let k = 0; k < inputs.length; k++) {
    const before = source.node(node.inputs[k]);
    const after = target.node(inputs[k]);
    if (before.dtype !== after.dtype || !shapesEqual(before.shape, after.shape)) {
      return addOp(target, record, inputs, node.attrs, node.name).id;
    }
  }
  return target.copyNode(node, inputs, record.stateful === true, source);
}

/**
 * Rebuilds a slice into a fresh graph, visiting live nodes in id order. Every node whose inputs changed type is
 * re-inferred by its op's rule (so each rewrite is verified), and every node is re-interned (so equal nodes merge:
 * CSE for free). Linear in the slice: one visit per live node.
 */
export function rebuild(slice: Slice, rewrite?: Rewriter): Slice {
  return copyLive(slice, rewrite, null) as Slice;
}

/**
 * `dropDead(rebuild(slice, rewrite))` for a rewrite after which the nodes flagged in `skip` are dead (nothing the
 * rebuild keeps reads them), without copying them first: null when some node of the rebuild merged with another
 * (then the copies skipped could have mattered: the caller rebuilds in full). Otherwise the same slice: on a
 * hash-consed source, with no merge, the rebuild maps distinct nodes to distinct nodes, so no later node could have
 * merged with a skipped copy; and a skipped node's name is its own (unique in the source), which only its copy,
 * dead, would have taken.
 */
export function rebuildSkipping(slice: Slice, skip: Uint8Array, rewrite: Rewriter): Slice | null {
  const copied = copyLive(slice, rewrite, skip);
  return copied === null ? null : dropDead(copied);
}

/**
 * The loop of `rebuild` and `rebuildSkipping`: each live node in order, rewritten or copied into a new graph. With
 * `skip`, the nodes it flags are left out and the copy stops (null) at the first node that merged with another.
 */
function copyLive(slice: Slice, rewrite: Rewriter | undefined, skip: Uint8Array | null): Slice | null {
  const source = slice.graph;
  const live = liveNodes(source, slice.outputs);
  const target = new Graph();
  // Copies keep their names through the source's name tables (no table of every name refilled per rebuild).
  target.inheritNames(source);
  const mapped = new Int32Array(source.size).fill(-1);
  const bindings = new Map<number, number>();
  const lookup = (id: number): number => mapped[id];
  for (let id = 0; id < source.size; id++) {
    if (live[id] === 0 || (skip !== null && skip[id] === 1)) continue;
    const node = source.node(id);
    const inputs = node.inputs.map((i) => mapped[i]);
    const before = target.size;
    let result = rewrite?.(node, inputs, target, lookup);
    if (result === undefined)
      result = isLeafOp(node.op) ? copyLeaf(node, target) : copyOp(source, node, inputs, target);
    if (skip !== null && target.size === before) return null;
    mapped[id] = result;
    const bound = slice.bindings.get(id);
    if (bound !== undefined) bindings.set(result, bound);
  }
  return { graph: target, outputs: slice.outputs.map((id) => mapped[id]), bindings };
}

/** The slice without nodes no output needs (a rewrite leaves the nodes it bypassed behind); itself if none. */
export function dropDead(slice: Slice): Slice {
  const live = liveNodes(slice.graph, slice.outputs);
  if (live.every((flag) => flag === 1)) return slice;
  // The graph was built by interning, so a rebuild would keep every live node as it is: copy them instead.
  const { graph, mapped } = slice.graph.compacted(live);
  const bindings = new Map<number, number>();
  for (const [id, bound] of slice.bindings) if (mapped[id] >= 0) bindings.set(mapped[id], bound);
  return { graph, outputs: slice.outputs.map((id) => mapped[id]), bindings };
}

/**
 * What a rebuild gives when the only rewrites are: each node of `redirect` becomes the earlier node it maps to (of
 * its own type), each node of `constants` a new constant of its value and type that equals no other constant; the
 * nodes left dead dropped. A rebuild would then keep every other node as it is, unless a reader of a redirected node
 * now equals another node (it would merge them): null in that case, else the patched slice (one compaction) and
 * how many nodes the rebuild would have built before dropping the dead ones, and where each old node went. The slice
 * must be fully live.
 */
export function patchSlice(
  slice: Slice,
  redirect: ReadonlyMap<number, number>,
  constants?: ReadonlyMap<number, NDArray>,
): { slice: Slice; rebuiltSize: number; mapped: Int32Array } | null {
  const source = slice.graph;
  const redirected = new Uint8Array(source.size);
  for (const from of redirect.keys()) redirected[from] = 1;
  const folded = new Uint8Array(source.size);
  for (const id of constants?.keys() ?? []) folded[id] = 1;
  const final = (id: number): number => {
    let to = id;
    while (redirected[to] === 1) to = redirect.get(to) as number;
    return to;
  };
  // Readers of a redirected node, and readers of what it now is: equal ones would merge.
  const touched = new Uint8Array(source.size);
  for (const [from, to] of redirect) {
    touched[from] = 1;
    touched[final(to)] = 1;
  }
  const seen = new Set<string>();
  for (const node of source.nodes) {
    let reads = false;
    for (const input of node.inputs) if (touched[input] === 1) reads = true;
    if (!reads || redirected[node.id] === 1 || folded[node.id] === 1) continue;
    if (opRecord(node.op).stateful === true) continue;
    const inputs = node.inputs.map(final);
    const key = `${node.op}|${inputs.join(',')}|${canonicalJSON(node.attrs)}|${node.dtype}|${node.shape.join(',')}`;
    if (seen.has(key)) return null;
    seen.add(key);
  }
  const keep = new Uint8Array(source.size);
  for (const id of slice.outputs) keep[final(id)] = 1;
  for (let id = source.size - 1; id >= 0; id--) {
    if (keep[id] === 0 || folded[id] === 1) continue;
    for (const input of source.node(id).inputs) keep[final(input)] = 1;
  }
  const { graph, mapped } = source.compacted(keep, constants, redirect);
  const bindings = new Map<number, number>();
  for (const [id, bound] of slice.bindings) if (mapped[id] >= 0) bindings.set(mapped[id], bound);
  const outputs = slice.outputs.map((id) => mapped[id]);
  return { slice: { graph, outputs, bindings }, rebuiltSize: source.size - redirect.size, mapped };
}
