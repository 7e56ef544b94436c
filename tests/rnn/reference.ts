/**
 * Plain-JS float64 recurrent cells (Keras's math, written out loop by loop) and random weights, as an oracle that
 * shares no code with src/ops/rnn.ts.
 */
import { Rng } from '../ops/util';

/** A row-major matrix. */
export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function mat(rows: number, cols: number, data?: ArrayLike<number>): Mat {
  return { rows, cols, data: data === undefined ? new Float64Array(rows * cols) : Float64Array.from(data) };
}

export function randomMat(rng: Rng, rows: number, cols: number, scale = 0.5): Mat {
  const m = mat(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.uniform(-scale, scale);
  return m;
}

/** a·b (+ bias row, broadcast). */
export function matmul(a: Mat, b: Mat, bias?: ArrayLike<number>): Mat {
  if (a.cols !== b.rows) throw new Error(`matmul ${a.rows}x${a.cols} by ${b.rows}x${b.cols}`);
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.cols; j++) {
      let s = bias === undefined ? 0 : bias[j];
      for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k] * b.data[k * b.cols + j];
      out.data[i * b.cols + j] = s;
    }
  }
  return out;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Column block k of width `units` of row `i`. */
function at(m: Mat, i: number, k: number, units: number, j: number): number {
  return m.data[i * m.cols + k * units + j];
}

export interface Weights {
  kernel: Mat;
  recurrentKernel: Mat;
  bias: Float64Array;
}

/** Keras LSTM step (gates i, f, c, o). */
export function lstmStepRef(w: Weights, x: Mat, h: Mat, c: Mat, forgetBias = 0): [Mat, Mat] {
  const units = h.cols;
  const zx = matmul(x, w.kernel, w.bias);
  const zh = matmul(h, w.recurrentKernel);
  const h2 = mat(h.rows, units);
  const c2 = mat(h.rows, units);
  for (let b = 0; b < h.rows; b++) {
    for (let j = 0; j < units; j++) {
      const z = (k: number): number => at(zx, b, k, units, j) + at(zh, b, k, units, j);
      const cell = sigmoid(z(1) + forgetBias) * c.data[b * units + j] + sigmoid(z(0)) * Math.tanh(z(2));
      c2.data[b * units + j] = cell;
      h2.data[b * units + j] = sigmoid(z(3)) * Math.tanh(cell);
    }
  }
  return [h2, c2];
}

/** Keras GRU step (gates z, r, h); resetAfter: bias is [2·3u] (input row then recurrent row), else [3u]. */
export function gruStepRef(w: Weights, x: Mat, h: Mat, resetAfter: boolean): Mat {
  const units = h.cols;
  const inputBias = w.bias.subarray(0, 3 * units);
  const zx = matmul(x, w.kernel, inputBias);
  const out = mat(h.rows, units);
  if (resetAfter) {
    const zh = matmul(h, w.recurrentKernel, w.bias.subarray(3 * units, 6 * units));
    for (let b = 0; b < h.rows; b++) {
      for (let j = 0; j < units; j++) {
        const z = sigmoid(at(zx, b, 0, units, j) + at(zh, b, 0, units, j));
        const r = sigmoid(at(zx, b, 1, units, j) + at(zh, b, 1, units, j));
        const cand = Math.tanh(at(zx, b, 2, units, j) + r * at(zh, b, 2, units, j));
        out.data[b * units + j] = z * h.data[b * units + j] + (1 - z) * cand;
      }
    }
    return out;
  }
  const zh = matmul(h, w.recurrentKernel);
  const reset = mat(h.rows, units);
  for (let b = 0; b < h.rows; b++) {
    for (let j = 0; j < units; j++) {
      const r = sigmoid(at(zx, b, 1, units, j) + at(zh, b, 1, units, j));
      reset.data[b * units + j] = r * h.data[b * units + j];
    }
  }
  const uh = mat(units, units);
  for (let i = 0; i < units; i++) {
    for (let j = 0; j < units; j++) uh.data[i * units + j] = w.recurrentKernel.data[i * 3 * units + 2 * units + j];
  }
  const rh = matmul(reset, uh);
  for (let b = 0; b < h.rows; b++) {
    for (let j = 0; j < units; j++) {
      const z = sigmoid(at(zx, b, 0, units, j) + at(zh, b, 0, units, j));
      const cand = Math.tanh(at(zx, b, 2, units, j) + rh.data[b * units + j]);
      out.data[b * units + j] = z * h.data[b * units + j] + (1 - z) * cand;
    }
  }
  return out;
}

/** Keras SimpleRNN step with tanh. */
export function rnnStepRef(w: Weights, x: Mat, h: Mat): Mat {
  const z = matmul(x, w.kernel, w.bias);
  const zh = matmul(h, w.recurrentKernel);
  return mat(
    h.rows,
    h.cols,
    z.data.map((v, i) => Math.tanh(v + zh.data[i])),
  );
}

/** Row t of a time-major [T, batch, features] array as a [batch, features] matrix. */
export function stepOf(xs: Float64Array, t: number, batch: number, features: number): Mat {
  return mat(batch, features, xs.subarray(t * batch * features, (t + 1) * batch * features));
}

/** Random weights for `gates` gate blocks. */
export function randomWeights(
  rng: Rng,
  input: number,
  units: number,
  gates: number,
  biasSize = gates * units,
): Weights {
  return {
    kernel: randomMat(rng, input, gates * units),
    recurrentKernel: randomMat(rng, units, gates * units),
    bias: randomMat(rng, 1, biasSize).data,
  };
}
