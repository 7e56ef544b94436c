/**
 * The 3-D ops and ONNX, both ways. Export: conv3d is Conv, conv3dBackpropInput ConvTranspose, conv3dBackpropFilter a
 * Conv of x over dy (batch and channels swapped, strides and dilations exchanged: as the 2-D rule in
 * export-conv.ts); maxPool3d / avgPool3d are MaxPool / AveragePool, their gradient ops MaxPool's Indices with
 * ScatterElements / Gather and a depthwise ConvTranspose of ones (as pool.ts does in 2-D). ONNX is NCDHW with
 * OIDHW weights, so NDHWC data and the [fd, fh, fw, inC / groups, outC] filter are transposed around each node.
 * Import: Conv, ConvTranspose, MaxPool and AveragePool over rank-5 data (import-conv.ts and pool.ts hand them here).
 */
import { DType, GraphError, NDArray, Node, Shape, Tensor } from '../../graph';
import * as ops from '../../ops';
import { sameSizes, sameUpper } from './export-conv';
import { attributeProto, OnnxAttr, ReadAttrs, tensorProto } from './proto';
import { OnnxWriter } from './writer';

const TO_NCDHW = [0, 4, 1, 2, 3];
const TO_NDHWC = [0, 2, 3, 4, 1];
/** [fd, fh, fw, inC / groups, outC] to ONNX's [outC, inC / groups, fd, fh, fw] (and back: FROM_OIDHW). */
const TO_OIDHW = [4, 3, 0, 1, 2];
const FROM_OIDHW = [2, 3, 4, 1, 0];
const SPATIAL = [0, 1, 2];

interface RuleArgs {
  readonly w: OnnxWriter;
  readonly node: Pick<Node, 'op' | 'attrs' | 'dtype' | 'shape' | 'name'>;
  readonly inputs: readonly string[];
  readonly infos: readonly Pick<Node, 'dtype' | 'shape'>[];
  readonly out: string;
}

const transpose = (w: OnnxWriter, x: string, perm: readonly number[], out?: string): string =>
  w.node('Transpose', [x], { perm: { ints: [...perm] } }, out);

const toNcdhw = (w: OnnxWriter, x: string, channelsLast: boolean): string =>
  channelsLast ? transpose(w, x, TO_NCDHW) : x;

/** [d, h, w] of a rank-5 shape in its data format. */
const spatialOf = (shape: Shape, channelsLast: boolean): Shape => (channelsLast ? shape.slice(1, 4) : shape.slice(2));
const channelsOf = (shape: Shape, channelsLast: boolean): number | null => (channelsLast ? shape[4] : shape[1]);

/** lazygrad's [front, back, top, bottom, left, right] as ONNX's [begin × 3, end × 3]. */
const onnxOrder = (p: readonly number[]): number[] => [p[0], p[2], p[4], p[1], p[3], p[5]];

/**
 * The ONNX pads of a conv3d over x's [d, h, w]; null for 'same' with the size of an axis of stride > 1 unknown
 * (auto_pad SAME_UPPER then).
 */
function convPads(attrs: ops.Conv3DAttrs, x: Shape, f: Shape): number[] | null {
  if (attrs.pad === 'valid') return [0, 0, 0, 0, 0, 0];
  if (attrs.pad === 'explicit') return onnxOrder(attrs.pads ?? [0, 0, 0, 0, 0, 0]);
  const sizes = sameSizes(x, attrs.strides);
  if (sizes === null || f.some((d) => d === null)) return null;
  const axes = SPATIAL.map((i) =>
    ops.axisGeometry(sizes[i], f[i] as number, attrs.strides[i], attrs.dilations[i], 'same', 0, 0),
  );
  return [...axes.map((a) => a.before), ...axes.map((a) => a.after)];
}

function known(node: RuleArgs['node'], dims: readonly (number | null)[], what: string): number[] {
  if (dims.some((d) => d === null)) {
    throw new GraphError(`exportOnnx: ${node.op} '${node.name}' needs ${what} known at export time`);
  }
  return dims as number[];
}

function convAttrs(
  node: Pick<Node, 'op' | 'name'>,
  attrs: ops.Conv3DAttrs,
  pads: number[] | null,
): { [name: string]: OnnxAttr } {
  return {
    strides: { ints: [...attrs.strides] },
    dilations: { ints: [...attrs.dilations] },
    group: { int: attrs.groups ?? 1 },
    ...(pads === null ? { auto_pad: sameUpper(node, attrs.dilations) } : { pads: { ints: pads } }),
  };
}

function conv3dRule({ w, node, inputs: [x, filter], infos: [xi, fi], out }: RuleArgs): string {
  const attrs = ops.attrsOf(ops.CONV3D, node);
  const channelsLast = attrs.dataFormat === 'NDHWC';
  const pads = convPads(attrs, spatialOf(xi.shape, channelsLast), fi.shape.slice(0, 3));
  const weights = transpose(w, filter, TO_OIDHW);
  const y = w.node(
    'Conv',
    [toNcdhw(w, x, channelsLast), weights],
    convAttrs(node, attrs, pads),
    channelsLast ? undefined : out,
  );
  return channelsLast ? transpose(w, y, TO_NDHWC, out) : y;
}

/** conv3dBackpropInput: ConvTranspose with the forward conv's pads and the output_padding that gives x's size. */
function backpropInputRule({ w, node, inputs: [dy, filter], infos: [di, fi], out }: RuleArgs): string {
  const attrs = ops.attrsOf(ops.CONV3D_BACKPROP_INPUT, node);
  const channelsLast = attrs.dataFormat === 'NDHWC';
  const size = known(node, spatialOf(node.shape, channelsLast), 'the spatial sizes');
  const input = known(node, spatialOf(di.shape, channelsLast), 'the spatial sizes');
  const taps = known(node, fi.shape.slice(0, 3), 'the filter size');
  const pads = convPads(attrs, size, taps) as number[];
  const extra = SPATIAL.map(
    (i) =>
      size[i] + pads[i] + pads[i + 3] - ((taps[i] - 1) * attrs.dilations[i] + 1) - (input[i] - 1) * attrs.strides[i],
  );
  const onnxAttrs = { ...convAttrs(node, attrs, pads), output_padding: { ints: extra } };
  const weights = transpose(w, filter, TO_OIDHW);
  const y = w.node('ConvTranspose', [toNcdhw(w, dy, channelsLast), weights], onnxAttrs, channelsLast ? undefined : out);
  return channelsLast ? transpose(w, y, TO_NDHWC, out) : y;
}

/**
 * conv3dBackpropFilter: df[a, b, c, ci, o] = Σ x[n, z·s + a·d − front, …, g·cg + ci] · dy[n, z, y, x, o] is a
 * grouped Conv whose batch is x's channels within a group, whose channels are (group, n), whose filter is dy
 * ([outC, n, od, oh, ow]) and whose stride is the dilation and dilation the stride; its output [cg, outC, …] is
 * cut to the filter's size and transposed to [fd, fh, fw, cg, outC].
 */
function backpropFilterRule({ w, node, inputs: [x, dy], infos: [xi, di], out }: RuleArgs): string {
  const attrs = ops.attrsOf(ops.CONV3D_BACKPROP_FILTER, node);
  const channelsLast = attrs.dataFormat === 'NDHWC';
  const groups = attrs.groups ?? 1;
  const size = known(node, spatialOf(xi.shape, channelsLast), 'the spatial sizes');
  const [c] = known(node, [channelsOf(xi.shape, channelsLast)], 'the channels');
  const taps = known(node, node.shape.slice(0, 3), 'the filter size');
  const outSize = known(node, spatialOf(di.shape, channelsLast), 'the spatial sizes');
  const pads = convPads(attrs, size, taps) as number[];
  const cg = c / groups;
  const { strides, dilations } = attrs;
  const far = (i: number): number =>
    Math.max((taps[i] - 1) * dilations[i] + (outSize[i] - 1) * strides[i] + 1 - size[i] - pads[i], 0);
  const xs = w.node('Reshape', [toNcdhw(w, x, channelsLast), w.ints([0, groups, cg, ...size])]);
  const grouped = w.node('Reshape', [transpose(w, xs, [2, 1, 0, 3, 4, 5]), w.ints([cg, -1, ...size])]);
  const weights = transpose(w, dy, channelsLast ? [4, 0, 1, 2, 3] : [1, 0, 2, 3, 4]);
  const product = w.node('Conv', [grouped, weights], {
    strides: { ints: [...dilations] },
    dilations: { ints: [...strides] },
    group: { int: groups },
    pads: { ints: [pads[0], pads[1], pads[2], ...SPATIAL.map(far)] },
  });
  const cut = w.node('Slice', [product, w.ints([0, 0, 0]), w.ints(taps), w.ints([2, 3, 4])]);
  return transpose(w, cut, [2, 3, 4, 0, 1], out);
}

// ---- pooling export ------------------------------------------------------------------------------------------------

interface Window {
  readonly filterSize: readonly number[];
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations?: readonly number[];
}

function windowAttrs(window: Window): { [name: string]: OnnxAttr } {
  return {
    kernel_shape: { ints: [...window.filterSize] },
    strides: { ints: [...window.strides] },
    pads: { ints: onnxOrder(window.pads) },
    ...(window.dilations === undefined ? {} : { dilations: { ints: [...window.dilations] } }),
  };
}

const floats = (values: ArrayLike<number>, shape: readonly number[], dtype: DType): NDArray =>
  new NDArray(dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), [...shape], dtype);

function poolRule({ w, node, inputs: [x], out }: RuleArgs): string {
  const attrs = node.attrs as unknown as Window & { countPadding?: boolean };
  const onnxAttrs = windowAttrs(attrs);
  if (node.op === 'avgPool3d' && attrs.countPadding === true) onnxAttrs.count_include_pad = { int: 1 };
  if (node.op === 'avgPool3d' && attrs.dilations !== undefined && w.opset < 19) {
    throw new GraphError(
      `exportOnnx: avgPool3d node '${node.name}' has dilations, which AveragePool takes from opset 19; export with ` +
        '{ opset: 19 } or later',
    );
  }
  const y = w.node(node.op === 'maxPool3d' ? 'MaxPool' : 'AveragePool', [transpose(w, x, TO_NCDHW)], onnxAttrs);
  return transpose(w, y, TO_NDHWC, out);
}

/** MaxPool's Indices over NDHWC x, flattened: the flat NCDHW index of each window's maximum. */
function flatArgmax(w: OnnxWriter, x: string, window: Window): string {
  const values = w.fresh('MaxPool');
  const indices = w.fresh('Indices');
  w.nodes.push({
    opType: 'MaxPool',
    name: values,
    input: [transpose(w, x, TO_NCDHW)],
    output: [values, indices],
    attribute: Object.entries(windowAttrs(window)).map(([name, value]) => attributeProto(name, value)),
  });
  return w.node('Reshape', [indices, w.ints([-1])]);
}

/**
 * maxPool3dGrad(x, dy): dy added at the maxima's positions of a flat NCDHW zero tensor. ONNX Runtime's Indices
 * take the first of equal maxima where lazygrad (as tfjs's maxPool3d) takes the last: with ties the two differ.
 */
function maxPoolGradRule({ w, node, inputs: [x, dy], out }: RuleArgs): string {
  const indices = flatArgmax(w, x, node.attrs as unknown as Window);
  const ncdhw = transpose(w, x, TO_NCDHW);
  const flat = w.node('Reshape', [ncdhw, w.ints([-1])]);
  const zero = { tensor: tensorProto('', floats([0], [1], node.dtype)) };
  const zeros = w.node('ConstantOfShape', [w.shapeOf(flat)], { value: zero });
  const updates = w.node('Reshape', [transpose(w, dy, TO_NCDHW), w.ints([-1])]);
  const sums = w.node('ScatterElements', [zeros, indices, updates], { axis: { int: 0 }, reduction: { string: 'add' } });
  return transpose(w, w.node('Reshape', [sums, w.shapeOf(ncdhw)]), TO_NDHWC, out);
}

/** maxPool3dGradGrad(x, g): g gathered at the maxima's positions (the same caveat on ties). */
function maxPoolGradGradRule({ w, node, inputs: [x, g], out }: RuleArgs): string {
  const window = node.attrs as unknown as Window;
  const indices = flatArgmax(w, x, window);
  const values = w.node('Gather', [w.node('Reshape', [transpose(w, g, TO_NCDHW), w.ints([-1])]), indices]);
  const pooled = w.node('MaxPool', [transpose(w, x, TO_NCDHW)], windowAttrs(window));
  return transpose(w, w.node('Reshape', [values, w.shapeOf(pooled)]), TO_NDHWC, out);
}

/** avgPool3dGrad(dy): dy divided by each window's count, spread by a depthwise ConvTranspose of ones. */
function avgPoolGradRule({ w, node, inputs: [dy], infos: [dyInfo], out }: RuleArgs): string {
  const attrs = node.attrs as unknown as Window & { inputSize: readonly number[]; countPadding?: boolean };
  const [channels] = known(node, [dyInfo.shape[4]], 'its channel count');
  const k = attrs.filterSize;
  const s = attrs.strides;
  const d = attrs.dilations ?? [1, 1, 1];
  const p = attrs.pads;
  const size = attrs.inputSize;
  const span = SPATIAL.map((i) => (k[i] - 1) * d[i] + 1);
  const outSize = SPATIAL.map((i) => Math.floor((size[i] + p[2 * i] + p[2 * i + 1] - span[i]) / s[i]) + 1);
  const taps = (start: number, i: number): number => {
    let n = 0;
    for (let t = 0; t < k[i]; t++) if (start + t * d[i] >= 0 && start + t * d[i] < size[i]) n++;
    return n;
  };
  const counts = new Float64Array(outSize[0] * outSize[1] * outSize[2]);
  let o = 0;
  for (let z = 0; z < outSize[0]; z++) {
    for (let y = 0; y < outSize[1]; y++) {
      for (let x = 0; x < outSize[2]; x++, o++) {
        const voxels = taps(z * s[0] - p[0], 0) * taps(y * s[1] - p[2], 1) * taps(x * s[2] - p[4], 2);
        counts[o] = attrs.countPadding === true ? k[0] * k[1] * k[2] : voxels;
      }
    }
  }
  const countTensor = w.tensor(floats(counts, [1, 1, ...outSize], node.dtype));
  const scaled = w.node('Div', [transpose(w, dy, TO_NCDHW), countTensor]);
  const ones = w.tensor(
    floats(new Float64Array(channels * k[0] * k[1] * k[2]).fill(1), [channels, 1, ...k], node.dtype),
  );
  const spread = w.node('ConvTranspose', [scaled, ones], {
    group: { int: channels },
    kernel_shape: { ints: [...k] },
    strides: { ints: [...s] },
    pads: { ints: onnxOrder(p) },
    dilations: { ints: [...d] },
    output_padding: {
      ints: SPATIAL.map((i) => size[i] + p[2 * i] + p[2 * i + 1] - span[i] - (outSize[i] - 1) * s[i]),
    },
  });
  return transpose(w, spread, TO_NDHWC, out);
}

export const CONV3D_EXPORT_RULES: { readonly [op: string]: (args: RuleArgs) => string } = {
  conv3d: conv3dRule,
  conv3dBackpropInput: backpropInputRule,
  conv3dBackpropFilter: backpropFilterRule,
  maxPool3d: poolRule,
  avgPool3d: poolRule,
  maxPool3dGrad: maxPoolGradRule,
  maxPool3dGradGrad: maxPoolGradGradRule,
  avgPool3dGrad: avgPoolGradRule,
};

// ---- import -------------------------------------------------------------------------------------------------------

/** What the import rules read of import-ops.ts's ImportArgs. */
export interface Conv3DImportArgs {
  readonly attrs: ReadAttrs;
  has(i: number): boolean;
  tensor(i: number): Tensor;
  fail(message: string): GraphError;
}

function triple(a: Conv3DImportArgs, name: string, fallback: number): number[] {
  const values = a.attrs.ints(name, [fallback, fallback, fallback]);
  if (values.length !== 3) throw a.fail(`${name} ${JSON.stringify(values)} must have 3 entries`);
  return values;
}

/** ONNX pads [begin × 3, end × 3] as [front, back, top, bottom, left, right]. */
function padsOf(a: Conv3DImportArgs): number[] {
  const pads = a.attrs.ints('pads', [0, 0, 0, 0, 0, 0]);
  if (pads.length !== 6 || pads.some((p) => p < 0)) {
    throw a.fail(`pads ${JSON.stringify(pads)} must hold 6 non-negative integers`);
  }
  return [pads[0], pads[3], pads[1], pads[4], pads[2], pads[5]];
}

function withBias(a: Conv3DImportArgs, y: Tensor): Tensor {
  return a.has(2) ? ops.add(y, ops.reshape(a.tensor(2), [-1, 1, 1, 1])) : y;
}

function requireRank5(a: Conv3DImportArgs, opType: string, x: Tensor, weights: Tensor): void {
  if (x.rank !== 5 || weights.rank !== 5) {
    throw a.fail(`${opType} over 3-D data needs data and weights of rank 5, got ranks ${x.rank} and ${weights.rank}`);
  }
}

/** Conv over NCDHW data → conv3d (the weights transposed to [kd, kh, kw, C / group, M]) + bias. */
export function importConv3d(a: Conv3DImportArgs): Tensor {
  const x = a.tensor(0);
  const weights = a.tensor(1);
  requireRank5(a, 'Conv', x, weights);
  const strides = triple(a, 'strides', 1);
  const dilations = triple(a, 'dilations', 1);
  const filter = ops.transpose(weights, FROM_OIDHW);
  const group = a.attrs.int('group', 1);
  const autoPad = a.attrs.string('auto_pad', 'NOTSET');
  let padding: { pad: string; pads?: number[] };
  if (autoPad === 'NOTSET') padding = { pad: 'explicit', pads: padsOf(a) };
  else if (autoPad === 'VALID') padding = { pad: 'valid' };
  else if (autoPad === 'SAME_UPPER') padding = { pad: 'same' };
  else if (autoPad === 'SAME_LOWER') {
    const sizes = x.shape.slice(2);
    const taps = filter.shape.slice(0, 3);
    if (sizes.some((d) => d === null) || taps.some((d) => d === null)) {
      throw a.fail('auto_pad SAME_LOWER needs the spatial sizes and the kernel known when importing');
    }
    const axes = SPATIAL.map((i) =>
      ops.axisGeometry(sizes[i] as number, taps[i] as number, strides[i], dilations[i], 'same', 0, 0),
    );
    padding = { pad: 'explicit', pads: axes.flatMap((g) => [g.after, g.before]) };
  } else throw a.fail(`auto_pad '${autoPad}' is not valid`);
  const attrs = { strides, dilations, dataFormat: 'NCDHW', ...padding, ...(group === 1 ? {} : { groups: group }) };
  return withBias(a, ops.apply(ops.CONV3D, [x, filter], attrs));
}

/**
 * ConvTranspose over NCDHW data → conv3dBackpropInput: the output size stride · (in − 1) + output_padding + the
 * effective kernel − pads, or output_shape with the pads it implies; the weights [C, M / group, kd, kh, kw]
 * transposed to [kd, kh, kw, M / group, C].
 */
export function importConvTranspose3d(a: Conv3DImportArgs): Tensor {
  const x = a.tensor(0);
  const weights = a.tensor(1);
  requireRank5(a, 'ConvTranspose', x, weights);
  const strides = triple(a, 'strides', 1);
  const dilations = triple(a, 'dilations', 1);
  const outputPadding = triple(a, 'output_padding', 0);
  const filter = ops.transpose(weights, FROM_OIDHW);
  const group = a.attrs.int('group', 1);
  const [fd, fh, fw, fc] = filter.shape;
  const input = x.shape.slice(2);
  if ([fd, fh, fw, fc, ...input].some((d) => d === null)) {
    throw a.fail('ConvTranspose needs the kernel and the spatial sizes of its input known when importing');
  }
  const taps = [fd, fh, fw] as number[];
  const inSize = input as number[];
  const full = SPATIAL.map((i) => strides[i] * (inSize[i] - 1) + outputPadding[i] + (taps[i] - 1) * dilations[i] + 1);
  const autoPad = a.attrs.string('auto_pad', 'NOTSET');
  let pads: number[];
  let size: number[];
  if (a.attrs.has('output_shape') || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const given = a.attrs.ints('output_shape', []);
    size = given.length > 0 ? given.slice(-3) : inSize.map((d, i) => d * strides[i]);
    const totals = SPATIAL.map((i) => full[i] - size[i]);
    if (totals.some((t) => t < 0)) throw a.fail(`output_shape ${JSON.stringify(given)} is larger than the output`);
    pads = totals.flatMap((t) =>
      autoPad === 'SAME_UPPER'
        ? [Math.floor(t / 2), t - Math.floor(t / 2)]
        : [t - Math.floor(t / 2), Math.floor(t / 2)],
    );
  } else {
    pads = autoPad === 'VALID' ? [0, 0, 0, 0, 0, 0] : padsOf(a);
    size = SPATIAL.map((i) => full[i] - pads[2 * i] - pads[2 * i + 1]);
  }
  const attrs = {
    strides,
    dilations,
    dataFormat: 'NCDHW',
    pad: 'explicit',
    pads,
    ...(group === 1 ? {} : { groups: group }),
    inputShape: [x.shape[0], (fc as number) * group, ...size],
  };
  return withBias(a, ops.apply(ops.CONV3D_BACKPROP_INPUT, [x, filter], attrs));
}

/**
 * A 3-D MaxPool / AveragePool node over NCDHW x as the NDHWC lazygrad op between two transposes, auto_pad and
 * ceil_mode resolved into explicit pads as in 2-D (pool.ts). MaxPool's Indices output is not mapped in 3-D.
 */
export function importPool3d(
  kind: 'max' | 'avg',
  x: Tensor,
  attrs: ReadAttrs,
  outputCount: number,
  fail: (message: string) => GraphError,
): Tensor {
  if (outputCount > 1) throw fail("3-D MaxPool's Indices output is not supported");
  const list = (name: string, fallback: number): number[] => {
    const values = attrs.ints(name, [fallback, fallback, fallback]);
    if (values.length !== 3 || !values.every((v) => Number.isSafeInteger(v) && v > 0)) {
      throw fail(`${name} ${JSON.stringify(values)} must be 3 positive integers`);
    }
    return values;
  };
  const kernel = list('kernel_shape', 0);
  const strides = list('strides', 1);
  const dilations = list('dilations', 1);
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  const given = autoPad === 'NOTSET' ? attrs.ints('pads', [0, 0, 0, 0, 0, 0]) : [0, 0, 0, 0, 0, 0];
  if (given.length !== 6) throw fail(`pads ${JSON.stringify(given)} must have 6 entries`);
  const ceilMode = attrs.int('ceil_mode', 0) === 1;
  const pads: number[] = [];
  let ceil = 0;
  for (const i of SPATIAL) {
    const size = x.shape[2 + i];
    let [begin, end] = [given[i], given[i + 3]];
    const [k, s] = [(kernel[i] - 1) * dilations[i] + 1, strides[i]];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      if (size === null) throw fail(`auto_pad ${autoPad} needs the input's spatial dims known, got [${x.shape}]`);
      // As ONNX Runtime: from the undilated kernel.
      const total = Math.max((Math.ceil(size / s) - 1) * s + kernel[i] - size, 0);
      begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      end = total - begin;
    } else if (autoPad !== 'NOTSET' && autoPad !== 'VALID') {
      throw fail(`auto_pad '${autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
    }
    if (ceilMode) {
      if (size === null) throw fail(`ceil_mode needs the input's spatial dims known, got [${x.shape}]`);
      let out = Math.ceil((size + begin + end - k) / s) + 1;
      if ((out - 1) * s >= size + begin) out--;
      const extra = Math.max((out - 1) * s + k - (size + begin + end), 0);
      end += extra;
      ceil += extra;
    }
    pads.push(begin, end);
  }
  const window = {
    filterSize: kernel,
    strides,
    pads,
    ...(dilations.some((d) => d !== 1) ? { dilations } : {}),
  };
  const ndhwc = ops.transpose(x, TO_NDHWC);
  let y: Tensor;
  if (kind === 'max') {
    y = ops.apply(ops.MAX_POOL3D, [ndhwc], window);
  } else {
    const countPadding = attrs.int('count_include_pad', 0) === 1;
    if (countPadding && ceil > 0) {
      throw fail('count_include_pad=1 together with ceil_mode windows past the padding is not supported');
    }
    y = ops.apply(ops.AVG_POOL3D, [ndhwc], countPadding ? { ...window, countPadding } : window);
  }
  return ops.transpose(y, TO_NCDHW);
}
