// 2-D convolution (NHWC, one group) as GEMMs over an implicit im2col: the A panels of matmul.ts's micro-kernel are
// packed straight from the image (zero padding, strides and dilations applied while packing), so no im2col matrix
// is ever materialized and the scratch stays the fixed size of matmul's packing buffers plus one small block.
//
// Every kernel reads its geometry from a block of i32s (GEO_* below) that the caller writes, so that both threads
// of a split read the same block and a job needs only a few arguments.
import { KC, MC, MR, NC, NR, matmul, matmulScratchBytes, micro, packB, zeroEpilogue } from './matmul';

// The geometry block, in i32 slots. "image" is what the A panels gather from (x for the forward conv and the filter
// gradient, dy for the input gradient), "out" the GEMM's output.
const GEO_IMAGE = 0;
const GEO_FILTER = 1; // the filter, or dy for the filter gradient (its GEMM's B)
const GEO_OUT = 2;
const GEO_BIAS = 3;
const GEO_ACT = 4;
const GEO_N = 5;
const GEO_IN_H = 6; // the image's height, width and channels
const GEO_IN_W = 7;
const GEO_IN_C = 8;
const GEO_OUT_H = 9; // the output pixels' grid (the forward conv's output; dx's grid for the flipped conv)
const GEO_OUT_W = 10;
const GEO_OUT_C = 11; // the GEMM's N: output channels
const GEO_FH = 12;
const GEO_FW = 13;
const GEO_SH = 14;
const GEO_SW = 15;
const GEO_DH = 16;
const GEO_DW = 17;
const GEO_TOP = 18; // padding before, may be negative (the flipped conv of a large explicit padding)
const GEO_LEFT = 19;
const GEO_FLIP = 20; // 1: B is the filter flipped in space with its channel dims swapped (dx as a conv of dy)
const GEO_BY_BATCH = 21; // col2im: 1 when its range is of batch items (all channels), 0 of channels (all items)
/** Bytes of the geometry block (at the end of convScratchBytes()). */
export const CONV_GEOM_BYTES = 128;
/** The deepest K the forward conv runs as one depth block (when its packed filter fits the B buffer). */
export const CONV_KC_MAX = 1152;
/** Floats of the dcol block the strided input gradient scatters from (128 KB). */
export const CONV_DCOL_FLOATS = 32768;

/** Bytes of scratch a conv kernel needs: matmul's packing buffers, the dcol block and the geometry block. */
export function convScratchBytes(): i32 {
  return matmulScratchBytes() + CONV_DCOL_FLOATS * 4 + CONV_GEOM_BYTES;
}

function geo(g: usize, slot: i32): i32 {
  return load<i32>(g + <usize>(slot * 4));
}

/**
 * Packs the im2col rows [m0, m0 + mc) x columns [k0, k0 + kc) into MR-row panels (per k, MR consecutive floats).
 * Row m is the output pixel (b, oh, ow); column k the tap (kh, kw) and image channel c, k = (kh·fw + kw)·C + c.
 */
function packImageRows(g: usize, m0: i32, mc: i32, k0: i32, kc: i32, dst: usize, info: usize): void {
  const image = <usize>geo(g, GEO_IMAGE);
  const inH = geo(g, GEO_IN_H);
  const inW = geo(g, GEO_IN_W);
  const C = geo(g, GEO_IN_C);
  const outH = geo(g, GEO_OUT_H);
  const outW = geo(g, GEO_OUT_W);
  const fw = geo(g, GEO_FW);
  const sh = geo(g, GEO_SH);
  const sw = geo(g, GEO_SW);
  const dh = geo(g, GEO_DH);
  const dw = geo(g, GEO_DW);
  const top = geo(g, GEO_TOP);
  const left = geo(g, GEO_LEFT);
  const plane = outH * outW;
  const tap0 = k0 / C;
  const c00 = k0 - tap0 * C;
  const kh0 = tap0 / fw;
  const kw0 = tap0 - kh0 * fw;
  const pstep = <usize>(MR * 4);
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const panel = dst + <usize>(i0 * kc * 4);
    if (rows == MR && C >= 4) {
      packFullPanel(g, m0 + i0, k0, kc, panel, info);
      continue;
    }
    // Per row of the panel: where its pixel's window starts (the image's row and column at tap (0, 0)).
    for (let r = 0; r < MR; r++) {
      let d = panel + <usize>(r * 4);
      if (r >= rows) {
        for (let k = 0; k < kc; k++) {
          store<f32>(d, 0);
          d += pstep;
        }
        continue;
      }
      const m = m0 + i0 + r;
      const b = m / plane;
      const rest = m - b * plane;
      const oh = rest / outW;
      const ow = rest - oh * outW;
      const ih0 = oh * sh - top;
      const iw0 = ow * sw - left;
      const imageB = image + <usize>(b * inH * inW * C * 4);
      let kh = kh0;
      let kw = kw0;
      let c = c00;
      let left_ = kc;
      while (left_ > 0) {
        const run = min(C - c, left_);
        const ih = ih0 + kh * dh;
        const iw = iw0 + kw * dw;
        if (<u32>ih < <u32>inH && <u32>iw < <u32>inW) {
          let src = imageB + <usize>(((ih * inW + iw) * C + c) * 4);
          for (let t = 0; t < run; t++) {
            store<f32>(d, load<f32>(src));
            src += 4;
            d += pstep;
          }
        } else {
          for (let t = 0; t < run; t++) {
            store<f32>(d, 0);
            d += pstep;
          }
        }
        left_ -= run;
        c = 0;
        if (++kw == fw) {
          kw = 0;
          kh++;
        }
      }
    }
  }
}

/**
 * packImageRows for one full panel (MR rows from pixel m, C >= 4): per tap, the MR rows' runs of channels are read
 * four channels at a time and transposed in registers into four k steps of MR floats (a padded row reads a zero
 * vector without advancing). `info` is scratch for MR row descriptors and a zero vector.
 */
function packFullPanel(g: usize, m: i32, k0: i32, kc: i32, panel: usize, info: usize): void {
  const image = <usize>geo(g, GEO_IMAGE);
  const inH = geo(g, GEO_IN_H);
  const inW = geo(g, GEO_IN_W);
  const C = geo(g, GEO_IN_C);
  const outH = geo(g, GEO_OUT_H);
  const outW = geo(g, GEO_OUT_W);
  const fw = geo(g, GEO_FW);
  const dh = geo(g, GEO_DH);
  const dw = geo(g, GEO_DW);
  const plane = outH * outW;
  const zero = info + <usize>(MR * 16);
  v128.store(zero, i32x4.splat(0));
  // Row r: [image offset of its batch item, ih at tap (0, 0), iw at tap (0, 0)].
  for (let r = 0; r < MR; r++) {
    const mr = m + r;
    const b = mr / plane;
    const rest = mr - b * plane;
    const oh = rest / outW;
    const ow = rest - oh * outW;
    const at = info + <usize>(r * 16);
    store<i32>(at, <i32>image + b * inH * inW * C * 4);
    store<i32>(at, oh * geo(g, GEO_SH) - geo(g, GEO_TOP), 4);
    store<i32>(at, ow * geo(g, GEO_SW) - geo(g, GEO_LEFT), 8);
  }
  const tap0 = k0 / C;
  let c = k0 - tap0 * C;
  let kh = tap0 / fw;
  let kw = tap0 - kh * fw;
  let d = panel;
  let remaining = kc;
  while (remaining > 0) {
    const run = min(C - c, remaining);
    // The six rows' sources for this tap (the zero vector, not advancing, where the tap reads padding).
    let s0 = zero;
    let s1 = zero;
    let s2 = zero;
    let s3 = zero;
    let s4 = zero;
    let s5 = zero;
    let t0: usize = 0;
    let t1: usize = 0;
    let t2: usize = 0;
    let t3: usize = 0;
    let t4: usize = 0;
    let t5: usize = 0;
    for (let r = 0; r < MR; r++) {
      const at = info + <usize>(r * 16);
      const ih = load<i32>(at, 4) + kh * dh;
      const iw = load<i32>(at, 8) + kw * dw;
      if (<u32>ih < <u32>inH && <u32>iw < <u32>inW) {
        const src = <usize>load<i32>(at) + <usize>(((ih * inW + iw) * C + c) * 4);
        if (r == 0) {
          s0 = src;
          t0 = 16;
        } else if (r == 1) {
          s1 = src;
          t1 = 16;
        } else if (r == 2) {
          s2 = src;
          t2 = 16;
        } else if (r == 3) {
          s3 = src;
          t3 = 16;
        } else if (r == 4) {
          s4 = src;
          t4 = 16;
        } else {
          s5 = src;
          t5 = 16;
        }
      }
    }
    let q = 0;
    for (; q + 4 <= run; q += 4) {
      const v0 = v128.load(s0);
      const v1 = v128.load(s1);
      const v2 = v128.load(s2);
      const v3 = v128.load(s3);
      const v4 = v128.load(s4);
      const v5 = v128.load(s5);
      const a0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
      const a1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
      const a2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
      const a3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
      const u = v128.shuffle<f32>(v4, v5, 0, 4, 1, 5);
      const w = v128.shuffle<f32>(v4, v5, 2, 6, 3, 7);
      v128.store(d, v128.shuffle<f32>(a0, a2, 0, 1, 4, 5));
      store<u64>(d, i64x2.extract_lane(u, 0), 16);
      v128.store(d, v128.shuffle<f32>(a0, a2, 2, 3, 6, 7), 24);
      store<u64>(d, i64x2.extract_lane(u, 1), 40);
      v128.store(d, v128.shuffle<f32>(a1, a3, 0, 1, 4, 5), 48);
      store<u64>(d, i64x2.extract_lane(w, 0), 64);
      v128.store(d, v128.shuffle<f32>(a1, a3, 2, 3, 6, 7), 72);
      store<u64>(d, i64x2.extract_lane(w, 1), 88);
      d += MR * 16;
      s0 += t0;
      s1 += t1;
      s2 += t2;
      s3 += t3;
      s4 += t4;
      s5 += t5;
    }
    for (; q < run; q++) {
      store<f32>(d, load<f32>(s0));
      store<f32>(d, load<f32>(s1), 4);
      store<f32>(d, load<f32>(s2), 8);
      store<f32>(d, load<f32>(s3), 12);
      store<f32>(d, load<f32>(s4), 16);
      store<f32>(d, load<f32>(s5), 20);
      d += MR * 4;
      s0 += t0 >> 2;
      s1 += t1 >> 2;
      s2 += t2 >> 2;
      s3 += t3 >> 2;
      s4 += t4 >> 2;
      s5 += t5 >> 2;
    }
    remaining -= run;
    c = 0;
    if (++kw == fw) {
      kw = 0;
      kh++;
    }
  }
}

/**
 * Packs B rows [k0, k0 + kc) x columns [j0, j0 + nc) of the flipped filter into NR-column panels: row k is the tap
 * (kh, kw) and dy channel o, k = (kh·fw + kw)·O + o, column j an input channel; B[k, j] = f[fh−1−kh, fw−1−kw, j, o].
 */
function packFlippedFilter(g: usize, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const f = <usize>geo(g, GEO_FILTER);
  const O = geo(g, GEO_IN_C); // dy's channels: the filter's output channels
  const N = geo(g, GEO_OUT_C); // dx's channels: the filter's input channels
  const taps = geo(g, GEO_FH) * geo(g, GEO_FW);
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const panel = dst + <usize>(jp * kc * 4);
    let d = panel;
    for (let k = 0; k < kc; k++) {
      const kk = k0 + k;
      const tap = kk / O;
      const o = kk - tap * O;
      let src = f + <usize>((((taps - 1 - tap) * N + j0 + jp) * O + o) * 4);
      const step = <usize>(O * 4);
      for (let c = 0; c < NR; c++) {
        store<f32>(d + <usize>(c * 4), c < cols ? load<f32>(src) : 0);
        src += step;
      }
      d += NR * 4;
    }
  }
}

/**
 * The conv as a GEMM over output pixels [m0, m1): out[m, j] = act(Σ_k im2col[m, k]·B[k, j] + bias[j]), B the
 * filter as [fh·fw·C, N] (or the flipped filter, GEO_FLIP). B is packed for as many KC blocks as fit the packing
 * buffer at once (the whole filter for N ≤ 64 up to K = 2048), then each MC block of rows runs over those K blocks,
 * so its output tile stays in cache across K. Rows are whole, so any split by rows gives the same bits.
 */
export function convGemm(g: usize, m0: i32, m1: i32, scratch: usize): void {
  const out = <usize>geo(g, GEO_OUT);
  const bias = <usize>geo(g, GEO_BIAS);
  const act = geo(g, GEO_ACT);
  const C = geo(g, GEO_IN_C);
  const N = geo(g, GEO_OUT_C);
  const K = geo(g, GEO_FH) * geo(g, GEO_FW) * C;
  const flip = geo(g, GEO_FLIP) != 0;
  const filter = <usize>geo(g, GEO_FILTER);
  if (m1 <= m0 || N <= 0) return;
  const ldc = <usize>(N * 4);
  if (K <= 0) {
    zeroEpilogue(out + <usize>m0 * ldc, ldc, m1 - m0, N, bias, act);
    return;
  }
  const packedA = scratch;
  const packedB = scratch + <usize>(MC * KC * 4);
  const tile = packedB + <usize>(KC * NC * 4);
  const tileBias = tile + <usize>(MR * NR * 4);
  const info = scratch + <usize>matmulScratchBytes(); // the dcol block, unused here
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    const ncPad = ((nc + NR - 1) / NR) * NR;
    // Depth blocks: the whole K in one when its packed B fits and K <= CONV_KC_MAX (no partial sums stored and
    // reloaded, no short last block), with fewer rows per block so the packed A block stays the same size.
    const kStep = K <= CONV_KC_MAX && K * ncPad <= KC * NC ? K : KC;
    const mStep = max(MR, min(MC, ((MC * KC) / kStep / MR) * MR));
    const group = max(kStep, ((KC * NC) / ncPad / kStep) * kStep);
    for (let pg = 0; pg < K; pg += group) {
      const kg = min(group, K - pg);
      for (let pc = pg; pc < pg + kg; pc += kStep) {
        const kc = min(kStep, pg + kg - pc);
        const dst = packedB + <usize>((pc - pg) * ncPad * 4);
        if (flip) packFlippedFilter(g, pc, kc, jc, nc, dst);
        else packB(filter + <usize>((pc * N + jc) * 4), N, 1, kc, nc, dst);
      }
      for (let ic = m0; ic < m1; ic += mStep) {
        const mc = min(mStep, m1 - ic);
        for (let pc = pg; pc < pg + kg; pc += kStep) {
          const kc = min(kStep, pg + kg - pc);
          const accumulate = pc > 0;
          const last = pc + kc >= K;
          packImageRows(g, ic, mc, pc, kc, packedA, info);
          const pbBlock = packedB + <usize>((pc - pg) * ncPad * 4);
          for (let jr = 0; jr < nc; jr += NR) {
            const nr = min(NR, nc - jr);
            const pb = pbBlock + <usize>(jr * kc * 4);
            const biasJ: usize = bias == 0 ? 0 : bias + <usize>((jc + jr) * 4);
            let cRow = out + <usize>ic * ldc + <usize>((jc + jr) * 4);
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = min(MR, mc - ir);
              const pa = packedA + <usize>(ir * kc * 4);
              micro(kc, pa, pb, cRow, ldc, mr, nr, accumulate, last, biasJ, act, tile, tileBias);
              cRow += ldc * MR;
            }
          }
        }
      }
    }
  }
}

/**
 * Packs im2colᵀ rows [k0, k0 + mc) x columns [p0, p0 + kc) into MR-row panels: row k is (tap, channel), column p
 * an output pixel. Six consecutive k of one tap are six consecutive channels of one image pixel: one copy.
 */
function packImageCols(g: usize, k0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  const image = <usize>geo(g, GEO_IMAGE);
  const inH = geo(g, GEO_IN_H);
  const inW = geo(g, GEO_IN_W);
  const C = geo(g, GEO_IN_C);
  const outH = geo(g, GEO_OUT_H);
  const outW = geo(g, GEO_OUT_W);
  const fw = geo(g, GEO_FW);
  const sh = geo(g, GEO_SH);
  const sw = geo(g, GEO_SW);
  const dh = geo(g, GEO_DH);
  const dw = geo(g, GEO_DW);
  const top = geo(g, GEO_TOP);
  const left = geo(g, GEO_LEFT);
  const plane = outH * outW;
  const pb0 = p0 / plane;
  const prest = p0 - pb0 * plane;
  const poh0 = prest / outW;
  const pow0 = prest - poh0 * outW;
  const imageStep = <usize>(inH * inW * C * 4);
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const panel = dst + <usize>(i0 * kc * 4);
    const k = k0 + i0;
    const tap = k / C;
    const c = k - tap * C;
    if (rows == MR && c + MR <= C) {
      // One tap: per pixel, MR consecutive channels.
      const kh = tap / fw;
      const kw = tap - kh * fw;
      let b = pb0;
      let oh = poh0;
      let ow = pow0;
      let imageB = image + <usize>b * imageStep + <usize>(c * 4);
      let d = panel;
      for (let p = 0; p < kc; p++) {
        const ih = oh * sh - top + kh * dh;
        const iw = ow * sw - left + kw * dw;
        if (<u32>ih < <u32>inH && <u32>iw < <u32>inW) {
          const src = imageB + <usize>((ih * inW + iw) * C * 4);
          v128.store(d, v128.load(src));
          store<u64>(d, load<u64>(src, 16), 16);
        } else {
          v128.store(d, i32x4.splat(0));
          store<u64>(d, 0, 16);
        }
        d += MR * 4;
        if (++ow == outW) {
          ow = 0;
          if (++oh == outH) {
            oh = 0;
            b++;
            imageB += imageStep;
          }
        }
      }
      continue;
    }
    for (let r = 0; r < MR; r++) {
      let d = panel + <usize>(r * 4);
      if (r >= rows) {
        for (let p = 0; p < kc; p++) {
          store<f32>(d, 0);
          d += MR * 4;
        }
        continue;
      }
      const kr = k + r;
      const tr = kr / C;
      const cr = kr - tr * C;
      const kh = tr / fw;
      const kw = tr - kh * fw;
      let b = pb0;
      let oh = poh0;
      let ow = pow0;
      let imageB = image + <usize>b * imageStep + <usize>(cr * 4);
      for (let p = 0; p < kc; p++) {
        const ih = oh * sh - top + kh * dh;
        const iw = ow * sw - left + kw * dw;
        let v: f32 = 0;
        if (<u32>ih < <u32>inH && <u32>iw < <u32>inW) v = load<f32>(imageB + <usize>((ih * inW + iw) * C * 4));
        store<f32>(d, v);
        d += MR * 4;
        if (++ow == outW) {
          ow = 0;
          if (++oh == outH) {
            oh = 0;
            b++;
            imageB += imageStep;
          }
        }
      }
    }
  }
}

/**
 * The filter gradient's rows [k0, k1) (k = (kh·fw + kw)·C + c): dW[k, j] = Σ_p im2col[p, k]·dy[p, j] over all
 * output pixels p, a GEMM im2colᵀ·dy with the pixels as its depth. Rows are whole, so a split by k gives the same
 * bits. GEO_FILTER holds dy, GEO_OUT dW.
 */
export function convFilterGemm(g: usize, k0: i32, k1: i32, scratch: usize): void {
  const dy = <usize>geo(g, GEO_FILTER);
  const out = <usize>geo(g, GEO_OUT);
  const N = geo(g, GEO_OUT_C);
  const P = geo(g, GEO_N) * geo(g, GEO_OUT_H) * geo(g, GEO_OUT_W);
  if (k1 <= k0 || N <= 0) return;
  const ldc = <usize>(N * 4);
  if (P <= 0) {
    zeroEpilogue(out + <usize>k0 * ldc, ldc, k1 - k0, N, 0, 0);
    return;
  }
  const packedA = scratch;
  const packedB = scratch + <usize>(MC * KC * 4);
  const tile = packedB + <usize>(KC * NC * 4);
  const tileBias = tile + <usize>(MR * NR * 4);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < P; pc += KC) {
      const kc = min(KC, P - pc);
      const accumulate = pc > 0;
      const last = pc + kc >= P;
      packB(dy + <usize>((pc * N + jc) * 4), N, 1, kc, nc, packedB);
      for (let ic = k0; ic < k1; ic += MC) {
        const mc = min(MC, k1 - ic);
        packImageCols(g, ic, mc, pc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packedB + <usize>(jr * kc * 4);
          let cRow = out + <usize>ic * ldc + <usize>((jc + jr) * 4);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            micro(kc, packedA + <usize>(ir * kc * 4), pb, cRow, ldc, mr, nr, accumulate, last, 0, 0, tile, tileBias);
            cRow += ldc * MR;
          }
        }
      }
    }
  }
}

/**
 * The input gradient by col2im, for dx's channels [start, end) of every image, or (GEO_BY_BATCH) all channels of
 * images [start, end): per block of dy pixels and per tap, dcol = dy·W_tapᵀ (a matmul into the dcol block),
 * scattered (added) into the dx pixels that tap read. Any strides, dilations, padding; either split writes disjoint
 * elements and gives the same bits. Geometry as the forward conv's (GEO_IMAGE dy,
 * GEO_OUT dx, GEO_IN_* dx's dims, GEO_OUT_* dy's grid and channels).
 */
export function convCol2im(g: usize, start: i32, end: i32, scratch: usize): void {
  const dy = <usize>geo(g, GEO_IMAGE);
  const f = <usize>geo(g, GEO_FILTER);
  const dx = <usize>geo(g, GEO_OUT);
  const n = geo(g, GEO_N);
  const inH = geo(g, GEO_IN_H);
  const inW = geo(g, GEO_IN_W);
  const C = geo(g, GEO_IN_C);
  const outH = geo(g, GEO_OUT_H);
  const outW = geo(g, GEO_OUT_W);
  const O = geo(g, GEO_OUT_C);
  const fh = geo(g, GEO_FH);
  const fw = geo(g, GEO_FW);
  const sh = geo(g, GEO_SH);
  const sw = geo(g, GEO_SW);
  const dh = geo(g, GEO_DH);
  const dw = geo(g, GEO_DW);
  const top = geo(g, GEO_TOP);
  const left = geo(g, GEO_LEFT);
  if (end <= start) return;
  const byBatch = geo(g, GEO_BY_BATCH) != 0;
  const b0 = byBatch ? start : 0;
  const b1 = byBatch ? end : n;
  const c0 = byBatch ? 0 : start;
  const c1 = byBatch ? C : end;
  // Zero this thread's part of dx.
  const pixels = (b1 - b0) * inH * inW;
  const cw = c1 - c0;
  let z = dx + <usize>((b0 * inH * inW * C + c0) * 4);
  for (let q = 0; q < pixels; q++) {
    memory.fill(z, 0, <usize>(cw * 4));
    z += <usize>(C * 4);
  }
  const plane = outH * outW;
  const pStart = b0 * plane;
  const P = b1 * plane;
  if (P <= pStart || O <= 0) return;
  const dcol = scratch + <usize>matmulScratchBytes();
  for (let cc = c0; cc < c1; cc += CONV_DCOL_FLOATS / MR) {
    const cn = min(CONV_DCOL_FLOATS / MR, c1 - cc);
    const rowsPerBlock = max(MR, (CONV_DCOL_FLOATS / cn / MR) * MR);
    for (let p0 = pStart; p0 < P; p0 += rowsPerBlock) {
      const mc = min(rowsPerBlock, P - p0);
      for (let kh = 0; kh < fh; kh++) {
        for (let kw = 0; kw < fw; kw++) {
          const tap = kh * fw + kw;
          // dcol[mc, cn] = dy[p0 : p0 + mc, O] · W[tap, cc : cc + cn, O]ᵀ
          matmul(
            dy + <usize>(p0 * O * 4),
            O,
            1,
            f + <usize>((tap * C + cc) * O * 4),
            1,
            O,
            dcol,
            cn,
            mc,
            cn,
            O,
            0,
            0,
            scratch,
          );
          let b = p0 / plane;
          const rest = p0 - b * plane;
          let oh = rest / outW;
          let ow = rest - oh * outW;
          let row = dcol;
          for (let p = 0; p < mc; p++) {
            const ih = oh * sh - top + kh * dh;
            const iw = ow * sw - left + kw * dw;
            if (<u32>ih < <u32>inH && <u32>iw < <u32>inW) {
              addRow(dx + <usize>((((b * inH + ih) * inW + iw) * C + cc) * 4), row, cn);
            }
            row += <usize>(cn * 4);
            if (++ow == outW) {
              ow = 0;
              if (++oh == outH) {
                oh = 0;
                b++;
              }
            }
          }
        }
      }
    }
  }
}

/** dst[0 : n] += src[0 : n]. */
function addRow(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>(i * 4);
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>(i * 4);
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}
