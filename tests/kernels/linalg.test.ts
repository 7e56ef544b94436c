import { broadcastShapes, matMul, type Buf } from '../../src/ops/kernels';
import { Rng, broadcastIndex, expectClose, rand, ravel, sizeOf, unravel, zeros, type DType } from './helpers';

/** Triple loop straight from the definition, element access by full index arithmetic. */
function refMatMul(a: Buf, b: Buf, tA: boolean, tB: boolean): { shape: number[]; data: Float64Array } {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = tA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  if (batch === null) throw new Error('bad batch');
  const shape = [...batch, M, N];
  const data = new Float64Array(sizeOf(shape));
  for (let t = 0; t < sizeOf(batch); t++) {
    const bi = unravel(t, batch);
    const ab = broadcastIndex(bi, aBatch);
    const bb = broadcastIndex(bi, bBatch);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a.data[ab * M * K + (tA ? ravel([k, i], [K, M]) : ravel([i, k], [M, K]))];
          const bv = b.data[bb * K * N + (tB ? ravel([j, k], [N, K]) : ravel([k, j], [K, N]))];
          s += av * bv;
        }
        data[(t * M + i) * N + j] = s;
      }
    }
  }
  return { shape, data };
}

function operand(rng: Rng, batch: number[], rows: number, cols: number, dtype: DType): Buf {
  return rand(rng, [...batch, rows, cols], dtype);
}

function check(rng: Rng, aBatch: number[], bBatch: number[], M: number, K: number, N: number, dtype: DType): void {
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      const a = tA ? operand(rng, aBatch, K, M, dtype) : operand(rng, aBatch, M, K, dtype);
      const b = tB ? operand(rng, bBatch, N, K, dtype) : operand(rng, bBatch, K, N, dtype);
      const ref = refMatMul(a, b, tA, tB);
      const out = zeros(ref.shape, dtype);
      out.data.fill(-5);
      matMul(a, b, out, tA, tB);
      const expected = zeros(ref.shape, dtype);
      expected.data.set(ref.data);
      try {
        expectClose(out.data, expected.data, dtype === 'float32' ? 1e-6 : 1e-12);
      } catch (e) {
        throw new Error(`${dtype} [${a.shape}] x [${b.shape}] tA=${tA} tB=${tB}: ${(e as Error).message}`);
      }
    }
  }
}

describe('matMul', () => {
  it('matches the reference on odd sizes with all transpose combinations', () => {
    const rng = new Rng(30);
    const sizes = [1, 3, 5, 17, 33, 65];
    for (const M of sizes) {
      for (const N of sizes) {
        const K = rng.pick(sizes);
        check(rng, [], [], M, K, N, 'float64');
      }
    }
    for (const K of sizes) check(rng, [], [], 7, K, 9, 'float32');
  });

  it('covers sizes straddling the 4x4 tile and the packing threshold', () => {
    const rng = new Rng(31);
    for (let t = 0; t < 60; t++) {
      const M = rng.int(1, 24);
      const N = rng.int(1, 24);
      const K = rng.int(1, 40);
      check(rng, [], [], M, K, N, rng.pick<DType>(['float32', 'float64', 'int32']));
    }
  });

  it('broadcasts batch dims', () => {
    const rng = new Rng(32);
    check(rng, [2, 1, 3], [5, 1], 4, 4, 6, 'float64');
    check(rng, [2, 1], [5], 17, 9, 6, 'float32');
    check(rng, [1], [3], 5, 8, 5, 'float64');
    check(rng, [4], [], 9, 9, 9, 'float64');
    check(rng, [], [2, 3], 2, 3, 4, 'float64');
    check(rng, [3, 1], [1, 2], 20, 12, 10, 'float64');
    // The shapes from the spec: [2,1,3,4] x [5,4,6] -> [2,5,3,6].
    const a = rand(rng, [2, 1, 3, 4]);
    const b = rand(rng, [5, 4, 6]);
    const out = zeros([2, 5, 3, 6]);
    matMul(a, b, out, false, false);
    expectClose(out.data, refMatMul(a, b, false, false).data, 1e-12);
  });

  it('handles size-0 dims', () => {
    const rng = new Rng(33);
    const out = zeros([3, 4]);
    out.data.fill(9);
    matMul(zeros([3, 0]), zeros([0, 4]), out, false, false);
    expect(Array.from(out.data)).toEqual(new Array(12).fill(0));
    matMul(zeros([0, 5]), rand(rng, [5, 4]), zeros([0, 4]), false, false);
    matMul(rand(rng, [3, 5]), zeros([5, 0]), zeros([3, 0]), false, false);
    matMul(zeros([0, 3, 5]), rand(rng, [5, 4]), zeros([0, 3, 4]), false, false);
    const batched = zeros([2, 3, 4]);
    batched.data.fill(1);
    matMul(zeros([2, 0, 3]), zeros([0, 4]), batched, true, false);
    expect(Array.from(batched.data)).toEqual(new Array(24).fill(0));
  });

  it('rejects mismatched inner dims and wrong outputs', () => {
    expect(() => matMul(zeros([2, 3]), zeros([4, 5]), zeros([2, 5]), false, false)).toThrow();
    expect(() => matMul(zeros([2, 3]), zeros([3, 5]), zeros([5, 2]), false, false)).toThrow();
    expect(() => matMul(zeros([3]), zeros([3, 5]), zeros([5]), false, false)).toThrow();
    expect(() => matMul(zeros([2, 2, 3]), zeros([3, 3, 5]), zeros([2, 2, 5]), false, false)).toThrow();
  });

  it('is correct on a product large enough to exercise the packed path repeatedly', () => {
    const rng = new Rng(34);
    check(rng, [], [], 130, 67, 129, 'float64');
  });
});
