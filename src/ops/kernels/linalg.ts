import type { Buf, TypedArray } from './types';
import { broadcastShapes } from './broadcast';
import { broadcastStrides, checkSize, shapeStr, sizeOf } from './util';

// Packing buffers are reused across calls, as a GEMM library would; past this many elements they are allocated
// per call instead so that one huge product does not pin its memory forever.
const MAX_KEPT_SCRATCH = 1 << 20;
let keptA = new Float64Array(0);
let keptB = new Float64Array(0);
let keptRow = new Float64Array(0);
// Edge tiles are staged here so the hot store path stays a straight run of 16 writes.
const tile = new Float64Array(16);

function scratchA(n: number): Float64Array {
  if (n > MAX_KEPT_SCRATCH) return new Float64Array(n);
  if (keptA.length < n) keptA = new Float64Array(Math.max(n, keptA.length * 2));
  return keptA;
}

function scratchB(n: number): Float64Array {
  if (n > MAX_KEPT_SCRATCH) return new Float64Array(n);
  if (keptB.length < n) keptB = new Float64Array(Math.max(n, keptB.length * 2));
  return keptB;
}

function scratchRow(n: number): Float64Array {
  if (n > MAX_KEPT_SCRATCH) return new Float64Array(n);
  if (keptRow.length < n) keptRow = new Float64Array(Math.max(n, keptRow.length * 2));
  return keptRow;
}

/**
 * Packs a count x K operand into panels of 4 rows, element (i, k) at [(i >> 2) * 4K + 4k + (i & 3)], padding the
 * last panel with zeros. The source is read through strides, which is how transposes cost nothing extra; the loop
 * order follows whichever source stride is unit so that reads stay sequential.
 */
function pack(src: TypedArray, off: number, si: number, sk: number, count: number, K: number, dst: Float64Array): void {
  const padded = (count + 3) & ~3;
  if (si <= sk) {
    for (let k = 0; k < K; k++) {
      const base = 4 * k;
      let p = off + k * sk;
      for (let i = 0; i < count; i++, p += si) dst[(i >> 2) * 4 * K + base + (i & 3)] = src[p];
      for (let i = count; i < padded; i++) dst[(i >> 2) * 4 * K + base + (i & 3)] = 0;
    }
  } else {
    for (let i = 0; i < padded; i++) {
      let q = (i >> 2) * 4 * K + (i & 3);
      if (i < count) {
        for (let k = 0, p = off + i * si; k < K; k++, p += sk, q += 4) dst[q] = src[p];
      } else {
        for (let k = 0; k < K; k++, q += 4) dst[q] = 0;
      }
    }
  }
}

/**
 * C = A * B over packed panels with a 4x4 tile: 16 accumulators stay in locals across the whole K loop, so every 8
 * sequential loads feed 16 multiply-adds, where naive i-k-j does a load and a store per multiply-add: ~4.4 GFLOPS
 * on 512^3 here, about 4x i-k-j.
 */
function gemmPacked(pa: Float64Array, pb: Float64Array, M: number, N: number, K: number, od: TypedArray, oOff: number) {
  const K4 = 4 * K;
  for (let jb = 0; jb < N; jb += 4) {
    const pbBase = (jb >> 2) * K4;
    const fullJ = jb + 4 <= N;
    for (let ib = 0; ib < M; ib += 4) {
      let pA = (ib >> 2) * K4;
      let pB = pbBase;
      let c00 = 0;
      let c01 = 0;
      let c02 = 0;
      let c03 = 0;
      let c10 = 0;
      let c11 = 0;
      let c12 = 0;
      let c13 = 0;
      let c20 = 0;
      let c21 = 0;
      let c22 = 0;
      let c23 = 0;
      let c30 = 0;
      let c31 = 0;
      let c32 = 0;
      let c33 = 0;
      for (let k = 0; k < K; k++) {
        const b0 = pb[pB];
        const b1 = pb[pB + 1];
        const b2 = pb[pB + 2];
        const b3 = pb[pB + 3];
        const a0 = pa[pA];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        const a1 = pa[pA + 1];
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        const a2 = pa[pA + 2];
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        const a3 = pa[pA + 3];
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
        pA += 4;
        pB += 4;
      }
      if (fullJ && ib + 4 <= M) {
        let o = oOff + ib * N + jb;
        od[o] = c00;
        od[o + 1] = c01;
        od[o + 2] = c02;
        od[o + 3] = c03;
        o += N;
        od[o] = c10;
        od[o + 1] = c11;
        od[o + 2] = c12;
        od[o + 3] = c13;
        o += N;
        od[o] = c20;
        od[o + 1] = c21;
        od[o + 2] = c22;
        od[o + 3] = c23;
        o += N;
        od[o] = c30;
        od[o + 1] = c31;
        od[o + 2] = c32;
        od[o + 3] = c33;
      } else {
        tile[0] = c00;
        tile[1] = c01;
        tile[2] = c02;
        tile[3] = c03;
        tile[4] = c10;
        tile[5] = c11;
        tile[6] = c12;
        tile[7] = c13;
        tile[8] = c20;
        tile[9] = c21;
        tile[10] = c22;
        tile[11] = c23;
        tile[12] = c30;
        tile[13] = c31;
        tile[14] = c32;
        tile[15] = c33;
        const mi = Math.min(4, M - ib);
        const nj = Math.min(4, N - jb);
        for (let ii = 0; ii < mi; ii++) {
          const o = oOff + (ib + ii) * N + jb;
          for (let jj = 0; jj < nj; jj++) od[o + jj] = tile[ii * 4 + jj];
        }
      }
    }
  }
}

/**
 * Unpacked product for matrix-vector shapes (M or N is 1). With unit-stride rows of B it is i-k-j into a float64
 * row accumulator; otherwise B's columns are unit-stride (transposed B, or N = 1) and each output is a dot product.
 */
function gemmSimple(
  ad: TypedArray,
  aOff: number,
  asi: number,
  ask: number,
  bd: TypedArray,
  bOff: number,
  bsk: number,
  bsj: number,
  od: TypedArray,
  oOff: number,
  M: number,
  N: number,
  K: number,
): void {
  if (bsj === 1 && N > 1) {
    const row = scratchRow(N);
    for (let i = 0; i < M; i++) {
      row.fill(0, 0, N);
      for (let k = 0, pa = aOff + i * asi, pb = bOff; k < K; k++, pa += ask, pb += bsk) {
        const aik = ad[pa];
        for (let j = 0; j < N; j++) row[j] += aik * bd[pb + j];
      }
      const o = oOff + i * N;
      for (let j = 0; j < N; j++) od[o + j] = row[j];
    }
  } else {
    for (let i = 0; i < M; i++) {
      const aRow = aOff + i * asi;
      const o = oOff + i * N;
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0, pa = aRow, pb = bOff + j * bsj; k < K; k++, pa += ask, pb += bsk) s += ad[pa] * bd[pb];
        od[o + j] = s;
      }
    }
  }
}

/** A batched matMul's sizes: the matrices' M, K, N, the operands' batch dims and their broadcast, the batch count. */
export interface MatMulDims {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly aBatch: readonly number[];
  readonly bBatch: readonly number[];
  readonly batchShape: readonly number[];
  readonly batch: number;
}

/**
 * Checks a batched matMul's operands and output against each other in O(rank) (the JS kernel and the wasm kernels
 * share it) and returns its sizes; throws when they do not fit.
 */
export function matMulDims(a: Buf, b: Buf, out: Buf, transposeA: boolean, transposeB: boolean): MatMulDims {
  const as = a.shape;
  const bs = b.shape;
  const ra = as.length;
  const rb = bs.length;
  if (ra < 2 || rb < 2) throw new Error(`matMul: operands must have rank >= 2, got ${shapeStr(as)}, ${shapeStr(bs)}`);
  const M = transposeA ? as[ra - 1] : as[ra - 2];
  const K = transposeA ? as[ra - 2] : as[ra - 1];
  const Kb = transposeB ? bs[rb - 1] : bs[rb - 2];
  const N = transposeB ? bs[rb - 2] : bs[rb - 1];
  const aBatch = as.slice(0, ra - 2);
  const bBatch = bs.slice(0, rb - 2);
  const batchShape = broadcastShapes(aBatch, bBatch);
  if (K !== Kb || batchShape === null) {
    const how = `transposeA=${transposeA}, transposeB=${transposeB}`;
    throw new Error(`matMul: incompatible ${shapeStr(as)} x ${shapeStr(bs)} (${how})`);
  }
  const os = out.shape;
  let outOk = os.length === batchShape.length + 2 && os[os.length - 2] === M && os[os.length - 1] === N;
  for (let d = 0; outOk && d < batchShape.length; d++) outOk = os[d] === batchShape[d];
  if (!outOk) throw new Error(`matMul: output ${shapeStr(os)} for ${shapeStr(as)} x ${shapeStr(bs)}`);
  checkSize('matMul', a);
  checkSize('matMul', b);
  checkSize('matMul', out);
  return { M, K, N, aBatch, bBatch, batchShape, batch: sizeOf(batchShape) };
}

/**
 * Batched matrix product: a is [...batchA, M, K] ([..., K, M] if transposeA), b is [...batchB, K, N]
 * ([..., N, K] if transposeB); out is [...broadcast(batchA, batchB), M, N]. Accumulates in float64.
 */
export function matMul(a: Buf, b: Buf, out: Buf, transposeA: boolean, transposeB: boolean): void {
  const { M, K, N, aBatch, bBatch, batchShape, batch } = matMulDims(a, b, out, transposeA, transposeB);
  const od = out.data;
  if (batch === 0 || M === 0 || N === 0) return;
  if (K === 0) {
    od.fill(0);
    return;
  }
  const ad = a.data;
  const bd = b.data;
  const asi = transposeA ? 1 : K;
  const ask = transposeA ? M : 1;
  const bsk = transposeB ? 1 : N;
  const bsj = transposeB ? K : 1;
  const aBS = broadcastStrides(aBatch, batchShape);
  const bBS = broadcastStrides(bBatch, batchShape);
  const br = batchShape.length;
  for (let d = 0; d < br; d++) {
    aBS[d] *= M * K;
    bBS[d] *= K * N;
  }
  // Packing wins from 2x2 up (measured, even for batches of tiny matrices); vector products would leave 3/4 of
  // every tile as padding.
  const packed = M >= 2 && N >= 2;
  const Mp = (M + 3) & ~3;
  const Np = (N + 3) & ~3;
  const pa = packed ? scratchA(Mp * K) : null;
  const pb = packed ? scratchB(Np * K) : null;
  // A broadcast operand is packed once, not once per batch entry.
  let packedAOff = -1;
  let packedBOff = -1;
  const idx = new Int32Array(br);
  let aOff = 0;
  let bOff = 0;
  for (let t = 0, oOff = 0; t < batch; t++, oOff += M * N) {
    if (pa !== null && pb !== null) {
      if (aOff !== packedAOff) pack(ad, aOff, asi, ask, M, K, pa);
      if (bOff !== packedBOff) pack(bd, bOff, bsj, bsk, N, K, pb);
      packedAOff = aOff;
      packedBOff = bOff;
      gemmPacked(pa, pb, M, N, K, od, oOff);
    } else {
      gemmSimple(ad, aOff, asi, ask, bd, bOff, bsk, bsj, od, oOff, M, N, K);
    }
    for (let d = br - 1; d >= 0; d--) {
      aOff += aBS[d];
      bOff += bBS[d];
      if (++idx[d] < batchShape[d]) break;
      aOff -= aBS[d] * batchShape[d];
      bOff -= bBS[d] * batchShape[d];
      idx[d] = 0;
    }
  }
}
