/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Gradient graphs of every case of the op table in ONNX Runtime against the js backend, on the 'onnxruntime'
 * backend of Session: the gradient of sum(op(xs) · w) (w random, fed) w.r.t. every float input in float32 (the
 * tfjs-gradient cases) and float64 (the finite-difference cases; the backend splits where ONNX Runtime lacks
 * kernels), the gradient of the gradient (the second-order cases, float32), and the tfjs-gradient cases with every
 * dim unknown; and the float32 gradients exported at opset 21 and run in onnxruntime-node by hand.
 */
import { describeOrt } from '../onnxruntime-suite';

describeOrt('float32', 'gradTfjs', 'gradient', {}, 'backend');
describeOrt('second order, float32', 'secondOrder', 'secondOrder', {}, 'backend');
describeOrt('unknown dims, float32', 'gradTfjs', 'gradient', { dynamic: true }, 'backend');
describeOrt('float64', 'gradFd', 'gradient', { dtype: 'float64' }, 'backend');
// The backend and the hand-run both export at opset 21, the newest form of each op (reductions' axes as inputs, …).
describeOrt('float32, opset 21 by hand', 'gradTfjs', 'gradient', {}, 'export');
