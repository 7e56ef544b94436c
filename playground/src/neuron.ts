/**
 * The tutorial's staged sigmoid neuron, f = σ(w0·x0 + w1·x1 + w2) at w = [2, −3, −3], x = [−1, −2], computed live:
 * once written out gate by gate (σ(z) = 1 / (1 + exp(−z))) and once staged (one `sigmoid` node, whose local
 * derivative σ(z)(1 − σ(z)) reuses its output), with the values, dx and dw of each, and what lazygrad's optimizer
 * makes of the written-out form (its stabilize pass rewrites it into the staged one).
 */
import { Tensor, ancestors, formatReport, optimize } from '../../src/core';
import { Evaluation, evaluate } from './model';
import { parse } from './parser';
import { planDot } from './dot';

export const NEURON_FEED: Record<string, number> = { w0: 2, w1: -3, w2: -3, x0: -1, x1: -2 };
export const WRITTEN = '1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))';
export const STAGED = 'sigmoid(w0*x0 + w1*x1 + w2)';

export interface NeuronForm {
  readonly expression: string;
  readonly evaluation: Evaluation;
  readonly f: number;
  /** ∂f/∂[x0, x1] and ∂f/∂[w0, w1, w2]. */
  readonly dx: number[];
  readonly dw: number[];
}

export interface Neuron {
  readonly written: NeuronForm;
  readonly staged: NeuronForm;
  /** optimize(g, [f, …∂f/∂inputs], fusion off) of the written-out form: how often each rule fired, the passes. */
  readonly rules: Record<string, number>;
  readonly report: string[];
  /** Node counts of the written-out form's gradient graph before and after, and of the staged form's. */
  readonly before: number;
  readonly after: number;
  readonly stagedNodes: number;
  /** Ops (sorted) of each form's forward graph after the same optimization: equal when stabilize did its job. */
  readonly forwardOps: { optimized: string[]; staged: string[] };
  /** The optimized written-out gradient graph, drawn by toDot. */
  readonly dot: string;
  readonly dotNodes: number;
}

function form(expression: string): NeuronForm {
  const parsed = parse(expression);
  if (!parsed.ok) throw new Error(`neuron: ${parsed.message}`);
  const evaluation = evaluate(parsed.expression, parsed.inputs, NEURON_FEED, 'f');
  const grad = (name: string): number => evaluation.gradient[evaluation.inputs.indexOf(name)];
  return {
    expression,
    evaluation,
    f: evaluation.value,
    dx: ['x0', 'x1'].map(grad),
    dw: ['w0', 'w1', 'w2'].map(grad),
  };
}

function opsOf(f: Tensor): string[] {
  return ancestors(f.graph, [f.id])
    .map((id) => f.graph.node(id).op)
    .sort();
}

/** Both forms at the seed's point and the optimizer's rewrite of the written-out one. */
export function neuron(): Neuron {
  const written = form(WRITTEN);
  const staged = form(STAGED);
  // Fusion would fold each form into a few fused kernels and hide the rewrite: the rewriting passes alone show it.
  const optimized = optimize(written.evaluation.fetches[0].graph, written.evaluation.fetches, { disable: ['fuse'] });
  const forwardOf = (f: NeuronForm): Tensor =>
    optimize(f.evaluation.fetches[0].graph, [f.evaluation.fetches[0]], { disable: ['fuse'] }).outputs[0];
  const rules: Record<string, number> = {};
  for (const report of optimized.report) {
    if (report.pass === 'prune') continue;
    for (const [rule, count] of Object.entries(report.changes)) if (count > 0) rules[rule] = (rules[rule] ?? 0) + count;
  }
  const drawn = planDot(optimized.outputs);
  return {
    written,
    staged,
    rules,
    report: optimized.report.map(formatReport),
    before: written.evaluation.gradientNodes,
    after: drawn.nodes,
    stagedNodes: staged.evaluation.gradientNodes,
    forwardOps: { optimized: opsOf(forwardOf(written)), staged: opsOf(forwardOf(staged)) },
    dot: drawn.dot,
    dotNodes: drawn.nodes,
  };
}
