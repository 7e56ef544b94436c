/**
 * Forward values of the full elementwise op set against TensorFlow.js (cpu backend), float32 to ~1e-5 relative,
 * int32 and bool exactly: binaries over broadcasting pairs up to rank 4 (and a size-0 dim), unaries over shapes
 * from scalars to rank 4, comparisons and logic, int32 variants.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Tensor,
  abs,
  acos,
  acosh,
  addN,
  asin,
  asinh,
  atan,
  atan2,
  atanh,
  cast,
  ceil,
  clipByValue,
  cosh,
  elu,
  erf,
  expm1,
  floor,
  floorDiv,
  greaterEqual,
  isFinite,
  isNaN,
  leakyRelu,
  less,
  lessEqual,
  log1p,
  logicalAnd,
  logicalNot,
  logicalOr,
  logSigmoid,
  maximum,
  minimum,
  mod,
  notEqual,
  prelu,
  reciprocal,
  relu6,
  round,
  rsqrt,
  selu,
  sign,
  sinh,
  softplus,
  squaredDifference,
  tan,
} from '../../../src';
import { RandomOptions, Rng, sizeOf } from '../util';
import { checkForward, Operand, useTfjsCpu } from './helpers';

beforeAll(useTfjsCpu);

type Binary = (a: Tensor, b: Tensor) => Tensor;
type TfBinary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
type Unary = (x: Tensor) => Tensor;
type TfUnary = (x: tf.Tensor) => tf.Tensor;

const PAIRS: [string, number[], number[]][] = [
  ['same shape [2, 3]', [2, 3], [2, 3]],
  ['[2, 3] with [3]', [2, 3], [3]],
  ['[3] with [2, 3]', [3], [2, 3]],
  ['[2, 1] with [1, 4]', [2, 1], [1, 4]],
  ['[] with [2, 2]', [], [2, 2]],
  ['[2, 2] with []', [2, 2], []],
  ['two scalars', [], []],
  ['[2, 1, 3] with [4, 1]', [2, 1, 3], [4, 1]],
  ['[2, 3, 1, 4] with [3, 5, 1]', [2, 3, 1, 4], [3, 5, 1]],
  ['[0, 3] with [3]', [0, 3], [3]],
];

describe('binary ops match tfjs with broadcasting', () => {
  const nonzero: RandomOptions = { lo: -3, hi: 3, awayFromZero: 0.3 };
  const ops: [string, Binary, TfBinary, RandomOptions, RandomOptions][] = [
    ['maximum', maximum, tf.maximum, {}, {}],
    ['minimum', minimum, tf.minimum, {}, {}],
    ['squaredDifference', squaredDifference, tf.squaredDifference, {}, {}],
    ['mod', mod, tf.mod, { lo: -5, hi: 5 }, nonzero],
    // tfjs's floorDiv always returns int32; ours keeps the input dtype (as TensorFlow), so compare the values.
    ['floorDiv', floorDiv, (a, b) => tf.cast(tf.floorDiv(a, b), 'float32'), { lo: -5, hi: 5 }, nonzero],
    ['atan2', atan2, tf.atan2, {}, {}],
    ['prelu', prelu, tf.prelu, {}, { lo: 0, hi: 0.5 }],
  ];
  const cases = ops.flatMap(([name, ours, theirs, oa, ob], k) =>
    PAIRS.map(([label, sa, sb], i) => ({ name, label, sa, sb, ours, theirs, oa, ob, seed: 100 * k + i })),
  );
  test.each(cases)('$name of $label', ({ sa, sb, ours, theirs, oa, ob, seed }) => {
    checkForward(
      seed,
      [
        { shape: sa, options: oa },
        { shape: sb, options: ob },
      ],
      ours,
      theirs,
    );
  });
});

describe('binary ops on int32 match tfjs', () => {
  const a: Operand = { shape: [2, 4], dtype: 'int32', values: [7, -7, 7, -7, 0, 5, -6, 9] };
  const b: Operand = { shape: [4], dtype: 'int32', values: [3, 3, -3, -3] };
  const ops: [string, Binary, TfBinary][] = [
    ['maximum', maximum, tf.maximum],
    ['minimum', minimum, tf.minimum],
    ['squaredDifference', squaredDifference, tf.squaredDifference],
    ['mod', mod, tf.mod],
    ['floorDiv', floorDiv, tf.floorDiv],
  ];
  test.each(ops)('%s', (_name, ours, theirs) => {
    checkForward(1, [a, b], ours, theirs);
  });
});

describe('addN matches tfjs', () => {
  test.each([[[]], [[5]], [[2, 3, 4]], [[2, 1, 3, 2]]])('three tensors of shape %j', (shape) => {
    checkForward(
      2,
      [{ shape }, { shape }, { shape }],
      (a, b, c) => addN([a, b, c]),
      (a, b, c) => tf.addN([a, b, c]),
    );
  });

  test('a single tensor is itself', () => {
    checkForward(
      3,
      [{ shape: [4] }],
      (a) => addN([a]),
      (a) => tf.addN([a]),
    );
  });

  test('int32 tensors', () => {
    checkForward(
      4,
      [
        { shape: [3], dtype: 'int32', values: [1, -2, 3] },
        { shape: [3], dtype: 'int32', values: [10, 20, -30] },
      ],
      (a, b) => addN([a, b, a]),
      (a, b) => tf.addN([a, b, a]),
    );
  });
});

describe('comparisons match tfjs (bool output) with broadcasting', () => {
  const ops: [string, Binary, TfBinary][] = [
    ['notEqual', notEqual, tf.notEqual],
    ['less', less, tf.less],
    ['lessEqual', lessEqual, tf.lessEqual],
    ['greaterEqual', greaterEqual, tf.greaterEqual],
  ];
  // Small integers (as floats) so that ties actually occur.
  const ints = (shape: number[], rng: Rng): Operand => ({
    shape,
    values: Array.from({ length: sizeOf(shape) }, () => rng.int(-1, 1)),
  });
  const cases = ops.flatMap(([name, ours, theirs], k) =>
    PAIRS.map(([label, sa, sb], i) => ({ name, label, sa, sb, ours, theirs, seed: 2000 + 100 * k + i })),
  );
  test.each(cases)('$name of $label', ({ sa, sb, ours, theirs, seed }) => {
    const rng = new Rng(seed);
    checkForward(seed, [ints(sa, rng), ints(sb, rng)], ours, theirs);
  });

  test.each(ops)('%s on int32', (_name, ours, theirs) => {
    checkForward(
      5,
      [
        { shape: [2, 3], dtype: 'int32', values: [1, 2, 3, -1, 0, 5] },
        { shape: [3], dtype: 'int32', values: [1, 0, 5] },
      ],
      ours,
      theirs,
    );
  });

  test.each(ops)('%s on bool', (_name, ours, theirs) => {
    checkForward(
      6,
      [
        { shape: [4], dtype: 'bool', values: [0, 0, 1, 1] },
        { shape: [4], dtype: 'bool', values: [0, 1, 0, 1] },
      ],
      ours,
      theirs,
    );
  });
});

describe('logical ops match tfjs', () => {
  const ops: [string, Binary, TfBinary][] = [
    ['logicalAnd', logicalAnd, tf.logicalAnd],
    ['logicalOr', logicalOr, tf.logicalOr],
  ];
  const pairs = PAIRS.filter(([, sa, sb]) => sizeOf(sa) > 0 && sizeOf(sb) > 0);
  const cases = ops.flatMap(([name, ours, theirs], k) =>
    pairs.map(([label, sa, sb], i) => ({ name, label, sa, sb, ours, theirs, seed: 3000 + 100 * k + i })),
  );
  test.each(cases)('$name of $label', ({ sa, sb, ours, theirs, seed }) => {
    checkForward(
      seed,
      [
        { shape: sa, dtype: 'bool' },
        { shape: sb, dtype: 'bool' },
      ],
      ours,
      theirs,
    );
  });

  test.each([[[]], [[6]], [[2, 3, 2]]])('logicalNot of shape %j', (shape) => {
    checkForward(7, [{ shape, dtype: 'bool' }], logicalNot, tf.logicalNot);
  });
});

describe('unary ops match tfjs', () => {
  const shapes: number[][] = [[], [5], [2, 3, 4], [2, 1, 3, 2], [0, 2]];
  const ops: [string, Unary, TfUnary, RandomOptions][] = [
    ['abs', abs, tf.abs, {}],
    ['sign', sign, tf.sign, {}],
    ['rsqrt', rsqrt, tf.rsqrt, { lo: 0.01, hi: 10 }],
    ['reciprocal', reciprocal, tf.reciprocal, { lo: -4, hi: 4, awayFromZero: 0.01 }],
    ['expm1', expm1, tf.expm1, { lo: -5, hi: 5 }],
    ['log1p', log1p, tf.log1p, { lo: -0.99, hi: 10 }],
    ['tan', tan, tf.tan, { lo: -1.4, hi: 1.4 }],
    ['asin', asin, tf.asin, { lo: -1, hi: 1 }],
    ['acos', acos, tf.acos, { lo: -1, hi: 1 }],
    ['atan', atan, tf.atan, { lo: -10, hi: 10 }],
    ['sinh', sinh, tf.sinh, { lo: -5, hi: 5 }],
    ['cosh', cosh, tf.cosh, { lo: -5, hi: 5 }],
    ['asinh', asinh, tf.asinh, { lo: -10, hi: 10 }],
    ['acosh', acosh, tf.acosh, { lo: 1, hi: 10 }],
    ['atanh', atanh, tf.atanh, { lo: -0.99, hi: 0.99 }],
    ['logSigmoid', logSigmoid, tf.logSigmoid, { lo: -30, hi: 30 }],
    ['softplus', softplus, tf.softplus, { lo: -30, hi: 30 }],
    ['relu6', relu6, tf.relu6, { lo: -3, hi: 9 }],
    ['elu', elu, tf.elu, { lo: -4, hi: 4 }],
    ['selu', selu, tf.selu, { lo: -4, hi: 4 }],
    ['leakyRelu (alpha 0.2 by default)', leakyRelu, tf.leakyRelu, {}],
    ['leakyRelu with alpha 0.05', (x) => leakyRelu(x, 0.05), (x) => tf.leakyRelu(x, 0.05), {}],
    // tfjs's erf is an approximation with absolute error up to ~1.5e-7.
    ['erf', erf, tf.erf, { lo: -4, hi: 4 }],
    ['floor', floor, tf.floor, { lo: -5, hi: 5 }],
    ['ceil', ceil, tf.ceil, { lo: -5, hi: 5 }],
    ['round', round, tf.round, { lo: -5, hi: 5 }],
    ['clipByValue(x, -0.5, 1.25)', (x) => clipByValue(x, -0.5, 1.25), (x) => tf.clipByValue(x, -0.5, 1.25), {}],
    ['isNaN', isNaN, tf.isNaN, {}],
    ['isFinite', isFinite, tf.isFinite, {}],
  ];
  const cases = ops.flatMap(([name, ours, theirs, options], k) =>
    shapes.map((shape, i) => ({ name, shape, ours, theirs, options, seed: 4000 + 10 * k + i, label: `${shape}` })),
  );
  test.each(cases)('$name on shape [$label]', ({ shape, ours, theirs, options, seed }) => {
    checkForward(seed, [{ shape, options }], ours, theirs);
  });

  test('abs, sign, relu6, clipByValue, isNaN and isFinite accept int32 like tfjs', () => {
    checkForward(
      8,
      [{ shape: [6], dtype: 'int32', values: [-9, -3, 0, 2, 6, 11] }],
      (x) =>
        addN([abs(x), sign(x), relu6(x), clipByValue(x, -2, 5), cast(isNaN(x), 'int32'), cast(isFinite(x), 'int32')]),
      (x) =>
        tf.addN([
          tf.abs(x),
          tf.sign(x),
          tf.relu6(x),
          tf.clipByValue(x, -2, 5),
          tf.cast(tf.isNaN(x), 'int32'),
          tf.cast(tf.isFinite(x), 'int32'),
        ]),
    );
  });
});

describe('values where the definitions differ between libraries match tfjs', () => {
  test('round takes halves to the even neighbour', () => {
    const values = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, -2.5001];
    checkForward(9, [{ shape: [values.length], values }], round, tf.round);
  });

  test('mod takes the sign of the divisor, in every sign combination', () => {
    checkForward(
      10,
      [
        { shape: [8], values: [7.5, -7.5, 7.5, -7.5, 6, -6, 0, 2] },
        { shape: [8], values: [2, 2, -2, -2, 3, 3, -3, 2] },
      ],
      mod,
      tf.mod,
    );
  });

  test('floorDiv rounds toward minus infinity', () => {
    checkForward(
      11,
      [
        { shape: [6], dtype: 'int32', values: [7, -7, 7, -7, 6, -6] },
        { shape: [6], dtype: 'int32', values: [2, 2, -2, -2, 3, 3] },
      ],
      floorDiv,
      tf.floorDiv,
    );
  });

  test('maximum and minimum propagate NaN', () => {
    const a: Operand = { shape: [3], values: [NaN, 1, NaN] };
    const b: Operand = { shape: [3], values: [1, NaN, NaN] };
    checkForward(12, [a, b], maximum, tf.maximum);
    checkForward(12, [a, b], minimum, tf.minimum);
  });

  test('comparisons with NaN are false, except notEqual', () => {
    const a: Operand = { shape: [4], values: [NaN, NaN, 1, Infinity] };
    const b: Operand = { shape: [4], values: [NaN, 1, NaN, Infinity] };
    for (const [ours, theirs] of [
      [notEqual, tf.notEqual],
      [less, tf.less],
      [lessEqual, tf.lessEqual],
      [greaterEqual, tf.greaterEqual],
    ] as [Binary, TfBinary][]) {
      checkForward(18, [a, b], ours, theirs);
    }
  });

  test('clipByValue lets NaN through and clips infinities', () => {
    const x: Operand = { shape: [4], values: [NaN, Infinity, -Infinity, 0.5] };
    checkForward(
      13,
      [x],
      (t) => clipByValue(t, -1, 1),
      (t) => tf.clipByValue(t, -1, 1),
    );
  });

  test('isNaN and isFinite on NaN and infinities', () => {
    const x: Operand = { shape: [5], values: [NaN, Infinity, -Infinity, 0, -2] };
    checkForward(14, [x], isNaN, tf.isNaN);
    checkForward(14, [x], isFinite, tf.isFinite);
  });

  test('softplus and logSigmoid far in both tails', () => {
    const x: Operand = { shape: [6], values: [-100, -20, -1e-6, 1e-6, 20, 100] };
    checkForward(15, [x], softplus, tf.softplus);
    checkForward(15, [x], logSigmoid, tf.logSigmoid);
  });

  test('elu, selu, relu6 and leakyRelu at their kinks', () => {
    const x: Operand = { shape: [4], values: [0, -0, 6, -1e-30] };
    checkForward(16, [x], elu, tf.elu);
    checkForward(16, [x], selu, tf.selu);
    checkForward(16, [x], relu6, tf.relu6);
    checkForward(
      16,
      [x],
      (t) => leakyRelu(t),
      (t) => tf.leakyRelu(t),
    );
  });

  test('prelu with a per-channel alpha broadcast over a batch', () => {
    checkForward(17, [{ shape: [2, 3, 4] }, { shape: [4], options: { lo: 0, hi: 0.3 } }], prelu, tf.prelu);
  });
});
