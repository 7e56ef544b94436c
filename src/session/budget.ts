/**
 * The per-session memory cap (`new Session(g, { memoryLimit })`): what a plan needs while it runs and what the
 * session already holds, checked before a plan's first run allocates anything. Bytes are counted as the session
 * allocates them, on either backend: a plan's reused buffers (one block; its regions' blocks too), its results, the
 * wasm kernels' staging area it reserves, and the session's variables.
 */
import { formatByteSize, Graph, RuntimeError, sizeOf } from '../graph';
import { bytesOf, layoutBuffers } from './memory';
import type { Plan } from './plan';

/** What a plan takes while it runs, in bytes. */
export interface PlanNeed {
  /** Its reused buffers for intermediates (a block each for it and its regions' plans). */
  readonly planned: number;
  /** Fresh arrays for the results handed to the user. */
  readonly results: number;
  /** The wasm kernels' staging area the run reserves (0 on the JS backend). */
  readonly staging: number;
}

/** The bytes of `plan`'s reused buffers and those of its regions' plans. */
export function plannedBytes(plan: Plan, regions: readonly Plan[]): number {
  let bytes = 0;
  for (const p of [plan, ...regions]) if (p.memory !== null) bytes += layoutBuffers(p.memory).bytes;
  return bytes;
}

/** What a plan needs: its buffers, its results and `staging` (what its largest wasm step copies). */
export function planNeed(plan: Plan, regions: readonly Plan[], staging: number): PlanNeed {
  return { planned: plannedBytes(plan, regions), results: plan.memory?.outputBytes ?? 0, staging };
}

/** The bytes of the variables `ids` (their values' dtype and shape in the graph). */
export function variableBytes(graph: Graph, ids: Iterable<number>): number {
  let bytes = 0;
  for (const id of ids) {
    const node = graph.node(id);
    bytes += sizeOf(node.shape as number[]) * bytesOf(node.dtype);
  }
  return bytes;
}

/**
 * Throws a RuntimeError, naming the plan's need part by part and the cap, when `need` plus what the session holds
 * (`variables`, `cached`: other cached plans' buffers) exceeds `limit`.
 */
export function checkMemoryLimit(
  fetches: string,
  need: PlanNeed,
  variables: number,
  cached: number,
  limit: number,
): void {
  const total = need.planned + need.results + need.staging + variables + cached;
  if (total <= limit) return;
  const parts = [
    `reused buffers ${formatByteSize(need.planned)}`,
    `results ${formatByteSize(need.results)}`,
    ...(need.staging > 0 ? [`wasm staging ${formatByteSize(need.staging)}`] : []),
    `variables ${formatByteSize(variables)}`,
    ...(cached > 0 ? [`other cached plans ${formatByteSize(cached)}`] : []),
  ];
  throw new RuntimeError(
    `Session.run: the plan for ${fetches} needs ${formatByteSize(total)} (${parts.join(', ')}), above the ` +
      `session's memoryLimit of ${formatByteSize(limit)} (${limit} bytes); valid: a memoryLimit of at least ` +
      `${total} bytes, smaller fed shapes (batch), or fewer fetches`,
  );
}
