/**
 * A plan's constants in the wasm arena. A wasm kernel reads an argument in place only when it is a view of the arena;
 * any other is copied into the staging area for every call. A constant lives in the user's graph as a JS array, so
 * an imported model's weights (constants) were copied in on every run: a batch-1 dense layer 2048 × 2048 copied 16 MB
 * to multiply it once. Here a plan's float32 constants are copied into one arena block at its first run and read in
 * place afterwards: the "packed once" weights of issue 20, in the layout the skinny matMul kernels read (row-major,
 * as stored). The block belongs to the plan (freed with it: Session.dispose, eviction from the plan cache, or
 * collection), and counts in the arena's live bytes like the plan's buffers.
 *
 * A constant that is the B operand ([K, N], or [N, K] read transposed) of a matMul or fusedMatMul also gets a
 * packed copy, rows interleaved four at a time (WasmKernels.packRows4), made once in the same block: a one-row
 * product (batch 1) reads it, 1.2–1.8x faster than B itself and 1.6–4.9x faster than a stored Bᵀ
 * (assembly/skinny.ts). Constants never change, so the copy is never refreshed.
 */
import { NDArray, sizeOf } from '../graph';
import { alignUp, WasmKernels } from '../backend';
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
  /** For each placed constant that is a matMul's B: its [K, N] and its packed copy's offset in the block; else null. */
  private readonly packs: ({ K: number; N: number; transposed: boolean; offset: number } | null)[] = [];
  private readonly bytes: number;
  private block: ArenaBlock | null = null;
  /** False once allocation failed (a full arena): the constants then stay in JS memory. */
  private wanted: boolean;
  private viewsOf: ArrayBufferLike | null = null;

  constructor(private readonly plan: Plan) {
    this.values = plan.constants.map((id) => plan.graph.node(id).value as NDArray);
    const weights = matMulWeights(plan);
    let bytes = 0;
    this.values.forEach((value, k) => {
      if (value.dtype !== 'float32' || value.data.length < MIN_ELEMENTS) return;
      this.placed.push(k);
      this.offsets.push(bytes);
      bytes += alignUp(value.data.length * 4);
      const transposed = weights.get(plan.constants[k]);
      if (transposed !== undefined && value.shape.length === 2) {
        const [K, N] = transposed ? [value.shape[1], value.shape[0]] : value.shape;
        this.packs.push({ K, N, transposed, offset: bytes });
        bytes += alignUp(WasmKernels.packedBytes(K, N));
      } else this.packs.push(null);
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
      const pack = this.packs[i];
      if (pack !== null) {
        // B's element (k, j): row-major [K, N], or the stored [N, K] read as its transpose.
        const [rsB, csB] = pack.transposed ? [1, pack.K] : [pack.N, 1];
        const at = block.offset + this.offsets[i];
        placement.kernels.wasm.packRows4(at, rsB, csB, pack.K, pack.N, block.offset + pack.offset);
      }
    }
  }

  /** After every allocation of the run: the views, re-taken when the arena's memory moved. */
  settle(placement: ArenaPlacement): void {
    const block = this.block;
    if (block === null) return;
    const buffer = placement.arena.memory.buffer;
    if (this.viewsOf === buffer) return;
    for (let i = 0; i < this.placed.length; i++) {
      const k = this.placed[i];
      const shape = this.values[k].shape;
      const data = new Float32Array(buffer, block.offset + this.offsets[i], sizeOf(shape));
      placement.kernels.unpack(this.values[k].data);
      this.values[k] = new NDArray(data, shape, 'float32');
      const pack = this.packs[i];
      if (pack !== null) {
        placement.kernels.setPacked(data, block.offset + pack.offset, pack.K, pack.N, pack.transposed);
      }
    }
    this.viewsOf = buffer;
  }

  /** Gives the block back (the plan is dropped); the constants run from the graph's arrays again. */
  free(placement: ArenaPlacement | null): void {
    for (const k of this.placed) placement?.kernels.unpack(this.values[k].data);
    if (this.block !== null) placement?.free(this.block);
    this.block = null;
    this.viewsOf = null;
    this.placed.forEach((k) => (this.values[k] = this.plan.graph.node(this.plan.constants[k]).value as NDArray));
  }
}

/**
 * The constants a plan's steps multiply as B in a matMul or fusedMatMul, each with whether it is read transposed (a
 * constant multiplied both ways is packed for the first use).
 */
function matMulWeights(plan: Plan): Map<number, boolean> {
  const weights = new Map<number, boolean>();
  for (const step of plan.steps) {
    const op = step.node.op;
    if ((op === 'matMul' || op === 'fusedMatMul') && !weights.has(step.inputs[1])) {
      weights.set(step.inputs[1], step.node.attrs.transposeB === true);
    }
  }
  return weights;
}
