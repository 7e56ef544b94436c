/**
 * Seeded random ops (TensorFlow 1.x semantics). A random node is stateful: it is never merged with an equal node
 * and never folded, and each run of a session draws fresh numbers. The numbers are reproducible: run k of a node
 * in any fresh session gives the same values, fixed by the node's seed and k alone, and two nodes with the same
 * seed draw the same stream (as TF1's op seeds do). A node built without a seed takes its id as seed (stored as
 * the `nodeSeed` attr), so unseeded graphs are reproducible too, and unseeded nodes differ from each other.
 */
import { Dim, DType, DTypeError, formatShape, Graph, GraphError, ShapeError, Tensor } from '../graph';
import { greater, mul, where } from './elementwise';
import { fillNormal, fillUniform, RandomStream } from './kernels';
import { AttrsOf } from './attrs';
import { addOp, defineOp, KernelContext, OpRecord, TensorInfo } from './record';

/** A seed as tfjs takes it: a number (any finite one) or a string. */
export type Seed = number | string;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** What every random op's attrs hold: the shape, the dtype, and a seed or (for unseeded nodes) the node's id. */
const RANDOM = { shape: 'dims', dtype: 'dtype', seed: 'seed?', nodeSeed: 'int?' } as const;
type RandomAttrs = AttrsOf<typeof RANDOM>;

/**
 * The output shape from the `shape` attr. With no input every dim must be known; with one input (used by dropout
 * for tensors of unknown shape) a null dim is the input's dim at the same axis, resolved when the session runs.
 */
function randomShape(inputs: readonly TensorInfo[], attrs: RandomAttrs): Dim[] {
  const dims = attrs.shape;
  if (inputs.length === 0) {
    if (dims.some((d) => d === null)) {
      throw new ShapeError(`the shape ${formatShape(dims)} must be fully known: random ops need every dim`);
    }
    return [...dims];
  }
  if (inputs.length > 1) throw new GraphError(`takes at most one input (a tensor to take the shape of)`);
  const like = inputs[0].shape;
  if (like.length !== dims.length) {
    throw new ShapeError(`the shape ${formatShape(dims)} and the input's shape ${formatShape(like)} differ in rank`);
  }
  return dims.map((d, i) => (d === null ? like[i] : d));
}

function requireFinite(values: { readonly [name: string]: number }): void {
  for (const name of Object.keys(values)) {
    if (!Number.isFinite(values[name])) {
      throw new GraphError(`${name} must be a finite number, got ${JSON.stringify(values[name])}`);
    }
  }
}

function requireSeed(attrs: RandomAttrs): void {
  const { seed, nodeSeed } = attrs;
  const explicit = (typeof seed === 'number' && Number.isFinite(seed)) || typeof seed === 'string';
  const derived = typeof nodeSeed === 'number' && Number.isSafeInteger(nodeSeed) && nodeSeed >= 0;
  if (explicit === derived) {
    throw new GraphError(
      `needs either a seed (a finite number or a string) or a nodeSeed (a node id), got ` +
        `seed=${JSON.stringify(seed)} and nodeSeed=${JSON.stringify(nodeSeed)}`,
    );
  }
}

function requireDType(attrs: RandomAttrs, allowed: readonly DType[]): DType {
  const dtype = attrs.dtype;
  if (!allowed.includes(dtype)) {
    throw new DTypeError(`dtype must be ${allowed.join(' or ')}, got ${JSON.stringify(dtype)}`);
  }
  return dtype;
}

/** The stream of this run of the node: its seed attr and how many times the session has run it before. */
function streamOf(attrs: RandomAttrs, context: KernelContext | undefined): RandomStream {
  const counter = context?.counter ?? 0;
  // requireSeed: a node without a seed has a nodeSeed
  if (attrs.seed === undefined) return new RandomStream(attrs.nodeSeed ?? 0, true, counter);
  return new RandomStream(attrs.seed, false, counter);
}

/** randomUniform: values from [minval, maxval); int32 gives integers. */
export const RANDOM_UNIFORM = defineOp({
  name: 'randomUniform',
  arity: 'variadic',
  stateful: true,
  attrs: { ...RANDOM, minval: 'number', maxval: 'number' },
  infer(inputs, attrs) {
    const dtype = requireDType(attrs, ['float32', 'float64', 'int32']);
    const { minval, maxval } = attrs;
    requireFinite({ minval, maxval });
    if (!(maxval > minval) || !Number.isFinite(maxval - minval)) {
      throw new GraphError(`needs minval < maxval with a finite range, got minval=${minval}, maxval=${maxval}`);
    }
    if (dtype === 'float32' && !(Math.fround(maxval) > Math.fround(minval))) {
      throw new GraphError(`minval=${minval} and maxval=${maxval} round to the same float32; widen the range`);
    }
    if (dtype === 'int32' && !(Number.isInteger(minval) && Number.isInteger(maxval) && minval >= INT32_MIN)) {
      throw new GraphError(`int32 needs integer bounds in the int32 range, got minval=${minval}, maxval=${maxval}`);
    }
    if (dtype === 'int32' && maxval > INT32_MAX + 1) {
      throw new GraphError(`int32 needs maxval <= 2^31 (it is excluded), got ${maxval}`);
    }
    requireSeed(attrs);
    return { dtype, shape: randomShape(inputs, attrs) };
  },
  kernel: (_inputs, out, attrs, context) => fillUniform(streamOf(attrs, context), out, attrs.minval, attrs.maxval),
});

function normalRecord(name: string, truncated: boolean) {
  return defineOp({
    name,
    arity: 'variadic',
    stateful: true,
    attrs: { ...RANDOM, mean: 'number', stdDev: 'number' },
    infer(inputs, attrs) {
      const dtype = requireDType(attrs, ['float32', 'float64']);
      const { mean, stdDev } = attrs;
      requireFinite({ mean, stdDev });
      if (stdDev < 0) throw new GraphError(`stdDev must be >= 0, got ${stdDev}`);
      requireSeed(attrs);
      return { dtype, shape: randomShape(inputs, attrs) };
    },
    kernel: (_inputs, out, attrs, context) =>
      fillNormal(streamOf(attrs, context), out, attrs.mean, attrs.stdDev, truncated),
  });
}

/** randomNormal: mean + stdDev · z, z standard normal. */
export const RANDOM_NORMAL = normalRecord('randomNormal', false);
/** truncatedNormal: like randomNormal, but z is redrawn until |z| < 2 (within two standard deviations). */
export const TRUNCATED_NORMAL = normalRecord('truncatedNormal', true);

/** Seeded random ops: stateful, never folded or merged. */
export const RANDOM_OPS: readonly OpRecord[] = [RANDOM_UNIFORM, RANDOM_NORMAL, TRUNCATED_NORMAL];

// ---- builders (TensorFlow.js names and argument order, plus the graph last) ---------------------------------

function requireGraph(op: string, graph: unknown): Graph {
  if (!(graph instanceof Graph)) {
    throw new GraphError(
      `${op}: the last argument must be the Graph to add the node to (random ops have no tensor input to take ` +
        `it from), got ${graph === undefined ? 'undefined' : typeof graph}; e.g. ${op}([2, 3], 0, 1, 'float32', 7, g)`,
    );
  }
  return graph;
}

function requireKnownShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(
      `${op}: invalid shape ${JSON.stringify(shape)}; give a list of non-negative integers (every dim known)`,
    );
  }
}

/**
 * Adds a random node. Without a seed, the node's own id becomes its seed: stateful nodes are never interned, so
 * the id is the graph's size before the node is added.
 */
function addRandom<A extends RandomAttrs>(
  record: OpRecord<A>,
  graph: Graph,
  inputs: readonly number[],
  attrs: (seeded: { seed: Seed } | { nodeSeed: number }) => A,
  seed: Seed | undefined,
): Tensor {
  if (seed !== undefined && !(typeof seed === 'string' || (typeof seed === 'number' && Number.isFinite(seed)))) {
    throw new GraphError(`${record.name}: seed must be a finite number or a string, got ${String(seed)}`);
  }
  const nodeSeed = graph.size;
  const result = addOp(graph, record, inputs, attrs(seed === undefined ? { nodeSeed } : { seed }));
  if (seed === undefined && result.id !== nodeSeed) {
    throw new GraphError(`${record.name}: internal error: node id ${result.id} differs from its seed ${nodeSeed}`);
  }
  return result;
}

/**
 * Values drawn uniformly from [minval, maxval) (integers for int32). The graph comes last: lazygrad has no
 * global graph.
 *
 * @example randomUniform([2, 3], -1, 1, 'float32', 42, g)
 */
export function randomUniform(
  shape: readonly number[],
  minval = 0,
  maxval = 1,
  dtype: DType = 'float32',
  seed: Seed | undefined,
  graph: Graph,
): Tensor {
  requireGraph('randomUniform', graph);
  requireKnownShape('randomUniform', shape);
  return addRandom(
    RANDOM_UNIFORM,
    graph,
    [],
    (seeded) => ({ shape: [...shape], minval, maxval, dtype, ...seeded }),
    seed,
  );
}

/**
 * Values drawn from a normal distribution. The graph comes last: lazygrad has no global graph.
 *
 * @example randomNormal([784, 100], 0, 0.01, 'float32', 7, g)
 */
export function randomNormal(
  shape: readonly number[],
  mean = 0,
  stdDev = 1,
  dtype: DType = 'float32',
  seed: Seed | undefined,
  graph: Graph,
): Tensor {
  requireGraph('randomNormal', graph);
  requireKnownShape('randomNormal', shape);
  return addRandom(RANDOM_NORMAL, graph, [], (seeded) => ({ shape: [...shape], mean, stdDev, dtype, ...seeded }), seed);
}

/**
 * Values drawn from a normal distribution, redrawing those more than two standard deviations from the mean.
 * The graph comes last: lazygrad has no global graph.
 *
 * @example truncatedNormal([784, 100], 0, 0.1, 'float32', 7, g)
 */
export function truncatedNormal(
  shape: readonly number[],
  mean = 0,
  stdDev = 1,
  dtype: DType = 'float32',
  seed: Seed | undefined,
  graph: Graph,
): Tensor {
  requireGraph('truncatedNormal', graph);
  requireKnownShape('truncatedNormal', shape);
  return addRandom(
    TRUNCATED_NORMAL,
    graph,
    [],
    (seeded) => ({ shape: [...shape], mean, stdDev, dtype, ...seeded }),
    seed,
  );
}

/**
 * The mask's shape, tfjs style: x's shape by default; a noiseShape of x's rank takes x's dim where it has null.
 * Every dim must be 1 or x's dim, so the mask broadcasts to x without changing x's shape.
 */
function noiseShapeFor(x: Tensor, noiseShape: readonly (number | null)[] | undefined): Dim[] {
  if (noiseShape === undefined) return [...x.shape];
  const sameRank = Array.isArray(noiseShape) && noiseShape.length === x.rank;
  const fits =
    Array.isArray(noiseShape) &&
    noiseShape.length <= x.rank &&
    noiseShape.every((d, i) => {
      const xDim = x.shape[i + x.rank - noiseShape.length];
      if (d === null) return sameRank;
      return Number.isInteger(d) && (d === 1 || d === xDim);
    });
  if (!fits) {
    throw new ShapeError(
      `dropout: noiseShape ${JSON.stringify(noiseShape)} does not fit x '${x.name}' ${formatShape(x.shape)}; ` +
        `aligned from the right, each dim must be 1, x's dim, or null (x's dim; only when the ranks are equal)`,
    );
  }
  return noiseShape.map((d, i) => (d === null ? x.shape[i] : d));
}

/**
 * Inverted dropout: each element of x (or each slice, with a noiseShape) is zeroed with probability `rate` and
 * the kept ones are scaled by 1 / (1 − rate), so the expected value is unchanged. `training` false returns x
 * itself; a bool scalar tensor chooses at run time. The mask gets no gradient: dx = dy · mask / (1 − rate).
 *
 * @example dropout(hidden, 0.5, undefined, 7, g.placeholder('training', [], 'bool'))
 */
export function dropout(
  x: Tensor,
  rate: number,
  noiseShape?: readonly (number | null)[],
  seed?: Seed,
  training: boolean | Tensor = true,
): Tensor {
  if (!(x instanceof Tensor)) throw new GraphError(`dropout: x must be a Tensor, got ${typeof x}`);
  if (!x.isFloat) {
    throw new DTypeError(`dropout: x '${x.name}' is ${x.dtype}; it is scaled, so it must be float32 or float64`);
  }
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new GraphError(`dropout: rate must be a number in [0, 1), got ${String(rate)}`);
  }
  if (training instanceof Tensor) {
    if (training.graph !== x.graph) {
      throw new GraphError(`dropout: training '${training.name}' and x '${x.name}' belong to different graphs`);
    }
    if (training.dtype !== 'bool' || training.rank !== 0) {
      throw new DTypeError(
        `dropout: training '${training.name}' is ${training.dtype}${formatShape(training.shape)}; ` +
          'it must be a bool scalar (or a JS boolean)',
      );
    }
  } else if (typeof training !== 'boolean') {
    throw new GraphError(`dropout: training must be a boolean or a bool scalar Tensor, got ${typeof training}`);
  }
  const shape = noiseShapeFor(x, noiseShape);
  if (training === false || rate === 0) return x;
  const graph = x.graph;
  // A mask of x's shape that is still unknown takes it from x at run time (x feeds only its shape).
  const inputs = shape.some((d) => d === null) ? [x.id] : [];
  const attrs = { shape, minval: 0, maxval: 1, dtype: x.dtype };
  const uniform = addRandom(RANDOM_UNIFORM, graph, inputs, (seeded) => ({ ...attrs, ...seeded }), seed);
  // Kept where u >= rate (TF2's rule): a fraction 1 − rate of the uniform values, up to their grid's spacing.
  const scale = graph.constant(1 / (1 - rate), x.dtype);
  const mask = where(greater(rate, uniform), graph.constant(0, x.dtype), scale);
  const dropped = mul(x, mask);
  return training === true ? dropped : where(training, dropped, x);
}
