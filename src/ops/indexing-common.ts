/** Shape rules, forward rules and argument errors that the indexing ops' files share. */
import { Attrs, Dim, DTypeError, formatShape, GraphError, NDArray, NestedArray, ShapeError, Tensor } from '../graph';
import { zerosLike } from './elementwise';
import { apply, JvpArgs, OpRecord, TensorInfo, TensorLike } from './record';

export function isIndex(value: unknown, lo: number, hi: number): value is number {
  return Number.isInteger(value) && (value as number) >= lo && (value as number) < hi;
}

/** Merges two dims that must agree (null is unknown); undefined when two known dims differ. */
export function mergeDim(a: Dim, b: Dim): Dim | undefined {
  if (a === null) return b;
  if (b === null || a === b) return a;
  return undefined;
}

/**
 * The dims shared by all inputs (every dim but `skip`), checking each pair: a mismatch names the dim, the two
 * inputs and their sizes.
 */
export function sharedDims(inputs: readonly TensorInfo[], skip: number | null, allowed: string): Dim[] {
  const rank = inputs[0].shape.length;
  const shape = [...inputs[0].shape];
  inputs.forEach((input, i) => {
    if (input.shape.length !== rank) {
      throw new ShapeError(`input ${i} has rank ${input.shape.length} but input 0 has rank ${rank}; ${allowed}`);
    }
    input.shape.forEach((d, axis) => {
      if (axis === skip) return;
      const merged = mergeDim(shape[axis], d);
      if (merged === undefined) {
        throw new ShapeError(
          `dim ${axis} differs: input 0 ${formatShape(inputs[0].shape)} has size ${shape[axis]} but input ${i} ` +
            `${formatShape(input.shape)} has size ${d}; ${allowed}`,
        );
      }
      shape[axis] = merged;
    });
  });
  return shape;
}

export function checkIndicesDType(indices: TensorInfo): void {
  if (indices.dtype !== 'int32') {
    throw new DTypeError(`indices must be int32, got ${indices.dtype}; cast them with cast(indices, 'int32')`);
  }
}

export function checkAxis(axis: number, rank: number): number {
  if (!isIndex(axis, 0, rank)) throw new ShapeError(`axis ${String(axis)} is out of range for rank ${rank}`);
  return axis;
}

/**
 * The forward rule of an op that is linear in its first input (any other input only indexes or shapes it): the
 * same op applied to that input's tangent.
 */
export function linearTangent<A extends Attrs>(
  record: OpRecord<A>,
  args: JvpArgs<A>,
  attrs = args.attrs,
): Tensor | null {
  const { inputs, tangents } = args;
  return tangents[0] === null ? null : apply(record, [tangents[0], ...inputs.slice(1)], attrs);
}

/** The forward rule of an op linear in all its inputs together (concat, stack): zeros stand in for null tangents. */
export function joinTangent<A extends Attrs>(record: OpRecord<A>, { inputs, tangents, attrs }: JvpArgs<A>): Tensor {
  return apply(
    record,
    tangents.map((t, i) => t ?? zerosLike(inputs[i])),
    attrs,
  );
}

/** A ShapeError for a bad argument, with the same context addOp gives inference errors. */
export function argumentError(op: string, inputs: readonly Tensor[], message: string): ShapeError {
  const prefix = inputs.length > 0 ? inputs[0].graph.scopePrefix : '';
  const described = inputs.map((t) => `'${t.name}' ${t.dtype}${formatShape(t.shape)}`).join(', ');
  return new ShapeError(`${op} '${prefix}${op}' (inputs: ${described || 'none'}): ${message}`);
}

/** An axis in [-rank, rank) as a non-negative axis. */
export function normalizeAxis(op: string, inputs: readonly Tensor[], axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw argumentError(op, inputs, `axis ${axis} is out of range; valid axes are in [${-rank}, ${rank})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** The tensors of a list (JS values become constants via `apply`); at least one must be a Tensor. */
export function tensorsOf(op: string, values: readonly TensorLike[]): Tensor[] {
  if (values.length === 0) throw argumentError(op, [], 'needs at least one tensor');
  const tensors = values.filter((v): v is Tensor => v instanceof Tensor);
  if (tensors.length === 0) throw new GraphError(`${op}: needs at least one Tensor to know its graph`);
  return tensors;
}

/** The rank of a tensor-like (a JS value counts its nesting depth). */
export function rankOf(value: TensorLike): number {
  if (value instanceof Tensor || value instanceof NDArray) return value.shape.length;
  let rank = 0;
  let level: NestedArray = value;
  while (Array.isArray(level)) {
    rank++;
    level = (level as readonly NestedArray[])[0];
  }
  return rank;
}
