import {
  Dim,
  DTypeError,
  formatShape,
  GraphError,
  isFullyKnown,
  normalizeAxes,
  ShapeError,
  sizeOf,
  Tensor,
} from '../graph';
import {
  add,
  cast,
  div,
  equal,
  exp,
  greater,
  mul,
  onesLike,
  pow,
  sqrt,
  square,
  sub,
  where,
  zerosLike,
} from './elementwise';
import {
  argReduce,
  logSumExp as logSumExpKernel,
  prodExcept as prodExceptKernel,
  reduce as reduceKernel,
} from './kernels';
import type { ReduceKind } from './kernels';
import { broadcastLike, expandDims, squeeze } from './movement';
import { abs } from './unary';
import { AttrsOf } from './attrs';
import { apply, defineOp, OpRecord, requireFloat, requireNumeric, TensorInfo, VjpArgs, VjpResult } from './record';

function reducedShape(shape: readonly Dim[], axes: readonly number[], keepDims: boolean): Dim[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function checkAxes(x: TensorInfo, axes: readonly number[]): void {
  if (axes.some((a, i) => !Number.isInteger(a) || a < 0 || a >= x.shape.length || (i > 0 && a <= axes[i - 1]))) {
    throw new ShapeError(
      `axes ${JSON.stringify(axes)} are not valid for rank ${x.shape.length} ${formatShape(x.shape)}`,
    );
  }
}

type Accepts = 'numeric' | 'bool' | 'float';

/** The attrs of every reduction: sorted, unique axes, and whether the reduced dims stay (as size 1). */
const REDUCTION = { axes: 'ints', keepDims: 'bool?' } as const;
type ReductionAttrs = AttrsOf<typeof REDUCTION>;

function reduceInfer(accepts: Accepts): (inputs: readonly TensorInfo[], attrs: ReductionAttrs) => TensorInfo {
  return ([x], attrs) => {
    if (accepts === 'numeric') requireNumeric(x);
    else if (accepts === 'float') requireFloat(x);
    else if (x.dtype !== 'bool') {
      throw new DTypeError(`expects a bool input, got ${x.dtype}; compare first, e.g. greater(x, 0)`);
    }
    const { axes } = attrs;
    checkAxes(x, axes);
    return { dtype: x.dtype, shape: reducedShape(x.shape, axes, attrs.keepDims === true) };
  };
}

/** The gradient arriving at a reduction, reshaped with the reduced dims kept (as size 1). */
function keptDims(dy: Tensor, attrs: ReductionAttrs): Tensor {
  return attrs.keepDims === true ? dy : expandDims(dy, attrs.axes);
}

type ReductionVjp = (args: VjpArgs<ReductionAttrs>) => VjpResult;

function reduceOp(kind: ReduceKind, vjp: ReductionVjp | undefined, accepts: Accepts = 'numeric') {
  return defineOp({
    name: kind,
    arity: 1,
    attrs: REDUCTION,
    infer: reduceInfer(accepts),
    kernel: ([x], out, attrs) => reduceKernel(kind, x, attrs.axes, out),
    vjp,
  });
}

/** Sum over `axes` with the reduced dims kept: what the gradient rules below use. */
function keptSum(x: Tensor, axes: readonly number[]): Tensor {
  return apply(SUM, [x], { axes: [...axes], keepDims: true });
}

export const SUM = reduceOp('sum', ({ inputs: [x], dy, attrs }) => [broadcastLike(keptDims(dy, attrs), x)]);

// max and min: the gradient goes to the extremal elements, shared equally between ties (as TensorFlow does).
const extremumVjp: ReductionVjp = ({ inputs: [x], output, dy, attrs }) => {
  const mask = cast(equal(x, broadcastLike(keptDims(output, attrs), x)), x.dtype);
  const ties = keptSum(mask, attrs.axes);
  return [mul(broadcastLike(keptDims(dy, attrs), x), div(mask, ties))];
};

export const MAX = reduceOp('max', extremumVjp);
export const MIN = reduceOp('min', extremumVjp);

/** prodExcept(x): each element replaced by the product of the others in its group over `axes`. */
export const PROD_EXCEPT = defineOp({
  name: 'prodExcept',
  arity: 1,
  attrs: { axes: 'ints' },
  infer([x], attrs) {
    requireFloat(x);
    checkAxes(x, attrs.axes);
    return x;
  },
  kernel: ([x], out, attrs) => prodExceptKernel(x, attrs.axes, out),
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => [prodExceptVjp(x, dy, attrs.axes)],
});

/**
 * d/dxⱼ of Σₖ dyₖ·Πᵢ≠ₖ xᵢ is Σₖ≠ⱼ dyₖ·Πᵢ∉{j,k} xᵢ. Without zeros that is (Σₖ dyₖeₖ − dyⱼeⱼ) / xⱼ; zeros
 * are handled by case on how many the group holds (nz) and whether xⱼ is one, dividing only by `safe` (zeros
 * replaced by ones), so no branch produces Inf or NaN that a gradient through `where` would carry.
 */
function prodExceptVjp(x: Tensor, dy: Tensor, axes: readonly number[]): Tensor {
  const isZero = equal(x, 0);
  const zeros = cast(isZero, x.dtype);
  const safe = where(isZero, onesLike(x), x);
  const e = apply(PROD_EXCEPT, [safe], { axes: [...axes] });
  const dyE = mul(dy, e);
  const general = div(sub(keptSum(dyE, axes), dyE), safe); // nz = 0, or nz = 1 at the zero (safe = 1 there)
  const dyAtZeros = keptSum(mul(dy, zeros), axes);
  const oneZeroElsewhere = mul(dyAtZeros, e); // nz = 1, xⱼ ≠ 0: only k = the zero survives
  const productOfNonzeros = apply(PROD, [safe], { axes: [...axes], keepDims: true });
  const twoZerosHere = mul(sub(dyAtZeros, dy), productOfNonzeros); // nz = 2, xⱼ = 0: only k = the other zero
  const key = add(mul(keptSum(zeros, axes), 2), zeros); // 2·nz + [xⱼ = 0]
  return where(
    equal(key, 2),
    oneZeroElsewhere,
    where(equal(key, 5), twoZerosHere, where(greater(key, 3), zerosLike(x), general)),
  );
}

// The gradient is dy times the product of the other elements (TensorFlow's exclusive-cumprod gradient): exact with
// zeros in the input, and differentiable again through prodExcept's rule.
export const PROD = reduceOp('prod', ({ inputs: [x], dy, attrs }) => [
  mul(keptDims(dy, attrs), apply(PROD_EXCEPT, [x], { axes: attrs.axes })),
]);

export const ALL = reduceOp('all', undefined, 'bool');
export const ANY = reduceOp('any', undefined, 'bool');

/** log Σ exp(x) over `axes`, computed stably; the gradient is dy weighted by softmax(x) over the group. */
export const LOG_SUM_EXP = defineOp({
  name: 'logSumExp',
  arity: 1,
  attrs: REDUCTION,
  infer: reduceInfer('float'),
  kernel: ([x], out, attrs) => logSumExpKernel(x, attrs.axes, out),
  vjp: ({ inputs: [x], output, dy, attrs }) => [mul(keptDims(dy, attrs), exp(sub(x, keptDims(output, attrs))))],
});

function argInfer([x]: readonly TensorInfo[], { axis }: { readonly axis: number }): TensorInfo {
  requireNumeric(x);
  checkAxes(x, [axis]);
  if (x.shape[axis] === 0) {
    throw new ShapeError(
      `axis ${axis} of ${formatShape(x.shape)} is empty; an arg-reduction needs at least one element`,
    );
  }
  return { dtype: 'int32', shape: x.shape.filter((_, i) => i !== axis) };
}

export const ARG_MAX = defineOp({
  name: 'argMax',
  arity: 1,
  attrs: { axis: 'int' },
  infer: argInfer,
  kernel: ([x], out, attrs) => argReduce('max', x, attrs.axis, out),
});

export const ARG_MIN = defineOp({
  name: 'argMin',
  arity: 1,
  attrs: { axis: 'int' },
  infer: argInfer,
  kernel: ([x], out, attrs) => argReduce('min', x, attrs.axis, out),
});

/** The number of elements a reduction over `axes` combines: depends only on x's shape. */
export const REDUCED_SIZE = defineOp({
  name: 'reducedSize',
  arity: 1,
  shapeOnly: true,
  attrs: { axes: 'ints', dtype: 'dtype?' },
  infer: ([x], { axes, dtype }) => {
    if (axes.some((a) => a < 0 || a >= x.shape.length)) {
      throw new ShapeError(`axes ${JSON.stringify(axes)} are not valid for rank ${x.shape.length}`);
    }
    return { dtype: dtype === 'float64' ? 'float64' : 'float32', shape: [] };
  },
  kernel([x], out, { axes }) {
    out.data[0] = sizeOf(axes.map((a) => x.shape[a]));
  },
  vjp: () => [null],
});

export const REDUCE_OPS: readonly OpRecord[] = [
  SUM, MAX, MIN, PROD, PROD_EXCEPT, ALL, ANY, LOG_SUM_EXP, ARG_MAX, ARG_MIN, REDUCED_SIZE,
]; // prettier-ignore

// ---- builders ---------------------------------------------------------------------------------------

function axisError(name: string, x: Tensor, axis: unknown): ShapeError {
  return new ShapeError(
    `${name} '${x.graph.scopePrefix}${name}' (input '${x.name}' ${x.dtype}${formatShape(x.shape)}): ` +
      `axis ${JSON.stringify(axis)} is out of range; valid axes are in [${-x.rank}, ${x.rank})`,
  );
}

function resolveAxes(name: string, x: Tensor, axis: number | readonly number[] | undefined): number[] {
  const axes = normalizeAxes(axis, x.rank);
  if (axes === null) throw axisError(name, x, axis);
  return axes;
}

function reduceAttrs(
  name: string,
  x: Tensor,
  axis: number | readonly number[] | undefined,
  keepDims: boolean,
): ReductionAttrs {
  return { axes: resolveAxes(name, x, axis), keepDims };
}

/** Sum over `axis` (all axes by default). @example sum(x, 1, true) */
export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(SUM, [x], reduceAttrs('sum', x, axis, keepDims));
}

/** Maximum over `axis` (all axes by default). @example max(logits, -1) */
export function max(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(MAX, [x], reduceAttrs('max', x, axis, keepDims));
}

/** Minimum over `axis` (all axes by default); ties share the gradient. @example min(x, [0, 2], true) */
export function min(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(MIN, [x], reduceAttrs('min', x, axis, keepDims));
}

/** Product over `axis` (all axes by default); the gradient is exact with zeros. @example prod(x, -1) */
export function prod(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(PROD, [x], reduceAttrs('prod', x, axis, keepDims));
}

/** log(Σ exp(x)) over `axis` (all by default), without overflow. @example logSumExp(logits, -1, true) */
export function logSumExp(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(LOG_SUM_EXP, [x], reduceAttrs('logSumExp', x, axis, keepDims));
}

/** Logical AND of a bool tensor over `axis` (all by default). @example all(greater(x, 0), 1) */
export function all(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(ALL, [x], reduceAttrs('all', x, axis, keepDims));
}

/** Logical OR of a bool tensor over `axis` (all by default). @example any(equal(x, 0)) */
export function any(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(ANY, [x], reduceAttrs('any', x, axis, keepDims));
}

function argAttrs(name: string, x: Tensor, axis: number): { axis: number } {
  if (!Number.isInteger(axis) || axis < -x.rank || axis >= x.rank) throw axisError(name, x, axis);
  return { axis: axis < 0 ? axis + x.rank : axis };
}

/** Index (int32) of the first maximum along `axis`. @example argMax(logits, -1) */
export function argMax(x: Tensor, axis = 0): Tensor {
  return apply(ARG_MAX, [x], argAttrs('argMax', x, axis));
}

/** Index (int32) of the first minimum along `axis`. @example argMin(distances, 1) */
export function argMin(x: Tensor, axis = 0): Tensor {
  return apply(ARG_MIN, [x], argAttrs('argMin', x, axis));
}

/**
 * Mean over `axis` (all axes by default): a sum times 1/count, so it needs no rule of its own.
 * @example mean(square(sub(y, t)))
 */
export function mean(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  const attrs = reduceAttrs('mean', x, axis, keepDims);
  const { axes } = attrs;
  return x.graph.nameScope('mean', () => {
    // As tfjs: the mean of integers is a float32 (the exact 2.5, not TensorFlow's truncated 2).
    const values = x.dtype === 'float32' || x.dtype === 'float64' ? x : cast(x, 'float32');
    const total = apply(SUM, [values], attrs);
    const known = axes.map((a) => x.shape[a]);
    if (isFullyKnown(known)) return mul(total, 1 / sizeOf(known));
    return div(total, apply(REDUCED_SIZE, [x], { axes, dtype: values.dtype }));
  });
}

/**
 * Mean and variance over `axis` (all axes by default), as tf.moments.
 * @example const { mean: mu, variance } = moments(x, [0, 1, 2])
 */
export function moments(
  x: Tensor,
  axis?: number | readonly number[],
  keepDims = false,
): { mean: Tensor; variance: Tensor } {
  const axes = resolveAxes('moments', x, axis);
  return x.graph.nameScope('moments', () => {
    const center = mean(x, axes, true);
    const variance = mean(square(sub(x, center)), axes, keepDims);
    return { mean: keepDims ? center : squeeze(center, axes), variance };
  });
}

/** The order of a norm: 'euclidean' (= 2 for vectors, = 'fro' for matrices), 'fro', or a number. */
export type NormOrder = 'euclidean' | 'fro' | number;

function vectorNorm(x: Tensor, ord: NormOrder, axes: number[], keepDims: boolean): Tensor | null {
  if (ord === 'euclidean' || ord === 'fro' || ord === 2) return sqrt(sum(square(x), axes, keepDims));
  if (typeof ord !== 'number' || Number.isNaN(ord)) return null;
  if (ord === 1) return sum(abs(x), axes, keepDims);
  if (ord === Infinity) return max(abs(x), axes, keepDims);
  if (ord === -Infinity) return min(abs(x), axes, keepDims);
  if (ord === 0) return sum(sub(1, cast(equal(x, 0), x.dtype)), axes, keepDims); // count of non-zeros
  return pow(sum(pow(abs(x), ord), axes, keepDims), 1 / ord);
}

function matrixNorm(x: Tensor, ord: NormOrder, rows: number, cols: number, keepDims: boolean): Tensor | null {
  let y: Tensor;
  if (ord === 'euclidean' || ord === 'fro') y = sqrt(sum(square(x), [rows, cols], true));
  else if (ord === 1) y = max(sum(abs(x), rows, true), cols, true);
  else if (ord === -1) y = min(sum(abs(x), rows, true), cols, true);
  else if (ord === Infinity) y = max(sum(abs(x), cols, true), rows, true);
  else if (ord === -Infinity) y = min(sum(abs(x), cols, true), rows, true);
  else return null;
  return keepDims ? y : squeeze(y, [rows, cols]);
}

/**
 * Vector norm over one axis (or over all elements when `axis` is omitted), or matrix norm over two axes
 * ('fro'/'euclidean', 1, -1, Infinity, -Infinity; axis[0] indexes rows, axis[1] columns), as tf.norm.
 * @example norm(x, 'euclidean', -1, true)
 */
export function norm(
  x: Tensor,
  ord: NormOrder = 'euclidean',
  axis?: number | readonly number[],
  keepDims = false,
): Tensor {
  const list = axis === undefined ? null : typeof axis === 'number' ? [axis] : [...axis];
  if (list !== null && list.some((a) => !Number.isInteger(a) || a < -x.rank || a >= x.rank)) {
    throw axisError('norm', x, axis);
  }
  const axes = list === null ? resolveAxes('norm', x, undefined) : list.map((a) => (a < 0 ? a + x.rank : a));
  const y = x.graph.nameScope('norm', () => {
    if (list === null || axes.length === 1) {
      return ord === 'fro' && list !== null ? null : vectorNorm(x, ord, axes, keepDims);
    }
    if (axes.length === 2 && axes[0] !== axes[1]) return matrixNorm(x, ord, axes[0], axes[1], keepDims);
    throw new ShapeError(
      `norm '${x.graph.scopePrefix}norm' (input '${x.name}' ${formatShape(x.shape)}): axis ${JSON.stringify(axis)} ` +
        'is not valid; give one axis (vector norm), two distinct axes (matrix norm) or none (all elements)',
    );
  });
  if (y === null) {
    const valid =
      list !== null && axes.length === 2
        ? "a matrix norm; use 'fro', 'euclidean', 1, -1, Infinity or -Infinity"
        : "a vector norm; use 'euclidean' or a number";
    throw new GraphError(`norm '${x.graph.scopePrefix}norm': ord ${String(ord)} is not supported for ${valid}`);
  }
  return y;
}
