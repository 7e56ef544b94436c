/**
 * A Jest environment for tests that run ONNX Runtime: Jest runs each test file in its own V8 context, whose typed
 * array classes differ from the ones onnxruntime-node's native code creates, so ORT's `instanceof Float32Array`
 * checks fail. This environment shares the host's typed array and ArrayBuffer classes with the test context.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
