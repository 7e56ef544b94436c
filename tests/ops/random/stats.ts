/** Small statistics helpers for the random-op tests: moments, correlation and the Kolmogorov–Smirnov distance. */

export function mean(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total / values.length;
}

export function std(values: ArrayLike<number>): number {
  const m = mean(values);
  let total = 0;
  for (let i = 0; i < values.length; i++) total += (values[i] - m) ** 2;
  return Math.sqrt(total / values.length);
}

/** Pearson correlation of two equally long samples. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Correlation of each value with the next one in the same sample. */
export function lagCorrelation(values: ArrayLike<number>): number {
  const n = values.length - 1;
  const head = Float64Array.from({ length: n }, (_, i) => values[i]);
  const tail = Float64Array.from({ length: n }, (_, i) => values[i + 1]);
  return correlation(head, tail);
}

/** erf by Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7: far below the KS thresholds used). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** The standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/**
 * The Kolmogorov–Smirnov distance between a sample and a continuous CDF: the largest gap between the empirical
 * CDF and the CDF. For n samples from the CDF it is about 1.36 / √n at the 5% level (0.0043 for n = 100,000).
 */
export function ksDistance(values: ArrayLike<number>, cdf: (x: number) => number): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const p = cdf(sorted[i]);
    worst = Math.max(worst, Math.abs(p - i / n), Math.abs((i + 1) / n - p));
  }
  return worst;
}
