/**
 * conv2d 3×3 64→64 'same' on [8, 56, 56, 64] (NHWC; a ResNet stage-1 layer at batch 8, 1.85 GFLOP per pass):
 * lazygrad's wasm kernels (one thread and with the helper worker) against TensorFlow.js's wasm backend (XNNPACK,
 * one thread in Node), its cpu backend, and onnxruntime-node on one thread (an NCHW Conv model written here with
 * onnx-proto); forward and both gradients where each has them (tfjs-wasm 4.22 has no Conv2DBackpropFilter, ORT's
 * inference session no gradient ops). The input gradient also runs both of lazygrad's methods (the flipped-filter
 * conv it uses for stride 1, and col2im). lazygrad runs first, ORT next, tfjs last (its memory growth detaches
 * buffers, which slows later typed-array loops in V8; see wasm-kernels.ts).
 *
 *   npx ts-node --transpile-only benchmarks/conv.ts [--quick]
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

/** Median milliseconds over repetitions filling ~`budgetMs` (at least 3 after one warm-up). */
async function timeMs(run: () => unknown, budgetMs = quick ? 400 : 2000): Promise<number> {
  await run();
  const times: number[] = [];
  const start = nowMs();
  while (times.length < 3 || (nowMs() - start < budgetMs && times.length < 50)) {
    const t = nowMs();
    await run();
    times.push(nowMs() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

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
const results = new Map<string, Map<Pass, number>>();
function record(who: string, pass: Pass, ms: number): void {
  if (!results.has(who)) results.set(who, new Map());
  results.get(who)?.set(pass, ms);
  console.log(
    `${who.padEnd(22)} ${pass.padEnd(24)} ${ms.toFixed(1).padStart(8)} ms ${(FLOPS / ms / 1e6).toFixed(1).padStart(6)} GFLOPS`,
  );
}

async function lazygrad(wasm: WasmKernels, who: string): Promise<void> {
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
  record(who, 'forward', await timeMs(() => wasm.conv2d(xOff, fOff, yOff, GEOMETRY)));
  record(who, 'backprop input', await timeMs(() => wasm.conv2dBackpropInput(dyOff, fOff, dxOff, GEOMETRY)));
  record(
    who,
    'backprop input (col2im)',
    await timeMs(() => wasm.conv2dBackpropInput(dyOff, fOff, dxOff, GEOMETRY, 'col2im')),
  );
  record(who, 'backprop filter', await timeMs(() => wasm.conv2dBackpropFilter(xOff, dyOff, dfOff, GEOMETRY)));
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

async function onnxRuntime(): Promise<void> {
  const session = await ort.InferenceSession.create(onnxConv(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const nchw = new Float32Array(x.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) nchw[((b * C + c) * H + h) * W + w] = x[((b * H + h) * W + w) * C + c];
  const feeds = { x: new ort.Tensor('float32', nchw, [B, C, H, W]) };
  record('onnxruntime 1t (NCHW)', 'forward', await timeMs(() => session.run(feeds)));
  await session.release();
}

async function tfjs(backend: 'wasm' | 'cpu'): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  const who = `tfjs-${backend}`;
  const tx = tf.tensor4d(x, X_SHAPE as [number, number, number, number]);
  const tf4 = tf.tensor4d(filter, F_SHAPE as [number, number, number, number]);
  const tdy = tf.tensor4d(dy, Y_SHAPE as [number, number, number, number]);
  const budget = backend === 'cpu' ? (quick ? 1 : 3000) : undefined;
  // Both backends run synchronously in Node: a kernel is done when its op returns.
  record(who, 'forward', await timeMs(() => tf.conv2d(tx, tf4, 1, 'same').dispose(), budget));
  const conv = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
  const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: object): void =>
    (tf.engine().runKernel(kernel, inputs, attrs as never) as tf.Tensor).dispose();
  record(
    who,
    'backprop input',
    await timeMs(() => run('Conv2DBackpropInput', { dy: tdy, filter: tf4 }, { ...conv, inputShape: X_SHAPE }), budget),
  );
  if (backend === 'cpu') {
    record(
      who,
      'backprop filter',
      await timeMs(() => run('Conv2DBackpropFilter', { x: tx, dy: tdy }, { ...conv, filterShape: F_SHAPE }), budget),
    );
  }
  tf.dispose([tx, tf4, tdy]);
}

async function main(): Promise<void> {
  console.log(`conv2d ${F}x${F} ${C}->${O} 'same', x [${X_SHAPE}] NHWC, ${(FLOPS / 1e9).toFixed(2)} GFLOP per pass`);
  const one = loadWasmKernels({ initialBytes: 256 << 20 });
  const two = loadWasmKernels({ initialBytes: 256 << 20, threads: 2, startWorker });
  const variant = one.variant;
  await lazygrad(one, `lazygrad wasm 1t`);
  await lazygrad(two, `lazygrad wasm 2t`);
  two.dispose();
  await onnxRuntime();
  await tfjs('wasm');
  await tfjs('cpu');
  const ours = results.get('lazygrad wasm 1t');
  const ours2 = results.get('lazygrad wasm 2t');
  const xnn = results.get('tfjs-wasm');
  const ortMs = results.get('onnxruntime 1t (NCHW)')?.get('forward');
  const ratio = (a?: number, b?: number): string => (a && b ? `${(b / a).toFixed(2)}x` : '—');
  console.log(
    `\n(${variant} build) speed-ups, forward: 1t vs tfjs-wasm ${ratio(ours?.get('forward'), xnn?.get('forward'))}` +
      `, 2t vs tfjs-wasm ${ratio(ours2?.get('forward'), xnn?.get('forward'))}` +
      `, 1t vs ORT ${ratio(ours?.get('forward'), ortMs)}, 2t vs ORT ${ratio(ours2?.get('forward'), ortMs)}`,
  );
  console.log(`backprop input: 1t vs tfjs-wasm ${ratio(ours?.get('backprop input'), xnn?.get('backprop input'))}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
