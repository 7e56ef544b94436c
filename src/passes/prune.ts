import { Pass } from './pass';
import { liveNodes, rebuild } from './slice';

/** Keeps only what the outputs need (a session's slice already stops at fed tensors). */
export const prune: Pass = {
  name: 'prune',
  idempotent: true,
  run(slice) {
    const live = liveNodes(slice.graph, slice.outputs);
    let removed = 0;
    for (const flag of live) if (flag === 0) removed++;
    if (removed === 0) return { slice, changes: { removed: 0 } };
    return { slice: rebuild(slice), changes: { removed } };
  },
};
