/**
 * batchNorm as one ONNX BatchNormalization node. batchNorm is a composite (ops/normalization.ts):
 * (x − mean) · (rsqrt(variance + ε) · scale) + offset, scale and offset optional. Where a graph holds that pattern
 * with per-channel statistics along one axis of x, and its inner nodes feed nothing else (the inference form:
 * a gradient through it reads them, and the nodes are exported one by one then), exportOnnx writes one
 * BatchNormalization node for it, with transposes moving the channel axis to 1 when it is not there (NHWC), in
 * place of the pattern's last node. The node carries no annotation: importOnnx reads it by ONNX semantics, as
 * batchNorm again.
 */
import { Graph, NDArray, Node } from '../../graph';
import { OnnxWriter } from './writer';

/** A matched pattern: its input nodes, ε, the channel axis, and the inner node ids it replaces. */
export interface BatchNormMatch {
  readonly x: number;
  readonly mean: number;
  readonly variance: number;
  readonly offset: number | null;
  readonly scale: number | null;
  readonly epsilon: number;
  /** The constant node holding ε. */
  readonly epsilonId: number;
  readonly axis: number;
  readonly channels: number;
  readonly inner: readonly number[];
}

/**
 * The batchNorm patterns among the nodes `ids` exports, by the id of each one's last node, and the ids they make
 * unneeded. No inner node may be fed (`fed`, whose own inputs are not read either) or an output.
 */
export function findBatchNorms(
  graph: Graph,
  ids: readonly number[],
  fed: ReadonlySet<number>,
  outputs: readonly number[],
): { matches: Map<number, BatchNormMatch>; skipped: Set<number> } {
  const consumers = new Map<number, number>();
  const needed = new Set(ids);
  const kept = new Set([...fed, ...outputs]);
  for (const id of ids) {
    if (fed.has(id)) continue;
    for (const input of graph.node(id).inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  }
  const matches = new Map<number, BatchNormMatch>();
  const skipped = new Set<number>();
  // From the last node back, so a pattern's final add claims its mul before the mul is tried as a pattern of its own.
  for (let k = ids.length - 1; k >= 0; k--) {
    const id = ids[k];
    if (skipped.has(id)) continue;
    const own = (i: number): boolean => needed.has(i) && !kept.has(i) && !skipped.has(i) && consumers.get(i) === 1;
    const match = matchAt(graph, id, (inner) => inner.every(own));
    if (match === null) continue;
    matches.set(id, match);
    for (const i of match.inner) skipped.add(i);
    // ε's constant, when nothing else reads it, is not written either.
    if (own(match.epsilonId)) skipped.add(match.epsilonId);
  }
  return { matches, skipped };
}

function matchAt(graph: Graph, id: number, owned: (inner: number[]) => boolean): BatchNormMatch | null {
  const node = graph.node(id);
  if (node.dtype !== 'float32' && node.dtype !== 'float64') return null;
  const op = (i: number, name: string): Node | null => {
    const n = graph.node(i);
    return n.op === name ? n : null;
  };
  // add(mul(sub(x, mean), factor), offset), or the mul alone.
  let product = op(id, 'mul');
  let offset: number | null = null;
  const inner: number[] = [];
  if (product === null) {
    const sum = op(id, 'add');
    if (sum === null) return null;
    product = op(sum.inputs[0], 'mul');
    if (product === null) return null;
    offset = sum.inputs[1];
    inner.push(product.id);
  }
  const centered = op(product.inputs[0], 'sub');
  if (centered === null) return null;
  inner.push(centered.id);
  let inverse = op(product.inputs[1], 'rsqrt');
  let scale: number | null = null;
  if (inverse === null) {
    const scaled = op(product.inputs[1], 'mul');
    if (scaled === null) return null;
    inverse = op(scaled.inputs[0], 'rsqrt');
    if (inverse === null) return null;
    scale = scaled.inputs[1];
    inner.push(scaled.id);
  }
  inner.push(inverse.id);
  const shifted = op(inverse.inputs[0], 'add');
  if (shifted === null) return null;
  inner.push(shifted.id);
  const eps = graph.node(shifted.inputs[1]);
  if (eps.op !== 'constant' || eps.shape.length !== 0 || eps.value === undefined) return null;
  const epsilon = eps.value.data[0];
  // ONNX's epsilon is a float32 attribute: a float64 graph keeps its own ε only when float32 holds it exactly.
  if (node.dtype === 'float64' && Math.fround(epsilon) !== epsilon) return null;
  const [x, mean] = centered.inputs;
  const variance = shifted.inputs[0];
  const xNode = graph.node(x);
  if (xNode.dtype !== node.dtype || xNode.shape.length < 2) return null;
  const axis = channelAxis(
    xNode.shape,
    [mean, variance, offset, scale].filter((s) => s !== null).map((s) => graph.node(s as number)),
  );
  if (axis === null) return null;
  if (!owned(inner)) return null;
  return {
    x,
    mean,
    variance,
    offset,
    scale,
    epsilon,
    epsilonId: eps.id,
    axis,
    channels: xNode.shape[axis] as number,
    inner,
  };
}

/** The one axis all statistics vary along (with x's size there, known and > 1), or null. */
function channelAxis(shape: readonly (number | null)[], stats: readonly Node[]): number | null {
  let axis: number | null = null;
  for (const stat of stats) {
    if (stat.dtype !== stats[0].dtype || stat.shape.length > shape.length) return null;
    const padded = [...new Array<number | null>(shape.length - stat.shape.length).fill(1), ...stat.shape];
    const varying = padded.flatMap((d, i) => (d === 1 ? [] : [i]));
    if (varying.length !== 1) return null;
    const [a] = varying;
    if (padded[a] === null || padded[a] !== shape[a]) return null;
    if (axis !== null && axis !== a) return null;
    axis = a;
  }
  return axis;
}

/**
 * Writes the BatchNormalization node of a match (inputs: the ONNX names of the match's x and statistics) to `out`;
 * absent scale / offset are ones / zeros.
 */
export function writeBatchNorm(
  w: OnnxWriter,
  graph: Graph,
  match: BatchNormMatch,
  valueOf: (id: number) => string,
  out: string,
): void {
  const rank = graph.node(match.x).shape.length;
  const dtype = graph.node(match.x).dtype;
  const flat = (id: number): string => w.node('Reshape', [valueOf(id), w.ints([match.channels])]);
  const filled = (id: number | null, value: number): string => {
    if (id !== null) return flat(id);
    const values = new Float64Array(match.channels).fill(value);
    const data = dtype === 'float64' ? values : Float32Array.from(values);
    return w.tensor(new NDArray(data, [match.channels], dtype));
  };
  const others = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== match.axis);
  const perm = [others[0], match.axis, ...others.slice(1)];
  const moved = perm.some((p, i) => p !== i);
  const x = moved ? w.node('Transpose', [valueOf(match.x)], { perm: { ints: perm } }) : valueOf(match.x);
  const inputs = [x, filled(match.scale, 1), filled(match.offset, 0), flat(match.mean), flat(match.variance)];
  const y = w.node('BatchNormalization', inputs, { epsilon: { float: match.epsilon } }, moved ? undefined : out);
  if (moved) {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    w.node('Transpose', [y], { perm: { ints: inverse } }, out);
  }
}
