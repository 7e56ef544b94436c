/**
 * Issue 21's benchmarks: lazygrad's ONNX Runtime backend (`new Session(g, { backend: 'onnxruntime' })`, run with
 * `runAsync`) beside the wasm backend, tfjs wasm, and ONNX Runtime running the same exported step by hand, on the
 * MLP training step and inference, the LeNet-like CNN's training step and the elementwise chain; and the per-run
 * overhead of a 3-node graph on every backend. `npm run bench -- --only ort` runs them all.
 *
 * "By hand" exports the workload's graph the way the backend exports a plan: placeholders and variables are inputs,
 * each assigned variable's new value is an extra output. The timed call is one `InferenceSession.run` with the
 * variables fed from ORT tensors, and the new values put back in the feeds for the next call (no copy): what the
 * backend does, minus its own bookkeeping. So backend ÷ by hand is the backend's overhead.
 */
import { add, exportOnnx, Graph, NDArray, optimize, Session, Tensor } from '../src';
import { Rng, seedOf, uniformArray } from './rng';
import type { ContenderResult, WorkloadResult } from './harness';
import type { ContenderId, Instance, LazygradProgram, Scale, Workload } from './workloads';

/** What ortBackendWorkloads needs from workloads.ts (passed in, as lenet.ts and batch1.ts take theirs). */
export interface OrtBackendPlumbing {
  lazygradInstance(program: LazygradProgram): Instance;
}

/** The workloads this file wraps, each under `ort-<id>`, with the contenders that compare the backends. */
const WRAPPED: readonly { base: string; contenders: readonly ContenderId[] }[] = [
  { base: 'mlp-train', contenders: ['lazygrad', 'lazygrad-ort', 'ort', 'tfjs-wasm'] },
  { base: 'mlp-infer', contenders: ['lazygrad', 'lazygrad-ort', 'ort', 'tfjs-wasm'] },
  { base: 'lenet-train', contenders: ['lazygrad', 'lazygrad-ort', 'ort', 'tfjs-wasm'] },
  { base: 'chain', contenders: ['lazygrad', 'lazygrad-ort', 'ort', 'tfjs-wasm'] },
];

/** The ids of issue 21's workloads, in the order they run. */
export const ORT_BACKEND_IDS = [...WRAPPED.map((w) => `ort-${w.base}`), 'ort-tiny'];

/** The passes the ORT backend leaves out (they lower to lazygrad's kernels): src/session/ort/backend.ts. */
const BACKEND_DISABLED_PASSES = ['xent', 'conv-bn', 'epilogue', 'fuse', 'remat'] as const;

/** Threads of every ORT contender here: the target compares one thread each. */
const THREADS = 1;

/**
 * The ORT backend's contender: the same program on a session with `backend: 'onnxruntime'`, run by `runAsync`. The
 * first run compiles (exports the plan, creates ONNX Runtime's session), hundreds of ms: it runs here, then the
 * variables are put back to their initial values, so the harness's check is a steady call on fresh state and its
 * warm-up and batch sizes are those of a steady call.
 */
export async function ortBackendInstance(program: LazygradProgram): Promise<Instance> {
  const session = new Session(program.graph, { ...program.options, backend: 'onnxruntime', threads: THREADS });
  const run = (): Promise<NDArray[]> => session.runAsync(program.fetches, program.feeds);
  const initial = session.serializeVariables();
  await run();
  session.restoreVariables(initial);
  return {
    run: async () => void (await run()),
    check: async () => {
      const values = (await run())
        .slice(0, program.checked ?? program.fetches.length)
        .map((a) => Float32Array.from(a.data as Float32Array));
      for (const v of program.checkVariables) values.push(Float32Array.from(session.variableValue(v).data));
      return values;
    },
    dispose: () => session.dispose(),
    isAsync: true,
  };
}

/** A training step taken apart: the fetches that are values, and each `assign` of a fetched `group` (or fetched). */
interface Step {
  values: Tensor[];
  assigns: { variable: Tensor; value: Tensor }[];
}

function stepOf(program: LazygradProgram): Step {
  const graph = program.graph;
  const values: Tensor[] = [];
  const assigns: Step['assigns'] = [];
  const pending = program.fetches.map((t) => t.id).reverse(); // popped in fetch order
  while (pending.length > 0) {
    const node = graph.nodes[pending.pop() as number];
    if (node.op === 'group') pending.push(...[...node.inputs].reverse());
    else if (node.op === 'assign') {
      assigns.push({ variable: graph.tensor(node.inputs[0]), value: graph.tensor(node.inputs[1]) });
    } else values.push(graph.tensor(node.id));
  }
  return { values, assigns };
}

/** The variables that `outputs` read (an iterative sweep down the ids: inputs have smaller ids). */
function variablesRead(graph: Graph, outputs: readonly Tensor[]): Tensor[] {
  const needed = new Uint8Array(graph.size);
  for (const t of outputs) needed[t.id] = 1;
  const found: Tensor[] = [];
  for (let id = graph.size - 1; id >= 0; id--) {
    if (needed[id] === 0) continue;
    const node = graph.nodes[id];
    if (node.op === 'variable') found.push(graph.tensor(id));
    for (const input of node.inputs) needed[input] = 1;
  }
  return found.reverse();
}

type OrtModule = typeof import('onnxruntime-node');
type OrtTensor = InstanceType<OrtModule['Tensor']>;

/**
 * ONNX Runtime running the program's step by hand: exported with placeholders and variables as inputs and the new
 * value of every assigned variable as an extra output; each call feeds the previous call's new values back.
 */
export async function handRunInstance(program: LazygradProgram, threads = THREADS): Promise<Instance> {
  const ort = await import('onnxruntime-node');
  const step = stepOf(program);
  // The graph the backend exports: the step optimized for the fed shapes, without the passes that lower to
  // lazygrad's own kernels (src/session/ort/backend.ts, LOWERING_PASSES).
  const shapes = new Map([...program.feeds].map(([t, a]) => [t, [...a.shape]] as [Tensor, number[]]));
  const wanted = [...step.values, ...step.assigns.map((a) => a.value)];
  const optimized = optimize(program.graph, wanted, { shapes, disable: [...BACKEND_DISABLED_PASSES] });
  const graph = optimized.graph;
  const outputs: { [name: string]: Tensor } = {};
  optimized.outputs.forEach((t, i) => {
    outputs[i < step.values.length ? `value${i}` : `update${i - step.values.length}`] = t;
  });
  const variables = variablesRead(graph, optimized.outputs);
  const placeholders = [...program.feeds.keys()].map((t) => graph.byName(t.name) as Tensor);
  const bytes = exportOnnx(graph, { inputs: [...placeholders, ...variables], outputs });
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  // A copy, so the feeds fed back never alias the program's arrays; the ONNX type names are lazygrad's dtypes.
  const tensorOf = (a: NDArray): OrtTensor => new ort.Tensor(a.dtype, a.data.slice(), [...a.shape]);
  // Initial values as a session computes them (initializers run once), on the js backend: no wasm arena. The
  // optimized graph's placeholders and variables keep the names of the program's.
  const initial = new Session(program.graph, { backend: 'js' });
  const original = (t: Tensor): Tensor => program.graph.byName(t.name) as Tensor;
  const fresh = (): { [name: string]: OrtTensor } => {
    const feeds: { [name: string]: OrtTensor } = {};
    placeholders.forEach((t, i) => {
      feeds[session.inputNames[i]] = tensorOf(program.feeds.get(original(t)) as NDArray);
    });
    variables.forEach((v, i) => {
      feeds[session.inputNames[placeholders.length + i]] = tensorOf(initial.variableValue(original(v)));
    });
    return feeds;
  };
  const nameOf = new Map(variables.map((v, i) => [v.name, session.inputNames[placeholders.length + i]]));
  let feeds = fresh();
  const run = async (): Promise<{ [name: string]: OrtTensor }> => {
    const out = await session.run(feeds);
    step.assigns.forEach((a, i) => (feeds[nameOf.get(a.variable.name) as string] = out[`update${i}`]));
    return out;
  };
  return {
    run: async () => void (await run()),
    check: async () => {
      feeds = fresh();
      const out = await run();
      const values = step.values
        .slice(0, program.checked ?? step.values.length)
        .map((_, i) => Float32Array.from(out[`value${i}`].data as Float32Array));
      for (const v of program.checkVariables) {
        const name = nameOf.get(v.name);
        const tensor = name === undefined ? tensorOf(initial.variableValue(v)) : feeds[name];
        values.push(Float32Array.from(tensor.data as Float32Array));
      }
      return values;
    },
    dispose: () => void session.release(),
    note:
      `model: the optimized step by exportOnnx, ${variables.length} variables as inputs, ` +
      `${step.assigns.length} updates as outputs`,
    isAsync: true,
  };
}

/** The 3-node graph of the per-run overhead: a placeholder x [4], a constant, their sum. */
function tinyWorkload(plumbing: OrtBackendPlumbing): Workload {
  const id = 'ort-tiny';
  const x = uniformArray(new Rng(seedOf(id)), 4, -1, 1);
  const program = (options: LazygradProgram['options'] = {}): LazygradProgram => {
    const g = new Graph();
    const input = g.placeholder('x', [4]);
    const y = add(input, g.constant(new NDArray(new Float32Array([1, 2, 3, 4]), [4]), 'float32', 'c'));
    return { graph: g, fetches: [y], feeds: new Map([[input, new NDArray(x, [4])]]), options, checkVariables: [] };
  };
  return {
    id,
    title: 'per-run overhead: a 3-node graph (placeholder [4] + constant)',
    contenders: ['lazygrad', 'lazygrad-js', 'lazygrad-ort', 'ort'],
    tolerance: 1e-6,
    program: () => program(),
    build: async (contender) => {
      switch (contender) {
        case 'lazygrad':
          return plumbing.lazygradInstance(program());
        case 'lazygrad-js':
          return plumbing.lazygradInstance(program({ backend: 'js' }));
        case 'lazygrad-ort':
          return ortBackendInstance(program());
        case 'ort':
          return handRunInstance(program());
        default:
          throw new Error(`workload '${id}' has no contender '${contender}'`);
      }
    },
  };
}

/**
 * ort-mlp-train, ort-mlp-infer, ort-lenet-train, ort-chain (each the workload of that id with the backends'
 * contenders) and ort-tiny. `list` holds the workloads they wrap; the wasm backend and tfjs come from them.
 */
export function ortBackendWorkloads(scale: Scale, list: readonly Workload[], plumbing: OrtBackendPlumbing): Workload[] {
  const wrapped = WRAPPED.map(({ base, contenders }): Workload => {
    const workload = list.find((w) => w.id === base);
    if (workload === undefined) throw new Error(`ortBackendWorkloads: no workload '${base}' at scale ${scale}`);
    return {
      ...workload,
      id: `ort-${base}`,
      title: `${workload.title}, by backend`,
      contenders,
      flops: undefined,
      build: async (contender) => {
        if (contender === 'lazygrad-ort') return ortBackendInstance(workload.program('lazygrad'));
        if (contender === 'ort') return handRunInstance(workload.program('lazygrad'));
        return workload.build(contender);
      },
    };
  });
  return [...wrapped, tinyWorkload(plumbing)];
}

/** Issue 21's targets for the MLP training step, one thread each. */
export const ORT_TARGETS = { speedupOverWasm: 2.5, overHandRun: 1.3 } as const;

function ms(c: ContenderResult | undefined): string {
  if (c?.medianMs === undefined) return '—';
  return `${c.medianMs.toPrecision(3)} ms (min ${(c.minMs as number).toPrecision(3)})`;
}

/** a's time over b's, from medians and from minimums: "×1.23 (min ×1.10)". */
function ratio(a: ContenderResult | undefined, b: ContenderResult | undefined): string {
  if (a?.medianMs === undefined || b?.medianMs === undefined) return '—';
  const median = a.medianMs / b.medianMs;
  const min = (a.minMs as number) / (b.minMs as number);
  return `×${median.toFixed(2)} (min ×${min.toFixed(2)})`;
}

/**
 * The console lines of issue 21: per workload, the wasm backend's time over the ORT backend's (its speedup), the
 * ORT backend's time over ONNX Runtime run by hand (its overhead), and the MLP training step against the targets.
 */
export function ortBackendLines(results: readonly WorkloadResult[]): string[] {
  const ours = results.filter((r) => ORT_BACKEND_IDS.includes(r.id));
  if (ours.length === 0) return [];
  const lines = [
    'issue 21, ONNX Runtime backend (one thread each): wasm ÷ ORT backend = speedup; ORT backend ÷ by hand = overhead',
  ];
  const get = (r: WorkloadResult, c: ContenderId): ContenderResult | undefined =>
    r.contenders.find((x) => x.contender === c && x.error === undefined);
  for (const r of ours) {
    const [wasm, backend, hand] = [get(r, 'lazygrad'), get(r, 'lazygrad-ort'), get(r, 'ort')];
    lines.push(
      `  ${r.id}: wasm ${ms(wasm)}, ORT backend ${ms(backend)}, by hand ${ms(hand)}; ` +
        `speedup ${ratio(wasm, backend)}, overhead ${ratio(backend, hand)}` +
        (r.id === 'ort-tiny' ? `; js backend ${ms(get(r, 'lazygrad-js'))}` : ''),
    );
  }
  const train = ours.find((r) => r.id === 'ort-mlp-train');
  const [wasm, backend, hand] =
    train === undefined ? [] : [get(train, 'lazygrad'), get(train, 'lazygrad-ort'), get(train, 'ort')];
  if (wasm?.medianMs !== undefined && backend?.medianMs !== undefined && hand?.medianMs !== undefined) {
    const verdict = (median: number, min: number, ok: (r: number) => boolean): string =>
      `×${median.toFixed(2)} ${ok(median) ? 'met' : 'MISSED'} (min ×${min.toFixed(2)} ${ok(min) ? 'met' : 'MISSED'})`;
    const speedup = verdict(
      wasm.medianMs / backend.medianMs,
      (wasm.minMs as number) / (backend.minMs as number),
      (r) => r >= ORT_TARGETS.speedupOverWasm,
    );
    const overhead = verdict(
      backend.medianMs / hand.medianMs,
      (backend.minMs as number) / (hand.minMs as number),
      (r) => r <= ORT_TARGETS.overHandRun,
    );
    lines.push(
      `  target: MLP training step ≥ ×${ORT_TARGETS.speedupOverWasm} faster than wasm: ${speedup}; ` +
        `≤ ×${ORT_TARGETS.overHandRun} the hand-run ORT: ${overhead}`,
    );
  }
  return lines;
}
