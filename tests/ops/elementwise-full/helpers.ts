/**
 * Helpers for the elementwise op tests: forward values against TensorFlow.js (float32, cpu backend), gradients
 * against tf.grads with a random dy, and gradients / second derivatives against central finite differences in
 * float64. Inputs come from the seeded PRNG in ../util.
 */
import * as tf from '@tensorflow/tfjs';
import { checkGradients, DType, gradients, Graph, NDArray, Session, Tensor, add } from '../../../src';
import { expectClose, input, randomArray, RandomOptions, Rng, sizeOf, weightedSum } from '../util';

export type Feed = [Tensor, NDArray];

/** Call in a beforeAll: the tfjs cpu backend, without its one-time console hint. */
export async function useTfjsCpu(): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
}

/** One input of a test: its shape, dtype (float32 by default) and random range, or explicit values. */
export interface Operand {
  shape: number[];
  dtype?: DType;
  options?: RandomOptions;
  values?: readonly number[];
}

export function makeValue(rng: Rng, operand: Operand, defaultDType: DType = 'float32'): NDArray {
  const dtype = operand.dtype ?? defaultDType;
  if (operand.values === undefined) return randomArray(rng, operand.shape, dtype, operand.options);
  if (operand.values.length !== sizeOf(operand.shape)) throw new Error('values do not fit the shape');
  const flat = NDArray.from([...operand.values], dtype);
  return new NDArray(flat.data, [...operand.shape], dtype);
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

/**
 * Builds `build` over placeholders fed seeded values, runs it, runs `ref` in tfjs on the same values, and compares
 * shape, dtype and values (float32 to `tol`, other dtypes exactly).
 */
export function checkForward(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  ref: (...xs: tf.Tensor[]) => tf.Tensor,
  tol = 1e-5,
): void {
  const rng = new Rng(seed);
  const values = operands.map((o) => makeValue(rng, o));
  const g = new Graph();
  const xs = values.map((v, i) => g.placeholder(`x${i}`, [...v.shape], v.dtype));
  const y = build(...xs);
  const got = new Session(g).run(y, new Map(xs.map((x, i) => [x, values[i]] as Feed)));
  const want = tf.tidy(() => {
    const t = ref(...values.map(tfTensor));
    return { shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync() as ArrayLike<number>, Number) };
  });
  expect(got.dtype).toBe(want.dtype);
  expect(y.shape).toEqual(want.shape);
  if (got.dtype === 'float32') expectClose(got, want, tol);
  else {
    expect([...got.shape]).toEqual(want.shape);
    expect(Array.from(got.data)).toEqual(want.data);
  }
}

/** Runs `build` over float64 placeholders fed `values` and returns the result. */
export function run64(values: readonly NDArray[], build: (...xs: Tensor[]) => Tensor): NDArray {
  const g = new Graph();
  const xs = values.map((v, i) => g.placeholder(`x${i}`, [...v.shape], v.dtype));
  return new Session(g).run(build(...xs), new Map(xs.map((x, i) => [x, values[i]] as Feed)));
}

/**
 * The gradient of y = build(xs) with a random dy (gradYs), against tf.grads(f)(xs, dy) in float32; the forward
 * value is compared too.
 */
export function checkGradientsVsTfjs(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  ref: (...xs: tf.Tensor[]) => tf.Tensor,
  tol = 1e-5,
): void {
  const rng = new Rng(seed);
  const values = operands.map((o) => makeValue(rng, o));
  const g = new Graph();
  const xs = values.map((v, i) => g.placeholder(`x${i}`, [...v.shape], 'float32'));
  const y = build(...xs);
  const dyShape = y.shape.map((d) => d as number);
  const dyValue = randomArray(rng, dyShape, 'float32', { lo: -1, hi: 1 });
  const grads = gradients(y, xs, [g.constant(dyValue)]);
  grads.forEach((d) => expect(d).not.toBeNull());
  const feeds = new Map(xs.map((x, i) => [x, values[i]] as Feed));
  const [value, ...got] = new Session(g).run([y, ...(grads as Tensor[])], feeds);
  const want = tf.tidy(() => {
    const f = (...args: tf.Tensor[]): tf.Tensor => ref(...args);
    const txs = values.map(tfTensor);
    const out = f(...txs);
    const gs = tf.grads(f)(txs, tfTensor(dyValue));
    return {
      value: { shape: out.shape, data: Array.from(out.dataSync()) },
      grads: gs.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })),
    };
  });
  expectClose(value, want.value, tol, 'value');
  got.forEach((d, i) => {
    expect(d.dtype).toBe('float32');
    expectClose(d, want.grads[i], tol, `gradient w.r.t. input ${i}`);
  });
}

function describeFailure(xs: readonly Tensor[], result: ReturnType<typeof checkGradients>): string {
  return result.analytic
    .map((a, i) => {
      const numeric = JSON.stringify(result.numeric[i].toArray());
      return `d/d${xs[i].name}: analytic ${JSON.stringify(a.toArray())} numeric ${numeric}`;
    })
    .join('\n');
}

/** float64 placeholders for `operands` with their seeded values. */
export function feeds64(g: Graph, rng: Rng, operands: readonly Operand[]): Feed[] {
  return operands.map((o, i) => {
    if (o.values === undefined) return input(g, rng, `x${i}`, o.shape, o.options);
    return [g.placeholder(`x${i}`, o.shape, 'float64'), makeValue(rng, o, 'float64')];
  });
}

/**
 * checkGradients of sum(build(xs) · w) with a random constant w, in float64. `expectNonzero`: some gradient must
 * be nonzero, so a check that passes because everything is 0 cannot pass by accident.
 */
export function checkFiniteDifferences(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  tolerance = 1e-6,
  expectNonzero = true,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const feeds = feeds64(g, rng, operands);
  const xs = feeds.map(([x]) => x);
  const loss = weightedSum(rng, build(...xs));
  const result = checkGradients(loss, xs, new Map(feeds), { tolerance });
  result.analytic.forEach((a, i) => {
    expect([...a.shape]).toEqual([...feeds[i][1].shape]);
    expect(a.dtype).toBe('float64');
  });
  if (!result.ok) throw new Error(`max error ${result.maxError} > ${tolerance}\n${describeFailure(xs, result)}`);
  if (expectNonzero) {
    expect(result.numeric.some((n) => Array.from(n.data).some((v) => Math.abs(v) > 1e-8))).toBe(true);
  }
}

/**
 * Second derivatives: z = Σᵢ sum(∂loss/∂xᵢ · vᵢ) for random constants vᵢ, and checkGradients(z) compares the
 * gradient of the gradient graph with central differences of the analytic first derivative. First gradients that
 * are null (an input the loss does not reach) count as zero.
 */
export function checkSecondOrder(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  expectNonzero = true,
  tolerance = 1e-6,
): void {
  const rng = new Rng(seed);
  const g = new Graph();
  const feeds = feeds64(g, rng, operands);
  const xs = feeds.map(([x]) => x);
  const loss = weightedSum(rng, build(...xs));
  const grads = gradients(loss, xs, undefined, { unconnected: 'zero' }) as Tensor[];
  let z = weightedSum(rng, grads[0]);
  for (let i = 1; i < grads.length; i++) z = add(z, weightedSum(rng, grads[i]));
  const result = checkGradients(z, xs, new Map(feeds), { tolerance });
  if (!result.ok) throw new Error(`max error ${result.maxError} > ${tolerance}\n${describeFailure(xs, result)}`);
  if (expectNonzero) {
    expect(result.numeric.some((n) => Array.from(n.data).some((v) => Math.abs(v) > 1e-8))).toBe(true);
  }
}
