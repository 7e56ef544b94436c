import { GraphError, SessionError } from '../graph';
import type { OpRecord } from '../ops';
import { bindWasmKernels, type WasmBindingOptions } from './bindings';
import { loadWasmKernels, StartWorker, WasmBufKernels, wasmSupported, WorkerHandle } from './wasm';

/** Which kernels a session's plans call: WebAssembly SIMD where an op has one (float32), else JavaScript. */
export type Backend = 'wasm' | 'js';

type Kernel = NonNullable<OpRecord['kernel']>;

/** The arena is sized up front: growing a WebAssembly.Memory detaches buffers and slows typed arrays everywhere. */
const ARENA_BYTES = 256 << 20;

const loaded = new Map<number, WasmBufKernels | null>();

/**
 * A worker_threads helper in Node, found at call time (the core imports no Node module); undefined elsewhere, where
 * the kernels run on one thread.
 */
function nodeStartWorker(): StartWorker | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const threads = proc?.getBuiltinModule?.('node:worker_threads') as
    | {
        Worker: new (code: string, options: { eval: boolean; workerData: unknown }) => WorkerHandle & { unref(): void };
      }
    | undefined;
  if (threads === undefined) return undefined;
  return (source, init) => {
    const code = `${source}\nlazygradWasmWorker(process.getBuiltinModule('node:worker_threads').workerData);`;
    const worker = new threads.Worker(code, { eval: true, workerData: init });
    worker.unref(); // a helper never keeps the process alive
    return worker;
  };
}

/** A Worker as browsers have it (typed here: the build declares no DOM). */
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
}
interface WebGlobals {
  Worker?: new (url: string, options: { type: 'module'; name: string }) => WebWorker;
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
}

/**
 * A module worker in browsers (and Deno), made from the helper's source through a blob URL, so that no file has to
 * be served or bundled; it receives its init by message and starts once this thread returns to its event loop.
 */
function webStartWorker(): StartWorker | undefined {
  const web = globalThis as WebGlobals;
  const { Worker, Blob, URL } = web;
  if (Worker === undefined || Blob === undefined || URL === undefined) return undefined;
  return (source, init) => {
    const code = `${source}\nself.onmessage = function (event) { lazygradWasmWorker(event.data); };\n`;
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    const worker = new Worker(url, { type: 'module', name: 'lazygrad-wasm-helper' });
    worker.postMessage(init);
    return {
      startsLater: true,
      terminate: () => {
        worker.terminate();
        URL.revokeObjectURL(url);
      },
    };
  };
}

let warnedOneThread = false;

/** Says once per process why `threads: 2` runs on one thread. */
function warnOneThread(reason: string): void {
  if (warnedOneThread) return;
  warnedOneThread = true;
  const log = (globalThis as { console?: { warn(message: string): void } }).console;
  log?.warn(`lazygrad: threads: 2 runs on one thread: ${reason}`);
}

/** The process's wasm kernels for a thread count, loaded on first use (null where WebAssembly SIMD is unavailable). */
function wasmKernels(threads: 1 | 2): WasmBufKernels | null {
  let kernels = loaded.get(threads);
  if (kernels === undefined) {
    try {
      const startWorker = threads === 2 ? (nodeStartWorker() ?? webStartWorker()) : undefined;
      kernels = wasmSupported('single')
        ? new WasmBufKernels(
            loadWasmKernels({ initialBytes: ARENA_BYTES, threads: startWorker ? threads : 1, startWorker }),
          )
        : null;
      if (threads === 2 && kernels !== null && kernels.wasm.threadsStarted === 1) {
        warnOneThread(
          startWorker === undefined
            ? 'this runtime has no worker threads'
            : 'shared memory is unavailable (a page must be cross-origin isolated: COOP/COEP headers, docs/browser.md)',
        );
      }
    } catch {
      kernels = null;
    }
    loaded.set(threads, kernels);
  }
  return kernels;
}

const cachedOverrides = new Map<string, Map<string, Kernel> | null>();

/** What a session's plans run: kernels replacing the records' JS ones, and the wasm kernels owning the arena. */
export interface SessionKernels {
  readonly overrides: ReadonlyMap<string, Kernel>;
  /** The wasm kernels whose arena holds the session's buffers; null for the JS backend. */
  readonly wasm: WasmBufKernels | null;
}

/**
 * The kernels for a backend: none replaced for 'js'; for 'wasm', the ops with wasm kernels (each falls back to the JS
 * kernel for dtypes or layouts it does not cover). Asking for 'wasm' where it cannot load is a GraphError; the
 * default ('wasm' where it loads) never throws. `forms` chooses among the wasm kernels' forms (WasmBindingOptions:
 * jitted fused groups, tanh's form).
 */
export function sessionKernels(
  backend: Backend | undefined,
  threads: 1 | 2 = 1,
  forms: WasmBindingOptions = {},
): SessionKernels {
  // Session checks its options; this guards direct callers too, as each thread count loads a 256 MB memory.
  if (backend !== undefined && backend !== 'wasm' && backend !== 'js') {
    throw new SessionError(`sessionKernels: backend is ${String(backend)}; valid: 'wasm' or 'js'`);
  }
  if (threads !== 1 && threads !== 2)
    throw new SessionError(`sessionKernels: threads is ${String(threads)}; valid: 1 or 2`);
  if (backend === 'js') return { overrides: new Map(), wasm: null };
  const jit = forms.jit ?? true;
  const fastTanh = forms.fastTanh ?? false;
  const key = `${threads}:${jit}:${fastTanh}`;
  if (!cachedOverrides.has(key)) {
    const kernels = wasmKernels(threads);
    cachedOverrides.set(key, kernels === null ? null : bindWasmKernels(kernels, { jit, fastTanh }));
  }
  const overrides = cachedOverrides.get(key) as Map<string, Kernel> | null;
  if (overrides === null) {
    if (backend === 'wasm') {
      throw new GraphError("Session: backend 'wasm' needs WebAssembly with 128-bit SIMD, which this engine lacks");
    }
    return { overrides: new Map(), wasm: null };
  }
  return { overrides, wasm: wasmKernels(threads) };
}
