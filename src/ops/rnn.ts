/**
 * Recurrent cells and layers as composites: tfjs's `basicLSTMCell` / `multiRNNCell` (same names, argument order and
 * gate order), Keras-style LSTM, GRU and simple RNN cells, and sequence layers (`lstm`, `gru`, `simpleRNN`,
 * `bidirectional`) built on `scan`, so a sequence of any length is one graph node whose body compiles once. No new
 * primitive: the cells are matMul, split and elementwise ops (which fusion merges inside the body), and their
 * gradients are those of scan and of the primitives.
 *
 * Layout: sequences are time-major, [T, batch, features], as scan scans axis 0 (ONNX's default layout; TensorFlow's
 * `time_major=True`). `timeMajor: false` takes and returns batch-major [batch, T, features] (Keras, tfjs-layers) by
 * transposing at both ends. Gate orders and weight layouts follow Keras (docs/rnn.md maps them to tfjs and ONNX).
 */
import { DType, formatShape, GraphError, quoteName, ShapeError, Tensor } from '../graph';
import { concat, split } from './concat';
import { scan } from './control';
import { add, mul, relu, sigmoid, sub, tanh } from './elementwise';
import { zeros } from './generators';
import { matMul } from './linalg';
import { reshape, transpose } from './movement';
import { TensorLike, toTensor } from './record';
import { reshapeDims } from './runtimeshape';

// ---- tfjs's cells --------------------------------------------------------------------------------------------------

/** A tfjs LSTM cell function: (data, c, h) → [newC, newH], as `multiRNNCell` takes them. */
export type LSTMCellFunc = (data: Tensor, c: Tensor, h: Tensor) => [Tensor, Tensor];

/**
 * One step of tfjs's BasicLSTMCell (TensorFlow's tf.contrib.rnn.BasicLSTMCell): with z = [data, h]·lstmKernel +
 * lstmBias split into four column blocks i, j, f, o (in that order), newC = σ(i)·tanh(j) + c·σ(f + forgetBias) and
 * newH = tanh(newC)·σ(o). lstmKernel is [inputSize + units, 4·units], lstmBias [4·units]. Returns [newC, newH].
 *
 * @example const [c1, h1] = basicLSTMCell(1, kernel, bias, x, c0, h0);
 */
export function basicLSTMCell(
  forgetBias: TensorLike,
  lstmKernel: Tensor,
  lstmBias: Tensor,
  data: Tensor,
  c: Tensor,
  h: Tensor,
): [Tensor, Tensor] {
  const units = checkState('basicLSTMCell', 'h', h, data);
  checkState('basicLSTMCell', 'c', c, data);
  checkKernel('basicLSTMCell', 'lstmKernel', lstmKernel, 4 * units);
  const combined = concat([data, h], 1);
  const z = add(matMul(combined, lstmKernel), lstmBias);
  const [i, j, f, o] = split(z, 4, 1);
  const newC = add(mul(sigmoid(i), tanh(j)), mul(c, sigmoid(add(toTensor(z.graph, forgetBias, z.dtype), f))));
  const newH = mul(tanh(newC), sigmoid(o));
  return [newC, newH];
}

/**
 * tfjs's multiRNNCell: stacked cells, cell k reading the h of cell k − 1 (the first reads data). `c` and `h` hold one
 * state per cell; returns [newCs, newHs] in cell order.
 *
 * @example const [cs, hs] = multiRNNCell([cell1, cell2], x, [c1, c2], [h1, h2]);
 */
export function multiRNNCell(
  lstmCells: readonly LSTMCellFunc[],
  data: Tensor,
  c: readonly Tensor[],
  h: readonly Tensor[],
): [Tensor[], Tensor[]] {
  if (c.length !== lstmCells.length || h.length !== lstmCells.length) {
    throw new GraphError(
      `multiRNNCell: ${lstmCells.length} cells need ${lstmCells.length} c and h states, got ${c.length} and ${h.length}`,
    );
  }
  let input = data;
  const newC: Tensor[] = [];
  const newH: Tensor[] = [];
  for (let k = 0; k < lstmCells.length; k++) {
    const [ck, hk] = lstmCells[k](input, c[k], h[k]);
    newC.push(ck);
    newH.push(hk);
    input = hk;
  }
  return [newC, newH];
}

// ---- Keras-style cells ---------------------------------------------------------------------------------------------

/**
 * The weights of a Keras-style recurrent layer: `kernel` [inputSize, G·units] multiplies the input,
 * `recurrentKernel` [units, G·units] the previous h, `bias` (optional) is added; G is 4 for an LSTM (gates i, f, c,
 * o), 3 for a GRU (z, r, h) and 1 for a simple RNN.
 */
export interface RecurrentWeights {
  readonly kernel: Tensor;
  readonly recurrentKernel: Tensor;
  readonly bias?: Tensor;
}

/** LSTM options: Keras's `unit_forget_bias` is an initializer choice; `forgetBias` adds a constant instead. */
export interface LSTMCellOptions {
  /** Added to the forget gate's pre-activation (tfjs basicLSTMCell's forgetBias; Keras: 0). */
  readonly forgetBias?: number;
}

/**
 * One LSTM step, Keras's LSTMCell: z = x·kernel + h·recurrentKernel + bias split into i, f, g, o; c' = σ(f)·c +
 * σ(i)·tanh(g), h' = σ(o)·tanh(c'). Returns [h', c'] (Keras's state order).
 *
 * @example const [h1, c1] = lstmCell({ kernel, recurrentKernel, bias }, x, [h0, c0]);
 */
export function lstmCell(
  weights: RecurrentWeights,
  x: Tensor,
  state: readonly [Tensor, Tensor],
  options: LSTMCellOptions = {},
): [Tensor, Tensor] {
  const [h, c] = state;
  const units = checkRecurrent('lstmCell', weights, 4, x, [h, c]);
  return lstmStep(add(matMul(x, weights.kernel), biasOf(weights, 4 * units, x.dtype)), weights, h, c, options);
}

/** The recurrent half of an LSTM step, given x·kernel + bias (precomputed for a whole sequence by `lstm`). */
function lstmStep(
  projected: Tensor,
  weights: RecurrentWeights,
  h: Tensor,
  c: Tensor,
  options: LSTMCellOptions,
): [Tensor, Tensor] {
  const z = add(projected, matMul(h, weights.recurrentKernel));
  const [i, f, g, o] = split(z, 4, 1);
  const forget = options.forgetBias === undefined || options.forgetBias === 0 ? f : add(f, options.forgetBias);
  const c2 = add(mul(sigmoid(forget), c), mul(sigmoid(i), tanh(g)));
  const h2 = mul(sigmoid(o), tanh(c2));
  return [h2, c2];
}

/** GRU options: Keras's `reset_after` (default true, as in Keras 2.3+ and TensorFlow 2; ONNX linear_before_reset=1). */
export interface GRUCellOptions {
  /**
   * true (default): the reset gate multiplies h·recurrentKernel (+ its recurrent bias) after the matMul, and `bias`
   * is [2, 3·units] (input bias row, recurrent bias row), as Keras's default and cuDNN. false: it multiplies h before
   * the matMul and `bias` is [3·units] (Keras's reset_after=False, tfjs-layers' only GRU).
   */
  readonly resetAfter?: boolean;
}

/**
 * One GRU step, Keras's GRUCell with gates z (update), r (reset), h (candidate) in that column order:
 * z = σ(x·Wz + h·Uz + b), r = σ(x·Wr + h·Ur + b), ĥ = tanh(x·Wh + r ⊙ (h·Uh + bUh)) (resetAfter) or
 * tanh(x·Wh + (r ⊙ h)·Uh + b) (not), h' = z ⊙ h + (1 − z) ⊙ ĥ.
 *
 * @example const h1 = gruCell({ kernel, recurrentKernel, bias }, x, h0);
 */
export function gruCell(weights: RecurrentWeights, x: Tensor, h: Tensor, options: GRUCellOptions = {}): Tensor {
  const units = checkRecurrent('gruCell', weights, 3, x, [h]);
  const resetAfter = options.resetAfter ?? true;
  const [inputBias, recurrentBias] = gruBiases(weights, units, resetAfter, x.dtype);
  return gruStep(add(matMul(x, weights.kernel), inputBias), weights, recurrentBias, h, units, resetAfter);
}

function gruBiases(
  weights: RecurrentWeights,
  units: number,
  resetAfter: boolean,
  dtype: DType,
): [Tensor | number, Tensor | null] {
  const { bias } = weights;
  if (bias === undefined) return [0, null];
  if (!resetAfter) return [checkBias('gru', bias, [3 * units], dtype), null];
  checkBias('gru (resetAfter)', bias, [2, 3 * units], dtype);
  const [input, recurrent] = split(bias, 2, 0);
  return [reshape(input, [3 * units]), reshape(recurrent, [3 * units])];
}

function gruStep(
  projected: Tensor,
  weights: RecurrentWeights,
  recurrentBias: Tensor | null,
  h: Tensor,
  units: number,
  resetAfter: boolean,
): Tensor {
  const [xz, xr, xh] = split(projected, 3, 1);
  const u = weights.recurrentKernel;
  let candidate: Tensor;
  let z: Tensor;
  if (resetAfter) {
    let inner = matMul(h, u);
    if (recurrentBias !== null) inner = add(inner, recurrentBias);
    const [hz, hr, hh] = split(inner, 3, 1);
    z = sigmoid(add(xz, hz));
    const r = sigmoid(add(xr, hr));
    candidate = tanh(add(xh, mul(r, hh)));
  } else {
    const [uzr, uh] = split(u, [2 * units, units], 1);
    const [hz, hr] = split(matMul(h, uzr), 2, 1);
    z = sigmoid(add(xz, hz));
    const r = sigmoid(add(xr, hr));
    candidate = tanh(add(xh, matMul(mul(r, h), uh)));
  }
  // z·h + (1 − z)·ĥ written as ĥ + z·(h − ĥ): one fewer op, the same value.
  return add(candidate, mul(z, sub(h, candidate)));
}

/** Simple RNN activations (Keras names). */
export type RNNActivation = 'tanh' | 'relu' | 'sigmoid' | 'linear';

/**
 * One step of Keras's SimpleRNNCell: h' = activation(x·kernel + h·recurrentKernel + bias), tanh by default.
 *
 * @example const h1 = simpleRNNCell({ kernel, recurrentKernel, bias }, x, h0);
 */
export function simpleRNNCell(
  weights: RecurrentWeights,
  x: Tensor,
  h: Tensor,
  activation: RNNActivation = 'tanh',
): Tensor {
  const units = checkRecurrent('simpleRNNCell', weights, 1, x, [h]);
  return rnnStep(add(matMul(x, weights.kernel), biasOf(weights, units, x.dtype)), weights, h, activation);
}

function rnnStep(projected: Tensor, weights: RecurrentWeights, h: Tensor, activation: RNNActivation): Tensor {
  const z = add(projected, matMul(h, weights.recurrentKernel));
  switch (activation) {
    case 'tanh':
      return tanh(z);
    case 'relu':
      return relu(z);
    case 'sigmoid':
      return sigmoid(z);
    case 'linear':
      return z;
  }
}

// ---- sequence layers on scan ---------------------------------------------------------------------------------------

/** Options of the sequence layers. */
export interface RecurrentOptions {
  /** Run from the last step to the first; the outputs still come in the order of xs (JAX's scan, Keras's Bidirectional). */
  readonly reverse?: boolean;
  /** Return the h of every step ([T, batch, units]; Keras's return_sequences) rather than the last h only. */
  readonly returnSequences?: boolean;
  /** true (default): xs and the sequence output are [T, batch, …]; false: [batch, T, …] (Keras, tfjs-layers). */
  readonly timeMajor?: boolean;
  /** scan's checkpoint: keep only the states for the gradient and recompute the cell (less memory, more time). */
  readonly checkpoint?: boolean;
  readonly name?: string;
}

/** What `lstm` returns: the output (every h, or the last) and the final states. */
export interface LSTMResult {
  /** [T, batch, units] with returnSequences (batch-major when timeMajor is false), else the last h [batch, units]. */
  readonly output: Tensor;
  readonly h: Tensor;
  readonly c: Tensor;
}

/** What `gru` and `simpleRNN` return. */
export interface RNNResult {
  readonly output: Tensor;
  readonly h: Tensor;
}

/**
 * An LSTM over a sequence (Keras's LSTM layer), as one scan: x·kernel + bias is computed for every step at once
 * outside the loop (one large matMul), the body does the recurrent matMul and the gates. xs is [T, batch, inputSize]
 * (time-major; `timeMajor: false` for [batch, T, inputSize]); h0 and c0 default to zeros [batch, units].
 *
 * @example const { output, h, c } = lstm(xs, { kernel, recurrentKernel, bias }, { returnSequences: true });
 */
export function lstm(
  xs: Tensor,
  weights: RecurrentWeights,
  options: RecurrentOptions & LSTMCellOptions & { h0?: Tensor; c0?: Tensor } = {},
): LSTMResult {
  const name = options.name ?? 'lstm';
  const seq = timeMajorOf(xs, options, name);
  const units = checkRecurrent(name, weights, 4, rowOfSequence(seq), []);
  const h0 = options.h0 ?? initialState(seq, units, name, 'h0');
  const c0 = options.c0 ?? initialState(seq, units, name, 'c0');
  checkRecurrent(name, weights, 4, rowOfSequence(seq), [h0, c0]);
  const projected = project(seq, weights.kernel, biasOf(weights, 4 * units, seq.dtype));
  const [[h, c], ys] = scan(
    ([hPrev, cPrev]: Tensor[], xw: Tensor) => {
      const [h2, c2] = lstmStep(xw, weights, hPrev, cPrev, options);
      return [[h2, c2], options.returnSequences === true ? h2 : null];
    },
    [h0, c0],
    projected,
    scanOptions(options, name),
  );
  return { output: sequenceOutput(ys, h, options), h, c };
}

/**
 * A GRU over a sequence (Keras's GRU layer, reset_after true by default), as one scan with the input projection
 * hoisted out of the loop. Shapes as `lstm`.
 *
 * @example const { output, h } = gru(xs, { kernel, recurrentKernel, bias }, { returnSequences: true });
 */
export function gru(
  xs: Tensor,
  weights: RecurrentWeights,
  options: RecurrentOptions & GRUCellOptions & { h0?: Tensor } = {},
): RNNResult {
  const name = options.name ?? 'gru';
  const seq = timeMajorOf(xs, options, name);
  const units = checkRecurrent(name, weights, 3, rowOfSequence(seq), []);
  const h0 = options.h0 ?? initialState(seq, units, name, 'h0');
  checkRecurrent(name, weights, 3, rowOfSequence(seq), [h0]);
  const resetAfter = options.resetAfter ?? true;
  const [inputBias, recurrentBias] = gruBiases(weights, units, resetAfter, seq.dtype);
  const projected = project(seq, weights.kernel, inputBias);
  const [h, ys] = scan(
    (hPrev: Tensor, xw: Tensor) => {
      const h2 = gruStep(xw, weights, recurrentBias, hPrev, units, resetAfter);
      return [h2, options.returnSequences === true ? h2 : null];
    },
    h0,
    projected,
    scanOptions(options, name),
  );
  return { output: sequenceOutput(ys, h, options), h };
}

/**
 * A simple RNN over a sequence (Keras's SimpleRNN layer): h' = activation(x·kernel + h·recurrentKernel + bias).
 *
 * @example const { output } = simpleRNN(xs, { kernel, recurrentKernel, bias }, { activation: 'relu' });
 */
export function simpleRNN(
  xs: Tensor,
  weights: RecurrentWeights,
  options: RecurrentOptions & { h0?: Tensor; activation?: RNNActivation } = {},
): RNNResult {
  const name = options.name ?? 'simpleRNN';
  const seq = timeMajorOf(xs, options, name);
  const units = checkRecurrent(name, weights, 1, rowOfSequence(seq), []);
  const h0 = options.h0 ?? initialState(seq, units, name, 'h0');
  checkRecurrent(name, weights, 1, rowOfSequence(seq), [h0]);
  const projected = project(seq, weights.kernel, biasOf(weights, units, seq.dtype));
  const activation = options.activation ?? 'tanh';
  const [h, ys] = scan(
    (hPrev: Tensor, xw: Tensor) => {
      const h2 = rnnStep(xw, weights, hPrev, activation);
      return [h2, options.returnSequences === true ? h2 : null];
    },
    h0,
    projected,
    scanOptions(options, name),
  );
  return { output: sequenceOutput(ys, h, options), h };
}

/** How `bidirectional` merges the forward and backward outputs (Keras's merge_mode). */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

/**
 * Keras's Bidirectional: runs `layer(xs, false)` and `layer(xs, true)` (the second should pass `reverse` to a
 * sequence layer, with its own weights) and merges the outputs: concatenated along the last axis (forward first,
 * the default), summed, multiplied or averaged. Sequence outputs come in the order of xs from both directions (a
 * reverse scan returns them so), so step t of the result sees x₀…x_t forward and x_t…x_{T−1} backward.
 *
 * @example const y = bidirectional((x, reverse) => lstm(x, reverse ? back : fwd, { reverse, returnSequences: true }).output, xs);
 */
export function bidirectional(
  layer: (xs: Tensor, reverse: boolean) => Tensor,
  xs: Tensor,
  options: { mergeMode?: MergeMode } = {},
): Tensor {
  const forward = layer(xs, false);
  const backward = layer(xs, true);
  const mode = options.mergeMode ?? 'concat';
  const same =
    forward.rank === backward.rank &&
    forward.shape.every((d, i) => d === null || backward.shape[i] === null || d === backward.shape[i]);
  if (mode !== 'concat' && !same) {
    throw new ShapeError(
      `bidirectional: mergeMode '${mode}' needs outputs of one shape, got ${formatShape(forward.shape)} forward and ` +
        `${formatShape(backward.shape)} backward; use mergeMode 'concat'`,
    );
  }
  switch (mode) {
    case 'concat':
      return concat([forward, backward], -1);
    case 'sum':
      return add(forward, backward);
    case 'mul':
      return mul(forward, backward);
    case 'ave':
      return mul(add(forward, backward), 0.5);
    default:
      throw new GraphError(`bidirectional: mergeMode must be concat, sum, mul or ave, got ${JSON.stringify(mode)}`);
  }
}

// ---- shared --------------------------------------------------------------------------------------------------------

function scanOptions(options: RecurrentOptions, name: string) {
  return {
    name,
    ...(options.reverse === true ? { reverse: true } : {}),
    ...(options.checkpoint === true ? { checkpoint: true } : {}),
  };
}

function timeMajorOf(xs: Tensor, options: RecurrentOptions, name: string): Tensor {
  if (!(xs instanceof Tensor) || xs.rank !== 3) {
    const shape = xs instanceof Tensor ? formatShape(xs.shape) : typeof xs;
    const layout = options.timeMajor === false ? '[batch, T, features]' : '[T, batch, features]';
    throw new ShapeError(`${name}: xs must be a rank-3 tensor ${layout}, got ${shape}`);
  }
  return options.timeMajor === false ? transpose(xs, [1, 0, 2]) : xs;
}

function sequenceOutput(ys: Tensor | null, last: Tensor, options: RecurrentOptions): Tensor {
  if (options.returnSequences !== true || ys === null) return last;
  return options.timeMajor === false ? transpose(ys, [1, 0, 2]) : ys;
}

/** A [batch, features] stand-in for one step's input, for checks (shape only; no node is added). */
function rowOfSequence(seq: Tensor): { shape: readonly (number | null)[]; dtype: DType } {
  return { shape: seq.shape.slice(1), dtype: seq.dtype };
}

/** x·kernel + bias for every step of [T, batch, in] at once: [T, batch, G·units]. */
function project(seq: Tensor, kernel: Tensor, bias: Tensor | number): Tensor {
  const rows = reshapeDims(seq, [-1, seq.shape[2] as number]);
  const projected = add(matMul(rows, kernel), bias);
  return reshapeDims(projected, [{ of: seq, axis: 0 }, { of: seq, axis: 1 }, kernel.shape[1] as number]);
}

function initialState(seq: Tensor, units: number, name: string, what: string): Tensor {
  const batch = seq.shape[1];
  if (batch === null) {
    throw new ShapeError(
      `${name}: the batch size of xs ${quoteName(seq.name)} ${formatShape(seq.shape)} is unknown, so zero states ` +
        `cannot be made; give ${what} ([batch, ${units}])`,
    );
  }
  return zeros([batch, units], seq.dtype, seq.graph);
}

function biasOf(weights: RecurrentWeights, size: number, dtype: DType): Tensor | number {
  return weights.bias === undefined ? 0 : checkBias('recurrent layer', weights.bias, [size], dtype);
}

function checkBias(what: string, bias: Tensor, shape: readonly number[], dtype: DType): Tensor {
  const ok = bias.rank === shape.length && bias.shape.every((d, i) => d === null || d === shape[i]);
  if (!ok || bias.dtype !== dtype) {
    throw new ShapeError(
      `${what}: bias ${quoteName(bias.name)} is ${bias.dtype}${formatShape(bias.shape)}; expected ` +
        `${dtype}${formatShape(shape)}`,
    );
  }
  return bias;
}

function featuresOf(x: { shape: readonly (number | null)[] }): number | null {
  return x.shape[x.shape.length - 1] ?? null;
}

/** Checks a [batch, units] state against a [batch, features] input; returns units. */
function checkState(op: string, what: string, state: Tensor, data: Tensor): number {
  if (!(state instanceof Tensor) || state.rank !== 2 || data.rank !== 2) {
    throw new ShapeError(
      `${op}: data and ${what} must be rank-2 [batch, features] and [batch, units], got ` +
        `${formatShape(data.shape)} and ${state instanceof Tensor ? formatShape(state.shape) : typeof state}`,
    );
  }
  const units = state.shape[1];
  if (units === null) throw new ShapeError(`${op}: ${what} ${formatShape(state.shape)} needs a known units dim`);
  return units;
}

/** A kernel whose last dim must be `columns` (its rows are checked by matMul). */
function checkKernel(op: string, what: string, w: Tensor, columns: number): void {
  if (!(w instanceof Tensor) || w.rank !== 2 || (w.shape[1] !== null && w.shape[1] !== columns)) {
    throw new ShapeError(
      `${op}: ${what} must be [rows, ${columns}] (4 gate blocks of the state's ${columns / 4} units), got ` +
        `${w instanceof Tensor ? formatShape(w.shape) : typeof w}`,
    );
  }
}

/**
 * Checks a Keras-style cell's weights against its input and states and returns units: recurrentKernel
 * [units, gates·units], kernel [inputSize, gates·units], states [batch, units], one dtype throughout.
 */
function checkRecurrent(
  op: string,
  weights: RecurrentWeights,
  gates: number,
  x: { shape: readonly (number | null)[]; dtype: DType },
  states: readonly Tensor[],
): number {
  const { kernel, recurrentKernel } = weights ?? {};
  if (!(kernel instanceof Tensor) || !(recurrentKernel instanceof Tensor)) {
    throw new GraphError(`${op}: weights must be { kernel, recurrentKernel, bias? } of Tensors`);
  }
  const units = recurrentKernel.shape[0];
  const layout = `kernel [inputSize, ${gates}·units], recurrentKernel [units, ${gates}·units]`;
  const bad = (message: string): ShapeError =>
    new ShapeError(
      `${op}: ${message} (kernel ${formatShape(kernel.shape)}, recurrentKernel ` +
        `${formatShape(recurrentKernel.shape)}, x ${formatShape(x.shape)}; expected ${layout})`,
    );
  if (kernel.rank !== 2 || recurrentKernel.rank !== 2 || units === null) {
    throw bad('kernels must be rank 2 with a known units dim');
  }
  if (recurrentKernel.shape[1] !== null && recurrentKernel.shape[1] !== gates * units) {
    throw bad(`recurrentKernel must have ${gates}·${units} = ${gates * units} columns`);
  }
  if (kernel.shape[1] !== null && kernel.shape[1] !== gates * units) {
    throw bad(`kernel must have ${gates * units} columns`);
  }
  const features = featuresOf(x);
  if (x.shape.length !== 2) throw bad('x must be [batch, inputSize]');
  if (features !== null && kernel.shape[0] !== null && features !== kernel.shape[0]) {
    throw bad(`x has ${features} features but kernel has ${kernel.shape[0]} rows`);
  }
  for (const t of [kernel, recurrentKernel, ...states]) {
    if (t.dtype !== x.dtype) {
      throw new ShapeError(`${op}: ${quoteName(t.name)} is ${t.dtype} but x is ${x.dtype}; one dtype throughout`);
    }
  }
  for (const s of states) {
    const fits =
      s.rank === 2 &&
      (s.shape[1] === null || s.shape[1] === units) &&
      (s.shape[0] === null || x.shape[0] === null || s.shape[0] === x.shape[0]);
    if (!fits) throw bad(`state ${quoteName(s.name)} ${formatShape(s.shape)} must be [batch, ${units}]`);
  }
  return units;
}
