/**
 * The page tests/browser/onnxruntime-web.test.ts bundles (esbuild: `lazygrad` aliased to src/, onnxruntime-web
 * resolved from node_modules as a browser app's bundler resolves it) and loads in headless Chromium. It runs a small
 * MLP's forward pass, gradients and Adam training steps on the 'onnxruntime' backend (onnxruntime-web's wasm
 * provider) and on the wasm backend, and what `executionProviders: ['webgpu']` and the default loader (no module
 * passed) do. Results go to `window.lazygradResults` (a promise the test awaits) and as text into the page.
 */
import * as ort from 'onnxruntime-web';
import {
  Graph,
  RuntimeError,
  Session,
  SessionError,
  Tensor,
  gradients,
  matMul,
  relu,
  softmaxCrossEntropyWithLogits,
  train,
} from 'lazygrad';

/** What went wrong, as the test reads it: the error's class name and message, or null when nothing was thrown. */
interface Outcome {
  ok: boolean;
  name: string | null;
  message: string | null;
  values: number[] | null;
}

export interface OrtPageResults {
  crossOriginIsolated: boolean;
  ortVersion: string;
  /** ort.env.wasm.numThreads after the runs (onnxruntime-web's thread pool) */
  ortNumThreads: number;
  backends: { ort: string; wasm: string };
  /** logits, loss and the four gradients, flattened, per backend. */
  forward: { ort: number[][]; wasm: number[][] };
  /** The loss of each of five Adam steps, then the variables after them, per backend. */
  losses: { ort: number[]; wasm: number[] };
  variables: { ort: number[][]; wasm: number[][] };
  /** `sess.run` on this backend: the error's class and message. */
  syncRun: Outcome;
  explain: string;
  webgpu: Outcome & { navigatorGpu: boolean; adapter: boolean };
  /** `executionProviders: ['webgpu', 'wasm']`: the loss of the first step (ONNX Runtime falls back to wasm). */
  webgpuThenWasm: Outcome;
  defaultLoader: Outcome;
  resources: string[];
}

/** A 6-16-3 MLP with biases and a softmax cross-entropy loss on a fixed batch of 8; its gradients; an Adam step. */
function mlp() {
  const g = new Graph();
  const x = g.placeholder('x', [null, 6]);
  const labels = g.placeholder('labels', [null, 3]);
  const w1 = g.variable(
    'w1',
    Array.from({ length: 6 }, (_, i) => Array.from({ length: 16 }, (_, j) => Math.sin(i * 16 + j) * 0.4)),
  );
  const b1 = g.variable(
    'b1',
    Array.from({ length: 16 }, (_, j) => Math.cos(j) * 0.1),
  );
  const w2 = g.variable(
    'w2',
    Array.from({ length: 16 }, (_, i) => Array.from({ length: 3 }, (_, j) => Math.cos(i * 3 + j) * 0.4)),
  );
  const b2 = g.variable('b2', [0.05, -0.05, 0]);
  const logits = matMul(relu(matMul(x, w1).add(b1)), w2).add(b2);
  const loss = softmaxCrossEntropyWithLogits(labels, logits).mean();
  const variables = [w1, b1, w2, b2];
  const grads = gradients(loss, variables) as Tensor[];
  const step = train.adam(0.05).minimize(loss);
  const rows = Array.from({ length: 8 }, (_, r) => Array.from({ length: 6 }, (_, c) => Math.sin(r * 6 + c * 1.7)));
  const feeds = {
    x: rows,
    labels: rows.map((row) => [0, 1, 2].map((k) => (k === (row[0] + row[1] > 0 ? 0 : row[2] > 0 ? 1 : 2) ? 1 : 0))),
  };
  return { g, logits, loss, grads, step, variables, feeds };
}

const flat = (value: unknown): number[] =>
  Array.isArray(value) ? (value as unknown[]).flatMap(flat) : [Number(value)];

async function outcome(body: () => Promise<unknown>): Promise<Outcome> {
  try {
    const value = await body();
    return { ok: true, name: null, message: null, values: value === undefined ? null : flat(value) };
  } catch (error) {
    const e = error as Error;
    // Class names do not survive minification: the classes the test expects are checked here.
    const name = e instanceof SessionError ? 'SessionError' : e instanceof RuntimeError ? 'RuntimeError' : 'other';
    return { ok: false, name, message: String(e?.message ?? error), values: null };
  }
}

/** Forward values, gradients, five training steps and the variables after them, on one backend. */
async function runMlp(backend: 'onnxruntime' | 'wasm', threads: 1 | 2 = 1) {
  const m = mlp();
  const sess = new Session(m.g, backend === 'onnxruntime' ? { backend, onnxruntime: ort, threads } : { backend });
  const forward = await sess.runAsync([m.logits, m.loss, ...m.grads], m.feeds);
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) losses.push((await sess.runAsync([m.loss, m.step], m.feeds))[0].get());
  const variables = await sess.runAsync(m.variables);
  return {
    sess,
    m,
    forward: forward.map((a) => flat(a.toArray())),
    losses,
    variables: variables.map((a) => flat(a.toArray())),
  };
}

async function run(): Promise<OrtPageResults> {
  // Two threads where the page is cross-origin isolated (onnxruntime-web starts its worker from its .jsep.mjs, from
  // wasmPaths), one elsewhere (no SharedArrayBuffer).
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  ort.env.wasm.numThreads = isolated ? 2 : 1;
  ort.env.wasm.wasmPaths = new URL(
    'ort/',
    (globalThis as unknown as { location: { href: string } }).location.href,
  ).href;
  const onOrt = await runMlp('onnxruntime', isolated ? 2 : 1);
  const onWasm = await runMlp('wasm');

  const syncRun = await outcome(async () => onOrt.sess.run(onOrt.m.loss, onOrt.m.feeds));
  const explain = onOrt.sess.explain(onOrt.m.loss, onOrt.m.feeds);

  // WebGPU: asked for explicitly, on a browser without a GPU adapter.
  const gpu = (globalThis as unknown as { navigator: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator.gpu;
  const adapter = gpu === undefined ? null : await gpu.requestAdapter().catch(() => null);
  const m = mlp();
  const webgpu = await outcome(async () => {
    const sess = new Session(m.g, { backend: 'onnxruntime', onnxruntime: ort, executionProviders: ['webgpu'] });
    return (await sess.runAsync(m.loss, m.feeds)).get();
  });

  const f = mlp();
  const webgpuThenWasm = await outcome(async () => {
    const sess = new Session(f.g, { backend: 'onnxruntime', onnxruntime: ort, executionProviders: ['webgpu', 'wasm'] });
    return (await sess.runAsync(f.loss, f.feeds)).get();
  });

  // The default loader: `import('onnxruntime-web')` at run time, which a page resolves only through an import map.
  const d = mlp();
  const defaultLoader = await outcome(async () => {
    const sess = new Session(d.g, { backend: 'onnxruntime' });
    return (await sess.runAsync(d.loss, d.feeds)).get();
  });

  return {
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    ortVersion: ort.env.versions.web ?? '',
    ortNumThreads: ort.env.wasm.numThreads ?? 0,
    backends: { ort: onOrt.sess.backend, wasm: onWasm.sess.backend },
    forward: { ort: onOrt.forward, wasm: onWasm.forward },
    losses: { ort: onOrt.losses, wasm: onWasm.losses },
    variables: { ort: onOrt.variables, wasm: onWasm.variables },
    syncRun,
    explain,
    webgpu: { ...webgpu, navigatorGpu: gpu !== undefined, adapter: adapter !== null },
    webgpuThenWasm,
    defaultLoader,
    resources: performance.getEntriesByType('resource').map((entry) => entry.name),
  };
}

// The test's type environment has no DOM: the one element used is typed here.
const page = globalThis as unknown as { document: { body: { textContent: string } } };
const results = run();
(globalThis as { lazygradResults?: Promise<OrtPageResults> }).lazygradResults = results;
results.then(
  (r) => (page.document.body.textContent = JSON.stringify(r, null, 1)),
  (e: Error) => (page.document.body.textContent = `failed: ${e.stack ?? e.message}`),
);
