/**
 * Gradients of every differentiable op of the full elementwise set against central finite differences, in float64
 * (checkGradients over sum(op(...) · w) with a random constant w). Inputs stay away from kinks, poles and jumps.
 */
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
  ceil,
  clipByValue,
  cosh,
  elu,
  erf,
  expm1,
  floor,
  leakyRelu,
  log1p,
  logSigmoid,
  maximum,
  minimum,
  mod,
  mul,
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
import { RandomOptions } from '../util';
import { checkFiniteDifferences, Operand } from './helpers';

type Unary = (x: Tensor) => Tensor;

describe('unary ops', () => {
  const shapes: number[][] = [[], [7], [2, 3], [2, 1, 2, 2]];
  const ops: [string, Unary, RandomOptions][] = [
    ['abs', abs, { awayFromZero: 0.1 }],
    ['rsqrt', rsqrt, { lo: 0.3, hi: 4 }],
    ['reciprocal', reciprocal, { lo: -3, hi: 3, awayFromZero: 0.3 }],
    ['expm1', expm1, { lo: -3, hi: 3 }],
    ['log1p', log1p, { lo: -0.7, hi: 4 }],
    ['tan', tan, { lo: -1.2, hi: 1.2 }],
    ['asin', asin, { lo: -0.9, hi: 0.9 }],
    ['acos', acos, { lo: -0.9, hi: 0.9 }],
    ['atan', atan, { lo: -4, hi: 4 }],
    ['sinh', sinh, { lo: -3, hi: 3 }],
    ['cosh', cosh, { lo: -3, hi: 3 }],
    ['asinh', asinh, { lo: -4, hi: 4 }],
    ['acosh', acosh, { lo: 1.2, hi: 5 }],
    ['atanh', atanh, { lo: -0.9, hi: 0.9 }],
    ['logSigmoid', logSigmoid, { lo: -8, hi: 8 }],
    ['softplus', softplus, { lo: -8, hi: 8 }],
    ['relu6 (below 6)', relu6, { lo: -2, hi: 5.9, awayFromZero: 0.1 }],
    ['elu', elu, { lo: -3, hi: 3, awayFromZero: 0.1 }],
    ['selu', selu, { lo: -3, hi: 3, awayFromZero: 0.1 }],
    ['leakyRelu', leakyRelu, { awayFromZero: 0.1 }],
    ['leakyRelu with alpha 0.01', (x) => leakyRelu(x, 0.01), { awayFromZero: 0.1 }],
    ['erf', erf, { lo: -3, hi: 3 }],
  ];
  const cases = ops.flatMap(([name, op, options], k) =>
    shapes.map((shape, i) => ({ name, op, options, shape, seed: 7000 + 10 * k + i, label: `${shape}` })),
  );
  test.each(cases)('$name on shape [$label]', ({ op, options, shape, seed }) => {
    checkFiniteDifferences(seed, [{ shape, options }], op);
  });

  test('softplus and logSigmoid far in both tails', () => {
    const options: RandomOptions = { lo: -40, hi: 40, awayFromZero: 15 };
    checkFiniteDifferences(1, [{ shape: [8], options }], softplus);
    checkFiniteDifferences(1, [{ shape: [8], options }], logSigmoid);
  });

  test('erf across all of its pieces, out to where it is flat', () => {
    const values = [-6.5, -4.2, -2.9, -1.6, -0.8, -1e-3, 0.3, 0.999, 1.001, 1.75, 2.6, 3.3, 5.9, 7];
    checkFiniteDifferences(2, [{ shape: [values.length], values }], erf);
  });

  test('relu6 on both sides of 0 and of 6', () => {
    const values = [-1.5, -0.3, 0.4, 2.2, 5.1, 5.8, 6.3, 7.9];
    checkFiniteDifferences(3, [{ shape: [values.length], values }], relu6);
  });

  test('clipByValue inside and outside its bounds', () => {
    const values = [-2, -0.9, -0.4, 0, 0.3, 0.69, 0.71, 1.5];
    checkFiniteDifferences(4, [{ shape: [values.length], values }], (x) => clipByValue(x, -0.5, 0.7));
  });

  test.each([
    ['floor', floor],
    ['ceil', ceil],
    ['round', round],
    ['sign', sign],
  ] as [string, Unary][])('%s has the zero gradient of its finite differences away from its jumps', (_name, op) => {
    const values = [-2.7, -1.2, -0.3, 0.2, 0.8, 1.3, 2.6];
    checkFiniteDifferences(5, [{ shape: [values.length], values }], op, 1e-6, false);
  });
});

describe('binary ops with broadcasting', () => {
  const pairs: [string, number[], number[]][] = [
    ['[2, 3] and [2, 3]', [2, 3], [2, 3]],
    ['[2, 3] and [3]', [2, 3], [3]],
    ['[3] and [2, 3]', [3], [2, 3]],
    ['[2, 1] and [1, 4]', [2, 1], [1, 4]],
    ['[] and [2, 2]', [], [2, 2]],
    ['[2, 2] and []', [2, 2], []],
    ['[2, 1, 3] and [4, 1]', [2, 1, 3], [4, 1]],
    ['[2, 2, 1, 3] and [2, 1, 1]', [2, 2, 1, 3], [2, 1, 1]],
  ];
  const nonzero: RandomOptions = { lo: -3, hi: 3, awayFromZero: 0.4 };
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, RandomOptions, RandomOptions][] = [
    ['maximum', maximum, {}, {}],
    ['minimum', minimum, {}, {}],
    ['squaredDifference', squaredDifference, {}, {}],
    ['mod', mod, { lo: -5, hi: 5 }, nonzero],
    ['atan2', atan2, {}, nonzero],
    ['prelu', prelu, { awayFromZero: 0.1 }, { lo: 0, hi: 0.5 }],
  ];
  const cases = ops.flatMap(([name, op, oa, ob], k) =>
    pairs.map(([label, sa, sb], i) => ({ name, label, op, oa, ob, sa, sb, seed: 8000 + 10 * k + i })),
  );
  test.each(cases)('$name of $label', ({ op, oa, ob, sa, sb, seed }) => {
    checkFiniteDifferences(
      seed,
      [
        { shape: sa, options: oa },
        { shape: sb, options: ob },
      ],
      op,
    );
  });

  test('atan2 in all four quadrants', () => {
    const a: Operand = { shape: [4], values: [1, 1, -1, -1] };
    const b: Operand = { shape: [4], values: [2, -2, 2, -2] };
    checkFiniteDifferences(9, [a, b], atan2);
  });

  test('addN of three tensors, one used twice', () => {
    const shape = [2, 3];
    checkFiniteDifferences(10, [{ shape }, { shape }], (a, b) => addN([a, b, mul(a, b)]));
  });

  test('clipByValue composed with other ops', () => {
    checkFiniteDifferences(11, [{ shape: [3, 4], options: { lo: -1, hi: 1 } }], (x) =>
      mul(clipByValue(mul(x, 3), -1.5, 2), x),
    );
  });
});
