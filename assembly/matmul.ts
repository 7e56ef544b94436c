// C = act(A·B + bias) for f32, GotoBLAS style: B is packed into column panels of NR floats per k, A into row
// panels of MR floats per k, and a register-tiled MR x NR micro-kernel keeps its accumulators in v128 locals for
// a whole KC run. Operands are read through element strides, so the transposed products (Aᵀ·B, A·Bᵀ) cost only a
// different packing loop, never a materialized transpose.
import { VMath, applyAct } from './vmath';

// 6 rows x 8 columns per packed panel pair. A full tile runs as two 3 x 8 halves (micro3): 12 accumulators + 2 B
// vectors + 1 splat + 1 product would need x64's 16 xmm registers and V8 keeps one for itself, so one accumulator
// spilled to the stack every k and its store-to-load round trip bounded the loop (on AMD Zen 4: 15–18% slower).
// The relaxed build keeps the one 6 x 8 pass: its fused multiply-add needs no product register, nothing spills, and
// the halves measured 1.3x slower there.
export const MR = 6;
export const NR = 8;
// KC x NR floats of B (8 KB) stay in L1 across the MR-row sweep; MC x KC floats of A (~120 KB) stay in L2.
export const KC = 256;
export const MC = 120;
export const NC = 512;

const TILE_BYTES = MR * NR * 4;

/** Bytes of scratch `matmul` needs: packed A block, packed B block, an edge tile and an edge bias. */
export function matmulScratchBytes(): i32 {
  return (MC * KC + KC * NC) * 4 + TILE_BYTES + NR * 4;
}

/** Packs rows [0, mc) x cols [0, kc) of A (element strides rs, cs) into MR-row panels, zero-padding the last one. */
function packA(a: usize, rs: i32, cs: i32, mc: i32, kc: i32, dst: usize): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const panel = dst + <usize>(i0 * kc * 4);
    if (rs == 1 && rows == MR) {
      // Aᵀ stored: the MR rows of one k are contiguous.
      let src = a + <usize>(i0 * 4);
      let d = panel;
      const step = <usize>(cs * 4);
      for (let k = 0; k < kc; k++) {
        v128.store(d, v128.load(src));
        store<u64>(d, load<u64>(src, 16), 16);
        src += step;
        d += MR * 4;
      }
    } else {
      for (let r = 0; r < MR; r++) {
        let d = panel + <usize>(r * 4);
        if (r < rows) {
          let src = a + <usize>((i0 + r) * rs * 4);
          const step = <usize>(cs * 4);
          for (let k = 0; k < kc; k++) {
            store<f32>(d, load<f32>(src));
            src += step;
            d += MR * 4;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(d, 0);
            d += MR * 4;
          }
        }
      }
    }
  }
}

/** Packs rows [0, kc) x cols [0, nc) of B (element strides rs, cs) into NR-column panels, zero-padded. */
export function packB(b: usize, rs: i32, cs: i32, kc: i32, nc: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    const panel = dst + <usize>(j0 * kc * 4);
    if (cs == 1 && cols == NR) {
      let src = b + <usize>(j0 * 4);
      let d = panel;
      const step = <usize>(rs * 4);
      for (let k = 0; k < kc; k++) {
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += step;
        d += NR * 4;
      }
    } else {
      for (let c = 0; c < NR; c++) {
        let d = panel + <usize>(c * 4);
        if (c < cols) {
          let src = b + <usize>((j0 + c) * cs * 4);
          const step = <usize>(rs * 4);
          for (let k = 0; k < kc; k++) {
            store<f32>(d, load<f32>(src));
            src += step;
            d += NR * 4;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(d, 0);
            d += NR * 4;
          }
        }
      }
    }
  }
}

// One output row of the tile: previous value (when accumulating over K blocks), then the epilogue on the last block.
function finishRow(p: usize, lo: v128, hi: v128, accumulate: bool, last: bool, bias: usize, act: i32): void {
  if (accumulate) {
    lo = f32x4.add(lo, v128.load(p));
    hi = f32x4.add(hi, v128.load(p, 16));
  }
  if (last) {
    if (bias != 0) {
      lo = f32x4.add(lo, v128.load(bias));
      hi = f32x4.add(hi, v128.load(bias, 16));
    }
    if (act != 0) {
      lo = applyAct(lo, act);
      hi = applyAct(hi, act);
    }
  }
  v128.store(p, lo);
  v128.store(p, hi, 16);
}

/**
 * Half of a full MR x NR tile: rows r..r+2 of the A panel at `pa` (pa offset by 4r) against one B panel, with
 * finishRow's epilogue. Six accumulators leave V8 registers to spare (see MR above); the B panel is read twice, from
 * L1. Each element gets the same sum in the same order as a 6 x 8 pass, so the bits are the same.
 */
function micro3(
  kc: i32,
  pa: usize,
  pb: usize,
  c: usize,
  ldc: usize,
  accumulate: bool,
  last: bool,
  bias: usize,
  act: i32,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = VMath.madd(a, b0, c00);
    c01 = VMath.madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = VMath.madd(a, b0, c10);
    c11 = VMath.madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = VMath.madd(a, b0, c20);
    c21 = VMath.madd(a, b1, c21);
    pa += MR * 4;
    pb += NR * 4;
  }
  finishRow(c, c00, c01, accumulate, last, bias, act);
  finishRow(c + ldc, c10, c11, accumulate, last, bias, act);
  finishRow(c + 2 * ldc, c20, c21, accumulate, last, bias, act);
}

/**
 * The MR x NR micro-kernel over one packed A panel and one packed B panel (a full tile is two micro3 halves on the
 * baseline build). Edge tiles (mr < MR or nr < NR) go through `tile` so that the hot path is a straight run of
 * full-width stores.
 */
export function micro(
  kc: i32,
  pa: usize,
  pb: usize,
  c: usize,
  ldc: usize,
  mr: i32,
  nr: i32,
  accumulate: bool,
  last: bool,
  bias: usize,
  act: i32,
  tile: usize,
  tileBias: usize,
): void {
  if (!ASC_FEATURE_RELAXED_SIMD && mr == MR && nr == NR) {
    micro3(kc, pa, pb, c, ldc, accumulate, last, bias, act);
    micro3(kc, pa + 12, pb, c + 3 * ldc, ldc, accumulate, last, bias, act);
    return;
  }
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0);
  let c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0);
  let c51 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = VMath.madd(a, b0, c00);
    c01 = VMath.madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = VMath.madd(a, b0, c10);
    c11 = VMath.madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = VMath.madd(a, b0, c20);
    c21 = VMath.madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = VMath.madd(a, b0, c30);
    c31 = VMath.madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = VMath.madd(a, b0, c40);
    c41 = VMath.madd(a, b1, c41);
    a = v128.load32_splat(pa, 20);
    c50 = VMath.madd(a, b0, c50);
    c51 = VMath.madd(a, b1, c51);
    pa += MR * 4;
    pb += NR * 4;
  }
  const full = mr == MR && nr == NR;
  let dst = c;
  let ld = ldc;
  let bv = bias;
  if (!full) {
    dst = tile;
    ld = NR * 4;
    if (accumulate) copyTile(c, ldc, tile, NR * 4, mr, nr);
    if (bias != 0) {
      v128.store(tileBias, f32x4.splat(0));
      v128.store(tileBias, f32x4.splat(0), 16);
      memory.copy(tileBias, bias, <usize>(nr * 4));
      bv = tileBias;
    }
  }
  finishRow(dst, c00, c01, accumulate, last, bv, act);
  finishRow(dst + ld, c10, c11, accumulate, last, bv, act);
  finishRow(dst + 2 * ld, c20, c21, accumulate, last, bv, act);
  finishRow(dst + 3 * ld, c30, c31, accumulate, last, bv, act);
  finishRow(dst + 4 * ld, c40, c41, accumulate, last, bv, act);
  finishRow(dst + 5 * ld, c50, c51, accumulate, last, bv, act);
  if (!full) copyTile(tile, NR * 4, c, ldc, mr, nr);
}

function copyTile(src: usize, lds: usize, dst: usize, ldd: usize, rows: i32, cols: i32): void {
  const bytes = <usize>(cols * 4);
  for (let r = 0; r < rows; r++) {
    memory.copy(dst, src, bytes);
    src += lds;
    dst += ldd;
  }
}

/**
 * C[M x N] (row stride ldc elements) = act(op(A)·op(B) + bias). A's element (i, k) is at a + 4(i·rsA + k·csA),
 * B's (k, j) at b + 4(k·rsB + j·csB); bias (N floats) is 0 for none. `scratch` holds matmulScratchBytes() bytes.
 */
export function matmul(
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
  const packedA = scratch;
  const packedB = scratch + <usize>(MC * KC * 4);
  const tile = packedB + <usize>(KC * NC * 4);
  const tileBias = tile + TILE_BYTES;
  const ldcBytes = <usize>(ldc * 4);
  if (K <= 0) {
    zeroEpilogue(c, ldcBytes, M, N, bias, act);
    return;
  }
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const accumulate = pc > 0;
      const last = pc + kc >= K;
      packB(b + <usize>((pc * rsB + jc * csB) * 4), rsB, csB, kc, nc, packedB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(a + <usize>((ic * rsA + pc * csA) * 4), rsA, csA, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packedB + <usize>(jr * kc * 4);
          const biasJ: usize = bias == 0 ? 0 : bias + <usize>((jc + jr) * 4);
          let cRow = c + <usize>(ic * ldc * 4 + (jc + jr) * 4);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            micro(
              kc,
              packedA + <usize>(ir * kc * 4),
              pb,
              cRow,
              ldcBytes,
              mr,
              nr,
              accumulate,
              last,
              biasJ,
              act,
              tile,
              tileBias,
            );
            cRow += ldcBytes * MR;
          }
        }
      }
    }
  }
}

// K = 0: the product is all zeros, but the epilogue still applies (act(bias) per row).
export function zeroEpilogue(c: usize, ldc: usize, M: i32, N: i32, bias: usize, act: i32): void {
  for (let i = 0; i < M; i++) {
    const row = c + <usize>i * ldc;
    for (let j = 0; j < N; j++) {
      let v = f32x4.splat(bias == 0 ? 0 : load<f32>(bias + <usize>(j * 4)));
      if (act != 0) v = applyAct(v, act);
      store<f32>(row + <usize>(j * 4), f32x4.extract_lane(v, 0));
    }
  }
}
