import { ancestors, DTypeError, formatShape, GraphError, graphOf, isFloat, Node, ShapeError, Tensor } from '../graph';
import {
  addOp,
  broadcastLike,
  isControlOp,
  ensureShapeLike,
  OpRecord,
  opRecord,
  sumTo,
  toTensor,
  TensorLike,
  ZEROS_LIKE,
  zerosLike,
} from '../ops';
import { gradients } from './gradients';
import { controlJvp } from './jvp-control';

let dummies = 0;

/**
 * A stand-in cotangent with y's shape and dtype that is never merged with any other node (its unique attr keeps
 * interning from sharing it), so differentiating with respect to it sees only the VJP built from it.
 */
function dummyCotangent(y: Tensor): Tensor {
  return addOp(y.graph, ZEROS_LIKE, [y.id], { dummy: dummies++ }, 'cotangent');
}

/**
 * The tangent of one node from its inputs' tangents when its op has no forward rule: the double-VJP
 * construction. The VJP u ↦ Σᵢ Jᵢᵀu is linear in u, so differentiating ⟨VJP(u), t⟩ with respect to u gives Σᵢ Jᵢtᵢ.
 */
function doubleVjp(
  record: OpRecord,
  node: Node,
  output: Tensor,
  inputs: readonly Tensor[],
  tangents: readonly (Tensor | null)[],
): Tensor | null {
  if (record.vjp === undefined) return null;
  const u = dummyCotangent(output);
  // The op's own rule, not gradients(): only this node's partial derivatives, not other paths between its inputs.
  const needs = tangents.map((t) => t !== null);
  const pulled = record.vjp({ inputs, output, dy: u, attrs: node.attrs, needs });
  const ys: Tensor[] = [];
  const weights: Tensor[] = [];
  pulled.forEach((g, i) => {
    const t = tangents[i];
    if (g === null || t === null) return;
    ys.push(sumTo(g, inputs[i]));
    weights.push(t);
  });
  if (ys.length === 0) return null;
  const [result] = gradients(ys, [u], weights);
  return result;
}

/**
 * Forward mode: the directional derivatives (Jacobian-vector products) of ys along `tangents` of xs, as graph
 * nodes. Each op uses its forward rule when it has one, else the double-VJP construction. A y that does not
 * depend on any x gets a zero tangent.
 *
 * @example
 * const [dy] = jvp(y, [x], [v]); // J(x)·v
 */
export function jvp(ys: Tensor | readonly Tensor[], xs: readonly Tensor[], tangents: readonly TensorLike[]): Tensor[] {
  const yList = Array.isArray(ys) ? (ys as readonly Tensor[]) : [ys as Tensor];
  return forward(yList, xs, tangents).map((t, i) => t ?? zerosLike(yList[i]));
}

/** jvp's core: the tangent of each y, or null where it depends on no x (what control-flow rules build regions from). */
function forward(yList: readonly Tensor[], xs: readonly Tensor[], tangents: readonly TensorLike[]): (Tensor | null)[] {
  const graph = graphOf([...yList, ...xs], 'jvp');
  if (tangents.length !== xs.length) {
    throw new GraphError(`jvp: ${xs.length} xs but ${tangents.length} tangents; give one tangent per x`);
  }
  const tangentOf = new Map<number, Tensor>();
  xs.forEach((x, i) => {
    if (!isFloat(x.dtype)) {
      throw new DTypeError(`jvp: '${x.name}' is ${x.dtype}; tangents exist only for float32/float64 tensors`);
    }
    const t = toTensor(graph, tangents[i], x.dtype);
    if (t.dtype !== x.dtype || t.shape.length !== x.shape.length || !shapesCompatible(t, x)) {
      throw new ShapeError(
        `jvp: the tangent for '${x.name}' is ${t.dtype}${formatShape(t.shape)}, ` +
          `but '${x.name}' is ${x.dtype}${formatShape(x.shape)}; a tangent has its x's dtype and shape`,
      );
    }
    // Dims unknown on either side are compared with the fed shapes: a tangent is never broadcast.
    tangentOf.set(x.id, ensureShapeLike(t, x));
  });
  let lowest = graph.size;
  for (const x of xs) lowest = Math.min(lowest, x.id);
  let highest = -1;
  for (const y of yList) highest = Math.max(highest, y.id);
  const isX = new Set(xs.map((x) => x.id));
  const groups = new Map<string, Map<string, Tensor | null>>();
  // A control-flow construct is differentiated only when a y needs it: building its jvp regions is not free, and a
  // construct of an earlier jvp() call in the range must not be differentiated again by each later call.
  let needed: Uint8Array | null = null;
  const isNeeded = (id: number): boolean => {
    if (needed === null) {
      needed = new Uint8Array(graph.size);
      const roots = yList.map((y) => y.id);
      for (const a of ancestors(graph, roots)) needed[a] = 1;
    }
    return id < needed.length && needed[id] === 1;
  };
  graph.nameScope('jvp', () => {
    // Ascending id order is a topological order: each node's inputs have their tangents before it.
    for (let id = lowest; id <= highest; id++) {
      if (isX.has(id)) continue;
      const node = graph.node(id);
      const inputTangents = node.inputs.map((i) => tangentOf.get(i) ?? null);
      if (!inputTangents.some((t) => t !== null) || !isFloat(node.dtype)) continue;
      if (isControlOp(node.op)) {
        if (!isNeeded(id)) continue;
        // A cond/whileLoop/scan: one jvp construct of the same kind for its whole sibling group (jvp-control.ts).
        const tangent = graph.nameScope(`${node.op}_jvp`, () =>
          controlJvp({
            graph,
            node,
            tangentOf: (i) => tangentOf.get(i) ?? null,
            differentiate: forward,
            highest,
            isNeeded,
            groups,
          }),
        );
        if (tangent !== null) tangentOf.set(id, tangent);
        continue;
      }
      const record = opRecord(node.op);
      if (record.vjp === undefined && record.jvp === undefined) continue;
      const inputs = node.inputs.map((i) => graph.tensor(i));
      const output = graph.tensor(id);
      const tangent = graph.nameScope(`${node.op}_jvp`, () =>
        record.jvp !== undefined
          ? record.jvp({ inputs, output, tangents: inputTangents, attrs: node.attrs })
          : doubleVjp(record, node, output, inputs, inputTangents),
      );
      // A rule may return a tangent in an input's shape (add's ta alone): broadcasting is done here, once.
      if (tangent !== null) tangentOf.set(id, broadcastLike(tangent, output));
    }
  });
  return yList.map((y) => tangentOf.get(y.id) ?? null);
}

function shapesCompatible(a: Tensor, b: Tensor): boolean {
  return a.shape.every((d, i) => d === null || b.shape[i] === null || d === b.shape[i]);
}
