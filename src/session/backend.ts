import { GraphError } from '../graph';
import { allOps, opRecord, OpRecord } from '../ops';
import {
  Activation,
  loadWasmKernels,
  StartWorker,
  FUSED_WASM_OPS,
  FusedProgramStep,
  WasmBinaryOp,
  WasmBufKernels,
  WasmUnaryOp,
  wasmSupported,
  WorkerHandle,
} from '../ops/kernels/wasm';

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

/** The process's wasm kernels for a thread count, loaded on first use (null where WebAssembly SIMD is unavailable). */
function wasmKernels(threads: 1 | 2): WasmBufKernels | null {
  let kernels = loaded.get(threads);
  if (kernels === undefined) {
    try {
      const startWorker = threads === 2 ? nodeStartWorker() : undefined;
      kernels = wasmSupported('single')
        ? new WasmBufKernels(
            loadWasmKernels({ initialBytes: ARENA_BYTES, threads: startWorker ? threads : 1, startWorker }),
          )
        : null;
    } catch {
      kernels = null;
    }
    loaded.set(threads, kernels);
  }
  return kernels;
}

/** Unary ops with wasm kernels: in a fused group they run in the interpreter, alone as these kernels. */
const WASM_UNARY: readonly WasmUnaryOp[] = ['exp', 'tanh', 'sigmoid', 'log'];
const SINGLE_UNARY: readonly WasmUnaryOp[] = ['relu', 'neg', 'abs', 'sqrt', 'square'];
const WASM_BINARY: readonly WasmBinaryOp[] = ['add', 'sub', 'mul', 'div'];
const SMALL = 256;
/** Elements × ops below which a fused group keeps its JS kernel. */
const SMALL_FUSED_WORK = 1024;

function overridesFor(kernels: WasmBufKernels): Map<string, Kernel> {
  const fusedJs = recordKernel('fused');
  const table = new Map<string, Kernel>([
    ['matMul', ([a, b], out, attrs) => kernels.matMul(a, b, out, attrs.transposeA === true, attrs.transposeB === true)],
    [
      'fusedMatMul',
      ([a, b, bias], out, attrs) =>
        kernels.matMul(
          a,
          b,
          out,
          attrs.transposeA === true,
          attrs.transposeB === true,
          bias,
          (attrs.activation ?? 'none') as Activation,
        ),
    ],
    ['softmax', ([x], out, attrs) => kernels.softmax(x, attrs.axis as number, out)],
    ['logSoftmax', ([x], out, attrs) => kernels.logSoftmax(x, attrs.axis as number, out)],
    [
      'softmaxCrossEntropyWithLogits',
      ([labels, logits], out, attrs) => kernels.softmaxCrossEntropy(labels, logits, attrs.axis as number, out),
    ],
    ['reluGrad', ([dy, x], out) => kernels.reluGrad(x, dy, out)],
    [
      'fused',
      (inputs, out, attrs, context) => {
        const steps = attrs.steps as unknown as FusedProgramStep[];
        // A small group (a chain of scalar ops, say) costs less in the generated JS loop than a wasm call's setup.
        const small = !Array.isArray(steps) || out.data.length * steps.length < SMALL_FUSED_WORK;
        if (small || !kernels.fused(inputs, out, steps, attrs)) fusedJs(inputs, out, attrs, context);
      },
    ],
    ['sum', ([x], out, attrs) => kernels.reduce('sum', x, attrs.axes as number[], out)],
    ['max', ([x], out, attrs) => kernels.reduce('max', x, attrs.axes as number[], out)],
  ]);
  for (const op of WASM_UNARY) table.set(op, ([x], out) => kernels.unary(op, x, out));
  for (const op of SINGLE_UNARY) table.set(op, ([x], out) => kernels.unary(op, x, out));
  for (const op of WASM_BINARY) table.set(op, ([a, b], out) => kernels.binary(op, a, b, out));
  // Below a few hundred elements the checks around a wasm call cost more than the JS loop.
  for (const op of [...SINGLE_UNARY, ...WASM_BINARY, 'reluGrad', 'sum', 'max']) {
    const wasm = table.get(op) as Kernel;
    const js = recordKernel(op);
    table.set(op, (inputs, out, attrs, context) => {
      let small = out.data.length < SMALL;
      for (let i = 0; small && i < inputs.length; i++) small = inputs[i].data.length < SMALL;
      if (small) js(inputs, out, attrs, context);
      else wasm(inputs, out, attrs, context);
    });
  }
  // Other dtypes run the op's own kernel (the wasm kernels are float32; int32 division, say, is not theirs).
  for (const [op, kernel] of table) table.set(op, float32Only(kernel, recordKernel(op)));
  return table;
}

/** The record's own kernel, read at each call (a test may swap a record's kernel to make a step fail). */
function recordKernel(op: string): Kernel {
  const record = opRecord(op);
  return (inputs, out, attrs, context) => (record.kernel as Kernel)(inputs, out, attrs, context);
}

/** The wasm kernel on float32 arguments, the record's JS kernel otherwise. */
function float32Only(wasm: Kernel, js: Kernel): Kernel {
  return (inputs, out, attrs, context) => {
    let f32 = out.data instanceof Float32Array;
    for (let i = 0; f32 && i < inputs.length; i++) f32 = inputs[i].data instanceof Float32Array;
    if (f32) wasm(inputs, out, attrs, context);
    else js(inputs, out, attrs, context);
  };
}

const cachedOverrides = new Map<number, Map<string, Kernel> | null>();

/** What a session's plans run: kernels replacing the records' JS ones, and the wasm kernels owning the arena. */
export interface SessionKernels {
  readonly overrides: ReadonlyMap<string, Kernel>;
  /** The wasm kernels whose arena holds the session's buffers; null for the JS backend. */
  readonly wasm: WasmBufKernels | null;
}

/**
 * The kernels for a backend: none replaced for 'js'; for 'wasm', the ops with wasm kernels (each falls back to the JS
 * kernel for dtypes or layouts it does not cover). Asking for 'wasm' where it cannot load is a GraphError; the
 * default ('wasm' where it loads) never throws.
 */
export function sessionKernels(backend: Backend | undefined, threads: 1 | 2 = 1): SessionKernels {
  if (backend === 'js') return { overrides: new Map(), wasm: null };
  if (!cachedOverrides.has(threads)) {
    const kernels = wasmKernels(threads);
    cachedOverrides.set(threads, kernels === null ? null : overridesFor(kernels));
  }
  const overrides = cachedOverrides.get(threads) as Map<string, Kernel> | null;
  if (overrides === null) {
    if (backend === 'wasm') {
      throw new GraphError("Session: backend 'wasm' needs WebAssembly with 128-bit SIMD, which this engine lacks");
    }
    return { overrides: new Map(), wasm: null };
  }
  return { overrides, wasm: wasmKernels(threads) };
}

/**
 * Ops fusion should leave to their own kernels under these overrides. With wasm, fused groups run in the wasm
 * interpreter, which knows most elementwise ops; the few it does not (pow, trigonometry, where, floorDiv, …) stay
 * out of groups, so that every float32 group runs in wasm rather than the whole group falling back to JavaScript.
 */
export function unfusedUnder(overrides: ReadonlyMap<string, Kernel>): readonly string[] {
  if (!overrides.has('fused')) return [];
  const interpreted = new Set(FUSED_WASM_OPS);
  return allOps()
    .filter((r) => r.template !== undefined && !interpreted.has(r.name))
    .map((r) => r.name);
}
