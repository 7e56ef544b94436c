/**
 * Running a plan: the arena preparation before a run (wasm backend), the one step loop, and the commit of variable
 * writes after it. A session owns one Executor; plans come from compile.ts.
 */
import { allocate, formatShape, LazygradError, NDArray, RuntimeError, SessionError, sizeOf } from '../graph';
import {
  allocateViews,
  BufferLayout,
  bytesOf,
  layoutBuffers,
  MemoryPlan,
  OutputViews,
  typedView,
  viewsIn,
} from './memory';
import { ProbedSteps, probedSteps, TraceEntry } from './numerics';
import { PlacedConstants } from './constants';
import { ArenaBlock, ArenaPlacement, stagingBytes } from './placement';
import { Plan, plannedSteps, RegionPlan, RegionRunner, Step } from './plan';
import { exchangeable } from './updates';
import { VariableStore } from './variables';

/** What a plan's runs reuse: one slot per node, one argument list per step, the planned output arrays. */
interface RunState {
  readonly slots: (NDArray | null)[];
  /** Each step's argument list: one list per arity, shared by the steps (a step fills its list before its kernel runs). */
  readonly args: NDArray[][];
  /** The distinct lists of `args`, emptied after each run. */
  readonly argLists: NDArray[][];
  views: readonly (NDArray | null)[];
  /** The planned arrays of control-flow steps' outputs (by step index). */
  outputs: OutputViews | null;
  /** No planned arrays: every output allocated afresh (a checkNumerics run, whose report reads the inputs). */
  readonly fresh: readonly null[];
  /** The arena block holding the planned buffers (wasm backend), laid out by `layout`; null: JS memory. */
  readonly block: ArenaBlock | null;
  readonly layout: BufferLayout | null;
  /** Assigns' value buffers in blocks of their own, exchanged with their variables' blocks after a run (updates.ts). */
  readonly apart: { readonly variable: number; readonly buffer: number; readonly steps: number[]; block: ArenaBlock }[];
  /** The memory the views were taken from: they are re-taken when the arena's memory moved (grew). */
  viewsOf: ArrayBufferLike | null;
  /** The most bytes one wasm step copies in and out (arguments that are not arena views): reserved before a run. */
  readonly stagingBytes: number;
  /** The steps wrapped for debugging runs, by kind (1: checkNumerics, 2: trace, 3: both), built on first use. */
  readonly probed: (ProbedSteps | undefined)[];
  /** The variables the plan reads (user-graph ids), listed once rather than per run. */
  readonly variableIds: readonly number[];
  /** The plan's constants, float32 ones copied into the arena once (wasm backend; constants.ts). */
  readonly constants: PlacedConstants | null;
}

/** What a debugging run does after each step: scan for NaN/Inf, and/or record a trace entry into `entries`. */
export interface Probe {
  readonly check: boolean;
  readonly entries: TraceEntry[] | null;
}

const CHECK_ONLY: Probe = { check: true, entries: null };

/** A placeholder for argument lists between runs, so they hold no stale arrays. */
const EMPTY = NDArray.zeros([0]);

/**
 * Runs plans against a session's variables: each plan's reusable arrays (and arena block), the random ops' run
 * counters, and the staged variable writes (committed only when every step succeeded).
 */
export class Executor {
  private readonly runStates = new WeakMap<Plan, RunState>();
  /** How many successful runs executed each stateful node (by user-graph id): the random ops' stream counters. */
  private readonly runCounts = new Map<number, number>();
  /** During a checkNumerics run: the probe region plans run with (checks only; a trace records control steps). */
  private regionProbe: Probe | null = null;
  /** In a checked run: the values of the assigns otherwise written at their steps, written after the run. */
  private deferred: { readonly variable: number; readonly value: NDArray }[] = [];

  /**
   * `bound`: the ops the backend replaced (their steps may stage arguments); `initialValue`: a variable's value
   * before any run, from the user's graph.
   */
  constructor(
    private readonly placement: ArenaPlacement | null,
    private readonly store: VariableStore,
    private readonly bound: ReadonlyMap<string, unknown>,
    private readonly initialValue: (id: number) => NDArray,
  ) {}

  /**
   * Runs a plan and returns its outputs. With a probe (checkNumerics, trace) the same loop runs over probed steps,
   * chosen once per run, so the normal path has no per-step test for it. If a step throws, no variable changes.
   */
  execute(plan: Plan, feeds: ReadonlyMap<number, NDArray>, probe: Probe | null = null): NDArray[] {
    if (this.placement?.kernels.locked === true) {
      // Another session's step loop is running on the same wasm kernels (this run was started from inside one of its
      // steps, e.g. by a Proxy feed): allocating now could grow the arena under its views or move its staging area.
      throw new SessionError(
        'Session.run was called during a step of another session that shares the WebAssembly kernels (from a ' +
          "Proxy feed or a getter read by a kernel); run it after that run returns, or give it { backend: 'js' }",
      );
    }
    const state = this.runStateOf(plan);
    const regions = regionPlans(plan);
    // A checked run checks inside regions too (their plans' steps probed by the same check), not only control steps.
    const outerProbe = this.regionProbe;
    this.regionProbe = probe?.check === true ? CHECK_ONLY : null;
    for (const region of regions) this.runStateOf(region);
    if (this.placement !== null) this.prepareArena(plan, state, regions);
    const { slots } = state;
    for (const { slot, source } of plan.feeds) slots[slot] = feeds.get(source) as NDArray;
    setConstants(plan, state);
    // A variable read for the first time starts from its initial value, committed only if the run succeeds.
    for (const { slot, variable } of plan.variables) slots[slot] = this.store.read(variable, this.initialValue);
    const steps = probe === null ? plan.steps : this.probedFor(plan, state, probe);
    // Checking allocates every output afresh: a step computed in place would overwrite the inputs its report reads.
    const views = probe?.check === true ? state.fresh : state.views;
    const wasm = this.placement?.kernels ?? null;
    // While steps hold arena views, the wasm kernels must not grow the arena (that would detach the views).
    wasm?.lock();
    // The step loop: no closures, no Map lookups for ordinary steps, no per-step arrays (args are preallocated).
    try {
      this.runSteps(steps, state, views, probe?.check === true ? null : state.outputs, probe?.check !== true);
    } catch (error) {
      slots.fill(null);
      this.deferred = [];
      for (const region of regions) this.runStates.get(region)?.slots.fill(null);
      this.store.abandon();
      throw error;
    } finally {
      wasm?.unlock();
      this.regionProbe = outerProbe;
    }
    const results = plan.outputs.map((slot) => {
      const value = slots[slot] as NDArray;
      const node = plan.graph.node(slot);
      // Constants and variables are shared with the plan or the store: hand out copies.
      return node.op === 'constant' || node.op === 'variable' ? value.clone() : value;
    });
    this.store.commit();
    // An update computed in a block of its own becomes the variable's block (no copy); any other overwrites the
    // arena-held variable in place (one copy, no allocation).
    // Updates written at their steps are done (not in a checked run: any step may throw there, so all wait).
    for (const { variable, slot, early } of plan.assigns) {
      if (!early) this.writeVariable(plan, state, variable, slots[slot] as NDArray);
    }
    for (const { variable, value } of this.deferred) this.store.write(variable, value);
    this.deferred = [];
    const counts = this.runCounts;
    for (const step of plan.steps) {
      if (step.stateOf !== undefined) counts.set(step.stateOf, (counts.get(step.stateOf) ?? 0) + 1);
    }
    // Drop references to this run's feeds and results so the plan does not keep them alive.
    slots.fill(null);
    for (const list of state.argLists) list.fill(EMPTY);
    return results;
  }

  /**
   * The step loop over one plan's slots (a top-level plan, or a region's plan run by a control step): no closures, no
   * Map lookups for ordinary steps, no per-step arrays (args are preallocated). A kernel's own failure becomes a
   * RuntimeError naming the step. `early`: assigns marked so are written into their variables at their step
   * (inplace.ts); otherwise they are computed like any step and written after the run.
   */
  private runSteps(
    steps: readonly Step[],
    state: RunState,
    views: readonly (NDArray | null)[],
    outputs: OutputViews | null,
    early = false,
  ): void {
    const { slots, args } = state;
    const counts = this.runCounts;
    let index = 0;
    try {
      for (; index < steps.length; index++) {
        const step = steps[index];
        const inputs = args[index];
        const ids = step.inputs;
        for (let k = 0; k < ids.length; k++) inputs[k] = slots[ids[k]] as NDArray;
        const control = step.control;
        if (control !== undefined) {
          const values = control.run(inputs, this.regionRunner, outputs?.get(index));
          const targets = control.slots;
          for (let k = 0; k < targets.length; k++) slots[targets[k]] = values[k];
        } else if (step.early !== undefined) {
          const input = step.early.input;
          if (early && input !== undefined) {
            // An update's value computed straight into its variable's memory (an elementwise step, in place).
            const out = inputs[input];
            step.kernel(inputs, out, step.node.attrs);
            slots[step.output] = out;
          } else if (early) this.writeEarly(step, inputs, views[index], slots);
          else this.computeDeferred(step, inputs, views[index], slots);
        } else {
          const out = views[index] ?? new NDArray(allocate(step.dtype, sizeOf(step.shape)), step.shape, step.dtype);
          if (step.stateOf === undefined) step.kernel(inputs, out, step.node.attrs);
          else step.kernel(inputs, out, step.node.attrs, { counter: counts.get(step.stateOf) ?? 0 });
          slots[step.output] = out;
        }
        const release = step.release;
        for (let k = 0; k < release.length; k++) slots[release[k]] = null;
      }
    } catch (error) {
      if (error instanceof LazygradError) throw error;
      const step = steps[index];
      const described = args[index].map((x, i) => `%${step.inputs[i]} ${x.dtype}${formatShape(x.shape)}`).join(', ');
      throw new RuntimeError(
        `Session.run: ${step.node.op} '${step.node.name}' failed on inputs (${described}): ${(error as Error).message}`,
      );
    }
  }

  /** Runs a region's plan (a body, a branch) from inside a control step: its parameters in, its outputs out. */
  private readonly regionRunner: RegionRunner = {
    run: (region: RegionPlan, values: readonly NDArray[]): NDArray[] => {
      const plan = region.plan;
      const state = this.runStateOf(plan);
      const slots = state.slots;
      const feeds = plan.feeds;
      for (let k = 0; k < feeds.length; k++) slots[feeds[k].slot] = values[region.feedParams[k]];
      setConstants(plan, state);
      const probe = this.regionProbe;
      // A checked run allocates every output afresh (a step computed in place would overwrite what its report reads).
      if (probe === null) this.runSteps(plan.steps, state, state.views, state.outputs);
      else this.runSteps(this.probedFor(plan, state, probe), state, state.fresh, null);
      const results = plan.outputs.map((slot) => {
        const value = slots[slot] as NDArray;
        return plan.graph.node(slot).op === 'constant' ? value.clone() : value;
      });
      slots.fill(null);
      return results;
    },
  };

  /** The staging bytes a run of `plan` reserves on the wasm backend (0 on the JS backend). */
  stagingOf(plan: Plan): number {
    if (this.placement === null) return 0;
    let most = stagingBytes(plan, this.bound);
    for (const region of regionPlans(plan)) most = Math.max(most, stagingBytes(region, this.bound));
    return most;
  }

  /**
   * An assign written at its step (no later step can fail: inplace.ts): a fetched one computes its output as usual;
   * the value goes into the variable now, and the assign's output is the variable's new value (no buffer of its own).
   */
  private writeEarly(step: Step, inputs: NDArray[], view: NDArray | null, slots: (NDArray | null)[]): void {
    const { variable, fetched } = step.early as NonNullable<Step['early']>;
    const value = inputs[1];
    // Not fetched: the kernel runs over the value itself (nothing to copy), so a traced run still records the step.
    const out = !fetched
      ? value
      : (view ?? new NDArray(allocate(step.dtype, sizeOf(step.shape)), step.shape, step.dtype));
    step.kernel(inputs, out, step.node.attrs);
    this.store.writeEarly(variable, value);
    slots[step.output] = fetched ? out : (this.store.get(variable) as NDArray);
  }

  /**
   * An assign marked to be written at its step, in a run where any step may throw (checkNumerics): computed like any
   * step (into a fresh array: a checked run plans no buffers) and written after the run.
   */
  private computeDeferred(step: Step, inputs: NDArray[], view: NDArray | null, slots: (NDArray | null)[]): void {
    const out = view ?? new NDArray(allocate(step.dtype, sizeOf(step.shape)), step.shape, step.dtype);
    step.kernel(inputs, out, step.node.attrs);
    slots[step.output] = out;
    const early = step.early as NonNullable<Step['early']>;
    if (early.input === undefined) this.deferred.push({ variable: early.variable, value: out });
  }

  /** Writes an assign's value to its variable: by exchanging blocks when the value is in a block of its own. */
  private writeVariable(plan: Plan, state: RunState, variable: number, value: NDArray): void {
    const placement = this.placement;
    const entry = state.apart.find((a) => a.variable === variable);
    // A checked run computes into fresh arrays: the value is then not in the block, and is copied.
    const inBlock =
      entry !== undefined &&
      placement !== null &&
      placement.holds(value.data) &&
      value.data.byteOffset === entry.block.offset;
    if (!inBlock) {
      this.store.write(variable, value);
      return;
    }
    const old = this.store.exchange(variable, entry.block, value);
    if (old === null) return;
    (placement as ArenaPlacement).transfer(old, plan);
    entry.block = old;
    // The plan's views of that buffer now point into the variable: the steps writing it get views of the old block.
    const views = state.views as (NDArray | null)[];
    const arena = (placement as ArenaPlacement).arena.memory.buffer;
    for (const index of entry.steps) {
      const step = plan.steps[index];
      views[index] = new NDArray(typedView(step.dtype, arena, old.offset, sizeOf(step.shape)), step.shape, step.dtype);
    }
  }

  /** Frees a plan's arena blocks (when it leaves the cache); its run state is rebuilt if it runs again. */
  drop(plan: Plan): void {
    for (const region of regionPlans(plan)) this.drop(region);
    const state = this.runStates.get(plan);
    if (state === undefined) return;
    if (state.block !== null) this.placement?.free(state.block);
    for (const { block } of state.apart) this.placement?.free(block);
    state.constants?.free(this.placement);
    this.runStates.delete(plan);
  }

  /** Per-plan arrays reused by every run: slots, each step's argument list, and the planned output views. */
  private runStateOf(plan: Plan): RunState {
    let state = this.runStates.get(plan);
    if (state === undefined) {
      const placement = this.placement;
      const memory = placement === null ? null : plan.memory;
      const exchanges = memory === null ? [] : exchangeable(plan, memory);
      let layout = memory === null ? null : layoutBuffers(memory, new Set(exchanges.map((e) => e.buffer)));
      // The blocks' owner is the plan: a plan dropped without dispose() gives its blocks back when collected.
      // A plan with no buffers takes no block (a released arena memory stays released).
      let block =
        memory === null || memory.buffers.length === 0
          ? null
          : (placement as ArenaPlacement).allocate((layout as BufferLayout).bytes, plan);
      const apart: RunState['apart'] = [];
      for (const { variable, buffer } of exchanges) {
        if (block === null) break;
        const planned = (memory as MemoryPlan).buffers[buffer];
        const own = (placement as ArenaPlacement).allocate(planned.capacity * bytesOf(planned.dtype), plan);
        if (own === null) {
          // The arena is full: everything goes back, and the plan's buffers live in JS memory.
          for (const a of apart) placement?.free(a.block);
          apart.length = 0;
          placement?.free(block);
          block = null;
          layout = null;
        } else {
          const steps: number[] = [];
          (memory as MemoryPlan).stepBuffer.forEach((b, index) => {
            if (b === buffer) steps.push(index);
          });
          apart.push({ variable, buffer, steps, block: own });
        }
      }
      const fresh = plan.steps.map(() => null);
      let views: (NDArray | null)[] = [];
      let outputs: OutputViews | null = null;
      if (plan.memory === null) views = fresh;
      else if (block === null) ({ views, outputs } = allocateViews(plan.memory, plannedSteps(plan.steps)));
      state = {
        slots: new Array<NDArray | null>(plan.graph.size).fill(null),
        ...argumentLists(plan.steps),
        views,
        outputs,
        fresh,
        block,
        layout: block === null ? null : layout,
        apart,
        viewsOf: null,
        stagingBytes: placement === null ? 0 : stagingBytes(plan, this.bound),
        probed: [],
        variableIds: plan.variables.map((v) => v.variable),
        constants: placement === null ? null : new PlacedConstants(plan),
      };
      this.runStates.set(plan, state);
    }
    return state;
  }

  /** A plan's steps wrapped for this kind of debugging run, writing the trace (if any) into `probe.entries`. */
  private probedFor(plan: Plan, state: RunState, probe: Probe): readonly Step[] {
    const kind = (probe.check ? 1 : 0) + (probe.entries !== null ? 2 : 0);
    let probed = state.probed[kind];
    if (probed === undefined) {
      probed = probedSteps(plan, probe.check, probe.entries !== null);
      state.probed[kind] = probed;
    }
    probed.entries = probe.entries;
    return probed.steps;
  }

  /**
   * Before a run on the wasm backend: every allocation that may grow the arena happens first (the kernels' staging
   * area, blocks for variables not yet in the arena), then every view that the growth left stale is re-taken.
   */
  private prepareArena(plan: Plan, state: RunState, regions: readonly Plan[]): void {
    const placement = this.placement as ArenaPlacement;
    let staging = state.stagingBytes;
    for (const region of regions) staging = Math.max(staging, (this.runStates.get(region) as RunState).stagingBytes);
    placement.kernels.reserve(staging);
    this.store.reserve(state.variableIds, this.initialValue);
    state.constants?.reserve(placement, plan);
    for (const region of regions) this.runStates.get(region)?.constants?.reserve(placement, region);
    // No allocation below this line: views taken now stay valid for the run.
    // A released memory stays released when this run allocates nothing in the arena (no block then needs views).
    const buffer = placement.arena.released ? null : placement.arena.memory.buffer;
    for (let r = -1; r < regions.length; r++) {
      const p = r < 0 ? plan : regions[r];
      const s = r < 0 ? state : (this.runStates.get(p) as RunState);
      s.constants?.settle(placement);
      const memory = p.memory;
      if (buffer !== null && s.block !== null && s.layout !== null && memory !== null && s.viewsOf !== buffer) {
        ({ views: s.views, outputs: s.outputs } = viewsIn(memory, plannedSteps(p.steps), placedLayout(s), buffer, 0));
        s.viewsOf = buffer;
      }
    }
    this.store.settle();
  }
}

/** Each planned buffer's byte offset in the arena: in the plan's block, or in a block of its own. */
function placedLayout(state: RunState): BufferLayout {
  const layout = state.layout as BufferLayout;
  const base = (state.block as ArenaBlock).offset;
  const offsets = layout.offsets.map((offset) => base + offset);
  for (const { buffer, block } of state.apart) offsets[buffer] = block.offset;
  return { offsets, bytes: layout.bytes };
}

/** A plan's constants into its slots: arena views where they were placed (wasm backend), else the graph's arrays. */
function setConstants(plan: Plan, state: RunState): void {
  const { slots, constants } = state;
  const ids = plan.constants;
  if (constants === null) {
    for (let k = 0; k < ids.length; k++) slots[ids[k]] = plan.graph.node(ids[k]).value as NDArray;
  } else {
    const values = constants.values;
    for (let k = 0; k < ids.length; k++) slots[ids[k]] = values[k];
  }
}

/**
 * The steps' argument lists: one per arity, shared. A step's kernel reads its list only while the step runs (the step
 * loop fills it just before), and a control step's regions run with their own plans' lists, so steps of one plan never
 * need two lists of one arity at once; a list per step was ~10⁵ arrays for a deep gradient graph (issue 20).
 */
function argumentLists(steps: readonly Step[]): { args: NDArray[][]; argLists: NDArray[][] } {
  const byArity: NDArray[][] = [];
  const args = new Array<NDArray[]>(steps.length);
  for (let index = 0; index < steps.length; index++) {
    const arity = steps[index].inputs.length;
    let list = byArity[arity];
    if (list === undefined) {
      list = new Array<NDArray>(arity).fill(EMPTY);
      byArity[arity] = list;
    }
    args[index] = list;
  }
  return { args, argLists: byArity.filter((list) => list !== undefined) };
}

const regionCache = new WeakMap<Plan, Plan[]>();

/** Every region plan a plan's control steps run, nested ones included (an explicit stack, no recursion). */
export function regionPlans(plan: Plan): Plan[] {
  const cached = regionCache.get(plan);
  if (cached !== undefined) return cached;
  const found: Plan[] = [];
  const stack = [plan];
  while (stack.length > 0) {
    const current = stack.pop() as Plan;
    for (const step of current.steps) {
      if (step.control === undefined) continue;
      for (const region of step.control.plans) {
        found.push(region.plan);
        stack.push(region.plan);
      }
    }
  }
  regionCache.set(plan, found);
  return found;
}
