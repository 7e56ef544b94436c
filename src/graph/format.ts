import { GraphError } from './errors';
import { formatNodes, Graph, Node, Tensor } from './graph';
import { formatShape } from './shape';

/** The graph all tensors belong to; combining tensors of two graphs is a GraphError. */
export function graphOf(tensors: readonly Tensor[], what: string): Graph {
  if (tensors.length === 0) throw new GraphError(`${what}: needs at least one tensor`);
  const graph = tensors[0].graph;
  for (const t of tensors) {
    if (t.graph !== graph) {
      throw new GraphError(
        `${what}: tensors '${tensors[0].name}' and '${t.name}' belong to different graphs; ` +
          'all tensors of one computation must come from the same Graph',
      );
    }
  }
  return graph;
}

/** Ids of every node the given tensors depend on (themselves included), ascending: an iterative sweep. */
export function ancestors(graph: Graph, roots: readonly number[]): number[] {
  const seen = new Uint8Array(graph.size);
  const stack = [...roots];
  for (const r of roots) seen[r] = 1;
  while (stack.length > 0) {
    const id = stack.pop() as number;
    for (const input of graph.node(id).inputs) {
      if (seen[input] === 0) {
        seen[input] = 1;
        stack.push(input);
      }
    }
  }
  const out: number[] = [];
  for (let id = 0; id < seen.length; id++) if (seen[id] === 1) out.push(id);
  return out;
}

/**
 * The text IR of only the subgraph that computes the given tensors: how a gradient graph is read.
 *
 * @example console.log(formatGraph([dw, dx]))
 */
export function formatGraph(tensors: Tensor | readonly (Tensor | null)[]): string {
  const list = presentTensors(tensors);
  const graph = graphOf(list, 'formatGraph');
  const nodes = ancestors(
    graph,
    list.map((t) => t.id),
  ).map((id) => graph.node(id));
  const outputs = list.map((t) => `%${t.id}`).join(', ');
  return `${formatNodes(nodes)}\n-> ${outputs}`;
}

/** A tensor or list of tensors, with the nulls that gradients() gives for unconnected inputs left out. */
function presentTensors(tensors: Tensor | readonly (Tensor | null)[]): Tensor[] {
  if (tensors instanceof Tensor) return [tensors];
  return tensors.filter((t): t is Tensor => t !== null);
}

function dotEscape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

const DOT_STYLE: { readonly [op: string]: string } = {
  placeholder: 'shape=box, style=filled, fillcolor="#dbeafe"',
  variable: 'shape=box, style=filled, fillcolor="#fde68a"',
  constant: 'shape=box, style=filled, fillcolor="#e5e7eb"',
};

/**
 * Graphviz DOT of a whole graph or of the subgraph computing some tensors. Gradient nodes (under the
 * `gradients/` scope) are drawn in a cluster of their own.
 *
 * @example fs.writeFileSync('g.dot', toDot([loss, ...grads]))
 */
export function toDot(target: Graph | Tensor | readonly (Tensor | null)[]): string {
  let nodes: readonly Node[];
  let outputs = new Set<number>();
  if (target instanceof Graph) {
    nodes = target.nodes;
  } else {
    const list = presentTensors(target);
    const graph = graphOf(list, 'toDot');
    nodes = ancestors(
      graph,
      list.map((t) => t.id),
    ).map((id) => graph.node(id));
    outputs = new Set(list.map((t) => t.id));
  }
  const lines = ['digraph lazygrad {', '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=10];'];
  const gradientLines: string[] = [];
  for (const n of nodes) {
    const label = `${dotEscape(n.name)}\\n${n.op} ${n.dtype}${formatShape(n.shape)}`;
    const style = DOT_STYLE[n.op] ?? 'shape=ellipse';
    const extra = outputs.has(n.id) ? ', penwidth=2' : '';
    const line = `  n${n.id} [label="${label}", ${style}${extra}];`;
    if (n.name.startsWith('gradients/')) gradientLines.push(`  ${line}`);
    else lines.push(line);
  }
  if (gradientLines.length > 0) {
    lines.push('  subgraph cluster_gradients {', '    label="gradients"; style=dashed;', ...gradientLines, '  }');
  }
  for (const n of nodes) {
    for (const input of n.inputs) lines.push(`  n${input} -> n${n.id};`);
  }
  lines.push('}');
  return lines.join('\n');
}
