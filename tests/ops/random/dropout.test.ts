/**
 * dropout: inverted dropout as in tfjs (kept units scaled by 1 / (1 − rate)), identity when not training (a JS
 * boolean, or a bool tensor fed at run time), noiseShape, and its gradient dy · mask / (1 − rate) checked against
 * the same run's mask and against finite differences (each fresh session's first run draws the same mask).
 */
import {
  DTypeError,
  dropout,
  Graph,
  GraphError,
  gradients,
  jvp,
  mul,
  NDArray,
  RuntimeError,
  Session,
  ShapeError,
  sum,
  SUM,
  Tensor,
} from '../../../src';
import { Rng, randomArray } from '../util';

const rng = new Rng(2024);

function values(a: NDArray): number[] {
  return Array.from(a.data);
}

/** Positive values, so a zero in the output can only come from the mask. */
function positive(shape: number[], dtype: 'float32' | 'float64' = 'float32'): NDArray {
  return randomArray(rng, shape, dtype, { lo: 0.5, hi: 2 });
}

describe('dropout forward', () => {
  test('zeroes about a fraction rate of the elements', () => {
    const g = new Graph();
    const x = g.constant(NDArray.from(new Float32Array(100_000).fill(1)));
    const y = new Session(g).run(dropout(x, 0.3, undefined, 1));
    const zeros = values(y).filter((v) => v === 0).length;
    expect(Math.abs(zeros / 100_000 - 0.3)).toBeLessThan(0.01);
  });

  test('scales the kept elements by 1 / (1 − rate), so the mean is kept', () => {
    const g = new Graph();
    const value = positive([200, 50]);
    const x = g.constant(value);
    const y = new Session(g).run(dropout(x, 0.75, undefined, 2));
    const scale = Math.fround(1 / 0.25);
    values(y).forEach((v, i) => {
      if (v !== 0) expect(v).toBe(Math.fround(value.data[i] * scale));
    });
    const kept = values(y).filter((v) => v !== 0).length;
    expect(Math.abs(kept / 10_000 - 0.25)).toBeLessThan(0.02);
  });

  test('keeps x dtype float64', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3, 4], 'float64');
    const y = dropout(x, 0.5, undefined, 3);
    expect(y.dtype).toBe('float64');
    expect(new Session(g).run(y, { x: positive([3, 4], 'float64') }).data).toBeInstanceOf(Float64Array);
  });

  test('follows the fed shape when x has unknown dims', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const y = dropout(x, 0.5, undefined, 4);
    expect(y.shape).toEqual([null, 3]);
    const session = new Session(g);
    expect(session.run(y, { x: positive([5, 3]) }).shape).toEqual([5, 3]);
    expect(session.run(y, { x: positive([2, 3]) }).shape).toEqual([2, 3]);
  });

  test('a scalar x is dropped or kept as a whole', () => {
    const g = new Graph();
    const y = new Session(g).run(dropout(g.constant(2), 0.5, undefined, 5));
    expect([0, 4]).toContain(y.toArray());
  });

  test('noiseShape [1, n] drops the same columns in every row', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 8]);
    const y = new Session(g).run(dropout(x, 0.5, [1, 8], 6), { x: positive([6, 8]) });
    const rows = (y.toArray() as number[][]).map((row) => row.map((v) => v === 0));
    for (const row of rows) expect(row).toEqual(rows[0]);
  });

  test("noiseShape [null, 1] drops whole rows, null taking x's unknown batch dim", () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 8]);
    const y = new Session(g).run(dropout(x, 0.5, [null, 1], 7), { x: positive([40, 8]) });
    const rows = y.toArray() as number[][];
    for (const row of rows) expect(new Set(row.map((v) => v === 0)).size).toBe(1);
    expect(rows.some((row) => row[0] === 0) && rows.some((row) => row[0] !== 0)).toBe(true);
  });

  test('the mask is reproducible: run 1 of every fresh session drops the same elements', () => {
    const g = new Graph();
    const x = g.constant(positive([4, 6]));
    const y = dropout(x, 0.5);
    const first = values(new Session(g).run(y));
    expect(values(new Session(g).run(y))).toEqual(first);
    const session = new Session(g);
    session.run(y);
    expect(values(session.run(y))).not.toEqual(first);
  });

  test('a failed run does not advance the mask', () => {
    const g = new Graph();
    const x = g.constant(positive([4, 6]));
    const y = dropout(x, 0.5, undefined, 8);
    const z = sum(y);
    const first = values(new Session(g).run(y));
    const session = new Session(g);
    const spy = jest.spyOn(SUM, 'kernel').mockImplementationOnce(() => {
      throw new Error('boom');
    });
    try {
      expect(() => session.run([y, z])).toThrow(RuntimeError);
    } finally {
      spy.mockRestore();
    }
    expect(values(session.run(y))).toEqual(first);
  });
});

describe('dropout when not training', () => {
  test('training false returns x itself', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    expect(dropout(x, 0.5, undefined, 1, false)).toBe(x);
  });

  test('rate 0 returns x itself', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    expect(dropout(x, 0)).toBe(x);
  });

  test('a bool tensor fed false passes x through unchanged, fed true drops', () => {
    const g = new Graph();
    const x = g.placeholder('x', [50]);
    const training = g.placeholder('training', [], 'bool');
    const y = dropout(x, 0.5, undefined, 9, training);
    const value = positive([50]);
    const session = new Session(g);
    expect(values(session.run(y, { x: value, training: false }))).toEqual(values(value));
    expect(values(session.run(y, { x: value, training: true }))).toContain(0);
  });
});

describe('dropout gradient', () => {
  test("dx = dy · mask / (1 − rate), checked with the same run's mask", () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 10]);
    const y = dropout(x, 0.4, undefined, 10);
    const dyValue = randomArray(rng, [20, 10], 'float32', { lo: -1, hi: 1 });
    const dy = g.placeholder('dy', [null, 10]);
    const [dx] = gradients(y, [x], [dy]);
    const value = positive([20, 10]);
    const [yv, dxv] = new Session(g).run([y, dx as Tensor], { x: value, dy: dyValue });
    const scale = Math.fround(1 / 0.6);
    values(dxv).forEach((v, i) => {
      const kept = yv.data[i] !== 0;
      expect(v).toBeCloseTo(kept ? dyValue.data[i] * scale : 0, 5);
    });
  });

  test('when a fed training flag is false, the gradient is dy', () => {
    const g = new Graph();
    const x = g.placeholder('x', [6]);
    const training = g.placeholder('training', [], 'bool');
    const [dx] = gradients(sum(dropout(x, 0.5, undefined, 11, training)), [x]);
    const dxv = new Session(g).run(dx as Tensor, { x: positive([6]), training: false });
    expect(values(dxv)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  test('matches central finite differences in float64 (a fresh session per evaluation keeps the mask)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3, 4], 'float64');
    const w = g.constant(randomArray(rng, [3, 4], 'float64', { lo: -1, hi: 1 }));
    const loss = sum(mul(dropout(x, 0.5, undefined, 12), w));
    const [dx] = gradients(loss, [x]);
    const value = positive([3, 4], 'float64');
    const analytic = new Session(g).run(dx as Tensor, { x: value });
    const at = (data: Float64Array): number =>
      new Session(g).run(loss, { x: new NDArray(data, [3, 4], 'float64') }).get();
    const eps = 1e-6;
    for (let i = 0; i < 12; i++) {
      const plus = Float64Array.from(value.data);
      const minus = Float64Array.from(value.data);
      plus[i] += eps;
      minus[i] -= eps;
      const numeric = (at(plus) - at(minus)) / (2 * eps);
      expect(Math.abs(analytic.data[i] - numeric)).toBeLessThan(1e-6);
    }
  });

  test("forward mode: the tangent is v · mask / (1 − rate), with the same run's mask", () => {
    const g = new Graph();
    const x = g.placeholder('x', [8], 'float64');
    const y = dropout(x, 0.5, undefined, 14);
    const v = randomArray(rng, [8], 'float64', { lo: -1, hi: 1 });
    const [tangent] = jvp(y, [x], [g.constant(v)]);
    const [yv, tv] = new Session(g).run([y, tangent], { x: positive([8], 'float64') });
    values(tv).forEach((t, i) => expect(t).toBeCloseTo(yv.data[i] === 0 ? 0 : v.data[i] * 2, 12));
  });

  test('the second derivative is zero (dropout is linear in x): no gradient path remains', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4], 'float64');
    const [dx] = gradients(sum(dropout(x, 0.5, undefined, 13)), [x]);
    const [d2] = gradients(sum(dx as Tensor), [x], undefined, { unconnected: 'zero' });
    const d2v = new Session(g).run(d2 as Tensor, { x: positive([4], 'float64') });
    expect(values(d2v)).toEqual([0, 0, 0, 0]);
  });
});

describe('dropout misuse', () => {
  test.each([-0.1, 1, 1.5, NaN])('rate %p is refused', (rate) => {
    const g = new Graph();
    expect(() => dropout(g.placeholder('x', [3]), rate)).toThrow(/rate must be a number in \[0, 1\)/);
  });

  test('an int32 x is refused', () => {
    const g = new Graph();
    expect(() => dropout(g.placeholder('x', [3], 'int32'), 0.5)).toThrow(DTypeError);
  });

  test.each([[[3, 4]], [[2, 1, 4]], [[null, 4, 1]]])('noiseShape %j that does not fit x [?, 4] is refused', (noise) => {
    const g = new Graph();
    expect(() => dropout(g.placeholder('x', [null, 4]), 0.5, noise)).toThrow(ShapeError);
  });

  test('training must be a bool scalar of the same graph', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    expect(() => dropout(x, 0.5, undefined, 1, g.placeholder('f', [], 'float32'))).toThrow(DTypeError);
    expect(() => dropout(x, 0.5, undefined, 1, g.placeholder('v', [2], 'bool'))).toThrow(/bool scalar/);
    expect(() => dropout(x, 0.5, undefined, 1, new Graph().placeholder('t', [], 'bool'))).toThrow(GraphError);
  });
});
