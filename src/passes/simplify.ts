import { Graph, isFloat, isFullyKnown, Node, shapesEqual } from '../graph';
import { attrsOf, isLeafOp, SUM, TRANSPOSE } from '../ops';
import { Pass } from './pass';
import { capture, Captures, commuted, emit, literal, match, op, patternDepth, Rule, sameType } from './pattern';
import { copyOp, dropDead, liveNodes, patchSlice, rebuild, rebuildSkipping, Rewriter, Slice } from './slice';
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
      const found: Captures = {};
      if (!match(graph, candidate.id, other.pattern, found)) continue;
      if (other.when === undefined || other.when(found, candidate, graph)) return null;
    }
  }
  return { slice: patched.slice, changes: { [rule.name]: 1 } };
}

/**
 * A pass that applies a rule table bottom-up in one sweep; the pipeline repeats it to a fixed point. `inPlace: false`
 * always rebuilds (the reference the tests compare the in-place shortcut with).
 */
export function rewritePass(name: string, rules: readonly Rule[], maxRewritesPerNode = 8, inPlace = true): Pass {
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
  return {
    name,
    run(slice) {
      const counts: { [rule: string]: number } = {};
      const source = slice.graph;
      // The sweep rewrites nothing when no node matches a rule: a slice is hash-consed (built by interning), so the
      // rebuilt graph would be the same graph, matching the same rules. Then skip it (one look at each node).
      const { found, more } = ruleMatches(slice, rulesFor, 1);
      if (found.length === 0) return { slice, changes: counts };
      if (inPlace && !more) {
        const inPlace = rewriteInPlace(slice, found[0], rulesFor, depth);
        if (inPlace !== null) return inPlace;
      }
      const result = rebuild(slice, (node: Node, inputs: readonly number[], target: Graph) => {
        if (isLeafOp(node.op)) return undefined;
        let id = copyOp(source, node, inputs, target);
        for (let round = 0; round < maxRewritesPerNode; round++) {
          const current = target.node(id);
          let rewritten = false;
          // Only the rules whose pattern can match the node's op, in table order.
          for (const rule of rulesFor(current.op)) {
            passVisits.ruleTrials++;
            const captures: Captures = {};
            if (!match(target, id, rule.pattern, captures)) continue;
            if (rule.when !== undefined && !rule.when(captures, current, target)) continue;
            const sizeBefore = target.size;
            const next = rule.rewrite(captures, current, target);
            checkEmitted(rule, target, sizeBefore);
            if (next === id) continue;
            const replacement = target.node(next);
            // A rewrite must keep the node's type: anything else is a bug in the rule, caught here.
            if (replacement.dtype !== current.dtype || !shapesEqual(replacement.shape, current.shape)) {
              throw new Error(`rule ${rule.name} changed ${current.name}'s type`);
            }
            counts[rule.name] = (counts[rule.name] ?? 0) + 1;
            id = next;
            rewritten = true;
            break;
          }
          if (!rewritten) break;
        }
        return id;
      });
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      if (total === 0) return { slice, changes: counts };
      // Nodes the rewrites bypassed are dead now: drop them so the report shows the real size.
      const pruned = dropDead(result);
      return { slice: pruned, changes: counts };
    },
  };
}

export const simplify: Pass = rewritePass('simplify', EXACT_RULES);

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
export function addChainPass(skipAbsorbed = true): Pass {
  return {
    name: 'addn',
    run(slice) {
      const source = slice.graph;
      const size = source.size;
      const uses = new Int32Array(size);
      for (const node of source.nodes) for (const input of node.inputs) uses[input]++;
      for (const id of slice.outputs) uses[id]++;
      // flattened[id]: the add becomes an addN over its terms; absorbedBy[id]: the flattened add whose terms include
      // this sum's terms (-1: none; the sum is then built, and read as one term).
      const flattened = new Uint8Array(size);
      const absorbedBy = new Int32Array(size).fill(-1);
      const absorbable = (id: number): boolean => {
        const op = source.node(id).op;
        return uses[id] === 1 && (op === 'add' || op === 'addN');
      };
      const live = liveNodes(source, slice.outputs);
      let count = 0;
      for (const node of source.nodes) {
        if (node.op !== 'add' || live[node.id] === 0) continue;
        let absorbs = false;
        let uniform = true;
        for (const input of node.inputs) {
          if (!absorbable(input)) {
            uniform &&= sameType(source.node(input), node);
            continue;
          }
          absorbs = true;
          // A flattened inner sum's terms all have its type; any other inner sum's terms are its inputs.
          if (flattened[input] === 1) uniform &&= sameType(source.node(input), node);
          else for (const term of source.node(input).inputs) uniform &&= sameType(source.node(term), node);
        }
        if (!absorbs || !uniform) continue;
        flattened[node.id] = 1;
        count++;
        for (const input of node.inputs) if (absorbable(input)) absorbedBy[input] = node.id;
      }
      if (count === 0) return { slice, changes: { 'add-chain-addn': 0 } };
      const rewrite: Rewriter = (node, _inputs, target, mapped) => {
        if (flattened[node.id] === 0) return undefined;
        // Absorbed into the add that reads it: never built (nothing else reads it), so no mapped id.
        if (absorbedBy[node.id] !== -1) return -1;
        // The terms, left to right: an explicit stack over the absorbed sums (a chain of 100,000 adds is deep).
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
        return emit(target, 'addN', terms, {}, node.name);
      };
      if (skipAbsorbed) {
        // Every absorbed sum is read only by the add that absorbs it, which is not copied but rewritten.
        const skip = new Uint8Array(size);
        for (let id = 0; id < size; id++) if (absorbedBy[id] !== -1) skip[id] = 1;
        const skipped = rebuildSkipping(slice, skip, rewrite);
        if (skipped !== null) return { slice: skipped, changes: { 'add-chain-addn': count } };
      }
      return { slice: dropDead(rebuild(slice, rewrite)), changes: { 'add-chain-addn': count } };
    },
  };
}
export const stabilize: Pass = rewritePass('stabilize', STABILIZING_RULES);
