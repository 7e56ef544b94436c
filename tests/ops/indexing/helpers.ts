/**
 * Shared checks for the indexing ops: forward values against TensorFlow.js, gradients against tf.grads with a
 * random upstream gradient, and first and second derivatives against central finite differences in float64.
 * An op may return several tensors (split, unstack); each output gets its own random weights.
 */
import * as tf from '@tensorflow/tfjs';
import { add, DType, gradients, Graph, NDArray, Session, sum, Tensor, mul } from '../../../src';
import { expectGradientsMatch, plain, tfTensor } from '../harness';
import { expectClose, randomArray, RandomOptions, Rng } from '../util';

export type Outputs = Tensor | Tensor[];
export type TfOutputs = tf.Tensor | tf.Tensor[];

export { tfTensor, useTfjsCpu as useTfCpu } from '../harness';

function list<T>(out: T | T[]): T[] {
  return Array.isArray(out) ? out : [out];
}

/** An int32 array of the given values and shape. */
export function ints(values: readonly number[], shape: readonly number[]): NDArray {
  return new NDArray(Int32Array.from(values), shape, 'int32');
}

/** A float32 (default) or other-typed random array; int32 values are integers in [lo, hi]. */
export function values(rng: Rng, shape: readonly number[], dtype: DType = 'float32', options?: RandomOptions): NDArray {
  return randomArray(rng, shape, dtype, options);
}

/**
 * Builds `ours` over placeholders fed `inputs` (static shapes by default, or the given ones, which may hold nulls),
 * runs `theirs` in tfjs on the same values, and compares every output's shape, dtype and values.
 */
export function expectForwardMatches(
  inputs: readonly NDArray[],
  ours: (...xs: Tensor[]) => Outputs,
  theirs: (...xs: tf.Tensor[]) => TfOutputs,
  staticShapes?: readonly (readonly (number | null)[])[],
  tol = 1e-6,
): void {
  const g = new Graph();
  const xs = inputs.map((v, i) => g.placeholder(`x${i}`, staticShapes?.[i] ?? [...v.shape], v.dtype));
  const outs = list(ours(...xs));
  const got = new Session(g).run(outs, new Map(xs.map((x, i) => [x, inputs[i]] as [Tensor, NDArray])));
  const want = tf.tidy(() => list(theirs(...inputs.map(tfTensor))).map(plain));
  expect(got.length).toBe(want.length);
  got.forEach((value, i) => {
    expect(value.dtype).toBe(want[i].dtype);
    if (staticShapes === undefined) expect([...outs[i].shape]).toEqual(want[i].shape);
    if (value.dtype === 'float32') expectClose(value, want[i], tol, `output ${i}`);
    else {
      expect([...value.shape]).toEqual(want[i].shape);
      expect(Array.from(value.data)).toEqual(want[i].data);
    }
  });
}

/**
 * Compares d loss / d x for every float input with tf.grads, where loss = Σ sum(outᵢ · wᵢ) for random wᵢ (a random
 * upstream gradient for each output). Integer inputs (indices) are passed through as constants on both sides.
 */
export function expectGradientsMatchTf(
  seed: number,
  inputs: readonly NDArray[],
  ours: (...xs: Tensor[]) => Outputs,
  theirs: (...xs: tf.Tensor[]) => TfOutputs,
  tol = 1e-5,
): void {
  const rng = new Rng(seed);
  const isX = inputs.map((v) => v.dtype === 'float32');
  const shapes = tf.tidy(() => list(theirs(...inputs.map(tfTensor))).map(plain)).map((p) => p.shape);
  const weights = shapes.map((s) => values(rng, s, 'float32', { lo: -1, hi: 1, awayFromZero: 0.1 }));

  const g = new Graph();
  const xs = inputs.map((v, i) => (isX[i] ? g.placeholder(`x${i}`, [...v.shape], v.dtype) : g.constant(v)));
  const outs = list(ours(...xs));
  let loss = sum(mul(outs[0], g.constant(weights[0])));
  for (let i = 1; i < outs.length; i++) loss = add(loss, sum(mul(outs[i], g.constant(weights[i]))));
  const wrt = xs.filter((_, i) => isX[i]);
  const grads = gradients(loss, wrt, undefined, { unconnected: 'zero' }) as Tensor[];
  const feeds = new Map(xs.flatMap((x, i) => (isX[i] ? [[x, inputs[i]] as [Tensor, NDArray]] : [])));
  const got = new Session(g).run(grads, feeds);

  const want = tf.tidy(() => {
    const f = (...args: tf.Tensor[]): tf.Scalar => {
      const all = inputs.map((v, i) => (isX[i] ? (args.shift() as tf.Tensor) : tfTensor(v)));
      const terms = list(theirs(...all)).map((o, i) => tf.sum(tf.mul(o, tfTensor(weights[i]))));
      return tf.addN(terms) as tf.Scalar;
    };
    return tf
      .grads(f)(inputs.filter((_, i) => isX[i]).map(tfTensor))
      .map(plain);
  });
  const floats = inputs.filter((_, i) => isX[i]);
  got.forEach((d, i) => {
    expect([...d.shape]).toEqual([...floats[i].shape]);
    expectClose(d, want[i], tol, `gradient ${i}`);
  });
}

type Feed = [Tensor, NDArray];

/** Σ sum(outᵢ · wᵢ) with random constant wᵢ of each output's concrete shape (a broadcast fixes unknown dims). */
function weighted(rng: Rng, outs: readonly Tensor[], shapes: readonly (readonly number[])[], g: Graph): Tensor {
  const terms = outs.map((o, i) =>
    sum(mul(o, g.constant(values(rng, shapes[i], 'float64', { lo: -1, hi: 1, awayFromZero: 0.1 })))),
  );
  return terms.reduce((a, b) => add(a, b));
}

/** The concrete shapes of some tensors, from one run. */
function runShapes(outs: readonly Tensor[], feeds: readonly Feed[]): number[][] {
  return new Session(outs[0].graph).run([...outs], new Map(feeds)).map((v) => [...v.shape]);
}

/**
 * The gradient of Σ sum(outᵢ · wᵢ) (random wᵢ) against central finite differences, in float64. `inputs` are the
 * values of the float64 placeholders passed to `build` (their static shapes may be given, with nulls).
 */
export function expectGradientsMatchFd(
  seed: number,
  inputs: readonly NDArray[],
  build: (...xs: Tensor[]) => Outputs,
  staticShapes?: readonly (readonly (number | null)[])[],
  tolerance = 1e-6,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const feeds = inputs.map((v, i) => [g.placeholder(`x${i}`, staticShapes?.[i] ?? [...v.shape], v.dtype), v] as Feed);
  const outs = list(build(...feeds.map(([x]) => x)));
  const loss = weighted(rng, outs, runShapes(outs, feeds), g);
  expectGradientsMatch(loss, feeds, tolerance);
}

/**
 * Second derivatives: z = Σᵢ sum(∂loss/∂xᵢ · vᵢ) for random vᵢ, where loss = Σ sum(f(out) · w); checkGradients(z)
 * compares the gradient of the gradient graph with finite differences of the analytic first derivative.
 */
export function expectSecondOrderMatchesFd(
  seed: number,
  inputs: readonly NDArray[],
  build: (...xs: Tensor[]) => Outputs,
  staticShapes?: readonly (readonly (number | null)[])[],
  tolerance = 1e-6,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const feeds = inputs.map((v, i) => [g.placeholder(`x${i}`, staticShapes?.[i] ?? [...v.shape], v.dtype), v] as Feed);
  const xs = feeds.map(([x]) => x);
  const outs = list(build(...xs));
  const loss = weighted(rng, outs, runShapes(outs, feeds), g);
  const grads = gradients(loss, xs);
  grads.forEach((d, i) => {
    if (d === null) throw new Error(`no first gradient for '${xs[i].name}'`);
  });
  const z = weighted(
    rng,
    grads as Tensor[],
    inputs.map((v) => [...v.shape]),
    g,
  );
  expectGradientsMatch(z, feeds, tolerance);
}

/** Float64 random inputs for the finite-difference checks. */
export function f64(rng: Rng, shape: readonly number[], options?: RandomOptions): NDArray {
  return values(rng, shape, 'float64', options);
}
