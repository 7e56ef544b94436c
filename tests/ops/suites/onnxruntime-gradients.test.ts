/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Gradient graphs of every case of the op table in ONNX Runtime against the js backend: the gradient of
 * sum(op(xs) · w) (w random, fed) w.r.t. every float input in float32 (the tfjs-gradient cases), the gradient of
 * the gradient (the second-order cases, float32), and the tfjs-gradient cases with every dim unknown, on the
 * 'onnxruntime' backend of Session; float64 gradients (the finite-difference cases) through exportOnnx with the
 * split done by hand (see ../onnxruntime-suite.ts for why).
 */
import { describeOrt } from '../onnxruntime-suite';

describeOrt('float32', 'gradTfjs', 'gradient', {}, 'backend');
describeOrt('second order, float32', 'secondOrder', 'secondOrder', {}, 'backend');
describeOrt('unknown dims, float32', 'gradTfjs', 'gradient', { dynamic: true }, 'backend');
describeOrt('float64', 'gradFd', 'gradient', { dtype: 'float64' }, 'export');
