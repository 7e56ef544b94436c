import { GraphError } from './errors';
import { Attrs, formatNode, formatNodes, Graph, Node, Tensor } from './graph';
import { escapeName, quoteName, UNSAFE_CHARACTERS } from './rules';
import { formatShape } from './shape';
import { LabelledRegion, regionsOf, siblingKey, StoredRegion } from './textir';

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
  // Control flow: each construct's regions as clusters (once per group of siblings), fed by the construct's inputs.
  const drawn = new Set<number>();
  const groups = new Map<string, DotSibling[]>();
  for (const n of nodes) {
    const item = itemOf.get(n.id) as DotItem;
    const key = item.scope === null || item.size === 1 ? siblingKey(n.op, n.inputs, n.attrs) : null;
    if (key === null) continue;
    const group = groups.get(key);
    const sibling = { id: item.id, attrs: n.attrs };
    if (group === undefined) groups.set(key, [sibling]);
    else group.push(sibling);
    drawn.add(n.id);
  }
  const clusterEdges: string[] = [];
  for (const group of groups.values()) {
    const leader = nodes.find((n) => (itemOf.get(n.id) as DotItem).id === group[0].id) as Node;
    const inputs = leader.inputs.map((i) => (itemOf.get(i) as DotItem).id);
    regionClusters(leader.op, leader.attrs, group, inputs, `r${leader.id}`, '  ', lines, clusterEdges, kinds, 0);
  }
  const edges = new Set<string>();
  for (const n of nodes) {
    const to = (itemOf.get(n.id) as DotItem).id;
    // A construct drawn with its regions reads its inputs through its clusters' parameters: only a cond's predicate
    // (no parameter takes it) still points at the node itself.
    const direct = drawn.has(n.id) ? n.inputs.length - parameterCount(n.attrs, n.op) : n.inputs.length;
    for (const input of n.inputs.slice(0, direct)) {
      const from = (itemOf.get(input) as DotItem).id;
      if (from !== to) edges.add(`  ${from} -> ${to};`);
    }
  }
  for (const edge of clusterEdges) edges.add(edge);
  lines.push(...edges);
  if (legend) lines.push(legendLine(kinds, outputs.size > 0));
  lines.push('}');
  return lines.join('\n');
}

/** A sibling of a construct as toDot draws it: its DOT id and attrs (its `output` says what it reads). */
interface DotSibling {
  readonly id: string;
  readonly attrs: Attrs;
}

/** How many of a construct's inputs its regions take as parameters (all but a cond's predicate). */
function parameterCount(attrs: Attrs, op: string): number {
  const regions = regionsOf(op, attrs);
  return regions.length === 0 ? 0 : regions[0].region.params.length;
}

/**
 * The region nodes a sibling's `output` reads: output k of every region (cond), body output j (`var:j`,
 * `carry:j`), body output carries + j (`ys:j`), body node i (`stack:i`), the condition's output (`count`).
 */
function outputSources(attrs: Attrs, regions: readonly LabelledRegion[]): { region: number; node: number }[] {
  const output = attrs.output;
  const bodyIndex = regions.findIndex((r) => r.key === 'body');
  if (typeof output === 'number') {
    return regions.map((r, k) => ({ region: k, node: r.region.outputs[output] })).filter((s) => s.node !== undefined);
  }
  const match = /^([a-z]+)(?::(\d+))?$/.exec(String(output));
  if (match === null) return [];
  const index = Number(match[2] ?? 0);
  const body = regions[bodyIndex]?.region;
  let node: number | undefined;
  let region = bodyIndex;
  if (match[1] === 'count') {
    region = regions.findIndex((r) => r.key === 'cond');
    node = regions[region]?.region.outputs[0];
  } else if (match[1] === 'stack') node = index;
  else if (match[1] === 'ys') node = body?.outputs[(Number(attrs.carries) || 0) + index];
  else node = body?.outputs[index];
  return node === undefined || region < 0 ? [] : [{ region, node }];
}

/** Regions nest at most as deep as attrs do; a picture stops well before the stack would. */
const MAX_CLUSTER_DEPTH = 32;

/**
 * A construct's regions as Graphviz clusters (subgraph cluster_<prefix>_<k>), with their nodes and edges; edges from
 * the construct's inputs into the parameters, labelled with the parameters' names; edges from the region nodes each
 * sibling reads to that sibling, labelled with its `output`. Nested constructs give nested clusters (recursion over
 * the nesting depth only).
 */
function regionClusters(
  op: string,
  attrs: Attrs,
  siblings: readonly DotSibling[],
  inputs: readonly string[],
  prefix: string,
  indent: string,
  lines: string[],
  edges: string[],
  kinds: Set<NodeKind>,
  depth: number,
): void {
  const regions = regionsOf(op, attrs);
  regions.forEach((labelled, k) => {
    const region: StoredRegion = labelled.region;
    const cluster = `${prefix}_${k}`;
    const id = (i: number): string => `${cluster}_${i}`;
    lines.push(
      `${indent}subgraph cluster_${cluster} {`,
      `${indent}  label="${dotEscape(`${escapeName(op)} ${escapeName(labelled.label)}`)}"; style="rounded,dashed"; ` +
        'class="lazygrad-region";',
    );
    if (depth >= MAX_CLUSTER_DEPTH) {
      lines.push(
        `${indent}  ${cluster}_more [label="${region.nodes.length} nodes (nested too deep to draw)"];`,
        `${indent}}`,
      );
      return;
    }
    const offset = inputs.length - region.params.length;
    const paramOf = new Map<number, number>();
    region.params.forEach((p, j) => paramOf.set(p, j));
    const groups = new Map<string, DotSibling[]>();
    const nested: { node: number; key: string }[] = [];
    region.nodes.forEach((node, i) => {
      const kind: NodeKind =
        node.op === 'placeholder'
          ? 'placeholder'
          : node.op === 'constant'
            ? 'constant'
            : node.op === 'fused'
              ? 'fused'
              : 'op';
      kinds.add(kind);
      const label = `${dotEscape(escapeName(node.name))}\\n${dotEscape(escapeName(node.op))} ${node.dtype}${formatShape(node.shape)}`;
      lines.push(`${indent}  ${id(i)} [label="${label}", ${DOT_STYLE[kind].style}, class="lazygrad-${kind}"];`);
      const param = paramOf.get(i);
      if (param !== undefined && inputs[offset + param] !== undefined) {
        edges.push(
          `  ${inputs[offset + param]} -> ${id(i)} [style=dashed, label="${dotEscape(escapeName(node.name))}"];`,
        );
      }
      const key = siblingKey(node.op, node.inputs, node.attrs);
      if (key !== null) {
        const group = groups.get(key);
        if (group === undefined) {
          groups.set(key, [{ id: id(i), attrs: node.attrs }]);
          nested.push({ node: i, key });
        } else group.push({ id: id(i), attrs: node.attrs });
        const direct = node.inputs.length - parameterCount(node.attrs, node.op);
        for (const input of node.inputs.slice(0, direct)) edges.push(`  ${id(input)} -> ${id(i)};`);
      } else for (const input of node.inputs) edges.push(`  ${id(input)} -> ${id(i)};`);
    });
    for (const { node, key } of nested) {
      const inner = region.nodes[node];
      const innerInputs = inner.inputs.map(id);
      regionClusters(
        inner.op,
        inner.attrs,
        groups.get(key) as DotSibling[],
        innerInputs,
        id(node),
        `${indent}  `,
        lines,
        edges,
        kinds,
        depth + 1,
      );
    }
    lines.push(`${indent}}`);
  });
  for (const sibling of siblings) {
    for (const source of outputSources(sibling.attrs, regions)) {
      const from = `${prefix}_${source.region}_${source.node}`;
      edges.push(`  ${from} -> ${sibling.id} [style=dashed, label="${dotEscape(String(sibling.attrs.output))}"];`);
    }
  }
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
