/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Forward values of every case of the op table in ONNX Runtime against the js backend, on the 'onnxruntime'
 * backend of Session: float32 (within the row's tolerance, 1e-5 relative by default; int32 and bool exactly), the
 * same with every dim unknown when the graph is built, and float64 (1e-9), where ONNX Runtime's CPU provider lacks
 * many kernels (the backend's split); and float32 exported at opset 21 and run in onnxruntime-node by hand.
 */
import { describeOrt } from '../onnxruntime-suite';

describeOrt('float32', 'forward', 'forward', {}, 'backend');
describeOrt('unknown dims', 'forward', 'forward', { dynamic: true }, 'backend');
describeOrt('float64', 'forward', 'forward', { dtype: 'float64' }, 'backend');
// The backend and the hand-run both export at opset 21, the newest form of each op (reductions' axes as inputs, …).
describeOrt('float32, opset 21 by hand', 'forward', 'forward', {}, 'export');
