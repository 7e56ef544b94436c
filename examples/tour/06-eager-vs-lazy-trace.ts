/**
 * Tour step 6: the tutorial's small engine printed an "Eager execution" line for every node as it computed it, an
 * evaluation order, and each node's gradient after backpropagation. Here the same output comes from a session's
 * trace of y = ln(x1) + x1·x2 − sin(x2) at (2, 5).
 *
 * Eager vs lazy: the tutorial's engine computed each node the moment it was created, so its trace was a side effect of
 * building the expression. lazygrad builds the graph first and computes nothing; the trace belongs to a *run* of a
 * compiled plan. That is why it comes out of `Session.run(..., { trace: true })` and why optimization matters to it:
 * with the default passes, constant subexpressions are folded and elementwise ops fused before any step runs, so the
 * trace here runs at level 0 to show one step per node, as the tutorial's engine did.
 */
import { add, gradients, Graph, log, mul, Session, sin, sub, Tensor } from '../../src';
import { heading, num, table } from './util';

export interface EagerTrace {
  /** One line per executed step: node, op, input values, output value. */
  readonly steps: readonly { node: string; op: string; inputs: number[]; output: number }[];
  /** Every node's gradient ∂y/∂node after the backward pass, in reverse evaluation order. */
  readonly gradients: readonly { node: string; value: number }[];
  readonly y: number;
  readonly text: string;
}

/** Runs step 6 and returns its trace, gradients and printed text. */
export function eagerVsLazyTrace(): EagerTrace {
  const g = new Graph();
  const x1 = g.placeholder('x1', [], 'float64');
  const x2 = g.placeholder('x2', [], 'float64');
  const v1 = log(x1);
  const v2 = mul(x1, x2);
  const v3 = sin(x2);
  const v4 = add(v1, v2);
  const y = sub(v4, v3);
  const nodes = [x1, x2, v1, v2, v3, v4, y];
  const grads = gradients(y, nodes) as Tensor[];

  const session = new Session(g, { optimize: false });
  const feeds = { x1: 2, x2: 5 };
  const value = session.run(y, feeds, { trace: true }).get();
  const trace = session.lastTrace;
  if (trace === undefined) throw new Error('the run recorded no trace');
  const steps = trace.steps.map((s) => ({
    node: s.node,
    op: s.op,
    inputs: s.inputs.map((i) => i.values[0]),
    output: s.values[0],
  }));
  const values = session.run(grads, feeds);
  const gradientRows = nodes.map((n, i) => ({ node: n.name, value: values[i].get() })).reverse();

  const lines = [heading('6. Eager vs lazy: a session trace of y = ln(x1) + x1·x2 − sin(x2) at (2, 5)')];
  lines.push('fed: x1 = 2, x2 = 5');
  for (const s of steps) {
    lines.push(`run step: ${s.node} = ${s.op}(${s.inputs.map((v) => num(v)).join(', ')}) = ${num(s.output)}`);
  }
  lines.push(`evaluation order: ${['x1', 'x2', ...steps.map((s) => s.node)].join(' → ')}`);
  lines.push('');
  lines.push('after the backward pass (one gradient graph, one run), ∂y/∂node:');
  lines.push(
    table(
      ['node', '∂y/∂node'],
      gradientRows.map((r) => [r.node, num(r.value)]),
    ),
  );
  lines.push('');
  lines.push(
    `y = ${num(value)}; ∂y/∂x1 = ${num(values[0].get())} (1/x1 + x2), ∂y/∂x2 = ${num(values[1].get())} (x1 − cos x2)`,
  );
  return { steps, gradients: gradientRows, y: value, text: lines.join('\n') };
}

if (require.main === module) console.log(eagerVsLazyTrace().text);
