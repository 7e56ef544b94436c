/**
 * The one harness of the op tests: forward values against TensorFlow.js (cpu backend, float32), gradients against
 * tf.grads with a random dy, gradients against central finite differences in float64, and second derivatives
 * against finite differences of the analytic first derivative. The table suites (suites/*.test.ts, reading
 * cases/*.ts) and the bespoke tests of each family call these; inputs come from the seeded PRNG in ./util.
 */
import * as tf from '@tensorflow/tfjs';
import { DType, Graph, NDArray, Session, Tensor, add, checkGradients, gradients, sum } from '../../src';
import { RandomOptions, Rng, expectClose, randomArray, sizeOf, weightedSum } from './util';

export type Feed = [Tensor, NDArray];
/** Builds the op under test over its inputs; an op may return several tensors (split, unstack). */
export type Build = (...xs: Tensor[]) => Tensor;
export type TfBuild = (...xs: tf.Tensor[]) => tf.Tensor;

/** Call in a beforeAll: the tfjs cpu backend, without its one-time "install tfjs-node" console hint. */
export async function useTfjsCpu(): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
}

/** One input of a case: its shape, dtype (float32 forward, float64 for finite differences), and domain or values. */
export interface Operand {
  readonly shape: readonly number[];
  readonly dtype?: DType;
  readonly options?: RandomOptions;
  /** Explicit values instead of random ones. */
  readonly values?: readonly number[];
  /** Random values rounded to integers (kept in a float dtype): ties for comparisons. */
  readonly round?: boolean;
}

/** An NDArray of `shape` from explicit values. */
export function arrayOf(values: readonly number[], shape: readonly number[], dtype: DType = 'float32'): NDArray {
  if (values.length !== sizeOf(shape)) throw new Error('values do not fit the shape');
  return new NDArray(NDArray.from([...values], dtype).data, [...shape], dtype);
}

export function makeValue(rng: Rng, operand: Operand, defaultDType: DType = 'float32'): NDArray {
  const dtype = operand.dtype ?? defaultDType;
  if (operand.values !== undefined) return arrayOf(operand.values, operand.shape, dtype);
  if (operand.round === true) {
    const rounded = Array.from(randomArray(rng, operand.shape, 'float64', operand.options).data, Math.round);
    return arrayOf(rounded, operand.shape, dtype);
  }
  return randomArray(rng, operand.shape, dtype, operand.options);
}

export function tfTensor(a: NDArray): tf.Tensor {
  if (a.dtype === 'bool') {
    return tf.tensor(
      Array.from(a.data, (v) => v !== 0),
      [...a.shape],
      'bool',
    );
  }
  if (a.dtype === 'float64') throw new Error('tfjs has no float64');
  return tf.tensor(a.data as Float32Array | Int32Array, [...a.shape], a.dtype);
}

/** A tfjs tensor read out: shape, dtype and values. */
export interface Plain {
  [key: string]: number[] | string;
  shape: number[];
  dtype: string;
  data: number[];
}

export function plain(t: tf.Tensor): Plain {
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

export interface ForwardOptions {
  /** Relative tolerance for float32 results (default 1e-5); other dtypes compare exactly. */
  tol?: number;
  /** The optimize levels to run at (default: optimizing only). */
  optimize?: readonly boolean[];
}

/**
 * Builds `build` over placeholders fed seeded values, runs it, runs `ref` in tfjs on the same values, and compares
 * shape, dtype and values of each output (an op may return several, as moments does).
 */
export function checkForward(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor | Tensor[],
  ref: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  options: ForwardOptions = {},
): void {
  const rng = new Rng(seed);
  const values = operands.map((o) => makeValue(rng, o));
  const g = new Graph();
  const xs = values.map((v, i) => g.placeholder(`x${i}`, [...v.shape], v.dtype));
  const built = build(...xs);
  const ys = Array.isArray(built) ? built : [built];
  let want: Plain[] = [];
  tf.tidy(() => {
    const r = ref(...values.map(tfTensor));
    want = (Array.isArray(r) ? r : [r]).map(plain);
  });
  expect(ys.length).toBe(want.length);
  for (const optimize of options.optimize ?? [true]) {
    const got = new Session(g, { optimize }).run(ys, new Map(xs.map((x, i) => [x, values[i]] as Feed)));
    ys.forEach((y, i) => expectMatchesTf(y, got[i], want[i], options.tol ?? 1e-5));
  }
}

/**
 * The gradient of y = build(xs) with a random dy (gradYs), against tf.grads(f)(xs, dy) in float32; the forward
 * value is compared too. Integer and bool operands (indices, labels) are constants on both sides.
 */
export function checkGradientsVsTfjs(
  seed: number,
  operands: readonly Operand[],
  build: Build,
  ref: TfBuild,
  tol = 1e-5,
): void {
  const rng = new Rng(seed);
  const values = operands.map((o) => makeValue(rng, o));
  const isX = values.map((v) => v.dtype === 'float32');
  const g = new Graph();
  const inputs = values.map((v, i) => (isX[i] ? g.placeholder(`x${i}`, [...v.shape], 'float32') : g.constant(v)));
  const xs = inputs.filter((_, i) => isX[i]);
  const y = build(...inputs);
  const dyShape = y.shape.map((d) => d as number);
  const dyValue = randomArray(rng, dyShape, 'float32', { lo: -1, hi: 1 });
  const grads = gradients(y, xs, [g.constant(dyValue)]);
  grads.forEach((d) => expect(d).not.toBeNull());
  const feeds = new Map(values.flatMap((v, i) => (isX[i] ? [[inputs[i], v] as Feed] : [])));
  const [value, ...got] = new Session(g).run([y, ...(grads as Tensor[])], feeds);
  const want = { value: { shape: [], dtype: 'float32', data: [] } as Plain, grads: [] as Plain[] };
  tf.tidy(() => {
    const f = (...args: tf.Tensor[]): tf.Tensor => {
      const floats = [...args];
      return ref(...values.map((v, i) => (isX[i] ? (floats.shift() as tf.Tensor) : tfTensor(v))));
    };
    const txs = values.filter((_, i) => isX[i]).map(tfTensor);
    want.value = plain(f(...txs));
    want.grads = tf.grads(f)(txs, tfTensor(dyValue)).map(plain);
  });
  expectClose(value, want.value, tol, 'value');
  got.forEach((d, i) => {
    expect(d.dtype).toBe('float32');
    expectClose(d, want.grads[i], tol, `gradient w.r.t. input ${i}`);
  });
}

/** A constant both sides see: float64 values are given to tfjs as float32. */
function tfConstant(a: NDArray): tf.Tensor {
  return a.dtype === 'float64' ? tf.tensor(Float32Array.from(a.data), [...a.shape], 'float32') : tfTensor(a);
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
  const [value, ...got] = new Session(g).run([y, ...(grads as Tensor[])], new Map(feeds));
  const want: { v: Plain; gs: Plain[] } = { v: { shape: [], dtype: 'float32', data: [] }, gs: [] };
  tf.tidy(() => {
    const tcs = consts.map(tfConstant);
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

function describeFailure(xs: readonly Tensor[], result: ReturnType<typeof checkGradients>, tolerance: number): string {
  const detail = result.analytic
    .map((a, i) => {
      const numeric = JSON.stringify(result.numeric[i].toArray());
      return `d/d${xs[i].name}: analytic ${JSON.stringify(a.toArray())} numeric ${numeric}`;
    })
    .join('\n');
  return `max error ${result.maxError} > ${tolerance}\n${detail}`;
}

/**
 * checkGradients of `loss` over the fed xs (float64); each analytic gradient has its x's shape and dtype, and, with
 * `expectNonzero`, some gradient is nonzero, so a check cannot pass because everything is 0.
 */
export function expectGradientsMatch(
  loss: Tensor,
  feeds: readonly Feed[],
  tolerance = 1e-6,
  expectNonzero = true,
): void {
  const xs = feeds.map(([x]) => x);
  const result = checkGradients(loss, xs, new Map(feeds), { tolerance });
  result.analytic.forEach((a, i) => {
    expect([...a.shape]).toEqual([...feeds[i][1].shape]);
    expect(a.dtype).toBe('float64');
  });
  if (!result.ok) throw new Error(describeFailure(xs, result, tolerance));
  if (expectNonzero) {
    expect(result.numeric.some((n) => Array.from(n.data).some((v) => Math.abs(v) > 1e-8))).toBe(true);
  }
}

/**
 * z = Σᵢ sum(∂loss/∂xᵢ · vᵢ) for random constants vᵢ; checkGradients(z) compares the gradient of the gradient graph
 * with central differences of the analytic first derivative. `unconnected: 'zero'` lets a first gradient be absent
 * (an input the loss does not reach); otherwise every x must have one.
 */
export function expectSecondOrderMatches(
  rng: Rng,
  loss: Tensor,
  feeds: readonly Feed[],
  tolerance = 1e-6,
  expectNonzero = true,
  unconnected: 'none' | 'zero' = 'none',
): void {
  const xs = feeds.map(([x]) => x);
  const grads = gradients(loss, xs, undefined, { unconnected });
  grads.forEach((d, i) => {
    if (d === null) throw new Error(`no first gradient for '${xs[i].name}'`);
  });
  let z = weightedSum(rng, grads[0] as Tensor);
  for (let i = 1; i < grads.length; i++) z = add(z, weightedSum(rng, grads[i] as Tensor));
  const result = checkGradients(z, xs, new Map(feeds), { tolerance });
  if (!result.ok) throw new Error(describeFailure(xs, result, tolerance));
  if (expectNonzero) {
    expect(result.numeric.some((n) => Array.from(n.data).some((v) => Math.abs(v) > 1e-8))).toBe(true);
  }
}

/** float64 placeholders for `operands` with their seeded (or given) values. */
export function feeds64(g: Graph, rng: Rng, operands: readonly Operand[]): Feed[] {
  return operands.map((o, i) => [g.placeholder(`x${i}`, [...o.shape], 'float64'), makeValue(rng, o, 'float64')]);
}

/** Gradient of sum(build(xs) · w) (random constant w) vs central finite differences, over float64 placeholders. */
export function checkFiniteDifferences(
  seed: number,
  operands: readonly Operand[],
  build: Build,
  tolerance = 1e-6,
  expectNonzero = true,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const feeds = feeds64(g, rng, operands);
  expectGradientsMatch(weightedSum(rng, build(...feeds.map(([x]) => x))), feeds, tolerance, expectNonzero);
}

/** Second derivative of sum(build(xs) · w) (random w) vs finite differences of the gradient, in float64. */
export function checkSecondOrder(
  seed: number,
  operands: readonly Operand[],
  build: Build,
  expectNonzero = true,
  tolerance = 1e-6,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const feeds = feeds64(g, rng, operands);
  const loss = weightedSum(rng, build(...feeds.map(([x]) => x)));
  expectSecondOrderMatches(rng, loss, feeds, tolerance, expectNonzero);
}

/**
 * For an elementwise f: the gradient of sum(f'(x)) is f''(x), as the Hessian of sum(f(x)) is diagonal; compared
 * with the closed form `d2` to 1e-12 on a float64 vector of 7 values.
 */
export function checkClosedFormSecondDerivative(
  seed: number,
  options: RandomOptions,
  build: Build,
  d2: (x: number) => number,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const [[x, value]] = feeds64(g, rng, [{ shape: [7], options }]);
  const [dx] = gradients(sum(build(x)), [x]);
  if (dx === null) throw new Error('no first gradient');
  const [d2x] = gradients(sum(dx), [x], undefined, { unconnected: 'zero' });
  const out = new Session(g).run(d2x as Tensor, new Map([[x, value]]));
  expectClose(out, new NDArray(Float64Array.from(value.data, d2), [7], 'float64'), 1e-12);
}

/** Runs `build` over placeholders (of the values' dtypes) fed `values` and returns the result. */
export function runOn(values: readonly NDArray[], build: Build): NDArray {
  const g = new Graph();
  const xs = values.map((v, i) => g.placeholder(`x${i}`, [...v.shape], v.dtype));
  return new Session(g).run(build(...xs), new Map(xs.map((x, i) => [x, values[i]] as Feed)));
}
