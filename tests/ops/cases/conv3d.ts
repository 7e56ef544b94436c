/**
 * Rows of the 3-D ops: conv3d with its gradient ops conv3dBackpropInput and conv3dBackpropFilter (ops/conv3d.ts),
 * and maxPool3d / avgPool3d (ops/pool3d.ts). The twins: tf.conv3d, tf.conv3dTranspose (the backprop-input op), the
 * gradient of Σ tf.conv3d(x, f) · dy in f (tfjs's conv3DBackpropFilter), tf.maxPool3d and tf.avgPool3d. tfjs's
 * conv3d takes 'same' / 'valid' only and NDHWC only, and its gradient rejects dilations > 1: NCDHW, numeric and
 * explicit padding go through a transpose / tf.pad in the twin, and dilated cases are checked by finite
 * differences only. tfjs's cpu backend has the gradients of Conv3D, MaxPool3D and AvgPool3D but none of
 * Conv3DBackpropInputV2, so conv3dBackpropInput's and conv3dTranspose's gradients are checked by finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Case, OpRow } from './table';

type Shape = readonly number[];
type Triple = number | [number, number, number];

interface Conv3DCase {
  readonly label: string;
  readonly x: Shape;
  readonly f: Shape;
  readonly strides: Triple;
  readonly pad: lg.Conv3DPad;
  readonly dilations?: Triple;
  readonly format?: 'NDHWC' | 'NCDHW';
}

const FORWARD: readonly Conv3DCase[] = [
  { label: "'same' stride 1", x: [2, 4, 5, 4, 3], f: [3, 3, 2, 3, 4], strides: 1, pad: 'same' },
  { label: "'valid' stride 1", x: [1, 5, 4, 4, 2], f: [2, 3, 2, 2, 3], strides: 1, pad: 'valid' },
  { label: "'same' stride 2 (odd padding split)", x: [1, 5, 6, 7, 2], f: [2, 3, 4, 2, 3], strides: 2, pad: 'same' },
  { label: "'valid' strides [1, 2, 3]", x: [2, 4, 6, 7, 2], f: [2, 2, 3, 2, 2], strides: [1, 2, 3], pad: 'valid' },
  { label: 'numeric pad 1', x: [1, 4, 4, 5, 2], f: [3, 3, 3, 2, 2], strides: 1, pad: 1 },
  {
    label: 'explicit pad stride 2',
    x: [1, 5, 4, 6, 2],
    f: [3, 2, 3, 2, 2],
    strides: 2,
    pad: [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 1],
      [0, 0],
    ],
  },
  { label: "dilations 2 'same'", x: [1, 5, 5, 6, 2], f: [2, 2, 3, 2, 3], strides: 1, pad: 'same', dilations: 2 },
  { label: "NCDHW 'same' stride 2", x: [2, 3, 5, 4, 4], f: [3, 3, 3, 3, 2], strides: 2, pad: 'same', format: 'NCDHW' },
  { label: '1×1×1 filter', x: [2, 3, 3, 3, 5], f: [1, 1, 1, 5, 3], strides: 1, pad: 'valid' },
];

const SMALL: readonly Conv3DCase[] = [
  { label: "'same' stride 1", x: [1, 3, 3, 2, 2], f: [2, 2, 2, 2, 2], strides: 1, pad: 'same' },
  { label: "'valid' stride 2", x: [1, 4, 3, 5, 1], f: [2, 2, 3, 1, 2], strides: 2, pad: 'valid' },
  { label: "'same' stride [2, 1, 2]", x: [2, 3, 3, 3, 1], f: [3, 2, 2, 1, 2], strides: [2, 1, 2], pad: 'same' },
  {
    label: 'explicit pad',
    x: [1, 3, 3, 3, 1],
    f: [2, 2, 2, 1, 2],
    strides: 1,
    pad: [
      [0, 0],
      [1, 0],
      [0, 2],
      [1, 1],
      [0, 0],
    ],
  },
  { label: "NCDHW 'same' stride 2", x: [1, 2, 3, 4, 3], f: [2, 2, 2, 2, 2], strides: 2, pad: 'same', format: 'NCDHW' },
];

/** Beyond tfjs's gradient: dilations (with strides, which tfjs's conv3d rejects together too). */
const FD_ONLY: readonly Conv3DCase[] = [
  { label: "dilations 2 'same'", x: [1, 4, 4, 3, 1], f: [2, 2, 2, 1, 2], strides: 1, pad: 'same', dilations: 2 },
  {
    label: 'strides 2 with dilations 2',
    x: [1, 5, 5, 4, 1],
    f: [2, 2, 2, 1, 1],
    strides: 2,
    pad: 'same',
    dilations: 2,
  },
];

type TfPad = 'same' | 'valid';

/** tfjs's conv3d for a case: NCDHW through transposes, numeric / explicit padding through tf.pad then 'valid'. */
function tfConv(c: Conv3DCase): (x: tf.Tensor, f: tf.Tensor) => tf.Tensor {
  return (x, f) => {
    let input = c.format === 'NCDHW' ? tf.transpose(x, [0, 2, 3, 4, 1]) : x;
    let pad: TfPad;
    if (c.pad === 'same' || c.pad === 'valid') {
      pad = c.pad;
    } else {
      const p = c.pad;
      const sides: [number, number][] =
        typeof p === 'number'
          ? [
              [0, 0],
              [p, p],
              [p, p],
              [p, p],
              [0, 0],
            ]
          : (c.format === 'NCDHW' ? [p[0], p[2], p[3], p[4], p[1]] : p).map((s) => [s[0], s[1]]);
      input = tf.pad(input, sides);
      pad = 'valid';
    }
    const y = tf.conv3d(input as tf.Tensor5D, f as tf.Tensor5D, c.strides, pad, 'NDHWC', c.dilations ?? 1);
    return c.format === 'NCDHW' ? tf.transpose(y, [0, 4, 1, 2, 3]) : y;
  };
}

const ours =
  (c: Conv3DCase) =>
  (x: lg.Tensor, f: lg.Tensor): lg.Tensor =>
    lg.conv3d(x, f, c.strides, c.pad, c.format, c.dilations);

function convCase(c: Conv3DCase, extra: Partial<Case> = {}): Case {
  return {
    label: `${c.label} x[${c.x.join(', ')}] f[${c.f.join(', ')}]`,
    inputs: [{ shape: c.x }, { shape: c.f }],
    build: ours(c),
    tfjs: tfConv(c),
    ...extra,
  };
}

function outShape(c: Conv3DCase): number[] {
  const g = new lg.Graph();
  return ours(c)(g.placeholder('x', [...c.x]), g.placeholder('f', [...c.f])).shape as number[];
}

/** conv3dBackpropInput(dy, f): tfjs's twin is the gradient of Σ conv3d(x, f) · dy in x. */
function inputCase(c: Conv3DCase): Case {
  const dy = outShape(c);
  return {
    label: `${c.label} dy[${dy.join(', ')}] → x[${c.x.join(', ')}]`,
    inputs: [{ shape: dy }, { shape: c.f }],
    build: (d, f) => lg.conv3dBackpropInput(c.x, d, f, c.strides, c.pad, c.format, c.dilations),
    tfjs: (d, f) => {
      const conv = tfConv(c);
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(conv(x, f), d)))(tf.zeros([...c.x]));
    },
  };
}

/** conv3dBackpropFilter(x, dy): tfjs's twin is the gradient of Σ conv3d(x, f) · dy in f. */
function filterCase(c: Conv3DCase): Case {
  const dy = outShape(c);
  return {
    label: `${c.label} x[${c.x.join(', ')}] dy[${dy.join(', ')}] → f[${c.f.join(', ')}]`,
    inputs: [{ shape: c.x }, { shape: dy }],
    build: (x, d) => lg.conv3dBackpropFilter(x, d, c.f, c.strides, c.pad, c.format, c.dilations),
    tfjs: (x, d) => {
      const conv = tfConv(c);
      return tf.grad((f: tf.Tensor) => tf.sum(tf.mul(conv(x, f), d)))(tf.zeros([...c.f]));
    },
  };
}

const undilated = (c: Conv3DCase): boolean => c.dilations === undefined;

const CONV3D: OpRow = {
  op: 'conv3d',
  build: ours(FORWARD[0]),
  tfjs: tfConv(FORWARD[0]),
  forward: [
    ...FORWARD.map((c) => convCase(c)),
    {
      label: 'one volume (rank 4)',
      inputs: [{ shape: [4, 4, 3, 2] }, { shape: [2, 2, 2, 2, 3] }],
      build: (x, f) => lg.conv3d(x, f, 1, 'same'),
      tfjs: (x, f) => tf.conv3d(x as tf.Tensor4D, f as tf.Tensor5D, 1, 'same'),
    },
    {
      label: "relu(conv3d(x, f, 2, 'valid'))",
      inputs: [{ shape: [1, 5, 5, 5, 2] }, { shape: [3, 3, 3, 2, 2] }],
      build: (x, f) => lg.relu(lg.conv3d(x, f, 2, 'valid')),
      tfjs: (x, f) => tf.relu(tf.conv3d(x as tf.Tensor5D, f as tf.Tensor5D, 2, 'valid')),
    },
  ],
  gradFd: [...SMALL, ...FD_ONLY].map((c) => convCase(c)),
  gradTfjs: SMALL.map((c) => convCase(c)),
  secondOrder: [
    ...SMALL.slice(0, 2).map((c) => convCase(c)),
    convCase(SMALL[4]),
    convCase(SMALL[2], { label: 'tanh(conv3d) stride [2, 1, 2]', build: (x, f) => lg.tanh(ours(SMALL[2])(x, f)) }),
  ],
};

const BACKPROP_INPUT: OpRow = {
  op: 'conv3dBackpropInput',
  build: inputCase(FORWARD[0]).build as OpRow['build'],
  tfjs: inputCase(FORWARD[0]).tfjs,
  forward: FORWARD.filter(undilated).map(inputCase),
  gradFd: [...SMALL, ...FD_ONLY].map(inputCase),
  // tfjs has no gradient of its Conv3DBackpropInputV2 kernel (so none of tf.conv3dTranspose either).
  secondOrder: [SMALL[0], SMALL[2], SMALL[4]].map(inputCase),
};

const BACKPROP_FILTER: OpRow = {
  op: 'conv3dBackpropFilter',
  build: filterCase(FORWARD[0]).build as OpRow['build'],
  tfjs: filterCase(FORWARD[0]).tfjs,
  forward: FORWARD.filter(undilated).map(filterCase),
  gradFd: [...SMALL, ...FD_ONLY].map(filterCase),
  secondOrder: [SMALL[0], SMALL[2], SMALL[4]].map(filterCase),
};

const CONV3D_TRANSPOSE: OpRow = {
  op: 'conv3dTranspose',
  build: (x, f) => lg.conv3dTranspose(x, f, [2, 4, 5, 4, 3], 1, 'same'),
  tfjs: (x, f) => tf.conv3dTranspose(x as tf.Tensor5D, f as tf.Tensor5D, [2, 4, 5, 4, 3], 1, 'same'),
  forward: [
    { label: "'same' stride 1", inputs: [{ shape: [2, 4, 5, 4, 4] }, { shape: [3, 3, 2, 3, 4] }] },
    {
      label: "'same' stride 2 to 7×6×5",
      inputs: [{ shape: [1, 4, 3, 3, 2] }, { shape: [3, 3, 3, 3, 2] }],
      build: (x, f) => lg.conv3dTranspose(x, f, [1, 7, 6, 5, 3], 2, 'same'),
      tfjs: (x, f) => tf.conv3dTranspose(x as tf.Tensor5D, f as tf.Tensor5D, [1, 7, 6, 5, 3], 2, 'same'),
    },
    {
      label: "'valid' stride 2, one volume (rank 4)",
      inputs: [{ shape: [3, 2, 3, 2] }, { shape: [2, 3, 2, 1, 2] }],
      build: (x, f) => lg.conv3dTranspose(x, f, [6, 5, 6, 1], 2, 'valid'),
      tfjs: (x, f) => tf.conv3dTranspose(x as tf.Tensor4D, f as tf.Tensor5D, [6, 5, 6, 1], 2, 'valid'),
    },
  ],
  gradFd: [
    {
      label: "'same' stride 2",
      inputs: [{ shape: [1, 2, 2, 3, 2] }, { shape: [2, 2, 2, 1, 2] }],
      build: (x, f) => lg.conv3dTranspose(x, f, [1, 4, 4, 5, 1], 2, 'same'),
    },
  ],
};

// ---- 3-D pooling ---------------------------------------------------------------------------------------------------

type Pool3D = 'maxPool3d' | 'avgPool3d';
type Padding = 'same' | 'valid' | number;

// [label, x shape, filterSize, strides, pad, dimRoundingMode]
type Geometry = [string, Shape, Triple, Triple, Padding, ('floor' | 'round' | 'ceil')?];
const GEOMETRIES: Geometry[] = [
  ['window 2, stride 2, valid', [2, 4, 4, 4, 2], 2, 2, 'valid'],
  ['window 2, stride 2, same (odd sizes)', [1, 5, 3, 5, 2], 2, 2, 'same'],
  ['window 3, stride 1, same', [1, 3, 4, 5, 2], 3, 1, 'same'],
  ['window 3, stride 2, valid', [2, 5, 6, 5, 1], 3, 2, 'valid'],
  ['window [1, 2, 3], strides [1, 2, 1], same', [1, 3, 4, 5, 2], [1, 2, 3], [1, 2, 1], 'same'],
  ['numeric padding 1', [1, 4, 5, 4, 2], 3, 2, 1],
  ['numeric padding 1 with ceil rounding', [1, 4, 4, 4, 2], 3, 2, 1, 'ceil'],
  ['one volume (rank 4)', [4, 3, 4, 2], 2, 1, 'valid'],
];
const GRADIENT_GEOMETRIES = [0, 2, 4, 5].map((i) => GEOMETRIES[i]);
// As in 2-D (pool.ts): tfjs's AvgPool3DGrad divides by the whole window where the forward divides by the input
// voxels, so padded avg windows are checked against finite differences only.
const TFJS_GRADIENT_GEOMETRIES: { readonly [op in Pool3D]: Geometry[] } = {
  maxPool3d: [0, 2, 3, 5].map((i) => GEOMETRIES[i]),
  avgPool3d: [0, 3].map((i) => GEOMETRIES[i]),
};

function poolCase([label, shape, f, s, pad, rounding]: Geometry, op: Pool3D): Case {
  return {
    label,
    inputs: [{ shape }],
    build: (x) => lg[op](x, f, s, pad, rounding),
    tfjs: (x) => tf[op](x as tf.Tensor5D, f, s, pad, rounding),
  };
}

function poolRow(op: Pool3D): OpRow {
  const forward = [
    ...GEOMETRIES.map((g) => poolCase(g, op)),
    {
      label: 'NCDHW (transposed around the op)',
      inputs: [{ shape: [1, 2, 4, 5, 4] }],
      build: (x: lg.Tensor) => lg[op](x, 2, 2, 'same', undefined, 'NCDHW'),
      tfjs: (x: tf.Tensor) =>
        tf.transpose(tf[op](tf.transpose(x, [0, 2, 3, 4, 1]) as tf.Tensor5D, 2, 2, 'same'), [0, 4, 1, 2, 3]),
    },
  ];
  return {
    op,
    build: forward[0].build as NonNullable<Case['build']>,
    tfjs: forward[0].tfjs,
    forward,
    tol: { forward: 1e-6 },
    gradFd: GRADIENT_GEOMETRIES.map((g) => poolCase(g, op)),
    gradTfjs: TFJS_GRADIENT_GEOMETRIES[op].map((g) => poolCase(g, op)),
    secondOrder: GRADIENT_GEOMETRIES.slice(0, 3).map((g) => {
      const c = poolCase(g, op);
      const build = c.build as NonNullable<Case['build']>;
      return { label: `sin after, ${c.label}`, inputs: c.inputs, build: (x: lg.Tensor) => lg.sin(build(x)) };
    }),
  };
}

// ---- dimRoundingMode of the 2-D convolution builders (ops/conv.ts) ------------------------------------------------

type Rounding = 'floor' | 'round' | 'ceil';

/** conv2d with a number padding and each rounding: [6 − 3 + 2] / 2 + 1 = 3.5 and [8 − 3 + 2] / 3 + 1 = 3.33. */
const roundedConv2d = (rounding: Rounding, size: number, stride: number): Case => ({
  label: `conv2d ${rounding}, size ${size}, stride ${stride}, pad 1`,
  inputs: [{ shape: [2, size, size, 2] }, { shape: [3, 3, 2, 3] }],
  build: (x, f) => lg.conv2d(x, f, stride, 1, 'NHWC', 1, rounding),
  tfjs: (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, 1, 'NHWC', 1, rounding),
});

const ROUNDED: readonly Case[] = [
  ...(['floor', 'round', 'ceil'] as const).flatMap((r) => [roundedConv2d(r, 6, 2), roundedConv2d(r, 8, 3)]),
  {
    label: 'depthwiseConv2d ceil, pad 2, stride 2',
    inputs: [{ shape: [1, 7, 7, 2] }, { shape: [3, 3, 2, 2] }],
    build: (x, f) => lg.depthwiseConv2d(x, f, 2, 2, 'NHWC', 1, 'ceil'),
    tfjs: (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 2, 'NHWC', 1, 'ceil'),
  },
  {
    // tfjs's conv1d pads its height of 1 too when the pad is a number (and sizes the width with the height's
    // filter and stride): its twin is tfjs's conv2d with the width padded explicitly, rounded the same way.
    label: 'conv1d ceil, pad 1, stride 2 (tfjs: explicit padding of its conv2d)',
    inputs: [{ shape: [2, 8, 2] }, { shape: [3, 2, 3] }],
    build: (x, f) => lg.conv1d(x, f, 2, 1, 'NWC', 1, 'ceil'),
    tfjs: (x, f) => {
      const sides: [[number, number], [number, number], [number, number], [number, number]] = [
        [0, 0],
        [0, 0],
        [1, 1],
        [0, 0],
      ];
      const x4 = tf.expandDims(x, 1) as tf.Tensor4D;
      return tf.squeeze(tf.conv2d(x4, tf.expandDims(f, 0) as tf.Tensor4D, [1, 2], sides, 'NHWC', 1, 'ceil'), [1]);
    },
  },
  {
    label: 'conv2dTranspose ceil, pad 1, stride 2 (to 6×6)',
    inputs: [{ shape: [1, 4, 4, 3] }, { shape: [3, 3, 2, 3] }],
    build: (x, f) => lg.conv2dTranspose(x, f, [1, 6, 6, 2], 2, 1, 'ceil'),
    tfjs: (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [1, 6, 6, 2], 2, 1, 'ceil'),
  },
];

/**
 * tfjs's conv gradients drop dimRoundingMode (its Conv2D gradient calls conv2DBackpropInput without it, which then
 * disagrees with dy's shape), so the rounded convolutions' gradients are checked against finite differences only.
 */
const CONV2D_ROUNDING: OpRow = {
  op: 'conv2d',
  variant: 'dimRoundingMode',
  build: ROUNDED[0].build as OpRow['build'],
  tfjs: ROUNDED[0].tfjs,
  forward: ROUNDED,
  gradFd: [ROUNDED[5], ROUNDED[6], ROUNDED[7], ROUNDED[8]],
  secondOrder: [ROUNDED[5]],
};

export const CONV3D_ROWS: readonly OpRow[] = [
  CONV2D_ROUNDING,
  CONV3D,
  BACKPROP_INPUT,
  BACKPROP_FILTER,
  CONV3D_TRANSPOSE,
  poolRow('maxPool3d'),
  poolRow('avgPool3d'),
];
