/**
 * Rematerialization in the compiler: what a compiled graph recomputes (for `explain`); the `unremat` pass that
 * turns recomputation off (the `remat: 'none'` option): each `recompute` barrier becomes its kept input, so CSE
 * merges the recomputed copies back into the forward nodes and the plan is the one without remat; and the
 * `remat` pass (`remat: 'auto'`), which duplicates cheap values live across the plan's peak.
 */
import { Graph, Node, sizeOf } from '../graph';
import { addOp, isLeafOp, OP_FAMILIES, opRecord } from '../ops';
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

/** How many cheap nodes a value recomputed by the remat pass may be recomputed through (its own included: +1). */
const MAX_CHAIN = 4;

/** Cheap to recompute: elementwise ops (those with a fusion template), fused groups of them, and movement ops. */
function isCheap(node: Node): boolean {
  if (node.op === 'fused') return true;
  const record = opRecord(node.op);
  if (record.stateful === true || record.kernel === undefined) return false;
  if (record.template !== undefined) return true;
  return (OP_FAMILIES.movement ?? []).some((r) => r.name === node.op);
}

/**
 * `remat: 'auto'`, the last pass of the pipeline (after fusion, so nothing merges the copies back): given the
 * plan's liveness (steps run in id order; a value lives from its step to its last reader), it finds the step where
 * the most bytes are live and, for each cheap value live across it whose inputs are still live (or leaves) where
 * it is read again, gives the readers after the peak a copy computed just before the first of them. The value then
 * dies before the peak. A copy is a node of its own (added without interning), so the plan runs it where it stands.
 */
export const rematPass: Pass = {
  name: 'remat',
  run(slice) {
    const graph = slice.graph;
    const n = graph.size;
    const isOutput = new Uint8Array(n);
    for (const id of slice.outputs) isOutput[id] = 1;
    const lastUse = new Int32Array(n).fill(-1);
    for (const node of graph.nodes) for (const input of node.inputs) lastUse[input] = Math.max(lastUse[input], node.id);
    // Live bytes at each step: a difference array over [id, lastUse] of every planned (non-leaf, non-fetched) value.
    const delta = new Float64Array(n + 1);
    const bytesOf = (node: Node): number => sizeOf(node.shape as number[]) * (BYTES[node.dtype] ?? 4);
    for (const node of graph.nodes) {
      if (isLeafOp(node.op) || isOutput[node.id] === 1 || lastUse[node.id] < 0) continue;
      delta[node.id] += bytesOf(node);
      delta[lastUse[node.id] + 1] -= bytesOf(node);
    }
    let peak = -1;
    let peakBytes = 0;
    for (let id = 0, live = 0; id < n; id++) {
      live += delta[id];
      if (live > peakBytes) {
        peakBytes = live;
        peak = id;
      }
    }
    // The first reader after the peak of each candidate: its copy is made just before it.
    const firstLate = new Int32Array(n).fill(-1);
    for (const node of graph.nodes) {
      if (node.id <= peak) continue;
      for (const input of node.inputs) {
        if (input < peak && lastUse[input] > peak && firstLate[input] < 0) firstLate[input] = node.id;
      }
    }
    // A candidate is recomputed from values still live at its first late reader (or leaves), through at most
    // MAX_CHAIN cheap nodes of its own (sin(k·x): the product k·x died long before).
    const chosen = new Uint8Array(n);
    const inChain = new Uint8Array(n);
    for (let id = 0; id < peak; id++) {
      if (firstLate[id] < 0 || isOutput[id] === 1) continue;
      const node = graph.node(id);
      if (isLeafOp(node.op) || !isCheap(node)) continue;
      const at = firstLate[id];
      const chain = new Set<number>([id]);
      const stack: [number, number][] = [[id, 0]];
      let ok = true;
      while (ok && stack.length > 0) {
        const [top, depth] = stack.pop() as [number, number];
        for (const input of graph.node(top).inputs) {
          const source = graph.node(input);
          if (isLeafOp(source.op) || lastUse[input] >= at || chain.has(input)) continue;
          if (depth + 1 > MAX_CHAIN || !isCheap(source) || isOutput[input] === 1) {
            ok = false;
            break;
          }
          chain.add(input);
          stack.push([input, depth + 1]);
        }
      }
      if (!ok) continue;
      chosen[id] = 1;
      for (const member of chain) inChain[member] = 1;
    }
    if (!chosen.includes(1)) return { slice, changes: { recomputed: 0 } };
    const copies = new Map<number, number>();
    /** The copy of a chosen value (and of the chain it is recomputed through), made now: just before its reader. */
    const copyOf = (id: number, target: Graph, mapped: (id: number) => number): number => {
      const stack = [id];
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        if (copies.has(top)) {
          stack.pop();
          continue;
        }
        const original = graph.node(top);
        const missing = original.inputs.filter((i) => inChain[i] === 1 && !copies.has(i));
        if (missing.length > 0) {
          stack.push(...missing);
          continue;
        }
        stack.pop();
        // Not interned: an equal node exists (the original), and the copy must be a step of its own here.
        const copy = target.addNode({
          op: original.op,
          inputs: original.inputs.map((i) => copies.get(i) ?? mapped(i)),
          attrs: original.attrs,
          dtype: original.dtype,
          shape: original.shape,
          name: `remat/${original.name}`,
          stateful: true,
        }).id;
        copies.set(top, copy);
      }
      return copies.get(id) as number;
    };
    const result = rebuild(slice, (node, inputs, target, mapped) => {
      if (node.id <= peak || !node.inputs.some((i) => chosen[i] === 1)) return undefined;
      const remapped = node.inputs.map((input, k) => (chosen[input] === 1 ? copyOf(input, target, mapped) : inputs[k]));
      return addOp(target, opRecord(node.op), remapped, node.attrs, node.name).id;
    });
    const count = copies.size;
    return { slice: result, changes: { recomputed: count } };
  },
};
