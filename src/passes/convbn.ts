import { allocate, Graph, isFloat, isFullyKnown, NDArray, Node, shapesEqual } from '../graph';
import { foldNode, isLeafOp, opRecord } from '../ops';
import { Pass } from './pass';
import { emit } from './pattern';
import { dropDead, liveNodes, rebuild } from './slice';

/** The ops of a per-channel affine step y → a·y + b, with the other operand a constant. */
const AFFINE_OPS = new Set(['add', 'sub', 'mul', 'div']);

/** A filter computed from constants through at most this many nodes is evaluated (a transposed ONNX weight). */
const MAX_FILTER_NODES = 8;

/** Per output channel, the running y → scale·y + shift of the steps absorbed so far (float64). */
interface Affine {
  readonly scale: Float64Array;
  readonly shift: Float64Array;
}

/**
 * The C values of a constant that broadcasts against a rank-4 conv output along the channel axis only (every other
 * dim 1; the channel dim C or 1), or null. All must be finite; a multiplier must also be nonzero, so that folding
 * it into the filter changes no Inf or NaN of the unfused ops into a number.
 */
function channelValues(
  c: Node,
  out: readonly number[],
  channelsLast: boolean,
  multiplier: boolean,
): Float64Array | null {
  if (c.op !== 'constant' || c.value === undefined || (c.dtype !== 'float32' && c.dtype !== 'float64')) return null;
  const rank = c.shape.length;
  const channel = channelsLast ? 3 : 1;
  const channels = out[channel];
  if (rank > 4) return null;
  for (let i = 0; i < rank; i++) {
    const axis = i + 4 - rank;
    const d = c.shape[i];
    if (d !== 1 && !(axis === channel && d === channels)) return null;
  }
  const data = c.value.data;
  const values = new Float64Array(channels);
  for (let k = 0; k < channels; k++) {
    const v = data.length === 1 ? data[0] : data[k];
    if (!Number.isFinite(v) || (multiplier && v === 0)) return null;
    values[k] = v;
  }
  return values;
}

/** Applies one absorbed step (y op c, or c op y) to the running affine map; false when it is not affine in y. */
function absorb(affine: Affine, op: string, c: Float64Array, constantFirst: boolean): boolean {
  const { scale, shift } = affine;
  for (let k = 0; k < scale.length; k++) {
    switch (op) {
      case 'add':
        shift[k] += c[k];
        break;
      case 'sub':
        if (constantFirst) {
          scale[k] = -scale[k];
          shift[k] = c[k] - shift[k];
        } else shift[k] -= c[k];
        break;
      case 'mul':
        scale[k] *= c[k];
        shift[k] *= c[k];
        break;
      default:
        if (constantFirst) return false;
        scale[k] /= c[k];
        shift[k] /= c[k];
    }
  }
  return true;
}

/**
 * The value of a node computed from constants only (a constant, or e.g. the transpose of an ONNX weight that was too
 * large for the fold pass), or null. An explicit sweep over at most MAX_FILTER_NODES nodes.
 */
function constantValue(graph: Graph, id: number): NDArray | null {
  const root = graph.node(id);
  if (root.op === 'constant') return root.value ?? null;
  const needed = new Set<number>();
  const stack = [id];
  while (stack.length > 0) {
    const current = graph.node(stack.pop() as number);
    if (needed.has(current.id)) continue;
    needed.add(current.id);
    if (needed.size > MAX_FILTER_NODES) return null;
    if (current.op === 'constant') continue;
    if (isLeafOp(current.op) || opRecord(current.op).stateful === true || !isFullyKnown(current.shape)) return null;
    stack.push(...current.inputs);
  }
  const values = new Map<number, NDArray>();
  try {
    for (const nodeId of [...needed].sort((a, b) => a - b)) {
      const node = graph.node(nodeId);
      if (node.op === 'constant') values.set(nodeId, node.value as NDArray);
      else
        values.set(
          nodeId,
          foldNode(
            node,
            node.inputs.map((i) => values.get(i) as NDArray),
          ),
        );
    }
  } catch {
    // As the fold pass does: a kernel failing on constants is left for the run to report.
    return null;
  }
  return values.get(id) ?? null;
}

/** A float constant of `shape` from float64 values, rounded once to `like`'s dtype. */
function constantOf(graph: Graph, values: Float64Array, shape: readonly number[], like: Node, name: string): number {
  const data = allocate(like.dtype, values.length);
  data.set(values);
  return graph.constant(new NDArray(data, shape, like.dtype), like.dtype, name).id;
}

/**
 * Batch normalization folded into the preceding convolution, for inference: conv2d(x, W) (or a fusedConv2d without
 * activation) followed by per-channel affine steps with constant operands (add, sub, mul, div: the batchNorm
 * composite (x − μ)·γ/√(σ² + ε) + β once its statistics are folded, or ONNX BatchNormalization as imported) becomes
 * fusedConv2d(x, W', b') with W' = W·s and b' = t (+ b·s) per output channel, s and t the chain's scale and shift
 * computed in float64 and rounded once. Only with a constant filter and constant statistics (variables are
 * trained, so never folded), a chain whose every intermediate (the conv included) has one reader and is not
 * fetched, and at least one multiplying step (a bias-add alone is the epilogue pass's, which is exact). Exact up to
 * float rounding, not bit for bit: hence a lowering pass of level 2, not a rule of `simplify`.
 */
export const convBatchNorm: Pass = {
  name: 'conv-bn',
  run(slice) {
    const source = slice.graph;
    const live = liveNodes(source, slice.outputs);
    const uses = new Int32Array(source.size);
    const reader = new Int32Array(source.size).fill(-1);
    for (const node of source.nodes) {
      if (live[node.id] === 0) continue;
      for (const input of node.inputs) {
        uses[input]++;
        reader[input] = node.id;
      }
    }
    for (const id of slice.outputs) uses[id]++;

    // The chain end of each conv that folds, with what it becomes.
    const folded = new Map<
      number,
      { conv: Node; affine: Affine; steps: number; filter: NDArray; bias: NDArray | null }
    >();
    for (const conv of source.nodes) {
      const fusedConv = conv.op === 'fusedConv2d' && (conv.attrs.activation ?? 'none') === 'none';
      if (live[conv.id] === 0 || (conv.op !== 'conv2d' && !fusedConv)) continue;
      if (!isFloat(conv.dtype) || !isFullyKnown(conv.shape)) continue;
      const out = conv.shape as number[];
      const channelsLast = conv.attrs.dataFormat === 'NHWC';
      const channels = out[channelsLast ? 3 : 1];
      const affine: Affine = { scale: new Float64Array(channels).fill(1), shift: new Float64Array(channels) };
      let end = conv;
      let steps = 0;
      let multiplied = false;
      while (uses[end.id] === 1 && reader[end.id] >= 0) {
        const next = source.node(reader[end.id]);
        if (!AFFINE_OPS.has(next.op) || next.dtype !== conv.dtype || !shapesEqual(next.shape, conv.shape)) break;
        const constantFirst = next.inputs[1] === end.id;
        const other = source.node(next.inputs[constantFirst ? 0 : 1]);
        const multiplier = next.op === 'mul' || next.op === 'div';
        const values = channelValues(other, out, channelsLast, multiplier);
        if (values === null || (next.op === 'div' && constantFirst)) break;
        absorb(affine, next.op, values, constantFirst);
        multiplied ||= multiplier;
        end = next;
        steps++;
      }
      if (!multiplied) continue;
      const filter = constantValue(source, conv.inputs[1]);
      const bias = fusedConv ? constantValue(source, conv.inputs[2]) : null;
      if (filter === null || (fusedConv && bias === null)) continue;
      folded.set(end.id, { conv, affine, steps, filter, bias });
    }

    const changes = { 'batchnorm-into-conv': 0, 'affine-steps': 0 };
    if (folded.size === 0) return { slice, changes };
    const result = rebuild(slice, (node, _inputs, target, mapped) => {
      const fold = folded.get(node.id);
      if (fold === undefined) return undefined;
      const { conv, affine, steps, filter, bias } = fold;
      const channels = affine.scale.length;
      const weights = new Float64Array(filter.size);
      for (let i = 0; i < weights.length; i++) weights[i] = filter.data[i] * affine.scale[i % channels];
      const shift = Float64Array.from(affine.shift);
      if (bias !== null) {
        for (let k = 0; k < channels; k++)
          shift[k] += (bias.size === 1 ? bias.data[0] : bias.data[k]) * affine.scale[k];
      }
      const channelsLast = conv.attrs.dataFormat === 'NHWC';
      const w = constantOf(target, weights, filter.shape, conv, `${node.name}/folded_filter`);
      const b = constantOf(
        target,
        shift,
        channelsLast ? [channels] : [channels, 1, 1],
        conv,
        `${node.name}/folded_bias`,
      );
      changes['batchnorm-into-conv']++;
      changes['affine-steps'] += steps;
      const attrs = { ...conv.attrs, activation: 'none' };
      return emit(target, 'fusedConv2d', [mapped(conv.inputs[0]), w, b], attrs, node.name);
    });
    return { slice: dropDead(result), changes };
  },
};
