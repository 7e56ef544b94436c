/**
 * The piecewise activations of convolutional nets: step (tfjs), and ONNX's HardSigmoid and HardSwish. Elementwise
 * records with fusion templates (their constants are scalar inputs, so a fused loop reads them like any operand).
 * The wasm fused interpreter does not know them, so under wasm fusion leaves them out of groups (bindings.ts).
 *
 * Gradient conventions: step is piecewise constant, so x gets a zero gradient (as tfjs); hardSigmoid passes the
 * gradient on the open interval where it is linear; hardSwish's derivative is 0 below −3, (2x + 3)/6 on [−3, 3]
 * and 1 above (PyTorch's choice at the kinks).
 */
import { formatShape, ShapeError, Tensor } from '../graph';
import { less, lessEqual, logicalAnd } from './compare';
import { add, binaryOp, greater, mul, unaryOp, where, zerosLike } from './elementwise';
import { ternary } from './kernels';
import { apply, OpRecord, requireFloat, requireSameDType } from './record';

/** step(x, alpha): 1 where x > 0, alpha elsewhere, NaN for NaN (tfjs). x's gradient is 0, alpha's is dy where x <= 0. */
export const STEP = binaryOp(
  'step',
  (x, alpha) => (x !== x ? x : x > 0 ? 1 : alpha),
  (x, _alpha, _y, dy, needs) => [
    needs[0] ? zerosLike(dy) : null,
    needs[1] ? where(lessEqual(x, 0), dy, zerosLike(dy)) : null,
  ],
  {
    accepts: 'float',
    template: '($0 !== $0 ? $0 : $0 > 0 ? 1 : $1)',
    jvp: ([, ta], [x]) => ta && where(lessEqual(x, 0), ta, zerosLike(ta)),
  },
);

/** max(0, min(1, alpha·x + beta)) with alpha and beta scalar inputs (ONNX HardSigmoid). */
export const HARD_SIGMOID: OpRecord = (() => {
  const scalar = (x: number, alpha: number, beta: number): number => Math.max(0, Math.min(1, alpha * x + beta));
  const kernel = ternary(scalar);
  return {
    name: 'hardSigmoid',
    arity: 3,
    scalar,
    template: 'Math.max(0, Math.min(1, $1 * $0 + $2))',
    inPlace: true,
    infer(inputs) {
      const [x, alpha, beta] = inputs;
      const dtype = requireSameDType(inputs);
      requireFloat(x);
      if (alpha.shape.length !== 0 || beta.shape.length !== 0) {
        throw new ShapeError(
          `alpha and beta must be scalars, got ${formatShape(alpha.shape)} and ${formatShape(beta.shape)}`,
        );
      }
      return { dtype, shape: x.shape };
    },
    kernel: (inputs, out) => kernel(inputs[0], inputs[1], inputs[2], out),
    vjp: ({ inputs: [x, alpha, beta], dy, needs }) => {
      const linear = add(mul(x, alpha), beta);
      const inside = logicalAnd(greater(linear, 0), less(linear, 1));
      const passed = where(inside, dy, zerosLike(dy));
      return [needs[0] ? mul(passed, alpha) : null, needs[1] ? mul(passed, x) : null, needs[2] ? passed : null];
    },
  };
})();

/** x · max(0, min(1, x/6 + 1/2)) (ONNX HardSwish, MobileNetV3's h-swish). */
export const HARD_SWISH = unaryOp(
  'hardSwish',
  (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  (x, _y, dy) => where(less(x, -3), zerosLike(dy), where(greater(x, 3), dy, mul(dy, add(mul(x, 1 / 3), 0.5)))),
  { template: '($0 * Math.max(0, Math.min(1, $0 / 6 + 0.5)))' },
);

export const ACTIVATION_OPS: readonly OpRecord[] = [STEP, HARD_SIGMOID, HARD_SWISH];

/** 1 where x > 0, alpha elsewhere (NaN stays NaN), as tf.step; zero gradient. @example step(x) */
export const step = (x: Tensor, alpha = 0): Tensor => apply(STEP, [x, alpha]);
/**
 * max(0, min(1, alpha·x + beta)), ONNX's HardSigmoid (defaults alpha 0.2, beta 0.5; no tfjs op).
 * @example hardSigmoid(x, 1 / 6, 0.5)
 */
export const hardSigmoid = (x: Tensor, alpha = 0.2, beta = 0.5): Tensor => apply(HARD_SIGMOID, [x, alpha, beta]);
/** x · hardSigmoid(x, 1/6, 1/2), ONNX's HardSwish (no tfjs op). @example hardSwish(x) */
export const hardSwish = (x: Tensor): Tensor => apply(HARD_SWISH, [x]);
