/**
 * Comparisons and logic: bool results and no gradient rule (the output is piecewise constant, so no gradient
 * flows back through these ops, as in TensorFlow). `equal` and `greater` live in elementwise.ts with the core ops.
 *
 * This file imports nothing from the other elementwise families, so those can use its masks in their rules; for
 * the same reason it holds broadcastInfer, the broadcasting shape rule that all of them share.
 */
import { broadcastStatic, DTypeError, formatShape, ShapeError, Tensor } from '../graph';
import { binary, unary } from './kernels';
import { apply, OpRecord, requireSameDType, TensorInfo, TensorLike } from './record';

/** The NumPy broadcast of the inputs' static shapes, or a ShapeError saying which shapes clash. */
export function broadcastInfer(inputs: readonly TensorInfo[]): TensorInfo['shape'] {
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

function requireBool(inputs: readonly TensorInfo[]): void {
  for (const input of inputs) {
    if (input.dtype !== 'bool') {
      throw new DTypeError(
        `expects bool inputs, got ${inputs.map((i) => i.dtype).join(' and ')}; ` +
          "make a mask with a comparison (e.g. greater(x, 0)) or cast(x, 'bool')",
      );
    }
  }
}

/** A broadcasting comparison: inputs of one dtype (any, as in tfjs), a bool result. */
function comparison(name: string, scalar: (a: number, b: number) => number, template: string): OpRecord {
  const kernel = binary(scalar);
  return {
    name,
    arity: 2,
    scalar,
    template,
    inPlace: true,
    infer(inputs) {
      requireSameDType(inputs);
      return { dtype: 'bool', shape: broadcastInfer(inputs) };
    },
    kernel: (inputs, out) => kernel(inputs[0], inputs[1], out),
  };
}

/** A broadcasting logical op over bool inputs (stored as 0/1). */
function logical(name: string, scalar: (a: number, b: number) => number, template: string): OpRecord {
  const kernel = binary(scalar);
  return {
    name,
    arity: 2,
    scalar,
    template,
    inPlace: true,
    infer(inputs) {
      requireBool(inputs);
      return { dtype: 'bool', shape: broadcastInfer(inputs) };
    },
    kernel: (inputs, out) => kernel(inputs[0], inputs[1], out),
  };
}

// NaN compares unequal to everything, itself included, so notEqual(NaN, NaN) is true and the others false.
export const NOT_EQUAL: OpRecord = {
  ...comparison('notEqual', (a, b) => (a !== b ? 1 : 0), '($0 !== $1 ? 1 : 0)'),
  commutative: true,
};
export const LESS = comparison('less', (a, b) => (a < b ? 1 : 0), '($0 < $1 ? 1 : 0)');
export const LESS_EQUAL = comparison('lessEqual', (a, b) => (a <= b ? 1 : 0), '($0 <= $1 ? 1 : 0)');
export const GREATER_EQUAL = comparison('greaterEqual', (a, b) => (a >= b ? 1 : 0), '($0 >= $1 ? 1 : 0)');
export const LOGICAL_AND: OpRecord = {
  ...logical('logicalAnd', (a, b) => (a !== 0 && b !== 0 ? 1 : 0), '($0 !== 0 && $1 !== 0 ? 1 : 0)'),
  commutative: true,
};
export const LOGICAL_OR: OpRecord = {
  ...logical('logicalOr', (a, b) => (a !== 0 || b !== 0 ? 1 : 0), '($0 !== 0 || $1 !== 0 ? 1 : 0)'),
  commutative: true,
};

export const LOGICAL_NOT: OpRecord = (() => {
  const scalar = (x: number): number => (x === 0 ? 1 : 0);
  const kernel = unary(scalar);
  return {
    name: 'logicalNot',
    arity: 1,
    scalar,
    template: '($0 === 0 ? 1 : 0)',
    inPlace: true,
    infer(inputs) {
      requireBool(inputs);
      return inputs[0];
    },
    kernel: (inputs, out) => kernel(inputs[0], out),
  };
})();

/** Comparisons and logic: bool results, no gradient. */
export const COMPARE_OPS: readonly OpRecord[] = [
  NOT_EQUAL, LESS, LESS_EQUAL, GREATER_EQUAL, LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT,
]; // prettier-ignore

// ---- builders (TensorFlow.js names and argument order) -----------------------------------------------

/** a != b elementwise (bool), with broadcasting. @example notEqual(x, 0) */
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => apply(NOT_EQUAL, [a, b]);
/** a < b elementwise (bool), with broadcasting. @example less(x, y) */
export const less = (a: TensorLike, b: TensorLike): Tensor => apply(LESS, [a, b]);
/** a <= b elementwise (bool), with broadcasting. @example lessEqual(x, 1) */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => apply(LESS_EQUAL, [a, b]);
/** a >= b elementwise (bool), with broadcasting. @example greaterEqual(x, 0) */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => apply(GREATER_EQUAL, [a, b]);
/** a AND b over bool tensors, with broadcasting. @example logicalAnd(greater(x, 0), less(x, 1)) */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => apply(LOGICAL_AND, [a, b]);
/** a OR b over bool tensors, with broadcasting. @example logicalOr(less(x, 0), greater(x, 1)) */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => apply(LOGICAL_OR, [a, b]);
/** NOT x over a bool tensor. @example logicalNot(isNaN(x)) */
export const logicalNot = (x: Tensor): Tensor => apply(LOGICAL_NOT, [x]);
