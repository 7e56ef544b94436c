/**
 * lazygrad: automatic differentiation on lazy, symbolic graphs.
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
