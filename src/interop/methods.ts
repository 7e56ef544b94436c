/**
 * `graph.toJSON()` and `Graph.fromJSON(json)`: the JSON format as methods of Graph. The IR in src/graph knows
 * nothing of files, so the methods are installed here, above it (as the ops layer installs Tensor's methods), and
 * `JSON.stringify(graph)` writes the format.
 */
import { Graph } from '../graph';
import { GraphJSON, graphFromJSON, graphToJSON, LoadOptions } from './json';

declare module '../graph/graph' {
  interface Graph {
    /** The graph in the JSON format (docs/format.md). @example fs.writeFileSync('g.json', JSON.stringify(g)) */
    toJSON(): GraphJSON;
  }
  // A class merges with a namespace of the same name: this declares the static method installed below.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Graph {
    /** A graph from the JSON format; untrusted input is checked. @example Graph.fromJSON(JSON.parse(text)) */
    function fromJSON(json: unknown, options?: LoadOptions): Graph;
  }
}

Object.assign(Graph.prototype, {
  toJSON(this: Graph): GraphJSON {
    return graphToJSON(this);
  },
});

(Graph as unknown as { fromJSON: (json: unknown, options?: LoadOptions) => Graph }).fromJSON = (
  json: unknown,
  options?: LoadOptions,
): Graph => graphFromJSON(json, options, 'Graph.fromJSON');
