/**
 * Passes over control flow at the level of the graph that holds it (each region's own body is optimized when the
 * session compiles its plan: folding, CSE, simplification and fusion run there). Each rewrites a whole group of
 * sibling nodes the same way (same new inputs and regions; each sibling's `output` renumbered), so the group stays
 * one construct:
 * - `inline`: a cond whose predicate is a constant (after folding) becomes its taken branch, built into the graph.
 * - `licm` (loop-invariant code motion): nodes of a scan or whileLoop body that read only captured tensors and
 *   constants are computed once, outside, and captured instead (`matMul(W, U)` of two weights, a `transpose(W)`).
 *   Never from cond branches, where only the taken branch may run (a hoisted node could throw).
 * - `loopPrune`: loop variables and scan carries no sibling asks for and nothing needed reads are removed (their
 *   input, parameter and body output), so are scan ys and cond outputs no sibling asks for, and captured tensors no
 *   region reads any more.
 */
import { allocate, Attrs, DType, Graph, NDArray, Node, Shape } from '../graph';
import {
  addOp,
  controlGroupKey,
  isControlOp,
  isLeafOp,
  opRecord,
  parseSelector,
  RegionAttr,
  RegionNodeAttr,
} from '../ops';
import { Pass } from './pass';
import { liveNodes, rebuild, Rewriter, Slice } from './slice';

/** Whether a graph holds control flow (the passes below and their reports are left out of pipelines without it). */
export function hasControlFlow(graph: Graph): boolean {
  return graph.nodes.some((node) => isControlOp(node.op));
}

/** The live nodes of each construct in a slice, by group key, in id order (the first is the leader). */
function liveGroups(slice: Slice): Map<string, Node[]> {
  const live = liveNodes(slice.graph, slice.outputs);
  const groups = new Map<string, Node[]>();
  for (const node of slice.graph.nodes) {
    if (live[node.id] === 0 || !isControlOp(node.op)) continue;
    const key = controlGroupKey(node);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [node]);
    else group.push(node);
  }
  return groups;
}

/** How a construct is rewritten: its new inputs (in the new graph) and each sibling's new attrs, or each's value. */
type GroupRewrite =
  | { readonly kind: 'node'; readonly inputs: readonly number[]; readonly attrs: ReadonlyMap<Node, Attrs> }
  | { readonly kind: 'values'; readonly values: ReadonlyMap<Node, number> };

/**
 * A pass that rewrites constructs: `plan` looks at a group (the live siblings, their inputs already mapped into the
 * new graph, where it may build nodes) and returns its rewrite, or null to keep it; it counts what it changed.
 */
function controlPass(
  name: string,
  plan: (siblings: readonly Node[], inputs: readonly number[], target: Graph, count: Counter) => GroupRewrite | null,
  counters: readonly string[],
): Pass {
  return {
    name,
    run(slice) {
      const changes: { [rule: string]: number } = {};
      for (const counter of counters) changes[counter] = 0;
      const groups = liveGroups(slice);
      if (groups.size === 0) return { slice, changes };
      const rewrites = new Map<string, GroupRewrite | null>();
      const count: Counter = (counter, n = 1) => (changes[counter] += n);
      const rewrite: Rewriter = (node, inputs, target) => {
        if (!isControlOp(node.op)) return undefined;
        const key = controlGroupKey(node);
        let planned = rewrites.get(key);
        if (planned === undefined) {
          planned = plan(groups.get(key) as Node[], inputs, target, count);
          rewrites.set(key, planned);
        }
        if (planned === null) return undefined;
        if (planned.kind === 'values') return planned.values.get(node);
        const attrs = planned.attrs.get(node) as Attrs;
        return addOp(target, opRecord(node.op), planned.inputs, attrs, node.name).id;
      };
      const result = rebuild(slice, rewrite);
      const changed = Object.values(changes).some((n) => n > 0);
      return { slice: changed ? result : slice, changes };
    },
  };
}

type Counter = (counter: string, n?: number) => void;

// ---- stored regions ----------------------------------------------------------------------------------------------

/** Marks the stored nodes `roots` depend on (themselves included): a sweep down the topological order. */
function reach(region: RegionAttr, roots: Iterable<number>): Uint8Array {
  const marked = new Uint8Array(region.nodes.length);
  for (const id of roots) marked[id] = 1;
  for (let i = region.nodes.length - 1; i >= 0; i--) {
    if (marked[i] === 1) for (const input of region.nodes[i].inputs) marked[input] = 1;
  }
  return marked;
}

/**
 * The region with only the nodes `keep` marks (and `extra` placeholders appended as parameters), parameters and
 * outputs given as old indices; `index` maps old indices to new (-1: dropped).
 */
function compact(
  region: RegionAttr,
  keep: Uint8Array,
  params: readonly number[],
  outputs: readonly number[],
  replace: ReadonlyMap<number, RegionNodeAttr> = new Map(),
  extra: readonly RegionNodeAttr[] = [],
): { attr: RegionAttr; index: Int32Array } {
  const index = new Int32Array(region.nodes.length).fill(-1);
  const nodes: RegionNodeAttr[] = [];
  region.nodes.forEach((node, i) => {
    if (keep[i] === 0) return;
    index[i] = nodes.length;
    const replaced = replace.get(i);
    nodes.push(replaced ?? { ...node, inputs: node.inputs.map((input) => index[input]) });
  });
  const added = extra.map((node) => {
    nodes.push(node);
    return nodes.length - 1;
  });
  const attr = { params: [...params.map((p) => index[p]), ...added], outputs: outputs.map((o) => index[o]), nodes };
  return { attr, index };
}

/** A stored constant's value as an array. */
function storedValue(node: RegionNodeAttr): NDArray {
  const values = node.value as readonly number[];
  const data = allocate(node.dtype, values.length);
  for (let j = 0; j < values.length; j++) data[j] = values[j];
  return new NDArray(data, node.shape as number[], node.dtype);
}

/** A node of a stored region built into `target` (a constant, or an op through its record), its inputs mapped. */
function buildStored(target: Graph, node: RegionNodeAttr, inputs: readonly number[], name: string): number {
  if (node.op === 'constant') return target.constant(storedValue(node), node.dtype, name).id;
  return addOp(target, opRecord(node.op), inputs, node.attrs, name).id;
}

function placeholderNode(name: string, dtype: DType, shape: Shape): RegionNodeAttr {
  return { op: 'placeholder', inputs: [], attrs: {}, dtype, shape: [...shape], name };
}

/** `scan/carry:0` → `scan`: the construct's name, which nodes built out of its regions are named under. */
function baseName(node: Node): string {
  const slash = node.name.lastIndexOf('/');
  return slash < 0 ? node.name : node.name.slice(0, slash);
}

// ---- inline: a cond on a constant predicate ----------------------------------------------------------------------

function planInline(siblings: readonly Node[], inputs: readonly number[], target: Graph, count: Counter) {
  const pred = target.node(inputs[0]);
  if (pred.op !== 'constant' || pred.value === undefined) return null;
  const branches = siblings[0].attrs.branches as readonly RegionAttr[];
  const branch = branches[pred.value.data[0] !== 0 ? 0 : 1];
  const wanted = new Set(siblings.map((s) => branch.outputs[s.attrs.output as number]));
  const needed = reach(branch, wanted);
  const built = new Int32Array(branch.nodes.length).fill(-1);
  branch.params.forEach((p, k) => (built[p] = inputs[1 + k]));
  const base = baseName(siblings[0]);
  branch.nodes.forEach((node, i) => {
    if (needed[i] === 0 || built[i] >= 0) return;
    built[i] = buildStored(
      target,
      node,
      node.inputs.map((input) => built[input]),
      `${base}/${node.name}`,
    );
  });
  count('inlined');
  const values = new Map<Node, number>();
  for (const s of siblings) values.set(s, built[branch.outputs[s.attrs.output as number]]);
  return { kind: 'values' as const, values };
}

/** `inline`: a cond whose predicate folded to a constant is replaced by its taken branch. */
export const condInline: Pass = controlPass(
  'inline',
  (siblings, inputs, target, count) => (siblings[0].op === 'cond' ? planInline(siblings, inputs, target, count) : null),
  ['inlined'],
);

// ---- licm: loop-invariant code motion ----------------------------------------------------------------------------

/** Ops whose kernels throw on some values (an index out of range): never run where the loop might not have run them. */
const MAY_THROW = new Set(['gather', 'scatterAdd']);

function hoistable(op: string): boolean {
  if (isLeafOp(op) || isControlOp(op) || MAY_THROW.has(op)) return false;
  const record = opRecord(op);
  return record.stateful !== true && record.kernel !== undefined;
}

/** The body attr and the number of its leading parameters that change per iteration (carries and xs, or vars). */
function loopBody(node: Node): { key: 'body'; body: RegionAttr; variant: number } | null {
  if (node.op === 'scan') {
    const variant = (node.attrs.carries as number) + (node.attrs.xs as number);
    return { key: 'body', body: node.attrs.body as RegionAttr, variant };
  }
  if (node.op === 'while') {
    const body = node.attrs.body as RegionAttr;
    return { key: 'body', body, variant: body.outputs.length };
  }
  return null;
}

/** Body node indices a sibling stacks (`stack:i`). */
function stacked(siblings: readonly Node[]): number[] {
  const out: number[] = [];
  for (const s of siblings) {
    const match = /^stack:(\d+)$/.exec(String(s.attrs.output));
    if (match !== null) out.push(Number(match[1]));
  }
  return out;
}

function renumberStack(output: string, index: Int32Array): string {
  const match = /^stack:(\d+)$/.exec(output);
  return match === null ? output : `stack:${index[Number(match[1])]}`;
}

function planHoist(siblings: readonly Node[], inputs: readonly number[], target: Graph, count: Counter) {
  const leader = siblings[0];
  const loop = loopBody(leader);
  if (loop === null) return null;
  const { body, variant } = loop;
  const stacks = stacked(siblings);
  const roots = [...body.outputs, ...stacks];
  const live = reach(body, roots);
  // invariant: a value the same at every iteration; captured: it depends on a captured tensor (else folding's job).
  const n = body.nodes.length;
  const invariant = new Uint8Array(n);
  const captured = new Uint8Array(n);
  body.params.forEach((p, k) => {
    if (k >= variant) invariant[p] = captured[p] = 1;
  });
  const hoist = new Uint8Array(n);
  let hoisted = 0;
  body.nodes.forEach((node, i) => {
    if (node.op === 'constant') invariant[i] = 1;
    if (node.op === 'constant' || node.op === 'placeholder') return;
    if (!node.inputs.every((input) => invariant[input] === 1) || !hoistable(node.op)) return;
    invariant[i] = 1;
    captured[i] = node.inputs.some((input) => captured[input] === 1) ? 1 : 0;
    if (captured[i] === 1 && live[i] === 1) {
      hoist[i] = 1;
      hoisted++;
    }
  });
  if (hoisted === 0) return null;
  // Build the hoisted nodes outside; those the remaining body (or an output, or a stack) reads become parameters.
  const outer = new Int32Array(n).fill(-1);
  body.params.forEach((p, k) => (outer[p] = inputs[k]));
  const base = baseName(leader);
  const usedInside = new Uint8Array(n);
  for (const id of roots) usedInside[id] = 1;
  body.nodes.forEach((node, i) => {
    if (live[i] === 1 && hoist[i] === 0) for (const input of node.inputs) usedInside[input] = 1;
  });
  const replace = new Map<number, RegionNodeAttr>();
  const newInputs = [...inputs];
  const newParams: number[] = [];
  body.nodes.forEach((node, i) => {
    if (hoist[i] === 0) return;
    const ins = node.inputs.map((input) => {
      if (outer[input] < 0)
        outer[input] = buildStored(target, body.nodes[input], [], `${base}/${body.nodes[input].name}`);
      return outer[input];
    });
    outer[i] = buildStored(target, node, ins, `${base}/${node.name}`);
    if (usedInside[i] === 1) {
      const built = target.node(outer[i]);
      replace.set(i, placeholderNode(node.name, built.dtype, built.shape));
      newInputs.push(outer[i]);
      newParams.push(i);
    }
  });
  count('hoisted', hoisted);
  // The new body: what the roots still need, every old parameter, and the hoisted values as parameters after them.
  const keep = new Uint8Array(n);
  const needed = (i: number): void => {
    keep[i] = 1;
  };
  body.params.forEach(needed);
  newParams.forEach(needed);
  for (let i = n - 1; i >= 0; i--) {
    const isRoot = roots.includes(i);
    if (isRoot) keep[i] = 1;
    if (keep[i] === 1 && hoist[i] === 0) for (const input of body.nodes[i].inputs) keep[input] = 1;
  }
  const { attr, index } = compact(body, keep, [...body.params, ...newParams], body.outputs, replace);
  // A whileLoop's condition takes the same inputs: it gets the new parameters too (unused there).
  const extraAttrs: { [key: string]: RegionAttr } = { body: attr };
  if (leader.op === 'while') {
    const condition = leader.attrs.cond as RegionAttr;
    const all = new Uint8Array(condition.nodes.length).fill(1);
    // Names in a region are unique: the condition may already hold a node of the hoisted node's name.
    const taken = new Set(condition.nodes.map((node) => node.name));
    const extra = newParams.map((i) => {
      const built = target.node(outer[i]);
      let name = body.nodes[i].name;
      for (let k = 1; taken.has(name); k++) name = `${body.nodes[i].name}_${k}`;
      taken.add(name);
      return placeholderNode(name, built.dtype, built.shape);
    });
    extraAttrs.cond = compact(condition, all, condition.params, condition.outputs, new Map(), extra).attr;
  }
  const attrs = new Map<Node, Attrs>();
  for (const s of siblings) {
    attrs.set(s, { ...s.attrs, ...extraAttrs, output: renumberStack(String(s.attrs.output), index) });
  }
  return { kind: 'node' as const, inputs: newInputs, attrs };
}

/** `licm`: loop-invariant nodes of scan and whileLoop bodies are computed once, outside, and captured. */
export const loopInvariantMotion: Pass = controlPass('licm', planHoist, ['hoisted']);

// ---- loopPrune: unused loop variables, carries, ys, cond outputs and captures ------------------------------------

function planPrune(siblings: readonly Node[], inputs: readonly number[], _target: Graph, count: Counter) {
  const leader = siblings[0];
  if (leader.op === 'scan') return pruneScan(siblings, inputs, count);
  if (leader.op === 'while') return pruneWhile(siblings, inputs, count);
  return pruneCond(siblings, inputs, count);
}

/** Drops the inputs at `dropped` positions (sorted or not), keeping order. */
function without(inputs: readonly number[], dropped: ReadonlySet<number>): number[] {
  return inputs.filter((_, k) => !dropped.has(k));
}

function newIndexOf(count: number, dropped: ReadonlySet<number>): Int32Array {
  const index = new Int32Array(count).fill(-1);
  let next = 0;
  for (let j = 0; j < count; j++) if (!dropped.has(j)) index[j] = next++;
  return index;
}

function pruneScan(siblings: readonly Node[], inputs: readonly number[], count: Counter) {
  const leader = siblings[0];
  const body = leader.attrs.body as RegionAttr;
  const carries = leader.attrs.carries as number;
  const xs = leader.attrs.xs as number;
  const selectors = siblings.map((s) => parseSelector(String(s.attrs.output), 'scan', ['carry', 'ys', 'stack']));
  const needCarry = new Uint8Array(carries);
  const askedYs = new Set<number>();
  const roots: number[] = [];
  for (const { kind, index } of selectors) {
    if (kind === 'carry') needCarry[index] = 1;
    else if (kind === 'ys') askedYs.add(index);
    else roots.push(index);
  }
  for (const j of askedYs) roots.push(body.outputs[carries + j]);
  // A carry is needed when asked for or when a needed value reads it: grow the set to a fixed point.
  let used: Uint8Array;
  for (;;) {
    used = reach(body, [...roots, ...body.outputs.slice(0, carries).filter((_, j) => needCarry[j] === 1)]);
    let grew = false;
    for (let j = 0; j < carries; j++) {
      if (needCarry[j] === 0 && used[body.params[j]] === 1) {
        needCarry[j] = 1;
        grew = true;
      }
    }
    if (!grew) break;
  }
  const dropped = new Set<number>();
  for (let j = 0; j < carries; j++) if (needCarry[j] === 0) dropped.add(j);
  for (let k = carries + xs; k < inputs.length; k++) if (used[body.params[k]] === 0) dropped.add(k);
  const ys = body.outputs.length - carries;
  const droppedCarries = carries - needCarry.reduce((a, b) => a + b, 0);
  const droppedYs = ys - askedYs.size;
  if (dropped.size === 0 && droppedYs === 0) return null;
  count('pruned', droppedCarries + droppedYs);
  count('captures', dropped.size - droppedCarries);
  const keptYs = [...askedYs].sort((a, b) => a - b);
  const params = body.params.filter((_, k) => !dropped.has(k));
  const outputs = [
    ...body.outputs.slice(0, carries).filter((_, j) => needCarry[j] === 1),
    ...keptYs.map((j) => body.outputs[carries + j]),
  ];
  const keep = reach(body, [...outputs, ...roots]);
  for (const p of params) keep[p] = 1;
  const { attr, index } = compact(body, keep, params, outputs);
  const carryIndex = newIndexOf(carries, dropped);
  const attrs = new Map<Node, Attrs>();
  siblings.forEach((s, k) => {
    const { kind, index: i } = selectors[k];
    const output =
      kind === 'carry' ? `carry:${carryIndex[i]}` : kind === 'ys' ? `ys:${keptYs.indexOf(i)}` : `stack:${index[i]}`;
    attrs.set(s, { ...s.attrs, body: attr, carries: carries - droppedCarries, output });
  });
  return { kind: 'node' as const, inputs: without(inputs, dropped), attrs };
}

function pruneWhile(siblings: readonly Node[], inputs: readonly number[], count: Counter) {
  const leader = siblings[0];
  const body = leader.attrs.body as RegionAttr;
  const condition = leader.attrs.cond as RegionAttr;
  const vars = body.outputs.length;
  const selectors = siblings.map((s) => parseSelector(String(s.attrs.output), 'whileLoop', ['var', 'count', 'stack']));
  const needVar = new Uint8Array(vars);
  const stacks: number[] = [];
  for (const { kind, index } of selectors) {
    if (kind === 'var') needVar[index] = 1;
    else if (kind === 'stack') stacks.push(index);
  }
  // Whether the loop goes on reads the condition's inputs: every variable it reads is needed.
  const condUsed = reach(condition, condition.outputs);
  let used: Uint8Array;
  for (;;) {
    used = reach(body, [...stacks, ...body.outputs.filter((_, j) => needVar[j] === 1)]);
    let grew = false;
    for (let j = 0; j < vars; j++) {
      if (needVar[j] === 0 && (used[body.params[j]] === 1 || condUsed[condition.params[j]] === 1)) {
        needVar[j] = 1;
        grew = true;
      }
    }
    if (!grew) break;
  }
  const dropped = new Set<number>();
  for (let j = 0; j < vars; j++) if (needVar[j] === 0) dropped.add(j);
  const droppedVars = dropped.size;
  for (let k = vars; k < inputs.length; k++) {
    if (used[body.params[k]] === 0 && condUsed[condition.params[k]] === 0) dropped.add(k);
  }
  if (dropped.size === 0) return null;
  count('pruned', droppedVars);
  count('captures', dropped.size - droppedVars);
  const bodyParams = body.params.filter((_, k) => !dropped.has(k));
  const bodyOutputs = body.outputs.filter((_, j) => needVar[j] === 1);
  const keep = reach(body, [...bodyOutputs, ...stacks]);
  for (const p of bodyParams) keep[p] = 1;
  const newBody = compact(body, keep, bodyParams, bodyOutputs);
  const condParams = condition.params.filter((_, k) => !dropped.has(k));
  const condKeep = reach(condition, condition.outputs);
  for (const p of condParams) condKeep[p] = 1;
  const newCond = compact(condition, condKeep, condParams, condition.outputs).attr;
  const varIndex = newIndexOf(vars, dropped);
  const attrs = new Map<Node, Attrs>();
  siblings.forEach((s, k) => {
    const { kind, index: i } = selectors[k];
    const output = kind === 'var' ? `var:${varIndex[i]}` : kind === 'count' ? 'count' : `stack:${newBody.index[i]}`;
    attrs.set(s, { ...s.attrs, cond: newCond, body: newBody.attr, output });
  });
  return { kind: 'node' as const, inputs: without(inputs, dropped), attrs };
}

function pruneCond(siblings: readonly Node[], inputs: readonly number[], count: Counter) {
  const branches = siblings[0].attrs.branches as readonly RegionAttr[];
  const asked = [...new Set(siblings.map((s) => s.attrs.output as number))].sort((a, b) => a - b);
  const used = branches.map((b) =>
    reach(
      b,
      asked.map((k) => b.outputs[k]),
    ),
  );
  const dropped = new Set<number>();
  // Input 0 is the predicate; the others are bound to the branches' parameters.
  for (let k = 1; k < inputs.length; k++) {
    if (branches.every((b, i) => used[i][b.params[k - 1]] === 0)) dropped.add(k);
  }
  const droppedOutputs = branches[0].outputs.length - asked.length;
  if (dropped.size === 0 && droppedOutputs === 0) return null;
  count('pruned', droppedOutputs);
  count('captures', dropped.size);
  const newBranches = branches.map((b, i) => {
    const params = b.params.filter((_, k) => !dropped.has(k + 1));
    const keep = used[i];
    for (const p of params) keep[p] = 1;
    return compact(
      b,
      keep,
      params,
      asked.map((k) => b.outputs[k]),
    ).attr;
  });
  const attrs = new Map<Node, Attrs>();
  for (const s of siblings) {
    attrs.set(s, { ...s.attrs, branches: newBranches, output: asked.indexOf(s.attrs.output as number) });
  }
  return { kind: 'node' as const, inputs: without(inputs, dropped), attrs };
}

/** `loopPrune`: unused loop variables, carries, ys, cond outputs and captured tensors are removed from constructs. */
export const loopPrune: Pass = controlPass('loopPrune', planPrune, ['pruned', 'captures']);

/** The control-flow passes, in pipeline order. */
export const CONTROL_PASSES: readonly Pass[] = [condInline, loopInvariantMotion, loopPrune];
