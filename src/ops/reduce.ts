import { Attrs, Dim, formatShape, isFullyKnown, normalizeAxes, ShapeError, sizeOf, Tensor } from '../graph';
import { cast, div, equal, mul } from './elementwise';
import { reduce as reduceKernel } from './kernels';
import { broadcastLike, expandDims } from './movement';
import { apply, OpRecord, requireNumeric, TensorInfo } from './record';

type ReduceKind = 'sum' | 'max';

function reducedShape(shape: readonly Dim[], axes: readonly number[], keepDims: boolean): Dim[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduceInfer([x]: readonly TensorInfo[], attrs: Attrs): TensorInfo {
  requireNumeric(x);
  const axes = attrs.axes as number[];
  if (axes.some((a, i) => !Number.isInteger(a) || a < 0 || a >= x.shape.length || (i > 0 && a <= axes[i - 1]))) {
    throw new ShapeError(
      `axes ${JSON.stringify(axes)} are not valid for rank ${x.shape.length} ${formatShape(x.shape)}`,
    );
  }
  return { dtype: x.dtype, shape: reducedShape(x.shape, axes, attrs.keepDims === true) };
}

/** The gradient arriving at a reduction, reshaped with the reduced dims kept (as size 1). */
function keptDims(dy: Tensor, attrs: Attrs): Tensor {
  return attrs.keepDims === true ? dy : expandDims(dy, attrs.axes as number[]);
}

function reduceOp(kind: ReduceKind, vjp: OpRecord['vjp']): OpRecord {
  return {
    name: kind,
    arity: 1,
    infer: reduceInfer,
    kernel: ([x], out, attrs) => reduceKernel(kind, x, attrs.axes as number[], out),
    vjp,
  };
}

export const SUM = reduceOp('sum', ({ inputs: [x], dy, attrs }) => [broadcastLike(keptDims(dy, attrs), x)]);

export const MAX = reduceOp('max', ({ inputs: [x], output, dy, attrs }) => {
  // The gradient goes to the maximal elements, shared equally between ties (as TensorFlow does).
  const mask = cast(equal(x, broadcastLike(keptDims(output, attrs), x)), x.dtype);
  const ties = apply(SUM, [mask], { axes: attrs.axes, keepDims: true });
  return [mul(broadcastLike(keptDims(dy, attrs), x), div(mask, ties))];
});

/** The number of elements a reduction over `axes` combines: depends only on x's shape. */
export const REDUCED_SIZE: OpRecord = {
  name: 'reducedSize',
  arity: 1,
  shapeOnly: true,
  infer: (_inputs, attrs) => ({ dtype: attrs.dtype === 'float64' ? 'float64' : 'float32', shape: [] }),
  kernel([x], out, attrs) {
    const axes = attrs.axes as number[];
    out.data[0] = sizeOf(axes.map((a) => x.shape[a]));
  },
  vjp: () => [null],
};

export const REDUCE_OPS: readonly OpRecord[] = [SUM, MAX, REDUCED_SIZE];

// ---- builders ---------------------------------------------------------------------------------------

function reduceAttrs(name: string, x: Tensor, axis: number | readonly number[] | undefined, keepDims: boolean): Attrs {
  const axes = normalizeAxes(axis, x.rank);
  if (axes === null) {
    throw new ShapeError(
      `${name} '${x.graph.scopePrefix}${name}' (input '${x.name}' ${x.dtype}${formatShape(x.shape)}): ` +
        `axis ${JSON.stringify(axis)} is out of range; valid axes are in [${-x.rank}, ${x.rank})`,
    );
  }
  return { axes, keepDims };
}

/** Sum over `axis` (all axes by default). @example sum(x, 1, true) */
export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(SUM, [x], reduceAttrs('sum', x, axis, keepDims));
}

/** Maximum over `axis` (all axes by default). @example max(logits, -1) */
export function max(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return apply(MAX, [x], reduceAttrs('max', x, axis, keepDims));
}

/**
 * Mean over `axis` (all axes by default): a sum times 1/count, so it needs no rule of its own.
 * @example mean(square(sub(y, t)))
 */
export function mean(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  const attrs = reduceAttrs('mean', x, axis, keepDims);
  const axes = attrs.axes as number[];
  return x.graph.nameScope('mean', () => {
    const total = apply(SUM, [x], attrs);
    const known = axes.map((a) => x.shape[a]);
    if (isFullyKnown(known)) return mul(total, 1 / sizeOf(known));
    return div(total, apply(REDUCED_SIZE, [x], { axes, dtype: x.dtype }));
  });
}
