/**
 * 2-D pooling over NHWC tensors [batch, height, width, channels]: maxPool and avgPool with their gradients as ops
 * (maxPoolGrad, maxPoolGradGrad and avgPoolGrad, like TensorFlow's MaxPoolGrad, MaxPoolGradGrad and AvgPoolGrad),
 * so second derivatives through pooling work; and global pooling as composites over max and mean.
 *
 * The builders take tfjs's arguments ('same' | 'valid' | a number | explicit padding, dimRoundingMode) and resolve
 * them into explicit [top, bottom, left, right] padding, so every node (and ONNX, with its asymmetric pads and
 * ceil_mode) shares one form. Padding never takes part in a window: -Infinity for max, left out of the average's
 * count (TensorFlow); the first of equal maxima in a window gets the gradient (TensorFlow and tfjs).
 */
import { Dim, DTypeError, ShapeError, Tensor } from '../graph';
import { argumentError } from './indexing-common';
import {
  avgPool as avgPoolKernel,
  avgPoolGrad as avgPoolGradKernel,
  maxPool as maxPoolKernel,
  maxPoolArgmax as maxPoolArgmaxKernel,
  maxPoolGrad as maxPoolGradKernel,
  maxPoolGradGrad as maxPoolGradGradKernel,
} from './kernels';
import { expandDims, squeeze } from './movement';
import { apply, defineOp, OpRecord, requireFloat, TensorInfo, VjpResult } from './record';
import { max, mean } from './reduce';

/**
 * The window of every pooling op: its size, strides, explicit padding [top, bottom, left, right] and dilations
 * (absent: [1, 1]; a dilated window reads every dilations-th pixel over (filterSize − 1)·dilations + 1 of them).
 */
const WINDOW = { filterSize: 'ints', strides: 'ints', pads: 'ints', dilations: 'ints?' } as const;

type WindowAttrs = {
  readonly filterSize: readonly number[];
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations?: readonly number[];
};

/** The span of a window along each spatial dim: (filterSize − 1)·dilation + 1. */
const spanOf = (filterSize: readonly number[], dilations: readonly number[] = [1, 1]): number[] =>
  filterSize.map((f, i) => (f - 1) * dilations[i] + 1);

const positive = (v: number): boolean => Number.isSafeInteger(v) && v > 0;
const natural = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/** Checks the window attrs; a ShapeError says which is wrong and what is valid. */
function checkWindow({ filterSize, strides, pads, dilations }: WindowAttrs): void {
  if (filterSize.length !== 2 || !filterSize.every(positive)) {
    throw new ShapeError(`filterSize ${JSON.stringify(filterSize)} must be two positive integers [height, width]`);
  }
  if (strides.length !== 2 || !strides.every(positive)) {
    throw new ShapeError(`strides ${JSON.stringify(strides)} must be two positive integers [height, width]`);
  }
  if (pads.length !== 4 || !pads.every(natural)) {
    throw new ShapeError(`pads ${JSON.stringify(pads)} must be four non-negative integers [top, bottom, left, right]`);
  }
  if (dilations !== undefined && (dilations.length !== 2 || !dilations.every(positive))) {
    throw new ShapeError(`dilations ${JSON.stringify(dilations)} must be two positive integers [height, width]`);
  }
  const span = spanOf(filterSize, dilations);
  if (pads[0] >= span[0] || pads[2] >= span[1]) {
    throw new ShapeError(
      `the top and left padding (${pads[0]}, ${pads[2]}) must be smaller than the window's span ` +
        `${JSON.stringify(span)}, or the first window would hold padding only`,
    );
  }
}

/** The pooled size of one spatial dim, or a ShapeError when the window does not fit or a window is padding only. */
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

/** The pooled shape [batch, rows, cols, channels] of an NHWC shape, after checking the window. */
function pooledShape(x: TensorInfo, attrs: WindowAttrs): Dim[] {
  if (x.shape.length !== 4) {
    throw new ShapeError(
      `expects an NHWC input of rank 4 [batch, height, width, channels], got rank ${x.shape.length}`,
    );
  }
  requireFloat(x);
  checkWindow(attrs);
  const { strides: s, pads: p } = attrs;
  const f = spanOf(attrs.filterSize, attrs.dilations);
  const [batch, height, width, channels] = x.shape;
  return [
    batch,
    pooledDim('height', height, f[0], s[0], p[0], p[1]),
    pooledDim('width', width, f[1], s[1], p[2], p[3]),
    channels,
  ];
}

/** Checks that dy has the pooled shape of x (where both are known) and x's dtype. */
function checkPooled(name: string, x: TensorInfo, dy: TensorInfo, attrs: WindowAttrs): void {
  const pooled = pooledShape(x, attrs);
  if (dy.dtype !== x.dtype) throw new DTypeError(`${name} has dtype ${dy.dtype}, but x has ${x.dtype}`);
  const fits = dy.shape.length === 4 && pooled.every((d, i) => d === null || dy.shape[i] === null || d === dy.shape[i]);
  if (!fits) {
    throw new ShapeError(`${name} ${JSON.stringify(dy.shape)} must have the pooled shape ${JSON.stringify(pooled)}`);
  }
}

/** maxPool(x) {filterSize, strides, pads}: the maximum of each window. */
export const MAX_POOL = defineOp({
  name: 'maxPool',
  arity: 1,
  attrs: WINDOW,
  infer: ([x], attrs) => ({ dtype: x.dtype, shape: pooledShape(x, attrs) }),
  kernel: ([x], out, attrs) => maxPoolKernel(x, attrs, out),
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => [apply(MAX_POOL_GRAD, [x, dy], attrs)],
  // Almost everywhere the output is x at fixed positions, so its tangent is the tangent at those positions.
  jvp: ({ inputs: [x], tangents: [tx], attrs }): Tensor | null =>
    tx === null ? null : apply(MAX_POOL_GRAD_GRAD, [x, tx], attrs),
});

/**
 * maxPoolGrad(x, dy) {filterSize, strides, pads}: dy routed to the position of each window's maximum in x (the
 * gradient of maxPool). Linear in dy; piecewise constant in x, whose gradient is zero.
 */
export const MAX_POOL_GRAD = defineOp({
  name: 'maxPoolGrad',
  arity: 2,
  attrs: WINDOW,
  infer([x, dy], attrs) {
    checkPooled('dy', x, dy, attrs);
    return x;
  },
  kernel: ([x, dy], out, attrs) => maxPoolGradKernel(x, dy, attrs, out),
  vjp: ({ inputs: [x], dy, attrs, needs }): VjpResult => [
    null,
    needs[1] ? apply(MAX_POOL_GRAD_GRAD, [x, dy], attrs) : null,
  ],
  jvp: ({ inputs: [x], tangents: [, tdy], attrs }): Tensor | null =>
    tdy === null ? null : apply(MAX_POOL_GRAD, [x, tdy], attrs),
});

/**
 * maxPoolGradGrad(x, g) {filterSize, strides, pads}: g (x's shape) read at the position of each window's maximum
 * in x, the pooled shape (the gradient of maxPoolGrad with respect to dy). maxPoolGradGrad(x, x) = maxPool(x).
 */
export const MAX_POOL_GRAD_GRAD = defineOp({
  name: 'maxPoolGradGrad',
  arity: 2,
  attrs: WINDOW,
  infer([x, g], attrs) {
    const shape = pooledShape(x, attrs);
    if (g.dtype !== x.dtype) throw new DTypeError(`g has dtype ${g.dtype}, but x has ${x.dtype}`);
    const fits = g.shape.length === 4 && x.shape.every((d, i) => d === null || g.shape[i] === null || d === g.shape[i]);
    if (!fits) throw new ShapeError(`g ${JSON.stringify(g.shape)} must have x's shape ${JSON.stringify(x.shape)}`);
    return { dtype: x.dtype, shape };
  },
  kernel: ([x, g], out, attrs) => maxPoolGradGradKernel(x, g, attrs, out),
  vjp: ({ inputs: [x], dy, attrs, needs }): VjpResult => [null, needs[1] ? apply(MAX_POOL_GRAD, [x, dy], attrs) : null],
  jvp: ({ inputs: [x], tangents: [, tg], attrs }): Tensor | null =>
    tg === null ? null : apply(MAX_POOL_GRAD_GRAD, [x, tg], attrs),
});

/** avgPool(x) {filterSize, strides, pads, countPadding?}: the mean of each window (over its input pixels). */
export const AVG_POOL = defineOp({
  name: 'avgPool',
  arity: 1,
  attrs: { ...WINDOW, countPadding: 'bool?' },
  infer: ([x], attrs) => ({ dtype: x.dtype, shape: pooledShape(x, attrs) }),
  kernel: ([x], out, attrs) => avgPoolKernel(x, attrs, attrs.countPadding === true, out),
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => {
    const [, height, width] = x.shape;
    if (height === null || width === null) {
      throw new ShapeError(`the gradient of avgPool needs x's height and width, got ${JSON.stringify(x.shape)}`);
    }
    return [apply(AVG_POOL_GRAD, [dy], { ...attrs, inputSize: [height, width] })];
  },
  jvp: ({ tangents: [tx], attrs }): Tensor | null => (tx === null ? null : apply(AVG_POOL, [tx], attrs)),
});

/**
 * avgPoolGrad(dy) {inputSize: [height, width], filterSize, strides, pads, countPadding?}: each dy spread evenly over
 * its window (the gradient of avgPool, the transpose of that linear map), of shape [batch, height, width, channels].
 */
export const AVG_POOL_GRAD = defineOp({
  name: 'avgPoolGrad',
  arity: 1,
  attrs: { ...WINDOW, inputSize: 'ints', countPadding: 'bool?' },
  infer([dy], attrs) {
    const { inputSize } = attrs;
    if (inputSize.length !== 2 || !inputSize.every(natural)) {
      throw new ShapeError(`inputSize ${JSON.stringify(inputSize)} must be two non-negative integers [height, width]`);
    }
    const [batch, , , channels] = dy.shape;
    const shape = [batch, inputSize[0], inputSize[1], channels];
    checkPooled('dy', { dtype: dy.dtype, shape }, dy, attrs);
    return { dtype: dy.dtype, shape };
  },
  kernel: ([dy], out, attrs) => avgPoolGradKernel(dy, attrs, attrs.countPadding === true, out),
  vjp: ({ dy, attrs: { filterSize, strides, pads, dilations, countPadding } }): VjpResult => [
    apply(AVG_POOL, [dy], {
      filterSize,
      strides,
      pads,
      ...(dilations === undefined ? {} : { dilations }),
      ...(countPadding === undefined ? {} : { countPadding }),
    }),
  ],
  jvp: ({ tangents: [tdy], attrs }): Tensor | null => (tdy === null ? null : apply(AVG_POOL_GRAD, [tdy], attrs)),
});

/**
 * maxPoolArgmax(x) {filterSize, strides, pads, includeBatchInIndex?}: int32, the flat NHWC index of each window's
 * maximum (the first of equal maxima), ((b·height + y)·width + x)·channels + c, the b term only with
 * includeBatchInIndex: the indexes of tfjs's maxPoolWithArgmax. An index has no gradient.
 */
export const MAX_POOL_ARGMAX = defineOp({
  name: 'maxPoolArgmax',
  arity: 1,
  attrs: { ...WINDOW, includeBatchInIndex: 'bool?' },
  infer: ([x], attrs) => ({ dtype: 'int32', shape: pooledShape(x, attrs) }),
  kernel: ([x], out, attrs) => maxPoolArgmaxKernel(x, attrs, attrs.includeBatchInIndex === true, out),
});

export const POOL_OPS: readonly OpRecord[] = [
  MAX_POOL,
  MAX_POOL_GRAD,
  MAX_POOL_GRAD_GRAD,
  AVG_POOL,
  AVG_POOL_GRAD,
  MAX_POOL_ARGMAX,
];

/** tfjs's padding argument: a mode, one number for every side, or [[0, 0], [top, bottom], [left, right], [0, 0]]. */
export type PoolPadding = 'valid' | 'same' | number | readonly (readonly [number, number])[];

/** How tfjs rounds the pooled size when the padding is a number. */
export type DimRoundingMode = 'floor' | 'round' | 'ceil';

const pair = (v: number | readonly [number, number] | readonly number[]): [number, number] =>
  typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** The explicit padding [top, bottom, left, right] of tfjs's padding argument for an NHWC input. */
function resolvePads(
  op: string,
  x: Tensor,
  filterSize: readonly number[],
  strides: readonly number[],
  pad: PoolPadding,
  rounding: DimRoundingMode | undefined,
): number[] {
  if (rounding !== undefined && typeof pad !== 'number') {
    throw argumentError(op, [x], `dimRoundingMode '${rounding}' needs a number padding, got ${JSON.stringify(pad)}`);
  }
  if (pad === 'valid') return [0, 0, 0, 0];
  if (typeof pad !== 'number' && pad !== 'same') {
    const sides = pad;
    const flat = sides.flat();
    if (sides.length !== 4 || flat.length !== 8 || flat[0] + flat[1] + flat[6] + flat[7] !== 0) {
      throw argumentError(
        op,
        [x],
        `explicit padding ${JSON.stringify(pad)} must be [[0, 0], [top, bottom], [left, right], [0, 0]]`,
      );
    }
    return [flat[2], flat[3], flat[4], flat[5]];
  }
  const sizes = [x.shape[1], x.shape[2]];
  if (sizes.some((d) => d === null)) {
    throw argumentError(op, [x], `padding ${JSON.stringify(pad)} needs x's height and width to be known`);
  }
  const amount = pad;
  const pads: number[] = [];
  sizes.forEach((d, i) => {
    const size = d as number;
    const [f, s] = [filterSize[i], strides[i]];
    if (amount === 'same') {
      const total = Math.max((Math.ceil(size / s) - 1) * s + f - size, 0);
      pads.push(Math.floor(total / 2), total - Math.floor(total / 2));
      return;
    }
    const exact = (size - f + 2 * amount) / s + 1;
    const out = rounding === undefined ? Math.trunc(exact) : Math[rounding](exact);
    // Where tfjs's rounding stops short of the padded end, the end padding shrinks (never below zero): the pooled
    // size of the explicit form is then the same.
    pads.push(amount, Math.max((out - 1) * s + f - size - amount, 0));
  });
  return pads;
}

/** Resolves tfjs's pooling arguments into a node's window attrs; x may be rank 3 (one image) or 4. */
function windowOf(
  op: string,
  x: Tensor,
  filterSize: number | readonly [number, number],
  strides: number | readonly [number, number],
  pad: PoolPadding,
  rounding?: DimRoundingMode,
  dilations: number | readonly [number, number] = 1,
): WindowAttrs {
  if (x.rank !== 4) throw argumentError(op, [x], `x must be NHWC of rank 4 (or 3), got rank ${x.rank}`);
  const f = pair(filterSize);
  const s = pair(strides);
  const d = pair(dilations);
  const pads = resolvePads(op, x, spanOf(f, d), s, pad, rounding);
  return d[0] === 1 && d[1] === 1
    ? { filterSize: f, strides: s, pads }
    : { filterSize: f, strides: s, pads, dilations: d };
}

/** Applies a pooling op to a rank-4 x, or to a rank-3 x as a batch of one (tfjs's Tensor3D form). */
function pooled(x: Tensor, build: (x4: Tensor) => Tensor): Tensor {
  return x.rank === 3 ? squeeze(build(expandDims(x, 0)), [0]) : build(x);
}

/**
 * Max pooling of NHWC x ([batch, height, width, channels], or [height, width, channels]) with windows of
 * `filterSize` moved by `strides`; `pad` is 'valid', 'same', a number for every side (the pooled size rounded by
 * `dimRoundingMode`, default truncation) or [[0, 0], [top, bottom], [left, right], [0, 0]].
 * @example maxPool(x, 2, 2, 'valid') // [1, 4, 4, 3] -> [1, 2, 2, 3]
 */
export function maxPool(
  x: Tensor,
  filterSize: number | readonly [number, number],
  strides: number | readonly [number, number],
  pad: PoolPadding,
  dimRoundingMode?: DimRoundingMode,
): Tensor {
  return pooled(x, (x4) => apply(MAX_POOL, [x4], windowOf('maxPool', x4, filterSize, strides, pad, dimRoundingMode)));
}

/**
 * Average pooling of NHWC x, with maxPool's arguments; padding is left out of each window's count.
 * @example avgPool(x, [3, 3], 1, 'same') // [1, 4, 4, 3] -> [1, 4, 4, 3]
 */
export function avgPool(
  x: Tensor,
  filterSize: number | readonly [number, number],
  strides: number | readonly [number, number],
  pad: PoolPadding,
  dimRoundingMode?: DimRoundingMode,
): Tensor {
  return pooled(x, (x4) => apply(AVG_POOL, [x4], windowOf('avgPool', x4, filterSize, strides, pad, dimRoundingMode)));
}

/**
 * tfjs's general pooling: max or average pooling of NHWC x with windows of `windowShape` whose pixels are
 * `dilations` apart (padding 'same' is computed on the dilated span), moved by `strides`.
 * @example pool(x, [3, 3], 'max', 'valid', 2) // [1, 7, 7, 1] -> [1, 3, 3, 1]
 */
export function pool(
  x: Tensor,
  windowShape: number | readonly [number, number],
  poolingType: 'max' | 'avg',
  pad: PoolPadding,
  dilations: number | readonly [number, number] = 1,
  strides: number | readonly [number, number] = 1,
  dimRoundingMode?: DimRoundingMode,
): Tensor {
  if (poolingType !== 'max' && poolingType !== 'avg') {
    throw argumentError('pool', [x], `poolingType '${String(poolingType)}' is not 'max' or 'avg'`);
  }
  const record = poolingType === 'max' ? MAX_POOL : AVG_POOL;
  return pooled(x, (x4) =>
    apply(record, [x4], windowOf('pool', x4, windowShape, strides, pad, dimRoundingMode, dilations)),
  );
}

/**
 * Max pooling that also gives where each maximum is: `result` is maxPool(x, …), `indexes` (int32) the flat index
 * of each maximum in x, ((b·height + y)·width + x)·channels + c, with the batch term only when
 * `includeBatchInIndex` (tfjs's maxPoolWithArgmax; the first of equal maxima, as its cpu backend).
 * @example const { result, indexes } = maxPoolWithArgmax(x, 2, 2, 'valid')
 */
export function maxPoolWithArgmax(
  x: Tensor,
  filterSize: number | readonly [number, number],
  strides: number | readonly [number, number],
  pad: PoolPadding,
  includeBatchInIndex = false,
): { result: Tensor; indexes: Tensor } {
  const window = windowOf('maxPoolWithArgmax', x, filterSize, strides, pad);
  return {
    result: apply(MAX_POOL, [x], window),
    indexes: apply(MAX_POOL_ARGMAX, [x], includeBatchInIndex ? { ...window, includeBatchInIndex } : window),
  };
}

/**
 * The mean of NHWC x over its height and width: [batch, channels], or [batch, 1, 1, channels] with keepDims
 * (Keras's GlobalAveragePooling2D).
 * @example globalAvgPool(x) // [2, 7, 7, 64] -> [2, 64]
 */
export function globalAvgPool(x: Tensor, keepDims = false): Tensor {
  if (x.rank !== 4) throw argumentError('globalAvgPool', [x], `x must be NHWC of rank 4, got rank ${x.rank}`);
  return mean(x, [1, 2], keepDims);
}

/**
 * The maximum of NHWC x over its height and width: [batch, channels], or [batch, 1, 1, channels] with keepDims
 * (Keras's GlobalMaxPooling2D).
 * @example globalMaxPool(x) // [2, 7, 7, 64] -> [2, 64]
 */
export function globalMaxPool(x: Tensor, keepDims = false): Tensor {
  if (x.rank !== 4) throw argumentError('globalMaxPool', [x], `x must be NHWC of rank 4, got rank ${x.rank}`);
  return max(x, [1, 2], keepDims);
}
