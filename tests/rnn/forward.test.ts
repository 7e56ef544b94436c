/**
 * Recurrent cells and layers forward: tfjs's basicLSTMCell / multiRNNCell against tfjs-core, the sequence layers
 * against tfjs-layers (LSTM, GRU with reset_after false, SimpleRNN, Bidirectional) with the same weights, and every
 * layer (both GRU variants, reverse, initial states, batch-major) against plain-JS float64 cells unrolled by hand,
 * on both backends.
 */
import * as tf from '@tensorflow/tfjs';
import {
  basicLSTMCell,
  bidirectional,
  DType,
  Graph,
  gru,
  gruCell,
  lstm,
  lstmCell,
  LSTMCellFunc,
  multiRNNCell,
  NDArray,
  scan,
  Session,
  simpleRNN,
  Tensor,
} from '../../src';
import { Rng } from '../ops/util';
import { gruStepRef, lstmStepRef, Mat, mat, randomMat, randomWeights, rnnStepRef, stepOf, Weights } from './reference';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

const BACKENDS = ['js', 'wasm'] as const;

function randomArray(rng: Rng, shape: number[], scale = 1): Float64Array {
  return Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-scale, scale));
}

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  if (!(worst <= tol)) throw new Error(`${what}: max relative difference ${worst} > ${tol}`);
}

/** Placeholders for weights and a feed map filling them. */
class Feeds {
  readonly map = new Map<Tensor, NDArray>();
  constructor(
    readonly graph: Graph,
    readonly dtype: DType,
  ) {}
  add(name: string, shape: number[], data: ArrayLike<number>): Tensor {
    const t = this.graph.placeholder(name, shape, this.dtype);
    const values = this.dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
    this.map.set(t, new NDArray(values, shape, this.dtype));
    return t;
  }
  weights(prefix: string, w: Weights, biasShape?: number[]) {
    return {
      kernel: this.add(`${prefix}kernel`, [w.kernel.rows, w.kernel.cols], w.kernel.data),
      recurrentKernel: this.add(
        `${prefix}recurrent`,
        [w.recurrentKernel.rows, w.recurrentKernel.cols],
        w.recurrentKernel.data,
      ),
      bias: this.add(`${prefix}bias`, biasShape ?? [w.bias.length], w.bias),
    };
  }
}

/** [T, B, F] time-major → [B, T, F]. */
function toBatchMajor(x: Float64Array, t: number, b: number, f: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < t; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < f; k++) {
        out[(j * t + i) * f + k] = x[(i * b + j) * f + k];
      }
  return out;
}

function tfWeights(w: Weights, biasShape?: number[]): tf.Tensor[] {
  return [
    tf.tensor2d(Float32Array.from(w.kernel.data), [w.kernel.rows, w.kernel.cols]),
    tf.tensor2d(Float32Array.from(w.recurrentKernel.data), [w.recurrentKernel.rows, w.recurrentKernel.cols]),
    tf.tensor(Float32Array.from(w.bias), biasShape ?? [w.bias.length]),
  ];
}

/** Runs a Keras-style step function over time-major xs in float64, forward or reverse; returns [hs (xs order), h]. */
function unroll(
  xs: Float64Array,
  [T, B, F]: number[],
  units: number,
  step: (x: Mat, states: Mat[]) => Mat[],
  init: Mat[],
  reverse = false,
): { hs: Float64Array; states: Mat[] } {
  const hs = new Float64Array(T * B * units);
  let states = init;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    states = step(stepOf(xs, t, B, F), states);
    hs.set(states[0].data, t * B * units);
  }
  return { hs, states };
}

describe('tfjs cells', () => {
  test('basicLSTMCell matches tf.basicLSTMCell (gate order i, j, f, o)', () => {
    const rng = new Rng(1);
    const [batch, input, units] = [3, 5, 4];
    const kernel = randomArray(rng, [input + units, 4 * units]);
    const bias = randomArray(rng, [4 * units]);
    const data = randomArray(rng, [batch, input]);
    const c = randomArray(rng, [batch, units]);
    const h = randomArray(rng, [batch, units]);
    const g = new Graph();
    const f = new Feeds(g, 'float32');
    const [newC, newH] = basicLSTMCell(
      1,
      f.add('kernel', [input + units, 4 * units], kernel),
      f.add('bias', [4 * units], bias),
      f.add('data', [batch, input], data),
      f.add('c', [batch, units], c),
      f.add('h', [batch, units], h),
    );
    const [gotC, gotH] = new Session(g).run([newC, newH], f.map);
    const [wantC, wantH] = tf.basicLSTMCell(
      tf.scalar(1),
      tf.tensor2d(Float32Array.from(kernel), [input + units, 4 * units]),
      tf.tensor1d(Float32Array.from(bias)),
      tf.tensor2d(Float32Array.from(data), [batch, input]),
      tf.tensor2d(Float32Array.from(c), [batch, units]),
      tf.tensor2d(Float32Array.from(h), [batch, units]),
    );
    expect(gotC.shape).toEqual([batch, units]);
    expectNear(gotC.data, wantC.dataSync(), 1e-5, 'newC');
    expectNear(gotH.data, wantH.dataSync(), 1e-5, 'newH');
  });

  test('multiRNNCell matches tf.multiRNNCell with two stacked cells', () => {
    const rng = new Rng(2);
    const [batch, input, u1, u2] = [2, 3, 4, 5];
    const k1 = randomArray(rng, [input + u1, 4 * u1]);
    const b1 = randomArray(rng, [4 * u1]);
    const k2 = randomArray(rng, [u1 + u2, 4 * u2]);
    const b2 = randomArray(rng, [4 * u2]);
    const data = randomArray(rng, [batch, input]);
    const states = [u1, u1, u2, u2].map((u) => randomArray(rng, [batch, u]));
    const g = new Graph();
    const f = new Feeds(g, 'float32');
    const [K1, B1, K2, B2] = [
      f.add('k1', [input + u1, 4 * u1], k1),
      f.add('b1', [4 * u1], b1),
      f.add('k2', [u1 + u2, 4 * u2], k2),
      f.add('b2', [4 * u2], b2),
    ];
    const [c1, h1, c2, h2] = states.map((s, i) => f.add(`s${i}`, [batch, [u1, u1, u2, u2][i]], s));
    const [cs, hs] = multiRNNCell(
      [(x, c, h) => basicLSTMCell(1, K1, B1, x, c, h), (x, c, h) => basicLSTMCell(0.5, K2, B2, x, c, h)],
      f.add('data', [batch, input], data),
      [c1, c2],
      [h1, h2],
    );
    const got = new Session(g).run([...cs, ...hs], f.map);
    const t32 = (a: Float64Array, shape: number[]) => tf.tensor2d(Float32Array.from(a), shape as [number, number]);
    const tk1 = t32(k1, [input + u1, 4 * u1]);
    const tk2 = t32(k2, [u1 + u2, 4 * u2]);
    const [wantC, wantH] = tf.multiRNNCell(
      [
        (x: tf.Tensor2D, c: tf.Tensor2D, h: tf.Tensor2D) =>
          tf.basicLSTMCell(1, tk1, tf.tensor1d(Float32Array.from(b1)), x, c, h),
        (x: tf.Tensor2D, c: tf.Tensor2D, h: tf.Tensor2D) =>
          tf.basicLSTMCell(0.5, tk2, tf.tensor1d(Float32Array.from(b2)), x, c, h),
      ],
      t32(data, [batch, input]),
      [t32(states[0], [batch, u1]), t32(states[2], [batch, u2])],
      [t32(states[1], [batch, u1]), t32(states[3], [batch, u2])],
    );
    [...wantC, ...wantH].forEach((w, i) => expectNear(got[i].data, w.dataSync(), 1e-5, `state ${i}`));
  });

  test('multiRNNCell as a scan body matches tf.multiRNNCell unrolled over the steps', () => {
    const rng = new Rng(7);
    const [T, batch, input, u1, u2] = [5, 2, 3, 4, 3];
    const k1 = randomArray(rng, [input + u1, 4 * u1]);
    const b1 = randomArray(rng, [4 * u1]);
    const k2 = randomArray(rng, [u1 + u2, 4 * u2]);
    const b2 = randomArray(rng, [4 * u2]);
    const xs = randomArray(rng, [T, batch, input]);
    const g = new Graph();
    const f = new Feeds(g, 'float32');
    const [K1, B1, K2, B2] = [
      f.add('k1', [input + u1, 4 * u1], k1),
      f.add('b1', [4 * u1], b1),
      f.add('k2', [u1 + u2, 4 * u2], k2),
      f.add('b2', [4 * u2], b2),
    ];
    const zeros = (name: string, u: number) => f.add(name, [batch, u], new Float64Array(batch * u));
    const cells: LSTMCellFunc[] = [
      (x, c, h) => basicLSTMCell(1, K1, B1, x, c, h),
      (x, c, h) => basicLSTMCell(1, K2, B2, x, c, h),
    ];
    const init = { c: [zeros('c1', u1), zeros('c2', u2)], h: [zeros('h1', u1), zeros('h2', u2)] };
    const [last, ys] = scan(
      (state: { c: Tensor[]; h: Tensor[] }, x: Tensor) => {
        const [c, h] = multiRNNCell(cells, x, state.c, state.h);
        return [{ c, h }, h[1]];
      },
      init,
      f.add('xs', [T, batch, input], xs),
    );
    const [gotYs, gotC1] = new Session(g).run([ys, last.c[0]], f.map);
    const t32 = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape);
    const [tk1, tb1, tk2, tb2] = [
      t32(k1, [input + u1, 4 * u1]),
      t32(b1, [4 * u1]),
      t32(k2, [u1 + u2, 4 * u2]),
      t32(b2, [4 * u2]),
    ];
    let c = [tf.zeros([batch, u1]), tf.zeros([batch, u2])] as tf.Tensor2D[];
    let h = [tf.zeros([batch, u1]), tf.zeros([batch, u2])] as tf.Tensor2D[];
    const outputs: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const x = t32(xs.subarray(t * batch * input, (t + 1) * batch * input), [batch, input]) as tf.Tensor2D;
      [c, h] = tf.multiRNNCell(
        [
          (d: tf.Tensor2D, cc: tf.Tensor2D, hh: tf.Tensor2D) =>
            tf.basicLSTMCell(1, tk1 as tf.Tensor2D, tb1 as tf.Tensor1D, d, cc, hh),
          (d: tf.Tensor2D, cc: tf.Tensor2D, hh: tf.Tensor2D) =>
            tf.basicLSTMCell(1, tk2 as tf.Tensor2D, tb2 as tf.Tensor1D, d, cc, hh),
        ],
        x,
        c,
        h,
      );
      outputs.push(h[1]);
    }
    expect(gotYs.shape).toEqual([T, batch, u2]);
    expectNear(gotYs.data, tf.stack(outputs).dataSync(), 1e-5, 'top layer h at every step');
    expectNear(gotC1.data, c[0].dataSync(), 1e-5, 'last c of the first layer');
  });

  test('multiRNNCell needs one c and h per cell', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 2]);
    expect(() => multiRNNCell([(a, c, h) => [c, h]], x, [], [])).toThrow(/1 cells need 1 c and h states, got 0 and 0/);
  });
});

describe('sequence layers against tfjs-layers (float32, batch-major)', () => {
  const [T, B, F, U] = [6, 3, 4, 5];

  function run(build: (f: Feeds, xs: Tensor) => Tensor, xs: Float64Array): NDArray {
    const g = new Graph();
    const f = new Feeds(g, 'float32');
    const x = f.add('xs', [B, T, F], xs);
    return new Session(g).run(build(f, x), f.map);
  }

  /** Builds the tfjs layer (by applying it once), sets its weights, applies it to xs [B, T, F]. */
  function applyLayer(layer: tf.layers.Layer, weights: tf.Tensor[], xs: Float64Array): tf.Tensor {
    const input = tf.tensor3d(Float32Array.from(xs), [B, T, F]);
    layer.apply(input);
    layer.setWeights(weights);
    return layer.apply(input) as tf.Tensor;
  }

  test.each([true, false])('lstm (returnSequences %s) matches tf.layers.lstm', (returnSequences) => {
    const rng = new Rng(3);
    const w = randomWeights(rng, F, U, 4);
    const xs = randomArray(rng, [B, T, F]);
    const got = run((f, x) => lstm(x, f.weights('', w), { timeMajor: false, returnSequences }).output, xs);
    const layer = tf.layers.lstm({ units: U, returnSequences, recurrentActivation: 'sigmoid', inputShape: [T, F] });
    const want = applyLayer(layer, tfWeights(w), xs);
    expect(got.shape).toEqual(want.shape);
    expectNear(got.data, want.dataSync(), 2e-5, 'lstm');
  });

  test('gru with resetAfter false matches tf.layers.gru (tfjs-layers has no reset_after)', () => {
    const rng = new Rng(4);
    const w = randomWeights(rng, F, U, 3);
    const xs = randomArray(rng, [B, T, F]);
    const got = run(
      (f, x) => gru(x, f.weights('', w), { timeMajor: false, returnSequences: true, resetAfter: false }).output,
      xs,
    );
    const layer = tf.layers.gru({
      units: U,
      returnSequences: true,
      recurrentActivation: 'sigmoid',
      inputShape: [T, F],
    });
    const want = applyLayer(layer, tfWeights(w), xs);
    expect(got.shape).toEqual(want.shape);
    expectNear(got.data, want.dataSync(), 2e-5, 'gru');
  });

  test('simpleRNN matches tf.layers.simpleRNN', () => {
    const rng = new Rng(5);
    const w = randomWeights(rng, F, U, 1);
    const xs = randomArray(rng, [B, T, F]);
    const got = run((f, x) => simpleRNN(x, f.weights('', w), { timeMajor: false, returnSequences: true }).output, xs);
    const layer = tf.layers.simpleRNN({ units: U, returnSequences: true, inputShape: [T, F] });
    const want = applyLayer(layer, tfWeights(w), xs);
    expectNear(got.data, want.dataSync(), 2e-5, 'simpleRNN');
  });

  test.each(['concat', 'sum'] as const)('bidirectional lstm (%s) matches tf.layers.bidirectional', (mergeMode) => {
    const rng = new Rng(6);
    const forward = randomWeights(rng, F, U, 4);
    const backward = randomWeights(rng, F, U, 4);
    const xs = randomArray(rng, [B, T, F]);
    const got = run((f, x) => {
      const wf = f.weights('f', forward);
      const wb = f.weights('b', backward);
      return bidirectional(
        (seq, reverse) =>
          lstm(seq, reverse ? wb : wf, { reverse, returnSequences: true, timeMajor: false, name: 'bi' }).output,
        x,
        { mergeMode },
      );
    }, xs);
    const layer = tf.layers.bidirectional({
      layer: tf.layers.lstm({ units: U, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.layers.RNN,
      mergeMode,
      inputShape: [T, F],
    });
    const want = applyLayer(layer, [...tfWeights(forward), ...tfWeights(backward)], xs);
    expect(got.shape).toEqual(want.shape);
    expectNear(got.data, want.dataSync(), 2e-5, 'bidirectional');
  });
});

describe.each(BACKENDS)('sequence layers against float64 cells unrolled by hand (%s backend)', (backend) => {
  const [T, B, F, U] = [7, 2, 3, 4];

  test.each([false, true])('lstm with h0, c0, forgetBias (reverse %s)', (reverse) => {
    const rng = new Rng(10);
    const w = randomWeights(rng, F, U, 4);
    const xs = randomArray(rng, [T, B, F]);
    const h0 = randomMat(rng, B, U);
    const c0 = randomMat(rng, B, U);
    const g = new Graph();
    const f = new Feeds(g, 'float64');
    const out = lstm(f.add('xs', [T, B, F], xs), f.weights('', w), {
      h0: f.add('h0', [B, U], h0.data),
      c0: f.add('c0', [B, U], c0.data),
      forgetBias: 1,
      reverse,
      returnSequences: true,
    });
    const [ys, h, c] = new Session(g, { backend }).run([out.output, out.h, out.c], f.map);
    const want = unroll(xs, [T, B, F], U, (x, [hh, cc]) => lstmStepRef(w, x, hh, cc, 1), [h0, c0], reverse);
    expect(ys.shape).toEqual([T, B, U]);
    expectNear(ys.data, want.hs, 1e-12, 'ys');
    expectNear(h.data, want.states[0].data, 1e-12, 'h');
    expectNear(c.data, want.states[1].data, 1e-12, 'c');
  });

  test.each([true, false])('gru (resetAfter %s)', (resetAfter) => {
    const rng = new Rng(11);
    const w = randomWeights(rng, F, U, 3, resetAfter ? 6 * U : 3 * U);
    const xs = randomArray(rng, [T, B, F]);
    const h0 = randomMat(rng, B, U);
    const g = new Graph();
    const f = new Feeds(g, 'float64');
    const out = gru(f.add('xs', [T, B, F], xs), f.weights('', w, resetAfter ? [2, 3 * U] : undefined), {
      h0: f.add('h0', [B, U], h0.data),
      resetAfter,
      returnSequences: true,
    });
    const ys = new Session(g, { backend }).run(out.output, f.map);
    const want = unroll(xs, [T, B, F], U, (x, [hh]) => [gruStepRef(w, x, hh, resetAfter)], [h0]);
    expectNear(ys.data, want.hs, 1e-12, 'gru');
  });

  test('gruCell and lstmCell are one step of the layers', () => {
    const rng = new Rng(12);
    const wl = randomWeights(rng, F, U, 4);
    const wg = randomWeights(rng, F, U, 3, 6 * U);
    const x = randomMat(rng, B, F);
    const h = randomMat(rng, B, U);
    const c = randomMat(rng, B, U);
    const g = new Graph();
    const f = new Feeds(g, 'float64');
    const X = f.add('x', [B, F], x.data);
    const H = f.add('h', [B, U], h.data);
    const [h2, c2] = lstmCell(f.weights('l', wl), X, [H, f.add('c', [B, U], c.data)]);
    const hg = gruCell(f.weights('g', wg, [2, 3 * U]), X, H);
    const [a, b, d] = new Session(g, { backend }).run([h2, c2, hg], f.map);
    const [wantH, wantC] = lstmStepRef(wl, x, h, c);
    expectNear(a.data, wantH.data, 1e-12, 'lstmCell h');
    expectNear(b.data, wantC.data, 1e-12, 'lstmCell c');
    expectNear(d.data, gruStepRef(wg, x, h, true).data, 1e-12, 'gruCell');
  });

  test('simpleRNN without bias, batch-major, reverse; last h only', () => {
    const rng = new Rng(13);
    const w = randomWeights(rng, F, U, 1);
    w.bias.fill(0);
    const xs = randomArray(rng, [T, B, F]);
    const g = new Graph();
    const f = new Feeds(g, 'float64');
    const { kernel, recurrentKernel } = f.weights('', w);
    const x = f.add('xs', [B, T, F], toBatchMajor(xs, T, B, F));
    const out = simpleRNN(x, { kernel, recurrentKernel }, { timeMajor: false, reverse: true });
    const [last, seq] = new Session(g, { backend }).run(
      [out.output, simpleRNN(x, { kernel, recurrentKernel }, { timeMajor: false, returnSequences: true }).output],
      f.map,
    );
    const back = unroll(xs, [T, B, F], U, (xt, [hh]) => [rnnStepRef(w, xt, hh)], [mat(B, U)], true);
    const fwd = unroll(xs, [T, B, F], U, (xt, [hh]) => [rnnStepRef(w, xt, hh)], [mat(B, U)]);
    expect(last.shape).toEqual([B, U]);
    expectNear(last.data, back.states[0].data, 1e-12, 'last h of the reverse pass');
    expect(seq.shape).toEqual([B, T, U]);
    expectNear(seq.data, toBatchMajor(fwd.hs, T, B, U), 1e-12, 'batch-major sequence');
  });
});

describe('checks', () => {
  test('a kernel of the wrong width is a ShapeError naming the layout', () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [5, 2, 3]);
    const weights = { kernel: g.placeholder('k', [3, 12]), recurrentKernel: g.placeholder('r', [4, 16]) };
    expect(() => lstm(xs, weights)).toThrow(
      /lstm: kernel must have 16 columns .*expected kernel \[inputSize, 4·units\]/,
    );
  });

  test('zero initial states need a known batch size', () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [5, null, 3]);
    const weights = { kernel: g.placeholder('k', [3, 4]), recurrentKernel: g.placeholder('r', [4, 4]) };
    expect(() => simpleRNN(xs, weights)).toThrow(/batch size of xs 'xs' .* is unknown.*give h0/);
    const h0 = g.placeholder('h0', [null, 4]);
    expect(simpleRNN(xs, weights, { h0, returnSequences: true }).output.shape).toEqual([5, null, 4]);
  });

  test('xs must be rank 3', () => {
    const g = new Graph();
    const weights = { kernel: g.placeholder('k', [3, 12]), recurrentKernel: g.placeholder('r', [4, 12]) };
    expect(() => gru(g.placeholder('xs', [5, 3]), weights)).toThrow(
      /gru: xs must be a rank-3 tensor \[T, batch, features\]/,
    );
  });

  test('a layer over T steps is one scan: the graph does not grow with T', () => {
    const size = (T: number): number => {
      const g = new Graph();
      const xs = g.placeholder('xs', [T, 2, 3]);
      const weights = { kernel: g.placeholder('k', [3, 16]), recurrentKernel: g.placeholder('r', [4, 16]) };
      lstm(xs, weights, { returnSequences: true });
      return g.size;
    };
    expect(size(200)).toBe(size(3));
  });
});
