/**
 * lazygrad: automatic differentiation on lazy, symbolic graphs. This index exports everything at once for the
 * repository's own tests, examples, benchmarks and CLI; the package's entries are src/core.ts (`lazygrad`),
 * src/onnx.ts (`lazygrad/onnx`), src/onnxruntime.ts (`lazygrad/onnxruntime`), src/svg.ts (`lazygrad/svg`) and src/node/index.ts (`lazygrad/node`).
 *
 * @example
 * import { Graph, Session, gradients, matMul, relu, add, sum } from 'lazygrad';
 */
export * from './graph';
export * from './ops';
export * from './autodiff';
export * from './passes';
export * from './session';
export * from './train';
export * from './interop/svg';
export * from './interop';
export * from './onnxruntime';
