import { Attrs, DType, DTypeError, isDType, ShapeError, Tensor, broadcastStatic, formatShape } from '../graph';
import { binary, cast as castKernel, ternary, unary } from './kernels';
import type { Buf } from './kernels/types';
import { apply, OpRecord, requireFloat, requireNumeric, requireSameDType, TensorInfo, TensorLike } from './record';

// ---- how elementwise records are made -----------------------------------------------------------------

function broadcastInfer(inputs: readonly TensorInfo[]): TensorInfo['shape'] {
  let shape = inputs[0].shape;
  for (let i = 1; i < inputs.length; i++) {
    const next = broadcastStatic(shape, inputs[i].shape);
    if (next === null) {
      throw new ShapeError(
        `shapes ${inputs.map((x) => formatShape(x.shape)).join(' and ')} cannot broadcast; ` +
          'aligned from the right, each pair of dims must be equal or one of them 1',
      );
    }
    shape = next;
  }
  return shape;
}

type BinaryVjp = (a: Tensor, b: Tensor, y: Tensor, dy: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

/** A binary elementwise op with broadcasting: record from its scalar function and its gradient rule. */
function binaryOp(
  name: string,
  scalar: (a: number, b: number) => number,
  vjp: BinaryVjp | undefined,
  output: 'same' | 'bool' = 'same',
): OpRecord {
  const kernel = binary(scalar);
  return {
    name,
    arity: 2,
    scalar,
    infer(inputs) {
      const dtype = requireSameDType(inputs);
      if (output === 'same') requireNumeric(inputs[0]);
      return { dtype: output === 'bool' ? 'bool' : dtype, shape: broadcastInfer(inputs) };
    },
    kernel: (inputs, out) => kernel(inputs[0], inputs[1], out),
    vjp: vjp && (({ inputs, output: y, dy, needs }) => vjp(inputs[0], inputs[1], y, dy, needs)),
  };
}

/** A unary elementwise op: record from its scalar function and its gradient rule. */
function unaryOp(
  name: string,
  scalar: (x: number) => number,
  vjp: ((x: Tensor, y: Tensor, dy: Tensor) => Tensor) | undefined,
  accepts: 'float' | 'numeric' = 'float',
): OpRecord {
  const kernel = unary(scalar);
  return {
    name,
    arity: 1,
    scalar,
    infer([x]) {
      if (accepts === 'float') requireFloat(x);
      else requireNumeric(x);
      return { dtype: x.dtype, shape: x.shape };
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
);
export const SUB = binaryOp(
  'sub',
  (a, b) => a - b,
  (_a, _b, _y, dy, needs) => [dy, needs[1] ? neg(dy) : null],
);
export const MUL = binaryOp(
  'mul',
  (a, b) => a * b,
  (a, b, _y, dy, needs) => [needs[0] ? mul(dy, b) : null, needs[1] ? mul(dy, a) : null],
);
export const DIV = binaryOp(
  'div',
  (a, b) => a / b,
  (a, b, _y, dy, needs) => [needs[0] ? div(dy, b) : null, needs[1] ? neg(div(mul(dy, a), square(b))) : null],
);
export const POW = binaryOp('pow', Math.pow, (a, b, y, dy, needs) => [
  needs[0] ? mul(dy, mul(b, pow(a, sub(b, 1)))) : null,
  // d/db a^b = a^b ln a, taken as 0 where a <= 0 (as TensorFlow does) so it is never NaN there.
  needs[1] ? mul(dy, mul(y, where(greater(a, 0), log(where(greater(a, 0), a, onesLike(a))), zerosLike(a)))) : null,
]);
export const EQUAL = binaryOp('equal', (a, b) => (a === b ? 1 : 0), undefined, 'bool');
export const GREATER = binaryOp('greater', (a, b) => (a > b ? 1 : 0), undefined, 'bool');

export const NEG = unaryOp(
  'neg',
  (x) => -x,
  (_x, _y, dy) => neg(dy),
  'numeric',
);
export const SQUARE = unaryOp(
  'square',
  (x) => x * x,
  (x, _y, dy) => mul(dy, mul(x, 2)),
  'numeric',
);
export const SQRT = unaryOp('sqrt', Math.sqrt, (_x, y, dy) => div(dy, mul(y, 2)));
export const EXP = unaryOp('exp', Math.exp, (_x, y, dy) => mul(dy, y));
export const LOG = unaryOp('log', Math.log, (x, _y, dy) => div(dy, x));
export const SIN = unaryOp('sin', Math.sin, (x, _y, dy) => mul(dy, cos(x)));
export const COS = unaryOp('cos', Math.cos, (x, _y, dy) => neg(mul(dy, sin(x))));
export const TANH = unaryOp('tanh', Math.tanh, (_x, y, dy) => mul(dy, sub(1, square(y))));
export const SIGMOID = unaryOp(
  'sigmoid',
  (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  (_x, y, dy) => mul(dy, mul(y, sub(1, y))),
);
export const RELU = unaryOp(
  'relu',
  (x) => (x > 0 ? x : x === x ? 0 : x),
  (x, _y, dy) => mul(dy, cast(greater(x, 0), x.dtype)),
  'numeric',
);

export const IDENTITY: OpRecord = {
  name: 'identity',
  arity: 1,
  scalar: (x) => x,
  infer: ([x]) => x,
  kernel: ([x], out) => out.data.set(x.data),
  vjp: ({ dy }) => [dy],
};

/** The value passes through; the gradient stops here. */
export const STOP_GRADIENT: OpRecord = {
  name: 'stopGradient',
  arity: 1,
  scalar: (x) => x,
  infer: ([x]) => x,
  kernel: ([x], out) => out.data.set(x.data),
  vjp: () => [null],
};

export const CAST: OpRecord = {
  name: 'cast',
  arity: 1,
  infer([x], attrs) {
    if (!isDType(attrs.dtype)) {
      throw new DTypeError(`unknown target dtype '${String(attrs.dtype)}'; valid: float32, float64, int32, bool`);
    }
    return { dtype: attrs.dtype, shape: x.shape };
  },
  kernel: ([x], out) => castKernel(x, out),
  vjp: ({ inputs: [x], dy }) => [x.isFloat && dy.isFloat ? cast(dy, x.dtype) : null],
};

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

export const ELEMENTWISE_OPS: readonly OpRecord[] = [
  ADD, SUB, MUL, DIV, POW, EQUAL, GREATER,
  NEG, SQUARE, SQRT, EXP, LOG, SIN, COS, TANH, SIGMOID, RELU,
  IDENTITY, STOP_GRADIENT, CAST, ZEROS_LIKE, ONES_LIKE, WHERE,
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
/** The same value as a new node. @example identity(x) */
export const identity = (x: Tensor): Tensor => apply(IDENTITY, [x]);
/** The same value; no gradient flows back through it. @example stopGradient(x) */
export const stopGradient = (x: Tensor): Tensor => apply(STOP_GRADIENT, [x]);
/** Converts to another dtype. @example cast(mask, 'float32') */
export const cast = (x: Tensor, dtype: DType): Tensor => apply(CAST, [x], { dtype } as Attrs);
/** Zeros of x's shape and dtype. @example zerosLike(x) */
export const zerosLike = (x: Tensor): Tensor => apply(ZEROS_LIKE, [x]);
/** Ones of x's shape and dtype. @example onesLike(x) */
export const onesLike = (x: Tensor): Tensor => apply(ONES_LIKE, [x]);
/** a where condition, else b. @example where(greater(x, 0), x, zerosLike(x)) */
export const where = (condition: Tensor, a: TensorLike, b: TensorLike): Tensor => apply(WHERE, [condition, a, b]);
