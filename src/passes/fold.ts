import { allocate, isFullyKnown, NDArray, Node, shapesEqual, sizeOf } from '../graph';
import { foldNode, opRecord } from '../ops';
import { Pass } from './pass';
import { dropDead, liveNodes, rebuild, Slice } from './slice';

/**
 * Results larger than this many elements are not folded, so a huge constant is not materialized twice; the cap is
 * checked before the kernel allocates, so folding never allocates more than this per node (512 KiB in float64).
 */
export const FOLD_SIZE_LIMIT = 1 << 16;

/**
 * Constant folding: a stateless node whose inputs are all constants is evaluated once at compile time and
 * becomes a constant; so does a node whose value depends only on input shapes that are known.
 */
export function constantFolding(sizeLimit = FOLD_SIZE_LIMIT): Pass {
  return {
    name: 'fold',
    run(slice) {
      const source = slice.graph;
      // Folding cascades within one ascending sweep, so a slice with no candidate needs no rebuild at all.
      if (
        !source.nodes.some((node) =>
          canFold(
            node,
            node.inputs.map((id) => source.node(id)),
            sizeLimit,
          ),
        )
      ) {
        return { slice, changes: { folded: 0, removed: 0 } };
      }
      const inPlace = foldInPlace(slice, sizeLimit);
      if (inPlace !== null) return inPlace;
      let folded = 0;
      const result = rebuild(slice, (node: Node, inputs, target) => {
        const sources = inputs.map((id) => target.node(id));
        if (!canFold(node, sources, sizeLimit)) return undefined;
        // canFold checked the kernel and that the shape is known; a shape-only op reads only its inputs' shapes.
        const buffers = sources.map((s) => s.value ?? { data: allocate(s.dtype, 0), shape: s.shape as number[] });
        let out: NDArray;
        try {
          out = foldNode(node, buffers);
        } catch {
          // As grappler does: a node whose kernel fails on its constant inputs is left for the run to report
          // (a RuntimeError naming the node), or for a run that never needs it not to report at all.
          return undefined;
        }
        folded++;
        return target.constant(out, node.dtype, node.name).id;
      });
      if (folded === 0) return { slice, changes: { folded, removed: 0 } };
      // The inputs of folded nodes are dead now: drop them here so the report shows the real size.
      const pruned = dropDead(result);
      return { slice: pruned, changes: { folded, removed: result.graph.size - pruned.graph.size } };
    },
  };
}

function canFold(node: Node, sources: readonly Node[], sizeLimit: number): boolean {
  if (sources.length === 0) return false;
  const record = opRecord(node.op);
  if (record.stateful === true || record.foldable === false || record.kernel === undefined) return false;
  const foldable =
    record.shapeOnly === true ? sources.every((s) => isFullyKnown(s.shape)) : sources.every((s) => s.op === 'constant');
  return foldable && isFullyKnown(node.shape) && sizeOf(node.shape) <= sizeLimit;
}

/** Interned constants (what `Graph.constant` merges) have at most this many elements (graph.ts). */
const INTERNED_CONSTANT_SIZE = 64;

/**
 * Folding without a rebuild, for the usual case: a fully live, hash-consed slice where no folded constant equals
 * another constant. Then the rebuild would keep every other node as it is (the folded node's readers read a constant
 * of the node's own type that no other node reads, so nothing re-infers or merges), and the result is the slice
 * with the folded nodes made constants and their dead inputs dropped: one compaction (`Graph.compacted`). Folds in
 * one ascending sweep, cascading, exactly as the rebuild does; null when the shortcut does not apply (the rebuild
 * then runs).
 */
function foldInPlace(slice: Slice, sizeLimit: number): { slice: Slice; changes: { [rule: string]: number } } | null {
  const source = slice.graph;
  const live = liveNodes(source, slice.outputs);
  for (let id = 0; id < source.size; id++) if (live[id] === 0) return null;
  const folded = new Map<number, NDArray>();
  const constantOf = new Map<number, Node>();
  const current = (id: number): Node => constantOf.get(id) ?? source.node(id);
  for (const node of source.nodes) {
    if (node.inputs.length === 0) continue;
    const sources = node.inputs.map(current);
    if (!canFold(node, sources, sizeLimit)) continue;
    const buffers = sources.map((s) => s.value ?? { data: allocate(s.dtype, 0), shape: s.shape as number[] });
    let out: NDArray;
    try {
      out = foldNode(node, buffers);
    } catch {
      continue; // left for the run to report, as the rebuild does
    }
    let value: NDArray;
    try {
      value = NDArray.from(out, node.dtype); // what Graph.constant stores
    } catch {
      return null; // the rebuild reports it
    }
    if (value.dtype !== node.dtype || !shapesEqual(value.shape, node.shape)) return null;
    folded.set(node.id, value);
    constantOf.set(node.id, { ...node, op: 'constant', inputs: [], attrs: {}, shape: [...value.shape], value });
  }
  if (folded.size === 0) return { slice, changes: { folded: 0, removed: 0 } };
  // No folded constant may equal another interned constant (the rebuild would merge them): compared by a key that
  // only errs towards equal (−0 prints as 0), in which case the rebuild decides.
  const keys = new Set<string>();
  const keyOf = (value: NDArray): string =>
    `${value.dtype}|${value.shape.join(',')}|${Array.from(value.data).join(',')}`;
  for (const node of source.nodes) {
    if (node.op === 'constant' && node.value !== undefined && node.value.size <= INTERNED_CONSTANT_SIZE)
      keys.add(keyOf(node.value));
  }
  for (const value of folded.values()) {
    if (value.size > INTERNED_CONSTANT_SIZE) continue;
    const key = keyOf(value);
    if (keys.has(key)) return null;
    keys.add(key);
  }
  // What stays live once the folded nodes read nothing.
  const keep = new Uint8Array(source.size);
  for (const id of slice.outputs) keep[id] = 1;
  for (let id = source.size - 1; id >= 0; id--) {
    if (keep[id] === 0 || folded.has(id)) continue;
    for (const input of source.node(id).inputs) keep[input] = 1;
  }
  const { graph, mapped } = source.compacted(keep, folded);
  const bindings = new Map<number, number>();
  for (const [id, bound] of slice.bindings) if (mapped[id] >= 0) bindings.set(mapped[id], bound);
  const outputs = slice.outputs.map((id) => mapped[id]);
  return {
    slice: { graph, outputs, bindings },
    changes: { folded: folded.size, removed: source.size - graph.size },
  };
}
