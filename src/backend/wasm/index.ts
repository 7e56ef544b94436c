/**
 * WebAssembly SIMD kernels (compiled from assembly/ by scripts/build-wasm.js, embedded as base64). See docs/wasm.md.
 * The JS kernels in src/ops/kernels stay the reference: every wasm kernel is tested against them.
 */
export { WasmArena, ALIGN, alignUp } from './arena';
export { wasmSupported, sharedMemorySupported } from './instance';
export type { ModuleKind, WasmMemory } from './instance';
export { chooseModuleKind, withSharedMemory } from './variants';
export type { WasmFeatures } from './variants';
export { WORKER_SOURCE } from './helper';
export type { HelperInit, StartWorker, WorkerHandle } from './helper';
export { WasmKernels, loadWasmKernels, loadWasmKernelsAsync } from './kernels';
export type { WasmActivation, WasmBinaryOp, WasmUnaryOp, WasmKernelOptions, WasmConvGeometry } from './kernels';
export { WasmBufKernels } from './buffers';
export { compileFusedProgram, FUSED_WASM_OPS } from './program';
export type { FusedInputKind, FusedProgramOptions, FusedProgramStep } from './program';
export { FUSED_MAX_INPUTS, FUSED_WORDS } from './opcodes.generated';
export type { WindowGeometry } from './kernels';
