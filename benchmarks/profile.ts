/**
 * Profile mode: where one workload's lazygrad time goes. The plan is compiled through the public compiler API
 * (sliceFor → compileSlice → buildPlan, timing each pass), then its steps are executed the way Session.run
 * executes them, with a clock around each kernel call. What Session.run costs beyond its steps (feeds, plan
 * lookup, result arrays, variable copies) is its median minus the bare step loop's.
 */
import {
  allocate,
  buildPlan,
  compileSlice,
  formatNode,
  formatReport,
  missingFeedError,
  NDArray,
  OptimizeOptions,
  Plan,
  Session,
  sizeOf,
  sliceFor,
} from '../src';
import { collectGarbage } from './harness';
import { formatMs } from './report';
import { median, nowMs } from './stats';
import type { LazygradProgram } from './workloads';

export interface ProfileOptions {
  /** Time spent executing the plan's steps. */
  budgetMs: number;
  /** How many of the slowest steps to list. */
  top: number;
}

/** Untimed runs before each measurement: V8 optimizes a function only after many calls. */
const WARMUP_MS = 500;

function optimizeOptionsOf(program: LazygradProgram): OptimizeOptions {
  const optimize = program.options.optimize ?? true;
  return typeof optimize === 'boolean' ? { level: optimize ? 2 : 0 } : optimize;
}

/** Compiles the program's plan as Session does, timing the slice, the passes and the lowering. */
function compileTimed(program: LazygradProgram): { plan: Plan; lines: string[] } {
  const options = optimizeOptionsOf(program);
  const shapes = new Map<number, readonly number[]>();
  for (const [tensor, value] of program.feeds) shapes.set(tensor.id, value.shape);
  const start = nowMs();
  const { slice, report } = sliceFor(
    program.graph,
    program.fetches.map((t) => t.id),
    shapes,
    missingFeedError,
  );
  const compiled = compileSlice(slice, report, options);
  const lowering = nowMs();
  const plan = buildPlan(compiled.slice, compiled.reports, (options.level ?? 2) >= 2);
  const end = nowMs();
  const lines = [
    `compile: ${formatMs(end - start)} ms (passes ${formatMs(lowering - start)} ms, plan ${formatMs(end - lowering)} ms)`,
  ];
  for (const r of compiled.reports) lines.push(`  ${formatReport(r)}`);
  return { plan, lines };
}

/** The planned output arrays of each step (as Session allocates them), or null for a fresh array per run. */
function plannedViews(plan: Plan): (NDArray | null)[] {
  const memory = plan.memory;
  if (memory === null || memory.buffers === undefined || memory.stepBuffer === undefined) {
    return plan.steps.map(() => null);
  }
  const arena = memory.buffers.map((b) => allocate(b.dtype, b.capacity));
  return plan.steps.map((step, index) => {
    const b = memory.stepBuffer[index];
    return b < 0 ? null : new NDArray(arena[b].subarray(0, sizeOf(step.shape)), step.shape, step.dtype);
  });
}

interface StepTiming {
  index: number;
  op: string;
  shape: readonly number[];
  text: string;
  medianMs: number;
}

/** What an empty clocked region measures: subtracted from each step's time, so tiny steps are not overstated. */
function clockOverheadMs(): number {
  const samples: number[] = [];
  for (let i = 0; i < 2001; i++) {
    const start = nowMs();
    samples.push(nowMs() - start);
  }
  return median(samples);
}

/**
 * Runs the plan's steps with a clock around each kernel (each step's median), then without (the bare loop's
 * median: kernels plus slot bookkeeping).
 */
function timeSteps(
  plan: Plan,
  program: LazygradProgram,
  budgetMs: number,
): { steps: StepTiming[]; runs: number; loopMs: number } {
  const feedsById = new Map<number, NDArray>();
  for (const [tensor, value] of program.feeds) feedsById.set(tensor.id, value);
  const slots: (NDArray | null)[] = new Array<NDArray | null>(plan.graph.size).fill(null);
  for (const { slot, source } of plan.feeds) slots[slot] = feedsById.get(source) as NDArray;
  for (const id of plan.constants) slots[id] = plan.graph.node(id).value as NDArray;
  for (const { slot, variable } of plan.variables) {
    slots[slot] = (program.graph.node(variable).value as NDArray).clone();
  }
  const views = plannedViews(plan);
  const args = plan.steps.map((step) => step.inputs.map(() => null as unknown as NDArray));
  const times = plan.steps.map(() => [] as number[]);
  const runOnce = (record: boolean): void => {
    for (let index = 0; index < plan.steps.length; index++) {
      const step = plan.steps[index];
      const inputs = args[index];
      for (let k = 0; k < step.inputs.length; k++) inputs[k] = slots[step.inputs[k]] as NDArray;
      const out = views[index] ?? new NDArray(allocate(step.dtype, sizeOf(step.shape)), step.shape, step.dtype);
      const context = step.stateOf === undefined ? undefined : { counter: 0 };
      if (record) {
        const start = nowMs();
        step.kernel(inputs, out, step.node.attrs, context);
        times[index].push(nowMs() - start);
      } else {
        step.kernel(inputs, out, step.node.attrs, context);
      }
      slots[step.output] = out;
    }
  };
  const warmStart = nowMs();
  for (let r = 0; r < 2 || (r < 1e5 && nowMs() - warmStart < WARMUP_MS); r++) runOnce(false);
  collectGarbage();
  const begin = nowMs();
  let runs = 0;
  while (runs < 5 || (runs < 5000 && nowMs() - begin < budgetMs)) {
    runOnce(true);
    runs++;
  }
  const overhead = clockOverheadMs();
  const steps = plan.steps.map((step, index) => ({
    index,
    op: step.node.op,
    shape: step.shape,
    text: formatNode(step.node),
    medianMs: Math.max(0, median(times[index]) - overhead),
  }));
  collectGarbage();
  const loops: number[] = [];
  for (let r = 0; r < Math.max(5, Math.min(runs, 200)); r++) {
    const start = nowMs();
    runOnce(false);
    loops.push(nowMs() - start);
  }
  return { steps, runs, loopMs: median(loops) };
}

/** Session.run's median on a warm session, over `runs` runs. */
function timeSession(program: LazygradProgram, runs: number): number {
  const session = new Session(program.graph, program.options);
  const warmStart = nowMs();
  for (let r = 0; r < 2 || (r < 1e5 && nowMs() - warmStart < WARMUP_MS); r++)
    session.run(program.fetches, program.feeds);
  collectGarbage();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = nowMs();
    session.run(program.fetches, program.feeds);
    times.push(nowMs() - start);
  }
  return median(times);
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** The profile of one lazygrad program, as printable lines. */
export function profileProgram(name: string, program: LazygradProgram, options: ProfileOptions): string[] {
  const lines = [`profile of ${name}`];
  const { plan, lines: compileLines } = compileTimed(program);
  lines.push(...compileLines);
  const { steps, runs, loopMs } = timeSteps(plan, program, options.budgetMs);
  const kernelMs = steps.reduce((s, x) => s + x.medianMs, 0);
  const sessionRuns = Math.max(5, Math.min(runs, 200));
  const sessionMs = timeSession(program, sessionRuns);
  const outside = Math.max(0, sessionMs - loopMs);
  lines.push(
    `run: Session.run median ${formatMs(sessionMs)} ms over ${sessionRuns} runs; its ${plan.steps.length} steps ` +
      `run bare in ${formatMs(loopMs)} ms, so ${formatMs(outside)} ms (${((100 * outside) / sessionMs).toFixed(0)}%) ` +
      'is Session.run’s own work (feeds, plan lookup, variable reads, result arrays, assign copies)',
  );
  lines.push(
    `kernels clocked one by one: ${formatMs(kernelMs)} ms in all (medians over ${runs} executions, the clock’s ` +
      'own cost subtracted; below ~1 µs per step the clock dominates: trust the bare loop for such plans)',
  );
  const memory = plan.memory;
  if (memory !== null) {
    const assignBytes = plan.assigns.reduce((s, a) => s + 4 * sizeOf(plan.graph.node(a.slot).shape as number[]), 0);
    lines.push(
      `copies and allocations per run: results ${(memory.outputBytes / 1024).toFixed(1)} KiB allocated fresh; ` +
        `${plan.assigns.length} assigns copy ${(assignBytes / 1024).toFixed(1)} KiB into the variable store`,
    );
  }
  const byOp = new Map<string, { ms: number; count: number }>();
  for (const s of steps) {
    const entry = byOp.get(s.op) ?? { ms: 0, count: 0 };
    entry.ms += s.medianMs;
    entry.count++;
    byOp.set(s.op, entry);
  }
  const share = (ms: number): string => (kernelMs > 0 ? ((100 * ms) / kernelMs).toFixed(1) : '—').padStart(5);
  lines.push('kernel time by op:');
  for (const [op, entry] of [...byOp.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    lines.push(`  ${op.padEnd(28)} ${formatMs(entry.ms).padStart(9)} ms ${share(entry.ms)}%  ${entry.count} steps`);
  }
  lines.push(`slowest steps (of ${steps.length}):`);
  for (const s of [...steps].sort((a, b) => b.medianMs - a.medianMs).slice(0, options.top)) {
    const index = `#${String(s.index).padEnd(5)}`;
    lines.push(`  ${index} ${formatMs(s.medianMs).padStart(9)} ms ${share(s.medianMs)}%  ${truncate(s.text, 110)}`);
  }
  return lines;
}
