import { DType, DTypeError, Dim, ShapeError, Shape, Tensor, formatShape } from '../graph';
import { broadcastInfer, greaterEqual, less, lessEqual } from './compare';
import { binary, cast as castKernel, ternary, unary } from './kernels';
import { addN as addNKernel } from './kernels/addn';
import type { Buf } from './kernels/types';
import {
  apply,
  defineOp,
  OpRecord,
  requireFloat,
  requireNumeric,
  requireSameDType,
  TensorInfo,
  TensorLike,
  VjpResult,
} from './record';

// ---- how elementwise records are made -----------------------------------------------------------------

/** Which input dtypes an elementwise record accepts, whether its output is bool, its fusion template and facts. */
export interface ElementwiseOptions {
  /** 'float': float32/float64; 'numeric': also int32 (default for binary ops); bool is never accepted. */
  readonly accepts?: 'float' | 'numeric';
  readonly output?: 'same' | 'bool';
  /** The scalar function as an expression over $0, $1 (see OpRecord.template); without one the op is not fused. */
  readonly template?: string;
  /**
   * Forward-mode rule: output tangent from input tangents (null = zero), inputs and output. A unary op without one
   * gets the rule derived from its vjp (see unaryOp).
   */
  readonly jvp?: (tangents: readonly (Tensor | null)[], inputs: readonly Tensor[], output: Tensor) => Tensor | null;
  /** The two inputs commute (OpRecord.commutative). */
  readonly commutative?: boolean;
  /** May run in place (OpRecord.inPlace); true unless set false: the lifted kernels read element i before writing it. */
  readonly inPlace?: boolean;
}

/** The sum of the tangents that are present (null when none is). */
export function sumTangents(a: Tensor | null, b: Tensor | null): Tensor | null {
  if (a === null) return b;
  if (b === null) return a;
  return add(a, b);
}

function jvpOf(options: ElementwiseOptions): OpRecord['jvp'] {
  const rule = options.jvp;
  return rule && (({ tangents, inputs, output }) => rule(tangents, inputs, output));
}

function requireAccepted(input: TensorInfo, accepts: 'float' | 'numeric'): void {
  if (accepts === 'float') requireFloat(input);
  else requireNumeric(input);
}

export type BinaryVjp = (a: Tensor, b: Tensor, y: Tensor, dy: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

/**
 * A binary elementwise op with broadcasting: its record from its scalar function and its gradient rule (undefined
 * for no gradient). With `output: 'bool'` (comparisons) any one shared dtype is accepted.
 */
export function binaryOp(
  name: string,
  scalar: (a: number, b: number) => number,
  vjp: BinaryVjp | undefined,
  options: ElementwiseOptions = {},
): OpRecord {
  const output = options.output ?? 'same';
  const accepts = options.accepts ?? 'numeric';
  const kernel = binary(scalar);
  return {
    name,
    arity: 2,
    scalar,
    template: options.template,
    jvp: jvpOf(options),
    commutative: options.commutative,
    inPlace: options.inPlace ?? true,
    infer(inputs) {
      const dtype = requireSameDType(inputs);
      if (output === 'same') requireAccepted(inputs[0], accepts);
      return { dtype: output === 'bool' ? 'bool' : dtype, shape: broadcastInfer(inputs) };
    },
    kernel: (inputs, out) => kernel(inputs[0], inputs[1], out),
    vjp: vjp && (({ inputs, output: y, dy, needs }) => vjp(inputs[0], inputs[1], y, dy, needs)),
  };
}

export type UnaryVjp = (x: Tensor, y: Tensor, dy: Tensor) => Tensor;

/**
 * The forward rule of an elementwise op of one input, derived from its gradient rule: the Jacobian is diagonal, so
 * it is its own transpose, and vjp(dy = t) = Jᵀt = Jt is the tangent. Valid only for such ops (a vjp is linear in
 * dy; the diagonal makes it symmetric). The tangent has x's shape, so the result has the output's, and the rule is
 * applied once where the double-VJP builds it and then differentiates it.
 */
function jvpFromVjp(vjp: UnaryVjp): NonNullable<OpRecord['jvp']> {
  return ({ tangents: [t], inputs: [x], output: y }) => t && vjp(x, y, t);
}

/**
 * A unary elementwise op: its record from its scalar function and its gradient rule (float inputs by default).
 * Without an explicit `jvp` option its forward rule is derived from the gradient rule (jvpFromVjp).
 */
export function unaryOp(
  name: string,
  scalar: (x: number) => number,
  vjp: UnaryVjp | undefined,
  options: ElementwiseOptions = {},
): OpRecord {
  const output = options.output ?? 'same';
  const accepts = options.accepts ?? 'float';
  const kernel = unary(scalar);
  return {
    name,
    arity: 1,
    scalar,
    template: options.template,
    jvp: options.jvp !== undefined ? jvpOf(options) : vjp && jvpFromVjp(vjp),
    inPlace: options.inPlace ?? true,
    infer([x]) {
      requireAccepted(x, accepts);
      return { dtype: output === 'bool' ? 'bool' : x.dtype, shape: x.shape };
    },
    kernel: (inputs, out) => kernel(inputs[0], out),
    vjp: vjp && (({ inputs, output: y, dy }) => [vjp(inputs[0], y, dy)]),
  };
}

// ---- the records ----------------------------------------------------------------------------------------

export const ADD = binaryOp(
  'add',
  (a, b) => a + b,
  (_a, _b, _y, dy) => [dy, dy],
  { template: '($0 + $1)', jvp: ([ta, tb]) => sumTangents(ta, tb), commutative: true },
);
export const SUB = binaryOp(
  'sub',
  (a, b) => a - b,
  (_a, _b, _y, dy, needs) => [dy, needs[1] ? neg(dy) : null],
  { template: '($0 - $1)', jvp: ([ta, tb]) => sumTangents(ta, tb && neg(tb)) },
);
export const MUL = binaryOp(
  'mul',
  (a, b) => a * b,
  (a, b, _y, dy, needs) => [needs[0] ? mul(dy, b) : null, needs[1] ? mul(dy, a) : null],
  {
    template: '($0 * $1)',
    jvp: ([ta, tb], [a, b]) => sumTangents(ta && mul(ta, b), tb && mul(a, tb)),
    commutative: true,
  },
);
export const DIV = binaryOp(
  'div',
  (a, b) => a / b,
  (a, b, _y, dy, needs) => [needs[0] ? div(dy, b) : null, needs[1] ? neg(div(mul(dy, a), square(b))) : null],
  { template: '($0 / $1)', jvp: ([ta, tb], [, b], y) => sumTangents(ta && div(ta, b), tb && neg(div(mul(tb, y), b))) },
);
export const POW = binaryOp(
  'pow',
  Math.pow,
  (a, b, y, dy, needs) => [
    needs[0] ? mul(dy, mul(b, pow(a, sub(b, 1)))) : null,
    // d/db a^b = a^b ln a, taken as 0 where a <= 0 (as TensorFlow does) so it is never NaN there.
    needs[1] ? mul(dy, mul(y, where(greater(a, 0), log(where(greater(a, 0), a, onesLike(a))), zerosLike(a)))) : null,
  ],
  { template: 'Math.pow($0, $1)' },
);
export const EQUAL = binaryOp('equal', (a, b) => (a === b ? 1 : 0), undefined, {
  output: 'bool',
  template: '($0 === $1 ? 1 : 0)',
  commutative: true,
});
export const GREATER = binaryOp('greater', (a, b) => (a > b ? 1 : 0), undefined, {
  output: 'bool',
  template: '($0 > $1 ? 1 : 0)',
});

// Unary rules are linear in the incoming gradient, so unaryOp derives each forward rule from them (dy ← t).
export const NEG = unaryOp(
  'neg',
  (x) => -x,
  (_x, _y, dy) => neg(dy),
  { accepts: 'numeric', template: '(-$0)' },
);
export const SQUARE = unaryOp(
  'square',
  (x) => x * x,
  (x, _y, dy) => mul(dy, mul(x, 2)),
  { accepts: 'numeric', template: '($0 * $0)' },
);
export const SQRT = unaryOp('sqrt', Math.sqrt, (_x, y, dy) => div(dy, mul(y, 2)), { template: 'Math.sqrt($0)' });
export const EXP = unaryOp('exp', Math.exp, (_x, y, dy) => mul(dy, y), { template: 'Math.exp($0)' });
export const LOG = unaryOp('log', Math.log, (x, _y, dy) => div(dy, x), { template: 'Math.log($0)' });
export const SIN = unaryOp('sin', Math.sin, (x, _y, dy) => mul(dy, cos(x)), { template: 'Math.sin($0)' });
export const COS = unaryOp('cos', Math.cos, (x, _y, dy) => neg(mul(dy, sin(x))), { template: 'Math.cos($0)' });
export const TANH = unaryOp('tanh', Math.tanh, (_x, y, dy) => mul(dy, sub(1, square(y))), {
  template: 'Math.tanh($0)',
});
export const SIGMOID = unaryOp(
  'sigmoid',
  (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  (_x, y, dy) => mul(dy, mul(y, sub(1, y))),
  { template: '($0 >= 0 ? 1 / (1 + Math.exp(-$0)) : Math.exp($0) / (1 + Math.exp($0)))' },
);
export const RELU = unaryOp(
  'relu',
  (x) => (x > 0 ? x : x === x ? 0 : x),
  (x, _y, dy) => reluGrad(dy, x),
  { accepts: 'numeric', template: '($0 > 0 ? $0 : $0 === $0 ? 0 : $0)' },
);
/**
 * reluGrad(dy, x) = dy · (x > 0 ? 1 : 0): relu's gradient as one op (TensorFlow's ReluGrad), so it is one fused loop
 * or one wasm kernel instead of a bool mask, a cast and a product. A NaN dy stays NaN, as in dy · mask. Its own
 * gradient: reluGrad(ddy, x) for dy, and zero for x (the mask is piecewise constant).
 */
export const RELU_GRAD = binaryOp(
  'reluGrad',
  (dy, x) => dy * (x > 0 ? 1 : 0),
  (_dy, x, _y, ddy, needs) => [needs[0] ? reluGrad(ddy, x) : null, null],
  {
    template: '$0 * ($1 > 0 ? 1 : 0)',
    jvp: ([t], [, x]) => t && reluGrad(t, x),
  },
);

export const IDENTITY: OpRecord = {
  name: 'identity',
  arity: 1,
  scalar: (x) => x,
  template: '$0',
  jvp: ({ tangents: [t] }) => t,
  inPlace: true,
  infer: ([x]) => x,
  kernel: ([x], out) => out.data.set(x.data),
  vjp: ({ dy }) => [dy],
};

/** The value passes through; the gradient stops here. */
export const STOP_GRADIENT: OpRecord = {
  name: 'stopGradient',
  arity: 1,
  scalar: (x) => x,
  template: '$0',
  jvp: () => null,
  inPlace: true,
  infer: ([x]) => x,
  kernel: ([x], out) => out.data.set(x.data),
  vjp: () => [null],
};

export const CAST = defineOp({
  name: 'cast',
  arity: 1,
  attrs: { dtype: 'dtype' },
  infer: ([x], attrs) => ({ dtype: attrs.dtype, shape: x.shape }),
  kernel: ([x], out) => castKernel(x, out),
  vjp: ({ inputs: [x], dy }): VjpResult => [x.isFloat && dy.isFloat ? cast(dy, x.dtype) : null],
});

function fillKernel(value: number): (inputs: readonly Buf[], out: Buf) => void {
  return (_inputs, out) => out.data.fill(value);
}

export const ZEROS_LIKE: OpRecord = {
  name: 'zerosLike',
  arity: 1,
  shapeOnly: true,
  infer: ([x]) => x,
  kernel: fillKernel(0),
  vjp: () => [null],
};

export const ONES_LIKE: OpRecord = {
  name: 'onesLike',
  arity: 1,
  shapeOnly: true,
  infer: ([x]) => x,
  kernel: fillKernel(1),
  vjp: () => [null],
};

/** where(condition, a, b): a where condition is true, else b; broadcasting over all three. */
export const WHERE: OpRecord = {
  name: 'where',
  arity: 3,
  scalar: (c, a, b) => (c !== 0 ? a : b),
  template: '($0 !== 0 ? $1 : $2)',
  inPlace: true,
  infer(inputs) {
    const [c, a, b] = inputs;
    if (c.dtype !== 'bool') throw new DTypeError(`condition must be bool, got ${c.dtype}`);
    const dtype = requireSameDType([a, b]);
    return { dtype, shape: broadcastInfer(inputs) };
  },
  kernel: (() => {
    const kernel = ternary((c, a, b) => (c !== 0 ? a : b));
    return (inputs: readonly Buf[], out: Buf) => kernel(inputs[0], inputs[1], inputs[2], out);
  })(),
  vjp: ({ inputs: [c], dy, needs }) => {
    const zeros = zerosLike(dy);
    return [null, needs[1] ? where(c, dy, zeros) : null, needs[2] ? where(c, zeros, dy) : null];
  },
};

// maximum/minimum: on a tie all of dy goes to a (tfjs's rule: a gets it where a >= b, b where a < b), so a tie
// never counts dy twice.
export const MAXIMUM = binaryOp(
  'maximum',
  Math.max,
  (a, b, _y, dy, needs) => [
    needs[0] ? where(greaterEqual(a, b), dy, zerosLike(dy)) : null,
    needs[1] ? where(less(a, b), dy, zerosLike(dy)) : null,
  ],
  // Math.max and wasm's max: NaN if either is NaN, and −0 < +0, in either order.
  { template: 'Math.max($0, $1)', commutative: true },
);
export const MINIMUM = binaryOp(
  'minimum',
  Math.min,
  (a, b, _y, dy, needs) => [
    needs[0] ? where(lessEqual(a, b), dy, zerosLike(dy)) : null,
    needs[1] ? where(greater(a, b), dy, zerosLike(dy)) : null,
  ],
  { template: 'Math.min($0, $1)', commutative: true },
);
export const SQUARED_DIFFERENCE = binaryOp(
  'squaredDifference',
  (a, b) => (a - b) * (a - b),
  (a, b, _y, dy, needs) => {
    const da = mul(dy, mul(sub(a, b), 2));
    return [needs[0] ? da : null, needs[1] ? neg(da) : null];
  },
  // b − a is exactly −(a − b) in IEEE arithmetic, so the square is the same in either order.
  { template: '(($0 - $1) * ($0 - $1))', commutative: true },
);
/** Floor division: ⌊a / b⌋, piecewise constant, so no gradient (TensorFlow's FloorDiv registers none). */
export const FLOOR_DIV = binaryOp('floorDiv', (a, b) => Math.floor(a / b), undefined, {
  template: 'Math.floor($0 / $1)',
});
/**
 * Floor modulo, a − ⌊a / b⌋·b: the result takes the sign of the divisor (tfjs's and TensorFlow's FloorMod, unlike
 * JS's %). d/da = 1 and d/db = −⌊a / b⌋ (the floor's own derivative is zero almost everywhere).
 */
export const MOD = binaryOp(
  'mod',
  (a, b) => {
    const rem = a % b;
    return (a < 0 && b < 0) || (a >= 0 && b >= 0) ? rem : (rem + b) % b;
  },
  (a, b, _y, dy, needs) => [needs[0] ? dy : null, needs[1] ? neg(mul(dy, floorDiv(a, b))) : null],
  { template: '(($0 < 0 && $1 < 0) || ($0 >= 0 && $1 >= 0) ? $0 % $1 : (($0 % $1) + $1) % $1)' },
);
export const ATAN2 = binaryOp(
  'atan2',
  Math.atan2,
  (a, b, _y, dy, needs) => {
    const norm = add(square(a), square(b));
    return [needs[0] ? mul(dy, div(b, norm)) : null, needs[1] ? neg(mul(dy, div(a, norm))) : null];
  },
  { accepts: 'float', template: 'Math.atan2($0, $1)' },
);

function mergeShapes(a: Shape, b: Shape): Dim[] | null {
  if (a.length !== b.length) return null;
  const out: Dim[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== null && b[i] !== null && a[i] !== b[i]) return null;
    out.push(a[i] ?? b[i]);
  }
  return out;
}

/**
 * The sum of any number of tensors of one shape and dtype (no broadcasting, as in TensorFlow). No fusion template:
 * a template has a fixed number of operands.
 */
export const ADD_N: OpRecord = {
  name: 'addN',
  arity: 'variadic',
  scalar: (...operands) => {
    let total = operands[0];
    for (let i = 1; i < operands.length; i++) total += operands[i];
    return total;
  },
  infer(inputs) {
    if (inputs.length === 0) throw new ShapeError('needs at least one input tensor');
    const dtype = requireSameDType(inputs);
    requireNumeric(inputs[0]);
    let shape: Shape = inputs[0].shape;
    for (const input of inputs) {
      const merged = mergeShapes(shape, input.shape);
      if (merged === null) {
        throw new ShapeError(
          `inputs must all have one shape, got ${inputs.map((x) => formatShape(x.shape)).join(', ')}; ` +
            'addN does not broadcast (use add, or broadcastTo first)',
        );
      }
      shape = merged;
    }
    return { dtype, shape };
  },
  kernel: (inputs, out) => addNKernel(inputs, out),
  vjp: ({ inputs, dy, needs }) => inputs.map((_, i) => (needs[i] ? dy : null)),
  // Not commutative: the kernel sums in input order, and float addition does not associate, so reordering three
  // or more inputs changes the rounding ((1e16 + 1) − 1e16 = 0, (1e16 − 1e16) + 1 = 1).
};

export const ELEMENTWISE_OPS: readonly OpRecord[] = [
  ADD, SUB, MUL, DIV, POW, EQUAL, GREATER,
  NEG, SQUARE, SQRT, EXP, LOG, SIN, COS, TANH, SIGMOID, RELU, RELU_GRAD,
  IDENTITY, STOP_GRADIENT, CAST, ZEROS_LIKE, ONES_LIKE, WHERE,
  MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, FLOOR_DIV, MOD, ATAN2, ADD_N,
]; // prettier-ignore

// ---- builders (TensorFlow.js names and argument order) -----------------------------------------------

/** a + b, with broadcasting. @example add(x, 1) */
export const add = (a: TensorLike, b: TensorLike): Tensor => apply(ADD, [a, b]);
/** a - b, with broadcasting. @example sub(x, y) */
export const sub = (a: TensorLike, b: TensorLike): Tensor => apply(SUB, [a, b]);
/** a * b, with broadcasting. @example mul(x, 2) */
export const mul = (a: TensorLike, b: TensorLike): Tensor => apply(MUL, [a, b]);
/** a / b, with broadcasting. @example div(x, y) */
export const div = (a: TensorLike, b: TensorLike): Tensor => apply(DIV, [a, b]);
/** a ** b, with broadcasting. @example pow(x, 3) */
export const pow = (base: TensorLike, exp: TensorLike): Tensor => apply(POW, [base, exp]);
/** a == b elementwise (bool). @example equal(x, 0) */
export const equal = (a: TensorLike, b: TensorLike): Tensor => apply(EQUAL, [a, b]);
/** a > b elementwise (bool). @example greater(x, 0) */
export const greater = (a: TensorLike, b: TensorLike): Tensor => apply(GREATER, [a, b]);
/** -x. @example neg(x) */
export const neg = (x: Tensor): Tensor => apply(NEG, [x]);
/** x². @example square(x) */
export const square = (x: Tensor): Tensor => apply(SQUARE, [x]);
/** √x. @example sqrt(x) */
export const sqrt = (x: Tensor): Tensor => apply(SQRT, [x]);
/** eˣ. @example exp(x) */
export const exp = (x: Tensor): Tensor => apply(EXP, [x]);
/** Natural logarithm. @example log(x) */
export const log = (x: Tensor): Tensor => apply(LOG, [x]);
/** sin x. @example sin(x) */
export const sin = (x: Tensor): Tensor => apply(SIN, [x]);
/** cos x. @example cos(x) */
export const cos = (x: Tensor): Tensor => apply(COS, [x]);
/** tanh x. @example tanh(x) */
export const tanh = (x: Tensor): Tensor => apply(TANH, [x]);
/** 1 / (1 + e⁻ˣ), computed without overflow. @example sigmoid(x) */
export const sigmoid = (x: Tensor): Tensor => apply(SIGMOID, [x]);
/** max(x, 0). @example relu(x) */
export const relu = (x: Tensor): Tensor => apply(RELU, [x]);
/** relu's gradient: dy where x > 0, else 0 (TensorFlow's ReluGrad). @example reluGrad(dy, x) */
export const reluGrad = (dy: TensorLike, x: TensorLike): Tensor => apply(RELU_GRAD, [dy, x]);
/** The same value as a new node. @example identity(x) */
export const identity = (x: Tensor): Tensor => apply(IDENTITY, [x]);
/** The same value; no gradient flows back through it. @example stopGradient(x) */
export const stopGradient = (x: Tensor): Tensor => apply(STOP_GRADIENT, [x]);
/** Converts to another dtype. @example cast(mask, 'float32') */
export const cast = (x: Tensor, dtype: DType): Tensor => apply(CAST, [x], { dtype });
/** Zeros of x's shape and dtype. @example zerosLike(x) */
export const zerosLike = (x: Tensor): Tensor => apply(ZEROS_LIKE, [x]);
/** Ones of x's shape and dtype. @example onesLike(x) */
export const onesLike = (x: Tensor): Tensor => apply(ONES_LIKE, [x]);
/** a where condition, else b. @example where(greater(x, 0), x, zerosLike(x)) */
export const where = (condition: Tensor, a: TensorLike, b: TensorLike): Tensor => apply(WHERE, [condition, a, b]);
/** max(a, b) elementwise, with broadcasting. @example maximum(x, 0) */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => apply(MAXIMUM, [a, b]);
/** min(a, b) elementwise, with broadcasting. @example minimum(x, 1) */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => apply(MINIMUM, [a, b]);
/** (a − b)², with broadcasting. @example squaredDifference(prediction, target) */
export const squaredDifference = (a: TensorLike, b: TensorLike): Tensor => apply(SQUARED_DIFFERENCE, [a, b]);
/** ⌊a / b⌋, with broadcasting; no gradient. @example floorDiv(x, 2) */
export const floorDiv = (a: TensorLike, b: TensorLike): Tensor => apply(FLOOR_DIV, [a, b]);
/** Floor modulo: a − ⌊a / b⌋·b, with the sign of b; with broadcasting. @example mod(x, 3) */
export const mod = (a: TensorLike, b: TensorLike): Tensor => apply(MOD, [a, b]);
/** The angle of the point (b, a), atan(a / b) in the right quadrant; with broadcasting. @example atan2(y, x) */
export const atan2 = (a: TensorLike, b: TensorLike): Tensor => apply(ATAN2, [a, b]);
/** The sum of tensors of one shape and dtype. @example addN([x, y, z]) */
export const addN = (tensors: readonly TensorLike[]): Tensor => apply(ADD_N, tensors);
