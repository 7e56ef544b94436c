import { FeedError, GraphError, NDArray, SessionError, Tensor } from '../graph';
import { gradients } from '../autodiff';
import { Feeds, normalizeFeeds } from './fetches';
import { Session } from './session';

export interface GradientCheckOptions {
  /** Step of the central difference (default 1e-6 for float64 graphs, 1e-2 for float32). */
  eps?: number;
  /** Largest accepted error, as |analytic − numeric| / max(1, |numeric|) (default 1e-5; 1e-2 for float32). */
  tolerance?: number;
  /**
   * Where variables that are not fed take their values from: this session's current values. Without it, their
   * initial values.
   */
  session?: Session;
}

export interface GradientCheckResult {
  ok: boolean;
  /** Largest error over all elements of all xs. */
  maxError: number;
  analytic: NDArray[];
  numeric: NDArray[];
}

/**
 * Compares `gradients(y, xs)` with central finite differences of sum(y) at the fed values. The feeds are those of
 * `Session.run` (an object keyed by name, or a Map keyed by tensor or name); a variable that is not fed has its
 * current value in `options.session`, or else its initial value; any other x must be fed. Build the graph in
 * float64 for tight tolerances.
 *
 * @example
 * const r = checkGradients(sum(mul(x, w)), [w], { x: [1, 2] });
 * r.ok // true
 */
export function checkGradients(
  y: Tensor,
  xs: readonly Tensor[],
  feeds?: Feeds,
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const graph = y.graph;
  const precise = y.dtype === 'float64';
  const eps = options.eps ?? (precise ? 1e-6 : 1e-2);
  const tolerance = options.tolerance ?? (precise ? 1e-5 : 1e-2);
  const byId = new Map<number, NDArray>();
  // Copies: the check perturbs the values in place.
  for (const [id, value] of normalizeFeeds(graph, feeds)) byId.set(id, value.clone());
  if (options.session !== undefined) {
    if (options.session.graph !== graph) {
      throw new SessionError("checkGradients: options.session runs another graph than y's");
    }
    for (const [v, value] of options.session.variableValues()) if (!byId.has(v.id)) byId.set(v.id, value);
  }
  for (const x of xs) {
    if (!(x instanceof Tensor) || x.graph !== graph) {
      throw new GraphError(`checkGradients: every x must be a Tensor of y's graph`);
    }
    if (byId.has(x.id)) continue;
    if (x.node.op !== 'variable') {
      throw new FeedError(
        `checkGradients: ${x.node.op} '${x.name}' has no value in feeds; feed every x that is not a variable`,
      );
    }
    byId.set(x.id, (x.node.value as NDArray).clone());
  }
  const values = new Map<Tensor, NDArray>();
  for (const [id, value] of byId) values.set(graph.tensor(id), value);
  const session = new Session(y.graph);
  const grads = gradients(y, xs, undefined, { unconnected: 'zero' }) as Tensor[];
  const analytic = session.run(grads, values);
  const total = (): number => {
    let s = 0;
    for (const v of session.run(y, values).data) s += v;
    return s;
  };
  const numeric = xs.map((x) => {
    const value = byId.get(x.id) as NDArray;
    const out = new NDArray(new Float64Array(value.size), value.shape, 'float64');
    for (let i = 0; i < value.size; i++) {
      const saved = value.data[i];
      value.data[i] = saved + eps;
      const plus = total();
      value.data[i] = saved - eps;
      const minus = total();
      value.data[i] = saved;
      out.data[i] = (plus - minus) / (2 * eps);
    }
    return out;
  });
  let maxError = 0;
  analytic.forEach((a, k) => {
    for (let i = 0; i < a.size; i++) {
      const n = numeric[k].data[i];
      const error = Math.abs(a.data[i] - n) / Math.max(1, Math.abs(n));
      if (!(error <= maxError)) maxError = error;
    }
  });
  return { ok: maxError <= tolerance, maxError, analytic, numeric };
}
