import { allocate, DType, Graph, NDArray, sizeOf, TypedArray } from '../graph';
import { isControlOp, opRecord } from '../ops';

const BYTES: { readonly [dtype in DType]: number } = { float32: 4, float64: 8, int32: 4, bool: 1 };
/** Elements a buffer may be larger than twice a value and still take it (small plans keep sharing buffers). */
const SMALL_SLACK = 16384;

/** What the memory planner decided, and what it saved. */
export interface MemoryPlan {
  /** Each planned buffer's dtype and capacity in elements; allocated once per plan, reused every run. */
  readonly buffers: readonly { readonly dtype: DType; readonly capacity: number }[];
  /** Per step: the buffer its output lives in, or -1 for a fresh array each run (results handed to the user). */
  readonly stepBuffer: Int32Array;
  /** Steps that write over an input that dies at that step. */
  readonly inPlace: number;
  /** Bytes of the planned buffers. */
  readonly plannedBytes: number;
  /** Bytes every intermediate would take with one array each (what planning saves against). */
  readonly intermediateBytes: number;
  /** Bytes allocated fresh per run for results returned to the user. */
  readonly outputBytes: number;
  /**
   * Per control-flow step (by step index): the buffer of each output it writes (-1: a fresh array, for a fetched
   * result), so a loop's stacks and final values live in planned memory like any step's output.
   */
  readonly outputBuffers: ReadonlyMap<number, Int32Array>;
}

export interface PlannedStep {
  readonly output: number;
  readonly inputs: readonly number[];
  readonly release: readonly number[];
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly op: string;
  /** A control-flow step writes several slots (its sibling nodes' outputs), each with its own shape. */
  readonly outputs?: readonly { readonly slot: number; readonly shape: readonly number[]; readonly dtype: DType }[];
  /** An assign written into its variable at its step and not fetched (inplace.ts): its output takes no buffer. */
  readonly writtenEarly?: boolean;
}

/**
 * An op may write over an input when each output element depends only on the same element of its full-shape
 * inputs (read before written): a fact of its record (the elementwise ops and the fused groups built from them).
 */
function runsInPlace(op: string): boolean {
  return opRecord(op).inPlace === true;
}

/**
 * Buffer lifetimes over the step list: a step's output takes the smallest free buffer of its dtype that fits,
 * or the buffer of a same-size input dying at this step when the op can run in place; buffers return to the
 * free list after the last reader of every value they hold. An `assign`'s output is its new value itself (the
 * value's buffer, held to the end of the run, when the session writes it to the variable): no copy, no buffer. An
 * assign written at its step (inplace.ts) holds nothing: its value's buffer is free once the assign has run.
 * Fetched results get fresh arrays, so what a user holds is never overwritten by a later step or run, unless
 * `resultsInBuffers` (a run with `{ copy: false }`): then they get buffers too (never released, so no later step of
 * the run reuses them), and the session hands out views valid until its next run (views.ts).
 */
export function planMemory(
  graph: Graph,
  steps: readonly PlannedStep[],
  outputs: readonly number[],
  resultsInBuffers = false,
): MemoryPlan {
  // Results in buffers (a run with { copy: false }): fetched values are planned like intermediates that live to the
  // end of the run, and handed out as views of their buffers.
  const fetched = new Set(resultsInBuffers ? [] : outputs);
  const bufferOfSlot = new Int32Array(graph.size).fill(-1);
  const stepBuffer = new Int32Array(steps.length).fill(-1);
  const buffers: { dtype: DType; capacity: number }[] = [];
  // How many live values each buffer holds (an assign's output shares its value's buffer).
  const refs: number[] = [];
  // The free buffers, by dtype and capacity: the capacities in ascending order, and for each one its free buffers
  // in the order they were freed (a queue). Best fit is then the first non-empty queue at or above the size, its
  // oldest buffer: the choice a scan of one free list in release order made, without the scan (a deep gradient
  // graph frees thousands of buffers).
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
  /** The smallest free buffer of the dtype that holds `size` elements, or a new one; it then holds one value. */
  const take = (dtype: DType, size: number): number => {
    let chosen = -1;
    const entry = freeOf(dtype);
    for (let k = lowerBound(entry.capacities, size); k < entry.capacities.length && chosen < 0; k++) {
      const capacity = entry.capacities[k];
      // A small value never takes a buffer over twice its size (a new small buffer costs less than pinning the big
      // one, e.g. a bias gradient held to the end of a training step in an activation's buffer). Capacities are
      // ascending, so no later queue fits either.
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
  // The slots dying at the current step (its release list), marked rather than copied into a set per step: an in-place
  // output takes over one of them (unmarked), the others' buffers are released in release order.
  const dying = new Uint8Array(graph.size);
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index];
    const size = sizeOf(step.shape);
    const bytes = size * BYTES[step.dtype];
    const dies = step.release;
    for (let k = 0; k < dies.length; k++) dying[dies[k]] = 1;
    if (isControlOp(step.op)) {
      // Each output the construct writes gets a buffer (its regions' plans have memory plans of their own).
      const outputs = step.outputs ?? [];
      const chosen = new Int32Array(outputs.length).fill(-1);
      outputs.forEach((out, k) => {
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
      // Written into the variable at this step: its output is the variable's value, not a planned buffer.
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
      if (chosen < 0 && runsInPlace(step.op)) {
        for (const input of step.inputs) {
          const b = bufferOfSlot[input];
          if (b < 0 || refs[b] !== 1 || dying[input] === 0) continue;
          const node = graph.node(input);
          if (node.dtype === step.dtype && sizeOf(node.shape as number[]) === size) {
            chosen = b;
            dying[input] = 0;
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
    for (let k = 0; k < dies.length; k++) {
      const slot = dies[k];
      if (dying[slot] === 0) continue;
      dying[slot] = 0;
      const b = bufferOfSlot[slot];
      if (b < 0) continue;
      bufferOfSlot[slot] = -1;
      if (--refs[b] === 0) release(b);
    }
  }
  const plannedBytes = buffers.reduce((sum, b) => sum + b.capacity * BYTES[b.dtype], 0);
  return { buffers, stepBuffer, inPlace, plannedBytes, intermediateBytes, outputBytes, outputBuffers };
}

/** The first index of a sorted array whose value is at least `value` (its length if none). */
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

/** The arrays of a memory plan, allocated once: one typed array per buffer and one view per planned step. */
export function allocateViews(
  memory: MemoryPlan,
  steps: readonly PlannedStep[],
): { views: (NDArray | null)[]; outputs: OutputViews } {
  const arrays = memory.buffers.map((b) => allocate(b.dtype, b.capacity));
  return { views: stepViews(memory, steps, arrays), outputs: outputViewsOf(memory, steps, arrays) };
}

/**
 * One view per planned step: the first elements of its buffer in the step's shape (the buffer's own array when the
 * value fills it, as most do: no subarray to make).
 */
function stepViews(
  memory: MemoryPlan,
  steps: readonly PlannedStep[],
  arrays: readonly TypedArray[],
): (NDArray | null)[] {
  const views = new Array<NDArray | null>(steps.length);
  for (let index = 0; index < steps.length; index++) {
    const b = memory.stepBuffer[index];
    if (b < 0) {
      views[index] = null;
      continue;
    }
    const step = steps[index];
    const array = arrays[b];
    const size = sizeOf(step.shape);
    views[index] = new NDArray(size === array.length ? array : array.subarray(0, size), step.shape, step.dtype);
  }
  return views;
}

/** Per control-flow step (by step index): a view for each output that has a planned buffer (null: a fresh array). */
export type OutputViews = ReadonlyMap<number, readonly (NDArray | null)[]>;

function outputViewsOf(memory: MemoryPlan, steps: readonly PlannedStep[], arrays: readonly TypedArray[]): OutputViews {
  const views = new Map<number, (NDArray | null)[]>();
  for (const [index, chosen] of memory.outputBuffers) {
    const outputs = steps[index].outputs ?? [];
    views.set(
      index,
      outputs.map((out, k) => {
        const b = chosen[k];
        return b < 0 ? null : new NDArray(arrays[b].subarray(0, sizeOf(out.shape)), out.shape, out.dtype);
      }),
    );
  }
  return views;
}

/** Buffers of a memory plan laid out in one block of memory: each buffer's byte offset in it (64-byte aligned). */
export interface BufferLayout {
  readonly offsets: readonly number[];
  readonly bytes: number;
}

const LAYOUT_ALIGN = 64;

/**
 * The planner's offsets for its buffers inside one block (the block a session takes from the wasm arena); the
 * buffers in `apart` (each in a block of its own: see updates.ts) get offset -1 and take no room.
 */
export function layoutBuffers(memory: MemoryPlan, apart?: ReadonlySet<number>): BufferLayout {
  const offsets: number[] = [];
  let bytes = 0;
  memory.buffers.forEach((b, i) => {
    if (apart?.has(i) === true) {
      offsets.push(-1);
      return;
    }
    offsets.push(bytes);
    bytes += Math.ceil((b.capacity * BYTES[b.dtype]) / LAYOUT_ALIGN) * LAYOUT_ALIGN;
  });
  return { offsets, bytes };
}

/** A typed array of `dtype` over `length` elements of `buffer` at byte `offset` (no copy). */
export function typedView(dtype: DType, buffer: ArrayBufferLike, offset: number, length: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, offset, length);
    case 'float64':
      return new Float64Array(buffer, offset, length);
    case 'int32':
      return new Int32Array(buffer, offset, length);
    case 'bool':
      return new Uint8Array(buffer, offset, length);
  }
}

/** The step views of a memory plan whose buffers live in `buffer` at `base` + the layout's offsets. */
export function viewsIn(
  memory: MemoryPlan,
  steps: readonly PlannedStep[],
  layout: BufferLayout,
  buffer: ArrayBufferLike,
  base: number,
): { views: (NDArray | null)[]; outputs: OutputViews } {
  const arrays = memory.buffers.map((b, i) => typedView(b.dtype, buffer, base + layout.offsets[i], b.capacity));
  return { views: stepViews(memory, steps, arrays), outputs: outputViewsOf(memory, steps, arrays) };
}

/** Bytes per element of each dtype. */
export function bytesOf(dtype: DType): number {
  return BYTES[dtype];
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}
