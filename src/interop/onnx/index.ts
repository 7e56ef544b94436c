export { exportOnnx, ONNX_OPSETS } from './export';
export type { ExportOnnxOptions, VariableReader } from './export';
export { importOnnx } from './import';
export type { ImportedOnnx, ImportOnnxOptions } from './import';
export { onnxRuntimeSupport, ORT_CPU_MISSING_KERNELS } from './ort-support';
export type { OnnxRuntimeSupportOptions } from './ort-support';
