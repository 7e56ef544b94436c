/**
 * Rows of the elementwise ops (ops/elementwise.ts, unary.ts, compare.ts): binary arithmetic, unary math,
 * comparisons and logic. Forward domains are wide; gradient domains stay off kinks, poles and jumps.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { RandomOptions } from '../util';
import { Build, TfBuild } from '../harness';
import {
  BINARY_FD_PAIRS,
  BINARY_FORWARD_PAIRS,
  BINARY_TFJS_GRAD_PAIRS,
  Case,
  OpRow,
  SECOND_ORDER_PAIRS,
  SECOND_ORDER_SHAPES,
  UNARY_FD_SHAPES,
  UNARY_FORWARD_SHAPES,
  UNARY_TFJS_GRAD_SHAPES,
  binaryCases,
  unaryCases,
  valuesCase,
} from './table';

type Unary = (x: lg.Tensor) => lg.Tensor;
type TfUnary = (x: tf.Tensor) => tf.Tensor;
type Binary = (a: lg.Tensor, b: lg.Tensor) => lg.Tensor;
type TfBinary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

interface UnarySpec {
  forward?: RandomOptions;
  fd?: RandomOptions;
  tfjsGrad?: RandomOptions;
  second?: RandomOptions;
  d2?: (x: number) => number;
  zeroGradient?: boolean;
  zeroSecondOrder?: boolean;
  variant?: string;
  seedSalt?: string;
  /** Further cases beyond the standard shape sweeps. */
  more?: Partial<Pick<OpRow, 'forward' | 'gradFd' | 'gradTfjs' | 'secondOrder'>>;
}

/** A unary row: each domain given runs that check over the standard shape set. */
function unary(op: string, build: Unary, tfjs: TfUnary | undefined, spec: UnarySpec): OpRow {
  const sweep = (shapes: readonly (readonly number[])[], options?: RandomOptions): Case[] =>
    options === undefined ? [] : unaryCases(shapes, options);
  return {
    op,
    variant: spec.variant,
    build: build as Build,
    tfjs: tfjs as TfBuild | undefined,
    forward: [...sweep(UNARY_FORWARD_SHAPES, spec.forward), ...(spec.more?.forward ?? [])],
    gradFd: [...sweep(UNARY_FD_SHAPES, spec.fd), ...(spec.more?.gradFd ?? [])],
    gradTfjs: [...sweep(UNARY_TFJS_GRAD_SHAPES, spec.tfjsGrad), ...(spec.more?.gradTfjs ?? [])],
    secondOrder: [...sweep(SECOND_ORDER_SHAPES, spec.second), ...(spec.more?.secondOrder ?? [])],
    d2: spec.d2 === undefined || spec.second === undefined ? undefined : { fn: spec.d2, options: spec.second },
    zeroGradient: spec.zeroGradient,
    zeroSecondOrder: spec.zeroSecondOrder,
    seedSalt: spec.seedSalt,
  };
}

interface BinarySpec {
  forward?: [RandomOptions, RandomOptions];
  fd?: [RandomOptions, RandomOptions];
  tfjsGrad?: [RandomOptions, RandomOptions];
  /** tfjs's gradient of this op does not sum over broadcast dims: broadcast both operands first. */
  tfjsGradBroadcastFirst?: boolean;
  second?: [RandomOptions, RandomOptions];
  zeroSecondOrder?: boolean;
  seedSalt?: string;
  more?: Partial<Pick<OpRow, 'forward' | 'gradFd' | 'gradTfjs' | 'secondOrder'>>;
  tfjsForward?: TfBinary;
}

/**
 * tfjs's gradients of maximum, minimum, squaredDifference and prelu do not sum over broadcast dims (tf.grads
 * throws "The gradient of input 'b' has shape '2,3', which does not match..."), so the reference broadcasts both
 * operands explicitly first; tfjs's broadcastTo gradient then does the summing.
 */
function broadcastFirst(op: TfBinary): TfBinary {
  return (a, b) => {
    const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return op(tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
  };
}

function binary(op: string, build: Binary, tfjs: TfBinary | undefined, spec: BinarySpec): OpRow {
  const sweep = (pairs: typeof BINARY_FD_PAIRS, options?: [RandomOptions, RandomOptions], tf?: TfBinary): Case[] =>
    options === undefined
      ? []
      : binaryCases(pairs, options[0], options[1]).map((c) => (tf === undefined ? c : { ...c, tfjs: tf as TfBuild }));
  const gradTwin = spec.tfjsGradBroadcastFirst === true && tfjs !== undefined ? broadcastFirst(tfjs) : undefined;
  return {
    op,
    build: build as Build,
    tfjs: tfjs as TfBuild | undefined,
    forward: [...sweep(BINARY_FORWARD_PAIRS, spec.forward, spec.tfjsForward), ...(spec.more?.forward ?? [])],
    gradFd: [...sweep(BINARY_FD_PAIRS, spec.fd), ...(spec.more?.gradFd ?? [])],
    gradTfjs: [...sweep(BINARY_TFJS_GRAD_PAIRS, spec.tfjsGrad, gradTwin), ...(spec.more?.gradTfjs ?? [])],
    secondOrder: [...sweep(SECOND_ORDER_PAIRS, spec.second), ...(spec.more?.secondOrder ?? [])],
    zeroSecondOrder: spec.zeroSecondOrder,
    seedSalt: spec.seedSalt,
  };
}

const positive: RandomOptions = { lo: 0.2, hi: 3 };
const nonzero: RandomOptions = { lo: -3, hi: 3, awayFromZero: 0.3 };
const nonzeroFd: RandomOptions = { lo: -3, hi: 3, awayFromZero: 0.4 };
const wideA: RandomOptions = { lo: -3, hi: 3 };
const sigmoidOf = (x: number): number => 1 / (1 + Math.exp(-x));
const SELU_SCALE_ALPHA = 1.7580993408473768;
const ZERO = (): number => 0;
/** Points on both sides of each jump of floor, ceil, round and sign, none on one. */
const AWAY_FROM_JUMPS = [-2.7, -1.2, -0.3, 0.2, 0.8, 1.3, 2.6];
const KINKS = { shape: [5], values: [0, 6, -0.5, 1, 3] };
/** Ties split like tfjs's: all of dy to a. */
const TIES: Case = {
  label: 'ties give all of dy to a, as tfjs',
  inputs: [
    { shape: [4], values: [1, 2, -1, 0.5] },
    { shape: [4], values: [1, 1, -1, 0.75] },
  ],
};
const NEGATIVE_BASES = { shape: [8], values: [-3, -2.5, -1.5, -1, -0.5, 0.5, 1.25, 2] };

/** Small integers (kept as floats) so that ties occur in comparisons. */
function tieCases(pairs: typeof BINARY_FORWARD_PAIRS): Case[] {
  return pairs.map(([label, sa, sb]) => ({
    label,
    inputs: [
      { shape: sa, options: { lo: -1.5, hi: 1.5 }, round: true },
      { shape: sb, options: { lo: -1.5, hi: 1.5 }, round: true },
    ],
  }));
}

const INT_PAIR: Case = {
  label: 'int32 [2, 3] with [3]',
  inputs: [
    { shape: [2, 3], dtype: 'int32', values: [1, 2, 3, -1, 0, 5] },
    { shape: [3], dtype: 'int32', values: [1, 0, 5] },
  ],
};
const BOOL_PAIR: Case = {
  label: 'bool',
  inputs: [
    { shape: [4], dtype: 'bool', values: [0, 0, 1, 1] },
    { shape: [4], dtype: 'bool', values: [0, 1, 0, 1] },
  ],
};
const INT_BINARY: Case = {
  label: 'int32 [2, 4] with [4]',
  inputs: [
    { shape: [2, 4], dtype: 'int32', values: [7, -7, 7, -7, 0, 5, -6, 9] },
    { shape: [4], dtype: 'int32', values: [3, 3, -3, -3] },
  ],
};

function comparison(op: string, build: Binary, tfjs: TfBinary, withIntAndBool: boolean): OpRow {
  return {
    op,
    build: build as Build,
    tfjs: tfjs as TfBuild,
    forward: [...tieCases(BINARY_FORWARD_PAIRS), ...(withIntAndBool ? [INT_PAIR, BOOL_PAIR] : [])],
  };
}

function logical(op: string, build: Binary, tfjs: TfBinary): OpRow {
  const pairs = BINARY_FORWARD_PAIRS.filter(([, sa, sb]) => !sa.includes(0) && !sb.includes(0));
  return {
    op,
    build: build as Build,
    tfjs: tfjs as TfBuild,
    forward: pairs.map(([label, sa, sb]) => ({
      label,
      inputs: [
        { shape: sa, dtype: 'bool' },
        { shape: sb, dtype: 'bool' },
      ],
    })),
  };
}

const addNOf =
  (f: (...xs: lg.Tensor[]) => lg.Tensor[]): Build =>
  (...xs) =>
    lg.addN(f(...xs));
const tfAddNOf =
  (f: (...xs: tf.Tensor[]) => tf.Tensor[]): TfBuild =>
  (...xs) =>
    tf.addN(f(...xs));

export const ELEMENTWISE_ROWS: readonly OpRow[] = [
  binary('add', lg.add, tf.add, { forward: [{}, {}], fd: [{}, {}], tfjsGrad: [wideA, {}] }),
  binary('sub', lg.sub, tf.sub, { forward: [{}, {}], fd: [{}, {}], tfjsGrad: [wideA, {}] }),
  binary('mul', lg.mul, tf.mul, { forward: [{}, {}], fd: [{}, {}], tfjsGrad: [wideA, {}], second: [{}, {}] }),
  binary('div', lg.div, tf.div, {
    forward: [{}, nonzero],
    fd: [{}, { lo: -2, hi: 2, awayFromZero: 0.5 }],
    tfjsGrad: [wideA, nonzeroFd],
    second: [{}, { lo: 0.5, hi: 2 }],
  }),
  binary('pow', lg.pow, tf.pow, {
    forward: [positive, {}],
    fd: [
      { lo: 0.5, hi: 2 },
      { lo: -2, hi: 2 },
    ],
    tfjsGrad: [
      { lo: 0.5, hi: 2 },
      { lo: -2, hi: 2 },
    ],
    more: {
      forward: [
        ...[-3, -2, -1, 0, 1, 2, 3, 4].map((e) => ({
          label: `negative bases to the scalar integer exponent ${e}`,
          inputs: [NEGATIVE_BASES, { shape: [], values: [e] }],
        })),
        {
          label: 'negative bases to a tensor of integer exponents',
          inputs: [NEGATIVE_BASES, { shape: [8], values: [3, 2, -1, 4, -3, 5, 0, -2] }],
        },
      ],
      secondOrder: [
        {
          label: 'positive bases (pure and mixed)',
          inputs: [
            { shape: [4], options: { lo: 0.5, hi: 2 } },
            { shape: [4], options: { lo: -2, hi: 2 } },
          ],
        },
      ],
    },
  }),
  // Scalar exponents: the second derivative of x^e in x, with its closed form.
  unary(
    'pow',
    (x) => lg.pow(x, 3),
    (x) => tf.pow(x, 3),
    { variant: 'x^3', second: {}, d2: (x) => 6 * x },
  ),
  unary(
    'pow',
    (x) => lg.pow(x, 2.5),
    (x) => tf.pow(x, 2.5),
    {
      variant: 'x^2.5',
      second: { lo: 0.3, hi: 3 },
      d2: (x) => 2.5 * 1.5 * x ** 0.5,
    },
  ),
  unary(
    'pow',
    (x) => lg.pow(x, -2),
    (x) => tf.pow(x, -2),
    {
      variant: 'x^-2',
      second: { lo: 0.5, hi: 3 },
      d2: (x) => 6 * x ** -4,
    },
  ),
  binary('maximum', lg.maximum, tf.maximum, {
    forward: [{}, {}],
    fd: [{}, {}],
    tfjsGrad: [wideA, {}],
    tfjsGradBroadcastFirst: true,
    second: [{}, {}],
    zeroSecondOrder: true,
    more: { forward: [INT_BINARY], gradTfjs: [TIES] },
  }),
  binary('minimum', lg.minimum, tf.minimum, {
    forward: [{}, {}],
    fd: [{}, {}],
    tfjsGrad: [wideA, {}],
    tfjsGradBroadcastFirst: true,
    second: [{}, {}],
    zeroSecondOrder: true,
    more: { forward: [INT_BINARY], gradTfjs: [TIES] },
  }),
  binary('squaredDifference', lg.squaredDifference, tf.squaredDifference, {
    forward: [{}, {}],
    fd: [{}, {}],
    tfjsGrad: [wideA, {}],
    tfjsGradBroadcastFirst: true,
    second: [{}, {}],
    more: { forward: [INT_BINARY] },
  }),
  binary('mod', lg.mod, tf.mod, {
    forward: [{ lo: -5, hi: 5 }, nonzero],
    fd: [{ lo: -5, hi: 5 }, nonzeroFd],
    tfjsGrad: [wideA, nonzeroFd],
    second: [{ lo: -5, hi: 5 }, nonzeroFd],
    zeroSecondOrder: true,
    more: { forward: [INT_BINARY] },
  }),
  // tfjs's floorDiv always returns int32; ours keeps the input dtype (as TensorFlow), so compare the values.
  // floorDiv has no gradient (as TensorFlow): bool-and-errors.test.ts checks it passes none.
  binary('floorDiv', lg.floorDiv, tf.floorDiv, {
    forward: [{ lo: -5, hi: 5 }, nonzero],
    tfjsForward: (a, b) => tf.cast(tf.floorDiv(a, b), 'float32'),
    more: { forward: [INT_BINARY] },
  }),
  binary('atan2', lg.atan2, tf.atan2, {
    forward: [{}, {}],
    fd: [{}, nonzeroFd],
    tfjsGrad: [wideA, nonzeroFd],
    second: [{}, nonzeroFd],
    more: {
      gradFd: [
        {
          label: 'all four quadrants',
          inputs: [
            { shape: [4], values: [1, 1, -1, -1] },
            { shape: [4], values: [2, -2, 2, -2] },
          ],
        },
      ],
      secondOrder: [
        {
          label: 'all four quadrants',
          inputs: [
            { shape: [4], values: [1, 1, -1, -1] },
            { shape: [4], values: [2, -2, 2, -2] },
          ],
        },
      ],
    },
  }),
  binary('prelu', lg.prelu, tf.prelu, {
    forward: [{}, { lo: 0, hi: 0.5 }],
    fd: [{ awayFromZero: 0.1 }, { lo: 0, hi: 0.5 }],
    tfjsGrad: [wideA, {}],
    tfjsGradBroadcastFirst: true,
    second: [{ awayFromZero: 0.1 }, { lo: 0, hi: 0.5 }],
    more: {
      forward: [
        {
          label: 'a per-channel alpha broadcast over a batch',
          inputs: [{ shape: [2, 3, 4] }, { shape: [4], options: { lo: 0, hi: 0.3 } }],
        },
      ],
    },
  }),
  {
    op: 'addN',
    build: (a, b, c) => lg.addN([a, b, c]),
    tfjs: (a, b, c) => tf.addN([a, b, c]),
    forward: [
      ...[[], [5], [2, 3, 4], [2, 1, 3, 2]].map((shape) => ({
        label: `three tensors of shape [${shape.join(', ')}]`,
        inputs: [{ shape }, { shape }, { shape }],
      })),
      {
        label: 'a single tensor is itself',
        inputs: [{ shape: [4] }],
        build: addNOf((a) => [a]),
        tfjs: tfAddNOf((a) => [a]),
      },
      {
        label: 'int32 tensors, one used twice',
        inputs: [
          { shape: [3], dtype: 'int32', values: [1, -2, 3] },
          { shape: [3], dtype: 'int32', values: [10, 20, -30] },
        ],
        build: addNOf((a, b) => [a, b, a]),
        tfjs: tfAddNOf((a, b) => [a, b, a]),
      },
    ],
    gradFd: [
      {
        label: 'three tensors, one a product of the others',
        inputs: [{ shape: [2, 3] }, { shape: [2, 3] }],
        build: addNOf((a, b) => [a, b, lg.mul(a, b)]),
      },
    ],
    gradTfjs: [
      { label: 'three tensors', inputs: [{ shape: [2, 3] }, { shape: [2, 3] }, { shape: [2, 3] }] },
      {
        label: 'one tensor used twice accumulates',
        inputs: [{ shape: [3] }, { shape: [3] }],
        build: addNOf((a, b) => [a, b, a]),
        tfjs: tfAddNOf((a, b) => [a, b, a]),
      },
    ],
    secondOrder: [
      {
        label: 'composed with a product (its mixed second derivative)',
        inputs: [{ shape: [4] }, { shape: [4] }],
        build: addNOf((a, b) => [a, lg.mul(a, b), b]),
      },
    ],
  },

  // Core unary math (ops/elementwise.ts).
  unary('neg', lg.neg, tf.neg, { forward: {}, fd: {}, tfjsGrad: {} }),
  unary('square', lg.square, tf.square, { forward: { lo: -5, hi: 5 }, fd: {}, tfjsGrad: {}, second: {}, d2: () => 2 }),
  unary('sqrt', lg.sqrt, tf.sqrt, {
    forward: { lo: 0, hi: 10 },
    fd: { lo: 0.3, hi: 4 },
    tfjsGrad: { lo: 0.3, hi: 4 },
    second: { lo: 0.3, hi: 4 },
    d2: (x) => -0.25 * x ** -1.5,
  }),
  unary('exp', lg.exp, tf.exp, {
    forward: { lo: -10, hi: 10 },
    fd: { lo: -3, hi: 3 },
    tfjsGrad: { lo: -3, hi: 3 },
    second: { lo: -2, hi: 2 },
    d2: (x) => Math.exp(x),
  }),
  unary('log', lg.log, tf.log, {
    forward: { lo: 1e-3, hi: 100 },
    fd: { lo: 0.2, hi: 5 },
    tfjsGrad: { lo: 0.2, hi: 5 },
    second: { lo: 0.3, hi: 4 },
    d2: (x) => -1 / (x * x),
  }),
  unary('sin', lg.sin, tf.sin, {
    forward: { lo: -6, hi: 6 },
    fd: { lo: -4, hi: 4 },
    tfjsGrad: { lo: -4, hi: 4 },
    second: { lo: -4, hi: 4 },
    d2: (x) => -Math.sin(x),
  }),
  unary('cos', lg.cos, tf.cos, {
    forward: { lo: -6, hi: 6 },
    fd: { lo: -4, hi: 4 },
    tfjsGrad: { lo: -4, hi: 4 },
    second: { lo: -4, hi: 4 },
    d2: (x) => -Math.cos(x),
  }),
  unary('tanh', lg.tanh, tf.tanh, {
    forward: { lo: -5, hi: 5 },
    fd: { lo: -3, hi: 3 },
    tfjsGrad: { lo: -3, hi: 3 },
    second: { lo: -3, hi: 3 },
    d2: (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2),
  }),
  unary('sigmoid', lg.sigmoid, tf.sigmoid, {
    forward: { lo: -30, hi: 30 },
    fd: { lo: -6, hi: 6 },
    tfjsGrad: { lo: -6, hi: 6 },
    second: { lo: -5, hi: 5 },
    d2: (x) => sigmoidOf(x) * (1 - sigmoidOf(x)) * (1 - 2 * sigmoidOf(x)),
    more: {
      forward: [valuesCase('large-magnitude inputs saturate without NaN', [-200, -50, -1e-8, 1e-8, 50, 200])],
      gradFd: [
        { label: 'far in both tails', inputs: [{ shape: [6], options: { lo: -25, hi: 25, awayFromZero: 10 } }] },
      ],
    },
  }),
  unary('relu', lg.relu, tf.relu, {
    forward: { lo: -2, hi: 2 },
    fd: { lo: -2, hi: 2, awayFromZero: 0.1 },
    tfjsGrad: { lo: -2, hi: 2, awayFromZero: 0.1 },
    seedSalt: '2',
  }),
  unary('identity', lg.identity, tf.clone, { forward: {}, fd: {}, tfjsGrad: {} }),
  // Forward is identity; that it blocks the gradient is a bespoke test in gradients-fd.test.ts.
  unary('stopGradient', lg.stopGradient, tf.clone, { forward: {} }),
  // No gradient (null): gradients-fd.test.ts checks it.
  unary('zerosLike', lg.zerosLike, tf.zerosLike, { forward: {} }),
  unary('onesLike', lg.onesLike, tf.onesLike, { forward: {} }),

  // The full unary set (ops/unary.ts).
  unary('abs', lg.abs, tf.abs, {
    forward: {},
    fd: { awayFromZero: 0.1 },
    tfjsGrad: { awayFromZero: 0.05 },
    second: { awayFromZero: 0.1 },
    d2: ZERO,
    zeroSecondOrder: true,
  }),
  unary('sign', lg.sign, tf.sign, {
    forward: {},
    tfjsGrad: {},
    second: { awayFromZero: 0.1 },
    d2: ZERO,
    zeroSecondOrder: true,
    zeroGradient: true,
    more: { gradFd: [valuesCase('away from its jump', AWAY_FROM_JUMPS)] },
  }),
  unary('rsqrt', lg.rsqrt, tf.rsqrt, {
    forward: { lo: 0.01, hi: 10 },
    fd: { lo: 0.3, hi: 4 },
    tfjsGrad: { lo: 0.2, hi: 5 },
    second: { lo: 0.3, hi: 4 },
    d2: (x) => 0.75 * x ** -2.5,
  }),
  unary('reciprocal', lg.reciprocal, tf.reciprocal, {
    forward: { lo: -4, hi: 4, awayFromZero: 0.01 },
    fd: { lo: -3, hi: 3, awayFromZero: 0.3 },
    tfjsGrad: { lo: -3, hi: 3, awayFromZero: 0.3 },
    second: { lo: -3, hi: 3, awayFromZero: 0.4 },
    d2: (x) => 2 / x ** 3,
  }),
  unary('expm1', lg.expm1, tf.expm1, {
    forward: { lo: -5, hi: 5 },
    fd: { lo: -3, hi: 3 },
    tfjsGrad: { lo: -3, hi: 3 },
    second: { lo: -3, hi: 3 },
    d2: (x) => Math.exp(x),
  }),
  unary('log1p', lg.log1p, tf.log1p, {
    forward: { lo: -0.99, hi: 10 },
    fd: { lo: -0.7, hi: 4 },
    tfjsGrad: { lo: -0.8, hi: 5 },
    second: { lo: -0.6, hi: 4 },
    d2: (x) => -1 / (1 + x) ** 2,
  }),
  unary('tan', lg.tan, tf.tan, {
    forward: { lo: -1.4, hi: 1.4 },
    fd: { lo: -1.2, hi: 1.2 },
    tfjsGrad: { lo: -1.2, hi: 1.2 },
    second: { lo: -1.1, hi: 1.1 },
    d2: (x) => 2 * Math.tan(x) * (1 + Math.tan(x) ** 2),
  }),
  unary('asin', lg.asin, tf.asin, {
    forward: { lo: -1, hi: 1 },
    fd: { lo: -0.9, hi: 0.9 },
    tfjsGrad: { lo: -0.9, hi: 0.9 },
    second: { lo: -0.85, hi: 0.85 },
    d2: (x) => x / (1 - x * x) ** 1.5,
  }),
  unary('acos', lg.acos, tf.acos, {
    forward: { lo: -1, hi: 1 },
    fd: { lo: -0.9, hi: 0.9 },
    tfjsGrad: { lo: -0.9, hi: 0.9 },
    second: { lo: -0.85, hi: 0.85 },
    d2: (x) => -x / (1 - x * x) ** 1.5,
  }),
  unary('atan', lg.atan, tf.atan, {
    forward: { lo: -10, hi: 10 },
    fd: { lo: -4, hi: 4 },
    tfjsGrad: { lo: -4, hi: 4 },
    second: { lo: -4, hi: 4 },
    d2: (x) => (-2 * x) / (1 + x * x) ** 2,
  }),
  unary('sinh', lg.sinh, tf.sinh, {
    forward: { lo: -5, hi: 5 },
    fd: { lo: -3, hi: 3 },
    tfjsGrad: { lo: -3, hi: 3 },
    second: { lo: -3, hi: 3 },
    d2: (x) => Math.sinh(x),
  }),
  unary('cosh', lg.cosh, tf.cosh, {
    forward: { lo: -5, hi: 5 },
    fd: { lo: -3, hi: 3 },
    tfjsGrad: { lo: -3, hi: 3 },
    second: { lo: -3, hi: 3 },
    d2: (x) => Math.cosh(x),
  }),
  unary('asinh', lg.asinh, tf.asinh, {
    forward: { lo: -10, hi: 10 },
    fd: { lo: -4, hi: 4 },
    tfjsGrad: { lo: -4, hi: 4 },
    second: { lo: -4, hi: 4 },
    d2: (x) => -x / (1 + x * x) ** 1.5,
  }),
  unary('acosh', lg.acosh, tf.acosh, {
    forward: { lo: 1, hi: 10 },
    fd: { lo: 1.2, hi: 5 },
    tfjsGrad: { lo: 1.2, hi: 5 },
    second: { lo: 1.3, hi: 5 },
    d2: (x) => -x / (x * x - 1) ** 1.5,
  }),
  unary('atanh', lg.atanh, tf.atanh, {
    forward: { lo: -0.99, hi: 0.99 },
    fd: { lo: -0.9, hi: 0.9 },
    tfjsGrad: { lo: -0.9, hi: 0.9 },
    second: { lo: -0.85, hi: 0.85 },
    d2: (x) => (2 * x) / (1 - x * x) ** 2,
  }),
  unary('logSigmoid', lg.logSigmoid, tf.logSigmoid, {
    forward: { lo: -30, hi: 30 },
    fd: { lo: -8, hi: 8 },
    tfjsGrad: { lo: -10, hi: 10 },
    second: { lo: -8, hi: 8 },
    d2: (x) => -sigmoidOf(x) * sigmoidOf(-x),
    more: {
      forward: [valuesCase('far in both tails', [-100, -20, -1e-6, 1e-6, 20, 100])],
      gradFd: [
        { label: 'far in both tails', inputs: [{ shape: [8], options: { lo: -40, hi: 40, awayFromZero: 15 } }] },
      ],
    },
  }),
  unary('softplus', lg.softplus, tf.softplus, {
    forward: { lo: -30, hi: 30 },
    fd: { lo: -8, hi: 8 },
    tfjsGrad: { lo: -10, hi: 10 },
    second: { lo: -8, hi: 8 },
    d2: (x) => sigmoidOf(x) * sigmoidOf(-x),
    more: {
      forward: [valuesCase('far in both tails', [-100, -20, -1e-6, 1e-6, 20, 100])],
      gradFd: [
        { label: 'far in both tails', inputs: [{ shape: [8], options: { lo: -40, hi: 40, awayFromZero: 15 } }] },
      ],
    },
  }),
  unary('relu6', lg.relu6, tf.relu6, {
    forward: { lo: -3, hi: 9 },
    fd: { lo: -2, hi: 5.9, awayFromZero: 0.1 },
    tfjsGrad: { lo: -2, hi: 8, awayFromZero: 0.05 },
    second: { lo: -2, hi: 5.9, awayFromZero: 0.1 },
    d2: ZERO,
    zeroSecondOrder: true,
    more: {
      forward: [valuesCase('at its kinks', [0, -0, 6, -1e-30])],
      gradFd: [valuesCase('on both sides of 0 and of 6', [-1.5, -0.3, 0.4, 2.2, 5.1, 5.8, 6.3, 7.9])],
      gradTfjs: [{ label: 'at 0 and 6 takes the side tfjs takes', inputs: [KINKS] }],
    },
  }),
  unary('elu', lg.elu, tf.elu, {
    forward: { lo: -4, hi: 4 },
    fd: { lo: -3, hi: 3, awayFromZero: 0.1 },
    tfjsGrad: { lo: -3, hi: 3, awayFromZero: 0.05 },
    second: { lo: -3, hi: 3, awayFromZero: 0.1 },
    d2: (x) => (x < 0 ? Math.exp(x) : 0),
    more: {
      forward: [valuesCase('at its kink', [0, -0, 6, -1e-30])],
      gradTfjs: [{ label: 'at 0 takes the side tfjs takes', inputs: [KINKS] }],
    },
  }),
  unary('selu', lg.selu, tf.selu, {
    forward: { lo: -4, hi: 4 },
    fd: { lo: -3, hi: 3, awayFromZero: 0.1 },
    tfjsGrad: { lo: -3, hi: 3, awayFromZero: 0.05 },
    second: { lo: -3, hi: 3, awayFromZero: 0.1 },
    d2: (x) => (x < 0 ? SELU_SCALE_ALPHA * Math.exp(x) : 0),
    more: {
      forward: [valuesCase('at its kink', [0, -0, 6, -1e-30])],
      gradTfjs: [{ label: 'at 0 takes the side tfjs takes', inputs: [KINKS] }],
    },
  }),
  // leakyRelu is a prelu node named leakyRelu (bool-and-errors.test.ts); these rows cover its alpha attribute.
  unary(
    'leakyRelu',
    (x) => lg.leakyRelu(x),
    (x) => tf.leakyRelu(x),
    {
      variant: 'alpha 0.2 by default',
      forward: {},
      fd: { awayFromZero: 0.1 },
      tfjsGrad: { awayFromZero: 0.05 },
      second: { awayFromZero: 0.1 },
      d2: ZERO,
      zeroSecondOrder: true,
      more: {
        forward: [valuesCase('at its kink', [0, -0, 6, -1e-30])],
        gradTfjs: [{ label: 'at 0 takes the side tfjs takes', inputs: [KINKS] }],
      },
    },
  ),
  unary(
    'leakyRelu',
    (x) => lg.leakyRelu(x, 0.05),
    (x) => tf.leakyRelu(x, 0.05),
    { variant: 'alpha 0.05', forward: {} },
  ),
  unary(
    'leakyRelu',
    (x) => lg.leakyRelu(x, 0.01),
    (x) => tf.leakyRelu(x, 0.01),
    {
      variant: 'alpha 0.01',
      fd: { awayFromZero: 0.1 },
    },
  ),
  // tfjs's erf is an approximation with absolute error up to ~1.5e-7.
  unary('erf', lg.erf, tf.erf, {
    forward: { lo: -4, hi: 4 },
    fd: { lo: -3, hi: 3 },
    tfjsGrad: { lo: -3, hi: 3 },
    second: { lo: -3, hi: 3 },
    d2: (x) => (-4 * x * Math.exp(-x * x)) / Math.sqrt(Math.PI),
    more: {
      gradFd: [
        valuesCase(
          'across all of its pieces, out to where it is flat',
          [-6.5, -4.2, -2.9, -1.6, -0.8, -1e-3, 0.3, 0.999, 1.001, 1.75, 2.6, 3.3, 5.9, 7],
        ),
      ],
    },
  }),
  ...(
    [
      ['floor', lg.floor, tf.floor],
      ['ceil', lg.ceil, tf.ceil],
      ['round', lg.round, tf.round],
    ] as [string, Unary, TfUnary][]
  ).map(([op, ours, theirs]) =>
    unary(op, ours, theirs, {
      forward: { lo: -5, hi: 5 },
      tfjsGrad: {},
      second: {},
      d2: ZERO,
      zeroGradient: true,
      zeroSecondOrder: true,
      more: { gradFd: [valuesCase('away from its jumps', AWAY_FROM_JUMPS)] },
    }),
  ),
  {
    op: 'clipByValue',
    build: (x) => lg.clipByValue(x, -0.5, 1.25),
    tfjs: (x) => tf.clipByValue(x, -0.5, 1.25),
    forward: [
      ...unaryCases(UNARY_FORWARD_SHAPES, {}, { label: '(x, -0.5, 1.25) ' }),
      valuesCase('lets NaN through and clips infinities', [NaN, Infinity, -Infinity, 0.5], {
        build: (x) => lg.clipByValue(x, -1, 1),
        tfjs: (x) => tf.clipByValue(x, -1, 1),
      }),
    ],
    gradFd: [
      valuesCase('(x, -0.5, 0.7) inside and outside its bounds', [-2, -0.9, -0.4, 0, 0.3, 0.69, 0.71, 1.5], {
        build: (x) => lg.clipByValue(x, -0.5, 0.7),
      }),
      {
        label: 'composed with other ops',
        inputs: [{ shape: [3, 4], options: { lo: -1, hi: 1 } }],
        build: (x) => lg.mul(lg.clipByValue(lg.mul(x, 3), -1.5, 2), x),
      },
    ],
    gradTfjs: [
      ...unaryCases(
        UNARY_TFJS_GRAD_SHAPES,
        {},
        {
          label: '(x, -0.5, 1) ',
          build: (x) => lg.clipByValue(x, -0.5, 1),
          tfjs: (x) => tf.clipByValue(x, -0.5, 1),
        },
      ),
      {
        label: '(x, -0.5, 1) at its bounds takes the side tfjs takes',
        inputs: [KINKS],
        build: (x) => lg.clipByValue(x, -0.5, 1),
        tfjs: (x) => tf.clipByValue(x, -0.5, 1),
      },
    ],
    secondOrder: unaryCases(
      SECOND_ORDER_SHAPES,
      { lo: -2, hi: 2 },
      {
        label: '(x, -1, 1) ',
        build: (x) => lg.clipByValue(x, -1, 1),
      },
    ),
    d2: { fn: ZERO, options: { lo: -2, hi: 2 } },
    zeroSecondOrder: true,
  },
  unary('isNaN', lg.isNaN, tf.isNaN, {
    forward: {},
    more: { forward: [valuesCase('NaN and infinities', [NaN, Infinity, -Infinity, 0, -2])] },
  }),
  unary('isFinite', lg.isFinite, tf.isFinite, {
    forward: {},
    more: { forward: [valuesCase('NaN and infinities', [NaN, Infinity, -Infinity, 0, -2])] },
  }),

  // Comparisons and logic (bool outputs); bool-and-errors.test.ts checks they pass no gradient.
  comparison('equal', lg.equal, tf.equal, false),
  comparison('greater', lg.greater, tf.greater, false),
  comparison('notEqual', lg.notEqual, tf.notEqual, true),
  comparison('less', lg.less, tf.less, true),
  comparison('lessEqual', lg.lessEqual, tf.lessEqual, true),
  comparison('greaterEqual', lg.greaterEqual, tf.greaterEqual, true),
  logical('logicalAnd', lg.logicalAnd, tf.logicalAnd),
  logical('logicalOr', lg.logicalOr, tf.logicalOr),
  {
    op: 'logicalNot',
    build: lg.logicalNot as Build,
    tfjs: tf.logicalNot as TfBuild,
    forward: [[], [6], [2, 3, 2]].map((shape) => ({
      label: `[${shape.join(', ')}]`,
      inputs: [{ shape, dtype: 'bool' }],
    })),
  },
];
