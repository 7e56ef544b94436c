/**
 * Moving data between space, depth and batch: depthToSpace and spaceToDepth, spaceToBatchND and batchToSpaceND,
 * with TensorFlow's element orders. Each is pure data movement, written as the reshape / transpose (and pad or
 * slice) composite TensorFlow documents, so each is exact, its gradient is the other one's composite, and no new
 * primitive (kernel, ONNX rule) is needed.
 */
import { Tensor } from '../graph';
import { argumentError } from './indexing-common';
import { reshape, transpose } from './movement';
import { pad } from './pad';
import { slice } from './slice';

export type DataFormat = 'NHWC' | 'NCHW';

/** The dims a reshape needs known: all but the batch (dim 0), which may be unknown (-1). */
function knownDims(op: string, x: Tensor, what: string): number[] {
  return x.shape.map((d, i) => {
    if (d !== null) return d;
    if (i === 0) return -1;
    throw argumentError(op, [x], `needs the ${what} known (dim ${i} is not)`);
  });
}

const times = (d: number, k: number): number => (d < 0 ? -1 : d * k);

function checkBlock(op: string, x: Tensor, blockSize: number, dataFormat: string): void {
  if (x.rank !== 4) throw argumentError(op, [x], `x must be rank 4, got rank ${x.rank}`);
  if (!Number.isInteger(blockSize) || blockSize < 2) {
    throw argumentError(op, [x], `blockSize must be an integer > 1, got ${blockSize}`);
  }
  if (dataFormat !== 'NHWC' && dataFormat !== 'NCHW') {
    throw argumentError(op, [x], `dataFormat must be 'NHWC' or 'NCHW', got '${dataFormat}'`);
  }
}

/**
 * Rearranges blocks of depth into blocks of space, as tf.depthToSpace: x [B, H, W, C·s·s] (NHWC) gives
 * [B, H·s, W·s, C], out[b, h·s + i, w·s + j, c] = x[b, h, w, (i·s + j)·C + c]; NCHW likewise on [B, C·s·s, H, W].
 * @example depthToSpace(x, 2)
 */
export function depthToSpace(x: Tensor, blockSize: number, dataFormat: DataFormat = 'NHWC'): Tensor {
  const op = 'depthToSpace';
  checkBlock(op, x, blockSize, dataFormat);
  const s = blockSize;
  const nhwc = dataFormat === 'NHWC';
  const [B, a, b, c] = knownDims(op, x, 'height, width and depth');
  const [H, W, C] = nhwc ? [a, b, c] : [b, c, a];
  if (C % (s * s) !== 0) {
    throw argumentError(op, [x], `the depth ${C} must be divisible by blockSize² = ${s * s}`);
  }
  const D = C / (s * s);
  if (nhwc) {
    const blocks = transpose(reshape(x, [B, H, W, s, s, D]), [0, 1, 3, 2, 4, 5]);
    return reshape(blocks, [B, H * s, W * s, D]);
  }
  const blocks = transpose(reshape(x, [B, s, s, D, H, W]), [0, 3, 4, 1, 5, 2]);
  return reshape(blocks, [B, D, H * s, W * s]);
}

/**
 * Rearranges blocks of space into depth, TensorFlow's SpaceToDepth (the inverse of depthToSpace): x [B, H·s, W·s, C]
 * (NHWC) gives [B, H, W, C·s·s]; NCHW likewise.
 * @example spaceToDepth(x, 2)
 */
export function spaceToDepth(x: Tensor, blockSize: number, dataFormat: DataFormat = 'NHWC'): Tensor {
  const op = 'spaceToDepth';
  checkBlock(op, x, blockSize, dataFormat);
  const s = blockSize;
  const nhwc = dataFormat === 'NHWC';
  const [B, a, b, c] = knownDims(op, x, 'height, width and depth');
  const [H, W, C] = nhwc ? [a, b, c] : [b, c, a];
  if (H % s !== 0 || W % s !== 0) {
    throw argumentError(op, [x], `the height ${H} and width ${W} must be divisible by blockSize ${s}`);
  }
  const [h, w] = [H / s, W / s];
  if (nhwc) {
    const blocks = transpose(reshape(x, [B, h, s, w, s, C]), [0, 1, 3, 2, 4, 5]);
    return reshape(blocks, [B, h, w, C * s * s]);
  }
  const blocks = transpose(reshape(x, [B, C, h, s, w, s]), [0, 3, 5, 1, 2, 4]);
  return reshape(blocks, [B, C * s * s, h, w]);
}

function checkBlockShape(op: string, x: Tensor, blockShape: readonly number[], pairs: readonly (readonly number[])[]) {
  const m = blockShape.length;
  if (m < 1 || blockShape.some((k) => !Number.isInteger(k) || k < 1)) {
    throw argumentError(op, [x], `blockShape ${JSON.stringify(blockShape)} must hold integers >= 1`);
  }
  if (x.rank < 1 + m) throw argumentError(op, [x], `x must have rank >= ${1 + m} for a blockShape of ${m} dims`);
  const valid =
    pairs.length === m && pairs.every((p) => p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0));
  if (!valid) {
    throw argumentError(op, [x], `${JSON.stringify(pairs)} must hold one pair of non-negative integers per block dim`);
  }
}

/**
 * Pads the M spatial dims of x [B, ...spatial, ...rest] and moves blocks of blockShape into the batch, as
 * tf.spaceToBatchND: output batch index (block offset)·B + b.
 * @example spaceToBatchND(x, [2, 2], [[0, 0], [0, 0]])
 */
export function spaceToBatchND(
  x: Tensor,
  blockShape: readonly number[],
  paddings: readonly (readonly [number, number])[],
): Tensor {
  const op = 'spaceToBatchND';
  checkBlockShape(op, x, blockShape, paddings);
  const m = blockShape.length;
  const padded = pad(x, [[0, 0], ...paddings, ...x.shape.slice(1 + m).map((): [number, number] => [0, 0])]);
  const dims = knownDims(op, padded, 'spatial and remaining dims');
  const [B, spatial, rest] = [dims[0], dims.slice(1, 1 + m), dims.slice(1 + m)];
  spatial.forEach((d, i) => {
    if (d % blockShape[i] !== 0) {
      throw argumentError(
        op,
        [x],
        `padded dim ${i + 1} of size ${d} must be divisible by blockShape[${i}] = ${blockShape[i]}`,
      );
    }
  });
  const outer = spatial.map((d, i) => d / blockShape[i]);
  const split = reshape(padded, [B, ...outer.flatMap((d, i) => [d, blockShape[i]]), ...rest]);
  const perm = [
    ...blockShape.map((_, i) => 2 + 2 * i),
    0,
    ...blockShape.map((_, i) => 1 + 2 * i),
    ...rest.map((_, i) => 1 + 2 * m + i),
  ];
  const batch = times(
    B,
    blockShape.reduce((p, k) => p * k, 1),
  );
  return reshape(transpose(split, perm), [batch, ...outer, ...rest]);
}

/**
 * Moves blocks of the batch back into the M spatial dims and crops them, as tf.batchToSpaceND (the inverse of
 * spaceToBatchND): x [B·prod(blockShape), ...spatial, ...rest].
 * @example batchToSpaceND(x, [2, 2], [[0, 0], [0, 0]])
 */
export function batchToSpaceND(
  x: Tensor,
  blockShape: readonly number[],
  crops: readonly (readonly [number, number])[],
): Tensor {
  const op = 'batchToSpaceND';
  checkBlockShape(op, x, blockShape, crops);
  const m = blockShape.length;
  const dims = knownDims(op, x, 'spatial and remaining dims');
  const [B, spatial, rest] = [dims[0], dims.slice(1, 1 + m), dims.slice(1 + m)];
  const blocks = blockShape.reduce((p, k) => p * k, 1);
  if (B >= 0 && B % blocks !== 0) {
    throw argumentError(op, [x], `the batch ${B} must be divisible by the product of blockShape, ${blocks}`);
  }
  const grown = spatial.map((d, i) => d * blockShape[i]);
  grown.forEach((d, i) => {
    if (crops[i][0] + crops[i][1] > d) {
      throw argumentError(op, [x], `crops ${JSON.stringify(crops[i])} exceed dim ${i + 1} of size ${d}`);
    }
  });
  const split = reshape(x, [...blockShape, B < 0 ? -1 : B / blocks, ...spatial, ...rest]);
  const perm = [m, ...spatial.flatMap((_, i) => [m + 1 + i, i]), ...rest.map((_, i) => 1 + 2 * m + i)];
  const joined = reshape(transpose(split, perm), [B < 0 ? -1 : B / blocks, ...grown, ...rest]);
  if (crops.every(([a, b]) => a === 0 && b === 0)) return joined;
  const sizes = grown.map((d, i) => d - crops[i][0] - crops[i][1]);
  return slice(joined, [0, ...crops.map((c) => c[0]), ...rest.map(() => 0)], [-1, ...sizes, ...rest.map(() => -1)]);
}
