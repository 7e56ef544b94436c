/**
 * The Session: what a user holds. It caches compiled plans (compile.ts), hands them to its Executor (execute.ts),
 * and holds the variables (variables.ts); checkpoints and traces are in checkpoint.ts and numerics.ts.
 */
import { DEFAULT_MAX_BYTES, Graph, NDArray, SessionError, Tensor } from '../graph';
import { OpRecord } from '../ops';
import { OptimizeOptions } from '../passes';
import { Backend, sessionKernels, unfusedUnder, type WasmKernels } from '../backend';
import { decodeVariables, encodeVariables, restoreCheckpoint, saveCheckpoint } from './checkpoint';
import { checkOpTable, compilePlan } from './compile';
import { checkMemoryLimit, plannedBytes, planNeed, variableBytes } from './budget';
import { Executor, regionPlans } from './execute';
import { buildResult, checkGraph, Fetch, FetchResult, Feeds, FetchTree, normalizeFeeds, readFetches } from './fetches';
import { checkRunOptions, checkSessionArguments, RunOptions, SessionOptions } from './options';
import { ArenaPlacement } from './placement';
import { planMemory } from './memory';
import { checkPlanSize, formatPlan, Plan, plannedSteps } from './plan';
import { rematLines, withoutRemat } from './remat-report';
import { copyOwnViews, guardView } from './views';
import { VariableStore } from './variables';
import { makeTrace, Trace, TraceEntry } from './numerics';
import type { OrtBackend, OrtBackendOptions } from './ort/backend';
import { ortRunner } from './ort/registry';

export { formatTrace } from './numerics';
export type { Trace, TraceEntry } from './numerics';

export { CheckpointError, decodeSafetensors, encodeSafetensors } from './checkpoint';
export type { CheckpointEntry, DecodedCheckpoint } from './checkpoint';

export type { Fetch, FetchResult, Feeds } from './fetches';

export type { RunOptions, SessionOptions } from './options';

const PLAN_CACHE_LIMIT = 64;

/** Results that are never views of a planned buffer: fed arrays, and copies of constants and variables. */
const OWN_VALUES = new Set(['placeholder', 'constant', 'variable']);

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
  readonly backend: Backend | 'onnxruntime';
  /**
   * With backend 'onnxruntime': the plans ONNX Runtime runs (ort/backend.ts, with the ONNX exporter: registered by
   * the entry 'lazygrad/onnxruntime', so the core does not carry it); made at the first runAsync or `ready()`.
   */
  private ort: OrtBackend | null = null;
  private readonly ortOptions: OrtBackendOptions | null = null;
  /** runAsync calls on the 'onnxruntime' backend not yet settled. */
  private ortPending = 0;
  /** The wasm kernels (their helper thread) behind the arena; null with the JS backend. */
  private readonly wasmKernels: WasmKernels | null;
  private readonly plans = new Map<string, Plan>();
  /** The last cached plan looked up and what it was for: a run repeating it skips building the key string. */
  private lastLookup: Signature | null = null;
  private readonly store: VariableStore;
  private readonly executor: Executor;
  private readonly checkNumerics: boolean;
  private readonly maxBytes: number;
  /** Training updates written as soon as computed where safe (SessionOptions.writeUpdates). */
  private readonly earlyUpdates: boolean;
  /** The session's memory cap (SessionOptions.memoryLimit), or undefined for none. */
  private readonly memoryLimit: number | undefined;
  /** The trace of the last run made with `{ trace: true }` or `onTrace`, even one that threw. */
  lastTrace: Trace | undefined = undefined;
  /** Runs started (and disposals): a `{ copy: false }` result is valid while this has not moved (views.ts). */
  private readonly clock = { runs: 0 };
  /** The clock's value at the last run that handed out views of its buffers (`{ copy: false }`); −1 before any. */
  private viewsAt = -1;
  /** True while `run` runs: a feed's getter or a callback that calls back into the session must not disturb it. */
  private running = false;

  /** @throws SessionError for an argument that is not a Graph, or an unknown option or value (saying what is valid) */
  constructor(graph: Graph, options?: SessionOptions) {
    options = checkSessionArguments(graph, options);
    checkOpTable();
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.memoryLimit = options.memoryLimit;
    this.graph = graph;
    const optimize = options.optimize ?? true;
    let chosen: OptimizeOptions = typeof optimize === 'boolean' ? { level: optimize ? 2 : 0 } : optimize;
    if (options.remat !== undefined) chosen = { ...chosen, remat: options.remat };
    const onOrt = options.backend === 'onnxruntime';
    // The backend's runner is in the entry 'lazygrad/onnxruntime': without it, say so now (a SessionError).
    if (onOrt) ortRunner();
    const threads = onOrt ? 1 : ((options.threads ?? 1) as 1 | 2);
    const kernels = sessionKernels(onOrt ? 'js' : (options.backend as Backend | undefined), threads, {
      jit: options.jit ?? true,
      fastTanh: options.fastTanh ?? false,
    });
    this.kernels = kernels.overrides;
    this.placement = kernels.wasm === null ? null : new ArenaPlacement(kernels.wasm);
    this.store = new VariableStore(this.placement, this);
    this.executor = new Executor(this.placement, this.store, this.kernels, this.initialValue);
    this.backend = this.kernels.size > 0 ? 'wasm' : 'js';
    this.wasmKernels = kernels.wasm?.wasm ?? null;
    const keepUnfused = unfusedUnder(this.kernels);
    this.optimizeOptions = keepUnfused.length === 0 ? chosen : { ...chosen, keepUnfused };
    this.checkNumerics = options.checkNumerics === true;
    this.earlyUpdates = options.writeUpdates !== 'end-of-run';
    if (onOrt) {
      this.backend = 'onnxruntime';
      this.ortOptions = { ...options, threads: options.threads ?? 1, maxBytes: this.maxBytes, optimize: chosen };
    }
  }

  /** The 'onnxruntime' backend's runner for this session, made on first use. */
  private ortBackend(): OrtBackend {
    if (this.ort !== null) return this.ort;
    const runner = ortRunner();
    this.ort = new runner.OrtBackend(this.graph, this.ortOptions as OrtBackendOptions, {
      read: this.currentValue,
      commit: (writes) => {
        for (const { variable, value, owned } of writes) {
          if (owned) this.store.set(variable, value);
          else this.store.write(variable, value);
        }
        this.clock.runs++;
      },
    });
    return this.ort;
  }

  /**
   * The threads this session's kernels really use: 2 with `threads: 2` where a helper worker runs (Node; a browser
   * page that is cross-origin isolated, once the worker has started: see `ready`), else 1. With backend
   * 'onnxruntime', lazygrad's own kernels (its lazygrad segments) use 1; ONNX Runtime uses `options.threads`.
   */
  get threads(): 1 | 2 {
    return this.wasmKernels?.threads === 2 ? 2 : 1;
  }

  /**
   * Resolves once the backend is fully started: in a browser the helper worker of `threads: 2` starts only after
   * the page returns to its event loop (runs before that use one thread). With backend 'onnxruntime', loads ONNX
   * Runtime (a missing package is a SessionError here) and the backend's compiler. Resolves to `threads`.
   *
   * @example const sess = new Session(g, { threads: 2 }); await sess.ready(); // sess.threads === 2 where isolated
   */
  async ready(): Promise<1 | 2> {
    await this.wasmKernels?.whenReady();
    if (this.ortOptions !== null) await this.ortBackend().loadModule();
    return this.threads;
  }

  /** Number of plans compiled and cached so far. */
  get cachedPlans(): number {
    return this.ortOptions === null ? this.plans.size : (this.ort?.cachedPlans ?? 0);
  }

  /**
   * Computes the fetches. Assign nodes among them write their variables after every fetch has been
   * computed from the previous values; if anything fails, no variable changes and the plan cache is as before.
   *
   * @example sess.run({ y, grads: [dw, dx] }, new Map([[x, NDArray.from([[1, 2, 3]])]]), { checkNumerics: true })
   */
  // `const F`: an array literal of fetches is a tuple, so `const [a, b] = sess.run([x, y])` gives two NDArrays.
  run<const F extends Fetch>(fetches: F, feeds?: Feeds, options?: RunOptions): FetchResult<F> {
    if (this.ortOptions !== null) {
      throw new SessionError(
        "Session.run: backend 'onnxruntime' runs asynchronously (ONNX Runtime's API is): use " +
          'await sess.runAsync(fetches, feeds, options), which takes the same fetches, feeds and options',
      );
    }
    this.refuseDuringRun('Session.run');
    this.running = true;
    try {
      const fed = normalizeFeeds(this.graph, feeds);
      // The last run handed out views: one fed back is copied now, before this run moves the clock and writes over it.
      if (this.viewsAt === this.clock.runs) copyOwnViews(fed, this.clock);
      this.clock.runs++;
      return this.runOnce(fetches, fed, checkRunOptions(options)) as FetchResult<F>;
    } finally {
      this.running = false;
    }
  }

  /**
   * Computes the fetches, as a promise: the same fetches, feeds, options, results and errors as `run` (on the js
   * and wasm backends it is `run`, run at once). The backend 'onnxruntime' runs only this way; a session's runs are
   * queued and run one after the other in call order (a second call while one is in flight waits for it).
   *
   * @example const { loss } = await sess.runAsync({ loss, step }, { x, labels })
   */
  runAsync<const F extends Fetch>(fetches: F, feeds?: Feeds, options?: RunOptions): Promise<FetchResult<F>> {
    return this.runAsyncUntyped(fetches, feeds, options) as Promise<FetchResult<F>>;
  }

  private async runAsyncUntyped(
    fetches: Fetch,
    feeds: Feeds | undefined,
    options: RunOptions | undefined,
  ): Promise<unknown> {
    if (this.ortOptions === null) return this.run(fetches as Tensor, feeds, options) as unknown;
    this.refuseDuringRun('Session.runAsync');
    const checked = checkRunOptions(options);
    const { tree, unique } = this.fetchesOf(fetches);
    const fed = normalizeFeeds(this.graph, feeds);
    const check = checked?.checkNumerics ?? this.checkNumerics;
    const traced = checked !== undefined && (checked.trace === true || checked.onTrace !== undefined);
    const entries: TraceEntry[] | null = traced ? [] : null;
    let values: NDArray[];
    this.ortPending++;
    try {
      // Runs are queued in call order by the runner.
      const ort = this.ortBackend();
      values = await ort.run(unique, fed, check || traced ? { check, entries } : null);
    } finally {
      this.ortPending--;
      if (entries !== null) this.lastTrace = makeTrace(entries);
    }
    if (entries !== null) checked?.onTrace?.(this.lastTrace as Trace);
    if (tree === null) return values[0];
    const byId = new Map<number, NDArray>();
    unique.forEach((id, i) => byId.set(id, values[i]));
    return buildResult(tree, byId);
  }

  /**
   * The fetches checked against the graph, and the distinct ids to compute. One tensor (the common case, e.g. a
   * model's output) has no fetch structure to read or rebuild: `tree` is null then.
   */
  private fetchesOf(fetches: Fetch): { single: Tensor | null; tree: FetchTree | null; unique: number[] } {
    const single = fetches instanceof Tensor ? fetches : null;
    if (single !== null) {
      checkGraph(this.graph, single, 'fetch');
      return { single, tree: null, unique: [single.id] };
    }
    const tree = readFetches(fetches);
    for (const t of tree.tensors) checkGraph(this.graph, t, 'fetch');
    return { single, tree, unique: [...new Set(tree.tensors.map((t) => t.id))] };
  }

  private runOnce(fetches: Fetch, fed: Map<number, NDArray>, options: RunOptions | undefined): unknown {
    const { single, tree, unique } = this.fetchesOf(fetches);
    const views = options?.copy === false;
    const { key, plan, cached } = this.planFor(unique, fed, views);
    const check = options?.checkNumerics ?? this.checkNumerics;
    const traced = options !== undefined && (options.trace === true || options.onTrace !== undefined);
    const entries: TraceEntry[] | null = traced ? [] : null;
    if (!cached && this.memoryLimit !== undefined)
      this.fitMemoryLimit(plan, tree === null ? [single as Tensor] : tree.tensors, this.memoryLimit);
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
    // With { copy: false }, computed results are views of their planned buffers, valid until the next run.
    if (views && plan.memory !== null) {
      values = values.map((value, i) => this.guardedResult(plan, value, i));
      this.viewsAt = this.clock.runs;
    }
    if (tree === null) return values[0];
    const byId = new Map<number, NDArray>();
    unique.forEach((id, i) => byId.set(id, values[i]));
    return buildResult(tree, byId);
  }

  /** A `{ copy: false }` run's i-th result: a guarded view when computed into a planned buffer, else as it is. */
  private guardedResult(plan: Plan, value: NDArray, i: number): NDArray {
    if (OWN_VALUES.has(plan.graph.node(plan.outputs[i]).op)) return value;
    return guardView(value, this.clock, this.placement);
  }

  /**
   * Runs share per-plan buffers, the staged variable writes and the arena: a call that would use or change them
   * while a run is in progress (from a feed's getter, a Proxy, a callback) is refused instead of corrupting it.
   */
  private refuseDuringRun(what: string): void {
    if (this.ortPending > 0 && what !== 'Session.runAsync') {
      throw new SessionError(
        `${what} was called while a runAsync of the same session is in flight; await it first (a run's variable ` +
          'writes happen when it ends)',
      );
    }
    if (!this.running) return;
    throw new SessionError(
      `${what} was called during a run of the same session (from a feed's or fetch's getter, a Proxy, or a ` +
        'callback such as onTrace); a session runs one thing at a time: call it after the run returns, or use ' +
        'another Session',
    );
  }

  /**
   * The compiled plan for some fetches as text: each pass's report, the optimized IR and its outputs.
   * Feeds are optional; without them, placeholders keep their static shapes.
   */
  explain(fetches: Fetch, feeds?: Feeds): string {
    const tensors = readFetches(fetches).tensors;
    const fed = normalizeFeeds(this.graph, feeds);
    const ids = [...new Set(tensors.map((t) => t.id))];
    if (this.ortOptions !== null) {
      return this.ortBackend().explain(ids, fed);
    }
    const plan = compilePlan(
      this.graph,
      ids,
      fed,
      this.optimizeOptions,
      this.kernels,
      true,
      undefined,
      this.earlyUpdates,
    );
    return (
      formatPlan(plan) +
      rematLines(plan, () =>
        compilePlan(
          this.graph,
          ids,
          fed,
          withoutRemat(this.optimizeOptions),
          this.kernels,
          true,
          undefined,
          this.earlyUpdates,
        ),
      )
    );
  }

  /** The current value of a variable in this session (initialized on first use). */
  variableValue(variable: Tensor): NDArray {
    if (this.ortOptions !== null) {
      checkGraph(this.graph, variable, 'fetch');
      if (variable.op !== 'variable') {
        throw new SessionError(`Session.variableValue: '${variable.name}' is a ${variable.op} node, not a variable`);
      }
      return this.currentValue(variable.id).clone();
    }
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
    this.refuseDuringRun('Session.restoreVariables');
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
    this.refuseDuringRun('Session.restore');
    restoreCheckpoint(this, path, 'Session.restore');
  }

  /**
   * Gives the session's wasm arena memory back now (planned buffers, variables) instead of when the session is
   * collected; when no other session holds blocks there, the WebAssembly.Memory itself is released (freed at the
   * engine's next garbage collection; a later run anywhere makes a new one). The session stays usable: its variables
   * keep their values, and a later run takes memory again.
   */
  dispose(): void {
    this.refuseDuringRun('Session.dispose');
    this.clock.runs++;
    this.ort?.dispose();
    if (this.placement === null) return;
    this.store.release();
    for (const plan of this.plans.values()) this.executor.drop(plan);
    this.plans.clear();
    this.placement.releaseMemory();
  }

  /** A variable's initial value, from the user's graph. */
  private readonly initialValue = (id: number): NDArray => this.graph.node(id).value as NDArray;

  /** A variable's value in this session, or its initial value if no run has read it. */
  private readonly currentValue = (id: number): NDArray => this.store.get(id) ?? this.initialValue(id);

  private planFor(
    fetchIds: readonly number[],
    feeds: ReadonlyMap<number, NDArray>,
    views = false,
  ): { key: string; plan: Plan; cached: boolean } {
    const last = this.lastLookup;
    if (!views && last !== null && sameSignature(last, fetchIds, feeds) && this.plans.get(last.key) === last.plan) {
      return { key: last.key, plan: last.plan, cached: true };
    }
    const fedIds = [...feeds.keys()].sort((a, b) => a - b);
    const fed = fedIds.map((id) => `${id}:${(feeds.get(id) as NDArray).shape.join('x')}`);
    const key = `${fetchIds.join(',')}|${fed.join(',')}${views ? '|views' : ''}`;
    const cachedPlan = this.plans.get(key);
    if (cachedPlan !== undefined) {
      if (!views) this.lastLookup = signatureOf(fetchIds, feeds, fedIds, key, cachedPlan);
      return { key, plan: cachedPlan, cached: true };
    }
    let plan = compilePlan(
      this.graph,
      fetchIds,
      feeds,
      this.optimizeOptions,
      this.kernels,
      false,
      this.maxBytes,
      this.earlyUpdates,
    );
    if (views && plan.memory !== null) {
      // The results get planned buffers too (handed out as views): the same plan with its memory planned again.
      plan = { ...plan, memory: planMemory(plan.graph, plannedSteps(plan.steps), plan.outputs, true) };
      checkPlanSize(plan, this.maxBytes);
    }
    return { key, plan, cached: false };
  }

  /**
   * Before a new plan's first run under `memoryLimit`: what it needs (buffers, results, staging) plus the session's
   * variables must fit the cap; other cached plans' buffers are a cache and go first (oldest first) to make room.
   * Throws a RuntimeError naming each part and the cap when even that does not fit; nothing is allocated then.
   */
  private fitMemoryLimit(plan: Plan, fetched: readonly Tensor[], limit: number): void {
    const need = planNeed(plan, regionPlans(plan), this.executor.stagingOf(plan));
    const ids = new Set(this.store.ids());
    for (const { variable } of plan.variables) ids.add(variable);
    const variables = variableBytes(this.graph, ids);
    const own = need.planned + need.results + need.staging + variables;
    const names = fetched.slice(0, 4).map((t) => `'${t.name}'`);
    const what = `${names.join(', ')}${fetched.length > 4 ? ` and ${fetched.length - 4} more` : ''}`;
    if (own > limit) checkMemoryLimit(what, need, variables, 0, limit);
    const held = new Map([...this.plans].map(([key, p]) => [key, plannedBytes(p, regionPlans(p))]));
    let cached = [...held.values()].reduce((a, b) => a + b, 0);
    for (const [key, bytes] of held) {
      if (own + cached <= limit) break;
      this.executor.drop(this.plans.get(key) as Plan);
      this.plans.delete(key);
      cached -= bytes;
    }
    checkMemoryLimit(what, need, variables, cached, limit);
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

/** A plan's signature: the fetch ids and the fed ids with their shapes (what its cache key is made of). */
interface Signature {
  readonly fetchIds: readonly number[];
  readonly fedIds: readonly number[];
  readonly fedShapes: readonly (readonly number[])[];
  readonly key: string;
  readonly plan: Plan;
}

function signatureOf(
  fetchIds: readonly number[],
  feeds: ReadonlyMap<number, NDArray>,
  fedIds: readonly number[],
  key: string,
  plan: Plan,
): Signature {
  const fedShapes = fedIds.map((id) => [...(feeds.get(id) as NDArray).shape]);
  return { fetchIds: [...fetchIds], fedIds: [...fedIds], fedShapes, key, plan };
}

/** Whether a lookup has `signature`'s fetch ids (in order) and fed ids and shapes: the same key, not rebuilt. */
function sameSignature(
  signature: Signature,
  fetchIds: readonly number[],
  feeds: ReadonlyMap<number, NDArray>,
): boolean {
  const ids = signature.fetchIds;
  if (ids.length !== fetchIds.length || signature.fedIds.length !== feeds.size) return false;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== fetchIds[i]) return false;
  for (let i = 0; i < signature.fedIds.length; i++) {
    const value = feeds.get(signature.fedIds[i]);
    if (value === undefined) return false;
    const shape = value.shape;
    const expected = signature.fedShapes[i];
    if (shape.length !== expected.length) return false;
    for (let d = 0; d < shape.length; d++) if (shape[d] !== expected[d]) return false;
  }
  return true;
}
