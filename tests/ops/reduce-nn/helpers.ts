/**
 * The reduction, linear-algebra and loss tests' view of the op harness (../harness): forward checks at both
 * optimize levels, and a tf.grads comparison with constants both sides see and inputs tfjs defines differently.
 */
import * as tf from '@tensorflow/tfjs';
import { Graph, NDArray, Session, Tensor, gradients } from '../../../src';
import {
  Feed,
  Operand,
  Plain,
  checkFiniteDifferences,
  checkForward as checkForwardAt,
  checkSecondOrder as checkSecondOrderOf,
  feeds64,
  plain,
  useTfjsCpu,
} from '../harness';
import { Rng, expectClose, randomArray } from '../util';

export { arrayOf, expectGradientsMatch, expectSecondOrderMatches } from '../harness';
export type { Feed, Operand } from '../harness';

export function useTfCpu(): void {
  beforeAll(useTfjsCpu);
}

/** tfjs tensors of our arrays; float64 constants are given to tfjs as float32. */
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

/** Runs `ys` in a fresh Session with the given feeds. */
export function run(ys: readonly Tensor[], feeds: readonly Feed[], optimize = true): NDArray[] {
  return new Session(ys[0].graph, { optimize }).run([...ys], new Map(feeds));
}

/** The harness's forward check, at optimize levels 2 and 0. */
export function checkForward(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor | Tensor[],
  ref: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  tol = 1e-5,
): void {
  checkForwardAt(seed, operands, build, ref, { tol, optimize: [true, false] });
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

/** float64 placeholders with given (or random) values, for the finite-difference checks. */
export function placeholders(g: Graph, rng: Rng, operands: readonly Operand[]): { xs: Tensor[]; feeds: Feed[] } {
  const feeds = feeds64(g, rng, operands);
  return { xs: feeds.map(([x]) => x), feeds };
}

/** Gradient of Σ y·w (random w) vs finite differences, for y = build(xs) over float64 placeholders. */
export function checkFirstOrder(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  tolerance = 1e-6,
): void {
  checkFiniteDifferences(seed, operands, build, tolerance);
}

/** Second derivative of Σ y·w (random w) vs finite differences of the gradient, over float64 placeholders. */
export function checkSecondOrder(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  tolerance = 1e-6,
): void {
  checkSecondOrderOf(seed, operands, build, true, tolerance);
}
