// From the defining modules, not the folders' index (a read through a re-export is a getter call, per node here).
import { Attrs, Graph, Node } from '../graph/graph';
import { isFullyKnown, shapesEqual } from '../graph/shape';
import { addOp } from '../ops/record';
import { opRecord } from '../ops/registry';

/**
 * A small pattern language over nodes: an op (or several), input sub-patterns, a capture name, or a constant
 * whose every element equals a number (a constant, or a broadcast or reshape of one: `isConstantEqual`). Patterns are a few levels deep, so matching them recursively is fine
 * (the recursion is over the pattern, never over the graph).
 */
export interface Pattern {
  readonly op?: string | readonly string[];
  readonly inputs?: readonly Pattern[];
  /** Binds the matched node to a name; a name used twice must bind the same node. */
  readonly capture?: string;
  /**
   * Matches a node whose elements all equal this value (NaN never matches): a constant, or a broadcast or reshape of
   * one (`isConstantEqual`).
   */
  readonly constant?: number;
  /** For two-input ops whose inputs commute: also try the inputs swapped. */
  readonly commute?: boolean;
}

export type Captures = { [name: string]: Node };

/** One rewrite: read the rule table top to bottom. */
export interface Rule {
  readonly name: string;
  readonly pattern: Pattern;
  /** Extra condition on the match (shapes, dtypes, attrs). */
  readonly when?: (captures: Captures, root: Node, graph: Graph) => boolean;
  /** Builds the replacement in `graph` and returns its id. */
  readonly rewrite: (captures: Captures, root: Node, graph: Graph) => number;
  /**
   * The ops the rewrite builds nodes of ('constant' for a new constant); none when it returns an existing node. A
   * test checks that every op a rule table names exists, and the rewrite driver that a rule builds only these.
   */
  readonly emits?: readonly string[];
}

/** Every op name a rule mentions: the ops its pattern matches and the ops its rewrite builds. */
export function ruleOps(rule: Rule): string[] {
  const names = new Set<string>(rule.emits ?? []);
  // Patterns are a few levels deep; an explicit stack all the same.
  const stack: Pattern[] = [rule.pattern];
  for (let pattern = stack.pop(); pattern !== undefined; pattern = stack.pop()) {
    if (typeof pattern.op === 'string') names.add(pattern.op);
    else if (pattern.op !== undefined) for (const name of pattern.op) names.add(name);
    if (pattern.inputs !== undefined) stack.push(...pattern.inputs);
  }
  return [...names];
}

/** How many levels below its root a pattern looks (0: the root only). Patterns are a few levels deep. */
export function patternDepth(pattern: Pattern): number {
  // A constant pattern reads the input of a broadcast it looks through (`isConstantEqual`).
  let deepest = pattern.constant !== undefined ? 1 : 0;
  for (const input of pattern.inputs ?? []) deepest = Math.max(deepest, 1 + patternDepth(input));
  return deepest;
}

/** Shorthand constructors so a rule table reads like the math it rewrites. */
export const capture = (name: string): Pattern => ({ capture: name });
export const literal = (value: number): Pattern => ({ constant: value });
export const op = (name: string | readonly string[], inputs: readonly Pattern[] = [], capture?: string): Pattern => ({
  op: name,
  inputs,
  capture,
});

/**
 * Whether every element of `node` is `value`: a constant whose elements all are, or a broadcast or reshape of such a
 * constant (one level). The gradient of a summed loss seeds ones broadcast to the loss's shape (`broadcastTo` of a
 * constant once its shape is static): `mul(g, broadcastTo(1))` is then `g` in the sweep that makes the broadcast,
 * instead of after a fold in a second round of the pipeline. Rules check the shapes themselves (`sameType`), as for
 * a constant of a larger shape.
 */
function isConstantEqual(graph: Graph, node: Node, value: number): boolean {
  let constant = node;
  if (SPLAT_KEEPING.has(node.op) && node.inputs.length > 0) constant = graph.node(node.inputs[0]);
  if (constant.op !== 'constant' || constant.value === undefined || constant.value.size === 0) return false;
  for (const v of constant.value.data) if (v !== value) return false;
  return true;
}

/** Ops whose result's elements are all elements of their first input (so all `v` when the input's are). */
const SPLAT_KEEPING: ReadonlySet<string> = new Set(['broadcastTo', 'broadcastLike', 'reshape', 'reshapeLike']);

/**
 * Whether the node matches the pattern, binding its captures into `captures`. On false, `captures` may hold
 * bindings of a partial match: callers drop it (every caller starts each rule with a fresh one). Allocates only for
 * a commuted pattern's trials (each order starts from the bindings it was given).
 */
export function match(graph: Graph, id: number, pattern: Pattern, captures: Captures): boolean {
  return matchNode(graph, graph.node(id), pattern, captures);
}

/**
 * `match` with the root given as a node object, which need not be in `graph` (simplify tries the rules on a node's
 * copy before making it): its inputs are nodes of `graph`.
 */
export function matchNode(graph: Graph, node: Node, pattern: Pattern, captures: Captures): boolean {
  if (!fits(graph, node, pattern)) return false;
  if (pattern.capture !== undefined) {
    const bound = captures[pattern.capture];
    if (bound !== undefined && bound.id !== node.id) return false;
  }
  const inputs = pattern.inputs;
  if (inputs !== undefined && inputs.length > 0) {
    if (pattern.commute === true && inputs.length === 2) {
      let matched = false;
      for (let first = 0; first < 2 && !matched; first++) {
        // An order whose inputs' own ops or constants do not fit fails whatever the captures: no trial copy for it.
        const a = graph.node(node.inputs[first]);
        const b = graph.node(node.inputs[1 - first]);
        if (!fits(graph, a, inputs[0]) || !fits(graph, b, inputs[1])) continue;
        const trial: Captures = { ...captures };
        if (matchNode(graph, a, inputs[0], trial) && matchNode(graph, b, inputs[1], trial)) {
          Object.assign(captures, trial);
          matched = true;
        }
      }
      if (!matched) return false;
    } else {
      // A failed input leaves the match failed as a whole: no trial copy needed.
      for (let k = 0; k < inputs.length; k++) if (!match(graph, node.inputs[k], inputs[k], captures)) return false;
    }
  }
  if (pattern.capture !== undefined) captures[pattern.capture] = node;
  return true;
}

/**
 * Whether `node` fits the pattern's root and its inputs fit the roots of the pattern's inputs (in either order for a
 * commuted pattern): what `matchNode` checks before it binds anything. False means no match, found without a captures
 * object (most rules tried on a node fail here).
 */
export function mayMatch(graph: Graph, node: Node, pattern: Pattern): boolean {
  if (!fits(graph, node, pattern)) return false;
  const inputs = pattern.inputs;
  if (inputs === undefined || inputs.length === 0) return true;
  if (pattern.commute === true && inputs.length === 2) {
    const a = graph.node(node.inputs[0]);
    const b = graph.node(node.inputs[1]);
    return (
      (fits(graph, a, inputs[0]) && fits(graph, b, inputs[1])) ||
      (fits(graph, b, inputs[0]) && fits(graph, a, inputs[1]))
    );
  }
  for (let k = 0; k < inputs.length; k++) if (!fits(graph, graph.node(node.inputs[k]), inputs[k])) return false;
  return true;
}

/** Whether the node itself fits the pattern's root (constant, op, input count): what `match` checks first. */
function fits(graph: Graph, node: Node, pattern: Pattern): boolean {
  if (pattern.constant !== undefined && !isConstantEqual(graph, node, pattern.constant)) return false;
  const ops = pattern.op;
  if (ops !== undefined && (typeof ops === 'string' ? ops !== node.op : !ops.includes(node.op))) return false;
  const inputs = pattern.inputs;
  return inputs === undefined || inputs.length === 0 || inputs.length === node.inputs.length;
}

/** Adds a node of `op` with the given input ids, keeping the replaced node's name for readable plans. */
export function emit(graph: Graph, op: string, inputs: readonly number[], attrs: Attrs, name: string): number {
  const held = reserved;
  const given = held !== null && held.graph === graph && held.has(name) ? held.free(name) : name;
  return addOp(graph, opRecord(op), inputs, attrs, given).id;
}

/**
 * Names `emit` treats as taken in `graph` although no node there has them: the names of copies a rewrite pass did
 * not make (simplify's rules replace them), which a rebuild would have made first. `free(name)` is the name the graph
 * would give a node asking for a taken name (the first `${name}_k` free).
 */
export interface ReservedNames {
  /** The graph they are reserved in (null until known). */
  readonly graph: Graph | null;
  has(name: string): boolean;
  free(name: string): string;
}
let reserved: ReservedNames | null = null;

/** Runs `body` with `emit` treating the reserved names as taken (see `ReservedNames`). */
export function withReservedNames<T>(names: ReservedNames, body: () => T): T {
  const outer = reserved;
  reserved = names;
  try {
    return body();
  } finally {
    reserved = outer;
  }
}

/**
 * The replacement can be `node` itself only if it has the root's dtype and shape. Unknown dims never count as
 * equal: two `?` dims may differ at run time.
 */
export function sameType(node: Node, root: Node): boolean {
  return node.dtype === root.dtype && isFullyKnown(node.shape) && shapesEqual(node.shape, root.shape);
}

/** A two-input op whose inputs may appear in either order. */
export const commuted = (name: string, inputs: readonly [Pattern, Pattern], capture?: string): Pattern => ({
  op: name,
  inputs,
  capture,
  commute: true,
});
