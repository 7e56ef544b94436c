// From the defining modules, not the barrels: a barrel's re-export is a getter call on every read in the sweeps.
import { isFloat } from '../graph/dtype';
import type { Attrs, Graph, Node } from '../graph/graph';
import { freezeAttrs } from '../graph/rules';
import { isFullyKnown, shapesEqual } from '../graph/shape';
import { broadcastsPerChannel } from '../ops/fusedconv';
import { isFusedActivation } from '../ops/fusedmatmul';
import { Pass } from './pass';
import { capture, Captures, emit, literal, match, op } from './pattern';
import { dropDead, rebuild, rebuildSkipping, Rewriter, Slice } from './slice';

/**
 * relu's gradient reluGrad(dy, x) (or a mask x > 0 written out) can read relu(x) instead of x: relu(x) > 0 ⇔ x > 0
 * (false for NaN and −0 alike).
 */
const MASK = op('greater', [capture('x'), literal(0)]);

/** A bias-add's bias is a row of the product: [N] or [1, …, 1, N], same dtype, all dims known. */
function isRowBias(bias: Node, product: Node): boolean {
  const shape = product.shape;
  const rank = bias.shape.length;
  return (
    bias.dtype === product.dtype &&
    isFullyKnown(bias.shape) &&
    rank >= 1 &&
    rank <= shape.length &&
    bias.shape.slice(0, -1).every((d) => d === 1) &&
    bias.shape[rank - 1] === shape[shape.length - 1]
  );
}

/** A conv2d's bias-add's bias holds one value per output channel (the forms fusedConv2d takes), all dims known. */
function isChannelBias(bias: Node, product: Node): boolean {
  const channelsLast = product.attrs.dataFormat === 'NHWC';
  return (
    bias.dtype === product.dtype &&
    isFullyKnown(bias.shape) &&
    isFullyKnown(product.shape) &&
    broadcastsPerChannel(bias.shape, product.shape, channelsLast)
  );
}

/**
 * The product (a matMul or a conv2d) and bias of add(product, bias) in either order, when the product has no other
 * reader (`uses` counts outputs as readers) and the sum has the product's type, so the bias only broadcasts along
 * rows (matMul) or channels (conv2d).
 */
function biasAdd(graph: Graph, node: Node, uses: Int32Array): { product: Node; bias: Node } | null {
  if (node.op !== 'add' || !isFloat(node.dtype) || !isFullyKnown(node.shape)) return null;
  for (const [p, q] of [
    [0, 1],
    [1, 0],
  ]) {
    const product = graph.node(node.inputs[p]);
    const bias = graph.node(node.inputs[q]);
    if ((product.op !== 'matMul' && product.op !== 'conv2d') || uses[product.id] !== 1) continue;
    if (product.dtype !== node.dtype || !shapesEqual(product.shape, node.shape)) continue;
    if (product.op === 'matMul' ? isRowBias(bias, product) : isChannelBias(bias, product)) return { product, bias };
  }
  return null;
}

/** The fused op of each product op, and the names its two rewrites count under in the pass report. */
const FUSED_OF: { readonly [op: string]: { op: string; bias: string; activation: string } } = {
  matMul: { op: 'fusedMatMul', bias: 'matmul-bias', activation: 'matmul-activation' },
  conv2d: { op: 'fusedConv2d', bias: 'conv-bias', activation: 'conv-activation' },
};

/** What the rebuild makes of a node it visits; `rules`: what the visit counts, in order. */
export type EpilogueAction =
  | { readonly kind: 'mask'; readonly reluId: number; readonly rules: readonly string[] }
  | {
      readonly kind: 'fused';
      readonly op: string;
      readonly operands: readonly number[];
      readonly attrs: Attrs;
      readonly rules: readonly string[];
    }
  | { readonly kind: 'activate'; readonly x: Node; readonly rules: readonly string[] };

/** Epilogue fusion decided on a slice: the live nodes, the absorbed ones, each rewritten node's action. */
export interface EpiloguePlan {
  readonly live: Uint8Array;
  readonly absorbed: Uint8Array;
  /** The live nodes actionOf may give an action, ascending: to every other node it gives none. */
  readonly candidates: readonly number[];
  actionOf(node: Node, skipping: boolean): EpilogueAction | undefined;
}

function fusedAction(
  product: Node,
  bias: Node,
  activation: string,
  rules: readonly string[],
): EpilogueAction & { kind: 'fused' } {
  const operands = [...product.inputs, bias.id];
  const attrs =
    product.op === 'matMul'
      ? matMulAttrs(product.attrs.transposeA === true, product.attrs.transposeB === true, activation)
      : { ...product.attrs, activation };
  return { kind: 'fused', op: FUSED_OF[product.op].op, operands, attrs, rules };
}

/**
 * A fusedMatMul's attrs, one frozen object per combination shared by every node that has it (the graph then checks
 * and keys each combination once: docs/compiler.md, "Complexity").
 */
const matMulAttrsOf = [0, 1, 2, 3].map(() => new Map<string, Attrs>());
function matMulAttrs(transposeA: boolean, transposeB: boolean, activation: string): Attrs {
  const byActivation = matMulAttrsOf[(transposeA ? 1 : 0) + (transposeB ? 2 : 0)];
  let attrs = byActivation.get(activation);
  if (attrs === undefined) {
    attrs = freezeAttrs({ transposeA, transposeB, activation });
    byActivation.set(activation, attrs);
  }
  return attrs;
}

/** What the rebuild's rewriter returns for `node` and its action. */
export function buildAction(
  action: EpilogueAction,
  node: Node,
  inputs: readonly number[],
  target: Graph,
  mapped: (id: number) => number,
): number {
  switch (action.kind) {
    case 'mask':
      if (node.op === 'reluGrad')
        return emit(target, 'reluGrad', [inputs[0], mapped(action.reluId)], node.attrs, node.name);
      return emit(target, 'greater', [mapped(action.reluId), inputs[1]], node.attrs, node.name);
    case 'fused':
      return emit(target, action.op, action.operands.map(mapped), action.attrs, node.name);
    case 'activate': {
      const copy = target.node(inputs[0]);
      return emit(target, copy.op, copy.inputs, { ...copy.attrs, activation: node.op }, node.name);
    }
  }
}

/** Decides epilogue fusion on a slice (see `epilogue`). */
export function planEpilogue(slice: Slice): EpiloguePlan {
  const source = slice.graph;
  const nodes = source.nodes;
  // One sweep down from the outputs: the live nodes (as liveNodes gives them), each node's uses by live nodes, and
  // the live nodes the loops below look at (the masks, relus, adds and activations), in descending order.
  const live = new Uint8Array(source.size);
  const uses = new Int32Array(source.size);
  const seen: number[] = [];
  for (const id of slice.outputs) live[id] = 1;
  for (let id = source.size - 1; id >= 0; id--) {
    if (live[id] === 0) continue;
    const node = nodes[id];
    for (const input of node.inputs) {
      live[input] = 1;
      uses[input]++;
    }
    const op = node.op;
    if (op === 'add' || op === 'greater' || op === 'reluGrad' || isFusedActivation(op)) seen.push(id);
  }
  seen.reverse();
  // The relu reading each x, and the masks reading x.
  const reluOf = new Map<number, number>();
  const masksOf = new Map<number, number[]>();
  for (const id of seen) {
    const node = nodes[id];
    if (node.op === 'relu' && !reluOf.has(node.inputs[0])) reluOf.set(node.inputs[0], node.id);
    let masked: Node | null = null;
    if (node.op === 'reluGrad' && shapesEqual(node.shape, source.node(node.inputs[1]).shape)) {
      masked = source.node(node.inputs[1]);
    } else if (node.op === 'greater') {
      const captures: Captures = {};
      if (match(source, node.id, MASK, captures)) masked = captures.x;
    }
    if (masked !== null && shapesEqual(node.shape, masked.shape)) {
      masksOf.set(masked.id, [...(masksOf.get(masked.id) ?? []), node.id]);
    }
  }
  for (const id of slice.outputs) uses[id]++;
  // A mask moves to relu(x) only when that leaves relu as x's one reader: then x fuses into a matMul's epilogue
  // or an elementwise group, or at least dies at relu (which runs in place) instead of living through the
  // backward pass. Otherwise the move would change nothing.
  const maskRelu = new Map<number, number>();
  for (const [x, masks] of masksOf) {
    const reluId = reluOf.get(x);
    if (reluId === undefined) continue;
    const movable = masks.filter((id) => id > reluId);
    if (uses[x] - movable.length !== 1) continue;
    for (const id of movable) maskRelu.set(id, reluId);
    uses[x] = 1;
    uses[reluId] += movable.length;
  }

  // Which adds fuse with their product, decided on the source first; a product is then read by nothing, and neither
  // is a fused add whose activation fuses too (the activation builds the fused op itself): neither is copied.
  const biasOf = new Map<number, { product: Node; bias: Node }>();
  const absorbed = new Uint8Array(source.size);
  const candidates: number[] = [];
  for (const id of seen) {
    const node = nodes[id];
    if (maskRelu.has(node.id)) {
      candidates.push(node.id);
      continue;
    }
    const matched = biasAdd(source, node, uses);
    if (matched !== null) {
      biasOf.set(node.id, matched);
      absorbed[matched.product.id] = 1;
      candidates.push(node.id);
    } else if (isFusedActivation(node.op)) {
      if (biasOf.has(node.inputs[0]) && uses[node.inputs[0]] === 1) absorbed[node.inputs[0]] = 1;
      candidates.push(node.id);
    }
  }

  const actionOf = (node: Node, skipping: boolean): EpilogueAction | undefined => {
    const reluId = maskRelu.get(node.id);
    if (reluId !== undefined) return { kind: 'mask', reluId, rules: ['relu-mask'] };
    const matched = biasOf.get(node.id);
    if (matched !== undefined) {
      return fusedAction(matched.product, matched.bias, 'none', [FUSED_OF[matched.product.op].bias]);
    }
    if (!isFusedActivation(node.op)) return undefined;
    const inner = biasOf.get(node.inputs[0]);
    if (inner !== undefined && absorbed[node.inputs[0]] === 1) {
      // What the rebuild gave by building the fused add (not visited when skipping: counted here) and then this: the
      // fused op with the activation.
      const names = FUSED_OF[inner.product.op];
      const rules = skipping ? [names.bias, names.activation] : [names.activation];
      return fusedAction(inner.product, inner.bias, node.op, rules);
    }
    const x = source.node(node.inputs[0]);
    const fusedOp = x.op === 'fusedMatMul' || x.op === 'fusedConv2d';
    if (!fusedOp || x.attrs.activation !== 'none' || uses[x.id] !== 1) return undefined;
    return { kind: 'activate', x, rules: [x.op === 'fusedConv2d' ? 'conv-activation' : 'matmul-activation'] };
  };
  return { live, absorbed, candidates, actionOf };
}

/** The conv counts appear once a conv fuses, so a matMul-only report keeps three. */
export function epilogueCounts(): { [rule: string]: number } {
  return { 'relu-mask': 0, 'matmul-bias': 0, 'matmul-activation': 0 };
}

/** The rebuild as planned (`skip`: not copying the absorbed nodes); the slice itself when nothing changes. */
export function rebuildEpilogue(
  slice: Slice,
  plan: EpiloguePlan,
  skip: boolean,
): { slice: Slice; changes: { [rule: string]: number } } {
  let changes = epilogueCounts();
  // Whether the absorbed nodes are skipped (else, when a merge made the pass rebuild in full, visited as before).
  let skipping = skip;
  const rewrite: Rewriter = (node, inputs, target, mapped) => {
    const action = plan.actionOf(node, skipping);
    if (action === undefined) return undefined;
    for (const rule of action.rules) changes[rule] = (changes[rule] ?? 0) + 1;
    return buildAction(action, node, inputs, target, mapped);
  };
  let result = skip ? rebuildSkipping(slice, plan.absorbed, rewrite) : null;
  if (result === null) {
    changes = epilogueCounts();
    skipping = false;
    result = dropDead(rebuild(slice, rewrite));
  }
  const total = Object.values(changes).reduce((a, b) => a + b, 0);
  if (total === 0) return { slice, changes };
  return { slice: result, changes };
}

/**
 * Epilogue fusion: add(matMul(a, b), bias) with a row bias becomes fusedMatMul(a, b, bias), add(conv2d(x, f), bias)
 * with one bias value per output channel becomes fusedConv2d(x, f, bias) (grouped and depthwise convs included), and
 * relu, sigmoid or tanh of either becomes the same fused op with the activation, so a backend applies both to the accumulators
 * before storing them. An intermediate read elsewhere, or fetched, stays as it is. In a training graph relu's
 * gradient reads the pre-activation x through x > 0, which would keep it alive; that mask is rewritten to
 * relu(x) > 0 (exact) when relu(x) is in the graph anyway and the rewrite frees x for fusion.
 */
export const epilogue: Pass = epiloguePass();

/**
 * The epilogue pass; `skip: false` visits the nodes the fusion absorbs instead of skipping them (what it does when a
 * merge makes it rebuild in full: the reference the tests compare the shortcut with).
 */
export function epiloguePass(skip = true): Pass {
  return {
    name: 'epilogue',
    run: (slice) => rebuildEpilogue(slice, planEpilogue(slice), skip),
  };
}
