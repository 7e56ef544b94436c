/**
 * Seeded random fills. A stream is named by a seed and a counter (how many times the node has run in a session):
 * splitmix64 turns both into a 128-bit xoshiro128** state, so run k of a node always draws the same numbers
 * while different runs or seeds draw unrelated ones. Everything after seeding is 32-bit integer arithmetic.
 */
import type { Buf } from './types';

const MASK64 = (1n << 64n) - 1n;
const GOLDEN64 = 0x9e3779b97f4a7c15n;

/** splitmix64's output function: a bijection of 64-bit words that mixes every bit into every other. */
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

// Each kind of seed gets its own salt, so a user seed 7 and the node-derived seed of node 7 differ.
const SALT = { integer: 1n, float: 2n, string: 3n, node: 4n } as const;

/** A seed's 64 bits: integers as themselves, other numbers by their float64 bits, strings by FNV-1a. */
function seedBits(seed: number | string, fromNode: boolean): bigint {
  let bits: bigint;
  let salt: bigint;
  if (typeof seed === 'string') {
    bits = 0xcbf29ce484222325n;
    for (let i = 0; i < seed.length; i++) bits = ((bits ^ BigInt(seed.charCodeAt(i))) * 0x100000001b3n) & MASK64;
    salt = SALT.string;
  } else if (Number.isSafeInteger(seed)) {
    bits = BigInt.asUintN(64, BigInt(seed));
    salt = fromNode ? SALT.node : SALT.integer;
  } else {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, seed);
    bits = view.getBigUint64(0);
    salt = SALT.float;
  }
  return mix64((bits + mix64(salt * GOLDEN64)) & MASK64);
}

/**
 * xoshiro128** (Blackman and Vigna): 128 bits of state, period 2^128 − 1, passes BigCrush; fast in JS because
 * every step is a handful of 32-bit operations.
 */
export class RandomStream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * The stream of run `counter` of a node seeded with `seed` (`fromNode`: the seed is the node's id, not a user
   * seed).
   */
  constructor(seed: number | string, fromNode: boolean, counter: number) {
    // A bijection of the counter for a fixed seed, then two splitmix64 steps for 128 bits of state.
    let state = mix64(seedBits(seed, fromNode) ^ mix64(BigInt(counter) + GOLDEN64));
    state = (state + GOLDEN64) & MASK64;
    const a = mix64(state);
    state = (state + GOLDEN64) & MASK64;
    const b = mix64(state);
    this.s0 = Number(a & 0xffffffffn) | 0;
    this.s1 = Number(a >> 32n) | 0;
    this.s2 = Number(b & 0xffffffffn) | 0;
    this.s3 = Number(b >> 32n) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one state xoshiro cannot leave
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) on a grid of 2^-24: every value is exact in float32. */
  nextFloat24(): number {
    return (this.nextUint32() >>> 8) * 5.960464477539063e-8;
  }

  /** Uniform in [0, 1) on a grid of 2^-53: every double of that grid is reachable. */
  nextFloat53(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) * 1.1102230246251565e-16;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const scratch32 = new Float32Array(1);
const scratchBits32 = new Int32Array(scratch32.buffer);
const scratch64 = new Float64Array(1);
const scratchBits64 = new BigInt64Array(scratch64.buffer);

/** The largest float32 below x (x finite). */
function float32Below(x: number): number {
  if (x === 0) return -1.401298464324817e-45;
  scratch32[0] = x;
  scratchBits32[0] += x > 0 ? -1 : 1;
  return scratch32[0];
}

/** The largest double below x (x finite). */
function float64Below(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  scratch64[0] = x;
  scratchBits64[0] += x > 0 ? -1n : 1n;
  return scratch64[0];
}

/**
 * Fills `out` uniformly from [minval, maxval): floats on the output type's grid (a value that would round up to
 * maxval becomes the largest value below it, so maxval is never returned), int32 as integers in [minval, maxval).
 */
export function fillUniform(stream: RandomStream, out: Buf, minval: number, maxval: number): void {
  const data = out.data;
  const n = data.length;
  if (data instanceof Float32Array) {
    const lo = Math.fround(minval);
    const hi = Math.fround(maxval);
    const range = hi - lo;
    const top = float32Below(hi);
    for (let i = 0; i < n; i++) {
      const v = Math.fround(lo + stream.nextFloat24() * range);
      data[i] = v < hi ? v : top;
    }
  } else if (data instanceof Float64Array) {
    const range = maxval - minval;
    const top = float64Below(maxval);
    for (let i = 0; i < n; i++) {
      const v = minval + stream.nextFloat53() * range;
      data[i] = v < maxval ? v : top;
    }
  } else if (data instanceof Int32Array) {
    // floor(u · range) with 53-bit u: the bias is range / 2^53, far below what any test could see.
    const range = maxval - minval;
    const last = maxval - 1;
    for (let i = 0; i < n; i++) data[i] = Math.min(minval + Math.floor(stream.nextFloat53() * range), last);
  } else {
    throw new Error('fillUniform: the output must be float32, float64 or int32');
  }
}

const TWO_PI = 2 * Math.PI;

/**
 * Fills `out` with mean + stdDev · z, z standard normal by Box–Muller from 53-bit uniforms. `truncated`: z is
 * redrawn until |z| < 2 (TensorFlow's truncated normal).
 */
export function fillNormal(stream: RandomStream, out: Buf, mean: number, stdDev: number, truncated: boolean): void {
  const data = out.data;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw new Error('fillNormal: the output must be float32 or float64');
  }
  const n = data.length;
  let i = 0;
  while (i < n) {
    const radius = Math.sqrt(-2 * Math.log(1 - stream.nextFloat53())); // 1 − u is in (0, 1]: no log(0)
    const angle = TWO_PI * stream.nextFloat53();
    const z0 = radius * Math.cos(angle);
    const z1 = radius * Math.sin(angle);
    if (!truncated || (z0 < 2 && z0 > -2)) data[i++] = mean + stdDev * z0;
    if (i < n && (!truncated || (z1 < 2 && z1 > -2))) data[i++] = mean + stdDev * z1;
  }
}
