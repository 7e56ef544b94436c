/**
 * Image resizing over NHWC [batch, height, width, channels] buffers, as TensorFlow.js's cpu kernels sample: the
 * source coordinate of output pixel i along an axis is `ratio * i` (asymmetric), `ratio * (i + 0.5) - 0.5`
 * (half-pixel centers; nearest neighbour drops the `- 0.5`) or, with aligned corners, `ratio * i` with ratio
 * (in - 1) / (out - 1). The gradient kernels are the exact adjoints of the forward ones (scatter-adds of dy).
 */
import type { Buf } from './types';
import { shapeStr } from './util';

/** The sampling of one axis: for bilinear, the two source rows and the weight of the second; for nearest, one. */
interface AxisSampling {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly frac: Float64Array;
}

function ratioOf(inSize: number, outSize: number, alignCorners: boolean): number {
  return alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
}

function bilinearAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): AxisSampling {
  const ratio = ratioOf(inSize, outSize, alignCorners);
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = halfPixel ? ratio * (i + 0.5) - 0.5 : ratio * i;
    lo[i] = Math.max(0, Math.floor(src));
    hi[i] = Math.min(inSize - 1, Math.ceil(src));
    frac[i] = src - lo[i];
  }
  return { lo, hi, frac };
}

function nearestAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): Int32Array {
  const ratio = ratioOf(inSize, outSize, alignCorners);
  const index = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = halfPixel ? ratio * (i + 0.5) : ratio * i;
    const n = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
    index[i] = halfPixel ? Math.max(0, n) : n;
  }
  return index;
}

/** [B, H, W, C] of the image and [h, w] of the resized one; checks the two buffers agree. */
function dims(name: string, image: Buf, resized: Buf): [number, number, number, number, number, number] {
  const [B, H, W, C] = image.shape;
  const [b, h, w, c] = resized.shape;
  if (image.shape.length !== 4 || resized.shape.length !== 4 || b !== B || c !== C) {
    throw new Error(`${name}: image ${shapeStr(image.shape)} and resized ${shapeStr(resized.shape)} do not match`);
  }
  if ((H === 0 || W === 0) && h * w > 0) throw new Error(`${name}: cannot sample an empty image`);
  return [B, H, W, C, h, w];
}

/** out [B, h, w, C] = x [B, H, W, C] resized bilinearly. */
export function resizeBilinear(x: Buf, out: Buf, alignCorners: boolean, halfPixel: boolean): void {
  const [B, H, W, C, h, w] = dims('resizeBilinear', x, out);
  const rows = bilinearAxis(H, h, alignCorners, halfPixel);
  const cols = bilinearAxis(W, w, alignCorners, halfPixel);
  const xd = x.data;
  const od = out.data;
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < h; r++) {
      const top = (b * H + rows.lo[r]) * W;
      const bot = (b * H + rows.hi[r]) * W;
      const rf = rows.frac[r];
      for (let c = 0; c < w; c++) {
        const tl = (top + cols.lo[c]) * C;
        const tr = (top + cols.hi[c]) * C;
        const bl = (bot + cols.lo[c]) * C;
        const br = (bot + cols.hi[c]) * C;
        const cf = cols.frac[c];
        for (let d = 0; d < C; d++) {
          const t = xd[tl + d] + (xd[tr + d] - xd[tl + d]) * cf;
          const u = xd[bl + d] + (xd[br + d] - xd[bl + d]) * cf;
          od[o++] = t + (u - t) * rf;
        }
      }
    }
  }
}

/** dx [B, H, W, C] = the adjoint of resizeBilinear applied to dy [B, h, w, C]. */
export function resizeBilinearGrad(dy: Buf, dx: Buf, alignCorners: boolean, halfPixel: boolean): void {
  const [B, H, W, C, h, w] = dims('resizeBilinearGrad', dx, dy);
  const rows = bilinearAxis(H, h, alignCorners, halfPixel);
  const cols = bilinearAxis(W, w, alignCorners, halfPixel);
  const g = dy.data;
  const od = dx.data;
  od.fill(0);
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < h; r++) {
      const top = (b * H + rows.lo[r]) * W;
      const bot = (b * H + rows.hi[r]) * W;
      const rf = rows.frac[r];
      for (let c = 0; c < w; c++) {
        const tl = (top + cols.lo[c]) * C;
        const tr = (top + cols.hi[c]) * C;
        const bl = (bot + cols.lo[c]) * C;
        const br = (bot + cols.hi[c]) * C;
        const cf = cols.frac[c];
        for (let d = 0; d < C; d++) {
          const v = g[o++];
          const t = v * (1 - rf);
          const u = v * rf;
          od[tl + d] += t * (1 - cf);
          od[tr + d] += t * cf;
          od[bl + d] += u * (1 - cf);
          od[br + d] += u * cf;
        }
      }
    }
  }
}

/** out [B, h, w, C] = x [B, H, W, C] resized by nearest neighbour. */
export function resizeNearestNeighbor(x: Buf, out: Buf, alignCorners: boolean, halfPixel: boolean): void {
  const [B, H, W, C, h, w] = dims('resizeNearestNeighbor', x, out);
  const rows = nearestAxis(H, h, alignCorners, halfPixel);
  const cols = nearestAxis(W, w, alignCorners, halfPixel);
  const xd = x.data;
  const od = out.data;
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < h; r++) {
      const row = (b * H + rows[r]) * W;
      for (let c = 0; c < w; c++) {
        const src = (row + cols[c]) * C;
        for (let d = 0; d < C; d++) od[o++] = xd[src + d];
      }
    }
  }
}

/** dx [B, H, W, C] = the adjoint of resizeNearestNeighbor applied to dy [B, h, w, C]. */
export function resizeNearestNeighborGrad(dy: Buf, dx: Buf, alignCorners: boolean, halfPixel: boolean): void {
  const [B, H, W, C, h, w] = dims('resizeNearestNeighborGrad', dx, dy);
  const rows = nearestAxis(H, h, alignCorners, halfPixel);
  const cols = nearestAxis(W, w, alignCorners, halfPixel);
  const g = dy.data;
  const od = dx.data;
  od.fill(0);
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < h; r++) {
      const row = (b * H + rows[r]) * W;
      for (let c = 0; c < w; c++) {
        const dst = (row + cols[c]) * C;
        for (let d = 0; d < C; d++) od[dst + d] += g[o++];
      }
    }
  }
}

/**
 * The [outSize, inSize] matrix of one axis of a resize: row i holds the weights output i takes from each input (the
 * bilinear weights or a one-hot for nearest). A resize is separable, so out = A_h · x · A_wᵀ per image and channel.
 */
export function resizeMatrix(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixel: boolean,
  bilinear: boolean,
): Float64Array {
  const m = new Float64Array(outSize * inSize);
  if (bilinear) {
    const { lo, hi, frac } = bilinearAxis(inSize, outSize, alignCorners, halfPixel);
    for (let i = 0; i < outSize; i++) {
      m[i * inSize + lo[i]] += 1 - frac[i];
      m[i * inSize + hi[i]] += frac[i];
    }
  } else {
    const index = nearestAxis(inSize, outSize, alignCorners, halfPixel);
    for (let i = 0; i < outSize; i++) m[i * inSize + index[i]] = 1;
  }
  return m;
}
