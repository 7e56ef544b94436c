import { formatShape, Graph, GraphError, graphOf, Node, now, Tensor } from '../graph';
import { addOp, opRecord } from '../ops';
import { convBatchNorm } from './convbn';
import { CONTROL_PASSES, hasControlFlow } from './control';
import { cse } from './cse';
import { epilogue } from './epilogue';
import { elementwiseFusion } from './fuse';
import { epilogueAndFusion } from './lower';
import { constantFolding } from './fold';
import { Pass, passReport, PassReport, runPipeline } from './pass';
import { prune } from './prune';
import { rematPass, unremat } from './remat';
import { addNPass, simplify, simplifyAndAddn, stabilize } from './simplify';
import { copyLeaf, Slice } from './slice';
import { crossEntropyFusion } from './xent';

/**
 * 0: nothing; 1: prune, fold, CSE and exact simplifications (and, with control flow, cond inlining, loop-invariant
 * code motion and loop pruning); 2 (default): also numerical stabilization, and the lowering passes (matMul epilogue
 * and elementwise fusion).
 */
export type OptimizationLevel = 0 | 1 | 2;

export interface OptimizeOptions {
  level?: OptimizationLevel;
  /** Pass names to leave out, e.g. ['cse', 'simplify']. */
  disable?: readonly string[];
  /** Ops that fusion leaves to their own kernels (a backend's faster kernels for them, e.g. wasm exp). */
  keepUnfused?: readonly string[];
  /**
   * Re-infer every node after every pass (the rebuild does this for every node whose inputs changed; this also
   * checks the outputs).
   */
  verify?: boolean;
  /**
   * What to do with the recomputation built by `gradients(…, { remat })` and `checkpoint(fn)`: 'graph' (default)
   * runs it as built; 'none' turns it off (the `unremat` pass, then CSE merges the copies into the forward nodes);
   * 'auto' runs it and also the `remat` pass (level 2), which recomputes cheap values live across the plan's peak.
   */
  remat?: 'graph' | 'none' | 'auto';
}

/**
 * The ordered pipeline for a level: one explicit list, no registration side effects. The rewriting passes run
 * together to a fixed point; fusion runs once after them, so it never hides a pattern from a rewrite.
 */
export function pipelineFor(options: OptimizeOptions = {}, controlFlow = false): { rewrite: Pass[]; lower: Pass[] } {
  const level = options.level ?? 2;
  const disabled = new Set(options.disable ?? []);
  const rewrite: Pass[] = [];
  const lower: Pass[] = [];
  if (level >= 1 && options.remat === 'none') rewrite.push(unremat);
  if (level >= 1) rewrite.push(constantFolding(), cse, simplify, addNPass);
  if (level >= 2) rewrite.push(stabilize);
  if (level >= 1) rewrite.push(prune);
  // Control-flow passes (control.ts) only where there is control flow, so other pipelines and reports stay as they were.
  if (level >= 1 && controlFlow) rewrite.push(...CONTROL_PASSES);
  // Epilogue fusion first: elementwise fusion would otherwise take the bias-add and activation into its groups. A
  // batchNorm folds into its conv before that, so the epilogue then gives the folded conv its activation.
  // The cross-entropy pair of a loss fetched without its gradient back to the one-kernel primitive, first.
  if (level >= 2) lower.push(crossEntropyFusion, convBatchNorm, epilogue, elementwiseFusion(options.keepUnfused));
  // Last, so that no later rewrite merges its copies back (they are nodes of their own, not interned).
  if (level >= 2 && options.remat === 'auto') lower.push(rematPass);
  const enabled = (p: Pass): boolean => !disabled.has(p.name);
  return { rewrite: rewrite.filter(enabled), lower: lower.filter(enabled) };
}

/**
 * The slice of `graph` that computes `fetchIds`, copied into a private graph: it stops at fed tensors (which
 * become placeholders with the fed shape) and re-infers every node, so shapes are concrete when all feeds are.
 * `onMissingFeed` decides what an unfed placeholder means (an error when running; fine when explaining).
 */
export function sliceFor(
  graph: Graph,
  fetchIds: readonly number[],
  fedShapes: ReadonlyMap<number, readonly number[]>,
  onMissingFeed?: (placeholder: Node, neededBy: Node) => Error,
): { slice: Slice; report: PassReport } {
  const start = now();
  const needed = new Uint8Array(graph.size);
  const neededBy = new Int32Array(graph.size).fill(-1);
  let highest = -1;
  for (const id of fetchIds) {
    needed[id] = 1;
    if (neededBy[id] < 0) neededBy[id] = id;
    highest = Math.max(highest, id);
  }
  for (let id = highest; id >= 0; id--) {
    if (needed[id] === 0 || fedShapes.has(id)) continue;
    for (const input of graph.node(id).inputs) {
      needed[input] = 1;
      if (neededBy[input] < 0) neededBy[input] = neededBy[id];
    }
  }
  const target = new Graph();
  const mapped = new Int32Array(graph.size).fill(-1);
  const bindings = new Map<number, number>();
  for (let id = 0; id <= highest; id++) {
    if (needed[id] === 0) continue;
    const node = graph.node(id);
    const fedShape = fedShapes.get(id);
    let result: number;
    if (fedShape !== undefined || node.op === 'placeholder') {
      if (fedShape === undefined && onMissingFeed !== undefined) throw onMissingFeed(node, graph.node(neededBy[id]));
      result = target.placeholder(node.name, fedShape ?? node.shape, node.dtype).id;
      bindings.set(result, id);
    } else if (node.op === 'variable') {
      result = copyLeaf(node, target);
      bindings.set(result, id);
    } else if (node.op === 'constant') {
      result = copyLeaf(node, target);
    } else {
      const record = opRecord(node.op);
      result = addOp(
        target,
        record,
        node.inputs.map((i) => mapped[i]),
        node.attrs,
        node.name,
      ).id;
      checkRefines(node, target.node(result));
      // A stateful node (a random op) keeps its user-graph id: the session counts its runs by it.
      if (record.stateful === true) bindings.set(result, id);
    }
    mapped[id] = result;
  }
  const slice: Slice = { graph: target, outputs: fetchIds.map((id) => mapped[id]), bindings };
  // Slicing is the prune pass over the user's graph: report it as such.
  const report = passReport('prune', graph.size, target.size, { removed: graph.size - target.size }, start);
  return { slice, report };
}

/**
 * The copy re-inferred with the fed shapes must refine the user's node: the same dtype and rank, and the same size
 * wherever the user's graph knew it. Otherwise the node's shape rule contradicts itself, and the run would compute
 * something else than the graph the user built and printed: an error, never a silent difference.
 */
function checkRefines(node: Node, copy: Node): void {
  const fits =
    copy.dtype === node.dtype &&
    copy.shape.length === node.shape.length &&
    node.shape.every((d, i) => d === null || d === copy.shape[i]);
  if (!fits) {
    throw new GraphError(
      `${node.op} '${node.name}' is ${node.dtype}${formatShape(node.shape)} in the graph but ` +
        `${copy.dtype}${formatShape(copy.shape)} when re-inferred with the fed shapes; the op's shape rule ` +
        'contradicts itself (a lazygrad bug: please report it with this graph)',
    );
  }
}

/** A compiled slice and what each pass did. */
export function compileSlice(
  slice: Slice,
  sliceReport: PassReport,
  options: OptimizeOptions = {},
): { slice: Slice; reports: PassReport[] } {
  const verify = options.verify === true;
  const { rewrite, lower } = pipelineFor(options, hasControlFlow(slice.graph));
  if (!verify) {
    // simplify and addn share simplify's dead nodes' compaction, epilogue and elementwise fusion one rebuild (each
    // still reports its own line); verifying checks the slice between them, so they run one by one then.
    joinAdjacent(rewrite, 'simplify', 'addn', () => simplifyAndAddn());
    joinAdjacent(lower, 'epilogue', 'fuse', () => epilogueAndFusion(options.keepUnfused));
  }
  const rewritten = runPipeline(slice, rewrite, 8, verify);
  const lowered = runPipeline(rewritten.slice, lower, 1, verify);
  // The rebuilds' graphs named their nodes through the tables of the graphs before them: let those go.
  lowered.slice.graph.settleNames();
  return { slice: lowered.slice, reports: [sliceReport, ...rewritten.reports, ...lowered.reports] };
}

/** Replaces the passes named `first` and `second`, where the one directly follows the other, by `joined()`. */
function joinAdjacent(passes: Pass[], first: string, second: string, joined: () => Pass): void {
  const at = passes.findIndex((pass) => pass.name === first);
  if (at >= 0 && passes[at + 1]?.name === second) passes.splice(at, 2, joined());
}

export interface OptimizeResult {
  /** The optimized private graph (the input graph is never changed). */
  graph: Graph;
  /** The fetches' counterparts in the optimized graph, in order. */
  outputs: Tensor[];
  /** One line per pass run. */
  report: PassReport[];
}

/**
 * Optimizes the part of a graph that computes `fetches` into a new graph, without touching the input graph.
 * Placeholders keep their static shapes (give `feeds` shapes to specialize unknown dims).
 *
 * @example
 * const { graph, outputs, report } = optimize(g, [loss, ...grads], { level: 2 });
 */
export function optimize(
  graph: Graph,
  fetches: readonly Tensor[],
  options: OptimizeOptions & { shapes?: ReadonlyMap<Tensor, readonly number[]> } = {},
): OptimizeResult {
  if (fetches.length > 0) graphOf([...fetches], 'optimize');
  for (const t of fetches) {
    if (t.graph !== graph) throw new GraphError(`optimize: fetch '${t.name}' belongs to a different graph`);
  }
  const shapes = new Map<number, readonly number[]>();
  for (const [t, shape] of options.shapes ?? []) shapes.set(t.id, shape);
  const { slice, report } = sliceFor(
    graph,
    fetches.map((t) => t.id),
    shapes,
  );
  const compiled = compileSlice(slice, report, options);
  const out = compiled.slice.graph;
  return { graph: out, outputs: compiled.slice.outputs.map((id) => out.tensor(id)), report: compiled.reports };
}
