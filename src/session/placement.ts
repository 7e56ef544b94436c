import { DType, NDArray, sizeOf } from '../graph';
import { alignUp, WasmArena, WasmBufKernels } from '../backend';
import { bytesOf, typedView } from './memory';
import type { Plan } from './plan';

/** A block of the wasm arena owned by a plan or a session's variable: freed once, explicitly or after its owner. */
export interface ArenaBlock {
  readonly offset: number;
  readonly bytes: number;
  freed: boolean;
}

interface Held {
  readonly kernels: WasmBufKernels;
  readonly block: ArenaBlock;
}

function release({ kernels, block }: Held): void {
  if (block.freed) return;
  block.freed = true;
  try {
    kernels.wasm.arena.free(block.offset);
  } catch {
    // The arena was reset under us (only tests do that); nothing is left to give back.
  }
}

/**
 * Blocks whose owner (a plan's run state, a session) was collected without freeing them go back to the arena; once
 * the last one is back, the arena's memory is released at the next turn of the event loop.
 */
const orphans = new FinalizationRegistry<Held>((held) => {
  release(held);
  held.kernels.releaseWhenIdle();
});

/**
 * Where a wasm-backed session keeps its memory: blocks of the kernels' arena, so JS kernels and wasm kernels read and
 * write the same buffers. Growing the arena's memory detaches the views of an ordinary memory, so views are taken
 * from offsets and re-taken when `current` says the memory moved (`arena.holds` is false for a stale view).
 */
export class ArenaPlacement {
  readonly arena: WasmArena;

  constructor(readonly kernels: WasmBufKernels) {
    this.arena = kernels.wasm.arena;
  }

  /** A block of `bytes` owned by `owner` (freed when it is collected), or null when the arena cannot hold it. */
  allocate(bytes: number, owner: object): ArenaBlock | null {
    let offset: number;
    try {
      offset = this.arena.alloc(bytes);
    } catch {
      return null;
    }
    const block: ArenaBlock = { offset, bytes, freed: false };
    orphans.register(owner, { kernels: this.kernels, block }, block);
    return block;
  }

  /** Gives a block back; the arena's memory goes at the next turn of the event loop if it was the last one. */
  free(block: ArenaBlock): void {
    if (block.freed) return;
    orphans.unregister(block);
    release({ kernels: this.kernels, block });
    this.kernels.releaseWhenIdle();
  }

  /** Makes `owner` the block's owner (its collection frees the block): a block that moved to a variable or a plan. */
  transfer(block: ArenaBlock, owner: object): void {
    if (block.freed) return;
    orphans.unregister(block);
    orphans.register(owner, { kernels: this.kernels, block }, block);
  }

  /** Gives the arena's memory back now if no block is live (WasmBufKernels.releaseMemory); true if it went. */
  releaseMemory(): boolean {
    return this.kernels.releaseMemory();
  }

  /** Whether a typed array is a current view of the arena. */
  holds(data: { readonly buffer: ArrayBufferLike }): boolean {
    return this.arena.holds(data);
  }

  /** An NDArray over a block (no copy). */
  view(block: ArenaBlock, shape: readonly number[], dtype: DType): NDArray {
    return new NDArray(typedView(dtype, this.arena.memory.buffer, block.offset, sizeOf(shape)), shape, dtype);
  }

  /** Bytes a value of this shape and dtype takes. */
  static bytes(shape: readonly number[], dtype: DType): number {
    return sizeOf(shape) * bytesOf(dtype);
  }
}

/**
 * The most bytes one wasm-bound step of a plan (an op among `bound`) could need copied into the staging area: every
 * argument, 64-byte aligned; a fused group's broadcast inputs are expanded to the output's size.
 */
export function stagingBytes(plan: Plan, bound: ReadonlyMap<string, unknown>): number {
  // Each slot's aligned bytes, computed once (a slot is read by several steps); -1: not yet.
  const bytes = new Float64Array(plan.graph.size).fill(-1);
  const aligned = (id: number): number => {
    let b = bytes[id];
    if (b < 0) {
      const node = plan.graph.node(id);
      b = alignUp(sizeOf(node.shape as number[]) * bytesOf(node.dtype));
      bytes[id] = b;
    }
    return b;
  };
  let most = 0;
  for (const step of plan.steps) {
    const op = step.node.op;
    if (!bound.has(op)) continue;
    const output = aligned(step.output);
    let need = output;
    const inputs = step.inputs;
    for (let k = 0; k < inputs.length; k++) {
      const input = aligned(inputs[k]);
      need += op === 'fused' ? Math.max(input, output) : input;
    }
    most = Math.max(most, need);
  }
  return most;
}
