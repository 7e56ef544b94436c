// Skinny products: C[M x N] = act(op(A)·op(B) + bias) for M ≤ SKINNY_M rows (a batch-1 dense layer is M = 1).
// With so few rows each element of B is used at most M times, so the product is bound by reading B once: packing B
// (matmul.ts) would read and write all of it again per call for no reuse. These kernels read B where it lies:
// - B row-major (csB = 1, the MatMul/Gemm weight [K, N]): SIMD over N. A block of output columns keeps its
//   accumulators in registers for the whole of K; per k it splats one A value per row and streams one row segment of
//   B (contiguous, the rows a fixed stride apart, which the hardware prefetcher follows).
// - B stored transposed (rsB = 1, a [N, K] weight read as Bᵀ): SIMD over K. Four output columns are four dot
//   products of contiguous rows; their accumulators are summed across lanes at the end (one shuffle tree).
// A is read through its element strides (splat loads need no particular layout); for the Bᵀ form its rows must be
// contiguous, and a transposed A is first copied to scratch.
import { applyAct, VMath } from './vmath';
import { zeroEpilogue } from './matmul';

/** The most rows of A the skinny kernels take (the JS side routes larger M to matmul). */
export const SKINNY_M = 8;
// Floats of B (4 MB, past L2) from which row streaming (below) beats the register-blocked column kernels for M > 1;
// one row (M = 1) always streams.
const STREAM_FLOATS: i64 = 1 << 20;

function finish(v: v128, bias: usize, j: i32, act: i32): v128 {
  if (bias != 0) v = f32x4.add(v, v128.load(bias + <usize>(j * 4)));
  if (act != 0) v = applyAct(v, act);
  return v;
}

/** One output element: act(sum + bias[j]). */
function finishScalar(sum: f32, bias: usize, j: i32, act: i32): f32 {
  if (bias != 0) sum += load<f32>(bias + <usize>(j * 4));
  if (act == 0) return sum;
  return f32x4.extract_lane(applyAct(f32x4.splat(sum), act), 0);
}

// ---- B row-major: SIMD over N ----

/** Row 0 of A against 32 columns [j, j + 32): eight accumulators. */
function rows1x32(a: usize, sa: usize, b: usize, ldb: usize, K: i32, c: usize, j: i32, bias: usize, act: i32): void {
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  let c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0);
  let c5 = f32x4.splat(0);
  let c6 = f32x4.splat(0);
  let c7 = f32x4.splat(0);
  let pa = a;
  let pb = b + <usize>(j * 4);
  for (let k = 0; k < K; k++) {
    const s = v128.load32_splat(pa);
    c0 = VMath.madd(s, v128.load(pb), c0);
    c1 = VMath.madd(s, v128.load(pb, 16), c1);
    c2 = VMath.madd(s, v128.load(pb, 32), c2);
    c3 = VMath.madd(s, v128.load(pb, 48), c3);
    c4 = VMath.madd(s, v128.load(pb, 64), c4);
    c5 = VMath.madd(s, v128.load(pb, 80), c5);
    c6 = VMath.madd(s, v128.load(pb, 96), c6);
    c7 = VMath.madd(s, v128.load(pb, 112), c7);
    pa += sa;
    pb += ldb;
  }
  const p = c + <usize>(j * 4);
  v128.store(p, finish(c0, bias, j, act));
  v128.store(p, finish(c1, bias, j + 4, act), 16);
  v128.store(p, finish(c2, bias, j + 8, act), 32);
  v128.store(p, finish(c3, bias, j + 12, act), 48);
  v128.store(p, finish(c4, bias, j + 16, act), 64);
  v128.store(p, finish(c5, bias, j + 20, act), 80);
  v128.store(p, finish(c6, bias, j + 24, act), 96);
  v128.store(p, finish(c7, bias, j + 28, act), 112);
}

/** Rows 0 and 1 of A (row stride ra bytes) against 16 columns: eight accumulators. */
function rows2x16(
  a: usize,
  ra: usize,
  sa: usize,
  b: usize,
  ldb: usize,
  K: i32,
  c: usize,
  ldc: usize,
  j: i32,
  bias: usize,
  act: i32,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c02 = f32x4.splat(0);
  let c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c12 = f32x4.splat(0);
  let c13 = f32x4.splat(0);
  let pa = a;
  let pb = b + <usize>(j * 4);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
    let s = v128.load32_splat(pa);
    c00 = VMath.madd(s, b0, c00);
    c01 = VMath.madd(s, b1, c01);
    c02 = VMath.madd(s, b2, c02);
    c03 = VMath.madd(s, b3, c03);
    s = v128.load32_splat(pa + ra);
    c10 = VMath.madd(s, b0, c10);
    c11 = VMath.madd(s, b1, c11);
    c12 = VMath.madd(s, b2, c12);
    c13 = VMath.madd(s, b3, c13);
    pa += sa;
    pb += ldb;
  }
  let p = c + <usize>(j * 4);
  v128.store(p, finish(c00, bias, j, act));
  v128.store(p, finish(c01, bias, j + 4, act), 16);
  v128.store(p, finish(c02, bias, j + 8, act), 32);
  v128.store(p, finish(c03, bias, j + 12, act), 48);
  p += ldc;
  v128.store(p, finish(c10, bias, j, act));
  v128.store(p, finish(c11, bias, j + 4, act), 16);
  v128.store(p, finish(c12, bias, j + 8, act), 32);
  v128.store(p, finish(c13, bias, j + 12, act), 48);
}

/**
 * Up to four rows of A (rows ≥ mr repeat row 0, computed and not stored) against 8 columns: eight accumulators.
 */
function rows4x8(
  a: usize,
  ra: usize,
  sa: usize,
  mr: i32,
  b: usize,
  ldb: usize,
  K: i32,
  c: usize,
  ldc: usize,
  j: i32,
  bias: usize,
  act: i32,
): void {
  const r1: usize = mr > 1 ? ra : 0;
  const r2: usize = mr > 2 ? 2 * ra : 0;
  const r3: usize = mr > 3 ? 3 * ra : 0;
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let pa = a;
  let pb = b + <usize>(j * 4);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let s = v128.load32_splat(pa);
    c00 = VMath.madd(s, b0, c00);
    c01 = VMath.madd(s, b1, c01);
    s = v128.load32_splat(pa + r1);
    c10 = VMath.madd(s, b0, c10);
    c11 = VMath.madd(s, b1, c11);
    s = v128.load32_splat(pa + r2);
    c20 = VMath.madd(s, b0, c20);
    c21 = VMath.madd(s, b1, c21);
    s = v128.load32_splat(pa + r3);
    c30 = VMath.madd(s, b0, c30);
    c31 = VMath.madd(s, b1, c31);
    pa += sa;
    pb += ldb;
  }
  let p = c + <usize>(j * 4);
  v128.store(p, finish(c00, bias, j, act));
  v128.store(p, finish(c01, bias, j + 4, act), 16);
  if (mr < 2) return;
  p += ldc;
  v128.store(p, finish(c10, bias, j, act));
  v128.store(p, finish(c11, bias, j + 4, act), 16);
  if (mr < 3) return;
  p += ldc;
  v128.store(p, finish(c20, bias, j, act));
  v128.store(p, finish(c21, bias, j + 4, act), 16);
  if (mr < 4) return;
  p += ldc;
  v128.store(p, finish(c30, bias, j, act));
  v128.store(p, finish(c31, bias, j + 4, act), 16);
}

/** Every row (M ≤ 8; rows ≥ M repeat row 0, not stored) against 4 columns: the tail of a wider block. */
function rowsAllx4(
  a: usize,
  ra: usize,
  sa: usize,
  M: i32,
  b: usize,
  ldb: usize,
  K: i32,
  c: usize,
  ldc: usize,
  j: i32,
  bias: usize,
  act: i32,
): void {
  const r1: usize = M > 1 ? ra : 0;
  const r2: usize = M > 2 ? 2 * ra : 0;
  const r3: usize = M > 3 ? 3 * ra : 0;
  const r4: usize = M > 4 ? 4 * ra : 0;
  const r5: usize = M > 5 ? 5 * ra : 0;
  const r6: usize = M > 6 ? 6 * ra : 0;
  const r7: usize = M > 7 ? 7 * ra : 0;
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  let c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0);
  let c5 = f32x4.splat(0);
  let c6 = f32x4.splat(0);
  let c7 = f32x4.splat(0);
  let pa = a;
  let pb = b + <usize>(j * 4);
  for (let k = 0; k < K; k++) {
    const bv = v128.load(pb);
    c0 = VMath.madd(v128.load32_splat(pa), bv, c0);
    c1 = VMath.madd(v128.load32_splat(pa + r1), bv, c1);
    c2 = VMath.madd(v128.load32_splat(pa + r2), bv, c2);
    c3 = VMath.madd(v128.load32_splat(pa + r3), bv, c3);
    c4 = VMath.madd(v128.load32_splat(pa + r4), bv, c4);
    c5 = VMath.madd(v128.load32_splat(pa + r5), bv, c5);
    c6 = VMath.madd(v128.load32_splat(pa + r6), bv, c6);
    c7 = VMath.madd(v128.load32_splat(pa + r7), bv, c7);
    pa += sa;
    pb += ldb;
  }
  const p = c + <usize>(j * 4);
  v128.store(p, finish(c0, bias, j, act));
  if (M > 1) v128.store(p + ldc, finish(c1, bias, j, act));
  if (M > 2) v128.store(p + 2 * ldc, finish(c2, bias, j, act));
  if (M > 3) v128.store(p + 3 * ldc, finish(c3, bias, j, act));
  if (M > 4) v128.store(p + 4 * ldc, finish(c4, bias, j, act));
  if (M > 5) v128.store(p + 5 * ldc, finish(c5, bias, j, act));
  if (M > 6) v128.store(p + 6 * ldc, finish(c6, bias, j, act));
  if (M > 7) v128.store(p + 7 * ldc, finish(c7, bias, j, act));
}

/** Columns [j0, N) one at a time (fewer than 4), every row: scalar sums. */
function scalarColumns(
  a: usize,
  ra: usize,
  sa: usize,
  M: i32,
  b: usize,
  ldb: usize,
  cb: usize,
  K: i32,
  c: usize,
  ldc: usize,
  j0: i32,
  N: i32,
  bias: usize,
  act: i32,
): void {
  for (let j = j0; j < N; j++) {
    for (let i = 0; i < M; i++) {
      let pa = a + <usize>i * ra;
      let pb = b + <usize>j * cb;
      let sum: f32 = 0;
      for (let k = 0; k < K; k++) {
        sum += load<f32>(pa) * load<f32>(pb);
        pa += sa;
        pb += ldb;
      }
      store<f32>(c + <usize>i * ldc + <usize>(j * 4), finishScalar(sum, bias, j, act));
    }
  }
}

// Row streaming, for a B larger than the caches: the register kernels above walk B a column block at a time, one
// short segment per row a whole row apart, which measured 2.4 GFLOPS at 2048 x 2048 (each block touches every page of
// B). Here four consecutive rows of B are read end to end per step and the output rows (a chunk of W columns, kept
// in L1) are updated in place: out[i, j] += Σ_{r<4} A[i, k + r]·B[k + r, j].

/** C rows [0, M) columns [j0, j0 + w) (w a multiple of 4) += A[:, k0..k0+kn) · B[k0..k0+kn, j0..) for kn ≤ 4. */
function streamStep(
  a: usize,
  ra: usize,
  sa: usize,
  M: i32,
  b: usize,
  ldb: usize,
  kn: i32,
  c: usize,
  ldc: usize,
  w: i32,
): void {
  const b1 = b + ldb;
  const b2 = b + 2 * ldb;
  const b3 = b + 3 * ldb;
  if (M == 1 && kn == 4) {
    const s0 = v128.load32_splat(a);
    const s1 = v128.load32_splat(a + sa);
    const s2 = v128.load32_splat(a + 2 * sa);
    const s3 = v128.load32_splat(a + 3 * sa);
    const end = <usize>(w * 4);
    for (let o: usize = 0; o < end; o += 16) {
      let acc = v128.load(c + o);
      acc = VMath.madd(s0, v128.load(b + o), acc);
      acc = VMath.madd(s1, v128.load(b1 + o), acc);
      acc = VMath.madd(s2, v128.load(b2 + o), acc);
      acc = VMath.madd(s3, v128.load(b3 + o), acc);
      v128.store(c + o, acc);
    }
    return;
  }
  const end = <usize>(w * 4);
  if (kn < 4) {
    // The last 1–3 rows of B, one at a time (a zero weight for a missing row would turn an infinite B into NaN).
    for (let r = 0; r < kn; r++) {
      const br = b + <usize>r * ldb;
      for (let o: usize = 0; o < end; o += 16) {
        const v = v128.load(br + o);
        let pa = a + <usize>r * sa;
        let pc = c + o;
        for (let i = 0; i < M; i++) {
          v128.store(pc, VMath.madd(v128.load32_splat(pa), v, v128.load(pc)));
          pa += ra;
          pc += ldc;
        }
      }
    }
    return;
  }
  for (let o: usize = 0; o < end; o += 16) {
    const v0 = v128.load(b + o);
    const v1 = v128.load(b1 + o);
    const v2 = v128.load(b2 + o);
    const v3 = v128.load(b3 + o);
    let pa = a;
    let pc = c + o;
    for (let i = 0; i < M; i++) {
      let acc = v128.load(pc);
      acc = VMath.madd(v128.load32_splat(pa), v0, acc);
      acc = VMath.madd(v128.load32_splat(pa + sa), v1, acc);
      acc = VMath.madd(v128.load32_splat(pa + 2 * sa), v2, acc);
      acc = VMath.madd(v128.load32_splat(pa + 3 * sa), v3, acc);
      v128.store(pc, acc);
      pa += ra;
      pc += ldc;
    }
  }
}

/** Row streaming over columns [0, N4) (N4 a multiple of 4), bias and activation applied per finished chunk. */
function rowStream(
  a: usize,
  ra: usize,
  sa: usize,
  b: usize,
  ldb: usize,
  c: usize,
  ldc: usize,
  M: i32,
  N4: i32,
  K: i32,
  bias: usize,
  act: i32,
): void {
  // M rows of W floats stay within 16 KB of L1.
  const W = max(64, (4096 / M) & ~3);
  for (let j0 = 0; j0 < N4; j0 += W) {
    const w = min(W, N4 - j0);
    const cj = c + <usize>(j0 * 4);
    for (let i = 0; i < M; i++) memory.fill(cj + <usize>i * ldc, 0, <usize>(w * 4));
    const bj = b + <usize>(j0 * 4);
    for (let k = 0; k < K; k += 4) {
      streamStep(a + <usize>k * sa, ra, sa, M, bj + <usize>k * ldb, ldb, min(4, K - k), cj, ldc, w);
    }
    if (bias == 0 && act == 0) continue;
    for (let i = 0; i < M; i++) {
      const row = cj + <usize>i * ldc;
      for (let j = 0; j < w; j += 4) {
        const p = row + <usize>(j * 4);
        v128.store(p, finish(v128.load(p), bias, j0 + j, act));
      }
    }
  }
}

function rowMajorB(
  a: usize,
  ra: usize,
  sa: usize,
  b: usize,
  ldb: usize,
  c: usize,
  ldc: usize,
  M: i32,
  N: i32,
  K: i32,
  bias: usize,
  act: i32,
): void {
  let j = 0;
  if (N >= 4 && (M == 1 || <i64>K * <i64>N > STREAM_FLOATS)) {
    j = N & ~3;
    rowStream(a, ra, sa, b, ldb, c, ldc, M, j, K, bias, act);
  } else if (M == 1) {
    for (; j + 32 <= N; j += 32) rows1x32(a, sa, b, ldb, K, c, j, bias, act);
  } else if (M == 2) {
    for (; j + 16 <= N; j += 16) rows2x16(a, ra, sa, b, ldb, K, c, ldc, j, bias, act);
  } else {
    // Both row groups of a column block run back to back, so the second reads the block of B from cache.
    for (; j + 8 <= N; j += 8) {
      rows4x8(a, ra, sa, min(M, 4), b, ldb, K, c, ldc, j, bias, act);
      if (M > 4) rows4x8(a + 4 * ra, ra, sa, M - 4, b, ldb, K, c + 4 * ldc, ldc, j, bias, act);
    }
  }
  for (; j + 4 <= N; j += 4) rowsAllx4(a, ra, sa, M, b, ldb, K, c, ldc, j, bias, act);
  if (j < N) scalarColumns(a, ra, sa, M, b, ldb, 4, K, c, ldc, j, N, bias, act);
}

// ---- B transposed (rows of Bᵀ contiguous): SIMD over K ----

/** [Σx0, Σx1, Σx2, Σx3]: the lane sums of four vectors. */
function laneSums(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), v128.shuffle<f32>(x0, x1, 2, 6, 3, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), v128.shuffle<f32>(x2, x3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

/** Σ_k a[k]·b[k] for k in [k0, K): the remainder after the vector loop. */
function tailDot(a: usize, b: usize, k0: i32, K: i32): f32 {
  let sum: f32 = 0;
  for (let k = k0; k < K; k++) sum += load<f32>(a + <usize>(k * 4)) * load<f32>(b + <usize>(k * 4));
  return sum;
}

/** Rows a0, a1 (contiguous, K floats) against Bᵀ rows j..j+3 (row stride ldb bytes): eight dot products. */
function dot2x4(
  a0: usize,
  a1: usize,
  pb: usize,
  ldb: usize,
  K: i32,
  c0: usize,
  c1: usize,
  j: i32,
  bias: usize,
  act: i32,
  two: bool,
): void {
  const b1 = pb + ldb;
  const b2 = pb + 2 * ldb;
  const b3 = pb + 3 * ldb;
  let x00 = f32x4.splat(0);
  let x01 = f32x4.splat(0);
  let x02 = f32x4.splat(0);
  let x03 = f32x4.splat(0);
  let x10 = f32x4.splat(0);
  let x11 = f32x4.splat(0);
  let x12 = f32x4.splat(0);
  let x13 = f32x4.splat(0);
  const k4 = K & ~3;
  for (let k = 0; k < k4; k += 4) {
    const o = <usize>(k * 4);
    const v0 = v128.load(pb + o);
    const v1 = v128.load(b1 + o);
    const v2 = v128.load(b2 + o);
    const v3 = v128.load(b3 + o);
    const u = v128.load(a0 + o);
    x00 = VMath.madd(u, v0, x00);
    x01 = VMath.madd(u, v1, x01);
    x02 = VMath.madd(u, v2, x02);
    x03 = VMath.madd(u, v3, x03);
    const w = v128.load(a1 + o);
    x10 = VMath.madd(w, v0, x10);
    x11 = VMath.madd(w, v1, x11);
    x12 = VMath.madd(w, v2, x12);
    x13 = VMath.madd(w, v3, x13);
  }
  let r = laneSums(x00, x01, x02, x03);
  if (k4 < K) {
    r = f32x4.replace_lane(r, 0, f32x4.extract_lane(r, 0) + tailDot(a0, pb, k4, K));
    r = f32x4.replace_lane(r, 1, f32x4.extract_lane(r, 1) + tailDot(a0, b1, k4, K));
    r = f32x4.replace_lane(r, 2, f32x4.extract_lane(r, 2) + tailDot(a0, b2, k4, K));
    r = f32x4.replace_lane(r, 3, f32x4.extract_lane(r, 3) + tailDot(a0, b3, k4, K));
  }
  v128.store(c0 + <usize>(j * 4), finish(r, bias, j, act));
  if (!two) return;
  r = laneSums(x10, x11, x12, x13);
  if (k4 < K) {
    r = f32x4.replace_lane(r, 0, f32x4.extract_lane(r, 0) + tailDot(a1, pb, k4, K));
    r = f32x4.replace_lane(r, 1, f32x4.extract_lane(r, 1) + tailDot(a1, b1, k4, K));
    r = f32x4.replace_lane(r, 2, f32x4.extract_lane(r, 2) + tailDot(a1, b2, k4, K));
    r = f32x4.replace_lane(r, 3, f32x4.extract_lane(r, 3) + tailDot(a1, b3, k4, K));
  }
  v128.store(c1 + <usize>(j * 4), finish(r, bias, j, act));
}

/** One contiguous row against one contiguous Bᵀ row. */
function dot1(a: usize, b: usize, K: i32): f32 {
  let x = f32x4.splat(0);
  const k4 = K & ~3;
  for (let k = 0; k < k4; k += 4) x = VMath.madd(v128.load(a + <usize>(k * 4)), v128.load(b + <usize>(k * 4)), x);
  const s = f32x4.add(x, v128.shuffle<f32>(x, x, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + tailDot(a, b, k4, K);
}

function transposedB(
  a: usize,
  ra: usize,
  b: usize,
  ldb: usize,
  c: usize,
  ldc: usize,
  M: i32,
  N: i32,
  K: i32,
  bias: usize,
  act: i32,
): void {
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const pb = b + <usize>j * ldb;
    for (let i = 0; i < M; i += 2) {
      const two = i + 1 < M;
      const a0 = a + <usize>i * ra;
      dot2x4(a0, two ? a0 + ra : a0, pb, ldb, K, c + <usize>i * ldc, c + <usize>(i + 1) * ldc, j, bias, act, two);
    }
  }
  for (; j < N; j++) {
    for (let i = 0; i < M; i++) {
      const sum = dot1(a + <usize>i * ra, b + <usize>j * ldb, K);
      store<f32>(c + <usize>i * ldc + <usize>(j * 4), finishScalar(sum, bias, j, act));
    }
  }
}

/**
 * C[M x N] (row stride ldc elements) = act(op(A)·op(B) + bias) for 1 ≤ M ≤ SKINNY_M, with matmul's arguments:
 * A's (i, k) at a + 4(i·rsA + k·csA), B's (k, j) at b + 4(k·rsB + j·csB). B must be row-major (csB = 1) or stored
 * transposed (rsB = 1); for the latter with csA ≠ 1, A (M·K floats) is copied to `scratch`, which must hold it.
 */
export function skinny(
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  c: usize,
  ldc: i32,
  M: i32,
  N: i32,
  K: i32,
  bias: usize,
  act: i32,
  scratch: usize,
): void {
  if (M <= 0 || N <= 0) return;
  const ldcBytes = <usize>(ldc * 4);
  if (K <= 0) {
    zeroEpilogue(c, ldcBytes, M, N, bias, act);
    return;
  }
  // N = 1 with contiguous rows: one dot product per row beats the scalar column loop.
  if (csB == 1 && !(rsB == 1 && N < 4 && csA == 1)) {
    rowMajorB(a, <usize>(rsA * 4), <usize>(csA * 4), b, <usize>(rsB * 4), c, ldcBytes, M, N, K, bias, act);
    return;
  }
  let rows = a;
  let ra = <usize>(rsA * 4);
  if (csA != 1) {
    // Aᵀ stored: gather its M rows (at most 8·K floats) so that each is contiguous.
    for (let i = 0; i < M; i++) {
      const dst = scratch + <usize>(i * K * 4);
      let src = a + <usize>(i * rsA * 4);
      const step = <usize>(csA * 4);
      for (let k = 0; k < K; k++) {
        store<f32>(dst + <usize>(k * 4), load<f32>(src));
        src += step;
      }
    }
    rows = scratch;
    ra = <usize>(K * 4);
  }
  transposedB(rows, ra, b, <usize>(csB * 4), c, ldcBytes, M, N, K, bias, act);
}

// ---- One row against a pre-packed B ----
// For M = 1 the row-streaming loop above is bound by instructions, not bytes: each B vector it loads needs its own
// address (four rows a runtime stride apart), and Bᵀ's dot products end in a lane reduction per output. With B's rows
// interleaved four at a time (zero-padded to multiples of 4), the four vectors a step multiplies are 64 consecutive
// bytes read through one pointer with immediate offsets: measured 1.2–1.8x over row-major B (1.6–4.9x over Bᵀ) on
// 1 x K · K x N with B in L2. A session packs its constant weights so once (src/session/constants.ts), from either
// storage.
// The copy is laid out in the order the kernel reads it: column chunks of PACKED_CHUNK floats (the output row segment
// a pass accumulates in L1), each chunk [K/4][w/4][4 rows][4 cols], chunk after chunk. So a product reads the whole
// copy as one contiguous stream, which the hardware prefetcher follows past L2: at 2048 x 2048 (16 MB) the earlier
// layout ([K/4][N/4][4][4] for all N, read by two passes each taking every other 16 KB) ran at 5–12 GFLOPS and this
// one at 19–26 on the same loaded machine, against a pure read of B at 53 GB/s (a 27 GFLOPS ceiling).
// A chunk-aligned column range of the copy is itself the copy of those columns, so two threads split it there.

/** Columns of a packed chunk (a multiple of 8): its output segment (4 KB) stays in L1 while the chunk streams. */
export const PACKED_CHUNK = 1024;

/** Bytes of packRows4's copy of a K x N matrix. */
export function packedRows4Bytes(K: i32, N: i32): i32 {
  return ((K + 3) & ~3) * ((N + 3) & ~3) * 4;
}

/**
 * Packs B (element (k, j) at b + 4(k·rsB + j·csB): row-major or stored transposed) in column chunks of PACKED_CHUNK,
 * each [K/4][w/4][4][4], rows and columns zero-padded to multiples of 4.
 */
export function packRows4(b: usize, rsB: i32, csB: i32, K: i32, N: i32, dst: usize): void {
  let d = dst;
  const rowBytes = <usize>(rsB * 4);
  for (let j0 = 0; j0 < N; j0 += PACKED_CHUNK) {
    const je = min(N, j0 + PACKED_CHUNK);
    for (let k = 0; k < K; k += 4) {
      for (let j = j0; j < je; j += 4) {
        if (csB == 1 && k + 4 <= K && j + 4 <= N) {
          const r0 = b + <usize>((k * rsB + j) * 4);
          v128.store(d, v128.load(r0));
          v128.store(d, v128.load(r0 + rowBytes), 16);
          v128.store(d, v128.load(r0 + 2 * rowBytes), 32);
          v128.store(d, v128.load(r0 + 3 * rowBytes), 48);
        } else {
          for (let r = 0; r < 4; r++) {
            for (let q = 0; q < 4; q++) {
              const kk = k + r;
              const jj = j + q;
              const v: f32 = kk < K && jj < N ? load<f32>(b + <usize>((kk * rsB + jj * csB) * 4)) : 0;
              store<f32>(d + <usize>((r * 4 + q) * 4), v);
            }
          }
        }
        d += 64;
      }
    }
  }
}

/**
 * acc + Σ_r s_r·B4[r] over one packed group (four rows of four columns at p). Without relaxed FMA the four products
 * are summed pairwise before the accumulator: two short chains instead of four dependent adds (1.03–1.05x at L2
 * sizes); with it, four fused steps.
 */
class Packed {
  @inline static group4(acc: v128, s0: v128, s1: v128, s2: v128, s3: v128, p: usize): v128 {
    if (ASC_FEATURE_RELAXED_SIMD) {
      acc = VMath.madd(s0, v128.load(p), acc);
      acc = VMath.madd(s1, v128.load(p, 16), acc);
      acc = VMath.madd(s2, v128.load(p, 32), acc);
      return VMath.madd(s3, v128.load(p, 48), acc);
    }
    const x01 = f32x4.add(f32x4.mul(s0, v128.load(p)), f32x4.mul(s1, v128.load(p, 16)));
    const x23 = f32x4.add(f32x4.mul(s2, v128.load(p, 32)), f32x4.mul(s3, v128.load(p, 48)));
    return f32x4.add(acc, f32x4.add(x01, x23));
  }
}

/**
 * c[1 x N] = act(a·B + bias) for one row a (element stride csA) and B's packRows4 copy at b4. When N is not a
 * multiple of 4 the row is accumulated in `scratch` (N rounded up to 4 floats) and copied out.
 */
export function skinnyPacked(
  a: usize,
  csA: i32,
  b4: usize,
  c: usize,
  N: i32,
  K: i32,
  bias: usize,
  act: i32,
  scratch: usize,
): void {
  if (N <= 0) return;
  if (K <= 0) {
    zeroEpilogue(c, <usize>(N * 4), 1, N, bias, act);
    return;
  }
  const sa = <usize>(csA * 4);
  const Np = (N + 3) & ~3;
  const row = (N & 3) == 0 ? c : scratch;
  let p = b4;
  for (let j0 = 0; j0 < Np; j0 += PACKED_CHUNK) {
    const w = min(PACKED_CHUNK, Np - j0);
    const cj = row + <usize>(j0 * 4);
    const end = <usize>(w * 4);
    const end8 = <usize>((w & ~7) * 4);
    memory.fill(cj, 0, end);
    for (let k = 0; k < K; k += 4) {
      const pa = a + <usize>k * sa;
      // The rows of a last partial group are zero in the copy; their A values (past the row) are never read.
      const s0 = v128.load32_splat(pa);
      const s1 = k + 1 < K ? v128.load32_splat(pa + sa) : f32x4.splat(0);
      const s2 = k + 2 < K ? v128.load32_splat(pa + 2 * sa) : f32x4.splat(0);
      const s3 = k + 3 < K ? v128.load32_splat(pa + 3 * sa) : f32x4.splat(0);
      // Two column groups per step (two independent accumulators in flight).
      let o: usize = 0;
      for (; o < end8; o += 32) {
        const q = cj + o;
        v128.store(q, Packed.group4(v128.load(q), s0, s1, s2, s3, p));
        v128.store(q, Packed.group4(v128.load(q, 16), s0, s1, s2, s3, p + 64), 16);
        p += 128;
      }
      if (o < end) {
        const q = cj + o;
        v128.store(q, Packed.group4(v128.load(q), s0, s1, s2, s3, p));
        p += 64;
      }
    }
    if (bias == 0 && act == 0) continue;
    for (let j = 0; j < w; j += 4) {
      const q = cj + <usize>(j * 4);
      if (j0 + j + 4 <= N) v128.store(q, finish(v128.load(q), bias, j0 + j, act));
      else {
        for (let t = j0 + j; t < N; t++) {
          const e = row + <usize>(t * 4);
          store<f32>(e, finishScalar(load<f32>(e), bias, t, act));
        }
      }
    }
  }
  if (row != c) memory.copy(c, row, <usize>(N * 4));
}
