import { now } from '../graph';
import { actionNode, EpilogueAction, rebuildEpilogue, buildAction, epilogueCounts, planEpilogue } from './epilogue';
import { elementwiseFusion, planFusion } from './fuse';
import { Pass, PassReport } from './pass';
import { rebuildSkipping, Rewriter, Slice } from './slice';

/**
 * `epilogue` then elementwise fusion (`elementwiseFusion(exclude)`) in one rebuild: both reports, each what its
 * pass alone gives (the same slice, node counts and changes; `epilogue`'s time is its planning, the shared rebuild
 * is `fuse`'s). Fusion is planned on a view of the slice the epilogue would give (by the source's ids: the nodes it
 * rewrites replaced by what they become, the nodes it absorbs left out), then one rebuild of the source carries both
 * passes' rewrites and skips what either absorbs, so the lowered graph is copied once instead of twice.
 *
 * Where that view could differ from the epilogue's slice, the two passes run one after the other: when the epilogue
 * moves a relu mask (a rewritten `reluGrad` could merge with a node fusion absorbs) or gives a fused op already in the
 * slice its activation, when nothing fuses, and when a node of the one rebuild merges with another (then one of the
 * two rebuilds would have merged too, and taken its full path).
 */
/** How often `epilogueAndFusion` shared the rebuild, and how often it ran the passes one after the other (for tests). */
export const lowerVisits = { together: 0, separately: 0 };

export function epilogueAndFusion(exclude: readonly string[] = []): Pass & {
  runParts(slice: Slice): { slice: Slice; reports: PassReport[] };
} {
  const excluded = new Set(exclude);
  const fusion = elementwiseFusion(exclude);
  const report = (pass: string, before: Slice, after: Slice, changes: PassReport['changes'], start: number) => ({
    pass,
    nodesBefore: before.graph.size,
    nodesAfter: after.graph.size,
    changes,
    timeMs: now() - start,
  });
  // The two passes one after the other, the epilogue's plan already made (at `start`).
  const separately = (slice: Slice, plan: ReturnType<typeof planEpilogue>, start: number) => {
    lowerVisits.separately++;
    const first = rebuildEpilogue(slice, plan, true);
    const epilogueReport = report('epilogue', slice, first.slice, first.changes, start);
    const fuseStart = now();
    const second = fusion.run(first.slice);
    return {
      slice: second.slice,
      reports: [epilogueReport, report('fuse', first.slice, second.slice, second.changes, fuseStart)],
    };
  };
  const runParts = (slice: Slice): { slice: Slice; reports: PassReport[] } => {
    const start = now();
    const source = slice.graph;
    const plan = planEpilogue(slice);
    // What the epilogue's rebuild would count (it visits the live nodes it does not absorb, in order) and give.
    const changes = epilogueCounts();
    const nodes = source.nodes.slice();
    const actions: (EpilogueAction | undefined)[] = new Array<EpilogueAction | undefined>(source.size);
    let viewable = true;
    for (let id = 0; id < source.size; id++) {
      if (plan.live[id] === 0 || plan.absorbed[id] === 1) continue;
      const action = plan.actionOf(nodes[id], true);
      if (action === undefined) continue;
      if (action.kind !== 'fused') viewable = false;
      actions[id] = action;
      for (const rule of action.rules) changes[rule] = (changes[rule] ?? 0) + 1;
      nodes[id] = actionNode(action, nodes[id]);
    }
    const total = Object.values(changes).reduce((a, b) => a + b, 0);
    if (total === 0 || !viewable) return separately(slice, plan, start);
    // The nodes of the epilogue's slice: what its outputs read (its rebuild drops the rest).
    const present = new Uint8Array(source.size);
    for (const id of slice.outputs) present[id] = 1;
    let epilogueSize = 0;
    for (let id = source.size - 1; id >= 0; id--) {
      if (present[id] === 0) continue;
      if (plan.absorbed[id] === 1) return separately(slice, plan, start);
      epilogueSize++;
      for (const input of nodes[id].inputs) present[input] = 1;
    }
    const epilogueMs = now() - start;
    const fuseStart = now();
    const fusionPlan = planFusion({ nodes, present }, slice.outputs, excluded);
    if (fusionPlan === null) return separately(slice, plan, start);
    const skip = new Uint8Array(source.size);
    for (let id = 0; id < source.size; id++) skip[id] = plan.absorbed[id] | fusionPlan.absorbed[id];
    let fused = 0;
    const fuseGroup = fusionPlan.rewriter((members) => {
      fused += members;
    });
    const rewrite: Rewriter = (node, inputs, target, mapped) => {
      const group = fuseGroup(node, inputs, target, mapped);
      if (group !== undefined) return group;
      const action = actions[node.id];
      return action === undefined ? undefined : buildAction(action, node, inputs, target, mapped);
    };
    const lowered = rebuildSkipping(slice, skip, rewrite);
    if (lowered === null) return separately(slice, plan, start);
    const epilogueReport: PassReport = {
      pass: 'epilogue',
      nodesBefore: source.size,
      nodesAfter: epilogueSize,
      changes,
      timeMs: epilogueMs,
    };
    const fuseReport: PassReport = {
      pass: 'fuse',
      nodesBefore: epilogueSize,
      nodesAfter: lowered.graph.size,
      changes: { fused, groups: fusionPlan.groups.length },
      timeMs: now() - fuseStart,
    };
    lowerVisits.together++;
    return { slice: lowered, reports: [epilogueReport, fuseReport] };
  };
  return {
    name: 'epilogue+fuse',
    run(slice) {
      const { slice: lowered, reports } = runParts(slice);
      const changes: { [rule: string]: number } = {};
      for (const r of reports) for (const [rule, n] of Object.entries(r.changes)) changes[`${r.pass}:${rule}`] = n;
      return { slice: lowered, changes };
    },
    runParts,
  };
}
