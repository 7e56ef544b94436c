import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, type ConvAttrs } from '../../src/ops/kernels/conv';
import type { Buf } from '../../src/ops/kernels';
import {
  avgPool,
  conv2d as conv2dOp,
  depthwiseConv2d,
  gradients,
  Graph,
  maxPool,
  NDArray,
  relu,
  Session,
  sum,
  Tensor,
} from '../../src';
import { bindWasmKernels } from '../../src/backend';
import { loadWasmKernels, WasmBufKernels } from '../../src/backend/wasm';
import { Rng, absF64, expectWithin, nodeStartWorker, outF32, randF32, sizeOf, toF64 } from './helpers';

const one = new WasmBufKernels(loadWasmKernels({ initialBytes: 32 << 20 }));
const twoKernels = loadWasmKernels({ initialBytes: 32 << 20, threads: 2, startWorker: nodeStartWorker });
const two = new WasmBufKernels(twoKernels);
afterAll(() => twoKernels.dispose());

interface Case {
  readonly x: number[];
  readonly filter: number[];
  readonly y: number[];
  readonly attrs: ConvAttrs;
}

/** The output size of one dim as the JS kernels compute it (tfjs's rules), or 0 when empty. */
function outDim(size: number, f: number, s: number, d: number, pad: string, before: number, after: number): number {
  const eff = (f - 1) * d + 1;
  if (pad === 'same') return Math.ceil(size / s);
  const [b, a] = pad === 'valid' ? [0, 0] : [before, after];
  return Math.max(Math.floor((size + b + a - eff) / s) + 1, 0);
}

/** A random depthwise conv over an NHWC shape: strides, dilations, 'same' / 'valid' / explicit pads, multipliers. */
function randomCase(rng: Rng, x: number[], multiplier: number): Case {
  for (;;) {
    // 3×3 often: with multiplier 1 it takes the kernel's register-blocked path (interior columns).
    const [fh, fw] = rng.next() < 0.4 ? [3, 3] : [rng.int(1, 5), rng.int(1, 5)];
    const strides = [rng.int(1, 3), rng.int(1, 3)];
    const dilations = rng.next() < 0.3 ? [rng.int(1, 3), rng.int(1, 3)] : [1, 1];
    const pad = rng.pick(['same', 'valid', 'explicit']);
    const pads = [rng.int(0, 3), rng.int(0, 3), rng.int(0, 3), rng.int(0, 3)];
    const oh = outDim(x[1], fh, strides[0], dilations[0], pad, pads[0], pads[1]);
    const ow = outDim(x[2], fw, strides[1], dilations[1], pad, pads[2], pads[3]);
    if (oh < 1 || ow < 1) continue;
    const c = x[3];
    const attrs: ConvAttrs = {
      strides,
      dilations,
      pad,
      ...(pad === 'explicit' ? { pads } : {}),
      dataFormat: 'NHWC',
      groups: c,
    };
    return { x, filter: [fh, fw, 1, c * multiplier], y: [x[0], oh, ow, c * multiplier], attrs };
  }
}

/**
 * The JS kernel's float64 result on the same float32 operands, and the bound a float32 sum of `terms` products may
 * stray from it: a few ulps of each term's magnitude (the same kernel over |operands|) per term.
 */
function checkAgainst(
  what: string,
  actual: Buf,
  run: (a: Buf, b: Buf, out: Buf) => void,
  a: Buf,
  b: Buf,
  terms: number,
): void {
  const shape = actual.shape;
  const exact: Buf = { data: new Float64Array(sizeOf(shape)), shape };
  run(toF64(a), toF64(b), exact);
  const mag: Buf = { data: new Float64Array(sizeOf(shape)), shape };
  run(absF64(a), absF64(b), mag);
  const eps = 2 ** -24;
  expectWithin(actual.data, exact.data, (i) => (terms + 2) * eps * mag.data[i] + 1e-37, what);
}

/** Each kernel in wasm against the JS kernel (float64 on the float32 operands), through `k`. */
function checkCase(k: WasmBufKernels, c: Case, rng: Rng, what: string): void {
  const x = randF32(rng, c.x);
  const f = randF32(rng, c.filter);
  const dy = randF32(rng, c.y);
  const taps = c.filter[0] * c.filter[1];
  const y = outF32(c.y);
  expect(k.depthwiseConv2d(x, f, y, c.attrs)).toBe(true);
  checkAgainst(`${what} conv2d`, y, (a, b, o) => conv2d(a, b, o, c.attrs), x, f, taps);
  const dx = outF32(c.x);
  expect(k.depthwiseConv2dBackpropInput(dy, f, dx, c.attrs)).toBe(true);
  const mult = c.filter[3] / c.x[3];
  checkAgainst(`${what} backpropInput`, dx, (a, b, o) => conv2dBackpropInput(a, b, o, c.attrs), dy, f, taps * mult);
  const df = outF32(c.filter);
  expect(k.depthwiseConv2dBackpropFilter(x, dy, df, c.attrs)).toBe(true);
  // Each output row's sum is float32 over outW terms, then added in float64.
  checkAgainst(`${what} backpropFilter`, df, (a, b, o) => conv2dBackpropFilter(a, b, o, c.attrs), x, dy, c.y[2]);
}

const SHAPES: [number[], number][] = [
  [[1, 5, 5, 1], 1],
  [[1, 7, 6, 3], 1],
  [[2, 6, 9, 4], 1],
  [[3, 8, 5, 5], 2],
  [[2, 9, 9, 8], 1],
  [[1, 6, 7, 13], 1],
  [[2, 11, 10, 16], 1],
  [[1, 6, 6, 3], 3],
  [[1, 5, 7, 2], 4],
  [[1, 4, 4, 64], 1],
];
// Large enough to split across the helper thread (by rows forward and for dx, by output channels for df).
const LARGE: [number[], number][] = [
  [[2, 40, 40, 13], 1],
  [[1, 64, 64, 9], 1],
  [[4, 30, 30, 6], 2],
];

function cases(seed: number, shapes: readonly [number[], number][], perShape: number): Case[] {
  const rng = new Rng(seed);
  const out: Case[] = [];
  for (const [shape, mult] of shapes) for (let k = 0; k < perShape; k++) out.push(randomCase(rng, shape, mult));
  const same3 = (x: number[], s: number): Case => ({
    x,
    filter: [3, 3, 1, x[3]],
    y: [x[0], Math.ceil(x[1] / s), Math.ceil(x[2] / s), x[3]],
    attrs: { strides: [s, s], dilations: [1, 1], pad: 'same', dataFormat: 'NHWC', groups: x[3] },
  });
  out.push(same3([2, 14, 14, 32], 1), same3([1, 15, 15, 24], 2));
  return out;
}

const label = (c: Case): string =>
  `${JSON.stringify(c.x)} filter ${JSON.stringify(c.filter)} ${JSON.stringify(c.attrs)}`;

describe('wasm depthwise conv2d kernels against the JS conv kernels (groups = in channels)', () => {
  test('many geometries: strides, dilations, padding modes, multipliers, odd channel counts, batch 1', () => {
    const rng = new Rng(11);
    for (const c of cases(3, SHAPES, 10)) checkCase(one, c, rng, label(c));
  });

  test('two threads give the same bits as one', () => {
    const rng = new Rng(12);
    for (const c of cases(4, LARGE, 3)) {
      const x = randF32(rng, c.x);
      const f = randF32(rng, c.filter);
      const dy = randF32(rng, c.y);
      const pairs: [string, (k: WasmBufKernels, out: Buf) => boolean, number[]][] = [
        ['conv2d', (k, o) => k.depthwiseConv2d(x, f, o, c.attrs), c.y],
        ['backpropInput', (k, o) => k.depthwiseConv2dBackpropInput(dy, f, o, c.attrs), c.x],
        ['backpropFilter', (k, o) => k.depthwiseConv2dBackpropFilter(x, dy, o, c.attrs), c.filter],
      ];
      for (const [name, run, shape] of pairs) {
        const a = outF32(shape);
        const b = outF32(shape);
        expect(run(one, a)).toBe(true);
        expect(run(two, b)).toBe(true);
        for (let i = 0; i < a.data.length; i++) {
          if (!Object.is(a.data[i], b.data[i])) {
            throw new Error(`${name} ${label(c)}: element ${i}: one thread ${a.data[i]}, two ${b.data[i]}`);
          }
        }
      }
      checkCase(two, c, rng, `two threads ${label(c)}`);
    }
  });

  test('decline every conv that is not depthwise NHWC (groups 1 with several channels, NCHW, grouped)', () => {
    const rng = new Rng(13);
    const x = randF32(rng, [1, 6, 6, 4]);
    const base = { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NHWC' };
    const out = outF32([1, 4, 4, 4]);
    expect(one.depthwiseConv2d(x, randF32(rng, [3, 3, 4, 4]), out, { ...base, groups: 1 })).toBe(false);
    expect(one.depthwiseConv2d(x, randF32(rng, [3, 3, 2, 4]), out, { ...base, groups: 2 })).toBe(false);
    const nchw = randF32(rng, [1, 4, 6, 6]);
    const nchwOut = outF32([1, 4, 4, 4]);
    expect(
      one.depthwiseConv2d(nchw, randF32(rng, [3, 3, 1, 4]), nchwOut, { ...base, dataFormat: 'NCHW', groups: 4 }),
    ).toBe(false);
    expect(out.data.every((v) => v === -12345)).toBe(true);
    // Through the binding table a grouped conv (neither the GEMM nor the depthwise kernels cover 1 < groups < in
    // channels) runs the JS kernel: the same values as calling it.
    const bound = bindWasmKernels(one);
    const f = randF32(rng, [3, 3, 2, 4]);
    const attrs = { ...base, groups: 2 };
    const a = outF32([1, 4, 4, 4]);
    const b = outF32([1, 4, 4, 4]);
    bound.get('conv2d')?.([x, f], a, attrs, undefined as never);
    conv2d(x, f, b, attrs);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('depthwise conv and pooling in a wasm session', () => {
  test('gradients of a depthwise + pool net equal the js backend (float32 tolerance), one and two threads', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 16, 16, 8]);
    const rng = new Rng(14);
    const w1 = g.variable('w1', new NDArray(randF32(rng, [3, 3, 8, 1]).data, [3, 3, 8, 1]));
    const w2 = g.variable('w2', new NDArray(randF32(rng, [3, 3, 8, 2]).data, [3, 3, 8, 2]));
    const w3 = g.variable('w3', new NDArray(randF32(rng, [1, 1, 16, 4]).data, [1, 1, 16, 4]));
    let h = relu(depthwiseConv2d(x, w1, 1, 'same'));
    h = maxPool(h, 2, 2, 'valid');
    h = relu(depthwiseConv2d(h, w2, 2, 'same', 'NHWC', 1));
    h = avgPool(conv2dOp(h, w3, 1, 'valid'), 3, 1, 'same');
    const loss = sum(h.mul(h));
    const grads = gradients(loss, [x, w1, w2, w3]) as Tensor[];
    const feeds = { x: new NDArray(randF32(rng, [3, 16, 16, 8]).data, [3, 16, 16, 8]) };
    const js = new Session(g, { backend: 'js' }).run([loss, ...grads], feeds);
    const names = ['depthwiseConv2d', 'depthwiseConv2dBackpropInput', 'depthwiseConv2dBackpropFilter'] as const;
    const spies = names.map((name) => jest.spyOn(WasmBufKernels.prototype, name));
    for (const threads of [1, 2] as const) {
      spies.forEach((spy) => spy.mockClear());
      const wasm = new Session(g, { backend: 'wasm', threads }).run([loss, ...grads], feeds);
      // The depthwise steps ran in wasm (two of each kind), the 1×1 conv (groups 1) declined to the JS kernel.
      for (const spy of spies) expect(spy.mock.results.filter((r) => r.value === true).length).toBe(2);
      js.forEach((r, k) => {
        let scale = 0;
        r.data.forEach((v) => (scale = Math.max(scale, Math.abs(v))));
        expectWithin(wasm[k].data, r.data, () => 2e-5 * scale, `threads ${threads} output ${k}`);
      });
    }
    spies.forEach((spy) => spy.mockRestore());
  });
});
