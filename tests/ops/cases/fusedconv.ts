/**
 * Rows of fusedConv2d (ops/fusedconv.ts): act(conv2d(x, f) + bias) against tfjs's tf.fused.conv2d (NHWC, as tfjs
 * computes fused NCHW only without gradients) and fused.depthwiseConv2d, gradients against tf.grads and finite
 * differences, second derivatives. The NCHW rows use a [C, 1, 1] bias (the form the epilogue pass makes from an
 * ONNX Conv's bias) and are checked against the unfused twin in tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Case, OpRow } from './table';

type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh';

interface FusedCase {
  readonly label: string;
  readonly x: readonly number[];
  readonly f: readonly number[];
  readonly strides: number;
  readonly pad: 'same' | 'valid' | number;
  readonly activation: Activation;
  readonly dilations?: number;
  readonly nchw?: boolean;
}

const ours =
  (c: FusedCase) =>
  (x: lg.Tensor, f: lg.Tensor, b: lg.Tensor): lg.Tensor =>
    lg.fused.conv2d({
      x,
      filter: f,
      strides: c.strides,
      pad: c.pad,
      dataFormat: c.nchw === true ? 'NCHW' : 'NHWC',
      dilations: c.dilations ?? 1,
      bias: c.nchw === true ? b.reshape([-1, 1, 1]) : b,
      activation: c.activation,
    });

function tfActivation(activation: Activation, y: tf.Tensor): tf.Tensor {
  if (activation === 'relu') return tf.relu(y);
  if (activation === 'sigmoid') return tf.sigmoid(y);
  if (activation === 'tanh') return tf.tanh(y);
  return y;
}

/** tf.fused.conv2d where tfjs has it (NHWC, no tanh); the unfused ops otherwise. */
function twin(c: FusedCase): (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return (x, f, b) => {
    if (c.nchw !== true && c.activation !== 'tanh') {
      return tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: f as tf.Tensor4D,
        strides: c.strides,
        pad: c.pad,
        dilations: c.dilations ?? 1,
        bias: b,
        activation: c.activation,
      });
    }
    const nhwc = c.nchw === true ? (tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D) : (x as tf.Tensor4D);
    const conv = tf.conv2d(nhwc, f as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations ?? 1);
    const y = tfActivation(c.activation, tf.add(conv, b));
    return c.nchw === true ? tf.transpose(y, [0, 3, 1, 2]) : y;
  };
}

function fusedCase(c: FusedCase): Case {
  const outC = c.f[3];
  return {
    label: `${c.label} ${c.activation} x[${c.x.join(', ')}] f[${c.f.join(', ')}]`,
    inputs: [{ shape: c.x }, { shape: c.f }, { shape: [outC] }],
    build: ours(c),
    tfjs: twin(c),
  };
}

const FORWARD: readonly FusedCase[] = [
  { label: "'same' stride 1", x: [2, 6, 5, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same', activation: 'relu' },
  { label: "'valid' stride 2", x: [2, 7, 6, 2], f: [3, 2, 2, 3], strides: 2, pad: 'valid', activation: 'linear' },
  { label: 'pad 1', x: [1, 5, 6, 2], f: [3, 3, 2, 3], strides: 1, pad: 1, activation: 'sigmoid' },
  { label: "dilations 2 'same'", x: [1, 8, 7, 2], f: [3, 3, 2, 3], strides: 1, pad: 'same', activation: 'tanh', dilations: 2 },
  { label: "NCHW 'same'", x: [2, 3, 6, 5], f: [3, 3, 3, 4], strides: 1, pad: 'same', activation: 'relu', nchw: true },
  { label: "NCHW 'valid' stride 2", x: [1, 2, 7, 6], f: [3, 3, 2, 3], strides: 2, pad: 'valid', activation: 'sigmoid', nchw: true },
]; // prettier-ignore

const SMALL: readonly FusedCase[] = [
  { label: "'same'", x: [2, 4, 3, 2], f: [3, 2, 2, 3], strides: 1, pad: 'same', activation: 'relu' },
  { label: "'valid' stride 2", x: [1, 5, 6, 2], f: [2, 3, 2, 2], strides: 2, pad: 'valid', activation: 'linear' },
  { label: "'same' stride 2", x: [1, 5, 4, 2], f: [3, 3, 2, 2], strides: 2, pad: 'same', activation: 'sigmoid' },
  { label: "'same'", x: [1, 4, 4, 2], f: [2, 2, 2, 2], strides: 1, pad: 'same', activation: 'tanh' },
  { label: 'NCHW stride 2', x: [1, 2, 5, 4], f: [2, 2, 2, 3], strides: 2, pad: 'same', activation: 'relu', nchw: true },
]; // prettier-ignore

const FUSED_CONV2D: OpRow = {
  op: 'fusedConv2d',
  build: ours(FORWARD[0]),
  tfjs: twin(FORWARD[0]),
  forward: [
    ...FORWARD.map(fusedCase),
    {
      label: 'a rank-3 image, no bias (the unfused ops)',
      inputs: [{ shape: [5, 6, 2] }, { shape: [3, 3, 2, 3] }],
      build: (x, f) => lg.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', activation: 'relu' }),
      tfjs: (x, f) =>
        tf.fused.conv2d({ x: x as tf.Tensor3D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', activation: 'relu' }),
    },
    {
      label: 'a [1, 1, 1] bias tfjs broadcasts (added unfused)',
      inputs: [{ shape: [1, 4, 4, 2] }, { shape: [3, 3, 2, 3] }, { shape: [1, 1, 1] }],
      build: (x, f, b) => lg.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias: b }),
      tfjs: (x, f, b) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: b }),
    },
    {
      label: "fused.depthwiseConv2d 'same' multiplier 2 relu",
      inputs: [{ shape: [2, 6, 5, 3] }, { shape: [3, 3, 3, 2] }, { shape: [6] }],
      build: (x, f, b) =>
        lg.fused.depthwiseConv2d({ x, filter: f, strides: 1, pad: 'same', bias: b, activation: 'relu' }),
      tfjs: (x, f, b) =>
        tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias: b,
          activation: 'relu',
        }),
    },
  ],
  forwardLevels: [true, false],
  gradFd: SMALL.map(fusedCase),
  // tfjs's fused conv2d gradient is NHWC only.
  gradTfjs: SMALL.filter((c) => c.nchw !== true).map(fusedCase),
  secondOrder: [SMALL[0], SMALL[2], SMALL[3], SMALL[4]].map(fusedCase),
  seedSalt: 'fusedConv2d',
};

export const FUSED_CONV_ROWS: readonly OpRow[] = [FUSED_CONV2D];
