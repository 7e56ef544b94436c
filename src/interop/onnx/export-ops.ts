/**
 * How each lazygrad op becomes ONNX nodes (opset 17 and later): one table, read top to bottom, with docs/onnx.md
 * as its companion. A rule gets the node, the ONNX names of its inputs and the name its result should take, and
 * returns the name of the value holding the result. Several nodes stand in where ONNX has no single op; shapes
 * unknown at export time are computed in the exported graph from Shape.
 */
import { Dim, DType, GraphError, isFloat, NDArray, Node, Shape } from '../../graph';
import {
  ALL,
  ANY,
  ARG_MAX,
  ARG_MIN,
  attrsOf,
  BROADCAST_TO,
  CAST,
  CONCAT,
  CONCAT_PART,
  CUMSUM,
  EXPAND_DIMS,
  FUSED_MAT_MUL,
  GATHER,
  LOG_SOFTMAX,
  LOG_SUM_EXP,
  MAX,
  MIN,
  ONE_HOT,
  opRecord,
  PAD,
  PROD,
  PROD_EXCEPT,
  RANDOM_NORMAL,
  RANDOM_UNIFORM,
  REDUCED_SIZE,
  RESHAPE,
  RESHAPE_DIMS,
  REVERSE,
  SCATTER_ADD,
  Seed,
  SLICE,
  resolveSliceDim,
  SliceSpec,
  SOFTMAX,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX,
  SQUEEZE,
  STACK,
  STRIDED_SLICE,
  STRIDED_SLICE_GRAD,
  SUM,
  SUM_TILES,
  TILE,
  TRANSPOSE,
  TRUNCATED_NORMAL,
  FUSED,
  LOCAL_RESPONSE_NORMALIZATION,
  WINDOW_SUM,
} from '../../ops';
import { IMAGE_EXPORT_RULES } from './image';
import { exportAvgPoolGrad, exportMaxPoolArgmax, exportMaxPoolGrad, exportMaxPoolGradGrad, exportPool } from './pool';
import { CONV_EXPORT_RULES } from './export-conv';
import { CONV3D_EXPORT_RULES } from './conv3d';
import { onnxType } from './proto';
import { DimExpr, INT64_MAX, INT64_MIN, OnnxWriter } from './writer';

/** What a rule is given: the node (or a fused step standing in for one) and its inputs. */
export interface RuleArgs {
  readonly w: OnnxWriter;
  readonly node: Pick<Node, 'op' | 'attrs' | 'dtype' | 'shape' | 'name'>;
  /** ONNX value names of the inputs. */
  readonly inputs: readonly string[];
  /** dtype, static shape (and value, for constants) of each input. */
  readonly infos: readonly Pick<Node, 'dtype' | 'shape' | 'op' | 'value'>[];
  /** The name the result should take (a rule may return another value; the exporter then adds an Identity). */
  readonly out: string;
}

export type Rule = (args: RuleArgs) => string;

// ---- small rule makers ---------------------------------------------------------------------------------------

const single =
  (opType: string): Rule =>
  ({ w, inputs, out }) =>
    w.node(opType, inputs, {}, out);

/** A comparison: ONNX's Less/Greater family takes no bool, so bool inputs compare as int32. */
const compare =
  (opType: string, negate = false): Rule =>
  ({ w, inputs, infos, out }) => {
    const operands =
      infos[0].dtype === 'bool' && opType !== 'Equal'
        ? inputs.map((x) => w.node('Cast', [x], { to: { int: onnxType('int32') } }))
        : inputs;
    if (!negate) return w.node(opType, operands, {}, out);
    return w.node('Not', [w.node(opType, operands)], {}, out);
  };

/** A chain of nodes applied to the first input: each step an op type and optional attrs or a second operand. */
function chain(...steps: readonly (string | readonly [string, (a: RuleArgs, x: string) => string[]])[]): Rule {
  return (args) => {
    let x = args.inputs[0];
    steps.forEach((step, i) => {
      const last = i === steps.length - 1 ? args.out : undefined;
      x =
        typeof step === 'string' ? args.w.node(step, [x], {}, last) : args.w.node(step[0], step[1](args, x), {}, last);
    });
    return x;
  };
}

/** The scalar `value` in the node's dtype, as a second operand. */
const withScalar =
  (value: number) =>
  ({ w, node }: RuleArgs, x: string): string[] => [x, w.scalar(value, node.dtype)];

/** A reduction over axes: axes as an input for ReduceSum (opset 13+) and for all reductions from opset 18. */
function reduce(
  w: OnnxWriter,
  opType: string,
  x: string,
  axes: readonly number[],
  keepDims: boolean,
  out?: string,
): string {
  if (axes.length === 0) return w.node('Identity', [x], {}, out);
  const keepdims = { int: keepDims ? 1 : 0 };
  if (opType === 'ReduceSum' || w.opset >= 18) return w.node(opType, [x, w.ints(axes)], { keepdims }, out);
  return w.node(opType, [x], { axes: { ints: axes }, keepdims }, out);
}

const reduction =
  (record: typeof SUM, opType: string): Rule =>
  ({ w, node, inputs, out }) => {
    const { axes, keepDims } = attrsOf(record, node);
    return reduce(w, opType, inputs[0], axes, keepDims === true, out);
  };

function castTo(w: OnnxWriter, x: string, dtype: DType, out?: string): string {
  return w.node('Cast', [x], { to: { int: onnxType(dtype) } }, out);
}

/** Slice of x along its dims: entries with start 0, end INT64_MAX and step 1 are left out. */
function sliceNodes(
  w: OnnxWriter,
  x: string,
  starts: readonly (number | bigint)[],
  ends: readonly (number | bigint)[],
  steps: readonly number[],
  out?: string,
): string {
  const axes: number[] = [];
  const s: (number | bigint)[] = [];
  const e: (number | bigint)[] = [];
  const st: number[] = [];
  starts.forEach((start, d) => {
    if (start === 0 && ends[d] === INT64_MAX && steps[d] === 1) return;
    axes.push(d);
    s.push(start);
    e.push(ends[d]);
    st.push(steps[d]);
  });
  if (axes.length === 0) return w.node('Identity', [x], {}, out);
  const inputs = [x, w.ints(s), w.ints(e), w.ints(axes)];
  if (st.some((v) => v !== 1)) inputs.push(w.ints(st));
  return w.node('Slice', inputs, {}, out);
}

/**
 * ONNX Slice bounds for one dim of a strided slice. With the dim known, lazygrad's own resolution is reproduced
 * exactly; with it unknown, ONNX's clamping is used, which differs only for a negative stride whose begin lies
 * before the first element (lazygrad selects nothing there, ONNX the first element).
 */
function sliceBounds(spec: SliceSpec, d: number, n: number | null): [number | bigint, number | bigint, number] {
  const b = spec.begin[d];
  const e = spec.end[d];
  const s = spec.strides[d];
  if (spec.shrinkAxes.includes(d)) {
    const i = b ?? 0; // the stridedSlice record checked that a shrunk dim has a begin index
    return [i, i === -1 ? INT64_MAX : i + 1, 1];
  }
  if (n !== null) {
    const { start, count } = resolveSliceDim(spec, d, n);
    if (count === 0) return [0, 0, 1];
    const last = start + (count - 1) * s;
    const end = s > 0 ? last + 1 : last - 1;
    return [start, s < 0 && end < 0 ? INT64_MIN : end, s];
  }
  const start = b ?? (s > 0 ? 0 : INT64_MAX);
  const stop = e ?? (s > 0 ? INT64_MAX : INT64_MIN);
  return [start, stop, s];
}

function stridedSliceNodes(w: OnnxWriter, x: string, shape: Shape, spec: SliceSpec, out?: string): string {
  const bounds = shape.map((n, d) => sliceBounds(spec, d, n));
  const last = spec.shrinkAxes.length === 0 && spec.newAxes.length === 0 ? out : undefined;
  let y = sliceNodes(
    w,
    x,
    bounds.map((b) => b[0]),
    bounds.map((b) => b[1]),
    bounds.map((b) => b[2]),
    last,
  );
  if (spec.shrinkAxes.length > 0) {
    y = w.node('Squeeze', [y, w.ints(spec.shrinkAxes)], {}, spec.newAxes.length === 0 ? out : undefined);
  }
  if (spec.newAxes.length > 0) y = w.node('Unsqueeze', [y, w.ints(spec.newAxes)], {}, out);
  return y;
}

/**
 * sumTo(x, like): ReduceSum over the axes broadcasting added, then Squeeze of the leading ones. Axes known at
 * export time are listed; when an unknown dim of `like` meets a dim of x that is not 1, the axes are found at run
 * time (where Shape(x) differs from Shape(like) padded with ones).
 */
const sumToRule: Rule = ({ w, inputs: [x, like], infos: [xi, li], out }) => {
  const lead = xi.shape.length - li.shape.length;
  const axes: number[] = [];
  let dynamic = false;
  xi.shape.forEach((xd, i) => {
    if (i < lead) return void axes.push(i);
    const ld = li.shape[i - lead];
    if (ld === 1 && xd !== 1) axes.push(i);
    else if (ld === null && xd !== 1) dynamic = true;
  });
  const squeezeLead = (y: string): string =>
    lead === 0 ? y : w.node('Squeeze', [y, w.ints(Array.from({ length: lead }, (_, i) => i))], {}, out);
  if (!dynamic) return squeezeLead(reduce(w, 'ReduceSum', x, axes, true, lead === 0 ? out : undefined));
  let likeShape = w.shapeOf(like);
  if (lead > 0)
    likeShape = w.node('Concat', [w.ints(new Array<number>(lead).fill(1)), likeShape], { axis: { int: 0 } });
  const differs = w.node('Not', [w.node('Equal', [w.shapeOf(x), likeShape])]);
  const found = w.node('Reshape', [w.node('NonZero', [differs]), w.ints([-1])]);
  const summed = w.node(
    'ReduceSum',
    [x, found],
    { keepdims: { int: 1 }, noop_with_empty_axes: { int: 1 } },
    lead === 0 ? out : undefined,
  );
  return squeezeLead(summed);
};

/**
 * x broadcast to a target shape by Expand, which broadcasts both ways: where a dim of x is not known to be 1 or the
 * target's, a Reshape to the target follows, which fails in ONNX Runtime (as lazygrad's run does) when Expand made
 * a dim larger than the target's instead of returning a wrong shape.
 */
function expandExactly(
  w: OnnxWriter,
  x: string,
  xShape: Shape,
  target: string,
  targetShape: Shape,
  out: string,
): string {
  const lead = targetShape.length - xShape.length;
  const exact = xShape.every((d, i) => d === 1 || (d !== null && d === targetShape[i + lead]));
  if (exact) return w.node('Expand', [x, target], {}, out);
  return w.node('Reshape', [w.node('Expand', [x, target]), target], { allowzero: { int: 1 } }, out);
}

/** The start of part `index` of a concatenation along `axis`, and that part's size. */
function partBounds(
  w: OnnxWriter,
  parts: readonly string[],
  infos: RuleArgs['infos'],
  axis: number,
  index: number,
): [DimExpr, DimExpr] {
  const before = parts.slice(0, index).map((p, i) => w.dim(p, infos[i].shape, axis));
  let known = 0;
  let dynamic: string | null = null;
  for (const d of before) {
    if (typeof d === 'number') known += d;
    else dynamic = dynamic === null ? d.value : w.node('Add', [dynamic, d.value]);
  }
  const start: DimExpr =
    dynamic === null ? known : { value: known === 0 ? dynamic : w.node('Add', [dynamic, w.ints([known])]) };
  return [start, w.dim(parts[index], infos[index].shape, axis)];
}

const concatPartRule: Rule = ({ w, node, inputs: [dy, ...parts], infos: [, ...partInfos], out }) => {
  const { axis, index } = attrsOf(CONCAT_PART, node);
  const [start, size] = partBounds(w, parts, partInfos, axis, index);
  const end: DimExpr =
    typeof start === 'number' && typeof size === 'number'
      ? start + size
      : { value: w.node('Add', [w.vector([start]), w.vector([size])]) };
  return w.node('Slice', [dy, w.vector([start]), w.vector([end]), w.ints([axis])], {}, out);
};

/**
 * stridedSliceGrad(dy, x): the positions a strided slice reads, found by slicing a tensor of flat indices, then
 * dy scattered there into zeros (ScatterElements on the flattened tensor).
 */
const stridedSliceGradRule: Rule = ({ w, node, inputs: [dy, x], infos: [, xi], out }) => {
  const dims = xi.shape.map((_, d) => w.dim(x, xi.shape, d));
  const size = w.product(dims);
  const sizeVector = w.vector([size]);
  const flat =
    typeof size === 'number'
      ? w.node('Range', [w.scalarInt(0), w.scalarInt(size), w.scalarInt(1)])
      : w.node('Range', [w.scalarInt(0), w.node('Squeeze', [sizeVector, w.ints([0])]), w.scalarInt(1)]);
  const positions = w.node('Reshape', [flat, w.vector(dims)]);
  const selected = stridedSliceNodes(w, positions, xi.shape, attrsOf(STRIDED_SLICE_GRAD, node));
  const zeros = w.node('ConstantOfShape', [sizeVector], { value: { tensor: zeroTensor(node.dtype) } });
  const flatIndices = w.node('Reshape', [selected, w.ints([-1])]);
  const flatUpdates = w.node('Reshape', [dy, w.ints([-1])]);
  const scattered = w.node('ScatterElements', [zeros, flatIndices, flatUpdates], { axis: { int: 0 } });
  return w.node('Reshape', [scattered, w.vector(dims)], {}, out);
};

function zeroTensor(dtype: DType, value = 0): { name: string; dims: number[]; dataType: number; rawData: Uint8Array } {
  const bytes = new Uint8Array(dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4);
  const view = new DataView(bytes.buffer);
  if (dtype === 'float32') view.setFloat32(0, value, true);
  else if (dtype === 'float64') view.setFloat64(0, value, true);
  else if (dtype === 'int32') view.setInt32(0, value, true);
  else bytes[0] = value !== 0 ? 1 : 0;
  return { name: '', dims: [1], dataType: onnxType(dtype), rawData: bytes };
}

/** zerosLike / onesLike: ConstantOfShape of x's shape. */
const fillLike =
  (value: number): Rule =>
  ({ w, node, inputs: [x], infos: [xi], out }) =>
    w.node('ConstantOfShape', [w.shapeVector(x, xi.shape)], { value: { tensor: zeroTensor(node.dtype, value) } }, out);

/**
 * The index tensor of a gather/scatter along `axis` with `batchDims`, reshaped and expanded so that it has the
 * data's rank with the indices' own dims flattened into `axis` (the form GatherElements/ScatterElements take).
 */
function elementIndices(
  w: OnnxWriter,
  indices: string,
  indexShape: Shape,
  data: string,
  dataShape: Shape,
  axis: number,
  batchDims: number,
): { expanded: string; target: string; count: DimExpr } {
  const rank = dataShape.length;
  const batch = indexShape.slice(0, batchDims).map((_, d) => w.dim(indices, indexShape, d));
  const count = w.product(indexShape.slice(batchDims).map((_, d) => w.dim(indices, indexShape, batchDims + d)));
  const ones = (n: number): number[] => new Array<number>(Math.max(0, n)).fill(1);
  const reshaped = w.node('Reshape', [
    indices,
    w.vector([...batch, ...ones(axis - batchDims), count, ...ones(rank - axis - 1)]),
  ]);
  const dataDims = dataShape.map((_, d) => w.dim(data, dataShape, d));
  const target = w.vector([...dataDims.slice(0, axis), count, ...dataDims.slice(axis + 1)]);
  return { expanded: w.node('Expand', [reshaped, target]), target, count };
}

const gatherRule: Rule = ({ w, node, inputs: [x, indices], infos: [xi, ii], out }) => {
  const { axis, batchDims } = attrsOf(GATHER, node);
  if (batchDims === 0) return w.node('Gather', [x, indices], { axis: { int: axis } }, out);
  const { expanded } = elementIndices(w, indices, ii.shape, x, xi.shape, axis, batchDims);
  const gathered = w.node('GatherElements', [x, expanded], { axis: { int: axis } });
  const dims = node.shape.map((_, d) => outputDim(w, node.shape, d, xi.shape, x, ii.shape, indices, axis, batchDims));
  return w.node('Reshape', [gathered, w.vector(dims)], {}, out);
};

/** Dim d of gather's output x[:axis] + indices[batchDims:] + x[axis+1:], static or read at run time. */
function outputDim(
  w: OnnxWriter,
  shape: Shape,
  d: number,
  xShape: Shape,
  x: string,
  indexShape: Shape,
  indices: string,
  axis: number,
  batchDims: number,
): DimExpr {
  if (shape[d] !== null) return shape[d] as number;
  const tail = indexShape.length - batchDims;
  if (d < axis) return w.dim(x, xShape, d);
  if (d < axis + tail) return w.dim(indices, indexShape, batchDims + d - axis);
  return w.dim(x, xShape, d - tail + 1);
}

/** scatterAdd(updates, indices, like): ScatterElements with reduction add into zeros shaped like `like`. */
const scatterAddRule: Rule = ({ w, node, inputs: [updates, indices, like], infos: [, ii, li], out }) => {
  const { axis, batchDims } = attrsOf(SCATTER_ADD, node);
  const { expanded, target } = elementIndices(w, indices, ii.shape, like, li.shape, axis, batchDims);
  const flatUpdates = w.node('Reshape', [updates, target]);
  const zeros = w.node('ConstantOfShape', [w.shapeVector(like, li.shape)], {
    value: { tensor: zeroTensor(node.dtype) },
  });
  return w.node(
    'ScatterElements',
    [zeros, expanded, flatUpdates],
    { axis: { int: axis }, reduction: { string: 'add' } },
    out,
  );
};

/** sumTiles(dy): each dim d split into [reps[d], d / reps[d]] and summed over the reps. */
const sumTilesRule: Rule = ({ w, node, inputs: [dy], infos: [di], out }) => {
  const { reps } = attrsOf(SUM_TILES, node);
  const dims: DimExpr[] = [];
  const axes: number[] = [];
  reps.forEach((r, d) => {
    const size = node.shape[d];
    if (r === 1) return void dims.push(w.dim(dy, di.shape, d));
    axes.push(dims.length);
    dims.push(r);
    const full = w.dim(dy, di.shape, d);
    dims.push(size !== null ? size : { value: w.node('Div', [(full as { value: string }).value, w.ints([r])]) });
  });
  if (axes.length === 0) return w.node('Identity', [dy], {}, out);
  return reduce(w, 'ReduceSum', w.node('Reshape', [dy, w.vector(dims)]), axes, false, out);
};

/** prodExcept(x): the product of the others in each group, by cases on how many zeros the group holds. */
const prodExceptRule: Rule = ({ w, node, inputs: [x], out }) => {
  const { axes } = attrsOf(PROD_EXCEPT, node);
  const zero = w.scalar(0, node.dtype);
  const isZero = w.node('Equal', [x, zero]);
  const safe = w.node('Where', [isZero, w.scalar(1, node.dtype), x]);
  const zeros = reduce(w, 'ReduceSum', castTo(w, isZero, node.dtype), axes, true);
  const product = reduce(w, 'ReduceProd', safe, axes, true);
  const noZero = w.node('Equal', [zeros, zero]);
  const theZero = w.node('And', [w.node('Equal', [zeros, w.scalar(1, node.dtype)]), isZero]);
  const atZero = w.node('Where', [theZero, product, zero]);
  return w.node('Where', [noZero, w.node('Div', [product, safe]), atZero], {}, out);
};

/** Random ops: ONNX's RandomUniform/RandomNormal with the node's seed (the draws differ from lazygrad's). */
function seedOf(attrs: RandomAttrs): number {
  const seed = attrs.seed ?? attrs.nodeSeed;
  if (typeof seed === 'number') return seed;
  let hash = 2166136261;
  for (const c of String(seed)) hash = Math.imul(hash ^ c.charCodeAt(0), 16777619) >>> 0;
  return hash % 65536;
}

/** What the random ops' attrs share: the shape, and the seed or (for unseeded nodes) the node's id. */
interface RandomAttrs {
  readonly shape: readonly Dim[];
  readonly seed?: Seed;
  readonly nodeSeed?: number;
}

/** The shape attr of a random node; unknown dims are taken from its input (as the op does at run time). */
function randomShape(
  w: OnnxWriter,
  node: RuleArgs['node'],
  shape: readonly Dim[],
  inputs: readonly string[],
  infos: RuleArgs['infos'],
): DimExpr[] {
  return shape.map((d, i) =>
    d !== null ? d : node.shape[i] !== null ? (node.shape[i] as number) : w.dim(inputs[0], infos[0].shape, i),
  );
}

function randomNodes(
  args: RuleArgs,
  random: RandomAttrs,
  kind: 'Uniform' | 'Normal',
  params: { readonly [name: string]: number },
  dtype: DType,
  out?: string,
): string {
  const { w, node, inputs, infos } = args;
  const dims = randomShape(w, node, random.shape, inputs, infos);
  const attrs = { dtype: { int: onnxType(dtype) }, seed: { float: seedOf(random) } } as {
    [key: string]: { int: number } | { float: number } | { ints: number[] };
  };
  for (const key of Object.keys(params)) attrs[key] = { float: params[key] };
  if (dims.every((d): d is number => typeof d === 'number')) {
    return w.node(`Random${kind}`, [], { ...attrs, shape: { ints: dims } }, out);
  }
  const like = w.node('ConstantOfShape', [w.vector(dims)], { value: { tensor: zeroTensor(dtype) } });
  return w.node(`Random${kind}Like`, [like], attrs, out);
}

const randomUniformRule: Rule = (args) => {
  const { w, node, out } = args;
  const attrs = attrsOf(RANDOM_UNIFORM, node);
  const { minval: low, maxval: high } = attrs;
  if (node.dtype !== 'int32') return randomNodes(args, attrs, 'Uniform', { low, high }, node.dtype, out);
  const drawn = randomNodes(args, attrs, 'Uniform', { low, high }, 'float64');
  return castTo(w, w.node('Floor', [drawn]), 'int32', out);
};

const randomNormalRule: Rule = (args) => {
  const attrs = attrsOf(RANDOM_NORMAL, args.node);
  return randomNodes(args, attrs, 'Normal', { mean: attrs.mean, scale: attrs.stdDev }, args.node.dtype, args.out);
};

/** erf(√2) = P(|z| < 2) for a standard normal z. */
const ERF_SQRT2 = 0.9544997361036416;
/** Giles' single-precision erfinv polynomial in w − 2.5, for w = −log(1 − x²) < 5 (so for |x| < erf(√2)). */
const ERFINV = [
  2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 2.1858087e-4, -1.25372503e-3, -4.17768164e-3,
  0.246640727, 1.50140941,
];

/**
 * truncatedNormal has no ONNX op: a uniform u in (−erf(√2), erf(√2)) mapped through √2·erfinv(u) is a standard
 * normal conditioned on |z| < 2, which is the distribution the op draws from (by redrawing).
 */
const truncatedNormalRule: Rule = (args) => {
  const { w, node, out } = args;
  const attrs = attrsOf(TRUNCATED_NORMAL, node);
  const dtype = node.dtype;
  const c = (v: number): string => w.scalar(v, dtype);
  const u = randomNodes(args, attrs, 'Uniform', { low: -ERF_SQRT2, high: ERF_SQRT2 }, dtype);
  const oneMinusSquare = w.node('Sub', [c(1), w.node('Mul', [u, u])]);
  const t = w.node('Sub', [w.node('Neg', [w.node('Log', [oneMinusSquare])]), c(2.5)]);
  let p = c(ERFINV[0]);
  for (const coefficient of ERFINV.slice(1)) p = w.node('Add', [w.node('Mul', [p, t]), c(coefficient)]);
  const z = w.node('Mul', [w.node('Mul', [p, u]), c(Math.SQRT2 * attrs.stdDev)]);
  return w.node('Add', [z, c(attrs.mean)], {}, out);
};

/**
 * An integer division-like op as lazygrad computes it: 0 where the divisor is 0 (ONNX leaves integer division by 0
 * undefined, and ONNX Runtime stops the run), `op` of a and the divisor elsewhere (its zeros replaced by 1).
 */
function byNonzero(w: RuleArgs['w'], dtype: DType, b: string, out: string, op: (divisor: string) => string): string {
  const zero = w.scalar(0, dtype);
  const isZero = w.node('Equal', [b, zero]);
  const divisor = w.node('Where', [isZero, w.scalar(1, dtype), b]);
  return w.node('Where', [isZero, zero, op(divisor)], {}, out);
}

/** div: Div; integers: 0 where b is 0 (byNonzero). */
const divRule: Rule = ({ w, node, inputs: [a, b], out }) =>
  isFloat(node.dtype) ? w.node('Div', [a, b], {}, out) : byNonzero(w, node.dtype, b, out, (d) => w.node('Div', [a, d]));

/** mod: floor modulo (the sign of b). Integers: ONNX Mod (fmod 0) is exactly that. Floats: fmod, then shifted. */
const modRule: Rule = ({ w, node, inputs: [a, b], out }) => {
  if (!isFloat(node.dtype)) return byNonzero(w, node.dtype, b, out, (d) => w.node('Mod', [a, d]));
  const zero = w.scalar(0, node.dtype);
  const fmod = (x: string): string => w.node('Mod', [x, b], { fmod: { int: 1 } });
  const remainder = fmod(a);
  const sameSign = w.node('Equal', [w.node('Less', [a, zero]), w.node('Less', [b, zero])]);
  return w.node('Where', [sameSign, remainder, fmod(w.node('Add', [remainder, b]))], {}, out);
};

const floorDivRule: Rule = ({ w, node, inputs: [a, b], out }) => {
  if (isFloat(node.dtype)) return w.node('Floor', [w.node('Div', [a, b])], {}, out);
  // int32 as lazygrad computes it: ⌊a / b⌋ in float64 (exact for int32 operands), converted back; 0 where b is 0.
  return byNonzero(w, node.dtype, b, out, (d) => {
    const quotient = w.node('Div', [castTo(w, a, 'float64'), castTo(w, d, 'float64')]);
    return castTo(w, w.node('Floor', [quotient]), 'int32');
  });
};

/** atan2(a, b) = atan(a / b) moved into the right quadrant; atan2(±0, 0) is ±0. */
const atan2Rule: Rule = ({ w, node, inputs: [a, b], out }) => {
  const zero = w.scalar(0, node.dtype);
  const base = w.node('Atan', [w.node('Div', [a, b])]);
  const turn = w.node('Where', [
    w.node('Less', [a, zero]),
    w.scalar(-Math.PI, node.dtype),
    w.scalar(Math.PI, node.dtype),
  ]);
  const shifted = w.node('Add', [base, w.node('Where', [w.node('Less', [b, zero]), turn, zero])]);
  const origin = w.node('And', [w.node('Equal', [a, zero]), w.node('Equal', [b, zero])]);
  return w.node('Where', [origin, a, shifted], {}, out);
};

/** prelu: LeakyRelu for a float32 constant scalar alpha, PRelu when alpha broadcasts to x, else Where(x<0, αx, x). */
const preluRule: Rule = ({ w, node, inputs: [x, alpha], infos: [xi, ai], out }) => {
  // The output keeps x's shape when alpha only broadcasts into it (alpha's dims known, so at run time too).
  const sameShape =
    node.shape.length === xi.shape.length &&
    node.shape.every((d, i) => d === xi.shape[i]) &&
    ai.shape.every((d) => d !== null);
  // LeakyRelu's alpha is a float32 attribute: used only when that loses nothing.
  const alphaValue = ai.op === 'constant' && ai.value !== undefined && ai.value.size === 1 ? ai.value.data[0] : NaN;
  if (sameShape && Math.fround(alphaValue) === alphaValue) {
    return w.node('LeakyRelu', [x], { alpha: { float: alphaValue } }, out);
  }
  if (sameShape && ai.shape.length <= xi.shape.length) return w.node('PRelu', [x, alpha], {}, out);
  const negative = w.node('Less', [x, w.scalar(0, node.dtype)]);
  return w.node('Where', [negative, w.node('Mul', [alpha, x]), x], {}, out);
};

const SELU_SCALE = 1.0507009873554805;
const SELU_SCALE_ALPHA = 1.7580993408473768;

const matMulRule: Rule = ({ w, node, inputs: [a, b], infos: [ai, bi], out }) => {
  const swap = (x: string, rank: number): string => {
    const perm = Array.from({ length: rank }, (_, i) => i);
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return w.node('Transpose', [x], { perm: { ints: perm } });
  };
  const left = node.attrs.transposeA === true ? swap(a, ai.shape.length) : a;
  const right = node.attrs.transposeB === true ? swap(b, bi.shape.length) : b;
  return w.node('MatMul', [left, right], {}, out);
};

const FUSED_ACTIVATION_OPS: { readonly [activation: string]: string } = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
};

/** fusedMatMul: Gemm for 2-D operands (its C input broadcasts the row bias), else MatMul + Add; then the activation. */
const fusedMatMulRule: Rule = (args) => {
  const { w, node, inputs, infos, out } = args;
  const [a, b, bias] = inputs;
  const activation = attrsOf(FUSED_MAT_MUL, node).activation ?? 'none';
  const activationOp = FUSED_ACTIVATION_OPS[activation];
  if (activationOp === undefined && activation !== 'none') {
    throw new GraphError(`exportOnnx: fusedMatMul '${node.name}' has an unknown activation '${activation}'`);
  }
  const sumName = activationOp === undefined ? out : w.fresh('bias');
  let sum: string;
  if (infos[0].shape.length === 2 && infos[1].shape.length === 2) {
    const flag = (key: string): { int: number } => ({ int: node.attrs[key] === true ? 1 : 0 });
    sum = w.node('Gemm', [a, b, bias], { transA: flag('transposeA'), transB: flag('transposeB') }, sumName);
  } else {
    const product = matMulRule({ ...args, inputs: [a, b], infos: infos.slice(0, 2), out: w.fresh('matMul') });
    sum = w.node('Add', [product, bias], {}, sumName);
  }
  return activationOp === undefined ? sum : w.node(activationOp, [sum], {}, out);
};

const softmaxCrossEntropyRule: Rule = ({ w, node, inputs: [labels, logits], out }) => {
  const { axis } = attrsOf(SOFTMAX_CROSS_ENTROPY, node);
  const logProbabilities = w.node('LogSoftmax', [logits], { axis: { int: axis } });
  const summed = reduce(w, 'ReduceSum', w.node('Mul', [labels, logProbabilities]), [axis], false);
  return w.node('Neg', [summed], {}, out);
};

/** −ReduceSum(labels · ls) over the axis, reading the log-softmax the graph already exports (logits: gradient only). */
const crossEntropyFromLogSoftmaxRule: Rule = ({ w, node, inputs: [labels, , logProbabilities], out }) => {
  const { axis } = attrsOf(SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX, node);
  const summed = reduce(w, 'ReduceSum', w.node('Mul', [labels, logProbabilities]), [axis], false);
  return w.node('Neg', [summed], {}, out);
};

/** max(x, 0) − x·z + log(1 + e^−|x|), with z the labels and x the logits. */
const sigmoidCrossEntropyRule: Rule = ({ w, inputs: [labels, logits], out }) => {
  const linear = w.node('Sub', [w.node('Relu', [logits]), w.node('Mul', [logits, labels])]);
  const tail = w.node('Softplus', [w.node('Neg', [w.node('Abs', [logits])])]);
  return w.node('Add', [linear, tail], {}, out);
};

/** oneHot: indices compared with 0..depth−1 (so out-of-range indices, negative ones included, give offValue). */
const oneHotRule: Rule = ({ w, node, inputs: [indices], out }) => {
  const { depth, dtype, onValue, offValue } = attrsOf(ONE_HOT, node);
  const positions = w.tensor(rangeArray(depth));
  const hits = w.node('Equal', [w.node('Unsqueeze', [indices, w.ints([-1])]), positions]);
  return w.node('Where', [hits, w.scalar(onValue, dtype), w.scalar(offValue, dtype)], {}, out);
};

function rangeArray(n: number): NDArray {
  return new NDArray(
    Int32Array.from({ length: n }, (_, i) => i),
    [n],
    'int32',
  );
}

const addNRule: Rule = ({ w, node, inputs, out }) => {
  if (inputs.length === 1) return w.node('Identity', inputs, {}, out);
  if (isFloat(node.dtype)) return w.node('Sum', inputs, {}, out);
  let total = inputs[0];
  inputs.slice(1).forEach((x, i) => (total = w.node('Add', [total, x], {}, i === inputs.length - 2 ? out : undefined)));
  return total;
};

const isFiniteRule: Rule = ({ w, inputs: [x], infos: [xi], out }) => {
  if (!isFloat(xi.dtype)) return w.node('Equal', [x, x], {}, out);
  return w.node('Not', [w.node('Or', [w.node('IsNaN', [x]), w.node('IsInf', [x])])], {}, out);
};

const isNaNRule: Rule = ({ w, inputs: [x], infos: [xi], out }) =>
  isFloat(xi.dtype) ? w.node('IsNaN', [x], {}, out) : w.node('Not', [w.node('Equal', [x, x])], {}, out);

/** relu: ONNX Relu for floats; int32 as Max(x, 0), which every runtime has. */
const reluRule: Rule = ({ w, node, inputs: [x], out }) =>
  isFloat(node.dtype) ? w.node('Relu', [x], {}, out) : w.node('Max', [x, w.scalar(0, node.dtype)], {}, out);

/**
 * A fused group: its steps, each exported by its op's own rule, with literal arguments as scalar constants.
 * (Fused nodes exist only in a session's compiled graph; a user graph never holds them.)
 */
const fusedRule: Rule = ({ w, node, inputs, infos, out }) => {
  const { steps } = attrsOf(FUSED, node);
  const names: string[] = [];
  steps.forEach((step, j) => {
    const args = step.args.map((arg) =>
      'input' in arg ? inputs[arg.input] : 'step' in arg ? names[arg.step] : w.scalar(arg.value, node.dtype),
    );
    const argInfos = step.args.map((arg) =>
      'input' in arg ? infos[arg.input] : { dtype: node.dtype, shape: 'step' in arg ? node.shape : [], op: 'constant' },
    );
    const rule = EXPORT_RULES[step.op];
    if (rule === undefined)
      throw new GraphError(`exportOnnx: fused step ${j} names '${step.op}', which has no ONNX rule`);
    const last = j === steps.length - 1;
    const stepNode = { op: step.op, attrs: {}, dtype: node.dtype, shape: node.shape, name: node.name };
    const name = rule({ w, node: stepNode, inputs: args, infos: argInfos, out: last ? out : w.fresh(step.op) });
    names.push(name);
  });
  return names[names.length - 1];
};

/** Every op with an ONNX form. Ops missing here (assign, group) make exportOnnx throw a GraphError naming them. */
export const EXPORT_RULES: { readonly [op: string]: Rule } = {
  // elementwise, binary
  add: single('Add'),
  sub: single('Sub'),
  mul: single('Mul'),
  div: divRule,
  pow: single('Pow'),
  maximum: single('Max'),
  minimum: single('Min'),
  reluGrad: ({ w, node, inputs, out }) => {
    const positive = w.node('Greater', [inputs[1], w.scalar(0, node.dtype)]);
    const mask = w.node('Cast', [positive], { to: { int: onnxType(node.dtype) } });
    return w.node('Mul', [inputs[0], mask], {}, out);
  },
  squaredDifference: ({ w, inputs, out }) => {
    const d = w.node('Sub', inputs);
    return w.node('Mul', [d, d], {}, out);
  },
  floorDiv: floorDivRule,
  mod: modRule,
  atan2: atan2Rule,
  addN: addNRule,
  where: single('Where'),
  // comparisons and logic
  equal: compare('Equal'),
  notEqual: compare('Equal', true),
  greater: compare('Greater'),
  greaterEqual: compare('GreaterOrEqual'),
  less: compare('Less'),
  lessEqual: compare('LessOrEqual'),
  logicalAnd: single('And'),
  logicalOr: single('Or'),
  logicalNot: single('Not'),
  isNaN: isNaNRule,
  isFinite: isFiniteRule,
  // unary math
  neg: single('Neg'),
  abs: single('Abs'),
  sign: single('Sign'),
  square: ({ w, inputs: [x], out }) => w.node('Mul', [x, x], {}, out),
  sqrt: single('Sqrt'),
  rsqrt: chain('Sqrt', 'Reciprocal'),
  reciprocal: single('Reciprocal'),
  exp: single('Exp'),
  expm1: chain('Exp', ['Sub', withScalar(1)]),
  log: single('Log'),
  log1p: chain(['Add', withScalar(1)], 'Log'),
  sin: single('Sin'),
  cos: single('Cos'),
  tan: single('Tan'),
  asin: single('Asin'),
  acos: single('Acos'),
  atan: single('Atan'),
  sinh: single('Sinh'),
  cosh: single('Cosh'),
  asinh: single('Asinh'),
  acosh: single('Acosh'),
  atanh: single('Atanh'),
  tanh: single('Tanh'),
  erf: single('Erf'),
  floor: single('Floor'),
  ceil: single('Ceil'),
  round: single('Round'),
  // activations
  sigmoid: single('Sigmoid'),
  relu: reluRule,
  relu6: ({ w, node, inputs: [x], out }) =>
    w.node('Clip', [x, w.scalar(0, node.dtype), w.scalar(6, node.dtype)], {}, out),
  elu: ({ w, inputs: [x], out }) => w.node('Elu', [x], { alpha: { float: 1 } }, out),
  selu: ({ w, inputs: [x], out }) =>
    w.node('Selu', [x], { alpha: { float: SELU_SCALE_ALPHA / SELU_SCALE }, gamma: { float: SELU_SCALE } }, out),
  prelu: preluRule,
  softplus: single('Softplus'),
  logSigmoid: chain('Neg', 'Softplus', 'Neg'),
  clipByValue: single('Clip'),
  // passing values through
  identity: single('Identity'),
  stopGradient: single('Identity'),
  customGradient: ({ w, inputs, out }) => w.node('Identity', [inputs[0]], {}, out),
  recompute: ({ w, inputs, out }) => w.node('Identity', [inputs[0]], {}, out),
  cast: ({ w, node, inputs: [x], out }) => castTo(w, x, attrsOf(CAST, node).dtype, out),
  zerosLike: fillLike(0),
  onesLike: fillLike(1),
  // movement
  reshape: ({ w, node, inputs: [x], out }) => {
    const target = node.shape.every((d) => d !== null) ? (node.shape as number[]) : attrsOf(RESHAPE, node).shape;
    return w.node('Reshape', [x, w.ints(target)], { allowzero: { int: 1 } }, out);
  },
  reshapeLike: ({ w, inputs: [x, like], infos: [, li], out }) =>
    w.node('Reshape', [x, w.shapeVector(like, li.shape)], { allowzero: { int: 1 } }, out),
  reshapeDims: ({ w, node, inputs, infos, out }) => {
    const { dims, sources, axes } = attrsOf(RESHAPE_DIMS, node);
    // The static shape when known; else each dim from Shape of its tensor (times its factor), or the literal.
    const target = dims.map((d, i) =>
      node.shape[i] !== null
        ? (node.shape[i] as number)
        : sources[i] === -1
          ? d
          : w.product([w.dim(inputs[sources[i]], infos[sources[i]].shape, axes[i]), d]),
    );
    // allowzero keeps a literal 0 a size (as lazygrad), except beside a -1, where ONNX forbids it.
    const allowzero = target.includes(-1) && target.includes(0) ? 0 : 1;
    return w.node('Reshape', [inputs[0], w.vector(target)], { allowzero: { int: allowzero } }, out);
  },
  transpose: ({ w, node, inputs: [x], out }) =>
    w.node('Transpose', [x], { perm: { ints: [...attrsOf(TRANSPOSE, node).perm] } }, out),
  broadcastTo: ({ w, node, inputs: [x], infos: [xi], out }) => {
    const target = attrsOf(BROADCAST_TO, node).shape;
    return expandExactly(w, x, xi.shape, w.ints(target), target, out);
  },
  broadcastLike: ({ w, inputs: [x, like], infos: [xi, li], out }) =>
    expandExactly(w, x, xi.shape, w.shapeVector(like, li.shape), li.shape, out),
  sumTo: sumToRule,
  // Where a dim is unknown the check runs in ONNX Runtime: Expand to like's shape, then Reshape to like's shape and
  // back to x's, fails unless the two shapes (of one rank, checked at build time) are equal.
  ensureShapeLike: ({ w, inputs: [x, like], infos: [xi, li], out }) => {
    if (xi.shape.every((d, i) => d !== null && d === li.shape[i])) return w.node('Identity', [x], {}, out);
    const likeShape = w.shapeOf(like);
    const asLike = w.node('Reshape', [w.node('Expand', [x, likeShape]), likeShape], { allowzero: { int: 1 } });
    return w.node('Reshape', [asLike, w.shapeOf(x)], { allowzero: { int: 1 } }, out);
  },
  expandDims: ({ w, node, inputs: [x], out }) =>
    w.node('Unsqueeze', [x, w.ints(attrsOf(EXPAND_DIMS, node).axes)], {}, out),
  squeeze: ({ w, node, inputs: [x], out }) => {
    const { axes } = attrsOf(SQUEEZE, node);
    return axes.length === 0 ? w.node('Identity', [x], {}, out) : w.node('Squeeze', [x, w.ints(axes)], {}, out);
  },
  // indexing
  concat: ({ w, node, inputs, out }) => w.node('Concat', inputs, { axis: { int: attrsOf(CONCAT, node).axis } }, out),
  concatPart: concatPartRule,
  stack: ({ w, node, inputs, out }) => {
    const { axis } = attrsOf(STACK, node);
    const expanded = inputs.map((x) => w.node('Unsqueeze', [x, w.ints([axis])]));
    return w.node('Concat', expanded, { axis: { int: axis } }, out);
  },
  slice: ({ w, node, inputs: [x], out }) => {
    const { begin, size } = attrsOf(SLICE, node);
    const ends = size.map((s, d) => (s === -1 ? INT64_MAX : begin[d] + s));
    return sliceNodes(
      w,
      x,
      begin,
      ends,
      begin.map(() => 1),
      out,
    );
  },
  stridedSlice: ({ w, node, inputs: [x], infos: [xi], out }) =>
    stridedSliceNodes(w, x, xi.shape, attrsOf(STRIDED_SLICE, node), out),
  stridedSliceGrad: stridedSliceGradRule,
  gather: gatherRule,
  scatterAdd: scatterAddRule,
  tile: ({ w, node, inputs: [x], out }) => w.node('Tile', [x, w.ints(attrsOf(TILE, node).reps)], {}, out),
  sumTiles: sumTilesRule,
  pad: ({ w, node, inputs: [x], out }) => {
    const { paddings, constantValue } = attrsOf(PAD, node);
    const pads = [...paddings.map((p) => p[0]), ...paddings.map((p) => p[1])];
    const value = w.scalar(constantValue, node.dtype);
    return w.node('Pad', [x, w.ints(pads), value], { mode: { string: 'constant' } }, out);
  },
  reverse: ({ w, node, inputs: [x], out }) => {
    const { axes } = attrsOf(REVERSE, node);
    if (axes.length === 0) return w.node('Identity', [x], {}, out);
    const starts = axes.map(() => INT64_MAX);
    const ends = axes.map(() => INT64_MIN);
    return w.node('Slice', [x, w.ints(starts), w.ints(ends), w.ints(axes), w.ints(axes.map(() => -1))], {}, out);
  },
  oneHot: oneHotRule,
  cumsum: ({ w, node, inputs: [x], out }) => {
    const { axis, exclusive, reverse } = attrsOf(CUMSUM, node);
    const flags = { exclusive: { int: exclusive === true ? 1 : 0 }, reverse: { int: reverse === true ? 1 : 0 } };
    return w.node('CumSum', [x, w.scalarInt(axis)], flags, out);
  },
  // reductions
  sum: reduction(SUM, 'ReduceSum'),
  max: reduction(MAX, 'ReduceMax'),
  min: reduction(MIN, 'ReduceMin'),
  prod: reduction(PROD, 'ReduceProd'),
  logSumExp: reduction(LOG_SUM_EXP, 'ReduceLogSumExp'),
  prodExcept: prodExceptRule,
  any: ({ w, node, inputs: [x], out }) => {
    const { axes, keepDims } = attrsOf(ANY, node);
    if (axes.length === 0) return w.node('Identity', [x], {}, out);
    const count = reduce(w, 'ReduceSum', castTo(w, x, 'int32'), axes, keepDims === true);
    return w.node('Greater', [count, w.scalar(0, 'int32')], {}, out);
  },
  all: ({ w, node, inputs: [x], out }) => {
    const { axes, keepDims } = attrsOf(ALL, node);
    if (axes.length === 0) return w.node('Identity', [x], {}, out);
    const misses = reduce(w, 'ReduceSum', castTo(w, w.node('Not', [x]), 'int32'), axes, keepDims === true);
    return w.node('Equal', [misses, w.scalar(0, 'int32')], {}, out);
  },
  argMax: ({ w, node, inputs: [x], out }) =>
    castTo(
      w,
      w.node('ArgMax', [x], { axis: { int: attrsOf(ARG_MAX, node).axis }, keepdims: { int: 0 } }),
      'int32',
      out,
    ),
  argMin: ({ w, node, inputs: [x], out }) =>
    castTo(
      w,
      w.node('ArgMin', [x], { axis: { int: attrsOf(ARG_MIN, node).axis }, keepdims: { int: 0 } }),
      'int32',
      out,
    ),
  reducedSize: ({ w, node, inputs: [x], infos: [xi], out }) => {
    const { axes } = attrsOf(REDUCED_SIZE, node);
    const size = w.product(axes.map((a) => w.dim(x, xi.shape, a)));
    if (typeof size === 'number') return w.node('Identity', [w.scalar(size, node.dtype)], {}, out);
    const dims = w.node('Gather', [w.shapeOf(x), w.ints(axes)]);
    return castTo(w, reduce(w, 'ReduceProd', dims, [0], false), node.dtype, out);
  },
  // linear algebra and nn
  matMul: matMulRule,
  fusedMatMul: fusedMatMulRule,
  softmax: ({ w, node, inputs: [x], out }) =>
    w.node('Softmax', [x], { axis: { int: attrsOf(SOFTMAX, node).axis } }, out),
  logSoftmax: ({ w, node, inputs: [x], out }) =>
    w.node('LogSoftmax', [x], { axis: { int: attrsOf(LOG_SOFTMAX, node).axis } }, out),
  softmaxCrossEntropyWithLogits: softmaxCrossEntropyRule,
  softmaxCrossEntropyFromLogSoftmax: crossEntropyFromLogSoftmaxRule,
  sigmoidCrossEntropyWithLogits: sigmoidCrossEntropyRule,
  windowSum: windowSumRule,
  localResponseNormalization: lrnRule,
  step: ({ w, node, inputs: [x, alpha], out }) => {
    const positive = w.node('Where', [w.node('Greater', [x, w.scalar(0, node.dtype)]), w.scalar(1, node.dtype), alpha]);
    return w.node('Where', [w.node('IsNaN', [x]), x, positive], {}, out);
  },
  hardSigmoid: hardSigmoidRule,
  hardSwish: single('HardSwish'),
  // random
  randomUniform: randomUniformRule,
  randomNormal: randomNormalRule,
  truncatedNormal: truncatedNormalRule,
  fused: fusedRule,
  ...IMAGE_EXPORT_RULES,
  // pooling (NHWC ops around NCHW ONNX nodes)
  maxPool: exportPool,
  avgPool: exportPool,
  maxPoolGrad: exportMaxPoolGrad,
  maxPoolGradGrad: exportMaxPoolGradGrad,
  avgPoolGrad: exportAvgPoolGrad,
  maxPoolArgmax: exportMaxPoolArgmax,
  // convolution (export-conv.ts)
  ...CONV_EXPORT_RULES,
  // 3-D convolution and pooling (conv3d.ts)
  ...CONV3D_EXPORT_RULES,
};

/** The sum of x over 2·radius + 1 entries along `axis`: x padded with zeros there, and the shifted Slices summed. */
function windowSumNodes(
  w: OnnxWriter,
  x: string,
  rank: number,
  axis: number,
  radius: number,
  dtype: DType,
  out?: string,
) {
  if (radius === 0) return w.node('Identity', [x], {}, out);
  const pads = new Array<number>(2 * rank).fill(0);
  pads[axis] = radius;
  pads[rank + axis] = radius;
  const padded = w.node('Pad', [x, w.ints(pads), w.scalar(0, dtype)], { mode: { string: 'constant' } });
  const parts = Array.from({ length: 2 * radius + 1 }, (_, k) => {
    const end = k === 2 * radius ? INT64_MAX : k - 2 * radius;
    return w.node('Slice', [padded, w.ints([k]), w.ints([end]), w.ints([axis])]);
  });
  return w.node('Sum', parts, {}, out);
}

function windowSumRule({ w, node, inputs: [x], infos: [xi], out }: RuleArgs): string {
  const { axis, radius } = attrsOf(WINDOW_SUM, node);
  return windowSumNodes(w, x, xi.shape.length, axis, radius, node.dtype, out);
}

/**
 * localResponseNormalization: an LRN node (size 2·depthRadius + 1, alpha·size, as ONNX divides alpha by size) for a
 * float32 x of rank 4, transposed so the axis is 1; else the formula over windowSum's nodes (ONNX Runtime's LRN
 * takes only 4-D float32).
 */
function lrnRule({ w, node, inputs: [x], infos: [xi], out }: RuleArgs): string {
  const { axis, depthRadius, bias, alpha, beta } = attrsOf(LOCAL_RESPONSE_NORMALIZATION, node);
  const rank = xi.shape.length;
  const size = 2 * depthRadius + 1;
  if (rank === 4 && node.dtype === 'float32') {
    const attrs = { size: { int: size }, alpha: { float: alpha * size }, beta: { float: beta }, bias: { float: bias } };
    if (axis === 1) return w.node('LRN', [x], attrs, out);
    const perm = [axis === 0 ? 1 : 0, axis, ...[0, 1, 2, 3].filter((d) => d !== axis && d !== (axis === 0 ? 1 : 0))];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    const moved = w.node('Transpose', [x], { perm: { ints: perm } });
    return w.node('Transpose', [w.node('LRN', [moved], attrs)], { perm: { ints: inverse } }, out);
  }
  const sums = windowSumNodes(w, w.node('Mul', [x, x]), rank, axis, depthRadius, node.dtype);
  const base = w.node('Add', [w.node('Mul', [sums, w.scalar(alpha, node.dtype)]), w.scalar(bias, node.dtype)]);
  return w.node('Mul', [x, w.node('Pow', [base, w.scalar(-beta, node.dtype)])], {}, out);
}

/** hardSigmoid: HardSigmoid when alpha and beta are constants a float32 attribute holds exactly, else Max/Min/Add/Mul. */
function hardSigmoidRule({ w, node, inputs: [x, alpha, beta], infos: [, ai, bi], out }: RuleArgs): string {
  const exact = (info: RuleArgs['infos'][number]): number =>
    info.op === 'constant' && info.value !== undefined && Math.fround(info.value.data[0]) === info.value.data[0]
      ? info.value.data[0]
      : NaN;
  const [a, b] = [exact(ai), exact(bi)];
  if (!Number.isNaN(a) && !Number.isNaN(b)) {
    return w.node('HardSigmoid', [x], { alpha: { float: a }, beta: { float: b } }, out);
  }
  const line = w.node('Add', [w.node('Mul', [x, alpha]), beta]);
  const lowered = w.node('Min', [line, w.scalar(1, node.dtype)]);
  return w.node('Max', [lowered, w.scalar(0, node.dtype)], {}, out);
}

/** Why the ops without an ONNX form have none (for the error message and docs/onnx.md). */
export const UNMAPPED_REASONS: { readonly [op: string]: string } = {
  assign:
    'assign writes a variable, and an ONNX model has no state; export the value being assigned (its second input) ' +
    'as an output instead',
  group:
    'group runs other nodes for their effects (assigns), and an ONNX model has no effects; export the tensors ' +
    'themselves as outputs instead',
  cond: 'exportOnnx writes a cond as a whole construct (an If, export-control.ts), not node by node',
  while: 'exportOnnx writes a whileLoop as a whole construct (a Loop, export-control.ts), not node by node',
  scan: 'exportOnnx writes a scan as a whole construct (a Scan or Loop, export-control.ts), not node by node',
};

/** The rule of an op, or a GraphError naming the op and the node. */
export function ruleFor(node: Node): Rule {
  const rule = Object.prototype.hasOwnProperty.call(EXPORT_RULES, node.op) ? EXPORT_RULES[node.op] : undefined;
  if (rule !== undefined) return rule;
  opRecord(node.op);
  const reason = UNMAPPED_REASONS[node.op] ?? 'it has no ONNX mapping yet (see docs/onnx.md for the mapped ops)';
  throw new GraphError(`exportOnnx: op '${node.op}' of node %${node.id} '${node.name}' cannot be exported: ${reason}`);
}
