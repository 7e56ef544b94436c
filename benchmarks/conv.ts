/**
 * conv2d 3×3 64→64 'same' on [8, 56, 56, 64] (NHWC; a ResNet stage-1 layer at batch 8, 1.85 GFLOP per pass):
 * lazygrad's wasm kernels (one thread and with the helper worker) against TensorFlow.js's wasm backend (XNNPACK,
 * one thread in Node), its cpu backend, and onnxruntime-node on one thread (an NCHW Conv model written here with
 * onnx-proto); forward and both gradients where each has them (tfjs-wasm 4.22 has no Conv2DBackpropFilter, ORT's
 * inference session no gradient ops). The input gradient also runs both of lazygrad's methods (the flipped-filter
 * conv it uses for stride 1, and col2im). The contenders run interleaved, one call each per round, and each figure
 * is a median over rounds, so that a change in the machine's load hits all of them alike; tfjs-cpu runs last and
 * alone (a call takes seconds; its filter gradient is timed on one image and scaled by 8).
 *
 *   npm run bench:conv [-- --quick] [-- --no-cpu]   (or npx ts-node --transpile-only benchmarks/conv.ts …)
 *   node --experimental-wasm-relaxed-simd -r ts-node/register/transpile-only benchmarks/conv.ts   (relaxed SIMD)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { Worker } from 'worker_threads';
// eslint-disable-next-line no-restricted-imports -- the wasm kernels are not public API (sessions use them)
import { loadWasmKernels, type StartWorker, type WasmConvGeometry, type WasmKernels } from '../src/backend/wasm';

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

/** Milliseconds of one call (awaited when it returns a promise). */
async function once(run: () => unknown): Promise<number> {
  const t = nowMs();
  await run();
  return nowMs() - t;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const [B, H, W, C, O, F] = [8, 56, 56, 64, 64, 3];
const X_SHAPE = [B, H, W, C];
const F_SHAPE = [F, F, C, O];
const Y_SHAPE = [B, H, W, O];
const GEOMETRY: WasmConvGeometry = {
  n: B,
  inH: H,
  inW: W,
  inC: C,
  outH: H,
  outW: W,
  outC: O,
  fh: F,
  fw: F,
  sh: 1,
  sw: 1,
  dh: 1,
  dw: 1,
  top: 1,
  left: 1,
};
const FLOPS = 2 * B * H * W * O * F * F * C;
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const x = values(size(X_SHAPE), 1);
const filter = values(size(F_SHAPE), 2).map((v) => v * 0.1);
const dy = values(size(Y_SHAPE), 3);

type Pass = 'forward' | 'backprop input' | 'backprop input (col2im)' | 'backprop filter';
const PASSES: Pass[] = ['forward', 'backprop input', 'backprop input (col2im)', 'backprop filter'];
/** A contender: the passes it has, each one call. */
type Contender = { name: string; passes: Partial<Record<Pass, () => unknown>>; scale?: number };

function lazygrad(wasm: WasmKernels, name: string): Contender {
  const a = wasm.arena;
  const xOff = a.alloc(x.length * 4);
  const fOff = a.alloc(filter.length * 4);
  const dyOff = a.alloc(dy.length * 4);
  const yOff = a.alloc(dy.length * 4);
  const dxOff = a.alloc(x.length * 4);
  const dfOff = a.alloc(filter.length * 4);
  a.f32(xOff, x.length).set(x);
  a.f32(fOff, filter.length).set(filter);
  a.f32(dyOff, dy.length).set(dy);
  return {
    name,
    passes: {
      forward: () => wasm.conv2d(xOff, fOff, yOff, GEOMETRY),
      'backprop input': () => wasm.conv2dBackpropInput(dyOff, fOff, dxOff, GEOMETRY),
      'backprop input (col2im)': () => wasm.conv2dBackpropInput(dyOff, fOff, dxOff, GEOMETRY, 'col2im'),
      'backprop filter': () => wasm.conv2dBackpropFilter(xOff, dyOff, dfOff, GEOMETRY),
    },
  };
}
/** Conv NCHW, 3×3, pads 1, the filter as OIHW: what ORT runs natively. */
function onnxConv(): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const oihw = new Float32Array(filter.length);
  for (let kh = 0; kh < F; kh++)
    for (let kw = 0; kw < F; kw++)
      for (let c = 0; c < C; c++)
        for (let o = 0; o < O; o++) oihw[((o * C + c) * F + kh) * F + kw] = filter[((kh * F + kw) * C + c) * O + o];
  const info = (name: string, dims: number[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const ints = (name: string, v: number[]): onnx.IAttributeProto => ({
    name,
    ints: v,
    type: onnx.AttributeProto.AttributeType.INTS,
  });
  const model: onnx.IModelProto = {
    irVersion: onnx.Version.IR_VERSION,
    producerName: 'lazygrad-benchmarks',
    opsetImport: [{ domain: '', version: 15 }],
    graph: {
      name: 'conv',
      node: [
        {
          opType: 'Conv',
          input: ['x', 'w'],
          output: ['y'],
          name: 'conv',
          attribute: [ints('kernel_shape', [F, F]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])],
        },
      ],
      initializer: [{ name: 'w', dims: [O, C, F, F], dataType: FLOAT, rawData: new Uint8Array(oihw.buffer.slice(0)) }],
      input: [info('x', [B, C, H, W])],
      output: [info('y', [B, O, H, W])],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

async function onnxRuntime(): Promise<Contender> {
  const session = await ort.InferenceSession.create(onnxConv(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const nchw = new Float32Array(x.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) nchw[((b * C + c) * H + h) * W + w] = x[((b * H + h) * W + w) * C + c];
  const feeds = { x: new ort.Tensor('float32', nchw, [B, C, H, W]) };
  return { name: 'onnxruntime 1t (NCHW)', passes: { forward: () => session.run(feeds) } };
}

/**
 * tfjs on its current backend; both backends run synchronously in Node (a kernel is done when its op returns).
 * `batch` below 8 runs that many images and scales the time to 8 (tfjs-cpu's filter gradient takes minutes at 8).
 */
function tfjs(name: string, passes: Pass[], batch = B): Contender {
  const xs = [batch, H, W, C] as [number, number, number, number];
  const ys = [batch, H, W, O] as [number, number, number, number];
  const tx = tf.tensor4d(x.subarray(0, size(xs)), xs);
  const tf4 = tf.tensor4d(filter, F_SHAPE as [number, number, number, number]);
  const tdy = tf.tensor4d(dy.subarray(0, size(ys)), ys);
  const conv = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
  const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: object): void =>
    (tf.engine().runKernel(kernel, inputs, attrs as never) as tf.Tensor).dispose();
  const all: Contender['passes'] = {
    forward: () => tf.conv2d(tx, tf4, 1, 'same').dispose(),
    'backprop input': () => run('Conv2DBackpropInput', { dy: tdy, filter: tf4 }, { ...conv, inputShape: xs }),
    'backprop filter': () => run('Conv2DBackpropFilter', { x: tx, dy: tdy }, { ...conv, filterShape: F_SHAPE }),
  };
  return { name, passes: Object.fromEntries(passes.map((p) => [p, all[p]])), scale: B / batch };
}

/** Median ms per contender and pass, over `rounds` rounds that each time every contender once (interleaved). */
async function measure(contenders: Contender[], rounds: number): Promise<Map<string, Map<Pass, number>>> {
  const samples = new Map<string, number[]>();
  for (const c of contenders) for (const p of PASSES) await c.passes[p]?.(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const p of PASSES) {
      for (const c of contenders) {
        const run = c.passes[p];
        if (run === undefined) continue;
        const key = `${c.name}|${p}`;
        samples.set(key, [...(samples.get(key) ?? []), (await once(run)) * (c.scale ?? 1)]);
      }
    }
  }
  const out = new Map<string, Map<Pass, number>>();
  for (const [key, v] of samples) {
    const [name, pass] = key.split('|') as [string, Pass];
    if (!out.has(name)) out.set(name, new Map());
    out.get(name)?.set(pass, median(v));
  }
  return out;
}

function report(results: Map<string, Map<Pass, number>>, variant: string): void {
  console.log(`\n(${variant} build; medians of interleaved rounds)`);
  console.log(['', ...PASSES].map((h, i) => (i === 0 ? h.padEnd(28) : h.padStart(24))).join(''));
  for (const [name, m] of results) {
    const cells = PASSES.map((p) => {
      const ms = m.get(p);
      return (ms === undefined ? '—' : `${ms.toFixed(1)} ms ${(FLOPS / ms / 1e6).toFixed(1)} GF`).padStart(24);
    });
    console.log(name.padEnd(28) + cells.join(''));
  }
  const get = (name: string, p: Pass): number | undefined => results.get(name)?.get(p);
  const ratio = (ours?: number, theirs?: number): string =>
    ours !== undefined && theirs !== undefined ? `${(theirs / ours).toFixed(2)}x` : '—';
  for (const p of PASSES) {
    const o1 = get('lazygrad wasm 1t', p);
    const o2 = get('lazygrad wasm 2t', p);
    const cells = [...results.keys()]
      .filter((peer) => !peer.startsWith('lazygrad') && get(peer, p) !== undefined)
      .map((peer) => `${peer} ${ratio(o1, get(peer, p))} (2t ${ratio(o2, get(peer, p))})`);
    console.log(`${p}: speed-up over ${cells.join(', ') || '—'}`);
  }
}

async function main(): Promise<void> {
  console.log(`conv2d ${F}x${F} ${C}->${O} 'same', x [${X_SHAPE}] NHWC, ${(FLOPS / 1e9).toFixed(2)} GFLOP per pass`);
  const one = loadWasmKernels({ initialBytes: 256 << 20 });
  const two = loadWasmKernels({ initialBytes: 256 << 20, threads: 2, startWorker });
  await tf.setBackend('wasm');
  await tf.ready();
  const contenders = [
    lazygrad(one, 'lazygrad wasm 1t'),
    lazygrad(two, 'lazygrad wasm 2t'),
    await onnxRuntime(),
    tfjs('tfjs-wasm', ['forward', 'backprop input']), // 4.22 has no Conv2DBackpropFilter
  ];
  const results = await measure(contenders, quick ? 5 : 15);
  two.dispose();
  report(results, one.variant);
  if (process.argv.includes('--no-cpu')) return;
  const warn = console.warn;
  console.warn = () => undefined; // tfjs-cpu's suggestion to install tfjs-node
  await tf.setBackend('cpu');
  console.warn = warn;
  const cpu = [tfjs('tfjs-cpu', ['forward', 'backprop input']), tfjs('tfjs-cpu (batch 1, x8)', ['backprop filter'], 1)];
  for (const [name, m] of await measure(cpu, quick ? 1 : 2)) results.set(name, m);
  report(results, one.variant);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
