/**
 * How ONNX Conv and ConvTranspose become the conv2d ops: NCHW data, OIHW weights transposed to [kh, kw, C / group,
 * M] (folded when the weights are initializers), pads / auto_pad / strides / dilations / group as conv2d's attrs,
 * the optional bias added per channel. 1-D convolutions (rank-3 data) run as 2-D ones over a height of 1; 3-D ones
 * (rank 5) go to conv3d.ts. A companion of import-ops.ts, whose table names these rules.
 */
import { GraphError, Tensor } from '../../graph';
import * as ops from '../../ops';
import { ReadAttrs } from './proto';
import { importConv3d, importConvTranspose3d } from './conv3d';

/** What these rules read of import-ops.ts's ImportArgs. */
interface ConvImportArgs {
  readonly attrs: ReadAttrs;
  has(i: number): boolean;
  tensor(i: number): Tensor;
  fail(message: string): GraphError;
}

/** The 2-D view of a 1-D or 2-D ONNX convolution: its inputs made rank 4 and a function undoing that on the output. */
function as2d(a: ConvImportArgs, opType: string): { x: Tensor; weights: Tensor; back: (y: Tensor) => Tensor } {
  const x = a.tensor(0);
  const weights = a.tensor(1);
  if (x.rank === 4 && weights.rank === 4) return { x, weights, back: (y) => y };
  if (x.rank === 3 && weights.rank === 3) {
    return { x: ops.expandDims(x, 2), weights: ops.expandDims(weights, 2), back: (y) => ops.squeeze(y, [2]) };
  }
  throw a.fail(`${opType} needs data and weights of rank 3 or 4 (1-D or 2-D), got ranks ${x.rank} and ${weights.rank}`);
}

/** A per-spatial-dim attribute as the 2-D [h, w] pair (a 1-D conv's height is 1, with stride and dilation 1). */
function pair(a: ConvImportArgs, name: string, rank: number, fallback: number): [number, number] {
  const spatial = rank - 2;
  const values = a.attrs.ints(
    name,
    Array.from({ length: spatial }, () => fallback),
  );
  if (values.length !== spatial) throw a.fail(`${name} ${JSON.stringify(values)} must have ${spatial} entries`);
  return spatial === 1 ? [fallback, values[0]] : [values[0], values[1]];
}

/** ONNX pads [x1_begin, x2_begin, x1_end, x2_end] (or 1-D [begin, end]) as [top, bottom, left, right]. */
function padsOf(a: ConvImportArgs, rank: number): number[] {
  const pads = a.attrs.ints(
    'pads',
    Array.from({ length: 2 * (rank - 2) }, () => 0),
  );
  if (pads.length !== 2 * (rank - 2) || pads.some((p) => p < 0)) {
    throw a.fail(`pads ${JSON.stringify(pads)} must hold ${2 * (rank - 2)} non-negative integers`);
  }
  return rank === 3 ? [0, 0, pads[0], pads[1]] : [pads[0], pads[2], pads[1], pads[3]];
}

/** The padding attrs of a Conv: explicit pads, or auto_pad SAME_UPPER ('same'), VALID, or SAME_LOWER (resolved). */
function convPadding(
  a: ConvImportArgs,
  x: Tensor,
  kernel: readonly (number | null)[],
  rank: number,
  strides: number[],
  dilations: number[],
): { pad: string; pads?: number[] } {
  const autoPad = a.attrs.string('auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') return { pad: 'explicit', pads: padsOf(a, rank) };
  if (autoPad === 'VALID') return { pad: 'valid' };
  if (autoPad === 'SAME_UPPER') return { pad: 'same' };
  if (autoPad !== 'SAME_LOWER') throw a.fail(`auto_pad '${autoPad}' is not valid`);
  // SAME_LOWER puts the odd pad before: the 'same' total, split the other way, needs the sizes now.
  const sizes = [x.shape[2], x.shape[3]];
  if (sizes.some((d) => d === null) || kernel.some((d) => d === null)) {
    throw a.fail('auto_pad SAME_LOWER needs the spatial sizes and the kernel known when importing');
  }
  const [rows, cols] = [0, 1].map((i) =>
    ops.axisGeometry(sizes[i] as number, kernel[i] as number, strides[i], dilations[i], 'same', 0, 0),
  );
  return { pad: 'explicit', pads: [rows.after, rows.before, cols.after, cols.before] };
}

/** The bias input (2 of Conv and ConvTranspose), added per channel of the NCHW output. */
function withBias(a: ConvImportArgs, y: Tensor): Tensor {
  if (!a.has(2)) return y;
  const bias = a.tensor(2);
  return ops.add(y, ops.reshape(bias, [-1, ...Array.from({ length: y.rank - 2 }, () => 1)]));
}

/** Conv → conv2d (NCHW, the weights transposed to [kh, kw, C / group, M]) + bias. */
export const convRule = (a: ConvImportArgs): Tensor => {
  const rank = a.tensor(0).rank;
  if (rank === 5) return importConv3d(a);
  const { x, weights, back } = as2d(a, 'Conv');
  const strides = pair(a, 'strides', rank, 1);
  const dilations = pair(a, 'dilations', rank, 1);
  const filter = ops.transpose(weights, [2, 3, 1, 0]);
  const padding = convPadding(a, x, filter.shape.slice(0, 2), rank, strides, dilations);
  const group = a.attrs.int('group', 1);
  const attrs = { strides, dilations, dataFormat: 'NCHW', ...padding, ...(group === 1 ? {} : { groups: group }) };
  return withBias(a, back(ops.apply(ops.CONV2D, [x, filter], attrs)));
};

/**
 * ConvTranspose → conv2dBackpropInput: the output size is stride · (in − 1) + output_padding + the effective kernel
 * − pads, or output_shape with the pads it implies (the odd one after for SAME_UPPER, before otherwise); the
 * weights [C, M / group, kh, kw] transposed to [kh, kw, M / group, C].
 */
export const convTransposeRule = (a: ConvImportArgs): Tensor => {
  const rank = a.tensor(0).rank;
  if (rank === 5) return importConvTranspose3d(a);
  const { x, weights, back } = as2d(a, 'ConvTranspose');
  const strides = pair(a, 'strides', rank, 1);
  const dilations = pair(a, 'dilations', rank, 1);
  const outputPadding = pair(a, 'output_padding', rank, 0);
  const filter = ops.transpose(weights, [2, 3, 1, 0]);
  const group = a.attrs.int('group', 1);
  const [fh, fw, fc] = filter.shape;
  const [n, , inH, inW] = x.shape;
  if (fh === null || fw === null || fc === null)
    throw a.fail('ConvTranspose needs the kernel size known when importing');
  if (inH === null || inW === null)
    return runTimeConvTranspose(a, x, filter, back, { strides, dilations, group, rank });
  const input = [inH, inW];
  const effective = [(fh - 1) * dilations[0] + 1, (fw - 1) * dilations[1] + 1];
  const full = [0, 1].map((i) => strides[i] * (input[i] - 1) + outputPadding[i] + effective[i]);
  const autoPad = a.attrs.string('auto_pad', 'NOTSET');
  let pads: number[];
  let size: number[];
  if (a.attrs.has('output_shape') || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const given = a.attrs.ints('output_shape', []);
    size = given.length > 0 ? given.slice(-(rank - 2)) : input.map((d, i) => d * strides[i]);
    if (rank === 3) size = [1, size[0]];
    const totals = [0, 1].map((i) => full[i] - size[i]);
    if (totals.some((t) => t < 0)) throw a.fail(`output_shape ${JSON.stringify(given)} is larger than the output`);
    const split = (t: number): [number, number] =>
      autoPad === 'SAME_UPPER'
        ? [Math.floor(t / 2), t - Math.floor(t / 2)]
        : [t - Math.floor(t / 2), Math.floor(t / 2)];
    pads = [...split(totals[0]), ...split(totals[1])];
  } else {
    pads = autoPad === 'VALID' ? [0, 0, 0, 0] : padsOf(a, rank);
    size = [full[0] - pads[0] - pads[1], full[1] - pads[2] - pads[3]];
  }
  const attrs = {
    strides,
    dilations,
    dataFormat: 'NCHW',
    pad: 'explicit',
    pads,
    ...(group === 1 ? {} : { groups: group }),
    inputShape: [n, fc * group, size[0], size[1]],
  };
  return withBias(a, back(ops.apply(ops.CONV2D_BACKPROP_INPUT, [x, filter], attrs)));
};

/**
 * ConvTranspose of an input whose spatial sizes are known only at run time, with explicit pads: each output size is
 * stride · in + c (c = output_padding + effective kernel − pads − stride, which must be ≥ 0). conv2dBackpropInput
 * reads the sizes it leaves unknown from a shape source of that shape: one channel of x tiled by the strides, padded
 * by c (1 / channels of the output's size).
 */
function runTimeConvTranspose(
  a: ConvImportArgs,
  x: Tensor,
  filter: Tensor,
  back: (y: Tensor) => Tensor,
  { strides, dilations, group, rank }: { strides: number[]; dilations: number[]; group: number; rank: number },
): Tensor {
  const autoPad = a.attrs.string('auto_pad', 'NOTSET');
  if (a.attrs.has('output_shape') || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    throw a.fail('ConvTranspose with output_shape or SAME padding needs the spatial sizes of its input known');
  }
  const [fh, fw, fc] = filter.shape as number[];
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : padsOf(a, rank);
  const outputPadding = pair(a, 'output_padding', rank, 0);
  const effective = [(fh - 1) * dilations[0] + 1, (fw - 1) * dilations[1] + 1];
  const extra = [0, 1].map((i) => outputPadding[i] + effective[i] - pads[2 * i] - pads[2 * i + 1] - strides[i]);
  if (extra.some((c) => c < 0)) {
    throw a.fail(
      'ConvTranspose whose output is smaller than stride · input (pads beyond the kernel) needs the spatial sizes ' +
        'of its input known',
    );
  }
  const channel = ops.slice(x, [0, 0, 0, 0], [-1, 1, -1, -1]);
  const tiled = ops.tile(channel, [1, 1, strides[0], strides[1]]);
  const like = extra.every((c) => c === 0)
    ? tiled
    : ops.pad(tiled, [
        [0, 0],
        [0, 0],
        [0, extra[0]],
        [0, extra[1]],
      ]);
  const size = like.shape.slice(2);
  const attrs = {
    strides,
    dilations,
    dataFormat: 'NCHW',
    pad: 'explicit',
    pads,
    ...(group === 1 ? {} : { groups: group }),
    inputShape: [x.shape[0], fc * group, size[0], size[1]],
  };
  return withBias(a, back(ops.apply(ops.CONV2D_BACKPROP_INPUT, [x, filter, like], attrs)));
}
