import { broadcastShapes, matMul, type Buf } from '../../src/ops/kernels';
import type { FusedActivation as Activation } from '../../src/ops';
import { bindWasmKernels } from '../../src/backend';
import { WasmBufKernels, loadWasmKernels } from '../../src/backend/wasm';
import { Rng, absF64, expectWithin, outF32, randF32, sizeOf, toF64 } from './helpers';

const wasm = loadWasmKernels({ initialBytes: 32 << 20 });
const kernels = new WasmBufKernels(wasm);

const ACT: Record<Activation, (x: number) => number> = {
  none: (x) => x,
  relu: (x) => Math.max(x, 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
};

interface Case {
  aBatch: number[];
  bBatch: number[];
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
}

function describeCase(c: Case): string {
  return `[${c.aBatch}|${c.M}x${c.K}] x [${c.bBatch}|${c.K}x${c.N}] tA=${c.transposeA} tB=${c.transposeB}`;
}

/**
 * Runs the wasm matMul and compares it with the JS kernel run in float64 on the same float32 inputs. The bound is
 * float32's worst case for a K-term dot product, (K + 2)·2⁻²⁴·Σ|a||b|, so it holds for any input.
 */
function check(rng: Rng, c: Case, bias = false, activation: Activation = 'none'): void {
  const { aBatch, bBatch, M, K, N, transposeA, transposeB } = c;
  const a = randF32(rng, transposeA ? [...aBatch, K, M] : [...aBatch, M, K]);
  const b = randF32(rng, transposeB ? [...bBatch, N, K] : [...bBatch, K, N]);
  const batch = broadcastShapes(aBatch, bBatch);
  if (batch === null) throw new Error('bad batch');
  const shape = [...batch, M, N];
  const exact: Buf = { data: new Float64Array(sizeOf(shape)), shape };
  const magnitude: Buf = { data: new Float64Array(sizeOf(shape)), shape };
  matMul(toF64(a), toF64(b), exact, transposeA, transposeB);
  matMul(absF64(a), absF64(b), magnitude, transposeA, transposeB);
  const biasBuf = bias ? randF32(rng, [N]) : null;
  const out = outF32(shape);
  kernels.matMul(a, b, out, transposeA, transposeB, biasBuf, activation);
  const act = ACT[activation];
  const expected = exact.data.map((v, i) => act(v + (biasBuf === null ? 0 : biasBuf.data[i % N])));
  // act is 1-Lipschitz; the epilogue's own float32 rounding adds a few ulps of the result.
  const bound = (i: number): number =>
    (K + 2) * 2 ** -24 * (magnitude.data[i] + (biasBuf === null ? 0 : Math.abs(biasBuf.data[i % N]))) +
    4 * 2 ** -24 * Math.abs(expected[i]) +
    1e-37;
  expectWithin(out.data, expected, bound, describeCase(c));
}

function allTransposes(aBatch: number[], bBatch: number[], M: number, K: number, N: number): Case[] {
  const cases: Case[] = [];
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) cases.push({ aBatch, bBatch, M, K, N, transposeA, transposeB });
  }
  return cases;
}

describe('wasm matMul', () => {
  test('matches the JS kernel on random sizes, odd and not multiples of the 6x8 tile, in every transpose combo', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 40; t++) {
      const M = rng.int(1, 40);
      const K = rng.int(1, 40);
      const N = rng.int(1, 40);
      for (const c of allTransposes([], [], M, K, N)) check(rng, c);
    }
  });

  test('matches the JS kernel past every cache block (K > KC = 256, M > MC = 120, N > NC = 512)', () => {
    const rng = new Rng(2);
    for (const c of allTransposes([], [], 127, 517, 9)) check(rng, c);
    for (const c of allTransposes([], [], 7, 300, 521)) check(rng, c);
  });

  test('computes vector shapes: 1 x K times K x N, M x K times K x 1, and 1 x 1', () => {
    const rng = new Rng(3);
    for (const [M, K, N] of [
      [1, 33, 17],
      [19, 33, 1],
      [1, 1, 1],
      [1, 70, 1],
      [5, 1, 11],
    ]) {
      for (const c of allTransposes([], [], M, K, N)) check(rng, c);
    }
  });

  test('writes zeros for K = 0 and nothing for M = 0 or N = 0', () => {
    const rng = new Rng(4);
    for (const [M, K, N] of [
      [3, 0, 5],
      [0, 4, 5],
      [3, 4, 0],
      [0, 0, 0],
    ]) {
      for (const c of allTransposes([2], [], M, K, N)) check(rng, c);
    }
  });

  test('broadcasts batch dims on either side, in every transpose combo', () => {
    const rng = new Rng(5);
    const pairs: [number[], number[]][] = [
      [[3], [3]],
      [
        [2, 1],
        [1, 3],
      ],
      [[4], []],
      [[], [4]],
      [
        [2, 1, 3],
        [5, 1],
      ],
      [[1], [2]],
    ];
    for (const [aBatch, bBatch] of pairs) {
      for (const c of allTransposes(aBatch, bBatch, rng.int(1, 13), rng.int(1, 13), rng.int(1, 13))) check(rng, c);
    }
  });

  test('applies the bias + activation epilogue: act(a·b + bias) for none, relu, sigmoid and tanh', () => {
    const rng = new Rng(6);
    for (const activation of ['none', 'relu', 'sigmoid', 'tanh'] as const) {
      check(rng, allTransposes([], [], 13, 270, 21)[0], true, activation);
      check(rng, allTransposes([2], [], 7, 5, 9)[3], true, activation);
      check(rng, allTransposes([], [], 3, 4, 5)[1], false, activation);
    }
  });

  test('gives act(bias) in every row when K = 0', () => {
    const rng = new Rng(7);
    check(rng, allTransposes([], [], 4, 0, 10)[0], true, 'sigmoid');
  });

  test('runs the JS kernel for float64 operands, epilogue included', () => {
    const rng = new Rng(8);
    const a = toF64(randF32(rng, [3, 4]));
    const b = toF64(randF32(rng, [4, 5]));
    const bias = toF64(randF32(rng, [5]));
    const out: Buf = { data: new Float64Array(15), shape: [3, 5] };
    // The binding table's guard sends float64 to the op record's kernel.
    const fusedMatMul = bindWasmKernels(kernels).get('fusedMatMul');
    fusedMatMul?.([a, b, bias], out, { transposeA: false, transposeB: false, activation: 'relu' });
    const expected: Buf = { data: new Float64Array(15), shape: [3, 5] };
    matMul(a, b, expected, false, false);
    expect(Array.from(out.data)).toEqual(Array.from(expected.data, (v, i) => Math.max(v + bias.data[i % 5], 0)));
  });

  test('rejects mismatched inner dims, output shapes and bias sizes', () => {
    const rng = new Rng(9);
    const a = randF32(rng, [3, 4]);
    expect(() => kernels.matMul(a, randF32(rng, [5, 2]), outF32([3, 2]), false, false)).toThrow(/matMul/);
    expect(() => kernels.matMul(a, randF32(rng, [4, 2]), outF32([3, 3]), false, false)).toThrow(/matMul/);
    expect(() => kernels.matMul(a, randF32(rng, [4, 2]), outF32([3, 2]), false, false, randF32(rng, [3]))).toThrow(
      /bias/,
    );
  });

  test('releases its arena temporaries after every call, also when it throws', () => {
    const rng = new Rng(10);
    const used = wasm.arena.used;
    kernels.matMul(randF32(rng, [5, 6]), randF32(rng, [6, 7]), outF32([5, 7]), false, false);
    expect(() => kernels.matMul(randF32(rng, [2, 3]), randF32(rng, [4, 5]), outF32([2, 5]), false, false)).toThrow();
    expect(wasm.arena.used).toBe(used);
  });
});

describe('wasm matMul over arena offsets', () => {
  test('reads and writes arena buffers in place, including a strided block of a larger output', () => {
    const rng = new Rng(11);
    const k = loadWasmKernels({ initialBytes: 1 << 20 });
    const [M, K, N, ld] = [9, 11, 10, 16];
    const a = k.arena.alloc(M * K * 4);
    const b = k.arena.alloc(K * N * 4);
    const c = k.arena.alloc(M * ld * 4);
    const av = k.arena.f32(a, M * K);
    const bv = k.arena.f32(b, K * N);
    av.set(randF32(rng, [M * K]).data);
    bv.set(randF32(rng, [K * N]).data);
    const cv = k.arena.f32(c, M * ld).fill(7);
    k.gemm(a, K, 1, b, N, 1, c + 3 * 4, ld, M, N, K);
    const exact: Buf = { data: new Float64Array(M * N), shape: [M, N] };
    matMul(toF64({ data: av, shape: [M, K] }), toF64({ data: bv, shape: [K, N] }), exact, false, false);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < ld; j++) {
        const v = cv[i * ld + j];
        if (j < 3 || j >= 3 + N) expect(v).toBe(7);
        else expect(Math.abs(v - exact.data[i * N + j - 3])).toBeLessThan(1e-5);
      }
    }
  });
});
