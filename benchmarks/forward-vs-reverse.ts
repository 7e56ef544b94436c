/**
 * Forward vs reverse mode, measured. For f: ℝⁿ → ℝ, f(x) = sum(tanh(x·W)) with W ∈ ℝ^{n×16}, the full gradient
 * takes one reverse pass (one `gradients` call) but n forward passes (n `jvp` calls with one-hot tangents). For
 * g: ℝ → ℝᵐ, g(s) = tanh(tanh(s·a)·V) with a ∈ ℝ^{1×16}, V ∈ ℝ^{16×m}, the full Jacobian is the opposite: one
 * `jvp` vs m `gradients` calls with one-hot gradYs. Each way is built in one graph (the n or m results stacked
 * into one tensor), so the table reports that graph's node count, the time to build it, the first run (which
 * compiles: prune, rewrites, fusion) and the median of later runs. Every Jacobian is checked against the other
 * mode's. Writes out/tour/forward-vs-reverse.svg (run times). The whole run takes about ten seconds.
 *
 *   npx ts-node --transpile-only benchmarks/forward-vs-reverse.ts [--max 1000]
 */
import { ancestors, gradients, Graph, jvp, matMul, NDArray, Session, stack, sum, tanh, Tensor } from '../src';
import { linePlot, table, writeOut } from '../examples/tour/util';

const HIDDEN = 16;

/** A deterministic weight matrix (a small LCG): the benchmark needs fixed, not random, numbers. */
function weights(rows: number, cols: number, seed: number): NDArray {
  let state = seed >>> 0;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 2 ** 32 - 0.5) / Math.sqrt(rows);
  }
  return new NDArray(data, [rows, cols]);
}

/** A one-hot row [1, size] with a 1 at `index`. */
function oneHot(size: number, index: number): NDArray {
  const data = new Float64Array(size);
  data[index] = 1;
  return new NDArray(data, [1, size]);
}

export interface Measurement {
  /** Nodes the stacked Jacobian needs (the forward nodes included). */
  readonly nodes: number;
  readonly buildMs: number;
  /** The first run compiles the graph; later runs reuse the compiled plan. */
  readonly firstRunMs: number;
  readonly runMs: number;
  readonly jacobian: Float64Array;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Builds one way of computing a Jacobian in a fresh graph and times its runs; building and the first run are
 * repeated on fresh graphs and the fastest kept, since a single cold measurement is mostly JIT noise.
 */
function measure(
  build: (g: Graph) => { jacobian: Tensor; feeds: { [name: string]: NDArray } },
  repeats = 3,
): Measurement {
  let best: Measurement | null = null;
  for (let r = 0; r < repeats; r++) {
    const g = new Graph();
    const t0 = performance.now();
    const { jacobian, feeds } = build(g);
    const buildMs = performance.now() - t0;
    const sess = new Session(g);
    const t1 = performance.now();
    const first = sess.run(jacobian, feeds);
    const firstRunMs = performance.now() - t1;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      sess.run(jacobian, feeds);
      times.push(performance.now() - t);
    }
    const m: Measurement = {
      nodes: ancestors(g, [jacobian.id]).length,
      buildMs: Math.min(buildMs, best?.buildMs ?? Infinity),
      firstRunMs: Math.min(firstRunMs, best?.firstRunMs ?? Infinity),
      runMs: Math.min(median(times), best?.runMs ?? Infinity),
      jacobian: Float64Array.from(first.data),
    };
    best = m;
  }
  return best as Measurement;
}

/** f(x) = sum(tanh(x·W)) for x ∈ ℝ^{1×n}. */
function manyInputs(g: Graph, n: number): { x: Tensor; f: Tensor; feeds: { [name: string]: NDArray } } {
  const x = g.placeholder('x', [1, n], 'float64');
  const f = sum(tanh(matMul(x, g.constant(weights(n, HIDDEN, 1), 'float64'))));
  const point = weights(1, n, 2);
  return { x, f, feeds: { x: point } };
}

/** g(s) = tanh(tanh(s·a)·V) for s ∈ ℝ^{1×1}, a row of m outputs. */
function manyOutputs(g: Graph, m: number): { s: Tensor; y: Tensor; feeds: { [name: string]: NDArray } } {
  const s = g.placeholder('s', [1, 1], 'float64');
  const hidden = tanh(matMul(s, g.constant(weights(1, HIDDEN, 3), 'float64')));
  const y = tanh(matMul(hidden, g.constant(weights(HIDDEN, m, 4), 'float64')));
  return { s, y, feeds: { s: new NDArray(new Float64Array([0.7]), [1, 1]) } };
}

export interface Row {
  /** n inputs (f) or m outputs (g). */
  readonly size: number;
  readonly reverse: Measurement;
  readonly forward: Measurement;
  /** Largest difference between the two modes' Jacobians. */
  readonly maxDiff: number;
}

function compare(size: number, reverse: Measurement, forward: Measurement): Row {
  let maxDiff = 0;
  reverse.jacobian.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - forward.jacobian[i]))));
  return { size, reverse, forward, maxDiff };
}

/** ∇f for f: ℝⁿ → ℝ: one gradients call vs n jvp calls with one-hot tangents. */
export function gradientRow(n: number): Row {
  const reverse = measure((g) => {
    const { x, f, feeds } = manyInputs(g, n);
    const [dx] = gradients(f, [x]) as Tensor[];
    return { jacobian: dx, feeds };
  });
  const forward = measure((g) => {
    const { x, f, feeds } = manyInputs(g, n);
    const columns = Array.from({ length: n }, (_, i) => jvp(f, [x], [oneHot(n, i)])[0]);
    return { jacobian: stack(columns), feeds };
  });
  return compare(n, reverse, forward);
}

/** dg/ds for g: ℝ → ℝᵐ: m gradients calls with one-hot gradYs vs one jvp call. */
export function jacobianRow(m: number): Row {
  const reverse = measure((g) => {
    const { s, y, feeds } = manyOutputs(g, m);
    const rows = Array.from(
      { length: m },
      (_, i) => gradients(y, [s], [g.constant(oneHot(m, i), 'float64')])[0] as Tensor,
    );
    return { jacobian: stack(rows), feeds };
  });
  const forward = measure((g) => {
    const { s, y, feeds } = manyOutputs(g, m);
    return { jacobian: jvp(y, [s], [new NDArray(new Float64Array([1]), [1, 1])])[0], feeds };
  });
  return compare(m, reverse, forward);
}

const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(0));

function rowsTable(label: string, rows: readonly Row[]): string {
  return table(
    [
      label,
      'reverse nodes',
      'forward nodes',
      'reverse build+1st ms',
      'forward build+1st ms',
      'reverse run ms',
      'forward run ms',
      'max |diff|',
    ],
    rows.map((r) => [
      String(r.size),
      String(r.reverse.nodes),
      String(r.forward.nodes),
      ms(r.reverse.buildMs + r.reverse.firstRunMs),
      ms(r.forward.buildMs + r.forward.firstRunMs),
      ms(r.reverse.runMs),
      ms(r.forward.runMs),
      r.maxDiff.toExponential(1),
    ]),
  );
}

export interface ForwardVsReverse {
  readonly gradient: Row[];
  readonly jacobian: Row[];
  readonly svg: string;
  readonly text: string;
}

/** Runs both halves for sizes 1…max (powers of ten) and returns the rows, the SVG and the printed text. */
export function forwardVsReverse(sizes: readonly number[]): ForwardVsReverse {
  // Warm up the JIT on the smallest case, so the first row does not pay for it.
  gradientRow(1);
  jacobianRow(1);
  const gradient = sizes.map(gradientRow);
  const jacobian = sizes.map(jacobianRow);
  const curve = (rows: readonly Row[], pick: (r: Row) => number): [number, number][] =>
    rows.map((r) => [r.size, pick(r)]);
  const svg = linePlot(
    [
      { name: 'ℝⁿ→ℝ: reverse', points: curve(gradient, (r) => r.reverse.runMs), color: '#2563eb' },
      { name: 'ℝⁿ→ℝ: forward', points: curve(gradient, (r) => r.forward.runMs), color: '#dc2626' },
      { name: 'ℝ→ℝᵐ: reverse', points: curve(jacobian, (r) => r.reverse.runMs), color: '#2563eb', dashed: true },
      { name: 'ℝ→ℝᵐ: forward', points: curve(jacobian, (r) => r.forward.runMs), color: '#dc2626', dashed: true },
    ],
    {
      title: 'Full Jacobian: run time (compiled, median)',
      xLabel: 'n inputs (solid) / m outputs (dashed)',
      yLabel: 'ms',
      xLog: true,
    },
  );
  const text = [
    'Forward vs reverse mode: the full Jacobian, built in one graph and run (float64)',
    '',
    `f: ℝⁿ → ℝ, f(x) = sum(tanh(x·W)), W ∈ ℝ^{n×${HIDDEN}}: reverse = 1 gradients call, forward = n jvp calls`,
    '(one-hot tangents), stacked. Nodes = what the Jacobian tensor needs; build+1st = graph building plus the',
    'first run (which compiles); run = median of 5 later runs. Times are the best of 3 fresh graphs.',
    rowsTable('n', gradient),
    '',
    `g: ℝ → ℝᵐ, g(s) = tanh(tanh(s·a)·V), V ∈ ℝ^{${HIDDEN}×m}: forward = 1 jvp call, reverse = m gradients calls`,
    '(one-hot gradYs), stacked.',
    rowsTable('m', jacobian),
  ].join('\n');
  return { gradient, jacobian, svg, text };
}

if (require.main === module) {
  const at = process.argv.indexOf('--max');
  const max = at >= 0 ? Number(process.argv[at + 1]) : 1000;
  const sizes = [1, 10, 100, 1000].filter((s) => s <= max);
  const result = forwardVsReverse(sizes);
  console.log(result.text);
  console.log(`\nwrote ${writeOut('forward-vs-reverse.svg', result.svg)}`);
}
