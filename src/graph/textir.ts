/**
 * The text IR: one line per node, `%id = op(%in, ...) {attrs} <value> : dtype[shape]  # name`. A control-flow node
 * (cond, whileLoop, scan) stores its regions in its attrs as plain JSON; the printer reads them structurally (the IR
 * layer knows no op) and prints each region under its node, indented: a header with its parameters and outputs, then
 * its nodes, numbered as stored (so a `stack:i` output names body node %i), regions inside regions indented further.
 * The siblings of one construct (same op, inputs and regions, another `output`) print the regions once, at the first
 * sibling; the later ones say `body=as %12`.
 */
import type { DType } from './dtype';
import type { Attrs, AttrValue, Node } from './graph';
import type { NDArray } from './ndarray';
import { escapeName, escapeText, isFrozenAttrs } from './rules';
import { formatShape, Shape } from './shape';

/**
 * JSON with object keys sorted, so equal attrs give equal strings. Written into one string as it goes (no array of
 * parts per list or object), keys sorted only where they are not in order already: every interned node's attrs pass
 * here once.
 */
export function canonicalJSON(value: AttrValue): string {
  // Attrs frozen by freezeAttrs (shared by many nodes) cannot change: their JSON is written once.
  if (value !== null && typeof value === 'object' && isFrozenAttrs(value)) {
    let json = frozenJSON.get(value);
    if (json === undefined) {
      json = writeJSON(value);
      frozenJSON.set(value, json);
    }
    return json;
  }
  return writeJSON(value);
}

const frozenJSON = new WeakMap<object, string>();

function writeJSON(value: AttrValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole, or a value JSON cannot write (undefined), writes nothing, as `join` of the mapped list did.
      if (i in value) out += writeJSON(value[i] as AttrValue) ?? '';
    }
    return `${out}]`;
  }
  const record = value as { readonly [key: string]: AttrValue };
  const keys = Object.keys(record);
  if (!isSorted(keys)) keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    out += `${JSON.stringify(keys[i])}:${writeJSON(record[keys[i]])}`;
  }
  return `${out}}`;
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}

/** A node of a stored region, as the printer reads it. */
export type StoredNode = {
  readonly op: string;
  readonly inputs: readonly number[];
  readonly attrs: Attrs;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly name: string;
  readonly value?: readonly number[];
};

/** A stored region: its nodes in order, which are its parameters and which its outputs (indices into nodes). */
export type StoredRegion = {
  readonly params: readonly number[];
  readonly outputs: readonly number[];
  readonly nodes: readonly StoredNode[];
};

/** Whether an attr value is a stored region ({params, outputs, nodes}). */
export function isStoredRegion(value: AttrValue | undefined): value is AttrValue & StoredRegion {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as { readonly [key: string]: AttrValue };
  return Array.isArray(record.params) && Array.isArray(record.outputs) && Array.isArray(record.nodes);
}

/** The names regions are printed under, where the attr's own name says less (a cond's two branches). */
const REGION_LABELS: { readonly [op: string]: { readonly [key: string]: readonly string[] } } = {
  cond: { branches: ['then', 'else'] },
};

/** A region of a node: the attr holding it, its label in the text IR, and the region. */
export interface LabelledRegion {
  readonly key: string;
  readonly label: string;
  readonly region: StoredRegion;
}

/** The regions a node's attrs hold (an attr that is a region, or a list of regions), in attr order. */
export function regionsOf(op: string, attrs: Attrs): LabelledRegion[] {
  const out: LabelledRegion[] = [];
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (isStoredRegion(value)) out.push({ key, label: key, region: value });
    else if (Array.isArray(value) && value.length > 0 && value.every((v) => isStoredRegion(v as AttrValue))) {
      const labels = REGION_LABELS[op]?.[key];
      (value as readonly StoredRegion[]).forEach((region, i) =>
        out.push({ key, label: labels?.[i] ?? `${key}[${i}]`, region }),
      );
    }
  }
  return out;
}

function holdsRegions(attrs: Attrs): boolean {
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (isStoredRegion(value)) return true;
    if (Array.isArray(value) && value.length > 0 && isStoredRegion(value[0] as AttrValue)) return true;
  }
  return false;
}

const groupKeys = new WeakMap<Attrs, string>();

/**
 * The key the siblings of one construct share (op, inputs, every attr but `output`), or null for a node without
 * regions. The same key as the ops layer's controlGroupKey, computed from the attrs alone.
 */
export function siblingKey(op: string, inputs: readonly number[], attrs: Attrs): string | null {
  if (!holdsRegions(attrs)) return null;
  let key = groupKeys.get(attrs);
  if (key === undefined) {
    const rest: { [key: string]: AttrValue } = {};
    for (const k of Object.keys(attrs)) if (k !== 'output') rest[k] = attrs[k];
    key = canonicalJSON(rest);
    groupKeys.set(attrs, key);
  }
  return `${op}|${inputs.join(',')}|${key}`;
}

/** How a node's region attrs appear on its line: left out (printed below it), `as %first`, or summarized. */
type RegionMode = { readonly kind: 'below' } | { readonly kind: 'as'; readonly first: string } | { kind: 'summary' };

function attrText(op: string, attrs: Attrs, mode: RegionMode): string {
  // A node whose attrs hold an `expr` (a fused group) is summarized by it; its other attrs are machine detail.
  const keys = typeof attrs.expr === 'string' ? ['expr'] : Object.keys(attrs);
  const regionKeys = new Set(regionsOf(op, attrs).map((r) => r.key));
  const parts: string[] = [];
  for (const key of keys) {
    const value = attrs[key];
    if (!regionKeys.has(key)) {
      parts.push(`${escapeName(key)}=${escapeText(canonicalJSON(value))}`);
      continue;
    }
    if (mode.kind === 'below') continue;
    if (mode.kind === 'as') parts.push(`${escapeName(key)}=as ${mode.first}`);
    else {
      const list = (isStoredRegion(value) ? [value] : value) as unknown as readonly StoredRegion[];
      const summary = list.map((r) => `(${r.params.length} params → ${r.outputs.length}, ${r.nodes.length} nodes)`);
      parts.push(`${escapeName(key)}=${list.length === 1 ? summary[0] : `[${summary.join(', ')}]`}`);
    }
  }
  return parts.length === 0 ? '' : ` {${parts.join(', ')}}`;
}

function previewValues(values: ArrayLike<number>, dtype: DType, shape: Shape): string {
  const limit = 8;
  const items = Array.from({ length: Math.min(limit, values.length) }, (_, i) =>
    dtype === 'bool' ? String(values[i] !== 0) : String(values[i]),
  );
  if (shape.length === 0) return ` <${items[0]}>`;
  return ` <${items.join(', ')}${values.length > limit ? ', …' : ''}>`;
}

/** One line for a node (of a graph or of a stored region). */
function line(
  id: number,
  node: Omit<StoredNode, 'value'>,
  values: ArrayLike<number> | undefined,
  mode: RegionMode,
): string {
  const inputs = node.inputs.map((i) => `%${i}`).join(', ');
  const value = node.op === 'constant' && values !== undefined ? previewValues(values, node.dtype, node.shape) : '';
  const type = `${node.dtype}${formatShape(node.shape)}`;
  const attrs = attrText(node.op, node.attrs, mode);
  return `%${id} = ${escapeName(node.op)}(${inputs})${attrs}${value} : ${type}  # ${escapeName(node.name)}`;
}

/** One line of the text IR: `%id = op(%in, ...) {attrs} : dtype[shape]  # name`; regions summarized by size. */
export function formatNode(node: Node): string {
  return line(node.id, node, valuesOf(node.value), { kind: 'summary' });
}

function valuesOf(value: NDArray | undefined): ArrayLike<number> | undefined {
  return value === undefined ? undefined : value.data;
}

/** Options of formatNodeLines. */
export interface FormatOptions {
  /**
   * What to print under a construct's first sibling instead of its stored regions (explain prints the regions'
   * compiled plans); lines are indented one level further. Undefined: the stored regions.
   */
  readonly regions?: (node: Node) => readonly string[] | undefined;
}

/** The text IR of nodes (in topological order) as lines, regions expanded under the first sibling of each construct. */
export function formatNodeLines(nodes: readonly Node[], options: FormatOptions = {}): string[] {
  const lines: string[] = [];
  const first = new Map<string, number>();
  for (const node of nodes) {
    const key = siblingKey(node.op, node.inputs, node.attrs);
    const leader = key === null ? undefined : first.get(key);
    if (key === null) {
      lines.push(line(node.id, node, valuesOf(node.value), { kind: 'summary' }));
    } else if (leader !== undefined) {
      lines.push(line(node.id, node, undefined, { kind: 'as', first: `%${leader}` }));
    } else {
      first.set(key, node.id);
      lines.push(line(node.id, node, undefined, { kind: 'below' }));
      const custom = options.regions?.(node);
      if (custom !== undefined) for (const text of custom) lines.push(`  ${text}`);
      else for (const region of regionsOf(node.op, node.attrs)) regionLines(region, '  ', lines, 1);
    }
  }
  return lines;
}

/** The text IR of a list of nodes (already in topological order), regions expanded. */
export function formatNodes(nodes: readonly Node[]): string {
  return formatNodeLines(nodes).join('\n');
}

/** Regions nest at most as deep as attrs do (MAX_ATTR_DEPTH); the printer stops well before the stack would. */
const MAX_PRINT_DEPTH = 64;

/** A region: `label(%0 name: type, …) -> (%i, …)`, then its nodes one level deeper (recursion over nesting only). */
function regionLines(labelled: LabelledRegion, indent: string, lines: string[], depth: number): void {
  const { label, region } = labelled;
  const params = region.params.map((p) => {
    const node = region.nodes[p];
    return node === undefined ? `%${p} ?` : `%${p} ${escapeName(node.name)}: ${node.dtype}${formatShape(node.shape)}`;
  });
  const outputs = region.outputs.map((o) => `%${o}`).join(', ');
  lines.push(`${indent}${escapeName(label)}(${params.join(', ')}) -> (${outputs})`);
  const inner = `${indent}  `;
  if (depth > MAX_PRINT_DEPTH) {
    lines.push(`${inner}… (${region.nodes.length} nodes, nested too deep to print)`);
    return;
  }
  const isParam = new Set(region.params);
  const first = new Map<string, number>();
  region.nodes.forEach((node, i) => {
    if (isParam.has(i)) return;
    const key = siblingKey(node.op, node.inputs, node.attrs);
    const leader = key === null ? undefined : first.get(key);
    if (key === null) lines.push(`${inner}${line(i, node, node.value, { kind: 'summary' })}`);
    else if (leader !== undefined)
      lines.push(`${inner}${line(i, node, undefined, { kind: 'as', first: `%${leader}` })}`);
    else {
      first.set(key, i);
      lines.push(`${inner}${line(i, node, undefined, { kind: 'below' })}`);
      for (const nested of regionsOf(node.op, node.attrs)) regionLines(nested, `${inner}  `, lines, depth + 1);
    }
  });
}
