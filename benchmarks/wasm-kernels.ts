/**
 * The wasm SIMD kernels against the JS reference kernels and TensorFlow.js's wasm backend (XNNPACK), in one
 * process: matMul GFLOPS at 256, 512 and 1024, the transposed products of a training step, and a few elementwise
 * and row-wise kernels on 1M floats; lazygrad on one thread and with the helper worker (two threads). tfjs-wasm runs
 * one thread in Node. tfjs runs last: its memory grows as it allocates, and a detached ArrayBuffer
 * slows every later typed-array loop in V8 (see PERF-NOTES), so the JS and lazygrad figures are taken before it.
 *
 *   npx ts-node --transpile-only benchmarks/wasm-kernels.ts [--quick] [--fused (only the fused chain)]
 *   node --experimental-wasm-relaxed-simd -r ts-node/register/transpile-only benchmarks/wasm-kernels.ts
 *     (Node 20 keeps relaxed SIMD, which the fused multiply-add builds need, behind that flag; Node 22+ has it)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Worker } from 'worker_threads';
// eslint-disable-next-line no-restricted-imports -- the JS reference kernels are not public API
import { fusedKernel, matMul, unary, type Buf, type FusedArg } from '../src/ops/kernels';
// eslint-disable-next-line no-restricted-imports -- nor are the wasm kernels (sessions use them through src/backend)
import {
  compileFusedProgram,
  loadWasmKernels,
  type StartWorker,
  type WasmKernels,
  type WasmUnaryOp,
} from '../src/backend/wasm';
// eslint-disable-next-line no-restricted-imports -- the op table gives the fused steps their templates
import { opRecord } from '../src/ops';

const quick = process.argv.includes('--quick');
const fusedOnly = process.argv.includes('--fused');

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
function timeMs(run: () => void, budgetMs = quick ? 150 : 600): number {
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

/** Deterministic values in [-1, 1) (an LCG: no Math.random in benchmarks either). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface MatMulCase {
  name: string;
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
}

const square = (n: number): MatMulCase => ({ name: `${n}³`, M: n, K: n, N: n, transposeA: false, transposeB: false });
const CASES: MatMulCase[] = [
  square(256),
  square(512),
  ...(quick ? [] : [square(1024)]),
  // The MLP 784-256 layer at batch 128: forward x·W, then the gradients xᵀ·dy and dy·Wᵀ.
  { name: 'x·W 128x784·784x256', M: 128, K: 784, N: 256, transposeA: false, transposeB: false },
  { name: 'xᵀ·dy 784x128·128x256', M: 784, K: 128, N: 256, transposeA: true, transposeB: false },
  { name: 'dy·Wᵀ 128x256·256x784', M: 128, K: 256, N: 784, transposeA: false, transposeB: true },
];

const gflops = (c: MatMulCase, ms: number): number => (2 * c.M * c.N * c.K) / ms / 1e6;

function operands(c: MatMulCase): { a: Float32Array; b: Float32Array; aShape: number[]; bShape: number[] } {
  return {
    a: values(c.M * c.K, 1),
    b: values(c.K * c.N, 2),
    aShape: c.transposeA ? [c.K, c.M] : [c.M, c.K],
    bShape: c.transposeB ? [c.N, c.K] : [c.K, c.N],
  };
}

function jsMatMul(c: MatMulCase): number {
  const { a, b, aShape, bShape } = operands(c);
  const out: Buf = { data: new Float32Array(c.M * c.N), shape: [c.M, c.N] };
  const A: Buf = { data: a, shape: aShape };
  const B: Buf = { data: b, shape: bShape };
  return timeMs(() => matMul(A, B, out, c.transposeA, c.transposeB));
}

function wasmMatMul(wasm: WasmKernels, c: MatMulCase): number {
  const { a, b } = operands(c);
  const mark = wasm.arena.mark();
  const aOff = wasm.arena.alloc(a.length * 4);
  const bOff = wasm.arena.alloc(b.length * 4);
  const oOff = wasm.arena.alloc(c.M * c.N * 4);
  wasm.arena.f32(aOff, a.length).set(a);
  wasm.arena.f32(bOff, b.length).set(b);
  const ms = timeMs(() => wasm.matMul(aOff, bOff, oOff, c.M, c.N, c.K, c.transposeA, c.transposeB));
  wasm.arena.release(mark);
  return ms;
}

function tfMatMul(c: MatMulCase): number {
  const { a, b, aShape, bShape } = operands(c);
  const A = tf.tensor(a, aShape);
  const B = tf.tensor(b, bShape);
  // The wasm backend runs synchronously: the kernel is done when matMul returns, without reading the result.
  const ms = timeMs(() => tf.matMul(A, B, c.transposeA, c.transposeB).dispose());
  A.dispose();
  B.dispose();
  return ms;
}

const N_ELEMENTWISE = 1 << 20;
const UNARY: [WasmUnaryOp, (x: number) => number, (x: tf.Tensor) => tf.Tensor][] = [
  ['exp', Math.exp, tf.exp],
  ['tanh', Math.tanh, tf.tanh],
  ['sigmoid', (x) => 1 / (1 + Math.exp(-x)), tf.sigmoid],
  ['relu', (x) => (x > 0 ? x : 0), tf.relu],
];

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(24) : c.padStart(11))).join(' ');
}

const HEAD = ['', 'JS kernel', 'wasm 1t', 'wasm 2t', 'tfjs-wasm', '1t/JS', '1t/tfjs', '2t/tfjs'];

// sqrt(exp(−tanh(0.5·x + 0.1)²) + 1): eight elementwise ops, as the fusion pass would group them.
const CHAIN: { op: string; args: FusedArg[] }[] = [
  { op: 'mul', args: [{ value: 0.5 }, { input: 0 }] },
  { op: 'add', args: [{ step: 0 }, { value: 0.1 }] },
  { op: 'tanh', args: [{ step: 1 }] },
  { op: 'square', args: [{ step: 2 }] },
  { op: 'neg', args: [{ step: 3 }] },
  { op: 'exp', args: [{ step: 4 }] },
  { op: 'add', args: [{ step: 5 }, { value: 1 }] },
  { op: 'sqrt', args: [{ step: 6 }] },
];

/**
 * The chain on 1M floats: the JS fused kernel, the wasm interpreter and the jitted group (1 and 2 threads), eight
 * wasm single-op calls.
 */
function fusedChain(one: WasmKernels, two: WasmKernels): void {
  const n = N_ELEMENTWISE;
  const x = values(n, 4);
  const js = fusedKernel(CHAIN.map((s) => ({ template: opRecord(s.op).template as string, args: s.args })));
  const out: Buf = { data: new Float32Array(n), shape: [n] };
  const jsMs = timeMs(() => js([{ data: x, shape: [n] }], out));
  const program = compileFusedProgram(CHAIN, ['full']);
  if (program === null) throw new Error('the chain should compile to a wasm program');
  const interpreter = (wasm: WasmKernels, jit = false): number => {
    const mark = wasm.arena.mark();
    const xOff = wasm.arena.alloc(n * 4);
    const yOff = wasm.arena.alloc(n * 4);
    wasm.arena.f32(xOff, n).set(x);
    const ms = timeMs(() => wasm.fused(program, [xOff], yOff, n, jit));
    wasm.arena.release(mark);
    return ms;
  };
  const separate = (wasm: WasmKernels): number => {
    const mark = wasm.arena.mark();
    const xOff = wasm.arena.alloc(n * 4);
    const yOff = wasm.arena.alloc(n * 4);
    const c = wasm.arena.alloc(12);
    wasm.arena.f32(xOff, n).set(x);
    wasm.arena.f32(c, 3).set([0.5, 0.1, 1]);
    const ms = timeMs(() => {
      wasm.binary('mul', c, xOff, yOff, n, 'a');
      wasm.binary('add', yOff, c + 4, yOff, n, 'b');
      wasm.unary('tanh', yOff, yOff, n);
      wasm.unary('square', yOff, yOff, n);
      wasm.unary('neg', yOff, yOff, n);
      wasm.unary('exp', yOff, yOff, n);
      wasm.binary('add', yOff, c + 8, yOff, n, 'b');
      wasm.unary('sqrt', yOff, yOff, n);
    });
    wasm.arena.release(mark);
    return ms;
  };
  const [i1, i2, s1, s2] = [interpreter(one), interpreter(two), separate(one), separate(two)];
  const [j1, j2] = [interpreter(one, true), interpreter(two, true)];
  console.log(`\nfused chain sqrt(exp(−tanh(0.5·x + 0.1)²) + 1) on ${n} floats, ms (median)`);
  const head = ['', 'JS fused', 'interp 1t', 'interp 2t', 'ops 1t', 'ops 2t', 'jit 1t', 'jit 2t', 'JS/i1t', 'i1t/j1t'];
  console.log(row(head));
  const cells = [jsMs, i1, i2, s1, s2, j1, j2].map((v) => v.toFixed(2));
  console.log(row(['chain', ...cells, `${(jsMs / i1).toFixed(2)}x`, `${(i1 / j1).toFixed(2)}x`]));
}

async function main(): Promise<void> {
  if (fusedOnly) {
    const one = loadWasmKernels({ initialBytes: 64 << 20 });
    const two = loadWasmKernels({ initialBytes: 64 << 20, threads: 2, startWorker });
    fusedChain(one, two);
    two.dispose();
    return;
  }
  const one = loadWasmKernels({ initialBytes: 128 << 20 });
  const two = loadWasmKernels({ initialBytes: 128 << 20, threads: 2, startWorker });
  const js = CASES.map(jsMatMul);
  const ours1 = CASES.map((c) => wasmMatMul(one, c));
  const ours2 = CASES.map((c) => wasmMatMul(two, c));
  const x = values(N_ELEMENTWISE, 3);
  const jsUnary = UNARY.map(([, fn]) => {
    const kernel = unary(fn);
    const out: Buf = { data: new Float32Array(N_ELEMENTWISE), shape: [N_ELEMENTWISE] };
    return timeMs(() => kernel({ data: x, shape: [N_ELEMENTWISE] }, out));
  });
  const rows = 1 << 14;
  const cols = N_ELEMENTWISE / rows;
  const elementwise = (wasm: WasmKernels): number[] => {
    const xOff = wasm.arena.alloc(N_ELEMENTWISE * 4);
    const yOff = wasm.arena.alloc(N_ELEMENTWISE * 4);
    wasm.arena.f32(xOff, N_ELEMENTWISE).set(x);
    const times = UNARY.map(([op]) => timeMs(() => wasm.unary(op, xOff, yOff, N_ELEMENTWISE)));
    return [...times, timeMs(() => wasm.softmax(xOff, yOff, rows, cols))];
  };
  const oursUnary1 = elementwise(one);
  const oursUnary2 = elementwise(two);
  fusedChain(one, two);
  two.dispose();

  await tf.setBackend('wasm');
  await tf.ready();
  const theirs = CASES.map(tfMatMul);
  const tx = tf.tensor(x, [N_ELEMENTWISE]);
  const tx2 = tx.reshape([rows, cols]);
  const theirsUnary = [
    ...UNARY.map(([, , fn]) => timeMs(() => fn(tx).dispose())),
    timeMs(() => tf.softmax(tx2).dispose()),
  ];
  tx.dispose();
  tx2.dispose();

  const ratio = (r: number): string => `${r.toFixed(2)}x`;
  console.log(`lazygrad wasm builds: ${one.variant} (1t), ${two.variant} (2t)${quick ? ' [quick]' : ''}`);
  console.log('matMul, GFLOPS (median)');
  console.log(row(HEAD));
  CASES.forEach((c, i) => {
    const [j, o1, o2, t] = [js[i], ours1[i], ours2[i], theirs[i]].map((ms) => gflops(c, ms));
    console.log(row([c.name, ...[j, o1, o2, t].map((v) => v.toFixed(1)), ratio(o1 / j), ratio(o1 / t), ratio(o2 / t)]));
  });
  console.log(`\nelementwise on ${N_ELEMENTWISE} floats, ms (median)`);
  console.log(row(HEAD));
  [...UNARY.map(([op]) => op), `softmax ${rows}x${cols}`].forEach((name, i) => {
    const j = i < jsUnary.length ? jsUnary[i] : NaN;
    const [o1, o2, t] = [oursUnary1[i], oursUnary2[i], theirsUnary[i]];
    const cells = [j, o1, o2, t].map((v) => (Number.isNaN(v) ? '' : v.toFixed(2)));
    console.log(row([name, ...cells, Number.isNaN(j) ? '' : ratio(j / o1), ratio(t / o1), ratio(t / o2)]));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
