/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Gradient graphs of every case of the op table in ONNX Runtime against the js backend: the gradient of
 * sum(op(xs) · w) (w random, fed) w.r.t. every float input, in float32 (the tfjs-gradient cases) and float64 (the
 * finite-difference cases); the gradient of the gradient (the second-order cases, float32); and the tfjs-gradient
 * cases with every dim unknown. See ../onnxruntime-suite.ts.
 */
import { describeOrt } from '../onnxruntime-suite';

describeOrt('float32', 'gradTfjs', 'gradient', {});
describeOrt('float64', 'gradFd', 'gradient', { dtype: 'float64' });
describeOrt('second order, float32', 'secondOrder', 'secondOrder', {});
describeOrt('unknown dims, float32', 'gradTfjs', 'gradient', { dynamic: true });
