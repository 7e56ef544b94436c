/**
 * A session's compile step: slice the user's graph to what the fetches need (a placeholder needed but not fed is a
 * FeedError here), run the pass pipeline, lower the result to a plan.
 */
import { DEFAULT_MAX_BYTES, FeedError, formatShape, Graph, GraphError, NDArray, Node, ShapeError } from '../graph';
import { checkRecords, OpRecord } from '../ops';
import { compileSlice, OptimizeOptions, sliceFor } from '../passes';
import { buildControlStep } from './control';
import { buildPlan, checkPlanSize, Plan, RegionCompiler } from './plan';

/** A missing feed, for callers that run the result: names the placeholder and a fetch that needs it. */
export function missingFeedError(placeholder: Node, neededBy: Node): FeedError {
  return new FeedError(
    `Session.run: placeholder '${placeholder.name}' (${placeholder.dtype}${formatShape(placeholder.shape)}) must ` +
      `be fed: fetch '${neededBy.name}' (${neededBy.op}) depends on it. Pass it in the feeds, e.g. ` +
      `sess.run(fetches, { '${placeholder.name}': value })`,
  );
}

let recordsChecked = false;

/** The compiler relies on every op record being complete; check the table once per process. */
export function checkOpTable(): void {
  if (recordsChecked) return;
  const problems = checkRecords();
  if (problems.length > 0) throw new GraphError(`incomplete op records: ${problems.join('; ')}`);
  recordsChecked = true;
}

/**
 * Slices `graph` to what the fetches need, stopping at fed tensors, then optimizes and lowers it. `forDisplay`
 * (explain) lets unfed placeholders keep their static shapes instead of throwing, and skips the size check: a
 * plan to run has every array it allocates checked against `maxBytes` here, before its first run.
 */
export function compilePlan(
  graph: Graph,
  fetchIds: readonly number[],
  feeds: ReadonlyMap<number, NDArray>,
  options: OptimizeOptions,
  kernels: ReadonlyMap<string, NonNullable<OpRecord['kernel']>>,
  forDisplay: boolean,
  maxBytes = DEFAULT_MAX_BYTES,
  earlyUpdates = true,
): Plan {
  const shapes = new Map<number, readonly number[]>();
  for (const [id, value] of feeds) shapes.set(id, value.shape);
  let sliced: ReturnType<typeof sliceFor>;
  try {
    sliced = sliceFor(graph, fetchIds, shapes, forDisplay ? undefined : missingFeedError);
  } catch (error) {
    // Every node built with the static shapes, so a shape rule that now refuses its inputs refuses the fed sizes.
    if (error instanceof ShapeError) throw new ShapeError(`Session.run: with the fed shapes, ${error.message}`);
    throw error;
  }
  const { slice, report } = sliced;
  const compiled = compileSlice(slice, report, options);
  const regions = { compile: regionCompiler(options, kernels, forDisplay, maxBytes), build: buildControlStep };
  const level = options.level ?? 2;
  const plan = buildPlan(compiled.slice, compiled.reports, level >= 2, kernels, regions, earlyUpdates);
  if (!forDisplay) checkPlanSize(plan, maxBytes);
  return plan;
}

/**
 * Compiles the regions of control-flow steps (a body, a branch) like a plan: its parameters are fed placeholders
 * with the concrete shapes of the construct's inputs, its outputs are what the construct reads per iteration.
 */
function regionCompiler(
  options: OptimizeOptions,
  kernels: ReadonlyMap<string, NonNullable<OpRecord['kernel']>>,
  forDisplay: boolean,
  maxBytes: number,
): RegionCompiler {
  const compile: RegionCompiler = (graph, outputs, params) => {
    const shapes = new Map<number, readonly number[]>();
    for (const id of params) shapes.set(id, graph.node(id).shape as number[]);
    const { slice, report } = sliceFor(graph, outputs, shapes);
    const compiled = compileSlice(slice, report, options);
    const regions = { compile, build: buildControlStep };
    const plan = buildPlan(compiled.slice, compiled.reports, (options.level ?? 2) >= 2, kernels, regions);
    if (!forDisplay) checkPlanSize(plan, maxBytes);
    return { plan, feedParams: plan.feeds.map((f) => params.indexOf(f.source)) };
  };
  return compile;
}
