/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Forward values of every case of the op table in ONNX Runtime (exported with exportOnnx, run in onnxruntime-node)
 * against the js backend: float32 within the row's tolerance (1e-5 relative by default), int32 and bool exactly;
 * the same cases with float64 operands (1e-9), where ONNX Runtime lacks many kernels (the split then); and with
 * every dim unknown when the graph is built (sizes only from the feeds). See ../onnxruntime-suite.ts.
 */
import { describeOrt } from '../onnxruntime-suite';

describeOrt('float32', 'forward', 'forward', {});
describeOrt('float64', 'forward', 'forward', { dtype: 'float64' });
describeOrt('unknown dims', 'forward', 'forward', { dynamic: true });
