import {
  allocate,
  Attrs,
  Dim,
  DType,
  DTypeError,
  formatShape,
  Graph,
  GraphError,
  isDType,
  NDArray,
  NestedArray,
  Shape,
  ShapeError,
  sizeOf,
  Tensor,
} from '../graph';
import { zerosLike } from './elementwise';
import {
  concat as concatKernel,
  cumsum as cumsumKernel,
  gather as gatherKernel,
  oneHot as oneHotKernel,
  pad as padKernel,
  reverse as reverseKernel,
  scatterAdd as scatterAddKernel,
  stridedScatter,
  stridedSlice as stridedSliceKernel,
  sumTiles as sumTilesKernel,
  tile as tileKernel,
} from './kernels';
import { apply, OpRecord, requireNumeric, requireSameDType, TensorInfo, TensorLike } from './record';

// ---- shared shape rules ------------------------------------------------------------------------------------

function numbers(attrs: Attrs, key: string): number[] {
  return attrs[key] as number[];
}

function isIndex(value: unknown, lo: number, hi: number): value is number {
  return Number.isInteger(value) && (value as number) >= lo && (value as number) < hi;
}

/** Merges two dims that must agree (null is unknown); undefined when two known dims differ. */
function mergeDim(a: Dim, b: Dim): Dim | undefined {
  if (a === null) return b;
  if (b === null || a === b) return a;
  return undefined;
}

/**
 * The dims shared by all inputs (every dim but `skip`), checking each pair: a mismatch names the dim, the two
 * inputs and their sizes.
 */
function sharedDims(inputs: readonly TensorInfo[], skip: number | null, allowed: string): Dim[] {
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

/** A strided slice over every dim of x (TensorFlow's masks already expanded by the builder). */
interface SliceSpec {
  /** First index per dim; null = from the start in the stride's direction (a begin mask). */
  readonly begin: readonly (number | null)[];
  /** End (exclusive) per dim; null = through the last element in the stride's direction (an end mask). */
  readonly end: readonly (number | null)[];
  readonly strides: readonly number[];
  /** Dims of x that keep one element (begin) and are dropped from the output. */
  readonly shrinkAxes: readonly number[];
  /** Positions in the output where a size-1 dim is inserted. */
  readonly newAxes: readonly number[];
}

function specOf(attrs: Attrs): SliceSpec {
  return attrs as unknown as SliceSpec;
}

function specAttrs(spec: SliceSpec): Attrs {
  return {
    begin: [...spec.begin],
    end: [...spec.end],
    strides: [...spec.strides],
    shrinkAxes: [...spec.shrinkAxes],
    newAxes: [...spec.newAxes],
  };
}

/** The first index and the number of elements of one dim of size n under a strided slice (TensorFlow's rules). */
function resolveDim(spec: SliceSpec, d: number, n: number): { start: number; count: number } {
  const b = spec.begin[d];
  const e = spec.end[d];
  const s = spec.strides[d];
  if (spec.shrinkAxes.includes(d)) {
    const i = (b as number) < 0 ? (b as number) + n : (b as number);
    if (i < 0 || i >= n) {
      throw new ShapeError(`index ${b} of dim ${d} is out of range for size ${n}; valid indices are ${-n} to ${n - 1}`);
    }
    return { start: i, count: 1 };
  }
  // Indices count from the end when negative, then clamp to the range the stride's direction can reach.
  const lo = s > 0 ? 0 : -1;
  const hi = s > 0 ? n : n - 1;
  const clamp = (v: number): number => Math.min(hi, Math.max(lo, v < 0 ? v + n : v));
  const start = b === null ? (s > 0 ? 0 : n - 1) : clamp(b);
  const stop = e === null ? (s > 0 ? n : -1) : clamp(e);
  const span = stop - start;
  return { start, count: span === 0 || span < 0 !== s < 0 ? 0 : Math.ceil(span / s) };
}

function checkSpec(spec: SliceSpec, rank: number): void {
  const { begin, end, strides, shrinkAxes, newAxes } = spec;
  if (begin.length !== rank || end.length !== rank || strides.length !== rank) {
    throw new ShapeError(`a strided slice of a rank-${rank} tensor needs begin, end and strides of length ${rank}`);
  }
  strides.forEach((s, d) => {
    if (!Number.isInteger(s) || s === 0) throw new ShapeError(`stride ${s} of dim ${d} must be a non-zero integer`);
  });
  [...begin, ...end].forEach((v) => {
    if (v !== null && !Number.isInteger(v)) throw new ShapeError(`slice bounds must be integers, got ${v}`);
  });
  for (const d of shrinkAxes) {
    if (!isIndex(d, 0, rank) || begin[d] === null || strides[d] <= 0) {
      throw new ShapeError(`shrink axis ${d} needs a dim of x, a begin index and a positive stride`);
    }
  }
  const outRank = rank - shrinkAxes.length + newAxes.length;
  if (newAxes.some((a, i) => !isIndex(a, 0, outRank) || (i > 0 && a <= newAxes[i - 1]))) {
    throw new ShapeError(`new axes ${JSON.stringify(newAxes)} must be sorted positions in the rank-${outRank} output`);
  }
}

/** The output shape of a strided slice of `shape`: counts (unknown where the dim is), shrunk and new axes applied. */
function specShape(spec: SliceSpec, shape: Shape): Dim[] {
  checkSpec(spec, shape.length);
  const kept: Dim[] = [];
  shape.forEach((n, d) => {
    const shrink = spec.shrinkAxes.includes(d);
    const count = n === null ? null : resolveDim(spec, d, n).count;
    if (!shrink) kept.push(count);
  });
  const out: Dim[] = [];
  for (let i = 0, k = 0; i < kept.length + spec.newAxes.length; i++) {
    out.push(spec.newAxes.includes(i) ? 1 : kept[k++]);
  }
  return out;
}

/** Concrete starts, strides and counts of a strided slice of a concrete shape, for the kernels. */
function specWindow(spec: SliceSpec, shape: readonly number[]): { begin: number[]; counts: number[] } {
  const begin: number[] = [];
  const counts: number[] = [];
  shape.forEach((n, d) => {
    const { start, count } = resolveDim(spec, d, n);
    begin.push(start);
    counts.push(count);
  });
  return { begin, counts };
}

/** Picks index i of `axis` and drops that axis: one piece of unstack, or stack's gradient for input i. */
function pickSpec(rank: number, axis: number, i: number): SliceSpec {
  const begin: (number | null)[] = new Array<number | null>(rank).fill(null);
  const end: (number | null)[] = new Array<number | null>(rank).fill(null);
  begin[axis] = i;
  end[axis] = i + 1;
  return { begin, end, strides: new Array<number>(rank).fill(1), shrinkAxes: [axis], newAxes: [] };
}

function checkIndicesDType(indices: TensorInfo): void {
  if (indices.dtype !== 'int32') {
    throw new DTypeError(`indices must be int32, got ${indices.dtype}; cast them with cast(indices, 'int32')`);
  }
}

/** gather's output shape: x.shape[:axis] + indices.shape[batchDims:] + x.shape[axis + 1:], batch dims shared. */
function gatherShape(x: TensorInfo, indices: TensorInfo, attrs: Attrs): Dim[] {
  checkIndicesDType(indices);
  const axis = attrs.axis as number;
  const batchDims = attrs.batchDims as number;
  if (!isIndex(axis, 0, x.shape.length)) {
    throw new ShapeError(`axis ${axis} is out of range for rank ${x.shape.length}`);
  }
  if (!isIndex(batchDims, 0, Math.min(axis, indices.shape.length) + 1)) {
    throw new ShapeError(
      `batchDims ${batchDims} must be in [0, ${Math.min(axis, indices.shape.length)}]: at most the axis (${axis}) ` +
        `and the rank of indices (${indices.shape.length})`,
    );
  }
  const batch = x.shape.slice(0, batchDims).map((d, i) => {
    const merged = mergeDim(d, indices.shape[i]);
    if (merged === undefined) {
      throw new ShapeError(
        `batch dim ${i} differs: x has size ${d} but indices ${formatShape(indices.shape)} have ${indices.shape[i]}`,
      );
    }
    return merged;
  });
  return [...batch, ...x.shape.slice(batchDims, axis), ...indices.shape.slice(batchDims), ...x.shape.slice(axis + 1)];
}

function checkReps(reps: readonly number[], rank: number, least: number): void {
  if (reps.length !== rank || reps.some((r) => !Number.isInteger(r) || r < least)) {
    throw new ShapeError(`reps ${JSON.stringify(reps)} must hold one integer >= ${least} per dim (rank ${rank})`);
  }
}

function paddingsOf(attrs: Attrs): number[][] {
  return attrs.paddings as number[][];
}

function checkAxis(axis: unknown, rank: number): number {
  if (!isIndex(axis, 0, rank)) throw new ShapeError(`axis ${String(axis)} is out of range for rank ${rank}`);
  return axis;
}

/**
 * The forward rule of an op that is linear in its first input (any other input only indexes or shapes it): the
 * same op applied to that input's tangent.
 */
function linearJvp(record: () => OpRecord, attrsFor: (attrs: Attrs) => Attrs = (a) => a): OpRecord['jvp'] {
  return ({ inputs, tangents, attrs }) =>
    tangents[0] === null ? null : apply(record(), [tangents[0], ...inputs.slice(1)], attrsFor(attrs));
}

/** The forward rule of an op linear in all its inputs together (concat, stack): zeros stand in for null tangents. */
function joinJvp(record: () => OpRecord): OpRecord['jvp'] {
  return ({ inputs, tangents, attrs }) =>
    apply(
      record(),
      tangents.map((t, i) => t ?? zerosLike(inputs[i])),
      attrs,
    );
}

// ---- the records ----------------------------------------------------------------------------------------

/** concat(...xs) along `axis`. */
export const CONCAT: OpRecord = {
  name: 'concat',
  arity: 'variadic',
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new ShapeError('needs at least one tensor');
    const dtype = requireSameDType(inputs);
    const rank = inputs[0].shape.length;
    if (rank === 0) throw new ShapeError('cannot concatenate scalars; use stack(tensors) to join them into a vector');
    const axis = checkAxis(attrs.axis, rank);
    const shape = sharedDims(inputs, axis, `every dim except the concat axis ${axis} must match`);
    const sizes = inputs.map((x) => x.shape[axis]);
    shape[axis] = sizes.includes(null) ? null : (sizes as number[]).reduce((a, b) => a + b, 0);
    return { dtype, shape };
  },
  kernel: (inputs, out, attrs) => concatKernel(inputs, attrs.axis as number, out),
  vjp: ({ inputs, dy, attrs, needs }) => {
    const axis = attrs.axis as number;
    const sizes = inputs.map((x) => x.shape[axis]);
    if (sizes.includes(null)) {
      // Offsets known only at run time: a primitive reads them from the inputs' shapes.
      return inputs.map((_, i) => (needs[i] ? apply(CONCAT_PART, [dy, ...inputs], { axis, index: i }) : null));
    }
    let offset = 0;
    return (sizes as number[]).map((size, i) => {
      const begin = offset;
      offset += size;
      if (!needs[i]) return null;
      const starts = dy.shape.map((_, d) => (d === axis ? begin : 0));
      return slice(
        dy,
        starts,
        dy.shape.map((_, d) => (d === axis ? size : -1)),
      );
    });
  },
  jvp: joinJvp(() => CONCAT),
};

/**
 * concatPart(dy, ...xs): the part of dy (a concatenation of tensors shaped like xs along `axis`) that input
 * `index` occupies. The gradient of concat when the sizes along the axis are known only at run time.
 */
export const CONCAT_PART: OpRecord = {
  name: 'concatPart',
  arity: 'variadic',
  infer(inputs, attrs) {
    const [dy, ...parts] = inputs;
    const axis = attrs.axis as number;
    const index = attrs.index as number;
    if (!isIndex(index, 0, parts.length)) throw new ShapeError(`index ${index} must name one of ${parts.length} parts`);
    const shape = sharedDims([dy, ...parts], axis, `every dim except axis ${axis} must match`);
    shape[axis] = parts[index].shape[axis];
    return { dtype: dy.dtype, shape };
  },
  kernel([dy, ...parts], out, attrs) {
    const axis = attrs.axis as number;
    let offset = 0;
    for (let i = 0; i < (attrs.index as number); i++) offset += parts[i].shape[axis];
    const begin = out.shape.map((_, d) => (d === axis ? offset : 0));
    stridedSliceKernel(
      dy,
      begin,
      begin.map(() => 1),
      out.shape,
      out,
    );
  },
  vjp: ({ inputs: [, ...parts], dy, attrs, needs }) => [
    needs[0]
      ? concat(
          parts.map((p, i) => (i === attrs.index ? dy : zerosLike(p))),
          attrs.axis as number,
        )
      : null,
    ...parts.map(() => null),
  ],
  jvp: linearJvp(() => CONCAT_PART),
};

/** stack(...xs) along a new `axis`. */
export const STACK: OpRecord = {
  name: 'stack',
  arity: 'variadic',
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new ShapeError('needs at least one tensor');
    const dtype = requireSameDType(inputs);
    const shape = sharedDims(inputs, null, 'stacked tensors must all have the same shape');
    const axis = checkAxis(attrs.axis, shape.length + 1);
    shape.splice(axis, 0, inputs.length);
    return { dtype, shape };
  },
  // The inputs fill the output in the same blocks as a concat along the new axis.
  kernel: (inputs, out, attrs) => concatKernel(inputs, attrs.axis as number, out),
  vjp: ({ inputs, dy, attrs, needs }) =>
    inputs.map((_, i) =>
      needs[i] ? apply(STRIDED_SLICE, [dy], specAttrs(pickSpec(dy.rank, attrs.axis as number, i))) : null,
    ),
  jvp: joinJvp(() => STACK),
};

/** slice(x) {begin, size}: one entry per dim, size -1 = to the end. */
export const SLICE: OpRecord = {
  name: 'slice',
  arity: 1,
  infer([x], attrs) {
    const begin = numbers(attrs, 'begin');
    const size = numbers(attrs, 'size');
    const rank = x.shape.length;
    if (begin.length !== rank || size.length !== rank) {
      throw new ShapeError(`begin ${JSON.stringify(begin)} and size ${JSON.stringify(size)} need ${rank} entries`);
    }
    const shape = x.shape.map((n, d) => {
      const b = begin[d];
      const s = size[d];
      if (!Number.isInteger(b) || b < 0 || !Number.isInteger(s) || s < -1) {
        throw new ShapeError(`begin[${d}] = ${b} must be >= 0 and size[${d}] = ${s} >= 0 or -1 (to the end)`);
      }
      if (n === null) return s === -1 ? null : s;
      if (b > n || (s !== -1 && b + s > n)) {
        throw new ShapeError(
          `begin[${d}] + size[${d}] = ${b} + ${s === -1 ? n - b : s} exceeds dim ${d} of size ${n}; ` +
            `a slice must lie within ${formatShape(x.shape)}`,
        );
      }
      return s === -1 ? n - b : s;
    });
    return { dtype: x.dtype, shape };
  },
  kernel([x], out, attrs) {
    stridedSliceKernel(
      x,
      numbers(attrs, 'begin'),
      x.shape.map(() => 1),
      out.shape,
      out,
    );
  },
  vjp: ({ inputs: [x], dy, attrs }) => {
    const begin = numbers(attrs, 'begin');
    const end = numbers(attrs, 'size').map((s, d) => (s === -1 ? null : begin[d] + s));
    const spec: SliceSpec = { begin, end, strides: begin.map(() => 1), shrinkAxes: [], newAxes: [] };
    return [apply(STRIDED_SLICE_GRAD, [dy, x], specAttrs(spec))];
  },
  jvp: linearJvp(() => SLICE),
};

/** stridedSlice(x) with a dense SliceSpec as attrs. */
export const STRIDED_SLICE: OpRecord = {
  name: 'stridedSlice',
  arity: 1,
  infer: ([x], attrs) => ({ dtype: x.dtype, shape: specShape(specOf(attrs), x.shape) }),
  kernel([x], out, attrs) {
    const spec = specOf(attrs);
    const { begin, counts } = specWindow(spec, x.shape);
    stridedSliceKernel(x, begin, spec.strides, counts, out);
  },
  vjp: ({ inputs: [x], dy, attrs }) => [apply(STRIDED_SLICE_GRAD, [dy, x], attrs)],
  jvp: linearJvp(() => STRIDED_SLICE),
};

/** stridedSliceGrad(dy, x): zeros shaped like x with dy written where stridedSlice(x) reads. */
export const STRIDED_SLICE_GRAD: OpRecord = {
  name: 'stridedSliceGrad',
  arity: 2,
  infer([dy, x], attrs) {
    const sliced = specShape(specOf(attrs), x.shape);
    const fits = sliced.length === dy.shape.length && sliced.every((d, i) => mergeDim(d, dy.shape[i]) !== undefined);
    if (!fits) {
      throw new ShapeError(`dy ${formatShape(dy.shape)} does not match the slice ${formatShape(sliced)} of x`);
    }
    return { dtype: dy.dtype, shape: x.shape };
  },
  kernel([dy], out, attrs) {
    const spec = specOf(attrs);
    const { begin, counts } = specWindow(spec, out.shape);
    stridedScatter(dy, begin, spec.strides, counts, 0, out);
  },
  vjp: ({ dy, attrs, needs }) => [needs[0] ? apply(STRIDED_SLICE, [dy], attrs) : null, null],
  jvp: linearJvp(() => STRIDED_SLICE_GRAD),
};

/** gather(x, indices) {axis, batchDims}. */
export const GATHER: OpRecord = {
  name: 'gather',
  arity: 2,
  infer: ([x, indices], attrs) => ({ dtype: x.dtype, shape: gatherShape(x, indices, attrs) }),
  kernel: ([x, indices], out, attrs) => gatherKernel(x, indices, attrs.axis as number, attrs.batchDims as number, out),
  vjp: ({ inputs: [x, indices], dy, attrs, needs }) => [
    needs[0] ? apply(SCATTER_ADD, [dy, indices, x], attrs) : null,
    null,
  ],
  jvp: linearJvp(() => GATHER),
};

/** scatterAdd(updates, indices, like) {axis, batchDims}: the adjoint of gather, shaped like `like`. */
export const SCATTER_ADD: OpRecord = {
  name: 'scatterAdd',
  arity: 3,
  infer([updates, indices, like], attrs) {
    const expected = gatherShape(like, indices, attrs);
    const fits =
      expected.length === updates.shape.length && expected.every((d, i) => mergeDim(d, updates.shape[i]) !== undefined);
    if (!fits) {
      throw new ShapeError(
        `updates ${formatShape(updates.shape)} must have the shape gather would give, ${formatShape(expected)}`,
      );
    }
    if (updates.dtype !== like.dtype) {
      throw new DTypeError(`updates are ${updates.dtype} but like is ${like.dtype}; they must match`);
    }
    return like;
  },
  kernel: ([updates, indices], out, attrs) =>
    scatterAddKernel(updates, indices, attrs.axis as number, attrs.batchDims as number, out),
  vjp: ({ inputs: [, indices], dy, attrs, needs }) => [
    needs[0] ? apply(GATHER, [dy, indices], attrs) : null,
    null,
    null,
  ],
  jvp: linearJvp(() => SCATTER_ADD),
};

/** tile(x) {reps}. */
export const TILE: OpRecord = {
  name: 'tile',
  arity: 1,
  infer([x], attrs) {
    const reps = numbers(attrs, 'reps');
    checkReps(reps, x.shape.length, 0);
    return { dtype: x.dtype, shape: x.shape.map((d, i) => (reps[i] === 0 ? 0 : d === null ? null : d * reps[i])) };
  },
  kernel: ([x], out, attrs) => tileKernel(x, numbers(attrs, 'reps'), out),
  // Zero repetitions leave nothing to differentiate: the gradient is zero.
  vjp: ({ inputs: [x], dy, attrs }) => [
    numbers(attrs, 'reps').includes(0) ? zerosLike(x) : apply(SUM_TILES, [dy], attrs),
  ],
  jvp: linearJvp(() => TILE),
};

/** sumTiles(dy) {reps}: the sum of the reps tiles of dy (the gradient of tile). */
export const SUM_TILES: OpRecord = {
  name: 'sumTiles',
  arity: 1,
  infer([dy], attrs) {
    const reps = numbers(attrs, 'reps');
    checkReps(reps, dy.shape.length, 1);
    const shape = dy.shape.map((d, i) => {
      if (d !== null && d % reps[i] !== 0) {
        throw new ShapeError(`dim ${i} of size ${d} does not hold a whole number of ${reps[i]} tiles`);
      }
      return d === null ? null : d / reps[i];
    });
    return { dtype: dy.dtype, shape };
  },
  kernel: ([dy], out, attrs) => sumTilesKernel(dy, numbers(attrs, 'reps'), out),
  vjp: ({ dy, attrs }) => [apply(TILE, [dy], attrs)],
  jvp: linearJvp(() => SUM_TILES),
};

/** pad(x) {paddings: [before, after] per dim, constantValue}. */
export const PAD: OpRecord = {
  name: 'pad',
  arity: 1,
  infer([x], attrs) {
    const paddings = paddingsOf(attrs);
    const rank = x.shape.length;
    if (rank === 0) throw new ShapeError('cannot pad a scalar; reshape it to [1] first');
    const valid =
      Array.isArray(paddings) &&
      paddings.length === rank &&
      paddings.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0));
    if (!valid) {
      throw new ShapeError(
        `paddings ${JSON.stringify(paddings)} must hold one [before, after] pair of non-negative integers per dim ` +
          `(rank ${rank})`,
      );
    }
    const value = attrs.constantValue as number;
    if (x.dtype === 'int32' && !Number.isInteger(value)) {
      throw new DTypeError(`constantValue ${value} is not an integer, but x is int32`);
    }
    return { dtype: x.dtype, shape: x.shape.map((d, i) => (d === null ? null : d + paddings[i][0] + paddings[i][1])) };
  },
  kernel: ([x], out, attrs) => padKernel(x, paddingsOf(attrs), attrs.constantValue as number, out),
  vjp: ({ dy, attrs }) => {
    const paddings = paddingsOf(attrs);
    const spec: SliceSpec = {
      begin: paddings.map((p) => p[0]),
      end: paddings.map((p) => (p[1] === 0 ? null : -p[1])),
      strides: paddings.map(() => 1),
      shrinkAxes: [],
      newAxes: [],
    };
    return [apply(STRIDED_SLICE, [dy], specAttrs(spec))];
  },
  // The padding is constant, so its tangent is zero.
  jvp: linearJvp(
    () => PAD,
    (attrs) => ({ ...attrs, constantValue: 0 }),
  ),
};

/** reverse(x) {axes}: sorted, unique axes. */
export const REVERSE: OpRecord = {
  name: 'reverse',
  arity: 1,
  infer([x], attrs) {
    const axes = numbers(attrs, 'axes');
    const rank = x.shape.length;
    if (axes.some((a, i) => !isIndex(a, 0, rank) || (i > 0 && a <= axes[i - 1]))) {
      throw new ShapeError(`axes ${JSON.stringify(axes)} must be sorted, unique and within [0, ${rank})`);
    }
    return x;
  },
  kernel: ([x], out, attrs) => reverseKernel(x, numbers(attrs, 'axes'), out),
  vjp: ({ dy, attrs }) => [apply(REVERSE, [dy], attrs)],
  jvp: linearJvp(() => REVERSE),
};

/** oneHot(indices) {depth, onValue, offValue, dtype}: no gradient (the indices are integers). */
export const ONE_HOT: OpRecord = {
  name: 'oneHot',
  arity: 1,
  infer([indices], attrs) {
    checkIndicesDType(indices);
    const depth = attrs.depth as number;
    if (!Number.isInteger(depth) || depth < 0) throw new ShapeError(`depth ${depth} must be a non-negative integer`);
    if (!isDType(attrs.dtype)) throw new DTypeError(`unknown dtype '${String(attrs.dtype)}'`);
    return { dtype: attrs.dtype, shape: [...indices.shape, depth] };
  },
  kernel: ([indices], out, attrs) =>
    oneHotKernel(indices, attrs.depth as number, attrs.onValue as number, attrs.offValue as number, out),
};

/** cumsum(x) {axis, exclusive, reverse}. */
export const CUMSUM: OpRecord = {
  name: 'cumsum',
  arity: 1,
  infer([x], attrs) {
    requireNumeric(x);
    checkAxis(attrs.axis, x.shape.length);
    return x;
  },
  kernel: ([x], out, attrs) =>
    cumsumKernel(x, attrs.axis as number, attrs.exclusive === true, attrs.reverse === true, out),
  // Each x[i] reaches every later output, so dy flows back summed over the outputs in the other direction.
  vjp: ({ dy, attrs }) => [apply(CUMSUM, [dy], { ...attrs, reverse: attrs.reverse !== true })],
  jvp: linearJvp(() => CUMSUM),
};

/** Joining, splitting, slicing, gathering and generating arrays. */
export const INDEXING_OPS: readonly OpRecord[] = [
  CONCAT, CONCAT_PART, STACK, SLICE, STRIDED_SLICE, STRIDED_SLICE_GRAD, GATHER, SCATTER_ADD,
  TILE, SUM_TILES, PAD, REVERSE, ONE_HOT, CUMSUM,
]; // prettier-ignore

// ---- builders (TensorFlow.js names and argument order) -----------------------------------------------

/** A ShapeError for a bad argument, with the same context addOp gives inference errors. */
function argumentError(op: string, inputs: readonly Tensor[], message: string): ShapeError {
  const prefix = inputs.length > 0 ? inputs[0].graph.scopePrefix : '';
  const described = inputs.map((t) => `'${t.name}' ${t.dtype}${formatShape(t.shape)}`).join(', ');
  return new ShapeError(`${op} '${prefix}${op}' (inputs: ${described || 'none'}): ${message}`);
}

/** An axis in [-rank, rank) as a non-negative axis. */
function normalizeAxis(op: string, inputs: readonly Tensor[], axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw argumentError(op, inputs, `axis ${axis} is out of range; valid axes are in [${-rank}, ${rank})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** The tensors of a list (JS values become constants via `apply`); at least one must be a Tensor. */
function tensorsOf(op: string, values: readonly TensorLike[]): Tensor[] {
  if (values.length === 0) throw argumentError(op, [], 'needs at least one tensor');
  const tensors = values.filter((v): v is Tensor => v instanceof Tensor);
  if (tensors.length === 0) throw new GraphError(`${op}: needs at least one Tensor to know its graph`);
  return tensors;
}

/** The rank of a tensor-like (a JS value counts its nesting depth). */
function rankOf(value: TensorLike): number {
  if (value instanceof Tensor || value instanceof NDArray) return value.shape.length;
  let rank = 0;
  let level: NestedArray = value;
  while (Array.isArray(level)) {
    rank++;
    level = (level as readonly NestedArray[])[0];
  }
  return rank;
}

/**
 * Joins tensors along an existing axis (negative counts from the end).
 * @example concat([a, b], 1) // [2, 3] and [2, 4] -> [2, 7]
 */
export function concat(tensors: readonly TensorLike[], axis = 0): Tensor {
  const inputs = tensorsOf('concat', tensors);
  const rank = rankOf(tensors[0]);
  if (rank === 0) throw argumentError('concat', inputs, 'cannot concatenate scalars; use stack(tensors)');
  const resolved = normalizeAxis('concat', inputs, axis, rank);
  if (tensors.length === 1) return inputs[0];
  return apply(CONCAT, tensors, { axis: resolved });
}

/**
 * Joins same-shaped tensors along a new axis.
 * @example stack([a, b, c]) // three [2] -> [3, 2]
 */
export function stack(tensors: readonly TensorLike[], axis = 0): Tensor {
  const inputs = tensorsOf('stack', tensors);
  const resolved = normalizeAxis('stack', inputs, axis, rankOf(tensors[0]) + 1);
  return apply(STACK, tensors, { axis: resolved });
}

/**
 * Splits x along `axis` into its slices, dropping that axis; the axis size must be known.
 * @example const [row0, row1] = unstack(x) // x: [2, 3]
 */
export function unstack(x: Tensor, axis = 0): Tensor[] {
  const resolved = normalizeAxis('unstack', [x], axis, x.rank);
  const n = x.shape[resolved];
  if (n === null) {
    throw argumentError('unstack', [x], `axis ${axis} has an unknown size, so the number of pieces is unknown`);
  }
  return Array.from({ length: n }, (_, i) =>
    apply(STRIDED_SLICE, [x], specAttrs(pickSpec(x.rank, resolved, i)), 'unstack'),
  );
}

/**
 * Splits x along `axis` into `numOrSizeSplits` equal pieces, or pieces of the given sizes (one may be -1).
 * @example const [a, b] = split(x, [1, -1], 1)
 */
export function split(x: Tensor, numOrSizeSplits: number | readonly number[], axis = 0): Tensor[] {
  const resolved = normalizeAxis('split', [x], axis, x.rank);
  const n = x.shape[resolved];
  const fail = (message: string): ShapeError => argumentError('split', [x], message);
  if (n === null) throw fail(`axis ${axis} has an unknown size; split needs it known (slice() works without it)`);
  let sizes: number[];
  if (typeof numOrSizeSplits === 'number') {
    if (!Number.isInteger(numOrSizeSplits) || numOrSizeSplits <= 0 || n % numOrSizeSplits !== 0) {
      throw fail(`${numOrSizeSplits} pieces do not evenly divide axis ${axis} of size ${n}`);
    }
    sizes = new Array<number>(numOrSizeSplits).fill(n / numOrSizeSplits);
  } else {
    sizes = [...numOrSizeSplits];
    const inferred = sizes.filter((s) => s === -1).length;
    if (inferred > 1 || sizes.some((s) => !Number.isInteger(s) || s < -1)) {
      throw fail(`sizes ${JSON.stringify(sizes)} must be non-negative integers with at most one -1`);
    }
    const known = sizes.reduce((a, s) => (s === -1 ? a : a + s), 0);
    if (inferred === 1 ? known > n : known !== n) {
      throw fail(`sizes ${JSON.stringify(sizes)} must add up to the size ${n} of axis ${axis}`);
    }
    sizes = sizes.map((s) => (s === -1 ? n - known : s));
  }
  let offset = 0;
  return sizes.map((size) => {
    const begin = x.shape.map((_, d) => (d === resolved ? offset : 0));
    offset += size;
    return apply(SLICE, [x], { begin, size: x.shape.map((_, d) => (d === resolved ? size : -1)) }, 'split');
  });
}

/**
 * A box of x starting at `begin` with `size` elements per dim (-1 = to the end); missing trailing dims are taken
 * whole, and a number means the first dim.
 * @example slice(x, [0, 1], [2, -1])
 */
export function slice(x: Tensor, begin: number | readonly number[], size?: number | readonly number[]): Tensor {
  const rank = x.rank;
  const starts = typeof begin === 'number' ? [begin] : [...begin];
  const sizes = size === undefined ? [] : typeof size === 'number' ? [size] : [...size];
  if (starts.length > rank || sizes.length > rank) {
    throw argumentError(
      'slice',
      [x],
      `begin ${JSON.stringify(begin)} and size ${JSON.stringify(size)} exceed rank ${rank}`,
    );
  }
  while (starts.length < rank) starts.push(0);
  while (sizes.length < rank) sizes.push(-1);
  return apply(SLICE, [x], { begin: starts, size: sizes });
}

function maskBit(mask: number, i: number): boolean {
  return Math.floor(mask / 2 ** i) % 2 === 1;
}

/**
 * Expands TensorFlow's sparse slice spec (with ellipsis, new-axis and shrink masks) into one entry per dim of a
 * rank-`rank` tensor, as TensorFlow's BuildDenseSpec does.
 */
function denseSpec(
  rank: number,
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  masks: { begin: number; end: number; ellipsis: number; newAxis: number; shrink: number },
): SliceSpec {
  const sparse = strides.length;
  const bits = (mask: number): number[] => Array.from({ length: sparse }, (_, i) => i).filter((i) => maskBit(mask, i));
  const ellipses = bits(masks.ellipsis);
  if (ellipses.length > 1) throw new Error('at most one ellipsis (one bit of ellipsisMask) is allowed');
  // Without an ellipsis, one is implied after the last entry: the remaining dims are taken whole.
  const ellipsis = ellipses.length === 1 ? ellipses[0] : sparse;
  const entries = ellipses.length === 1 ? sparse : sparse + 1;
  const newAfterEllipsis = bits(masks.newAxis).filter((i) => i > ellipsis).length;
  const spec = {
    begin: [] as (number | null)[],
    end: [] as (number | null)[],
    strides: [] as number[],
    shrinkAxes: [] as number[],
    newAxes: [] as number[],
  };
  let outRank = 0;
  for (let i = 0; i < entries; i++) {
    if (i === ellipsis) {
      const next = Math.min(rank - (entries - i) + 1 + newAfterEllipsis, rank);
      while (spec.begin.length < next) {
        spec.begin.push(null);
        spec.end.push(null);
        spec.strides.push(1);
        outRank++;
      }
    } else if (maskBit(masks.newAxis, i)) {
      spec.newAxes.push(outRank++);
    } else {
      const d = spec.begin.length;
      if (d === rank) throw new Error(`the slice names more dims than x has (rank ${rank})`);
      const shrink = maskBit(masks.shrink, i);
      // A shrunk dim keeps the element at begin whatever the masks say, as in TensorFlow.
      spec.begin.push(maskBit(masks.begin, i) && !shrink ? null : begin[i]);
      spec.end.push(maskBit(masks.end, i) || shrink ? null : end[i]);
      spec.strides.push(strides[i]);
      if (shrink) spec.shrinkAxes.push(d);
      else outRank++;
    }
  }
  return spec;
}

/**
 * TensorFlow's strided slice: x[begin:end:strides] per dim, with negative indices from the end, negative strides,
 * and bit masks (bit i refers to entry i of begin/end/strides): beginMask/endMask ignore begin[i]/end[i],
 * ellipsisMask makes entry i stand for all remaining dims, newAxisMask inserts a size-1 dim, shrinkAxisMask keeps
 * only index begin[i] and drops the dim.
 * @example stridedSlice(x, [0, -1], [2, 0], [1, -1]) // rows 0..1, columns reversed except the first
 */
export function stridedSlice(
  x: Tensor,
  begin: readonly number[],
  end: readonly number[],
  strides?: readonly number[],
  beginMask = 0,
  endMask = 0,
  ellipsisMask = 0,
  newAxisMask = 0,
  shrinkAxisMask = 0,
): Tensor {
  const steps = strides ?? begin.map(() => 1);
  if (begin.length !== steps.length || end.length !== steps.length) {
    throw argumentError(
      'stridedSlice',
      [x],
      `begin ${JSON.stringify(begin)}, end ${JSON.stringify(end)} and strides ${JSON.stringify(steps)} ` +
        'must have the same length',
    );
  }
  let spec: SliceSpec;
  try {
    spec = denseSpec(x.rank, begin, end, steps, {
      begin: beginMask,
      end: endMask,
      ellipsis: ellipsisMask,
      newAxis: newAxisMask,
      shrink: shrinkAxisMask,
    });
  } catch (error) {
    throw argumentError('stridedSlice', [x], (error as Error).message);
  }
  return apply(STRIDED_SLICE, [x], specAttrs(spec));
}

/** Indices as an int32 tensor in `graph`: a Tensor is checked by inference, JS values must be integers. */
function indicesTensor(op: string, graph: Graph, indices: TensorLike): Tensor {
  if (indices instanceof Tensor) return indices;
  const values = NDArray.from(indices, indices instanceof NDArray ? undefined : 'float64');
  if (values.dtype !== 'int32') {
    const bad = Array.from(values.data).find((v) => !Number.isInteger(v));
    if (bad !== undefined) throw new DTypeError(`${op}: index ${bad} is not an integer`);
  }
  return graph.constant(values.astype('int32'), 'int32');
}

/**
 * Picks slices of x along `axis` at int32 `indices` (a tensor or JS array); with batchDims, the leading dims of x
 * and indices are paired. Indices out of range are an error when the graph runs.
 * @example gather(embeddings, ids) // [V, D] and [B] -> [B, D]
 */
export function gather(x: Tensor, indices: TensorLike, axis = 0, batchDims = 0): Tensor {
  const ids = indicesTensor('gather', x.graph, indices);
  const resolved = normalizeAxis('gather', [x, ids], axis, x.rank);
  const rank = ids.rank;
  if (!Number.isInteger(batchDims) || batchDims < -rank || batchDims > rank) {
    throw argumentError('gather', [x, ids], `batchDims ${batchDims} must be in [${-rank}, ${rank}]`);
  }
  return apply(GATHER, [x, ids], { axis: resolved, batchDims: batchDims < 0 ? batchDims + rank : batchDims });
}

/**
 * The adjoint of gather (not in TensorFlow.js): zeros shaped like `like`, plus each slice of `updates` added where
 * its index points along `axis`; repeated indices accumulate. gather's gradient.
 * @example scatterAdd(dy, ids, embeddings) // [B, D] into [V, D]
 */
export function scatterAdd(updates: Tensor, indices: TensorLike, like: Tensor, axis = 0, batchDims = 0): Tensor {
  const ids = indicesTensor('scatterAdd', updates.graph, indices);
  const resolved = normalizeAxis('scatterAdd', [updates, ids, like], axis, like.rank);
  const rank = ids.rank;
  if (!Number.isInteger(batchDims) || batchDims < -rank || batchDims > rank) {
    throw argumentError('scatterAdd', [updates, ids, like], `batchDims ${batchDims} must be in [${-rank}, ${rank}]`);
  }
  const attrs = { axis: resolved, batchDims: batchDims < 0 ? batchDims + rank : batchDims };
  return apply(SCATTER_ADD, [updates, ids, like], attrs);
}

/**
 * Repeats x reps[d] times along each dim d.
 * @example tile(x, [2, 1]) // [2, 3] -> [4, 3]
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  if (reps.length !== x.rank) {
    throw argumentError('tile', [x], `reps ${JSON.stringify(reps)} must have one entry per dim (rank ${x.rank})`);
  }
  return apply(TILE, [x], { reps: [...reps] });
}

/**
 * Pads x with `constantValue`: paddings[d] = [before, after] for each dim d.
 * @example pad(x, [[1, 1], [0, 2]])
 */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], constantValue = 0): Tensor {
  return apply(PAD, [x], { paddings: paddings.map((p) => [...p]), constantValue });
}

/**
 * Reverses x along `axis` (a number or list, negative from the end; all axes by default).
 * @example reverse(x, 1)
 */
export function reverse(x: Tensor, axis?: number | readonly number[]): Tensor {
  const list = axis === undefined ? x.shape.map((_, i) => i) : typeof axis === 'number' ? [axis] : [...axis];
  const axes = [...new Set(list.map((a) => normalizeAxis('reverse', [x], a, x.rank)))].sort((a, b) => a - b);
  return apply(REVERSE, [x], { axes });
}

/**
 * One-hot rows: out[..., j] = onValue where indices[...] = j, else offValue. Indices outside [0, depth) give a
 * row of offValue. Deliberately float32 by default (tfjs defaults to int32), since one-hot rows mostly meet floats.
 * @example oneHot(labels, 10) // int32 [B] -> float32 [B, 10]
 */
export function oneHot(indices: Tensor, depth: number, onValue = 1, offValue = 0, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(depth) || depth < 0) {
    throw argumentError('oneHot', [indices], `depth ${depth} must be a non-negative integer`);
  }
  return apply(ONE_HOT, [indices], { depth, onValue, offValue, dtype });
}

/**
 * Cumulative sum along `axis`; `exclusive` leaves each element out of its own sum, `reverse` sums from the end.
 * @example cumsum(x, 1)
 */
export function cumsum(x: Tensor, axis = 0, exclusive = false, reverse = false): Tensor {
  return apply(CUMSUM, [x], { axis: normalizeAxis('cumsum', [x], axis, x.rank), exclusive, reverse });
}

// ---- generators: constants computed in JS ------------------------------------------------------------------
//
// These take no tensor, so they cannot find a graph the way other builders do. They take the Graph as their LAST
// argument (after tfjs's positional arguments): a deliberate difference from tfjs, which has an implicit global
// engine, while lazygrad has no global graph.

function trailingGraph(op: string, args: readonly unknown[]): Graph {
  const last = args[args.length - 1];
  if (!(last instanceof Graph)) {
    throw new GraphError(
      `${op}: pass the Graph as the last argument, e.g. ${op}(..., g); lazygrad has no global graph`,
    );
  }
  return last;
}

function optionalDType(op: string, value: unknown, fallback: DType): DType {
  if (value === undefined) return fallback;
  if (!isDType(value))
    throw new DTypeError(`${op}: unknown dtype '${String(value)}'; valid: float32, float64, int32, bool`);
  return value;
}

function filled(op: string, shape: readonly number[], value: number, dtype: DType, graph: Graph): Tensor {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${op}: shape ${JSON.stringify(shape)} must be a list of non-negative integers`);
  }
  if (dtype === 'int32' && !Number.isInteger(value)) {
    throw new DTypeError(`${op}: the value ${value} is not an integer, but the dtype is int32`);
  }
  const data = allocate(dtype, sizeOf(shape));
  data.fill(dtype === 'bool' ? (value !== 0 ? 1 : 0) : value);
  return graph.constant(new NDArray(data, shape, dtype), dtype, op);
}

/** A constant of `shape` filled with `value`. @example fill([2, 2], 4, g) */
export function fill(shape: readonly number[], value: number, graph: Graph): Tensor;
export function fill(shape: readonly number[], value: number, dtype: DType | undefined, graph: Graph): Tensor;
export function fill(shape: readonly number[], value: number, ...rest: (DType | Graph | undefined)[]): Tensor {
  const graph = trailingGraph('fill', rest);
  return filled('fill', shape, value, optionalDType('fill', rest.length > 1 ? rest[0] : undefined, 'float32'), graph);
}

/** A constant of zeros. @example zeros([2, 3], g) */
export function zeros(shape: readonly number[], graph: Graph): Tensor;
export function zeros(shape: readonly number[], dtype: DType | undefined, graph: Graph): Tensor;
export function zeros(shape: readonly number[], ...rest: (DType | Graph | undefined)[]): Tensor {
  const graph = trailingGraph('zeros', rest);
  return filled('zeros', shape, 0, optionalDType('zeros', rest.length > 1 ? rest[0] : undefined, 'float32'), graph);
}

/** A constant of ones. @example ones([2, 3], 'int32', g) */
export function ones(shape: readonly number[], graph: Graph): Tensor;
export function ones(shape: readonly number[], dtype: DType | undefined, graph: Graph): Tensor;
export function ones(shape: readonly number[], ...rest: (DType | Graph | undefined)[]): Tensor {
  const graph = trailingGraph('ones', rest);
  return filled('ones', shape, 1, optionalDType('ones', rest.length > 1 ? rest[0] : undefined, 'float32'), graph);
}

/**
 * The numbers start, start + step, … before stop, as a 1-D constant. As in tfjs, a decreasing range with step 1
 * (the default) counts down by 1.
 * @example range(0, 9, 2, g) // [0, 2, 4, 6, 8]
 */
export function range(start: number, stop: number, graph: Graph): Tensor;
export function range(start: number, stop: number, step: number | undefined, graph: Graph): Tensor;
export function range(
  start: number,
  stop: number,
  step: number | undefined,
  dtype: DType | undefined,
  graph: Graph,
): Tensor;
export function range(start: number, stop: number, ...rest: (number | DType | Graph | undefined)[]): Tensor {
  const graph = trailingGraph('range', rest);
  const stepArg = rest.length > 1 ? rest[0] : undefined;
  if (stepArg !== undefined && typeof stepArg !== 'number') {
    throw new GraphError(`range: step must be a number, got ${String(stepArg)}`);
  }
  let step = stepArg ?? 1;
  const dtype = optionalDType('range', rest.length > 2 ? rest[1] : undefined, 'float32');
  if (step === 0 || !Number.isFinite(step))
    throw new ShapeError(`range: step ${step} must be a finite non-zero number`);
  if (dtype === 'int32' && ![start, step].every(Number.isInteger)) {
    throw new DTypeError(`range: start ${start} and step ${step} must be integers for int32`);
  }
  if (stop < start && step === 1) step = -1;
  const count = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(dtype, count);
  for (let i = 0; i < count; i++) data[i] = start + i * step;
  return graph.constant(new NDArray(data, [count], dtype), dtype, 'range');
}

/**
 * `num` evenly spaced float32 numbers from start to stop (both included).
 * @example linspace(0, 1, 5, g) // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, num: number, graph: Graph): Tensor {
  trailingGraph('linspace', [graph]);
  if (!Number.isInteger(num) || num <= 0) throw new ShapeError(`linspace: num ${num} must be a positive integer`);
  const step = (stop - start) / (num - 1);
  const data = new Float32Array(num);
  for (let i = 0; i < num; i++) data[i] = i === 0 ? start : start + i * step;
  return graph.constant(new NDArray(data, [num], 'float32'), 'float32', 'linspace');
}
