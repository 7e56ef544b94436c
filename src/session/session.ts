/**
 * The Session: what a user holds. It caches compiled plans (compile.ts), hands them to its Executor (execute.ts),
 * and holds the variables (variables.ts); checkpoints and traces are in checkpoint.ts and numerics.ts.
 */
import { Graph, NDArray, Tensor } from '../graph';
import { OpRecord } from '../ops';
import { OptimizeOptions } from '../passes';
import { Backend, sessionKernels, unfusedUnder } from '../backend';
import { decodeVariables, encodeVariables, restoreCheckpoint, saveCheckpoint } from './checkpoint';
import { checkOpTable, compilePlan } from './compile';
import { Executor } from './execute';
import { buildResult, checkGraph, collectFetches, Fetch, FetchResult, Feeds, normalizeFeeds } from './fetches';
import { ArenaPlacement } from './placement';
import { formatPlan, Plan } from './plan';
import { VariableStore } from './variables';
import { makeTrace, Trace, TraceEntry } from './numerics';

export { formatTrace } from './numerics';
export type { Trace, TraceEntry } from './numerics';

export { CheckpointError, decodeSafetensors, encodeSafetensors } from './checkpoint';
export type { CheckpointEntry, DecodedCheckpoint } from './checkpoint';

export type { Fetch, FetchResult, Feeds } from './fetches';

export interface SessionOptions {
  /**
   * The optimization passes: `false` for none (level 0), `true` or omitted for the default (level 2), or
   * `{ level, disable, verify }`. Pruning to what the fetches need always happens.
   */
  optimize?: boolean | OptimizeOptions;
  /**
   * The kernels: 'wasm' (default where WebAssembly SIMD loads) runs matMul, softmax, cross-entropy and exp/tanh/
   * sigmoid as wasm SIMD kernels on float32 and everything else in JavaScript; 'js' runs only the JavaScript
   * kernels (the reference implementation).
   */
  backend?: Backend;
  /**
   * 2 splits large wasm matMuls and elementwise steps with a helper thread over shared memory (Node; runs stay
   * synchronous); 1 (default) keeps to one thread. Falls back to 1 where shared memory or workers are unavailable.
   */
  threads?: 1 | 2;
  /**
   * Scan every float step's output; the first NaN or ±Inf throws a NumericsError naming the node, op, inputs and
   * element (slower: for debugging). A run's own `checkNumerics` overrides this.
   */
  checkNumerics?: boolean;
}

/** Per-run options of `Session.run`. */
export interface RunOptions {
  /** Scan every float step's output for NaN and ±Inf (see SessionOptions.checkNumerics). */
  checkNumerics?: boolean;
  /** Time every step and record its output bytes into `session.lastTrace` (see formatTrace). */
  trace?: boolean;
  /** Called with the trace of the run (implies `trace`). */
  onTrace?: (trace: Trace) => void;
}

const PLAN_CACHE_LIMIT = 64;

/**
 * Runs fetches of a graph with feeds. Each distinct (fetches, fed tensors, fed shapes) is compiled once into
 * a cached plan (compile.ts) and run by the session's Executor (execute.ts). Variables hold their values per session.
 *
 * @example
 * const sess = new Session(g);
 * const out = sess.run(y, { x: [[1, 2, 3]] });
 */
export class Session {
  readonly graph: Graph;
  private readonly optimizeOptions: OptimizeOptions;
  private readonly kernels: ReadonlyMap<string, NonNullable<OpRecord['kernel']>>;
  /** Where planned buffers and variables live with the wasm backend; null with the JS backend. */
  private readonly placement: ArenaPlacement | null;
  /** The backend this session's plans run on ('js' when wasm was asked for by default but cannot load). */
  readonly backend: Backend;
  private readonly plans = new Map<string, Plan>();
  private readonly store: VariableStore;
  private readonly executor: Executor;
  private readonly checkNumerics: boolean;
  /** The trace of the last run made with `{ trace: true }` or `onTrace`, even one that threw. */
  lastTrace: Trace | undefined = undefined;

  constructor(graph: Graph, options: SessionOptions = {}) {
    checkOpTable();
    this.graph = graph;
    const optimize = options.optimize ?? true;
    const chosen: OptimizeOptions = typeof optimize === 'boolean' ? { level: optimize ? 2 : 0 } : optimize;
    const kernels = sessionKernels(options.backend, options.threads ?? 1);
    this.kernels = kernels.overrides;
    this.placement = kernels.wasm === null ? null : new ArenaPlacement(kernels.wasm);
    this.store = new VariableStore(this.placement, this);
    this.executor = new Executor(this.placement, this.store, this.kernels, this.initialValue);
    this.backend = this.kernels.size > 0 ? 'wasm' : 'js';
    const keepUnfused = unfusedUnder(this.kernels);
    this.optimizeOptions = keepUnfused.length === 0 ? chosen : { ...chosen, keepUnfused };
    this.checkNumerics = options.checkNumerics === true;
  }

  /** Number of plans compiled and cached so far. */
  get cachedPlans(): number {
    return this.plans.size;
  }

  /**
   * Computes the fetches. Assign nodes among them write their variables after every fetch has been
   * computed from the previous values; if anything fails, no variable changes and the plan cache is as before.
   *
   * @example sess.run({ y, grads: [dw, dx] }, new Map([[x, NDArray.from([[1, 2, 3]])]]), { checkNumerics: true })
   */
  // `const F`: an array literal of fetches is a tuple, so `const [a, b] = sess.run([x, y])` gives two NDArrays.
  run<const F extends Fetch>(fetches: F, feeds?: Feeds, options?: RunOptions): FetchResult<F> {
    const tensors: Tensor[] = [];
    collectFetches(fetches, tensors);
    const unique = [...new Set(tensors.map((t) => t.id))];
    for (const t of tensors) checkGraph(this.graph, t, 'fetch');
    const fed = normalizeFeeds(this.graph, feeds);
    const { key, plan, cached } = this.planFor(unique, fed);
    const check = options?.checkNumerics ?? this.checkNumerics;
    const traced = options !== undefined && (options.trace === true || options.onTrace !== undefined);
    const entries: TraceEntry[] | null = traced ? [] : null;
    let values: NDArray[];
    try {
      values = this.executor.execute(plan, fed, check || traced ? { check, entries } : null);
    } catch (error) {
      // A plan that never ran successfully is not cached: give its arena block back now, not at collection.
      if (!cached) this.executor.drop(plan);
      throw error;
    } finally {
      if (entries !== null) this.lastTrace = makeTrace(entries);
    }
    if (entries !== null) options?.onTrace?.(this.lastTrace as Trace);
    // A plan enters the cache only once a run with it succeeded, so a failed run leaves the cache as it was.
    if (!cached) this.cachePlan(key, plan);
    const byId = new Map<number, NDArray>();
    unique.forEach((id, i) => byId.set(id, values[i]));
    return buildResult(fetches, byId) as FetchResult<F>;
  }

  /**
   * The compiled plan for some fetches as text: each pass's report, the optimized IR and its outputs.
   * Feeds are optional; without them, placeholders keep their static shapes.
   */
  explain(fetches: Fetch, feeds?: Feeds): string {
    const tensors: Tensor[] = [];
    collectFetches(fetches, tensors);
    const fed = normalizeFeeds(this.graph, feeds);
    const ids = [...new Set(tensors.map((t) => t.id))];
    return formatPlan(compilePlan(this.graph, ids, fed, this.optimizeOptions, this.kernels, true));
  }

  /** The current value of a variable in this session (initialized on first use). */
  variableValue(variable: Tensor): NDArray {
    return this.run(variable);
  }

  /**
   * Every variable's current value (a variable this session never ran: its initial value), as copies: e.g. the
   * trained weights to export.
   *
   * @example exportOnnx(g, { outputs: { logits }, values: sess.variableValues() })
   */
  variableValues(): Map<Tensor, NDArray> {
    const values = new Map<Tensor, NDArray>();
    for (const v of this.graph.variables()) values.set(v, this.currentValue(v.id).clone());
    return values;
  }

  /**
   * Every variable's current value (a variable this session never ran: its initial value) as safetensors bytes,
   * optimizer slots included: they are variables too.
   *
   * @example const bytes = sess.serializeVariables()
   */
  serializeVariables(): Uint8Array {
    return encodeVariables(this.graph, this.currentValue);
  }

  /**
   * Sets every variable from safetensors bytes. The checkpoint must hold exactly the graph's variables with their
   * shapes and dtypes; otherwise a CheckpointError lists every difference and no variable changes.
   *
   * @example sess.restoreVariables(bytes)
   */
  restoreVariables(bytes: Uint8Array): void {
    for (const [id, value] of decodeVariables(this.graph, bytes)) this.store.set(id, value);
  }

  /**
   * Writes `serializeVariables()` to a file (Node.js): to a temporary file first, renamed into place, so a crash
   * never leaves a half-written checkpoint.
   *
   * @example sess.save('out/model.safetensors')
   */
  save(path: string): void {
    saveCheckpoint(this, path, 'Session.save');
  }

  /**
   * Restores every variable from a checkpoint file written by `save` or another safetensors writer (Node.js).
   * A failed restore changes nothing.
   *
   * @example sess.restore('out/model.safetensors')
   */
  restore(path: string): void {
    restoreCheckpoint(this, path, 'Session.restore');
  }

  /**
   * Gives the session's wasm arena memory back now (planned buffers, variables) instead of when the session is
   * collected. The session stays usable: its variables keep their values, and a later run takes memory again.
   */
  dispose(): void {
    if (this.placement === null) return;
    this.store.release();
    for (const plan of this.plans.values()) this.executor.drop(plan);
    this.plans.clear();
  }

  /** A variable's initial value, from the user's graph. */
  private readonly initialValue = (id: number): NDArray => this.graph.node(id).value as NDArray;

  /** A variable's value in this session, or its initial value if no run has read it. */
  private readonly currentValue = (id: number): NDArray => this.store.get(id) ?? this.initialValue(id);

  private planFor(
    fetchIds: readonly number[],
    feeds: ReadonlyMap<number, NDArray>,
  ): { key: string; plan: Plan; cached: boolean } {
    const fedIds = [...feeds.keys()].sort((a, b) => a - b);
    const fed = fedIds.map((id) => `${id}:${(feeds.get(id) as NDArray).shape.join('x')}`);
    const key = `${fetchIds.join(',')}|${fed.join(',')}`;
    const plan = this.plans.get(key);
    if (plan !== undefined) return { key, plan, cached: true };
    return {
      key,
      plan: compilePlan(this.graph, fetchIds, feeds, this.optimizeOptions, this.kernels, false),
      cached: false,
    };
  }

  private cachePlan(key: string, plan: Plan): void {
    if (this.plans.size >= PLAN_CACHE_LIMIT) {
      const oldest = this.plans.keys().next().value as string;
      this.executor.drop(this.plans.get(oldest) as Plan);
      this.plans.delete(oldest);
    }
    this.plans.set(key, plan);
  }
}
