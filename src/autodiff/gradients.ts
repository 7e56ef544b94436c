import { DTypeError, formatShape, GraphError, graphOf, isFloat, ShapeError, Tensor } from '../graph';
import { add, controlGroupKey, ensureShapeLike, isControlOp, onesLike, opRecord, sumTo, zerosLike } from '../ops';
import { controlVjp } from './control';
import { Rematerializer, RematOption } from './remat';

export interface GradientsOptions {
  /** Tensors treated as constants: no gradient flows through them. */
  stopGradients?: readonly Tensor[];
  /** What an x that ys do not depend on gets: null (default, as TensorFlow's 'none') or zeros. */
  unconnected?: 'none' | 'zero';
  /**
   * Which forward values the gradient graph keeps ('none', default) or recomputes in the backward pass ('auto':
   * sqrt(n) checkpointing; `{ every: k }`): see RematOption. Values and gradients are the same either way.
   */
  remat?: RematOption;
}

/**
 * Reverse mode: the gradient of sum(ys) (each y weighted by its gradY when given) with respect to each x,
 * as new nodes in the same graph under the `gradients/` name scope. Gradient nodes are ordinary nodes, so
 * they can be printed, optimized, run and differentiated again.
 *
 * @example
 * const [dw, dx] = gradients(sum(y), [w, x]);
 * const [d2] = gradients(dw, [w]); // second derivative
 */
export function gradients<const X extends readonly Tensor[]>(
  ys: Tensor | readonly Tensor[],
  xs: X,
  gradYs: readonly (Tensor | null | undefined)[] | undefined,
  options: GradientsOptions & { readonly unconnected: 'zero' },
): { -readonly [K in keyof X]: Tensor };
export function gradients<const X extends readonly Tensor[]>(
  ys: Tensor | readonly Tensor[],
  xs: X,
  gradYs?: readonly (Tensor | null | undefined)[],
  options?: GradientsOptions,
): { -readonly [K in keyof X]: Tensor | null };
export function gradients(
  ys: Tensor | readonly Tensor[],
  xs: readonly Tensor[],
  gradYs?: readonly (Tensor | null | undefined)[],
  options: GradientsOptions = {},
): (Tensor | null)[] {
  const yList = Array.isArray(ys) ? (ys as readonly Tensor[]) : [ys as Tensor];
  const stops = options.stopGradients ?? [];
  const graph = graphOf([...yList, ...xs, ...stops, ...((gradYs ?? []).filter((t) => t) as Tensor[])], 'gradients');
  for (const t of [...yList, ...xs]) {
    if (!isFloat(t.dtype)) {
      throw new DTypeError(
        `gradients: '${t.name}' is ${t.dtype}${formatShape(t.shape)}; gradients are defined only between ` +
          'float32/float64 tensors (cast it first, or leave it out)',
      );
    }
  }
  if (gradYs !== undefined && gradYs.length !== yList.length) {
    throw new GraphError(`gradients: ${yList.length} ys but ${gradYs.length} gradYs; give one gradY per y`);
  }

  const size = graph.size;
  // Nodes on a path from some x to some y: reachable forward from xs (ascending sweep) and backward from ys.
  const stopped = new Uint8Array(size);
  for (const s of stops) stopped[s.id] = 1;
  const fromX = new Uint8Array(size);
  for (const x of xs) if (stopped[x.id] === 0) fromX[x.id] = 1;
  let lowest = size;
  for (const x of xs) lowest = Math.min(lowest, x.id);
  for (let id = lowest; id < size; id++) {
    if (fromX[id] === 1 || stopped[id] === 1) continue;
    for (const input of graph.node(id).inputs) {
      if (fromX[input] === 1) {
        fromX[id] = 1;
        break;
      }
    }
  }
  const toY = new Uint8Array(size);
  for (const y of yList) toY[y.id] = 1;
  let highest = -1;
  for (const y of yList) highest = Math.max(highest, y.id);
  for (let id = highest; id >= 0; id--) {
    if (toY[id] === 0 || stopped[id] === 1) continue;
    for (const input of graph.node(id).inputs) toY[input] = 1;
  }
  const onPath = (id: number): boolean => fromX[id] === 1 && toY[id] === 1 && stopped[id] === 0;
  const remat = new Rematerializer(graph, lowest, highest, onPath, options.remat ?? 'none');

  // Contributions to each node's gradient; summed when the node's own rule runs (fan-out).
  const pending = new Map<number, Tensor[]>();
  const contribute = (id: number, g: Tensor): void => {
    const list = pending.get(id);
    if (list === undefined) pending.set(id, [g]);
    else list.push(g);
  };
  const total = (id: number): Tensor | null => {
    const list = pending.get(id);
    if (list === undefined) return null;
    let sumOfAll = list[0];
    for (let i = 1; i < list.length; i++) sumOfAll = add(sumOfAll, list[i]);
    return sumOfAll;
  };

  const results = graph.nameScope('gradients', () => {
    yList.forEach((y, i) => {
      const given = gradYs?.[i];
      if (given !== undefined && given !== null) {
        const seed = checkedGradY(given, y);
        if (onPath(y.id)) contribute(y.id, seed);
      } else if (onPath(y.id)) {
        contribute(y.id, onesLike(y));
      }
    });

    const isX = new Set(xs.map((x) => x.id));
    // Sibling control-flow nodes (the outputs of one cond/while/scan) are differentiated together, once, when the
    // sweep reaches the first of them on the path: every consumer of every sibling has been visited by then.
    const groups = new Map<string, number[]>();
    for (let id = lowest; id <= highest; id++) {
      const node = graph.node(id);
      if (!isControlOp(node.op) || !onPath(id)) continue;
      const key = controlGroupKey(node);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [id]);
      else group.push(id);
    }
    for (let id = highest; id >= lowest; id--) {
      if (!onPath(id)) continue;
      const node = graph.node(id);
      if (isControlOp(node.op)) {
        if (isX.has(id) && pending.has(id)) pending.set(id, [total(id) as Tensor]);
        const group = groups.get(controlGroupKey(node)) as number[];
        if (group[0] !== id) continue;
        const dys = group.map((s) => total(s));
        if (dys.every((d) => d === null)) continue;
        const needs = node.inputs.map((i) => onPath(i) && isFloat(graph.node(i).dtype));
        const inputs = node.inputs.map((i) => graph.tensor(i));
        const grads = graph.nameScope(`${node.op}_grad`, () =>
          controlVjp({ graph, siblings: group.map((s) => graph.node(s)), dys, needs }, (y, x, seeds) =>
            gradients(y, x, seeds),
          ),
        );
        grads.forEach((g, i) => {
          if (g === null || !needs[i]) return;
          contribute(
            node.inputs[i],
            graph.nameScope(`${node.op}_grad`, () => sumTo(g, inputs[i])),
          );
        });
        continue;
      }
      if (!pending.has(id)) continue;
      const dy = total(id) as Tensor;
      if (isX.has(id)) pending.set(id, [dy]);
      if (node.inputs.length === 0) continue;
      const record = opRecord(node.op);
      if (record.vjp === undefined) continue;
      const needs = node.inputs.map((i) => onPath(i) && isFloat(graph.node(i).dtype));
      if (!needs.some((n) => n)) continue;
      // With remat, a rule reads recomputed copies of the forward values that were not kept.
      const inputs = remat.active
        ? graph.nameScope(`${node.op}_grad`, () => node.inputs.map((i) => remat.value(i, dy)))
        : node.inputs.map((i) => graph.tensor(i));
      const output = remat.active ? graph.nameScope(`${node.op}_grad`, () => remat.value(id, dy)) : graph.tensor(id);
      const grads = graph.nameScope(`${node.op}_grad`, () =>
        (record.vjp as NonNullable<typeof record.vjp>)({
          inputs,
          output,
          dy,
          attrs: node.attrs,
          needs,
        }),
      );
      grads.forEach((g, i) => {
        if (g === null || !needs[i]) return;
        // Undoing broadcasting happens here, once, for every op.
        contribute(
          node.inputs[i],
          graph.nameScope(`${node.op}_grad`, () => sumTo(g, inputs[i])),
        );
      });
    }
    return xs.map((x) => {
      const g = pending.get(x.id);
      if (g !== undefined && onPath(x.id)) return g[0];
      return options.unconnected === 'zero' ? zerosLike(x) : null;
    });
  });
  return results;
}

/**
 * A gradY as the seed of its y: the same dtype and shape as y, never broadcast (as tfjs asserts). Dims known on
 * both sides are compared here; where either is unknown, an ensureShapeLike node has the session compare the fed
 * shapes before it runs (it is the gradY itself when both shapes are known).
 */
function checkedGradY(given: Tensor, y: Tensor): Tensor {
  if (given.dtype !== y.dtype) {
    throw new DTypeError(
      `gradients: gradY '${given.name}' is ${given.dtype}${formatShape(given.shape)}, but y '${y.name}' is ` +
        `${y.dtype}${formatShape(y.shape)}; a gradY has its y's dtype and shape`,
    );
  }
  const fits =
    given.rank === y.rank && given.shape.every((d, i) => d === null || y.shape[i] === null || d === y.shape[i]);
  if (!fits) {
    throw new ShapeError(
      `gradients: gradY '${given.name}' is ${given.dtype}${formatShape(given.shape)}, but y '${y.name}' is ` +
        `${y.dtype}${formatShape(y.shape)}; a gradY must have its y's shape (it is not broadcast)`,
    );
  }
  return ensureShapeLike(given, y, 'gradY');
}
