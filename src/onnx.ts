/**
 * `lazygrad/onnx`: reading and writing ONNX models (`importOnnx`, `exportOnnx`). Import it beside the core entry;
 * both share one Graph class.
 *
 * @example
 * import { importOnnx } from 'lazygrad/onnx';
 * const { graph, inputs, outputs } = importOnnx(fs.readFileSync('model.onnx'));
 */
export * from './interop/onnx';
