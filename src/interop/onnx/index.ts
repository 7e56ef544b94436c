export { exportOnnx, ONNX_OPSETS } from './export';
export type { ExportOnnxOptions, VariableReader } from './export';
export { importOnnx } from './import';
export type { ImportedOnnx, ImportOnnxOptions } from './import';
