/**
 * 2-D convolution: conv2d and its two gradient ops conv2dBackpropInput and conv2dBackpropFilter (as TensorFlow's
 * Conv2DBackpropInput / Conv2DBackpropFilter). The three are bilinear and each one's gradient is made of the other
 * two, so second derivatives and Hessian-vector products through conv nets work. All three share one attribute
 * set (strides, dilations, pad 'same' | 'valid' | 'explicit' with pads [top, bottom, left, right], dataFormat
 * 'NHWC' | 'NCHW', groups) describing the forward convolution; the filter is [fh, fw, inC / groups, outC].
 */
import { Attrs, Dim, DTypeError, formatShape, GraphError, Shape, ShapeError, Tensor } from '../graph';
import { add } from './elementwise';
import { reshape } from './movement';
import {
  axisGeometry,
  conv2d as conv2dKernel,
  conv2dBackpropFilter as backpropFilterKernel,
  conv2dBackpropInput as backpropInputKernel,
} from './kernels/conv';
import { AttrsOf } from './attrs';
import { apply, defineOp, OpRecord, requireFloat, TensorInfo, TensorLike, VjpResult } from './record';

export { axisGeometry };

/** The attribute schema the conv ops share (fusedConv2d adds its activation to it). */
export const CONV_ATTRS = {
  strides: 'ints',
  dilations: 'ints',
  pad: 'string',
  pads: 'ints?',
  dataFormat: 'string',
  groups: 'int?',
} as const;

/** The attrs of the three conv ops as the builders pass them around. */
export type Conv2DAttrs = AttrsOf<typeof CONV_ATTRS>;

const isPositive = (v: number): boolean => Number.isSafeInteger(v) && v >= 1;

/** Checks the shared attrs; returns whether the data is channels-last. */
function checkAttrs(attrs: Conv2DAttrs): boolean {
  const { strides, dilations, pad, pads, dataFormat } = attrs;
  if (strides.length !== 2 || !strides.every(isPositive)) {
    throw new ShapeError(`strides ${JSON.stringify(strides)} must be two integers >= 1 ([strideHeight, strideWidth])`);
  }
  if (dilations.length !== 2 || !dilations.every(isPositive)) {
    throw new ShapeError(`dilations ${JSON.stringify(dilations)} must be two integers >= 1`);
  }
  if (pad !== 'same' && pad !== 'valid' && pad !== 'explicit') {
    throw new GraphError(`pad '${pad}' is not valid; valid: 'same', 'valid', 'explicit' (with pads)`);
  }
  if (pad === 'explicit' && (pads === undefined || pads.length !== 4 || !pads.every((v) => v >= 0))) {
    throw new ShapeError(
      `explicit padding needs pads [top, bottom, left, right] of non-negative integers, got ${JSON.stringify(pads)}`,
    );
  }
  if (dataFormat !== 'NHWC' && dataFormat !== 'NCHW') {
    throw new GraphError(`dataFormat '${dataFormat}' is not valid; valid: 'NHWC', 'NCHW'`);
  }
  if (attrs.groups !== undefined && !isPositive(attrs.groups)) {
    throw new ShapeError(`groups ${attrs.groups} must be an integer >= 1`);
  }
  return dataFormat === 'NHWC';
}

function requireRank4(what: string, info: TensorInfo, layout: string): void {
  if (info.shape.length !== 4) {
    throw new ShapeError(`${what} must have rank 4 (${layout}), got ${formatShape(info.shape)}`);
  }
}

function sameFloat(a: TensorInfo, b: TensorInfo): void {
  requireFloat(a);
  if (a.dtype !== b.dtype) throw new DTypeError(`operands are ${a.dtype} and ${b.dtype}; cast one of them`);
}

/** [n, h, w, c] of a shape in its data format. */
function nhwcOf(shape: Shape, channelsLast: boolean): [Dim, Dim, Dim, Dim] {
  return channelsLast ? [shape[0], shape[1], shape[2], shape[3]] : [shape[0], shape[2], shape[3], shape[1]];
}

/** A shape in the data format from [n, h, w, c]. */
function layout(n: Dim, h: Dim, w: Dim, c: Dim, channelsLast: boolean): Dim[] {
  return channelsLast ? [n, h, w, c] : [n, c, h, w];
}

/** Two dims that must agree where both are known; the known one. */
function agree(a: Dim, b: Dim, message: () => string): Dim {
  if (a !== null && b !== null && a !== b) throw new ShapeError(message());
  return a ?? b;
}

/** The output's [h, w] of the forward conv over x's [h, w], null where unknown; a ShapeError when empty. */
function outputSize(x: readonly Dim[], filter: readonly Dim[], attrs: Conv2DAttrs): [Dim, Dim] {
  const pads = attrs.pads ?? [0, 0, 0, 0];
  const axis = (i: number): Dim => {
    const size = x[i];
    const f = filter[i];
    if (size === null || f === null) return null;
    const out = axisGeometry(
      size,
      f,
      attrs.strides[i],
      attrs.dilations[i],
      attrs.pad,
      pads[2 * i],
      pads[2 * i + 1],
    ).out;
    if (out < 1) {
      throw new ShapeError(
        `the filter's ${i === 0 ? 'height' : 'width'} ${f} (dilation ${attrs.dilations[i]}) does not fit in the ` +
          `padded input ${i === 0 ? 'height' : 'width'} ${size}: the output would be empty`,
      );
    }
    return out;
  };
  return [axis(0), axis(1)];
}

/** Channel counts: x's inC = groups · filter's inC, filter's outC a multiple of groups. */
function checkChannels(inC: Dim, filterInC: Dim, outC: Dim, groups: number): void {
  if (inC !== null && inC % groups !== 0) {
    throw new ShapeError(`the input's ${inC} channels do not split into ${groups} groups`);
  }
  if (inC !== null && filterInC !== null && inC !== filterInC * groups) {
    throw new ShapeError(
      `the input has ${inC} channels but the filter takes ${filterInC}` +
        (groups > 1 ? ` per group × ${groups} groups` : '') +
        ': the filter is [filterHeight, filterWidth, inChannels / groups, outChannels]',
    );
  }
  if (outC !== null && outC % groups !== 0) {
    throw new ShapeError(`the filter's ${outC} output channels do not split into ${groups} groups`);
  }
}

/** The dims of an optional `like` input (third) standing in for an attr shape's unknown dims at run time. */
function resolvedShape(attrShape: readonly Dim[], like: TensorInfo | undefined, name: string): Dim[] {
  if (attrShape.length !== 4) throw new ShapeError(`${name} ${JSON.stringify(attrShape)} must have 4 dims`);
  if (like === undefined) return [...attrShape];
  if (like.shape.length !== 4)
    throw new ShapeError(`the shape source must have rank 4, got ${formatShape(like.shape)}`);
  return attrShape.map((d, i) => d ?? like.shape[i]);
}

/** conv2d(x, filter): x [n, h, w, inC] (or NCHW), filter [fh, fw, inC / groups, outC]. */
export const CONV2D = defineOp({
  name: 'conv2d',
  arity: 2,
  attrs: CONV_ATTRS,
  infer([x, filter], attrs) {
    const channelsLast = checkAttrs(attrs);
    const format = attrs.dataFormat;
    requireRank4('x', x, format);
    requireRank4('the filter', filter, '[filterHeight, filterWidth, inChannels, outChannels]');
    sameFloat(x, filter);
    const [n, h, w, inC] = nhwcOf(x.shape, channelsLast);
    const [fh, fw, fc, outC] = filter.shape;
    checkChannels(inC, fc, outC, attrs.groups ?? 1);
    const [oh, ow] = outputSize([h, w], [fh, fw], attrs);
    return { dtype: x.dtype, shape: layout(n, oh, ow, outC, channelsLast) };
  },
  kernel: ([x, filter], out, attrs) => conv2dKernel(x, filter, out, attrs),
  vjp: ({ inputs: [x, filter], dy, attrs, needs }): VjpResult => [
    needs[0] ? backpropInputOf(dy, filter, x, attrs) : null,
    needs[1] ? backpropFilterOf(x, dy, filter, attrs) : null,
  ],
  jvp: ({ inputs: [x, filter], tangents: [tx, tf], attrs }): Tensor | null =>
    bilinearTangent(CONV2D, x, filter, tx, tf, attrs),
});

/**
 * conv2dBackpropInput(dy, filter[, like]) {inputShape}: the gradient of conv2d with respect to its input, shaped
 * inputShape (the forward x's shape); `like`, when given, supplies the dims inputShape leaves unknown at run time.
 */
export const CONV2D_BACKPROP_INPUT = defineOp({
  name: 'conv2dBackpropInput',
  arity: 'variadic',
  attrs: { ...CONV_ATTRS, inputShape: 'dims' },
  infer(inputs, attrs) {
    const [dy, filter, like] = inputs;
    if (inputs.length !== 2 && inputs.length !== 3) {
      throw new GraphError(`takes dy, the filter and optionally a shape source, got ${inputs.length} inputs`);
    }
    const channelsLast = checkAttrs(attrs);
    requireRank4('dy', dy, attrs.dataFormat);
    requireRank4('the filter', filter, '[filterHeight, filterWidth, inChannels, outChannels]');
    sameFloat(dy, filter);
    const groups = attrs.groups ?? 1;
    const [xn, h, w, xc] = nhwcOf(resolvedShape(attrs.inputShape, like, 'inputShape'), channelsLast);
    const [dn, dh, dw, dc] = nhwcOf(dy.shape, channelsLast);
    const [fh, fw, fc, outC] = filter.shape;
    const inC = agree(xc, fc === null ? null : fc * groups, () => `inputShape's channels ${xc} ≠ ${fc} × ${groups}`);
    checkChannels(inC, fc, outC, groups);
    agree(dc, outC, () => `dy has ${dc} channels but the filter has ${outC} output channels`);
    const n = agree(xn, dn, () => `dy's batch ${dn} differs from inputShape's batch ${xn}`);
    const [oh, ow] = outputSize([h, w], [fh, fw], attrs);
    if ((oh !== null && dh !== null && oh !== dh) || (ow !== null && dw !== null && ow !== dw)) {
      throw new ShapeError(
        `dy is ${dh}×${dw} but a conv2d over a ${h}×${w} input gives ${oh}×${ow} with these strides, padding ` +
          'and dilations',
      );
    }
    return { dtype: dy.dtype, shape: layout(n, h, w, inC, channelsLast) };
  },
  kernel: ([dy, filter], out, attrs) => backpropInputKernel(dy, filter, out, attrs),
  vjp: ({ inputs: [dy, filter, like], dy: g, attrs, needs }): VjpResult => {
    const conv = convAttrs(attrs);
    return [
      needs[0] ? apply(CONV2D, [g, filter], conv) : null,
      needs[1] ? backpropFilterOf(g, dy, filter, conv) : null,
      ...(like === undefined ? [] : [null]),
    ];
  },
  jvp: ({ inputs: [dy, filter, like], tangents: [tdy, tf], attrs }): Tensor | null =>
    bilinearTangent(CONV2D_BACKPROP_INPUT, dy, filter, tdy, tf, attrs, like),
});

/**
 * conv2dBackpropFilter(x, dy[, like]) {filterShape}: the gradient of conv2d with respect to its filter, shaped
 * filterShape; `like`, when given, supplies the dims filterShape leaves unknown at run time.
 */
export const CONV2D_BACKPROP_FILTER = defineOp({
  name: 'conv2dBackpropFilter',
  arity: 'variadic',
  attrs: { ...CONV_ATTRS, filterShape: 'dims' },
  infer(inputs, attrs) {
    const [x, dy, like] = inputs;
    if (inputs.length !== 2 && inputs.length !== 3) {
      throw new GraphError(`takes x, dy and optionally a shape source, got ${inputs.length} inputs`);
    }
    const channelsLast = checkAttrs(attrs);
    requireRank4('x', x, attrs.dataFormat);
    requireRank4('dy', dy, attrs.dataFormat);
    sameFloat(x, dy);
    const groups = attrs.groups ?? 1;
    const [fh, fw, fcAttr, foAttr] = resolvedShape(attrs.filterShape, like, 'filterShape');
    const [xn, h, w, inC] = nhwcOf(x.shape, channelsLast);
    const [dn, dh, dw, dc] = nhwcOf(dy.shape, channelsLast);
    agree(xn, dn, () => `dy's batch ${dn} differs from x's batch ${xn}`);
    checkChannels(inC, null, null, groups);
    const fc = agree(fcAttr, inC === null ? null : inC / groups, () => `x's ${inC} channels ≠ ${fcAttr} × ${groups}`);
    const outC = agree(foAttr, dc, () => `dy has ${dc} channels but filterShape has ${foAttr} output channels`);
    checkChannels(inC, fc, outC, groups);
    const [oh, ow] = outputSize([h, w], [fh, fw], attrs);
    if ((oh !== null && dh !== null && oh !== dh) || (ow !== null && dw !== null && ow !== dw)) {
      throw new ShapeError(
        `dy is ${dh}×${dw} but a conv2d over a ${h}×${w} input gives ${oh}×${ow} with these strides, padding ` +
          'and dilations',
      );
    }
    return { dtype: x.dtype, shape: [fh, fw, fc, outC] };
  },
  kernel: ([x, dy], out, attrs) => backpropFilterKernel(x, dy, out, attrs),
  vjp: ({ inputs: [x, dy, like], dy: g, attrs, needs }): VjpResult => {
    const conv = convAttrs(attrs);
    return [
      needs[0] ? backpropInputOf(dy, g, x, conv) : null,
      needs[1] ? apply(CONV2D, [x, g], conv) : null,
      ...(like === undefined ? [] : [null]),
    ];
  },
  jvp: ({ inputs: [x, dy, like], tangents: [tx, tdy], attrs }): Tensor | null =>
    bilinearTangent(CONV2D_BACKPROP_FILTER, x, dy, tx, tdy, attrs, like),
});

export const CONV_OPS: readonly OpRecord[] = [CONV2D, CONV2D_BACKPROP_INPUT, CONV2D_BACKPROP_FILTER];

/** The shared attrs alone (without inputShape / filterShape); conv3d's ops share them. */
export function convAttrs(attrs: Conv2DAttrs): Conv2DAttrs {
  const { strides, dilations, pad, pads, dataFormat, groups } = attrs;
  return {
    strides,
    dilations,
    pad,
    dataFormat,
    ...(pads === undefined ? {} : { pads }),
    ...(groups === undefined ? {} : { groups }),
  };
}

/** The static shape as a dims attr, and whether a run-time shape source is needed for its unknown dims. */
export function dimsOf(t: Tensor): { dims: Dim[]; like: Tensor[] } {
  const dims = [...t.shape];
  return { dims, like: dims.every((d) => d !== null) ? [] : [t] };
}

/** dx of conv2d(x, filter) for dy: shaped as x (read only for its shape, at run time when not static). */
function backpropInputOf(dy: Tensor, filter: Tensor, x: Tensor, attrs: Conv2DAttrs): Tensor {
  const { dims, like } = dimsOf(x);
  return apply(CONV2D_BACKPROP_INPUT, [dy, filter, ...like], { ...convAttrs(attrs), inputShape: dims });
}

/** dfilter of conv2d(x, filter) for dy: shaped as the filter. */
function backpropFilterOf(x: Tensor, dy: Tensor, filter: Tensor, attrs: Conv2DAttrs): Tensor {
  const { dims, like } = dimsOf(filter);
  return apply(CONV2D_BACKPROP_FILTER, [x, dy, ...like], { ...convAttrs(attrs), filterShape: dims });
}

/** The tangent of a bilinear op f(a, b): f(ta, b) + f(a, tb), null when both tangents are. */
export function bilinearTangent(
  record: OpRecord,
  a: Tensor,
  b: Tensor,
  ta: Tensor | null,
  tb: Tensor | null,
  attrs: Attrs,
  like?: Tensor,
): Tensor | null {
  const rest = like === undefined ? [] : [like];
  const left = ta === null ? null : apply(record, [ta, b, ...rest], attrs);
  const right = tb === null ? null : apply(record, [a, tb, ...rest], attrs);
  if (left === null) return right;
  return right === null ? left : add(left, right);
}

// ---- builders (tfjs names and argument order) ------------------------------------------------------------------

/** tfjs's padding argument: 'same', 'valid', a number for every side, or explicit [[0, 0], [t, b], [l, r], [0, 0]]. */
export type Conv2DPad = 'same' | 'valid' | number | readonly (readonly [number, number])[];

/** The pad / pads attrs from tfjs's padding argument, in the data format's dim order. */
export function padAttrs(op: string, pad: Conv2DPad, dataFormat: string): { pad: string; pads?: number[] } {
  if (pad === 'same' || pad === 'valid') return { pad };
  if (typeof pad === 'number') {
    if (!Number.isSafeInteger(pad) || pad < 0) throw new ShapeError(`${op}: pad ${pad} must be an integer >= 0`);
    return { pad: 'explicit', pads: [pad, pad, pad, pad] };
  }
  if (Array.isArray(pad) && pad.length === 4) {
    const [h, w] = dataFormat === 'NCHW' ? [pad[2], pad[3]] : [pad[1], pad[2]];
    const outer = dataFormat === 'NCHW' ? [pad[0], pad[1]] : [pad[0], pad[3]];
    const ok = (p: readonly number[]): boolean => p.every((v) => Number.isSafeInteger(v) && v >= 0);
    if (outer.every((p) => p[0] === 0 && p[1] === 0) && ok(h) && ok(w)) {
      return { pad: 'explicit', pads: [h[0], h[1], w[0], w[1]] };
    }
  }
  throw new ShapeError(
    `${op}: pad ${JSON.stringify(pad)} is not valid; valid: 'same', 'valid', a number, or explicit ` +
      (dataFormat === 'NCHW'
        ? '[[0, 0], [0, 0], [top, bottom], [left, right]]'
        : '[[0, 0], [top, bottom], [left, right], [0, 0]]'),
  );
}

/** A number or a pair as a pair. */
export function pairOf(value: number | readonly [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}

/**
 * The attrs of a 2-D convolution from tfjs-style arguments (for builders of other families: conv1d, depthwise).
 */
export function conv2dAttrs(
  op: string,
  strides: number | readonly [number, number],
  pad: Conv2DPad,
  dataFormat: string,
  dilations: number | readonly [number, number],
  groups = 1,
): Conv2DAttrs {
  return {
    strides: pairOf(strides),
    dilations: pairOf(dilations),
    ...padAttrs(op, pad, dataFormat),
    dataFormat,
    ...(groups === 1 ? {} : { groups }),
  };
}

/** Runs `build` over x made rank 4 when it is a single rank-3 image (tfjs's convention), and back. */
function batched(x: Tensor, build: (x4: Tensor) => Tensor): Tensor {
  if (x.rank !== 3) return build(x);
  const y = build(x.expandDims(0));
  return y.squeeze([0]);
}

/**
 * A 2-D convolution, as tfjs's conv2d: x [batch, height, width, inChannels] (or NCHW, or rank 3 without the batch),
 * filter [filterHeight, filterWidth, inChannels, outChannels]. tfjs allows strides > 1 only with dilations 1; here
 * both may exceed 1 (as in ONNX). dimRoundingMode (with a number or explicit pad) rounds the output size, as tfjs.
 * @example conv2d(images, filter, 1, 'same') // [8, 28, 28, 1] * [5, 5, 1, 16] -> [8, 28, 28, 16]
 */
export function conv2d(
  x: Tensor,
  filter: TensorLike,
  strides: number | readonly [number, number],
  pad: Conv2DPad,
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
  dilations: number | readonly [number, number] = [1, 1],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): Tensor {
  const attrs = conv2dAttrs('conv2d', strides, pad, dataFormat, dilations);
  const rounded = withRounding('conv2d', attrs, dimRoundingMode, () => spatialOf(x, dataFormat), filter, x);
  return batched(x, (x4) => apply(CONV2D, [x4, filter], rounded));
}

/**
 * The gradient of conv2d with respect to its input as an op of its own (tfjs's conv2DBackpropInput, internal
 * there): dy through the filter back to an input of shape xShape.
 * @example conv2dBackpropInput([8, 28, 28, 1], dy, filter, 1, 'same')
 */
export function conv2dBackpropInput(
  xShape: readonly Dim[],
  dy: Tensor,
  filter: TensorLike,
  strides: number | readonly [number, number],
  pad: Conv2DPad,
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
  dilations: number | readonly [number, number] = [1, 1],
): Tensor {
  const attrs = conv2dAttrs('conv2dBackpropInput', strides, pad, dataFormat, dilations);
  if (xShape.length === 3 && dy.rank === 3) {
    return batched(dy, (dy4) => apply(CONV2D_BACKPROP_INPUT, [dy4, filter], { ...attrs, inputShape: [1, ...xShape] }));
  }
  return apply(CONV2D_BACKPROP_INPUT, [dy, filter], { ...attrs, inputShape: [...xShape] });
}

/**
 * The gradient of conv2d with respect to its filter as an op of its own (tfjs's conv2DBackpropFilter).
 * @example conv2dBackpropFilter(x, dy, [5, 5, 1, 16], 1, 'same')
 */
export function conv2dBackpropFilter(
  x: Tensor,
  dy: Tensor,
  filterShape: readonly Dim[],
  strides: number | readonly [number, number],
  pad: Conv2DPad,
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
  dilations: number | readonly [number, number] = [1, 1],
): Tensor {
  const attrs = conv2dAttrs('conv2dBackpropFilter', strides, pad, dataFormat, dilations);
  return apply(CONV2D_BACKPROP_FILTER, [x, dy], { ...attrs, filterShape: [...filterShape] });
}

/**
 * The transpose of conv2d, as tfjs's conv2dTranspose: x [batch, height, width, inDepth] (or rank 3), filter
 * [filterHeight, filterWidth, outDepth, inDepth] (the filter of the conv2d it transposes), outputShape the shape of
 * that conv2d's input. It is the conv2dBackpropInput op.
 * @example conv2dTranspose(x, filter, [8, 28, 28, 1], 2, 'same') // [8, 14, 14, 16] -> [8, 28, 28, 1]
 */
export function conv2dTranspose(
  x: Tensor,
  filter: TensorLike,
  outputShape: readonly number[],
  strides: number | readonly [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): Tensor {
  if (outputShape.length !== x.rank) {
    throw new ShapeError(`conv2dTranspose: outputShape ${JSON.stringify(outputShape)} must have x's rank ${x.rank}`);
  }
  if (dimRoundingMode === undefined) return conv2dBackpropInput(outputShape, x, filter, strides, pad);
  // The rounding applies to the conv2d this transposes, whose input is outputShape.
  const attrs = withRounding(
    'conv2dTranspose',
    conv2dAttrs('conv2dTranspose', strides, pad, 'NHWC', 1),
    dimRoundingMode,
    () => outputShape.slice(-3, -1),
    filter,
    x,
  );
  const batchedShape = outputShape.length === 3 ? [1, ...outputShape] : [...outputShape];
  const y = apply(CONV2D_BACKPROP_INPUT, [x.rank === 3 ? x.expandDims(0) : x, filter], {
    ...attrs,
    inputShape: batchedShape,
  });
  return outputShape.length === 3 ? y.squeeze([0]) : y;
}

/** A filter tensor with its static shape checked to be fully known (grouped builders reshape it). */
function knownShape(op: string, filter: Tensor, rank: number): number[] {
  if (filter.rank !== rank || !filter.shape.every((d) => d !== null)) {
    throw new ShapeError(`${op}: the filter needs a known shape of rank ${rank}, got ${formatShape(filter.shape)}`);
  }
  return filter.shape as number[];
}

/** A TensorLike as a tensor of x's graph. */
function tensorOf(x: Tensor, value: TensorLike): Tensor {
  return value instanceof Tensor ? value : x.graph.constant(value);
}

/**
 * A 1-D convolution, as tfjs's conv1d: x [batch, width, inChannels] (or rank 2, or 'NCW'), filter [filterWidth,
 * inChannels, outChannels]; a conv2d over a height of 1. pad: 'same', 'valid' or a number for both ends (tfjs
 * accepts 'NWC' only; 'NCW' is the ONNX layout).
 * @example conv1d(signal, filter, 2, 'same') // [4, 100, 1] * [5, 1, 8] -> [4, 50, 8]
 */
export function conv1d(
  x: Tensor,
  filter: TensorLike,
  stride: number,
  pad: 'same' | 'valid' | number,
  dataFormat: 'NWC' | 'NCW' = 'NWC',
  dilation = 1,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): Tensor {
  if (x.rank === 2) {
    return conv1d(x.expandDims(0), filter, stride, pad, dataFormat, dilation, dimRoundingMode).squeeze([0]);
  }
  if (x.rank !== 3) throw new ShapeError(`conv1d: x must have rank 3 (or 2), got ${formatShape(x.shape)}`);
  const f = tensorOf(x, filter);
  if (f.rank !== 3) throw new ShapeError(`conv1d: the filter must have rank 3, got ${formatShape(f.shape)}`);
  const channelsLast = dataFormat === 'NWC';
  const format = channelsLast ? 'NHWC' : 'NCHW';
  const attrs = conv2dAttrs('conv1d', [1, stride], typeof pad === 'number' ? 0 : pad, format, [1, dilation]);
  const padded: Conv2DAttrs = typeof pad === 'number' ? { ...attrs, pads: [0, 0, pad, pad] } : attrs;
  const axis = channelsLast ? 1 : 2;
  const x4 = x.expandDims(axis);
  const f4 = f.expandDims(0);
  const rounded = withRounding('conv1d', padded, dimRoundingMode, () => spatialOf(x4, format), f4, x);
  return apply(CONV2D, [x4, f4], rounded).squeeze([axis]);
}

/**
 * A convolution in groups (ONNX Conv's `group`): the input channels split into `groups` runs, each convolved with
 * its share of the filter's output channels. filter [fh, fw, inChannels / groups, outChannels].
 * @example groupedConv2d(x, filter, 2, 1, 'same') // [1, 8, 8, 4] * [3, 3, 2, 6] -> [1, 8, 8, 6]
 */
export function groupedConv2d(
  x: Tensor,
  filter: TensorLike,
  groups: number,
  strides: number | readonly [number, number],
  pad: Conv2DPad,
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
  dilations: number | readonly [number, number] = [1, 1],
): Tensor {
  const attrs = conv2dAttrs('groupedConv2d', strides, pad, dataFormat, dilations, groups);
  return batched(x, (x4) => apply(CONV2D, [x4, filter], attrs));
}

/**
 * Depthwise 2-D convolution, as tfjs's depthwiseConv2d: each input channel convolved with its own `multiplier`
 * filters, filter [filterHeight, filterWidth, inChannels, multiplier], output channel c · multiplier + m. It is a
 * grouped conv2d (groups = inChannels) over the filter reshaped to [fh, fw, 1, inChannels · multiplier].
 * @example depthwiseConv2d(x, filter, 1, 'same') // [1, 8, 8, 3] * [3, 3, 3, 2] -> [1, 8, 8, 6]
 */
export function depthwiseConv2d(
  x: Tensor,
  filter: TensorLike,
  strides: number | readonly [number, number],
  pad: Conv2DPad,
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
  dilations: number | readonly [number, number] = [1, 1],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): Tensor {
  const f = tensorOf(x, filter);
  const [fh, fw, inC, multiplier] = knownShape('depthwiseConv2d', f, 4);
  const grouped = reshape(f, [fh, fw, 1, inC * multiplier]);
  if (dimRoundingMode === undefined) return groupedConv2d(x, grouped, inC, strides, pad, dataFormat, dilations);
  const attrs = conv2dAttrs('depthwiseConv2d', strides, pad, dataFormat, dilations, inC);
  const rounded = withRounding('depthwiseConv2d', attrs, dimRoundingMode, () => spatialOf(x, dataFormat), f, x);
  return batched(x, (x4) => apply(CONV2D, [x4, grouped], rounded));
}

/** x's [height, width] in its data format (rank 4, or rank 3 without the batch). */
function spatialOf(x: Tensor, dataFormat: string): Dim[] {
  const s = x.rank === 3 ? [null, ...x.shape] : x.shape;
  return dataFormat === 'NCHW' ? [s[2], s[3]] : [s[1], s[2]];
}

/**
 * tfjs's dimRoundingMode: with a number or explicit padding, each output size is round((in − effective filter +
 * before + after) / stride + 1) in that mode (default: truncation); here as explicit padding whose end padding
 * gives that size (never below 0). tfjs computes both sizes from the filter's height and the height stride; here
 * each from its own dim (the same wherever the filter and strides are square). Needs the sizes known.
 */
function withRounding(
  op: string,
  attrs: Conv2DAttrs,
  rounding: 'floor' | 'round' | 'ceil' | undefined,
  sizes: () => readonly Dim[],
  filter: TensorLike,
  x: Tensor,
): Conv2DAttrs {
  if (rounding === undefined) return attrs;
  if (rounding !== 'floor' && rounding !== 'round' && rounding !== 'ceil') {
    throw new GraphError(`${op}: dimRoundingMode '${String(rounding)}' is not valid; valid: 'floor', 'round', 'ceil'`);
  }
  if (attrs.pad !== 'explicit') {
    throw new GraphError(
      `${op}: pad must be a number or explicit when using dimRoundingMode '${rounding}', got '${attrs.pad}'`,
    );
  }
  const size = sizes();
  const taps = tensorOf(x, filter).shape.slice(0, 2);
  const pads = [...(attrs.pads ?? [0, 0, 0, 0])];
  for (let i = 0; i < 2; i++) {
    const [n, f] = [size[i], taps[i]];
    if (n === null || f === null) {
      throw new ShapeError(`${op}: dimRoundingMode needs the input's height and width and the filter's known`);
    }
    const [s, effective] = [attrs.strides[i], (f - 1) * attrs.dilations[i] + 1];
    const out = Math[rounding]((n - effective + pads[2 * i] + pads[2 * i + 1]) / s + 1);
    pads[2 * i + 1] = Math.max((out - 1) * s + effective - n - pads[2 * i], 0);
  }
  return { ...attrs, pads };
}

/**
 * Depthwise separable 2-D convolution, as tfjs's separableConv2d: depthwiseConv2d, then a 1×1 conv2d with
 * pointwiseFilter [1, 1, inChannels · multiplier, outChannels].
 * @example separableConv2d(x, depthwise, pointwise, 1, 'same') // [1, 8, 8, 3], [3, 3, 3, 2], [1, 1, 6, 4]
 */
export function separableConv2d(
  x: Tensor,
  depthwiseFilter: TensorLike,
  pointwiseFilter: TensorLike,
  strides: number | readonly [number, number],
  pad: Conv2DPad,
  dilation: number | readonly [number, number] = [1, 1],
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
): Tensor {
  const depthwise = depthwiseConv2d(x, depthwiseFilter, strides, pad, dataFormat, dilation);
  return conv2d(depthwise, pointwiseFilter, 1, 'valid', dataFormat);
}
