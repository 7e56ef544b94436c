/**
 * The backends a session's plans run on: the wasm kernels (src/backend/wasm), the binding table saying which op runs
 * which of them (bindings.ts), and the choice per session (backend.ts). Sits above ops, below session.
 */
export * from './backend';
export { WASM_BINDINGS, bindWasmKernels, unfusedUnder } from './bindings';
export type { WasmBindingOptions } from './bindings';
export type { WasmBinding, WasmRun } from './bindings';
export * from './wasm';
