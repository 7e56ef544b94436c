/**
 * The arena: one WebAssembly.Memory that holds every buffer the wasm kernels touch, handed out by a bump allocator
 * (a memory planner assigns offsets once per plan; it never frees single buffers). Growing a WebAssembly.Memory
 * detaches its old ArrayBuffer, which leaves every typed-array loop in the V8 process slower afterwards (see
 * PERF-NOTES), so the arena is sized up front and grows only when an allocation does not fit.
 */
import { PAGE_BYTES, type WasmMemory } from './instance';

/** Offsets are aligned to a cache line, which also satisfies every SIMD load. */
export const ALIGN = 64;

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

export class WasmArena {
  /** First byte the allocator hands out; below it lie the module's static data and the kernels' scratch. */
  readonly base: number;
  private top: number;
  private f32View: Float32Array;
  private growths = 0;

  constructor(
    readonly memory: WasmMemory,
    base: number,
    private readonly maximumBytes: number,
  ) {
    this.base = alignUp(base);
    this.top = this.base;
    this.f32View = new Float32Array(memory.buffer);
  }

  /** Bytes the memory holds now. */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes handed out since the last reset. */
  get used(): number {
    return this.top - this.base;
  }

  /** How many times the memory grew: every growth invalidated the views taken before it. */
  get generation(): number {
    return this.growths;
  }

  /** Reserves `bytes` and returns their byte offset (64-byte aligned). May grow the memory, see `generation`. */
  alloc(bytes: number): number {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`WasmArena.alloc: invalid size ${bytes}`);
    const offset = this.top;
    const end = alignUp(offset + bytes);
    this.ensure(end);
    this.top = end;
    return offset;
  }

  /** Frees everything allocated so far. */
  reset(): void {
    this.top = this.base;
  }

  /** The allocation point, for `release`: a scope's temporaries are freed together, stack-like. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark()` returned `mark`. */
  release(mark: number): void {
    if (!(mark >= this.base && mark <= this.top)) throw new Error(`WasmArena.release: bad mark ${mark}`);
    this.top = mark;
  }

  /** Makes the memory at least `end` bytes long, growing it (rarely: each growth detaches the old buffer). */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maximumBytes) {
      throw new Error(`WasmArena: ${end} bytes needed, the arena's maximum is ${this.maximumBytes}`);
    }
    // At least double, so that a run of growing allocations detaches O(log n) times, not once per allocation.
    const target = Math.min(this.maximumBytes, Math.max(end, 2 * have));
    this.memory.grow(Math.ceil((target - have) / PAGE_BYTES));
    this.growths++;
  }

  /** A Float32Array over the whole memory, re-created after a growth (a stale view has length 0). */
  get heapF32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  /** A Float32Array over `length` floats at byte `offset`, sharing memory with the kernels until the next growth. */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }
}
