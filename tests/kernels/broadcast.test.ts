import {
  binary,
  broadcastShapes,
  broadcastTo,
  cast,
  copy,
  sumTo,
  ternary,
  unary,
  type Buf,
} from '../../src/ops/kernels';
import {
  Rng,
  broadcastIndex,
  expectClose,
  expectExact,
  fromArray,
  operandShape,
  rand,
  randShape,
  unravel,
  zeros,
  type DType,
} from './helpers';

function refBroadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let d = 0; d < r; d++) {
    const da = a[a.length - r + d] ?? 1;
    const db = b[b.length - r + d] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** out[i] = fn(operands at the broadcast index of i), by explicit index arithmetic. */
function refElementwise(fn: (...v: number[]) => number, ops: readonly Buf[], out: Buf): void {
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, out.shape);
    out.data[i] = fn(...ops.map((o) => o.data[broadcastIndex(idx, o.shape)]));
  }
}

describe('broadcastShapes', () => {
  it('follows NumPy rules', () => {
    expect(broadcastShapes([], [])).toEqual([]);
    expect(broadcastShapes([3], [])).toEqual([3]);
    expect(broadcastShapes([], [2, 3])).toEqual([2, 3]);
    expect(broadcastShapes([2, 1, 4], [3, 1])).toEqual([2, 3, 4]);
    expect(broadcastShapes([5, 4], [1])).toEqual([5, 4]);
    expect(broadcastShapes([0], [1])).toEqual([0]);
    expect(broadcastShapes([1], [0])).toEqual([0]);
    expect(broadcastShapes([2, 0], [2, 1])).toEqual([2, 0]);
    expect(broadcastShapes([3], [4])).toBeNull();
    expect(broadcastShapes([2, 3], [3, 3])).toBeNull();
    expect(broadcastShapes([0], [2])).toBeNull();
  });

  it('agrees with a reference on random shapes', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 500; t++) {
      const a = randShape(rng, 0, 4, 0.1).map((n) => (rng.next() < 0.3 ? 1 : n));
      const b = randShape(rng, 0, 4, 0.1).map((n) => (rng.next() < 0.3 ? 1 : n));
      expect(broadcastShapes(a, b)).toEqual(refBroadcastShapes(a, b));
    }
  });
});

describe('binary', () => {
  const sub = binary((a, b) => a - 2 * b);
  const less = binary((a, b) => (a < b ? 1 : 0));

  it('matches the reference on random broadcast shapes and dtypes', () => {
    const rng = new Rng(2);
    for (let t = 0; t < 400; t++) {
      const outShape = randShape(rng, 0, 4);
      const swap = rng.next() < 0.5;
      const sa = swap ? operandShape(rng, outShape) : [...outShape];
      const sb = swap ? [...outShape] : operandShape(rng, outShape);
      // Occasionally neither operand has the full shape: [3,1] with [1,4].
      const sa2 = rng.next() < 0.3 ? operandShape(rng, outShape) : sa;
      const realOut = broadcastShapes(sa2, sb);
      if (realOut === null) throw new Error('operandShape must produce compatible shapes');
      const dtype = rng.pick<DType>(['float32', 'float64', 'int32']);
      const a = rand(rng, sa2, dtype);
      const b = rand(rng, sb, dtype);
      const out = zeros(realOut, dtype);
      const ref = zeros(realOut, dtype);
      sub(a, b, out);
      refElementwise((x, y) => x - 2 * y, [a, b], ref);
      expectExact(out.data, ref.data);
      const outB = zeros(realOut, 'bool');
      const refB = zeros(realOut, 'bool');
      less(a, b, outB);
      refElementwise((x, y) => (x < y ? 1 : 0), [a, b], refB);
      expectExact(outB.data, refB.data);
    }
  });

  it('handles scalars, rank mismatch and size-0 dims', () => {
    const add = binary((a, b) => a + b);
    const s = fromArray([10], []);
    const m = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    const out = zeros([2, 3]);
    add(s, m, out);
    expectExact(out.data, [11, 12, 13, 14, 15, 16]);
    add(m, s, out);
    expectExact(out.data, [11, 12, 13, 14, 15, 16]);
    const col = fromArray([100, 200], [2, 1]);
    add(col, fromArray([1, 2, 3], [3]), out);
    expectExact(out.data, [101, 102, 103, 201, 202, 203]);
    const k = 3;
    binary((x, y) => x * k + y)(m, col, out);
    expectExact(out.data, [103, 106, 109, 212, 215, 218]);
    const scalarOut = zeros([]);
    add(fromArray([2], []), fromArray([3], []), scalarOut);
    expectExact(scalarOut.data, [5]);
    const empty = zeros([2, 0, 3]);
    add(zeros([0, 1]), zeros([2, 1, 3]), empty);
    add(zeros([]), zeros([2, 0, 3]), empty);
    expect(empty.data.length).toBe(0);
  });

  it('rejects incompatible shapes', () => {
    const add = binary((a, b) => a + b);
    expect(() => add(zeros([3]), zeros([2]), zeros([3]))).toThrow();
    expect(() => add(zeros([2, 3]), zeros([3]), zeros([3, 2]))).toThrow();
  });
});

describe('unary', () => {
  it('applies fn elementwise, converting to the output dtype', () => {
    const rng = new Rng(3);
    const neg = unary((x) => -x);
    const isPos = unary((x) => (x > 0 ? 1 : 0));
    for (const shape of [[], [0], [1], [7], [2, 0, 3], [3, 4, 5]]) {
      const x = rand(rng, shape, 'float32');
      const out = zeros(shape, 'float32');
      neg(x, out);
      const negated = x.data.map((v) => -v);
      expectExact(out.data, negated);
      const b = zeros(shape, 'bool');
      isPos(x, b);
      const positive = x.data.map((v) => (v > 0 ? 1 : 0));
      expectExact(b.data, positive);
    }
  });
});

describe('ternary', () => {
  const where = ternary((c, a, b) => (c !== 0 ? a : b));

  it('matches the reference for where on random broadcast shapes', () => {
    const rng = new Rng(4);
    for (let t = 0; t < 300; t++) {
      const outShape = randShape(rng, 0, 4);
      const shapes = [operandShape(rng, outShape), operandShape(rng, outShape), operandShape(rng, outShape)];
      shapes[rng.int(0, 2)] = [...outShape];
      const c = rand(rng, shapes[0], 'bool');
      const a = rand(rng, shapes[1]);
      const b = rand(rng, shapes[2]);
      const out = zeros(outShape);
      const ref = zeros(outShape);
      where(c, a, b, out);
      refElementwise((cv, av, bv) => (cv !== 0 ? av : bv), [c, a, b], ref);
      expectExact(out.data, ref.data);
    }
  });

  it('handles all-same shapes and scalars', () => {
    const c = fromArray([1, 0, 1], [3], 'bool');
    const out = zeros([3]);
    where(c, fromArray([1, 2, 3], [3]), fromArray([-1, -2, -3], [3]), out);
    expectExact(out.data, [1, -2, 3]);
    where(fromArray([0], [], 'bool'), fromArray([1, 2, 3], [3]), fromArray([9], []), out);
    expectExact(out.data, [9, 9, 9]);
  });
});

describe('broadcastTo', () => {
  it('matches the reference on random shapes', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 300; t++) {
      const outShape = randShape(rng, 0, 4);
      const dtype = rng.pick<DType>(['float32', 'float64', 'int32', 'bool']);
      const x = rand(rng, operandShape(rng, outShape), dtype);
      const out = zeros(outShape, dtype);
      const ref = zeros(outShape, dtype);
      broadcastTo(x, out);
      refElementwise((v) => v, [x], ref);
      expectExact(out.data, ref.data);
    }
  });
});

describe('sumTo', () => {
  function refSumTo(x: Buf, out: Buf): void {
    const acc = new Float64Array(out.data.length);
    for (let i = 0; i < x.data.length; i++) acc[broadcastIndex(unravel(i, x.shape), out.shape)] += x.data[i];
    out.data.set(acc);
  }

  it('is the adjoint of broadcasting on random shapes', () => {
    const rng = new Rng(6);
    for (let t = 0; t < 400; t++) {
      const xShape = randShape(rng, 0, 4);
      const outShape = operandShape(rng, xShape);
      const dtype = rng.pick<DType>(['float32', 'float64']);
      const x = rand(rng, xShape, dtype);
      const out = zeros(outShape, dtype);
      const ref = zeros(outShape, dtype);
      out.data.fill(123);
      sumTo(x, out);
      refSumTo(x, ref);
      expectClose(out.data, ref.data, dtype === 'float32' ? 1e-6 : 1e-12);
    }
  });

  it('sums a size-0 dim to zeros and is a copy when nothing is summed', () => {
    const out = zeros([2, 1]);
    out.data.fill(7);
    sumTo(zeros([2, 0]), out);
    expectExact(out.data, [0, 0]);
    const x = fromArray([1, 2, 3], [3, 1]);
    const same = zeros([3, 1]);
    sumTo(x, same);
    expectExact(same.data, [1, 2, 3]);
    const scalar = zeros([]);
    sumTo(fromArray([1, 2, 3, 4], [2, 2]), scalar);
    expectExact(scalar.data, [10]);
    const padded = zeros([1, 1, 2]);
    sumTo(fromArray([1, 2, 3, 4], [2, 2]), padded);
    expectExact(padded.data, [4, 6]);
    expect(() => sumTo(zeros([2]), zeros([2, 2]))).toThrow();
  });
});

describe('cast and copy', () => {
  const values = [0, 1, -1, 2.7, -2.7, 0.5, -0.5, 1e3, -0, NaN];

  function castTo(dtype: DType, src: DType, vals: readonly number[]): number[] {
    const x = fromArray(vals, [vals.length], src);
    const out = zeros([vals.length], dtype);
    cast(x, out);
    return Array.from(out.data);
  }

  it('truncates toward zero into int32', () => {
    expectExact(castTo('int32', 'float64', values), [0, 1, -1, 2, -2, 0, 0, 1000, 0, 0]);
    expectExact(castTo('int32', 'float32', values), [0, 1, -1, 2, -2, 0, 0, 1000, 0, 0]);
  });

  it('maps nonzero to 1 into bool, and bool reads back as 0/1', () => {
    expectExact(castTo('bool', 'float64', values), [0, 1, 1, 1, 1, 1, 1, 1, 0, 1]);
    expectExact(castTo('bool', 'int32', [0, 3, -4]), [0, 1, 1]);
    expectExact(castTo('float32', 'bool', [0, 1, 1]), [0, 1, 1]);
    expectExact(castTo('int32', 'bool', [1, 0]), [1, 0]);
  });

  it('rounds float64 to float32', () => {
    expectExact(castTo('float32', 'float64', [0.1, 1 / 3]), [Math.fround(0.1), Math.fround(1 / 3)]);
    expectExact(castTo('float64', 'int32', [5, -6]), [5, -6]);
  });

  it('copy reshapes with the same conversions and handles empty/scalar buffers', () => {
    const x = fromArray([1.5, -1.5, 0, 4], [2, 2]);
    const out = zeros([4], 'int32');
    copy(x, out);
    expectExact(out.data, [1, -1, 0, 4]);
    const b = zeros([1, 4], 'bool');
    copy(x, b);
    expectExact(b.data, [1, 1, 0, 1]);
    copy(zeros([0, 3]), zeros([0]));
    const s = zeros([], 'float32');
    copy(fromArray([2.5], []), s);
    expectExact(s.data, [2.5]);
    expect(() => copy(zeros([3]), zeros([4]))).toThrow();
  });
});
