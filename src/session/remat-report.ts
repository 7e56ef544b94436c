/**
 * The `remat:` lines of `explain`: what the plan recomputes (steps by op, bytes, FLOPs) and what that saves, against
 * the same graph compiled with remat turned off (`remat: 'none'`: the barriers go and CSE merges the copies back).
 */
import { OptimizeOptions, summarizeRemat } from '../passes';
import { formatBytes } from './memory';
import { Plan } from './plan';

/** The options with recomputation turned off (the plan to compare against). */
export function withoutRemat(options: OptimizeOptions): OptimizeOptions {
  return { ...options, remat: 'none' };
}

function formatFlops(flops: number): string {
  if (flops >= 1e9) return `${(flops / 1e9).toFixed(2)} GFLOP`;
  if (flops >= 1e6) return `${(flops / 1e6).toFixed(2)} MFLOP`;
  return `${Math.round(flops)} FLOP`;
}

/**
 * '' when the plan recomputes nothing; else two lines: what it recomputes, and the planned memory with and without
 * (`baseline` compiles the comparison plan only when there is something to compare).
 */
export function rematLines(plan: Plan, baseline: () => Plan): string {
  const summary = summarizeRemat(plan.graph);
  if (summary === null) return '';
  const ops = [...summary.byOp.entries()].map(([op, n]) => `${n} ${op}`).join(', ');
  const lines = [
    `remat: ${summary.steps} steps recompute forward values (${ops || 'none'}) from ${summary.barriers} kept ` +
      `values: ${formatBytes(summary.bytes)} recomputed, +${formatFlops(summary.flops)}`,
  ];
  const without = baseline().memory;
  if (plan.memory !== null && without !== null) {
    const saved = without.plannedBytes - plan.memory.plannedBytes;
    lines.push(
      `remat: planned memory ${formatBytes(plan.memory.plannedBytes)} against ${formatBytes(without.plannedBytes)} ` +
        `without it (${saved >= 0 ? `${formatBytes(saved)} saved` : `${formatBytes(-saved)} more`})`,
    );
  }
  return `\n${lines.join('\n')}`;
}
