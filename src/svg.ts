/**
 * `lazygrad/svg`: SVG pictures of graphs (`renderSvg`), laid out by Graphviz compiled to WebAssembly: the optional
 * peer dependency `@viz-js/viz` (npm install @viz-js/viz). The Graphviz source alone, `toDot`, needs nothing and
 * is in the core entry.
 *
 * @example
 * import { renderSvg } from 'lazygrad/svg';
 * fs.writeFileSync('grads.svg', await renderSvg([loss, ...grads]));
 */
export * from './interop/svg';
