import { createHash } from 'crypto';
/**
 * Graphs whose optimized text and pass reports are stored (tests/passes/fixtures/optimized.json) as the code before
 * the issue-20 compile-time work produced them, so that a faster pipeline is checked to rewrite exactly as before.
 * Built only from ops whose gradients are plain elementwise and matrix rules (no loss helpers), so the stored text
 * changes only when the passes do.
 */
import {
  add,
  div,
  exp,
  formatReport,
  gradients,
  Graph,
  log,
  matMul,
  mul,
  NDArray,
  neg,
  optimize,
  relu,
  sin,
  softmax,
  sqrt,
  sub,
  sum,
  tanh,
  Tensor,
  transpose,
} from '../../src';

function values(n: number, scale: number, phase: number): Float32Array {
  return new Float32Array(n).map((_, i) => Math.sin(i + phase) * scale);
}

/** The residual chain of benchmarks/analyses.ts with `blocks` blocks: its loss and both gradients. */
function residualChain(blocks: number): { g: Graph; fetches: Tensor[] } {
  const g = new Graph();
  const x = g.placeholder('x', [2, 8]);
  const w = g.variable('w', new NDArray(values(64, 0.3, 0), [8, 8]));
  const b = g.variable('b', new NDArray(values(8, 0.1, 1), [8]));
  let h = x;
  for (let i = 0; i < blocks; i++) h = add(h, tanh(add(matMul(h, w), b)));
  const loss = sum(h);
  return { g, fetches: [loss, ...(gradients(loss, [w, b]) as Tensor[])] };
}

/** A two-layer relu MLP with a hand-written softmax cross-entropy (log of softmax), its loss and gradients. */
function mlp(): { g: Graph; fetches: Tensor[] } {
  const g = new Graph();
  const x = g.placeholder('x', [4, 6]);
  const labels = g.placeholder('labels', [4, 3]);
  const w1 = g.variable('w1', new NDArray(values(60, 0.4, 2), [6, 10]));
  const b1 = g.variable('b1', new NDArray(values(10, 0.1, 3), [10]));
  const w2 = g.variable('w2', new NDArray(values(30, 0.4, 4), [10, 3]));
  const b2 = g.variable('b2', new NDArray(values(3, 0.1, 5), [3]));
  const hidden = relu(add(matMul(x, w1), b1));
  const logits = add(matMul(hidden, w2), b2);
  const loss = div(sum(neg(sum(mul(labels, log(softmax(logits))), [1]))), 4);
  return { g, fetches: [loss, ...(gradients(loss, [w1, b1, w2, b2]) as Tensor[])] };
}

/** Sums of shared and unshared terms, constants to fold, a sigmoid written out, transposes into a matMul. */
function sums(): { g: Graph; fetches: Tensor[] } {
  const g = new Graph();
  const x = g.placeholder('x', [3, 3]);
  const c = g.constant([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ]);
  const folded = mul(add(c, 1), 0.5);
  let total = add(x, folded);
  const shared = sin(x);
  for (let i = 0; i < 12; i++) total = add(total, i % 3 === 0 ? shared : exp(add(x, i)));
  const sig = div(1, add(1, exp(neg(total))));
  const prod = matMul(transpose(sig), transpose(x));
  const out = add(sum(mul(prod, 1)), sum(div(shared, sqrt(add(mul(x, x), 1)))));
  const other = sub(sum(shared), 0);
  return { g, fetches: [out, other, ...(gradients(out, [x]) as Tensor[])] };
}

export const GOLDEN_GRAPHS: { readonly [name: string]: () => { g: Graph; fetches: Tensor[] } } = {
  'chain-300': () => residualChain(300),
  'chain-2000': () => residualChain(2000),
  mlp,
  sums,
  'sums-sigmoid-grad': () => {
    const g = new Graph();
    const x = g.placeholder('x', [5]);
    const y = sum(div(1, add(1, exp(neg(tanh(x))))));
    return { g, fetches: [y, ...(gradients(y, [x]) as Tensor[])] };
  },
};

/** What is stored of one optimized graph: its pass reports (times left out) and outputs, and its text's digest. */
export interface Golden {
  reports: string[];
  /** The whole text when it is short (to read a difference), else undefined. */
  text?: string;
  lines: number;
  sha256: string;
}

/** The optimized graph's text and each pass report without its time, for one graph at one level. */
export function optimizedGolden(name: string, level: 1 | 2): Golden {
  const { g, fetches } = GOLDEN_GRAPHS[name]();
  const result = optimize(g, fetches, { level });
  const reports = result.report.map((r) => formatReport({ ...r, timeMs: 0 }));
  reports.push(`outputs ${result.outputs.map((t) => t.id).join(', ')}`);
  const text = result.graph.toString();
  return {
    reports,
    text: text.length <= 8000 ? text : undefined,
    lines: text.split('\n').length,
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}
