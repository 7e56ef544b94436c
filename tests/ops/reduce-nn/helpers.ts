/**
 * Shared checks for the reduction, linear-algebra and loss tests: forward values against TensorFlow.js,
 * gradients against finite differences (float64) and against tf.grads with a random dy, and second derivatives
 * against finite differences of the analytic first derivative.
 */
import * as tf from '@tensorflow/tfjs';
import { DType, Graph, NDArray, Session, Tensor, add, checkGradients, gradients } from '../../../src';
import { RandomOptions, Rng, expectClose, randomArray, sizeOf, weightedSum } from '../util';

export type Feed = [Tensor, NDArray];

export function useTfCpu(): void {
  beforeAll(async () => {
    tf.env().set('PROD', true); // silences the one-time "install tfjs-node" console warning
    await tf.setBackend('cpu');
  });
}

export function tfTensor(a: NDArray): tf.Tensor {
  if (a.dtype === 'bool') {
    return tf.tensor(
      Array.from(a.data, (v) => v !== 0),
      [...a.shape],
      'bool',
    );
  }
  if (a.dtype === 'float64') return tf.tensor(Float32Array.from(a.data), [...a.shape], 'float32');
  return tf.tensor(a.data as Float32Array | Int32Array, [...a.shape], a.dtype);
}

/** An NDArray of `shape` from explicit values. */
export function arrayOf(values: readonly number[], shape: readonly number[], dtype: DType = 'float32'): NDArray {
  if (values.length !== sizeOf(shape)) throw new Error('values do not fit the shape');
  return new NDArray(NDArray.from([...values], dtype).data, [...shape], dtype);
}

export interface Operand {
  shape: readonly number[];
  dtype?: DType;
  options?: RandomOptions;
  values?: readonly number[];
}

function makeValue(rng: Rng, op: Operand): NDArray {
  const dtype = op.dtype ?? 'float32';
  if (op.values !== undefined) return arrayOf(op.values, op.shape, dtype);
  return randomArray(rng, op.shape, dtype, op.options);
}

/** Runs `ys` in a fresh Session with the given feeds. */
export function run(ys: readonly Tensor[], feeds: readonly Feed[], optimize = true): NDArray[] {
  return new Session(ys[0].graph, { optimize }).run([...ys], new Map(feeds));
}

interface Plain {
  shape: number[];
  dtype: string;
  data: number[];
}

function plain(t: tf.Tensor): Plain {
  return { shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync() as ArrayLike<number>, Number) };
}

/** Asserts one lazygrad output equals one tfjs output: static shape, dtype, and values (exactly unless float). */
export function expectMatchesTf(y: Tensor, got: NDArray, want: Plain, tol: number): void {
  expect(got.dtype).toBe(want.dtype);
  expect(y.shape).toEqual(want.shape);
  if (got.dtype === 'float32') expectClose(got, want, tol);
  else {
    expect([...got.shape]).toEqual(want.shape);
    expect(Array.from(got.data)).toEqual(want.data);
  }
}

/**
 * Builds `build` over float32 (or given dtype) placeholders fed seeded values, runs it with and without graph
 * optimization, and compares each output with `ref` run in tfjs on the same values.
 */
export function checkForward(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor | Tensor[],
  ref: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  tol = 1e-5,
): void {
  const rng = new Rng(seed);
  const values = operands.map((o) => makeValue(rng, o));
  const g = new Graph();
  const xs = values.map((v, i) => g.placeholder(`x${i}`, [...v.shape], v.dtype));
  const built = build(...xs);
  const ys = Array.isArray(built) ? built : [built];
  const feeds = xs.map((x, i) => [x, values[i]] as Feed);
  let want: Plain[] = [];
  tf.tidy(() => {
    const r = ref(...values.map(tfTensor));
    want = (Array.isArray(r) ? r : [r]).map(plain);
  });
  expect(ys.length).toBe(want.length);
  for (const optimize of [true, false]) {
    const got = run(ys, feeds, optimize);
    ys.forEach((y, i) => expectMatchesTf(y, got[i], want[i], tol));
  }
}

/**
 * Compares d(Σ y·dy)/dx for every x: lazygrad's gradients(y, xs, [dy]) against tfjs's tf.grads(f)(xs, dy), with a
 * random float32 dy of y's shape. `consts` are float32 arrays both sides see as constants. Inputs named in
 * `skip` are not compared (where tfjs defines a different gradient).
 */
export function compareGradientsWithTf(
  seed: number,
  inputs: readonly NDArray[],
  consts: readonly NDArray[],
  ours: (xs: Tensor[], cs: Tensor[]) => Tensor,
  theirs: (xs: tf.Tensor[], cs: tf.Tensor[]) => tf.Tensor,
  tol = 1e-5,
  skip: readonly number[] = [],
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const xs = inputs.map((v, i) => g.placeholder(`x${i}`, [...v.shape], 'float32'));
  const cs = consts.map((c) => g.constant(c));
  const y = ours(xs, cs);
  const dyValue = randomArray(rng, y.shape as number[], 'float32', { lo: -1, hi: 1 });
  const grads = gradients(y, xs, [g.constant(dyValue)]);
  grads.forEach((d) => expect(d).not.toBeNull());
  const feeds = xs.map((x, i) => [x, inputs[i]] as Feed);
  const [value, ...got] = run([y, ...(grads as Tensor[])], feeds);
  const want: { v: Plain; gs: Plain[] } = { v: { shape: [], dtype: 'float32', data: [] }, gs: [] };
  tf.tidy(() => {
    const tcs = consts.map(tfTensor);
    const f = (...args: tf.Tensor[]): tf.Tensor => theirs(args, tcs);
    want.v = plain(f(...inputs.map(tfTensor)));
    want.gs = tf.grads(f)(inputs.map(tfTensor), tfTensor(dyValue)).map(plain);
  });
  expectClose(value, want.v, tol, 'value');
  got.forEach((d, i) => {
    if (skip.includes(i)) return;
    expect(d.dtype).toBe('float32');
    expectClose(d, want.gs[i], tol, `gradient w.r.t. input ${i}`);
  });
}

function explain(result: ReturnType<typeof checkGradients>, xs: readonly Tensor[]): string {
  return result.analytic
    .map(
      (a, i) =>
        `d/d${xs[i].name}: analytic ${JSON.stringify(a.toArray())} ` +
        `numeric ${JSON.stringify(result.numeric[i].toArray())}`,
    )
    .join('\n');
}

/** checkGradients of `loss` over the fed xs (float64), and something must be nonzero for the check to mean much. */
export function expectGradientsMatch(loss: Tensor, feeds: readonly Feed[], tolerance = 1e-6): void {
  const xs = feeds.map(([x]) => x);
  const result = checkGradients(loss, xs, new Map(feeds), { tolerance });
  result.analytic.forEach((a, i) => expect([...a.shape]).toEqual([...feeds[i][1].shape]));
  if (!result.ok) throw new Error(`max error ${result.maxError} > ${tolerance}\n${explain(result, xs)}`);
  const anyNonzero = result.numeric.some((n) => Array.from(n.data).some((v) => Math.abs(v) > 1e-8));
  expect(anyNonzero).toBe(true);
}

/**
 * z = Σᵢ sum(∂loss/∂xᵢ · vᵢ) for random constants vᵢ; checkGradients(z) compares the analytic second derivative
 * with central differences of the analytic first derivative.
 */
export function expectSecondOrderMatches(rng: Rng, loss: Tensor, feeds: readonly Feed[], tolerance = 1e-6): void {
  const xs = feeds.map(([x]) => x);
  const grads = gradients(loss, xs);
  grads.forEach((d, i) => {
    if (d === null) throw new Error(`no first gradient for '${xs[i].name}'`);
  });
  let z = weightedSum(rng, grads[0] as Tensor);
  for (let i = 1; i < grads.length; i++) z = add(z, weightedSum(rng, grads[i] as Tensor));
  const result = checkGradients(z, xs, new Map(feeds), { tolerance });
  if (!result.ok) throw new Error(`max error ${result.maxError} > ${tolerance}\n${explain(result, xs)}`);
  const anyNonzero = result.numeric.some((n) => Array.from(n.data).some((v) => Math.abs(v) > 1e-8));
  expect(anyNonzero).toBe(true);
}

/** float64 placeholders with given (or random) values, for the finite-difference checks. */
export function placeholders(g: Graph, rng: Rng, operands: readonly Operand[]): { xs: Tensor[]; feeds: Feed[] } {
  const feeds = operands.map((o, i) => {
    const value =
      o.values !== undefined ? arrayOf(o.values, o.shape, 'float64') : randomArray(rng, o.shape, 'float64', o.options);
    return [g.placeholder(`x${i}`, [...o.shape], 'float64'), value] as Feed;
  });
  return { xs: feeds.map(([x]) => x), feeds };
}

/** Gradient of Σ y·w (random w) vs finite differences, for y = build(xs) over float64 placeholders. */
export function checkFirstOrder(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  tolerance = 1e-6,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const { xs, feeds } = placeholders(g, rng, operands);
  expectGradientsMatch(weightedSum(rng, build(...xs)), feeds, tolerance);
}

/** Second derivative of Σ y·w (random w) vs finite differences, for y = build(xs) over float64 placeholders. */
export function checkSecondOrder(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  tolerance = 1e-6,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const { xs, feeds } = placeholders(g, rng, operands);
  expectSecondOrderMatches(rng, weightedSum(rng, build(...xs)), feeds, tolerance);
}
