// The module's exports. Every kernel takes byte offsets into the one imported memory, so that JS and wasm kernels
// share buffers without copies. Op and activation codes, tile sizes and limits are the `export const NAME = <int>;`
// declarations of these files: scripts/build-wasm.js writes them into src/backend/wasm/opcodes.generated.ts.
export { matmul, matmulScratchBytes } from './matmul';
export { binary, binaryRow, unary, reluGrad } from './elementwise';
export { fusedRun, fusedScratchBytes, tileRow } from './fused';
export { softmax, logSoftmax, softmaxCrossEntropy, crossEntropyFromLogSoftmax, rowSum, rowMax, colSum } from './rows';

/** First byte past the module's static data: the JS side lays its scratch and arena out from here. */
export function heapBase(): usize {
  return __heap_base;
}
export { convGemm, convFilterGemm, convCol2im, convScratchBytes } from './conv';
export { maxPool, maxPoolGrad, maxPoolGradGrad, avgPool, avgPoolGrad } from './pool';
export { dwConv2d, dwConv2dInput, dwConv2dFilter } from './depthwise';
export { skinny, SKINNY_M, PACKED_CHUNK, packRows4, packedRows4Bytes, skinnyPacked } from './skinny';
