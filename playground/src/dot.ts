/**
 * The DOT the page's drawings come from (playground/src/graphviz.ts lays it out). lazygrad's own printer (`toDot`)
 * where it fits: the gradient graph, the optimized plan (with each fused node's group of ops added as a cluster) and
 * the Hessian's graph. The expression graph is written here: its edges carry the local derivatives as labels (toDot
 * draws no edge labels) and its nodes are the page's rows (constants folded into their users' labels, as in the
 * tutorial's figure). No DOM here: the tests compute the same graphs in Node.
 */
import { Graph, Tensor, ancestors, toDot } from '../../src/core';
import { FusedStepAttr } from '../../src/ops/attrs';
import type { Row } from './model';

/** A string as a DOT quoted string's contents. */
export function dotText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Numbers on the drawings: three significant digits. */
export function short(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x);
}

/**
 * The expression graph as the tutorial draws it: one node per row (inputs left, the output right), each edge
 * labelled with its local derivative ∂row/∂operand at the current values. Node `r` gets the SVG id `${prefix}-r`,
 * which the page uses to highlight the current step.
 */
export function expressionDot(rows: readonly Row[], prefix: string): string {
  const lines = [
    'digraph expression {',
    '  rankdir=LR; bgcolor="transparent"; nodesep=0.35; ranksep=0.7;',
    '  node [fontname="Helvetica", fontsize=11, shape=ellipse, style=filled, fillcolor="#ffffff"];',
    '  edge [fontname="Helvetica", fontsize=10, color="#555555"];',
  ];
  rows.forEach((row, r) => {
    const input = row.operands.length === 0;
    const label = input ? `${row.name}\n${short(row.value)}` : `${row.name} = ${row.label}\n${short(row.value)}`;
    const tooltip = `${row.name} = ${row.label} = ${short(row.value)}`;
    lines.push(
      `  r${r} [id="${prefix}-${r}", label="${dotText(label)}", tooltip="${dotText(tooltip)}", ` +
        `class="${input ? 'input' : 'op'}"${input ? ', fillcolor="#dbeafe"' : ''}];`,
    );
  });
  rows.forEach((row, r) => {
    row.operands.forEach((operand, k) => {
      const label = `∂${row.name}/∂${rows[operand].name} = ${short(row.local[k])}`;
      lines.push(`  r${operand} -> r${r} [label="${dotText(label)}"];`);
    });
  });
  lines.push('}');
  return lines.join('\n');
}

/** The nodes `toDot(fetches)` draws: the fetches and everything they read. */
export function drawnNodes(fetches: readonly Tensor[]): number {
  return ancestors(
    fetches[0].graph,
    fetches.map((t) => t.id),
  ).length;
}

/**
 * The optimized graph of some fetches (lazygrad's `optimize`), drawn by `toDot` with each fused node's group of
 * elementwise ops beside it as a cluster: one box per step (its op and operands: `$k` the fused node's k-th input,
 * `s<j>` an earlier step), the last step feeding the fused node. Returns the DOT and the counts the drawing must show.
 */
export function planDot(fetches: readonly Tensor[]): { dot: string; nodes: number; steps: number; groups: number } {
  const graph: Graph = fetches[0].graph;
  const ids = ancestors(
    graph,
    fetches.map((t) => t.id),
  );
  const lines = toDot(fetches, { tooltips: true }).split('\n');
  // toDot puts what gradients() added in a cluster of its own: a fused node drawn there gets its group's cluster
  // nested inside that one (a node may only be in nested clusters), the others just before the closing brace.
  const gradientsAt = lines.indexOf('  subgraph cluster_gradients {');
  const gradientsEnd = gradientsAt < 0 ? -1 : lines.indexOf('  }', gradientsAt);
  const inGradients = new Set(
    gradientsAt < 0 ? [] : lines.slice(gradientsAt, gradientsEnd).map((line) => /^ {4}n(\d+) \[/.exec(line)?.[1]),
  );
  const nested: string[] = [];
  const top: string[] = [];
  let steps = 0;
  let groups = 0;
  for (const id of ids) {
    const node = graph.node(id);
    if (node.op !== 'fused') continue;
    groups++;
    const fusedSteps = node.attrs.steps as unknown as FusedStepAttr[];
    const indent = inGradients.has(String(id)) ? '    ' : '  ';
    const cluster = [
      `subgraph cluster_fused_${id} {`,
      `  label="fused group: ${fusedSteps.length} ops, one kernel"; style="rounded,filled"; fillcolor="#f5f3ff"; ` +
        'color="#7c3aed"; fontname="Helvetica"; fontsize=10; class="fused-group";',
      `  n${id};`,
    ];
    fusedSteps.forEach((step, j) => {
      const args = step.args.map((a) => ('step' in a ? `s${a.step}` : 'input' in a ? `$${a.input}` : String(a.value)));
      cluster.push(
        `  f${id}_${j} [label="s${j} = ${dotText(`${step.op}(${args.join(', ')})`)}", shape=box, style="rounded", ` +
          'fontsize=9, class="fused-step"];',
      );
      for (const a of step.args) if ('step' in a) cluster.push(`  f${id}_${a.step} -> f${id}_${j};`);
    });
    cluster.push(`  f${id}_${fusedSteps.length - 1} -> n${id} [style=dashed, arrowhead=empty];`, '}');
    (indent === '  ' ? top : nested).push(...cluster.map((line) => indent + line));
    steps += fusedSteps.length;
  }
  if (nested.length > 0) lines.splice(gradientsEnd, 0, ...nested);
  // toDot's DOT ends with its closing brace: the other clusters go just before it.
  lines.splice(lines.length - 1, 0, ...top);
  return { dot: lines.join('\n'), nodes: ids.length, steps, groups };
}
