/**
 * Rows of the image family (ops/image.ts): resizeBilinear and resizeNearestNeighbor in TensorFlow's three sampling
 * modes (asymmetric, alignCorners, halfPixelCenters), up- and down-sampling, rank 3 and 4. The gradient ops are
 * exercised through the rows' gradients, and their own gradient (the resize again) through the second-order cases.
 * tfjs's cpu gradient kernels ignore halfPixelCenters (they sample as the asymmetric mode does), so the tfjs
 * gradient cases cover the two other modes (on the shapes its kernels get right, see TFJS_SIZES) and finite
 * differences cover all three.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Case, OpRow } from './table';

type Shape = readonly number[];
type Mode = readonly [string, boolean, boolean];

const MODES: readonly Mode[] = [
  ['asymmetric', false, false],
  ['alignCorners', true, false],
  ['halfPixelCenters', false, true],
];
/** [label, image shape, new size]. */
const SIZES: readonly (readonly [string, Shape, readonly [number, number]])[] = [
  ['up [1, 3, 4, 2] to [5, 7]', [1, 3, 4, 2], [5, 7]],
  ['down [2, 6, 5, 3] to [4, 2]', [2, 6, 5, 3], [4, 2]],
  ['up by 2 [1, 2, 3, 1] to [4, 6]', [1, 2, 3, 1], [4, 6]],
  ['rank 3 [3, 3, 2] to [2, 5]', [3, 3, 2], [2, 5]],
  ['to one pixel [1, 3, 3, 1] to [1, 1]', [1, 3, 3, 1], [1, 1]],
];

/**
 * tfjs 4.22's cpu gradient kernels are right only for square images (ResizeBilinearGrad returns the images' shape
 * with height and width swapped) of batch 1 (ResizeNearestNeighborGrad strides batches by the images' size, reading
 * past dy: NaN); these sizes keep to that.
 */
const TFJS_SIZES: readonly (readonly [string, Shape, readonly [number, number]])[] = [
  ['up [1, 3, 3, 2] to [5, 7]', [1, 3, 3, 2], [5, 7]],
  ['down [1, 6, 6, 3] to [4, 2]', [1, 6, 6, 3], [4, 2]],
  ['up by 2 [1, 2, 2, 1] to [4, 4]', [1, 2, 2, 1], [4, 4]],
  ['rank 3 [3, 3, 2] to [2, 5]', [3, 3, 2], [2, 5]],
];

type Ours = typeof lg.resizeBilinear;
type Theirs = typeof tf.image.resizeBilinear;

function cases(ours: Ours, theirs: Theirs, modes: readonly Mode[], sizes = SIZES, square = false): Case[] {
  return modes.flatMap(([mode, align, half]) =>
    sizes.map(([label, shape, size]) => ({
      label: `${mode}, ${label}`,
      inputs: [{ shape, options: { lo: -2, hi: 2 } }],
      build: (x: lg.Tensor) => (square ? lg.square(ours(x, size, align, half)) : ours(x, size, align, half)),
      tfjs: (x: tf.Tensor) => theirs(x as tf.Tensor4D, [size[0], size[1]], align, half),
    })),
  );
}

function resizeRow(op: string, ours: Ours, theirs: Theirs): OpRow {
  return {
    op,
    build: (x) => ours(x, [4, 4]),
    tfjs: (x) => theirs(x as tf.Tensor4D, [4, 4]),
    forward: [
      ...cases(ours, theirs, MODES),
      {
        label: 'int32 images',
        inputs: [{ shape: [1, 3, 2, 2], dtype: 'int32', options: { lo: -9, hi: 9 } }],
        build: (x) => ours(x, [5, 3]),
        tfjs: (x) => theirs(x as tf.Tensor4D, [5, 3]),
      },
    ],
    gradFd: cases(ours, theirs, MODES),
    gradTfjs: cases(ours, theirs, MODES.slice(0, 2), TFJS_SIZES),
    // The resize is linear: squared, its second derivative runs the gradient op's own gradient (the resize).
    secondOrder: cases(ours, theirs, MODES, SIZES.slice(0, 2), true),
  };
}

export const IMAGE_ROWS: readonly OpRow[] = [
  resizeRow('resizeBilinear', lg.resizeBilinear, tf.image.resizeBilinear),
  resizeRow('resizeNearestNeighbor', lg.resizeNearestNeighbor, tf.image.resizeNearestNeighbor),
];
