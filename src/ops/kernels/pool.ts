/**
 * Kernels of 2-D pooling over NHWC tensors [batch, height, width, channels]. A window is clipped to the input, so
 * padding never takes part: it is -Infinity for max and left out of the count for the average (TensorFlow's
 * convention), unless `countPadding` asks for ONNX's count_include_pad. Among equal maxima of a window the first in
 * row-major window order wins (as TensorFlow and tfjs do): the gradient goes to that one position only.
 */
import type { Buf } from './types';

/** Window size [height, width], strides, padding [top, bottom, left, right], dilations (default [1, 1]). */
export interface PoolWindow {
  readonly filterSize: readonly number[];
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations?: readonly number[];
}

/** The first position at or after `start` on the lattice start + i·step that is >= 0. */
const firstInside = (start: number, step: number): number =>
  start >= 0 ? start : start + Math.ceil(-start / step) * step;

/** How many lattice positions r0, r0 + step, … lie below r1. */
const taps = (r0: number, r1: number, step: number): number => (r1 > r0 ? Math.floor((r1 - r0 - 1) / step) + 1 : 0);

/**
 * Calls visit(b, o, rowStart, rowEnd, colStart, colEnd) for each output position o (over batch, outRows, outCols,
 * in that order; channels excluded) with its window clipped to the input: rows rowStart, rowStart + dilation, …
 * below rowEnd, and the same for columns.
 */
function eachWindow(
  batch: number,
  inRows: number,
  inCols: number,
  outRows: number,
  outCols: number,
  window: PoolWindow,
  visit: (b: number, o: number, r0: number, r1: number, c0: number, c1: number) => void,
): void {
  const [fh, fw] = window.filterSize;
  const [sh, sw] = window.strides;
  const [top, , left] = window.pads;
  const [dh, dw] = window.dilations ?? [1, 1];
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outRows; oy++) {
      const y = oy * sh - top;
      const r0 = firstInside(y, dh);
      const r1 = Math.min(y + (fh - 1) * dh + 1, inRows);
      for (let ox = 0; ox < outCols; ox++, o++) {
        const x = ox * sw - left;
        visit(b, o, r0, r1, firstInside(x, dw), Math.min(x + (fw - 1) * dw + 1, inCols));
      }
    }
  }
}

/**
 * The flat index into x of each output element's maximum (the first of equal maxima; a NaN wins over numbers), or
 * -1 for a window without input pixels. `outShape` is the pooled shape [batch, outRows, outCols, channels].
 */
function maxPositions(x: Buf, outShape: readonly number[], window: PoolWindow): Int32Array {
  const [batch, inRows, inCols, channels] = x.shape;
  const [, outRows, outCols] = outShape;
  const data = x.data;
  const [dh, dw] = window.dilations ?? [1, 1];
  const positions = new Int32Array(batch * outRows * outCols * channels).fill(-1);
  eachWindow(batch, inRows, inCols, outRows, outCols, window, (b, o, r0, r1, c0, c1) => {
    const base = o * channels;
    for (let r = r0; r < r1; r += dh) {
      for (let col = c0; col < c1; col += dw) {
        const pixel = ((b * inRows + r) * inCols + col) * channels;
        for (let c = 0; c < channels; c++) {
          const best = positions[base + c];
          const v = data[pixel + c];
          if (best === -1 || (!Number.isNaN(data[best]) && (v > data[best] || Number.isNaN(v)))) {
            positions[base + c] = pixel + c;
          }
        }
      }
    }
  });
  return positions;
}

/** out = the maximum of each window of x (-Infinity for a window of padding only). */
export function maxPool(x: Buf, window: PoolWindow, out: Buf): void {
  const positions = maxPositions(x, out.shape, window);
  for (let i = 0; i < positions.length; i++) {
    out.data[i] = positions[i] === -1 ? -Infinity : x.data[positions[i]];
  }
}

/** dx (x's shape) = dy added at the position of each window's maximum, zero elsewhere (TensorFlow's MaxPoolGrad). */
export function maxPoolGrad(x: Buf, dy: Buf, window: PoolWindow, dx: Buf): void {
  const positions = maxPositions(x, dy.shape, window);
  dx.data.fill(0);
  for (let i = 0; i < positions.length; i++) {
    if (positions[i] !== -1) dx.data[positions[i]] += dy.data[i];
  }
}

/** out (the pooled shape) = g read at the position of each window's maximum (TensorFlow's MaxPoolGradGrad). */
export function maxPoolGradGrad(x: Buf, g: Buf, window: PoolWindow, out: Buf): void {
  const positions = maxPositions(x, out.shape, window);
  for (let i = 0; i < positions.length; i++) {
    out.data[i] = positions[i] === -1 ? 0 : g.data[positions[i]];
  }
}

/** The divisor of a window: its input pixels, or the whole window when padding counts (0 stays 0: no pixels). */
function divisor(r0: number, r1: number, c0: number, c1: number, window: PoolWindow, countPadding: boolean): number {
  const [dh, dw] = window.dilations ?? [1, 1];
  const pixels = taps(r0, r1, dh) * taps(c0, c1, dw);
  return countPadding && pixels > 0 ? window.filterSize[0] * window.filterSize[1] : pixels;
}

/** out = the mean of each window of x over its input pixels (0 for a window of padding only). */
export function avgPool(x: Buf, window: PoolWindow, countPadding: boolean, out: Buf): void {
  const [batch, inRows, inCols, channels] = x.shape;
  const [, outRows, outCols] = out.shape;
  const data = x.data;
  const result = out.data;
  // Sums in float64 whatever the dtype, rounded once when divided (as tfjs's cpu backend sums in JS numbers).
  const sums = new Float64Array(channels);
  const [dh, dw] = window.dilations ?? [1, 1];
  eachWindow(batch, inRows, inCols, outRows, outCols, window, (b, o, r0, r1, c0, c1) => {
    sums.fill(0);
    for (let r = r0; r < r1; r += dh) {
      for (let col = c0; col < c1; col += dw) {
        const pixel = ((b * inRows + r) * inCols + col) * channels;
        for (let c = 0; c < channels; c++) sums[c] += data[pixel + c];
      }
    }
    const count = divisor(r0, r1, c0, c1, window, countPadding);
    const base = o * channels;
    for (let c = 0; c < channels; c++) result[base + c] = count > 0 ? sums[c] / count : 0;
  });
}

/** dx ([batch, inRows, inCols, channels]) = each dy spread evenly over its window's pixels (AvgPoolGrad). */
export function avgPoolGrad(dy: Buf, window: PoolWindow, countPadding: boolean, dx: Buf): void {
  const [batch, inRows, inCols, channels] = dx.shape;
  const [, outRows, outCols] = dy.shape;
  const grad = dy.data;
  const result = dx.data;
  const [dh, dw] = window.dilations ?? [1, 1];
  result.fill(0);
  eachWindow(batch, inRows, inCols, outRows, outCols, window, (b, o, r0, r1, c0, c1) => {
    const count = divisor(r0, r1, c0, c1, window, countPadding);
    if (count === 0) return;
    const base = o * channels;
    for (let r = r0; r < r1; r += dh) {
      for (let col = c0; col < c1; col += dw) {
        const pixel = ((b * inRows + r) * inCols + col) * channels;
        for (let c = 0; c < channels; c++) result[pixel + c] += grad[base + c] / count;
      }
    }
  });
}

/**
 * out (int32, the pooled shape) = the flat NHWC index of each window's maximum: ((b·height + y)·width + x)·channels
 * + c, or without the batch term (tfjs's maxPoolWithArgmax); -1 for a window of padding only.
 */
export function maxPoolArgmax(x: Buf, window: PoolWindow, includeBatch: boolean, out: Buf): void {
  const positions = maxPositions(x, out.shape, window);
  const [, height, width, channels] = x.shape;
  const image = height * width * channels;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    out.data[i] = p === -1 || includeBatch ? p : p % image;
  }
}
