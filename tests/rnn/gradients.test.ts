/**
 * Gradients of the recurrent layers: against central finite differences in float64 (every weight, the inputs and
 * the initial states), against tfjs (tf.grads through the same cells unrolled step by step in tfjs), with scan's
 * checkpoint giving the same values, on both backends.
 */
import * as tf from '@tensorflow/tfjs';
import {
  add,
  basicLSTMCell,
  bidirectional,
  checkGradients,
  DType,
  gradients,
  Graph,
  gru,
  jvp,
  lstm,
  mul,
  NDArray,
  scan,
  Session,
  simpleRNN,
  sum,
  Tensor,
} from '../../src';
import { Rng } from '../ops/util';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

const BACKENDS = ['js', 'wasm'] as const;

function values(rng: Rng, shape: number[], scale = 0.6): Float64Array {
  return Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-scale, scale));
}

/** A graph with placeholders and the feeds that fill them. */
function setup(dtype: DType, seed: number) {
  const graph = new Graph();
  const rng = new Rng(seed);
  const feeds = new Map<Tensor, NDArray>();
  const raw = new Map<string, Float64Array>();
  const input = (name: string, shape: number[]): Tensor => {
    const t = graph.placeholder(name, shape, dtype);
    const data = values(rng, shape);
    raw.set(name, data);
    feeds.set(t, new NDArray(dtype === 'float64' ? data : Float32Array.from(data), shape, dtype));
    return t;
  };
  /** sum(y ⊙ R) with a fixed random R: every output element weighs differently in the loss. */
  const weighted = (y: Tensor): Tensor =>
    sum(mul(y, graph.constant(new NDArray(values(rng, y.shape as number[], 1), y.shape as number[], 'float64'))));
  return { graph, input, feeds, raw, weighted };
}

const [T, B, F, U] = [5, 2, 3, 4];

describe('gradients against finite differences (float64)', () => {
  test.each([false, true])('lstm: kernel, recurrentKernel, bias, xs, h0, c0 (reverse %s)', (reverse) => {
    const { input, feeds, weighted } = setup('float64', 20);
    const xs = input('xs', [T, B, F]);
    const kernel = input('kernel', [F, 4 * U]);
    const recurrentKernel = input('recurrent', [U, 4 * U]);
    const bias = input('bias', [4 * U]);
    const h0 = input('h0', [B, U]);
    const c0 = input('c0', [B, U]);
    const out = lstm(xs, { kernel, recurrentKernel, bias }, { h0, c0, reverse, returnSequences: true });
    const loss = add(weighted(out.output), weighted(out.c));
    const result = checkGradients(loss, [kernel, recurrentKernel, bias, xs, h0, c0], feeds);
    expect(result.maxError).toBeLessThan(1e-7);
  });

  test.each([true, false])('gru (resetAfter %s)', (resetAfter) => {
    const { input, feeds, weighted } = setup('float64', 21);
    const xs = input('xs', [T, B, F]);
    const kernel = input('kernel', [F, 3 * U]);
    const recurrentKernel = input('recurrent', [U, 3 * U]);
    const bias = input('bias', resetAfter ? [2, 3 * U] : [3 * U]);
    const h0 = input('h0', [B, U]);
    const out = gru(xs, { kernel, recurrentKernel, bias }, { h0, resetAfter, returnSequences: true });
    const result = checkGradients(weighted(out.output), [kernel, recurrentKernel, bias, xs, h0], feeds);
    expect(result.maxError).toBeLessThan(1e-7);
  });

  test('simpleRNN, batch-major, last h', () => {
    const { input, feeds, weighted } = setup('float64', 22);
    const xs = input('xs', [B, T, F]);
    const kernel = input('kernel', [F, U]);
    const recurrentKernel = input('recurrent', [U, U]);
    const bias = input('bias', [U]);
    const out = simpleRNN(xs, { kernel, recurrentKernel, bias }, { timeMajor: false });
    const result = checkGradients(weighted(out.output), [kernel, recurrentKernel, bias, xs], feeds);
    expect(result.maxError).toBeLessThan(1e-7);
  });

  test('bidirectional gru, concatenated', () => {
    const { input, feeds, weighted } = setup('float64', 23);
    const xs = input('xs', [T, B, F]);
    const w = (p: string) => ({
      kernel: input(`${p}k`, [F, 3 * U]),
      recurrentKernel: input(`${p}r`, [U, 3 * U]),
      bias: input(`${p}b`, [2, 3 * U]),
    });
    const [fw, bw] = [w('f'), w('b')];
    const y = bidirectional((x, reverse) => gru(x, reverse ? bw : fw, { reverse, returnSequences: true }).output, xs);
    expect(y.shape).toEqual([T, B, 2 * U]);
    const result = checkGradients(weighted(y), [xs, fw.kernel, bw.recurrentKernel, bw.bias], feeds);
    expect(result.maxError).toBeLessThan(1e-7);
  });
});

test('forward mode: jvp of an LSTM sequence matches a central difference along the tangent (float64)', () => {
  const { input, feeds, raw, graph } = setup('float64', 24);
  const xs = input('xs', [T, B, F]);
  const kernel = input('kernel', [F, 4 * U]);
  const recurrentKernel = input('recurrent', [U, 4 * U]);
  const { output } = lstm(xs, { kernel, recurrentKernel }, { returnSequences: true });
  const rng = new Rng(77);
  const tangents = [values(rng, [F, 4 * U], 1), values(rng, [U, 4 * U], 1)];
  const [tangent] = jvp(
    output,
    [kernel, recurrentKernel],
    [
      graph.constant(new NDArray(tangents[0], [F, 4 * U], 'float64')),
      graph.constant(new NDArray(tangents[1], [U, 4 * U], 'float64')),
    ],
  );
  const session = new Session(graph);
  const got = session.run(tangent, feeds);
  const eps = 1e-6;
  const at = (sign: number): Float64Array => {
    const moved = new Map(feeds);
    [kernel, recurrentKernel].forEach((w, i) => {
      const base = raw.get(i === 0 ? 'kernel' : 'recurrent')!;
      moved.set(
        w,
        new NDArray(
          base.map((v, j) => v + sign * eps * tangents[i][j]),
          w.shape as number[],
          'float64',
        ),
      );
    });
    return session.run(output, moved).data as Float64Array;
  };
  const [plus, minus] = [at(1), at(-1)];
  expectNear(
    got.data,
    plus.map((v, j) => (v - minus[j]) / (2 * eps)),
    1e-7,
    'jvp',
  );
});

describe.each(BACKENDS)('gradients against tfjs (tf.grads through unrolled cells, float32; %s backend)', (backend) => {
  test('lstm (Keras math) matches the same LSTM unrolled in tfjs', () => {
    const { input, feeds, raw, graph } = setup('float32', 30);
    const xs = input('xs', [T, B, F]);
    const kernel = input('kernel', [F, 4 * U]);
    const recurrentKernel = input('recurrent', [U, 4 * U]);
    const bias = input('bias', [4 * U]);
    const out = lstm(xs, { kernel, recurrentKernel, bias }, { returnSequences: true });
    const weights = graph.constant(
      new NDArray(Float32Array.from(values(new Rng(99), [T, B, U], 1)), [T, B, U], 'float32'),
    );
    const loss = sum(mul(out.output, weights));
    const got = new Session(graph, { backend }).run(
      gradients(loss, [xs, kernel, recurrentKernel, bias]) as Tensor[],
      feeds,
    );
    const f32 = (name: string, shape: number[]) => tf.tensor(Float32Array.from(raw.get(name)!), shape);
    const tw = tf.tensor(Float32Array.from(values(new Rng(99), [T, B, U], 1)), [T, B, U]);
    const want = tf.grads((x: tf.Tensor, k: tf.Tensor, r: tf.Tensor, b: tf.Tensor) => {
      let h = tf.zeros([B, U]);
      let c = tf.zeros([B, U]);
      let total = tf.scalar(0);
      for (let t = 0; t < T; t++) {
        const xt = x.slice([t, 0, 0], [1, B, F]).reshape([B, F]) as tf.Tensor2D;
        const z = tf.add(tf.add(tf.matMul(xt, k as tf.Tensor2D), tf.matMul(h as tf.Tensor2D, r as tf.Tensor2D)), b);
        const [i, f, g, o] = tf.split(z, 4, 1);
        c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        h = tf.mul(tf.sigmoid(o), tf.tanh(c));
        total = tf.add(total, tf.sum(tf.mul(h, tw.slice([t, 0, 0], [1, B, U]).reshape([B, U]))));
      }
      return total;
    })([f32('xs', [T, B, F]), f32('kernel', [F, 4 * U]), f32('recurrent', [U, 4 * U]), f32('bias', [4 * U])]);
    want.forEach((w, i) => expectNear(got[i].data, w.dataSync(), 1e-4, `gradient ${i}`));
  });

  test('basicLSTMCell in a scan matches tf.basicLSTMCell unrolled, through tf.grads', () => {
    const { input, feeds, raw, graph } = setup('float32', 31);
    const xs = input('xs', [T, B, F]);
    const kernel = input('kernel', [F + U, 4 * U]);
    const bias = input('bias', [4 * U]);
    const zeros = graph.constant(new NDArray(new Float32Array(B * U), [B, U], 'float32'));
    const [[c, h]] = scan(
      ([cPrev, hPrev]: Tensor[], x: Tensor) => [basicLSTMCell(1, kernel, bias, x, cPrev, hPrev), null],
      [zeros, zeros],
      xs,
    );
    const loss = sum(mul(h, c));
    const got = new Session(graph, { backend }).run(gradients(loss, [xs, kernel, bias]) as Tensor[], feeds);
    const f32 = (name: string, shape: number[]) => tf.tensor(Float32Array.from(raw.get(name)!), shape);
    const want = tf.grads((x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => {
      let hh = tf.zeros([B, U]) as tf.Tensor2D;
      let cc = tf.zeros([B, U]) as tf.Tensor2D;
      for (let t = 0; t < T; t++) {
        const xt = x.slice([t, 0, 0], [1, B, F]).reshape([B, F]) as tf.Tensor2D;
        [cc, hh] = tf.basicLSTMCell(1, k as tf.Tensor2D, b as tf.Tensor1D, xt, cc, hh);
      }
      return tf.sum(tf.mul(hh, cc));
    })([f32('xs', [T, B, F]), f32('kernel', [F + U, 4 * U]), f32('bias', [4 * U])]);
    want.forEach((w, i) => expectNear(got[i].data, w.dataSync(), 1e-4, `gradient ${i}`));
  });

  test.each([true, false])('gru (resetAfter %s) matches the same GRU unrolled in tfjs', (resetAfter) => {
    const { input, feeds, raw, graph } = setup('float32', 33);
    const xs = input('xs', [T, B, F]);
    const kernel = input('kernel', [F, 3 * U]);
    const recurrentKernel = input('recurrent', [U, 3 * U]);
    const bias = input('bias', resetAfter ? [2, 3 * U] : [3 * U]);
    const { h } = gru(xs, { kernel, recurrentKernel, bias }, { resetAfter });
    const loss = sum(mul(h, h));
    const got = new Session(graph, { backend }).run(
      gradients(loss, [xs, kernel, recurrentKernel, bias]) as Tensor[],
      feeds,
    );
    const f32 = (name: string, shape: number[]) => tf.tensor(Float32Array.from(raw.get(name)!), shape);
    const want = tf.grads((x: tf.Tensor, k: tf.Tensor, r: tf.Tensor, b: tf.Tensor) => {
      let hh = tf.zeros([B, U]) as tf.Tensor2D;
      const [inputBias, recurrentBias] = resetAfter ? tf.unstack(b) : [b, tf.zeros([3 * U])];
      const [rzr, rh] = tf.split(r, [2 * U, U], 1);
      for (let t = 0; t < T; t++) {
        const xt = x.slice([t, 0, 0], [1, B, F]).reshape([B, F]) as tf.Tensor2D;
        const [xz, xr, xh] = tf.split(tf.add(tf.matMul(xt, k as tf.Tensor2D), inputBias), 3, 1);
        let candidate: tf.Tensor;
        let z: tf.Tensor;
        if (resetAfter) {
          const [hz, hr, hn] = tf.split(tf.add(tf.matMul(hh, r as tf.Tensor2D), recurrentBias), 3, 1);
          z = tf.sigmoid(tf.add(xz, hz));
          candidate = tf.tanh(tf.add(xh, tf.mul(tf.sigmoid(tf.add(xr, hr)), hn)));
        } else {
          const [hz, hr] = tf.split(tf.matMul(hh, rzr as tf.Tensor2D), 2, 1);
          z = tf.sigmoid(tf.add(xz, hz));
          const reset = tf.sigmoid(tf.add(xr, hr));
          candidate = tf.tanh(tf.add(xh, tf.matMul(tf.mul(reset, hh) as tf.Tensor2D, rh as tf.Tensor2D)));
        }
        hh = tf.add(tf.mul(z, hh), tf.mul(tf.sub(1, z), candidate)) as tf.Tensor2D;
      }
      return tf.sum(tf.mul(hh, hh));
    })([
      f32('xs', [T, B, F]),
      f32('kernel', [F, 3 * U]),
      f32('recurrent', [U, 3 * U]),
      f32('bias', resetAfter ? [2, 3 * U] : [3 * U]),
    ]);
    want.forEach((w, i) => expectNear(got[i].data, w.dataSync(), 1e-4, `gradient ${i}`));
  });

  test('checkpoint: the same gradients, recomputing the cells', () => {
    const { input, feeds, graph } = setup('float32', 32);
    const xs = input('xs', [T, B, F]);
    const kernel = input('kernel', [F, 4 * U]);
    const recurrentKernel = input('recurrent', [U, 4 * U]);
    const w = { kernel, recurrentKernel };
    const kept = lstm(xs, w, { returnSequences: true }).output;
    const recomputed = lstm(xs, w, { returnSequences: true, checkpoint: true }).output;
    const [a, b] = [kept, recomputed].map((y) => gradients(sum(mul(y, y)), [kernel, recurrentKernel, xs]) as Tensor[]);
    const sess = new Session(graph, { backend });
    const [ga, gb] = [sess.run(a, feeds), sess.run(b, feeds)];
    ga.forEach((g, i) => expectNear(gb[i].data, g.data, 1e-6, `gradient ${i}`));
  });
});

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  if (!(worst <= tol)) throw new Error(`${what}: max relative difference ${worst} > ${tol}`);
}
