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

/**
 * Renders DOT into `container` (replacing what was there) unless `stale()` says a newer drawing was asked for;
 * resolves to whether it drew.
 */
export async function draw(container: HTMLElement, dot: string, label: string, stale: () => boolean): Promise<boolean> {
  const viz = await graphviz();
  if (stale()) return false;
  const svg = viz.renderSVGElement(dot);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  // Graphviz sizes the picture in points: at most that size (in CSS pixels, 4/3 per point), scaled down to fit its
  // box, keeping its proportions. In a wrapping flex row (the plan beside its report) it asks for its full width.
  const width = (parseFloat(svg.getAttribute('width') ?? '0') * 4) / 3;
  svg.removeAttribute('height');
  svg.setAttribute('width', '100%');
  svg.style.maxWidth = `${width}px`;
  container.style.flexBasis = `${width}px`;
  container.replaceChildren(svg);
  return true;
}
