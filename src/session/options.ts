/**
 * The options of `new Session` and of `Session.run`, and their one check: each option is one row of a table (its
 * name and what it accepts), so an unknown key, a misspelt one or a value of the wrong kind is refused with a
 * SessionError that says what is valid, before anything is loaded or compiled.
 */
import { Graph, SessionError } from '../graph';
import { allOps } from '../ops';
import { OptimizeOptions, pipelineFor } from '../passes';
import type { Backend } from '../backend';
import type { Trace } from './numerics';
import type { OnnxRuntimeOption } from './ort/module';

export interface SessionOptions {
  /**
   * The optimization passes: `false` for none (level 0), `true` or omitted for the default (level 2), or
   * `{ level, disable, verify }`. Pruning to what the fetches need always happens.
   */
  optimize?: boolean | OptimizeOptions;
  /**
   * The kernels: 'wasm' (default where WebAssembly SIMD loads) runs matMul, softmax, cross-entropy and exp/tanh/
   * sigmoid as wasm SIMD kernels on float32 and everything else in JavaScript; 'js' runs only the JavaScript
   * kernels (the reference implementation); 'onnxruntime' hands each compiled plan to ONNX Runtime
   * (onnxruntime-node, or onnxruntime-web in browsers: an optional peer dependency), run with `runAsync`
   * (docs/backends.md).
   */
  backend?: Backend | 'onnxruntime';
  /**
   * 2 splits large wasm matMuls and elementwise steps with a helper thread over shared memory (Node, and
   * cross-origin-isolated browser pages once `sess.ready()` resolves; runs stay synchronous); 1 (default) keeps to
   * one thread. Falls back to 1, with a console warning once, where shared memory or workers are unavailable;
   * `sess.threads` says what the session got. With backend 'onnxruntime': ONNX Runtime's intra-op threads (any
   * whole number from 1 to 64; default 1).
   */
  threads?: number;
  /**
   * With backend 'onnxruntime': ONNX Runtime's execution providers, in order of preference, as its
   * `InferenceSession.create` takes them (e.g. `['cuda', 'cpu']`; default: its CPU provider).
   */
  executionProviders?: readonly (string | { readonly name: string })[];
  /**
   * With backend 'onnxruntime': the ONNX Runtime module itself (e.g. `import * as ort from 'onnxruntime-web'`),
   * or a function loading it, instead of the package loaded at the first run (for bundlers).
   */
  onnxruntime?: OnnxRuntimeOption;
  /**
   * Scan every float step's output; the first NaN or ±Inf throws a NumericsError naming the node, op, inputs and
   * element (slower: for debugging). A run's own `checkNumerics` overrides this.
   */
  checkNumerics?: boolean;
  /**
   * The most bytes one allocation of a run may take (default 1 GiB, `DEFAULT_MAX_BYTES`): each step's output and
   * the plan's reused buffers together. A fed shape that needs more is a ResourceExhaustedError before anything
   * is allocated.
   */
  maxBytes?: number;
  /**
   * Under the wasm backend, compile each fused elementwise group to WebAssembly on its first run (true, default;
   * one module per group structure, cached) or run it in the wasm block interpreter (false: the comparison the
   * benchmarks make). Results are the same bit for bit; see docs/wasm.md, "JIT".
   */
  jit?: boolean;
  /**
   * Under the wasm backend, compute float32 tanh as ONNX Runtime, TensorFlow (Eigen) and XLA do on CPU: a rational
   * approximation, one division and no exp, within 7 ulp of the exact value (default false: lazygrad's own, within
   * 2 ulp). It covers every tanh the wasm kernels compute: the tanh op, fused groups, and fusedMatMul and fusedConv2d
   * epilogues; float64, fused groups small enough for their JS loop and the 'js' backend keep `Math.tanh`. The 8-op
   * elementwise chain of docs/benchmarks.md runs ~1.45× faster with it, level with ONNX Runtime. See docs/wasm.md,
   * "tanh's two forms".
   */
  fastTanh?: boolean;
  /**
   * The recomputation that `gradients(…, { remat })` and `checkpoint(fn)` built into the graph: 'graph' (default)
   * runs it; 'none' compiles the graph without it (every forward value kept, as if built without remat); 'auto'
   * also recomputes cheap values (elementwise, movement) that are live across the plan's peak (the `remat` pass).
   */
  remat?: 'graph' | 'none' | 'auto';
  /**
   * A cap on the bytes this session holds while a run runs: the plan's reused buffers, its results, the wasm staging
   * it reserves, the session's variables and other cached plans' buffers (dropped, oldest first, to make room). A
   * plan that would exceed it is a RuntimeError naming its need and the cap, before anything is allocated. Default:
   * none (only `maxBytes` per allocation).
   */
  memoryLimit?: number;
  /**
   * When an assign's value goes into its variable: 'early' (default) writes a training update as soon as it is
   * computed once no later step of the run can fail and nothing later reads the variable's old value (its buffer is
   * then free for the rest of the step; other updates wait for the end); 'end-of-run' writes every assign after the
   * last step. Either way a run that throws changes no variable, and the values are the same bit for bit.
   */
  writeUpdates?: 'early' | 'end-of-run';
}

/** Per-run options of `Session.run`. */
export interface RunOptions {
  /** Scan every float step's output for NaN and ±Inf (see SessionOptions.checkNumerics). */
  checkNumerics?: boolean;
  /** Time every step and record its output bytes into `session.lastTrace` (see formatTrace). */
  trace?: boolean;
  /** Called with the trace of the run (implies `trace`). */
  onTrace?: (trace: Trace) => void;
  /**
   * `false` hands out computed results as views of the plan's buffers (the wasm arena: no copy out of it, no fresh
   * array), valid until this session's next run or `dispose()`; reading one after that throws a RuntimeError.
   * Default `true`: fresh arrays that no later run touches.
   */
  copy?: boolean;
}

/** Checks one option's value; returns what is valid when the value is not (null when it is). */
export type OptionCheck = (value: unknown, name: string) => string | null;

/** A value as a message shows it: strings quoted, the kind of anything that is not a number or boolean. */
function shown(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value.slice(0, 80))} (a string)`;
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const simple = value.length <= 8 && value.every((v) => typeof v === 'string' || typeof v === 'number');
    return simple ? JSON.stringify(value).slice(0, 200) : 'an array';
  }
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

function listed(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

function isRecord(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One of a few literal values. */
export function oneOf(values: readonly (string | number)[]): OptionCheck {
  const valid = listed(values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))));
  return (value) => (values.includes(value as string | number) ? null : valid);
}

export const isBoolean: OptionCheck = (value) => (typeof value === 'boolean' ? null : 'true or false');

export const isFunction: OptionCheck = (value) => (typeof value === 'function' ? null : 'a function');

/** A whole number from `min` to `max` (for size and count limits). */
export function integerIn(min: number, max: number): OptionCheck {
  return (value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? null
      : `a whole number from ${min} to ${max}`;
}

/** A number above 0 (a byte count; fractions are allowed, as a limit). */
export const isPositiveNumber: OptionCheck = (value) =>
  typeof value === 'number' && value > 0 ? null : 'a number of bytes above 0';

/** An array of names, each one of `valid()` (computed when first needed: the op and pass tables). */
function namesOf(what: string, valid: () => readonly string[]): OptionCheck {
  return (value) => {
    const known = valid();
    const unknown = Array.isArray(value) ? value.filter((v) => !known.includes(v as string)) : [];
    if (Array.isArray(value) && unknown.length === 0) return null;
    const which = unknown.length === 0 ? '' : ` (${unknown.map((u) => JSON.stringify(u)).join(', ')} is not one)`;
    return `an array of ${what} names: ${known.map((k) => `'${k}'`).join(', ')}${which}`;
  };
}

/** The names of the passes `optimize.disable` may name: every pass of the default (fullest) pipeline. */
function passNames(): readonly string[] {
  const { rewrite, lower } = pipelineFor({ level: 2 }, true);
  return [...new Set([...rewrite, ...lower].map((p) => p.name))];
}

const OPTIMIZE_OPTIONS: { readonly [K in keyof Required<OptimizeOptions>]: OptionCheck } = {
  level: oneOf([0, 1, 2]),
  disable: namesOf('pass', passNames),
  verify: isBoolean,
  keepUnfused: namesOf('op', () => allOps().map((r) => r.name)),
  remat: oneOf(['graph', 'none', 'auto']),
};

/** 1 or 2 threads; with the ONNX Runtime backend up to 64 (checked against the backend by the session). */
const checkThreads: OptionCheck = (value) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 64
    ? null
    : "1 or 2 (with backend 'onnxruntime': a whole number from 1 to 64)";

const checkProviders: OptionCheck = (value) =>
  Array.isArray(value) &&
  value.every((p) => typeof p === 'string' || (isRecord(p) && typeof (p as { name?: unknown }).name === 'string'))
    ? null
    : "an array of execution provider names or { name, … } objects, e.g. ['cpu']";

const checkOptimize: OptionCheck = (value, name) => {
  if (typeof value === 'boolean') return null;
  if (!isRecord(value)) return 'true, false or { level, disable, verify }';
  checkOptions(OPTIMIZE_OPTIONS, value, 'new Session', `${name}.`);
  return null;
};

/** Every option of `new Session`, with what it accepts: an option added to SessionOptions needs its row here. */
const SESSION_OPTIONS: { readonly [K in keyof Required<SessionOptions>]: OptionCheck } = {
  optimize: checkOptimize,
  backend: oneOf(['wasm', 'js', 'onnxruntime']),
  threads: checkThreads,
  executionProviders: checkProviders,
  onnxruntime: (value) =>
    typeof value === 'function' || (isRecord(value) && 'InferenceSession' in value && 'Tensor' in value)
      ? null
      : 'the onnxruntime module (with InferenceSession and Tensor) or a function loading it',
  checkNumerics: isBoolean,
  maxBytes: isPositiveNumber,
  jit: isBoolean,
  fastTanh: isBoolean,
  remat: oneOf(['graph', 'none', 'auto']),
  memoryLimit: isPositiveNumber,
  writeUpdates: oneOf(['early', 'end-of-run']),
};

/** Every option of `Session.run`. */
const RUN_OPTIONS: { readonly [K in keyof Required<RunOptions>]: OptionCheck } = {
  checkNumerics: isBoolean,
  trace: isBoolean,
  onTrace: isFunction,
  copy: isBoolean,
};

/** Checks an options object against a table; `undefined` values mean the default. Throws a SessionError. */
function checkOptions(
  table: { readonly [key: string]: OptionCheck },
  options: { readonly [key: string]: unknown },
  where: string,
  prefix: string,
): void {
  const noun = where === 'Session.run' ? 'run option' : 'option';
  for (const key of Object.keys(options)) {
    const name = `${prefix}${key}`;
    if (!Object.hasOwn(table, key)) {
      throw new SessionError(`${where}: unknown ${noun} '${name}'; valid: ${Object.keys(table).join(', ')}`);
    }
    const value = options[key];
    if (value === undefined) continue;
    const valid = table[key](value, name);
    if (valid !== null) throw new SessionError(`${where}: ${noun} ${name} is ${shown(value)}; valid: ${valid}`);
  }
}

/** Checks the arguments of `new Session(graph, options)`. */
export function checkSessionArguments(graph: unknown, options: unknown): SessionOptions {
  if (!(graph instanceof Graph)) {
    throw new SessionError(`new Session(graph, options): expected a Graph, got ${shown(graph)}`);
  }
  if (options === undefined) return {};
  if (!isRecord(options)) {
    throw new SessionError(`new Session(graph, options): options must be an object, got ${shown(options)}`);
  }
  checkOptions(SESSION_OPTIONS, options, 'new Session', '');
  const { backend, threads, executionProviders, onnxruntime } = options as SessionOptions;
  if (backend !== 'onnxruntime') {
    if (threads !== undefined && threads !== 1 && threads !== 2) {
      throw new SessionError(
        `new Session: option threads is ${shown(threads)}; valid: 1 or 2 (more only with backend 'onnxruntime')`,
      );
    }
    const only =
      executionProviders !== undefined ? 'executionProviders' : onnxruntime !== undefined ? 'onnxruntime' : null;
    if (only !== null) {
      throw new SessionError(
        `new Session: option ${only} applies only to backend 'onnxruntime' (backend is ${shown(backend ?? 'wasm')})`,
      );
    }
  }
  return options as SessionOptions;
}

/** Checks the options of one `Session.run`. */
export function checkRunOptions(options: unknown): RunOptions | undefined {
  if (options === undefined) return undefined;
  if (!isRecord(options)) {
    throw new SessionError(`Session.run: run options must be an object, got ${shown(options)}`);
  }
  checkOptions(RUN_OPTIONS, options, 'Session.run', '');
  return options as RunOptions;
}
