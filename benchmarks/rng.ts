/**
 * Seeded data for the benchmarks: every contender (and every thread) regenerates the same numbers from a seed,
 * so nothing has to be shipped between threads and every run of the harness sees the same inputs.
 */

/** mulberry32: tiny, seedable and reproducible (the same generator as tests/ops/util.ts). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}

/** A stable seed for a name (FNV-1a), so each workload's data depends only on its id. */
export function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** `size` floats uniform in [lo, hi). */
export function uniformArray(rng: Rng, size: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.uniform(lo, hi);
  return out;
}

/** Glorot-uniform weights for a [fanIn, fanOut] matrix. */
export function glorot(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return uniformArray(rng, fanIn * fanOut, -limit, limit);
}

/** One-hot rows: `rows` labels over `classes` classes, each class drawn uniformly. */
export function oneHot(rng: Rng, rows: number, classes: number): Float32Array {
  const out = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) out[r * classes + Math.floor(rng.next() * classes)] = 1;
  return out;
}
