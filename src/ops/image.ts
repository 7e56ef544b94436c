/**
 * The image family: resizing NHWC images (bilinear and nearest neighbour, with TensorFlow's three sampling modes)
 * and the resize gradients as ops of their own (TensorFlow's ResizeBilinearGrad / ResizeNearestNeighborGrad). Each
 * resize is linear in the image, so its gradient op is its adjoint and the adjoint's gradient is the resize again:
 * second derivatives come for free.
 */
import { DTypeError, isFloat, ShapeError, Tensor } from '../graph';
import { cast } from './elementwise';
import { argumentError, linearTangent } from './indexing-common';
import * as kernels from './kernels/image';
import { expandDims, squeeze } from './movement';
import { apply, defineOp, OpRecord, TensorInfo, VjpResult } from './record';

const RESIZE_ATTRS = { size: 'ints', alignCorners: 'bool', halfPixelCenters: 'bool' } as const;
const GRAD_ATTRS = { alignCorners: 'bool', halfPixelCenters: 'bool' } as const;

function checkModes(op: string, alignCorners: boolean, halfPixelCenters: boolean): void {
  if (alignCorners && halfPixelCenters) {
    throw new ShapeError(`${op}: alignCorners and halfPixelCenters cannot both be true`);
  }
}

function checkImage(op: string, x: TensorInfo, floatOnly: boolean): void {
  if (x.shape.length !== 4) {
    throw new ShapeError(`${op}: images must be rank 4 [batch, height, width, channels], got rank ${x.shape.length}`);
  }
  if (floatOnly ? !isFloat(x.dtype) : x.dtype === 'bool') {
    throw new DTypeError(`${op}: images must be ${floatOnly ? 'float32 or float64' : 'numeric'}, got ${x.dtype}`);
  }
}

/** The output rule of a resize: [batch, newHeight, newWidth, channels]. */
function inferResize(op: string, floatOnly: boolean) {
  return (
    [x]: readonly TensorInfo[],
    attrs: { size: readonly number[]; alignCorners: boolean; halfPixelCenters: boolean },
  ): TensorInfo => {
    checkImage(op, x, floatOnly);
    checkModes(op, attrs.alignCorners, attrs.halfPixelCenters);
    const { size } = attrs;
    if (size.length !== 2 || size.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new ShapeError(`${op}: size ${JSON.stringify(size)} must be [newHeight, newWidth] of positive integers`);
    }
    if (x.shape[1] === 0 || x.shape[2] === 0) {
      throw new ShapeError(`${op}: cannot resize an empty image (height and width must be positive)`);
    }
    return { dtype: x.dtype, shape: [x.shape[0], size[0], size[1], x.shape[3]] };
  };
}

/** The output rule of a resize gradient (dy, images): the images' shape, dy's dtype. */
function inferGrad(op: string) {
  return ([dy, x]: readonly TensorInfo[], attrs: { alignCorners: boolean; halfPixelCenters: boolean }): TensorInfo => {
    checkImage(op, dy, true);
    checkImage(op, x, false);
    checkModes(op, attrs.alignCorners, attrs.halfPixelCenters);
    const same = (a: number | null, b: number | null): boolean => a === null || b === null || a === b;
    if (!same(dy.shape[0], x.shape[0]) || !same(dy.shape[3], x.shape[3])) {
      throw new ShapeError(`${op}: dy and images must agree in batch and channels`);
    }
    return { dtype: dy.dtype, shape: x.shape };
  };
}

/** resizeBilinear(images) {size, alignCorners, halfPixelCenters}: images [B, H, W, C] float. */
export const RESIZE_BILINEAR = defineOp({
  name: 'resizeBilinear',
  arity: 1,
  attrs: RESIZE_ATTRS,
  infer: inferResize('resizeBilinear', true),
  kernel: ([x], out, a) => kernels.resizeBilinear(x, out, a.alignCorners, a.halfPixelCenters),
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => [
    apply(RESIZE_BILINEAR_GRAD, [dy, x], {
      alignCorners: attrs.alignCorners,
      halfPixelCenters: attrs.halfPixelCenters,
    }),
  ],
  jvp: (args): Tensor | null => linearTangent(RESIZE_BILINEAR, args),
});

/** resizeBilinearGrad(dy, images) {alignCorners, halfPixelCenters}: the adjoint of resizeBilinear (images: shape only). */
export const RESIZE_BILINEAR_GRAD = defineOp({
  name: 'resizeBilinearGrad',
  arity: 2,
  attrs: GRAD_ATTRS,
  infer: inferGrad('resizeBilinearGrad'),
  kernel: ([dy], out, a) => kernels.resizeBilinearGrad(dy, out, a.alignCorners, a.halfPixelCenters),
  // Linear in dy, its adjoint is the resize; the images only give the shape, so they get no gradient.
  vjp: ({ dy, inputs: [g], attrs }): VjpResult => [
    apply(RESIZE_BILINEAR, [dy], { ...attrs, size: resizedSize(g) }),
    null,
  ],
  jvp: (args): Tensor | null => linearTangent(RESIZE_BILINEAR_GRAD, args),
});

/** resizeNearestNeighbor(images) {size, alignCorners, halfPixelCenters}: images [B, H, W, C] numeric. */
export const RESIZE_NEAREST_NEIGHBOR = defineOp({
  name: 'resizeNearestNeighbor',
  arity: 1,
  attrs: RESIZE_ATTRS,
  infer: inferResize('resizeNearestNeighbor', false),
  kernel: ([x], out, a) => kernels.resizeNearestNeighbor(x, out, a.alignCorners, a.halfPixelCenters),
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => [
    apply(RESIZE_NEAREST_NEIGHBOR_GRAD, [dy, x], {
      alignCorners: attrs.alignCorners,
      halfPixelCenters: attrs.halfPixelCenters,
    }),
  ],
  jvp: (args): Tensor | null => linearTangent(RESIZE_NEAREST_NEIGHBOR, args),
});

/** resizeNearestNeighborGrad(dy, images) {alignCorners, halfPixelCenters}: the adjoint of resizeNearestNeighbor. */
export const RESIZE_NEAREST_NEIGHBOR_GRAD = defineOp({
  name: 'resizeNearestNeighborGrad',
  arity: 2,
  attrs: GRAD_ATTRS,
  infer: inferGrad('resizeNearestNeighborGrad'),
  kernel: ([dy], out, a) => kernels.resizeNearestNeighborGrad(dy, out, a.alignCorners, a.halfPixelCenters),
  vjp: ({ dy, inputs: [g], attrs }): VjpResult => [
    apply(RESIZE_NEAREST_NEIGHBOR, [dy], { ...attrs, size: resizedSize(g) }),
    null,
  ],
  jvp: (args): Tensor | null => linearTangent(RESIZE_NEAREST_NEIGHBOR_GRAD, args),
});

/** The [height, width] a gradient op's dy has: the size its adjoint resizes back to (known once built). */
function resizedSize(dy: Tensor): number[] {
  const [, h, w] = dy.shape;
  if (h === null || w === null) {
    throw new ShapeError('the second derivative of a resize needs the resized height and width known');
  }
  return [h, w];
}

/** Images and resized images. */
export const IMAGE_OPS: readonly OpRecord[] = [
  RESIZE_BILINEAR,
  RESIZE_BILINEAR_GRAD,
  RESIZE_NEAREST_NEIGHBOR,
  RESIZE_NEAREST_NEIGHBOR_GRAD,
];

/** Applies a 4-D resize record to a rank-3 or rank-4 image, as tfjs does (a rank-3 image is one of a batch). */
function resize(
  op: string,
  record: OpRecord,
  images: Tensor,
  size: readonly [number, number] | readonly number[],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Tensor {
  if (images.rank !== 3 && images.rank !== 4) {
    throw argumentError(op, [images], `images must be rank 3 or 4, got rank ${images.rank}`);
  }
  if (size.length !== 2) {
    throw argumentError(op, [images], `size ${JSON.stringify(size)} must be [newHeight, newWidth]`);
  }
  const attrs = { size: [...size], alignCorners, halfPixelCenters };
  if (images.rank === 4) return apply(record, [images], attrs);
  return squeeze(apply(record, [expandDims(images, 0)], attrs), [0]);
}

/**
 * Resizes NHWC images ([B, H, W, C] or [H, W, C]) to `size` = [newHeight, newWidth] by bilinear interpolation, as
 * tf.image.resizeBilinear: int32 images give float32, as in tfjs.
 * @example resizeBilinear(images, [64, 64], false, true)
 */
export function resizeBilinear(
  images: Tensor,
  size: readonly [number, number] | readonly number[],
  alignCorners = false,
  halfPixelCenters = false,
): Tensor {
  const x = images.dtype === 'int32' ? cast(images, 'float32') : images;
  return resize('resizeBilinear', RESIZE_BILINEAR, x, size, alignCorners, halfPixelCenters);
}

/**
 * Resizes NHWC images ([B, H, W, C] or [H, W, C]) to `size` = [newHeight, newWidth] by nearest neighbour, as
 * tf.image.resizeNearestNeighbor (the dtype is kept).
 * @example resizeNearestNeighbor(images, [64, 64])
 */
export function resizeNearestNeighbor(
  images: Tensor,
  size: readonly [number, number] | readonly number[],
  alignCorners = false,
  halfPixelCenters = false,
): Tensor {
  return resize('resizeNearestNeighbor', RESIZE_NEAREST_NEIGHBOR, images, size, alignCorners, halfPixelCenters);
}

/** The [outSize, inSize] weights of one axis of a resize (what export writes the gradient ops with). */
export function resizeMatrix(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
  bilinear: boolean,
): Float64Array {
  return kernels.resizeMatrix(inSize, outSize, alignCorners, halfPixelCenters, bilinear);
}
