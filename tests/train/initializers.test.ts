/**
 * Initializers: shapes and dtypes, the statistics each promises (on large shapes), fans as Keras computes them,
 * determinism by seed and by variable name, and g.variable with an initializer.
 */
import {
  computeFans,
  DTypeError,
  fillRandomNormal,
  fillRandomUniform,
  Graph,
  GraphError,
  initializers,
  NDArray,
  randomNormal,
  randomUniform,
  Session,
  ShapeError,
  truncatedNormal,
} from '../../src';
import { mean, std } from '../ops/random/stats';

function extremes(values: ArrayLike<number>): [number, number] {
  let [low, high] = [Infinity, -Infinity];
  for (let i = 0; i < values.length; i++) [low, high] = [Math.min(low, values[i]), Math.max(high, values[i])];
  return [low, high];
}

function maxAbs(values: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]));
  return worst;
}

function expectStats(values: ArrayLike<number>, wantMean: number, wantStd: number): void {
  // 240,000 samples: the sample mean is within ~0.01·std and the sample std within ~0.5% of theirs.
  expect(Math.abs(mean(values) - wantMean)).toBeLessThan(0.01 * wantStd);
  expect(Math.abs(std(values) / wantStd - 1)).toBeLessThan(0.01);
}

describe('shapes and dtypes', () => {
  test('zeros, ones and constant fill the shape with their value', () => {
    expect(initializers.zeros().apply([2, 3]).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(initializers.ones().apply([2]).toArray()).toEqual([1, 1]);
    expect(initializers.constant({ value: 2.5 }).apply([3]).toArray()).toEqual([2.5, 2.5, 2.5]);
  });

  test('the default dtype is float32; float64, int32 and bool are honoured by the constant kinds', () => {
    expect(initializers.ones().apply([2]).data).toBeInstanceOf(Float32Array);
    expect(initializers.ones().apply([2], 'float64').data).toBeInstanceOf(Float64Array);
    expect(initializers.constant({ value: 3.7 }).apply([2], 'int32').toArray()).toEqual([3, 3]);
    expect(initializers.ones().apply([2], 'bool').toArray()).toEqual([true, true]);
  });

  test.each([
    ['randomNormal', initializers.randomNormal({ seed: 1 })],
    ['randomUniform', initializers.randomUniform({ seed: 1 })],
    ['truncatedNormal', initializers.truncatedNormal({ seed: 1 })],
    ['glorotUniform', initializers.glorotUniform({ seed: 1 })],
    ['glorotNormal', initializers.glorotNormal({ seed: 1 })],
    ['heNormal', initializers.heNormal({ seed: 1 })],
    ['heUniform', initializers.heUniform({ seed: 1 })],
  ])('%s gives the requested shape in float32 and float64', (_name, init) => {
    const a = init.apply([4, 5, 6]);
    expect([a.shape, a.dtype, a.data.constructor]).toEqual([[4, 5, 6], 'float32', Float32Array]);
    const b = init.apply([3], 'float64');
    expect([b.shape, b.dtype, b.data.constructor]).toEqual([[3], 'float64', Float64Array]);
  });

  test('scalars and size-0 shapes work', () => {
    expect(initializers.glorotUniform({ seed: 1 }).apply([]).shape).toEqual([]);
    expect(initializers.heNormal({ seed: 1 }).apply([0, 5]).size).toBe(0);
  });

  test('a random initializer asked for int32 is a DTypeError', () => {
    expect(() => initializers.glorotUniform({ seed: 1 }).apply([2, 2], 'int32')).toThrow(DTypeError);
  });

  test('an invalid shape is a ShapeError', () => {
    expect(() => initializers.zeros().apply([2, -1])).toThrow(ShapeError);
    expect(() => initializers.zeros().apply([1.5])).toThrow(ShapeError);
  });

  test.each([
    ['a negative stddev', () => initializers.randomNormal({ stddev: -1 })],
    ['maxval below minval', () => initializers.randomUniform({ minval: 1, maxval: 0 })],
    ['a NaN constant', () => initializers.constant({ value: Number.NaN })],
    ['a non-positive scale', () => initializers.varianceScaling({ scale: 0 })],
    ['an unknown mode', () => initializers.varianceScaling({ mode: 'fanSum' as 'fanIn' })],
  ])('%s is a GraphError', (_what, make) => {
    expect(make).toThrow(GraphError);
  });
});

describe('fans (channels last, as Keras and tfjs)', () => {
  test('a matrix [in, out] has fanIn = in, fanOut = out', () => {
    expect(computeFans([784, 128])).toEqual({ fanIn: 784, fanOut: 128 });
  });

  test('a convolution kernel multiplies both by the receptive field', () => {
    expect(computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(computeFans([5, 8, 4])).toEqual({ fanIn: 40, fanOut: 20 });
  });

  test('a vector uses its size for both, a scalar 1', () => {
    expect(computeFans([10])).toEqual({ fanIn: 10, fanOut: 10 });
    expect(computeFans([])).toEqual({ fanIn: 1, fanOut: 1 });
  });
});

describe('statistics on a large shape', () => {
  const shape = [400, 600];
  const [fanIn, fanOut] = [400, 600];

  test('randomNormal has its mean and stddev', () => {
    expectStats(initializers.randomNormal({ mean: 0.5, stddev: 2, seed: 3 }).apply(shape).data, 0.5, 2);
  });

  test('randomUniform stays in [minval, maxval) with the uniform mean and stddev', () => {
    const values = initializers.randomUniform({ minval: -1, maxval: 3, seed: 4 }).apply(shape).data;
    const [low, high] = extremes(values);
    expect(low).toBeGreaterThanOrEqual(-1);
    expect(high).toBeLessThan(3);
    expectStats(values, 1, 4 / Math.sqrt(12));
  });

  test('truncatedNormal stays within two stddevs of the mean', () => {
    const values = initializers.truncatedNormal({ mean: 1, stddev: 0.5, seed: 5 }).apply(shape).data;
    expect(maxAbs(Array.from(values, (v) => v - 1))).toBeLessThan(1);
    // A normal cut at ±2σ keeps 0.8796 of its standard deviation.
    expectStats(values, 1, 0.5 * 0.8796256610342398);
  });

  test('glorotUniform: U(−limit, limit) with limit = √(6 / (fanIn + fanOut))', () => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const values = initializers.glorotUniform({ seed: 6 }).apply(shape).data;
    expect(maxAbs(values)).toBeLessThanOrEqual(limit);
    expect(maxAbs(values)).toBeGreaterThan(0.999 * limit);
    expectStats(values, 0, limit / Math.sqrt(3));
  });

  test('glorotNormal: stddev √(2 / (fanIn + fanOut)) after truncation at two (untruncated) stddevs', () => {
    const stddev = Math.sqrt(2 / (fanIn + fanOut));
    const values = initializers.glorotNormal({ seed: 7 }).apply(shape).data;
    expect(maxAbs(values)).toBeLessThan((2 * stddev) / 0.8796256610342398);
    expectStats(values, 0, stddev);
  });

  test('heNormal: stddev √(2 / fanIn)', () => {
    const values = initializers.heNormal({ seed: 8 }).apply(shape).data;
    expectStats(values, 0, Math.sqrt(2 / fanIn));
  });

  test('heUniform: U(−limit, limit) with limit = √(6 / fanIn)', () => {
    const limit = Math.sqrt(6 / fanIn);
    const values = initializers.heUniform({ seed: 9 }).apply(shape).data;
    expect(maxAbs(values)).toBeLessThanOrEqual(limit);
    expectStats(values, 0, limit / Math.sqrt(3));
  });

  test('heNormal on a convolution kernel uses the receptive field: stddev √(2 / (3·3·64))', () => {
    const values = initializers.heNormal({ seed: 10 }).apply([3, 3, 64, 512]).data;
    expectStats(values, 0, Math.sqrt(2 / (3 * 3 * 64)));
  });

  test("varianceScaling 'untruncatedNormal' with fanOut: stddev √(scale / fanOut)", () => {
    const init = initializers.varianceScaling({
      scale: 3,
      mode: 'fanOut',
      distribution: 'untruncatedNormal',
      seed: 11,
    });
    expectStats(init.apply(shape).data, 0, Math.sqrt(3 / fanOut));
  });
});

describe('determinism', () => {
  test('the same seed gives the same values; another seed others', () => {
    const a = initializers.glorotNormal({ seed: 42 }).apply([20, 30]);
    const b = initializers.glorotNormal({ seed: 42 }).apply([20, 30]);
    const c = initializers.glorotNormal({ seed: 43 }).apply([20, 30]);
    expect(b.data).toEqual(a.data);
    expect(c.data).not.toEqual(a.data);
  });

  test('a string seed works like a number seed', () => {
    const a = initializers.heUniform({ seed: 'layer1' }).apply([5, 5]);
    expect(initializers.heUniform({ seed: 'layer1' }).apply([5, 5]).data).toEqual(a.data);
    expect(initializers.heUniform({ seed: 'layer2' }).apply([5, 5]).data).not.toEqual(a.data);
  });

  test('unseeded, the variable name is the seed: same name same values, other name other values', () => {
    const build = (name: string): NDArray => {
      const g = new Graph();
      return new Session(g).run(g.variable(name, initializers.glorotUniform(), { shape: [8, 8] }));
    };
    expect(build('w').data).toEqual(build('w').data);
    expect(build('v').data).not.toEqual(build('w').data);
  });

  test('the value is made when the graph is built: every fresh session starts from it', () => {
    const g = new Graph();
    const w = g.variable('w', initializers.randomNormal({ seed: 1 }), { shape: [4, 4] });
    expect(new Session(g).run(w).data).toEqual(new Session(g).run(w).data);
    expect(new Session(g).run(w).data).toEqual(w.node.value?.data);
  });
});

describe('g.variable with an initializer', () => {
  test('takes the shape and dtype from the options', () => {
    const g = new Graph();
    const w = g.variable('w', initializers.heNormal({ seed: 1 }), { shape: [3, 4], dtype: 'float64' });
    expect([w.shape, w.dtype]).toEqual([[3, 4], 'float64']);
    expect(new Session(g).run(w).data).toBeInstanceOf(Float64Array);
  });

  test('without a shape is a ShapeError that says how to give one', () => {
    const g = new Graph();
    expect(() => g.variable('w', initializers.zeros())).toThrow(/needs the variable's shape/);
  });

  test('an unseeded initializer in a name scope is seeded by the full name', () => {
    const g = new Graph();
    const scoped = g.nameScope('layer1', () => g.variable('w', initializers.glorotUniform(), { shape: [4, 4] }));
    expect(scoped.name).toBe('layer1/w');
    expect(scoped.node.value?.data).toEqual(initializers.glorotUniform().apply([4, 4], 'float32', 'layer1/w').data);
  });
});

describe('the random stream initializers draw from (public ops API, no kernels import)', () => {
  test('fillRandomUniform / fillRandomNormal give what a random op with that seed draws in its first run', () => {
    const g = new Graph();
    const ops = [
      randomUniform([5, 7], -2, 3, 'float32', 'w', g),
      randomNormal([5, 7], 1, 0.5, 'float64', 11, g),
      truncatedNormal([5, 7], 0, 2, 'float32', 'w', g),
    ];
    const [uniform, normal, truncated] = new Session(g).run(ops);
    const u = NDArray.zeros([5, 7], 'float32');
    fillRandomUniform(u, 'w', -2, 3);
    const n = NDArray.zeros([5, 7], 'float64');
    fillRandomNormal(n, 11, 1, 0.5, false);
    const t = NDArray.zeros([5, 7], 'float32');
    fillRandomNormal(t, 'w', 0, 2, true);
    expect(u.data).toEqual(uniform.data);
    expect(n.data).toEqual(normal.data);
    expect(t.data).toEqual(truncated.data);
    expect(new Set(u.data).size).toBeGreaterThan(30);
  });

  test('an initializer with a seed fills as fillRandom* with that seed', () => {
    const g = new Graph();
    const w = g.variable('w', initializers.randomUniform({ minval: -1, maxval: 1, seed: 5 }), { shape: [4, 3] });
    const expected = NDArray.zeros([4, 3]);
    fillRandomUniform(expected, 5, -1, 1);
    expect((w.node.value as NDArray).data).toEqual(expected.data);
  });
});
