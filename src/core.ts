/**
 * The package's main entry, `lazygrad`: graphs, ops, autodiff, passes, sessions (JS and WebAssembly backends),
 * training and the JSON format. It has no dependencies and imports no Node.js module, so it bundles for browsers
 * as it is; ONNX (`lazygrad/onnx`), SVG pictures (`lazygrad/svg`) and Node-only helpers (`lazygrad/node`) are
 * entries of their own. docs/package.md lists what each entry holds.
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
export * from './interop/json-entry';
