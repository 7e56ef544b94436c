/**
 * batchNormTraining: the output against a hand computation, the moving averages after two steps (alone and
 * grouped with an optimizer step), and its argument checks. Its gradients (through the batch statistics) and
 * second derivatives are rows of the op table (cases/normalization.ts).
 */
import {
  batchNormTraining,
  DTypeError,
  Graph,
  GraphError,
  group,
  initializers,
  NDArray,
  Session,
  ShapeError,
  sum,
  square,
  train,
} from '../../src';
import { expectClose } from './util';

const X1 = [
  [1, 2],
  [3, -2],
  [5, 6],
];
const X2 = [
  [0, 1],
  [2, 1],
  [-2, 4],
];

/** Column means and population variances of a [n, c] array. */
function columnStats(rows: number[][]): { mean: number[]; variance: number[] } {
  const n = rows.length;
  const mean = rows[0].map((_, j) => rows.reduce((a, r) => a + r[j], 0) / n);
  const variance = rows[0].map((_, j) => rows.reduce((a, r) => a + (r[j] - mean[j]) ** 2, 0) / n);
  return { mean, variance };
}

function setup(momentum = 0.9) {
  const g = new Graph();
  const x = g.placeholder('x', [3, 2], 'float64');
  const movingMean = g.variable('movingMean', NDArray.from([0, 0], 'float64'), { trainable: false });
  const movingVariance = g.variable('movingVariance', NDArray.from([1, 1], 'float64'), { trainable: false });
  const beta = g.variable('beta', NDArray.from([0.5, -1], 'float64'));
  const gamma = g.variable('gamma', NDArray.from([2, 3], 'float64'));
  const bn = batchNormTraining(x, movingMean, movingVariance, beta, gamma, { momentum, varianceEpsilon: 0.01 });
  return { g, x, movingMean, movingVariance, beta, gamma, bn };
}

test('the output is x normalized with the batch mean and population variance, then scaled and shifted', () => {
  const { g, x, bn } = setup();
  const { mean, variance } = columnStats(X1);
  const want = X1.map((r) =>
    r.map((v, j) => ((v - mean[j]) / Math.sqrt(variance[j] + 0.01)) * [2, 3][j] + [0.5, -1][j]),
  );
  const [y, m, v] = new Session(g).run([bn.y, bn.mean, bn.variance], new Map([[x, NDArray.from(X1, 'float64')]]));
  expectClose(y, { shape: [3, 2], data: want.flat() }, 1e-12);
  expectClose(m, { shape: [2], data: mean }, 1e-12);
  expectClose(v, { shape: [2], data: variance }, 1e-12);
});

test('fetching update twice moves the averages toward each batch by (1 - momentum)', () => {
  const { g, x, movingMean, movingVariance, bn } = setup(0.9);
  const session = new Session(g);
  session.run(bn.update, new Map([[x, NDArray.from(X1, 'float64')]]));
  session.run(bn.update, new Map([[x, NDArray.from(X2, 'float64')]]));
  let mean = [0, 0];
  let variance = [1, 1];
  for (const batch of [X1, X2]) {
    const stats = columnStats(batch);
    mean = mean.map((m, j) => 0.9 * m + 0.1 * stats.mean[j]);
    variance = variance.map((v, j) => 0.9 * v + 0.1 * stats.variance[j]);
  }
  const [m, v] = session.run([movingMean, movingVariance]);
  expectClose(m, { shape: [2], data: mean }, 1e-12);
  expectClose(v, { shape: [2], data: variance }, 1e-12);
});

test('the update runs grouped with an optimizer step, each from the values before the run', () => {
  const { g, x, movingMean, beta, gamma, bn } = setup(0.5);
  const loss = sum(square(bn.y));
  const step = group([train.sgd(0.1).minimize(loss, [beta, gamma]), bn.update]);
  const session = new Session(g);
  const feeds = new Map([[x, NDArray.from(X1, 'float64')]]);
  const [y] = session.run([bn.y, step], feeds);
  // d loss / d beta = Σ 2y over the batch; d loss / d gamma = Σ 2y·x̂ with x̂ = (y − beta) / gamma.
  const rows = [0, 1, 2].map((i) => [0, 1].map((j) => y.data[i * 2 + j]));
  const dBeta = [0, 1].map((j) => rows.reduce((a, r) => a + 2 * r[j], 0));
  const dGamma = [0, 1].map((j) => rows.reduce((a, r) => a + 2 * r[j] * ((r[j] - [0.5, -1][j]) / [2, 3][j]), 0));
  const [b, gm, m] = session.run([beta, gamma, movingMean]);
  expectClose(b, { shape: [2], data: [0.5 - 0.1 * dBeta[0], -1 - 0.1 * dBeta[1]] }, 1e-10);
  expectClose(gm, { shape: [2], data: [2 - 0.1 * dGamma[0], 3 - 0.1 * dGamma[1]] }, 1e-10);
  expectClose(m, { shape: [2], data: columnStats(X1).mean.map((v) => 0.5 * v) }, 1e-12);
});

test('NCHW: statistics over [0, 2, 3] with moving variables of shape [C]', () => {
  const g = new Graph();
  const x = g.placeholder('x', [2, 3, 2, 2]);
  const zeros = initializers.zeros();
  const mm = g.variable('mm', zeros, { shape: [3], trainable: false });
  const mv = g.variable('mv', zeros, { shape: [3], trainable: false });
  const bn = batchNormTraining(x, mm, mv, null, null, { axes: [0, 2, 3] });
  expect(bn.y.shape).toEqual([2, 3, 2, 2]);
  expect(bn.mean.shape).toEqual([3]);
  const values = new NDArray(
    Float32Array.from({ length: 24 }, (_, i) => i % 5),
    [2, 3, 2, 2],
  );
  const session = new Session(g);
  const [mean] = session.run([bn.mean, bn.update], new Map([[x, values]]));
  const want = [0, 1, 2].map((c) => {
    const vs = [0, 1].flatMap((n) => [0, 1, 2, 3].map((k) => values.data[n * 12 + c * 4 + k]));
    return vs.reduce((a, v) => a + v, 0) / vs.length;
  });
  expectClose(mean, { shape: [3], data: want }, 1e-6);
  expectClose(session.run(mm), { shape: [3], data: want.map((v) => 0.01 * v) }, 1e-6);
});

describe('argument checks', () => {
  const g = new Graph();
  const x = g.placeholder('x', [4, 3]);
  const v3 = g.variable('v3', initializers.zeros(), { shape: [3], trainable: false });
  const v4 = g.variable('v4', initializers.zeros(), { shape: [4], trainable: false });
  const v64 = g.variable('v64', initializers.zeros(), { shape: [3], dtype: 'float64', trainable: false });

  test('a moving statistic must be a variable', () => {
    expect(() => batchNormTraining(x, g.constant(NDArray.from([0, 0, 0])), v3)).toThrow(
      /movingMean must be a variable/,
    );
  });
  test("a moving statistic must have the statistics' shape", () => {
    expect(() => batchNormTraining(x, v3, v4)).toThrow(ShapeError);
    expect(() => batchNormTraining(x, v3, v4)).toThrow(/movingVariance \[4\] must have the statistics' shape \[3\]/);
  });
  test("a moving statistic must have x's dtype", () => {
    expect(() => batchNormTraining(x, v64, v3)).toThrow(DTypeError);
  });
  test('axes out of range and momentum out of [0, 1] are errors', () => {
    expect(() => batchNormTraining(x, v3, v3, null, null, { axes: [2] })).toThrow(/axes \[2\]/);
    expect(() => batchNormTraining(x, v3, v3, null, null, { momentum: 1.5 })).toThrow(GraphError);
  });
});
