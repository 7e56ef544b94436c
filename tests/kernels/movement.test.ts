import { transpose, type Buf } from '../../src/ops/kernels';
import { Rng, expectExact, rand, randShape, ravel, unravel, zeros, type DType } from './helpers';

function permutations(r: number): number[][] {
  if (r === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(r - 1)) {
    for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), r - 1, ...p.slice(i)]);
  }
  return out;
}

function refTranspose(x: Buf, perm: readonly number[]): number[] {
  const outShape = perm.map((p) => x.shape[p]);
  const out = new Array<number>(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    const outIdx = perm.map((p) => idx[p]);
    out[ravel(outIdx, outShape)] = x.data[i];
  }
  return out;
}

function check(x: Buf, perm: readonly number[], dtype: DType): void {
  const outShape = perm.map((p) => x.shape[p]);
  const out = zeros(outShape, dtype);
  transpose(x, perm, out);
  expectExact(out.data, refTranspose(x, perm));
}

describe('transpose', () => {
  it('matches the reference for every permutation of random shapes up to rank 4', () => {
    const rng = new Rng(40);
    for (let r = 0; r <= 4; r++) {
      for (const perm of permutations(r)) {
        for (let t = 0; t < 6; t++) {
          const dtype = rng.pick<DType>(['float32', 'float64', 'int32', 'bool']);
          check(rand(rng, randShape(rng, r, r, 0.08), dtype), perm, dtype);
        }
      }
    }
  });

  it('handles 2-D and batched matrices larger than one tile', () => {
    const rng = new Rng(41);
    for (const [p, q] of [
      [67, 130],
      [1, 100],
      [100, 1],
      [32, 32],
      [33, 31],
    ]) {
      check(rand(rng, [p, q]), [1, 0], 'float64');
      check(rand(rng, [3, p, q], 'float32'), [0, 2, 1], 'float32');
      check(rand(rng, [p, 2, q], 'int32'), [2, 1, 0], 'int32');
    }
    check(rand(rng, [5, 6, 7, 8, 3]), [4, 2, 0, 3, 1], 'float64');
    check(rand(rng, [5, 6, 7, 8, 3]), [0, 1, 3, 4, 2], 'float64');
  });

  it('rejects bad permutations and output shapes', () => {
    expect(() => transpose(zeros([2, 3]), [0, 0], zeros([2, 2]))).toThrow();
    expect(() => transpose(zeros([2, 3]), [1], zeros([3]))).toThrow();
    expect(() => transpose(zeros([2, 3]), [1, 0], zeros([2, 3]))).toThrow();
  });
});
