/**
 * Chainable tensor methods (`x.matMul(w).add(1).relu()`). The IR's Tensor class knows nothing of ops;
 * the methods are installed here, at the ops layer, so no import cycle runs from graph to ops.
 */
import { DType, Tensor } from '../graph';
import * as ew from './elementwise';
import { matMul } from './linalg';
import { broadcastTo, expandDims, reshape, squeeze, transpose } from './movement';
import { logSoftmax, softmax } from './nn';
import * as ops from './all';
import * as image from './image';
import * as space from './space';
import { unsortedSegmentSum } from './segment';
import { mirrorPad } from './padmode';
import * as conv from './conv';
import * as normalization from './normalization';
import { TensorLike } from './record';
import type { NormOrder } from './reduce';
import { max, mean, sum } from './reduce';

declare module '../graph/graph' {
  interface Tensor {
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    pow(exp: TensorLike): Tensor;
    equal(b: TensorLike): Tensor;
    greater(b: TensorLike): Tensor;
    neg(): Tensor;
    square(): Tensor;
    sqrt(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    identity(): Tensor;
    stopGradient(): Tensor;
    cast(dtype: DType): Tensor;
    zerosLike(): Tensor;
    onesLike(): Tensor;
    matMul(b: TensorLike, transposeA?: boolean, transposeB?: boolean): Tensor;
    sum(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    mean(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    max(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    reshape(shape: readonly number[]): Tensor;
    transpose(perm?: readonly number[]): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    expandDims(axis?: number | readonly number[]): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    maximum(b: TensorLike): Tensor;
    minimum(b: TensorLike): Tensor;
    squaredDifference(b: TensorLike): Tensor;
    mod(b: TensorLike): Tensor;
    floorDiv(b: TensorLike): Tensor;
    atan2(b: TensorLike): Tensor;
    notEqual(b: TensorLike): Tensor;
    less(b: TensorLike): Tensor;
    lessEqual(b: TensorLike): Tensor;
    greaterEqual(b: TensorLike): Tensor;
    logicalAnd(b: TensorLike): Tensor;
    logicalOr(b: TensorLike): Tensor;
    logicalNot(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    rsqrt(): Tensor;
    reciprocal(): Tensor;
    expm1(): Tensor;
    log1p(): Tensor;
    tan(): Tensor;
    asin(): Tensor;
    acos(): Tensor;
    atan(): Tensor;
    sinh(): Tensor;
    cosh(): Tensor;
    asinh(): Tensor;
    acosh(): Tensor;
    atanh(): Tensor;
    logSigmoid(): Tensor;
    softplus(): Tensor;
    relu6(): Tensor;
    elu(): Tensor;
    selu(): Tensor;
    erf(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    isNaN(): Tensor;
    isFinite(): Tensor;
    step(alpha?: number): Tensor;
    min(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    prod(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    logSumExp(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    all(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    any(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    leakyRelu(alpha?: number): Tensor;
    prelu(alpha: TensorLike): Tensor;
    clipByValue(clipValueMin: number, clipValueMax: number): Tensor;
    argMax(axis?: number): Tensor;
    argMin(axis?: number): Tensor;
    norm(ord?: NormOrder, axis?: number | readonly number[], keepDims?: boolean): Tensor;
    dot(b: TensorLike): Tensor;
    concat(others: Tensor | readonly Tensor[], axis?: number): Tensor;
    stack(others: Tensor | readonly Tensor[], axis?: number): Tensor;
    unstack(axis?: number): Tensor[];
    split(numOrSizeSplits: number | readonly number[], axis?: number): Tensor[];
    slice(begin: number | readonly number[], size?: number | readonly number[]): Tensor;
    stridedSlice(
      begin: readonly number[],
      end: readonly number[],
      strides?: readonly number[],
      beginMask?: number,
      endMask?: number,
      ellipsisMask?: number,
      newAxisMask?: number,
      shrinkAxisMask?: number,
    ): Tensor;
    gather(indices: TensorLike, axis?: number, batchDims?: number): Tensor;
    tile(reps: readonly number[]): Tensor;
    pad(paddings: readonly (readonly [number, number])[], constantValue?: number): Tensor;
    reverse(axis?: number | readonly number[]): Tensor;
    cumsum(axis?: number, exclusive?: boolean, reverse?: boolean): Tensor;
    oneHot(depth: number, onValue?: number, offValue?: number, dtype?: DType): Tensor;
    maxPool(...args: PoolArgs): Tensor;
    avgPool(...args: PoolArgs): Tensor;
    conv1d(filter: TensorLike, ...args: Rest<typeof conv.conv1d>): Tensor;
    conv2d(filter: TensorLike, ...args: Rest<typeof conv.conv2d>): Tensor;
    conv2dTranspose(filter: TensorLike, ...args: Rest<typeof conv.conv2dTranspose>): Tensor;
    depthwiseConv2d(filter: TensorLike, ...args: Rest<typeof conv.depthwiseConv2d>): Tensor;
    separableConv2d(
      depthwise: TensorLike,
      pointwise: TensorLike,
      ...args: Rest<typeof conv.separableConv2d, 3>
    ): Tensor;
  }
}

/** A convolution builder's arguments after x and its filter(s). */
type Rest<F, N extends 2 | 3 = 2> = F extends (x: Tensor, f: TensorLike, ...rest: infer R) => Tensor
  ? N extends 2
    ? R
    : R extends [TensorLike, ...infer S]
      ? S
      : never
  : never;

type Methods = { [K in keyof Tensor]?: Tensor[K] };

const methods: Methods = {
  add(this: Tensor, b: TensorLike) { return ew.add(this, b); },
  sub(this: Tensor, b: TensorLike) { return ew.sub(this, b); },
  mul(this: Tensor, b: TensorLike) { return ew.mul(this, b); },
  div(this: Tensor, b: TensorLike) { return ew.div(this, b); },
  pow(this: Tensor, e: TensorLike) { return ew.pow(this, e); },
  equal(this: Tensor, b: TensorLike) { return ew.equal(this, b); },
  greater(this: Tensor, b: TensorLike) { return ew.greater(this, b); },
  neg(this: Tensor) { return ew.neg(this); },
  square(this: Tensor) { return ew.square(this); },
  sqrt(this: Tensor) { return ew.sqrt(this); },
  exp(this: Tensor) { return ew.exp(this); },
  log(this: Tensor) { return ew.log(this); },
  sin(this: Tensor) { return ew.sin(this); },
  cos(this: Tensor) { return ew.cos(this); },
  tanh(this: Tensor) { return ew.tanh(this); },
  sigmoid(this: Tensor) { return ew.sigmoid(this); },
  relu(this: Tensor) { return ew.relu(this); },
  identity(this: Tensor) { return ew.identity(this); },
  stopGradient(this: Tensor) { return ew.stopGradient(this); },
  cast(this: Tensor, dtype: DType) { return ew.cast(this, dtype); },
  zerosLike(this: Tensor) { return ew.zerosLike(this); },
  onesLike(this: Tensor) { return ew.onesLike(this); },
  matMul(this: Tensor, b: TensorLike, ta?: boolean, tb?: boolean) { return matMul(this, b, ta, tb); },
  sum(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return sum(this, axis, keepDims); },
  mean(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return mean(this, axis, keepDims); },
  max(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return max(this, axis, keepDims); },
  reshape(this: Tensor, shape: readonly number[]) { return reshape(this, shape); },
  transpose(this: Tensor, perm?: readonly number[]) { return transpose(this, perm); },
  broadcastTo(this: Tensor, shape: readonly number[]) { return broadcastTo(this, shape); },
  expandDims(this: Tensor, axis?: number | readonly number[]) { return expandDims(this, axis); },
  squeeze(this: Tensor, axis?: number | readonly number[]) { return squeeze(this, axis); },
  softmax(this: Tensor, dim?: number) { return softmax(this, dim); },
  logSoftmax(this: Tensor, axis?: number) { return logSoftmax(this, axis); },
  maximum(this: Tensor, b: TensorLike) { return ops.maximum(this, b); },
  minimum(this: Tensor, b: TensorLike) { return ops.minimum(this, b); },
  squaredDifference(this: Tensor, b: TensorLike) { return ops.squaredDifference(this, b); },
  mod(this: Tensor, b: TensorLike) { return ops.mod(this, b); },
  floorDiv(this: Tensor, b: TensorLike) { return ops.floorDiv(this, b); },
  atan2(this: Tensor, b: TensorLike) { return ops.atan2(this, b); },
  notEqual(this: Tensor, b: TensorLike) { return ops.notEqual(this, b); },
  less(this: Tensor, b: TensorLike) { return ops.less(this, b); },
  lessEqual(this: Tensor, b: TensorLike) { return ops.lessEqual(this, b); },
  greaterEqual(this: Tensor, b: TensorLike) { return ops.greaterEqual(this, b); },
  logicalAnd(this: Tensor, b: TensorLike) { return ops.logicalAnd(this, b); },
  logicalOr(this: Tensor, b: TensorLike) { return ops.logicalOr(this, b); },
  logicalNot(this: Tensor) { return ops.logicalNot(this); },
  abs(this: Tensor) { return ops.abs(this); },
  sign(this: Tensor) { return ops.sign(this); },
  rsqrt(this: Tensor) { return ops.rsqrt(this); },
  reciprocal(this: Tensor) { return ops.reciprocal(this); },
  expm1(this: Tensor) { return ops.expm1(this); },
  log1p(this: Tensor) { return ops.log1p(this); },
  tan(this: Tensor) { return ops.tan(this); },
  asin(this: Tensor) { return ops.asin(this); },
  acos(this: Tensor) { return ops.acos(this); },
  atan(this: Tensor) { return ops.atan(this); },
  sinh(this: Tensor) { return ops.sinh(this); },
  cosh(this: Tensor) { return ops.cosh(this); },
  asinh(this: Tensor) { return ops.asinh(this); },
  acosh(this: Tensor) { return ops.acosh(this); },
  atanh(this: Tensor) { return ops.atanh(this); },
  logSigmoid(this: Tensor) { return ops.logSigmoid(this); },
  softplus(this: Tensor) { return ops.softplus(this); },
  relu6(this: Tensor) { return ops.relu6(this); },
  elu(this: Tensor) { return ops.elu(this); },
  selu(this: Tensor) { return ops.selu(this); },
  erf(this: Tensor) { return ops.erf(this); },
  floor(this: Tensor) { return ops.floor(this); },
  ceil(this: Tensor) { return ops.ceil(this); },
  round(this: Tensor) { return ops.round(this); },
  isNaN(this: Tensor) { return ops.isNaN(this); },
  isFinite(this: Tensor) { return ops.isFinite(this); },
  step(this: Tensor, alpha?: number) { return ops.step(this, alpha); },
  min(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return ops.min(this, axis, keepDims); },
  prod(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return ops.prod(this, axis, keepDims); },
  logSumExp(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return ops.logSumExp(this, axis, keepDims); },
  all(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return ops.all(this, axis, keepDims); },
  any(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return ops.any(this, axis, keepDims); },
  leakyRelu(this: Tensor, alpha?: number) { return ops.leakyRelu(this, alpha); },
  prelu(this: Tensor, alpha: TensorLike) { return ops.prelu(this, alpha); },
  clipByValue(this: Tensor, lo: number, hi: number) { return ops.clipByValue(this, lo, hi); },
  argMax(this: Tensor, axis?: number) { return ops.argMax(this, axis); },
  argMin(this: Tensor, axis?: number) { return ops.argMin(this, axis); },
  norm(this: Tensor, ord?: NormOrder, axis?: number | readonly number[], keepDims?: boolean) { return ops.norm(this, ord, axis, keepDims); },
  dot(this: Tensor, b: TensorLike) { return ops.dot(this, b); },
  concat(this: Tensor, others: Tensor | readonly Tensor[], axis?: number) { return ops.concat([this, ...list(others)], axis); },
  stack(this: Tensor, others: Tensor | readonly Tensor[], axis?: number) { return ops.stack([this, ...list(others)], axis); },
  unstack(this: Tensor, axis?: number) { return ops.unstack(this, axis); },
  split(this: Tensor, sizes: number | readonly number[], axis?: number) { return ops.split(this, sizes, axis); },
  slice(this: Tensor, begin: number | readonly number[], size?: number | readonly number[]) { return ops.slice(this, begin, size); },
  stridedSlice(this: Tensor, ...args: StridedArgs) { return ops.stridedSlice(this, ...args); },
  gather(this: Tensor, indices: TensorLike, axis?: number, batchDims?: number) { return ops.gather(this, indices, axis, batchDims); },
  tile(this: Tensor, reps: readonly number[]) { return ops.tile(this, reps); },
  pad(this: Tensor, paddings: readonly (readonly [number, number])[], value?: number) { return ops.pad(this, paddings, value); },
  reverse(this: Tensor, axis?: number | readonly number[]) { return ops.reverse(this, axis); },
  cumsum(this: Tensor, axis?: number, exclusive?: boolean, reverse?: boolean) { return ops.cumsum(this, axis, exclusive, reverse); },
  oneHot(this: Tensor, depth: number, on?: number, off?: number, dtype?: DType) { return ops.oneHot(this, depth, on, off, dtype); },
  maxPool(this: Tensor, ...args: PoolArgs) { return ops.maxPool(this, ...args); },
  avgPool(this: Tensor, ...args: PoolArgs) { return ops.avgPool(this, ...args); },
  conv1d(this: Tensor, f: TensorLike, ...args: Rest<typeof conv.conv1d>) { return conv.conv1d(this, f, ...args); },
  conv2d(this: Tensor, f: TensorLike, ...args: Rest<typeof conv.conv2d>) { return conv.conv2d(this, f, ...args); },
  conv2dTranspose(this: Tensor, f: TensorLike, ...args: Rest<typeof conv.conv2dTranspose>) { return conv.conv2dTranspose(this, f, ...args); },
  depthwiseConv2d(this: Tensor, f: TensorLike, ...args: Rest<typeof conv.depthwiseConv2d>) { return conv.depthwiseConv2d(this, f, ...args); },
  separableConv2d(this: Tensor, d: TensorLike, p: TensorLike, ...args: Rest<typeof conv.separableConv2d, 3>) { return conv.separableConv2d(this, d, p, ...args); },
}; // prettier-ignore

type PoolArgs = Parameters<typeof ops.maxPool> extends [Tensor, ...infer Rest] ? Rest : never;
type StridedArgs = Parameters<typeof ops.stridedSlice> extends [Tensor, ...infer Rest] ? Rest : never;

function list(others: Tensor | readonly Tensor[]): readonly Tensor[] {
  return others instanceof Tensor ? [others] : others;
}

Object.assign(Tensor.prototype, methods);

// The image family's chain methods (tfjs's chained resizeBilinear / resizeNearestNeighbor).
declare module '../graph/graph' {
  interface Tensor {
    resizeBilinear(size: readonly number[], alignCorners?: boolean, halfPixelCenters?: boolean): Tensor;
    resizeNearestNeighbor(size: readonly number[], alignCorners?: boolean, halfPixelCenters?: boolean): Tensor;
    depthToSpace(blockSize: number, dataFormat?: space.DataFormat): Tensor;
    spaceToBatchND(blockShape: readonly number[], paddings: readonly (readonly [number, number])[]): Tensor;
    batchToSpaceND(blockShape: readonly number[], crops: readonly (readonly [number, number])[]): Tensor;
    unsortedSegmentSum(segmentIds: TensorLike, numSegments: number): Tensor;
    mirrorPad(paddings: readonly (readonly [number, number])[], mode: 'reflect' | 'symmetric'): Tensor;
  }
}
const imageMethods: Methods = {
  resizeBilinear(this: Tensor, size: readonly number[], alignCorners?: boolean, halfPixelCenters?: boolean) {
    return image.resizeBilinear(this, size, alignCorners, halfPixelCenters);
  },
  resizeNearestNeighbor(this: Tensor, size: readonly number[], alignCorners?: boolean, halfPixelCenters?: boolean) {
    return image.resizeNearestNeighbor(this, size, alignCorners, halfPixelCenters);
  },
  depthToSpace(this: Tensor, blockSize: number, dataFormat?: space.DataFormat) {
    return space.depthToSpace(this, blockSize, dataFormat);
  },
  spaceToBatchND(this: Tensor, blockShape: readonly number[], paddings: readonly (readonly [number, number])[]) {
    return space.spaceToBatchND(this, blockShape, paddings);
  },
  batchToSpaceND(this: Tensor, blockShape: readonly number[], crops: readonly (readonly [number, number])[]) {
    return space.batchToSpaceND(this, blockShape, crops);
  },
  unsortedSegmentSum(this: Tensor, segmentIds: TensorLike, numSegments: number) {
    return unsortedSegmentSum(this, segmentIds, numSegments);
  },
  mirrorPad(this: Tensor, paddings: readonly (readonly [number, number])[], mode: 'reflect' | 'symmetric') {
    return mirrorPad(this, paddings, mode);
  },
};
Object.assign(Tensor.prototype, imageMethods);

// tfjs's remaining chained normalization and pooling builders: batchNorm, localResponseNormalization, pool.
declare module '../graph/graph' {
  interface Tensor {
    batchNorm(...args: After<typeof normalization.batchNorm>): Tensor;
    localResponseNormalization(...args: After<typeof normalization.localResponseNormalization>): Tensor;
    pool(...args: After<typeof ops.pool>): Tensor;
  }
}
/** A builder's arguments after x. */
type After<F> = F extends (x: Tensor, ...rest: infer R) => Tensor ? R : never;
const normalizationMethods: Methods = {
  batchNorm(this: Tensor, ...args: After<typeof normalization.batchNorm>) {
    return normalization.batchNorm(this, ...args);
  },
  localResponseNormalization(this: Tensor, ...args: After<typeof normalization.localResponseNormalization>) {
    return normalization.localResponseNormalization(this, ...args);
  },
  pool(this: Tensor, ...args: After<typeof ops.pool>) {
    return ops.pool(this, ...args);
  },
};
Object.assign(Tensor.prototype, normalizationMethods);
