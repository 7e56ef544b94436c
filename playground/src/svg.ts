/**
 * The graph as inline SVG, laid out in layers (inputs on the left, each node one layer right of its deepest
 * operand), one `<g class="node">` per row and each edge labelled with its local derivative, as in the tutorial's
 * figure. A layout of our own: Graphviz's wasm would add ~1.4 MB to a page whose graphs have a dozen nodes.
 */
import { Evaluation } from './model';

const SVG = 'http://www.w3.org/2000/svg';
const COLUMN = 170;
const ROW = 84;
const RADIUS = 30;

function make<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

function short(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x);
}

/** Draws the evaluation's rows; `data-row` on each node group ties it to the tables' rows. */
export function drawGraph(evaluation: Evaluation): SVGSVGElement {
  const { rows } = evaluation;
  const layers: number[][] = [];
  rows.forEach((row, r) => (layers[row.layer] ??= []).push(r));
  const tallest = Math.max(...layers.map((l) => l.length));
  const position = rows.map((row, r) => {
    const layer = layers[row.layer];
    const slot = layer.indexOf(r);
    return { x: 60 + row.layer * COLUMN, y: 50 + (slot + (tallest - layer.length) / 2) * ROW };
  });
  const width = 120 + (layers.length - 1) * COLUMN;
  const height = 100 + (tallest - 1) * ROW;
  const svg = make('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' });
  svg.setAttribute('aria-label', `computational graph with ${rows.length} nodes`);
  const defs = make('defs', {});
  const marker = make('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 10,
    refY: 5,
    markerWidth: 6,
    markerHeight: 6,
    orient: 'auto',
  });
  marker.appendChild(make('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  const edges = make('g', { class: 'edges' });
  rows.forEach((row, r) => {
    row.operands.forEach((operand, k) => {
      const from = position[operand];
      const to = position[r];
      const dx = to.x - from.x;
      const dy = to.y - from.y;
      const length = Math.hypot(dx, dy) || 1;
      // Two edges between the same pair (x × x) are bent apart so both labels show.
      const twin = row.operands.indexOf(operand) !== row.operands.lastIndexOf(operand);
      const bend = twin ? (k === 0 ? -24 : 24) : 0;
      const start = { x: from.x + (dx / length) * RADIUS, y: from.y + (dy / length) * RADIUS };
      const end = { x: to.x - (dx / length) * RADIUS, y: to.y - (dy / length) * RADIUS };
      const control = {
        x: (start.x + end.x) / 2 - (dy / length) * bend,
        y: (start.y + end.y) / 2 + (dx / length) * bend,
      };
      edges.appendChild(
        make('path', {
          d: `M${start.x},${start.y} Q${control.x},${control.y} ${end.x},${end.y}`,
          class: 'edge',
          'marker-end': 'url(#arrow)',
        }),
      );
      const label = make('text', { x: control.x, y: control.y - 4, class: 'edge-label', 'text-anchor': 'middle' });
      label.textContent = `∂${row.name}/∂${rows[operand].name} = ${short(row.local[k])}`;
      edges.appendChild(label);
    });
  });
  svg.appendChild(edges);
  rows.forEach((row, r) => {
    const { x, y } = position[r];
    const g = make('g', { class: 'node', 'data-row': r, transform: `translate(${x},${y})` });
    const title = make('title', {});
    title.textContent = `${row.name} = ${row.label} = ${short(row.value)}`;
    g.appendChild(title);
    g.appendChild(make('circle', { r: RADIUS }));
    const name = make('text', { y: -4, 'text-anchor': 'middle', class: 'node-name' });
    name.textContent = row.name;
    const value = make('text', { y: 12, 'text-anchor': 'middle', class: 'node-value' });
    value.textContent = short(row.value);
    g.append(name, value);
    const label = make('text', { y: RADIUS + 14, 'text-anchor': 'middle', class: 'node-label' });
    label.textContent = row.operands.length === 0 ? '' : row.label;
    g.appendChild(label);
    svg.appendChild(g);
  });
  return svg;
}
