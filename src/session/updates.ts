/**
 * Training updates without a copy (wasm backend). An assign's value is computed into a planned buffer; writing it
 * into the variable's arena block after the run would copy every weight once per step. Instead, an assign whose
 * value buffer holds exactly the variable's bytes gets that buffer in an arena block of its own, and after a
 * successful run the variable and the plan exchange blocks: the variable's value is now the block the update was
 * written to, and the plan's buffer is the variable's old block, written again by the next step. No byte moves, and
 * a failed run changes nothing (the exchange happens only after every step succeeded).
 */
import { sizeOf } from '../graph';
import type { MemoryPlan } from './memory';
import type { Plan } from './plan';

/** An assign whose value buffer can be exchanged with its variable's block. */
export interface Exchange {
  /** The variable (user-graph id) the assign writes. */
  readonly variable: number;
  /** The planned buffer the value lives in (an index into the memory plan's buffers). */
  readonly buffer: number;
}

/**
 * The assigns of a plan whose value buffer has exactly the variable's size and dtype (a larger buffer, taken from
 * the free list, could not become the variable's block), each buffer used by one assign.
 */
export function exchangeable(plan: Plan, memory: MemoryPlan): Exchange[] {
  const found: Exchange[] = [];
  if (plan.assigns.length === 0) return found;
  const taken = new Set<number>();
  const stepOf = new Map<number, number>();
  plan.steps.forEach((step, index) => stepOf.set(step.output, index));
  for (const { variable, slot } of plan.assigns) {
    const index = stepOf.get(slot);
    if (index === undefined) continue;
    const buffer = memory.stepBuffer[index];
    if (buffer < 0 || taken.has(buffer)) continue;
    const step = plan.steps[index];
    const planned = memory.buffers[buffer];
    if (planned.dtype !== step.dtype || planned.capacity !== sizeOf(step.shape)) continue;
    // A control step's output in that buffer would need its views re-taken too: keep the copy there.
    if ([...memory.outputBuffers.values()].some((chosen) => chosen.includes(buffer))) continue;
    taken.add(buffer);
    found.push({ variable, buffer });
  }
  return found;
}
