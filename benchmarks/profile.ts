/**
 * Profile mode: where one workload's lazygrad time goes, measured on a real Session (its backend, its kernels, its
 * buffers in the wasm arena): `explain` gives the compiled plan with every pass's report and time, runs with
 * `{ trace: true }` clock each step, and plain runs give Session.run's median. What Session.run costs beyond its
 * kernels (feeds, plan lookup, result arrays, variable writes) is its median minus the kernels' sum.
 */
import { formatMs } from './report';
import { collectGarbage } from './harness';
import { median, nowMs } from './stats';
import { Session } from '../src';
import type { LazygradProgram } from './workloads';

export interface ProfileOptions {
  /** Time spent executing the plan's steps. */
  budgetMs: number;
  /** How many of the slowest steps to list. */
  top: number;
}

/** Untimed runs before each measurement: V8 optimizes a function only after many calls. */
const WARMUP_MS = 500;

interface StepTiming {
  index: number;
  op: string;
  text: string;
  medianMs: number;
}

/** Traced runs of a warm session: each step's median time. */
function timeSteps(
  session: Session,
  program: LazygradProgram,
  budgetMs: number,
): { steps: StepTiming[]; runs: number } {
  const times: number[][] = [];
  let first: { index: number; op: string; text: string }[] = [];
  const begin = nowMs();
  let runs = 0;
  while (runs < 5 || (runs < 5000 && nowMs() - begin < budgetMs)) {
    session.run(program.fetches, program.feeds, {
      onTrace: (trace) => {
        if (runs === 0) {
          first = trace.steps.map((e) => ({
            index: e.step,
            op: e.op,
            text: `${e.op} '${e.node}' : ${e.dtype}[${e.shape.join(', ')}]`,
          }));
        }
        trace.steps.forEach((e, i) => (times[i] ??= []).push(e.ms));
      },
    });
    runs++;
  }
  return { steps: first.map((s, i) => ({ ...s, medianMs: median(times[i]) })), runs };
}

/** Session.run's median on a warm session, over `runs` runs. */
function timeSession(session: Session, program: LazygradProgram, runs: number): number {
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
  const session = new Session(program.graph, program.options);
  const lines = [`profile of ${name} (backend ${session.backend}, threads ${program.options.threads ?? 1})`];
  const compileStart = nowMs();
  const plan = session.explain(program.fetches, program.feeds).split('\n');
  lines.push(`compile: ${formatMs(nowMs() - compileStart)} ms (slice, passes and lowering, as Session.explain)`);
  const passesEnd = plan.findIndex((l) => l.startsWith('plan:'));
  lines.push(...plan.slice(1, passesEnd));
  const memory = plan.find((l) => l.startsWith('memory:'));
  if (memory !== undefined) lines.push(memory);
  const warmStart = nowMs();
  for (let r = 0; r < 2 || (r < 1e5 && nowMs() - warmStart < WARMUP_MS); r++)
    session.run(program.fetches, program.feeds);
  const { steps, runs } = timeSteps(session, program, options.budgetMs);
  const kernelMs = steps.reduce((s, x) => s + x.medianMs, 0);
  const sessionRuns = Math.max(5, Math.min(runs, 200));
  const sessionMs = timeSession(session, program, sessionRuns);
  const outside = Math.max(0, sessionMs - kernelMs);
  lines.push(
    `run: Session.run median ${formatMs(sessionMs)} ms over ${sessionRuns} runs; its ${steps.length} steps' ` +
      `kernels take ${formatMs(kernelMs)} ms (medians over ${runs} traced runs), so about ${formatMs(outside)} ms ` +
      `(${((100 * outside) / sessionMs).toFixed(0)}%) is Session.run’s own work (feeds, plan lookup, result ` +
      'arrays, variable writes) and the clock’s; below ~1 µs per step the clock dominates',
  );
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
  session.dispose();
  return lines;
}
