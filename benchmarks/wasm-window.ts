/**
 * The windowed wasm kernels (depthwise conv2d, pooling) and batchNorm on [8, 56, 56, 64] against the JS reference
 * kernels, TensorFlow.js's cpu backend and its wasm backend (XNNPACK), in one process; lazygrad on one thread and
 * with the helper worker (two threads). As in wasm-kernels.ts, tfjs runs last (its memory growth detaches buffers,
 * which slows later typed-array loops in V8), and tfjs-wasm runs one thread in Node.
 *
 *   npx ts-node --transpile-only benchmarks/wasm-window.ts [--quick]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Worker } from 'worker_threads';
// eslint-disable-next-line no-restricted-imports -- the JS reference kernels are not public API
import { avgPool, avgPoolGrad, fusedKernel, maxPool, maxPoolGrad, type Buf } from '../src/ops/kernels';
// eslint-disable-next-line no-restricted-imports -- nor are the conv kernels
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, type ConvAttrs } from '../src/ops/kernels/conv';
// eslint-disable-next-line no-restricted-imports -- nor are the wasm kernels (sessions use them through src/backend)
import {
  compileFusedProgram,
  loadWasmKernels,
  type StartWorker,
  type WasmKernels,
  type WindowGeometry,
} from '../src/backend/wasm';
// eslint-disable-next-line no-restricted-imports -- the op table gives the fused steps their templates
import { opRecord } from '../src/ops';
import { batchNorm, batchNormTraining, Graph, NDArray, Session } from '../src';

const quick = process.argv.includes('--quick');

const startWorker: StartWorker = (source, init) => {
  const code = `${source}\nlazygradWasmWorker(require('worker_threads').workerData);`;
  const worker = new Worker(code, { eval: true, workerData: init });
  worker.unref();
  return worker;
};

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Median milliseconds of `run` over repetitions filling ~`budgetMs` (at least 3), after two warm-up runs. */
function timeMs(run: () => void, budgetMs = quick ? 150 : 800): number {
  run();
  run();
  const times: number[] = [];
  const start = nowMs();
  while (times.length < 3 || (nowMs() - start < budgetMs && times.length < 200)) {
    const t = nowMs();
    run();
    times.push(nowMs() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** Deterministic values in [-1, 1) (an LCG). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const X = [8, 56, 56, 64];
const C = 64;
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** A float32 Buf (the JS kernels' argument type, with its data typed as what it is). */
type F32 = Buf & { data: Float32Array };
const buf = (shape: number[], seed = 0): F32 => ({
  data: seed === 0 ? new Float32Array(size(shape)) : values(size(shape), seed),
  shape,
});

/** One benchmark row: the same computation by each contender (null where one has no such kernel). */
interface Case {
  name: string;
  js: () => void;
  wasm: (k: WasmKernels) => () => void;
  tfjs: ((backend: 'cpu' | 'wasm') => (() => void) | null) | null;
}

/** Allocates `data` in the arena and returns its offset. */
function put(k: WasmKernels, data: Float32Array): number {
  const at = k.arena.alloc(data.length * 4);
  k.arena.f32(at, data.length).set(data);
  return at;
}

const x = buf(X, 1);

// Depthwise 3×3, stride 1, 'same', multiplier 1: the filter [3, 3, 1, 64] (tfjs: [3, 3, 64, 1]).
const dwAttrs: ConvAttrs = { strides: [1, 1], dilations: [1, 1], pad: 'same', dataFormat: 'NHWC', groups: C };
const dwFilter = buf([3, 3, 1, C], 2);
const dwDy = buf(X, 3);
const dwGeometry: WindowGeometry = {
  n: 8,
  inH: 56,
  inW: 56,
  channels: C,
  outH: 56,
  outW: 56,
  filterH: 3,
  filterW: 3,
  strideH: 1,
  strideW: 1,
  dilationH: 1,
  dilationW: 1,
  top: 1,
  left: 1,
};

// maxPool 2×2 stride 2 'valid' and avgPool 3×3 stride 1 'same' (padding 1 all round).
const maxWindow = { filterSize: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] };
const avgWindow = { filterSize: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] };
const maxGeometry: WindowGeometry = {
  ...dwGeometry,
  outH: 28,
  outW: 28,
  filterH: 2,
  filterW: 2,
  strideH: 2,
  strideW: 2,
  top: 0,
  left: 0,
};
const avgGeometry: WindowGeometry = dwGeometry;
const pooled = [8, 28, 28, C];
const maxDy = buf(pooled, 4);

// batchNorm (x − mean) · rsqrt(variance + ε) · scale + offset, as the fusion pass groups it (ε = 1e-3).
const NORMALIZE = [
  { op: 'add', args: [{ input: 2 }, { value: 1e-3 }] },
  { op: 'rsqrt', args: [{ step: 0 }] },
  { op: 'mul', args: [{ step: 1 }, { input: 3 }] },
  { op: 'sub', args: [{ input: 0 }, { input: 1 }] },
  { op: 'mul', args: [{ step: 3 }, { step: 2 }] },
  { op: 'add', args: [{ step: 4 }, { input: 4 }] },
];
const stats = [values(C, 5), values(C, 6).map((v) => 1 + v * v), values(C, 7), values(C, 8)];

function tfTensors(): { x: tf.Tensor4D; filter: tf.Tensor4D; dwDy: tf.Tensor4D; maxDy: tf.Tensor4D } {
  return {
    x: tf.tensor4d(x.data, X as [number, number, number, number]),
    filter: tf.tensor4d(dwFilter.data, [3, 3, C, 1]),
    dwDy: tf.tensor4d(dwDy.data, X as [number, number, number, number]),
    maxDy: tf.tensor4d(maxDy.data, pooled as [number, number, number, number]),
  };
}

let tfs: ReturnType<typeof tfTensors> | null = null;
const T = (): ReturnType<typeof tfTensors> => tfs as ReturnType<typeof tfTensors>;
const run = (kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) => (): void =>
  (tf.engine().runKernel(kernel, inputs, attrs as never) as tf.Tensor).dispose();

const CASES: Case[] = [
  {
    name: 'depthwise 3x3 fwd',
    js: () => conv2d(x, dwFilter, buf(X), dwAttrs),
    wasm: (k) => {
      const [xo, fo, oo] = [put(k, x.data), put(k, dwFilter.data), k.arena.alloc(size(X) * 4)];
      return () => k.depthwiseConv2d(dwGeometry, 1, xo, fo, oo);
    },
    tfjs: () => () => tf.depthwiseConv2d(T().x, T().filter, 1, 'same').dispose(),
  },
  {
    name: 'depthwise dx',
    js: () => conv2dBackpropInput(dwDy, dwFilter, buf(X), dwAttrs),
    wasm: (k) => {
      const [d, fo, oo] = [put(k, dwDy.data), put(k, dwFilter.data), k.arena.alloc(size(X) * 4)];
      return () => k.depthwiseConv2dBackpropInput(dwGeometry, 1, d, fo, oo);
    },
    tfjs: (backend) =>
      backend === 'wasm'
        ? null
        : run(
            'DepthwiseConv2dNativeBackpropInput',
            { dy: T().dwDy, filter: T().filter },
            { strides: [1, 1], pad: 'same', dilations: [1, 1], inputShape: X },
          ),
  },
  {
    name: 'depthwise dfilter',
    js: () => conv2dBackpropFilter(x, dwDy, buf([3, 3, 1, C]), dwAttrs),
    wasm: (k) => {
      const [xo, d, oo] = [put(k, x.data), put(k, dwDy.data), k.arena.alloc(9 * C * 4)];
      return () => k.depthwiseConv2dBackpropFilter(dwGeometry, 1, xo, d, oo);
    },
    tfjs: (backend) =>
      backend === 'wasm'
        ? null
        : run(
            'DepthwiseConv2dNativeBackpropFilter',
            { x: T().x, dy: T().dwDy },
            { strides: [1, 1], pad: 'same', dilations: [1, 1], filterShape: [3, 3, C, 1] },
          ),
  },
  {
    name: 'maxPool 2x2/2 fwd',
    js: () => maxPool(x, maxWindow, buf(pooled)),
    wasm: (k) => {
      const [xo, oo] = [put(k, x.data), k.arena.alloc(size(pooled) * 4)];
      return () => k.maxPool(maxGeometry, xo, oo);
    },
    tfjs: () => () => tf.maxPool(T().x, 2, 2, 'valid').dispose(),
  },
  {
    name: 'maxPool 2x2/2 grad',
    js: () => maxPoolGrad(x, maxDy, maxWindow, buf(X)),
    wasm: (k) => {
      const [xo, d, oo] = [put(k, x.data), put(k, maxDy.data), k.arena.alloc(size(X) * 4)];
      return () => k.maxPoolGrad(maxGeometry, xo, d, oo);
    },
    tfjs: () => {
      const y = tf.maxPool(T().x, 2, 2, 'valid');
      return run(
        'MaxPoolGrad',
        { dy: T().maxDy, input: T().x, output: y },
        { filterSize: 2, strides: 2, pad: 'valid' },
      );
    },
  },
  {
    name: 'avgPool 3x3/1 fwd',
    js: () => avgPool(x, avgWindow, false, buf(X)),
    wasm: (k) => {
      const [xo, oo] = [put(k, x.data), k.arena.alloc(size(X) * 4)];
      return () => k.avgPool(avgGeometry, xo, oo);
    },
    tfjs: () => () => tf.avgPool(T().x, 3, 1, 'same').dispose(),
  },
  {
    name: 'avgPool 3x3/1 grad',
    js: () => avgPoolGrad(dwDy, avgWindow, false, buf(X)),
    wasm: (k) => {
      const [d, oo] = [put(k, dwDy.data), k.arena.alloc(size(X) * 4)];
      return () => k.avgPoolGrad(avgGeometry, d, oo);
    },
    tfjs: () => run('AvgPoolGrad', { dy: T().dwDy, input: T().x }, { filterSize: 3, strides: 1, pad: 'same' }),
  },
  {
    name: 'batchNorm (kernel)',
    js: (() => {
      const kernel = fusedKernel(NORMALIZE.map((s) => ({ template: opRecord(s.op).template as string, args: s.args })));
      const inputs = [x, ...stats.map((s) => ({ data: s, shape: [C] }))];
      const out = buf(X);
      return () => kernel(inputs, out);
    })(),
    wasm: (k) => {
      const program = compileFusedProgram(NORMALIZE, ['full', `row:${C}`, `row:${C}`, `row:${C}`, `row:${C}`]);
      if (program === null) throw new Error('batchNorm should compile');
      const offsets = [put(k, x.data), ...stats.map((s) => put(k, s))];
      const out = k.arena.alloc(size(X) * 4);
      return () => k.fused(program, offsets, out, size(X));
    },
    tfjs: () => {
      const [m, v, o, s] = stats.map((d) => tf.tensor1d(d));
      return () => tf.batchNorm(T().x, m, v, o, s, 1e-3).dispose();
    },
  },
];

/** Session.run of batchNorm inference and of batchNormTraining's forward (moments + normalize), fed x each run. */
function sessions(): { name: string; js: number; wasm1: number; wasm2: number }[] {
  const vec = (d: Float32Array): NDArray => new NDArray(d, [C]);
  const g = new Graph();
  const xp = g.placeholder('x', [null, 56, 56, C]);
  const y = batchNorm(xp, vec(stats[0]), vec(stats[1]), vec(stats[2]), vec(stats[3]), 1e-3);
  const mm = g.variable('mm', vec(stats[0]));
  const mv = g.variable('mv', vec(stats[1]));
  const train = batchNormTraining(xp, mm, mv, vec(stats[2]), vec(stats[3]), { axes: [0, 1, 2] });
  const feeds = { x: new NDArray(x.data, X) };
  const time = (backend: 'js' | 'wasm', threads: 1 | 2, fetch: typeof y): number => {
    const s = new Session(g, { backend, threads });
    return timeMs(() => s.run(fetch, feeds));
  };
  return [
    { name: 'batchNorm (Session.run)', fetch: y },
    { name: 'batchNormTraining fwd (run)', fetch: train.y },
  ].map(({ name, fetch }) => ({
    name,
    js: time('js', 1, fetch),
    wasm1: time('wasm', 1, fetch),
    wasm2: time('wasm', 2, fetch),
  }));
}

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(28) : c.padStart(10))).join(' ');
}

async function main(): Promise<void> {
  const one = loadWasmKernels({ initialBytes: 256 << 20 });
  const two = loadWasmKernels({ initialBytes: 256 << 20, threads: 2, startWorker });
  const js = CASES.map((c) => timeMs(c.js, quick ? 300 : 1500));
  const ours = [one, two].map((k) => CASES.map((c) => timeMs(c.wasm(k))));
  const session = sessions();
  two.dispose();

  const theirs: Record<'cpu' | 'wasm', (number | null)[]> = { cpu: [], wasm: [] };
  for (const backend of ['cpu', 'wasm'] as const) {
    await tf.setBackend(backend);
    await tf.ready();
    tfs = tfTensors();
    for (const c of CASES) {
      const f = c.tfjs === null ? null : c.tfjs(backend);
      theirs[backend].push(f === null ? null : timeMs(f));
    }
  }
  const training = timeMs(() =>
    tf.tidy(() => {
      const { mean, variance } = tf.moments(T().x, [0, 1, 2]);
      tf.batchNorm(T().x, mean, variance, undefined, undefined, 1e-3);
    }),
  );
  const inference = timeMs(() => tf.batchNorm(T().x, stats[0], stats[1], stats[2], stats[3], 1e-3).dispose());

  const f = (v: number | null): string => (v === null ? '—' : v.toFixed(2));
  const ratio = (a: number | null, b: number | null): string =>
    a === null || b === null ? '—' : `${(a / b).toFixed(2)}x`;
  console.log(`[8, 56, 56, 64] float32, ms (median); lazygrad builds ${one.variant}${quick ? ' [quick]' : ''}`);
  console.log(row(['', 'JS kernel', 'wasm 1t', 'wasm 2t', 'tfjs-cpu', 'tfjs-wasm', 'JS/1t', 'tfjs-w/1t', 'tfjs-w/2t']));
  CASES.forEach((c, i) => {
    const [o1, o2, tc, tw] = [ours[0][i], ours[1][i], theirs.cpu[i], theirs.wasm[i]];
    console.log(row([c.name, f(js[i]), f(o1), f(o2), f(tc), f(tw), ratio(js[i], o1), ratio(tw, o1), ratio(tw, o2)]));
  });
  console.log('\nSession.run (x fed each run, the result a fresh array; js backend vs wasm) and tfjs-wasm');
  console.log(row(['', 'js backend', 'wasm 1t', 'wasm 2t', 'tfjs-wasm']));
  session.forEach((s, i) =>
    console.log(row([s.name, f(s.js), f(s.wasm1), f(s.wasm2), f(i === 0 ? inference : training)])),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
