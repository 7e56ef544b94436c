/** Kernels of the normalization family: the windowed sum along one axis that local response normalization uses. */
import type { Buf } from './types';

/**
 * out[…, c, …] = Σ x[…, k, …] over k in [c − radius, c + radius] ∩ [0, n), along `axis`; summed from the lowest k
 * up, the order the ONNX form (a sum of shifted slices) also uses.
 */
export function windowSum(x: Buf, axis: number, radius: number, out: Buf): void {
  const shape = x.shape;
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  const n = shape[axis];
  const xd = x.data;
  const od = out.data;
  if (od.length !== xd.length) throw new Error(`windowSum: output of ${od.length} elements for ${xd.length}`);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let c = 0; c < n; c++) {
      const lo = c - radius < 0 ? 0 : c - radius;
      const hi = c + radius > n - 1 ? n - 1 : c + radius;
      const target = base + c * inner;
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let k = lo; k <= hi; k++) s += xd[base + k * inner + i];
        od[target + i] = s;
      }
    }
  }
}

/**
 * Local response normalization along `axis`: out = x · (bias + alpha · Σ x²)^−beta, the sum over the window of
 * windowSum (computed as tfjs's CPU kernel does: the squares summed from the lowest channel up, then Math.pow).
 */
export function localResponseNormalization(
  x: Buf,
  axis: number,
  radius: number,
  bias: number,
  alpha: number,
  beta: number,
  out: Buf,
): void {
  const shape = x.shape;
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  const n = shape[axis];
  const xd = x.data;
  const od = out.data;
  if (od.length !== xd.length) throw new Error(`localResponseNormalization: output of ${od.length} for ${xd.length}`);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let c = 0; c < n; c++) {
      const lo = c - radius < 0 ? 0 : c - radius;
      const hi = c + radius > n - 1 ? n - 1 : c + radius;
      const target = base + c * inner;
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let k = lo; k <= hi; k++) {
          const v = xd[base + k * inner + i];
          s += v * v;
        }
        od[target + i] = xd[target + i] * Math.pow(bias + alpha * s, -beta);
      }
    }
  }
}
