/**
 * How the convolution ops become ONNX nodes: conv2d is Conv, conv2dBackpropInput is ConvTranspose, and
 * conv2dBackpropFilter (which ONNX lacks) is a Conv of x over dy with the roles of batch and channels swapped and
 * strides and dilations exchanged. ONNX is NCHW with OIHW filters, so NHWC data and the [fh, fw, inC / groups,
 * outC] filter are transposed around each node. fusedConv2d is a Conv with its bias input and the activation's node. A companion of export-ops.ts, whose table spreads these rules in.
 */
import { GraphError, Node, Shape } from '../../graph';
import {
  attrsOf,
  axisGeometry,
  CONV2D,
  CONV2D_BACKPROP_FILTER,
  CONV2D_BACKPROP_INPUT,
  Conv2DAttrs,
  FUSED_CONV2D,
} from '../../ops';
import { OnnxAttr } from './proto';
import { OnnxWriter } from './writer';

/** What a rule is given (the shape of export-ops.ts's RuleArgs that these rules read). */
interface ConvRuleArgs {
  readonly w: OnnxWriter;
  readonly node: Pick<Node, 'op' | 'attrs' | 'dtype' | 'shape' | 'name'>;
  readonly inputs: readonly string[];
  readonly infos: readonly Pick<Node, 'dtype' | 'shape'>[];
  readonly out: string;
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];
/** [fh, fw, inC / groups, outC] to ONNX's [outC, inC / groups, fh, fw] (and, for ConvTranspose, its [C, M / g…]). */
const TO_OIHW = [3, 2, 0, 1];

function transpose(w: OnnxWriter, x: string, perm: readonly number[], out?: string): string {
  return w.node('Transpose', [x], { perm: { ints: [...perm] } }, out);
}

/** x in NCHW: transposed when the op's data is NHWC. */
function toNchw(w: OnnxWriter, x: string, channelsLast: boolean): string {
  return channelsLast ? transpose(w, x, TO_NCHW) : x;
}

/** [n, h, w, c] of a shape in its data format. */
function nhwc(shape: Shape, channelsLast: boolean): Shape {
  return channelsLast ? shape : [shape[0], shape[2], shape[3], shape[1]];
}

/**
 * The [top, left, bottom, right] ONNX pads of the forward conv over x's [h, w]; null when they need x's dims.
 * 'same' pads of a stride-1 axis do not depend on its size ((k − 1)·d in all), so they are explicit even when the
 * size is unknown.
 */
function onnxPads(attrs: Conv2DAttrs, xhw: Shape, fhw: Shape): number[] | null {
  const pads = attrs.pads ?? [0, 0, 0, 0];
  if (attrs.pad === 'valid') return [0, 0, 0, 0];
  if (attrs.pad === 'explicit') return [pads[0], pads[2], pads[1], pads[3]];
  const sizes = sameSizes(xhw, attrs.strides);
  if (sizes === null || fhw.some((d) => d === null)) return null;
  const axis = (i: number) =>
    axisGeometry(sizes[i], fhw[i] as number, attrs.strides[i], attrs.dilations[i], 'same', 0, 0);
  const [rows, cols] = [axis(0), axis(1)];
  return [rows.before, cols.before, rows.after, cols.after];
}

/**
 * The spatial sizes to compute 'same' pads from: the known ones, and any size for a stride-1 axis (its pads do not
 * depend on it); null when an axis of stride > 1 has an unknown size.
 */
export function sameSizes(sizes: Shape, strides: readonly number[]): number[] | null {
  const out: number[] = [];
  for (let i = 0; i < sizes.length; i++) {
    const d = sizes[i];
    if (d === null && strides[i] !== 1) return null;
    out.push(d ?? 1);
  }
  return out;
}

/**
 * auto_pad SAME_UPPER for a 'same' conv whose pads need sizes unknown at export (the filter's, or the input's
 * along a stride > 1). ONNX Runtime refuses SAME_UPPER with dilations, so a dilated one is a GraphError naming the
 * node (export it with the sizes known).
 */
export function sameUpper(node: { op: string; name: string }, dilations: readonly number[]): { string: string } {
  if (dilations.some((d) => d !== 1)) {
    throw new GraphError(
      `exportOnnx: ${node.op} '${node.name}' has padding 'same' and dilations > 1, and its pads depend on sizes ` +
        `unknown at export time (the filter's, or the input's along a stride > 1); ONNX Runtime's Conv refuses ` +
        `auto_pad SAME_UPPER with dilations, so export it with those sizes known`,
    );
  }
  return { string: 'SAME_UPPER' };
}

function known(node: ConvRuleArgs['node'], shapes: readonly Shape[], what: string): number[][] {
  if (shapes.some((s) => s.some((d) => d === null))) {
    throw new GraphError(
      `exportOnnx: ${node.op} '${node.name}' needs ${what} known at export time, got ` +
        shapes.map((s) => `[${s.map((d) => d ?? '?').join(', ')}]`).join(' and '),
    );
  }
  return shapes as number[][];
}

/** conv2d: Conv, with explicit pads where x's size is known and auto_pad SAME_UPPER (tfjs's 'same') where not. */
function conv2dRule(args: ConvRuleArgs): string {
  return convNode(args, null, null);
}

/** The ONNX op of each fused activation. */
const ACTIVATION_OPS: { readonly [activation: string]: string } = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' };

/** fusedConv2d: Conv with its bias as input B (a [C] vector), then the activation's node. */
function fusedConv2dRule(args: ConvRuleArgs): string {
  const { w, node, inputs, infos } = args;
  const activation = attrsOf(FUSED_CONV2D, node).activation ?? 'none';
  const activationOp = ACTIVATION_OPS[activation];
  if (activationOp === undefined && activation !== 'none') {
    throw new GraphError(`exportOnnx: fusedConv2d '${node.name}' has an unknown activation '${activation}'`);
  }
  const bias = infos[2].shape.length === 1 ? inputs[2] : w.node('Reshape', [inputs[2], w.ints([-1])]);
  return convNode(args, bias, activationOp ?? null);
}

/** Conv over NCHW data (transposed around it for NHWC), with an optional bias and activation node after it. */
function convNode(
  { w, node, inputs: [x, filter], infos: [xi, fi], out }: ConvRuleArgs,
  bias: string | null,
  activationOp: string | null,
): string {
  const attrs: Conv2DAttrs = node.op === 'fusedConv2d' ? attrsOf(FUSED_CONV2D, node) : attrsOf(CONV2D, node);
  const channelsLast = attrs.dataFormat === 'NHWC';
  const [, h, wd] = nhwc(xi.shape, channelsLast);
  const pads = onnxPads(attrs, [h, wd], fi.shape.slice(0, 2));
  const onnxAttrs: { [name: string]: OnnxAttr } = {
    strides: { ints: [...attrs.strides] },
    dilations: { ints: [...attrs.dilations] },
    group: { int: attrs.groups ?? 1 },
    ...(pads === null ? { auto_pad: sameUpper(node, attrs.dilations) } : { pads: { ints: pads } }),
  };
  const weights = transpose(w, filter, TO_OIHW);
  const operands = [toNchw(w, x, channelsLast), weights, ...(bias === null ? [] : [bias])];
  const last = channelsLast ? undefined : out;
  const y = w.node('Conv', operands, onnxAttrs, activationOp === null ? last : undefined);
  const activated = activationOp === null ? y : w.node(activationOp, [y], {}, last);
  return channelsLast ? transpose(w, activated, TO_NHWC, out) : activated;
}

/** conv2dBackpropInput: ConvTranspose with the forward conv's pads and the output_padding that gives x's size. */
function backpropInputRule({ w, node, inputs: [dy, filter], infos: [di, fi], out }: ConvRuleArgs): string {
  const attrs = attrsOf(CONV2D_BACKPROP_INPUT, node);
  const channelsLast = attrs.dataFormat === 'NHWC';
  const [, h, wd] = nhwc(node.shape, channelsLast);
  const [, oh, ow] = nhwc(di.shape, channelsLast);
  const [[xh, xw, fh, fw, inH, inW]] = known(node, [[h, wd, fi.shape[0], fi.shape[1], oh, ow]], 'the spatial sizes');
  const pads = onnxPads(attrs, [xh, xw], [fh, fw]) as number[];
  const extra = (i: number, size: number, f: number, input: number): number =>
    size + pads[i] + pads[i + 2] - ((f - 1) * attrs.dilations[i] + 1) - (input - 1) * attrs.strides[i];
  const onnxAttrs: { [name: string]: OnnxAttr } = {
    strides: { ints: [...attrs.strides] },
    dilations: { ints: [...attrs.dilations] },
    group: { int: attrs.groups ?? 1 },
    pads: { ints: pads },
    output_padding: { ints: [extra(0, xh, fh, inH), extra(1, xw, fw, inW)] },
  };
  const weights = transpose(w, filter, TO_OIHW);
  const y = w.node('ConvTranspose', [toNchw(w, dy, channelsLast), weights], onnxAttrs, channelsLast ? undefined : out);
  return channelsLast ? transpose(w, y, TO_NHWC, out) : y;
}

/**
 * conv2dBackpropFilter: df[kh, kw, c, o] = Σ_n,oh,ow x[n, oh·s + kh·d − top, …, g·cg + c] · dy[n, oh, ow, o] is a
 * grouped Conv whose batch is x's channels within a group, whose channels are (group, n), whose filter is dy
 * ([outC, n, oh, ow]) and whose stride is the dilation and dilation the stride. Its output [cg, outC, kh', kw'] is
 * cut to the filter's size (rows the forward conv never read) and transposed to [kh, kw, cg, outC].
 */
function backpropFilterRule({ w, node, inputs: [x, dy], infos: [xi, di], out }: ConvRuleArgs): string {
  const attrs = attrsOf(CONV2D_BACKPROP_FILTER, node);
  const channelsLast = attrs.dataFormat === 'NHWC';
  const groups = attrs.groups ?? 1;
  const [, h, wd, inC] = nhwc(xi.shape, channelsLast);
  const [, oh, ow] = nhwc(di.shape, channelsLast);
  const [[xh, xw, c, fh, fw, dh, dw]] = known(
    node,
    [[h, wd, inC, node.shape[0], node.shape[1], oh, ow]],
    'the spatial sizes and channels',
  );
  const pads = onnxPads(attrs, [xh, xw], [fh, fw]) as number[];
  const cg = c / groups;
  const { strides, dilations } = attrs;
  // The far pad that makes the output exactly the filter's size, or 0 when the forward conv left rows unread.
  const far = (i: number, size: number, f: number, out: number): number =>
    Math.max((f - 1) * dilations[i] + (out - 1) * strides[i] + 1 - size - pads[i], 0);
  const xs = w.node('Reshape', [toNchw(w, x, channelsLast), w.ints([0, groups, cg, xh, xw])]);
  const grouped = w.node('Reshape', [transpose(w, xs, [2, 1, 0, 3, 4]), w.ints([cg, -1, xh, xw])]);
  const weights = transpose(w, dy, channelsLast ? [3, 0, 1, 2] : [1, 0, 2, 3]);
  const product = w.node('Conv', [grouped, weights], {
    strides: { ints: [...dilations] },
    dilations: { ints: [...strides] },
    group: { int: groups },
    pads: { ints: [pads[0], pads[1], far(0, xh, fh, dh), far(1, xw, fw, dw)] },
  });
  const cut = w.node('Slice', [product, w.ints([0, 0]), w.ints([fh, fw]), w.ints([2, 3])]);
  return transpose(w, cut, [2, 3, 0, 1], out);
}

export const CONV_EXPORT_RULES: { readonly [op: string]: (args: ConvRuleArgs) => string } = {
  conv2d: conv2dRule,
  conv2dBackpropInput: backpropInputRule,
  conv2dBackpropFilter: backpropFilterRule,
  fusedConv2d: fusedConv2dRule,
};
