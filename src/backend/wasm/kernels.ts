/**
 * The wasm kernels over arena offsets: what a session whose buffers live in the arena calls, with no copies. Every
 * offset is a byte offset into `arena.memory` (as returned by `arena.alloc`), every buffer is dense float32.
 */
import { alignUp, WasmArena } from './arena';
import { CONTROL_BYTES, WasmHelper, type StartWorker } from './helper';
import {
  PAGE_BYTES,
  compileAsync,
  compileSync,
  createMemory,
  instantiate,
  sharedMemorySupported,
  wasmSupported,
  type KernelExports,
  type ModuleKind,
  type WasmMemory,
  webAssembly,
} from './instance';
import type { FusedActivation } from '../../ops';
import {
  ACT_CODES,
  BIN_CODES,
  CONV_GEOM_BYTES,
  FUSED_MAX_INPUTS,
  FUSED_WORDS,
  GEOM_C,
  GEOM_DH,
  GEOM_DW,
  GEOM_EXTRA,
  GEOM_FH,
  GEOM_FW,
  GEOM_IN_H,
  GEOM_IN_W,
  GEOM_LEFT,
  GEOM_N,
  GEOM_OUT_H,
  GEOM_OUT_W,
  GEOM_SH,
  GEOM_SW,
  GEOM_TOP,
  GEOM_WORDS,
  MR,
  NR,
  OP_FILL_LITERAL,
  OP_FILL_ROW,
  OP_FILL_SCALAR,
  PACKED_CHUNK,
  SKINNY_M,
  UN_CODES,
} from './opcodes.generated';
import { FUSED_MAX_INSTRUCTIONS } from './program';
import { jitModule, type JitModule } from './jit/cache';
import { JIT_EXPORT, JIT_SCRATCH_BYTES } from './jit/compile';
import { chooseModuleKind, SHARED_MAXIMUM_PAGES } from './variants';

/** The ops of the binary and unary kernels: the names of assembly/elementwise.ts's BIN_* and UN_* codes. */
export type WasmBinaryOp = keyof typeof BIN_CODES;
export type WasmUnaryOp = keyof typeof UN_CODES;

/**
 * The epilogue activations of the matMul and conv kernels: fusedMatMul's (the op's own type) plus `tanhFast`, tanh
 * as ONNX Runtime computes it (the session option `fastTanh`); the names of assembly/vmath.ts's ACT_* codes.
 */
export type WasmActivation = keyof typeof ACT_CODES;
/** The codes by name; fails to compile if one of fusedMatMul's activations has no code in assembly/vmath.ts. */
const ACTIVATION = ACT_CODES satisfies Readonly<Record<FusedActivation, number>>;

export interface WasmKernelOptions {
  /** Bytes of memory reserved up front (default 64 MiB); pages are only committed by the OS when touched. */
  initialBytes?: number;
  /** The most the arena may grow to (default 2 GiB). */
  maximumBytes?: number;
  /**
   * 2 splits large kernels with a helper worker over shared memory (needs `startWorker`); where shared memory is
   * unavailable (a browser page without cross-origin isolation) the kernels run on one thread. Default 1.
   */
  threads?: 1 | 2;
  /** Starts the helper worker; see StartWorker and docs/wasm.md. */
  startWorker?: StartWorker;
  /**
   * 'relaxed' uses the fused multiply-add build (~1.4x matMul), 'baseline' the plain SIMD one; 'auto' (default)
   * picks relaxed where the engine validates it.
   */
  simd?: 'auto' | 'relaxed' | 'baseline';
}

const MiB = 1 << 20;
// Below these sizes a job hand-off (~1 µs polling, tens of µs after the helper sleeps) costs more than it saves.
const SPLIT_FLOPS = 1 << 21;
const SPLIT_ELEMENTS = 1 << 15;
// The skinny kernels read B once and are bound by that read: two threads pay from this many bytes of B. A batch-1
// model runs once per input frame, so its helper is asleep at each call and waking it costs tens of µs (hundreds on
// a loaded machine): at 1 MiB (the wake-word 'timer' model, a 512 × 512 layer) two threads measured 4–7× slower.
const SPLIT_SKINNY_BYTES = 4 * MiB;
// MR x NR is assembly/matmul.ts's tile: split points on tile bounds keep both halves' tiles full.

/** The exports the helper worker may run. */
const HELPER_EXPORTS = [
  'matmul',
  'skinny',
  'skinnyPacked',
  'unary',
  'binary',
  'binaryRow',
  'reluGrad',
  'softmax',
  'logSoftmax',
  'fusedRun',
  // Windowed NHWC kernels (pooling, depthwise conv).
  'maxPool',
  'avgPool',
  'maxPoolGradGrad',
  'maxPoolGrad',
  'avgPoolGrad',
  'dwConv2d',
  'dwConv2dInput',
  'dwConv2dFilter',
  // The broadcast of trailing dims (fused.ts).
  'tileRow',
  // The conv GEMMs (assembly/conv.ts).
  'convGemm',
  'convFilterGemm',
  'convCol2im',
];
// The fused interpreter's program and input table, read by both threads (a kernel call is synchronous, so one
// area serves every call).
const FUSED_PROGRAM_BYTES = FUSED_MAX_INSTRUCTIONS * FUSED_WORDS * 4;
const FUSED_TABLE_BYTES = FUSED_MAX_INPUTS * 4;
// The geometry block of the windowed kernels (pooling, depthwise conv), read by both threads.
const GEOMETRY_BYTES = GEOM_WORDS * 4;

/**
 * The geometry of a windowed NHWC kernel (pooling, depthwise convolution): input [n, inH, inW, channels], output
 * [n, outH, outW, ·], a filterH × filterW window with strides, dilations and top/left padding (the output sizes and
 * padding already resolved, as the JS kernels resolve them).
 */
export interface WindowGeometry {
  readonly n: number;
  readonly inH: number;
  readonly inW: number;
  readonly channels: number;
  readonly outH: number;
  readonly outW: number;
  readonly filterH: number;
  readonly filterW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly top: number;
  readonly left: number;
}

/** The windowed kernels' exports (the helper may run each). */
type WindowExport =
  | 'maxPool'
  | 'avgPool'
  | 'maxPoolGradGrad'
  | 'maxPoolGrad'
  | 'avgPoolGrad'
  | 'dwConv2d'
  | 'dwConv2dInput'
  | 'dwConv2dFilter';
/** A scatter kernel's arguments for batches [b0, b1) and channels [c0, c1). */
type ScatterArgs = (b0: number, b1: number, c0: number, c1: number) => number[];

/** Waits a few milliseconds (the build's type environment declares no timers, so the global is looked up). */
function sleep(ms: number): Promise<void> {
  const timers = globalThis as unknown as { setTimeout: (callback: () => void, ms: number) => unknown };
  return new Promise((resolve) => timers.setTimeout(resolve, ms));
}

/** A split point of n at about half, rounded up to a multiple of `step` (so n - split may be 0). */
function half(n: number, step: number): number {
  return Math.min(n, Math.ceil(n / 2 / step) * step);
}

function checkCount(what: string, ...counts: number[]): void {
  for (const n of counts) {
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`${what}: sizes must be non-negative integers, got ${n}`);
  }
}

/** 1 + the highest input index a program reads: through an operand (−1 − k) or a scalar FILL (k in word 2). */
function fusedInputCount(program: Int32Array): number {
  let count = 0;
  for (let i = 0; i < program.length; i += FUSED_WORDS) {
    if (program[i] === OP_FILL_SCALAR || program[i] === OP_FILL_ROW) count = Math.max(count, program[i + 2] + 1);
    else if (program[i] !== OP_FILL_LITERAL)
      for (let w = 2; w < FUSED_WORDS; w++) count = Math.max(count, -program[i + w]);
  }
  return count;
}

// Instances kept per kernels (one per group structure seen); past this many they are dropped and made again on use.
const MAX_JIT_INSTANCES = 1024;

/** A jitted group instantiated over one memory: its function, and its slot in the helper worker. */
interface JitInstance {
  readonly module: JitModule;
  readonly run: (table: number, out: number, start: number, end: number, scratch: number) => void;
  readonly slot: number;
  /**
   * The helper worker that has instantiated it (null: none yet). A released memory that is taken back keeps its
   * instances here, but its helper is a new worker that has loaded nothing.
   */
  onHelper: WasmHelper | null;
  /** How many inputs the program reads. */
  readonly inputs: number;
}

function instantiateJit(module: object, memory: WasmMemory): JitInstance['run'] | null {
  const api = webAssembly();
  if (api === undefined) return null;
  try {
    const run = new api.Instance(module, { env: { memory } }).exports[JIT_EXPORT];
    return typeof run === 'function' ? (run as JitInstance['run']) : null;
  } catch {
    return null;
  }
}

export class WasmKernels {
  readonly arena: WasmArena;
  private readonly scratch: number;
  private readonly helperScratch: number;
  /** The helper worker, started or starting; `helper` is it once it runs jobs. */
  private helperHandle: WasmHelper | null;
  private readonly fusedProgramAt: number;
  private readonly fusedTableAt: number;
  /** The program now in the fused program area (copied again only when another one runs). */
  private fusedLoaded: Int32Array | null = null;
  /** How many inputs that program reads (1 + its highest input index). */
  private fusedInputs = 0;
  private heapI32 = new Int32Array(0);
  private readonly geometryAt: number;
  private readonly scratchBytes: number;
  /** The conv kernels' geometry block: the tail of the calling thread's scratch, read by both threads. */
  private readonly convGeometryAt: number;
  /** Jitted groups instantiated over `jitMemory`, by program (see jit/): re-made when the memory is replaced. */
  private jitMemory: WasmMemory | null = null;
  private jitByProgram = new WeakMap<Int32Array, JitInstance | null>();
  private jitByKey = new Map<string, JitInstance>();
  private jitSlots = 0;
  /** Calls of jitted groups: on this thread, and halves run by the helper worker. */
  readonly jitStats = { runs: 0, helperRuns: 0, instances: 0, helperLoads: 0, interpreted: 0 };

  /** The kernel module's exports over the current memory; null while the arena's memory is released. */
  private exports: KernelExports | null;
  /** Starts a helper over each memory (null: one thread, or the helper was stopped by `dispose`). */
  private startWorker: StartWorker | null;
  private readonly controlAt: number;
  /** The last released memory, until the engine collects it: taken back rather than a second memory made. */
  private releasedMemory: WeakRef<WasmMemory> | null = null;
  private skinnyCount = 0;
  private packedRunCount = 0;
  private packCount = 0;

  constructor(
    raw: KernelExports,
    private readonly kind: ModuleKind,
    private readonly module: object,
    memory: WasmMemory,
    maximumBytes: number,
    startWorker: StartWorker | null,
    private readonly initialPages = Math.ceil(memory.buffer.byteLength / PAGE_BYTES),
  ) {
    this.exports = raw;
    this.startWorker = startWorker;
    // Below the arena: each thread's scratch (matMul's packing buffers or the fused interpreter's registers: one
    // kernel runs at a time per thread), the fused program area and the helper's control block.
    const scratchBytes = alignUp(
      Math.max(raw.matmulScratchBytes(), raw.fusedScratchBytes(), raw.convScratchBytes(), JIT_SCRATCH_BYTES),
    );
    this.scratch = alignUp(raw.heapBase());
    this.convGeometryAt = this.scratch + raw.convScratchBytes() - CONV_GEOM_BYTES;
    this.helperScratch = startWorker === null ? 0 : this.scratch + scratchBytes;
    this.fusedProgramAt = this.scratch + (startWorker === null ? 1 : 2) * scratchBytes;
    this.fusedTableAt = this.fusedProgramAt + FUSED_PROGRAM_BYTES;
    this.geometryAt = alignUp(this.fusedTableAt + FUSED_TABLE_BYTES);
    this.scratchBytes = scratchBytes;
    const control = alignUp(this.geometryAt + GEOMETRY_BYTES);
    this.controlAt = control;
    const base = control + (startWorker === null ? 0 : CONTROL_BYTES);
    this.arena = new WasmArena(memory, base, maximumBytes, () => this.renewMemory(maximumBytes));
    this.arena.ensure(this.arena.base);
    this.helperHandle =
      startWorker === null ? null : new WasmHelper(startWorker, module, memory, control, HELPER_EXPORTS);
  }

  /** The exports over the current memory (a released memory is replaced first: see `releaseMemory`). */
  private get raw(): KernelExports {
    if (this.exports === null) void this.arena.memory;
    return this.exports as KernelExports;
  }

  /**
   * Gives the memory back when the arena holds no live block: the memory, this module's instance over it and the
   * helper worker (whose instance imports it) are dropped, so the engine can free them at its next garbage
   * collection. The next allocation or kernel call takes a memory again (the released one if the engine has not
   * collected it yet, else a new one of `initialBytes`), instantiates the module over it and starts a new helper.
   * False, and nothing changes, while a block is live.
   */
  releaseMemory(): boolean {
    if (this.arena.released) return true;
    if (this.arena.blocks > 0) return false;
    const memory = this.arena.memory;
    this.helperHandle?.terminate();
    this.helperHandle = null;
    if (!this.arena.releaseMemory()) return false;
    this.releasedMemory = new WeakRef(memory);
    this.exports = null;
    this.fusedLoaded = null;
    this.heapI32 = new Int32Array(0);
    // Jitted instances import the memory: holding them would keep it alive (they are made again on demand; the
    // compiled modules stay cached per structure).
    this.resetJit(null);
    return true;
  }

  /** A new memory for the arena, with this module instantiated over it and a new helper (the arena's `renew`). */
  private renewMemory(maximumBytes: number): WasmMemory {
    const startWorker = this.startWorker;
    const shared = this.kind.startsWith('shared');
    // Until the engine has collected the released memory it still holds its pages: taking it back costs nothing,
    // while a second memory would add to the process's peak.
    const memory =
      this.releasedMemory?.deref() ?? createMemory(this.initialPages, Math.floor(maximumBytes / PAGE_BYTES), shared);
    this.releasedMemory = null;
    this.exports = instantiate(this.module, memory);
    this.fusedLoaded = null;
    this.helperHandle =
      startWorker === null ? null : new WasmHelper(startWorker, this.module, memory, this.controlAt, HELPER_EXPORTS);
    return memory;
  }

  /** The helper when it can take a job: until a browser worker has started, the kernels run on this thread. */
  private get helper(): WasmHelper | null {
    return this.helperHandle !== null && this.helperHandle.ready ? this.helperHandle : null;
  }

  /**
   * Resolves once the helper worker runs (at once without one, or in Node, where loading waits for it); after
   * `timeoutMs` without it the helper is stopped and the kernels stay on one thread. Resolves to `threads`.
   */
  async whenReady(timeoutMs = 10000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.helperHandle !== null && !this.helperHandle.ready) {
      if (Date.now() > deadline) {
        this.dispose();
        break;
      }
      await sleep(2);
    }
    return this.threads;
  }

  /** Which build runs: single or shared memory, baseline or relaxed SIMD. */
  get variant(): ModuleKind {
    return this.kind;
  }

  /** 2 when a helper worker shares the work, else 1. */
  get threads(): number {
    return this.helper === null ? 1 : 2;
  }

  /** 2 when a helper worker was started (it may still be starting in a browser), else 1. */
  get threadsStarted(): number {
    return this.helperHandle === null ? 1 : 2;
  }

  /** How many products ran the skinny kernels (M ≤ SKINNY_M, assembly/skinny.ts): what tests check. */
  get skinnyRuns(): number {
    return this.skinnyCount;
  }

  /** How many products ran over a packed copy (`matVecPacked`, each split counted once): what tests check. */
  get packedRuns(): number {
    return this.packedRunCount;
  }

  /** How many B matrices were packed for the one-row kernel (`packRows4`): what tests check. */
  get packedCopies(): number {
    return this.packCount;
  }

  /** Bytes a packRows4 copy of a K x N matrix takes (rows and columns rounded up to multiples of 4). */
  static packedBytes(K: number, N: number): number {
    return ((K + 3) & ~3) * ((N + 3) & ~3) * 4;
  }

  /**
   * Writes the interleaved copy `matVecPacked` reads of B [K, N] (its element (k, j) at b + 4(k·rsB + j·csB):
   * row-major, or a stored Bᵀ) at `dst` (`packedBytes(K, N)` bytes): rows four at a time, [K/4][N/4][4][4].
   */
  packRows4(b: number, rsB: number, csB: number, K: number, N: number, dst: number): void {
    checkCount('packRows4', K, N);
    this.packCount++;
    this.raw.packRows4(b, rsB, csB, K, N, dst);
  }

  /**
   * out[1 x N] = act(a·B + bias) for one row a (element stride csA) and B's packRows4 copy at b4: the skinny kernel
   * for M = 1 on pre-packed weights. With two threads and B large enough (skinnySplits) the copy's column chunks
   * split between them (each streams a contiguous half); B with a single chunk (N ≤ PACKED_CHUNK) returns false there,
   * for the row-major kernel's column split. False (nothing written) also when N does not fit the scratch.
   */
  matVecPacked(
    a: number,
    csA: number,
    b4: number,
    out: number,
    N: number,
    K: number,
    bias = 0,
    activation: WasmActivation = 'none',
  ): boolean {
    checkCount('matVecPacked', N, K);
    if (N % 4 !== 0 && ((N + 3) & ~3) * 4 > this.scratchBytes) return false;
    const split = this.skinnySplits(N, K);
    if (split && N <= PACKED_CHUNK) return false;
    this.skinnyCount++;
    this.packedRunCount++;
    const act = ACTIVATION[activation];
    if (!split) {
      this.raw.skinnyPacked(a, csA, b4, out, N, K, bias, act, this.scratch);
      return true;
    }
    // Whole chunks each: a chunk-aligned range of the copy is the copy of those columns, at 4·K₄·n bytes in.
    const n = half(N, PACKED_CHUNK);
    const theirB = b4 + 4 * ((K + 3) & ~3) * n;
    const theirs = [a, csA, theirB, out + 4 * n, N - n, K, bias === 0 ? 0 : bias + 4 * n, act, this.helperScratch];
    this.split('skinnyPacked', theirs, () => this.raw.skinnyPacked(a, csA, b4, out, n, K, bias, act, this.scratch));
    return true;
  }

  /** Jobs the helper worker has finished so far (0 without one). */
  get helperJobs(): number {
    return this.helperHandle?.jobsDone ?? 0;
  }

  /** Stops the helper worker, if any; the kernels keep working on one thread. */
  dispose(): void {
    this.helperHandle?.terminate();
    this.helperHandle = null;
    this.startWorker = null;
  }

  /** Runs `mine` here and the helper's half there, waiting for both (also when `mine` throws). */
  private split(name: string, theirs: readonly number[], mine: () => void): void {
    const helper = this.helper;
    if (helper === null) throw new Error('wasm kernels: no helper');
    helper.start(name, theirs);
    try {
      mine();
    } finally {
      helper.finish();
    }
  }

  /**
   * out[M x N] = act(op(a)·op(b) + bias): a is [M, K] ([K, M] if transposeA), b is [K, N] ([N, K] if transposeB),
   * bias is [N] or 0 for none. Transposed operands are read in place.
   */
  matMul(
    a: number,
    b: number,
    out: number,
    M: number,
    N: number,
    K: number,
    transposeA = false,
    transposeB = false,
    bias = 0,
    activation: WasmActivation = 'none',
  ): void {
    this.gemm(
      a,
      transposeA ? 1 : K,
      transposeA ? M : 1,
      b,
      transposeB ? 1 : N,
      transposeB ? K : 1,
      out,
      N,
      M,
      N,
      K,
      bias,
      activation,
    );
  }

  /**
   * The strided form of matMul: a's element (i, k) is at a + 4(i·rsA + k·csA), b's (k, j) at b + 4(k·rsB + j·csB),
   * out's (i, j) at out + 4(i·ldOut + j). Any strides work; unit csA or rsA, csB or rsB pack fastest.
   */
  gemm(
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    out: number,
    ldOut: number,
    M: number,
    N: number,
    K: number,
    bias = 0,
    activation: WasmActivation = 'none',
  ): void {
    checkCount('gemm', M, N, K, ldOut);
    const act = ACTIVATION[activation];
    const raw = this.raw;
    if (this.skinnyTakes(M, K, csA, rsB, csB)) {
      this.skinny(a, rsA, csA, b, rsB, csB, out, ldOut, M, N, K, bias, act);
      return;
    }
    if (this.helper === null || 2 * M * N * K < SPLIT_FLOPS || (M < 2 * MR && N < 2 * NR)) {
      raw.matmul(a, rsA, csA, b, rsB, csB, out, ldOut, M, N, K, bias, act, this.scratch);
      return;
    }
    // Split the longer side, so that each thread packs the shorter operand whole and half of the longer one.
    const h = this.helperScratch;
    if (M >= N) {
      const m = half(M, MR);
      const theirs = [a + 4 * m * rsA, rsA, csA, b, rsB, csB, out + 4 * m * ldOut, ldOut, M - m, N, K, bias, act, h];
      this.split('matmul', theirs, () =>
        raw.matmul(a, rsA, csA, b, rsB, csB, out, ldOut, m, N, K, bias, act, this.scratch),
      );
    } else {
      const n = half(N, NR);
      const biasN = bias === 0 ? 0 : bias + 4 * n;
      const theirs = [a, rsA, csA, b + 4 * n * csB, rsB, csB, out + 4 * n, ldOut, M, N - n, K, biasN, act, h];
      this.split('matmul', theirs, () =>
        raw.matmul(a, rsA, csA, b, rsB, csB, out, ldOut, M, n, K, bias, act, this.scratch),
      );
    }
  }

  /**
   * Whether the skinny kernels take a product: M ≤ SKINNY_M rows, B row-major or stored transposed (then a
   * transposed A is gathered into the scratch, which must hold its M·K floats).
   */
  private skinnyTakes(M: number, K: number, csA: number, rsB: number, csB: number): boolean {
    if (M < 1 || M > SKINNY_M) return false;
    if (csB === 1) return true;
    return rsB === 1 && (csA === 1 || M * K * 4 <= this.scratchBytes);
  }

  /** Whether a skinny product of [K, N] runs on two threads (a helper runs and B is large enough to pay). */
  skinnySplits(N: number, K: number): boolean {
    return this.helper !== null && 4 * N * K >= SPLIT_SKINNY_BYTES && N >= 64;
  }

  /** A skinny product, split by output columns when B is large enough for two threads to pay. */
  private skinny(
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    out: number,
    ldOut: number,
    M: number,
    N: number,
    K: number,
    bias: number,
    act: number,
  ): void {
    this.skinnyCount++;
    const raw = this.raw;
    if (!this.skinnySplits(N, K)) {
      raw.skinny(a, rsA, csA, b, rsB, csB, out, ldOut, M, N, K, bias, act, this.scratch);
      return;
    }
    // Columns on 32-wide bounds: the widest column block (M = 1) stays whole on both sides.
    const n = half(N, 32);
    const biasN = bias === 0 ? 0 : bias + 4 * n;
    const theirs = [a, rsA, csA, b + 4 * n * csB, rsB, csB, out + 4 * n, ldOut, M, N - n, K, biasN, act];
    this.split('skinny', [...theirs, this.helperScratch], () =>
      raw.skinny(a, rsA, csA, b, rsB, csB, out, ldOut, M, n, K, bias, act, this.scratch),
    );
  }

  /** out[i] = a[i] op b[i] for i < n; `scalar` names an operand that is one float broadcast to all n. */
  binary(op: WasmBinaryOp, a: number, b: number, out: number, n: number, scalar: 'none' | 'a' | 'b' = 'none'): void {
    checkCount('binary', n);
    const code = BIN_CODES[op];
    const sa = scalar === 'a' ? 0 : 1;
    const sb = scalar === 'b' ? 0 : 1;
    if (this.helper === null || n < SPLIT_ELEMENTS) {
      this.raw.binary(code, a, sa, b, sb, out, n);
      return;
    }
    const m = half(n, 16);
    const theirs = [code, a + 4 * m * sa, sa, b + 4 * m * sb, sb, out + 4 * m, n - m];
    this.split('binary', theirs, () => this.raw.binary(code, a, sa, b, sb, out, m));
  }

  /** out[r, j] = a[r, j] op row[j] over [rows, cols] (row op a[r, j] when rowFirst): bias-add and the like. */
  binaryRow(op: WasmBinaryOp, a: number, row: number, out: number, rows: number, cols: number, rowFirst = false): void {
    checkCount('binaryRow', rows, cols);
    const code = BIN_CODES[op];
    const first = rowFirst ? 1 : 0;
    if (this.helper === null || rows * cols < SPLIT_ELEMENTS || rows < 2) {
      this.raw.binaryRow(code, a, row, out, rows, cols, first);
      return;
    }
    const r = half(rows, 1);
    const theirs = [code, a + 4 * r * cols, row, out + 4 * r * cols, rows - r, cols, first];
    this.split('binaryRow', theirs, () => this.raw.binaryRow(code, a, row, out, r, cols, first));
  }

  /** out[i] = op(x[i]) for i < n (exp, tanh and sigmoid are float32-accurate polynomials, ≤ ~2 ulp). */
  unary(op: WasmUnaryOp, x: number, out: number, n: number): void {
    checkCount('unary', n);
    const code = UN_CODES[op];
    if (this.helper === null || n < SPLIT_ELEMENTS) {
      this.raw.unary(code, x, out, n);
      return;
    }
    const m = half(n, 16);
    this.split('unary', [code, x + 4 * m, out + 4 * m, n - m], () => this.raw.unary(code, x, out, m));
  }

  /**
   * Runs a fused elementwise program (from compileFusedProgram) over n elements: out[i] is the group's value at i.
   * `inputs` gives each input's byte offset in the order of the fused node's inputs, as the program was compiled
   * for: a 'full' input holds n floats, a 'scalar' one a single float. out may be one of the inputs (in place) but
   * must not overlap one partially. Nothing past n elements is read or written. With `jit` (default) the program
   * runs compiled to its own wasm function (jit/, cached per structure; the same bits), else in the interpreter.
   */
  fused(program: Int32Array, inputs: readonly number[], out: number, n: number, jit = true): void {
    checkCount('fused', n);
    const instructions = program.length / FUSED_WORDS;
    if (!Number.isInteger(instructions) || instructions === 0 || instructions > FUSED_MAX_INSTRUCTIONS) {
      throw new Error(`fused: a program is 1 to ${FUSED_MAX_INSTRUCTIONS} instructions, got ${program.length} words`);
    }
    if (inputs.length > FUSED_MAX_INPUTS) throw new Error(`fused: at most ${FUSED_MAX_INPUTS} inputs`);
    if (this.heapI32.buffer !== this.arena.memory.buffer) this.heapI32 = new Int32Array(this.arena.memory.buffer);
    const heap = this.heapI32;
    const compiled = jit ? this.jitted(program) : null;
    if (compiled === null && this.fusedLoaded !== program) {
      heap.set(program, this.fusedProgramAt >> 2);
      this.fusedLoaded = program;
      this.fusedInputs = fusedInputCount(program);
    }
    const reads = compiled === null ? this.fusedInputs : compiled.inputs;
    if (inputs.length < reads) {
      throw new Error(`fused: the program reads ${reads} inputs, got ${inputs.length} offsets`);
    }
    if (n === 0) return;
    const table = this.fusedTableAt >> 2;
    for (let k = 0; k < inputs.length; k++) heap[table + k] = inputs[k];
    const tableAt = this.fusedTableAt;
    const split = this.helper !== null && n >= SPLIT_ELEMENTS;
    if (compiled !== null && (!split || this.jitOnHelper(compiled))) {
      this.jitStats.runs++;
      if (!split) {
        compiled.run(tableAt, out, 0, n, this.scratch);
        return;
      }
      const m = half(n, 16);
      this.jitStats.helperRuns++;
      const theirs = [compiled.slot, tableAt, out, m, n, this.helperScratch];
      this.splitJit(theirs, () => compiled.run(tableAt, out, 0, m, this.scratch));
      return;
    }
    if (compiled !== null) {
      // The helper could not load the module: the interpreter runs this call.
      this.jitStats.interpreted++;
      return this.fused(program, inputs, out, n, false);
    }
    const at = this.fusedProgramAt;
    if (!split) {
      this.raw.fusedRun(at, instructions, tableAt, out, 0, n, this.scratch);
      return;
    }
    const m = half(n, 16);
    const theirs = [at, instructions, tableAt, out, m, n, this.helperScratch];
    this.split('fusedRun', theirs, () => this.raw.fusedRun(at, instructions, tableAt, out, 0, m, this.scratch));
  }

  /**
   * The jitted function of a program instantiated over this arena's memory, or null where the JIT declines it
   * (jit/compile.ts says which groups) or the engine refuses the module: the interpreter runs those.
   */
  private jitted(program: Int32Array): JitInstance | null {
    const memory = this.arena.memory;
    if (this.jitMemory !== memory) {
      // A new memory (or the first call): instances import the old one, so they are made again on demand.
      this.resetJit(memory);
    }
    const known = this.jitByProgram.get(program);
    if (known !== undefined) return known;
    const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
    const target = { shared, maximumPages: SHARED_MAXIMUM_PAGES, relaxed: this.kind.endsWith('relaxed') };
    const module = jitModule(program, target);
    let instance: JitInstance | null = null;
    if (module !== null) {
      instance = this.jitByKey.get(module.key) ?? null;
      if (instance === null) {
        const run = instantiateJit(module.module, memory);
        if (run !== null) {
          if (this.jitByKey.size >= MAX_JIT_INSTANCES) this.jitByKey.clear();
          instance = { module, run, slot: this.jitSlots++, onHelper: null, inputs: fusedInputCount(program) };
          this.jitByKey.set(module.key, instance);
          this.jitStats.instances++;
        }
      }
    }
    this.jitByProgram.set(program, instance);
    return instance;
  }

  /** Forgets every jitted instance (they import the old memory) and records the memory new ones will import. */
  private resetJit(memory: WasmMemory | null): void {
    this.jitMemory = memory;
    this.jitByProgram = new WeakMap();
    this.jitByKey = new Map();
  }

  /** Whether the helper worker holds the instance (loading it there on first use: its bytes go through scratch). */
  private jitOnHelper(instance: JitInstance): boolean {
    const helper = this.helper;
    if (helper === null) return false;
    if (instance.onHelper === helper) return true;
    const bytes = instance.module.bytes;
    if (bytes.length > this.scratchBytes) return false;
    new Uint8Array(this.arena.memory.buffer, this.helperScratch, bytes.length).set(bytes);
    const loaded = helper.loadJit(instance.slot, this.helperScratch, bytes.length);
    instance.onHelper = loaded ? helper : null;
    if (loaded) this.jitStats.helperLoads++;
    return loaded;
  }

  /** Runs `mine` here and a jitted function's other half on the helper. */
  private splitJit(theirs: readonly number[], mine: () => void): void {
    const helper = this.helper;
    if (helper === null) throw new Error('wasm kernels: no helper');
    helper.startJit(theirs);
    try {
      mine();
    } finally {
      helper.finish();
    }
  }

  /** out[i] = dy[i] · (x[i] > 0 ? 1 : 0). */
  reluGrad(x: number, dy: number, out: number, n: number): void {
    checkCount('reluGrad', n);
    if (this.helper === null || n < SPLIT_ELEMENTS) {
      this.raw.reluGrad(x, dy, out, n);
      return;
    }
    const m = half(n, 16);
    this.split('reluGrad', [x + 4 * m, dy + 4 * m, out + 4 * m, n - m], () => this.raw.reluGrad(x, dy, out, m));
  }

  /** Softmax of each row of a [rows, cols] matrix. */
  softmax(x: number, out: number, rows: number, cols: number): void {
    checkCount('softmax', rows, cols);
    this.byRows('softmax', x, out, rows, cols);
  }

  private byRows(name: 'softmax' | 'logSoftmax', x: number, out: number, rows: number, cols: number): void {
    const kernel = this.raw[name];
    if (this.helper === null || rows * cols < SPLIT_ELEMENTS || rows < 2) {
      kernel(x, out, rows, cols);
      return;
    }
    const r = half(rows, 1);
    this.split(name, [x + 4 * r * cols, out + 4 * r * cols, rows - r, cols], () => kernel(x, out, r, cols));
  }

  /** Log-softmax of each row of a [rows, cols] matrix. */
  logSoftmax(x: number, out: number, rows: number, cols: number): void {
    checkCount('logSoftmax', rows, cols);
    this.byRows('logSoftmax', x, out, rows, cols);
  }

  /** out[r] = −Σ_j labels[r, j] · logSoftmax(logits)[r, j] over [rows, cols]; zero labels are skipped. */
  softmaxCrossEntropy(labels: number, logits: number, out: number, rows: number, cols: number): void {
    checkCount('softmaxCrossEntropy', rows, cols);
    this.raw.softmaxCrossEntropy(labels, logits, out, rows, cols);
  }

  /** out[r] = −Σ_j labels[r, j] · ls[r, j] over [rows, cols], ls a log-softmax; zero labels are skipped. */
  crossEntropyFromLogSoftmax(labels: number, ls: number, out: number, rows: number, cols: number): void {
    checkCount('crossEntropyFromLogSoftmax', rows, cols);
    this.raw.crossEntropyFromLogSoftmax(labels, ls, out, rows, cols);
  }

  /** out[r] = Σ_j x[r, j] (accumulated in float64); rows = 1 sums everything. */
  rowSum(x: number, out: number, rows: number, cols: number): void {
    checkCount('rowSum', rows, cols);
    this.raw.rowSum(x, out, rows, cols);
  }

  /** out[r] = max_j x[r, j]; NaN wins, an empty row gives −∞. */
  rowMax(x: number, out: number, rows: number, cols: number): void {
    checkCount('rowMax', rows, cols);
    this.raw.rowMax(x, out, rows, cols);
  }

  /** out[j] = Σ_r x[r, j] (accumulated in float64): the sum over leading axes, as for a bias gradient. */
  colSum(x: number, out: number, rows: number, cols: number): void {
    checkCount('colSum', rows, cols);
    this.raw.colSum(x, out, rows, cols);
  }

  // ---- convolution (assembly/conv.ts) ----------------------------------------------------------------------------

  /** Writes a conv kernel's geometry block (assembly/conv.ts's GEO_* slots) at the calling thread's scratch tail. */
  private convGeometry(
    image: number,
    filter: number,
    out: number,
    bias: number,
    act: number,
    g: WasmConvGeometry,
    flip: boolean,
    byBatch = false,
  ): number {
    if (this.heapI32.buffer !== this.arena.memory.buffer) this.heapI32 = new Int32Array(this.arena.memory.buffer);
    const slots = [
      image,
      filter,
      out,
      bias,
      act,
      g.n,
      g.inH,
      g.inW,
      g.inC,
      g.outH,
      g.outW,
      g.outC,
      g.fh,
      g.fw,
      g.sh,
      g.sw,
      g.dh,
      g.dw,
      g.top,
      g.left,
      flip ? 1 : 0,
      byBatch ? 1 : 0,
    ];
    this.heapI32.set(slots, this.convGeometryAt >> 2);
    return this.convGeometryAt;
  }

  /** Runs a conv kernel over [0, total), split at a multiple of `step` when it is worth two threads. */
  private convRun(
    name: 'convGemm' | 'convFilterGemm' | 'convCol2im',
    geometry: number,
    total: number,
    step: number,
    flops: number,
  ): void {
    const kernel = this.raw[name];
    if (this.helper === null || flops < SPLIT_FLOPS || total < 2 * step) {
      kernel(geometry, 0, total, this.scratch);
      return;
    }
    const h = half(total, step);
    this.split(name, [geometry, h, total, this.helperScratch], () => kernel(geometry, 0, h, this.scratch));
  }

  /**
   * out [n, outH, outW, outC] = act(conv2d(x [n, inH, inW, inC], filter [fh, fw, inC, outC]) + bias), NHWC, one
   * group; bias is [outC] or 0. A GEMM over the output pixels with the A panels packed straight from x; a 1×1
   * stride-1 unpadded conv is a plain matMul. Two threads split the output pixels.
   */
  conv2d(
    x: number,
    filter: number,
    out: number,
    g: WasmConvGeometry,
    bias = 0,
    activation: WasmActivation = 'none',
  ): void {
    checkConv('conv2d', g);
    const P = g.n * g.outH * g.outW;
    const K = g.fh * g.fw * g.inC;
    if (isPointwise(g)) {
      this.gemm(x, g.inC, 1, filter, g.outC, 1, out, g.outC, P, g.outC, g.inC, bias, activation);
      return;
    }
    const geometry = this.convGeometry(x, filter, out, bias, ACTIVATION[activation], g, false);
    this.convRun('convGemm', geometry, P, MR, 2 * P * K * g.outC);
  }

  /**
   * dx [n, inH, inW, inC] of conv2d for dy [n, outH, outW, outC] and filter [fh, fw, inC, outC] (`g` describes the
   * forward conv). Stride 1: the forward conv of dy with the filter flipped in space and its channel dims swapped
   * (a GEMM over dx's pixels, split by pixels); other strides: col2im, dcol = dy·W_tapᵀ per block of dy pixels and
   * tap, added into dx (split by dx's channels). `via: 'col2im'` forces the latter (benchmarks and tests).
   */
  conv2dBackpropInput(
    dy: number,
    filter: number,
    dx: number,
    g: WasmConvGeometry,
    via: 'auto' | 'col2im' = 'auto',
  ): void {
    checkConv('conv2dBackpropInput', g);
    const P = g.n * g.outH * g.outW;
    const flops = 2 * P * g.fh * g.fw * g.inC * g.outC;
    if (isPointwise(g)) {
      this.gemm(dy, g.outC, 1, filter, 1, g.outC, dx, g.inC, P, g.inC, g.outC);
      return;
    }
    if (via === 'auto' && g.sh === 1 && g.sw === 1) {
      const flipped: WasmConvGeometry = {
        ...g,
        inH: g.outH,
        inW: g.outW,
        inC: g.outC,
        outH: g.inH,
        outW: g.inW,
        outC: g.inC,
        top: (g.fh - 1) * g.dh - g.top,
        left: (g.fw - 1) * g.dw - g.left,
      };
      const geometry = this.convGeometry(dy, filter, dx, 0, 0, flipped, true);
      this.convRun('convGemm', geometry, g.n * g.inH * g.inW, MR, flops);
      return;
    }
    // Two or more images: each thread takes whole images (the one-thread work per image); one image: its channels.
    const byBatch = g.n >= 2;
    const geometry = this.convGeometry(dy, filter, dx, 0, 0, g, false, byBatch);
    this.convRun('convCol2im', geometry, byBatch ? g.n : g.inC, byBatch ? 1 : 4, flops);
  }

  /**
   * dW [fh, fw, inC, outC] of conv2d for x [n, inH, inW, inC] and dy [n, outH, outW, outC]: im2col(x)ᵀ·dy, a GEMM
   * with the output pixels as its depth and the A panels packed from x. Two threads split dW's rows (taps × inC).
   */
  conv2dBackpropFilter(x: number, dy: number, dW: number, g: WasmConvGeometry): void {
    checkConv('conv2dBackpropFilter', g);
    const P = g.n * g.outH * g.outW;
    const K = g.fh * g.fw * g.inC;
    if (isPointwise(g)) {
      this.gemm(x, 1, g.inC, dy, g.outC, 1, dW, g.outC, g.inC, g.outC, P);
      return;
    }
    const geometry = this.convGeometry(x, dy, dW, 0, 0, g, false);
    this.convRun('convFilterGemm', geometry, K, MR, 2 * P * K * g.outC);
  }

  /** out[i] = row[i mod length] for i < n: a broadcast of trailing dims (a bias, per-channel values) to n floats. */
  tileRow(row: number, length: number, out: number, n: number): void {
    checkCount('tileRow', length, n);
    if (n === 0) return;
    if (length === 0) throw new Error('tileRow: an empty row cannot fill a non-empty output');
    if (this.helper === null || n < SPLIT_ELEMENTS) {
      this.raw.tileRow(row, length, out, 0, n);
      return;
    }
    const m = half(n, 16);
    this.split('tileRow', [row, length, out, m, n], () => this.raw.tileRow(row, length, out, 0, m));
  }

  // ---- Windowed NHWC kernels: pooling (assembly/pool.ts) and depthwise convolution (assembly/depthwise.ts). ----

  /** Writes the geometry block both threads read; `extra` is the multiplier (depthwise) or countPadding (pooling). */
  private geometry(what: string, g: WindowGeometry, extra: number): number {
    const { n, inH, inW, channels, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW } = g;
    checkCount(what, n, inH, inW, channels, outH, outW, filterH, filterW, g.top, g.left, extra);
    checkCount(what, strideH - 1, strideW - 1, dilationH - 1, dilationW - 1);
    if (this.heapI32.buffer !== this.arena.memory.buffer) this.heapI32 = new Int32Array(this.arena.memory.buffer);
    const at = this.geometryAt >> 2;
    const heap = this.heapI32;
    heap[at + GEOM_N] = n;
    heap[at + GEOM_IN_H] = inH;
    heap[at + GEOM_IN_W] = inW;
    heap[at + GEOM_C] = channels;
    heap[at + GEOM_OUT_H] = outH;
    heap[at + GEOM_OUT_W] = outW;
    heap[at + GEOM_FH] = filterH;
    heap[at + GEOM_FW] = filterW;
    heap[at + GEOM_SH] = strideH;
    heap[at + GEOM_SW] = strideW;
    heap[at + GEOM_DH] = dilationH;
    heap[at + GEOM_DW] = dilationW;
    heap[at + GEOM_TOP] = g.top;
    heap[at + GEOM_LEFT] = g.left;
    heap[at + GEOM_EXTRA] = extra;
    return this.geometryAt;
  }

  /**
   * Runs export `name` with args(lo, hi) over a range [0, count): whole on one thread, or split at about half (a
   * multiple of `step`) when `large` and a helper runs, the helper taking [split, count).
   */
  private ranges(
    name: WindowExport,
    count: number,
    step: number,
    large: boolean,
    args: (lo: number, hi: number) => number[],
  ): void {
    const kernel = this.raw[name] as (...a: number[]) => void;
    const m = half(count, step);
    if (this.helper === null || !large || m === 0 || m === count) {
      kernel(...args(0, count));
      return;
    }
    this.split(name, args(m, count), () => kernel(...args(0, m)));
  }

  /**
   * A scatter kernel (a pooling gradient) over batches × channels: split by batches (each thread's memory
   * contiguous), else by channels (one image).
   */
  private scatter(name: 'maxPoolGrad' | 'avgPoolGrad', geometry: WindowGeometry, args: ScatterArgs): void {
    const { n, inH, inW, channels: C } = geometry;
    const large = n * inH * inW * C >= SPLIT_ELEMENTS;
    if (n >= 2 || C < 8) this.ranges(name, n, 1, large, (b0, b1) => args(b0, b1, 0, C));
    else this.ranges(name, C, 4, large, (c0, c1) => args(0, n, c0, c1));
  }

  /** out = the maximum of each window of x [n, inH, inW, C] (first of equal maxima, NaN wins; −∞ if no pixels). */
  maxPool(geometry: WindowGeometry, x: number, out: number): void {
    const g = this.geometry('maxPool', geometry, 0);
    const { n, outH, outW, channels } = geometry;
    const large = n * outH * outW * channels >= SPLIT_ELEMENTS;
    this.ranges('maxPool', n * outH, 1, large, (r0, r1) => [g, x, out, r0, r1, 0, channels]);
  }

  /** out = the mean of each window of x over its input pixels (over the whole window if countPadding). */
  avgPool(geometry: WindowGeometry, x: number, out: number, countPadding = false): void {
    const g = this.geometry('avgPool', geometry, countPadding ? 1 : 0);
    const { n, outH, outW, channels } = geometry;
    const large = n * outH * outW * channels >= SPLIT_ELEMENTS;
    this.ranges('avgPool', n * outH, 1, large, (r0, r1) => [g, x, out, r0, r1, 0, channels]);
  }

  /** out (pooled shape) = gx (x's shape) read where each window of x has its maximum (0 if no pixels). */
  maxPoolGradGrad(geometry: WindowGeometry, x: number, gx: number, out: number): void {
    const g = this.geometry('maxPoolGradGrad', geometry, 0);
    const { n, outH, outW, channels } = geometry;
    const large = n * outH * outW * channels >= SPLIT_ELEMENTS;
    this.ranges('maxPoolGradGrad', n * outH, 1, large, (r0, r1) => [g, x, gx, out, r0, r1, 0, channels]);
  }

  /** dx (x's shape) = dy added where each window of x has its maximum, 0 elsewhere. */
  maxPoolGrad(geometry: WindowGeometry, x: number, dy: number, dx: number): void {
    const g = this.geometry('maxPoolGrad', geometry, 0);
    this.scatter('maxPoolGrad', geometry, (b0, b1, c0, c1) => [g, x, dy, dx, b0, b1, c0, c1]);
  }

  /** dx ([n, inH, inW, C]) = each dy spread evenly over its window's pixels (the window if countPadding). */
  avgPoolGrad(geometry: WindowGeometry, dy: number, dx: number, countPadding = false): void {
    const g = this.geometry('avgPoolGrad', geometry, countPadding ? 1 : 0);
    this.scatter('avgPoolGrad', geometry, (b0, b1, c0, c1) => [g, dy, dx, b0, b1, c0, c1]);
  }

  /**
   * Depthwise conv2d: out [n, outH, outW, C·multiplier] from x [n, inH, inW, C] and a filter [fh, fw, 1,
   * C·multiplier] (output channel o reads input channel o / multiplier).
   */
  depthwiseConv2d(geometry: WindowGeometry, multiplier: number, x: number, filter: number, out: number): void {
    const g = this.geometry('depthwiseConv2d', geometry, multiplier);
    const { n, outH, outW, channels } = geometry;
    const oc = channels * multiplier;
    const large = n * outH * outW * oc >= SPLIT_ELEMENTS;
    this.ranges('dwConv2d', n * outH, 1, large, (r0, r1) => [g, x, filter, out, r0, r1, 0, oc]);
  }

  /** The gradient of depthwiseConv2d with respect to x: dx [n, inH, inW, C] from dy and the filter. */
  depthwiseConv2dBackpropInput(
    geometry: WindowGeometry,
    multiplier: number,
    dy: number,
    filter: number,
    dx: number,
  ): void {
    const { n, inH, inW, channels, filterH: fh, filterW: fw, dilationH, dilationW } = geometry;
    const top = (fh - 1) * dilationH - geometry.top;
    const left = (fw - 1) * dilationW - geometry.left;
    const stride1 = geometry.strideH === 1 && geometry.strideW === 1;
    if (stride1 && multiplier === 1 && top >= 0 && left >= 0 && fh * fw * channels * 4 <= this.scratchBytes) {
      // With stride 1, dx is the forward depthwise conv of dy with the filter rotated by 180° and the padding
      // mirrored (fh − 1)·dh − top: the forward kernel's speed (and its 3×3 path). The rotated filter lives in
      // this thread's scratch, which the forward kernel does not use; the helper reads it there.
      const heap = this.arena.heapF32;
      const rotated = this.scratch;
      for (let t = 0; t < fh * fw; t++) {
        const src = (filter >> 2) + t * channels;
        heap.copyWithin((rotated >> 2) + (fh * fw - 1 - t) * channels, src, src + channels);
      }
      const forward = { ...geometry, inH: geometry.outH, inW: geometry.outW, outH: inH, outW: inW, top, left };
      this.depthwiseConv2d(forward, 1, dy, rotated, dx);
      return;
    }
    const g = this.geometry('depthwiseConv2dBackpropInput', geometry, multiplier);
    const large = n * inH * inW * channels * multiplier >= SPLIT_ELEMENTS;
    this.ranges('dwConv2dInput', n * inH, 1, large, (r0, r1) => [g, dy, filter, dx, r0, r1, 0, channels]);
  }

  /** Whether depthwiseConv2dBackpropFilter's f64 sums ([fh, fw, C·multiplier]) fit a thread's scratch. */
  depthwiseFilterFits(geometry: WindowGeometry, multiplier: number): boolean {
    return (geometry.filterH * geometry.filterW * geometry.channels * multiplier + 4) * 8 <= this.scratchBytes;
  }

  /** The gradient of depthwiseConv2d with respect to its filter: df [fh, fw, 1, C·multiplier] from x and dy. */
  depthwiseConv2dBackpropFilter(geometry: WindowGeometry, multiplier: number, x: number, dy: number, df: number): void {
    if (!this.depthwiseFilterFits(geometry, multiplier)) {
      throw new Error('depthwiseConv2dBackpropFilter: the filter is too large for the scratch area');
    }
    const g = this.geometry('depthwiseConv2dBackpropFilter', geometry, multiplier);
    const { n, outH, outW, channels } = geometry;
    const oc = channels * multiplier;
    // Split by output channels: both threads read every row and sum into their own scratch.
    const large = n * outH * outW * oc >= SPLIT_ELEMENTS;
    this.ranges('dwConv2dFilter', oc, 4, large, (c0, c1) => [
      g,
      x,
      dy,
      df,
      c0,
      c1,
      c0 === 0 ? this.scratch : this.helperScratch,
    ]);
  }
}

/**
 * A conv's geometry in NHWC terms, one group: x [n, inH, inW, inC], filter [fh, fw, inC, outC], output
 * [n, outH, outW, outC], strides sh, sw, dilations dh, dw, and the padding before each spatial dim (top, left).
 * WasmBufKernels derives it from the op's attrs with the JS kernels' axisGeometry.
 */
export interface WasmConvGeometry {
  readonly n: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly fh: number;
  readonly fw: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly top: number;
  readonly left: number;
}

function checkConv(what: string, g: WasmConvGeometry): void {
  checkCount(what, g.n, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.fh, g.fw, g.sh, g.sw, g.dh, g.dw);
  if (!Number.isInteger(g.top) || !Number.isInteger(g.left)) throw new Error(`${what}: padding must be integers`);
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1) throw new Error(`${what}: strides and dilations must be >= 1`);
}

/** A 1×1 stride-1 unpadded conv: out = x·W as [n·h·w, inC]·[inC, outC]. */
function isPointwise(g: WasmConvGeometry): boolean {
  return (
    g.fh === 1 &&
    g.fw === 1 &&
    g.sh === 1 &&
    g.sw === 1 &&
    g.top === 0 &&
    g.left === 0 &&
    g.outH === g.inH &&
    g.outW === g.inW
  );
}

interface Setup {
  kind: ModuleKind;
  memory: WasmMemory;
  maximumBytes: number;
  startWorker: StartWorker | null;
}

function setup(options: WasmKernelOptions): Setup {
  const maxPages = 32768;
  const maximumBytes = Math.min(options.maximumBytes ?? maxPages * PAGE_BYTES, maxPages * PAGE_BYTES);
  const initialBytes = Math.min(options.initialBytes ?? 64 * MiB, maximumBytes);
  const threads = options.threads ?? 1;
  if (threads !== 1 && threads !== 2) throw new Error(`wasm kernels: threads must be 1 or 2, got ${threads}`);
  if (threads === 2 && options.startWorker === undefined) {
    throw new Error('wasm kernels: threads: 2 needs a startWorker (see docs/wasm.md)');
  }
  const features = { validates: wasmSupported, sharedMemory: sharedMemorySupported() };
  const kind = chooseModuleKind(features, threads === 2, options.simd);
  const startWorker = kind.startsWith('shared') ? (options.startWorker ?? null) : null;
  if (!wasmSupported(kind)) throw new Error(`wasm kernels: this engine cannot run the ${kind} module`);
  const pages = [Math.ceil(initialBytes / PAGE_BYTES), Math.floor(maximumBytes / PAGE_BYTES)];
  return { kind, memory: createMemory(pages[0], pages[1], startWorker !== null), maximumBytes, startWorker };
}

function create(module: object, s: Setup): WasmKernels {
  return new WasmKernels(instantiate(module, s.memory), s.kind, module, s.memory, s.maximumBytes, s.startWorker);
}

/**
 * Instantiates the kernels over a fresh arena, compiling synchronously (as Node's synchronous `session.run` needs).
 * With `threads: 2` it also starts the helper worker and waits until it is ready.
 * @example const wasm = loadWasmKernels({ initialBytes: 256 << 20 });
 */
export function loadWasmKernels(options: WasmKernelOptions = {}): WasmKernels {
  const s = setup(options);
  return create(compileSync(s.kind), s);
}

/**
 * Like loadWasmKernels, compiling asynchronously (what browsers want on their main thread).
 * @example const wasm = await loadWasmKernelsAsync();
 */
export async function loadWasmKernelsAsync(options: WasmKernelOptions = {}): Promise<WasmKernels> {
  const s = setup(options);
  return create(await compileAsync(s.kind), s);
}
