/** Shared by the wasm kernel tests: float32 operands, ulp distances and error bounds against the JS kernels. */
import { Worker } from 'worker_threads';
import type { Buf } from '../../src/ops/kernels';
import type { StartWorker } from '../../src/backend/wasm';
import { Rng } from '../kernels/helpers';

export { Rng };

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Standard normals scaled by `scale`, as float32. */
export function randF32(rng: Rng, shape: readonly number[], scale = 1): Buf {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = scale * rng.normal();
  return { data, shape: [...shape] };
}

export function uniformF32(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng.next();
  return data;
}

/** A float32 output buffer filled with a sentinel, so that an element the kernel misses shows. */
export function outF32(shape: readonly number[]): Buf {
  return { data: new Float32Array(sizeOf(shape)).fill(-12345), shape: [...shape] };
}

export function toF64(b: Buf): Buf {
  return { data: Float64Array.from(b.data), shape: [...b.shape] };
}

export function absF64(b: Buf): Buf {
  return { data: Float64Array.from(b.data, Math.abs), shape: [...b.shape] };
}

/** The gap between float32 neighbours at |v| (the subnormal spacing below the normal range). */
export function ulpF32(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Distance in float32 ulps of `actual` from the exact value `exact`; 0 for matching NaNs and infinities. */
export function ulpError(actual: number, exact: number): number {
  if (Number.isNaN(exact) || Number.isNaN(actual)) return Number.isNaN(exact) && Number.isNaN(actual) ? 0 : Infinity;
  if (!Number.isFinite(exact) || !Number.isFinite(actual)) return actual === exact ? 0 : Infinity;
  return Math.abs(actual - exact) / ulpF32(Math.fround(exact));
}

/** Asserts |actual − expected| ≤ bound[i] elementwise (NaN and infinities must match exactly). */
export function expectWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: (i: number) => number,
  what = '',
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isFinite(e) ? Math.abs(a - e) <= bound(i) : Object.is(a, e) || (a !== a && e !== e);
    if (!ok) throw new Error(`${what} element ${i}: got ${a}, expected ${e} (bound ${bound(i)})`);
  }
}

/** Relative float32 tolerance: |a − e| ≤ tol · max(1, |e|). */
export function expectCloseF32(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 2e-6, what = ''): void {
  expectWithin(actual, expected, (i) => tol * Math.max(1, Math.abs(expected[i])), what);
}

/** Node's way to start the helper worker (the kernels leave thread creation to the embedder). */
export const nodeStartWorker: StartWorker = (source, init) => {
  const worker = new Worker(`${source}\nlazygradWasmWorker(require('worker_threads').workerData);`, {
    eval: true,
    workerData: init,
  });
  worker.unref();
  return worker;
};

/** The index of the first element that differs in bits (NaNs compared by bits too), 0 for unequal lengths, or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
