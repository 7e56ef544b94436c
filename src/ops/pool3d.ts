/**
 * 3-D pooling over NDHWC tensors [batch, depth, height, width, channels]: maxPool3d and avgPool3d with their
 * gradients as ops (maxPool3dGrad, maxPool3dGradGrad, avgPool3dGrad, like TensorFlow's MaxPool3DGrad,
 * MaxPool3DGradGrad and AvgPool3DGrad), so second derivatives through 3-D pooling work. As the 2-D ops (pool.ts) the
 * builders take tfjs's arguments and resolve them into explicit padding [front, back, top, bottom, left, right],
 * which ONNX's pads and ceil_mode map onto too; padding never takes part in a window. Of equal maxima the last in
 * window order gets maxPool3d's gradient, as in tfjs's maxPool3d (2-D pooling gives it to the first, as tfjs's maxPool).
 */
import { Dim, DTypeError, ShapeError, Tensor } from '../graph';
import { argumentError } from './indexing-common';
import {
  avgPool3d as avgPoolKernel,
  avgPool3dGrad as avgPoolGradKernel,
  maxPool3d as maxPoolKernel,
  maxPool3dGrad as maxPoolGradKernel,
  maxPool3dGradGrad as maxPoolGradGradKernel,
} from './kernels/pool3d';
import { expandDims, squeeze, transpose } from './movement';
import { DimRoundingMode } from './pool';
import { apply, defineOp, OpRecord, requireFloat, TensorInfo, VjpResult } from './record';

/** The window of every 3-D pooling op: size, strides and dilations [depth, height, width], padding of 6. */
const WINDOW = { filterSize: 'ints', strides: 'ints', pads: 'ints', dilations: 'ints?' } as const;

type WindowAttrs = {
  readonly filterSize: readonly number[];
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations?: readonly number[];
};

const AXES = ['depth', 'height', 'width'];
const positive = (v: number): boolean => Number.isSafeInteger(v) && v > 0;
const natural = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
const spanOf = (filterSize: readonly number[], dilations: readonly number[] = [1, 1, 1]): number[] =>
  filterSize.map((f, i) => (f - 1) * dilations[i] + 1);

function checkWindow({ filterSize, strides, pads, dilations }: WindowAttrs): void {
  if (filterSize.length !== 3 || !filterSize.every(positive)) {
    throw new ShapeError(
      `filterSize ${JSON.stringify(filterSize)} must be three positive integers [depth, height, width]`,
    );
  }
  if (strides.length !== 3 || !strides.every(positive)) {
    throw new ShapeError(`strides ${JSON.stringify(strides)} must be three positive integers [depth, height, width]`);
  }
  if (pads.length !== 6 || !pads.every(natural)) {
    throw new ShapeError(
      `pads ${JSON.stringify(pads)} must be six non-negative integers [front, back, top, bottom, left, right]`,
    );
  }
  if (dilations !== undefined && (dilations.length !== 3 || !dilations.every(positive))) {
    throw new ShapeError(`dilations ${JSON.stringify(dilations)} must be three positive integers`);
  }
  const span = spanOf(filterSize, dilations);
  if (span.some((s, i) => pads[2 * i] >= s)) {
    throw new ShapeError(
      `the front, top and left padding (${pads[0]}, ${pads[2]}, ${pads[4]}) must be smaller than the window's ` +
        `span ${JSON.stringify(span)}, or the first window would hold padding only`,
    );
  }
}

function pooledDim(axis: string, size: Dim, filter: number, stride: number, before: number, after: number): Dim {
  if (size === null) return null;
  const span = size + before + after - filter;
  if (span < 0) {
    throw new ShapeError(
      `the window's ${axis} span ${filter} is larger than the padded ${axis} ${size + before + after}`,
    );
  }
  const out = Math.floor(span / stride) + 1;
  if ((out - 1) * stride - before >= size) {
    throw new ShapeError(`the last window along the ${axis} holds padding only (padding ${before} + ${after})`);
  }
  return out;
}

/** The pooled NDHWC shape of x, after checking the window. */
function pooledShape(x: TensorInfo, attrs: WindowAttrs): Dim[] {
  if (x.shape.length !== 5) {
    throw new ShapeError(
      `expects an NDHWC input of rank 5 [batch, depth, height, width, channels], got rank ${x.shape.length}`,
    );
  }
  requireFloat(x);
  checkWindow(attrs);
  const span = spanOf(attrs.filterSize, attrs.dilations);
  const { strides: s, pads: p } = attrs;
  const spatial = [0, 1, 2].map((i) => pooledDim(AXES[i], x.shape[i + 1], span[i], s[i], p[2 * i], p[2 * i + 1]));
  return [x.shape[0], ...spatial, x.shape[4]];
}

function fits(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === null || b[i] === null || d === b[i]);
}

function checkPooled(name: string, x: TensorInfo, dy: TensorInfo, attrs: WindowAttrs): void {
  const pooled = pooledShape(x, attrs);
  if (dy.dtype !== x.dtype) throw new DTypeError(`${name} has dtype ${dy.dtype}, but x has ${x.dtype}`);
  if (!fits(pooled, dy.shape)) {
    throw new ShapeError(`${name} ${JSON.stringify(dy.shape)} must have the pooled shape ${JSON.stringify(pooled)}`);
  }
}

/** maxPool3d(x) {filterSize, strides, pads, dilations?}: the maximum of each window. */
export const MAX_POOL3D = defineOp({
  name: 'maxPool3d',
  arity: 1,
  attrs: WINDOW,
  infer: ([x], attrs) => ({ dtype: x.dtype, shape: pooledShape(x, attrs) }),
  kernel: ([x], out, attrs) => maxPoolKernel(x, attrs, out),
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => [apply(MAX_POOL3D_GRAD, [x, dy], attrs)],
  jvp: ({ inputs: [x], tangents: [tx], attrs }): Tensor | null =>
    tx === null ? null : apply(MAX_POOL3D_GRAD_GRAD, [x, tx], attrs),
});

/** maxPool3dGrad(x, dy): dy routed to the position of each window's maximum in x. Linear in dy. */
export const MAX_POOL3D_GRAD = defineOp({
  name: 'maxPool3dGrad',
  arity: 2,
  attrs: WINDOW,
  infer([x, dy], attrs) {
    checkPooled('dy', x, dy, attrs);
    return x;
  },
  kernel: ([x, dy], out, attrs) => maxPoolGradKernel(x, dy, attrs, out),
  vjp: ({ inputs: [x], dy, attrs, needs }): VjpResult => [
    null,
    needs[1] ? apply(MAX_POOL3D_GRAD_GRAD, [x, dy], attrs) : null,
  ],
  jvp: ({ inputs: [x], tangents: [, tdy], attrs }): Tensor | null =>
    tdy === null ? null : apply(MAX_POOL3D_GRAD, [x, tdy], attrs),
});

/** maxPool3dGradGrad(x, g): g (x's shape) read at the position of each window's maximum, the pooled shape. */
export const MAX_POOL3D_GRAD_GRAD = defineOp({
  name: 'maxPool3dGradGrad',
  arity: 2,
  attrs: WINDOW,
  infer([x, g], attrs) {
    const shape = pooledShape(x, attrs);
    if (g.dtype !== x.dtype) throw new DTypeError(`g has dtype ${g.dtype}, but x has ${x.dtype}`);
    if (!fits(x.shape, g.shape)) {
      throw new ShapeError(`g ${JSON.stringify(g.shape)} must have x's shape ${JSON.stringify(x.shape)}`);
    }
    return { dtype: x.dtype, shape };
  },
  kernel: ([x, g], out, attrs) => maxPoolGradGradKernel(x, g, attrs, out),
  vjp: ({ inputs: [x], dy, attrs, needs }): VjpResult => [
    null,
    needs[1] ? apply(MAX_POOL3D_GRAD, [x, dy], attrs) : null,
  ],
  jvp: ({ inputs: [x], tangents: [, tg], attrs }): Tensor | null =>
    tg === null ? null : apply(MAX_POOL3D_GRAD_GRAD, [x, tg], attrs),
});

/** avgPool3d(x) {filterSize, strides, pads, dilations?, countPadding?}: the mean of each window's input voxels. */
export const AVG_POOL3D = defineOp({
  name: 'avgPool3d',
  arity: 1,
  attrs: { ...WINDOW, countPadding: 'bool?' },
  infer: ([x], attrs) => ({ dtype: x.dtype, shape: pooledShape(x, attrs) }),
  kernel: ([x], out, attrs) => avgPoolKernel(x, attrs, attrs.countPadding === true, out),
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => {
    const size = x.shape.slice(1, 4);
    if (size.some((d) => d === null)) {
      throw new ShapeError(
        `the gradient of avgPool3d needs x's depth, height and width, got ${JSON.stringify(x.shape)}`,
      );
    }
    return [apply(AVG_POOL3D_GRAD, [dy], { ...attrs, inputSize: size as number[] })];
  },
  jvp: ({ tangents: [tx], attrs }): Tensor | null => (tx === null ? null : apply(AVG_POOL3D, [tx], attrs)),
});

/** avgPool3dGrad(dy) {inputSize: [depth, height, width], …}: each dy spread evenly over its window's voxels. */
export const AVG_POOL3D_GRAD = defineOp({
  name: 'avgPool3dGrad',
  arity: 1,
  attrs: { ...WINDOW, inputSize: 'ints', countPadding: 'bool?' },
  infer([dy], attrs) {
    const { inputSize } = attrs;
    if (inputSize.length !== 3 || !inputSize.every(natural)) {
      throw new ShapeError(`inputSize ${JSON.stringify(inputSize)} must be three non-negative integers`);
    }
    if (dy.shape.length !== 5) throw new ShapeError(`dy must have rank 5 (NDHWC), got rank ${dy.shape.length}`);
    const shape = [dy.shape[0], ...inputSize, dy.shape[4]];
    checkPooled('dy', { dtype: dy.dtype, shape }, dy, attrs);
    return { dtype: dy.dtype, shape };
  },
  kernel: ([dy], out, attrs) => avgPoolGradKernel(dy, attrs, attrs.countPadding === true, out),
  vjp: ({ dy, attrs: { filterSize, strides, pads, dilations, countPadding } }): VjpResult => [
    apply(AVG_POOL3D, [dy], {
      filterSize,
      strides,
      pads,
      ...(dilations === undefined ? {} : { dilations }),
      ...(countPadding === undefined ? {} : { countPadding }),
    }),
  ],
  jvp: ({ tangents: [tdy], attrs }): Tensor | null => (tdy === null ? null : apply(AVG_POOL3D_GRAD, [tdy], attrs)),
});

export const POOL3D_OPS: readonly OpRecord[] = [
  MAX_POOL3D,
  MAX_POOL3D_GRAD,
  MAX_POOL3D_GRAD_GRAD,
  AVG_POOL3D,
  AVG_POOL3D_GRAD,
];

// ---- builders (tfjs names and argument order) ------------------------------------------------------------------

type Triple = number | readonly [number, number, number];
const triple = (v: Triple): [number, number, number] => (typeof v === 'number' ? [v, v, v] : [v[0], v[1], v[2]]);

/** The explicit padding [front, back, top, bottom, left, right] of tfjs's padding argument for NDHWC x. */
function resolvePads(
  op: string,
  x: Tensor,
  filterSize: readonly number[],
  strides: readonly number[],
  pad: 'valid' | 'same' | number,
  rounding: DimRoundingMode | undefined,
): number[] {
  if (rounding !== undefined && typeof pad !== 'number') {
    throw argumentError(op, [x], `dimRoundingMode '${rounding}' needs a number padding, got ${JSON.stringify(pad)}`);
  }
  if (pad === 'valid') return [0, 0, 0, 0, 0, 0];
  if (pad !== 'same' && (typeof pad !== 'number' || !Number.isSafeInteger(pad) || pad < 0)) {
    throw argumentError(op, [x], `pad ${JSON.stringify(pad)} is not 'valid', 'same' or an integer >= 0`);
  }
  const sizes = x.shape.slice(1, 4);
  if (sizes.some((d) => d === null)) {
    throw argumentError(op, [x], `padding ${JSON.stringify(pad)} needs x's depth, height and width to be known`);
  }
  return (sizes as number[]).flatMap((size, i) => {
    const [f, s] = [filterSize[i], strides[i]];
    if (pad === 'same') {
      const total = Math.max((Math.ceil(size / s) - 1) * s + f - size, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    }
    const exact = (size - f + 2 * pad) / s + 1;
    const out = rounding === undefined ? Math.trunc(exact) : Math[rounding](exact);
    return [pad, Math.max((out - 1) * s + f - size - pad, 0)];
  });
}

/** Pools NDHWC (or NCDHW, transposed around the op) x of rank 5, or rank 4 as a batch of one. */
function pooled3d(
  op: string,
  record: OpRecord,
  x: Tensor,
  filterSize: Triple,
  strides: Triple,
  pad: 'valid' | 'same' | number,
  rounding: DimRoundingMode | undefined,
  dataFormat: 'NDHWC' | 'NCDHW',
): Tensor {
  if (dataFormat !== 'NDHWC' && dataFormat !== 'NCDHW') {
    throw argumentError(op, [x], `dataFormat '${String(dataFormat)}' is not 'NDHWC' or 'NCDHW'`);
  }
  if (x.rank === 4)
    return squeeze(pooled3d(op, record, expandDims(x, 0), filterSize, strides, pad, rounding, dataFormat), [0]);
  if (x.rank !== 5) throw argumentError(op, [x], `x must have rank 5 (or 4), got rank ${x.rank}`);
  const channelsFirst = dataFormat === 'NCDHW';
  const x5 = channelsFirst ? transpose(x, [0, 2, 3, 4, 1]) : x;
  const f = triple(filterSize);
  const s = triple(strides);
  const y = apply(record, [x5], { filterSize: f, strides: s, pads: resolvePads(op, x5, f, s, pad, rounding) });
  return channelsFirst ? transpose(y, [0, 4, 1, 2, 3]) : y;
}

/**
 * 3-D max pooling, as tfjs's maxPool3d: x [batch, depth, height, width, channels] (or rank 4), windows of
 * `filterSize` moved by `strides`; pad 'valid', 'same' or a number for every side (the pooled size rounded by
 * `dimRoundingMode`, default truncation). dataFormat 'NCDHW' (beyond tfjs) transposes around the NDHWC op.
 * @example maxPool3d(x, 2, 2, 'valid') // [1, 4, 4, 4, 3] -> [1, 2, 2, 2, 3]
 */
export function maxPool3d(
  x: Tensor,
  filterSize: Triple,
  strides: Triple,
  pad: 'valid' | 'same' | number,
  dimRoundingMode?: DimRoundingMode,
  dataFormat: 'NDHWC' | 'NCDHW' = 'NDHWC',
): Tensor {
  return pooled3d('maxPool3d', MAX_POOL3D, x, filterSize, strides, pad, dimRoundingMode, dataFormat);
}

/**
 * 3-D average pooling, as tfjs's avgPool3d, with maxPool3d's arguments; padding is left out of each count.
 * @example avgPool3d(x, 3, 1, 'same') // [1, 4, 4, 4, 3] -> [1, 4, 4, 4, 3]
 */
export function avgPool3d(
  x: Tensor,
  filterSize: Triple,
  strides: Triple,
  pad: 'valid' | 'same' | number,
  dimRoundingMode?: DimRoundingMode,
  dataFormat: 'NDHWC' | 'NCDHW' = 'NDHWC',
): Tensor {
  return pooled3d('avgPool3d', AVG_POOL3D, x, filterSize, strides, pad, dimRoundingMode, dataFormat);
}
