/**
 * Run by relaxed.test.ts in a child Node started with --experimental-wasm-relaxed-simd (Node 20 has relaxed SIMD
 * behind that flag): checks the fused multiply-add builds and prints the findings as JSON.
 */
import { matMul, type Buf } from '../../src/ops/kernels';
import { WasmBufKernels, loadWasmKernels, type WasmUnaryOp } from '../../src/backend/wasm';
import { Rng, absF64, nodeStartWorker, randF32, toF64, ulpError, uniformF32 } from './helpers';

const one = loadWasmKernels({ initialBytes: 32 << 20 });
const two = loadWasmKernels({ initialBytes: 32 << 20, threads: 2, startWorker: nodeStartWorker });
const kernels = new WasmBufKernels(one);
const rng = new Rng(80);

/** The largest |error| / bound over matMuls of ragged sizes in every transpose combo (≤ 1 passes). */
function matMulWorst(): number {
  let worst = 0;
  for (const [M, K, N] of [
    [13, 300, 21],
    [1, 7, 1],
    [127, 517, 9],
    [7, 5, 530],
  ]) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a = randF32(rng, tA ? [K, M] : [M, K]);
        const b = randF32(rng, tB ? [N, K] : [K, N]);
        const exact: Buf = { data: new Float64Array(M * N), shape: [M, N] };
        const magnitude: Buf = { data: new Float64Array(M * N), shape: [M, N] };
        matMul(toF64(a), toF64(b), exact, tA, tB);
        matMul(absF64(a), absF64(b), magnitude, tA, tB);
        const out: Buf = { data: new Float32Array(M * N), shape: [M, N] };
        kernels.matMul(a, b, out, tA, tB);
        for (let i = 0; i < M * N; i++) {
          const bound = (K + 2) * 2 ** -24 * magnitude.data[i] + 1e-37;
          worst = Math.max(worst, Math.abs(out.data[i] - exact.data[i]) / bound);
        }
      }
    }
  }
  return worst;
}

const EXACT: Record<string, (x: number) => number> = {
  exp: Math.exp,
  tanh: Math.tanh,
  tanhFast: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  log: Math.log,
};

function worstUlps(op: WasmUnaryOp, lo: number, hi: number): number {
  const x = uniformF32(rng, 100000, lo, hi);
  const out: Buf = { data: new Float32Array(x.length), shape: [x.length] };
  kernels.unary(op, { data: x, shape: [x.length] }, out);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulpError(out.data[i], EXACT[op](x[i])));
  return worst;
}

/** Whether two threads reproduce one thread bit for bit on a split matMul. */
function threadsIdentical(): boolean {
  const [M, K, N] = [203, 97, 131];
  const a = randF32(rng, [M * K]).data;
  const b = randF32(rng, [K * N]).data;
  const results = [one, two].map((k) => {
    const mark = k.arena.mark();
    const [ao, bo, co] = [k.arena.alloc(M * K * 4), k.arena.alloc(K * N * 4), k.arena.alloc(M * N * 4)];
    k.arena.f32(ao, M * K).set(a);
    k.arena.f32(bo, K * N).set(b);
    k.matMul(ao, bo, co, M, N, K);
    const result = Array.from(k.arena.f32(co, M * N));
    k.arena.release(mark);
    return result;
  });
  return results[0].every((v, i) => Object.is(v, results[1][i]));
}

const report = {
  variants: [one.variant, two.variant],
  matMulWorst: matMulWorst(),
  expUlps: worstUlps('exp', -103, 88.7),
  tanhUlps: worstUlps('tanh', -12, 12),
  tanhFastUlps: worstUlps('tanhFast', -12, 12),
  sigmoidUlps: worstUlps('sigmoid', -87, 87),
  logUlps: Math.max(worstUlps('log', 1e-30, 1e-20), worstUlps('log', 0.5, 2), worstUlps('log', 1, 1e30)),
  threadsIdentical: threadsIdentical(),
};
two.dispose();
console.log(JSON.stringify(report));
