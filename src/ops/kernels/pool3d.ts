/**
 * Kernels of 3-D pooling over NDHWC tensors [batch, depth, height, width, channels], with the conventions of the
 * 2-D ones (pool.ts): a window is clipped to the input, so padding never takes part (-Infinity for max, left out
 * of the average's count unless `countPadding`, ONNX's count_include_pad). Among equal maxima the LAST in window
 * order wins and alone gets the gradient, as in tfjs's maxPool3d (its 2-D maxPool, and lazygrad's, take the first);
 * a NaN wins over numbers.
 */
import type { Buf } from './types';

/** Window size, strides and dilations [depth, height, width]; padding [front, back, top, bottom, left, right]. */
export interface Pool3DWindow {
  readonly filterSize: readonly number[];
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations?: readonly number[];
}

const firstInside = (start: number, step: number): number =>
  start >= 0 ? start : start + Math.ceil(-start / step) * step;

const taps = (r0: number, r1: number, step: number): number => (r1 > r0 ? Math.floor((r1 - r0 - 1) / step) + 1 : 0);

/** One output position's window clipped to the input: [start, end) per spatial dim (step: the dilation). */
type Range = [number, number, number, number, number, number];

/**
 * Calls visit(b, o, range) for each output position o (over batch and the output's depth, height and width, in
 * that order) with its window clipped to the input.
 */
function eachWindow(
  input: readonly number[],
  output: readonly number[],
  batch: number,
  window: Pool3DWindow,
  visit: (b: number, o: number, range: Range) => void,
): void {
  const [fd, fh, fw] = window.filterSize;
  const [sd, sh, sw] = window.strides;
  const [front, , top, , left] = window.pads;
  const [dd, dh, dw] = window.dilations ?? [1, 1, 1];
  const range: Range = [0, 0, 0, 0, 0, 0];
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let z = 0; z < output[0]; z++) {
      const z0 = z * sd - front;
      range[0] = firstInside(z0, dd);
      range[1] = Math.min(z0 + (fd - 1) * dd + 1, input[0]);
      for (let y = 0; y < output[1]; y++) {
        const y0 = y * sh - top;
        range[2] = firstInside(y0, dh);
        range[3] = Math.min(y0 + (fh - 1) * dh + 1, input[1]);
        for (let x = 0; x < output[2]; x++, o++) {
          const x0 = x * sw - left;
          range[4] = firstInside(x0, dw);
          range[5] = Math.min(x0 + (fw - 1) * dw + 1, input[2]);
          visit(b, o, range);
        }
      }
    }
  }
}

/** Calls pixel(offset) for the flat offset (channel 0) of every input voxel of a clipped window, in window order. */
function eachVoxel(
  shape: readonly number[],
  b: number,
  range: Range,
  window: Pool3DWindow,
  pixel: (offset: number) => void,
): void {
  const [, depth, height, width, channels] = shape;
  const [dd, dh, dw] = window.dilations ?? [1, 1, 1];
  for (let z = range[0]; z < range[1]; z += dd) {
    for (let y = range[2]; y < range[3]; y += dh) {
      for (let x = range[4]; x < range[5]; x += dw) {
        pixel((((b * depth + z) * height + y) * width + x) * channels);
      }
    }
  }
}

/** The flat index into x of each output element's maximum (last of equal maxima; NaN wins), -1 for no voxels. */
function maxPositions(x: Buf, outShape: readonly number[], window: Pool3DWindow): Int32Array {
  const [batch, , , , channels] = x.shape;
  const data = x.data;
  const positions = new Int32Array(outShape.reduce((a, b) => a * b, 1)).fill(-1);
  eachWindow(x.shape.slice(1, 4), outShape.slice(1, 4), batch, window, (b, o, range) => {
    const base = o * channels;
    eachVoxel(x.shape, b, range, window, (pixel) => {
      for (let c = 0; c < channels; c++) {
        const best = positions[base + c];
        const v = data[pixel + c];
        if (best === -1 || (!Number.isNaN(data[best]) && (v >= data[best] || Number.isNaN(v)))) {
          positions[base + c] = pixel + c;
        }
      }
    });
  });
  return positions;
}

/** out = the maximum of each window of x (-Infinity for a window of padding only). */
export function maxPool3d(x: Buf, window: Pool3DWindow, out: Buf): void {
  const positions = maxPositions(x, out.shape, window);
  for (let i = 0; i < positions.length; i++) out.data[i] = positions[i] === -1 ? -Infinity : x.data[positions[i]];
}

/** dx (x's shape) = dy added at the position of each window's maximum (TensorFlow's MaxPool3DGrad). */
export function maxPool3dGrad(x: Buf, dy: Buf, window: Pool3DWindow, dx: Buf): void {
  const positions = maxPositions(x, dy.shape, window);
  dx.data.fill(0);
  for (let i = 0; i < positions.length; i++) if (positions[i] !== -1) dx.data[positions[i]] += dy.data[i];
}

/** out (the pooled shape) = g read at the position of each window's maximum (MaxPool3DGradGrad). */
export function maxPool3dGradGrad(x: Buf, g: Buf, window: Pool3DWindow, out: Buf): void {
  const positions = maxPositions(x, out.shape, window);
  for (let i = 0; i < positions.length; i++) out.data[i] = positions[i] === -1 ? 0 : g.data[positions[i]];
}

function divisor(range: Range, window: Pool3DWindow, countPadding: boolean): number {
  const [dd, dh, dw] = window.dilations ?? [1, 1, 1];
  const voxels = taps(range[0], range[1], dd) * taps(range[2], range[3], dh) * taps(range[4], range[5], dw);
  const [fd, fh, fw] = window.filterSize;
  return countPadding && voxels > 0 ? fd * fh * fw : voxels;
}

/** out = the mean of each window of x over its input voxels (0 for a window of padding only). */
export function avgPool3d(x: Buf, window: Pool3DWindow, countPadding: boolean, out: Buf): void {
  const [batch, , , , channels] = x.shape;
  const data = x.data;
  const result = out.data;
  const sums = new Float64Array(channels);
  eachWindow(x.shape.slice(1, 4), out.shape.slice(1, 4), batch, window, (b, o, range) => {
    sums.fill(0);
    eachVoxel(x.shape, b, range, window, (pixel) => {
      for (let c = 0; c < channels; c++) sums[c] += data[pixel + c];
    });
    const count = divisor(range, window, countPadding);
    const base = o * channels;
    for (let c = 0; c < channels; c++) result[base + c] = count > 0 ? sums[c] / count : 0;
  });
}

/** dx (NDHWC, `dx`'s shape) = each dy spread evenly over its window's voxels (AvgPool3DGrad). */
export function avgPool3dGrad(dy: Buf, window: Pool3DWindow, countPadding: boolean, dx: Buf): void {
  const [batch, , , , channels] = dx.shape;
  const grad = dy.data;
  const acc = new Float64Array(dx.data.length);
  eachWindow(dx.shape.slice(1, 4), dy.shape.slice(1, 4), batch, window, (b, o, range) => {
    const count = divisor(range, window, countPadding);
    if (count === 0) return;
    const base = o * channels;
    eachVoxel(dx.shape, b, range, window, (pixel) => {
      for (let c = 0; c < channels; c++) acc[pixel + c] += grad[base + c] / count;
    });
  });
  for (let i = 0; i < acc.length; i++) dx.data[i] = acc[i];
}
