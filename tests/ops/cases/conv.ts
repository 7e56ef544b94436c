/**
 * Rows of conv2d and its gradient ops conv2dBackpropInput and conv2dBackpropFilter (ops/conv.ts). The tfjs twin of
 * conv2dBackpropInput is tf.conv2dTranspose (the same op); tfjs has no public conv2DBackpropFilter, so that row's
 * twin is tf.grad of Σ conv2d(x, f) · dy with respect to f. tfjs's conv2d allows strides > 1 only with dilations 1,
 * so dilated strided cases are checked against finite differences only.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Case, OpRow } from './table';

type Shape = readonly number[];
type Pad = lg.Conv2DPad;

interface ConvCase {
  readonly label: string;
  readonly x: Shape;
  readonly f: Shape;
  readonly strides: number | [number, number];
  readonly pad: Pad;
  readonly dilations?: number | [number, number];
  readonly format?: 'NHWC' | 'NCHW';
}

const FORWARD: readonly ConvCase[] = [
  { label: "'same' stride 1", x: [2, 6, 5, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { label: "'valid' stride 1", x: [2, 6, 5, 3], f: [3, 2, 3, 4], strides: 1, pad: 'valid' },
  { label: "'same' stride 2 (odd padding split)", x: [1, 7, 8, 2], f: [4, 3, 2, 3], strides: 2, pad: 'same' },
  { label: "'valid' strides [2, 3]", x: [2, 9, 10, 2], f: [3, 3, 2, 2], strides: [2, 3], pad: 'valid' },
  { label: 'numeric pad 1', x: [1, 5, 6, 2], f: [3, 3, 2, 3], strides: 1, pad: 1 },
  {
    label: 'explicit pad [[0,0],[1,2],[0,1],[0,0]] stride 2',
    x: [2, 6, 7, 3],
    f: [3, 2, 3, 2],
    strides: 2,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { label: "dilations 2 'same'", x: [1, 8, 7, 2], f: [3, 3, 2, 3], strides: 1, pad: 'same', dilations: 2 },
  { label: "dilations [2, 1] 'valid'", x: [2, 8, 7, 2], f: [3, 2, 2, 3], strides: 1, pad: 'valid', dilations: [2, 1] },
  { label: "NCHW 'same' stride 1", x: [2, 3, 6, 5], f: [3, 3, 3, 4], strides: 1, pad: 'same', format: 'NCHW' },
  { label: "NCHW 'valid' stride 2", x: [2, 2, 7, 6], f: [3, 3, 2, 3], strides: 2, pad: 'valid', format: 'NCHW' },
  { label: '1×1 filter (a matMul per pixel)', x: [2, 4, 4, 5], f: [1, 1, 5, 3], strides: 1, pad: 'valid' },
  { label: 'LeNet-like 5×5 same 1→16', x: [2, 12, 12, 1], f: [5, 5, 1, 16], strides: 1, pad: 'same' },
];

const SMALL: readonly ConvCase[] = [
  { label: "'same' stride 1", x: [2, 4, 3, 2], f: [3, 2, 2, 3], strides: 1, pad: 'same' },
  { label: "'valid' stride 2", x: [1, 5, 6, 2], f: [2, 3, 2, 2], strides: 2, pad: 'valid' },
  { label: "'same' stride 2", x: [1, 5, 4, 2], f: [3, 3, 2, 2], strides: 2, pad: 'same' },
  {
    label: 'explicit pad',
    x: [1, 4, 4, 2],
    f: [2, 2, 2, 2],
    strides: 1,
    pad: [
      [0, 0],
      [2, 0],
      [1, 1],
      [0, 0],
    ],
  },
  { label: 'dilations 2', x: [1, 5, 5, 1], f: [2, 2, 1, 2], strides: 1, pad: 'same', dilations: 2 },
  { label: 'NCHW stride 2', x: [1, 2, 5, 4], f: [2, 2, 2, 3], strides: 2, pad: 'same', format: 'NCHW' },
];

/** Cases tfjs cannot check: strides and dilations both above 1 (and a grouped conv, via the op's attrs). */
const FD_ONLY: readonly ConvCase[] = [
  { label: 'strides 2 with dilations 2', x: [1, 7, 6, 2], f: [2, 2, 2, 2], strides: 2, pad: 'same', dilations: 2 },
];

/** tfjs computes NCHW conv2d on its cpu backend; the twin still goes through NHWC so it relies on no such path. */
function tfConv(c: ConvCase): (x: tf.Tensor, f: tf.Tensor) => tf.Tensor {
  const pad = c.pad as
    'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  return (x, f) => {
    if (c.format !== 'NCHW') return tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, pad, 'NHWC', c.dilations);
    const nhwc = tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
    return tf.transpose(tf.conv2d(nhwc, f as tf.Tensor4D, c.strides, pad, 'NHWC', c.dilations), [0, 3, 1, 2]);
  };
}

const ours =
  (c: ConvCase) =>
  (x: lg.Tensor, f: lg.Tensor): lg.Tensor =>
    lg.conv2d(x, f, c.strides, c.pad, c.format, c.dilations);

function convCase(c: ConvCase, extra: Partial<Case> = {}): Case {
  return {
    label: `${c.label} x[${c.x.join(', ')}] f[${c.f.join(', ')}]`,
    inputs: [{ shape: c.x }, { shape: c.f }],
    build: ours(c),
    tfjs: tfConv(c),
    ...extra,
  };
}

/** The forward conv's output shape, from a lazygrad graph (shape inference). */
function outShape(c: ConvCase): number[] {
  const g = new lg.Graph();
  return ours(c)(g.placeholder('x', [...c.x]), g.placeholder('f', [...c.f])).shape as number[];
}

const CONV2D: OpRow = {
  op: 'conv2d',
  build: ours(FORWARD[0]),
  tfjs: tfConv(FORWARD[0]),
  forward: [
    ...FORWARD.map((c) => convCase(c)),
    {
      label: 'a rank-3 image (no batch dim)',
      inputs: [{ shape: [5, 6, 2] }, { shape: [3, 3, 2, 3] }],
      build: (x, f) => lg.conv2d(x, f, 1, 'same'),
      tfjs: (x, f) => tf.conv2d(x as tf.Tensor3D, f as tf.Tensor4D, 1, 'same'),
    },
    {
      label: 'chained x.conv2d(f, 1, valid).relu()',
      inputs: [{ shape: [1, 5, 5, 2] }, { shape: [3, 3, 2, 2] }],
      build: (x, f) => x.conv2d(f, 1, 'valid').relu(),
      tfjs: (x, f) => tf.relu(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid')),
    },
  ],
  forwardLevels: [true, false],
  gradFd: [...SMALL, ...FD_ONLY].map((c) => convCase(c)),
  // tfjs's conv2d gradient rejects dilations > 1.
  gradTfjs: SMALL.filter((c) => c.dilations === undefined).map((c) => convCase(c)),
  secondOrder: [
    ...SMALL.slice(0, 3).map((c) => convCase(c)),
    convCase(SMALL[5]),
    convCase(SMALL[1], { label: 'tanh(conv2d) stride 2 valid', build: (x, f) => lg.tanh(ours(SMALL[1])(x, f)) }),
  ],
};

/** conv2dBackpropInput(dy, f) for the forward case c: dy has the conv's output shape. */
function inputCase(c: ConvCase): Case {
  const dy = outShape(c);
  return {
    label: `${c.label} dy[${dy.join(', ')}] → x[${c.x.join(', ')}]`,
    inputs: [{ shape: dy }, { shape: c.f }],
    build: (d, f) => lg.conv2dBackpropInput(c.x, d, f, c.strides, c.pad, c.format, c.dilations),
    tfjs: (d, f) => {
      const pad = c.pad as 'same' | 'valid' | number;
      if (c.format !== 'NCHW')
        return tf.conv2dTranspose(d as tf.Tensor4D, f as tf.Tensor4D, [...c.x] as never, c.strides, pad);
      const nhwc = tf.transpose(d, [0, 2, 3, 1]) as tf.Tensor4D;
      const xs = [c.x[0], c.x[2], c.x[3], c.x[1]] as [number, number, number, number];
      return tf.transpose(tf.conv2dTranspose(nhwc, f as tf.Tensor4D, xs, c.strides, pad), [0, 3, 1, 2]);
    },
  };
}

/** conv2dBackpropFilter(x, dy) for the forward case c; tfjs: the gradient of Σ conv2d(x, f) · dy in f. */
function filterCase(c: ConvCase): Case {
  const dy = outShape(c);
  return {
    label: `${c.label} x[${c.x.join(', ')}] dy[${dy.join(', ')}] → f[${c.f.join(', ')}]`,
    inputs: [{ shape: c.x }, { shape: dy }],
    build: (x, d) => lg.conv2dBackpropFilter(x, d, c.f, c.strides, c.pad, c.format, c.dilations),
    tfjs: (x, d) => {
      const conv = tfConv(c);
      return tf.grad((f: tf.Tensor) => tf.sum(tf.mul(conv(x, f), d)))(tf.zeros([...c.f]));
    },
  };
}

/** tfjs's conv2dTranspose takes 'same' / 'valid' / a number only, and no dilations. */
const transposable = (c: ConvCase): boolean => !Array.isArray(c.pad) && c.dilations === undefined;

const BACKPROP_INPUT: OpRow = {
  op: 'conv2dBackpropInput',
  build: inputCase(FORWARD[0]).build as OpRow['build'],
  tfjs: inputCase(FORWARD[0]).tfjs,
  forward: FORWARD.filter(transposable).map(inputCase),
  gradFd: [...SMALL, ...FD_ONLY].map(inputCase),
  gradTfjs: SMALL.filter(transposable).map(inputCase),
  secondOrder: [SMALL[0], SMALL[2], SMALL[5]].map(inputCase),
};

const BACKPROP_FILTER: OpRow = {
  op: 'conv2dBackpropFilter',
  build: filterCase(FORWARD[0]).build as OpRow['build'],
  tfjs: filterCase(FORWARD[0]).tfjs,
  // tfjs's conv2d gradient (the twin) rejects dilations > 1.
  forward: FORWARD.filter((c) => c.dilations === undefined).map(filterCase),
  gradFd: [...SMALL, ...FD_ONLY].map(filterCase),
  secondOrder: [SMALL[0], SMALL[2], SMALL[5]].map(filterCase),
};

const CONV2D_TRANSPOSE: OpRow = {
  op: 'conv2dTranspose',
  build: (x, f) => x.conv2dTranspose(f, [2, 6, 5, 3], 1, 'same'),
  tfjs: (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, 6, 5, 3], 1, 'same'),
  forward: [
    { label: "'same' stride 1", inputs: [{ shape: [2, 6, 5, 4] }, { shape: [3, 3, 3, 4] }] },
    {
      label: "'same' stride 2 to 9×8",
      inputs: [{ shape: [1, 5, 4, 2] }, { shape: [3, 3, 3, 2] }],
      build: (x, f) => lg.conv2dTranspose(x, f, [1, 9, 8, 3], 2, 'same'),
      tfjs: (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [1, 9, 8, 3], 2, 'same'),
    },
    {
      label: "'valid' stride 2 to 8×7 (rank 3)",
      inputs: [{ shape: [3, 3, 2] }, { shape: [3, 2, 1, 2] }],
      build: (x, f) => lg.conv2dTranspose(x, f, [8, 7, 1], 2, 'valid'),
      tfjs: (x, f) => tf.conv2dTranspose(x as tf.Tensor3D, f as tf.Tensor4D, [8, 7, 1], 2, 'valid'),
    },
  ],
  gradTfjs: [
    {
      label: "'same' stride 2",
      inputs: [{ shape: [1, 3, 2, 2] }, { shape: [3, 3, 2, 2] }],
      build: (x, f) => lg.conv2dTranspose(x, f, [1, 5, 4, 2], 2, 'same'),
      tfjs: (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [1, 5, 4, 2], 2, 'same'),
    },
  ],
  gradFd: [
    {
      label: "'valid' stride 2",
      inputs: [{ shape: [1, 2, 2, 2] }, { shape: [2, 3, 1, 2] }],
      build: (x, f) => lg.conv2dTranspose(x, f, [1, 5, 5, 1], 2, 'valid'),
    },
  ],
};

const CONV1D: OpRow = {
  op: 'conv1d',
  build: (x, f) => x.conv1d(f, 1, 'same'),
  tfjs: (x, f) => tf.conv1d(x as tf.Tensor3D, f as tf.Tensor3D, 1, 'same'),
  forward: [
    { label: "'same' stride 1", inputs: [{ shape: [2, 9, 3] }, { shape: [3, 3, 4] }] },
    {
      label: "'valid' stride 2",
      inputs: [{ shape: [2, 10, 2] }, { shape: [4, 2, 3] }],
      build: (x, f) => lg.conv1d(x, f, 2, 'valid'),
      tfjs: (x, f) => tf.conv1d(x as tf.Tensor3D, f as tf.Tensor3D, 2, 'valid'),
    },
    {
      label: "dilation 2 'same' (rank 2)",
      inputs: [{ shape: [9, 2] }, { shape: [3, 2, 2] }],
      build: (x, f) => lg.conv1d(x, f, 1, 'same', 'NWC', 2),
      tfjs: (x, f) => tf.conv1d(x as tf.Tensor2D, f as tf.Tensor3D, 1, 'same', 'NWC', 2),
    },
    {
      label: 'numeric pad 2 (tfjs: explicit padding of its conv2d)',
      inputs: [{ shape: [1, 6, 2] }, { shape: [3, 2, 2] }],
      build: (x, f) => lg.conv1d(x, f, 1, 2),
      tfjs: (x, f) =>
        tf.squeeze(
          tf.conv2d(tf.expandDims(x, 1) as tf.Tensor4D, tf.expandDims(f, 0) as tf.Tensor4D, 1, [
            [0, 0],
            [0, 0],
            [2, 2],
            [0, 0],
          ]),
          [1],
        ),
    },
    {
      label: "'NCW' (the ONNX layout)",
      inputs: [{ shape: [2, 3, 8] }, { shape: [3, 3, 2] }],
      build: (x, f) => lg.conv1d(x, f, 1, 'same', 'NCW'),
      tfjs: (x, f) =>
        tf.transpose(tf.conv1d(tf.transpose(x, [0, 2, 1]) as tf.Tensor3D, f as tf.Tensor3D, 1, 'same'), [0, 2, 1]),
    },
  ],
  gradTfjs: [{ label: "'same'", inputs: [{ shape: [2, 5, 2] }, { shape: [3, 2, 2] }] }],
  gradFd: [{ label: "'same'", inputs: [{ shape: [1, 5, 2] }, { shape: [3, 2, 2] }] }],
};

const DEPTHWISE: OpRow = {
  op: 'depthwiseConv2d',
  build: (x, f) => x.depthwiseConv2d(f, 1, 'same'),
  tfjs: (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'),
  forward: [
    { label: "'same' multiplier 2", inputs: [{ shape: [2, 6, 5, 3] }, { shape: [3, 3, 3, 2] }] },
    {
      label: "'valid' stride 2 multiplier 1",
      inputs: [{ shape: [1, 7, 7, 4] }, { shape: [3, 3, 4, 1] }],
      build: (x, f) => lg.depthwiseConv2d(x, f, 2, 'valid'),
      tfjs: (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid'),
    },
    {
      label: "dilations 2 'same'",
      inputs: [{ shape: [1, 7, 6, 2] }, { shape: [2, 3, 2, 2] }],
      build: (x, f) => lg.depthwiseConv2d(x, f, 1, 'same', 'NHWC', 2),
      tfjs: (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same', 'NHWC', 2),
    },
  ],
  gradTfjs: [
    { label: "'same' multiplier 2", inputs: [{ shape: [1, 4, 4, 3] }, { shape: [3, 3, 3, 2] }] },
    {
      label: "'valid' stride 2",
      inputs: [{ shape: [1, 5, 5, 2] }, { shape: [2, 2, 2, 1] }],
      build: (x, f) => lg.depthwiseConv2d(x, f, 2, 'valid'),
      tfjs: (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid'),
    },
  ],
  gradFd: [{ label: "'same' multiplier 2", inputs: [{ shape: [1, 4, 4, 2] }, { shape: [3, 3, 2, 2] }] }],
  secondOrder: [{ label: "'same' multiplier 2", inputs: [{ shape: [1, 3, 3, 2] }, { shape: [2, 2, 2, 2] }] }],
};

const GROUPED: OpRow = {
  op: 'groupedConv2d',
  build: (x, f) => lg.groupedConv2d(x, f, 2, 1, 'same'),
  // tfjs has no grouped conv: its twin convolves each group's channels and concatenates.
  tfjs: (x, f) => {
    const [x0, x1] = tf.split(x, 2, 3);
    const [f0, f1] = tf.split(f, 2, 3);
    const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same');
    return tf.concat([conv(x0, f0), conv(x1, f1)], 3);
  },
  forward: [{ label: "2 groups 'same'", inputs: [{ shape: [2, 5, 6, 4] }, { shape: [3, 3, 2, 6] }] }],
  gradTfjs: [{ label: "2 groups 'same'", inputs: [{ shape: [1, 4, 4, 4] }, { shape: [3, 3, 2, 4] }] }],
  gradFd: [
    { label: "2 groups 'same'", inputs: [{ shape: [1, 4, 3, 4] }, { shape: [2, 2, 2, 4] }] },
    {
      label: '3 groups NCHW stride 2',
      inputs: [{ shape: [1, 6, 5, 5] }, { shape: [3, 3, 2, 3] }],
      build: (x, f) => lg.groupedConv2d(x, f, 3, 2, 'same', 'NCHW'),
    },
  ],
  secondOrder: [
    {
      label: '3 groups NCHW stride 2',
      inputs: [{ shape: [1, 6, 4, 4] }, { shape: [2, 2, 2, 3] }],
      build: (x, f) => lg.groupedConv2d(x, f, 3, 2, 'same', 'NCHW'),
    },
  ],
};

const SEPARABLE: OpRow = {
  op: 'separableConv2d',
  build: (x, d, p) => x.separableConv2d(d, p, 1, 'same'),
  tfjs: (x, d, p) => tf.separableConv2d(x as tf.Tensor4D, d as tf.Tensor4D, p as tf.Tensor4D, 1, 'same'),
  forward: [{ label: "'same'", inputs: [{ shape: [2, 6, 5, 3] }, { shape: [3, 3, 3, 2] }, { shape: [1, 1, 6, 4] }] }],
  gradTfjs: [{ label: "'same'", inputs: [{ shape: [1, 4, 4, 2] }, { shape: [3, 3, 2, 2] }, { shape: [1, 1, 4, 3] }] }],
  gradFd: [{ label: "'same'", inputs: [{ shape: [1, 3, 3, 2] }, { shape: [2, 2, 2, 2] }, { shape: [1, 1, 4, 2] }] }],
};

export const CONV_ROWS: readonly OpRow[] = [
  CONV2D,
  BACKPROP_INPUT,
  BACKPROP_FILTER,
  CONV2D_TRANSPOSE,
  CONV1D,
  DEPTHWISE,
  GROUPED,
  SEPARABLE,
];
