import { Node, now } from '../graph';
import { buildAction, EpilogueAction, epilogueCounts, planEpilogue, rebuildEpilogue } from './epilogue';
import { elementwiseFusion, planFusion } from './fuse';
import { PartsPass, partsPass, passReport, PassReport } from './pass';
import { rebuildSkipping, Slice } from './slice';

/** How often `epilogueAndFusion` shared the rebuild, and how often it ran the passes one after the other (tests). */
export const lowerVisits = { together: 0, separately: 0 };

/**
 * `epilogue` then `elementwiseFusion(exclude)` in one rebuild, each with its own report (docs/compiler.md,
 * "Epilogue and fuse in one rebuild"); the two one after the other where the view fusion is planned on could differ.
 */
export function epilogueAndFusion(exclude: readonly string[] = []): PartsPass {
  const excluded = new Set(exclude);
  const fusion = elementwiseFusion(exclude);
  const separately = (slice: Slice, plan: ReturnType<typeof planEpilogue>, start: number) => {
    lowerVisits.separately++;
    const first = rebuildEpilogue(slice, plan, true);
    const reports = [passReport('epilogue', slice.graph.size, first.slice.graph.size, first.changes, start)];
    const fuseStart = now();
    const second = fusion.run(first.slice);
    reports.push(passReport('fuse', first.slice.graph.size, second.slice.graph.size, second.changes, fuseStart));
    return { slice: second.slice, reports };
  };
  const runParts = (slice: Slice): { slice: Slice; reports: PassReport[] } => {
    const start = now();
    const source = slice.graph;
    const plan = planEpilogue(slice);
    // What the epilogue's rebuild would count (visiting the live nodes it does not absorb, in order) and build.
    const changes = epilogueCounts();
    const nodes: Node[] = source.nodes.slice();
    const actions: (EpilogueAction | undefined)[] = new Array<EpilogueAction | undefined>(source.size);
    // Only the nodes the plan may give an action (the others have none), in the same (ascending) order.
    for (const id of plan.candidates) {
      if (plan.absorbed[id] === 1) continue;
      const node = nodes[id];
      const action = plan.actionOf(node, true);
      if (action === undefined) continue;
      if (action.kind !== 'fused') return separately(slice, plan, start);
      actions[id] = action;
      for (const rule of action.rules) changes[rule] = (changes[rule] ?? 0) + 1;
      // Every field written out (a spread is slower, and gives the object another shape than the graph's nodes).
      nodes[id] = {
        id: node.id,
        op: action.op,
        inputs: action.operands,
        attrs: action.attrs,
        dtype: node.dtype,
        shape: node.shape,
        name: node.name,
        value: node.value,
      };
    }
    if (Object.values(changes).every((n) => n === 0)) return separately(slice, plan, start);
    // The nodes of the epilogue's slice: what its outputs read; and each node's uses by them, for fusion.
    const present = new Uint8Array(source.size);
    const uses = new Int32Array(source.size);
    for (const id of slice.outputs) present[id] = 1;
    let epilogueSize = 0;
    for (let id = source.size - 1; id >= 0; id--) {
      if (present[id] === 0) continue;
      if (plan.absorbed[id] === 1) return separately(slice, plan, start);
      epilogueSize++;
      for (const input of nodes[id].inputs) {
        present[input] = 1;
        uses[input]++;
      }
    }
    const epilogueReport = passReport('epilogue', source.size, epilogueSize, changes, start);
    const fuseStart = now();
    const fusionPlan = planFusion({ nodes, present, uses }, slice.outputs, excluded);
    if (fusionPlan === null) return separately(slice, plan, start);
    const skip = new Uint8Array(source.size);
    for (let id = 0; id < source.size; id++) skip[id] = plan.absorbed[id] | fusionPlan.absorbed[id];
    let fused = 0;
    const fuseGroup = fusionPlan.rewriter((members) => {
      fused += members;
    });
    const lowered = rebuildSkipping(slice, skip, (node, inputs, target, mapped) => {
      const action = actions[node.id];
      const group = fuseGroup(node, inputs, target, mapped);
      return group ?? (action && buildAction(action, node, inputs, target, mapped));
    });
    if (lowered === null) return separately(slice, plan, start);
    lowerVisits.together++;
    const fuseChanges = { fused, groups: fusionPlan.groups.length };
    const fuseReport = passReport('fuse', epilogueSize, lowered.graph.size, fuseChanges, fuseStart);
    return { slice: lowered, reports: [epilogueReport, fuseReport] };
  };
  return partsPass('epilogue+fuse', runParts);
}
