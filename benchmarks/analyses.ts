/**
 * lazygrad-only figures: graph compile time (optimize + plan, against `optimize: false`) and gradient-graph build
 * time and size from 1k to 200k nodes, the compile of a gradient graph of about that many nodes, and the memory planner's planned bytes against the unplanned sum of intermediates.
 */
import { Worker } from 'worker_threads';
import { join } from 'path';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { add, gradients, Graph, matMul, NDArray, optimize, Session, sum, tanh, Tensor } from '../src';
import { median, nowMs } from './stats';
import { Rng, uniformArray } from './rng';
import type { Workload } from './workloads';

/**
 * A deep residual chain, h ← h + tanh(h·W + b), with W and b shared by every block (so the gradient sums one
 * contribution per block), grown until the graph has `nodes` nodes. Shapes are tiny: this measures the compiler,
 * not kernels.
 */
export function blockChain(nodes: number): { graph: Graph; y: Tensor; params: Tensor[]; feeds: Map<Tensor, NDArray> } {
  const rng = new Rng(nodes);
  const g = new Graph();
  const x = g.placeholder('x', [2, 8]);
  const w = g.variable('w', new NDArray(uniformArray(rng, 64, -0.3, 0.3), [8, 8]));
  const b = g.variable('b', new NDArray(uniformArray(rng, 8, -0.1, 0.1), [8]));
  let h = x;
  while (g.size < nodes) h = add(h, tanh(add(matMul(h, w), b)));
  const feeds = new Map([[x, new NDArray(uniformArray(rng, 16, -1, 1), [2, 8])]]);
  return { graph: g, y: h, params: [w, b], feeds };
}

/** What one graph size gave; fields stay undefined when the time limit stopped the work first. */
export interface SizeResult {
  nodes: number;
  buildMs?: number;
  /** `optimize()` alone: slice + passes. */
  optimizeMs?: number;
  optimizedNodes?: number;
  /** A fresh session's first run minus a steady run: slice, passes, plan, memory plan, kernel binding. */
  compileMs?: number;
  steadyRunMs?: number;
  /** The forward graph's nodes when `gradients` was called on it, and what `gradients` added. */
  forwardNodes?: number;
  gradientMs?: number;
  gradientNodes?: number;
  /** A fresh session's compile with `optimize: false` (slice, plan, memory plan, kernel binding; no passes). */
  compileUnoptimizedMs?: number;
  /** A gradient graph of about `nodes` nodes in all (loss and gradients of a shorter chain): its size, and the
   * compile of its loss and gradients with and without the passes. */
  gradGraphNodes?: number;
  gradCompileMs?: number;
  gradCompileUnoptimizedMs?: number;
  /** The same in CPU time of the process (what the compile did, whatever else runs on the machine). */
  gradCompileCpuMs?: number;
  gradCompileUnoptimizedCpuMs?: number;
  /** The first run (compile and run: the issue-20 figure) of the gradient graph, with and without the passes. */
  gradFirstRunMs?: number;
  gradFirstRunUnoptimizedMs?: number;
  /** Set when the time limit stopped this size. */
  stoppedAfterMs?: number;
  /** What was running when the limit struck, and since when (nowMs; one clock for every thread). */
  running?: 'optimize' | 'compile' | 'compileUnoptimized' | 'gradCompileUnoptimized' | 'gradCompile';
  runningSince?: number;
  /** For a stopped size: how long the interrupted measurement had run, a lower bound on its time. */
  atLeastMs?: number;
  error?: string;
}

/** Measures one size, reporting each figure as soon as it exists (a time limit may stop the rest). */
export function analyzeSize(nodes: number, repeats: number, report: (partial: Partial<SizeResult>) => void): void {
  // Gradient first, on its own graph: `gradients` appends to the graph, and interning would make a second call
  // on the same graph add nothing.
  const gradientTimes: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const fresh = blockChain(nodes);
    const forwardNodes = fresh.graph.size;
    const start = nowMs();
    const loss = sum(fresh.y);
    gradients(loss, fresh.params);
    gradientTimes.push(nowMs() - start);
    report({ forwardNodes, gradientMs: median(gradientTimes), gradientNodes: fresh.graph.size - forwardNodes });
  }

  const buildStart = nowMs();
  const { graph, y, feeds } = blockChain(nodes);
  report({ buildMs: nowMs() - buildStart });
  const optimizeTimes: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = nowMs();
    report({ running: 'optimize', runningSince: start });
    const optimized = optimize(graph, [y]);
    optimizeTimes.push(nowMs() - start);
    report({ optimizeMs: median(optimizeTimes), optimizedNodes: optimized.graph.size });
  }
  const compileTimes: number[] = [];
  const steadyTimes: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const session = new Session(graph);
    const first = nowMs();
    report({ running: 'compile', runningSince: first });
    session.run(y, feeds);
    const firstMs = nowMs() - first;
    const steady: number[] = [];
    for (let k = 0; k < 3; k++) {
      const start = nowMs();
      session.run(y, feeds);
      steady.push(nowMs() - start);
    }
    steadyTimes.push(median(steady));
    compileTimes.push(firstMs - median(steady));
    report({ compileMs: median(compileTimes), steadyRunMs: median(steadyTimes) });
  }
  const plainTimes: number[] = [];
  for (let r = 0; r < repeats; r++) {
    report({ running: 'compileUnoptimized', runningSince: nowMs() });
    plainTimes.push(compileTime(graph, [y], feeds, false).compileMs);
    report({ compileUnoptimizedMs: median(plainTimes) });
  }
  // The gradient graph of a chain a third as long (the backward pass about doubles it): about `nodes` in all.
  const chain = blockChain(Math.max(100, Math.round(nodes / GRADIENT_GRAPH_GROWTH)));
  const loss = sum(chain.y);
  const fetches = [loss, ...(gradients(loss, chain.params) as Tensor[])];
  report({ gradGraphNodes: chain.graph.size });
  const plain: CompileTime[] = [];
  const optimized: CompileTime[] = [];
  const medianOf = (times: CompileTime[], key: keyof CompileTime): number => median(times.map((t) => t[key]));
  for (let r = 0; r < repeats; r++) {
    report({ running: 'gradCompileUnoptimized', runningSince: nowMs() });
    plain.push(compileTime(chain.graph, fetches, chain.feeds, false));
    report({
      gradCompileUnoptimizedMs: medianOf(plain, 'compileMs'),
      gradCompileUnoptimizedCpuMs: medianOf(plain, 'cpuMs'),
      gradFirstRunUnoptimizedMs: medianOf(plain, 'firstMs'),
      running: 'gradCompile',
      runningSince: nowMs(),
    });
    optimized.push(compileTime(chain.graph, fetches, chain.feeds, true));
    report({
      gradCompileMs: medianOf(optimized, 'compileMs'),
      gradCompileCpuMs: medianOf(optimized, 'cpuMs'),
      gradFirstRunMs: medianOf(optimized, 'firstMs'),
    });
  }
  report({ running: undefined, runningSince: undefined });
}

/** Nodes of a chain's gradient graph (forward, loss and gradients) per node of its forward chain. */
const GRADIENT_GRAPH_GROWTH = 3.25;

/** A fresh session's first run, and its compile: the first run minus the median steady run, in wall and CPU time. */
interface CompileTime {
  firstMs: number;
  compileMs: number;
  cpuMs: number;
}

/**
 * A full garbage collection before each compile measured, so that it does not pay for the garbage the measurement
 * before it left (a compile's time would otherwise depend on the order of the measurements). `--expose-gc` cannot
 * be given to a worker thread, so the flag is set at run time and `gc` read from a new context, where V8 then
 * installs it.
 */
const collectGarbage = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
  return gc ?? ((): void => undefined);
})();

function compileTime(graph: Graph, fetches: Tensor[], feeds: Map<Tensor, NDArray>, optimized: boolean): CompileTime {
  collectGarbage();
  const session = new Session(graph, { optimize: optimized });
  const cpuMs = (since: NodeJS.CpuUsage): number => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  const cpuStart = process.cpuUsage();
  const first = nowMs();
  session.run(fetches, feeds);
  const firstMs = nowMs() - first;
  const firstCpu = cpuMs(cpuStart);
  const steady: number[] = [];
  const steadyCpu: number[] = [];
  for (let k = 0; k < 3; k++) {
    const cpu = process.cpuUsage();
    const start = nowMs();
    session.run(fetches, feeds);
    steady.push(nowMs() - start);
    steadyCpu.push(cpuMs(cpu));
  }
  return {
    firstMs,
    compileMs: Math.max(0, firstMs - median(steady)),
    cpuMs: Math.max(0, firstCpu - median(steadyCpu)),
  };
}

/** Runs `analyzeSize` in this thread. */
export function analyzeHere(nodes: number, repeats: number): SizeResult {
  const result: SizeResult = { nodes };
  try {
    analyzeSize(nodes, repeats, (partial) => Object.assign(result, partial));
  } catch (error) {
    result.error = (error as Error).message.split('\n')[0];
  }
  return result;
}

/**
 * Runs `analyzeSize` in a worker thread stopped after `limitMs` (its own heap, so a size that needs gigabytes
 * cannot take the harness down, and terminate() stops synchronous work). The limit includes the worker's start.
 */
export function analyzeInWorker(nodes: number, repeats: number, limitMs: number): Promise<SizeResult> {
  const entry = join(__dirname, 'analysis-worker.ts');
  const boot = `require('ts-node').register({ transpileOnly: true }); require(${JSON.stringify(entry)});`;
  const worker = new Worker(boot, { eval: true, workerData: { nodes, repeats } });
  const result: SizeResult = { nodes };
  const start = nowMs();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      worker.removeAllListeners();
      void worker.terminate().then(() => resolve(result));
    };
    const timer = setTimeout(() => {
      result.stoppedAfterMs = Math.round(nowMs() - start);
      if (result.runningSince !== undefined) result.atLeastMs = nowMs() - result.runningSince;
      finish();
    }, limitMs);
    worker.on('message', (message: Partial<SizeResult> | 'done') => {
      if (message === 'done') finish();
      else Object.assign(result, message);
    });
    worker.on('error', (error) => {
      result.error = error.message.split('\n')[0];
      finish();
    });
  });
}

/** What the memory planner reports for a plan (parsed from `Session.explain`'s `memory:` line). */
export interface MemoryResult {
  workload: string;
  title: string;
  plannedBytes: number;
  intermediateBytes: number;
  outputBytes: number;
  buffers: number;
  inPlace: number;
  /** planned / unplanned sum of intermediates. */
  ratio: number;
  line: string;
}

const UNITS: { readonly [unit: string]: number } = { B: 1, KiB: 1024, MiB: 1024 * 1024, GiB: 1024 * 1024 * 1024 };

function bytesOf(text: string): number {
  const match = /([\d.]+)\s*(B|KiB|MiB|GiB)/.exec(text);
  if (match === null) throw new Error(`cannot read a byte count in '${text}'`);
  return Number(match[1]) * UNITS[match[2]];
}

/** Parses `memory: X in N reused buffers (K steps in place) for Y of intermediates; Z of results allocated …`. */
export function parseMemoryLine(explained: string): Omit<MemoryResult, 'workload' | 'title'> {
  const line = explained.split('\n').find((l) => l.startsWith('memory:'));
  if (line === undefined) throw new Error("Session.explain printed no 'memory:' line");
  const match =
    /^memory: (.+?) in (\d+) reused buffers \((\d+) steps in place\) for (.+?) of intermediates; (.+?) of results/.exec(
      line,
    );
  if (match === null) throw new Error(`unexpected memory line: ${line}`);
  const plannedBytes = bytesOf(match[1]);
  const intermediateBytes = bytesOf(match[4]);
  return {
    plannedBytes,
    intermediateBytes,
    outputBytes: bytesOf(match[5]),
    buffers: Number(match[2]),
    inPlace: Number(match[3]),
    ratio: intermediateBytes === 0 ? 0 : plannedBytes / intermediateBytes,
    line,
  };
}

/** The memory plan of a workload's lazygrad program. */
export function memoryOf(workload: Workload): MemoryResult {
  const program = workload.program('lazygrad');
  const explained = new Session(program.graph, program.options).explain(program.fetches, program.feeds);
  return { workload: workload.id, title: workload.title, ...parseMemoryLine(explained) };
}
