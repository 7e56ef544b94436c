import {
  add,
  conv2d as conv2dBuilder,
  gradients,
  Graph,
  NDArray,
  relu,
  Session,
  sum,
  tanh,
  type Tensor,
} from '../../src';
import type { FusedActivation as Activation } from '../../src/ops';
import { bindWasmKernels } from '../../src/backend';
import { loadWasmKernels, WasmBufKernels, WasmKernels, type WasmConvGeometry } from '../../src/backend/wasm';
import type { Buf } from '../../src/ops/kernels';
import {
  axisGeometry,
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  type ConvAttrs,
} from '../../src/ops/kernels/conv';
import { Rng, absF64, expectWithin, nodeStartWorker, outF32, randF32, sizeOf, toF64 } from './helpers';

const one = loadWasmKernels({ initialBytes: 64 << 20 });
const two = loadWasmKernels({ initialBytes: 64 << 20, threads: 2, startWorker: nodeStartWorker });
const kernels = new WasmBufKernels(one);

afterAll(() => two.dispose());

const ACT: Record<Activation, (x: number) => number> = {
  none: (x) => x,
  relu: (x) => Math.max(x, 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
};

interface Case {
  x: [number, number, number, number]; // n, h, w, inC
  f: [number, number, number]; // fh, fw, outC
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid' | number[];
}

const attrsOf = (c: Case): ConvAttrs =>
  Array.isArray(c.pad)
    ? { strides: c.strides, dilations: c.dilations, pad: 'explicit', pads: c.pad, dataFormat: 'NHWC' }
    : { strides: c.strides, dilations: c.dilations, pad: c.pad, dataFormat: 'NHWC' };

function shapes(c: Case): { x: number[]; f: number[]; y: number[]; g: WasmConvGeometry } {
  const [n, h, w, inC] = c.x;
  const [fh, fw, outC] = c.f;
  const a = attrsOf(c);
  const pads = a.pads ?? [0, 0, 0, 0];
  const rows = axisGeometry(h, fh, c.strides[0], c.dilations[0], a.pad, pads[0], pads[1]);
  const cols = axisGeometry(w, fw, c.strides[1], c.dilations[1], a.pad, pads[2], pads[3]);
  const g: WasmConvGeometry = {
    n,
    inH: h,
    inW: w,
    inC,
    outH: rows.out,
    outW: cols.out,
    outC,
    fh,
    fw,
    sh: c.strides[0],
    sw: c.strides[1],
    dh: c.dilations[0],
    dw: c.dilations[1],
    top: rows.before,
    left: cols.before,
  };
  return { x: [n, h, w, inC], f: [fh, fw, inC, outC], y: [n, rows.out, cols.out, outC], g };
}

const name = (c: Case): string =>
  `x ${c.x} f ${c.f} s ${c.strides} d ${c.dilations} pad ${Array.isArray(c.pad) ? `[${c.pad}]` : c.pad}`;

// Strides, dilations, every padding kind, odd sizes, batch 1, channels not multiples of 4 or 8, and sizes past the
// tiles (MR 6, NR 8, MC 120 rows, KC 256 of depth, NC 512 columns) and the conv's one-block depth (CONV_KC_MAX).
const CASES: Case[] = [
  { x: [2, 7, 9, 3], f: [3, 3, 5], strides: [1, 1], dilations: [1, 1], pad: 'same' },
  { x: [1, 8, 8, 4], f: [3, 3, 8], strides: [1, 1], dilations: [1, 1], pad: 'valid' },
  { x: [3, 11, 6, 5], f: [2, 3, 7], strides: [2, 1], dilations: [1, 1], pad: 'same' },
  { x: [2, 13, 12, 6], f: [3, 3, 9], strides: [2, 2], dilations: [1, 1], pad: 'valid' },
  { x: [1, 10, 11, 7], f: [3, 2, 13], strides: [1, 1], dilations: [2, 3], pad: 'same' },
  { x: [2, 9, 10, 3], f: [3, 3, 4], strides: [1, 2], dilations: [2, 1], pad: [1, 2, 0, 3] },
  { x: [1, 6, 7, 2], f: [2, 2, 3], strides: [1, 1], dilations: [1, 1], pad: [3, 0, 2, 4] }, // padding > filter
  { x: [1, 5, 5, 1], f: [5, 5, 1], strides: [1, 1], dilations: [1, 1], pad: 'valid' }, // one output pixel
  { x: [1, 4, 4, 3], f: [1, 1, 5], strides: [1, 1], dilations: [1, 1], pad: 'same' }, // 1×1: a matMul
  { x: [2, 9, 9, 5], f: [1, 1, 6], strides: [2, 2], dilations: [1, 1], pad: 'valid' }, // 1×1 strided
  { x: [1, 5, 6, 4], f: [1, 1, 3], strides: [1, 1], dilations: [1, 1], pad: [1, 0, 0, 1] }, // 1×1 padded
  { x: [2, 14, 13, 33], f: [3, 3, 21], strides: [1, 1], dilations: [1, 1], pad: 'same' }, // K = 297 > KC
  { x: [1, 9, 9, 70], f: [3, 3, 17], strides: [1, 1], dilations: [1, 1], pad: 'same' }, // K = 630, runs of 70
  { x: [1, 6, 6, 3], f: [3, 3, 530], strides: [1, 1], dilations: [1, 1], pad: 'same' }, // N > NC
  { x: [1, 4, 5, 130], f: [3, 3, 9], strides: [1, 1], dilations: [1, 1], pad: 'same' }, // K 1170 > CONV_KC_MAX
  { x: [1, 3, 3, 40], f: [3, 3, 520], strides: [1, 1], dilations: [1, 1], pad: 'same' }, // K·N past the B buffer
  { x: [2, 20, 17, 8], f: [5, 5, 16], strides: [3, 2], dilations: [1, 1], pad: 'same' },
  { x: [1, 7, 5, 9], f: [7, 5, 2], strides: [1, 1], dilations: [1, 1], pad: 'same' },
  { x: [4, 16, 16, 16], f: [3, 3, 24], strides: [1, 1], dilations: [1, 1], pad: 'same' }, // 1024 rows > MC
  { x: [2, 12, 12, 12], f: [4, 4, 10], strides: [2, 2], dilations: [1, 1], pad: 'same' }, // even filter, 'same'
];

type Which = 'forward' | 'input' | 'filter';

/** The exact float64 result and the float32 error bound (K + 2)·2⁻²⁴·Σ|a||b| of each element, from the JS kernel. */
function reference(which: Which, a: Buf, b: Buf, outShape: number[], attrs: ConvAttrs): [Float64Array, Float64Array] {
  const kernel = which === 'forward' ? conv2d : which === 'input' ? conv2dBackpropInput : conv2dBackpropFilter;
  const exact: Buf = { data: new Float64Array(sizeOf(outShape)), shape: outShape };
  const magnitude: Buf = { data: new Float64Array(sizeOf(outShape)), shape: outShape };
  kernel(toF64(a), toF64(b), exact, attrs);
  kernel(absF64(a), absF64(b), magnitude, attrs);
  return [exact.data as Float64Array, magnitude.data as Float64Array];
}

/** The operands of one kernel: forward (x, f), input gradient (dy, f), filter gradient (x, dy). */
function operands(rng: Rng, which: Which, c: Case): { a: Buf; b: Buf; out: number[]; terms: number } {
  const s = shapes(c);
  const [fh, fw, inC, outC] = s.f;
  const P = sizeOf(s.y) / outC;
  if (which === 'forward') return { a: randF32(rng, s.x), b: randF32(rng, s.f), out: s.y, terms: fh * fw * inC };
  if (which === 'input') return { a: randF32(rng, s.y), b: randF32(rng, s.f), out: s.x, terms: fh * fw * outC };
  return { a: randF32(rng, s.x), b: randF32(rng, s.y), out: s.f, terms: P };
}

/** Copies Bufs into the arena of `k`; runs `body` with their offsets; returns the output. */
function onArena(k: WasmKernels, inputs: Buf[], outSize: number, body: (offsets: number[], out: number) => void) {
  const mark = k.arena.mark();
  try {
    const offsets = inputs.map((b) => {
      const at = k.arena.alloc(b.data.length * 4);
      k.arena.f32(at, b.data.length).set(b.data);
      return at;
    });
    const out = k.arena.alloc(outSize * 4);
    k.arena.f32(out, outSize).fill(-12345);
    body(offsets, out);
    return Float32Array.from(k.arena.f32(out, outSize));
  } finally {
    k.arena.release(mark);
  }
}

function runRaw(k: WasmKernels, which: Which | 'col2im', c: Case, a: Buf, b: Buf, outSize: number): Float32Array {
  const { g } = shapes(c);
  return onArena(k, [a, b], outSize, ([aa, bb], out) => {
    if (which === 'forward') k.conv2d(aa, bb, out, g);
    else if (which === 'input') k.conv2dBackpropInput(aa, bb, out, g);
    else if (which === 'col2im') k.conv2dBackpropInput(aa, bb, out, g, 'col2im');
    else k.conv2dBackpropFilter(aa, bb, out, g);
  });
}

describe('conv kernels against the JS kernels (float64 reference, float32 worst-case bound)', () => {
  const rng = new Rng(160);
  for (const c of CASES) {
    test(name(c), () => {
      const attrs = attrsOf(c);
      for (const which of ['forward', 'input', 'filter'] as const) {
        const { a, b, out, terms } = operands(rng, which, c);
        const [exact, magnitude] = reference(which, a, b, out, attrs);
        const bound = (i: number): number => (terms + 2) * 2 ** -24 * magnitude[i] + 1e-37;
        // Through the Buf kernels, as a session calls them.
        const o = outF32(out);
        const ran =
          which === 'forward'
            ? kernels.conv2d(a, b, o, attrs)
            : which === 'input'
              ? kernels.conv2dBackpropInput(a, b, o, attrs)
              : kernels.conv2dBackpropFilter(a, b, o, attrs);
        expect(ran).toBe(true);
        expectWithin(o.data, exact, bound, `${which} ${name(c)}`);
        if (which === 'input') {
          const col2im = runRaw(one, 'col2im', c, a, b, sizeOf(out));
          expectWithin(col2im, exact, bound, `col2im ${name(c)}`);
        }
      }
    });
  }

  test('forward with bias and each activation (the matMul epilogue)', () => {
    for (const c of [CASES[0], CASES[8], CASES[12], CASES[13]]) {
      const attrs = attrsOf(c);
      const { a, b, out, terms } = operands(rng, 'forward', c);
      const outC = out[3];
      const bias = randF32(rng, [outC]);
      const [exact, magnitude] = reference('forward', a, b, out, attrs);
      for (const act of ['none', 'relu', 'sigmoid', 'tanh'] as const) {
        const o = outF32(out);
        expect(kernels.conv2d(a, b, o, attrs, bias, act)).toBe(true);
        const expected = exact.map((v, i) => ACT[act](v + bias.data[i % outC]));
        const bound = (i: number): number =>
          (terms + 2) * 2 ** -24 * (magnitude[i] + Math.abs(bias.data[i % outC])) +
          4 * 2 ** -24 * Math.abs(expected[i]) +
          1e-37;
        expectWithin(o.data, expected, bound, `${act} ${name(c)}`);
      }
    }
  });

  test('NCHW, groups > 1 and mismatched shapes decline (the JS kernel runs), having written nothing', () => {
    const x = randF32(rng, [1, 4, 6, 6]);
    const f = randF32(rng, [3, 3, 4, 2]);
    const o = outF32([1, 2, 6, 6]);
    const nchw: ConvAttrs = { strides: [1, 1], dilations: [1, 1], pad: 'same', dataFormat: 'NCHW' };
    expect(kernels.conv2d(x, f, o, nchw)).toBe(false);
    const grouped: ConvAttrs = { strides: [1, 1], dilations: [1, 1], pad: 'same', dataFormat: 'NHWC', groups: 2 };
    const xg = randF32(rng, [1, 6, 6, 4]);
    const fg = randF32(rng, [3, 3, 2, 4]);
    const og = outF32([1, 6, 6, 4]);
    expect(kernels.conv2d(xg, fg, og, grouped)).toBe(false);
    expect(kernels.conv2dBackpropInput(og, fg, outF32([1, 6, 6, 4]), grouped)).toBe(false);
    expect(kernels.conv2dBackpropFilter(xg, og, outF32([3, 3, 2, 4]), grouped)).toBe(false);
    const nhwc: ConvAttrs = { ...nchw, dataFormat: 'NHWC' };
    expect(kernels.conv2d(xg, randF32(rng, [3, 3, 4, 2]), outF32([1, 5, 6, 2]), nhwc)).toBe(false);
    expect(og.data.every((v) => v === -12345) && o.data.every((v) => v === -12345)).toBe(true);
  });

  test('the binding table runs them, NCHW too (the NHWC kernels between transposes)', () => {
    const bound = bindWasmKernels(kernels);
    const c = CASES[2];
    const attrs = attrsOf(c);
    const { a, b, out } = operands(rng, 'forward', c);
    const spy = jest.spyOn(kernels.wasm, 'conv2d');
    try {
      const o = outF32(out);
      bound.get('conv2d')?.([a, b], o, attrs as never, undefined as never);
      expect(spy).toHaveBeenCalledTimes(1);
      const [exact] = reference('forward', a, b, out, attrs);
      expectWithin(o.data, exact, () => 1e-4, 'bound conv2d');
    } finally {
      spy.mockRestore();
    }
  });

  test('NCHW through the binding table: every conv op (one group, depthwise, fused) equals its JS kernel', () => {
    const bound = bindWasmKernels(kernels);
    const close = (got: Buf, want: Buf, what: string): void => {
      const scale = Math.max(1, ...Array.from(want.data, Math.abs));
      want.data.forEach((v, i) => {
        if (Math.abs(got.data[i] - v) > 1e-5 * scale) throw new Error(`${what}: [${i}] ${got.data[i]} vs ${v}`);
      });
    };
    const wasmCalls = (['conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter'] as const).map((m) =>
      jest.spyOn(kernels.wasm, m),
    );
    const depthwise = jest.spyOn(kernels.wasm, 'depthwiseConv2d');
    try {
      // [n, c, h, w] = [2, 3, 7, 6], filter 3×3×3×4, strides 2×1, explicit pads; then depthwise (groups = 3).
      const base = { strides: [2, 1], dilations: [1, 1], pad: 'explicit', pads: [1, 0, 1, 1], dataFormat: 'NCHW' };
      const x = randF32(rng, [2, 3, 7, 6]);
      const f = randF32(rng, [3, 3, 3, 4]);
      const yShape = [2, 4, 3, 6];
      const y = outF32(yShape);
      const yJs = outF32(yShape);
      bound.get('conv2d')?.([x, f], y, base as never, undefined as never);
      conv2d(x, f, yJs, base as ConvAttrs);
      close(y, yJs, 'conv2d NCHW');
      const dy = randF32(rng, yShape);
      const dx = outF32([2, 3, 7, 6]);
      const dxJs = outF32([2, 3, 7, 6]);
      bound.get('conv2dBackpropInput')?.([dy, f], dx, base as never, undefined as never);
      conv2dBackpropInput(dy, f, dxJs, base as ConvAttrs);
      close(dx, dxJs, 'conv2dBackpropInput NCHW');
      const df = outF32([3, 3, 3, 4]);
      const dfJs = outF32([3, 3, 3, 4]);
      bound.get('conv2dBackpropFilter')?.([x, dy], df, base as never, undefined as never);
      conv2dBackpropFilter(x, dy, dfJs, base as ConvAttrs);
      close(df, dfJs, 'conv2dBackpropFilter NCHW');
      expect(wasmCalls.map((s) => s.mock.calls.length)).toEqual([1, 1, 1]);
      // fusedConv2d: bias [1, C, 1, 1] and relu.
      const bias = randF32(rng, [1, 4, 1, 1]);
      const fy = outF32(yShape);
      bound.get('fusedConv2d')?.([x, f, bias], fy, { ...base, activation: 'relu' } as never, undefined as never);
      const fyJs = Float32Array.from(yJs.data, (v, i) => Math.max(0, v + bias.data[Math.floor(i / 18) % 4]));
      close(fy, { data: fyJs, shape: yShape }, 'fusedConv2d NCHW');
      expect(wasmCalls[0].mock.calls.length).toBe(2);
      // depthwise, groups = channels
      const dwAttrs = { ...base, groups: 3 };
      const dwf = randF32(rng, [3, 3, 1, 6]);
      const dwy = outF32([2, 6, 3, 6]);
      const dwyJs = outF32([2, 6, 3, 6]);
      bound.get('conv2d')?.([x, dwf], dwy, dwAttrs as never, undefined as never);
      conv2d(x, dwf, dwyJs, dwAttrs as ConvAttrs);
      close(dwy, dwyJs, 'depthwise conv2d NCHW');
      expect(depthwise).toHaveBeenCalledTimes(1);
      // a depthwise fusedConv2d: the depthwise kernel, then the bias and activation
      const dwBias = randF32(rng, [6, 1, 1]);
      const dwfy = outF32([2, 6, 3, 6]);
      bound.get('fusedConv2d')?.(
        [x, dwf, dwBias],
        dwfy,
        { ...dwAttrs, activation: 'tanh' } as never,
        undefined as never,
      );
      const dwfyJs = Float32Array.from(dwyJs.data, (v, i) => Math.tanh(v + dwBias.data[Math.floor(i / 18) % 6]));
      close(dwfy, { data: dwfyJs, shape: [2, 6, 3, 6] }, 'depthwise fusedConv2d NCHW');
      expect(depthwise).toHaveBeenCalledTimes(2);
    } finally {
      [...wasmCalls, depthwise].forEach((s) => s.mockRestore());
    }
  });
});

describe('two threads: bit-identical to one', () => {
  const rng = new Rng(161);
  // Each above the 2 MFLOP split threshold; col2im splits images (n >= 2) or channels (n = 1).
  const big: Case[] = [
    { x: [2, 19, 17, 13], f: [3, 3, 20], strides: [1, 1], dilations: [1, 1], pad: 'same' },
    { x: [1, 40, 38, 16], f: [3, 3, 24], strides: [2, 2], dilations: [1, 1], pad: 'same' },
    { x: [3, 21, 22, 9], f: [3, 2, 33], strides: [1, 2], dilations: [2, 1], pad: [2, 1, 0, 1] },
    { x: [1, 48, 48, 16], f: [1, 1, 40], strides: [1, 1], dilations: [1, 1], pad: 'valid' },
  ];
  const helper = (two as unknown as { helper: { start: (name: string, args: number[]) => void } }).helper;
  for (const c of big) {
    test(name(c), () => {
      expect(two.threads).toBe(2);
      for (const which of ['forward', 'input', 'col2im', 'filter'] as const) {
        const { a, b, out } = operands(rng, which === 'col2im' ? 'input' : which, c);
        const o1 = runRaw(one, which, c, a, b, sizeOf(out));
        const start = jest.spyOn(helper, 'start');
        let o2: Float32Array;
        try {
          o2 = runRaw(two, which, c, a, b, sizeOf(out));
          expect(start).toHaveBeenCalledTimes(1); // the helper ran half of it
        } finally {
          start.mockRestore();
        }
        for (let i = 0; i < o1.length; i++) {
          if (!Object.is(o1[i], o2[i])) throw new Error(`${which} element ${i}: ${o1[i]} vs ${o2[i]}`);
        }
        expect(o1.some((v) => v === -12345)).toBe(false);
      }
    });
  }
});

test('the kernels allocate nothing and never grow the memory (their scratch is fixed at load time)', () => {
  const rng = new Rng(162);
  const c: Case = { x: [2, 40, 40, 32], f: [5, 5, 48], strides: [2, 2], dilations: [1, 1], pad: 'same' };
  const { g } = shapes(c);
  for (const k of [one, two]) {
    const mark = k.arena.mark();
    const x = k.arena.alloc(sizeOf(shapes(c).x) * 4);
    const f = k.arena.alloc(sizeOf(shapes(c).f) * 4);
    const y = k.arena.alloc(2 * 40 * 40 * 48 * 4); // dy of the stride-1 variant below too
    k.arena.f32(x, sizeOf(shapes(c).x)).set(randF32(rng, shapes(c).x).data);
    k.arena.f32(f, sizeOf(shapes(c).f)).set(randF32(rng, shapes(c).f).data);
    const buffer = k.arena.memory.buffer;
    const alloc = jest.spyOn(k.arena, 'alloc');
    const ensure = jest.spyOn(k.arena, 'ensure');
    try {
      k.conv2d(x, f, y, g);
      k.conv2dBackpropInput(y, f, x, g);
      k.conv2dBackpropInput(y, f, x, { ...g, sh: 1, sw: 1, outH: 40, outW: 40, top: 2, left: 2 });
      k.conv2dBackpropFilter(x, y, f, g);
      expect(alloc).not.toHaveBeenCalled();
      expect(ensure).not.toHaveBeenCalled();
      expect(k.arena.memory.buffer).toBe(buffer);
    } finally {
      alloc.mockRestore();
      ensure.mockRestore();
      k.arena.release(mark);
    }
  }
});

describe('in sessions', () => {
  function convNet(): { g: Graph; loss: Tensor; grads: Tensor[]; x: NDArray } {
    const g = new Graph();
    const xs = g.placeholder('x', [null, 12, 11, 3]);
    const values = (n: number, seed: number): Float32Array =>
      Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(seed * 13.7 + i * 0.91));
    const w1 = g.variable('w1', new NDArray(values(3 * 3 * 3 * 8, 1), [3, 3, 3, 8]));
    const w2 = g.variable('w2', new NDArray(values(3 * 3 * 8 * 6, 2), [3, 3, 8, 6]));
    const w3 = g.variable('w3', new NDArray(values(1 * 1 * 6 * 5, 3), [1, 1, 6, 5]));
    const h1 = relu(conv2dBuilder(xs, w1, 1, 'same'));
    const h2 = tanh(conv2dBuilder(h1, w2, 2, 'valid', 'NHWC', 1));
    const h3 = conv2dBuilder(h2, w3, 1, 'same');
    const loss = sum(h3.mul(h3));
    const grads = gradients(loss, [w1, w2, w3, xs]) as Tensor[];
    const x = new NDArray(values(2 * 12 * 11 * 3, 4), [2, 12, 11, 3]);
    return { g, loss, grads, x };
  }

  test('a conv net and its gradients: wasm (1 and 2 threads) equals the js backend', () => {
    const { g, loss, grads, x } = convNet();
    const feeds = { x };
    const js = new Session(g, { backend: 'js' }).run([loss, ...grads], feeds);
    const spies = (['conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter'] as const).map((m) =>
      jest.spyOn(WasmKernels.prototype, m),
    );
    let wasm: NDArray[];
    try {
      wasm = new Session(g, { backend: 'wasm' }).run([loss, ...grads], feeds);
      // Every conv op of the net and of its gradient ran in wasm (three convs, their dx and dW: x is a target).
      expect(spies.map((s) => s.mock.calls.length)).toEqual([3, 3, 3]);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const wasm2 = new Session(g, { backend: 'wasm', threads: 2 }).run([loss, ...grads], feeds);
    js.forEach((a, k) => {
      const scale = Math.max(...Array.from(a.data, Math.abs));
      a.data.forEach((v, i) => {
        expect(Math.abs(wasm[k].data[i] - v)).toBeLessThanOrEqual(1e-4 * Math.max(scale, 1));
        expect(wasm2[k].data[i]).toBe(wasm[k].data[i]);
      });
    });
  });

  test('fusedConv2d (conv + bias + relu, fused by the optimizer) runs the wasm conv with its epilogue', () => {
    const g = new Graph();
    const xs = g.placeholder('x', [null, 9, 10, 5]);
    const wv = Float32Array.from({ length: 3 * 3 * 5 * 7 }, (_, i) => 0.2 * Math.cos(i * 0.37));
    const w = g.variable('w', new NDArray(wv, [3, 3, 5, 7]));
    const b = g.variable(
      'b',
      new NDArray(
        Float32Array.from({ length: 7 }, (_, i) => 0.1 * (i - 3)),
        [7],
      ),
    );
    const y = relu(add(conv2dBuilder(xs, w, [2, 1], 'same'), b));
    const feeds = {
      x: new NDArray(
        Float32Array.from({ length: 2 * 9 * 10 * 5 }, (_, i) => Math.sin(i)),
        [2, 9, 10, 5],
      ),
    };
    const sess = new Session(g, { backend: 'wasm' });
    expect(sess.explain([y], feeds)).toContain('fusedConv2d');
    const spy = jest.spyOn(WasmKernels.prototype, 'conv2d');
    let wasm: NDArray;
    try {
      [wasm] = sess.run([y], feeds);
      expect(spy).toHaveBeenCalledTimes(1);
      // the bias offset and the activation reach the kernel
      expect(spy.mock.calls[0][4]).not.toBe(0);
      expect(spy.mock.calls[0][5]).toBe('relu');
    } finally {
      spy.mockRestore();
    }
    const [js] = new Session(g, { backend: 'js', optimize: false }).run([y], feeds);
    js.data.forEach((v, i) => expect(Math.abs(wasm.data[i] - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
  });
});
