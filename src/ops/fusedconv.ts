/**
 * fusedConv2d: act(conv2d(x, filter) + bias) as one op, as tfjs's tf.fused.conv2d, so that a backend can apply the
 * per-channel bias and the activation to the accumulators before storing them. The conv-fusion passes make it from
 * the unfused ops (conv + bias-add + activation, and a batchNorm folded into the filter and bias).
 */
import { Dim, DTypeError, formatShape, GraphError, Shape, ShapeError, Tensor } from '../graph';
import { add } from './elementwise';
import { AttrsOf } from './attrs';
import { CONV2D, CONV_ATTRS, Conv2DAttrs, conv2dAttrs, Conv2DPad } from './conv';
import {
  activationGradient,
  activationOf,
  applyEpilogue,
  FusedActivation,
  FusedMatMulActivation,
  fusedMatMul,
  isFusedActivation,
  unfusedActivation,
} from './fusedmatmul';
import { reshape } from './movement';
import { apply, defineOp, OpRecord, TensorLike, toTensor, VjpResult } from './record';
import { sum } from './reduce';

const FUSED_CONV_ATTRS = { ...CONV_ATTRS, activation: 'string?' } as const;

/** The attrs of a fusedConv2d node: the conv's and the epilogue's activation. */
export type FusedConv2DAttrs = AttrsOf<typeof FUSED_CONV_ATTRS>;

/** The axis of a rank-4 output that holds its channels. */
function channelAxis(channelsLast: boolean): number {
  return channelsLast ? 3 : 1;
}

/**
 * Whether `bias` adds one value per output channel under add's broadcasting: rank 1 to 4, every dim 1 except the
 * one aligned with the output's channel axis, which is outC ([C] or [1, 1, 1, C] for NHWC; [C, 1, 1] or
 * [1, C, 1, 1] for NCHW). Unknown dims count as matching only where the other side is known to agree.
 */
export function broadcastsPerChannel(bias: Shape, out: Shape, channelsLast: boolean): boolean {
  const rank = bias.length;
  const offset = 4 - rank;
  const channel = channelAxis(channelsLast);
  if (rank < 1 || rank > 4 || channel < offset) return false;
  return bias.every((d, i) => (i + offset === channel ? d !== null && d === out[channel] : d === 1));
}

/**
 * The bias shapes fusedConv2d takes: a [C] vector (tfjs's form, one value per output channel whatever the data
 * format), or a shape that broadcasts along the channel axis only (broadcastsPerChannel).
 */
function isChannelBias(bias: Shape, out: Shape, channelsLast: boolean): boolean {
  const channels = out[channelAxis(channelsLast)];
  if (bias.length === 1 && (bias[0] === null || channels === null || bias[0] === channels)) return true;
  if (channels === null) return false;
  return broadcastsPerChannel(bias, out, channelsLast);
}

/** The shape under which the bias's C values broadcast along the channel axis of a rank-4 output. */
function channelShape(channelsLast: boolean, channels: number): number[] {
  return channelsLast ? [channels] : [channels, 1, 1];
}

/**
 * fusedConv2d(x, filter, bias; conv attrs, activation) = act(conv2d(x, filter) + bias) with one bias value per
 * output channel. The JS kernel is conv2d's followed by the unfused add and activation kernels, so it gives bit for
 * bit what the unfused ops give on the JS backend.
 */
export const FUSED_CONV2D = defineOp({
  name: 'fusedConv2d',
  arity: 3,
  attrs: FUSED_CONV_ATTRS,
  infer([x, filter, bias], attrs) {
    activationOf(attrs);
    const conv = CONV2D.infer([x, filter], attrs);
    if (bias.dtype !== conv.dtype) {
      throw new DTypeError(`bias is ${bias.dtype} but the convolution is ${conv.dtype}; cast one of them`);
    }
    const channelsLast = attrs.dataFormat === 'NHWC';
    if (!isChannelBias(bias.shape, conv.shape, channelsLast)) {
      const c = conv.shape[channelAxis(channelsLast)] ?? 'C';
      throw new ShapeError(
        `bias ${formatShape(bias.shape)} does not hold one value per output channel of ${formatShape(conv.shape)}: ` +
          `valid bias shapes are [${c}]` +
          (channelsLast ? ` or [1, …, 1, ${c}]` : `, [${c}, 1, 1] or [1, ${c}, 1, 1]`) +
          '; for any other bias write add(conv2d(x, filter), bias)',
      );
    }
    return conv;
  },
  kernel: ([x, filter, bias], out, attrs) => {
    CONV2D.kernel?.([x, filter], out, attrs);
    const channelsLast = attrs.dataFormat === 'NHWC';
    const channels = out.shape[channelAxis(channelsLast)];
    applyEpilogue(out, { data: bias.data, shape: channelShape(channelsLast, channels) }, activationOf(attrs));
  },
  vjp: ({ inputs: [x, filter, bias], output: y, dy, attrs, needs }): VjpResult => {
    const g = activationGradient(activationOf(attrs), y, dy);
    // Past the activation it is conv2d's gradient (conv2dBackpropInput / conv2dBackpropFilter) and the bias's sum.
    const convVjp = CONV2D.vjp as NonNullable<OpRecord<Conv2DAttrs>['vjp']>;
    const [dx, dfilter] = convVjp({ inputs: [x, filter], output: y, dy: g, attrs, needs: [needs[0], needs[1]] });
    const others = attrs.dataFormat === 'NHWC' ? [0, 1, 2] : [0, 2, 3];
    return [
      dx,
      dfilter,
      needs[2]
        ? reshape(
            sum(g, others),
            bias.shape.map((d) => d ?? -1),
          )
        : null,
    ];
  },
  jvp: ({ inputs: [x, filter], output: y, tangents: [tx, tfilter, tbias], attrs }): Tensor | null => {
    const convJvp = CONV2D.jvp as NonNullable<OpRecord<Conv2DAttrs>['jvp']>;
    const linear = convJvp({ inputs: [x, filter], output: y, tangents: [tx, tfilter], attrs });
    const channelsLast = attrs.dataFormat === 'NHWC';
    const biasTangent = tbias === null ? null : reshape(tbias, channelShape(channelsLast, -1));
    const pre = linear === null ? biasTangent : biasTangent === null ? linear : add(linear, biasTangent);
    if (pre === null) return null;
    // The tangent through the activation is its (diagonal) derivative at y times the pre-activation tangent; a
    // bias tangent alone broadcasts against y there (and jvp broadcasts the result to y's shape).
    return activationGradient(activationOf(attrs), y, pre);
  },
});

/** The arguments of fused.conv2d, as tfjs takes them (prelu weights and leaky-relu alpha are not supported). */
export interface FusedConv2DArgs {
  /** [batch, height, width, inChannels] (or NCHW, or rank 3 without the batch). */
  readonly x: Tensor;
  /** [filterHeight, filterWidth, inChannels, outChannels]. */
  readonly filter: TensorLike;
  readonly strides: number | readonly [number, number];
  readonly pad: Conv2DPad;
  readonly dataFormat?: 'NHWC' | 'NCHW';
  readonly dilations?: number | readonly [number, number];
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
  /** One value per output channel ([outChannels]); any other bias tfjs broadcasts (NHWC) is added unfused. */
  readonly bias?: TensorLike;
  /** 'linear' (the default, also 'none'), 'relu', 'sigmoid' or 'tanh'. */
  readonly activation?: FusedMatMulActivation;
  readonly preluActivationWeights?: TensorLike;
  readonly leakyreluAlpha?: number;
}

/** The fused activation of a builder call, or a GraphError naming the supported ones. */
function requestedActivation(op: string, args: FusedConv2DArgs): FusedActivation {
  const requested = args.activation ?? 'linear';
  const activation = requested === 'linear' ? 'none' : requested;
  if (!isFusedActivation(activation) || args.preluActivationWeights !== undefined) {
    throw new GraphError(
      `${op}: activation '${String(requested)}' is not supported; valid: 'linear' (or 'none'), 'relu', 'sigmoid', ` +
        `'tanh'. For ${String(requested)}, apply it to ${op}'s result instead`,
    );
  }
  return activation;
}

/**
 * act(conv2d + bias) over x made rank 4: the fused op when the bias holds one value per channel, else (a bias tfjs
 * broadcasts some other way, or none) the unfused ops, as tfjs computes them.
 */
function fusedConvOf(op: string, x: Tensor, filter: Tensor, attrs: Conv2DAttrs, args: FusedConv2DArgs): Tensor {
  if (args.dimRoundingMode !== undefined) {
    throw new GraphError(`${op}: dimRoundingMode is not supported; give explicit padding instead`);
  }
  const activation = requestedActivation(op, args);
  const build = (x4: Tensor): Tensor => {
    if (args.bias === undefined) return unfusedActivation(activation, apply(CONV2D, [x4, filter], attrs));
    const bias = toTensor(x.graph, args.bias, x.dtype);
    const out = CONV2D.infer([x4, filter], attrs).shape;
    const channelsLast = attrs.dataFormat === 'NHWC';
    // A scalar-like bias (or, NHWC, any bias broadcasting against the output) is tfjs's plain add.
    const single = bias.shape.every((d) => d === 1);
    if ((single || channelsLast) && !isChannelBias(bias.shape, out, channelsLast)) {
      return unfusedActivation(activation, add(apply(CONV2D, [x4, filter], attrs), bias));
    }
    return apply(FUSED_CONV2D, [x4, filter, bias], { ...attrs, activation });
  };
  if (x.rank !== 3) return build(x);
  return build(x.expandDims(0)).squeeze([0]);
}

/**
 * act(conv2d(x, filter) + bias) as one op, as tfjs's tf.fused.conv2d. Without a bias it is the plain ops
 * act(conv2d(x, filter)); a bias that is not per channel is added with add, as tfjs broadcasts it (NHWC only, as
 * in tfjs). Activations: those of fusedMatMul ('linear', 'relu', 'sigmoid', 'tanh'); tfjs's also has 'relu6',
 * 'elu', 'prelu' and 'leakyrelu' and lacks 'tanh'.
 * @example fused.conv2d({ x, filter, strides: 1, pad: 'same', bias, activation: 'relu' })
 */
export function fusedConv2d(args: FusedConv2DArgs): Tensor {
  const { x, strides, pad, dataFormat = 'NHWC', dilations = [1, 1] } = args;
  const filter = toTensor(x.graph, args.filter, x.dtype);
  const attrs = conv2dAttrs('fused.conv2d', strides, pad, dataFormat, dilations);
  return fusedConvOf('fused.conv2d', x, filter, attrs, args);
}

/**
 * act(depthwiseConv2d(x, filter) + bias) as one op, as tfjs's tf.fused.depthwiseConv2d: filter [fh, fw,
 * inChannels, multiplier], a grouped fusedConv2d (groups = inChannels) over the filter reshaped to
 * [fh, fw, 1, inChannels · multiplier].
 * @example fused.depthwiseConv2d({ x, filter, strides: 1, pad: 'same', bias, activation: 'relu' })
 */
export function fusedDepthwiseConv2d(args: FusedConv2DArgs): Tensor {
  const { x, strides, pad, dataFormat = 'NHWC', dilations = [1, 1] } = args;
  const filter = toTensor(x.graph, args.filter, x.dtype);
  const dims: readonly Dim[] = filter.shape;
  if (filter.rank !== 4 || !dims.every((d) => d !== null)) {
    throw new ShapeError(
      `fused.depthwiseConv2d: the filter needs a known shape of rank 4, got ${formatShape(filter.shape)}`,
    );
  }
  const [fh, fw, inC, multiplier] = dims as number[];
  const grouped = reshape(filter, [fh, fw, 1, inC * multiplier]);
  const attrs = conv2dAttrs('fused.depthwiseConv2d', strides, pad, dataFormat, dilations, inC);
  return fusedConvOf('fused.depthwiseConv2d', x, grouped, attrs, args);
}

/** tfjs's `tf.fused` namespace. @example fused.conv2d({ x, filter, strides: 1, pad: 'same', bias }) */
export const fused = { matMul: fusedMatMul, conv2d: fusedConv2d, depthwiseConv2d: fusedDepthwiseConv2d } as const;

/** The fused conv op (the linalg family holds fusedMatMul). */
export const FUSED_CONV_OPS: readonly OpRecord[] = [FUSED_CONV2D];
