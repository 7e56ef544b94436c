/**
 * Math and activation functions of one input (the core few — exp, log, tanh… — live in elementwise.ts), plus
 * prelu (x with a broadcast alpha) and clipByValue (x with scalar bounds), which are elementwise too.
 *
 * Gradient conventions, following TensorFlow / tfjs:
 * - floor, ceil, round and sign are piecewise constant: their rule returns zeros, as tfjs does (TensorFlow
 *   returns zeros for sign and None for the others), so code differentiating through them sees a defined zero.
 * - At a kink the one-sided choice is tfjs's: relu6 passes the gradient on (0, 6], clipByValue on [min, max],
 *   elu takes the right side at 0, selu, prelu and leakyRelu the left side.
 * - abs uses sign(x), so its gradient at 0 is 0 (TensorFlow's rule; tfjs gives −1 there).
 * - isNaN and isFinite have bool outputs and no rule.
 */
import { formatShape, GraphError, ShapeError, Tensor } from '../graph';
import { greaterEqual, less, lessEqual, logicalAnd } from './compare';
import {
  add,
  binaryOp,
  div,
  exp,
  greater,
  mul,
  neg,
  sigmoid,
  sqrt,
  square,
  sub,
  unaryOp,
  UnaryVjp,
  where,
  zerosLike,
} from './elementwise';
import { ternary } from './kernels';
import { erf as erfScalar } from './kernels/special';
import { apply, OpRecord, requireNumeric, requireSameDType, TensorLike } from './record';

/** The rule of the piecewise-constant ops: a zero gradient of x's shape. */
const zeroGradient: UnaryVjp = (_x, _y, dy) => zerosLike(dy);
/** Their forward rule: a zero tangent, which jvp() stops propagating (no zeros node, as for stopGradient). */
const zeroTangent = (): null => null;

// tfjs's (and the SELU paper's) constants.
const SELU_SCALE = 1.0507009873554805;
const SELU_SCALE_ALPHA = 1.7580993408473768;

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

export const ABS = unaryOp('abs', Math.abs, (x, _y, dy) => mul(dy, sign(x)), {
  accepts: 'numeric',
  template: 'Math.abs($0)',
});
/** −1, 0 or 1; NaN stays NaN (as in TensorFlow and NumPy; tfjs's CPU kernel maps NaN to 0). */
export const SIGN = unaryOp('sign', (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x), zeroGradient, {
  accepts: 'numeric',
  template: '($0 > 0 ? 1 : $0 < 0 ? -1 : $0 === 0 ? 0 : $0)',
  jvp: zeroTangent,
});
// Rules in terms of y where that is cheaper: rsqrt' = −y³/2, reciprocal' = −y², tan' = 1 + y².
export const RSQRT = unaryOp(
  'rsqrt',
  (x) => 1 / Math.sqrt(x),
  (_x, y, dy) => mul(dy, mul(mul(y, square(y)), -0.5)),
  { template: '(1 / Math.sqrt($0))' },
);
export const RECIPROCAL = unaryOp(
  'reciprocal',
  (x) => 1 / x,
  (_x, y, dy) => neg(mul(dy, square(y))),
  { template: '(1 / $0)' },
);
export const EXPM1 = unaryOp('expm1', Math.expm1, (x, _y, dy) => mul(dy, exp(x)), {
  template: 'Math.expm1($0)',
});
export const LOG1P = unaryOp('log1p', Math.log1p, (x, _y, dy) => div(dy, add(x, 1)), {
  template: 'Math.log1p($0)',
});
export const TAN = unaryOp('tan', Math.tan, (_x, y, dy) => mul(dy, add(square(y), 1)), {
  template: 'Math.tan($0)',
});
export const ASIN = unaryOp('asin', Math.asin, (x, _y, dy) => div(dy, sqrt(sub(1, square(x)))), {
  template: 'Math.asin($0)',
});
export const ACOS = unaryOp('acos', Math.acos, (x, _y, dy) => neg(div(dy, sqrt(sub(1, square(x))))), {
  template: 'Math.acos($0)',
});
export const ATAN = unaryOp('atan', Math.atan, (x, _y, dy) => div(dy, add(square(x), 1)), {
  template: 'Math.atan($0)',
});
export const SINH = unaryOp('sinh', Math.sinh, (x, _y, dy) => mul(dy, cosh(x)), {
  template: 'Math.sinh($0)',
});
export const COSH = unaryOp('cosh', Math.cosh, (x, _y, dy) => mul(dy, sinh(x)), {
  template: 'Math.cosh($0)',
});
export const ASINH = unaryOp('asinh', Math.asinh, (x, _y, dy) => div(dy, sqrt(add(square(x), 1))), {
  template: 'Math.asinh($0)',
});
export const ACOSH = unaryOp('acosh', Math.acosh, (x, _y, dy) => div(dy, sqrt(sub(square(x), 1))), {
  template: 'Math.acosh($0)',
});
export const ATANH = unaryOp('atanh', Math.atanh, (x, _y, dy) => div(dy, sub(1, square(x))), {
  template: 'Math.atanh($0)',
});

/** log(sigmoid(x)) = −softplus(−x), computed without overflow or log(0) in either tail. */
export const LOG_SIGMOID = unaryOp(
  'logSigmoid',
  (x) => (x < 0 ? x - Math.log1p(Math.exp(x)) : -Math.log1p(Math.exp(-x))),
  (x, _y, dy) => mul(dy, sigmoid(neg(x))),
  { template: '($0 < 0 ? $0 - Math.log1p(Math.exp($0)) : -Math.log1p(Math.exp(-$0)))' },
);
/** log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), exact in both tails (tfjs cuts over to x or eˣ at float32 eps). */
export const SOFTPLUS = unaryOp(
  'softplus',
  (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  (x, _y, dy) => mul(dy, sigmoid(x)),
  { template: '($0 > 0 ? $0 + Math.log1p(Math.exp(-$0)) : Math.log1p(Math.exp($0)))' },
);
export const RELU6 = unaryOp(
  'relu6',
  (x) => Math.min(Math.max(x, 0), 6),
  (x, _y, dy) => where(logicalAnd(greater(x, 0), lessEqual(x, 6)), dy, zerosLike(dy)),
  { accepts: 'numeric', template: 'Math.min(Math.max($0, 0), 6)' },
);
// The rules of elu and selu use y, not eˣ: eˣ overflows for large x, and the unused branch of `where` would then
// put 0 · ∞ = NaN into second derivatives. For x <= 0, elu' = y + 1 and selu' = y + scale·alpha.
export const ELU = unaryOp(
  'elu',
  (x) => (x >= 0 ? x : Math.expm1(x)),
  (_x, y, dy) => where(greaterEqual(y, 0), dy, mul(dy, add(y, 1))),
  { template: '($0 >= 0 ? $0 : Math.expm1($0))' },
);
export const SELU = unaryOp(
  'selu',
  (x) => (x >= 0 ? SELU_SCALE * x : SELU_SCALE_ALPHA * Math.expm1(x)),
  (x, y, dy) => where(greater(x, 0), mul(dy, SELU_SCALE), mul(dy, add(y, SELU_SCALE_ALPHA))),
  { template: `($0 >= 0 ? ${SELU_SCALE} * $0 : ${SELU_SCALE_ALPHA} * Math.expm1($0))` },
);
/** prelu(x, alpha): x where x >= 0, else alpha·x; alpha broadcasts against x and gets a gradient too. */
export const PRELU = binaryOp(
  'prelu',
  (x, alpha) => (x < 0 ? alpha * x : x),
  (x, alpha, _y, dy, needs) => {
    const positive = greater(x, 0);
    return [
      needs[0] ? where(positive, dy, mul(dy, alpha)) : null,
      needs[1] ? where(positive, zerosLike(dy), mul(dy, x)) : null,
    ];
  },
  { accepts: 'float', template: '($0 < 0 ? $1 * $0 : $0)' },
);
// No fusion template: generated code sees only globals, and erf's scalar function is in kernels/special.ts. Not in
// place either, as before in-place became a record fact (it was "has a template"); its kernel would allow it.
export const ERF = unaryOp('erf', erfScalar, (x, _y, dy) => mul(dy, mul(exp(neg(square(x))), TWO_OVER_SQRT_PI)), {
  inPlace: false,
});

export const FLOOR = unaryOp('floor', Math.floor, zeroGradient, { template: 'Math.floor($0)', jvp: zeroTangent });
export const CEIL = unaryOp('ceil', Math.ceil, zeroGradient, { template: 'Math.ceil($0)', jvp: zeroTangent });
/** Rounds half to even (banker's rounding), as tfjs and TensorFlow do: round(2.5) = 2, round(3.5) = 4. */
export const ROUND = unaryOp(
  'round',
  (x) => {
    const base = Math.floor(x);
    const fraction = x - base;
    if (fraction < 0.5) return base;
    if (fraction > 0.5) return base + 1;
    return base % 2 === 0 ? base : base + 1;
  },
  zeroGradient,
  {
    template:
      '($0 - Math.floor($0) < 0.5 ? Math.floor($0) : $0 - Math.floor($0) > 0.5 ? Math.floor($0) + 1 : ' +
      'Math.floor($0) % 2 === 0 ? Math.floor($0) : Math.floor($0) + 1)',
    jvp: zeroTangent,
  },
);
export const IS_NAN = unaryOp('isNaN', (x) => (x !== x ? 1 : 0), undefined, {
  accepts: 'numeric',
  output: 'bool',
  template: '($0 !== $0 ? 1 : 0)',
});
export const IS_FINITE = unaryOp('isFinite', (x) => (Number.isFinite(x) ? 1 : 0), undefined, {
  accepts: 'numeric',
  output: 'bool',
  template: '(Number.isFinite($0) ? 1 : 0)',
});

/**
 * clipByValue(x, min, max) with the bounds as scalar inputs (as TensorFlow's ClipByValue), so the record's scalar
 * function sees them. NaN passes through. The gradient flows to x on [min, max] (tfjs's rule) and to a bound
 * where x lies beyond it (TensorFlow's rule; the builder's bounds are constants, so this is rarely used).
 */
export const CLIP_BY_VALUE: OpRecord = (() => {
  const scalar = (x: number, lo: number, hi: number): number => (x > hi ? hi : x < lo ? lo : x);
  const kernel = ternary(scalar);
  return {
    name: 'clipByValue',
    arity: 3,
    scalar,
    template: '($0 > $2 ? $2 : $0 < $1 ? $1 : $0)',
    inPlace: true,
    infer(inputs) {
      const [x, lo, hi] = inputs;
      const dtype = requireSameDType(inputs);
      requireNumeric(x);
      if (lo.shape.length !== 0 || hi.shape.length !== 0) {
        throw new ShapeError(
          `the bounds must be scalars, got ${formatShape(lo.shape)} and ${formatShape(hi.shape)}; ` +
            'for elementwise bounds use minimum(maximum(x, lo), hi)',
        );
      }
      return { dtype, shape: x.shape };
    },
    kernel: (inputs, out) => kernel(inputs[0], inputs[1], inputs[2], out),
    vjp: ({ inputs: [x, lo, hi], dy, needs }) => {
      const zeros = zerosLike(dy);
      return [
        needs[0] ? where(logicalAnd(greaterEqual(x, lo), lessEqual(x, hi)), dy, zeros) : null,
        needs[1] ? where(less(x, lo), dy, zeros) : null,
        needs[2] ? where(greater(x, hi), dy, zeros) : null,
      ];
    },
  };
})();

/** Math and activation functions of one input (the core few — exp, log, tanh… — live in elementwise.ts). */
export const UNARY_OPS: readonly OpRecord[] = [
  ABS, SIGN, RSQRT, RECIPROCAL, EXPM1, LOG1P, TAN, ASIN, ACOS, ATAN, SINH, COSH, ASINH, ACOSH, ATANH,
  LOG_SIGMOID, SOFTPLUS, RELU6, ELU, SELU, PRELU, ERF, FLOOR, CEIL, ROUND, IS_NAN, IS_FINITE, CLIP_BY_VALUE,
]; // prettier-ignore

// ---- builders (TensorFlow.js names and argument order) -----------------------------------------------

/** |x| (float or int32). @example abs(x) */
export const abs = (x: Tensor): Tensor => apply(ABS, [x]);
/** −1, 0 or 1 by the sign of x (float or int32); zero gradient. @example sign(x) */
export const sign = (x: Tensor): Tensor => apply(SIGN, [x]);
/** 1 / √x. @example rsqrt(variance) */
export const rsqrt = (x: Tensor): Tensor => apply(RSQRT, [x]);
/** 1 / x. @example reciprocal(x) */
export const reciprocal = (x: Tensor): Tensor => apply(RECIPROCAL, [x]);
/** eˣ − 1, accurate for small x. @example expm1(x) */
export const expm1 = (x: Tensor): Tensor => apply(EXPM1, [x]);
/** log(1 + x), accurate for small x. @example log1p(x) */
export const log1p = (x: Tensor): Tensor => apply(LOG1P, [x]);
/** tan x. @example tan(x) */
export const tan = (x: Tensor): Tensor => apply(TAN, [x]);
/** arcsin x, for x in [−1, 1]. @example asin(x) */
export const asin = (x: Tensor): Tensor => apply(ASIN, [x]);
/** arccos x, for x in [−1, 1]. @example acos(x) */
export const acos = (x: Tensor): Tensor => apply(ACOS, [x]);
/** arctan x. @example atan(x) */
export const atan = (x: Tensor): Tensor => apply(ATAN, [x]);
/** sinh x. @example sinh(x) */
export const sinh = (x: Tensor): Tensor => apply(SINH, [x]);
/** cosh x. @example cosh(x) */
export const cosh = (x: Tensor): Tensor => apply(COSH, [x]);
/** arsinh x. @example asinh(x) */
export const asinh = (x: Tensor): Tensor => apply(ASINH, [x]);
/** arcosh x, for x >= 1. @example acosh(x) */
export const acosh = (x: Tensor): Tensor => apply(ACOSH, [x]);
/** artanh x, for x in (−1, 1). @example atanh(x) */
export const atanh = (x: Tensor): Tensor => apply(ATANH, [x]);
/** log(sigmoid(x)), computed stably. @example logSigmoid(logits) */
export const logSigmoid = (x: Tensor): Tensor => apply(LOG_SIGMOID, [x]);
/** log(1 + eˣ), computed stably. @example softplus(x) */
export const softplus = (x: Tensor): Tensor => apply(SOFTPLUS, [x]);
/** min(max(x, 0), 6). @example relu6(x) */
export const relu6 = (x: Tensor): Tensor => apply(RELU6, [x]);
/** x for x >= 0, eˣ − 1 below. @example elu(x) */
export const elu = (x: Tensor): Tensor => apply(ELU, [x]);
/** Scaled elu with the self-normalizing constants (scale ≈ 1.0507, alpha ≈ 1.6733). @example selu(x) */
export const selu = (x: Tensor): Tensor => apply(SELU, [x]);
/** x for x >= 0, alpha·x below, with alpha a learnable tensor broadcast against x. @example prelu(x, alpha) */
export const prelu = (x: Tensor, alpha: TensorLike): Tensor => apply(PRELU, [x, alpha]);
/**
 * x for x >= 0, alpha·x below (a prelu with a constant alpha; the node is named leakyRelu).
 * @example leakyRelu(x, 0.1)
 */
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => apply(PRELU, [x, alpha], {}, 'leakyRelu');
/** The error function, (2/√π) ∫₀ˣ e^(−t²) dt. @example erf(x) */
export const erf = (x: Tensor): Tensor => apply(ERF, [x]);
/** ⌊x⌋; zero gradient. @example floor(x) */
export const floor = (x: Tensor): Tensor => apply(FLOOR, [x]);
/** ⌈x⌉; zero gradient. @example ceil(x) */
export const ceil = (x: Tensor): Tensor => apply(CEIL, [x]);
/** Rounds to the nearest integer, halves to even; zero gradient. @example round(x) */
export const round = (x: Tensor): Tensor => apply(ROUND, [x]);
/** x limited to [clipValueMin, clipValueMax]. @example clipByValue(x, -1, 1) */
export function clipByValue(x: Tensor, clipValueMin: number, clipValueMax: number): Tensor {
  if (!(clipValueMin <= clipValueMax)) {
    throw new GraphError(
      `clipByValue '${x.graph.scopePrefix}clipByValue' (input '${x.name}'): clipValueMin (${clipValueMin}) ` +
        `must be <= clipValueMax (${clipValueMax})`,
    );
  }
  return apply(CLIP_BY_VALUE, [x, clipValueMin, clipValueMax]);
}
/** Whether each element is NaN (bool). @example isNaN(x) */
export const isNaN = (x: Tensor): Tensor => apply(IS_NAN, [x]);
/** Whether each element is neither infinite nor NaN (bool). @example isFinite(x) */
export const isFinite = (x: Tensor): Tensor => apply(IS_FINITE, [x]);
