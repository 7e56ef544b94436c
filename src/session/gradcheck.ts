import { ArrayValue, GraphError, NDArray, Tensor } from '../graph';
import { gradients } from '../autodiff';
import { Session } from './session';

export interface GradientCheckOptions {
  /** Step of the central difference (default 1e-6 for float64 graphs, 1e-2 for float32). */
  eps?: number;
  /** Largest accepted error, as |analytic − numeric| / max(1, |numeric|) (default 1e-5; 1e-2 for float32). */
  tolerance?: number;
}

export interface GradientCheckResult {
  ok: boolean;
  /** Largest error over all elements of all xs. */
  maxError: number;
  analytic: NDArray[];
  numeric: NDArray[];
}

/**
 * Compares `gradients(y, xs)` with central finite differences of sum(y). Each x must be fed (any tensor can
 * be): its value comes from `feeds`. Build the graph in float64 for tight tolerances.
 *
 * @example
 * const r = checkGradients(sum(mul(x, x)), [x], new Map([[x, NDArray.from([1, 2], 'float64')]]));
 * r.ok // true
 */
export function checkGradients(
  y: Tensor,
  xs: readonly Tensor[],
  feeds: ReadonlyMap<Tensor, ArrayValue>,
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const precise = y.dtype === 'float64';
  const eps = options.eps ?? (precise ? 1e-6 : 1e-2);
  const tolerance = options.tolerance ?? (precise ? 1e-5 : 1e-2);
  const values = new Map<Tensor, NDArray>();
  for (const [t, v] of feeds) values.set(t, NDArray.from(v, t.dtype).clone());
  for (const x of xs) {
    if (!values.has(x)) throw new GraphError(`checkGradients: '${x.name}' has no value in feeds; feed every x`);
  }
  const session = new Session(y.graph);
  const grads = gradients(y, xs, undefined, { unconnected: 'zero' }) as Tensor[];
  const analytic = session.run(grads, values);
  const total = (): number => {
    let s = 0;
    for (const v of session.run(y, values).data) s += v;
    return s;
  };
  const numeric = xs.map((x) => {
    const value = values.get(x) as NDArray;
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
