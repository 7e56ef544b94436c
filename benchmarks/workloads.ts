/**
 * The benchmark workloads: for each, the lazygrad program and how every peer computes the same thing on the same
 * seeded data. Builders are pure setup; the harness times `run()` and compares `check()` across contenders.
 */
import * as tf from '@tensorflow/tfjs';
import {
  add,
  assign,
  group,
  exp,
  gradients,
  Graph,
  matMul,
  mean,
  mul,
  NDArray,
  neg,
  relu,
  RunOptions,
  SessionOptions,
  Session,
  softmaxCrossEntropyWithLogits,
  sqrt,
  square,
  sub,
  tanh,
  Tensor,
} from '../src';
import { batch1Workloads } from './batch1';
import { lenetWorkloads } from './lenet';
import { lstmWorkloads } from './lstm';
import { modelCandidates, OnnxBuilder } from './onnx';
import { ortBackendWorkloads } from './ort-backend';
import { glorot, oneHot, Rng, seedOf, uniformArray } from './rng';

export type ContenderId =
  | 'lazygrad'
  | 'lazygrad-unfused'
  | 'lazygrad-2t'
  | 'lazygrad-js'
  | 'lazygrad-ort'
  | 'tfjs-cpu'
  | 'tfjs-wasm'
  | 'ort'
  | 'ort-2t'
  | 'lazygrad-nojit'
  | 'lazygrad-2t-nojit'
  | 'lazygrad-view'
  | 'lazygrad-2t-view'
  | 'lazygrad-fast-view'
  | 'lazygrad-2t-fast-view';

/** Every contender, in the order tables list them. */
export const CONTENDERS: readonly ContenderId[] = [
  'lazygrad',
  'lazygrad-unfused',
  'lazygrad-2t',
  'lazygrad-js',
  'lazygrad-ort',
  'tfjs-cpu',
  'tfjs-wasm',
  'ort',
  'ort-2t',
  'lazygrad-nojit',
  'lazygrad-2t-nojit',
  'lazygrad-view',
  'lazygrad-2t-view',
  'lazygrad-fast-view',
  'lazygrad-2t-fast-view',
];

export const CONTENDER_LABELS: { readonly [id in ContenderId]: string } = {
  lazygrad: 'lazygrad',
  'lazygrad-unfused': 'lazygrad, fusion off',
  'lazygrad-2t': 'lazygrad, 2 threads',
  'lazygrad-js': 'lazygrad, js backend',
  'lazygrad-ort': 'lazygrad, ORT backend',
  'tfjs-cpu': 'tfjs cpu',
  'tfjs-wasm': 'tfjs wasm',
  ort: 'ORT 1 thread',
  'ort-2t': 'ORT 2 threads',
  'lazygrad-nojit': 'lazygrad, jit off',
  'lazygrad-2t-nojit': 'lazygrad, 2 threads, jit off',
  'lazygrad-view': 'lazygrad, { copy: false }',
  'lazygrad-2t-view': 'lazygrad, 2 threads, { copy: false }',
  'lazygrad-fast-view': 'lazygrad, fastTanh, { copy: false }',
  'lazygrad-2t-fast-view': 'lazygrad, 2 threads, fastTanh, { copy: false }',
};

/** One contender set up for one workload. */
export interface Instance {
  /** One call of the workload: what the harness times. The work is done when it returns (or resolves). */
  run(): void | Promise<void>;
  /** One call on fresh state, returning the numbers every contender must agree on. Called once, before `run`. */
  check(): Promise<Float32Array[]>;
  dispose(): void;
  /** What to report next to the figures (e.g. where an ONNX model came from). */
  note?: string;
  /** `run` returns a promise to await (ONNX Runtime); the others finish their work before returning. */
  isAsync?: boolean;
}

/** A lazygrad graph ready to run: what the lazygrad contender times and what profile mode takes apart. */
export interface LazygradProgram {
  graph: Graph;
  fetches: Tensor[];
  feeds: Map<Tensor, NDArray>;
  options: SessionOptions;
  /** How many leading fetches the check compares (a training step's assign results repeat the variables). */
  checked?: number;
  /** Variables whose values after the checked call are part of the check (a training step's updates). */
  checkVariables: Tensor[];
  /** Options of each timed run (`{ copy: false }`: results handed out as views of the arena, what a user does to go fast). */
  runOptions?: RunOptions;
}

export interface Workload {
  id: string;
  title: string;
  contenders: readonly ContenderId[];
  /** Largest accepted max|a − b| / max|b| over each output, against lazygrad's numbers. */
  tolerance: number;
  /** Floating-point operations per call (matMul), for GFLOPS. */
  flops?: number;
  /** Graph ops per call (the scalar chain), for µs per op. */
  ops?: number;
  program(variant: 'lazygrad' | 'lazygrad-unfused'): LazygradProgram;
  build(contender: ContenderId): Promise<Instance>;
}

/** `bench`: the sizes of issue 7. `toy`: tiny sizes, so tests can check every contender agrees in seconds. */
export type Scale = 'bench' | 'toy';

interface Sizes {
  matMul: readonly number[];
  mlp: { batch: number; layers: readonly number[] };
  chain: number;
  scalarOps: number;
  crossEntropy: readonly [number, number];
}

const SIZES: { readonly [scale in Scale]: Sizes } = {
  bench: {
    matMul: [64, 128, 256, 512, 1024],
    mlp: { batch: 128, layers: [784, 256, 256, 10] },
    chain: 1 << 20,
    scalarOps: 1000,
    crossEntropy: [128, 1000],
  },
  toy: {
    matMul: [8, 13],
    mlp: { batch: 4, layers: [12, 8, 8, 3] },
    chain: 1000,
    scalarOps: 40,
    crossEntropy: [4, 7],
  },
};

const LEARNING_RATE = 0.05;
const UNFUSED: SessionOptions = { optimize: { disable: ['fuse'] } };

// ---------------------------------------------------------------------------------------------------------------
// Contender plumbing

/** The lazygrad contender: one session, feeds already NDArrays of the right dtype (not copied by the session). */
/** The same program with fused groups in the wasm interpreter instead of compiled (issue 20's comparison). */
function noJit(program: LazygradProgram): LazygradProgram {
  return { ...program, options: { ...program.options, jit: false } };
}

/** The same program run with `{ copy: false }`: fetched results are views of the session's buffers, not copies. */
function views(program: LazygradProgram): LazygradProgram {
  return { ...program, runOptions: { ...program.runOptions, copy: false } };
}

/** The same program with tanh as ONNX Runtime computes it (the session option `fastTanh`). */
function fastTanh(program: LazygradProgram): LazygradProgram {
  return { ...program, options: { ...program.options, fastTanh: true } };
}

/** The same program on a session that splits its wasm kernels over two threads. */
export function twoThreads(program: LazygradProgram): LazygradProgram {
  return { ...program, options: { ...program.options, threads: 2 } };
}

export function lazygradInstance(program: LazygradProgram): Instance {
  const session = new Session(program.graph, program.options);
  const run = (): NDArray[] => session.run(program.fetches, program.feeds, program.runOptions);
  return {
    run: () => void run(),
    check: async () => {
      const values = run()
        .slice(0, program.checked ?? program.fetches.length)
        .map((a) => Float32Array.from(a.data));
      for (const v of program.checkVariables) values.push(Float32Array.from(session.variableValue(v).data));
      return values;
    },
    dispose: () => undefined,
  };
}

export type TfBackend = 'cpu' | 'wasm';

/** Makes `backend` tfjs's current backend (loading the wasm backend on first use). */
export async function useTfBackend(backend: TfBackend): Promise<void> {
  if (tf.getBackend() === backend) return;
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  // tfjs suggests installing tfjs-node when it first runs in Node; that is not a contender here.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' failed to initialize`);
    tf.scalar(0).dispose(); // the cpu backend prints its suggestion on its first tensor
  } finally {
    console.warn = warn;
  }
}

/**
 * A tfjs contender from `compute`, which returns the tensors of one call. Kernels of the cpu and wasm backends run
 * synchronously inside the op calls, so the work is done when `compute` returns; reading the results back
 * (`dataSync`) happens only in `check`, outside the timed calls.
 */
function tfjsInstance(
  compute: () => tf.Tensor[],
  state: { checkTensors?: () => tf.Tensor[]; dispose?: () => void } = {},
): Instance {
  return {
    run: () => tf.dispose(compute()),
    check: async () => {
      const results = compute();
      const values = results.map((t) => Float32Array.from(t.dataSync() as Float32Array));
      tf.dispose(results);
      for (const t of state.checkTensors?.() ?? []) values.push(Float32Array.from(t.dataSync() as Float32Array));
      return values;
    },
    dispose: () => state.dispose?.(),
  };
}

function tfBackendOf(contender: ContenderId): TfBackend {
  return contender === 'tfjs-wasm' ? 'wasm' : 'cpu';
}

interface Feed {
  data: Float32Array;
  dims: readonly number[];
}

/**
 * The ONNX Runtime contender: the first of `models` that ORT loads, one session with `threads` intra-op threads.
 * ORT's `run` is asynchronous (it hops through setImmediate before its synchronous native run); the timed call
 * awaits it, which adds that hop (a few µs) to every call.
 */
export async function ortInstance(
  threads: number,
  models: { bytes: Uint8Array; source: string }[],
  feeds: { [name: string]: Feed },
): Promise<Instance> {
  const ort = await import('onnxruntime-node');
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    graphOptimizationLevel: 'all' as const,
  };
  const failures: string[] = [];
  for (const model of models) {
    let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
    try {
      session = await ort.InferenceSession.create(model.bytes, options);
    } catch (error) {
      failures.push(`${model.source}: ${(error as Error).message}`);
      continue;
    }
    const inputs: { [name: string]: InstanceType<typeof ort.Tensor> } = {};
    for (const [name, feed] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', feed.data, feed.dims);
    const loaded = session;
    return {
      run: async () => void (await loaded.run(inputs)),
      check: async () => {
        const out = await loaded.run(inputs);
        return loaded.outputNames.map((name) => Float32Array.from(out[name].data as Float32Array));
      },
      dispose: () => void loaded.release(),
      note: `model: ${model.source}`,
      isAsync: true,
    };
  }
  throw new Error(`ONNX Runtime loaded none of the models: ${failures.join('; ')}`);
}

/** Computes a value once per thread, on first use (the data of a workload is shared by its contenders). */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

function unsupported(workload: string, contender: ContenderId): Error {
  return new Error(`workload '${workload}' has no contender '${contender}'`);
}

// ---------------------------------------------------------------------------------------------------------------
// matMul

function matMulWorkload(n: number): Workload {
  const id = `matmul-${n}`;
  const data = once(() => {
    const rng = new Rng(seedOf(id));
    return { a: uniformArray(rng, n * n, -1, 1), b: uniformArray(rng, n * n, -1, 1) };
  });
  const program = (): LazygradProgram => {
    const g = new Graph();
    const a = g.placeholder('a', [n, n]);
    const b = g.placeholder('b', [n, n]);
    const { a: av, b: bv } = data();
    const feeds = new Map([
      [a, new NDArray(av, [n, n])],
      [b, new NDArray(bv, [n, n])],
    ]);
    return { graph: g, fetches: [matMul(a, b)], feeds, options: {}, checkVariables: [] };
  };
  return {
    id,
    title: `matMul ${n}×${n} · ${n}×${n}`,
    contenders: ['lazygrad', 'lazygrad-2t', 'tfjs-cpu', 'tfjs-wasm', 'ort', 'ort-2t'],
    tolerance: 1e-4,
    flops: 2 * n * n * n,
    program,
    build: async (contender) => {
      const { a, b } = data();
      switch (contender) {
        case 'lazygrad':
          return lazygradInstance(program());
        case 'lazygrad-2t':
          return lazygradInstance(twoThreads(program()));
        case 'tfjs-cpu':
        case 'tfjs-wasm': {
          await useTfBackend(tfBackendOf(contender));
          const ta = tf.tensor2d(a, [n, n]);
          const tb = tf.tensor2d(b, [n, n]);
          return tfjsInstance(() => [tf.matMul(ta, tb)], { dispose: () => tf.dispose([ta, tb]) });
        }
        case 'ort':
        case 'ort-2t': {
          const p = program();
          const fallback = (): Uint8Array => {
            const m = new OnnxBuilder();
            m.output(m.node('MatMul', [m.input('a', [n, n]), m.input('b', [n, n])]), 'c', [n, n]);
            return m.build();
          };
          const models = modelCandidates(p.graph, [...p.feeds.keys()], p.fetches, fallback);
          const feeds = { a: { data: a, dims: [n, n] }, b: { data: b, dims: [n, n] } };
          return ortInstance(contender === 'ort' ? 1 : 2, models, feeds);
        }
        default:
          throw unsupported(id, contender);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// MLP: training step and inference

interface MlpData {
  x: Float32Array;
  labels: Float32Array;
  weights: Float32Array[];
  biases: Float32Array[];
}

function mlpData(id: string, batch: number, layers: readonly number[]): MlpData {
  const rng = new Rng(seedOf(id));
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let i = 0; i + 1 < layers.length; i++) {
    weights.push(glorot(rng, layers[i], layers[i + 1]));
    biases.push(uniformArray(rng, layers[i + 1], -0.1, 0.1));
  }
  const x = uniformArray(rng, batch * layers[0], 0, 1);
  const labels = oneHot(rng, batch, layers[layers.length - 1]);
  return { x, labels, weights, biases };
}

function mlpWorkloads(batch: number, layers: readonly number[]): Workload[] {
  // Both MLP workloads share data: the inference is the training step's forward pass.
  const dataId = `mlp-${layers.join('-')}-${batch}`;
  const data = once(() => mlpData(dataId, batch, layers));
  const classes = layers[layers.length - 1];
  const shapeName = `${layers.join('-')}, batch ${batch}`;

  const lazygradMlp = (training: boolean): LazygradProgram => {
    const d = data();
    const g = new Graph();
    const x = g.placeholder('x', [batch, layers[0]]);
    const labels = g.placeholder('labels', [batch, classes]);
    const params: Tensor[] = [];
    let h = x;
    d.weights.forEach((w, i) => {
      const wv = g.variable(`w${i + 1}`, new NDArray(w, [layers[i], layers[i + 1]]));
      const bv = g.variable(`b${i + 1}`, new NDArray(d.biases[i], [layers[i + 1]]));
      params.push(wv, bv);
      h = add(matMul(h, wv), bv);
      if (i + 2 < layers.length) h = relu(h);
    });
    const feeds = new Map([[x, new NDArray(d.x, [batch, layers[0]])]]);
    if (!training) return { graph: g, fetches: [h], feeds, options: {}, checkVariables: [] };
    feeds.set(labels, new NDArray(d.labels, [batch, classes]));
    const loss = mean(softmaxCrossEntropyWithLogits(labels, h));
    const grads = gradients(loss, params);
    const updates = params.map((p, i) => assign(p, sub(p, mul(grads[i] as Tensor, LEARNING_RATE))));
    // Fetch the loss and one group of the updates, as a training loop does (tfjs's applyGradients hands back no
    // weights either); fetching each assign would allocate a fresh copy of every weight per step for the caller.
    const step = group(updates, 'sgd_step');
    return { graph: g, fetches: [loss, step], feeds, options: {}, checked: 1, checkVariables: params };
  };

  /** tfjs's MLP on the current backend: variables, and the logits as a function of them. */
  const tfjsMlp = (): { params: tf.Variable[]; logits: () => tf.Tensor; x: tf.Tensor; labels: tf.Tensor } => {
    const d = data();
    const params: tf.Variable[] = [];
    d.weights.forEach((w, i) => {
      params.push(tf.variable(tf.tensor2d(w, [layers[i], layers[i + 1]])));
      params.push(tf.variable(tf.tensor1d(d.biases[i])));
    });
    const x = tf.tensor2d(d.x, [batch, layers[0]]);
    const labels = tf.tensor2d(d.labels, [batch, classes]);
    const logits = (): tf.Tensor => {
      let h: tf.Tensor = x;
      for (let i = 0; i < params.length; i += 2) {
        const next = tf.add(tf.matMul(h, params[i]), params[i + 1]);
        h = i + 2 < params.length ? tf.relu(next) : next;
      }
      return h;
    };
    return { params, logits, x, labels };
  };

  const train: Workload = {
    id: 'mlp-train',
    title: `MLP ${shapeName}: training step (loss, gradients, SGD update)`,
    contenders: ['lazygrad', 'lazygrad-2t', 'tfjs-cpu', 'tfjs-wasm'],
    tolerance: 1e-4,
    program: () => lazygradMlp(true),
    build: async (contender) => {
      if (contender === 'lazygrad') return lazygradInstance(lazygradMlp(true));
      if (contender === 'lazygrad-2t') return lazygradInstance(twoThreads(lazygradMlp(true)));
      if (contender !== 'tfjs-cpu' && contender !== 'tfjs-wasm') throw unsupported('mlp-train', contender);
      await useTfBackend(tfBackendOf(contender));
      const { params, logits, x, labels } = tfjsMlp();
      const optimizer = tf.train.sgd(LEARNING_RATE);
      const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy(labels, logits()) as tf.Scalar;
      return tfjsInstance(
        () => {
          const { value, grads } = tf.variableGrads(loss, params);
          optimizer.applyGradients(grads);
          tf.dispose(grads);
          return [value];
        },
        {
          checkTensors: () => params,
          dispose: () => {
            tf.dispose([x, labels, ...params]);
            optimizer.dispose();
          },
        },
      );
    },
  };

  const infer: Workload = {
    id: 'mlp-infer',
    title: `MLP ${shapeName}: inference (logits)`,
    contenders: ['lazygrad', 'lazygrad-2t', 'tfjs-cpu', 'tfjs-wasm', 'ort', 'ort-2t'],
    tolerance: 1e-4,
    program: () => lazygradMlp(false),
    build: async (contender) => {
      switch (contender) {
        case 'lazygrad':
          return lazygradInstance(lazygradMlp(false));
        case 'lazygrad-2t':
          return lazygradInstance(twoThreads(lazygradMlp(false)));
        case 'tfjs-cpu':
        case 'tfjs-wasm': {
          await useTfBackend(tfBackendOf(contender));
          const { params, logits, x, labels } = tfjsMlp();
          return tfjsInstance(() => [tf.tidy(logits)], { dispose: () => tf.dispose([x, labels, ...params]) });
        }
        case 'ort':
        case 'ort-2t': {
          const d = data();
          const p = lazygradMlp(false);
          const fallback = (): Uint8Array => {
            const m = new OnnxBuilder();
            let h = m.input('x', [batch, layers[0]]);
            d.weights.forEach((w, i) => {
              const z = m.node('MatMul', [h, m.constant(w, [layers[i], layers[i + 1]])]);
              h = m.node('Add', [z, m.constant(d.biases[i], [layers[i + 1]])]);
              if (i + 2 < layers.length) h = m.node('Relu', [h]);
            });
            m.output(h, 'logits', [batch, classes]);
            return m.build();
          };
          const models = modelCandidates(p.graph, [...p.feeds.keys()], p.fetches, fallback);
          return ortInstance(contender === 'ort' ? 1 : 2, models, { x: { data: d.x, dims: [batch, layers[0]] } });
        }
        default:
          throw unsupported('mlp-infer', contender);
      }
    },
  };
  return [train, infer];
}

// ---------------------------------------------------------------------------------------------------------------
// The elementwise chain: sqrt(exp(−tanh(0.5·x + 0.1)²) + 1), 8 ops, and its gradient

function chainWorkloads(size: number): Workload[] {
  const data = once(() => uniformArray(new Rng(seedOf(`chain-${size}`)), size, -2, 2));

  const lazygradChain = (variant: 'lazygrad' | 'lazygrad-unfused', gradient: boolean): LazygradProgram => {
    const g = new Graph();
    const x = g.placeholder('x', [size]);
    const y = sqrt(add(exp(neg(square(tanh(add(mul(x, 0.5), 0.1))))), 1));
    const fetches = gradient ? [gradients(y, [x])[0] as Tensor] : [y];
    const options = variant === 'lazygrad' ? {} : UNFUSED;
    return { graph: g, fetches, feeds: new Map([[x, new NDArray(data(), [size])]]), options, checkVariables: [] };
  };

  const tfjsChain = (gradient: boolean): Instance => {
    const x = tf.tensor1d(data());
    const [half, tenth, one] = [tf.scalar(0.5), tf.scalar(0.1), tf.scalar(1)];
    const f = (v: tf.Tensor): tf.Tensor =>
      tf.sqrt(tf.add(tf.exp(tf.neg(tf.square(tf.tanh(tf.add(tf.mul(v, half), tenth))))), one));
    const dydx = tf.grad(f);
    const compute = gradient ? () => [dydx(x)] : () => [tf.tidy(() => f(x))];
    return tfjsInstance(compute, { dispose: () => tf.dispose([x, half, tenth, one]) });
  };

  const forward: Workload = {
    id: 'chain',
    title: `elementwise chain of 8 ops on ${size} floats`,
    contenders: [
      'lazygrad',
      'lazygrad-unfused',
      'lazygrad-2t',
      'tfjs-cpu',
      'tfjs-wasm',
      'ort',
      'ort-2t',
      'lazygrad-nojit',
      'lazygrad-2t-nojit',
      'lazygrad-view',
      'lazygrad-2t-view',
      'lazygrad-fast-view',
      'lazygrad-2t-fast-view',
    ],
    tolerance: 1e-5,
    program: (variant) => lazygradChain(variant, false),
    build: async (contender) => {
      switch (contender) {
        case 'lazygrad':
        case 'lazygrad-unfused':
          return lazygradInstance(lazygradChain(contender, false));
        case 'lazygrad-2t':
          return lazygradInstance(twoThreads(lazygradChain('lazygrad', false)));
        case 'lazygrad-nojit':
          return lazygradInstance(noJit(lazygradChain('lazygrad', false)));
        case 'lazygrad-2t-nojit':
          return lazygradInstance(noJit(twoThreads(lazygradChain('lazygrad', false))));
        case 'lazygrad-view':
          return lazygradInstance(views(lazygradChain('lazygrad', false)));
        case 'lazygrad-2t-view':
          return lazygradInstance(views(twoThreads(lazygradChain('lazygrad', false))));
        case 'lazygrad-fast-view':
          return lazygradInstance(views(fastTanh(lazygradChain('lazygrad', false))));
        case 'lazygrad-2t-fast-view':
          return lazygradInstance(views(fastTanh(twoThreads(lazygradChain('lazygrad', false)))));
        case 'tfjs-cpu':
        case 'tfjs-wasm':
          await useTfBackend(tfBackendOf(contender));
          return tfjsChain(false);
        case 'ort':
        case 'ort-2t': {
          const p = lazygradChain('lazygrad', false);
          const fallback = (): Uint8Array => {
            const m = new OnnxBuilder();
            const t = m.node('Tanh', [
              m.node('Add', [m.node('Mul', [m.input('x', [size]), m.constant(0.5)]), m.constant(0.1)]),
            ]);
            const e = m.node('Exp', [m.node('Neg', [m.node('Mul', [t, t])])]);
            m.output(m.node('Sqrt', [m.node('Add', [e, m.constant(1)])]), 'y', [size]);
            return m.build();
          };
          const models = modelCandidates(p.graph, [...p.feeds.keys()], p.fetches, fallback);
          return ortInstance(contender === 'ort' ? 1 : 2, models, { x: { data: data(), dims: [size] } });
        }
        default:
          throw unsupported('chain', contender);
      }
    },
  };

  const backward: Workload = {
    id: 'chain-grad',
    title: `gradient of the elementwise chain on ${size} floats`,
    contenders: [
      'lazygrad',
      'lazygrad-unfused',
      'lazygrad-2t',
      'tfjs-cpu',
      'tfjs-wasm',
      'ort',
      'ort-2t',
      'lazygrad-nojit',
      'lazygrad-2t-nojit',
      'lazygrad-view',
      'lazygrad-2t-view',
      'lazygrad-fast-view',
      'lazygrad-2t-fast-view',
    ],
    tolerance: 1e-5,
    program: (variant) => lazygradChain(variant, true),
    build: async (contender) => {
      switch (contender) {
        case 'lazygrad':
        case 'lazygrad-unfused':
          return lazygradInstance(lazygradChain(contender, true));
        case 'lazygrad-2t':
          return lazygradInstance(twoThreads(lazygradChain('lazygrad', true)));
        case 'lazygrad-nojit':
          return lazygradInstance(noJit(lazygradChain('lazygrad', true)));
        case 'lazygrad-2t-nojit':
          return lazygradInstance(noJit(twoThreads(lazygradChain('lazygrad', true))));
        case 'lazygrad-view':
          return lazygradInstance(views(lazygradChain('lazygrad', true)));
        case 'lazygrad-2t-view':
          return lazygradInstance(views(twoThreads(lazygradChain('lazygrad', true))));
        case 'lazygrad-fast-view':
          return lazygradInstance(views(fastTanh(lazygradChain('lazygrad', true))));
        case 'lazygrad-2t-fast-view':
          return lazygradInstance(views(fastTanh(twoThreads(lazygradChain('lazygrad', true)))));
        case 'ort':
        case 'ort-2t': {
          // ORT has no gradients: the derivative written out, dy/dx = −0.5·e·t·(1 − t²)/y with t = tanh(0.5x + 0.1),
          // e = exp(−t²), y = sqrt(e + 1) — the same transcendental work as lazygrad's optimized gradient graph.
          const p = lazygradChain('lazygrad', true);
          const fallback = (): Uint8Array => {
            const m = new OnnxBuilder();
            const t = m.node('Tanh', [
              m.node('Add', [m.node('Mul', [m.input('x', [size]), m.constant(0.5)]), m.constant(0.1)]),
            ]);
            const s = m.node('Mul', [t, t]);
            const e = m.node('Exp', [m.node('Neg', [s])]);
            const y = m.node('Sqrt', [m.node('Add', [e, m.constant(1)])]);
            const num = m.node('Mul', [m.node('Mul', [e, t]), m.node('Sub', [m.constant(1), s])]);
            m.output(m.node('Mul', [m.node('Div', [num, y]), m.constant(-0.5)]), 'dx', [size]);
            return m.build();
          };
          const models = modelCandidates(p.graph, [...p.feeds.keys()], p.fetches, fallback);
          return ortInstance(contender === 'ort' ? 1 : 2, models, { x: { data: data(), dims: [size] } });
        }
        case 'tfjs-cpu':
        case 'tfjs-wasm':
          await useTfBackend(tfBackendOf(contender));
          return tfjsChain(true);
        default:
          throw unsupported('chain-grad', contender);
      }
    },
  };
  return [forward, backward];
}

// ---------------------------------------------------------------------------------------------------------------
// Dependent scalar ops: y ← 0.999·y + 0.001, repeated (per-op overhead)

function scalarChainWorkload(ops: number): Workload {
  const steps = ops / 2;
  const program = (variant: 'lazygrad' | 'lazygrad-unfused'): LazygradProgram => {
    const g = new Graph();
    const x = g.placeholder('x', []);
    let y = x;
    for (let i = 0; i < steps; i++) y = add(mul(y, 0.999), 0.001);
    const options = variant === 'lazygrad' ? {} : UNFUSED;
    const feeds = new Map([[x, new NDArray(new Float32Array([0.5]), [])]]);
    return { graph: g, fetches: [y], feeds, options, checkVariables: [] };
  };
  return {
    id: 'scalar-chain',
    title: `${ops} dependent scalar ops`,
    contenders: ['lazygrad', 'lazygrad-unfused', 'tfjs-cpu', 'tfjs-wasm', 'ort'],
    tolerance: 1e-4,
    ops,
    program,
    build: async (contender) => {
      switch (contender) {
        case 'lazygrad':
        case 'lazygrad-unfused':
          return lazygradInstance(program(contender));
        case 'tfjs-cpu':
        case 'tfjs-wasm': {
          await useTfBackend(tfBackendOf(contender));
          const [x, a, b] = [tf.scalar(0.5), tf.scalar(0.999), tf.scalar(0.001)];
          const compute = (): tf.Tensor[] => [
            tf.tidy(() => {
              let y: tf.Tensor = x;
              for (let i = 0; i < steps; i++) y = tf.add(tf.mul(y, a), b);
              return y;
            }),
          ];
          return tfjsInstance(compute, { dispose: () => tf.dispose([x, a, b]) });
        }
        case 'ort':
        case 'ort-2t': {
          const p = program('lazygrad');
          const fallback = (): Uint8Array => {
            const m = new OnnxBuilder();
            const [a, b] = [m.constant(0.999), m.constant(0.001)];
            let y = m.input('x', []);
            for (let i = 0; i < steps; i++) y = m.node('Add', [m.node('Mul', [y, a]), b]);
            m.output(y, 'y', []);
            return m.build();
          };
          const models = modelCandidates(p.graph, [...p.feeds.keys()], p.fetches, fallback);
          const feeds = { x: { data: new Float32Array([0.5]), dims: [] } };
          return ortInstance(contender === 'ort' ? 1 : 2, models, feeds);
        }
        default:
          throw unsupported('scalar-chain', contender);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Softmax cross-entropy on [rows, classes]: the mean loss, and the loss with its gradient

function crossEntropyWorkloads(rows: number, classes: number): Workload[] {
  const data = once(() => {
    const rng = new Rng(seedOf(`xent-${rows}x${classes}`));
    return { logits: uniformArray(rng, rows * classes, -3, 3), labels: oneHot(rng, rows, classes) };
  });
  const program = (gradient: boolean): LazygradProgram => {
    const d = data();
    const g = new Graph();
    const logits = g.placeholder('logits', [rows, classes]);
    const labels = g.placeholder('labels', [rows, classes]);
    const loss = mean(softmaxCrossEntropyWithLogits(labels, logits));
    const feeds = new Map([
      [logits, new NDArray(d.logits, [rows, classes])],
      [labels, new NDArray(d.labels, [rows, classes])],
    ]);
    const fetches = gradient ? [loss, gradients(loss, [logits])[0] as Tensor] : [loss];
    return { graph: g, fetches, feeds, options: {}, checkVariables: [] };
  };
  const make = (gradient: boolean): Workload => {
    const id = gradient ? 'xent-grad' : 'xent';
    return {
      id,
      title: `softmax cross-entropy on [${rows}, ${classes}]${gradient ? ': loss and gradient' : ': mean loss'}`,
      contenders: ['lazygrad', 'tfjs-cpu', 'tfjs-wasm'],
      tolerance: 1e-5,
      program: () => program(gradient),
      build: async (contender) => {
        if (contender === 'lazygrad') return lazygradInstance(program(gradient));
        if (contender !== 'tfjs-cpu' && contender !== 'tfjs-wasm') throw unsupported(id, contender);
        await useTfBackend(tfBackendOf(contender));
        const d = data();
        const logits = tf.tensor2d(d.logits, [rows, classes]);
        const labels = tf.tensor2d(d.labels, [rows, classes]);
        const loss = (l: tf.Tensor): tf.Scalar => tf.losses.softmaxCrossEntropy(labels, l) as tf.Scalar;
        const valueAndGrad = tf.valueAndGrad(loss);
        const compute = gradient
          ? () => {
              const { value, grad } = valueAndGrad(logits);
              return [value, grad];
            }
          : () => [tf.tidy(() => loss(logits))];
        return tfjsInstance(compute, { dispose: () => tf.dispose([logits, labels]) });
      },
    };
  };
  return [make(false), make(true)];
}

/** Every workload at a scale, in the order the harness runs and reports them. */
export function workloads(scale: Scale): Workload[] {
  const sizes = SIZES[scale];
  const list = [
    ...sizes.matMul.map(matMulWorkload),
    ...mlpWorkloads(sizes.mlp.batch, sizes.mlp.layers),
    ...chainWorkloads(sizes.chain),
    scalarChainWorkload(sizes.scalarOps),
    ...crossEntropyWorkloads(sizes.crossEntropy[0], sizes.crossEntropy[1]),
    ...lenetWorkloads(scale, { lazygradInstance, tfjsInstance, useTfBackend }),
    ...lstmWorkloads(scale, { lazygradInstance, tfjsInstance, useTfBackend }),
    ...batch1Workloads(scale, { lazygradInstance, twoThreads, ortInstance }),
  ];
  return [...list, ...ortBackendWorkloads(scale, list, { lazygradInstance })];
}
