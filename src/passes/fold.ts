import { allocate } from '../graph/dtype';
import { Node } from '../graph/graph';
import { NDArray } from '../graph/ndarray';
import { isFullyKnown, shapesEqual, sizeOf } from '../graph/shape';
import { foldNode } from '../ops/evaluate';
import { opRecord } from '../ops/registry';
import { Pass } from './pass';
import { dropDead, liveNodes, patchSlice, rebuild, Slice } from './slice';

/**
 * Results larger than this many elements are not folded, so a huge constant is not materialized twice; the cap is
 * checked before the kernel allocates, so folding never allocates more than this per node (512 KiB in float64).
 */
export const FOLD_SIZE_LIMIT = 1 << 16;

/**
 * Constant folding: a stateless node whose inputs are all constants is evaluated once at compile time and
 * becomes a constant; so does a node whose value depends only on input shapes that are known, and one whose inputs
 * are constants but for inputs read only for their known shape (`shapeOnlyInputs`: broadcastLike(1, like)).
 */
export function constantFolding(sizeLimit = FOLD_SIZE_LIMIT): Pass {
  return {
    name: 'fold',
    // Folding cascades within its one ascending sweep; a node left unfolded (its kernel failed) fails again.
    idempotent: true,
    run(slice) {
      const source = slice.graph;
      // Folding cascades within one ascending sweep, so a slice with no candidate needs no rebuild at all.
      const nodeOf = (id: number): Node => source.node(id);
      if (!source.nodes.some((node) => canFold(node, nodeOf, sizeLimit))) {
        return { slice, changes: { folded: 0, removed: 0 } };
      }
      const inPlace = foldInPlace(slice, sizeLimit);
      if (inPlace !== null) return inPlace;
      let folded = 0;
      const result = rebuild(slice, (node: Node, inputs, target, mapped) => {
        if (!canFold(node, (id) => target.node(mapped(id)), sizeLimit)) return undefined;
        const sources = inputs.map((id) => target.node(id));
        // canFold checked the kernel and that the shape is known; a shape-only input is read for its shape alone.
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

/** Whether `node` folds, its inputs being `sourceOf(id)` (no array per node: a sweep over every node asks). */
function canFold(node: Node, sourceOf: (id: number) => Node, sizeLimit: number): boolean {
  if (node.inputs.length === 0) return false;
  const record = opRecord(node.op);
  if (record.stateful === true || record.foldable === false || record.kernel === undefined) return false;
  if (!isFullyKnown(node.shape) || sizeOf(node.shape) > sizeLimit) return false;
  for (let k = 0; k < node.inputs.length; k++) {
    const input = sourceOf(node.inputs[k]);
    const shapeOnly = record.shapeOnly === true || record.shapeOnlyInputs?.includes(k) === true;
    if (shapeOnly ? !isFullyKnown(input.shape) : input.op !== 'constant') return false;
  }
  return true;
}

/** Interned constants (what `Graph.constant` merges) have at most this many elements (graph.ts). */
const INTERNED_CONSTANT_SIZE = 64;

/**
 * Folding without a rebuild, for a fully live slice (hash-consed, as every slice is). Folds in one ascending sweep,
 * cascading, exactly as the rebuild does; a folded value equal to an earlier constant is that constant (as the
 * rebuild's interning merges them), and a later constant equal to a folded value is the folded one. Then the rebuild would keep every other node as it is unless a reader of a
 * merged constant now equals another node, and the result is one compaction (`patchSlice`). Null when the shortcut
 * does not apply (such readers, a value that is no constant): the rebuild runs.
 */
function foldInPlace(slice: Slice, sizeLimit: number): { slice: Slice; changes: { [rule: string]: number } } | null {
  const source = slice.graph;
  const live = liveNodes(source, slice.outputs);
  for (let id = 0; id < source.size; id++) if (live[id] === 0) return null;
  // The interned constants by value: a key that only errs towards equal (−0 prints as 0), then an exact comparison.
  const keyOf = (value: NDArray): string =>
    `${value.dtype}|${value.shape.join(',')}|${Array.from(value.data).join(',')}`;
  const interned = new Map<string, Node>();
  for (const node of source.nodes) {
    const value = node.value;
    if (node.op !== 'constant' || value === undefined || value.size > INTERNED_CONSTANT_SIZE) continue;
    const key = keyOf(value);
    if (!interned.has(key)) interned.set(key, node);
  }
  const folded = new Map<number, NDArray>();
  let merged = 0;
  const redirect = new Map<number, number>();
  const constantOf = new Map<number, Node>();
  const current = (id: number): Node => constantOf.get(id) ?? source.node(id);
  for (const node of source.nodes) {
    if (!canFold(node, current, sizeLimit)) continue;
    const sources = node.inputs.map(current);
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
    if (value.size <= INTERNED_CONSTANT_SIZE) {
      const key = keyOf(value);
      const equal = interned.get(key);
      if (equal !== undefined) {
        if (!sameElements(equal.value as NDArray, value)) return null;
        if (equal.id < node.id) {
          redirect.set(node.id, equal.id);
          constantOf.set(node.id, equal);
          merged++;
          continue;
        }
        // A later constant of this value: the rebuild builds this one first and merges that one into it.
        redirect.set(equal.id, node.id);
      }
    }
    const constant: Node = { ...node, op: 'constant', inputs: [], attrs: {}, shape: [...value.shape], value };
    folded.set(node.id, value);
    constantOf.set(node.id, constant);
    if (value.size <= INTERNED_CONSTANT_SIZE) interned.set(keyOf(value), constant);
  }
  if (folded.size === 0 && redirect.size === 0) return { slice, changes: { folded: 0, removed: 0 } };
  const patched = patchSlice(slice, redirect, folded);
  if (patched === null) return null;
  return {
    slice: patched.slice,
    changes: { folded: folded.size + merged, removed: patched.rebuiltSize - patched.slice.graph.size },
  };
}

/** Constant values equal as interning has it: element by element, −0 not 0, NaN equal to NaN. */
function sameElements(a: NDArray, b: NDArray): boolean {
  if (a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}
