/**
 * The 'onnxruntime' backend of Session: each plan signature (fetches, fed tensors, fed shapes) is compiled once with
 * the rewriting passes (fold, cse, simplify, stabilize, prune; not lazygrad's lowering passes — xent, conv-bn,
 * epilogue, fuse, remat — which serve its own kernels), split into ONNX Runtime and lazygrad segments
 * (partition.ts), each ONNX Runtime segment exported to an in-memory ONNX model with its inputs (fed values,
 * variables, values of earlier segments) as graph inputs, and one InferenceSession created per segment and cached
 * with the plan. A run feeds the segments in order; variables are read from the session's store and the assigns'
 * values written back only after every segment succeeded.
 */
import {
  allocate,
  formatShape,
  Graph,
  isFloat,
  LazygradError,
  NDArray,
  now,
  NumericsError,
  RuntimeError,
  SessionError,
  sizeOf,
} from '../../graph';
import { OptimizeOptions } from '../../passes';
import { exportOnnx } from '../../interop/onnx/export';
import { isControlOp } from '../../ops';
import { compilePlan } from '../compile';
import { formatPlan, Plan } from '../plan';
import { firstNonFinite, probedSteps, ProbedSteps, TraceEntry, unravel } from '../numerics';
import { formatPartition, kernelKey, opsetFor, ORT_OPSET, Partition, partitionPlan, refusedNodes } from './partition';
import { loadOnnxRuntime, OnnxRuntimeModule, OnnxRuntimeOption, OrtInferenceSession, OrtTensor } from './module';

/** lazygrad's lowering passes: its own kernels' business, left to ONNX Runtime's own optimizer here. */
const LOWERING_PASSES = ['xent', 'conv-bn', 'epilogue', 'fuse', 'remat'];

const PLAN_CACHE_LIMIT = 64;

export interface OrtBackendOptions {
  readonly optimize: OptimizeOptions;
  readonly threads: number;
  readonly executionProviders?: readonly (string | { readonly name: string })[];
  readonly onnxruntime?: OnnxRuntimeOption;
  readonly maxBytes: number;
}

/** A new value for a variable; `owned`: an array of this run that nothing else holds (stored without a copy). */
export interface VariableWrite {
  readonly variable: number;
  readonly value: NDArray;
  readonly owned: boolean;
}

/** What a run reads and writes of the session: its variables. */
export interface OrtVariables {
  /** A variable's current value (its initial value if never written). */
  read(id: number): NDArray;
  /** Writes the new values of a successful run's assigns. */
  commit(writes: readonly VariableWrite[]): void;
}

/** A compiled plan: the lazygrad plan, its split, and an InferenceSession per ONNX Runtime segment. */
interface OrtPlan {
  /** The ONNX Runtime module its sessions come from. */
  readonly ort: OnnxRuntimeModule;
  readonly plan: Plan;
  readonly partition: Partition;
  readonly sessions: readonly (OrtInferenceSession | null)[];
  /** The steps wrapped for checkNumerics / trace runs, by kind (1: check, 2: trace, 3: both). */
  readonly probed: (ProbedSteps | undefined)[];
  /** The stateful nodes (user-graph ids) its steps run: their run counts move after each successful run. */
  readonly stateful: readonly number[];
  /** Whether each fetch (plan.outputs) is a fed array, a constant or a variable: handed out as a copy. */
  readonly copied: readonly boolean[];
  /** What each ONNX Runtime segment's runs reuse (null for a lazygrad segment), made at the first run. */
  io: (SegmentIO | null)[] | null;
  /** A run's values by slot (plan.graph's ids), reused by the next run; emptied after each run. */
  values: (NDArray | null)[] | null;
  /** A run of this plan is in progress (its `values` in use). */
  busy: boolean;
}

/** An ONNX Runtime segment's names and the input tensors of its last run, reused while their arrays are the same. */
interface SegmentIO {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The array each input's tensor was made of (the same NDArray object: its data and shape are the tensor's). */
  readonly arrays: (NDArray | null)[];
  readonly tensors: (OrtTensor | null)[];
}

/** The last plan looked up and its signature: a run repeating it skips building the key string. */
interface Lookup {
  readonly fetchIds: readonly number[];
  readonly fedIds: readonly number[];
  readonly fedShapes: readonly (readonly number[])[];
  readonly key: string;
  readonly compiled: OrtPlan;
}

/** One run's probe: scan outputs for NaN/Inf, record a trace. */
export interface OrtProbe {
  readonly check: boolean;
  readonly entries: TraceEntry[] | null;
}

/** Fetches whose arrays are the user's, the graph's or the store's: handed out as copies. */
const OWN_VALUES = new Set(['constant', 'variable', 'placeholder']);

const ORT_TYPE: { readonly [dtype: string]: string } = {
  float32: 'float32',
  float64: 'float64',
  int32: 'int32',
  bool: 'bool',
};

function toNDArray(tensor: OrtTensor, what: string): NDArray {
  const dims = tensor.dims.map(Number);
  const data = tensor.data;
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) {
    return new NDArray(data, dims);
  }
  if (tensor.type === 'bool' && data instanceof Uint8Array) return new NDArray(data, dims, 'bool');
  if (data instanceof BigInt64Array) return new NDArray(Int32Array.from(data, Number), dims);
  // Another realm's typed arrays (a test environment, a worker): read by type name.
  const typed = data as ArrayLike<number>;
  switch (tensor.type) {
    case 'float32':
      return new NDArray(Float32Array.from(typed), dims);
    case 'float64':
      return new NDArray(Float64Array.from(typed), dims);
    case 'int32':
      return new NDArray(Int32Array.from(typed), dims);
    case 'bool':
      return new NDArray(Uint8Array.from(typed), dims, 'bool');
    default:
      throw new RuntimeError(
        `Session.runAsync: ONNX Runtime gave ${what} of type ${tensor.type}, which lazygrad has not`,
      );
  }
}

/** Runs a session's plans in ONNX Runtime (see the file comment); Session owns one when its backend is 'onnxruntime'. */
export class OrtBackend {
  private module: Promise<OnnxRuntimeModule> | null = null;
  private readonly plans = new Map<string, OrtPlan>();
  /** How many successful runs executed each stateful node (user-graph id): the random ops' stream counters. */
  private readonly runCounts = new Map<number, number>();
  /** The last run queued: runs of one session run one after the other, in call order. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Runs started and not yet settled. */
  private queued = 0;
  /** Kernels ONNX Runtime refused to load (kernelKey → why): their nodes run in lazygrad, in every later plan too. */
  private readonly refused = new Map<string, string>();
  /** The opset of the models made for the ONNX Runtime module loaded (ORT_OPSET before it is). */
  private opset = ORT_OPSET;
  /** The last cached plan looked up (see Lookup). */
  private lastLookup: Lookup | null = null;

  constructor(
    private readonly graph: Graph,
    private readonly options: OrtBackendOptions,
    private readonly variables: OrtVariables,
  ) {}

  /** Releases every cached plan's InferenceSessions (a later run creates them again). */
  dispose(): void {
    for (const compiled of this.plans.values()) releaseAll(compiled);
    this.plans.clear();
  }

  /** Plans compiled and cached. */
  get cachedPlans(): number {
    return this.plans.size;
  }

  private get optimize(): OptimizeOptions {
    const disable = [...(this.options.optimize.disable ?? []), ...LOWERING_PASSES];
    return { ...this.options.optimize, disable };
  }

  /** The lazygrad plan of a signature, as this backend compiles it (no lowering passes, no early updates). */
  private compileLazygrad(fetchIds: readonly number[], feeds: ReadonlyMap<number, NDArray>, forDisplay: boolean): Plan {
    return compilePlan(this.graph, fetchIds, feeds, this.optimize, new Map(), forDisplay, this.options.maxBytes, false);
  }

  /** explain: the compiled plan, then its split between ONNX Runtime and lazygrad. */
  explain(fetchIds: readonly number[], feeds: ReadonlyMap<number, NDArray>): string {
    const plan = this.compileLazygrad(fetchIds, feeds, true);
    const text = formatPlan({ ...plan, memory: null });
    return `${text}\n${formatPartition(plan, partitionPlan(plan, this.refused, this.opset))}`;
  }

  /**
   * Queues a run after the session's earlier ones (they run one at a time, in call order) and resolves to the
   * fetches' values, in the order of `fetchIds`.
   */
  run(fetchIds: readonly number[], feeds: ReadonlyMap<number, NDArray>, probe: OrtProbe | null): Promise<NDArray[]> {
    this.queued++; // runNow counts it off when it settles
    const go = (): Promise<NDArray[]> => this.runNow(fetchIds, feeds, probe);
    // Nothing else queued: start now (no extra turn of the microtask queue); else once the last run queued has
    // settled, whether it succeeded or failed.
    const task = this.queued === 1 ? go() : this.tail.then(go, go);
    this.tail = task;
    return task;
  }

  /** ONNX Runtime, loaded once (a failed load is tried again at the next call). */
  loadModule(): Promise<OnnxRuntimeModule> {
    if (this.module === null) {
      const loading = loadOnnxRuntime(this.options.onnxruntime).then((module) => {
        this.opset = opsetFor(module);
        return module;
      });
      this.module = loading;
      // A failed load is tried again at the next run (the package may have been installed since).
      loading.catch(() => {
        if (this.module === loading) this.module = null;
      });
    }
    return this.module;
  }

  /** The cached plan of a signature (the last one looked up when it repeats: no key string built), or its key. */
  private lookup(
    fetchIds: readonly number[],
    feeds: ReadonlyMap<number, NDArray>,
  ): { key: string; compiled: OrtPlan | undefined } {
    const last = this.lastLookup;
    if (last !== null && sameSignature(last, fetchIds, feeds) && this.plans.get(last.key) === last.compiled) {
      return last;
    }
    const fedIds = [...feeds.keys()].sort((a, b) => a - b);
    const fed = fedIds.map((id) => `${id}:${(feeds.get(id) as NDArray).shape.join('x')}`);
    const key = `${fetchIds.join(',')}|${fed.join(',')}`;
    const compiled = this.plans.get(key);
    if (compiled !== undefined) {
      const fedShapes = fedIds.map((id) => [...(feeds.get(id) as NDArray).shape]);
      this.lastLookup = { fetchIds: [...fetchIds], fedIds, fedShapes, key, compiled };
    }
    return { key, compiled };
  }

  private async runNow(
    fetchIds: readonly number[],
    feeds: ReadonlyMap<number, NDArray>,
    probe: OrtProbe | null,
  ): Promise<NDArray[]> {
    try {
      const found = this.lookup(fetchIds, feeds);
      const key = found.key;
      let compiled = found.compiled;
      const cached = compiled !== undefined;
      if (compiled === undefined) {
        // Compiling checks the feeds (a missing one is a FeedError) before ONNX Runtime is even loaded.
        const plan = this.compileLazygrad(fetchIds, feeds, false);
        const ort = await this.loadModule();
        compiled = await this.compileForOrt(ort, plan);
      }
      let result: { values: NDArray[]; writes: VariableWrite[] };
      try {
        result = await this.execute(compiled, feeds, probe);
      } catch (error) {
        // A plan that never ran successfully is not cached (as on the other backends).
        if (!cached) releaseAll(compiled);
        throw error;
      }
      this.variables.commit(result.writes);
      for (const id of compiled.stateful) this.runCounts.set(id, (this.runCounts.get(id) ?? 0) + 1);
      if (!cached) this.cache(key, compiled);
      return result.values;
    } finally {
      this.queued--;
    }
  }

  private cache(key: string, compiled: OrtPlan): void {
    if (this.plans.size >= PLAN_CACHE_LIMIT) {
      const oldest = this.plans.keys().next().value as string;
      releaseAll(this.plans.get(oldest) as OrtPlan);
      this.plans.delete(oldest);
    }
    this.plans.set(key, compiled);
  }

  /**
   * Splits the plan and creates its InferenceSessions. When ONNX Runtime refuses a segment for want of a kernel (an
   * ONNX op for a dtype its providers do not implement), the nodes needing it move to lazygrad and the plan is split
   * again: each round moves at least one node, so this ends.
   */
  private async compileForOrt(ort: OnnxRuntimeModule, plan: Plan): Promise<OrtPlan> {
    const opset = opsetFor(ort);
    this.opset = opset;
    for (;;) {
      const partition = partitionPlan(plan, this.refused, opset);
      const created = await this.createSessions(ort, plan, partition);
      if (!('refusal' in created)) return created;
      const { segment, message } = created.refusal;
      // None of the execution providers asked for could start (onnxruntime-web's 'webgpu' without a GPU adapter):
      // not the model's fault, so no node moves to lazygrad.
      if (/no available backend found/i.test(message)) {
        const asked = JSON.stringify(this.options.executionProviders ?? []).replace(/"/g, "'");
        throw new SessionError(
          `Session.runAsync (backend 'onnxruntime'): ONNX Runtime could start none of the execution providers ` +
            `asked for (executionProviders: ${asked}): ${message}; list a fallback after it (e.g. ['webgpu', 'wasm'] ` +
            `in browsers, ['cuda', 'cpu'] in Node.js)`,
        );
      }
      const inSegment = partition.segments[segment].nodes;
      let nodes = refusedNodes(plan, inSegment, message, opset);
      // The ONNX node it names is none of the exported ones (a function op's body, e.g. HardSwish's HardSigmoid):
      // each kind of node of the segment is loaded on its own to find the ones ONNX Runtime has no kernel for.
      if (nodes.length === 0 && /implementation for/.test(message))
        nodes = await this.probeKernels(ort, plan, inSegment);
      nodes = nodes.filter((id) => !this.refused.has(kernelKey(plan, plan.graph.node(id))));
      if (nodes.length === 0) {
        throw new SessionError(
          `Session.runAsync (backend 'onnxruntime'): ONNX Runtime refused segment ${segment} ` +
            `(${partition.segments[segment].nodes.length} nodes; see sess.explain): ${message}`,
        );
      }
      const short = message.split('\n')[0].slice(0, 200);
      for (const id of nodes)
        this.refused.set(kernelKey(plan, plan.graph.node(id)), `ONNX Runtime has no kernel: ${short}`);
    }
  }

  /** The nodes (one per kernel key) that ONNX Runtime refuses to load as a model of that node alone. */
  private async probeKernels(ort: OnnxRuntimeModule, plan: Plan, nodes: readonly number[]): Promise<number[]> {
    const graph = plan.graph;
    const seen = new Map<string, boolean>();
    const refused: number[] = [];
    for (const id of nodes) {
      const node = graph.node(id);
      if (isControlOp(node.op)) continue;
      const key = kernelKey(plan, node);
      let fails = seen.get(key);
      if (fails === undefined) {
        fails = false;
        try {
          const bytes = exportOnnx(graph, {
            outputs: { [node.name]: graph.tensor(id) },
            inputs: [...new Set(node.inputs)].map((i) => graph.tensor(i)),
            opset: this.opset,
            annotations: false,
          });
          const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
          await session.release();
        } catch {
          fails = true;
        }
        seen.set(key, fails);
      }
      if (fails) refused.push(id);
    }
    return refused;
  }

  /** Exports each ONNX Runtime segment and creates its InferenceSession (or says which segment it refused). */
  private async createSessions(
    ort: OnnxRuntimeModule,
    plan: Plan,
    partition: Partition,
  ): Promise<OrtPlan | { refusal: { segment: number; message: string } }> {
    const sessions: (OrtInferenceSession | null)[] = [];
    const options: { [key: string]: unknown } = {
      intraOpNumThreads: this.options.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Failures reach the caller as errors with ONNX Runtime's message: no second copy on the console.
      logSeverityLevel: 4,
    };
    if (this.options.executionProviders !== undefined)
      options.executionProviders = [...this.options.executionProviders];
    const stateful: number[] = [];
    for (const step of plan.steps) if (step.stateOf !== undefined) stateful.push(step.stateOf);
    const copied = plan.outputs.map((slot) => OWN_VALUES.has(plan.graph.node(slot).op));
    const created: OrtPlan = {
      ort,
      plan,
      partition,
      sessions,
      probed: [],
      stateful,
      copied,
      io: null,
      values: null,
      busy: false,
    };
    try {
      for (const [k, segment] of partition.segments.entries()) {
        if (segment.kind !== 'onnxruntime') {
          sessions.push(null);
          continue;
        }
        const graph = plan.graph;
        const outputs: { [name: string]: ReturnType<Graph['tensor']> } = {};
        for (const id of segment.outputs) outputs[graph.node(id).name] = graph.tensor(id);
        let bytes: Uint8Array;
        try {
          bytes = exportOnnx(graph, {
            outputs,
            inputs: segment.inputs.map((id) => graph.tensor(id)),
            opset: this.opset,
            annotations: false,
            name: `lazygrad_segment_${k}`,
          });
        } catch (error) {
          throw new SessionError(
            `Session.runAsync (backend 'onnxruntime'): exporting segment ${k} to ONNX failed: ${(error as Error).message}`,
          );
        }
        try {
          sessions.push(await ort.InferenceSession.create(bytes, options));
        } catch (error) {
          releaseAll(created);
          return { refusal: { segment: k, message: String((error as Error)?.message) } };
        }
      }
    } catch (error) {
      releaseAll(created);
      throw error;
    }
    return created;
  }

  private probedFor(compiled: OrtPlan, probe: OrtProbe): ProbedSteps {
    const kind = (probe.check ? 1 : 0) + (probe.entries !== null ? 2 : 0);
    let probed = compiled.probed[kind];
    if (probed === undefined) {
      probed = probedSteps(compiled.plan, probe.check, probe.entries !== null);
      compiled.probed[kind] = probed;
    }
    probed.entries = probe.entries;
    return probed;
  }

  /** One run of a compiled plan: the segments in order; nothing is written to the variables here. */
  private async execute(
    compiled: OrtPlan,
    feeds: ReadonlyMap<number, NDArray>,
    probe: OrtProbe | null,
  ): Promise<{ values: NDArray[]; writes: VariableWrite[] }> {
    const { plan, partition, sessions } = compiled;
    const graph = plan.graph;
    // One values array per plan, reused run after run (a plan's runs are queued, so never two at once).
    const reuse = !compiled.busy;
    let values = reuse ? compiled.values : null;
    if (values === null) {
      values = new Array<NDArray | null>(graph.size).fill(null);
      if (reuse) compiled.values = values;
    }
    if (reuse) compiled.busy = true;
    try {
      /** Arrays made by this run (ONNX Runtime's outputs, lazygrad steps' outputs). */
      const fresh = plan.assigns.length === 0 ? null : new Set<NDArray>();
      for (const { slot, source } of plan.feeds) values[slot] = feeds.get(source) as NDArray;
      for (const { slot, variable } of plan.variables) values[slot] = this.variables.read(variable);
      for (const id of plan.constants) values[id] = graph.node(id).value as NDArray;
      const steps = probe === null ? plan.steps : this.probedFor(compiled, probe).steps;
      const counts = this.runCounts;
      const ort = compiled.ort;
      const segments = partition.segments;
      for (let k = 0; k < segments.length; k++) {
        const segment = segments[k];
        const session = sessions[k];
        if (session !== null) {
          await this.runOrtSegment(ort, session, compiled, k, values, probe, fresh);
          continue;
        }
        let index = 0;
        try {
          for (const s of segment.steps) {
            index = s;
            const step = steps[s];
            if (probe === null && step.node.op === 'assign') {
              // The value is written after the run: no copy into an output of its own (a probed run records the step).
              values[step.output] = values[step.inputs[1]];
              continue;
            }
            const inputs = step.inputs.map((id) => values[id] as NDArray);
            const out = new NDArray(allocate(step.dtype, sizeOf(step.shape)), step.shape, step.dtype);
            if (step.stateOf === undefined) step.kernel(inputs, out, step.node.attrs);
            else step.kernel(inputs, out, step.node.attrs, { counter: counts.get(step.stateOf) ?? 0 });
            values[step.output] = out;
            fresh?.add(out);
          }
        } catch (error) {
          if (error instanceof LazygradError) throw error;
          const step = plan.steps[index];
          const described = step.inputs
            .map((id) => `%${id} ${values[id]?.dtype}${formatShape(values[id]?.shape ?? [])}`)
            .join(', ');
          throw new RuntimeError(
            `Session.runAsync: ${step.node.op} '${step.node.name}' failed on inputs (${described}): ${(error as Error).message}`,
          );
        }
      }
      const outputs = plan.outputs;
      const results: NDArray[] = new Array<NDArray>(outputs.length);
      for (let i = 0; i < outputs.length; i++) {
        const value = values[outputs[i]] as NDArray;
        // Fed arrays, constants and variables are the user's, the graph's or the store's: hand out copies.
        results[i] = compiled.copied[i] ? value.clone() : value;
      }
      const writes: VariableWrite[] = [];
      if (plan.assigns.length === 0) return { values: results, writes };
      // An array this run made, not handed out nor written to two variables, becomes the variable's value as it is.
      const taken = new Set<NDArray>(results);
      for (const { variable, slot } of plan.assigns) {
        const value = values[slot] as NDArray;
        const owned = (fresh as Set<NDArray>).has(value) && !taken.has(value);
        taken.add(value);
        writes.push({ variable, value, owned });
      }
      return { values: results, writes };
    } finally {
      if (reuse) {
        // Nothing of this run is kept alive by the plan.
        values.fill(null);
        compiled.busy = false;
      }
    }
  }

  private async runOrtSegment(
    ort: OnnxRuntimeModule,
    session: OrtInferenceSession,
    compiled: OrtPlan,
    k: number,
    values: (NDArray | null)[],
    probe: OrtProbe | null,
    fresh: Set<NDArray> | null,
  ): Promise<void> {
    const { plan, partition } = compiled;
    const graph = plan.graph;
    const segment = partition.segments[k];
    const io = segmentIO(compiled, k);
    const feeds: { [name: string]: OrtTensor } = {};
    const inputs = segment.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const value = values[inputs[i]] as NDArray;
      // The same array as the last run's (a variable not replaced since, a feed given again): its tensor, which
      // holds that array's data (not a copy), so a write in place is seen too. Any other array gets a new tensor.
      let tensor = io.arrays[i] === value ? io.tensors[i] : null;
      if (tensor === null) {
        tensor = new ort.Tensor(ORT_TYPE[value.dtype], value.data, value.shape);
        io.arrays[i] = value;
        io.tensors[i] = tensor;
      }
      feeds[io.inputNames[i]] = tensor;
    }
    const previews =
      probe?.entries == null
        ? []
        : segment.inputs.map((id) => ({ name: graph.node(id).name, values: preview(values[id] as NDArray) }));
    const start = probe === null ? 0 : now();
    let results: { [name: string]: OrtTensor };
    try {
      results = await session.run(feeds);
    } catch (error) {
      throw new RuntimeError(
        `Session.runAsync: ONNX Runtime segment ${k} (${segment.nodes.length} nodes, ${describeRange(segment.nodes)}; ` +
          `see sess.explain) failed: ${(error as Error).message}`,
      );
    }
    const ms = probe === null ? 0 : now() - start;
    let bytes = 0;
    const outputs = segment.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const id = outputs[i];
      const name = io.outputNames[i];
      const tensor = results[name];
      if (tensor === undefined) throw new RuntimeError(`Session.runAsync: ONNX Runtime segment ${k} gave no '${name}'`);
      const value = toNDArray(tensor, `'${name}'`);
      values[id] = value;
      fresh?.add(value);
      bytes += value.data.byteLength;
    }
    if (probe === null) return;
    const first = values[segment.outputs[0]] as NDArray;
    probe.entries?.push({
      step: segment.steps[0],
      node: `onnxruntime segment ${k} (${segment.nodes.length} nodes, as a whole)`,
      op: 'onnxruntime',
      shape: first.shape,
      dtype: first.dtype,
      ms,
      bytes,
      inputs: previews,
      values: preview(first),
    });
    if (probe.check) checkSegment(plan, segment.inputs, segment.outputs, k, values);
  }
}

/** Segment k's SegmentIO, made at its first run. */
function segmentIO(compiled: OrtPlan, k: number): SegmentIO {
  let all = compiled.io;
  if (all === null) {
    all = compiled.partition.segments.map(() => null);
    compiled.io = all;
  }
  let io = all[k];
  if (io === null) {
    const graph = compiled.plan.graph;
    const { inputs, outputs } = compiled.partition.segments[k];
    io = {
      inputNames: inputs.map((id) => graph.node(id).name),
      outputNames: outputs.map((id) => graph.node(id).name),
      arrays: inputs.map(() => null),
      tensors: inputs.map(() => null),
    };
    all[k] = io;
  }
  return io;
}

/** Whether a lookup has `last`'s fetch ids (in order) and fed ids and shapes: the same key (as Session.run's). */
function sameSignature(last: Lookup, fetchIds: readonly number[], feeds: ReadonlyMap<number, NDArray>): boolean {
  const ids = last.fetchIds;
  if (ids.length !== fetchIds.length || last.fedIds.length !== feeds.size) return false;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== fetchIds[i]) return false;
  for (let i = 0; i < last.fedIds.length; i++) {
    const value = feeds.get(last.fedIds[i]);
    if (value === undefined) return false;
    const shape = value.shape;
    const expected = last.fedShapes[i];
    if (shape.length !== expected.length) return false;
    for (let d = 0; d < shape.length; d++) if (shape[d] !== expected[d]) return false;
  }
  return true;
}

function preview(array: NDArray): number[] {
  const n = Math.min(8, array.data.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number(array.data[i]));
  return out;
}

function describeRange(ids: readonly number[]): string {
  return ids.length === 0 ? 'none' : `%${Math.min(...ids)}..%${Math.max(...ids)}`;
}

/**
 * checkNumerics for an ONNX Runtime segment: ONNX Runtime runs it as a whole, so its outputs are checked (and its
 * inputs, to tell a bad input from a bad step), not each step inside it.
 */
function checkSegment(
  plan: Plan,
  inputs: readonly number[],
  outputs: readonly number[],
  k: number,
  values: readonly (NDArray | null)[],
): void {
  const graph = plan.graph;
  for (const id of outputs) {
    const out = values[id] as NDArray;
    if (!isFloat(out.dtype)) continue;
    const bad = firstNonFinite(out.data);
    if (bad < 0) continue;
    const node = graph.node(id);
    const assigned = graph.nodes.find((n) => n.op === 'assign' && n.inputs[1] === id);
    const role =
      assigned === undefined
        ? ''
        : `; it is the new value of variable '${graph.node(assigned.inputs[0]).name}' (assigned by '${assigned.name}')`;
    const at = `${out.data[bad]} at index ${bad} ${formatShape(unravel(bad, out.shape))}`;
    let cause =
      '; ONNX Runtime runs the segment as a whole, so the step inside it that first went non-finite is not known ' +
      "(run with backend 'wasm' or 'js' to find it)";
    for (const input of inputs) {
      const x = values[input] as NDArray;
      if (!isFloat(x.dtype)) continue;
      const where = firstNonFinite(x.data);
      if (where >= 0) {
        const source = graph.node(input);
        cause = `, but input was already non-finite: ${source.op} '${source.name}' holds ${x.data[where]} at index ${where}`;
        break;
      }
    }
    throw new NumericsError(
      `Session.runAsync (checkNumerics): ONNX Runtime segment ${k}'s output ${node.op} '${node.name}' holds ${at} ` +
        `of ${out.dtype}${formatShape(out.shape)}${role}${cause}`,
    );
  }
}

function releaseAll(compiled: OrtPlan): void {
  for (const session of compiled.sessions) session?.release().catch(() => undefined);
}
