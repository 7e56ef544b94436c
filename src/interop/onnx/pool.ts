/**
 * Pooling between ONNX (NCHW, pads [top, left, bottom, right], auto_pad, ceil_mode) and lazygrad (NHWC ops with
 * explicit [top, bottom, left, right] pads). lazygrad's pooling ops stay NHWC, as tfjs's are: ONNX nodes become
 * Transpose → NHWC op → Transpose on import (the simplify pass cancels the transpose pairs between consecutive
 * layers), and the exported NCHW node sits between two Transposes.
 *
 * The gradient ops export through MaxPool's Indices output (maxPoolGrad: ScatterElements with reduction 'add';
 * maxPoolGradGrad: Gather) and a depthwise ConvTranspose of ones (avgPoolGrad). Import maps 1-D and 2-D pooling
 * here and 3-D pooling in conv3d.ts.
 */
import { DType, GraphError, NDArray, Tensor } from '../../graph';
import * as ops from '../../ops';
import { attributeProto, OnnxAttr, ReadAttrs, tensorProto } from './proto';
import { OnnxWriter } from './writer';
import { importPool3d } from './conv3d';

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** The window attrs every lazygrad pooling node has. */
interface Window {
  readonly filterSize: readonly number[];
  readonly strides: readonly number[];
  /** [top, bottom, left, right] */
  readonly pads: readonly number[];
  readonly dilations?: readonly number[];
}

// ---- import -------------------------------------------------------------------------------------------------------

/**
 * The lazygrad window of an ONNX MaxPool/AveragePool node over NCHW x: auto_pad and ceil_mode resolved into
 * explicit pads (ceil_mode's extra windows become extra end padding, which no window reads).
 */
function importWindow(
  x: Tensor,
  attrs: ReadAttrs,
  oneD: boolean,
  fail: (message: string) => GraphError,
): Window & { ceil: number } {
  // A 1-D node pools x with a height of 1: its lists gain a leading 1 (pads a leading 0 at both ends).
  const spatial = (values: number[], fill: number): number[] => (oneD ? [fill, ...values] : values);
  const kernel = spatial(attrs.ints('kernel_shape'), 1);
  const strides = spatial(attrs.ints('strides', oneD ? [1] : [1, 1]), 1);
  const dilations = attrs.ints('dilations', oneD ? [1] : [1, 1]);
  if (kernel.length !== 2 || strides.length !== 2)
    throw fail(`kernel_shape and strides must have ${oneD ? 1 : 2} entries`);
  const dilation = spatial(dilations, 1);
  if (dilation.length !== 2 || !dilation.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw fail(`dilations ${JSON.stringify(dilations)} must be ${oneD ? 1 : 2} positive integers`);
  }
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  const given = autoPad === 'NOTSET' ? attrs.ints('pads', oneD ? [0, 0] : [0, 0, 0, 0]) : [0, 0, 0, 0];
  const onnxPads = oneD && autoPad === 'NOTSET' ? [0, given[0], 0, given[1]] : given;
  const ceilMode = attrs.int('ceil_mode', 0) === 1;
  const pads: number[] = [];
  let ceil = 0;
  for (let i = 0; i < 2; i++) {
    const size = x.shape[2 + i];
    let [begin, end] = [onnxPads[i], onnxPads[i + 2]];
    // The dilated window's span is what SAME padding and ceil_mode measure.
    const [k, s] = [(kernel[i] - 1) * dilation[i] + 1, strides[i]];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      if (size === null) throw fail(`auto_pad ${autoPad} needs the input's spatial dims known, got [${x.shape}]`);
      // As ONNX Runtime: from the undilated kernel (with dilations, fewer than ceil(size / stride) windows then).
      const total = Math.max((Math.ceil(size / s) - 1) * s + kernel[i] - size, 0);
      begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      end = total - begin;
    } else if (autoPad !== 'NOTSET' && autoPad !== 'VALID') {
      throw fail(`auto_pad '${autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
    }
    if (ceilMode) {
      if (size === null) throw fail(`ceil_mode needs the input's spatial dims known, got [${x.shape}]`);
      let out = Math.ceil((size + begin + end - k) / s) + 1;
      // As ONNX Runtime (and PyTorch): the last window must start inside the input or its begin padding.
      if ((out - 1) * s >= size + begin) out--;
      const extra = Math.max((out - 1) * s + k - (size + begin + end), 0);
      end += extra;
      ceil += extra;
    }
    pads.push(begin, end);
  }
  const dilated = dilation.some((d) => d !== 1) ? { dilations: dilation } : {};
  return { filterSize: kernel, strides, pads, ...dilated, ceil };
}

/**
 * An ONNX MaxPool or AveragePool node over NCHW x as the NHWC lazygrad op between two transposes; a 1-D node
 * ([N, C, L]) as the 2-D op over a height of 1.
 */
export function importPool(
  kind: 'max' | 'avg',
  x: Tensor,
  attrs: ReadAttrs,
  outputCount: number,
  fail: (message: string) => GraphError,
): Tensor | Tensor[] {
  if (x.rank === 3) {
    // 1-D pooling over [N, C, L] is 2-D pooling over [N, C, 1, L] (its flat Indices are the same numbers).
    const pooled = importPool2d(kind, ops.expandDims(x, 2), attrs, outputCount, true, fail);
    return Array.isArray(pooled) ? pooled.map((t) => ops.squeeze(t, [2])) : ops.squeeze(pooled as Tensor, [2]);
  }
  if (x.rank === 5) return importPool3d(kind, x, attrs, outputCount, fail);
  if (x.rank !== 4) {
    throw fail(`only 1-D, 2-D and 3-D pooling (an input of rank 3, 4 or 5) is mapped; got rank ${x.rank}`);
  }
  return importPool2d(kind, x, attrs, outputCount, false, fail);
}

function importPool2d(
  kind: 'max' | 'avg',
  x: Tensor,
  attrs: ReadAttrs,
  outputCount: number,
  oneD: boolean,
  fail: (message: string) => GraphError,
): Tensor | Tensor[] {
  const { ceil, ...window } = importWindow(x, attrs, oneD, fail);
  const nhwc = ops.transpose(x, TO_NHWC);
  let y: Tensor;
  if (kind === 'max') {
    y = ops.apply(ops.MAX_POOL, [nhwc], window);
    if (outputCount > 1) return [ops.transpose(y, TO_NCHW), onnxIndices(nhwc, window, attrs, fail)];
  } else {
    const countPadding = attrs.int('count_include_pad', 0) === 1;
    if (countPadding && ceil > 0) {
      throw fail('count_include_pad=1 together with ceil_mode windows past the padding is not supported');
    }
    y = ops.apply(ops.AVG_POOL, [nhwc], countPadding ? { ...window, countPadding } : window);
  }
  return ops.transpose(y, TO_NCHW);
}

/**
 * MaxPool's Indices from lazygrad's NHWC argmax (with the batch term): (n·C + c)·H·W + hw, with hw = y·W + x
 * (storage_order 0) or x·H + y (1), as int32 [N, C, outH, outW]. Needs height, width and channels known.
 */
function onnxIndices(nhwc: Tensor, window: Window, attrs: ReadAttrs, fail: (message: string) => GraphError): Tensor {
  const [, height, width, channels] = nhwc.shape;
  if (height === null || width === null || channels === null) {
    throw fail(`the Indices output needs the input's channels and spatial dims known, got [${nhwc.shape}]`);
  }
  const flat = ops.apply(ops.MAX_POOL_ARGMAX, [nhwc], { ...window, includeBatchInIndex: true });
  const c = ops.mod(flat, channels);
  let hw = ops.mod(ops.floorDiv(flat, channels), height * width);
  if (attrs.int('storage_order', 0) === 1) hw = ops.add(ops.mul(ops.mod(hw, width), height), ops.floorDiv(hw, width));
  const n = ops.floorDiv(flat, height * width * channels);
  return ops.transpose(ops.add(ops.mul(ops.add(ops.mul(n, channels), c), height * width), hw), TO_NCHW);
}

/** ONNX GlobalAveragePool / GlobalMaxPool: the mean / max over every spatial axis of N, C, D1… x, kept as size 1. */
export function importGlobalPool(kind: 'max' | 'avg', x: Tensor, fail: (message: string) => GraphError): Tensor {
  if (x.rank < 3) throw fail(`expects N, C and at least one spatial axis, got rank ${x.rank}`);
  const axes = x.shape.slice(2).map((_, i) => i + 2);
  return kind === 'max' ? ops.max(x, axes, true) : ops.mean(x, axes, true);
}

// ---- export -------------------------------------------------------------------------------------------------------

/** What an export rule of a pooling node reads (the fields of export-ops.ts's RuleArgs it needs). */
export interface PoolRuleArgs {
  readonly w: OnnxWriter;
  readonly node: { readonly op: string; readonly attrs: unknown; readonly dtype: DType; readonly name: string };
  readonly inputs: readonly string[];
  readonly infos: readonly { readonly shape: readonly (number | null)[] }[];
  readonly out: string;
}

function windowAttrs(window: Window): { [name: string]: OnnxAttr } {
  const [top, bottom, left, right] = window.pads;
  return {
    kernel_shape: { ints: [...window.filterSize] },
    strides: { ints: [...window.strides] },
    pads: { ints: [top, left, bottom, right] },
    ...(window.dilations === undefined ? {} : { dilations: { ints: [...window.dilations] } }),
  };
}

/** A float array of `dtype` and `shape` (the constants of the exported gradient ops). */
const floats = (values: ArrayLike<number>, shape: readonly number[], dtype: DType): NDArray =>
  new NDArray(dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), [...shape], dtype);

const transposed = (w: OnnxWriter, x: string, perm: readonly number[], out?: string): string =>
  w.node('Transpose', [x], { perm: { ints: [...perm] } }, out);

/** maxPool / avgPool: the NCHW ONNX node between two transposes. */
export function exportPool({ w, node, inputs: [x], out }: PoolRuleArgs): string {
  const attrs = node.attrs as Window & { countPadding?: boolean };
  const onnxAttrs = windowAttrs(attrs);
  if (node.op === 'avgPool' && attrs.countPadding === true) onnxAttrs.count_include_pad = { int: 1 };
  if (node.op === 'avgPool' && attrs.dilations !== undefined && w.opset < 19) {
    throw new GraphError(
      `exportOnnx: avgPool node '${node.name}' has dilations, which AveragePool takes from opset 19; export with ` +
        '{ opset: 19 } or later',
    );
  }
  const y = w.node(node.op === 'maxPool' ? 'MaxPool' : 'AveragePool', [transposed(w, x, TO_NCHW)], onnxAttrs);
  return transposed(w, y, TO_NHWC, out);
}

/** MaxPool's Indices over NHWC x: the flat NCHW index of each window's maximum, int64 [N, C, outH, outW]. */
function argmaxIndices(w: OnnxWriter, x: string, window: Window): string {
  const values = w.fresh('MaxPool');
  const indices = w.fresh('Indices');
  w.nodes.push({
    opType: 'MaxPool',
    name: values,
    input: [transposed(w, x, TO_NCHW)],
    output: [values, indices],
    attribute: Object.entries(windowAttrs(window)).map(([name, value]) => attributeProto(name, value)),
  });
  return indices;
}

/** The same indices flattened (for Gather / ScatterElements over a flat NCHW tensor). */
const flatArgmax = (w: OnnxWriter, x: string, window: Window): string =>
  w.node('Reshape', [argmaxIndices(w, x, window), w.ints([-1])]);

/**
 * maxPoolArgmax(x): MaxPool's NCHW indices rewritten as NHWC ones, hw·C + c (+ n·H·W·C with the batch term), by
 * integer arithmetic on them; Cast to int32. Needs height, width and channels known.
 */
export function exportMaxPoolArgmax({ w, node, inputs: [x], infos: [xi], out }: PoolRuleArgs): string {
  const [, height, width, channels] = xi.shape;
  if (height === null || width === null || channels === null) {
    throw new GraphError(`exportOnnx: maxPoolArgmax node '${node.name}' needs x's height, width and channels known`);
  }
  const attrs = node.attrs as Window & { includeBatchInIndex?: boolean };
  const indices = argmaxIndices(w, x, attrs);
  const area = w.scalarInt(height * width);
  const hw = w.node('Mod', [indices, area]);
  const c = w.node('Mod', [w.node('Div', [indices, area]), w.scalarInt(channels)]);
  let nhwc = w.node('Add', [w.node('Mul', [hw, w.scalarInt(channels)]), c]);
  if (attrs.includeBatchInIndex === true) {
    const image = w.scalarInt(height * width * channels);
    nhwc = w.node('Add', [nhwc, w.node('Mul', [w.node('Div', [indices, image]), image])]);
  }
  return w.node('Cast', [transposed(w, nhwc, TO_NHWC)], { to: { int: 6 } }, out);
}

/** maxPoolGrad(x, dy): dy added at the maxima's positions of a flat NCHW zero tensor, back to NHWC. */
export function exportMaxPoolGrad({ w, node, inputs: [x, dy], out }: PoolRuleArgs): string {
  const indices = flatArgmax(w, x, node.attrs as Window);
  const nchw = transposed(w, x, TO_NCHW);
  const flat = w.node('Reshape', [nchw, w.ints([-1])]);
  const zero = { tensor: tensorProto('', floats([0], [1], node.dtype)) };
  const zeros = w.node('ConstantOfShape', [w.shapeOf(flat)], { value: zero });
  const updates = w.node('Reshape', [transposed(w, dy, TO_NCHW), w.ints([-1])]);
  const sums = w.node('ScatterElements', [zeros, indices, updates], { axis: { int: 0 }, reduction: { string: 'add' } });
  return transposed(w, w.node('Reshape', [sums, w.shapeOf(nchw)]), TO_NHWC, out);
}

/** maxPoolGradGrad(x, g): g (NHWC, flattened as NCHW) gathered at the maxima's positions, back to NHWC. */
export function exportMaxPoolGradGrad({ w, node, inputs: [x, g], out }: PoolRuleArgs): string {
  const indices = flatArgmax(w, x, node.attrs as Window);
  const values = w.node('Gather', [w.node('Reshape', [transposed(w, g, TO_NCHW), w.ints([-1])]), indices]);
  const pooled = w.node('MaxPool', [transposed(w, x, TO_NCHW)], windowAttrs(node.attrs as Window));
  return transposed(w, w.node('Reshape', [values, w.shapeOf(pooled)]), TO_NHWC, out);
}

/**
 * avgPoolGrad(dy): dy divided by each window's count, spread over its window by a depthwise ConvTranspose with a
 * kernel of ones (output_padding restores the rows and columns no window reaches). Needs the channels known.
 */
export function exportAvgPoolGrad({ w, node, inputs: [dy], infos: [dyInfo], out }: PoolRuleArgs): string {
  const attrs = node.attrs as Window & { inputSize: readonly number[]; countPadding?: boolean };
  const channels = dyInfo.shape[3];
  if (channels === null) {
    throw new GraphError(`exportOnnx: avgPoolGrad node '${node.name}' needs its channel count known to export`);
  }
  const [kh, kw] = attrs.filterSize;
  const [sh, sw] = attrs.strides;
  const [dh, dw] = attrs.dilations ?? [1, 1];
  const [spanH, spanW] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const [top, bottom, left, right] = attrs.pads;
  const [height, width] = attrs.inputSize;
  const outH = Math.floor((height + top + bottom - spanH) / sh) + 1;
  const outW = Math.floor((width + left + right - spanW) / sw) + 1;
  // The input pixels of a window along one dim: its taps start, start + d, … that fall inside [0, size).
  const taps = (start: number, k: number, d: number, size: number): number => {
    let n = 0;
    for (let i = 0; i < k; i++) if (start + i * d >= 0 && start + i * d < size) n++;
    return n;
  };
  const counts = new Float64Array(outH * outW);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const pixels = taps(oy * sh - top, kh, dh, height) * taps(ox * sw - left, kw, dw, width);
      counts[oy * outW + ox] = attrs.countPadding === true ? kh * kw : pixels;
    }
  }
  const countTensor = w.tensor(floats(counts, [1, 1, outH, outW], node.dtype));
  const scaled = w.node('Div', [transposed(w, dy, TO_NCHW), countTensor]);
  const ones = w.tensor(floats(new Float64Array(channels * kh * kw).fill(1), [channels, 1, kh, kw], node.dtype));
  const spread = w.node('ConvTranspose', [scaled, ones], {
    group: { int: channels },
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [sh, sw] },
    pads: { ints: [top, left, bottom, right] },
    dilations: { ints: [dh, dw] },
    output_padding: {
      ints: [height + top + bottom - spanH - (outH - 1) * sh, width + left + right - spanW - (outW - 1) * sw],
    },
  });
  return transposed(w, spread, TO_NHWC, out);
}
