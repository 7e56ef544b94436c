// The module's exports. Every kernel takes byte offsets into the one imported memory, so that JS and wasm kernels
// share buffers without copies; op and activation codes are the constants exported beside them.
export { matmul, matmulScratchBytes } from './matmul';
export { binary, binaryRow, unary, reluGrad } from './elementwise';
export { fusedRun, fusedScratchBytes } from './fused';
export { softmax, logSoftmax, softmaxCrossEntropy, rowSum, rowMax, colSum } from './rows';

/** First byte past the module's static data: the JS side lays its scratch and arena out from here. */
export function heapBase(): usize {
  return __heap_base;
}
