/**
 * A plan's constants in the wasm arena. A wasm kernel reads an argument in place only when it is a view of the arena;
 * any other is copied into the staging area for every call. A constant lives in the user's graph as a JS array, so
 * an imported model's weights (constants) were copied in on every run: a batch-1 dense layer 2048 × 2048 copied 16 MB
 * to multiply it once. Here a plan's float32 constants are copied into one arena block at its first run and read in
 * place afterwards: the "packed once" weights of issue 20, in the layout the skinny matMul kernels read (row-major,
 * as stored). The block belongs to the plan (freed with it: Session.dispose, eviction from the plan cache, or
 * collection), and counts in the arena's live bytes like the plan's buffers.
 */
import { NDArray, sizeOf } from '../graph';
import { alignUp } from '../backend';
import type { ArenaBlock, ArenaPlacement } from './placement';
import type { Plan } from './plan';

/** Below this many elements a constant stays where it is: its staging copy is cheaper than a block's upkeep. */
const MIN_ELEMENTS = 64;

export class PlacedConstants {
  /** The value each of `plan.constants` runs with: an arena view (placed ones) or the graph's own array. */
  readonly values: NDArray[];
  /** Indices into `plan.constants` of the placed constants, and each one's offset in the block. */
  private readonly placed: number[] = [];
  private readonly offsets: number[] = [];
  private readonly bytes: number;
  private block: ArenaBlock | null = null;
  /** False once allocation failed (a full arena): the constants then stay in JS memory. */
  private wanted: boolean;
  private viewsOf: ArrayBufferLike | null = null;

  constructor(private readonly plan: Plan) {
    this.values = plan.constants.map((id) => plan.graph.node(id).value as NDArray);
    let bytes = 0;
    this.values.forEach((value, k) => {
      if (value.dtype !== 'float32' || value.data.length < MIN_ELEMENTS) return;
      this.placed.push(k);
      this.offsets.push(bytes);
      bytes += alignUp(value.data.length * 4);
    });
    this.bytes = bytes;
    this.wanted = bytes > 0;
  }

  /** Bytes of arena the placed constants take (0 before their first run or when none qualifies). */
  get placedBytes(): number {
    return this.block === null ? 0 : this.bytes;
  }

  /**
   * Before a run, with the other allocations that may grow the arena: the block, filled on first use. `owner` is
   * what frees it when collected (the plan's run state).
   */
  reserve(placement: ArenaPlacement, owner: object): void {
    if (!this.wanted || this.block !== null) return;
    const block = placement.allocate(this.bytes, owner);
    if (block === null) {
      this.wanted = false;
      return;
    }
    this.block = block;
    const heap = new Float32Array(placement.arena.memory.buffer);
    for (let i = 0; i < this.placed.length; i++) {
      const value = this.plan.graph.node(this.plan.constants[this.placed[i]]).value as NDArray;
      heap.set(value.data, (block.offset + this.offsets[i]) >> 2);
    }
  }

  /** After every allocation of the run: the views, re-taken when the arena's memory moved. */
  settle(placement: ArenaPlacement): void {
    const block = this.block;
    const buffer = placement.arena.memory.buffer;
    if (block === null || this.viewsOf === buffer) return;
    for (let i = 0; i < this.placed.length; i++) {
      const k = this.placed[i];
      const shape = this.values[k].shape;
      const data = new Float32Array(buffer, block.offset + this.offsets[i], sizeOf(shape));
      this.values[k] = new NDArray(data, shape, 'float32');
    }
    this.viewsOf = buffer;
  }

  /** Gives the block back (the plan is dropped); the constants run from the graph's arrays again. */
  free(placement: ArenaPlacement | null): void {
    if (this.block !== null) placement?.free(this.block);
    this.block = null;
    this.viewsOf = null;
    this.placed.forEach((k) => (this.values[k] = this.plan.graph.node(this.plan.constants[k]).value as NDArray));
  }
}
