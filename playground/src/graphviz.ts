/**
 * Every graph on the page is drawn by Graphviz compiled to WebAssembly (@viz-js/viz, lazygrad/svg's optional peer).
 * It is loaded by a dynamic import, which the build splits into a chunk of its own: the page computes and shows its
 * values first and draws once Graphviz has loaded. Why Graphviz rather than a layout of our own: a gradient graph
 * has 30–100 nodes, and a Hessian's more, and only a real layered layout (crossing minimization, edge routing, label
 * placement) keeps those legible. The DOT comes from dot.ts.
 */

/** The part of @viz-js/viz the page uses. */
interface Viz {
  renderSVGElement(dot: string, options?: { engine?: string }): SVGSVGElement;
}

let viz: Promise<Viz> | undefined;

/** Graphviz, instantiated once, on first use (a separate chunk of the build). */
export function graphviz(): Promise<Viz> {
  viz ??= import('@viz-js/viz').then((module) => module.instance() as Promise<Viz>);
  return viz;
}

/** Renders DOT into `container` (replacing what was there) unless `stale()` says a newer drawing was asked for. */
export async function draw(container: HTMLElement, dot: string, label: string, stale: () => boolean): Promise<void> {
  const svg = (await graphviz()).renderSVGElement(dot);
  if (stale()) return;
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  // Graphviz sizes the picture in points; the page scales it to its box, keeping the proportions.
  svg.removeAttribute('height');
  svg.style.maxWidth = `${parseFloat(svg.getAttribute('width') ?? '0') * 1.2}px`;
  svg.setAttribute('width', '100%');
  container.replaceChildren(svg);
}
