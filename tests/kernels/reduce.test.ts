import { argReduce, reduce, type Buf, type ReduceKind } from '../../src/ops/kernels';
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

const KINDS: readonly ReduceKind[] = ['sum', 'max', 'min', 'prod', 'mean', 'all', 'any'];

function keptShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((n, d) => {
    if (!axes.includes(d)) out.push(n);
    else if (keepDims) out.push(1);
  });
  return out;
}

/** Gathers each output's slice by index arithmetic, then reduces it the obvious way. */
function refReduce(kind: ReduceKind, x: Buf, axes: readonly number[]): number[] {
  const outShape = keptShape(x.shape, axes, false);
  const slices: number[][] = Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => []);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).filter((_, d) => !axes.includes(d));
    slices[ravel(idx, outShape)].push(x.data[i]);
  }
  return slices.map((s) => {
    switch (kind) {
      case 'sum':
        return s.reduce((a, b) => a + b, 0);
      case 'prod':
        return s.reduce((a, b) => a * b, 1);
      case 'mean':
        return s.length === 0 ? NaN : s.reduce((a, b) => a + b, 0) / s.length;
      case 'max':
        return s.some(Number.isNaN) ? NaN : s.reduce((a, b) => Math.max(a, b), -Infinity);
      case 'min':
        return s.some(Number.isNaN) ? NaN : s.reduce((a, b) => Math.min(a, b), Infinity);
      case 'all':
        return s.every((v) => v !== 0) ? 1 : 0;
      case 'any':
        return s.some((v) => v !== 0) ? 1 : 0;
    }
  });
}

function subsets(r: number): number[][] {
  const out: number[][] = [];
  for (let m = 0; m < 1 << r; m++) out.push([...Array(r).keys()].filter((d) => (m >> d) & 1));
  return out;
}

function outDtype(kind: ReduceKind, dtype: DType): DType {
  return kind === 'all' || kind === 'any' ? 'bool' : dtype;
}

function check(kind: ReduceKind, x: Buf, axes: readonly number[], dtype: DType, keepDims: boolean): void {
  const out = zeros(keptShape(x.shape, axes, keepDims), outDtype(kind, dtype));
  out.data.fill(77);
  reduce(kind, x, axes, out);
  const expected = zeros(out.shape, out.data instanceof Uint8Array ? 'bool' : dtype);
  expected.data.set(refReduce(kind, x, axes));
  expectClose(out.data, expected.data, dtype === 'float32' ? 1e-6 : 1e-12);
}

describe('reduce', () => {
  it('matches the reference over every subset of axes of rank-3 arrays', () => {
    const rng = new Rng(10);
    const shapes = [
      [2, 3, 4],
      [1, 3, 1],
      [4, 1, 5],
      [3, 0, 2],
      [1, 1, 1],
      [5, 7, 6],
      [0, 2, 3],
    ];
    for (const shape of shapes) {
      for (const dtype of ['float32', 'float64', 'int32'] as const) {
        const x = rand(rng, shape, dtype);
        // Sprinkle zeros so that all/any/prod see both outcomes.
        for (let i = 0; i < x.data.length; i++) if (rng.next() < 0.1) x.data[i] = 0;
        for (const axes of subsets(3)) {
          for (const kind of KINDS) {
            check(kind, x, axes, dtype, false);
            check(kind, x, axes, dtype, true);
          }
        }
      }
    }
  });

  it('matches the reference on random shapes of rank 0..5', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 300; t++) {
      const shape = randShape(rng, 0, 5);
      const axes = [...shape.keys()].filter(() => rng.next() < 0.5);
      const x = rand(rng, shape);
      check(rng.pick(KINDS), x, axes, 'float64', rng.next() < 0.5);
    }
  });

  it('reduces long contiguous runs accurately (float32 output, float64 accumulation)', () => {
    const rng = new Rng(12);
    const x = rand(rng, [3, 10007], 'float32');
    const out = zeros([3], 'float32');
    reduce('sum', x, [1], out);
    const ref = refReduce('sum', x, [1]);
    expectClose(out.data, Float32Array.from(ref), 1e-7);
    const all = zeros([], 'float64');
    reduce('mean', x, [0, 1], all);
    expectClose(all.data, [ref.reduce((a, b) => a + b, 0) / x.data.length], 1e-12);
    const lead = zeros([10007], 'float32');
    reduce('max', x, [0], lead);
    expectClose(lead.data, Float32Array.from(refReduce('max', x, [0])), 0);
  });

  it('uses the identities for empty reductions', () => {
    const x = zeros([2, 0]);
    const expected: Record<ReduceKind, number> = {
      sum: 0,
      prod: 1,
      max: -Infinity,
      min: Infinity,
      mean: NaN,
      all: 1,
      any: 0,
    };
    for (const kind of KINDS) {
      const out = zeros([2], kind === 'all' || kind === 'any' ? 'bool' : 'float64');
      reduce(kind, x, [1], out);
      expectExact(out.data, [expected[kind], expected[kind]]);
      const scalar = zeros([], kind === 'all' || kind === 'any' ? 'bool' : 'float32');
      reduce(kind, x, [0, 1], scalar);
      expectExact(scalar.data, [expected[kind]]);
    }
    reduce('sum', zeros([0, 3]), [1], zeros([0]));
  });

  it('propagates NaN through max and min wherever it sits', () => {
    for (const pos of [0, 1, 2]) {
      const vals = [1, 5, -3];
      vals[pos] = NaN;
      for (const kind of ['max', 'min'] as const) {
        const out = zeros([]);
        reduce(kind, fromArray(vals, [3]), [0], out);
        expectExact(out.data, [NaN]);
        const cols = zeros([1, 2]);
        const doubled = [...vals, ...vals].map((_, i) => vals[i >> 1]);
        reduce(kind, fromArray(doubled, [3, 2]), [0], cols);
        expectExact(cols.data, [NaN, NaN]);
      }
    }
  });

  it('handles a scalar input', () => {
    const out = zeros([]);
    reduce('mean', fromArray([4], []), [], out);
    expectExact(out.data, [4]);
    const b = zeros([], 'bool');
    reduce('all', fromArray([3], []), [], b);
    expectExact(b.data, [1]);
  });
});

describe('argReduce', () => {
  function refArg(kind: 'max' | 'min', x: Buf, axis: number): number[] {
    const outShape = x.shape.filter((_, d) => d !== axis);
    const out = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(-1);
    const best = new Array<number>(out.length).fill(0);
    for (let i = 0; i < x.data.length; i++) {
      const idx = unravel(i, x.shape);
      const kept = idx.filter((_, d) => d !== axis);
      const o = ravel(kept, outShape);
      const v = x.data[i];
      const j = idx[axis];
      const b = best[o];
      const better = kind === 'max' ? v > b : v < b;
      if (out[o] === -1 || (!Number.isNaN(b) && (better || Number.isNaN(v)))) {
        out[o] = j;
        best[o] = v;
      }
    }
    return out;
  }

  it('matches the reference along every axis, with ties and NaN', () => {
    const rng = new Rng(20);
    for (let t = 0; t < 300; t++) {
      const shape = randShape(rng, 1, 4, 0.03);
      const axis = rng.int(0, shape.length - 1);
      if (shape[axis] === 0) shape[axis] = 2;
      const x = rand(rng, shape, 'int32');
      if (rng.next() < 0.3) for (let i = 0; i < x.data.length; i++) if (rng.next() < 0.2) x.data[i] = 100;
      const xf = zeros(shape, 'float64');
      xf.data.set(x.data);
      if (rng.next() < 0.3) for (let i = 0; i < xf.data.length; i++) if (rng.next() < 0.2) xf.data[i] = NaN;
      const outShape = shape.filter((_, d) => d !== axis);
      for (const kind of ['max', 'min'] as const) {
        for (const src of [x, xf]) {
          const out = zeros(outShape, 'int32');
          argReduce(kind, src, axis, out);
          expectExact(out.data, refArg(kind, src, axis));
        }
      }
    }
  });

  it('returns the first index of ties and throws on an empty axis', () => {
    const out = zeros([], 'int32');
    argReduce('max', fromArray([1, 3, 3, 2], [4]), 0, out);
    expectExact(out.data, [1]);
    argReduce('min', fromArray([1, 0, 0, 2], [4]), 0, out);
    expectExact(out.data, [1]);
    argReduce('max', fromArray([NaN, 3, NaN], [3]), 0, out);
    expectExact(out.data, [0]);
    expect(() => argReduce('max', zeros([0]), 0, out)).toThrow();
    argReduce('max', zeros([0, 3]), 1, zeros([0], 'int32'));
  });
});
