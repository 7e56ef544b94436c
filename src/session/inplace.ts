/**
 * Training updates written into their variables as soon as they are computed (issue 20), without giving up the
 * all-or-nothing variable write: a run that throws changes no variable.
 *
 * A session writes an assign's value after every step of the run succeeded, so each new value (or the gradient it
 * is computed from) is held in planned memory until the run ends: a deep network's SGD step holds every weight twice.
 * Once no later step of the run can fail, nothing after a write can throw, so writing an update the moment its value
 * is ready is indistinguishable from writing it at the end, provided no later step reads the variable's old value.
 * The planner finds the last step that can fail ({@link canFail}), moves each update (the assign and the steps only it
 * reads, e.g. SGD's `w − lr·g`) to just after the last of: its inputs, the variable's other readers, that step; and
 * marks it written early. The executor then writes the value into the variable at the assign's step, and the
 * value's buffer goes back to the free list there instead of being held to the end of the run.
 */
import { Graph, Node } from '../graph';
import { allOps, isControlOp, isLeafOp, opRecord } from '../ops';

/**
 * Ops whose kernel can throw for planned, shape-checked inputs, or whose work is not a kernel's: index checks made at
 * run time (gather, scatterAdd, oneHot), shapes read at run time (reshapeDims, ensureShapeLike), user code
 * (customGradient), and control flow (loop bounds, region runs). An op not listed in {@link INFALLIBLE} and not
 * elementwise counts as fallible too.
 */
const INFALLIBLE = new Set([
  'assign',
  'group',
  'cast',
  'zerosLike',
  'onesLike',
  'addN',
  'erf',
  'reshape',
  'reshapeLike',
  'transpose',
  'broadcastTo',
  'broadcastLike',
  'sumTo',
  'expandDims',
  'squeeze',
  'concat',
  'concatPart',
  'stack',
  'slice',
  'stridedSlice',
  'stridedSliceGrad',
  'tile',
  'sumTiles',
  'pad',
  'reverse',
  'cumsum',
  'sum',
  'max',
  'min',
  'prod',
  'prodExcept',
  'all',
  'any',
  'logSumExp',
  'argMax',
  'argMin',
  'reducedSize',
  'matMul',
  'fusedMatMul',
  'softmax',
  'logSoftmax',
  'softmaxCrossEntropyWithLogits',
  'softmaxCrossEntropyFromLogSoftmax',
  'sigmoidCrossEntropyWithLogits',
  'randomUniform',
  'randomNormal',
  'truncatedNormal',
  'resizeBilinear',
  'resizeBilinearGrad',
  'resizeNearestNeighbor',
  'resizeNearestNeighborGrad',
  'maxPool',
  'maxPoolGrad',
  'maxPoolGradGrad',
  'avgPool',
  'avgPoolGrad',
  'maxPoolArgmax',
  'windowSum',
  'localResponseNormalization',
  'conv2d',
  'conv2dBackpropInput',
  'conv2dBackpropFilter',
  'fusedConv2d',
  'conv3d',
  'conv3dBackpropInput',
  'conv3dBackpropFilter',
  'maxPool3d',
  'maxPool3dGrad',
  'maxPool3dGradGrad',
  'avgPool3d',
  'avgPool3dGrad',
]);

/**
 * Whether a step of this op may throw during a run. Elementwise ops and fused groups (the ops that may run in place),
 * and the ops of {@link INFALLIBLE}, cannot; control flow, run-time index and shape checks, custom ops and any op
 * unknown here can.
 */
export function canFail(op: string): boolean {
  if (isControlOp(op)) return true;
  if (INFALLIBLE.has(op)) return false;
  return opRecord(op).inPlace !== true;
}

/** Each op's kernel as the engine registered it: a kernel replaced since (a test's, a user's) may throw. */
const REGISTERED = new Map(allOps().map((record) => [record.name, record.kernel]));

/**
 * Whether a node's step may throw: its op can fail ({@link canFail}), or its kernel is not the one the engine registered
 * (a backend's kernel falls back on it), or it checks indices that no earlier step checked the
 * same way (a gather or scatterAdd at the same indices, axis and size as an earlier one cannot fail once that one
 * ran: the gradient of an embedding lookup).
 */
function failingSteps(graph: Graph): Uint8Array {
  const fails = new Uint8Array(graph.size);
  const checked = new Set<string>();
  // Whether each op's steps may fail (canFail, or a kernel not the registered one), found once per op.
  const opFails = new Map<string, boolean>();
  for (const node of graph.nodes) {
    if (isLeafOp(node.op)) continue;
    if (node.op === 'gather' || node.op === 'scatterAdd') {
      const { axis, batchDims } = node.attrs as { axis: number; batchDims: number };
      const like = graph.node(node.op === 'gather' ? node.inputs[0] : node.inputs[2]);
      const key = `${node.inputs[1]}|${axis}|${batchDims}|${String(like.shape[axis])}`;
      if (!checked.has(key)) fails[node.id] = 1;
      checked.add(key);
      // A backend's kernel falls back on the registered one for the cases it does not take: both must be the engine's.
      if (opRecord(node.op).kernel !== REGISTERED.get(node.op)) fails[node.id] = 1;
      continue;
    }
    let failing = opFails.get(node.op);
    if (failing === undefined) {
      failing = canFail(node.op) || opRecord(node.op).kernel !== REGISTERED.get(node.op);
      opFails.set(node.op, failing);
    }
    if (failing) fails[node.id] = 1;
  }
  return fails;
}

/** Where each update of a plan runs and which are written into their variables as soon as computed. */
export interface UpdateSchedule {
  /** The nodes in the order the plan runs them (a topological order; the graph's id order but for moved updates). */
  readonly order: readonly number[];
  /** The assigns (node ids) written into their variables at their step, not at the end of the run. */
  readonly early: ReadonlySet<number>;
  /** The last node whose step can fail (-1: none): the updates written early all run after it. */
  readonly lastFallible: number;
  /**
   * Values of updates written early that are computed straight into their variable's memory (value node id → the
   * index of its input that is the variable): an elementwise step (SGD's `w − lr·g`) may write over an input.
   */
  readonly into: ReadonlyMap<number, number>;
}

/**
 * Schedules a plan's updates (see the file comment). `bindings` maps the slice's variable nodes to the user's
 * variables (several slice nodes of one variable count as one). With `enabled` false every assign is written at the end of the run and the
 * order is the graph's.
 */
export function scheduleUpdates(
  graph: Graph,
  outputs: readonly number[],
  bindings: ReadonlyMap<number, number>,
  enabled: boolean,
): UpdateSchedule {
  const size = graph.size;
  const idOrder = new Array<number>(size);
  for (let id = 0; id < size; id++) idOrder[id] = id;
  const nodes = graph.nodes;
  let lastFallible = -1;
  const assigns: Node[] = [];
  const fails = failingSteps(graph);
  for (const node of nodes) {
    if (fails[node.id] === 1) lastFallible = node.id;
    if (node.op === 'assign') assigns.push(node);
  }
  const none: UpdateSchedule = { order: idOrder, early: new Set(), lastFallible, into: new Map() };
  if (!enabled || assigns.every((a) => a.id < lastFallible)) return none;

  const isOutput = new Uint8Array(size);
  for (const id of outputs) isOutput[id] = 1;
  // Readers of each node, and of each user variable (over every slice node bound to it).
  const users: number[][] = nodes.map(() => []);
  for (const node of nodes) for (const input of node.inputs) users[input].push(node.id);
  const slotsOf = new Map<number, number[]>();
  for (const node of nodes) {
    if (node.op !== 'variable') continue;
    const variable = bindings.get(node.id) as number;
    const list = slotsOf.get(variable);
    if (list === undefined) slotsOf.set(variable, [node.id]);
    else list.push(node.id);
  }

  // Each update: the assign and the steps only it reads (its value's exclusive, infallible producers).
  const chainOf = new Int32Array(size).fill(-1);
  const chains: { assign: Node; variable: number; members: number[]; anchor: number }[] = [];
  for (const assign of assigns) {
    if (assign.id < lastFallible) continue;
    const variable = bindings.get(assign.inputs[0]) as number;
    const slots = slotsOf.get(variable) ?? [];
    // A fetch of the variable itself is read after the run: it must see the old value.
    if (slots.some((slot) => isOutput[slot] === 1)) continue;
    const index = chains.length;
    const members = [assign.id];
    chainOf[assign.id] = index;
    const stack = [assign.inputs[1]];
    while (stack.length > 0) {
      const id = stack.pop() as number;
      const node = graph.node(id);
      if (chainOf[id] >= 0 || isOutput[id] === 1 || isLeafOp(node.op) || opRecord(node.op).stateful === true) continue;
      if (fails[id] === 1 || !users[id].every((user) => chainOf[user] === index)) continue;
      chainOf[id] = index;
      members.push(id);
      for (const input of node.inputs) stack.push(input);
    }
    // It runs after its other inputs, the variable's other readers, and the last step that can fail.
    let anchor = lastFallible;
    for (const id of members) {
      for (const input of graph.node(id).inputs) {
        if (chainOf[input] !== index && !isLeafOp(graph.node(input).op)) anchor = Math.max(anchor, input);
      }
    }
    for (const slot of slots) {
      for (const reader of users[slot]) if (chainOf[reader] !== index) anchor = Math.max(anchor, reader);
    }
    members.sort((a, b) => a - b);
    chains.push({ assign, variable, members, anchor });
  }
  if (chains.length === 0) return none;

  // The order: the graph's, each update's nodes moved to just after its anchor.
  const after = new Map<number, number[]>();
  for (let c = 0; c < chains.length; c++) {
    const list = after.get(chains[c].anchor);
    if (list === undefined) after.set(chains[c].anchor, [c]);
    else list.push(c);
  }
  const order: number[] = [];
  const place = (anchor: number): void => {
    for (const c of after.get(anchor) ?? []) for (const id of chains[c].members) order.push(id);
  };
  place(-1);
  for (let id = 0; id < size; id++) {
    if (chainOf[id] < 0) order.push(id);
    place(id);
  }
  const position = new Int32Array(size);
  order.forEach((id, p) => (position[id] = p));
  // Written early when every other reader of the variable's old value runs before the assign (a reader inside
  // another update may have moved after it: that update is then written at the end of the run).
  const early = new Set<number>();
  const into = new Map<number, number>();
  for (let c = 0; c < chains.length; c++) {
    const { assign, variable } = chains[c];
    const slots = slotsOf.get(variable) ?? [];
    const readers = slots.flatMap((slot) => users[slot]);
    if (!readers.every((reader) => chainOf[reader] === c || position[reader] < position[assign.id])) continue;
    early.add(assign.id);
    // The value's step may write over the variable when it runs in place, reads the variable at full size, and is
    // the variable's last reader but the assign (its chain's other members are its producers, so run before it).
    const value = graph.node(assign.inputs[1]);
    if (chainOf[value.id] !== c || opRecord(value.op).inPlace !== true) continue;
    const k = value.inputs.findIndex((input) => slots.includes(input));
    const variableNode = k < 0 ? null : graph.node(value.inputs[k]);
    if (variableNode === null || variableNode.dtype !== value.dtype) continue;
    if (!sameShape(variableNode.shape, value.shape)) continue;
    if (readers.some((reader) => reader !== assign.id && position[reader] > position[value.id])) continue;
    into.set(value.id, k);
  }
  return { order, early, lastFallible, into };
}

function sameShape(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d !== null && d === b[i]);
}
