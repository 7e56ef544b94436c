/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Forward values of every case of the op table in ONNX Runtime against the js backend: float32 on the
 * 'onnxruntime' backend of Session (within the row's tolerance, 1e-5 relative by default; int32 and bool exactly),
 * the same with every dim unknown when the graph is built, and float64 (1e-9), where ONNX Runtime's CPU provider
 * lacks many kernels, through exportOnnx with the split done by hand (see ../onnxruntime-suite.ts for why).
 */
import { describeOrt } from '../onnxruntime-suite';

describeOrt('float32', 'forward', 'forward', {}, 'backend');
describeOrt('unknown dims', 'forward', 'forward', { dynamic: true }, 'backend');
describeOrt('float64', 'forward', 'forward', { dtype: 'float64' }, 'export');
