/**
 * Shared helpers for the op-level tests: a seeded PRNG (never Math.random), random NDArrays, closeness
 * assertions and a few graph shortcuts.
 */
import { DType, Graph, NDArray, Session, Tensor, mul, sum } from '../../src';

/** mulberry32: tiny, seedable and reproducible. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface RandomOptions {
  /** Uniform range (default [-2, 2)). */
  lo?: number;
  hi?: number;
  /** Keep every |value| at least this far from zero (for relu kinks, division, ...). */
  awayFromZero?: number;
}

/** Values uniform in [lo, hi), optionally pushed away from zero. */
export function randomValues(rng: Rng, n: number, options: RandomOptions = {}): number[] {
  const lo = options.lo ?? -2;
  const hi = options.hi ?? 2;
  const gap = options.awayFromZero ?? 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let v = rng.uniform(lo, hi);
    if (gap > 0) {
      let tries = 0;
      while (Math.abs(v) < gap && tries++ < 1000) v = rng.uniform(lo, hi);
    }
    out.push(v);
  }
  return out;
}

/** A random NDArray of the given shape and dtype. float32 values are rounded to float32 on creation. */
export function randomArray(
  rng: Rng,
  shape: readonly number[],
  dtype: DType = 'float64',
  options: RandomOptions = {},
): NDArray {
  const values = randomValues(rng, sizeOf(shape), options);
  const data =
    dtype === 'float32'
      ? Float32Array.from(values)
      : dtype === 'float64'
        ? Float64Array.from(values)
        : dtype === 'int32'
          ? Int32Array.from(values.map((v) => Math.round(v)))
          : Uint8Array.from(values.map((v) => (v > 0 ? 1 : 0)));
  return new NDArray(data, [...shape], dtype);
}

/** Distinct values (no ties) in a random order: for max reductions whose gradient needs a unique argmax. */
export function distinctArray(rng: Rng, shape: readonly number[], dtype: DType = 'float64', spacing = 0.37): NDArray {
  const n = sizeOf(shape);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * spacing + 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [values[i], values[j]] = [values[j], values[i]];
  }
  const data = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  return new NDArray(data, [...shape], dtype);
}

/** How far apart two values are: |a − e| / max(1, |e|), with NaN and infinities equal only to themselves. */
export function relError(a: number, e: number): number {
  if (Number.isNaN(e) || Number.isNaN(a)) return Number.isNaN(e) && Number.isNaN(a) ? 0 : Infinity;
  if (!Number.isFinite(e) || !Number.isFinite(a)) return a === e ? 0 : Infinity;
  return Math.abs(a - e) / Math.max(1, Math.abs(e));
}

/** Asserts equal shapes and elementwise closeness; the message names the first bad element. */
export function expectClose(
  actual: { shape: readonly number[]; data: ArrayLike<number> } | NDArray,
  expected: { shape: readonly number[]; data: ArrayLike<number> },
  tol: number,
  what = '',
): void {
  expect([...actual.shape]).toEqual([...expected.shape]);
  expect(actual.data.length).toBe(expected.data.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const err = relError(Number(actual.data[i]), Number(expected.data[i]));
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  if (!(worst <= tol)) {
    throw new Error(
      `${what ? `${what}: ` : ''}element ${worstAt} got ${actual.data[worstAt]}, expected ${expected.data[worstAt]} ` +
        `(error ${worst} > tol ${tol}); shape [${expected.shape.join(', ')}]`,
    );
  }
}

/** A constant with random values of a tensor's (known) shape and dtype: for weighted sums that do not cancel. */
export function randomWeights(rng: Rng, t: Tensor): Tensor {
  const shape = t.shape.map((d) => {
    if (d === null) throw new Error(`randomWeights: '${t.name}' has an unknown dim`);
    return d;
  });
  return t.graph.constant(randomArray(rng, shape, t.dtype, { lo: -1, hi: 1, awayFromZero: 0.1 }));
}

/** sum(y * w) with random constant w: a scalar whose gradient exercises every element of y. */
export function weightedSum(rng: Rng, y: Tensor): Tensor {
  return sum(mul(y, randomWeights(rng, y)));
}

/** A float64 placeholder of a known shape plus a random value for it. */
export function input(
  g: Graph,
  rng: Rng,
  name: string,
  shape: readonly number[],
  options: RandomOptions = {},
  dtype: DType = 'float64',
): [Tensor, NDArray] {
  return [g.placeholder(name, shape, dtype), randomArray(rng, shape, dtype, options)];
}

/** Runs one tensor with feeds given as [tensor, value] pairs. */
export function runWith(t: Tensor, feeds: readonly (readonly [Tensor, NDArray])[], optimize = true): NDArray {
  return new Session(t.graph, { optimize }).run(t, new Map(feeds.map(([k, v]) => [k, v])));
}
