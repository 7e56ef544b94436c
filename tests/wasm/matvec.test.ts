/**
 * The skinny matMul kernels (assembly/skinny.ts: M ≤ 8 rows of A, batch-1 dense layers) against the JS kernel run in
 * float64 on the same float32 inputs, for every transpose form matMul and fusedMatMul take, with the epilogue, on one
 * and two threads; and that products with M ≤ 8 run them (a count the kernels keep).
 */
import { matMul, type Buf } from '../../src/ops/kernels';
import type { FusedActivation as Activation } from '../../src/ops';
import { WasmBufKernels, WasmKernels, loadWasmKernels } from '../../src/backend/wasm';
import { PACKED_CHUNK } from '../../src/backend/wasm/opcodes.generated';
import { sessionKernels } from '../../src/backend';
import { fusedMatMul, Graph, NDArray, Session } from '../../src';
import { Rng, absF64, expectWithin, nodeStartWorker, outF32, randF32, sizeOf, toF64 } from './helpers';

const one = new WasmBufKernels(loadWasmKernels({ initialBytes: 64 << 20 }));
const twoWasm = loadWasmKernels({ initialBytes: 64 << 20, threads: 2, startWorker: nodeStartWorker });
const two = new WasmBufKernels(twoWasm);

afterAll(() => twoWasm.dispose());

const ACT: Record<Activation, (x: number) => number> = {
  none: (x) => x,
  relu: (x) => Math.max(x, 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
};

interface Case {
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
  bias: boolean;
  activation: Activation;
}

const name = (c: Case): string =>
  `${c.M}x${c.K} · ${c.K}x${c.N} tA=${c.transposeA} tB=${c.transposeB} bias=${c.bias} ${c.activation}`;

/**
 * Runs `kernels.matMul` and checks it against float64 with float32's worst-case bound for a K-term dot product,
 * (K + 2)·2⁻²⁴·Σ|a||b| (any summation order meets it), plus a few ulps for the epilogue. Returns how many products
 * ran the skinny kernels.
 */
function check(kernels: WasmBufKernels, rng: Rng, c: Case, a?: Buf, b?: Buf): number {
  const { M, K, N, transposeA, transposeB } = c;
  a ??= randF32(rng, transposeA ? [K, M] : [M, K]);
  b ??= randF32(rng, transposeB ? [N, K] : [K, N]);
  const shape = [M, N];
  const exact: Buf = { data: new Float64Array(M * N), shape };
  const magnitude: Buf = { data: new Float64Array(M * N), shape };
  matMul(toF64(a), toF64(b), exact, transposeA, transposeB);
  matMul(absF64(a), absF64(b), magnitude, transposeA, transposeB);
  const biasBuf = c.bias ? randF32(rng, [N]) : null;
  const out = outF32(shape);
  const before = kernels.wasm.skinnyRuns;
  expect(kernels.matMul(a, b, out, transposeA, transposeB, biasBuf, c.activation)).toBe(true);
  const act = ACT[c.activation];
  const expected = exact.data.map((v, i) => act(v + (biasBuf === null ? 0 : biasBuf.data[i % N])));
  const bound = (i: number): number =>
    (K + 2) * 2 ** -24 * (magnitude.data[i] + (biasBuf === null ? 0 : Math.abs(biasBuf.data[i % N]))) +
    4 * 2 ** -24 * Math.abs(expected[i]) +
    1e-37;
  expectWithin(out.data, expected, bound, name(c));
  return kernels.wasm.skinnyRuns - before;
}

const FORMS: readonly [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

describe('skinny matMul (M ≤ 8) against float64', () => {
  // K and N off multiples of 4 and 8 (and below them), around the kernels' column blocks (4, 8, 16, 32).
  const KS = [1, 3, 4, 7, 33, 130];
  const NS = [1, 2, 3, 5, 8, 13, 31, 33, 67];
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('M = %d: every K, N and transpose form runs the skinny kernel', (M) => {
    const rng = new Rng(100 + M);
    for (const [transposeA, transposeB] of FORMS) {
      for (const K of KS) {
        for (const N of NS) {
          const ran = check(one, rng, { M, K, N, transposeA, transposeB, bias: false, activation: 'none' });
          expect(ran).toBe(1);
        }
      }
    }
  });

  test.each(['none', 'relu', 'sigmoid', 'tanh'] as const)('bias and %s epilogue, every form', (activation) => {
    const rng = new Rng(7);
    for (const [transposeA, transposeB] of FORMS) {
      for (const [M, K, N] of [
        [1, 37, 45],
        [2, 64, 17],
        [3, 5, 70],
        [8, 129, 35],
      ]) {
        check(one, rng, { M, K, N, transposeA, transposeB, bias: true, activation });
      }
    }
  });

  test('row streaming (a B past the caches) for M = 1 and M > 1, with K tails of 1 to 3 rows', () => {
    const rng = new Rng(3);
    for (const [M, K, N] of [
      [1, 1027, 129],
      [1, 1, 64],
      [3, 1030, 1021],
      [8, 1025, 1026],
    ]) {
      expect(check(one, rng, { M, K, N, transposeA: false, transposeB: false, bias: true, activation: 'relu' })).toBe(
        1,
      );
    }
  });

  test('K = 0 writes act(bias)', () => {
    const rng = new Rng(4);
    check(one, rng, { M: 2, K: 0, N: 9, transposeA: false, transposeB: false, bias: true, activation: 'sigmoid' });
  });

  test('an infinite weight in the last rows of a K tail gives infinity, not NaN', () => {
    // M = 1 streams four rows of B per step; the 1–3 rows of a tail must not be padded with zero weights (0·∞).
    for (const K of [5, 6, 7, 1025, 1026]) {
      const N = 8;
      const a: Buf = { data: new Float32Array(K).fill(1), shape: [1, K] };
      const b: Buf = { data: new Float32Array(K * N).fill(0.5), shape: [K, N] };
      b.data[(K - 1) * N + 3] = Infinity;
      const out = outF32([1, N]);
      one.matMul(a, b, out, false, false);
      expect(out.data[3]).toBe(Infinity);
      expect(out.data[2]).toBe(0.5 * K);
    }
  });

  test('two threads split N and agree with float64', () => {
    const rng = new Rng(9);
    const jobs = twoWasm.helperJobs;
    for (const [transposeA, transposeB] of FORMS) {
      for (const [M, K, N] of [
        [1, 300, 130],
        [1, 1030, 257],
        [1, 2050, 520],
        [4, 301, 259],
        [6, 1031, 1029],
        [8, 300, 333],
      ]) {
        expect(check(two, rng, { M, K, N, transposeA, transposeB, bias: true, activation: 'tanh' })).toBe(1);
      }
    }
    expect(twoWasm.helperJobs).toBeGreaterThan(jobs);
  });

  test('M = 9 and more run the packed kernel', () => {
    const rng = new Rng(11);
    expect(
      check(one, rng, { M: 9, K: 20, N: 30, transposeA: false, transposeB: true, bias: false, activation: 'none' }),
    ).toBe(0);
  });

  test('a batched matMul whose rows fold into M ≤ 8 runs the skinny kernel once', () => {
    const rng = new Rng(12);
    const a = randF32(rng, [2, 3, 40]);
    const b = randF32(rng, [40, 24]);
    const out = outF32([2, 3, 24]);
    const before = one.wasm.skinnyRuns;
    one.matMul(a, b, out, false, false);
    expect(one.wasm.skinnyRuns - before).toBe(1);
    const exact: Buf = { data: new Float64Array(sizeOf([2, 3, 24])), shape: [2, 3, 24] };
    matMul(toF64(a), toF64(b), exact, false, false);
    expectWithin(out.data, exact.data, () => 1e-4);
  });
});

describe('one row against a packed copy of B (packRows4, matVecPacked)', () => {
  /** B as an arena view with its packed copy registered, as a session does for its constant weights. */
  function packedB(
    rng: Rng,
    K: number,
    N: number,
    transposed: boolean,
    values?: Float32Array,
    kernels: WasmBufKernels = one,
  ): Buf {
    const wasm = kernels.wasm;
    // Staging room for the row, bias and output, taken before B's view (as a session reserves before its views).
    kernels.reserve(4 * (K + 2 * N) + 1024);
    const at = wasm.arena.alloc(K * N * 4);
    const view = wasm.arena.f32(at, K * N);
    view.set(values ?? randF32(rng, [K * N]).data);
    const packed = wasm.arena.alloc(Math.max(64, WasmKernels.packedBytes(K, N)));
    wasm.packRows4(at, transposed ? 1 : N, transposed ? K : 1, K, N, packed);
    kernels.setPacked(view, packed, K, N, transposed);
    return { data: view, shape: transposed ? [N, K] : [K, N] };
  }

  test.each([false, true])('matches float64 for K and N off multiples of 4, every epilogue (Bᵀ stored: %s)', (tB) => {
    const rng = new Rng(tB ? 31 : 30);
    for (const [K, N] of [
      [1, 1],
      [3, 5],
      [4, 4],
      [17, 33],
      [130, 67],
      [257, 1030],
    ]) {
      const b = packedB(rng, K, N, tB);
      for (const activation of ['none', 'relu', 'sigmoid', 'tanh'] as const) {
        const runs = one.wasm.skinnyRuns;
        check(one, rng, { M: 1, K, N, transposeA: false, transposeB: tB, bias: true, activation }, undefined, b);
        expect(one.wasm.skinnyRuns - runs).toBe(1);
      }
    }
  });

  test('the copy is laid out chunk after chunk of PACKED_CHUNK columns, each [K/4][w/4][4][4], zero-padded', () => {
    const wasm = one.wasm;
    const [K, N] = [6, PACKED_CHUNK + 7];
    const at = wasm.arena.alloc(K * N * 4);
    const b = wasm.arena.f32(at, K * N);
    for (let i = 0; i < K * N; i++) b[i] = i + 1;
    const bytes = WasmKernels.packedBytes(K, N);
    const packed = wasm.arena.alloc(bytes);
    wasm.packRows4(at, N, 1, K, N, packed);
    const copy = wasm.arena.f32(packed, bytes / 4);
    const [Kp, Np] = [8, PACKED_CHUNK + 8];
    expect(copy.length).toBe(Kp * Np);
    for (let k = 0; k < Kp; k++) {
      for (let j = 0; j < Np; j++) {
        const j0 = j < PACKED_CHUNK ? 0 : PACKED_CHUNK;
        const w = Math.min(PACKED_CHUNK, Np - j0);
        const index = Kp * j0 + ((k >> 2) * (w >> 2) + ((j - j0) >> 2)) * 16 + (k & 3) * 4 + (j & 3);
        expect(copy[index]).toBe(k < K && j < N ? b[k * N + j] : 0);
      }
    }
    wasm.arena.free(packed);
    wasm.arena.free(at);
  });

  test.each([false, true])('several chunks with column tails match float64 (Bᵀ stored: %s)', (tB) => {
    const rng = new Rng(tB ? 34 : 33);
    for (const [K, N] of [
      [5, 2 * PACKED_CHUNK + 1],
      [9, PACKED_CHUNK + 4],
      [130, 2 * PACKED_CHUNK + 7],
      [3, 3 * PACKED_CHUNK + 2],
    ]) {
      const b = packedB(rng, K, N, tB);
      for (const activation of ['none', 'sigmoid'] as const) {
        const runs = one.wasm.packedRuns;
        check(
          one,
          rng,
          { M: 1, K, N, transposeA: false, transposeB: tB, bias: activation !== 'none', activation },
          undefined,
          b,
        );
        expect(one.wasm.packedRuns - runs).toBe(1);
      }
    }
  });

  test('two threads split the copy at a chunk bound (B of 4 MiB or more, N past one chunk) and agree with float64', () => {
    const rng = new Rng(35);
    for (const tB of [false, true]) {
      for (const [K, N] of [
        [513, 2 * PACKED_CHUNK + 3],
        [1030, PACKED_CHUNK + 3],
        [350, 3 * PACKED_CHUNK + 1],
      ]) {
        const b = packedB(rng, K, N, tB, undefined, two);
        const [runs, jobs] = [twoWasm.packedRuns, twoWasm.helperJobs];
        check(
          two,
          rng,
          { M: 1, K, N, transposeA: false, transposeB: tB, bias: true, activation: 'relu' },
          undefined,
          b,
        );
        expect(twoWasm.packedRuns - runs).toBe(1);
        expect(twoWasm.helperJobs - jobs).toBe(1);
      }
    }
  });

  test('two threads and a large B of one chunk: the row-major column split runs instead of the copy', () => {
    const rng = new Rng(36);
    const b = packedB(rng, 4100, 260, false, undefined, two);
    const [runs, jobs] = [twoWasm.packedRuns, twoWasm.helperJobs];
    const skinny = twoWasm.skinnyRuns;
    check(
      two,
      rng,
      { M: 1, K: 4100, N: 260, transposeA: false, transposeB: false, bias: false, activation: 'none' },
      undefined,
      b,
    );
    expect(twoWasm.packedRuns - runs).toBe(0);
    expect(twoWasm.skinnyRuns - skinny).toBe(1);
    expect(twoWasm.helperJobs - jobs).toBe(1);
  });

  test('an infinite weight in a K tail gives infinity, not NaN', () => {
    const K = 7;
    const N = 6;
    const values = new Float32Array(K * N).fill(0.5);
    values[(K - 1) * N + 2] = Infinity;
    const b = packedB(new Rng(32), K, N, false, values);
    const a: Buf = { data: new Float32Array(K).fill(1), shape: [1, K] };
    const out = outF32([1, N]);
    one.matMul(a, b, out, false, false);
    expect(out.data[2]).toBe(Infinity);
    expect(out.data[1]).toBe(0.5 * K);
  });
});

describe('operands that are all arena views (a session run): the 2-D path', () => {
  /** `buf` copied into an arena view of the same shape. */
  function inArena(kernels: WasmBufKernels, buf: Buf): Buf {
    const at = kernels.wasm.arena.alloc(Math.max(4, buf.data.length * 4));
    const view = kernels.wasm.arena.f32(at, buf.data.length);
    view.set(buf.data);
    return { data: view, shape: buf.shape };
  }

  test.each([
    [1, 37, 45],
    [3, 64, 17],
    [8, 129, 35],
    [12, 33, 20],
  ])(
    'M = %d, K = %d, N = %d: every transpose form, bias (staged or a view) and epilogue, against float64',
    (M, K, N) => {
      const rng = new Rng(40 + M);
      for (const [transposeA, transposeB] of FORMS) {
        const a = inArena(one, randF32(rng, transposeA ? [K, M] : [M, K]));
        const b = inArena(one, randF32(rng, transposeB ? [N, K] : [K, N]));
        // A small bias is not placed with the constants: staged (with Aᵀ here), else an arena view.
        const bias = transposeA ? randF32(rng, [N]) : inArena(one, randF32(rng, [N]));
        const out = inArena(one, outF32([M, N]));
        expect(one.matMul(a, b, out, transposeA, transposeB, bias, 'relu')).toBe(true);
        const exact: Buf = { data: new Float64Array(M * N), shape: [M, N] };
        const magnitude: Buf = { data: new Float64Array(M * N), shape: [M, N] };
        matMul(toF64(a), toF64(b), exact, transposeA, transposeB);
        matMul(absF64(a), absF64(b), magnitude, transposeA, transposeB);
        const expected = exact.data.map((v, i) => Math.max(0, v + bias.data[i % N]));
        const bound = (i: number): number =>
          (K + 2) * 2 ** -24 * (magnitude.data[i] + Math.abs(bias.data[i % N])) + 4 * 2 ** -24 * expected[i] + 1e-37;
        expectWithin(out.data, expected, bound, `${M}x${K}x${N} tA=${transposeA} tB=${transposeB}`);
      }
    },
  );

  test('shapes that do not fit still throw the general path’s error', () => {
    const rng = new Rng(45);
    const a = inArena(one, randF32(rng, [2, 3]));
    const b = inArena(one, randF32(rng, [4, 5]));
    const out = inArena(one, outF32([2, 5]));
    expect(() => one.matMul(a, b, out, false, false)).toThrow(/matMul: incompatible \[2, ?3\] x \[4, ?5\]/);
  });
});

describe('in a session', () => {
  test('a batch-1 fusedMatMul on the wasm backend runs the skinny kernel and matches the js backend', () => {
    const g = new Graph();
    const rng = new Rng(13);
    const x = g.placeholder('x', [1, 96]);
    const w = g.constant(new NDArray(randF32(rng, [96, 40]).data, [96, 40]));
    const bias = g.constant(new NDArray(randF32(rng, [40]).data, [40]));
    const y = fusedMatMul({ a: x, b: w, bias, activation: 'relu' });
    const feed = new Map([[x, new NDArray(randF32(rng, [1, 96]).data, [1, 96])]]);
    const wasm = sessionKernels('wasm').wasm;
    const before = wasm?.wasm.skinnyRuns ?? 0;
    const fast = new Session(g, { backend: 'wasm' }).run(y, feed) as NDArray;
    expect((wasm?.wasm.skinnyRuns ?? 0) - before).toBe(1);
    const reference = new Session(g, { backend: 'js' }).run(y, feed) as NDArray;
    expectWithin(fast.data, reference.data, (i) => 1e-5 * (1 + Math.abs(reference.data[i])));
  });
});
