/**
 * Rows of the pooling ops (ops/pool.ts): forward values against tfjs over 'same' / 'valid' / numeric padding,
 * strides 1 and 2, windows 2 and 3; gradients against finite differences (float64; random inputs have no ties) and
 * tf.grads; second derivatives through a smooth function after the pool (max pooling is piecewise linear, so
 * sin(maxPool(x)) has a nonzero Hessian only through sin, routed by maxPoolGrad's own gradient).
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Case, OpRow } from './table';

type Shape = number[];
type Window = [number, number] | number;
type Padding = 'same' | 'valid' | number;

type Pool = 'maxPool' | 'avgPool';

// [label, x shape, filterSize, strides, pad, dimRoundingMode]
type Geometry = [string, Shape, Window, Window, Padding, ('floor' | 'round' | 'ceil')?];
const GEOMETRIES: Geometry[] = [
  ['window 2, stride 2, valid', [2, 4, 4, 3], 2, 2, 'valid'],
  ['window 2, stride 2, same (odd size)', [1, 5, 5, 2], 2, 2, 'same'],
  ['window 3, stride 1, same', [2, 4, 5, 2], 3, 1, 'same'],
  ['window 3, stride 1, valid', [1, 5, 4, 3], 3, 1, 'valid'],
  ['window 3, stride 2, same', [1, 6, 7, 2], 3, 2, 'same'],
  ['window 3, stride 2, valid', [2, 7, 6, 1], 3, 2, 'valid'],
  ['window [2, 3], strides [1, 2], same', [1, 5, 6, 2], [2, 3], [1, 2], 'same'],
  ['numeric padding 1', [1, 5, 5, 2], 3, 2, 1],
  ['numeric padding with ceil rounding', [1, 6, 6, 2], 3, 2, 1, 'ceil'],
  ['one image (rank 3)', [4, 4, 2], 2, 1, 'valid'],
];
const GRADIENT_GEOMETRIES = [0, 2, 4, 8].map((i) => GEOMETRIES[i]);
// tfjs's gradients disagree with finite differences of tfjs's own forward where a window holds padding: its
// AvgPoolGrad divides by the whole window (the forward divides by the input pixels), and its MaxPoolGrad drops the
// windows that ceil rounding adds. Those geometries are checked against finite differences only.
const TFJS_GRADIENT_GEOMETRIES: { readonly [op in Pool]: Geometry[] } = {
  maxPool: [0, 2, 4, 7].map((i) => GEOMETRIES[i]),
  avgPool: [0, 3, 5].map((i) => GEOMETRIES[i]),
};

function poolCase([label, shape, f, s, pad, rounding]: Geometry, op: Pool): Case {
  return {
    label,
    inputs: [{ shape }],
    build: (x) => lg[op](x, f, s, pad, rounding),
    tfjs: (x) => tf[op](x as tf.Tensor4D, f, s, pad, rounding),
  };
}

// tfjs's pool: [label, x shape, windowShape, pad, dilations, strides] (tfjs needs strides 1 with dilations > 1).
// With dilations and 'same', tfjs pads with zeros (through spaceToBatchND) that max and the average's count see;
// lazygrad leaves padding out as everywhere else (and as ONNX Runtime): that case is checked by gradients only.
type Dilated = [string, Shape, Window, Padding, Window, Window];
const DILATED: Dilated[] = [
  ['tf.pool, window 3, dilation 2, valid', [1, 7, 7, 2], 3, 'valid', 2, 1],
  ['tf.pool, window [2, 3], dilations [2, 1], valid', [2, 6, 5, 1], [2, 3], 'valid', [2, 1], 1],
  ['tf.pool, window 2, dilation 2, same', [1, 5, 6, 2], 2, 'same', 2, 1],
  ['tf.pool, window 3, stride 2, no dilation', [1, 7, 6, 2], 3, 'same', 1, 2],
];

function dilatedCase([label, shape, f, pad, d, s]: Dilated, op: Pool): Case {
  const kind = op === 'maxPool' ? 'max' : 'avg';
  return {
    label,
    inputs: [{ shape }],
    build: (x) => lg.pool(x, f, kind, pad, d, s),
    tfjs: (x) => tf.pool(x as tf.Tensor4D, f, kind, pad, d, s),
  };
}

function poolRow(op: Pool): OpRow {
  const forward = [...GEOMETRIES.map((g) => poolCase(g, op)), ...[0, 1, 3].map((i) => dilatedCase(DILATED[i], op))];
  const gradients = [
    ...GRADIENT_GEOMETRIES.map((g) => poolCase(g, op)),
    dilatedCase(DILATED[0], op),
    dilatedCase(DILATED[2], op),
  ];
  return {
    op,
    build: forward[0].build as NonNullable<Case['build']>,
    tfjs: forward[0].tfjs,
    forward,
    tol: { forward: 1e-6 },
    gradFd: gradients,
    gradTfjs: [...TFJS_GRADIENT_GEOMETRIES[op].map((g) => poolCase(g, op)), dilatedCase(DILATED[1], op)],
    // A smooth function after the pool gives a nonzero second derivative (both pools are linear on each piece).
    secondOrder: [...GRADIENT_GEOMETRIES.map((g) => poolCase(g, op)), dilatedCase(DILATED[2], op)].map((c) => {
      const build = c.build as NonNullable<Case['build']>;
      return { label: `sin after, ${c.label}`, inputs: c.inputs, build: (x: lg.Tensor) => lg.sin(build(x)) };
    }),
  };
}

/** maxPoolWithArgmax's indexes (its result is a maxPool node): forward only, an index has no gradient. */
const ARGMAX_GEOMETRIES: [string, Shape, Window, Window, Padding, boolean][] = [
  ['window 2, stride 2, valid', [2, 4, 4, 3], 2, 2, 'valid', false],
  ['window 3, stride 2, same, batch in the index', [2, 5, 6, 2], 3, 2, 'same', true],
  ['window 3, stride 1, same', [1, 4, 5, 3], 3, 1, 'same', false],
  ['numeric padding 1, batch in the index', [2, 5, 5, 2], 3, 2, 1, true],
];
const argmaxCases: Case[] = ARGMAX_GEOMETRIES.map(([label, shape, f, s, pad, batch]) => ({
  label,
  inputs: [{ shape }],
  build: (x) => lg.maxPoolWithArgmax(x, f, s, pad, batch).indexes,
  tfjs: (x) => tf.maxPoolWithArgmax(x as tf.Tensor4D, f, s, pad, batch).indexes,
}));

export const POOL_ROWS: readonly OpRow[] = [
  poolRow('maxPool'),
  poolRow('avgPool'),
  {
    op: 'maxPoolArgmax',
    build: argmaxCases[0].build as NonNullable<Case['build']>,
    tfjs: argmaxCases[0].tfjs,
    forward: argmaxCases,
  },
];
