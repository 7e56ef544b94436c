import {
  avgPool,
  avgPoolGrad,
  maxPool,
  maxPoolGrad,
  maxPoolGradGrad,
  type Buf,
  type PoolWindow,
} from '../../src/ops/kernels';
import { avgPool as avgPoolOp, gradients, Graph, maxPool as maxPoolOp, NDArray, Session, sum, Tensor } from '../../src';
import { bindWasmKernels } from '../../src/backend';
import { loadWasmKernels, WasmBufKernels } from '../../src/backend/wasm';
import { Rng, nodeStartWorker, outF32, sizeOf } from './helpers';

const one = new WasmBufKernels(loadWasmKernels({ initialBytes: 32 << 20 }));
const twoKernels = loadWasmKernels({ initialBytes: 32 << 20, threads: 2, startWorker: nodeStartWorker });
const two = new WasmBufKernels(twoKernels);
afterAll(() => twoKernels.dispose());

interface Case {
  readonly shape: number[];
  readonly window: PoolWindow;
  readonly pooled: number[];
}

/** The pooled size of one dim under the record's rules, or 0 when the window is not valid there. */
function pooledDim(size: number, f: number, s: number, d: number, before: number, after: number): number {
  const span = (f - 1) * d + 1;
  if (before >= span || size + before + after < span) return 0;
  const out = Math.floor((size + before + after - span) / s) + 1;
  return (out - 1) * s - before >= size ? 0 : out;
}

/** A random valid window over a random NHWC shape: strides, dilations, asymmetric (ceil-mode-like) padding. */
function randomCase(rng: Rng, shape: number[]): Case {
  for (;;) {
    const filterSize = [rng.int(1, 4), rng.int(1, 4)];
    const strides = [rng.int(1, 3), rng.int(1, 3)];
    const dilations = rng.next() < 0.3 ? [rng.int(1, 3), rng.int(1, 3)] : undefined;
    const pads = [rng.int(0, 2), rng.int(0, 3), rng.int(0, 2), rng.int(0, 3)];
    const d = dilations ?? [1, 1];
    const rows = pooledDim(shape[1], filterSize[0], strides[0], d[0], pads[0], pads[1]);
    const cols = pooledDim(shape[2], filterSize[1], strides[1], d[1], pads[2], pads[3]);
    if (rows > 0 && cols > 0) {
      const window = { filterSize, strides, pads, ...(dilations === undefined ? {} : { dilations }) };
      return { shape, window, pooled: [shape[0], rows, cols, shape[3]] };
    }
  }
}

/** Values from a small set, so windows hold ties (±0 among them), plus NaN and −∞ here and there. */
function tiedF32(rng: Rng, shape: readonly number[], specials: boolean): Buf {
  const data = new Float32Array(sizeOf(shape));
  const values = [-2, -1, -0, 0, 0.5, 1, 1.5, 3];
  for (let i = 0; i < data.length; i++) {
    const u = rng.next();
    if (specials && u < 0.01) data[i] = NaN;
    else if (specials && u < 0.02) data[i] = -Infinity;
    else data[i] = rng.next() < 0.5 ? rng.pick(values) : rng.normal();
  }
  return { data, shape: [...shape] };
}

function expectBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, the JS kernel gives ${expected[i]}`);
    }
  }
}

const SHAPES = [
  [1, 5, 5, 1],
  [1, 7, 6, 3],
  [2, 6, 9, 4],
  [3, 8, 5, 5],
  [2, 9, 9, 8],
  [1, 6, 7, 13],
  [2, 11, 10, 16],
  [1, 4, 4, 64],
];
// Large enough to split across the helper thread (32k elements): the gradients by batches, or by channels (n = 1).
const LARGE = [
  [2, 40, 40, 13],
  [4, 48, 48, 3],
  [1, 64, 64, 9],
  [1, 120, 100, 1],
];

function cases(seed: number, shapes: readonly number[][], perShape: number): Case[] {
  const rng = new Rng(seed);
  const out: Case[] = [];
  for (const shape of shapes) for (let k = 0; k < perShape; k++) out.push(randomCase(rng, shape));
  // Fixed ones: 2×2 stride 2, 3×3 stride 1 'same'-like padding, a ceil-mode window hanging over the edge.
  out.push({
    shape: [2, 8, 8, 6],
    window: { filterSize: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] },
    pooled: [2, 4, 4, 6],
  });
  out.push({
    shape: [1, 7, 7, 5],
    window: { filterSize: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] },
    pooled: [1, 7, 7, 5],
  });
  out.push({
    shape: [1, 7, 7, 5],
    window: { filterSize: [2, 2], strides: [2, 2], pads: [0, 1, 0, 1] },
    pooled: [1, 4, 4, 5],
  });
  return out;
}

type Kernels = WasmBufKernels;

/** Runs every pooling kernel in wasm and in JS on one case and checks them bit for bit. */
function checkCase(k: Kernels, c: Case, rng: Rng, what: string): void {
  const x = tiedF32(rng, c.shape, true);
  const dy = tiedF32(rng, c.pooled, false);
  const g = tiedF32(rng, c.shape, false);
  for (const countPadding of [false, true]) {
    const w = outF32(c.pooled);
    const j = outF32(c.pooled);
    expect(k.avgPool(x, c.window, countPadding, w)).toBe(true);
    avgPool(x, c.window, countPadding, j);
    expectBits(w.data as Float32Array, j.data as Float32Array, `${what} avgPool countPadding ${countPadding}`);
    const wg = outF32(c.shape);
    const jg = outF32(c.shape);
    expect(k.avgPoolGrad(dy, c.window, countPadding, wg)).toBe(true);
    avgPoolGrad(dy, c.window, countPadding, jg);
    expectBits(wg.data as Float32Array, jg.data as Float32Array, `${what} avgPoolGrad countPadding ${countPadding}`);
  }
  const w = outF32(c.pooled);
  const j = outF32(c.pooled);
  expect(k.maxPool(x, c.window, w)).toBe(true);
  maxPool(x, c.window, j);
  expectBits(w.data as Float32Array, j.data as Float32Array, `${what} maxPool`);
  const wg = outF32(c.shape);
  const jg = outF32(c.shape);
  expect(k.maxPoolGrad(x, dy, c.window, wg)).toBe(true);
  maxPoolGrad(x, dy, c.window, jg);
  expectBits(wg.data as Float32Array, jg.data as Float32Array, `${what} maxPoolGrad`);
  const wgg = outF32(c.pooled);
  const jgg = outF32(c.pooled);
  expect(k.maxPoolGradGrad(x, g, c.window, wgg)).toBe(true);
  maxPoolGradGrad(x, g, c.window, jgg);
  expectBits(wgg.data as Float32Array, jgg.data as Float32Array, `${what} maxPoolGradGrad`);
}

const label = (c: Case): string => `${JSON.stringify(c.shape)} ${JSON.stringify(c.window)}`;

describe('wasm pooling kernels equal the JS kernels bit for bit', () => {
  test('many geometries: strides, dilations, asymmetric padding, odd channel counts, batch 1, one thread', () => {
    const rng = new Rng(7);
    for (const c of cases(1, SHAPES, 12)) checkCase(one, c, rng, label(c));
  });

  test('two threads (split by rows forward, by channels or batches for the gradients)', () => {
    const rng = new Rng(8);
    for (const c of cases(2, LARGE, 3)) {
      checkCase(two, c, rng, `two threads ${label(c)}`);
      checkCase(one, c, rng, `one thread ${label(c)}`);
    }
  });

  test('ties go to the first maximum; NaN wins; a window of −∞ gives −∞', () => {
    const window = { filterSize: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] };
    // Four channels of 2×2 windows: ties of 1, NaN after a number, −∞ everywhere, −0 then +0.
    const pixels = [
      [1, 2, NaN, -Infinity, -0, 0],
      [1, 2, 5, -Infinity, 0, -0],
      [1, 1, 5, -Infinity, 0, -0],
      [0, 2, NaN, -Infinity, -0, 0],
    ];
    const x: Buf = { data: Float32Array.from(pixels.flat()), shape: [1, 2, 2, 6] };
    const dy: Buf = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [1, 1, 1, 6] };
    const out = outF32([1, 1, 1, 6]);
    expect(one.maxPool(x, window, out)).toBe(true);
    expect(Array.from(out.data)).toEqual([1, 2, NaN, -Infinity, -0, 0]);
    const dx = outF32([1, 2, 2, 6]);
    expect(one.maxPoolGrad(x, dy, window, dx)).toBe(true);
    const jdx = outF32([1, 2, 2, 6]);
    maxPoolGrad(x, dy, window, jdx);
    expect(Array.from(dx.data)).toEqual(Array.from(jdx.data));
    expect(Array.from(dx.data.subarray(0, 6))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('decline (false, nothing written) when the shapes do not fit the window; the guard runs the JS kernel', () => {
    const window = { filterSize: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] };
    const x: Buf = { data: new Float32Array(64).map((_, i) => Math.sin(i)), shape: [1, 4, 4, 4] };
    const wrong = outF32([1, 3, 2, 4]);
    expect(one.maxPool(x, window, wrong)).toBe(false);
    expect(wrong.data.every((v) => v === -12345)).toBe(true);
    expect(one.avgPool({ data: x.data, shape: [4, 4, 4] }, window, false, wrong)).toBe(false);
    // Through the binding table: the same answer as the JS kernel, whichever runs.
    const bound = bindWasmKernels(one);
    for (const shape of [
      [1, 4, 4, 4],
      [2, 16, 16, 8],
    ]) {
      const xs: Buf = { data: new Float32Array(sizeOf(shape)).map((_, i) => Math.cos(i)), shape };
      const pooled = [shape[0], shape[1] / 2, shape[2] / 2, shape[3]];
      const a = outF32(pooled);
      const b = outF32(pooled);
      bound.get('maxPool')?.([xs], a, window, undefined as never);
      maxPool(xs, window, b);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
    }
  });
});

describe('pooling in a wasm session', () => {
  test('a maxPool + avgPool net: values and gradients equal the js backend bit for bit, one and two threads', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 12, 12, 6]);
    const m = maxPoolOp(x, 3, 2, 'same');
    const a = avgPoolOp(m.mul(m), [2, 2], 1, 'valid');
    const loss = sum(a.mul(x.slice([0, 0, 0, 0], [-1, 5, 5, -1])));
    const [dx] = gradients(loss, [x]) as Tensor[];
    const rng = new Rng(9);
    const data = tiedF32(rng, [3, 12, 12, 6], false).data;
    const feeds = { x: new NDArray(data, [3, 12, 12, 6]) };
    const js = new Session(g, { backend: 'js' }).run([a, dx], feeds);
    const spies = (['maxPool', 'maxPoolGrad', 'avgPool', 'avgPoolGrad'] as const).map((name) =>
      jest.spyOn(WasmBufKernels.prototype, name),
    );
    for (const threads of [1, 2] as const) {
      spies.forEach((spy) => spy.mockClear());
      const wasm = new Session(g, { backend: 'wasm', threads }).run([a, dx], feeds);
      // Each pooling step ran its wasm kernel, which did not decline.
      for (const spy of spies) expect(spy.mock.results.map((r) => r.value)).toEqual([true]);
      js.forEach((r, k) => expectBits(wasm[k].data as Float32Array, r.data as Float32Array, `threads ${threads}`));
    }
    spies.forEach((spy) => spy.mockRestore());
  });
});
