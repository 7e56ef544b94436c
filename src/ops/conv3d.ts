/**
 * 3-D convolution: conv3d and its two gradient ops conv3dBackpropInput and conv3dBackpropFilter (TensorFlow's
 * Conv3D, Conv3DBackpropInputV2 and Conv3DBackpropFilterV2). As the 2-D ops (conv.ts) the three are bilinear and
 * each one's gradient is made of the other two, so second derivatives through 3-D conv nets work. Their attrs:
 * strides and dilations [depth, height, width], pad 'same' | 'valid' | 'explicit' with pads [front, back, top,
 * bottom, left, right], dataFormat 'NDHWC' | 'NCDHW', groups; the filter is [fd, fh, fw, inC / groups, outC].
 */
import { Dim, DTypeError, formatShape, GraphError, Shape, ShapeError, Tensor } from '../graph';
import { bilinearTangent, CONV_ATTRS, convAttrs, dimsOf } from './conv';
import { axisGeometry } from './kernels/conv';
import {
  conv3d as conv3dKernel,
  conv3dBackpropFilter as backpropFilterKernel,
  conv3dBackpropInput as backpropInputKernel,
} from './kernels/conv3d';
import { AttrsOf } from './attrs';
import { apply, defineOp, OpRecord, requireFloat, TensorInfo, TensorLike, VjpResult } from './record';

/** The 3-D conv ops' attrs: conv2d's, with one entry per spatial dim (three). */
const CONV3D_ATTRS = CONV_ATTRS;

/** The attrs of the three 3-D conv ops. */
export type Conv3DAttrs = AttrsOf<typeof CONV3D_ATTRS>;

const isPositive = (v: number): boolean => Number.isSafeInteger(v) && v >= 1;
const AXES = ['depth', 'height', 'width'];

/** Checks the shared attrs; returns whether the data is channels-last. */
function checkAttrs(attrs: Conv3DAttrs): boolean {
  const { strides, dilations, pad, pads, dataFormat } = attrs;
  if (strides.length !== 3 || !strides.every(isPositive)) {
    throw new ShapeError(`strides ${JSON.stringify(strides)} must be three integers >= 1 ([depth, height, width])`);
  }
  if (dilations.length !== 3 || !dilations.every(isPositive)) {
    throw new ShapeError(`dilations ${JSON.stringify(dilations)} must be three integers >= 1`);
  }
  if (pad !== 'same' && pad !== 'valid' && pad !== 'explicit') {
    throw new GraphError(`pad '${pad}' is not valid; valid: 'same', 'valid', 'explicit' (with pads)`);
  }
  if (pad === 'explicit' && (pads === undefined || pads.length !== 6 || !pads.every((v) => v >= 0))) {
    throw new ShapeError(
      'explicit padding needs pads [front, back, top, bottom, left, right] of non-negative integers, got ' +
        JSON.stringify(pads),
    );
  }
  if (dataFormat !== 'NDHWC' && dataFormat !== 'NCDHW') {
    throw new GraphError(`dataFormat '${dataFormat}' is not valid; valid: 'NDHWC', 'NCDHW'`);
  }
  if (attrs.groups !== undefined && !isPositive(attrs.groups)) {
    throw new ShapeError(`groups ${attrs.groups} must be an integer >= 1`);
  }
  return dataFormat === 'NDHWC';
}

const FILTER_LAYOUT = '[filterDepth, filterHeight, filterWidth, inChannels, outChannels]';

function requireRank5(what: string, info: TensorInfo, layout: string): void {
  if (info.shape.length !== 5) {
    throw new ShapeError(`${what} must have rank 5 (${layout}), got ${formatShape(info.shape)}`);
  }
}

function sameFloat(a: TensorInfo, b: TensorInfo): void {
  requireFloat(a);
  if (a.dtype !== b.dtype) throw new DTypeError(`operands are ${a.dtype} and ${b.dtype}; cast one of them`);
}

/** [n, [d, h, w], c] of a shape in its data format. */
function split(shape: Shape, channelsLast: boolean): [Dim, Dim[], Dim] {
  return channelsLast ? [shape[0], shape.slice(1, 4), shape[4]] : [shape[0], shape.slice(2, 5), shape[1]];
}

/** A shape in the data format from n, [d, h, w], c. */
function layout(n: Dim, spatial: readonly Dim[], c: Dim, channelsLast: boolean): Dim[] {
  return channelsLast ? [n, ...spatial, c] : [n, c, ...spatial];
}

function agree(a: Dim, b: Dim, message: () => string): Dim {
  if (a !== null && b !== null && a !== b) throw new ShapeError(message());
  return a ?? b;
}

/** The output's [d, h, w] of the forward conv over x's [d, h, w], null where unknown; a ShapeError when empty. */
function outputSize(x: readonly Dim[], filter: readonly Dim[], attrs: Conv3DAttrs): Dim[] {
  const pads = attrs.pads ?? [0, 0, 0, 0, 0, 0];
  return x.map((size, i) => {
    const f = filter[i];
    if (size === null || f === null) return null;
    const { out } = axisGeometry(
      size,
      f,
      attrs.strides[i],
      attrs.dilations[i],
      attrs.pad,
      pads[2 * i],
      pads[2 * i + 1],
    );
    if (out < 1) {
      throw new ShapeError(
        `the filter's ${AXES[i]} ${f} (dilation ${attrs.dilations[i]}) does not fit in the padded input ` +
          `${AXES[i]} ${size}: the output would be empty`,
      );
    }
    return out;
  });
}

function checkChannels(inC: Dim, filterInC: Dim, outC: Dim, groups: number): void {
  if (inC !== null && inC % groups !== 0) {
    throw new ShapeError(`the input's ${inC} channels do not split into ${groups} groups`);
  }
  if (inC !== null && filterInC !== null && inC !== filterInC * groups) {
    throw new ShapeError(
      `the input has ${inC} channels but the filter takes ${filterInC}` +
        (groups > 1 ? ` per group × ${groups} groups` : '') +
        `: the filter is ${FILTER_LAYOUT}`,
    );
  }
  if (outC !== null && outC % groups !== 0) {
    throw new ShapeError(`the filter's ${outC} output channels do not split into ${groups} groups`);
  }
}

function resolvedShape(attrShape: readonly Dim[], like: TensorInfo | undefined, name: string): Dim[] {
  if (attrShape.length !== 5) throw new ShapeError(`${name} ${JSON.stringify(attrShape)} must have 5 dims`);
  if (like === undefined) return [...attrShape];
  if (like.shape.length !== 5) {
    throw new ShapeError(`the shape source must have rank 5, got ${formatShape(like.shape)}`);
  }
  return attrShape.map((d, i) => d ?? like.shape[i]);
}

function checkDy(dy: readonly Dim[], expected: readonly Dim[], input: readonly Dim[]): void {
  if (dy.some((d, i) => d !== null && expected[i] !== null && d !== expected[i])) {
    throw new ShapeError(
      `dy is ${dy.join('×')} but a conv3d over a ${input.join('×')} input gives ${expected.join('×')} with these ` +
        'strides, padding and dilations',
    );
  }
}

/** conv3d(x, filter): x [n, d, h, w, inC] (or NCDHW), filter [fd, fh, fw, inC / groups, outC]. */
export const CONV3D = defineOp({
  name: 'conv3d',
  arity: 2,
  attrs: CONV3D_ATTRS,
  infer([x, filter], attrs) {
    const channelsLast = checkAttrs(attrs);
    requireRank5('x', x, attrs.dataFormat);
    requireRank5('the filter', filter, FILTER_LAYOUT);
    sameFloat(x, filter);
    const [n, spatial, inC] = split(x.shape, channelsLast);
    const [fc, outC] = [filter.shape[3], filter.shape[4]];
    checkChannels(inC, fc, outC, attrs.groups ?? 1);
    return {
      dtype: x.dtype,
      shape: layout(n, outputSize(spatial, filter.shape.slice(0, 3), attrs), outC, channelsLast),
    };
  },
  kernel: ([x, filter], out, attrs) => conv3dKernel(x, filter, out, attrs),
  vjp: ({ inputs: [x, filter], dy, attrs, needs }): VjpResult => [
    needs[0] ? backpropInputOf(dy, filter, x, attrs) : null,
    needs[1] ? backpropFilterOf(x, dy, filter, attrs) : null,
  ],
  jvp: ({ inputs: [x, filter], tangents: [tx, tf], attrs }): Tensor | null =>
    bilinearTangent(CONV3D, x, filter, tx, tf, attrs),
});

/**
 * conv3dBackpropInput(dy, filter[, like]) {inputShape}: the gradient of conv3d with respect to its input, shaped
 * inputShape; `like`, when given, supplies the dims inputShape leaves unknown at run time.
 */
export const CONV3D_BACKPROP_INPUT = defineOp({
  name: 'conv3dBackpropInput',
  arity: 'variadic',
  attrs: { ...CONV3D_ATTRS, inputShape: 'dims' },
  infer(inputs, attrs) {
    const [dy, filter, like] = inputs;
    if (inputs.length !== 2 && inputs.length !== 3) {
      throw new GraphError(`takes dy, the filter and optionally a shape source, got ${inputs.length} inputs`);
    }
    const channelsLast = checkAttrs(attrs);
    requireRank5('dy', dy, attrs.dataFormat);
    requireRank5('the filter', filter, FILTER_LAYOUT);
    sameFloat(dy, filter);
    const groups = attrs.groups ?? 1;
    const [xn, spatial, xc] = split(resolvedShape(attrs.inputShape, like, 'inputShape'), channelsLast);
    const [dn, dSpatial, dc] = split(dy.shape, channelsLast);
    const [fc, outC] = [filter.shape[3], filter.shape[4]];
    const inC = agree(xc, fc === null ? null : fc * groups, () => `inputShape's channels ${xc} ≠ ${fc} × ${groups}`);
    checkChannels(inC, fc, outC, groups);
    agree(dc, outC, () => `dy has ${dc} channels but the filter has ${outC} output channels`);
    const n = agree(xn, dn, () => `dy's batch ${dn} differs from inputShape's batch ${xn}`);
    checkDy(dSpatial, outputSize(spatial, filter.shape.slice(0, 3), attrs), spatial);
    return { dtype: dy.dtype, shape: layout(n, spatial, inC, channelsLast) };
  },
  kernel: ([dy, filter], out, attrs) => backpropInputKernel(dy, filter, out, attrs),
  vjp: ({ inputs: [dy, filter, like], dy: g, attrs, needs }): VjpResult => {
    const conv = convAttrs(attrs);
    return [
      needs[0] ? apply(CONV3D, [g, filter], conv) : null,
      needs[1] ? backpropFilterOf(g, dy, filter, conv) : null,
      ...(like === undefined ? [] : [null]),
    ];
  },
  jvp: ({ inputs: [dy, filter, like], tangents: [tdy, tf], attrs }): Tensor | null =>
    bilinearTangent(CONV3D_BACKPROP_INPUT, dy, filter, tdy, tf, attrs, like),
});

/**
 * conv3dBackpropFilter(x, dy[, like]) {filterShape}: the gradient of conv3d with respect to its filter, shaped
 * filterShape; `like`, when given, supplies the dims filterShape leaves unknown at run time.
 */
export const CONV3D_BACKPROP_FILTER = defineOp({
  name: 'conv3dBackpropFilter',
  arity: 'variadic',
  attrs: { ...CONV3D_ATTRS, filterShape: 'dims' },
  infer(inputs, attrs) {
    const [x, dy, like] = inputs;
    if (inputs.length !== 2 && inputs.length !== 3) {
      throw new GraphError(`takes x, dy and optionally a shape source, got ${inputs.length} inputs`);
    }
    const channelsLast = checkAttrs(attrs);
    requireRank5('x', x, attrs.dataFormat);
    requireRank5('dy', dy, attrs.dataFormat);
    sameFloat(x, dy);
    const groups = attrs.groups ?? 1;
    const [fd, fh, fw, fcAttr, foAttr] = resolvedShape(attrs.filterShape, like, 'filterShape');
    const [xn, spatial, inC] = split(x.shape, channelsLast);
    const [dn, dSpatial, dc] = split(dy.shape, channelsLast);
    agree(xn, dn, () => `dy's batch ${dn} differs from x's batch ${xn}`);
    checkChannels(inC, null, null, groups);
    const fc = agree(fcAttr, inC === null ? null : inC / groups, () => `x's ${inC} channels ≠ ${fcAttr} × ${groups}`);
    const outC = agree(foAttr, dc, () => `dy has ${dc} channels but filterShape has ${foAttr} output channels`);
    checkChannels(inC, fc, outC, groups);
    checkDy(dSpatial, outputSize(spatial, [fd, fh, fw], attrs), spatial);
    return { dtype: x.dtype, shape: [fd, fh, fw, fc, outC] };
  },
  kernel: ([x, dy], out, attrs) => backpropFilterKernel(x, dy, out, attrs),
  vjp: ({ inputs: [x, dy, like], dy: g, attrs, needs }): VjpResult => {
    const conv = convAttrs(attrs);
    return [
      needs[0] ? backpropInputOf(dy, g, x, conv) : null,
      needs[1] ? apply(CONV3D, [x, g], conv) : null,
      ...(like === undefined ? [] : [null]),
    ];
  },
  jvp: ({ inputs: [x, dy, like], tangents: [tx, tdy], attrs }): Tensor | null =>
    bilinearTangent(CONV3D_BACKPROP_FILTER, x, dy, tx, tdy, attrs, like),
});

export const CONV3D_OPS: readonly OpRecord[] = [CONV3D, CONV3D_BACKPROP_INPUT, CONV3D_BACKPROP_FILTER];

function backpropInputOf(dy: Tensor, filter: Tensor, x: Tensor, attrs: Conv3DAttrs): Tensor {
  const { dims, like } = dimsOf(x);
  return apply(CONV3D_BACKPROP_INPUT, [dy, filter, ...like], { ...convAttrs(attrs), inputShape: dims });
}

function backpropFilterOf(x: Tensor, dy: Tensor, filter: Tensor, attrs: Conv3DAttrs): Tensor {
  const { dims, like } = dimsOf(filter);
  return apply(CONV3D_BACKPROP_FILTER, [x, dy, ...like], { ...convAttrs(attrs), filterShape: dims });
}

// ---- builders (tfjs names and argument order) ------------------------------------------------------------------

type Triple = number | readonly [number, number, number];

/**
 * tfjs's conv3d padding ('same' | 'valid'), and, beyond tfjs, a number for every side or explicit
 * [[0, 0], [front, back], [top, bottom], [left, right], [0, 0]] (NDHWC order; NCDHW: the channel pair second).
 */
export type Conv3DPad = 'same' | 'valid' | number | readonly (readonly [number, number])[];

function tripleOf(op: string, name: string, v: Triple): [number, number, number] {
  if (typeof v === 'number') return [v, v, v];
  if (v.length !== 3) throw new ShapeError(`${op}: ${name} ${JSON.stringify(v)} must be a number or three numbers`);
  return [v[0], v[1], v[2]];
}

function padAttrs3d(op: string, pad: Conv3DPad, dataFormat: string): { pad: string; pads?: number[] } {
  if (pad === 'same' || pad === 'valid') return { pad };
  if (typeof pad === 'number') {
    if (!Number.isSafeInteger(pad) || pad < 0) throw new ShapeError(`${op}: pad ${pad} must be an integer >= 0`);
    return { pad: 'explicit', pads: [pad, pad, pad, pad, pad, pad] };
  }
  if (Array.isArray(pad) && pad.length === 5) {
    const channelsLast = dataFormat !== 'NCDHW';
    const spatial = channelsLast ? pad.slice(1, 4) : pad.slice(2, 5);
    const outer = channelsLast ? [pad[0], pad[4]] : [pad[0], pad[1]];
    const ok = (p: readonly number[]): boolean => p.length === 2 && p.every((v) => Number.isSafeInteger(v) && v >= 0);
    if (outer.every((p) => p[0] === 0 && p[1] === 0) && spatial.every(ok)) {
      return { pad: 'explicit', pads: spatial.flatMap((p) => [p[0], p[1]]) };
    }
  }
  throw new ShapeError(
    `${op}: pad ${JSON.stringify(pad)} is not valid; valid: 'same', 'valid', a number, or explicit ` +
      '[[0, 0], [front, back], [top, bottom], [left, right], [0, 0]]',
  );
}

function conv3dAttrs(op: string, strides: Triple, pad: Conv3DPad, dataFormat: string, dilations: Triple): Conv3DAttrs {
  return {
    strides: tripleOf(op, 'strides', strides),
    dilations: tripleOf(op, 'dilations', dilations),
    ...padAttrs3d(op, pad, dataFormat),
    dataFormat,
  };
}

function batched(x: Tensor, build: (x5: Tensor) => Tensor): Tensor {
  if (x.rank !== 4) return build(x);
  return build(x.expandDims(0)).squeeze([0]);
}

/**
 * A 3-D convolution, as tfjs's conv3d: x [batch, depth, height, width, inChannels] (or NCDHW, or rank 4 without
 * the batch), filter [filterDepth, filterHeight, filterWidth, inChannels, outChannels]. Beyond tfjs: NCDHW (tfjs's
 * cpu backend takes NDHWC only), strides and dilations both above 1, and a number or explicit padding.
 * @example conv3d(volumes, filter, 1, 'same') // [2, 8, 8, 8, 1] * [3, 3, 3, 1, 4] -> [2, 8, 8, 8, 4]
 */
export function conv3d(
  x: Tensor,
  filter: TensorLike,
  strides: Triple,
  pad: Conv3DPad,
  dataFormat: 'NDHWC' | 'NCDHW' = 'NDHWC',
  dilations: Triple = [1, 1, 1],
): Tensor {
  const attrs = conv3dAttrs('conv3d', strides, pad, dataFormat, dilations);
  return batched(x, (x5) => apply(CONV3D, [x5, filter], attrs));
}

/**
 * The gradient of conv3d with respect to its input as an op of its own (tfjs's conv3DBackpropInput, internal
 * there): dy through the filter back to an input of shape xShape (rank 5, or rank 4 with a rank-4 dy).
 * @example conv3dBackpropInput([2, 8, 8, 8, 1], dy, filter, 1, 'same')
 */
export function conv3dBackpropInput(
  xShape: readonly Dim[],
  dy: Tensor,
  filter: TensorLike,
  strides: Triple,
  pad: Conv3DPad,
  dataFormat: 'NDHWC' | 'NCDHW' = 'NDHWC',
  dilations: Triple = [1, 1, 1],
): Tensor {
  const attrs = conv3dAttrs('conv3dBackpropInput', strides, pad, dataFormat, dilations);
  if (xShape.length === 4 && dy.rank === 4) {
    return batched(dy, (d) => apply(CONV3D_BACKPROP_INPUT, [d, filter], { ...attrs, inputShape: [1, ...xShape] }));
  }
  return apply(CONV3D_BACKPROP_INPUT, [dy, filter], { ...attrs, inputShape: [...xShape] });
}

/**
 * The gradient of conv3d with respect to its filter as an op of its own (tfjs's conv3DBackpropFilter).
 * @example conv3dBackpropFilter(x, dy, [3, 3, 3, 1, 4], 1, 'same')
 */
export function conv3dBackpropFilter(
  x: Tensor,
  dy: Tensor,
  filterShape: readonly Dim[],
  strides: Triple,
  pad: Conv3DPad,
  dataFormat: 'NDHWC' | 'NCDHW' = 'NDHWC',
  dilations: Triple = [1, 1, 1],
): Tensor {
  const attrs = conv3dAttrs('conv3dBackpropFilter', strides, pad, dataFormat, dilations);
  if (x.rank === 4 && dy.rank === 4) {
    return apply(CONV3D_BACKPROP_FILTER, [x.expandDims(0), dy.expandDims(0)], {
      ...attrs,
      filterShape: [...filterShape],
    });
  }
  return apply(CONV3D_BACKPROP_FILTER, [x, dy], { ...attrs, filterShape: [...filterShape] });
}

/**
 * The transpose of conv3d, as tfjs's conv3dTranspose: x [batch, depth, height, width, inDepth] (or rank 4), filter
 * [filterDepth, filterHeight, filterWidth, outDepth, inDepth] (the filter of the conv3d it transposes), outputShape
 * the shape of that conv3d's input. It is the conv3dBackpropInput op.
 * @example conv3dTranspose(x, filter, [1, 8, 8, 8, 1], 2, 'same') // [1, 4, 4, 4, 8] -> [1, 8, 8, 8, 1]
 */
export function conv3dTranspose(
  x: Tensor,
  filter: TensorLike,
  outputShape: readonly number[],
  strides: Triple,
  pad: Conv3DPad,
): Tensor {
  if (outputShape.length !== x.rank) {
    throw new ShapeError(`conv3dTranspose: outputShape ${JSON.stringify(outputShape)} must have x's rank ${x.rank}`);
  }
  return conv3dBackpropInput(outputShape, x, filter, strides, pad);
}
