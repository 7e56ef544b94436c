/**
 * Shapes known only at run time: reshapeDims, a reshape whose target dims may be dims of tensors (times a whole
 * factor), as ONNX's Reshape to a shape computed by Shape/Gather/Concat/Mul. A session re-infers every node with the
 * fed shapes, so such a dim is a number by the time the plan runs, while the graph is built once for every size.
 * This is what lets importOnnx read models whose dims are symbolic (a Reshape to [batch, length, 3, 8, 15], a
 * Resize by whole scales) without fixing their input shapes. tfjs has no such op (its reshape takes numbers).
 */
import { formatShape, isFullyKnown, ShapeError, sizeOf, Tensor } from '../graph';
import { linearTangent } from './indexing-common';
import { reshapeLike } from './movement';
import { apply, defineOp, OpRecord, TensorInfo } from './record';

/**
 * One target dim: a whole size, −1 (inferred from the element count, at most one), or dim `axis` of `of` times
 * `factor` (default 1), read when the shapes are known.
 */
export type DimSpec = number | { readonly of: Tensor; readonly axis: number; readonly factor?: number };

const ATTRS = { dims: 'ints', sources: 'ints', axes: 'ints' } as const;

interface DimsAttrs {
  /** A whole size or −1 where sources[i] is −1; the factor of the referenced dim otherwise. */
  readonly dims: readonly number[];
  /** −1 for a literal dim, else the index of the input whose dim `axes[i]` it is. */
  readonly sources: readonly number[];
  readonly axes: readonly number[];
}

function inferDims(inputs: readonly TensorInfo[], { dims, sources, axes }: DimsAttrs): TensorInfo {
  const [x] = inputs;
  if (dims.length !== sources.length || dims.length !== axes.length) {
    throw new ShapeError(`reshapeDims: dims, sources and axes must have one entry per target dim`);
  }
  const out = dims.map((d, i) => {
    const source = sources[i];
    if (source === -1) {
      if (!Number.isInteger(d) || d < -1)
        throw new ShapeError(`reshapeDims: target dim ${i} is ${d}; use a size >= 0 or -1`);
      return d;
    }
    const from = inputs[source];
    if (!Number.isInteger(source) || source < 0 || from === undefined) {
      throw new ShapeError(`reshapeDims: target dim ${i} reads input ${source}, which is not given`);
    }
    if (!Number.isInteger(axes[i]) || axes[i] < 0 || axes[i] >= from.shape.length) {
      throw new ShapeError(`reshapeDims: target dim ${i} reads axis ${axes[i]} of a rank-${from.shape.length} input`);
    }
    if (!Number.isInteger(d) || d < 1) throw new ShapeError(`reshapeDims: target dim ${i} has factor ${d}; use >= 1`);
    const size = from.shape[axes[i]];
    return size === null ? null : size * d;
  });
  if (out.filter((d) => d === -1).length > 1) throw new ShapeError(`reshapeDims: at most one target dim may be -1`);
  const rest = out.filter((d): d is number => d !== null && d !== -1);
  const all = rest.length === out.length - (out.includes(-1) ? 1 : 0);
  if (isFullyKnown(x.shape) && all) {
    const size = sizeOf(x.shape);
    const known = rest.reduce((p, d) => p * d, 1);
    const fits = out.includes(-1) ? known > 0 && size % known === 0 : known === size;
    const shown = formatShape(out.map((d) => (d === -1 ? null : d)));
    if (!fits)
      throw new ShapeError(`reshapeDims: cannot reshape ${size} elements ${formatShape(x.shape)} into ${shown}`);
    return { dtype: x.dtype, shape: out.map((d) => (d === -1 ? size / known : d)) };
  }
  return { dtype: x.dtype, shape: out.map((d) => (d === -1 ? null : d)) };
}

/** reshapeDims(x, ...sources) {dims, sources, axes}: x reshaped to dims that may be dims of the inputs. */
export const RESHAPE_DIMS = defineOp({
  name: 'reshapeDims',
  arity: 'variadic',
  attrs: ATTRS,
  infer: inferDims,
  kernel: ([x], out) => out.data.set(x.data),
  // Linear in x; the other inputs give only their shapes.
  vjp: ({ inputs, dy }) => [reshapeLike(dy, inputs[0]), ...inputs.slice(1).map(() => null)],
  jvp: (args): Tensor | null => linearTangent(RESHAPE_DIMS, args),
});

export const RUNTIME_SHAPE_OPS: readonly OpRecord[] = [RESHAPE_DIMS];

/**
 * Reshapes x to `dims`, where a dim may be a size, −1 (inferred; at most one), or `{ of, axis, factor }`: dim `axis`
 * of tensor `of` (x itself or another), times `factor`, known when the session runs. The element count must agree
 * (checked when the shapes are known). Gradient: reshapeLike(dy, x).
 * @example reshapeDims(x, [{ of: x, axis: 0 }, { of: t, axis: 1 }, 3, 8, 15])   // ONNX Reshape to [0, t.dim1, 3, 8, 15]
 */
export function reshapeDims(x: Tensor, dims: readonly DimSpec[]): Tensor {
  const sourcesOf: Tensor[] = [x];
  const attrs = { dims: [] as number[], sources: [] as number[], axes: [] as number[] };
  for (const d of dims) {
    if (typeof d === 'number') {
      attrs.dims.push(d);
      attrs.sources.push(-1);
      attrs.axes.push(0);
      continue;
    }
    let index = sourcesOf.findIndex((t) => t.id === d.of.id);
    if (index === -1) index = sourcesOf.push(d.of) - 1;
    attrs.dims.push(d.factor ?? 1);
    attrs.sources.push(index);
    attrs.axes.push(d.axis);
  }
  return apply(RESHAPE_DIMS, sourcesOf, attrs);
}
