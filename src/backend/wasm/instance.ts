/**
 * Compiling and instantiating the embedded kernel module. The WebAssembly API is typed here, minimally, because
 * the build compiles with the plain ES2022 library (no DOM, no Node types) so that the core stays portable.
 */
import { WASM_SINGLE_BASE64, WASM_SINGLE_RELAXED_BASE64 } from './embedded.generated';
import { decodeBase64 } from './base64';
import { withSharedMemory, type ModuleKind } from './variants';

export type { ModuleKind } from './variants';

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
  compile(bytes: Uint8Array): Promise<object>;
  validate(bytes: Uint8Array): boolean;
}

/** The raw exports of assembly/index.ts: byte offsets and sizes in, nothing out (see assembly/ for each kernel). */
export interface KernelExports {
  heapBase(): number;
  matmulScratchBytes(): number;
  matmul(
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    c: number,
    ldc: number,
    M: number,
    N: number,
    K: number,
    bias: number,
    act: number,
    scratch: number,
  ): void;
  /** assembly/skinny.ts: matmul's arguments for M ≤ SKINNY_M with B row-major or stored transposed. */
  skinny(
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    c: number,
    ldc: number,
    M: number,
    N: number,
    K: number,
    bias: number,
    act: number,
    scratch: number,
  ): void;
  packRows4(b: number, rsB: number, csB: number, K: number, N: number, dst: number): void;
  skinnyPacked(
    a: number,
    csA: number,
    b4: number,
    c: number,
    N: number,
    K: number,
    bias: number,
    act: number,
    scratch: number,
  ): void;
  binary(op: number, a: number, sa: number, b: number, sb: number, out: number, n: number): void;
  binaryRow(op: number, a: number, row: number, out: number, rows: number, cols: number, rowFirst: number): void;
  unary(op: number, x: number, out: number, n: number): void;
  reluGrad(x: number, dy: number, out: number, n: number): void;
  softmax(x: number, out: number, rows: number, cols: number): void;
  logSoftmax(x: number, out: number, rows: number, cols: number): void;
  softmaxCrossEntropy(labels: number, logits: number, out: number, rows: number, cols: number): void;
  crossEntropyFromLogSoftmax(labels: number, ls: number, out: number, rows: number, cols: number): void;
  rowSum(x: number, out: number, rows: number, cols: number): void;
  rowMax(x: number, out: number, rows: number, cols: number): void;
  colSum(x: number, out: number, rows: number, cols: number): void;
  fusedScratchBytes(): number;
  fusedRun(
    program: number,
    nInstr: number,
    inputs: number,
    out: number,
    start: number,
    end: number,
    scratch: number,
  ): void;
  // Convolution (assembly/conv.ts): geometry block, a range of rows / channels, this thread's scratch.
  convScratchBytes(): number;
  convGemm(geometry: number, start: number, end: number, scratch: number): void;
  convFilterGemm(geometry: number, start: number, end: number, scratch: number): void;
  convCol2im(geometry: number, start: number, end: number, scratch: number): void;
  // Windowed NHWC kernels (assembly/pool.ts, depthwise.ts): g is the geometry block (GEOM_* i32 fields).
  maxPool(g: number, x: number, out: number, r0: number, r1: number, c0: number, c1: number): void;
  avgPool(g: number, x: number, out: number, r0: number, r1: number, c0: number, c1: number): void;
  maxPoolGradGrad(g: number, x: number, gx: number, out: number, r0: number, r1: number, c0: number, c1: number): void;
  maxPoolGrad(g: number, x: number, dy: number, dx: number, b0: number, b1: number, c0: number, c1: number): void;
  avgPoolGrad(g: number, dy: number, dx: number, b0: number, b1: number, c0: number, c1: number): void;
  dwConv2d(g: number, x: number, f: number, out: number, r0: number, r1: number, c0: number, c1: number): void;
  dwConv2dInput(g: number, dy: number, f: number, dx: number, r0: number, r1: number, c0: number, c1: number): void;
  dwConv2dFilter(g: number, x: number, dy: number, df: number, c0: number, c1: number, acc: number): void;
  tileRow(row: number, length: number, out: number, start: number, end: number): void;
}

const EXPORTED: readonly (keyof KernelExports)[] = [
  'heapBase',
  'matmulScratchBytes',
  'matmul',
  'skinny',
  'packRows4',
  'skinnyPacked',
  'binary',
  'binaryRow',
  'unary',
  'reluGrad',
  'softmax',
  'logSoftmax',
  'softmaxCrossEntropy',
  'crossEntropyFromLogSoftmax',
  'rowSum',
  'rowMax',
  'colSum',
  'fusedScratchBytes',
  'fusedRun',
  'convScratchBytes',
  'convGemm',
  'convFilterGemm',
  'convCol2im',
  'maxPool',
  'avgPool',
  'maxPoolGradGrad',
  'maxPoolGrad',
  'avgPoolGrad',
  'dwConv2d',
  'dwConv2dInput',
  'dwConv2dFilter',
  'tileRow',
];

export const PAGE_BYTES = 65536;

export function webAssembly(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

// `single` imports an ordinary memory; `shared` a SharedArrayBuffer-backed one, which worker threads can share (made
// from `single` by variants.ts). The `-relaxed` variants use relaxed SIMD's fused multiply-add (Node 22+, Chrome,
// Firefox; not Node 20 or Safari).
const BASE64 = { single: WASM_SINGLE_BASE64, 'single-relaxed': WASM_SINGLE_RELAXED_BASE64 } as const;

const decoded: Partial<Record<ModuleKind, Uint8Array>> = {};
// Modules are immutable and can be instantiated any number of times, so one compilation serves every arena.
const compiled: Partial<Record<ModuleKind, object>> = {};

/** The module's bytes, decoded once. */
export function moduleBytes(kind: ModuleKind): Uint8Array {
  if (kind === 'shared') return (decoded[kind] ??= withSharedMemory(moduleBytes('single')));
  if (kind === 'shared-relaxed') return (decoded[kind] ??= withSharedMemory(moduleBytes('single-relaxed')));
  return (decoded[kind] ??= decodeBase64(BASE64[kind]));
}

/** Whether this engine validates the module: WebAssembly with 128-bit SIMD (and relaxed SIMD for `-relaxed`). */
export function wasmSupported(kind: ModuleKind = 'single'): boolean {
  const api = webAssembly();
  try {
    return api !== undefined && api.validate(moduleBytes(kind));
  } catch {
    return false;
  }
}

/** Whether shared WebAssembly memories can be created (browsers need cross-origin isolation for them). */
export function sharedMemorySupported(): boolean {
  const api = webAssembly();
  if (api === undefined || typeof SharedArrayBuffer !== 'function') return false;
  try {
    return new api.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

function requireApi(): WasmApi {
  const api = webAssembly();
  if (api === undefined) throw new Error('wasm kernels: this JavaScript engine has no WebAssembly');
  return api;
}

/** Compiles synchronously (Node; browsers allow it off the main thread or for small modules like this one). */
export function compileSync(kind: ModuleKind): object {
  return (compiled[kind] ??= new (requireApi().Module)(moduleBytes(kind)));
}

export async function compileAsync(kind: ModuleKind): Promise<object> {
  return (compiled[kind] ??= await requireApi().compile(moduleBytes(kind)));
}

export function createMemory(initialPages: number, maximumPages: number, shared: boolean): WasmMemory {
  return new (requireApi().Memory)({ initial: initialPages, maximum: maximumPages, shared });
}

export function instantiate(module: object, memory: WasmMemory): KernelExports {
  const instance = new (requireApi().Instance)(module, { env: { memory } });
  for (const name of EXPORTED) {
    if (typeof instance.exports[name] !== 'function') throw new Error(`wasm kernels: export ${name} is missing`);
  }
  return instance.exports as unknown as KernelExports;
}
