/**
 * The random kernels on their own: the counter-based stream (seed + run counter → xoshiro128** state), the
 * uniform fill's bounds on each dtype's grid, and Box–Muller's output. Distribution tests live in ops.test.ts.
 */
import { fillNormal, fillUniform, RandomStream } from '../../../src/ops/kernels';
import type { Buf } from '../../../src/ops/kernels';
import { correlation } from './stats';

function draws(stream: RandomStream, n: number): number[] {
  return Array.from({ length: n }, () => stream.nextUint32());
}

function buf(data: Float32Array | Float64Array | Int32Array, shape: readonly number[] = [data.length]): Buf {
  return { data, shape };
}

/** A stand-in stream that always returns the largest value of every grid, to reach the top of a range. */
const topStream = {
  nextUint32: () => 0xffffffff,
  nextFloat24: () => 1 - 2 ** -24,
  nextFloat53: () => 1 - 2 ** -53,
} as unknown as RandomStream;

describe('RandomStream', () => {
  test('the stream of a seed and counter is stable across versions (golden values)', () => {
    expect(draws(new RandomStream(42, false, 0), 4)).toEqual([2940745652, 1592580475, 1537513612, 3607378300]);
    expect(draws(new RandomStream(42, false, 1), 4)).toEqual([310771933, 3976126458, 1024873941, 3711434060]);
    expect(draws(new RandomStream('dropout', false, 0), 2)).toEqual([1813056499, 2686318781]);
  });

  test('the same seed and counter give the same numbers', () => {
    expect(draws(new RandomStream(7, false, 3), 100)).toEqual(draws(new RandomStream(7, false, 3), 100));
  });

  test('successive counters give unrelated streams', () => {
    const a = Float64Array.from(draws(new RandomStream(7, false, 0), 20000));
    const b = Float64Array.from(draws(new RandomStream(7, false, 1), 20000));
    expect(Math.abs(correlation(a, b))).toBeLessThan(0.03);
    expect(a.some((v, i) => v !== b[i])).toBe(true);
  });

  test('a user seed and a node-derived seed of the same number differ', () => {
    expect(draws(new RandomStream(5, false, 0), 4)).not.toEqual(draws(new RandomStream(5, true, 0), 4));
  });

  test('integer, fractional and string seeds each give their own stream', () => {
    const streams = [1, 1.5, '1', -1, 2 ** 40].map((seed) => draws(new RandomStream(seed, false, 0), 4).join());
    expect(new Set(streams).size).toBe(streams.length);
  });

  test('draws are 32-bit unsigned integers and floats lie in [0, 1)', () => {
    const stream = new RandomStream(3, false, 0);
    let bad = 0;
    for (let i = 0; i < 10000; i++) {
      const v = stream.nextUint32();
      const f = stream.nextFloat24();
      const d = stream.nextFloat53();
      if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 32)) bad++;
      if (!(f >= 0 && f < 1 && Math.fround(f) === f)) bad++;
      if (!(d >= 0 && d < 1)) bad++;
    }
    expect(bad).toBe(0);
  });
});

describe('fillUniform', () => {
  test('float32: a value that would round up to maxval becomes the largest float32 below it', () => {
    const out = new Float32Array(3);
    fillUniform(topStream, buf(out), 1, 2);
    expect(Array.from(out)).toEqual([2 - 2 ** -23, 2 - 2 ** -23, 2 - 2 ** -23]);
  });

  test('float64: a value that would round up to maxval becomes the largest double below it', () => {
    const out = new Float64Array(2);
    fillUniform(topStream, buf(out), 1, 2);
    expect(Array.from(out)).toEqual([2 - 2 ** -52, 2 - 2 ** -52]);
  });

  test('int32: the top of the grid gives maxval − 1, never maxval', () => {
    const out = new Int32Array(2);
    fillUniform(topStream, buf(out), -2147483648, 2147483648);
    expect(Array.from(out)).toEqual([2147483647, 2147483647]);
  });

  test('a size-0 output draws nothing and does not throw', () => {
    expect(() => fillUniform(new RandomStream(1, false, 0), buf(new Float32Array(0), [0, 3]), 0, 1)).not.toThrow();
    expect(() => fillNormal(new RandomStream(1, false, 0), buf(new Float64Array(0), [2, 0]), 0, 1, true)).not.toThrow();
  });

  test('a bool output is refused', () => {
    expect(() => fillUniform(new RandomStream(1, false, 0), { data: new Uint8Array(2), shape: [2] }, 0, 1)).toThrow(
      /float32, float64 or int32/,
    );
  });
});

describe('fillNormal', () => {
  test('an odd-sized output is filled completely (the last Box–Muller pair is cut in half)', () => {
    const out = new Float64Array(7).fill(NaN);
    fillNormal(new RandomStream(2, false, 0), buf(out), 0, 1, false);
    expect(out.every((v) => Number.isFinite(v))).toBe(true);
  });

  test('stdDev 0 gives the mean everywhere', () => {
    const out = new Float32Array(5);
    fillNormal(new RandomStream(2, false, 0), buf(out), 3, 0, true);
    expect(Array.from(out)).toEqual([3, 3, 3, 3, 3]);
  });

  test('an int32 output is refused', () => {
    expect(() => fillNormal(new RandomStream(1, false, 0), buf(new Int32Array(2)), 0, 1, false)).toThrow(
      /float32 or float64/,
    );
  });
});
