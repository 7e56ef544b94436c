/**
 * Second derivatives of the full elementwise set: gradient graphs differentiated again, compared with central
 * differences of the analytic first derivative (float64), and for the unary ops with the closed form f''(x).
 * Piecewise-linear ops (abs, relu6, leakyRelu, clipByValue, maximum, mod, …) must give exactly the zero second
 * derivative their finite differences show, rather than fail to build.
 */
import {
  Graph,
  NDArray,
  Session,
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
  gradients,
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
  sum,
  tan,
} from '../../../src';
import { expectClose, input, RandomOptions, Rng } from '../util';
import { checkSecondOrder } from './helpers';

type Unary = (x: Tensor) => Tensor;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const SELU_SCALE_ALPHA = 1.7580993408473768;

/** f'' of the piecewise-linear and piecewise-constant ops. */
const ZERO = (): number => 0;

/** [name, op, f''(x), input range]. */
const UNARY: [string, Unary, (x: number) => number, RandomOptions][] = [
  ['abs', abs, ZERO, { awayFromZero: 0.1 }],
  ['rsqrt', rsqrt, (x) => 0.75 * x ** -2.5, { lo: 0.3, hi: 4 }],
  ['reciprocal', reciprocal, (x) => 2 / x ** 3, { lo: -3, hi: 3, awayFromZero: 0.4 }],
  ['expm1', expm1, (x) => Math.exp(x), { lo: -3, hi: 3 }],
  ['log1p', log1p, (x) => -1 / (1 + x) ** 2, { lo: -0.6, hi: 4 }],
  ['tan', tan, (x) => 2 * Math.tan(x) * (1 + Math.tan(x) ** 2), { lo: -1.1, hi: 1.1 }],
  ['asin', asin, (x) => x / (1 - x * x) ** 1.5, { lo: -0.85, hi: 0.85 }],
  ['acos', acos, (x) => -x / (1 - x * x) ** 1.5, { lo: -0.85, hi: 0.85 }],
  ['atan', atan, (x) => (-2 * x) / (1 + x * x) ** 2, { lo: -4, hi: 4 }],
  ['sinh', sinh, (x) => Math.sinh(x), { lo: -3, hi: 3 }],
  ['cosh', cosh, (x) => Math.cosh(x), { lo: -3, hi: 3 }],
  ['asinh', asinh, (x) => -x / (1 + x * x) ** 1.5, { lo: -4, hi: 4 }],
  ['acosh', acosh, (x) => -x / (x * x - 1) ** 1.5, { lo: 1.3, hi: 5 }],
  ['atanh', atanh, (x) => (2 * x) / (1 - x * x) ** 2, { lo: -0.85, hi: 0.85 }],
  ['logSigmoid', logSigmoid, (x) => -sigmoid(x) * sigmoid(-x), { lo: -8, hi: 8 }],
  ['softplus', softplus, (x) => sigmoid(x) * sigmoid(-x), { lo: -8, hi: 8 }],
  ['relu6', relu6, ZERO, { lo: -2, hi: 5.9, awayFromZero: 0.1 }],
  ['elu', elu, (x) => (x < 0 ? Math.exp(x) : 0), { lo: -3, hi: 3, awayFromZero: 0.1 }],
  ['selu', selu, (x) => (x < 0 ? SELU_SCALE_ALPHA * Math.exp(x) : 0), { lo: -3, hi: 3, awayFromZero: 0.1 }],
  ['leakyRelu', leakyRelu, ZERO, { awayFromZero: 0.1 }],
  ['erf', erf, (x) => (-4 * x * Math.exp(-x * x)) / Math.sqrt(Math.PI), { lo: -3, hi: 3 }],
  ['clipByValue', (x) => clipByValue(x, -1, 1), ZERO, { lo: -2, hi: 2 }],
  ['floor', floor, ZERO, {}],
  ['ceil', ceil, ZERO, {}],
  ['round', round, ZERO, {}],
  ['sign', sign, ZERO, { awayFromZero: 0.1 }],
];

describe('unary ops: second derivative vs finite differences of the first derivative', () => {
  test.each(UNARY.map(([name, op, d2, options], i) => ({ name, op, d2, options, seed: 9000 + i })))(
    '$name',
    ({ op, d2, options, seed }) => {
      checkSecondOrder(seed, [{ shape: [2, 3], options }], op, d2 !== ZERO);
    },
  );
});

describe('unary ops: second derivative vs the closed form', () => {
  test.each(UNARY.map(([name, op, d2, options], i) => ({ name, op, d2, options, seed: 9100 + i })))(
    '$name',
    ({ op, d2, options, seed }) => {
      const rng = new Rng(seed);
      const g = new Graph();
      const [x, value] = input(g, rng, 'x', [7], options);
      // f is elementwise, so the Hessian of sum(f(x)) is diagonal and the gradient of sum(f'(x)) is f''(x).
      const [dx] = gradients(sum(op(x)), [x]);
      const [d2x] = gradients(sum(dx as Tensor), [x], undefined, { unconnected: 'zero' });
      const out = new Session(g).run(d2x as Tensor, new Map([[x, value]]));
      const expected = new NDArray(Float64Array.from(value.data, d2), [7], 'float64');
      expectClose(out, expected, 1e-12);
    },
  );
});

describe('binary ops: second derivatives vs finite differences of the first derivative', () => {
  const nonzero: RandomOptions = { lo: -3, hi: 3, awayFromZero: 0.4 };
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, RandomOptions, RandomOptions, boolean][] = [
    ['squaredDifference', squaredDifference, {}, {}, true],
    ['atan2', atan2, {}, nonzero, true],
    ['prelu (the mixed derivative in x and alpha)', prelu, { awayFromZero: 0.1 }, { lo: 0, hi: 0.5 }, true],
    ['maximum (zero)', maximum, {}, {}, false],
    ['minimum (zero)', minimum, {}, {}, false],
    ['mod (zero)', mod, { lo: -5, hi: 5 }, nonzero, false],
  ];
  const shapes: [string, number[], number[]][] = [
    ['[2, 3] and [2, 3]', [2, 3], [2, 3]],
    ['[2, 3] and [3]', [2, 3], [3]],
  ];
  const cases = ops.flatMap(([name, op, oa, ob, smooth], k) =>
    shapes.map(([label, sa, sb], i) => ({ name, label, op, oa, ob, smooth, sa, sb, seed: 9200 + 10 * k + i })),
  );
  test.each(cases)('$name of $label', ({ op, oa, ob, smooth, sa, sb, seed }) => {
    checkSecondOrder(
      seed,
      [
        { shape: sa, options: oa },
        { shape: sb, options: ob },
      ],
      op,
      smooth,
    );
  });

  test('addN composed with a product has the product’s mixed second derivative', () => {
    checkSecondOrder(9300, [{ shape: [4] }, { shape: [4] }], (a, b) => addN([a, mul(a, b), b]));
  });

  test('atan2 at points in all four quadrants', () => {
    checkSecondOrder(
      9301,
      [
        { shape: [4], values: [1, 1, -1, -1] },
        { shape: [4], values: [2, -2, 2, -2] },
      ],
      atan2,
    );
  });
});
