/**
 * Pictures of graphs: `toDot` gives the Graphviz source, and Graphviz compiled to WebAssembly (@viz-js/viz) lays it
 * out, so nothing needs a system install and the same code runs in browsers.
 */
import { DotOptions, Graph, GraphError, Tensor, toDot } from '../graph';

/** Options of `renderSvg`: those of `toDot`, with pictures' defaults. */
export interface SvgOptions extends DotOptions {
  /**
   * Collapse name scopes into one box each: `true`, `false`, or above this many nodes (default 150), so a large
   * gradient graph stays readable.
   */
  collapse?: boolean | number;
  /** A legend of the node colours (default true). */
  legend?: boolean;
  /** Each node's text IR line as its tooltip (default true). */
  tooltips?: boolean;
}

/** The part of @viz-js/viz used here. */
interface Viz {
  renderString(input: string, options: { format: string; engine: string }): string;
}

const VIZ_MISSING =
  "renderSvg needs the '@viz-js/viz' package (Graphviz compiled to WebAssembly, an optional peer dependency of " +
  'lazygrad): npm install @viz-js/viz. toDot(graph) gives the Graphviz source without it.';

/** Whether loading failed because the package itself is not installed (CommonJS or ES module resolution). */
function isMissing(error: unknown, id: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as { message?: unknown } | null)?.message);
  return (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && message.includes(`'${id}'`);
}

/** Graphviz compiles to a large WebAssembly module: instantiate it once per process, on first use. */
let vizInstance: Promise<Viz> | undefined;

function loadViz(): Promise<Viz> {
  if (vizInstance === undefined) {
    // A dynamic import keeps Graphviz out of the core's load path (and lets bundlers split it off).
    vizInstance = import('@viz-js/viz').then(
      (module) => module.instance(),
      (error: unknown) => {
        throw isMissing(error, '@viz-js/viz') ? new GraphError(VIZ_MISSING) : error;
      },
    );
    vizInstance.catch(() => {
      vizInstance = undefined;
    });
  }
  return vizInstance;
}

/**
 * An SVG picture of a graph, or of the subgraph computing some tensors. Placeholders, variables, constants, fused
 * groups and gradient nodes have colours of their own, explained by a legend; graphs larger than
 * `options.collapse` nodes (150) have their name scopes collapsed into boxes. Nodes carry classes
 * (`lazygrad-placeholder`, `lazygrad-gradient`, ...) for further styling.
 *
 * @example fs.writeFileSync('grads.svg', await renderSvg([loss, ...grads]))
 */
export async function renderSvg(
  target: Graph | Tensor | readonly (Tensor | null)[],
  options: SvgOptions = {},
): Promise<string> {
  const dot = toDot(target, { collapse: 150, legend: true, tooltips: true, ...options });
  const viz = await loadViz();
  try {
    return viz.renderString(dot, { format: 'svg', engine: 'dot' });
  } catch (error) {
    throw new GraphError(`renderSvg: Graphviz could not lay out the graph: ${(error as Error).message}`);
  }
}
