/**
 * The page tests/browser/chromium.test.ts bundles (esbuild, `lazygrad` aliased to src/) and loads in headless
 * Chromium. It runs the checks in the page and leaves their results in `window.lazygradResults` (a promise the test
 * awaits over the DevTools protocol) and as text in the page, for the screenshot.
 */
import { Graph, NDArray, Session, gradients, train, matMul, relu } from 'lazygrad';
import { sessionKernels } from '../../src/backend';
import { loadWasmKernels, wasmSupported } from '../../src/backend/wasm';

interface PageResults {
  crossOriginIsolated: boolean;
  backend: string;
  threadsAtConstruction: number;
  threads: number;
  warnings: string[];
  seed: number[];
  losses: number[];
  twoThreadMatMulMatchesJs: boolean;
  helperJobs: number;
  relaxedValidates: boolean;
  matMul: {
    size: number;
    baselineMs: number;
    relaxedMs: number | null;
    variants: string[];
    sessionMs: { oneThread: number; twoThreads: number };
  };
}

function seedGradients(sess: Session, g: Graph, a: ReturnType<Graph['placeholder']>, b: typeof a): number[] {
  const e = a.add(b).mul(b.add(1));
  const [da, db] = gradients(e, [a, b]);
  void g;
  return sess.run([e, da as typeof e, db as typeof e], { a: 2, b: 1 }).map((x) => x.get());
}

/** A 4-8-1 MLP fitting y = x0 − x1 on a fixed batch: the loss of each of a few SGD steps. */
function trainMlp(threads: 1 | 2): number[] {
  const g = new Graph();
  const x = g.placeholder('x', [null, 4]);
  const y = g.placeholder('y', [null, 1]);
  const w1 = g.variable(
    'w1',
    [0, 1, 2, 3].map((i) => [0, 1, 2, 3, 4, 5, 6, 7].map((j) => Math.sin(i * 8 + j) * 0.5)),
  );
  const w2 = g.variable(
    'w2',
    [0, 1, 2, 3, 4, 5, 6, 7].map((j) => [Math.cos(j) * 0.5]),
  );
  const loss = matMul(relu(matMul(x, w1)), w2)
    .sub(y)
    .square()
    .mean();
  const step = train.sgd(0.05).minimize(loss);
  const sess = new Session(g, { backend: 'wasm', threads });
  const rows = Array.from({ length: 16 }, (_, r) => [0, 1, 2, 3].map((c) => Math.sin(r * 4 + c)));
  const feeds = { x: rows, y: rows.map((row) => [row[0] - row[1]]) };
  const losses: number[] = [];
  for (let i = 0; i < 8; i++) losses.push(sess.run([loss, step], feeds)[0].get());
  return losses;
}

/** A 256² matMul with two threads against the JS backend; how many jobs the helper worker ran for it. */
function twoThreadMatMul(): [boolean, number] {
  const n = 256;
  const g = new Graph();
  const a = g.placeholder('a', [n, n]);
  const b = g.placeholder('b', [n, n]);
  const c = matMul(a, b);
  const feeds = {
    a: Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Math.sin(i * n + j))),
    b: Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Math.cos(i - j))),
  };
  // The process's two-thread kernels, which the session below uses.
  const kernels = sessionKernels('wasm', 2).wasm?.wasm;
  const jobsBefore = kernels?.helperJobs ?? 0;
  const two = new Session(g, { backend: 'wasm', threads: 2 }).run(c, feeds).toArray() as number[][];
  const helperJobs = (kernels?.helperJobs ?? 0) - jobsBefore;
  const js = new Session(g, { backend: 'js' }).run(c, feeds).toArray() as number[][];
  let worst = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(two[i][j] - js[i][j]));
  return [worst < 1e-3, helperJobs];
}

/**
 * Median milliseconds of a 512² matMul on the baseline SIMD build and, where it validates, the relaxed one (runs
 * interleaved, so that both see the same load), and through sessions with one and two threads.
 */
function timeMatMul(): PageResults['matMul'] {
  const size = 512;
  const prepare = (simd: 'baseline' | 'relaxed') => {
    const k = loadWasmKernels({ initialBytes: 8 << 20, simd });
    const bytes = size * size * 4;
    const [a, b, c] = [k.arena.alloc(bytes), k.arena.alloc(bytes), k.arena.alloc(bytes)];
    const view = new Float32Array(k.arena.memory.buffer, a, size * size);
    for (let i = 0; i < view.length; i++) view[i] = Math.sin(i);
    new Float32Array(k.arena.memory.buffer, b, size * size).set(view);
    return { variant: k.variant, once: () => k.matMul(a, b, c, size, size, size) };
  };
  const median = (times: number[]) => times.sort((p, q) => p - q)[times.length >> 1];
  const timed = (once: () => void) => {
    const start = performance.now();
    once();
    return performance.now() - start;
  };
  const runs = [prepare('baseline')];
  if (wasmSupported('single-relaxed')) runs.push(prepare('relaxed'));
  const times: number[][] = runs.map(() => []);
  for (let r = 0; r < 15; r++) runs.forEach((run, i) => times[i].push(timed(run.once)));
  const g = new Graph();
  const x = g.placeholder('x', [size, size]);
  const product = matMul(x, x);
  const feeds = {
    x: new NDArray(
      Float32Array.from({ length: size * size }, (_, i) => Math.sin(i)),
      [size, size],
    ),
  };
  const sessions = ([1, 2] as const).map((threads) => new Session(g, { threads }));
  const sessionTimes: number[][] = [[], []];
  for (let r = 0; r < 9; r++)
    sessions.forEach((sess, i) => sessionTimes[i].push(timed(() => sess.run(product, feeds))));
  return {
    size,
    baselineMs: median(times[0]),
    relaxedMs: runs.length > 1 ? median(times[1]) : null,
    variants: runs.map((run) => run.variant),
    sessionMs: { oneThread: median(sessionTimes[0]), twoThreads: median(sessionTimes[1]) },
  };
}

async function run(): Promise<PageResults> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
    warn.apply(console, args);
  };
  const g = new Graph();
  const a = g.placeholder('a');
  const b = g.placeholder('b');
  const sess = new Session(g, { backend: 'wasm', threads: 2 });
  const threadsAtConstruction = sess.threads;
  const threads = await sess.ready();
  new Session(g, { backend: 'wasm', threads: 2 }); // a second session: no second warning
  const [twoThreadMatMulMatchesJs, helperJobs] = twoThreadMatMul();
  return {
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    backend: sess.backend,
    threadsAtConstruction,
    threads,
    warnings,
    seed: seedGradients(sess, g, a, b),
    losses: trainMlp(threads),
    twoThreadMatMulMatchesJs,
    helperJobs,
    relaxedValidates: wasmSupported('single-relaxed'),
    matMul: timeMatMul(),
  };
}

// The test's type environment has no DOM: the one element used is typed here.
const page = globalThis as unknown as { document: { body: { textContent: string } } };
const results = run();
(globalThis as { lazygradResults?: Promise<PageResults> }).lazygradResults = results;
results.then(
  (r) => (page.document.body.textContent = JSON.stringify(r, null, 1)),
  (e: Error) => (page.document.body.textContent = `failed: ${e.stack ?? e.message}`),
);
