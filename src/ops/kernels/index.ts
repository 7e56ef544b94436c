export type { Buf, TypedArray } from './types';
export { broadcastShapes, binary, unary, ternary, broadcastTo, sumTo, copy, cast } from './broadcast';
export { reduce, argReduce } from './reduce';
export type { ReduceKind } from './reduce';
export { matMul, matMulDims } from './linalg';
export type { MatMulDims } from './linalg';
export { transpose } from './movement';
export { softmax, logSoftmax } from './nn';
export { crossEntropyFromLogSoftmax, logSumExp, prodExcept, softmaxCrossEntropy } from './grouped';
export { RandomStream, fillUniform, fillNormal } from './random';
export {
  stridedSlice,
  stridedScatter,
  concat,
  gather,
  scatterAdd,
  tile,
  sumTiles,
  pad,
  reverse,
  oneHot,
  cumsum,
} from './indexing';
export * from './fused';
export { maxPool, maxPoolArgmax, maxPoolGrad, maxPoolGradGrad, avgPool, avgPoolGrad } from './pool';
export type { PoolWindow } from './pool';
