import { Graph, optimize, Slice, Tensor } from '../../src';

/**
 * The slice a pass is given for `outputs` of `g`: the graph as `optimize` leaves it at `level` (0: only sliced),
 * with node 0 bound to the user's node 0 (`bound`, the default: a binding every pass must carry to the node it
 * becomes) or with no bindings. Shared by the tests that compare a pass's shortcut with its full path.
 */
export function sliceOf(
  g: Graph,
  outputs: readonly Tensor[],
  { level = 0, bound = true }: { level?: 0 | 1 | 2; bound?: boolean } = {},
): Slice {
  const { graph, outputs: ids } = optimize(g, outputs, { level });
  return { graph, outputs: ids.map((t) => t.id), bindings: new Map(bound ? [[0, 0]] : []) };
}
