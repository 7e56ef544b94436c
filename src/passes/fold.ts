import { allocate, isFullyKnown, NDArray, Node, sizeOf } from '../graph';
import { foldNode, opRecord } from '../ops';
import { Pass } from './pass';
import { dropDead, rebuild } from './slice';

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
