import {
  ArrayValue,
  DTypeError,
  FeedError,
  formatShape,
  Graph,
  GraphError,
  isFullyKnown,
  isFloat,
  LazygradError,
  NDArray,
  Node,
  RuntimeError,
  ShapeError,
  shapeMatches,
  Tensor,
  TypedArray,
  allocate,
  dtypeOfArray,
  sizeOf,
} from '../graph';
import { checkRecords, OpRecord } from '../ops';
import { Backend, sessionKernels, unfusedUnder } from '../backend';
import { compileSlice, missingFeedError, now, OptimizeOptions, sliceFor } from '../passes';
import {
  CheckpointError,
  decodeVariables,
  encodeVariables,
  nodeFileSystem,
  readFileBytes,
  writeFileAtomic,
} from './checkpoint';
import { allocateViews, BufferLayout, layoutBuffers, viewsIn } from './memory';
import { ArenaBlock, ArenaPlacement, stagingBytes } from './placement';
import { VariableStore } from './variables';
import { buildPlan, formatPlan, Plan, plannedStep } from './plan';
import { firstNonFinite, inputPreviews, makeTrace, numericsError, Trace, traceEntry, TraceEntry } from './numerics';

export { formatTrace } from './numerics';
export type { Trace, TraceEntry } from './numerics';

export { CheckpointError, decodeSafetensors, encodeSafetensors } from './checkpoint';
export type { CheckpointEntry, DecodedCheckpoint } from './checkpoint';

/** What can be fetched: a tensor, or arrays/objects of fetches; null entries give null. */
export type Fetch = Tensor | null | readonly Fetch[] | { readonly [key: string]: Fetch };
/** The result mirrors the fetch structure, with an NDArray for each tensor. */
export type FetchResult<F> = F extends Tensor
  ? NDArray
  : F extends null
    ? null
    : F extends readonly unknown[]
      ? { -readonly [K in keyof F]: FetchResult<F[K]> }
      : F extends { readonly [key: string]: unknown }
        ? { -readonly [K in keyof F]: FetchResult<F[K]> }
        : never;
/** Feeds by placeholder (or node) name, or a Map from tensors (or names) to values. */
export type Feeds = { readonly [name: string]: ArrayValue } | ReadonlyMap<Tensor | string, ArrayValue>;

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

/** What a plan's runs reuse: one slot per node, one argument list per step, the planned output arrays. */
interface RunState {
  readonly slots: (NDArray | null)[];
  readonly args: NDArray[][];
  views: readonly (NDArray | null)[];
  /** The arena block holding the planned buffers (wasm backend), laid out by `layout`; null: JS memory. */
  readonly block: ArenaBlock | null;
  readonly layout: BufferLayout | null;
  /** The memory the views were taken from: they are re-taken when the arena's memory moved (grew). */
  viewsOf: ArrayBufferLike | null;
  /** The most bytes one wasm step copies in and out (arguments that are not arena views): reserved before a run. */
  readonly stagingBytes: number;
}

/** What the debugging loop does after each step: scan for NaN/Inf, and/or record a trace entry. */
interface Probe {
  readonly check: boolean;
  readonly entries: TraceEntry[] | null;
}

/** A placeholder for argument lists between runs, so they hold no stale arrays. */
const EMPTY = NDArray.zeros([0]);

let recordsChecked = false;

/** The compiler relies on every op record being complete; check the table once per process. */
function checkOpTable(): void {
  if (recordsChecked) return;
  const problems = checkRecords();
  if (problems.length > 0) throw new GraphError(`incomplete op records: ${problems.join('; ')}`);
  recordsChecked = true;
}

/**
 * Runs fetches of a graph with feeds. Each distinct (fetches, fed tensors, fed shapes) is compiled once into
 * a cached plan. Variables hold their values per session.
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
  /** How many successful runs executed each stateful node (by user-graph id): the random ops' stream counters. */
  private readonly runCounts = new Map<number, number>();
  private readonly runStates = new WeakMap<Plan, RunState>();
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
  run<F extends Fetch>(fetches: F, feeds?: Feeds, options?: RunOptions): FetchResult<F> {
    const tensors: Tensor[] = [];
    collectFetches(fetches, tensors);
    const unique = [...new Set(tensors.map((t) => t.id))];
    for (const t of tensors) this.checkGraph(t, 'fetch');
    const fed = this.normalizeFeeds(feeds);
    const { key, plan, cached } = this.planFor(unique, fed);
    const check = options?.checkNumerics ?? this.checkNumerics;
    const traced = options !== undefined && (options.trace === true || options.onTrace !== undefined);
    const entries: TraceEntry[] | null = traced ? [] : null;
    let values: NDArray[];
    try {
      values = this.execute(plan, fed, check || traced ? { check, entries } : null);
    } catch (error) {
      // A plan that never ran successfully is not cached: give its arena block back now, not at collection.
      if (!cached) this.dropRunState(plan);
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
    const fed = this.normalizeFeeds(feeds);
    const ids = [...new Set(tensors.map((t) => t.id))];
    const plan = this.compile(ids, fed, true);
    return formatPlan(plan);
  }

  /** The current value of a variable in this session (initialized on first use). */
  variableValue(variable: Tensor): NDArray {
    return this.run(variable);
  }

  /**
   * Every variable's current value (a variable this session never ran: its initial value) as safetensors bytes,
   * optimizer slots included: they are variables too.
   *
   * @example const bytes = sess.serializeVariables()
   */
  serializeVariables(): Uint8Array {
    return encodeVariables(this.graph, (id) => this.store.get(id) ?? this.initialValue(id));
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
   * Gives the session's wasm arena memory back now (planned buffers, variables) instead of when the session is
   * collected. The session stays usable: its variables keep their values, and a later run takes memory again.
   */
  dispose(): void {
    if (this.placement === null) return;
    this.store.release();
    for (const plan of this.plans.values()) this.dropRunState(plan);
    this.plans.clear();
  }

  /** A variable's initial value, from the user's graph. */
  private readonly initialValue = (id: number): NDArray => this.graph.node(id).value as NDArray;

  /** Frees a plan's arena block (when it leaves the cache); its run state is rebuilt if it runs again. */
  private dropRunState(plan: Plan): void {
    const state = this.runStates.get(plan);
    if (state === undefined) return;
    if (state.block !== null) this.placement?.free(state.block);
    this.runStates.delete(plan);
  }

  /**
   * Writes `serializeVariables()` to a file (Node.js): to a temporary file first, renamed into place, so a crash
   * never leaves a half-written checkpoint.
   *
   * @example sess.save('out/model.safetensors')
   */
  save(path: string): void {
    writeFileAtomic(path, this.serializeVariables(), nodeFileSystem('Session.save'));
  }

  /**
   * Restores every variable from a checkpoint file written by `save` or another safetensors writer (Node.js).
   * A failed restore changes nothing.
   *
   * @example sess.restore('out/model.safetensors')
   */
  restore(path: string): void {
    const bytes = readFileBytes(path, nodeFileSystem('Session.restore'));
    try {
      this.restoreVariables(bytes);
    } catch (error) {
      if (error instanceof CheckpointError) throw new CheckpointError(`Session.restore('${path}'): ${error.message}`);
      throw error;
    }
  }

  private checkGraph(t: Tensor, role: string): void {
    if (!(t instanceof Tensor)) throw new GraphError(`Session.run: a ${role} is not a Tensor (got ${typeof t})`);
    if (t.graph !== this.graph) {
      throw new GraphError(`Session.run: ${role} '${t.name}' belongs to a different graph than this session's`);
    }
  }

  private normalizeFeeds(feeds: Feeds | undefined): Map<number, NDArray> {
    const out = new Map<number, NDArray>();
    if (feeds === undefined) return out;
    const entries: [Tensor | string, ArrayValue][] =
      feeds instanceof Map ? [...feeds.entries()] : Object.entries(feeds as { [name: string]: ArrayValue });
    for (const [key, value] of entries) {
      let tensor: Tensor | undefined;
      if (typeof key === 'string') {
        tensor = this.graph.byName(key);
        if (tensor === undefined) {
          const valid =
            this.graph
              .placeholders()
              .map((p) => `'${p.name}'`)
              .join(', ') || '(none)';
          throw new FeedError(`Session.run: feed '${key}' names no node of the graph; placeholders are ${valid}`);
        }
      } else {
        tensor = key;
        this.checkGraph(tensor, 'feed');
      }
      out.set(tensor.id, toFeedValue(tensor.node, value));
    }
    return out;
  }

  private planFor(
    fetchIds: readonly number[],
    feeds: ReadonlyMap<number, NDArray>,
  ): { key: string; plan: Plan; cached: boolean } {
    const fedIds = [...feeds.keys()].sort((a, b) => a - b);
    const key = `${fetchIds.join(',')}|${fedIds.map((id) => `${id}:${(feeds.get(id) as NDArray).shape.join('x')}`).join(',')}`;
    const plan = this.plans.get(key);
    if (plan !== undefined) return { key, plan, cached: true };
    return { key, plan: this.compile(fetchIds, feeds, false), cached: false };
  }

  private cachePlan(key: string, plan: Plan): void {
    if (this.plans.size >= PLAN_CACHE_LIMIT) {
      const oldest = this.plans.keys().next().value as string;
      this.dropRunState(this.plans.get(oldest) as Plan);
      this.plans.delete(oldest);
    }
    this.plans.set(key, plan);
  }

  /** Slices the graph to what the fetches need, stopping at fed tensors, then optimizes and lowers it. */
  private compile(fetchIds: readonly number[], feeds: ReadonlyMap<number, NDArray>, forDisplay: boolean): Plan {
    const shapes = new Map<number, readonly number[]>();
    for (const [id, value] of feeds) shapes.set(id, value.shape);
    const { slice, report } = sliceFor(this.graph, fetchIds, shapes, forDisplay ? undefined : missingFeedError);
    const compiled = compileSlice(slice, report, this.optimizeOptions);
    return buildPlan(compiled.slice, compiled.reports, (this.optimizeOptions.level ?? 2) >= 2, this.kernels);
  }

  private execute(plan: Plan, feeds: ReadonlyMap<number, NDArray>, probe: Probe | null = null): NDArray[] {
    const state = this.runStateOf(plan);
    if (this.placement !== null) this.prepareArena(plan, state);
    const { slots, args, views } = state;
    for (const { slot, source } of plan.feeds) slots[slot] = feeds.get(source) as NDArray;
    for (const id of plan.constants) slots[id] = plan.graph.node(id).value as NDArray;
    // A variable read for the first time starts from its initial value, committed only if the run succeeds.
    for (const { slot, variable } of plan.variables) slots[slot] = this.store.read(variable, this.initialValue);
    const wasm = this.placement?.kernels ?? null;
    // While steps hold arena views, the wasm kernels must not grow the arena (that would detach the views).
    wasm?.lock();
    // The step loop: no closures, no Map lookups, no per-step arrays (args are preallocated per step).
    const steps = plan.steps;
    let index = 0;
    try {
      if (probe === null) {
        for (; index < steps.length; index++) {
          const step = steps[index];
          const inputs = args[index];
          const ids = step.inputs;
          for (let k = 0; k < ids.length; k++) inputs[k] = slots[ids[k]] as NDArray;
          const out = views[index] ?? new NDArray(allocate(step.dtype, sizeOf(step.shape)), step.shape, step.dtype);
          if (step.stateOf === undefined) step.kernel(inputs, out, step.node.attrs);
          else step.kernel(inputs, out, step.node.attrs, { counter: this.runCounts.get(step.stateOf) ?? 0 });
          slots[step.output] = out;
          const release = step.release;
          for (let k = 0; k < release.length; k++) slots[release[k]] = null;
        }
      } else {
        // The debugging loop (checkNumerics, trace): the same steps, each timed and/or scanned after it ran.
        const { check, entries } = probe;
        for (; index < steps.length; index++) {
          const step = steps[index];
          const inputs = args[index];
          const ids = step.inputs;
          for (let k = 0; k < ids.length; k++) inputs[k] = slots[ids[k]] as NDArray;
          // Checking allocates every output afresh: a step computed in place would overwrite the inputs the error
          // report reads. Tracing keeps the planned buffers (its timings are the real ones) and previews the inputs
          // before the step runs.
          const previews = entries === null ? null : inputPreviews(step, inputs, plan.graph);
          const view = check ? null : views[index];
          const out = view ?? new NDArray(allocate(step.dtype, sizeOf(step.shape)), step.shape, step.dtype);
          const start = now();
          if (step.stateOf === undefined) step.kernel(inputs, out, step.node.attrs);
          else step.kernel(inputs, out, step.node.attrs, { counter: this.runCounts.get(step.stateOf) ?? 0 });
          const ms = now() - start;
          if (entries !== null) entries.push(traceEntry(index, step, out, ms, previews as TraceEntry['inputs']));
          if (check && isFloat(out.dtype)) {
            const bad = firstNonFinite(out.data);
            if (bad >= 0) throw numericsError(plan.graph, step, inputs, out, bad);
          }
          slots[step.output] = out;
          const release = step.release;
          for (let k = 0; k < release.length; k++) slots[release[k]] = null;
        }
      }
    } catch (error) {
      slots.fill(null);
      this.store.abandon();
      if (error instanceof LazygradError) throw error;
      const step = steps[index];
      const described = args[index].map((x, i) => `%${step.inputs[i]} ${x.dtype}${formatShape(x.shape)}`).join(', ');
      throw new RuntimeError(
        `Session.run: ${step.node.op} '${step.node.name}' failed on inputs (${described}): ${(error as Error).message}`,
      );
    } finally {
      wasm?.unlock();
    }
    const results = plan.outputs.map((slot) => {
      const value = slots[slot] as NDArray;
      const node = plan.graph.node(slot);
      // Constants and variables are shared with the plan or the store: hand out copies.
      return node.op === 'constant' || node.op === 'variable' ? value.clone() : value;
    });
    this.store.commit();
    // An arena-held variable is overwritten in place: no allocation per training step.
    for (const { variable, slot } of plan.assigns) this.store.write(variable, slots[slot] as NDArray);
    for (const step of plan.steps) {
      if (step.stateOf !== undefined) this.runCounts.set(step.stateOf, (this.runCounts.get(step.stateOf) ?? 0) + 1);
    }
    // Drop references to this run's feeds and results so the plan does not keep them alive.
    slots.fill(null);
    for (const list of args) list.fill(EMPTY);
    return results;
  }

  /** Per-plan arrays reused by every run: slots, each step's argument list, and the planned output views. */
  private runStateOf(plan: Plan): RunState {
    let state = this.runStates.get(plan);
    if (state === undefined) {
      const placement = this.placement;
      const layout = placement !== null && plan.memory !== null ? layoutBuffers(plan.memory) : null;
      // The block's owner is the plan: a plan dropped without dispose() gives its block back when collected.
      const block = layout === null ? null : (placement as ArenaPlacement).allocate(layout.bytes, plan);
      let views: (NDArray | null)[] = [];
      if (plan.memory === null) views = plan.steps.map(() => null);
      else if (block === null) views = allocateViews(plan.memory, plan.steps.map(plannedStep));
      state = {
        slots: new Array<NDArray | null>(plan.graph.size).fill(null),
        args: plan.steps.map((step) => new Array<NDArray>(step.inputs.length).fill(EMPTY)),
        views,
        block,
        layout: block === null ? null : layout,
        viewsOf: null,
        stagingBytes: placement === null ? 0 : stagingBytes(plan, this.kernels),
      };
      this.runStates.set(plan, state);
    }
    return state;
  }

  /**
   * Before a run on the wasm backend: every allocation that may grow the arena happens first (the kernels' staging
   * area, blocks for variables not yet in the arena), then every view that the growth left stale is re-taken.
   */
  private prepareArena(plan: Plan, state: RunState): void {
    const placement = this.placement as ArenaPlacement;
    placement.kernels.reserve(state.stagingBytes);
    this.store.reserve(
      plan.variables.map((v) => v.variable),
      this.initialValue,
    );
    // No allocation below this line: views taken now stay valid for the run.
    const memory = plan.memory;
    const buffer = placement.arena.memory.buffer;
    if (state.block !== null && state.layout !== null && memory !== null && state.viewsOf !== buffer) {
      state.views = viewsIn(memory, plan.steps.map(plannedStep), state.layout, buffer, state.block.offset);
      state.viewsOf = buffer;
    }
    this.store.settle();
  }
}

/**
 * The shape of a flat typed-array feed: the placeholder's own shape when its known dims leave exactly one size for
 * at most one unknown dim, else 1-D (which then fails the shape check with a clear message).
 */
function flatShape(node: Node, length: number): number[] {
  const unknown = node.shape.filter((d) => d === null).length;
  const known = node.shape.reduce<number>((p, d) => p * (d ?? 1), 1);
  if (unknown > 1 || (unknown === 1 && (known === 0 || length % known !== 0))) return [length];
  const shape = node.shape.map((d) => d ?? length / known);
  return sizeOf(shape) === length ? shape : [length];
}

function toFeedValue(node: Node, value: ArrayValue): NDArray {
  let array: NDArray;
  if (value instanceof NDArray) {
    if (value.dtype !== node.dtype) {
      throw new DTypeError(
        `Session.run: feed for ${node.op} '${node.name}' is ${value.dtype}, expected ${node.dtype}; ` +
          `convert it with value.astype('${node.dtype}')`,
      );
    }
    array = value;
  } else if (dtypeOfArray(value) === node.dtype) {
    // A typed array of the right dtype is wrapped, not copied: shaped as the placeholder when that is unambiguous.
    array = new NDArray(value as TypedArray, flatShape(node, (value as TypedArray).length), node.dtype);
  } else {
    try {
      array = NDArray.from(value, node.dtype);
    } catch (error) {
      if (error instanceof LazygradError) {
        const ErrorClass = error.constructor as new (message: string) => LazygradError;
        throw new ErrorClass(`Session.run: feed for ${node.op} '${node.name}': ${error.message}`);
      }
      throw error;
    }
  }
  if (!shapeMatches(array.shape, node.shape)) {
    throw new ShapeError(
      `Session.run: feed for ${node.op} '${node.name}' has shape ${formatShape(array.shape)}, expected ` +
        `${formatShape(node.shape)}${isFullyKnown(node.shape) ? '' : ' (? = any size)'}`,
    );
  }
  return array;
}

function collectFetches(fetch: Fetch, out: Tensor[]): void {
  const stack: Fetch[] = [fetch];
  while (stack.length > 0) {
    const item = stack.pop() as Fetch;
    if (item === null) continue;
    if (item instanceof Tensor) out.push(item);
    else if (Array.isArray(item)) for (let i = item.length - 1; i >= 0; i--) stack.push(item[i] as Fetch);
    else if (typeof item === 'object') {
      const values = Object.values(item as { [key: string]: Fetch });
      for (let i = values.length - 1; i >= 0; i--) stack.push(values[i]);
    } else throw new GraphError(`Session.run: cannot fetch a ${typeof item}; fetch Tensors, arrays or objects of them`);
  }
}

function buildResult(fetch: Fetch, values: ReadonlyMap<number, NDArray>): unknown {
  if (fetch === null) return null;
  if (fetch instanceof Tensor) return values.get(fetch.id);
  if (Array.isArray(fetch)) return fetch.map((f) => buildResult(f as Fetch, values));
  const out: { [key: string]: unknown } = {};
  for (const [key, value] of Object.entries(fetch as { [key: string]: Fetch })) out[key] = buildResult(value, values);
  return out;
}
