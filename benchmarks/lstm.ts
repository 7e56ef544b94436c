/**
 * Issue 17's LSTM training step: a sequence classifier, LSTM (Keras math, gates i, f, c, o) over T steps of
 * [batch, input] → dense on the last h → softmax cross-entropy, one SGD update. lazygrad runs it as one `scan` (the
 * body compiles once; the gradient is a reverse scan); tfjs has no graph loop, so its contender unrolls the same
 * cell T times inside tf.variableGrads. Both compute x·kernel + bias for every step in one matMul before the loop.
 *
 * Also the compile time of the scan at several T (it must not grow with T: the body is compiled once, whatever the
 * length) and the plan's memory.
 */
import * as tf from '@tensorflow/tfjs';
import {
  add,
  assign,
  gradients,
  Graph,
  group,
  lstm,
  matMul,
  mean,
  mul,
  NDArray,
  Session,
  softmaxCrossEntropyWithLogits,
  sub,
  Tensor,
} from '../src';
import { parseMemoryLine } from './analyses';
import { glorot, oneHot, Rng, seedOf, uniformArray } from './rng';
import { median, nowMs } from './stats';
import type { ContenderId, Instance, LazygradProgram, Scale, Workload } from './workloads';

export interface LstmSizes {
  steps: number;
  batch: number;
  input: number;
  hidden: number;
  classes: number;
}

export const LSTM_SIZES: { readonly [scale in Scale]: LstmSizes } = {
  bench: { steps: 50, batch: 32, input: 64, hidden: 128, classes: 10 },
  toy: { steps: 4, batch: 3, input: 5, hidden: 6, classes: 4 },
};

const LEARNING_RATE = 0.05;

/** Parameters in order: kernel [input, 4h], recurrent kernel [h, 4h], bias [4h], dense kernel [h, classes], bias. */
interface LstmData {
  xs: Float32Array;
  labels: Float32Array;
  params: { data: Float32Array; shape: number[] }[];
}

function lstmData(s: LstmSizes): LstmData {
  const rng = new Rng(seedOf(`lstm-${s.steps}-${s.batch}-${s.input}-${s.hidden}`));
  const gates = 4 * s.hidden;
  const params = [
    { data: glorot(rng, s.input, gates), shape: [s.input, gates] },
    { data: glorot(rng, s.hidden, gates), shape: [s.hidden, gates] },
    { data: uniformArray(rng, gates, -0.1, 0.1), shape: [gates] },
    { data: glorot(rng, s.hidden, s.classes), shape: [s.hidden, s.classes] },
    { data: uniformArray(rng, s.classes, -0.1, 0.1), shape: [s.classes] },
  ];
  const xs = uniformArray(rng, s.steps * s.batch * s.input, -1, 1);
  return { xs, labels: oneHot(rng, s.batch, s.classes), params };
}

const dataCache = new Map<string, LstmData>();
function dataOf(s: LstmSizes): LstmData {
  const key = JSON.stringify(s);
  let data = dataCache.get(key);
  if (data === undefined) {
    data = lstmData(s);
    dataCache.set(key, data);
  }
  return data;
}

/** The lazygrad training step at sizes `s`: loss and the SGD update of every parameter. */
export function lazygradLstm(s: LstmSizes, options: LazygradProgram['options']): LazygradProgram {
  const d = dataOf(s);
  const g = new Graph();
  const xs = g.placeholder('xs', [s.steps, s.batch, s.input]);
  const labels = g.placeholder('labels', [s.batch, s.classes]);
  const params = d.params.map((p, i) => g.variable(`p${i}`, new NDArray(p.data, p.shape)));
  const [kernel, recurrentKernel, bias, dense, denseBias] = params;
  const { h } = lstm(xs, { kernel, recurrentKernel, bias });
  const loss = mean(softmaxCrossEntropyWithLogits(labels, add(matMul(h, dense), denseBias)));
  const grads = gradients(loss, params);
  const step = group(
    params.map((p, i) => assign(p, sub(p, mul(grads[i] as Tensor, LEARNING_RATE)))),
    'sgd_step',
  );
  const feeds = new Map([
    [xs, new NDArray(d.xs, [s.steps, s.batch, s.input])],
    [labels, new NDArray(d.labels, [s.batch, s.classes])],
  ]);
  return { graph: g, fetches: [loss, step], feeds, options, checked: 1, checkVariables: params };
}

/** The same model in tfjs on the current backend, the cell unrolled T times. */
export function tfjsLstm(s: LstmSizes) {
  const d = dataOf(s);
  const params = d.params.map((p) => tf.variable(tf.tensor(p.data, p.shape)));
  const [kernel, recurrentKernel, bias, dense, denseBias] = params;
  const xs = tf.tensor2d(d.xs, [s.steps * s.batch, s.input]);
  const labels = tf.tensor2d(d.labels, [s.batch, s.classes]);
  const loss = (): tf.Scalar => {
    const projected = tf.add(tf.matMul(xs, kernel as tf.Tensor2D), bias);
    let h = tf.zeros([s.batch, s.hidden]) as tf.Tensor2D;
    let c = tf.zeros([s.batch, s.hidden]) as tf.Tensor2D;
    for (let t = 0; t < s.steps; t++) {
      const xw = tf.slice(projected, [t * s.batch, 0], [s.batch, 4 * s.hidden]);
      const z = tf.add(xw, tf.matMul(h, recurrentKernel as tf.Tensor2D));
      const [i, f, g, o] = tf.split(z, 4, 1);
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    }
    const logits = tf.add(tf.matMul(h, dense as tf.Tensor2D), denseBias);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  return { params, xs, labels, loss };
}

/** What lstmWorkloads needs from workloads.ts (passed in, as lenet.ts does). */
export interface LstmPlumbing {
  lazygradInstance(program: LazygradProgram): Instance;
  tfjsInstance(
    compute: () => tf.Tensor[],
    state?: { checkTensors?: () => tf.Tensor[]; dispose?: () => void },
  ): Instance;
  useTfBackend(backend: 'cpu' | 'wasm'): Promise<void>;
}

const CONTENDERS: readonly ContenderId[] = ['lazygrad', 'lazygrad-2t', 'lazygrad-js', 'tfjs-cpu', 'tfjs-wasm'];

/** lstm-train (`npm run bench -- --only lstm` runs it and the scan compile analysis). */
export function lstmWorkloads(scale: Scale, plumbing: LstmPlumbing): Workload[] {
  const s = LSTM_SIZES[scale];
  const train: Workload = {
    id: 'lstm-train',
    title:
      `LSTM training step, batch ${s.batch}, T = ${s.steps}, input ${s.input}, hidden ${s.hidden}, dense → ` +
      `${s.classes} on the last h, softmax cross-entropy, SGD (lazygrad: one scan; tfjs: the cell unrolled T times)`,
    // The js backend and tfjs cpu run their matMuls in plain JS: seconds per step at the bench size, checked at the
    // toy size (tests/bench.test.ts) but not timed.
    contenders: scale === 'bench' ? ['lazygrad', 'lazygrad-2t', 'tfjs-wasm'] : CONTENDERS,
    tolerance: 1e-4,
    flops: trainingFlops(s),
    program: () => lazygradLstm(s, {}),
    build: async (contender) => {
      if (contender === 'lazygrad') return plumbing.lazygradInstance(lazygradLstm(s, {}));
      if (contender === 'lazygrad-2t') return plumbing.lazygradInstance(lazygradLstm(s, { threads: 2 }));
      if (contender === 'lazygrad-js') return plumbing.lazygradInstance(lazygradLstm(s, { backend: 'js' }));
      if (contender !== 'tfjs-cpu' && contender !== 'tfjs-wasm') {
        throw new Error(`workload 'lstm-train' has no contender '${contender}'`);
      }
      await plumbing.useTfBackend(contender === 'tfjs-wasm' ? 'wasm' : 'cpu');
      const net = tfjsLstm(s);
      const optimizer = tf.train.sgd(LEARNING_RATE);
      const instance = plumbing.tfjsInstance(
        () => {
          const { value, grads } = tf.variableGrads(net.loss, net.params);
          optimizer.applyGradients(grads);
          tf.dispose(grads);
          return [value];
        },
        {
          checkTensors: () => net.params,
          dispose: () => {
            tf.dispose([net.xs, net.labels, ...net.params]);
            optimizer.dispose();
          },
        },
      );
      instance.note = `the cell unrolled ${s.steps} times inside tf.variableGrads (tfjs has no graph loop)`;
      return instance;
    },
  };
  return [train];
}

/** matMul flops of one training step: forward, and twice that backward (the input and weight gradients). */
function trainingFlops(s: LstmSizes): number {
  const gates = 4 * s.hidden;
  const forward = 2 * s.steps * s.batch * (s.input + s.hidden) * gates + 2 * s.batch * s.hidden * s.classes;
  return 3 * forward;
}

/** The scan's compile time and the plan's memory at one T. */
export interface ScanCompileResult {
  steps: number;
  graphNodes: number;
  /**
   * `Session.explain` on a fresh session: slice, passes, the outer plan and the plans of the scan bodies (forward and
   * gradient), memory planning, and printing the plan (which costs the same at every T). Without a run.
   */
  compileMs: number;
  steadyRunMs: number;
  plannedBytes: number;
  intermediateBytes: number;
}

/** Compile time and memory of the bench LSTM training step at each T (the graph does not grow with T). */
export function scanCompile(stepsList: readonly number[], repeats: number): ScanCompileResult[] {
  const base = LSTM_SIZES.bench;
  lazygradLstmCompile({ ...base, steps: 4 }, 1); // warm the compiler's code before timing it
  return stepsList.map((steps) => lazygradLstmCompile({ ...base, steps }, repeats));
}

function lazygradLstmCompile(s: LstmSizes, repeats: number): ScanCompileResult {
  const compile: number[] = [];
  let explained = '';
  let program = lazygradLstm(s, {});
  for (let r = 0; r < repeats; r++) {
    program = lazygradLstm(s, {});
    const start = nowMs();
    explained = new Session(program.graph, program.options).explain(program.fetches, program.feeds);
    compile.push(nowMs() - start);
  }
  const session = new Session(program.graph, program.options);
  session.run(program.fetches, program.feeds);
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) {
    const start = nowMs();
    session.run(program.fetches, program.feeds);
    runs.push(nowMs() - start);
  }
  session.dispose();
  const memory = parseMemoryLine(explained);
  return {
    steps: s.steps,
    graphNodes: program.graph.size,
    compileMs: median(compile),
    steadyRunMs: median(runs),
    plannedBytes: memory.plannedBytes,
    intermediateBytes: memory.intermediateBytes,
  };
}

/** Console lines for scanCompile's results. */
export function scanCompileLines(rows: readonly ScanCompileResult[]): string[] {
  const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
  return [
    'LSTM training step (lstm-train sizes) at several T: graph nodes, compile time (Session.explain), plan memory',
    ...rows.map(
      (r) =>
        `  T = ${String(r.steps).padStart(4)}: ${r.graphNodes} graph nodes, compile ${r.compileMs.toFixed(0)} ms, ` +
        `run ${r.steadyRunMs.toFixed(1)} ms; planned ${mib(r.plannedBytes)} for ${mib(r.intermediateBytes)} of ` +
        'intermediates',
    ),
  ];
}
