import { GraphError } from './errors';
import { formatNode, formatNodes, Graph, Node, Tensor } from './graph';
import { escapeName, quoteName, UNSAFE_CHARACTERS } from './rules';
import { formatShape } from './shape';

/** The graph all tensors belong to; combining tensors of two graphs is a GraphError. */
export function graphOf(tensors: readonly Tensor[], what: string): Graph {
  if (tensors.length === 0) throw new GraphError(`${what}: needs at least one tensor`);
  const graph = tensors[0].graph;
  for (const t of tensors) {
    if (t.graph !== graph) {
      throw new GraphError(
        `${what}: tensors ${quoteName(tensors[0].name)} and ${quoteName(t.name)} belong to different graphs; ` +
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

/**
 * Text inside a DOT string: quotes and backslashes escaped, a newline as DOT's `\n`, and any other control,
 * separator or invisible character as a visible `\uXXXX` (Graphviz stops at a NUL). Names reach it already
 * escaped by escapeName, so a picture shows a name as the text IR does.
 */
function dotEscape(text: string): string {
  return text
    .replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
    .replace(UNSAFE_CHARACTERS, (c) => `\\\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** How a node is drawn; the class names end up in the SVG Graphviz writes, so pictures can be styled further. */
type NodeKind = 'placeholder' | 'variable' | 'constant' | 'fused' | 'gradient' | 'op' | 'scope' | 'gradient-scope';

const DOT_STYLE: { readonly [K in NodeKind]: { readonly style: string; readonly legend: string } } = {
  placeholder: { style: 'shape=box, style=filled, fillcolor="#dbeafe"', legend: 'placeholder (input)' },
  variable: { style: 'shape=box, style=filled, fillcolor="#fde68a"', legend: 'variable (state)' },
  constant: { style: 'shape=box, style=filled, fillcolor="#e5e7eb"', legend: 'constant' },
  fused: { style: 'shape=ellipse, style=filled, fillcolor="#e9d5ff"', legend: 'fused elementwise group' },
  gradient: { style: 'shape=ellipse, style=filled, fillcolor="#fecdd3"', legend: 'gradient op' },
  op: { style: 'shape=ellipse', legend: 'op' },
  scope: { style: 'shape=box3d, style=filled, fillcolor="#d1fae5"', legend: 'name scope (collapsed)' },
  'gradient-scope': { style: 'shape=box3d, style=filled, fillcolor="#fecdd3"', legend: 'gradient scope (collapsed)' },
};

const FILL = /fillcolor="([^"]+)"/;

function isGradientName(name: string): boolean {
  return name.startsWith('gradients/') || name.includes('/gradients/');
}

function kindOf(node: Node): NodeKind {
  if (node.op === 'placeholder' || node.op === 'variable' || node.op === 'constant') return node.op;
  if (node.op === 'fused') return 'fused';
  return isGradientName(node.name) ? 'gradient' : 'op';
}

/** Options of `toDot`. */
export interface DotOptions {
  /**
   * Collapse name scopes into one box each: `false` (the default), `true` (into the top-level scopes), or a node
   * count: above it, scopes are cut at the deepest level that leaves at most that many boxes.
   */
  collapse?: boolean | number;
  /** Add a legend of the node colours. */
  legend?: boolean;
  /** A title above the picture. */
  title?: string;
  /** Give each node its text IR line as a tooltip (shown on hover in SVG). */
  tooltips?: boolean;
}

/** A box drawn for a node or for a collapsed scope. */
interface DotItem {
  /** The DOT node id: `n<id>` for a node, `s<index>` for a collapsed scope. */
  readonly id: string;
  readonly kind: NodeKind;
  /** The first node drawn in it (the only one, unless it is a collapsed scope). */
  readonly node: Node;
  /** The collapsed scope's name, null for a single node. */
  readonly scope: string | null;
  output: boolean;
  size: number;
}

/**
 * How deep to collapse: the deepest scope depth at which the picture has at most `limit` boxes (1 if none does).
 * Placeholders and variables are never collapsed: they are what a reader looks for.
 */
function collapseDepth(nodes: readonly Node[], limit: number): number {
  const scopes = (node: Node): string[] =>
    node.op === 'placeholder' || node.op === 'variable' ? [] : node.name.split('/').slice(0, -1);
  let deepest = 0;
  for (const n of nodes) deepest = Math.max(deepest, scopes(n).length);
  for (let depth = deepest; depth >= 1; depth--) {
    const boxes = new Set(
      nodes.map((n) => (scopes(n).length === 0 ? `#${n.id}` : scopes(n).slice(0, depth).join('/'))),
    );
    if (boxes.size <= limit) return depth;
  }
  return 1;
}

/**
 * Graphviz DOT of a whole graph or of the subgraph computing some tensors. Placeholders, variables, constants,
 * fused groups and gradient nodes have fill colours of their own, and gradient nodes (under the `gradients/`
 * scope) are drawn in a cluster of their own. Options add a legend and collapse name scopes into boxes.
 *
 * @example fs.writeFileSync('g.dot', toDot([loss, ...grads], { legend: true }))
 */
export function toDot(target: Graph | Tensor | readonly (Tensor | null)[], options: DotOptions = {}): string {
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
  const { collapse = false, legend = false, title, tooltips = false } = options;
  const limit = collapse === true ? 0 : collapse === false ? Infinity : collapse;
  const depth = nodes.length > limit ? collapseDepth(nodes, limit) : 0;

  // Each node is drawn as itself, or as the box of its scope (cut to `depth` segments) when collapsing.
  const items = new Map<string, DotItem>();
  const itemOf = new Map<number, DotItem>();
  for (const n of nodes) {
    const kind = kindOf(n);
    const path = depth === 0 || kind === 'placeholder' || kind === 'variable' ? [] : n.name.split('/').slice(0, -1);
    const scope = path.length === 0 ? null : path.slice(0, depth).join('/');
    const key = scope === null ? `#${n.id}` : scope;
    let item = items.get(key);
    if (item === undefined) {
      item = {
        id: scope === null ? `n${n.id}` : `s${items.size}`,
        kind: scope === null ? kind : isGradientName(`${scope}/`) ? 'gradient-scope' : 'scope',
        node: n,
        scope,
        output: false,
        size: 0,
      };
      items.set(key, item);
    }
    item.size++;
    item.output ||= outputs.has(n.id);
    itemOf.set(n.id, item);
  }

  const lines = ['digraph lazygrad {', '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=10];'];
  if (title !== undefined) lines.push(`  label="${dotEscape(title)}"; labelloc=t; fontname="Helvetica";`);
  const gradientLines: string[] = [];
  const kinds = new Set<NodeKind>();
  for (const item of items.values()) {
    // A scope that holds a single node is drawn as that node.
    const single = item.scope === null || item.size === 1;
    const { node } = item;
    const kind = single ? kindOf(node) : item.kind;
    const label = single
      ? `${dotEscape(escapeName(node.name))}\\n${dotEscape(escapeName(node.op))} ${node.dtype}${formatShape(node.shape)}`
      : `${dotEscape(escapeName(item.scope as string))}/\\n${item.size} nodes`;
    const tooltip = single ? formatNode(node) : `${escapeName(item.scope as string)}/: ${item.size} nodes`;
    const extra = `${item.output ? ', penwidth=2' : ''}${tooltips ? `, tooltip="${dotEscape(tooltip)}"` : ''}`;
    const line = `  ${item.id} [label="${label}", ${DOT_STYLE[kind].style}, class="lazygrad-${kind}"${extra}];`;
    kinds.add(kind);
    // The cluster holds everything gradients() added (fused groups and constants too), not the leaves it reads.
    const inCluster =
      kind !== 'placeholder' &&
      kind !== 'variable' &&
      isGradientName(item.scope === null ? node.name : `${item.scope}/`);
    if (inCluster) gradientLines.push(`  ${line}`);
    else lines.push(line);
  }
  if (gradientLines.length > 0) {
    lines.push('  subgraph cluster_gradients {', '    label="gradients"; style=dashed;', ...gradientLines, '  }');
  }
  const edges = new Set<string>();
  for (const n of nodes) {
    const to = (itemOf.get(n.id) as DotItem).id;
    for (const input of n.inputs) {
      const from = (itemOf.get(input) as DotItem).id;
      if (from !== to) edges.add(`  ${from} -> ${to};`);
    }
  }
  lines.push(...edges);
  if (legend) lines.push(legendLine(kinds, outputs.size > 0));
  lines.push('}');
  return lines.join('\n');
}

/** A table of the colours used, drawn as one node with an HTML-like label. */
function legendLine(kinds: ReadonlySet<NodeKind>, hasOutputs: boolean): string {
  const rows = ['<TR><TD><B>legend</B></TD></TR>'];
  for (const kind of Object.keys(DOT_STYLE) as NodeKind[]) {
    if (!kinds.has(kind)) continue;
    const fill = FILL.exec(DOT_STYLE[kind].style)?.[1] ?? '#ffffff';
    rows.push(`<TR><TD BGCOLOR="${fill}">${DOT_STYLE[kind].legend}</TD></TR>`);
  }
  if (hasOutputs) rows.push('<TR><TD BORDER="2">bold border: fetched tensor</TD></TR>');
  const table = `<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">${rows.join('')}</TABLE>`;
  return `  legend [shape=plaintext, class="lazygrad-legend", label=<${table}>];`;
}
