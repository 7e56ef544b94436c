/** Printing a run: console lines per workload, the markdown tables for docs/benchmarks.md, and the targets. */
import type { MemoryResult, SizeResult } from './analyses';
import type { ContenderResult, WorkloadResult } from './harness';
import type { Machine } from './machine';
import { CONTENDER_LABELS, CONTENDERS, ContenderId } from './workloads';

export interface RunResult {
  date: string;
  mode: 'quick' | 'full';
  machine: Machine;
  /** How the contenders were isolated, and the typed-array probe at the start and end of the run. */
  method: {
    isolation: string;
    probeStartMs: number;
    probeEndMs: number;
    /** 1-minute load averages at the start and end: other processes on the machine skew every figure. */
    loadStart: number;
    loadEnd: number;
  };
  workloads: WorkloadResult[];
  compile: SizeResult[];
  memory: MemoryResult[];
  targets: Target[];
  wallSeconds: number;
}

export interface Target {
  issue: number;
  what: string;
  /** The measured figure, in the unit of `required` (from medians). */
  measured?: number;
  /** The same figure from each contender's fastest sample. */
  measuredMin?: number;
  required: number;
  /** 'min': measured must be at least `required`; 'max': below it. */
  kind: 'min' | 'max';
  met?: boolean;
}

/** Three significant digits, without exponent notation for everyday sizes. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return ms.toFixed(0);
  if (ms >= 0.001) return ms.toPrecision(3);
  return ms.toExponential(2);
}

function formatRatio(ratio: number): string {
  return `×${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}`;
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** The console lines for one workload. */
export function workloadLines(result: WorkloadResult): string[] {
  const lines: string[] = [];
  const errors = result.contenders.filter((c) => c.maxError !== undefined && c.contender !== 'lazygrad');
  const worst = Math.max(0, ...errors.map((c) => c.maxError as number));
  const check = result.agree
    ? `all agree (max error ${worst.toExponential(1)}, tolerance ${result.tolerance.toExponential(0)})`
    : 'MISMATCH: ' +
      result.contenders
        .filter((c) => c.agrees === false)
        .map((c) => `${c.contender} error ${(c.maxError as number).toExponential(2)}`)
        .join(', ');
  lines.push(`${result.id}: ${result.title}`);
  lines.push(`  check: ${check}`);
  for (const c of result.contenders) {
    const label = pad(c.label, 22);
    if (c.error !== undefined) {
      lines.push(`  ${label} failed: ${c.error}`);
      continue;
    }
    if (c.medianMs === undefined) continue;
    const time = `${pad(formatMs(c.medianMs), 9, true)} ms (${formatMs(c.minMs as number)}–${formatMs(c.maxMs as number)})`;
    const extras: string[] = [];
    if (c.gflops !== undefined)
      extras.push(`${c.gflops.toFixed(2)} GFLOPS, ${(c.peakPercent as number).toFixed(1)}% of peak`);
    if (c.usPerOp !== undefined) extras.push(`${c.usPerOp.toPrecision(3)} µs/op`);
    if (c.contender !== 'lazygrad' && c.ratio !== undefined) {
      extras.push(`${formatRatio(c.ratio)} lazygrad's time (min ${formatRatio(c.minRatio as number)})`);
    }
    if (c.note !== undefined) extras.push(c.note);
    lines.push(`  ${label}${pad(time, 34)} n=${pad(String(c.samples?.length ?? 0), 3)} ${extras.join('; ')}`);
  }
  return lines;
}

function find(results: readonly WorkloadResult[], id: string, contender: ContenderId): ContenderResult | undefined {
  return results.find((w) => w.id === id)?.contenders.find((c) => c.contender === contender && c.error === undefined);
}

/** Issues 4, 7, 8 and 16's targets, as ratios measured in this run. */
export function evaluateTargets(workloads: readonly WorkloadResult[], memory: readonly MemoryResult[]): Target[] {
  const speedup = (id: string, peer: ContenderId, what: string, required: number, issue: number): Target => {
    const c = find(workloads, id, peer);
    return { issue, what, measured: c?.ratio, measuredMin: c?.minRatio, required, kind: 'min' };
  };
  /** A peer's time over another lazygrad contender's (ratios are all relative to plain lazygrad's time). */
  const relative = (
    id: string,
    peer: ContenderId,
    ours: ContenderId,
    what: string,
    required: number,
    issue: number,
  ): Target => {
    const p = find(workloads, id, peer);
    const o = find(workloads, id, ours);
    const ratio = (a?: number, b?: number): number | undefined =>
      a !== undefined && b !== undefined ? a / b : undefined;
    return {
      issue,
      what,
      measured: ratio(p?.ratio, o?.ratio),
      measuredMin: ratio(p?.minRatio, o?.minRatio),
      required,
      kind: 'min',
    };
  };
  const planned = memory.find((m) => m.workload === 'mlp-train')?.ratio;
  const targets: Target[] = [
    speedup('mlp-train', 'tfjs-cpu', 'MLP training step vs tfjs cpu', 3, 7),
    speedup('chain', 'tfjs-cpu', 'fused elementwise chain vs tfjs cpu', 5, 7),
    speedup('chain', 'tfjs-wasm', 'fused elementwise chain vs tfjs wasm', 1, 7),
    speedup('scalar-chain', 'tfjs-cpu', '1,000 scalar ops vs tfjs cpu', 10, 7),
    speedup('chain', 'tfjs-cpu', 'fused elementwise chain vs tfjs cpu', 3, 4),
    {
      issue: 4,
      what: 'MLP training step: planned / unplanned intermediate bytes',
      measured: planned,
      measuredMin: planned,
      required: 0.5,
      kind: 'max',
    },
    speedup('mlp-train', 'tfjs-wasm', 'MLP training step vs tfjs wasm', 2, 8),
    // lazygrad's GFLOPS over tfjs wasm's is tfjs wasm's time over lazygrad's: the ratio it already has.
    speedup('matmul-512', 'tfjs-wasm', 'matMul 512 GFLOPS over tfjs wasm’s (1 thread each)', 1.5, 8),
    // Issue 8 targets the 2-core machine: lazygrad with its helper thread (tfjs wasm has no threads in Node).
    relative(
      'matmul-512',
      'tfjs-wasm',
      'lazygrad-2t',
      'matMul 512 GFLOPS over tfjs wasm’s (lazygrad 2 threads)',
      1.5,
      8,
    ),
    relative('mlp-train', 'tfjs-wasm', 'lazygrad-2t', 'MLP training step vs tfjs wasm (lazygrad 2 threads)', 2, 8),
    speedup('chain', 'tfjs-wasm', 'elementwise chain vs tfjs wasm', 1.5, 8),
    speedup('lenet-train', 'tfjs-wasm', 'LeNet-like CNN training step vs tfjs wasm', 3, 16),
    relative('lenet-train', 'tfjs-wasm', 'lazygrad-2t', 'LeNet-like CNN training step vs tfjs wasm (2 threads)', 3, 16),
    speedup('lstm-train', 'tfjs-wasm', 'LSTM training step (scan) vs tfjs wasm (unrolled)', 2, 17),
  ];
  for (const t of targets) {
    if (t.measured !== undefined) t.met = t.kind === 'min' ? t.measured >= t.required : t.measured < t.required;
  }
  return targets;
}

export function targetLines(targets: readonly Target[]): string[] {
  return targets.map((t) => {
    const sign = t.kind === 'min' ? '≥' : '<';
    const measured = t.measured === undefined ? 'not measured' : t.measured.toFixed(2);
    const fastest = t.measuredMin === undefined ? '' : ` (min ${t.measuredMin.toFixed(2)})`;
    const verdict = t.met === undefined ? '' : t.met ? 'met' : 'NOT MET';
    return `  issue ${t.issue}: ${pad(t.what, 58)} ${pad(measured + fastest, 22)} target ${sign} ${t.required}: ${verdict}`;
  });
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function sizeLabel(nodes: number): string {
  return nodes >= 1000 ? `${nodes / 1000}k` : String(nodes);
}

/**
 * Growth of a compile figure: this row's over the previous row's (linear when it equals the ratio of the sizes). For
 * a row the time limit stopped while measuring that figure, a lower bound: how long it had run when stopped.
 */
function growth(rows: readonly SizeResult[], index: number, key: 'optimize' | 'compile'): string {
  if (index === 0) return '';
  const pick = (r: SizeResult): number | undefined => (key === 'optimize' ? r.optimizeMs : r.compileMs);
  const before = pick(rows[index - 1]);
  if (before === undefined) return '';
  const row = rows[index];
  const now = pick(row);
  if (now !== undefined) return (now / before).toFixed(1);
  if (row.running === key && row.atLeastMs !== undefined) return `> ${(row.atLeastMs / before).toFixed(1)}`;
  return '';
}

/** µs per node of a compile figure. */
function perNode(ms: number | undefined, nodes: number | undefined): string {
  return ms === undefined || nodes === undefined ? '— µs/node' : `${((1000 * ms) / nodes).toFixed(1)} µs/node`;
}

/** The gradient graph's compile with the passes and without (per node), and their ratio. */
function gradCell(r: SizeResult): string {
  const optimized = r.gradCompileMs;
  const plain = r.gradCompileUnoptimizedMs;
  const shown = (v: number | undefined, key: SizeResult['running']): string => {
    if (v !== undefined) return `${formatMs(v)} ms (${perNode(v, r.gradGraphNodes)})`;
    if (r.running === key && r.atLeastMs !== undefined) return `> ${formatMs(r.atLeastMs)} ms`;
    return '—';
  };
  const ratio =
    optimized !== undefined && plain !== undefined && plain > 0 ? `, ${(optimized / plain).toFixed(2)}×` : '';
  const cpu =
    r.gradCompileCpuMs !== undefined && r.gradCompileUnoptimizedCpuMs !== undefined && r.gradCompileUnoptimizedCpuMs > 0
      ? `; CPU ${formatMs(r.gradCompileCpuMs)} vs ${formatMs(r.gradCompileUnoptimizedCpuMs)} ms, ${(r.gradCompileCpuMs / r.gradCompileUnoptimizedCpuMs).toFixed(2)}×`
      : '';
  const first =
    r.gradFirstRunMs !== undefined && r.gradFirstRunUnoptimizedMs !== undefined
      ? `; first run ${formatMs(r.gradFirstRunMs)} vs ${formatMs(r.gradFirstRunUnoptimizedMs)} ms`
      : '';
  return `${shown(optimized, 'gradCompile')} vs optimize:false ${shown(plain, 'gradCompileUnoptimized')}${ratio}${cpu}${first}`;
}

export function compileLines(rows: readonly SizeResult[]): string[] {
  const lines = ['graph compile (residual chain h ← h + tanh(h·W + b), shapes [2, 8]):'];
  rows.forEach((r, i) => {
    const ms = (v: number | undefined, key?: SizeResult['running']): string => {
      if (v !== undefined) return `${formatMs(v)} ms`;
      if (key !== undefined && r.running === key && r.atLeastMs !== undefined) return `> ${formatMs(r.atLeastMs)} ms`;
      return '—';
    };
    const stop = r.stoppedAfterMs === undefined ? '' : ` [stopped after ${(r.stoppedAfterMs / 1000).toFixed(0)} s]`;
    const error = r.error === undefined ? '' : ` [error: ${r.error}]`;
    lines.push(
      `  ${pad(sizeLabel(r.nodes), 5)} build ${ms(r.buildMs)}, optimize ${ms(r.optimizeMs, 'optimize')} (growth ${growth(rows, i, 'optimize') || '—'}), ` +
        `compile ${ms(r.compileMs, 'compile')} (growth ${growth(rows, i, 'compile') || '—'}; ${perNode(r.compileMs, r.nodes)}), ` +
        `optimize:false ${ms(r.compileUnoptimizedMs)}, steady run ${ms(r.steadyRunMs)}; ` +
        `gradients ${ms(r.gradientMs)} adding ${r.gradientNodes ?? '—'} nodes to ${r.forwardNodes ?? '—'}; ` +
        `gradient graph ${r.gradGraphNodes ?? '—'} nodes: compile ${gradCell(r)}${stop}${error}`,
    );
  });
  return lines;
}

/** planned / unplanned as a percentage; a plan with no intermediates at all (one fused step) has none to save. */
function share(m: MemoryResult): string {
  return m.intermediateBytes === 0 ? 'no intermediates' : `${(100 * m.ratio).toFixed(0)}%`;
}

export function memoryLines(rows: readonly MemoryResult[]): string[] {
  return rows.map(
    (m) =>
      `  ${pad(m.workload, 11)} planned ${formatBytes(m.plannedBytes)} vs ${formatBytes(m.intermediateBytes)} unplanned ` +
      `(${share(m)}), ${m.buffers} buffers, ${m.inPlace} steps in place`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

function cell(c: ContenderResult | undefined): string {
  if (c === undefined) return '—';
  if (c.error !== undefined) return 'failed';
  if (c.medianMs === undefined) return '—';
  const mismatch = c.agrees === false ? ' ⚠ mismatch' : '';
  if (c.contender === 'lazygrad') return `**${formatMs(c.medianMs)}**${mismatch}`;
  return `${formatMs(c.medianMs)} (${formatRatio(c.ratio as number)})${mismatch}`;
}

/** The generated part of docs/benchmarks.md (also written to benchmarks/results/latest.md). */
export function markdown(run: RunResult): string {
  const m = run.machine;
  const out: string[] = [];
  out.push(
    `Measured ${run.date} with \`npm run bench${run.mode === 'quick' ? ' -- --quick' : ''}\` (${run.mode} mode, ` +
      `${run.wallSeconds.toFixed(0)} s) on ${m.cpu}, ${m.cores} cores, ${m.ghz.toFixed(1)} GHz nominal; ` +
      `Node ${m.node}, TensorFlow.js ${m.tfjs}, onnxruntime-node ${m.onnxruntime}. Peak fp32 for % of peak: ` +
      `${m.flopPerCycle} FLOP/cycle/core × ${m.ghz.toFixed(1)} GHz = ${m.peakGflopsPerCore.toFixed(0)} GFLOPS per core.`,
  );
  out.push('');
  out.push(
    'Median ms per call; in parentheses each peer’s median over lazygrad’s (above ×1 lazygrad is faster). ' +
      'Every contender’s numbers were checked against lazygrad’s before timing. Min and max of every figure are in ' +
      'the console output and every sample in the JSON.',
  );
  out.push('');
  const columns = CONTENDERS;
  out.push(`| workload | ${columns.map((c) => CONTENDER_LABELS[c]).join(' | ')} |`);
  out.push(`|---|${columns.map(() => '---:').join('|')}|`);
  for (const w of run.workloads) {
    const cells = columns.map((c) => cell(w.contenders.find((x) => x.contender === c)));
    out.push(`| ${w.title} | ${cells.join(' | ')} |`);
  }
  const matmuls = run.workloads.filter((w) => w.flops !== undefined);
  if (matmuls.length > 0) {
    const cols: ContenderId[] = ['lazygrad', 'lazygrad-2t', 'tfjs-cpu', 'tfjs-wasm', 'ort', 'ort-2t'];
    out.push('');
    out.push('matMul throughput, GFLOPS (% of peak: one core’s, two cores’ for the 2-thread contenders):');
    out.push('');
    out.push(`| n | ${cols.map((c) => CONTENDER_LABELS[c]).join(' | ')} |`);
    out.push(`|---|${cols.map(() => '---:').join('|')}|`);
    for (const w of matmuls) {
      const cells = cols.map((c) => {
        const r = w.contenders.find((x) => x.contender === c);
        return r?.gflops === undefined ? '—' : `${r.gflops.toFixed(2)} (${(r.peakPercent as number).toFixed(1)}%)`;
      });
      out.push(`| ${w.id.replace('matmul-', '')} | ${cells.join(' | ')} |`);
    }
  }
  const scalar = run.workloads.find((w) => w.ops !== undefined);
  if (scalar !== undefined) {
    const per = scalar.contenders
      .filter((c) => c.usPerOp !== undefined)
      .map((c) => `${c.label} ${c.usPerOp?.toPrecision(3)}`)
      .join(', ');
    out.push('');
    out.push(`Per-op cost of the ${scalar.ops} dependent scalar ops, µs/op: ${per}.`);
  }
  if (run.compile.length > 0) {
    out.push('');
    out.push(
      'lazygrad graph compile and gradient build, residual chain h ← h + tanh(h·W + b) with shapes [2, 8] ' +
        '(growth: time over the previous row’s, linear when it equals the ratio of the sizes; the gradient graph is ' +
        'the loss and gradients of a chain a third as long, about as many nodes in all):',
    );
    out.push('');
    out.push(
      '| nodes | optimize ms | growth | session compile ms | growth | µs/node | optimize:false ms | steady run ms | ' +
        'gradients ms | gradient nodes / forward | gradient graph: nodes | compile ms (µs/node) | optimize:false ms (µs/node) | ratio | CPU ratio | first run ms, optimized / not |',
    );
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    run.compile.forEach((r, i) => {
      const ms = (v: number | undefined, key?: SizeResult['running']): string => {
        if (v !== undefined) return formatMs(v);
        if (key !== undefined && r.running === key && r.atLeastMs !== undefined) return `> ${formatMs(r.atLeastMs)}`;
        return r.stoppedAfterMs !== undefined ? 'not reached' : '—';
      };
      const size =
        r.gradientNodes !== undefined && r.forwardNodes !== undefined
          ? `${r.gradientNodes} / ${r.forwardNodes} (${(r.gradientNodes / r.forwardNodes).toFixed(2)}×)`
          : '—';
      const note = r.stoppedAfterMs !== undefined ? ` (stopped after ${(r.stoppedAfterMs / 1000).toFixed(0)} s)` : '';
      out.push(
        `| ${sizeLabel(r.nodes)}${note} | ${ms(r.optimizeMs, 'optimize')} | ${growth(run.compile, i, 'optimize')} | ` +
          `${ms(r.compileMs, 'compile')} | ${growth(run.compile, i, 'compile')} | ${perNode(r.compileMs, r.nodes)} | ` +
          `${ms(r.compileUnoptimizedMs)} | ${ms(r.steadyRunMs)} | ${ms(r.gradientMs)} | ${size} | ` +
          `${r.gradGraphNodes ?? '—'} | ${ms(r.gradCompileMs)} (${perNode(r.gradCompileMs, r.gradGraphNodes)}) | ` +
          `${ms(r.gradCompileUnoptimizedMs)} (${perNode(r.gradCompileUnoptimizedMs, r.gradGraphNodes)}) | ` +
          `${r.gradCompileMs !== undefined && r.gradCompileUnoptimizedMs ? `${(r.gradCompileMs / r.gradCompileUnoptimizedMs).toFixed(2)}×` : '—'} | ` +
          `${r.gradCompileCpuMs !== undefined && r.gradCompileUnoptimizedCpuMs ? `${(r.gradCompileCpuMs / r.gradCompileUnoptimizedCpuMs).toFixed(2)}×` : '—'} | ` +
          `${ms(r.gradFirstRunMs)} / ${ms(r.gradFirstRunUnoptimizedMs)} |`,
      );
    });
  }
  if (run.memory.length > 0) {
    out.push('');
    out.push('Memory planning (from `Session.explain`): planned buffer bytes against one array per intermediate.');
    out.push('');
    out.push('| plan | planned | unplanned sum | planned / unplanned | buffers | steps in place |');
    out.push('|---|---:|---:|---:|---:|---:|');
    for (const r of run.memory) {
      out.push(
        `| ${r.title} | ${formatBytes(r.plannedBytes)} | ${formatBytes(r.intermediateBytes)} | ` +
          `${share(r)} | ${r.buffers} | ${r.inPlace} |`,
      );
    }
  }
  if (run.targets.length > 0) {
    out.push('');
    out.push('Targets of the issues, as measured in this run:');
    out.push('');
    out.push('| issue | target | measured (medians) | from minimums | met |');
    out.push('|---:|---|---:|---:|:---:|');
    for (const t of run.targets) {
      const sign = t.kind === 'min' ? '≥' : '<';
      const figure = (v: number | undefined): string => (v === undefined ? '—' : v.toFixed(2));
      const met = t.met === undefined ? '—' : t.met ? 'yes' : 'no';
      out.push(
        `| ${t.issue} | ${t.what} ${sign} ${t.required} | ${figure(t.measured)} | ${figure(t.measuredMin)} | ${met} |`,
      );
    }
  }
  out.push('');
  out.push(
    `Typed-array probe in lazygrad's thread: ${formatMs(run.method.probeStartMs)} ms at the start, ` +
      `${formatMs(run.method.probeEndMs)} ms at the end (equal means no detached ArrayBuffer slowed it). ` +
      `Load average (1 min) ${run.method.loadStart.toFixed(2)} at the start, ${run.method.loadEnd.toFixed(2)} ` +
      `at the end, on ${m.cores} cores: above about 1, other processes shared the CPU and every figure is slower ` +
      'and noisier than on a quiet machine (the interleaving spreads that over every contender alike).',
  );
  return out.join('\n');
}
