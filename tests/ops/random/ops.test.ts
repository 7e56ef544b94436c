/**
 * randomUniform, randomNormal and truncatedNormal: reproducible per-run streams (TF1 seeds), their distributions
 * (moments and Kolmogorov–Smirnov distance over 100,000 samples), dtypes, shapes, misuse, and the stateful
 * contract: random nodes are never merged or folded, and only successful runs advance them.
 */
import {
  add,
  DType,
  DTypeError,
  FeedError,
  Graph,
  GraphError,
  gradients,
  mul,
  NDArray,
  randomNormal,
  randomUniform,
  RuntimeError,
  Seed,
  Session,
  ShapeError,
  sum,
  SUM,
  Tensor,
  truncatedNormal,
} from '../../../src';
import { correlation, ksDistance, lagCorrelation, mean, normalCdf, std } from './stats';

const N = 100_000;
/** KS distance accepted for N samples: about 2.5× the 5% critical value 1.36/√N, still far below a real defect. */
const KS_LIMIT = 0.01;

type Builder = (shape: number[], dtype: DType, seed: Seed | undefined, g: Graph) => Tensor;

const BUILDERS: [string, Builder][] = [
  ['randomUniform', (shape, dtype, seed, g) => randomUniform(shape, 0, 1, dtype, seed, g)],
  ['randomNormal', (shape, dtype, seed, g) => randomNormal(shape, 0, 1, dtype, seed, g)],
  ['truncatedNormal', (shape, dtype, seed, g) => truncatedNormal(shape, 0, 1, dtype, seed, g)],
];

function values(a: NDArray): number[] {
  return Array.from(a.data);
}

/** The first `runs` values of `t` in a fresh session. */
function firstRuns(t: Tensor, runs: number, options = {}): number[][] {
  const session = new Session(t.graph, options);
  return Array.from({ length: runs }, () => values(session.run(t)));
}

function sample(t: Tensor): Float32Array | Float64Array | Int32Array {
  return new Session(t.graph).run(t).data as Float32Array | Float64Array | Int32Array;
}

describe('reproducible streams', () => {
  test.each(BUILDERS)('%s: run 1 and run 2 differ, and a fresh session repeats them', (_name, build) => {
    const g = new Graph();
    const r = build([4, 3], 'float32', 11, g);
    const [first, second] = firstRuns(r, 2);
    expect(first).not.toEqual(second);
    expect(firstRuns(r, 2)).toEqual([first, second]);
  });

  test('two nodes with the same seed draw the same numbers (TF1 op seeds)', () => {
    const g = new Graph();
    const a = randomNormal([5], 0, 1, 'float32', 3, g);
    const b = randomNormal([5], 0, 1, 'float32', 3, g);
    const [va, vb] = new Session(g).run([a, b]);
    expect(values(va)).toEqual(values(vb));
  });

  test('different seeds draw different numbers', () => {
    const g = new Graph();
    const a = randomUniform([5], 0, 1, 'float32', 1, g);
    const b = randomUniform([5], 0, 1, 'float32', 2, g);
    const [va, vb] = new Session(g).run([a, b]);
    expect(values(va)).not.toEqual(values(vb));
  });

  test('string seeds are accepted and reproducible', () => {
    const g = new Graph();
    const r = randomUniform([4], 0, 1, 'float32', 'layer1/dropout', g);
    expect(firstRuns(r, 1)).toEqual(firstRuns(r, 1));
  });

  test('an unseeded node is seeded by its id: an identically built graph draws the same numbers', () => {
    const build = (): Tensor => {
      const g = new Graph();
      g.placeholder('x', [2]);
      return randomNormal([6], 0, 1, 'float64', undefined, g);
    };
    const r = build();
    expect(r.node.attrs.nodeSeed).toBe(r.id);
    expect(firstRuns(r, 2)).toEqual(firstRuns(build(), 2));
  });

  test('two unseeded nodes draw different numbers', () => {
    const g = new Graph();
    const a = randomUniform([5], 0, 1, 'float32', undefined, g);
    const b = randomUniform([5], 0, 1, 'float32', undefined, g);
    const [va, vb] = new Session(g).run([a, b]);
    expect(values(va)).not.toEqual(values(vb));
  });

  test('a node counts its runs across different fetch sets (plans) of one session', () => {
    const g = new Graph();
    const r = randomUniform([3], 0, 1, 'float32', 5, g);
    const [first, second, third] = firstRuns(r, 3);
    const session = new Session(g);
    expect(values(session.run(r))).toEqual(first);
    const [again] = session.run([r, add(r, 1)]);
    expect(values(again)).toEqual(second);
    expect(values(session.run(mul(r, 2)))).toEqual(third.map((v) => Math.fround(v * 2)));
  });

  test('optimized and unoptimized sessions draw the same sequence', () => {
    const g = new Graph();
    const r = truncatedNormal([8], 0, 1, 'float32', 9, g);
    expect(firstRuns(r, 3, { optimize: false })).toEqual(firstRuns(r, 3));
  });

  test('running one session does not advance another', () => {
    const g = new Graph();
    const r = randomUniform([3], 0, 1, 'float32', 5, g);
    const [first] = firstRuns(r, 1);
    const s1 = new Session(g);
    const s2 = new Session(g);
    s1.run(r);
    s1.run(r);
    expect(values(s2.run(r))).toEqual(first);
  });

  test('a failed run does not advance the stream (a later kernel throws after the random one ran)', () => {
    const g = new Graph();
    const r = randomUniform([3], 0, 1, 'float32', 5, g);
    const y = sum(r);
    const [first, second] = firstRuns(r, 2);
    const session = new Session(g);
    const spy = jest.spyOn(SUM, 'kernel').mockImplementationOnce(() => {
      throw new Error('boom');
    });
    try {
      expect(() => session.run([r, y])).toThrow(RuntimeError);
    } finally {
      spy.mockRestore();
    }
    expect(values(session.run([r, y])[0])).toEqual(first);
    expect(values(session.run(r))).toEqual(second);
  });

  test('a run that fails before any kernel (a missing feed) does not advance the stream', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const r = randomUniform([3], 0, 1, 'float32', 5, g);
    const [first] = firstRuns(r, 1);
    const session = new Session(g);
    expect(() => session.run(add(r, x))).toThrow(FeedError);
    expect(values(session.run(r))).toEqual(first);
  });

  test('a fed random node takes the fed value and is not drawn', () => {
    const g = new Graph();
    const r = randomUniform([2], 0, 1, 'float32', 5, g);
    const [first] = firstRuns(r, 1);
    const session = new Session(g);
    expect(values(session.run(r, new Map([[r, [7, 8]]])))).toEqual([7, 8]);
    expect(values(session.run(r))).toEqual(first);
  });

  test('successive runs are uncorrelated', () => {
    const g = new Graph();
    const r = randomNormal([N], 0, 1, 'float64', 1, g);
    const session = new Session(g);
    const a = session.run(r).data;
    const b = session.run(r).data;
    expect(Math.abs(correlation(a, b))).toBeLessThan(0.01);
  });
});

describe('distributions (100,000 samples)', () => {
  test('randomUniform float32 stays in [minval, maxval) with the uniform mean, std and CDF', () => {
    const g = new Graph();
    const data = sample(randomUniform([N], -2, 3, 'float32', 1, g));
    expect(Math.min(...data)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...data)).toBeLessThan(3);
    expect(mean(data)).toBeCloseTo(0.5, 1);
    expect(std(data)).toBeCloseTo(5 / Math.sqrt(12), 2);
    expect(ksDistance(data, (x) => (x + 2) / 5)).toBeLessThan(KS_LIMIT);
  });

  test('randomUniform float64 has the uniform CDF and no correlation between neighbours', () => {
    const g = new Graph();
    const data = sample(randomUniform([N], 0, 1, 'float64', 2, g));
    expect(data).toBeInstanceOf(Float64Array);
    expect(ksDistance(data, (x) => x)).toBeLessThan(KS_LIMIT);
    expect(Math.abs(lagCorrelation(data))).toBeLessThan(0.01);
  });

  test('randomUniform int32 draws every integer of [minval, maxval) about equally often', () => {
    const g = new Graph();
    const data = sample(randomUniform([N], -3, 5, 'int32', 3, g));
    expect(data).toBeInstanceOf(Int32Array);
    const counts = new Map<number, number>();
    for (const v of data) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3, 4]);
    for (const count of counts.values()) expect(Math.abs(count / N - 1 / 8)).toBeLessThan(0.005);
  });

  test('randomNormal float32 has the given mean and stdDev and the normal CDF', () => {
    const g = new Graph();
    const data = sample(randomNormal([N], 1.5, 2, 'float32', 4, g));
    expect(data).toBeInstanceOf(Float32Array);
    expect(mean(data)).toBeCloseTo(1.5, 1);
    expect(std(data)).toBeCloseTo(2, 1);
    expect(ksDistance(data, (x) => normalCdf((x - 1.5) / 2))).toBeLessThan(KS_LIMIT);
  });

  test('randomNormal float64 is standard normal by default, neighbours uncorrelated', () => {
    const g = new Graph();
    const data = sample(randomNormal([N], undefined, undefined, 'float64', 5, g));
    expect(Math.abs(mean(data))).toBeLessThan(0.015);
    expect(Math.abs(std(data) - 1)).toBeLessThan(0.015);
    expect(ksDistance(data, normalCdf)).toBeLessThan(KS_LIMIT);
    expect(Math.abs(lagCorrelation(data))).toBeLessThan(0.01);
  });

  test.each(['float32', 'float64'] as const)(
    'truncatedNormal %s stays within two stdDevs with the truncated normal std and CDF',
    (dtype) => {
      const g = new Graph();
      const data = sample(truncatedNormal([N], -1, 0.5, dtype, 6, g));
      expect(Math.min(...data)).toBeGreaterThanOrEqual(-2);
      expect(Math.max(...data)).toBeLessThanOrEqual(0);
      expect(mean(data)).toBeCloseTo(-1, 1);
      // The std of a standard normal cut at ±2 is √(1 − 4φ(2) / (Φ(2) − Φ(−2))) ≈ 0.8796.
      expect(std(data) / 0.5).toBeCloseTo(0.8796, 2);
      const mass = normalCdf(2) - normalCdf(-2);
      const cdf = (x: number): number => (normalCdf((x + 1) / 0.5) - normalCdf(-2)) / mass;
      expect(ksDistance(data, cdf)).toBeLessThan(KS_LIMIT);
    },
  );
});

describe('dtypes and shapes', () => {
  test.each(BUILDERS)('%s gives float32 by default and float64 when asked', (_name, build) => {
    const g = new Graph();
    const byDefault = build([2], undefined as unknown as DType, 1, g);
    const wide = build([2], 'float64', 1, g);
    expect(byDefault.dtype).toBe('float32');
    expect(wide.dtype).toBe('float64');
    const [a, b] = new Session(g).run([byDefault, wide]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(b.data).toBeInstanceOf(Float64Array);
  });

  test.each(BUILDERS)('%s makes scalars, rank-4 and size-0 shapes', (_name, build) => {
    const g = new Graph();
    const shapes = [[], [2, 1, 3, 2], [0, 3]];
    const tensors = shapes.map((shape) => build(shape, 'float32', 1, g));
    tensors.forEach((t, i) => expect(t.shape).toEqual(shapes[i]));
    const results = new Session(g).run(tensors);
    results.forEach((r, i) => expect(r.shape).toEqual(shapes[i]));
    expect(typeof results[0].toArray()).toBe('number');
  });

  test.each(['randomNormal', 'truncatedNormal'])('%s refuses int32 and bool', (name) => {
    const build = BUILDERS.find(([n]) => n === name)?.[1] as Builder;
    const g = new Graph();
    expect(() => build([2], 'int32', 1, g)).toThrow(DTypeError);
    expect(() => build([2], 'bool', 1, g)).toThrow(/dtype must be float32 or float64, got "bool"/);
  });

  test('randomUniform refuses bool', () => {
    expect(() => randomUniform([2], 0, 1, 'bool', 1, new Graph())).toThrow(DTypeError);
  });
});

describe('misuse', () => {
  test('forgetting the graph names the missing argument', () => {
    expect(() => randomUniform([2], 0, 1, 'float32', 1, undefined as unknown as Graph)).toThrow(
      /the last argument must be the Graph/,
    );
  });

  test.each([[[2, null]], [[2, -1]], [[1.5]]])('shape %j is refused', (shape) => {
    const g = new Graph();
    expect(() => randomNormal(shape as number[], 0, 1, 'float32', 1, g)).toThrow(ShapeError);
  });

  test('minval must be below maxval', () => {
    const g = new Graph();
    expect(() => randomUniform([2], 1, 1, 'float32', 1, g)).toThrow(/minval < maxval/);
    expect(() => randomUniform([2], 2, 1, 'float64', 1, g)).toThrow(GraphError);
  });

  test('bounds must be finite, and distinct once rounded to float32', () => {
    const g = new Graph();
    expect(() => randomUniform([2], 0, Infinity, 'float32', 1, g)).toThrow(/maxval must be a finite number/);
    expect(() => randomUniform([2], 1, 1 + 1e-9, 'float32', 1, g)).toThrow(/round to the same float32/);
  });

  test('int32 bounds must be integers', () => {
    expect(() => randomUniform([2], 0, 2.5, 'int32', 1, new Graph())).toThrow(/integer bounds/);
  });

  test('stdDev must be non-negative and the mean finite', () => {
    const g = new Graph();
    expect(() => randomNormal([2], 0, -1, 'float32', 1, g)).toThrow(/stdDev must be >= 0/);
    expect(() => truncatedNormal([2], NaN, 1, 'float32', 1, g)).toThrow(/mean must be a finite number/);
  });

  test('a seed must be a finite number or a string', () => {
    const g = new Graph();
    expect(() => randomUniform([2], 0, 1, 'float32', NaN, g)).toThrow(/seed must be a finite number or a string/);
    expect(() => randomUniform([2], 0, 1, 'float32', {} as unknown as Seed, g)).toThrow(GraphError);
  });

  test('errors name the op and the node', () => {
    const g = new Graph();
    expect(() => g.nameScope('init', () => randomNormal([2], 0, -1, 'float32', 1, g))).toThrow(
      /^randomNormal 'init\/randomNormal'/,
    );
  });
});

describe('stateful: never merged, never folded', () => {
  test('building the same random op twice gives two nodes', () => {
    const g = new Graph();
    const a = randomUniform([3], 0, 1, 'float32', 1, g);
    const b = randomUniform([3], 0, 1, 'float32', 1, g);
    expect(a.id).not.toBe(b.id);
  });

  test('the optimized plan keeps both nodes and folds nothing around them', () => {
    const g = new Graph();
    const a = randomUniform([3], 0, 1, 'float32', 1, g);
    const b = randomUniform([3], 0, 1, 'float32', 1, g);
    const y = add(mul(a, 2), mul(b, 2));
    const text = new Session(g).explain(y);
    const plan = text.slice(text.indexOf('plan:'));
    expect(plan.match(/= randomUniform\(/g)).toHaveLength(2);
    expect(plan).toMatch(/= (add|fused)\(/);
    expect(text).not.toMatch(/folded [1-9]/);
    expect(text).not.toMatch(/merged [1-9]/);
  });

  test("a random node in a gradient graph: d(sum(r·x))/dx is the same run's r", () => {
    const g = new Graph();
    const x = g.placeholder('x', [4], 'float64');
    const r = randomNormal([4], 0, 1, 'float64', 8, g);
    const [dx] = gradients(sum(mul(r, x)), [x]);
    const [rv, dxv] = new Session(g).run([r, dx as Tensor], { x: [1, 2, 3, 4] });
    expect(values(dxv)).toEqual(values(rv));
  });
});
