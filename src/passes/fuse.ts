// From the defining modules, not the barrels: a barrel's re-export is a getter call on every read in the loops below.
import { isFloat } from '../graph/dtype';
import type { Node } from '../graph/graph';
import { isFullyKnown, shapesEqual } from '../graph/shape';
import type { FusedStepAttr } from '../ops/attrs';
import { FusedArg, FusedAttrs, sharedFusedAttrs } from '../ops/fused';
import { addOp } from '../ops/record';
import { FUSED, opRecord } from '../ops/registry';
import { Pass } from './pass';
import { dropDead, rebuild, rebuildSkipping, Rewriter } from './slice';

/**
 * Float groups only: a fused loop keeps intermediates as JS doubles, which for floats only changes rounding (as
 * any fusing compiler does), but for int32 or bool would skip the truncation each unfused step performs.
 */
/**
 * A group's loop body holds one expression per member; past a few dozen ops the body stops fitting V8's inlining
 * and register budgets, and a long chain (a 100,000-node graph) must not become one giant function.
 */
const MAX_GROUP = 48;

/** Whether an op may join a group (a template, not stateful, not excluded), looked up once per op name and call. */
function fusibleOp(op: string, exclude: ReadonlySet<string>, known: Map<string, boolean>): boolean {
  let yes = known.get(op);
  if (yes === undefined) {
    const record = opRecord(op);
    yes = !exclude.has(op) && record.template !== undefined && record.stateful !== true;
    known.set(op, yes);
  }
  return yes;
}

function fusible(node: Node, exclude: ReadonlySet<string>, known: Map<string, boolean>): boolean {
  if (node.inputs.length === 0 || !isFullyKnown(node.shape) || !isFloat(node.dtype)) return false;
  return fusibleOp(node.op, exclude, known);
}

/**
 * A scalar constant folds into the generated loop as a literal. Only rank 0: a [1] or [1, 1] constant could still
 * raise the rank of the broadcast output shape, which the fused node infers from its remaining inputs.
 */
function literalOf(node: Node): number | undefined {
  return node.op === 'constant' && node.value !== undefined && node.shape.length === 0 ? node.value.data[0] : undefined;
}

/** The nodes to group: a graph's, or (by a slice's ids) those a rebuild of it would give, where `present`. */
export interface FusionView {
  readonly nodes: readonly Node[];
  readonly present?: Uint8Array;
  /** Each node's uses by the present nodes (one per input slot), when the caller counted them already. */
  readonly uses?: Int32Array;
}

/** Each node's uses by the view's present nodes (one per input slot). */
function usesIn(view: FusionView): Int32Array {
  const { nodes, present } = view;
  const uses = new Int32Array(nodes.length);
  for (let id = 0; id < nodes.length; id++) {
    if (present !== undefined && present[id] === 0) continue;
    for (const input of nodes[id].inputs) uses[input]++;
  }
  return uses;
}

/**
 * Groups elementwise nodes: walking down from each unassigned fusible node (in descending id order, so every
 * consumer is seen before its producers), a producer joins the group when it is fusible, has the group's shape
 * and dtype, is not an output, and all its consumers are already in the group. Returns group index per node (-1
 * for none), the members of each group of two or more, each node's number of uses (one per input slot of a present
 * node that reads it) and the outputs' flags.
 *
 * "All its consumers are in the group" is counted, not looked up: each member adds one to every input it reads (a
 * count stamped with the group), and a producer is consumed in the group when that count is its number of uses.
 * One sweep over the nodes, no list of each node's consumers.
 */
function findGroups(
  view: FusionView,
  outputs: readonly number[],
  exclude: ReadonlySet<string>,
): { groupOf: Int32Array; groups: number[][]; uses: Int32Array; isOutput: Uint8Array } {
  const { nodes, present } = view;
  const size = nodes.length;
  const groupOf = new Int32Array(size).fill(-1);
  const uses = view.uses ?? usesIn(view);
  // Whether each node may join a group (0: not known yet, 1: yes, 2: no), decided when first asked.
  const known = new Map<string, boolean>();
  const fits = new Uint8Array(size);
  const ok = (id: number): boolean => {
    if (fits[id] === 0) fits[id] = fusible(nodes[id], exclude, known) ? 1 : 2;
    return fits[id] === 1;
  };
  // Per node: the group whose members' reads `inGroup` counts (-1: none yet).
  const stamp = new Int32Array(size).fill(-1);
  const inGroup = new Int32Array(size);
  // One stack for every root (emptied at each), not a copy of each root's inputs.
  const stack: number[] = [];
  // A new member reads its inputs: each counts one more read in the group, and is a candidate to join it.
  const read = (node: Node, group: number): void => {
    for (const input of node.inputs) {
      if (stamp[input] !== group) {
        stamp[input] = group;
        inGroup[input] = 0;
      }
      inGroup[input]++;
      stack.push(input);
    }
  };
  const isOutput = new Uint8Array(size);
  for (const id of outputs) isOutput[id] = 1;
  // The groups of two or more (a lone node is a group of its own in groupOf, with no list: most are alone).
  const groups: number[][] = [];
  let count = 0;
  const members: number[] = [];
  for (let root = size - 1; root >= 0; root--) {
    if (present !== undefined && present[root] === 0) continue;
    if (groupOf[root] !== -1 || !ok(root)) continue;
    const rootNode = nodes[root];
    const group = count++;
    members.length = 0;
    members.push(root);
    groupOf[root] = group;
    stack.length = 0;
    read(rootNode, group);
    while (stack.length > 0 && members.length < MAX_GROUP) {
      const id = stack.pop() as number;
      if (groupOf[id] !== -1 || isOutput[id] === 1 || !ok(id)) continue;
      const node = nodes[id];
      if (node.dtype !== rootNode.dtype || !shapesEqual(node.shape, rootNode.shape)) continue;
      if (stamp[id] !== group || inGroup[id] !== uses[id]) continue;
      groupOf[id] = group;
      members.push(id);
      read(node, group);
    }
    if (members.length >= 2) groups.push(sortSmall(members.slice()));
  }
  return { groupOf, groups, uses, isOutput };
}

/** Sorts a group's members (at most MAX_GROUP ids) ascending in place: an insertion sort, no comparator calls. */
function sortSmall(members: number[]): number[] {
  for (let i = 1; i < members.length; i++) {
    const id = members[i];
    let j = i - 1;
    while (j >= 0 && members[j] > id) {
      members[j + 1] = members[j];
      j--;
    }
    members[j + 1] = id;
  }
  return members;
}

/** Fusion decided on a view: the groups, the nodes not to copy, the rewriter that builds each group at its root. */
export interface FusionPlan {
  readonly groups: readonly (readonly number[])[];
  readonly absorbed: Uint8Array;
  rewriter(onFused: (members: number) => void): Rewriter;
}

/**
 * A group's attrs (its steps, dtype and expression) and external inputs: inputs numbered by first use, scalar
 * constants as literals.
 */
function groupAttrs(
  nodes: readonly Node[],
  members: readonly number[],
  group: number,
  groupOf: Int32Array,
  root: Node,
): { attrs: FusedAttrs; externals: number[] } {
  const stepIndex = new Map<number, number>();
  const externals: number[] = [];
  const steps: FusedStepAttr[] = [];
  const display: string[] = [];
  for (const id of members) {
    const member = nodes[id];
    const args: FusedArg[] = [];
    const shown: string[] = [];
    for (const input of member.inputs) {
      if (groupOf[input] === group && stepIndex.has(input)) {
        const step = stepIndex.get(input) as number;
        args.push({ step });
        shown.push(display[step]);
        continue;
      }
      const value = literalOf(nodes[input]);
      if (value !== undefined) {
        args.push({ value });
        shown.push(String(value));
        continue;
      }
      let k = externals.indexOf(input);
      if (k < 0) k = externals.push(input) - 1;
      args.push({ input: k });
      shown.push(`$${k}`);
    }
    stepIndex.set(id, steps.length);
    steps.push({ op: member.op, args });
    // Nested text reads best; past a length, refer to an earlier step by its index instead.
    const text = `${member.op}(${shown.join(', ')})`;
    display.push(text.length <= 160 ? text : `${member.op}(…)`);
  }
  return { attrs: { expr: display[display.length - 1], dtype: root.dtype, steps }, externals };
}

/** Null when no group has two or more nodes. */
export function planFusion(
  view: FusionView,
  outputs: readonly number[],
  exclude: ReadonlySet<string>,
  share = true,
): FusionPlan | null {
  const { nodes } = view;
  const { groupOf, groups: fusedGroups, uses, isOutput } = findGroups(view, outputs, exclude);
  if (fusedGroups.length === 0) return null;
  // Per node: the index of the fused group it is the root of (its last member), or -1.
  const rootOf = new Int32Array(nodes.length).fill(-1);
  for (let g = 0; g < fusedGroups.length; g++) rootOf[fusedGroups[g][fusedGroups[g].length - 1]] = g;
  // A group's members other than its root are read only within the group: dead once it is fused, so not copied.
  const absorbed = new Uint8Array(nodes.length);
  // Nor is a scalar constant only groups read (as a literal), not an output: copying it would mean a compaction.
  // Counted like findGroups' uses: the reads of each literal by members of fused groups, against all its uses.
  const literalReads = new Int32Array(nodes.length);
  const literals: number[] = [];
  for (const members of fusedGroups) {
    for (let k = 0; k < members.length; k++) {
      if (k < members.length - 1) absorbed[members[k]] = 1;
      for (const input of nodes[members[k]].inputs) {
        if (literalOf(nodes[input]) === undefined) continue;
        if (literalReads[input]++ === 0) literals.push(input);
      }
    }
  }
  for (const id of literals) if (isOutput[id] === 0 && literalReads[id] === uses[id]) absorbed[id] = 1;
  // Each member's step index in its group's steps (members are sorted, so a member's in-group inputs come first).
  const stepOf = new Int32Array(nodes.length).fill(-1);
  // The attrs of each structure (steps and dtype; the expression is theirs): one frozen object shared by all the
  // groups of that structure, so its validation, canonical JSON, inference and kernel are computed once
  // (docs/compiler.md, "Complexity"). Keyed by the text the rewriter writes: the dtype, each step's op and arguments.
  const shared = new Map<string, FusedAttrs>();
  const rewriter =
    (onFused: (members: number) => void): Rewriter =>
    (node, _inputs, target, mapped) => {
      const g = rootOf[node.id];
      if (g === -1) return undefined;
      const members = fusedGroups[g];
      onFused(members.length);
      const group = groupOf[node.id];
      const root = nodes[node.id];
      if (!share) {
        const built = groupAttrs(nodes, members, group, groupOf, root);
        return addOp(target, FUSED, built.externals.map(mapped), built.attrs, root.name).id;
      }
      // The group's external inputs in order of first use, and the key of its structure.
      const externals: number[] = [];
      let key = root.dtype;
      for (let m = 0; m < members.length; m++) {
        const member = nodes[members[m]];
        stepOf[members[m]] = m;
        key += `|${member.op.length}:${member.op}`;
        for (const input of member.inputs) {
          if (groupOf[input] === group && stepOf[input] >= 0) {
            key += `,s${stepOf[input]}`;
            continue;
          }
          const value = literalOf(nodes[input]);
          if (value !== undefined) {
            key += Object.is(value, -0) ? ',v-0' : `,v${value}`;
            continue;
          }
          let k = externals.indexOf(input);
          if (k < 0) k = externals.push(input) - 1;
          key += `,i${k}`;
        }
      }
      let attrs = shared.get(key);
      if (attrs === undefined) {
        attrs = sharedFusedAttrs(groupAttrs(nodes, members, group, groupOf, root).attrs);
        shared.set(key, attrs);
      }
      return addOp(target, FUSED, externals.map(mapped), attrs, root.name).id;
    };
  return { groups: fusedGroups, absorbed, rewriter };
}

/**
 * Elementwise fusion: each maximal group of two or more elementwise ops becomes one `fused` node whose kernel is
 * generated once from the ops' templates; the chain then makes one pass over memory with no intermediates.
 */
export function elementwiseFusion(exclude: readonly string[] = [], skip = true, share = true): Pass {
  const excluded = new Set(exclude);
  return {
    name: 'fuse',
    run(slice) {
      const plan = planFusion({ nodes: slice.graph.nodes }, slice.outputs, excluded, share);
      if (plan === null) return { slice, changes: { fused: 0, groups: 0 } };
      let fused = 0;
      const rewrite = plan.rewriter((members) => {
        fused += members;
      });
      // (`skip: false`: copy them, what a merge makes it do; the reference the tests compare the shortcut with.)
      let pruned = skip ? rebuildSkipping(slice, plan.absorbed, rewrite) : null;
      if (pruned === null) {
        fused = 0;
        pruned = dropDead(rebuild(slice, rewrite));
      }
      return { slice: pruned, changes: { fused, groups: plan.groups.length } };
    },
  };
}

/** Fusion of every fusible op (what level 2 runs unless a backend keeps some ops to its own kernels). */
export const fuse: Pass = elementwiseFusion();
