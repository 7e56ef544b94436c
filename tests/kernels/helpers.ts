import type { Buf, TypedArray } from '../../src/ops/kernels';

export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** mulberry32: tiny, seedable, good enough to pick shapes and values reproducibly. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function alloc(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

export function zeros(shape: readonly number[], dtype: DType = 'float64'): Buf {
  return { data: alloc(dtype, sizeOf(shape)), shape: [...shape] };
}

/** Random values: normals for floats, small ints for int32, 0/1 for bool. */
export function rand(rng: Rng, shape: readonly number[], dtype: DType = 'float64'): Buf {
  const b = zeros(shape, dtype);
  for (let i = 0; i < b.data.length; i++) {
    if (dtype === 'bool') b.data[i] = rng.next() < 0.5 ? 1 : 0;
    else if (dtype === 'int32') b.data[i] = rng.int(-9, 9);
    else b.data[i] = rng.normal();
  }
  return b;
}

export function fromArray(values: readonly number[], shape: readonly number[], dtype: DType = 'float64'): Buf {
  const b = zeros(shape, dtype);
  if (b.data.length !== values.length) throw new Error('fromArray: length mismatch');
  for (let i = 0; i < values.length; i++) b.data[i] = values[i];
  return b;
}

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d] + idx[d];
  return f;
}

/** Flat index into an operand of `shape` for the output multi-index `outIdx` under NumPy broadcasting. */
export function broadcastIndex(outIdx: readonly number[], shape: readonly number[]): number {
  const lead = outIdx.length - shape.length;
  const idx = shape.map((n, d) => (n === 1 ? 0 : outIdx[d + lead]));
  return ravel(idx, shape);
}

/** A random shape of rank lo..hi; dims mostly 1..5 with the occasional 0. */
export function randShape(rng: Rng, lo: number, hi: number, zeroChance = 0.05): number[] {
  const r = rng.int(lo, hi);
  const s: number[] = [];
  for (let d = 0; d < r; d++) s.push(rng.next() < zeroChance ? 0 : rng.int(1, 5));
  return s;
}

/** A shape that broadcasts to `out`: a random suffix of it with some dims replaced by 1. */
export function operandShape(rng: Rng, out: readonly number[]): number[] {
  const r = rng.int(0, out.length);
  return out.slice(out.length - r).map((n) => (rng.next() < 0.35 ? 1 : n));
}

/** Equal, or both NaN; unlike Object.is, 0 and -0 are the same. */
function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!same(a, e)) throw new Error(`element ${i}: got ${a}, expected ${e}`);
      continue;
    }
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (tol ${tol})`);
    }
  }
}

export function expectExact(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!same(actual[i], expected[i])) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}
