import './methods';

export * from './json';
export * from './onnx';
export type { LoadLimits } from './rebuild';
