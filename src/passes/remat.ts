/**
 * Rematerialization in the compiler: what a compiled graph recomputes (for `explain`), and the `unremat` pass that
 * turns recomputation off (the `remat: 'none'` option): each `recompute` barrier becomes its kept input, so CSE
 * merges the recomputed copies back into the forward nodes and the plan is the one without remat.
 */
import { Graph, sizeOf } from '../graph';
import { isLeafOp } from '../ops';
import { Pass } from './pass';
import { rebuild } from './slice';

/** `remat: 'none'`: barriers become their input (CSE, run next, merges the copies into the forward nodes). */
export const unremat: Pass = {
  name: 'unremat',
  run(slice) {
    let stripped = 0;
    for (const node of slice.graph.nodes) if (node.op === 'recompute') stripped++;
    if (stripped === 0) return { slice, changes: { stripped: 0 } };
    const result = rebuild(slice, (node, inputs) => (node.op === 'recompute' ? inputs[0] : undefined));
    return { slice: result, changes: { stripped } };
  },
};

/**
 * Which nodes of a compiled graph recompute forward values: the `recompute` barriers, and every node computed only
 * from barriers, other such nodes and variables or constants (with at least one of the first two). A gradient
 * node always reads some gradient, so it is never one of them; a fused group that took a recomputed node in with
 * gradient nodes is not counted (its recomputation costs no step of its own).
 */
export function recomputedNodes(graph: Graph): Uint8Array {
  const marked = new Uint8Array(graph.size);
  for (const node of graph.nodes) {
    if (node.op === 'recompute') {
      marked[node.id] = 1;
      continue;
    }
    if (isLeafOp(node.op) || node.inputs.length === 0) continue;
    let fromBarrier = false;
    let onlyForward = true;
    for (const input of node.inputs) {
      if (marked[input] === 1) fromBarrier = true;
      else {
        const op = graph.node(input).op;
        if (op !== 'variable' && op !== 'constant') onlyForward = false;
      }
    }
    if (fromBarrier && onlyForward) marked[node.id] = 1;
  }
  return marked;
}

/** Floating-point operations of one node, roughly: 2·M·N·K for a matMul, 2 per output per filter tap for a conv. */
export function nodeFlops(graph: Graph, id: number): number {
  const node = graph.node(id);
  const out = sizeOf(node.shape as number[]);
  const size = (k: number): number => sizeOf(graph.node(node.inputs[k]).shape as number[]);
  if (node.op === 'matMul' || node.op === 'fusedMatMul') {
    // out = M·N, a = M·K, b = K·N (a batch of b broadcast over a's is rare: counted as one).
    const k = Math.sqrt((size(0) * size(1)) / Math.max(out, 1));
    return 2 * out * Math.round(k);
  }
  if (node.op === 'conv2d' || node.op === 'fusedConv2d') {
    const filter = graph.node(node.inputs[1]).shape as number[];
    return 2 * out * (sizeOf(filter) / Math.max(filter[filter.length - 1], 1));
  }
  return out;
}

/** What a compiled graph recomputes: steps by op, their output bytes and FLOPs (barriers counted apart). */
export interface RematSummary {
  readonly steps: number;
  readonly barriers: number;
  readonly byOp: ReadonlyMap<string, number>;
  readonly bytes: number;
  readonly flops: number;
}

const BYTES: { readonly [dtype: string]: number } = { float32: 4, float64: 8, int32: 4, bool: 1 };

export function summarizeRemat(graph: Graph): RematSummary | null {
  const marked = recomputedNodes(graph);
  let steps = 0;
  let barriers = 0;
  let bytes = 0;
  let flops = 0;
  const byOp = new Map<string, number>();
  for (const node of graph.nodes) {
    if (marked[node.id] === 0) continue;
    if (node.op === 'recompute') {
      barriers++;
      continue;
    }
    steps++;
    byOp.set(node.op, (byOp.get(node.op) ?? 0) + 1);
    bytes += sizeOf(node.shape as number[]) * (BYTES[node.dtype] ?? 4);
    flops += nodeFlops(graph, node.id);
  }
  return barriers === 0 ? null : { steps, barriers, byOp, bytes, flops };
}
