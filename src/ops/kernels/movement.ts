import type { Buf, TypedArray } from './types';
import { checkSize, coalesce, contiguousStrides, shapeStr } from './util';

// 32x32 tiles keep both the rows read and the rows written of one tile in L1 (8 KB each at float64).
const TILE = 32;

/**
 * Writes the [P, Q] matrix at od[oOff] from xd[xOff] with out (p, q) = x[p * s0 + q * s1]. A strided read goes in
 * square tiles so that neither side walks memory a whole row apart per element; a unit-stride one is a row copy.
 */
function transposeTiled(
  xd: TypedArray,
  xOff: number,
  s0: number,
  s1: number,
  od: TypedArray,
  oOff: number,
  P: number,
  Q: number,
): void {
  if (s1 === 1) {
    for (let p = 0, o = oOff; p < P; p++) {
      for (let q = 0, i = xOff + p * s0; q < Q; q++) od[o++] = xd[i++];
    }
    return;
  }
  for (let p0 = 0; p0 < P; p0 += TILE) {
    const p1 = Math.min(p0 + TILE, P);
    for (let q0 = 0; q0 < Q; q0 += TILE) {
      const q1 = Math.min(q0 + TILE, Q);
      for (let p = p0; p < p1; p++) {
        let o = oOff + p * Q + q0;
        for (let q = q0, i = xOff + p * s0 + q0 * s1; q < q1; q++, i += s1) od[o++] = xd[i];
      }
    }
  }
}

/** out = x with its dims permuted: out.shape[i] = x.shape[perm[i]]. */
export function transpose(x: Buf, perm: readonly number[], out: Buf): void {
  const xs = x.shape;
  const r = xs.length;
  if (perm.length !== r) throw new Error(`transpose: perm [${perm.join(',')}] for shape ${shapeStr(xs)}`);
  const n = checkSize('transpose', x);
  checkSize('transpose', out);
  const xSt = contiguousStrides(xs);
  const outShape = new Array<number>(r);
  const permSt = new Array<number>(r);
  const seen = new Uint8Array(r);
  for (let i = 0; i < r; i++) {
    const p = perm[i];
    if (!(p >= 0 && p < r) || seen[p]) throw new Error(`transpose: invalid perm [${perm.join(',')}]`);
    seen[p] = 1;
    if (out.shape[i] !== xs[p]) {
      throw new Error(`transpose: output ${shapeStr(out.shape)} for ${shapeStr(xs)} by [${perm.join(',')}]`);
    }
    outShape[i] = xs[p];
    permSt[i] = xSt[p];
  }
  if (n === 0) return;
  const xd = x.data;
  const od = out.data;
  // Coalescing turns a permutation that keeps neighbouring dims together into a lower-rank one (or a plain copy).
  const plan = coalesce(outShape, [permSt]);
  const shape = plan.shape;
  const st = plan.strides[0];
  const m = shape.length;
  if (m === 1) {
    od.set(xd);
    return;
  }
  // Outer dims by odometer, the last two as one tiled 2-D transpose per step.
  const P = shape[m - 2];
  const Q = shape[m - 1];
  const s0 = st[m - 2];
  const s1 = st[m - 1];
  const outer = n / (P * Q);
  const idx = new Int32Array(m);
  let ix = 0;
  for (let t = 0, o = 0; t < outer; t++, o += P * Q) {
    transposeTiled(xd, ix, s0, s1, od, o, P, Q);
    for (let d = m - 3; d >= 0; d--) {
      ix += st[d];
      if (++idx[d] < shape[d]) break;
      ix -= st[d] * shape[d];
      idx[d] = 0;
    }
  }
}
