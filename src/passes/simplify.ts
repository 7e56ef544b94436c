// From the defining modules, not the folders' index: a read through an index's re-export is a getter call (CommonJS),
// once per node in the sweeps below.
import { now } from '../graph/clock';
import { DType, isFloat } from '../graph/dtype';
import { Attrs, Graph, Node, withRoom } from '../graph/graph';
import { NDArray } from '../graph/ndarray';
import { isFullyKnown, Shape, shapesEqual } from '../graph/shape';
import { TRANSPOSE } from '../ops/movement';
import { attrsOf } from '../ops/record';
import { SUM } from '../ops/reduce';
import { isLeafOp, opRecord } from '../ops/registry';
import { PartsPass, partsPass, Pass, passReport } from './pass';
import {
  capture,
  Captures,
  commuted,
  emit,
  literal,
  match,
  matchNode,
  mayMatch,
  op,
  patternDepth,
  ReservedNames,
  Rule,
  sameType,
  withReservedNames,
} from './pattern';
import { copyLeaf, copyOp, dropDead, liveNodes, patchSlice, rebuild, rebuildSkipping, Rewriter, Slice } from './slice';
import { passVisits } from './visits';

const keep =
  (name: string) =>
  (c: Captures): number =>
    c[name].id;
const isIdentityPerm = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);
const swapsLastTwo = (perm: readonly number[]): boolean =>
  perm.length >= 2 &&
  perm.slice(0, -2).every((p, i) => p === i) &&
  perm[perm.length - 2] === perm.length - 1 &&
  perm[perm.length - 1] === perm.length - 2;

/**
 * Rewrites exact for every input, NaN and ±Inf included (so no x·0 → 0). The one caveat: x + 0 → x keeps the
 * sign of a −0 input, where IEEE addition would give +0 (Grappler and XLA make the same choice).
 */
export const EXACT_RULES: readonly Rule[] = [
  { name: 'add-zero', pattern: commuted('add', [capture('x'), literal(0)]), when: (c, r) => sameType(c.x, r), rewrite: keep('x') },
  { name: 'sub-zero', pattern: op('sub', [capture('x'), literal(0)]), when: (c, r) => sameType(c.x, r), rewrite: keep('x') },
  { name: 'mul-one', pattern: commuted('mul', [capture('x'), literal(1)]), when: (c, r) => sameType(c.x, r), rewrite: keep('x') },
  { name: 'div-one', pattern: op('div', [capture('x'), literal(1)]), when: (c, r) => sameType(c.x, r), rewrite: keep('x') },
  { name: 'neg-neg', pattern: op('neg', [op('neg', [capture('x')])]), rewrite: keep('x') },
  { name: 'identity', pattern: op('identity', [capture('x')]), rewrite: keep('x') },
  // Gradients are already built when a session compiles, so stopGradient is a plain identity at run time.
  { name: 'stop-gradient', pattern: op('stopGradient', [capture('x')]), rewrite: keep('x') },
  { name: 'cast-same', pattern: op('cast', [capture('x')]), when: (c, r) => sameType(c.x, r), rewrite: keep('x') },
  {
    name: 'broadcast-same',
    pattern: op(['broadcastTo', 'broadcastLike', 'sumTo', 'reshapeLike', 'reshape', 'ensureShapeLike'], [], 'b'),
    when: (c, r, g) => sameType(g.node(r.inputs[0]), r),
    rewrite: (_c, r) => r.inputs[0],
  },
  {
    // Once shapes are concrete, the `like` input of these autodiff helpers is needed only for its shape: the
    // static forms free it (and whatever computed it) to be pruned.
    name: 'like-to-static',
    pattern: op(['broadcastLike', 'reshapeLike'], [capture('x'), capture('like')]),
    when: (c) => isFullyKnown(c.like.shape),
    rewrite: (c, r, g) =>
      emit(g, r.op === 'broadcastLike' ? 'broadcastTo' : 'reshape', [c.x.id], { shape: c.like.shape as number[] }, r.name),
    emits: ['broadcastTo', 'reshape'],
  },
  {
    name: 'sum-to-static',
    pattern: op('sumTo', [capture('x'), capture('like')]),
    when: (c) => isFullyKnown(c.like.shape) && isFullyKnown(c.x.shape),
    rewrite: (c, r, g) => {
      const x = c.x.shape as number[];
      const like = c.like.shape as number[];
      const lead = x.length - like.length;
      const axes = x.flatMap((d, i) => (i < lead || (like[i - lead] === 1 && d !== 1) ? [i] : []));
      const summed = emit(g, 'sum', [c.x.id], { axes, keepDims: true }, `${r.name}/sum`);
      return emit(g, 'reshape', [summed], { shape: like }, r.name);
    },
    emits: ['sum', 'reshape'],
  },
  {
    name: 'sum-no-axes',
    pattern: op('sum', [capture('x')], 's'),
    when: (c, r) => attrsOf(SUM, r).axes.length === 0 && sameType(c.x, r),
    rewrite: keep('x'),
  },
  {
    name: 'reshape-reshape',
    pattern: op(['reshape', 'reshapeLike'], [op(['reshape', 'reshapeLike'], [], 'inner')]),
    when: (_c, r) => r.shape.every((d) => d !== null),
    rewrite: (c, r, g) => emit(g, 'reshape', [c.inner.inputs[0]], { shape: r.shape as number[] }, r.name),
    emits: ['reshape'],
  },
  {
    name: 'transpose-transpose',
    pattern: op('transpose', [op('transpose', [capture('x')], 'inner')]),
    rewrite: (c, r, g) => {
      const innerPerm = attrsOf(TRANSPOSE, c.inner).perm;
      const perm = attrsOf(TRANSPOSE, r).perm.map((p) => innerPerm[p]);
      return isIdentityPerm(perm) ? c.x.id : emit(g, 'transpose', [c.x.id], { perm }, r.name);
    },
    emits: ['transpose'],
  },
  {
    name: 'transpose-identity',
    pattern: op('transpose', [capture('x')]),
    when: (_c, r) => isIdentityPerm(attrsOf(TRANSPOSE, r).perm),
    rewrite: keep('x'),
  },
  {
    name: 'transpose-into-matmul-a',
    pattern: op('matMul', [op('transpose', [capture('a')], 't'), capture('b')]),
    when: (c) => swapsLastTwo(attrsOf(TRANSPOSE, c.t).perm),
    rewrite: (c, r, g) =>
      emit(g, 'matMul', [c.a.id, c.b.id], { ...r.attrs, transposeA: r.attrs.transposeA !== true }, r.name),
    emits: ['matMul'],
  },
  {
    name: 'transpose-into-matmul-b',
    pattern: op('matMul', [capture('a'), op('transpose', [capture('b')], 't')]),
    when: (c) => swapsLastTwo(attrsOf(TRANSPOSE, c.t).perm),
    rewrite: (c, r, g) =>
      emit(g, 'matMul', [c.a.id, c.b.id], { ...r.attrs, transposeB: r.attrs.transposeB !== true }, r.name),
    emits: ['matMul'],
  },
  {
    name: 'mul-self-square',
    pattern: op('mul', [capture('x'), capture('x')]),
    rewrite: (c, r, g) => emit(g, 'square', [c.x.id], {}, r.name),
    emits: ['square'],
  },
  // Gradients start from onesLike(y) when no gradY is given; the first rule reached usually multiplies or divides
  // by it. 1·x is x and 1/x is reciprocal(x) exactly, and neither needs a full array of ones.
  {
    name: 'mul-ones-like',
    pattern: commuted('mul', [capture('x'), op('onesLike', [capture('like')])]),
    when: (c, r) => sameType(c.x, r),
    rewrite: keep('x'),
  },
  {
    name: 'div-ones-like',
    pattern: op('div', [op('onesLike', [capture('like')]), capture('x')]),
    when: (c, r) => isFloat(r.dtype) && sameType(c.x, r),
    rewrite: (c, r, g) => emit(g, 'reciprocal', [c.x.id], {}, r.name),
    emits: ['reciprocal'],
  },
  {
    name: 'pow-two-square',
    pattern: op('pow', [capture('x'), literal(2)]),
    when: (c, r) => sameType(c.x, r),
    rewrite: (c, r, g) => emit(g, 'square', [c.x.id], {}, r.name),
    emits: ['square'],
  },
  {
    name: 'pow-minus-one-reciprocal',
    pattern: op('pow', [capture('x'), literal(-1)]),
    when: (c, r) => isFloat(r.dtype) && sameType(c.x, r),
    rewrite: (c, r, g) => emit(g, 'reciprocal', [c.x.id], {}, r.name),
    emits: ['reciprocal'],
  },
  {
    name: 'div-sqrt-rsqrt',
    pattern: op('div', [capture('x'), op('sqrt', [capture('y')])]),
    rewrite: (c, r, g) => {
      const rsqrt = emit(g, 'rsqrt', [c.y.id], {}, `${r.name}/rsqrt`);
      return emit(g, 'mul', [c.x.id, rsqrt], {}, r.name);
    },
    emits: ['rsqrt', 'mul'],
  },
]; // prettier-ignore

/** Rewrites for numerical safety: the same value, computed without avoidable overflow or cancellation. */
export const STABILIZING_RULES: readonly Rule[] = [
  {
    name: 'log1p',
    pattern: op('log', [commuted('add', [literal(1), capture('x')])]),
    when: (c, r) => sameType(c.x, r),
    rewrite: (c, r, g) => emit(g, 'log1p', [c.x.id], {}, r.name),
    emits: ['log1p'],
  },
  {
    name: 'expm1',
    pattern: op('sub', [op('exp', [capture('x')]), literal(1)]),
    when: (c, r) => sameType(c.x, r),
    rewrite: (c, r, g) => emit(g, 'expm1', [c.x.id], {}, r.name),
    emits: ['expm1'],
  },
  {
    name: 'log-softmax',
    pattern: op('log', [op('softmax', [capture('x')], 's')]),
    rewrite: (c, r, g) => emit(g, 'logSoftmax', [c.x.id], { axis: c.s.attrs.axis }, r.name),
    emits: ['logSoftmax'],
  },
  {
    name: 'log-sigmoid',
    pattern: op('log', [op('sigmoid', [capture('x')])]),
    rewrite: (c, r, g) => emit(g, 'logSigmoid', [c.x.id], {}, r.name),
    emits: ['logSigmoid'],
  },
  {
    // The gradient autodiff builds for log(softmax(x)): y·(d/y − Σ(d/y)·y), NaN where y underflows to 0. It is
    // d − y·Σd, the stable gradient of logSoftmax.
    name: 'log-softmax-gradient',
    pattern: commuted('mul', [
      op('softmax', [capture('x')], 's'),
      op('sub', [
        op('div', [capture('d'), capture('s')], 'q'),
        op('sum', [commuted('mul', [capture('q'), capture('s')])], 'total'),
      ]),
    ]),
    when: (c) => sameAxis(c.total, c.s) && c.total.attrs.keepDims === true,
    rewrite: (c, r, g) => {
      const total = emit(g, 'sum', [c.d.id], c.total.attrs, `${r.name}/sum`);
      const scaled = emit(g, 'mul', [c.s.id, total], {}, `${r.name}/mul`);
      return emit(g, 'sub', [c.d.id, scaled], {}, r.name);
    },
    emits: ['sum', 'mul', 'sub'],
  },
  {
    // −Σ labels·logSoftmax(x) over the softmax axis: the stable cross-entropy op, reading the log-softmax (which a
    // gradient may read too); the xent lowering pass makes it the one-kernel primitive where nothing else does.
    name: 'softmax-cross-entropy',
    pattern: op('neg', [
      op('sum', [commuted('mul', [capture('labels'), op('logSoftmax', [capture('x')], 'ls')])], 'total'),
    ]),
    when: (c) => sameAxis(c.total, c.ls) && c.total.attrs.keepDims !== true && sameType(c.labels, c.x),
    rewrite: (c, r, g) =>
      emit(g, 'softmaxCrossEntropyFromLogSoftmax', [c.labels.id, c.x.id, c.ls.id], { axis: c.ls.attrs.axis }, r.name),
    emits: ['softmaxCrossEntropyFromLogSoftmax'],
  },
  {
    // A sigmoid written out as 1 / (1 + exp(−x)): one stable op.
    name: 'sigmoid-formula',
    pattern: op('div', [literal(1), commuted('add', [literal(1), op('exp', [op('neg', [capture('x')])])])]),
    when: (c, r) => sameType(c.x, r),
    rewrite: (c, r, g) => emit(g, 'sigmoid', [c.x.id], {}, r.name),
    emits: ['sigmoid'],
  },
  {
    // The gradient autodiff builds for that formula, −(−d/(1 + e)²)·e with e = exp(−x), overflows to NaN for very
    // negative x. Staged backpropagation instead: d·σ(x)(1 − σ(x)), reusing the forward σ(x).
    name: 'sigmoid-gradient',
    pattern: op('neg', [
      commuted('mul', [
        op('neg', [
          op('div', [
            capture('d'),
            op('square', [commuted('add', [literal(1), op('exp', [op('neg', [capture('x')])], 'e')])]),
          ]),
        ]),
        capture('e'),
      ]),
    ]),
    when: (c, r) => sameType(c.x, r),
    rewrite: (c, r, g) => {
      const sigma = emit(g, 'sigmoid', [c.x.id], {}, `${r.name}/sigmoid`);
      const one = g.constant(1, r.dtype).id;
      const complement = emit(g, 'sub', [one, sigma], {}, `${r.name}/sub`);
      return emit(g, 'mul', [c.d.id, emit(g, 'mul', [sigma, complement], {}, `${r.name}/mul`)], {}, r.name);
    },
    emits: ['sigmoid', 'constant', 'sub', 'mul'],
  },
];

/** A reduction over exactly the one axis another node (a softmax) works along. */
function sameAxis(reduction: Node, along: Node): boolean {
  const { axes } = attrsOf(SUM, reduction);
  return axes.length === 1 && axes[0] === along.attrs.axis;
}

/** A rule builds nodes only of the ops it declares, so that the test of every table's op names sees them all. */
function checkEmitted(rule: Rule, graph: Graph, sizeBefore: number): void {
  for (let id = sizeBefore; id < graph.size; id++) {
    const built = graph.node(id).op;
    if (!(rule.emits ?? []).includes(built)) {
      throw new Error(`rule ${rule.name} built a ${built} node, which its emits (${rule.emits ?? []}) does not list`);
    }
  }
}

/** The first live node of the slice, as it is, that a rule (pattern and condition) matches, if any. */
interface RuleMatch {
  node: Node;
  rule: Rule;
  captures: Captures;
}

/**
 * The live nodes of the slice, as it is, that a rule (pattern and condition) matches, with the first rule that does
 * (in table order); at most `limit` of them, and whether there are more.
 */
function ruleMatches(
  slice: Slice,
  rulesFor: (op: string) => readonly Rule[],
  limit: number,
): { found: RuleMatch[]; more: boolean } {
  const graph = slice.graph;
  const live = liveNodes(graph, slice.outputs);
  const found: RuleMatch[] = [];
  for (const node of graph.nodes) {
    if (live[node.id] === 0 || isLeafOp(node.op)) continue;
    for (const rule of rulesFor(node.op)) {
      passVisits.ruleTrials++;
      if (!mayMatch(graph, node, rule.pattern)) continue;
      const captures: Captures = {};
      if (!match(graph, node.id, rule.pattern, captures)) continue;
      if (rule.when === undefined || rule.when(captures, node, graph)) {
        if (found.length === limit) return { found, more: true };
        found.push({ node, rule, captures });
        break;
      }
    }
  }
  return { found, more: false };
}

/**
 * The sweep when one node only matches a rule (the usual second round: one rewrite left over) and the rule returns
 * an existing earlier node: the rebuild would keep every other node as it is unless a reader then merges or matches
 * a rule. Then the result is one compaction (`patchSlice`) in place of a rebuild; null when it does not apply.
 */
function rewriteInPlace(
  slice: Slice,
  only: RuleMatch,
  rulesFor: (op: string) => readonly Rule[],
  depth: number,
): { slice: Slice; changes: { [rule: string]: number } } | null {
  const { node, rule, captures } = only;
  const source = slice.graph;
  // A rule that builds nothing returns an existing node; others would add to the source: leave them to the rebuild.
  if (rule.emits !== undefined) return null;
  const live = liveNodes(source, slice.outputs);
  for (let id = 0; id < source.size; id++) if (live[id] === 0) return null;
  const sizeBefore = source.size;
  const next = rule.rewrite(captures, node, source);
  // A rule that builds a node anyway is a bug, reported as the rebuild reports it (the slice is the pass's own copy).
  checkEmitted(rule, source, sizeBefore);
  if (next >= node.id) return null;
  const replacement = source.node(next);
  if (replacement.dtype !== node.dtype || !shapesEqual(replacement.shape, node.shape)) return null;
  const patched = patchSlice(slice, new Map([[node.id, next]]));
  if (patched === null) return null;
  // The rebuild tries the rules again on every node: none may match now. Only a node that sees a former reader of
  // the rewritten node within `depth` levels looks different from before (and no other node matched before).
  const graph = patched.slice.graph;
  const near = new Int32Array(graph.size).fill(depth + 1);
  for (const reader of source.nodes) {
    if (reader.inputs.includes(node.id) && patched.mapped[reader.id] >= 0) near[patched.mapped[reader.id]] = 0;
  }
  for (const candidate of graph.nodes) {
    for (const input of candidate.inputs) near[candidate.id] = Math.min(near[candidate.id], near[input] + 1);
    if (near[candidate.id] > depth || isLeafOp(candidate.op)) continue;
    for (const other of rulesFor(candidate.op)) {
      passVisits.ruleTrials++;
      if (!mayMatch(graph, candidate, other.pattern)) continue;
      const found: Captures = {};
      if (!match(graph, candidate.id, other.pattern, found)) continue;
      if (other.when === undefined || other.when(found, candidate, graph)) return null;
    }
  }
  return { slice: patched.slice, changes: { [rule.name]: 1 } };
}

/** Thrown out of a sweep with virtual copies when it cannot give what the copies would (`skippedEqual`). */
const SKIPPED_EQUAL = new Error('a copy would merge with a copy the sweep did not make');

/** A sweep's rebuilt slice (before its dead nodes are dropped) and its rewrites counted by rule. */
type Swept = { result: Slice; counts: { [rule: string]: number } };

/**
 * The names of a sweep with virtual copies (simplify's rebuild when it does not copy the nodes its rules replace).
 * The copy a rewrite leaves dead would have taken a name in the rebuilt graph before the rule built anything (its
 * own, or the first `${name}_k` free): that name is reserved, so that `emit` (and `nameOf`) treat it as taken exactly
 * as the rebuild would. The graph itself does not know them: if it gives one to a node (`note`), the sweep is redone
 * with copies (`clash`). And a virtual copy stands for the copy only where the copy could not merge with another
 * node. The slice is hash-consed, so a copy of a node no rule builds can merge only with the copy of another node of
 * the slice reading the same nodes of the rebuilt graph: one of its inputs is then the image of two nodes of the slice
 * (`readsMerged`). Such a node is copied (its copy merges exactly as in the sweep with copies), unless the node it
 * would merge with is a copy the sweep did not make (`skippedEqual`: a node a rule rewrote from its virtual copy):
 * then the sweep is redone with copies.
 */
class VirtualNames implements ReservedNames {
  graph: Graph | null = null;
  clash = false;
  private readonly names = new Set<string>();
  /** Names of the rebuilt graph's nodes other than copies under their own (source) names. */
  private readonly given = new Set<string>();
  private images = new Uint8Array(1024);
  /** The nodes not copied, by their first input (-1: none): `skip`. */
  private readonly skipped = new Map<number, { op: string; inputs: readonly number[] }[]>();

  attach(target: Graph): void {
    this.graph = target;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  release(name: string): void {
    this.names.delete(name);
  }

  /** The first `${base}_k` (k from 1) free: what the graph's counter gives (names once taken stay taken). */
  free(base: string): string {
    for (let k = 1; ; k++) {
      const name = `${base}_${k}`;
      if (!this.names.has(name) && !this.given.has(name) && (this.graph as Graph).byName(name) === undefined) {
        return name;
      }
    }
  }

  /**
   * The name the copy of `node` (a node of the rebuild's source not copied yet) would get: its own if free, as
   * `copyNode` does. Its own name (unique in the source) can be taken only by a name given here or reserved.
   */
  nameOf(node: Node): string {
    return this.names.has(node.name) || this.given.has(node.name) ? this.free(node.name) : node.name;
  }

  /**
   * Looks at the nodes built from `from` on while rewriting `node`: its copy under its own name (which no name
   * reserved can be: see `reserveCopy`), else names given here, noted; a reserved one is a clash.
   */
  note(from: number, target: Graph, node: Node): void {
    for (let id = from; id < target.size; id++) {
      const name = target.node(id).name;
      if (name === node.name) continue;
      if (this.names.has(name)) this.clash = true;
      this.given.add(name);
    }
  }

  /**
   * Reserves the name of `node`'s copy (`nameOf`). A name other than the node's own may be a later node's own in the
   * source: its copy would then have had to take another name (a clash).
   */
  reserveCopy(node: Node, name: string, source: Graph): void {
    this.names.add(name);
    if (name === node.name) return;
    const owner = source.byName(name);
    if (owner !== undefined && owner.id > node.id) this.clash = true;
  }

  /** Records that a node of the slice became node `id` (2: of two nodes or more). */
  image(id: number): void {
    this.images = withRoom(this.images, id);
    if (this.images[id] < 2) this.images[id]++;
  }

  /** Whether a node reading `inputs` (ids in the rebuilt graph) reads the image of two nodes of the slice. */
  readsMerged(inputs: readonly number[]): boolean {
    for (let k = 0; k < inputs.length; k++) if (this.images[inputs[k]] === 2) return true;
    return false;
  }

  /** Records a node the sweep did not copy (a rule rewrote its virtual copy): an `op` node reading `inputs`. */
  skip(op: string, inputs: readonly number[]): void {
    const key = inputs.length === 0 ? -1 : inputs[0];
    const list = this.skipped.get(key);
    if (list === undefined) this.skipped.set(key, [{ op, inputs }]);
    else list.push({ op, inputs });
  }

  /**
   * Whether a node not copied had the op and inputs of a copy of `op` reading `inputs` (attrs and types are not
   * compared: a false alarm only redoes the sweep with copies).
   */
  skippedEqual(op: string, inputs: readonly number[]): boolean {
    const list = this.skipped.get(inputs.length === 0 ? -1 : inputs[0]);
    if (list === undefined) return false;
    for (const other of list) {
      if (other.op !== op || other.inputs.length !== inputs.length) continue;
      if (other.inputs.every((input, k) => input === inputs[k])) return true;
    }
    return false;
  }
}

/**
 * A node of the slice as its copy would be (inputs mapped, same op, attrs and type), without making the copy: the
 * rules try it first. Its id is -1 (a rule returning it rewrites nothing; one using it as an input fails, and the
 * sweep is redone with copies); its name, computed when a rule reads it or rewrites the node, is the copy's.
 */
class VirtualCopy implements Node {
  readonly id = -1;
  op = '';
  inputs: readonly number[] = [];
  attrs: Attrs = {};
  dtype: DType = 'float32';
  shape: Shape = [];
  value: NDArray | undefined = undefined;
  source: Node = this;
  private given: string | null = null;

  constructor(private readonly names: VirtualNames) {}

  become(node: Node, inputs: readonly number[]): void {
    this.op = node.op;
    this.inputs = inputs;
    this.attrs = node.attrs;
    this.dtype = node.dtype;
    this.shape = node.shape;
    this.value = node.value;
    this.source = node;
    this.given = null;
  }

  get name(): string {
    if (this.given === null) this.given = this.names.nameOf(this.source);
    return this.given;
  }
}

/**
 * A pass that applies a rule table bottom-up in one sweep; the pipeline repeats it to a fixed point. `inPlace: false`
 * always rebuilds (the reference the tests compare the in-place shortcut with).
 */
export function rewritePass(name: string, rules: readonly Rule[], maxRewritesPerNode = 8, inPlace = true): RewritePass {
  // The rules by the op their pattern's root matches (a root without an op matches any node: listed for every op).
  const byOp = new Map<string, Rule[]>();
  const rulesFor = (op: string): readonly Rule[] => {
    let list = byOp.get(op);
    if (list === undefined) {
      list = rules.filter((rule) => {
        const root = rule.pattern.op;
        return root === undefined || root === op || (typeof root !== 'string' && root.includes(op));
      });
      byOp.set(op, list);
    }
    return list;
  };
  // How many levels below a node a rule looks: its pattern, and one more for conditions that read the inputs of a
  // pattern's node (broadcast-same reads its root's first input).
  let depth = 0;
  for (const rule of rules) depth = Math.max(depth, patternDepth(rule.pattern) + 1);
  // Ops no rule builds: a copy of a node of such an op can merge only with the copy of an equal node of the slice.
  const emitted = new Set<string>();
  for (const rule of rules) for (const built of rule.emits ?? []) emitted.add(built);

  // Ops whose nodes may be tried as virtual copies: some rule's root, no rule builds them, not stateful (once per op).
  const candidates = new Map<string, boolean>();
  const candidateOp = (op: string): boolean => {
    let candidate = candidates.get(op);
    if (candidate === undefined) {
      candidate = rulesFor(op).length > 0 && !emitted.has(op) && opRecord(op).stateful !== true;
      candidates.set(op, candidate);
    }
    return candidate;
  };

  /** The rewrite of one node by the rules (`rewriteOnce`), and to a fixed point (`loop`), counted in `counts`. */
  function rewriter(): {
    counts: { [rule: string]: number };
    rewriteOnce: (current: Node, target: Graph, names: VirtualNames | null, source: Graph) => number;
    loop: (first: number, from: number, target: Graph) => number;
  } {
    const counts: { [rule: string]: number } = {};
    // The first rule (in table order) that rewrites `current` into another node: that node, or -1 if none does.
    const rewriteOnce = (current: Node, target: Graph, names: VirtualNames | null, source: Graph): number => {
      for (const rule of rulesFor(current.op)) {
        passVisits.ruleTrials++;
        if (!mayMatch(target, current, rule.pattern)) continue;
        const captures: Captures = {};
        if (!matchNode(target, current, rule.pattern, captures)) continue;
        if (rule.when !== undefined && !rule.when(captures, current, target)) continue;
        // A virtual copy's name is taken before the rule builds anything, as the copy's would have been.
        if (names !== null) names.reserveCopy((current as VirtualCopy).source, current.name, source);
        const sizeBefore = target.size;
        const next = rule.rewrite(captures, current, target);
        checkEmitted(rule, target, sizeBefore);
        if (next === current.id) {
          if (names !== null) {
            // Nodes built and then not used would have been named after the copy: the sweep with copies decides.
            if (target.size !== sizeBefore) throw new Error('a rule built nodes and rewrote nothing');
            names.release(current.name);
          }
          continue;
        }
        const replacement = target.node(next);
        // A rewrite must keep the node's type: anything else is a bug in the rule, caught here.
        if (replacement.dtype !== current.dtype || !shapesEqual(replacement.shape, current.shape)) {
          throw new Error(`rule ${rule.name} changed ${current.name}'s type`);
        }
        counts[rule.name] = (counts[rule.name] ?? 0) + 1;
        return next;
      }
      return -1;
    };
    const loop = (first: number, from: number, target: Graph): number => {
      let id = first;
      for (let round = from; round < maxRewritesPerNode; round++) {
        const next = rewriteOnce(target.node(id), target, null, target);
        if (next === -1) break;
        id = next;
      }
      return id;
    };
    return { counts, rewriteOnce, loop };
  }

  /** The rebuild, each node's copy rewritten by the rules to a fixed point (at most `maxRewritesPerNode` rewrites). */
  function sweep(slice: Slice): Swept {
    const { counts, loop } = rewriter();
    const source = slice.graph;
    const result = rebuild(slice, (node: Node, inputs: readonly number[], target: Graph) => {
      if (isLeafOp(node.op)) return undefined;
      return loop(copyOp(source, node, inputs, target), 0, target);
    });
    return { result, counts };
  }

  /**
   * `sweep`, except that a node whose copy a rewrite would leave dead is not copied: the rules try a virtual copy
   * (`VirtualCopy`) first, and only a node none of them rewrites is copied, so no compaction follows for the copies
   * (the report's sizes, names and counts are the sweep's). Null when the virtual copies cannot be shown to give what
   * the copies would (a reserved name clashes, a rule fails on a virtual copy): the caller sweeps with copies.
   */
  function sweepVirtual(slice: Slice): Swept | null {
    const { counts, rewriteOnce, loop } = rewriter();
    const source = slice.graph;
    const names = new VirtualNames();
    const copy = new VirtualCopy(names);
    // Whether a virtual copy stands for the copy: a node no rule builds, read by copies of its inputs' types (so the
    // copy would be the node as it is) and bound to nothing of the user's graph.
    const virtualizable = (node: Node, inputs: readonly number[], target: Graph): boolean => {
      if (!candidateOp(node.op) || slice.bindings.has(node.id)) return false;
      for (let k = 0; k < inputs.length; k++) {
        const before = source.node(node.inputs[k]);
        const after = target.node(inputs[k]);
        if (before.dtype !== after.dtype || !shapesEqual(before.shape, after.shape)) return false;
      }
      return true;
    };
    const rewrite: Rewriter = (node, inputs, target) => {
      names.attach(target);
      const before = target.size;
      let id: number;
      const merged = names.readsMerged(inputs);
      // Its copy may merge with a copy the sweep with copies made and this one did not: that sweep decides.
      if (merged && names.skippedEqual(node.op, inputs)) throw SKIPPED_EQUAL;
      if (isLeafOp(node.op)) id = copyLeaf(node, target);
      else if (merged || !virtualizable(node, inputs, target))
        id = loop(copyOp(source, node, inputs, target), 0, target);
      else {
        copy.become(node, inputs);
        const next = rewriteOnce(copy, target, names, source);
        // No rule rewrites it: copied as it is (the rules find nothing on the copy either; its inputs have the types
        // it was inferred from, as copyOp would check); else the copy is skipped.
        if (next === -1) {
          passVisits.copies++;
          id = target.copyNode(node, inputs, false, source);
        } else {
          names.skip(node.op, inputs);
          id = loop(next, 1, target);
        }
      }
      names.image(id);
      names.note(before, target, node);
      return id;
    };
    let result: Slice;
    try {
      result = withReservedNames(names, () => rebuild(slice, rewrite));
    } catch {
      // A rule that reads the virtual copy's id, or a rule's own error: the sweep with copies decides (or reports it).
      return null;
    }
    return names.clash ? null : { result, counts };
  }

  const runKeepingDead = (slice: Slice): KeptDead => {
    // The sweep rewrites nothing when no node matches a rule: a slice is hash-consed (built by interning), so the
    // rebuilt graph would be the same graph, matching the same rules. Then skip it (one look at each node).
    const { found, more } = ruleMatches(slice, rulesFor, 1);
    if (found.length === 0) return { slice, changes: {}, dead: false };
    if (inPlace && !more) {
      const inPlace = rewriteInPlace(slice, found[0], rulesFor, depth);
      if (inPlace !== null) return { ...inPlace, dead: false };
    }
    const { result, counts } = (inPlace && maxRewritesPerNode > 0 ? sweepVirtual(slice) : null) ?? sweep(slice);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total === 0) return { slice, changes: counts, dead: false };
    return { slice: result, changes: counts, dead: true };
  };

  return {
    name,
    run(slice) {
      const { slice: result, changes, dead } = runKeepingDead(slice);
      // Nodes the rewrites bypassed are dead now: drop them so the report shows the real size.
      return { slice: dead ? dropDead(result) : result, changes };
    },
    runKeepingDead,
  };
}

/**
 * What a rewrite pass's `run` gives before it drops the dead nodes its sweep leaves (`dead`: there may be some;
 * `dropDead` of the slice is then `run`'s).
 */
type KeptDead = { slice: Slice; changes: { [rule: string]: number }; dead: boolean };

/** A rewrite pass (`rewritePass`), which can also hand on its sweep's slice before dropping its dead nodes. */
export type RewritePass = Pass & { runKeepingDead(slice: Slice): KeptDead };

export const simplify: RewritePass = rewritePass('simplify', EXACT_RULES);

/**
 * Repeated additions to one addN: add(add(a, b), c) → addN(a, b, c), but only through an inner sum nothing else
 * reads. (Flattening a shared inner sum would copy its terms into every consumer: a residual chain h ← h + f(h)
 * became addNs over all earlier terms, quadratic in size.) Its own pass, because "read by one node" is a property
 * of the whole graph, not of a pattern.
 *
 * Linear in the graph: which adds flatten, and which flattened adds are absorbed into the add that reads them, is
 * decided first on the source slice (types there are the rebuilt nodes' types: rebuilding re-infers to the same
 * dtype and shape). Only the outermost addN of a flattened chain is then built, its terms gathered once; the old
 * sweep built every intermediate addN (k terms for the k-th add of a chain of n: O(n²) inputs) and dropped them.
 */
export const addNPass: Pass = addChainPass();

/**
 * The `addn` pass. `skipAbsorbed` (the default): the inner sums a flattened add absorbs are not copied at all (their
 * terms are read from the source), so nothing is left dead to drop after the rebuild (`rebuildSkipping`; a full
 * rebuild when a node merges). `false` copies them and drops them after, as before (the reference the tests compare
 * the shortcut with).
 */
export function addChainPass(
  skipAbsorbed = true,
  inPlace = skipAbsorbed,
): Pass & { runOnLive(slice: Slice): AddnResult } {
  /**
   * The pass on `dropDead(slice)` when `onLive` (the slice a rewrite pass's sweep leaves, `runKeepingDead`), without
   * the compaction: the uses counted are those of live nodes, and the rebuild copies live nodes only, in the same
   * order, so it builds the same graph.
   */
  const runAddn = (slice: Slice, onLive: boolean): AddnResult => {
    const source = slice.graph;
    const size = source.size;
    const live = liveNodes(source, slice.outputs);
    // One sweep over the nodes: the uses, and the live adds (the only nodes the decisions below look at first).
    const nodes = source.nodes;
    const uses = new Int32Array(size);
    const adds: number[] = [];
    for (let id = size - 1; id >= 0; id--) {
      if (onLive && live[id] === 0) continue;
      const node = nodes[id];
      const inputs = node.inputs;
      for (let k = 0; k < inputs.length; k++) uses[inputs[k]]++;
      if (node.op === 'add' && live[id] === 1) adds.push(id);
    }
    for (const id of slice.outputs) uses[id]++;
    // flattened[id]: the add becomes an addN over its terms; absorbedBy[id]: the flattened add whose terms include
    // this sum's terms (-1: none; the sum is then built, and read as one term).
    const flattened = new Uint8Array(size);
    const absorbedBy = new Int32Array(size).fill(-1);
    const absorbable = (id: number): boolean => {
      const op = source.node(id).op;
      return uses[id] === 1 && (op === 'add' || op === 'addN');
    };
    let count = 0;
    // In id order: whether an add flattens depends on whether its inner sums did.
    for (let at = adds.length - 1; at >= 0; at--) {
      const node = nodes[adds[at]];
      // Most adds read no inner sum they could absorb (all of them once the pass has run): no types compared then.
      let absorbs = false;
      for (const input of node.inputs) absorbs ||= absorbable(input);
      if (!absorbs) continue;
      let uniform = true;
      for (const input of node.inputs) {
        if (!absorbable(input)) {
          uniform &&= sameType(source.node(input), node);
          continue;
        }
        // A flattened inner sum's terms all have its type; any other inner sum's terms are its inputs.
        if (flattened[input] === 1) uniform &&= sameType(source.node(input), node);
        else for (const term of source.node(input).inputs) uniform &&= sameType(source.node(term), node);
      }
      if (!uniform) continue;
      flattened[node.id] = 1;
      count++;
      for (const input of node.inputs) if (absorbable(input)) absorbedBy[input] = node.id;
    }
    if (count === 0) return { slice: onLive ? dropDead(slice) : slice, changes: { 'add-chain-addn': 0 } };
    // The terms of a flattened add, left to right: an explicit stack over the absorbed sums (a chain of 100,000 adds
    // is deep).
    const termsOf = (node: Node, mapped: (id: number) => number): number[] => {
      const terms: number[] = [];
      const stack: number[] = [];
      for (let k = node.inputs.length - 1; k >= 0; k--) stack.push(node.inputs[k]);
      while (stack.length > 0) {
        const id = stack.pop() as number;
        passVisits.addnTerms++;
        if (absorbedBy[id] === -1) terms.push(mapped(id));
        else if (flattened[id] === 1) {
          const inner = source.node(id).inputs;
          for (let k = inner.length - 1; k >= 0; k--) stack.push(inner[k]);
        } else {
          // An absorbed sum left as it is: its terms are its inputs (those of its copy, when it is copied: a copy
          // reads its inputs mapped, and a node it merges with reads the same).
          for (const term of source.node(id).inputs) terms.push(mapped(term));
        }
      }
      return terms;
    };
    const changes = { 'add-chain-addn': count };
    // A region's graph is compacted with its enclosing graph, not on its own.
    if (inPlace && source.parent === null) {
      const compacted = flattenInPlace(slice, live, flattened, absorbedBy, termsOf);
      if (compacted !== null) return { slice: compacted, changes };
    }
    const rewrite: Rewriter = (node, _inputs, target, mapped) => {
      if (flattened[node.id] === 0) return undefined;
      // Absorbed into the add that reads it: never built (nothing else reads it), so no mapped id.
      if (absorbedBy[node.id] !== -1) return -1;
      return emit(target, 'addN', termsOf(node, mapped), {}, node.name);
    };
    if (skipAbsorbed) {
      // Every absorbed sum is read only by the add that absorbs it, which is not copied but rewritten.
      const skip = new Uint8Array(size);
      for (let id = 0; id < size; id++) if (absorbedBy[id] !== -1) skip[id] = 1;
      const skipped = rebuildSkipping(slice, skip, rewrite);
      if (skipped !== null) return { slice: skipped, changes };
    }
    return { slice: dropDead(rebuild(slice, rewrite)), changes };
  };
  return { name: 'addn', run: (slice) => runAddn(slice, false), runOnLive: (slice) => runAddn(slice, true) };
}

type AddnResult = { slice: Slice; changes: { [rule: string]: number } };

/**
 * addn's rewrites as one compaction of the slice (`Graph.compacted` with replaced nodes) instead of a rebuild: each
 * outermost flattened add becomes its addN where it is, the sums it absorbs and the dead nodes are dropped, every other
 * node is kept as it is. The rebuild gives the same slice unless one of its nodes merges with another: the source is
 * hash-consed and the other nodes are mapped one to one, so only when a new addN reads the terms of another addN (a
 * second new one, or one already there). Then null, and the caller rebuilds.
 */
function flattenInPlace(
  slice: Slice,
  live: Uint8Array,
  flattened: Uint8Array,
  absorbedBy: Int32Array,
  termsOf: (node: Node, mapped: (id: number) => number) => number[],
): Slice | null {
  const source = slice.graph;
  const keep = new Uint8Array(source.size);
  const replaced = new Map<number, { op: string; inputs: readonly number[]; attrs: Attrs }>();
  const sums = new Set<string>();
  const same = (id: number): number => id;
  for (let id = 0; id < source.size; id++) {
    if (live[id] === 0 || absorbedBy[id] !== -1) continue;
    keep[id] = 1;
    const node = source.node(id);
    let terms: readonly number[];
    if (flattened[id] === 1) {
      terms = termsOf(node, same);
      replaced.set(id, { op: 'addN', inputs: terms, attrs: {} });
    } else if (node.op === 'addN') terms = node.inputs;
    else continue;
    const key = terms.join(',');
    if (sums.has(key)) return null;
    sums.add(key);
  }
  const { graph, mapped } = source.compacted(keep, undefined, undefined, replaced);
  const bindings = new Map<number, number>();
  // In id order, as a rebuild adds them.
  for (const [id, bound] of [...slice.bindings].sort((a, b) => a[0] - b[0])) {
    if (mapped[id] >= 0) bindings.set(mapped[id], bound);
  }
  return { graph, outputs: slice.outputs.map((id) => mapped[id]), bindings };
}
export const stabilize: RewritePass = rewritePass('stabilize', STABILIZING_RULES);

/**
 * `simplify` then `addn` (docs/compiler.md, "Simplify and addn without a compaction between them"), each with its own
 * report. simplify's sweep leaves dead nodes behind (the inputs only its rewrites read: two on the 200k-node
 * gradient graph), which it drops by compacting the whole slice; addn's rebuild copies only live nodes, so it is given
 * the sweep's slice as it is and counts uses of live nodes only (`runOnLive`): the same graph, one compaction less.
 * simplify's report gives the size its compaction would have given (its live nodes).
 */
export function simplifyAndAddn(
  rewrite: RewritePass = simplify,
  addn: ReturnType<typeof addChainPass> = addChainPass(),
): PartsPass {
  return partsPass(`${rewrite.name}+${addn.name}`, (slice) => {
    const start = now();
    const swept = rewrite.runKeepingDead(slice);
    let nodesAfter = swept.slice.graph.size;
    if (swept.dead) {
      nodesAfter = 0;
      for (const flag of liveNodes(swept.slice.graph, swept.slice.outputs)) nodesAfter += flag;
    }
    const simplifyReport = passReport(rewrite.name, slice.graph.size, nodesAfter, swept.changes, start);
    const addnStart = now();
    const added = swept.dead ? addn.runOnLive(swept.slice) : addn.run(swept.slice);
    const addnReport = passReport(addn.name, nodesAfter, added.slice.graph.size, added.changes, addnStart);
    return { slice: added.slice, reports: [simplifyReport, addnReport] };
  });
}
