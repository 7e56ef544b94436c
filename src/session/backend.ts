import { GraphError } from '../graph';
import { OpRecord } from '../ops';
import { loadWasmKernels, WasmBufKernels, WasmUnaryOp, wasmSupported } from '../ops/kernels/wasm';

/** Which kernels a session's plans call: WebAssembly SIMD where an op has one (float32), else JavaScript. */
export type Backend = 'wasm' | 'js';

type Kernel = NonNullable<OpRecord['kernel']>;

/** The arena is sized up front: growing a WebAssembly.Memory detaches buffers and slows typed arrays everywhere. */
const ARENA_BYTES = 256 << 20;

let wasm: WasmBufKernels | null | undefined;

/** The process's wasm kernels, loaded on first use (null where WebAssembly SIMD is unavailable). */
function wasmKernels(): WasmBufKernels | null {
  if (wasm === undefined) {
    try {
      wasm = wasmSupported('single') ? new WasmBufKernels(loadWasmKernels({ initialBytes: ARENA_BYTES })) : null;
    } catch {
      wasm = null;
    }
  }
  return wasm;
}

/** Unary ops whose wasm kernel (vectorized polynomial, float32-accurate) beats the JS loop over Math functions. */
const WASM_UNARY: readonly WasmUnaryOp[] = ['exp', 'tanh', 'sigmoid'];

function overridesFor(kernels: WasmBufKernels): Map<string, Kernel> {
  const table = new Map<string, Kernel>([
    ['matMul', ([a, b], out, attrs) => kernels.matMul(a, b, out, attrs.transposeA === true, attrs.transposeB === true)],
    ['softmax', ([x], out, attrs) => kernels.softmax(x, attrs.axis as number, out)],
    ['logSoftmax', ([x], out, attrs) => kernels.logSoftmax(x, attrs.axis as number, out)],
    [
      'softmaxCrossEntropyWithLogits',
      ([labels, logits], out, attrs) => kernels.softmaxCrossEntropy(labels, logits, attrs.axis as number, out),
    ],
  ]);
  for (const op of WASM_UNARY) table.set(op, ([x], out) => kernels.unary(op, x, out));
  return table;
}

let cachedOverrides: Map<string, Kernel> | null | undefined;

/**
 * The kernels that replace the records' JS kernels for a backend: none for 'js'; for 'wasm', the ops with wasm
 * kernels (each falls back to the JS kernel for dtypes or layouts it does not cover). Asking for 'wasm' where it
 * cannot load is a GraphError; the default ('wasm' where it loads) never throws.
 */
export function kernelOverrides(backend: Backend | undefined): ReadonlyMap<string, Kernel> {
  if (backend === 'js') return new Map();
  if (cachedOverrides === undefined) {
    const kernels = wasmKernels();
    cachedOverrides = kernels === null ? null : overridesFor(kernels);
  }
  if (cachedOverrides === null) {
    if (backend === 'wasm') {
      throw new GraphError("Session: backend 'wasm' needs WebAssembly with 128-bit SIMD, which this engine lacks");
    }
    return new Map();
  }
  return cachedOverrides;
}

/** Ops fusion should leave to their own kernels under these overrides (a wasm exp beats exp inside a JS loop). */
export function unfusedUnder(overrides: ReadonlyMap<string, Kernel>): readonly string[] {
  return WASM_UNARY.filter((op) => overrides.has(op));
}
