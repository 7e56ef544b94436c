/**
 * The arena: one WebAssembly.Memory that holds every buffer the wasm kernels touch: a session's planned buffers (one
 * block per plan, laid out by the memory planner), its variables, and the kernels' staging area. A best-fit
 * allocator over few, long-lived blocks, free neighbours merged. Growing a WebAssembly.Memory
 * detaches its old ArrayBuffer, which leaves every typed-array loop in the V8 process slower afterwards (see
 * PERF-NOTES), so the arena is sized up front and grows only when an allocation does not fit.
 *
 * A WebAssembly.Memory never shrinks, so an arena with no live block can `releaseMemory`: the owner
 * (WasmKernels) drops it with its instances, and the next use installs a new one from `renew` (docs/wasm.md, Memory).
 */
import { PAGE_BYTES, type WasmMemory } from './instance';

/** Offsets are aligned to a cache line, which also satisfies every SIMD load. */
export const ALIGN = 64;

/** `n` rounded up to a multiple of ALIGN. */
export function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

export class WasmArena {
  /** First byte the allocator hands out; below it lie the module's static data and the kernels' scratch. */
  readonly base: number;
  /** End of the highest block ever handed out and not given back: everything above is free. */
  private top: number;
  /** Live blocks: offset → size in bytes (aligned) and allocation number (for `release`). */
  private readonly live = new Map<number, { size: number; seq: number }>();
  private seq = 0;
  /** Free holes below `top`, sorted by offset, neighbours merged. */
  private readonly holes: { offset: number; size: number }[] = [];
  private liveBytes = 0;
  private f32View: Float32Array;
  private growths = 0;
  /** The memory now; null once released (the next use installs a new one). */
  private current: WasmMemory | null;
  private replaced = 0;
  private readonly listeners = new Set<(memory: WasmMemory) => void>();

  /**
   * `renew` makes the memory that replaces a released one (the owner re-instantiates its modules over it); without
   * it the arena cannot release its memory.
   */
  constructor(
    memory: WasmMemory,
    base: number,
    private readonly maximumBytes: number,
    private readonly renew: (() => WasmMemory) | null = null,
  ) {
    this.base = alignUp(base);
    this.top = this.base;
    this.current = memory;
    this.f32View = new Float32Array(memory.buffer);
  }

  /** The memory the kernels use: a new one is made here if the last one was released (see `releaseMemory`). */
  get memory(): WasmMemory {
    return this.current ?? this.revive();
  }

  /** Whether the memory is released (no memory held until the next allocation or kernel call). */
  get released(): boolean {
    return this.current === null;
  }

  /** Bytes the memory holds now (0 while released). */
  get capacity(): number {
    return this.current === null ? 0 : this.current.buffer.byteLength;
  }

  /** Live blocks. */
  get blocks(): number {
    return this.live.size;
  }

  /**
   * How many times the memory was replaced by a new one after a `releaseMemory`. Whatever was instantiated over the old
   * memory (another module importing it, a view, an offset) is stale once this changes: `onReplace` tells when.
   */
  get replacements(): number {
    return this.replaced;
  }

  /**
   * Calls `listener(memory)` every time a new memory replaces a released one (after the kernels' own module was
   * instantiated over it), e.g. to instantiate another module that imports the arena's memory. Returns the way to
   * stop listening.
   */
  onReplace(listener: (memory: WasmMemory) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Drops the memory when no block is live: the last reference the arena holds goes (the engine frees it once
   * nothing else refers to it, at a garbage collection). False, and nothing changes, while any block is live or the
   * arena cannot make a new memory.
   */
  releaseMemory(): boolean {
    if (this.live.size > 0 || this.renew === null || this.current === null) return this.current === null;
    this.current = null;
    this.holes.length = 0;
    this.top = this.base;
    this.f32View = new Float32Array(0);
    return true;
  }

  private revive(): WasmMemory {
    if (this.renew === null) throw new Error('WasmArena: the memory was released and cannot be renewed');
    const memory = this.renew();
    this.current = memory;
    this.replaced++;
    this.f32View = new Float32Array(memory.buffer);
    this.ensure(this.base);
    for (const listener of this.listeners) listener(memory);
    return memory;
  }

  /** Bytes in live blocks (each rounded up to the alignment). */
  get used(): number {
    return this.liveBytes;
  }

  /** How many times the memory grew: every growth invalidated the views of an ordinary memory taken before it. */
  get generation(): number {
    return this.growths;
  }

  /** Whether `data` is a view of this arena's memory as it is now (a view taken before a growth is not). */
  holds(data: { readonly buffer: ArrayBufferLike }): boolean {
    return this.current !== null && data.buffer === this.current.buffer;
  }

  /**
   * Reserves `bytes` and returns their byte offset (64-byte aligned): the smallest free hole that fits (the lowest
   * of equal ones), else above everything. A freed block is thus reused before the memory grows, and a small block
   * does not split the large hole a large one left. May grow the memory (see `generation`), or make a new one if it
   * was released; throws when the arena's maximum would be exceeded.
   */
  alloc(bytes: number): number {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`WasmArena.alloc: invalid size ${bytes}`);
    const size = Math.max(ALIGN, alignUp(bytes));
    if (this.current === null) this.revive();
    let best = -1;
    for (let i = 0; i < this.holes.length; i++) {
      const hole = this.holes[i];
      if (hole.size >= size && (best < 0 || hole.size < this.holes[best].size)) best = i;
    }
    let offset = -1;
    if (best >= 0) {
      const hole = this.holes[best];
      offset = hole.offset;
      if (hole.size === size) this.holes.splice(best, 1);
      else {
        hole.offset += size;
        hole.size -= size;
      }
    }
    if (offset < 0) {
      this.ensure(this.top + size);
      offset = this.top;
      this.top += size;
    }
    this.live.set(offset, { size, seq: ++this.seq });
    this.liveBytes += size;
    return offset;
  }

  /** Gives back a block `alloc` returned; freeing anything else throws. */
  free(offset: number): void {
    const size = this.live.get(offset)?.size;
    if (size === undefined) throw new Error(`WasmArena.free: no live block at ${offset}`);
    this.live.delete(offset);
    this.liveBytes -= size;
    const holes = this.holes;
    let i = 0;
    while (i < holes.length && holes[i].offset < offset) i++;
    holes.splice(i, 0, { offset, size });
    // Merge with the next hole, then with the previous one.
    if (i + 1 < holes.length && holes[i].offset + holes[i].size === holes[i + 1].offset) {
      holes[i].size += holes[i + 1].size;
      holes.splice(i + 1, 1);
    }
    if (i > 0 && holes[i - 1].offset + holes[i - 1].size === holes[i].offset) {
      holes[i - 1].size += holes[i].size;
      holes.splice(i, 1);
      i--;
    }
    // A hole that reaches the top is just space above everything.
    if (holes[i].offset + holes[i].size === this.top) {
      this.top = holes[i].offset;
      holes.splice(i, 1);
    }
  }

  /** Frees every block. */
  reset(): void {
    this.live.clear();
    this.holes.length = 0;
    this.liveBytes = 0;
    this.top = this.base;
  }

  /** A point to `release` to: a scope's temporaries are freed together. */
  mark(): number {
    return this.seq;
  }

  /** Frees every block allocated after `mark()` returned `mark` (and not freed since). */
  release(mark: number): void {
    if (!(Number.isInteger(mark) && mark >= 0 && mark <= this.seq))
      throw new Error(`WasmArena.release: bad mark ${mark}`);
    const after: number[] = [];
    for (const [offset, block] of this.live) if (block.seq > mark) after.push(offset);
    for (const offset of after) this.free(offset);
  }

  /** Makes the memory at least `end` bytes long, growing it (rarely: each growth detaches the old buffer). */
  ensure(end: number): void {
    const memory = this.memory;
    const have = memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maximumBytes) {
      throw new Error(`WasmArena: ${end} bytes needed, the arena's maximum is ${this.maximumBytes}`);
    }
    // At least double, so that a run of growing allocations detaches O(log n) times, not once per allocation.
    const target = Math.min(this.maximumBytes, Math.max(end, 2 * have));
    memory.grow(Math.ceil((target - have) / PAGE_BYTES));
    this.growths++;
  }

  /** A Float32Array over the whole memory, re-created after a growth (a stale view has length 0). */
  get heapF32(): Float32Array {
    const buffer = this.memory.buffer;
    if (this.f32View.buffer !== buffer) this.f32View = new Float32Array(buffer);
    return this.f32View;
  }

  /** A Float32Array over `length` floats at byte `offset`, sharing memory with the kernels until the next growth. */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }
}
