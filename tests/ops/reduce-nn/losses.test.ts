/**
 * The cross-entropy primitives beyond their op-table rows (../cases/losses.ts), and tf.losses: values and
 * gradients against tfjs for every reduction and weighting, gradients and second derivatives against finite
 * differences, stability at logits of ±1000, and shape errors.
 */
import * as tf from '@tensorflow/tfjs';
import {
  DTypeError,
  Graph,
  NDArray,
  Reduction,
  SIGMOID_CROSS_ENTROPY,
  ShapeError,
  Tensor,
  gradients,
  logSoftmax,
  losses,
  neg,
  sigmoidCrossEntropyWithLogits,
  softmax,
  softmaxCrossEntropyWithLogits,
  sub,
} from '../../../src';
import { fusedKernel } from '../../../src/ops/kernels';
import { oneHotLabels, softLabels, tfSigmoidCE, tfSoftmaxCE } from '../cases/losses';
import { Rng, expectClose, randomArray } from '../util';
import {
  arrayOf,
  checkFirstOrder,
  checkForward,
  checkSecondOrder,
  compareGradientsWithTf,
  run,
  useTfCpu,
} from './helpers';

useTfCpu();

describe('softmaxCrossEntropyWithLogits', () => {
  test('the labels gradient is −logSoftmax(logits)·dy, as TensorFlow (tfjs returns labels − softmax instead)', () => {
    const rng = new Rng(50);
    const g = new Graph();
    const y = g.placeholder('y', [3, 4], 'float64');
    const x = g.placeholder('x', [3, 4], 'float64');
    const dy = g.constant([1, -2, 0.5], 'float64');
    const [dLabels, dLogits] = gradients(softmaxCrossEntropyWithLogits(y, x), [y, x], [dy]);
    const expectedLabels = neg(logSoftmax(x).mul(dy.reshape([3, 1])));
    const expectedLogits = sub(softmax(x), y).mul(dy.reshape([3, 1]));
    const feeds: [Tensor, NDArray][] = [
      [y, softLabels(rng, [3, 4], -1, 'float64')],
      [x, randomArray(rng, [3, 4], 'float64')],
    ];
    const [a, b, c, d] = run([dLabels as Tensor, dLogits as Tensor, expectedLabels, expectedLogits], feeds);
    expectClose(a, c, 1e-15);
    expectClose(b, d, 1e-15);
  });

  test('logits of ±1000 give finite losses and gradients, equal to tfjs', () => {
    const logits = [1000, -1000, 0, -1000, 1000, 1000, -1000, -1000, -1000, 999, -1000, 1000];
    const labels = [0, 1, 0, 0.5, 0.5, 0, 1, 0, 0, 0, 0, 1];
    // tfjs rounds 1000 + log(1 + e⁻¹) to float32 before subtracting 1000 again (ulp 6e-5); the fused kernel
    // does not, and gives the exact values.
    const exact = [2000, 1000 + Math.log(2), Math.log(3), Math.log1p(Math.exp(-1))];
    checkForward(
      70,
      [
        { shape: [4, 3], values: labels },
        { shape: [4, 3], values: logits },
      ],
      (y, x) => softmaxCrossEntropyWithLogits(y, x),
      (y, x) => tfSoftmaxCE(y, x, -1),
      1e-4,
    );
    const g = new Graph();
    const [out] = run(
      [softmaxCrossEntropyWithLogits(g.constant(arrayOf(labels, [4, 3])), g.constant(arrayOf(logits, [4, 3])))],
      [],
    );
    expectClose(out, { shape: [4], data: exact }, 1e-7);
    compareGradientsWithTf(
      70,
      [arrayOf(labels, [4, 3]), arrayOf(logits, [4, 3])],
      [],
      ([y, x]) => softmaxCrossEntropyWithLogits(y, x),
      ([y, x]) => tf.losses.softmaxCrossEntropy(y, x, undefined, 0, tf.Reduction.NONE),
      1e-4,
      [0],
    );
  });

  test('a −∞ logit with a zero label (a masked class) leaves the loss finite', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3], 'float64');
    const loss = softmaxCrossEntropyWithLogits(
      g.constant(
        [
          [1, 0, 0],
          [0, 1, 0],
        ],
        'float64',
      ),
      x,
    );
    const [out] = run(
      [loss],
      [
        [
          x,
          NDArray.from(
            [
              [2, -Infinity, 2],
              [-Infinity, 0, 0],
            ],
            'float64',
          ),
        ],
      ],
    );
    expectClose(out, { shape: [2], data: [Math.log(2), Math.log(2)] }, 1e-15);
  });

  test('labels and logits of different shapes are a ShapeError', () => {
    const g = new Graph();
    expect(() => softmaxCrossEntropyWithLogits(g.placeholder('y', [2, 3]), g.placeholder('x', [2, 4]))).toThrow(
      /labels \[2, 3\] and logits \[2, 4\] must have the same shape/,
    );
    expect(() => softmaxCrossEntropyWithLogits(g.placeholder('y2', [3]), g.placeholder('x2', [2, 3]))).toThrow(
      ShapeError,
    );
  });

  test('an out-of-range axis is a ShapeError', () => {
    const g = new Graph();
    expect(() => softmaxCrossEntropyWithLogits(g.placeholder('y', [2, 3]), g.placeholder('x', [2, 3]), 2)).toThrow(
      /axis 2 is out of range; valid axes are in \[-2, 2\)/,
    );
  });

  test('int32 labels are a DTypeError (the primitive does not cast)', () => {
    const g = new Graph();
    expect(() =>
      softmaxCrossEntropyWithLogits(g.placeholder('y', [2, 3], 'int32'), g.placeholder('x', [2, 3])),
    ).toThrow(DTypeError);
  });
});

describe('sigmoidCrossEntropyWithLogits', () => {
  test('logits of ±1000 give finite losses and gradients, equal to tfjs', () => {
    const logits = [1000, -1000, 1000, -1000, 0, 999.5];
    const labels = [1, 0, 0, 1, 0.5, 0.25];
    checkForward(
      85,
      [
        { shape: [6], values: labels },
        { shape: [6], values: logits },
      ],
      sigmoidCrossEntropyWithLogits,
      tfSigmoidCE,
    );
    compareGradientsWithTf(
      85,
      [arrayOf(labels, [6]), arrayOf(logits, [6])],
      [],
      ([y, x]) => sigmoidCrossEntropyWithLogits(y, x),
      ([y, x]) => tfSigmoidCE(y, x),
    );
  });

  test('its fusion template computes the same values as its kernel, at ±1000 too', () => {
    const template = SIGMOID_CROSS_ENTROPY.template as string;
    const kernel = fusedKernel([{ template, args: [{ input: 0 }, { input: 1 }] }]);
    const labels = arrayOf([0, 1, 0.5, 1, 0, 0.3], [6], 'float64');
    const logits = arrayOf([1000, -1000, 0, 1000, -1000, -2.5], [6], 'float64');
    const fused = new NDArray(new Float64Array(6), [6], 'float64');
    const direct = new NDArray(new Float64Array(6), [6], 'float64');
    kernel([labels, logits], fused);
    (SIGMOID_CROSS_ENTROPY.kernel as NonNullable<typeof SIGMOID_CROSS_ENTROPY.kernel>)([labels, logits], direct, {});
    expect(Array.from(fused.data)).toEqual(Array.from(direct.data));
    expect(Array.from(direct.data).every(Number.isFinite)).toBe(true);
  });

  test('shapes that cannot broadcast are a ShapeError', () => {
    const g = new Graph();
    expect(() => sigmoidCrossEntropyWithLogits(g.placeholder('y', [3]), g.placeholder('x', [2, 4]))).toThrow(
      /labels \[3\] and logits \[2, 4\] cannot broadcast/,
    );
  });
});

// ---- tf.losses -------------------------------------------------------------------------------------------

type OurLoss = (labels: Tensor, predictions: Tensor, weights: Tensor | undefined, reduction: Reduction) => Tensor;
type TheirLoss = (
  labels: tf.Tensor,
  predictions: tf.Tensor,
  weights: tf.Tensor | undefined,
  reduction: tf.Reduction,
) => tf.Tensor;

interface LossCase {
  name: string;
  ours: OurLoss;
  theirs: TheirLoss;
  labels: (rng: Rng) => NDArray;
  predictions: { lo: number; hi: number; awayFromZero?: number };
  /** Shapes of weights to try (losses are [4, 3] per element, or [4] for softmax). */
  weightShapes: number[][];
  /** tfjs defines another labels gradient for softmax cross-entropy. */
  skipLabels?: boolean;
}

const LOSSES: LossCase[] = [
  {
    name: 'softmaxCrossEntropy',
    ours: (y, x, w, r) => losses.softmaxCrossEntropy(y, x, w, 0, r),
    theirs: (y, x, w, r) => tf.losses.softmaxCrossEntropy(y, x, w, 0, r),
    labels: (rng) => oneHotLabels(rng, 4, 3),
    predictions: { lo: -4, hi: 4 },
    weightShapes: [[], [4]],
    skipLabels: true,
  },
  {
    name: 'softmaxCrossEntropy with label smoothing 0.2',
    ours: (y, x, w, r) => losses.softmaxCrossEntropy(y, x, w, 0.2, r),
    theirs: (y, x, w, r) => tf.losses.softmaxCrossEntropy(y, x, w, 0.2, r),
    labels: (rng) => oneHotLabels(rng, 4, 3),
    predictions: { lo: -4, hi: 4 },
    weightShapes: [[4]],
    skipLabels: true,
  },
  {
    name: 'sigmoidCrossEntropy',
    ours: (y, x, w, r) => losses.sigmoidCrossEntropy(y, x, w, 0, r),
    theirs: (y, x, w, r) => tf.losses.sigmoidCrossEntropy(y, x, w, 0, r),
    labels: (rng) => randomArray(rng, [4, 3], 'float32', { lo: 0, hi: 1 }),
    predictions: { lo: -4, hi: 4, awayFromZero: 0.05 },
    weightShapes: [[], [4, 1], [3], [4, 3]],
  },
  {
    name: 'sigmoidCrossEntropy with label smoothing 0.1',
    ours: (y, x, w, r) => losses.sigmoidCrossEntropy(y, x, w, 0.1, r),
    theirs: (y, x, w, r) => tf.losses.sigmoidCrossEntropy(y, x, w, 0.1, r),
    labels: (rng) => randomArray(rng, [4, 3], 'float32', { lo: 0, hi: 1 }),
    predictions: { lo: -4, hi: 4, awayFromZero: 0.05 },
    weightShapes: [[4, 3]],
  },
  {
    name: 'meanSquaredError',
    ours: (y, x, w, r) => losses.meanSquaredError(y, x, w, r),
    theirs: (y, x, w, r) => tf.losses.meanSquaredError(y, x, w, r),
    labels: (rng) => randomArray(rng, [4, 3], 'float32'),
    predictions: { lo: -2, hi: 2 },
    weightShapes: [[], [4, 1], [4, 3]],
  },
  {
    name: 'absoluteDifference',
    ours: (y, x, w, r) => losses.absoluteDifference(y, x, w, r),
    theirs: (y, x, w, r) => tf.losses.absoluteDifference(y, x, w, r),
    labels: () => arrayOf([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [4, 3]),
    predictions: { lo: -2, hi: 2, awayFromZero: 0.05 },
    weightShapes: [[], [3], [4, 3]],
  },
  {
    name: 'huberLoss',
    ours: (y, x, w, r) => losses.huberLoss(y, x, w, 1.0, r),
    theirs: (y, x, w, r) => tf.losses.huberLoss(y, x, w, 1.0, r),
    labels: () => arrayOf([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [4, 3]),
    predictions: { lo: -2.5, hi: 2.5, awayFromZero: 0.05 },
    weightShapes: [[], [4, 1], [4, 3]],
  },
  {
    name: 'huberLoss with delta 0.4',
    ours: (y, x, w, r) => losses.huberLoss(y, x, w, 0.4, r),
    theirs: (y, x, w, r) => tf.losses.huberLoss(y, x, w, 0.4, r),
    labels: () => arrayOf([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [4, 3]),
    predictions: { lo: -1, hi: 1, awayFromZero: 0.05 },
    weightShapes: [[4, 3]],
  },
];

const REDUCTIONS: [string, Reduction][] = [
  ['NONE', Reduction.NONE],
  ['MEAN', Reduction.MEAN],
  ['SUM', Reduction.SUM],
  ['SUM_BY_NONZERO_WEIGHTS', Reduction.SUM_BY_NONZERO_WEIGHTS],
];

describe.each(LOSSES)('losses.$name', (c) => {
  const weightings: (number[] | null)[] = [null, ...c.weightShapes];
  const cases = weightings.flatMap((weights, wi) =>
    REDUCTIONS.map(([reductionName, reduction], ri) => ({
      weights,
      reductionName,
      reduction,
      seed: 1000 + wi * 10 + ri,
    })),
  );

  test.each(cases)(
    'value and gradients match tfjs: weights $weights, reduction $reductionName',
    ({ weights, reduction, seed }) => {
      const rng = new Rng(seed);
      const labels = c.labels(rng);
      const predictions = randomArray(rng, [4, 3], 'float32', c.predictions);
      // Some zero weights, so SUM_BY_NONZERO_WEIGHTS differs from MEAN.
      const w = weights === null ? [] : [randomArray(rng, weights, 'float32', { lo: -0.5, hi: 2 })];
      for (const array of w) {
        array.data.forEach((v, i) => (array.data[i] = v < 0 ? 0 : v));
        if (array.data.every((v) => v === 0)) array.data[0] = 1; // tfjs gives 0/0 for all-zero weights
      }
      compareGradientsWithTf(
        seed,
        [labels, predictions],
        w,
        ([y, x], [wt]) => c.ours(y, x, wt, reduction),
        ([y, x], [wt]) => c.theirs(y, x, wt, reduction as number as tf.Reduction),
        1e-5,
        c.skipLabels === true ? [0] : [],
      );
    },
  );

  test('the default reduction is SUM_BY_NONZERO_WEIGHTS, as in tfjs', () => {
    const rng = new Rng(1500);
    const labels = c.labels(rng);
    const predictions = randomArray(rng, [4, 3], 'float32', c.predictions);
    const g = new Graph();
    const y = g.constant(labels);
    const x = g.constant(predictions);
    const [byDefault, explicit] = run(
      [
        c.ours(y, x, undefined, undefined as unknown as Reduction),
        c.ours(y, x, undefined, Reduction.SUM_BY_NONZERO_WEIGHTS),
      ],
      [],
    );
    expectClose(byDefault, explicit, 0);
  });
});

describe('losses: finite differences and second derivatives (float64)', () => {
  const withWeights = (ours: OurLoss) => (y: Tensor, x: Tensor) =>
    ours(y, x, y.graph.constant([[1], [0], [2.5], [0.5]], 'float64'), Reduction.SUM_BY_NONZERO_WEIGHTS);

  test('sigmoidCrossEntropy', () => {
    const loss = withWeights((y, x, w, r) => losses.sigmoidCrossEntropy(y, x, w, 0.1, r));
    const operands = [
      { shape: [4, 3], options: { lo: 0, hi: 1 } },
      { shape: [4, 3], options: { lo: -4, hi: 4 } },
    ];
    checkFirstOrder(1600, operands, loss);
    checkSecondOrder(1601, operands, loss);
  });

  test('softmaxCrossEntropy', () => {
    const loss = (y: Tensor, x: Tensor): Tensor =>
      losses.softmaxCrossEntropy(y, x, y.graph.constant([1, 0, 2, 0.5], 'float64'), 0.1, Reduction.MEAN);
    const labels = Array.from(softLabels(new Rng(1602), [4, 3], -1, 'float64').data);
    const operands = [{ shape: [4, 3], values: labels }, { shape: [4, 3] }];
    checkFirstOrder(1602, operands, loss);
    checkSecondOrder(1603, operands, loss);
  });

  test('meanSquaredError', () => {
    const operands = [{ shape: [4, 3] }, { shape: [4, 3] }];
    checkFirstOrder(1604, operands, withWeights(losses.meanSquaredError));
    checkSecondOrder(1605, operands, withWeights(losses.meanSquaredError));
  });

  test('absoluteDifference (away from the kink)', () => {
    const operands = [
      { shape: [4, 3], values: new Array<number>(12).fill(0) },
      { shape: [4, 3], options: { awayFromZero: 0.1 } },
    ];
    checkFirstOrder(1606, operands, withWeights(losses.absoluteDifference));
  });

  test('huberLoss on both sides of delta (away from the kinks)', () => {
    // |error| in (0.1, 0.9) ∪ (1.1, 3): quadratic and linear parts both present, none at |error| = delta.
    const predictions = [0.3, -0.5, 1.4, -2.2, 0.85, -1.3, 2.9, 0.15, -0.7, 1.8, -0.2, -2.6];
    const operands = [
      { shape: [4, 3], values: new Array<number>(12).fill(0) },
      { shape: [4, 3], values: predictions },
    ];
    const loss = withWeights((y, x, w, r) => losses.huberLoss(y, x, w, 1.0, r));
    checkFirstOrder(1607, operands, loss);
    checkSecondOrder(1608, operands, loss);
  });
});

describe('losses: stability and edge cases', () => {
  test('cross-entropies at logits ±1000 are finite with finite gradients, equal to tfjs', () => {
    const logits = [1000, -1000, 0, -1000, 1000, 1000, -1000, -1000, -1000, 999, -1000, 1000];
    const onehot = [0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1];
    for (const [ours, theirs] of [
      [
        (y: Tensor, x: Tensor) => losses.softmaxCrossEntropy(y, x, undefined, 0.1),
        (y: tf.Tensor, x: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, x, undefined, 0.1),
      ],
      [
        (y: Tensor, x: Tensor) => losses.sigmoidCrossEntropy(y, x, undefined, 0.1),
        (y: tf.Tensor, x: tf.Tensor) => tf.losses.sigmoidCrossEntropy(y, x, undefined, 0.1),
      ],
    ] as const) {
      const g = new Graph();
      const x = g.placeholder('x', [4, 3], 'float32');
      const loss = ours(g.constant(arrayOf(onehot, [4, 3])), x);
      const [dx] = gradients(loss, [x]);
      const [value, grad] = run([loss, dx as Tensor], [[x, arrayOf(logits, [4, 3])]]);
      expect(Number.isFinite(value.data[0])).toBe(true);
      expect(Array.from(grad.data).every(Number.isFinite)).toBe(true);
      const want = tf.tidy(() => theirs(tf.tensor(onehot, [4, 3]), tf.tensor(logits, [4, 3])).dataSync()[0]);
      expect(Number.isFinite(want)).toBe(true);
      expectClose(value, { shape: [], data: [want] }, 1e-5);
    }
  });

  test('all-zero weights give a loss of 0 (tfjs gives 0/0 = NaN) and a finite gradient', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 2], 'float64');
    const y = g.constant(
      [
        [1, 2],
        [3, 4],
      ],
      'float64',
    );
    const zeros = g.constant([0, 0], 'float64');
    for (const reduction of [Reduction.MEAN, Reduction.SUM_BY_NONZERO_WEIGHTS]) {
      const loss = losses.meanSquaredError(y, x, zeros, reduction);
      const [dx] = gradients(loss, [x]);
      const [value, grad] = run(
        [loss, dx as Tensor],
        [
          [
            x,
            NDArray.from(
              [
                [0, 0],
                [0, 0],
              ],
              'float64',
            ),
          ],
        ],
      );
      expect(value.data[0]).toBe(0);
      expect(Array.from(grad.data).every((v) => v === 0)).toBe(true);
    }
  });

  test('losses over unknown dims count the elements at run time', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3], 'float64');
    const y = g.placeholder('y', [null, 3], 'float64');
    const loss = losses.meanSquaredError(y, x);
    const smooth = losses.softmaxCrossEntropy(y, x, [1, 2], 0.3, Reduction.MEAN);
    const xs = NDArray.from(
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      'float64',
    );
    const ys = NDArray.from(
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      'float64',
    );
    const [value, smoothed] = run(
      [loss, smooth],
      [
        [x, xs],
        [y, ys],
      ],
    );
    expectClose(value, { shape: [], data: [(0 + 4 + 9 + 0 + 1 + 0) / 6] }, 1e-15);
    const want = tf.tidy(
      () =>
        tf.losses
          .softmaxCrossEntropy(
            tf.tensor(ys.toArray() as number[][]),
            tf.tensor(xs.toArray() as number[][]),
            tf.tensor([1, 2]),
            0.3,
            tf.Reduction.MEAN,
          )
          .dataSync()[0],
    );
    expectClose(smoothed, { shape: [], data: [want] }, 1e-6);
  });

  test('int32 labels are cast to the predictions dtype', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3], 'float32');
    const loss = losses.softmaxCrossEntropy(
      g.constant(
        [
          [0, 1, 0],
          [1, 0, 0],
        ],
        'int32',
      ),
      x,
    );
    expect(loss.dtype).toBe('float32');
    const [value] = run(
      [loss],
      [
        [
          x,
          NDArray.from(
            [
              [0, 0, 0],
              [0, 0, 0],
            ],
            'float32',
          ),
        ],
      ],
    );
    expectClose(value, { shape: [], data: [Math.log(3)] }, 1e-6);
  });

  test('labels and predictions of different shapes are a ShapeError naming the loss', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 3]);
    const y = g.placeholder('y', [4, 2]);
    expect(() => losses.meanSquaredError(y, x)).toThrow(/losses.meanSquaredError: labels \[4, 2\] and predictions/);
    expect(() => losses.absoluteDifference(y, x)).toThrow(ShapeError);
    expect(() => losses.huberLoss(y, x)).toThrow(ShapeError);
    expect(() => losses.sigmoidCrossEntropy(y, x)).toThrow(/losses.sigmoidCrossEntropy: labels/);
    expect(() => losses.softmaxCrossEntropy(y, x)).toThrow(/losses.softmaxCrossEntropy: labels/);
  });

  test('weights that cannot broadcast to the losses are a ShapeError', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 3]);
    expect(() => losses.meanSquaredError(g.placeholder('y', [4, 3]), x, g.placeholder('w', [2]))).toThrow(ShapeError);
  });

  test('an unknown reduction is an error listing the valid ones', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 3]);
    expect(() => losses.meanSquaredError(g.placeholder('y', [4, 3]), x, undefined, 7 as Reduction)).toThrow(
      /unknown reduction 7; use Reduction.NONE, MEAN, SUM or SUM_BY_NONZERO_WEIGHTS/,
    );
  });

  test('Reduction has the numeric values of tf.Reduction', () => {
    expect(Reduction).toEqual({
      NONE: tf.Reduction.NONE,
      MEAN: tf.Reduction.MEAN,
      SUM: tf.Reduction.SUM,
      SUM_BY_NONZERO_WEIGHTS: tf.Reduction.SUM_BY_NONZERO_WEIGHTS,
    });
  });
});
