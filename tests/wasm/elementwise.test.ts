import { binary, broadcastShapes, unary, type Buf } from '../../src/ops/kernels';
import { bindWasmKernels } from '../../src/backend';
import { WasmBufKernels, loadWasmKernels, type WasmBinaryOp, type WasmUnaryOp } from '../../src/backend/wasm';
import { Rng, outF32, randF32, ulpError, uniformF32 } from './helpers';

const kernels = new WasmBufKernels(loadWasmKernels({ initialBytes: 32 << 20 }));
/** The kernels a session runs: the wasm ones behind the binding table's guard (dtype, size, JS fallback). */
const bound = bindWasmKernels(kernels);

const JS_BINARY: Record<WasmBinaryOp, (a: Buf, b: Buf, out: Buf) => void> = {
  add: binary((a, b) => a + b),
  sub: binary((a, b) => a - b),
  mul: binary((a, b) => a * b),
  div: binary((a, b) => a / b),
};

const MATH: Record<WasmUnaryOp, (x: number) => number> = {
  relu: (x) => (x > 0 ? x : x === x ? 0 : x),
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  tanh: Math.tanh,
  tanhFast: Math.tanh,
  exp: Math.exp,
  neg: (x) => -x,
  abs: Math.abs,
  sqrt: Math.sqrt,
  square: (x) => x * x,
  log: Math.log,
};

/** Odd lengths around the 4-lane and 16-element unrolling, so every tail path runs. */
const LENGTHS = [1, 2, 3, 4, 5, 15, 16, 17, 31, 33, 64, 1001];

function unaryOf(op: WasmUnaryOp, x: Float32Array): Float32Array {
  const out = outF32([x.length]);
  kernels.unary(op, { data: x, shape: [x.length] }, out);
  return out.data as Float32Array;
}

/** The largest distance in float32 ulps between the wasm result and Math's double-precision value. */
function worstUlps(op: WasmUnaryOp, x: Float32Array): number {
  const y = unaryOf(op, x);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulpError(y[i], MATH[op](x[i])));
  return worst;
}

describe('wasm binary ops', () => {
  const shapePairs: [number[], number[]][] = [
    [[7], [7]],
    [
      [3, 5, 7],
      [3, 5, 7],
    ],
    [[], [4, 9]],
    [[4, 9], []],
    [[1], [33]],
    [[6, 9], [9]],
    [
      [2, 3, 17],
      [1, 17],
    ],
    [
      [3, 17],
      [2, 3, 17],
    ],
    [[11], [5, 11]],
  ];

  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    test(`${op} matches the JS kernel exactly for same shapes, scalars and rows on either side`, () => {
      const rng = new Rng(op.length);
      for (const [sa, sb] of shapePairs) {
        const a = randF32(rng, sa);
        const b = randF32(rng, sb);
        const shape = broadcastShapes(sa, sb) ?? [];
        const out = outF32(shape);
        const expected = outF32(shape);
        kernels.binary(op, a, b, out);
        JS_BINARY[op](a, b, expected);
        expect(Array.from(out.data)).toEqual(Array.from(expected.data));
      }
    });
  }

  test('covers every tail length of the unrolled loops', () => {
    const rng = new Rng(20);
    for (const n of LENGTHS) {
      const a = randF32(rng, [n]);
      const b = randF32(rng, [n]);
      const out = outF32([n]);
      const expected = outF32([n]);
      kernels.binary('mul', a, b, out);
      JS_BINARY.mul(a, b, expected);
      expect(Array.from(out.data)).toEqual(Array.from(expected.data));
    }
  });

  test('propagates NaN, infinities and signed zeros as float32 arithmetic does', () => {
    const a: Buf = { data: Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1, 0, Infinity]), shape: [8] };
    const b: Buf = { data: Float32Array.from([1, -Infinity, -Infinity, -0, -0, 0, 0, 2]), shape: [8] };
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      const out = outF32([8]);
      const expected = outF32([8]);
      kernels.binary(op, a, b, out);
      JS_BINARY[op](a, b, expected);
      for (let i = 0; i < 8; i++) expect(Object.is(out.data[i], expected.data[i])).toBe(true);
    }
  });

  test('runs the JS kernel for general broadcasting and for float64', () => {
    const rng = new Rng(21);
    const a = randF32(rng, [3, 1, 5]);
    const b = randF32(rng, [4, 1]);
    const out = outF32([3, 4, 5]);
    const expected = outF32([3, 4, 5]);
    expect(kernels.binary('sub', a, b, out)).toBe(false); // declined: out keeps outF32's fill
    expect(out.data.every((v) => v === -12345)).toBe(true);
    bound.get('sub')?.([a, b], out, {});
    JS_BINARY.sub(a, b, expected);
    expect(Array.from(out.data)).toEqual(Array.from(expected.data));
    const x: Buf = { data: Float64Array.from([1e-300, 2]), shape: [2] };
    const y: Buf = { data: new Float64Array(2), shape: [2] };
    bound.get('mul')?.([x, x], y, {});
    expect(Array.from(y.data)).toEqual([1e-300 * 1e-300, 4]);
  });
});

describe('wasm unary ops', () => {
  test('exp is within 1.5 float32 ulps of Math.exp over the whole range, subnormal results included', () => {
    const rng = new Rng(30);
    expect(worstUlps('exp', uniformF32(rng, 200000, -87, 88.7))).toBeLessThanOrEqual(1.5);
    expect(worstUlps('exp', uniformF32(rng, 20000, -103, -87))).toBeLessThanOrEqual(1.5);
    expect(worstUlps('exp', uniformF32(rng, 20000, -1e-3, 1e-3))).toBeLessThanOrEqual(1.5);
  });

  test('tanh is within 2 float32 ulps of Math.tanh, near 0 and across the polynomial/exp switch at 0.625', () => {
    const rng = new Rng(31);
    expect(worstUlps('tanh', uniformF32(rng, 200000, -12, 12))).toBeLessThanOrEqual(2);
    expect(worstUlps('tanh', uniformF32(rng, 50000, -0.7, 0.7))).toBeLessThanOrEqual(2);
    expect(worstUlps('tanh', uniformF32(rng, 20000, -1e-4, 1e-4))).toBeLessThanOrEqual(2);
  });

  test('sigmoid is within 3 float32 ulps of the exact value, far tails included', () => {
    const rng = new Rng(32);
    expect(worstUlps('sigmoid', uniformF32(rng, 200000, -87, 87))).toBeLessThanOrEqual(3);
    expect(worstUlps('sigmoid', uniformF32(rng, 50000, -6, 6))).toBeLessThanOrEqual(3);
  });

  test('log is within 1.5 float32 ulps of Math.log over every binade, subnormals and values near 1 included', () => {
    const rng = new Rng(35);
    const logUniform = Float32Array.from({ length: 200000 }, () => 2 ** (rng.next() * 277 - 149));
    expect(worstUlps('log', logUniform)).toBeLessThanOrEqual(1.5);
    expect(worstUlps('log', uniformF32(rng, 100000, 0.5, 2))).toBeLessThanOrEqual(1.5);
    expect(worstUlps('log', uniformF32(rng, 50000, 0.99, 1.01))).toBeLessThanOrEqual(1.5);
    expect(worstUlps('log', uniformF32(rng, 20000, 0, 1.2e-38))).toBeLessThanOrEqual(1.5);
  });

  test('log gives −∞ at ±0, NaN below 0 and for NaN, +∞ at +∞, and 0 at 1', () => {
    const x = Float32Array.from([0, -0, -1e-45, -1, -Infinity, NaN, Infinity, 1, 1e-45, 3.4028234663852886e38]);
    const y = unaryOf('log', x);
    for (let i = 0; i < x.length; i++) {
      const expected = Math.fround(Math.log(x[i]));
      if (!Object.is(y[i], expected)) throw new Error(`log(${x[i]}) = ${y[i]}, expected ${expected}`);
    }
  });

  test('exp, tanh and sigmoid give the limits at ±∞, overflow and underflow, and keep NaN', () => {
    const x = Float32Array.from([NaN, Infinity, -Infinity, 89, 88.8, -104, -1000, 0, -0, 200, -200]);
    for (const op of ['exp', 'tanh', 'sigmoid'] as const) {
      const y = unaryOf(op, x);
      for (let i = 0; i < x.length; i++) {
        const expected = Math.fround(MATH[op](x[i]));
        if (!Object.is(y[i], expected) && !(y[i] === 0 && expected === 0)) {
          throw new Error(`${op}(${x[i]}) = ${y[i]}, expected ${expected}`);
        }
      }
    }
  });

  test('relu, neg, abs, sqrt and square match the JS kernel exactly, special values and every tail included', () => {
    const rng = new Rng(33);
    for (const op of ['relu', 'neg', 'abs', 'sqrt', 'square'] as const) {
      const jsKernel = unary(MATH[op]);
      for (const n of LENGTHS) {
        const x = randF32(rng, [n]);
        x.data.set([NaN, -0, Infinity, -Infinity].slice(0, n));
        const out = outF32([n]);
        const expected = outF32([n]);
        kernels.unary(op, x, out);
        jsKernel(x, expected);
        for (let i = 0; i < n; i++) expect(Object.is(out.data[i], expected.data[i])).toBe(true);
      }
    }
  });

  test('reluGrad is dy where x > 0 and dy · 0 elsewhere, as the graph computes it', () => {
    const rng = new Rng(34);
    for (const n of LENGTHS) {
      const x = randF32(rng, [n]);
      const dy = randF32(rng, [n]);
      if (n > 3) dy.data.set([NaN, Infinity, -Infinity]);
      const out = outF32([n]);
      kernels.reluGrad(x, dy, out);
      for (let i = 0; i < n; i++) {
        expect(Object.is(out.data[i], Math.fround(dy.data[i] * (x.data[i] > 0 ? 1 : 0)))).toBe(true);
      }
    }
  });
});
