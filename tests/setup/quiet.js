/* global jest, console */
/**
 * Keeps `npm test` output to what the tests say: two known messages of the oracles are dropped, nothing else.
 *
 * - TensorFlow.js's cpu backend prints a banner on first use in Node.js ("install our node backend"): the tests
 *   use tfjs as a reference on purpose, without tfjs-node.
 * - ONNX Runtime logs warnings from native code (such as "Removing initializer … not used by any node", which the
 *   tests' models provoke on purpose); its log level is set to errors when a test file loads it. The mock is
 *   lazy: the factory runs only in test files that import onnxruntime-node.
 */
'use strict';

const TFJS_BANNER = 'looks like you are running TensorFlow.js in Node.js';
const warn = console.warn;
console.warn = function (...args) {
  if (typeof args[0] === 'string' && args[0].includes(TFJS_BANNER)) return;
  warn.apply(this, args);
};

jest.doMock('onnxruntime-node', () => {
  const ort = jest.requireActual('onnxruntime-node');
  ort.env.logLevel = 'error';
  return ort;
});
