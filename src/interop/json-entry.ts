/** The JSON format, as the core entry exports it (with `graph.toJSON()` and `Graph.fromJSON`). */
import './methods';

export * from './json';
export type { LoadLimits } from './rebuild';
