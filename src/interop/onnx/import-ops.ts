/**
 * How ONNX ops become lazygrad ops (the inverse of export-ops.ts, plus the common ops of models other tools
 * write): one table, read top to bottom. Values known when importing (Constant nodes, shape arithmetic on static
 * shapes) stay on the host as numbers; a shape with dims known only at run time stays symbolic and is consumed by
 * Reshape, Expand and ConstantOfShape as reshapeLike, broadcastLike and zerosLike/onesLike.
 */
import { DType, Graph, GraphError, isFloat, NDArray, Tensor } from '../../graph';
import * as ops from '../../ops';
import { IMAGE_IMPORT_RULES } from './image';
import { importGlobalPool, importPool } from './pool';
import { convRule, convTransposeRule } from './import-conv';
import { CONTROL_IMPORT_RULES } from './control';
import { RECURRENT_IMPORT_RULES } from './recurrent';
import { dtypeOfOnnx, HostTensor, onnx, ReadAttrs, TYPE_NAMES } from './proto';

/** A dim of a shape known only at run time: dim `axis` of a tensor, times `factor` (default 1). */
export interface SymDim {
  readonly of: Tensor;
  readonly axis: number;
  readonly factor?: number;
}

/** What an ONNX value is while importing. */
export type Value =
  | { readonly kind: 'tensor'; readonly tensor: Tensor }
  | { readonly kind: 'host'; readonly host: HostTensor; readonly fromInitializer: boolean }
  | { readonly kind: 'shape'; readonly dims: readonly (number | SymDim)[]; readonly scalar: boolean };

export interface ImportArgs extends SubgraphImporter {
  readonly graph: Graph;
  readonly node: onnx.INodeProto;
  readonly attrs: ReadAttrs;
  readonly opset: number;
  /** The most elements a tensor made while importing may hold (LoadLimits.maxElements). */
  readonly maxElements: number;
  /** Number of inputs present (optional inputs given as '' count as absent). */
  readonly inputCount: number;
  /** Whether input i is given. */
  has(i: number): boolean;
  /** Input i as a tensor (host values become constants, or variables for initializers). */
  tensor(i: number): Tensor;
  /** Input i as a value known now, or undefined. */
  host(i: number): HostTensor | undefined;
  /** Input i as numbers known now (axes, shapes, starts…), or a GraphError saying it must be. */
  numbers(i: number, what: string): number[];
  /** Input i as it is (for the rules that handle symbolic shapes). */
  value(i: number): Value;
  fail(message: string): GraphError;
}

/** What the rules of ops with subgraphs (If, Loop, Scan: control.ts) use besides the other rules' arguments. */
export interface SubgraphImporter {
  /**
   * Imports the node's subgraph attribute `attr` with its inputs bound in order to `bindings`, where ops are being
   * built now (inside an open region, or inline), reading outer values by name; gives its outputs.
   */
  subgraph(attr: string, bindings: readonly Value[]): Value[];
  /** A value as a tensor (host values become constants). */
  asTensor(value: Value, name: string): Tensor;
}

export type ImportRule = (a: ImportArgs) => Tensor | Value | readonly (Tensor | Value)[];

const hostValue = (host: HostTensor): Value => ({ kind: 'host', host, fromInitializer: false });

function hostOfNumbers(values: readonly number[], dims: readonly number[], type = 7): HostTensor {
  return { type, dims, data: [...values] };
}

// ---- rule makers ------------------------------------------------------------------------------------------------

const unary =
  (f: (x: Tensor) => Tensor): ImportRule =>
  (a) =>
    f(a.tensor(0));

/** A binary op; a JS-style dtype mismatch (Pow's int exponent) is resolved by casting to the first input's dtype. */
const binary =
  (f: (x: Tensor, y: Tensor) => Tensor): ImportRule =>
  (a) => {
    const x = a.tensor(0);
    let y = a.tensor(1);
    if (y.dtype !== x.dtype) y = ops.cast(y, x.dtype);
    return f(x, y);
  };

/** Max/Min/Sum/Mean over any number of inputs, with broadcasting. */
const variadic =
  (f: (x: Tensor, y: Tensor) => Tensor, average = false): ImportRule =>
  (a) => {
    let total = a.tensor(0);
    for (let i = 1; i < a.inputCount; i++) total = f(total, a.tensor(i));
    return average && a.inputCount > 1
      ? ops.div(total, a.inputCount)
      : a.inputCount === 1
        ? ops.identity(total)
        : total;
  };

const normalize = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** The axes of a reduction: an input from opset 18 (13 for ReduceSum), an attribute before. */
function reductionAxes(a: ImportArgs, opType: string, rank: number): number[] | null {
  const fromInput = opType === 'ReduceSum' ? a.opset >= 13 : a.opset >= 18;
  const axes = fromInput ? (a.has(1) ? a.numbers(1, 'axes') : []) : a.attrs.ints('axes', []);
  if (axes.length === 0)
    return a.attrs.int('noop_with_empty_axes', 0) === 1 ? null : Array.from({ length: rank }, (_, i) => i);
  return axes.map((d) => normalize(d, rank));
}

const reduction =
  (opType: string, f: (x: Tensor, axes: number[], keepDims: boolean) => Tensor): ImportRule =>
  (a) => {
    const x = a.tensor(0);
    const axes = reductionAxes(a, opType, x.rank);
    if (axes === null) return ops.identity(x);
    return f(x, axes, a.attrs.int('keepdims', 1) === 1);
  };

const argReduction =
  (f: (x: Tensor, axis: number) => Tensor): ImportRule =>
  (a) => {
    const x = a.tensor(0);
    const axis = normalize(a.attrs.int('axis', 0), x.rank);
    let y: Tensor;
    if (a.attrs.int('select_last_index', 0) === 0) y = f(x, axis);
    else {
      // Opset 12+: among ties, the last index: the first one along the reversed axis, counted from the end.
      const n = x.shape[axis];
      if (n === null) throw a.fail(`select_last_index=1 needs the size of axis ${axis} known, got [${x.shape}]`);
      y = ops.neg(ops.sub(f(ops.reverse(x, axis), axis), n - 1));
    }
    return a.attrs.int('keepdims', 1) === 1 ? ops.expandDims(y, axis) : y;
  };

// ---- shapes -----------------------------------------------------------------------------------------------------

/** The dims of a shape value: numbers when known now, else symbolic. */
function shapeDims(a: ImportArgs, i: number): (number | SymDim)[] {
  const value = a.value(i);
  if (value.kind === 'shape') return [...value.dims];
  return a.numbers(i, 'shape');
}

/** A symbolic dim whose tensor's static shape knows it, as a number. */
export function known(d: number | SymDim): number | SymDim {
  if (typeof d === 'number') return d;
  const size = d.of.shape[d.axis];
  return size === null ? d : size * (d.factor ?? 1);
}

/** Whether dims are exactly the shape of tensor `like`, dim by dim. */
function isShapeOf(dims: readonly (number | SymDim)[], like: Tensor): boolean {
  return (
    dims.length === like.rank &&
    dims.every((d, i) =>
      typeof d === 'number' ? d === like.shape[i] : d.of === like && d.axis === i && (d.factor ?? 1) === 1,
    )
  );
}

/** The one tensor every symbolic dim refers to, when dims are exactly its shape. */
function shapeSource(dims: readonly (number | SymDim)[]): Tensor | null {
  const sym = dims.find((d): d is SymDim => typeof d !== 'number');
  return sym !== undefined && isShapeOf(dims, sym.of) ? sym.of : null;
}

/**
 * Reshape(x, target): 0 copies x's dim unless allowzero; -1 is inferred; run-time dims as reshapeLike, -1 or, with
 * several, reshapeDims.
 */
function reshapeTo(a: ImportArgs, x: Tensor, target: readonly (number | SymDim)[], allowZero: boolean): Tensor {
  const dims = target.map((d, i) =>
    typeof d === 'number' && d === 0 && !allowZero ? known({ of: x, axis: i }) : known(d),
  );
  if (dims.every((d): d is number => typeof d === 'number')) return ops.reshape(x, dims);
  const like = shapeSource(dims);
  if (like !== null) return ops.reshapeLike(x, like);
  const unknown = dims.filter((d) => typeof d !== 'number').length + dims.filter((d) => d === -1).length;
  if (unknown === 1)
    return ops.reshape(
      x,
      dims.map((d) => (typeof d === 'number' ? d : -1)),
    );
  // One dim copied from x and one -1: the -1 is x's other dims over the target's known ones.
  const copied = dims.filter((d): d is SymDim => typeof d !== 'number');
  if (unknown === 2 && copied.length === 1 && copied[0].of === x && (copied[0].factor ?? 1) === 1) {
    const rest = x.shape.filter((_, i) => i !== copied[0].axis);
    const targetKnown = dims.filter((d): d is number => typeof d === 'number' && d !== -1);
    if (rest.every((d) => d !== null)) {
      const inferred = (rest as number[]).reduce((p, d) => p * d, 1) / targetKnown.reduce((p, d) => p * d, 1);
      if (Number.isInteger(inferred))
        return ops.reshape(
          x,
          dims.map((d) => (typeof d === 'number' ? (d === -1 ? inferred : d) : -1)),
        );
    }
  }
  // Several dims known only at run time: reshapeDims reads them from their tensors once the session knows the shapes.
  if (dims.filter((d) => d === -1).length <= 1) {
    return ops.reshapeDims(
      x,
      dims.map((d) => (typeof d === 'number' ? d : { of: d.of, axis: d.axis, factor: d.factor ?? 1 })),
    );
  }
  throw a.fail('the target shape has more than one -1');
}

/** ONNX Expand broadcasts both ways: a target dim of 1 keeps x's dim. */
function expandTo(a: ImportArgs, x: Tensor, target: readonly (number | SymDim)[]): Tensor {
  const rank = Math.max(x.rank, target.length);
  const out: (number | SymDim)[] = [];
  for (let i = 0; i < rank; i++) {
    const t = i < rank - target.length ? 1 : known(target[i - (rank - target.length)]);
    const xi = i < rank - x.rank ? 1 : x.shape[i - (rank - x.rank)];
    out.push(t === 1 ? (xi ?? { of: x, axis: i - (rank - x.rank) }) : t);
  }
  if (out.every((d): d is number => typeof d === 'number')) {
    return out.length === x.rank && out.every((d, i) => d === x.shape[i]) ? ops.identity(x) : ops.broadcastTo(x, out);
  }
  const like = shapeSource(out);
  if (like !== null) return ops.broadcastLike(x, like);
  throw a.fail('the target shape mixes dims of several tensors known only at run time');
}

function fillValue(a: ImportArgs): { value: number; dtype: DType } {
  const tensor = a.attrs.tensor('value');
  if (tensor === undefined) return { value: 0, dtype: 'float32' };
  const dtype = dtypeOfOnnx(tensor.dataType ?? 0);
  if (dtype === null)
    throw a.fail(`value of type ${TYPE_NAMES[tensor.dataType ?? 0] ?? tensor.dataType} is not supported`);
  const raw = tensor.rawData;
  let value = 0;
  if (raw !== null && raw !== undefined && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const type = tensor.dataType;
    value =
      type === 1
        ? view.getFloat32(0, true)
        : type === 11
          ? view.getFloat64(0, true)
          : type === 7
            ? Number(view.getBigInt64(0, true))
            : type === 6
              ? view.getInt32(0, true)
              : raw[0];
  } else {
    value =
      tensor.floatData?.[0] ?? tensor.doubleData?.[0] ?? tensor.int32Data?.[0] ?? Number(tensor.int64Data?.[0] ?? 0);
  }
  return { value, dtype };
}

const constantOfShape: ImportRule = (a) => {
  const { value, dtype } = fillValue(a);
  const dims = shapeDims(a, 0).map(known);
  if (dims.every((d): d is number => typeof d === 'number')) {
    if (dims.some((d) => d < 0)) throw a.fail(`the shape ${JSON.stringify(dims)} has a negative dim; dims are >= 0`);
    const size = dims.reduce((p, d) => p * d, 1);
    if (!(size <= a.maxElements)) throw a.fail(`a constant of ${size} elements is above the limit of ${a.maxElements}`);
    const array = NDArray.zeros(dims, dtype);
    array.data.fill(dtype === 'bool' ? (value !== 0 ? 1 : 0) : value);
    return a.graph.constant(array, dtype);
  }
  const like = shapeSource(dims);
  if (like === null) throw a.fail('the shape mixes dims of several tensors known only at run time');
  const base = value === 0 ? ops.zerosLike(like) : ops.onesLike(like);
  const typed = base.dtype === dtype ? base : ops.cast(base, dtype);
  return value === 0 || value === 1 ? typed : ops.mul(typed, value);
};

const shapeRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const rank = x.rank;
  const start = Math.min(rank, Math.max(0, normalize(a.attrs.int('start', 0), rank)));
  const end = Math.min(rank, Math.max(0, normalize(a.attrs.int('end', rank), rank)));
  const dims: (number | SymDim)[] = [];
  // Every dim keeps its source (even the known ones) while any is unknown, so a product of them can be rebuilt.
  const anyUnknown = x.shape.slice(start, end).some((d) => d === null);
  for (let i = start; i < end; i++) dims.push(anyUnknown ? { of: x, axis: i } : (x.shape[i] as number));
  return symbolicOrHost(dims, false);
};

function symbolicOrHost(dims: readonly (number | SymDim)[], scalar: boolean): Value {
  if (
    dims.every((d) => typeof known(d) === 'number') &&
    !dims.some((d) => typeof d !== 'number' && d.of.shape.includes(null))
  ) {
    return hostValue(
      hostOfNumbers(
        dims.map((d) => known(d) as number),
        scalar ? [] : [dims.length],
      ),
    );
  }
  return { kind: 'shape', dims, scalar };
}

/** The product of a run-time shape's dims: reducedSize of each source tensor's axes, times the known dims. */
function shapeProduct(dims: readonly (number | SymDim)[]): Tensor {
  let factor = 1;
  const axesOf = new Map<Tensor, number[]>();
  for (const d of dims) {
    if (typeof d === 'number') factor *= d;
    else {
      factor *= d.factor ?? 1;
      axesOf.set(d.of, [...(axesOf.get(d.of) ?? []), d.axis]);
    }
  }
  let total: Tensor | null = null;
  for (const [tensor, axes] of axesOf) {
    const size = ops.apply(ops.REDUCED_SIZE, [tensor], {
      axes: [...new Set(axes)].sort((p, q) => p - q),
      dtype: 'float32',
    });
    total = total === null ? size : ops.mul(total, size);
  }
  return factor === 1 ? (total as Tensor) : ops.mul(total as Tensor, factor);
}

/**
 * Mul of a run-time shape by known whole numbers (one, or one per dim), in either order: each dim scaled, a symbolic
 * one by its factor (as exportOnnx writes reshapeDims, and as models compute an upsampled size).
 */
function scaledShape(a: ImportArgs): Value | undefined {
  const [first, second] = [a.value(0), a.value(1)];
  const [shape, by] = first.kind === 'shape' ? [first, a.host(1)] : second.kind === 'shape' ? [second, a.host(0)] : [];
  if (shape === undefined || by === undefined) throw a.fail('Mul of a run-time shape needs known factors');
  const factors = Array.from(by.data);
  if (
    !(factors.length === 1 || factors.length === shape.dims.length) ||
    !factors.every((f) => Number.isInteger(f) && f >= 1)
  )
    throw a.fail('Mul of a run-time shape needs whole factors >= 1, one or one per dim');
  const dims = shape.dims.map((d, i) => {
    const f = factors[factors.length === 1 ? 0 : i];
    return typeof d === 'number' ? d * f : { of: d.of, axis: d.axis, factor: (d.factor ?? 1) * f };
  });
  return symbolicOrHost(dims, shape.scalar && by.dims.length === 0);
}

/** Gather, Unsqueeze, Squeeze, Concat, Slice and Cast of a symbolic shape (as exported models compute shapes). */
function shapeArithmetic(opType: string, a: ImportArgs): Value | undefined {
  const source = a.value(0);
  if (opType === 'Concat') {
    const parts: Value[] = Array.from({ length: a.inputCount }, (_, i) => a.value(i));
    if (!parts.some((p) => p.kind === 'shape')) return undefined;
    const dims: (number | SymDim)[] = [];
    for (let i = 0; i < parts.length; i++) dims.push(...shapeDims(a, i));
    return symbolicOrHost(dims, false);
  }
  if (opType === 'Mul') return scaledShape(a);
  if (source.kind !== 'shape') return undefined;
  switch (opType) {
    case 'Identity':
    case 'Cast':
      return source;
    case 'Gather': {
      const index = a.host(1);
      if (index === undefined) throw a.fail('gathering from a run-time shape needs known indices');
      const n = source.dims.length;
      if (Array.from(index.data).some((i) => !(i >= -n && i < n)))
        throw a.fail(`an index is out of range for ${n} dims`);
      const picked = Array.from(index.data, (i) => source.dims[normalize(i, n)]);
      return symbolicOrHost(picked, index.dims.length === 0);
    }
    case 'Unsqueeze':
      return symbolicOrHost(source.dims, false);
    case 'Squeeze':
      return symbolicOrHost(source.dims, source.dims.length === 1);
    case 'ReduceProd': {
      if (a.attrs.int('keepdims', 1) === 1 && !source.scalar)
        throw a.fail('ReduceProd of a run-time shape must drop the axis');
      const repeated = new Set(
        source.dims.filter((d): d is SymDim => typeof d !== 'number').map((d) => `${d.of.id}:${d.axis}`),
      );
      if (repeated.size !== source.dims.filter((d) => typeof d !== 'number').length) {
        throw a.fail('ReduceProd of a run-time shape that repeats a dim is not supported');
      }
      return { kind: 'tensor', tensor: shapeProduct(source.dims) };
    }
    case 'Slice': {
      const { starts, ends } = sliceParams(a);
      const n = source.dims.length;
      const clamp = (v: number): number => Math.min(n, Math.max(0, normalize(v, n)));
      return symbolicOrHost(source.dims.slice(clamp(starts[0]), clamp(ends[0])), false);
    }
    default:
      throw a.fail(`${opType} of a shape known only at run time is not supported`);
  }
}

// ---- indexing ---------------------------------------------------------------------------------------------------

/** Slice's parameters: attributes before opset 10 (no steps), inputs from 10. */
function sliceParams(a: ImportArgs): { starts: number[]; ends: number[]; axes: number[] | null; steps: number[] } {
  if (a.opset < 10) {
    const starts = a.attrs.ints('starts');
    return {
      starts,
      ends: a.attrs.ints('ends'),
      axes: a.attrs.has('axes') ? a.attrs.ints('axes') : null,
      steps: starts.map(() => 1),
    };
  }
  const starts = a.numbers(1, 'starts');
  return {
    starts,
    ends: a.numbers(2, 'ends'),
    axes: a.has(3) ? a.numbers(3, 'axes') : null,
    steps: a.has(4) ? a.numbers(4, 'steps') : starts.map(() => 1),
  };
}

const sliceRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const params = sliceParams(a);
  const { starts, ends, steps } = params;
  if (ends.length !== starts.length || steps.length !== starts.length || (params.axes?.length ?? 0) > starts.length)
    throw a.fail(`starts, ends, axes and steps must have one entry per sliced axis`);
  const axes = params.axes?.map((d) => normalize(d, x.rank)) ?? starts.map((_, i) => i);
  const begin = new Array<number>(x.rank).fill(0);
  const end = new Array<number>(x.rank).fill(0);
  const strides = new Array<number>(x.rank).fill(1);
  let beginMask = 0;
  let endMask = 0;
  for (let d = 0; d < x.rank; d++) {
    const k = axes.indexOf(d);
    if (k < 0) {
      // Arithmetic, not bit operators: a mask bit of a dim past 31 must not wrap.
      beginMask += 2 ** d;
      endMask += 2 ** d;
      continue;
    }
    begin[d] = starts[k];
    end[d] = ends[k];
    strides[d] = steps[k];
  }
  return ops.stridedSlice(x, begin, end, strides, beginMask, endMask);
};

const gatherRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const axis = normalize(a.attrs.int('axis', 0), x.rank);
  const host = a.host(1);
  if (host !== undefined) {
    const n = x.shape[axis];
    const data = Array.from(host.data, (i) => (i < 0 && n !== null ? i + n : i));
    const indices = new NDArray(Int32Array.from(data), host.dims, 'int32');
    return ops.gather(x, indices, axis);
  }
  const indices = a.tensor(1);
  return ops.gather(x, indices.dtype === 'int32' ? indices : ops.cast(indices, 'int32'), axis);
};

/** Where output element i of a padded axis of size n reads from (before elements added in front), by mode. */
function padSource(mode: string, i: number, before: number, n: number): number {
  const j = i - before;
  if (mode === 'edge') return Math.min(n - 1, Math.max(0, j));
  if (mode === 'wrap') return ((j % n) + n) % n;
  // reflect: mirrored about the first and last elements, which are not repeated
  const period = 2 * (n - 1);
  if (period === 0) return 0;
  const k = ((j % period) + period) % period;
  return k < n ? k : period - k;
}

const padRule: ImportRule = (a) => {
  const mode = a.attrs.string('mode', 'constant');
  const modes = a.opset >= 19 ? ['constant', 'reflect', 'edge', 'wrap'] : ['constant', 'reflect', 'edge'];
  if (!modes.includes(mode)) throw a.fail(`Pad mode '${mode}' is not one of ${modes.join(', ')} at opset ${a.opset}`);
  const x = a.tensor(0);
  // Before opset 11, pads and the value are attributes.
  const old = a.opset < 11;
  const pads = old ? a.attrs.ints('pads') : a.numbers(1, 'pads');
  const axes = !old && a.has(3) ? a.numbers(3, 'axes').map((d) => normalize(d, x.rank)) : x.shape.map((_, i) => i);
  if (pads.length !== 2 * axes.length)
    throw a.fail(
      `pads has ${pads.length} values; ${2 * axes.length} (a begin and an end for each of ${axes.length} axes) are needed`,
    );
  const paddings = x.shape.map((): [number, number] => [0, 0]);
  axes.forEach((d, k) => (paddings[d] = [pads[k], pads[k + axes.length]]));
  const value = old ? a.attrs.float('value', 0) : a.has(2) ? (a.numbers(2, 'constant_value')[0] ?? 0) : 0;
  if (mode === 'constant' && paddings.every((p) => p[0] >= 0 && p[1] >= 0)) return ops.pad(x, paddings, value);
  // The other modes, and negative pads (cropping): each padded axis is a gather of where its elements come from;
  // in constant mode only the cropping is a gather, and the (positive) rest a pad.
  let y = x;
  paddings.forEach(([before, after], d) => {
    if (before === 0 && after === 0) return;
    const n = x.shape[d];
    if (n === null) throw a.fail(`Pad mode '${mode}' (or negative pads) needs the size of axis ${d} known`);
    const [from, to] = mode === 'constant' ? [Math.max(0, -before), n - Math.max(0, -after)] : [0, n + before + after];
    if (to < from) throw a.fail(`pads [${before}, ${after}] of axis ${d} (size ${n}) leave a negative size`);
    const indices = Array.from({ length: to - from }, (_, i) =>
      mode === 'constant' ? from + i : padSource(mode, i, before, n),
    );
    y = ops.gather(y, new NDArray(Int32Array.from(indices), [indices.length], 'int32'), d);
  });
  if (mode !== 'constant') return y;
  return ops.pad(
    y,
    paddings.map(([before, after]): [number, number] => [Math.max(0, before), Math.max(0, after)]),
    value,
  );
};

const oneHotRule: ImportRule = (a) => {
  const rank = a.tensor(0).rank;
  const axis = normalize(a.attrs.int('axis', -1), rank + 1);
  if (!(axis >= 0 && axis <= rank))
    throw a.fail(`axis ${a.attrs.int('axis', -1)} is out of range for rank ${rank + 1}`);
  const depth = a.numbers(1, 'depth')[0];
  const values = a.host(2);
  if (values === undefined || values.data.length !== 2) throw a.fail('OneHot values must be a known [off, on] pair');
  const dtype = dtypeOfOnnx(values.type);
  if (dtype === null) throw a.fail('OneHot values have an unsupported type');
  let indices = a.tensor(0);
  if (indices.dtype !== 'int32') indices = ops.cast(indices, 'int32');
  // ONNX counts negative indices from the end; lazygrad's oneHot gives a row of off values for them.
  const wrapped = ops.where(ops.less(indices, 0), ops.add(indices, depth), indices);
  const hot = ops.oneHot(wrapped, depth, values.data[1], values.data[0], dtype);
  if (axis === rank) return hot;
  // Another axis: the one-hot dim (last) moved there.
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm.splice(axis, 0, rank);
  return ops.transpose(hot, perm);
};

const splitRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const axis = normalize(a.attrs.int('axis', 0), x.rank);
  const count = (a.node.output ?? []).length;
  const sizes = a.has(1) ? a.numbers(1, 'split') : a.attrs.has('split') ? a.attrs.ints('split') : null;
  if (sizes !== null) return ops.split(x, sizes, axis);
  const n = x.shape[axis];
  if (n === null) throw a.fail('splitting an axis of unknown size needs explicit sizes');
  const piece = Math.ceil(n / count);
  return ops.split(
    x,
    Array.from({ length: count }, (_, i) => Math.min(piece, n - i * piece)),
    axis,
  );
};

// ---- linear algebra and nn --------------------------------------------------------------------------------------

/** MatMul with NumPy's 1-D rules: a vector operand gains a dim for the product, which is then removed. */
const matMulRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const y = a.tensor(1);
  const left = x.rank === 1 ? ops.expandDims(x, 0) : x;
  const right = y.rank === 1 ? ops.expandDims(y, 1) : y;
  const product = ops.matMul(left, right);
  const drop = [...(x.rank === 1 ? [product.rank - 2] : []), ...(y.rank === 1 ? [product.rank - 1] : [])];
  return drop.length > 0 ? ops.squeeze(product, drop) : product;
};

const gemmRule: ImportRule = (a) => {
  const alpha = a.attrs.float('alpha', 1);
  const beta = a.attrs.float('beta', 1);
  let y = ops.matMul(a.tensor(0), a.tensor(1), a.attrs.int('transA', 0) === 1, a.attrs.int('transB', 0) === 1);
  if (alpha !== 1) y = ops.mul(y, alpha);
  if (a.has(2)) y = ops.add(y, beta === 1 ? a.tensor(2) : ops.mul(a.tensor(2), beta));
  return y;
};

const product = (dims: readonly (number | null)[]): number | null =>
  dims.every((d) => d !== null) ? (dims as number[]).reduce((p, d) => p * d, 1) : null;

const softmaxRule =
  (f: (x: Tensor, axis: number) => Tensor): ImportRule =>
  (a) => {
    const x = a.tensor(0);
    if (a.opset >= 13) return f(x, normalize(a.attrs.int('axis', -1), x.rank));
    // Before opset 13 (axis default 1) the input is read as the 2-D matrix [dims before axis, dims from axis], each
    // row normalized: the softmax runs over all the dims from the axis on. Along the last axis both readings agree.
    const axis = normalize(a.attrs.int('axis', 1), x.rank);
    if (axis === x.rank - 1) return f(x, axis);
    const outer = product(x.shape.slice(0, axis));
    const inner = product(x.shape.slice(axis));
    if (outer === null && inner === null)
      throw a.fail(`a softmax before opset 13 needs the dims on one side of axis ${axis} known, got [${x.shape}]`);
    const rows = f(ops.reshape(x, [outer ?? -1, inner ?? -1]), 1);
    return x.shape.every((d) => d !== null) ? ops.reshape(rows, x.shape as number[]) : ops.reshapeLike(rows, x);
  };

const batchNormRule: ImportRule = (a) => {
  const training = a.opset >= 14 && a.attrs.int('training_mode', 0) === 1;
  if (!training && (a.node.output ?? []).filter((o) => o !== '').length > 1)
    throw a.fail('BatchNormalization with the outputs of training (before opset 14) is not supported');
  const x = a.tensor(0);
  const epsilon = a.attrs.float('epsilon', 1e-5);
  // Opsets 7-8: spatial=0 gives one statistic per element of [C, D1, …] (a shape that broadcasts against x as is).
  const spatial = a.opset >= 9 || a.attrs.int('spatial', 1) !== 0;
  const perChannel = (t: Tensor): Tensor =>
    spatial ? ops.reshape(t, [-1, ...new Array<number>(Math.max(0, x.rank - 2)).fill(1)]) : t;
  const [scale, bias, inputMean, inputVariance] = [1, 2, 3, 4].map((i) => perChannel(a.tensor(i)));
  // Inference: batchNorm (so exportOnnx writes one BatchNormalization node for it again).
  if (!training) return ops.batchNorm(x, inputMean, inputVariance, bias, scale, epsilon);
  // Training mode (opset 14): the batch's own statistics (population variance) normalize, and the running ones
  // are the inputs' moved toward them by (1 - momentum).
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const mean = ops.mean(x, axes, true);
  const variance = ops.mean(ops.square(ops.sub(x, mean)), axes, true);
  const y = ops.add(ops.mul(ops.div(ops.sub(x, mean), ops.sqrt(ops.add(variance, epsilon))), scale), bias);
  const momentum = a.attrs.float('momentum', 0.9);
  const running = (i: number, batch: Tensor): Tensor =>
    ops.add(ops.mul(a.tensor(i), momentum), ops.mul(ops.reshape(batch, [-1]), 1 - momentum));
  return [y, running(3, mean), running(4, variance)];
};

function seedOf(a: ImportArgs): number | undefined {
  return a.attrs.has('seed') ? a.attrs.float('seed') : undefined;
}

function randomDType(a: ImportArgs, fallback: DType): DType {
  if (!a.attrs.has('dtype')) return fallback;
  const dtype = dtypeOfOnnx(a.attrs.int('dtype'));
  if (dtype === null || !isFloat(dtype)) throw a.fail('random ops draw float32 or float64 values');
  return dtype;
}

const randomRule =
  (kind: 'uniform' | 'normal', like: boolean): ImportRule =>
  (a) => {
    const source = like ? a.tensor(0) : null;
    const shape = like ? (source as Tensor).shape : a.attrs.ints('shape');
    if (shape.some((d) => d === null)) throw a.fail('random ops need a fully known shape');
    const dtype = randomDType(a, source !== null && isFloat(source.dtype) ? source.dtype : 'float32');
    const dims = shape as number[];
    if (kind === 'uniform') {
      return ops.randomUniform(dims, a.attrs.float('low', 0), a.attrs.float('high', 1), dtype, seedOf(a), a.graph);
    }
    return ops.randomNormal(dims, a.attrs.float('mean', 0), a.attrs.float('scale', 1), dtype, seedOf(a), a.graph);
  };

/** Mod: fmod=0 is floor modulo (lazygrad's mod); fmod=1 is C's fmod, the floor modulo shifted where signs differ. */
const modRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const y = a.tensor(1);
  const floorMod = ops.mod(x, y);
  if (a.attrs.int('fmod', 0) === 0) return floorMod;
  const shift = ops.logicalAnd(ops.notEqual(floorMod, 0), ops.notEqual(ops.less(x, 0), ops.less(y, 0)));
  return ops.where(shift, ops.sub(floorMod, y), floorMod);
};

/** The lowest and highest values of a dtype: Clip's bounds when one is not given (infinities clamp to them). */
function dtypeLimits(dtype: DType): [number, number] {
  if (dtype === 'float32') return [-3.4028234663852886e38, 3.4028234663852886e38];
  if (dtype === 'float64') return [-Number.MAX_VALUE, Number.MAX_VALUE];
  return dtype === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : [0, 1];
}

const clipRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const [lowest, highest] = dtypeLimits(x.dtype);
  // Before opset 11 the bounds are the min and max attributes.
  if (a.opset < 11) return ops.clipByValue(x, a.attrs.float('min', lowest), a.attrs.float('max', highest));
  const bound = (i: number, fallback: number): number | Tensor => {
    if (!a.has(i)) return fallback;
    const host = a.host(i);
    return host !== undefined ? host.data[0] : a.tensor(i);
  };
  const lo = bound(1, lowest);
  const hi = bound(2, highest);
  if (typeof lo === 'number' && typeof hi === 'number') return ops.clipByValue(x, lo, hi);
  return ops.minimum(ops.maximum(x, lo), hi);
};

/**
 * Dropout passes its input through at inference. From opset 12 a training_mode input set (or known only at run
 * time) drops as lazygrad's dropout does (other random numbers than ONNX Runtime's); before, ratio is an attribute.
 */
const dropoutRule: ImportRule = (a) => {
  const x = a.tensor(0);
  if (a.opset < 12 || !a.has(2)) return ops.identity(x);
  const mode = a.host(2);
  if (mode !== undefined && mode.data[0] === 0) return ops.identity(x);
  const ratio = a.has(1) ? a.numbers(1, 'ratio')[0] : 0.5;
  const seed = a.attrs.has('seed') ? a.attrs.int('seed') : undefined;
  const flag = a.tensor(2);
  const training = mode !== undefined ? true : flag.dtype === 'bool' ? flag : ops.cast(flag, 'bool');
  return ops.dropout(x, ratio, undefined, seed, training);
};

const isInfRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const infinite = ops.logicalAnd(ops.logicalNot(ops.isFinite(x)), ops.logicalNot(ops.isNaN(x)));
  const positive = a.attrs.int('detect_positive', 1) === 1;
  const negative = a.attrs.int('detect_negative', 1) === 1;
  if (positive && negative) return infinite;
  return ops.logicalAnd(infinite, positive ? ops.greater(x, 0) : negative ? ops.less(x, 0) : ops.notEqual(x, x));
};

const castRule: ImportRule = (a) => {
  const dtype = dtypeOfOnnx(a.attrs.int('to'));
  if (dtype === null) throw a.fail(`Cast to ${TYPE_NAMES[a.attrs.int('to')] ?? a.attrs.int('to')} is not supported`);
  const x = a.tensor(0);
  return x.dtype === dtype ? ops.identity(x) : ops.cast(x, dtype);
};

const flattenRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const axis = normalize(a.attrs.int('axis', 1), x.rank);
  const outer = product(x.shape.slice(0, axis));
  const inner = product(x.shape.slice(axis));
  if (outer === null && inner === null) throw a.fail('Flatten needs the dims on one side of the axis known');
  return ops.reshape(x, [outer ?? -1, inner ?? -1]);
};

/** Every ONNX op importOnnx reads. Others are a GraphError naming the op and the node. */
export const IMPORT_RULES: { readonly [opType: string]: ImportRule } = {
  // elementwise, binary
  Add: binary(ops.add),
  Sub: binary(ops.sub),
  Mul: binary(ops.mul),
  Div: binary(ops.div),
  Pow: binary(ops.pow),
  Max: variadic(ops.maximum),
  Min: variadic(ops.minimum),
  Sum: variadic(ops.add),
  Mean: variadic(ops.add, true),
  Mod: modRule,
  Where: (a) => ops.where(a.tensor(0), a.tensor(1), a.tensor(2)),
  // comparisons and logic
  Equal: binary(ops.equal),
  Greater: binary(ops.greater),
  GreaterOrEqual: binary(ops.greaterEqual),
  Less: binary(ops.less),
  LessOrEqual: binary(ops.lessEqual),
  And: binary(ops.logicalAnd),
  Or: binary(ops.logicalOr),
  Xor: binary(ops.notEqual),
  Not: unary(ops.logicalNot),
  IsNaN: unary(ops.isNaN),
  IsInf: isInfRule,
  // unary math
  Neg: unary(ops.neg),
  Abs: unary(ops.abs),
  Sign: unary(ops.sign),
  Sqrt: unary(ops.sqrt),
  Reciprocal: unary(ops.reciprocal),
  Exp: unary(ops.exp),
  Log: unary(ops.log),
  Sin: unary(ops.sin),
  Cos: unary(ops.cos),
  Tan: unary(ops.tan),
  Asin: unary(ops.asin),
  Acos: unary(ops.acos),
  Atan: unary(ops.atan),
  Sinh: unary(ops.sinh),
  Cosh: unary(ops.cosh),
  Asinh: unary(ops.asinh),
  Acosh: unary(ops.acosh),
  Atanh: unary(ops.atanh),
  Tanh: unary(ops.tanh),
  Erf: unary(ops.erf),
  Floor: unary(ops.floor),
  Ceil: unary(ops.ceil),
  Round: unary(ops.round),
  // activations
  Sigmoid: unary(ops.sigmoid),
  Relu: unary(ops.relu),
  Softplus: unary(ops.softplus),
  Softsign: unary((x) => ops.div(x, ops.add(ops.abs(x), 1))),
  Elu: (a) => {
    const alpha = a.attrs.float('alpha', 1);
    const x = a.tensor(0);
    return alpha === 1 ? ops.elu(x) : ops.where(ops.less(x, 0), ops.mul(ops.expm1(x), alpha), x);
  },
  Selu: (a) => {
    const x = a.tensor(0);
    const alpha = a.attrs.float('alpha', 1.67326319217681884765625);
    const gamma = a.attrs.float('gamma', 1.05070102214813232421875);
    if (Math.abs(alpha - 1.6732632423543772) < 1e-6 && Math.abs(gamma - 1.0507009873554805) < 1e-6) return ops.selu(x);
    return ops.mul(ops.where(ops.greater(x, 0), x, ops.mul(ops.expm1(x), alpha)), gamma);
  },
  LeakyRelu: (a) => ops.leakyRelu(a.tensor(0), a.attrs.float('alpha', 0.01)),
  PRelu: (a) => ops.prelu(a.tensor(0), a.tensor(1)),
  HardSigmoid: (a) => ops.hardSigmoid(a.tensor(0), a.attrs.float('alpha', 0.2), a.attrs.float('beta', 0.5)),
  HardSwish: unary(ops.hardSwish),
  Clip: clipRule,
  Softmax: softmaxRule(ops.softmax),
  LogSoftmax: softmaxRule(ops.logSoftmax),
  // passing values through
  Identity: (a) => ops.identity(a.tensor(0)),
  Dropout: dropoutRule,
  Cast: castRule,
  // shapes and movement
  Shape: shapeRule,
  Size: (a) => {
    const x = a.tensor(0);
    if (x.shape.some((d) => d === null)) throw a.fail('Size of a tensor of unknown shape is not supported');
    return hostValue(hostOfNumbers([(x.shape as number[]).reduce((p, d) => p * d, 1)], []));
  },
  // Opsets 1-4 give the shape as an attribute.
  Reshape: (a) =>
    reshapeTo(a, a.tensor(0), a.opset < 5 ? a.attrs.ints('shape') : shapeDims(a, 1), a.attrs.int('allowzero', 0) === 1),
  Flatten: flattenRule,
  Expand: (a) => expandTo(a, a.tensor(0), shapeDims(a, 1)),
  ConstantOfShape: constantOfShape,
  Transpose: (a) => {
    const x = a.tensor(0);
    return ops.transpose(x, a.attrs.has('perm') ? a.attrs.ints('perm') : undefined);
  },
  Unsqueeze: (a) => ops.expandDims(a.tensor(0), a.opset >= 13 ? a.numbers(1, 'axes') : a.attrs.ints('axes')),
  Squeeze: (a) => {
    const axes =
      a.opset >= 13
        ? a.has(1)
          ? a.numbers(1, 'axes')
          : undefined
        : a.attrs.has('axes')
          ? a.attrs.ints('axes')
          : undefined;
    return ops.squeeze(a.tensor(0), axes);
  },
  Concat: (a) => {
    const parts = Array.from({ length: a.inputCount }, (_, i) => a.tensor(i));
    return ops.concat(parts, a.attrs.int('axis'));
  },
  Split: splitRule,
  Slice: sliceRule,
  Gather: gatherRule,
  Tile: (a) => ops.tile(a.tensor(0), a.numbers(1, 'repeats')),
  Pad: padRule,
  OneHot: oneHotRule,
  CumSum: (a) => {
    const x = a.tensor(0);
    const axis = normalize(a.numbers(1, 'axis')[0], x.rank);
    return ops.cumsum(x, axis, a.attrs.int('exclusive', 0) === 1, a.attrs.int('reverse', 0) === 1);
  },
  // reductions
  ReduceSum: reduction('ReduceSum', ops.sum),
  ReduceMean: reduction('ReduceMean', ops.mean),
  ReduceMax: reduction('ReduceMax', ops.max),
  ReduceMin: reduction('ReduceMin', ops.min),
  ReduceProd: reduction('ReduceProd', ops.prod),
  ReduceLogSumExp: reduction('ReduceLogSumExp', ops.logSumExp),
  ReduceSumSquare: reduction('ReduceSumSquare', (x, axes, keep) => ops.sum(ops.square(x), axes, keep)),
  ReduceL1: reduction('ReduceL1', (x, axes, keep) => ops.sum(ops.abs(x), axes, keep)),
  ReduceL2: reduction('ReduceL2', (x, axes, keep) => ops.sqrt(ops.sum(ops.square(x), axes, keep))),
  ArgMax: argReduction(ops.argMax),
  ArgMin: argReduction(ops.argMin),
  // linear algebra and nn
  MatMul: matMulRule,
  Gemm: gemmRule,
  BatchNormalization: batchNormRule,
  LRN: (a) => {
    // ONNX divides alpha by size, and centres an odd window on each channel (axis 1); an even one is lopsided.
    const size = a.attrs.int('size');
    if (!(size >= 1 && size % 2 === 1))
      throw a.fail(`LRN with size ${size} is not supported: lazygrad's window is odd`);
    const [alpha, beta, bias] = [a.attrs.float('alpha', 1e-4), a.attrs.float('beta', 0.75), a.attrs.float('bias', 1)];
    return ops.localResponseNormalization(a.tensor(0), (size - 1) / 2, bias, alpha / size, beta, 1);
  },
  // random
  RandomUniform: randomRule('uniform', false),
  RandomNormal: randomRule('normal', false),
  RandomUniformLike: randomRule('uniform', true),
  RandomNormalLike: randomRule('normal', true),
  ...IMAGE_IMPORT_RULES,
  // pooling (NCHW, through lazygrad's NHWC ops)
  MaxPool: (a) => importPool('max', a.tensor(0), a.attrs, (a.node.output ?? []).filter((o) => o !== '').length, a.fail),
  AveragePool: (a) => importPool('avg', a.tensor(0), a.attrs, 1, a.fail),
  GlobalAveragePool: (a) => importGlobalPool('avg', a.tensor(0), a.fail),
  GlobalMaxPool: (a) => importGlobalPool('max', a.tensor(0), a.fail),
  // convolution (import-conv.ts)
  Conv: convRule,
  ConvTranspose: convTransposeRule,
  // control flow (control.ts) and recurrent layers (recurrent.ts)
  ...CONTROL_IMPORT_RULES,
  ...RECURRENT_IMPORT_RULES,
};

/**
 * The versions of the ops above that are read, by what ONNX Runtime runs. A node uses the newest version of its op
 * at or below the model's opset. `first`: the opset the op appeared in; `old`: its versions before the first one ONNX
 * Runtime (and so lazygrad) runs, which is `from`. An op not listed has existed since opset 1 and every version of
 * it is read; so is every version from `from` on (the rules read each version's attributes and inputs).
 */
const VERSIONS: { readonly [opType: string]: { first?: number; old?: readonly number[]; from?: number } } = {
  ...Object.fromEntries(
    ['Add', 'Sub', 'Mul', 'Div', 'PRelu', 'Dropout', 'Gemm'].map((op) => [op, { old: [1, 6], from: 7 }]),
  ),
  BatchNormalization: { old: [1, 6], from: 7 },
  ...Object.fromEntries(
    ['Pow', 'Equal', 'Greater', 'Less', 'And', 'Or', 'Xor'].map((op) => [op, { old: [1], from: 7 }]),
  ),
  ...Object.fromEntries(
    [
      ...['Max', 'Min', 'Sum', 'Mean', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Tanh', 'Floor', 'Ceil'],
      ...['Sigmoid', 'Relu', 'Elu', 'Selu', 'LeakyRelu', 'HardSigmoid', 'Clip', 'Cast', 'Tile'],
    ].map((op) => [op, { old: [1], from: 6 }]),
  ),
  Concat: { old: [1], from: 4 },
  Split: { old: [1], from: 2 },
  Pad: { old: [1], from: 2 },
  ...Object.fromEntries(['Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan'].map((op) => [op, { first: 7 }])),
  ...Object.fromEntries(
    [...['Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Erf', 'Sign', 'IsNaN', 'Where', 'ConstantOfShape', 'OneHot']].map(
      (op) => [op, { first: 9 }],
    ),
  ),
  Expand: { first: 8 },
  Mod: { first: 10 },
  IsInf: { first: 10 },
  Round: { first: 11 },
  CumSum: { first: 11 },
  GreaterOrEqual: { first: 12 },
  HardSwish: { first: 14 },
  LessOrEqual: { first: 12 },
  Resize: { first: 10 },
  Upsample: { first: 7 },
  Scan: { first: 8 },
};

/** Why a model's opset gives a version of an op that is not read, or null when it is read. */
export function versionProblem(opType: string, opset: number): string | null {
  const known = Object.prototype.hasOwnProperty.call(VERSIONS, opType) ? VERSIONS[opType] : {};
  if (known.first !== undefined && opset < known.first)
    return `${opType} does not exist at opset ${opset} (it is new in opset ${known.first})`;
  if (known.from === undefined || opset >= known.from) return null;
  const version = Math.max(...(known.old ?? [1]).filter((v) => v <= opset));
  return (
    `${opType} version ${version} (the model's opset ${opset}) is not supported, as ONNX Runtime does not run it ` +
    `either: lazygrad reads ${opType} from version ${known.from} (opset ${known.from} and later)`
  );
}

/** Ops with subgraphs (control.ts): never evaluated while importing (a known If condition inlines its branch). */
export const SUBGRAPH_ONNX_OPS = new Set(['If', 'Loop', 'Scan']);

/** Ops that draw (or may draw: Dropout in training mode) random numbers: never evaluated while importing. */
export const RANDOM_ONNX_OPS = new Set([
  'RandomUniform',
  'RandomNormal',
  'RandomUniformLike',
  'RandomNormalLike',
  'Dropout',
]);

export { shapeArithmetic };
