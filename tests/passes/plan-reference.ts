/**
 * The plan's lowering as it was before issue 20's fifth round (verbatim but for names and types), kept as the
 * reference the faster code in src/session must equal: the memory planner with a set of dying slots per step, the
 * release lists from a map, the staging bytes recomputed per use, a fresh frozen shape and a subarray per step.
 */
import { DType, Graph, NDArray, sizeOf, TypedArray } from '../../src';
import { alignUp } from '../../src/backend';
import { isControlOp, opRecord } from '../../src/ops';
import type { MemoryPlan, PlannedStep } from '../../src/session/memory';
import type { Plan } from '../../src/session/plan';

const BYTES: { readonly [dtype in DType]: number } = { float32: 4, float64: 8, int32: 4, bool: 1 };
const SMALL_SLACK = 16384;

export function referencePlanMemory(
  graph: Graph,
  steps: readonly PlannedStep[],
  outputs: readonly number[],
  resultsInBuffers = false,
): MemoryPlan {
  const fetched = new Set(resultsInBuffers ? [] : outputs);
  const bufferOfSlot = new Int32Array(graph.size).fill(-1);
  const stepBuffer = new Int32Array(steps.length).fill(-1);
  const buffers: { dtype: DType; capacity: number }[] = [];
  const refs: number[] = [];
  const freeByDType = new Map<DType, { capacities: number[]; queues: Map<number, { ids: number[]; head: number }> }>();
  const freeOf = (dtype: DType): { capacities: number[]; queues: Map<number, { ids: number[]; head: number }> } => {
    let entry = freeByDType.get(dtype);
    if (entry === undefined) {
      entry = { capacities: [], queues: new Map() };
      freeByDType.set(dtype, entry);
    }
    return entry;
  };
  const release = (b: number): void => {
    const { dtype, capacity } = buffers[b];
    const entry = freeOf(dtype);
    let queue = entry.queues.get(capacity);
    if (queue === undefined) {
      queue = { ids: [], head: 0 };
      entry.queues.set(capacity, queue);
      const at = lowerBound(entry.capacities, capacity);
      entry.capacities.splice(at, 0, capacity);
    }
    queue.ids.push(b);
  };
  let inPlace = 0;
  let intermediateBytes = 0;
  let outputBytes = 0;
  const outputBuffers = new Map<number, Int32Array>();
  const take = (dtype: DType, size: number): number => {
    let chosen = -1;
    const entry = freeOf(dtype);
    for (let k = lowerBound(entry.capacities, size); k < entry.capacities.length && chosen < 0; k++) {
      const capacity = entry.capacities[k];
      if (capacity > 2 * size && capacity - size > SMALL_SLACK) break;
      const queue = entry.queues.get(capacity) as { ids: number[]; head: number };
      if (queue.head < queue.ids.length) chosen = queue.ids[queue.head++];
      if (queue.head === queue.ids.length) {
        queue.ids.length = 0;
        queue.head = 0;
      }
    }
    if (chosen < 0) {
      chosen = buffers.push({ dtype, capacity: size }) - 1;
      refs.push(0);
    }
    refs[chosen] = 1;
    return chosen;
  };
  steps.forEach((step, index) => {
    const size = sizeOf(step.shape);
    const bytes = size * BYTES[step.dtype];
    const dying = new Set(step.release);
    if (isControlOp(step.op)) {
      const outs = step.outputs ?? [];
      const chosen = new Int32Array(outs.length).fill(-1);
      outs.forEach((out, k) => {
        const outBytes = sizeOf(out.shape) * BYTES[out.dtype];
        if (fetched.has(out.slot)) {
          outputBytes += outBytes;
          return;
        }
        intermediateBytes += outBytes;
        chosen[k] = take(out.dtype, sizeOf(out.shape));
        bufferOfSlot[out.slot] = chosen[k];
      });
      outputBuffers.set(index, chosen);
    } else if (step.writtenEarly === true) {
      // no buffer
    } else if (fetched.has(step.output)) {
      outputBytes += bytes;
    } else {
      intermediateBytes += bytes;
      let chosen = -1;
      if (step.op === 'assign') {
        const b = bufferOfSlot[step.inputs[1]];
        const value = graph.node(step.inputs[1]);
        if (b >= 0 && value.dtype === step.dtype && sizeOf(value.shape as number[]) === size) {
          chosen = b;
          refs[b]++;
        }
      }
      if (chosen < 0 && opRecord(step.op).inPlace === true) {
        for (const input of step.inputs) {
          const b = bufferOfSlot[input];
          const node = graph.node(input);
          if (
            b >= 0 &&
            refs[b] === 1 &&
            dying.has(input) &&
            node.dtype === step.dtype &&
            sizeOf(node.shape as number[]) === size
          ) {
            chosen = b;
            dying.delete(input);
            bufferOfSlot[input] = -1;
            inPlace++;
            break;
          }
        }
      }
      if (chosen < 0) chosen = take(step.dtype, size);
      bufferOfSlot[step.output] = chosen;
      stepBuffer[index] = chosen;
    }
    for (const slot of dying) {
      const b = bufferOfSlot[slot];
      if (b < 0) continue;
      bufferOfSlot[slot] = -1;
      if (--refs[b] === 0) release(b);
    }
  });
  const plannedBytes = buffers.reduce((sum, b) => sum + b.capacity * BYTES[b.dtype], 0);
  return { buffers, stepBuffer, inPlace, plannedBytes, intermediateBytes, outputBytes, outputBuffers };
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Each step's release list as buildPlan made it: a map from the last reader to the slots dying there. */
export function referenceReleases(plan: Plan): number[][] {
  const graph = plan.graph;
  const keep = new Uint8Array(graph.size);
  for (const id of plan.outputs) keep[id] = 1;
  const early = new Set(plan.assigns.filter((a) => a.early).map((a) => a.slot));
  // Sibling control-flow nodes read at their group's step: the step's node is the first sibling in plan order.
  const stepOfNode = new Int32Array(graph.size);
  for (let id = 0; id < graph.size; id++) stepOfNode[id] = id;
  for (const step of plan.steps) for (const slot of step.control?.slots ?? []) stepOfNode[slot] = step.output;
  const position = new Int32Array(graph.size);
  plan.order.forEach((id, p) => (position[id] = p));
  const lastUse = new Int32Array(graph.size).fill(-1);
  for (const node of graph.nodes) {
    const reader = stepOfNode[node.id];
    for (const input of node.inputs) {
      if (lastUse[input] < 0 || position[reader] > position[lastUse[input]]) lastUse[input] = reader;
    }
  }
  const releaseAt = new Map<number, number[]>();
  for (let id = 0; id < graph.size; id++) {
    const user = lastUse[id];
    const op = graph.node(id).op;
    const held = op === 'constant' || op === 'variable' || (op === 'assign' && !early.has(id));
    if (user >= 0 && keep[id] === 0 && !held) {
      const list = releaseAt.get(user);
      if (list === undefined) releaseAt.set(user, [id]);
      else list.push(id);
    }
  }
  return plan.steps.map((step) => releaseAt.get(step.node.id) ?? []);
}

export function referenceStagingBytes(plan: Plan, bound: ReadonlyMap<string, unknown>): number {
  const aligned = (id: number): number => {
    const node = plan.graph.node(id);
    return alignUp(sizeOf(node.shape as number[]) * BYTES[node.dtype]);
  };
  let most = 0;
  for (const step of plan.steps) {
    if (!bound.has(step.node.op)) continue;
    let need = aligned(step.output);
    for (const id of step.inputs) {
      need += step.node.op === 'fused' ? Math.max(aligned(id), aligned(step.output)) : aligned(id);
    }
    most = Math.max(most, need);
  }
  return most;
}

/** The step views as they were made: a subarray of the step's buffer per planned step. */
export function referenceStepViews(
  memory: MemoryPlan,
  steps: readonly PlannedStep[],
  arrays: readonly TypedArray[],
): (NDArray | null)[] {
  return steps.map((step, index) => {
    const b = memory.stepBuffer[index];
    if (b < 0) return null;
    return new NDArray(arrays[b].subarray(0, sizeOf(step.shape)), step.shape, step.dtype);
  });
}

/** What the memory planner read of a step, as a copy made per step. */
export function referencePlannedStep(step: Plan['steps'][number]): PlannedStep {
  const writtenEarly = step.early !== undefined && !step.early.fetched;
  return {
    output: step.output,
    inputs: step.inputs,
    release: step.release,
    shape: step.shape,
    dtype: step.dtype,
    op: step.node.op,
    outputs: step.control?.outputs,
    writtenEarly,
  };
}
