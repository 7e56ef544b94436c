import { logSoftmax, softmax, type Buf } from '../../src/ops/kernels';
import {
  Rng,
  expectClose,
  expectExact,
  fromArray,
  rand,
  randShape,
  ravel,
  unravel,
  zeros,
  type DType,
} from './helpers';

/** Gathers each slice along `axis` by index arithmetic and applies the textbook stable formula. */
function refSoftmax(x: Buf, axis: number, log: boolean): Float64Array {
  const out = new Float64Array(x.data.length);
  const n = x.shape[axis];
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    if (idx[axis] !== 0) continue;
    const at = (j: number): number => {
      idx[axis] = j;
      return ravel(idx, x.shape);
    };
    const vals = Array.from({ length: n }, (_, j) => x.data[at(j)]);
    const m = Math.max(...vals);
    const s = vals.reduce((acc, v) => acc + Math.exp(v - m), 0);
    for (let j = 0; j < n; j++) out[at(j)] = log ? vals[j] - m - Math.log(s) : Math.exp(vals[j] - m) / s;
  }
  return out;
}

describe.each([
  ['softmax', softmax, false],
  ['logSoftmax', logSoftmax, true],
] as const)('%s', (_name, kernel, log) => {
  it('matches the reference along every axis of random shapes', () => {
    const rng = new Rng(log ? 50 : 51);
    for (let t = 0; t < 200; t++) {
      const shape = randShape(rng, 1, 4);
      const axis = rng.int(0, shape.length - 1);
      const dtype = rng.pick<DType>(['float32', 'float64']);
      const x = rand(rng, shape, dtype);
      for (let i = 0; i < x.data.length; i++) x.data[i] *= 5;
      const out = zeros(shape, dtype);
      kernel(x, axis, out);
      expectClose(out.data, refSoftmax(x, axis, log), dtype === 'float32' ? 2e-6 : 1e-12);
    }
  });

  it('stays finite on huge inputs', () => {
    const x = fromArray([1000, -1000, 999, 0, 1000, 1000, -1000, -1000], [4, 2]);
    for (const axis of [0, 1]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const xs = zeros(x.shape, dtype);
        xs.data.set(x.data);
        const out = zeros(x.shape, dtype);
        kernel(xs, axis, out);
        for (const v of out.data) expect(Number.isFinite(v)).toBe(true);
        expectClose(out.data, refSoftmax(xs, axis, log), 1e-6);
      }
    }
  });

  it('propagates NaN to its whole slice only, and ignores size-0 inputs', () => {
    const out = zeros([2, 3]);
    kernel(fromArray([1, NaN, 2, 3, 4, 5], [2, 3]), 1, out);
    expectExact(out.data.subarray(0, 3), [NaN, NaN, NaN]);
    expect(out.data.subarray(3).every(Number.isFinite)).toBe(true);
    kernel(fromArray([1, NaN, 2, 3, 4, 5], [2, 3]), 0, out);
    expectExact([out.data[1], out.data[4]], [NaN, NaN]);
    kernel(zeros([3, 0]), 1, zeros([3, 0]));
    kernel(zeros([0, 3]), 1, zeros([0, 3]));
    kernel(zeros([3, 0]), 0, zeros([3, 0]));
  });
});

describe('softmax', () => {
  it('rows sum to 1, for the last axis and a strided one', () => {
    const rng = new Rng(52);
    const x = rand(rng, [6, 50, 7], 'float32');
    for (let i = 0; i < x.data.length; i++) x.data[i] *= 30;
    for (const axis of [0, 1, 2]) {
      const out = zeros(x.shape, 'float32');
      softmax(x, axis, out);
      const sumShape = x.shape.map((n, d) => (d === axis ? 1 : n));
      const sums = zeros(sumShape, 'float64');
      for (let i = 0; i < out.data.length; i++) {
        const idx = unravel(i, x.shape);
        idx[axis] = 0;
        sums.data[ravel(idx, sums.shape)] += out.data[i];
      }
      expectClose(sums.data, new Array<number>(sums.data.length).fill(1), 1e-5);
    }
  });

  it('gives a one-hot for a dominant logit and uniform for equal ones', () => {
    const out = zeros([2, 3]);
    softmax(fromArray([1000, 0, -1000, 7, 7, 7], [2, 3]), 1, out);
    expectClose(out.data, [1, 0, 0, 1 / 3, 1 / 3, 1 / 3], 1e-15);
  });
});
