/**
 * Heap and plan-cache behaviour over long runs:
 *
 *   node --expose-gc -r ts-node/register/transpile-only benchmarks/heap.ts
 *
 * 10,000 consecutive `session.run` calls of a small MLP's Adam training step, with the heap measured after a full
 * GC before and after (and at checkpoints in between), then runs with varying batch sizes to show that the plan cache
 * holds one plan for a repeated signature and never more than its bound for varying ones.
 */
import { add, Graph, matMul, mean, NDArray, relu, Session, softmaxCrossEntropyWithLogits, train } from '../src';

const STEPS = 10_000;
const BATCH = 16;
const INPUTS = 8;
const HIDDEN = 16;
const CLASSES = 4;
const MB = 2 ** 20;

/** mulberry32, so the run is reproducible without Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(9);
const matrix = (rows: number, cols: number, scale: number): NDArray =>
  new NDArray(
    Float32Array.from({ length: rows * cols }, () => (random() * 2 - 1) * scale),
    [rows, cols],
    'float32',
  );
const labels = (rows: number): NDArray => {
  const data = new Float32Array(rows * CLASSES);
  for (let r = 0; r < rows; r++) data[r * CLASSES + Math.floor(random() * CLASSES)] = 1;
  return new NDArray(data, [rows, CLASSES], 'float32');
};

function heapMB(): number {
  (global as unknown as { gc: () => void }).gc();
  return process.memoryUsage().heapUsed / MB;
}

const g = new Graph();
const x = g.placeholder('x', [null, INPUTS]);
const y = g.placeholder('y', [null, CLASSES]);
const w1 = g.variable('w1', matrix(INPUTS, HIDDEN, 0.5));
const b1 = g.variable('b1', new NDArray(new Float32Array(HIDDEN), [HIDDEN], 'float32'));
const w2 = g.variable('w2', matrix(HIDDEN, CLASSES, 0.5));
const b2 = g.variable('b2', new NDArray(new Float32Array(CLASSES), [CLASSES], 'float32'));
const logits = add(matMul(relu(add(matMul(x, w1), b1)), w2), b2);
const loss = mean(softmaxCrossEntropyWithLogits(y, logits));
const step = train.adam(0.01).minimize(loss);
const session = new Session(g);

const feeds = { x: matrix(BATCH, INPUTS, 1), y: labels(BATCH) };
const warm = session.run([loss, step], feeds)[0].data[0];
const before = heapMB();
const start = performance.now();
let last = warm;
const lines: string[] = [];
for (let i = 1; i <= STEPS; i++) {
  last = session.run([loss, step], feeds)[0].data[0];
  if (i % 2500 === 0) lines.push(`  after ${String(i).padStart(6)} runs: heap ${heapMB().toFixed(2)} MB`);
}
const elapsed = performance.now() - start;
const after = heapMB();

console.log(`MLP ${INPUTS}-${HIDDEN}-${CLASSES}, batch ${BATCH}, Adam, backend ${session.backend}`);
console.log(
  `${STEPS} training steps in ${(elapsed / 1000).toFixed(2)} s (${((elapsed * 1000) / STEPS).toFixed(1)} µs/step)`,
);
console.log(`loss ${warm.toFixed(4)} → ${last.toFixed(4)}`);
console.log(
  `heap before ${before.toFixed(2)} MB, after ${after.toFixed(2)} MB ` +
    `(${after - before >= 0 ? '+' : ''}${(after - before).toFixed(2)} MB)`,
);
for (const line of lines) console.log(line);
console.log(`cached plans after ${STEPS} runs of one signature: ${session.cachedPlans}`);

// Varying signatures: each batch size is a new feed shape, so a new plan; the cache must stay bounded.
const varying = new Session(g);
let peak = 0;
const heapVaryingBefore = heapMB();
for (let batch = 1; batch <= 200; batch++) {
  varying.run([loss, step], { x: matrix(batch, INPUTS, 1), y: labels(batch) });
  peak = Math.max(peak, varying.cachedPlans);
}
for (let round = 0; round < 5; round++) {
  for (let batch = 1; batch <= 200; batch++) {
    varying.run([loss, step], { x: matrix(batch, INPUTS, 1), y: labels(batch) });
    peak = Math.max(peak, varying.cachedPlans);
  }
}
const heapVaryingAfter = heapMB();
console.log(
  `1,200 runs over 200 batch sizes: cached plans now ${varying.cachedPlans}, peak ${peak}; ` +
    `heap ${heapVaryingBefore.toFixed(2)} → ${heapVaryingAfter.toFixed(2)} MB`,
);
