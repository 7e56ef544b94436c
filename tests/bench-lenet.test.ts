/**
 * The LeNet benchmark's tfjs-wasm contender computes conv filter gradients without Conv2DBackpropFilter (which
 * tfjs-wasm 4.22 lacks): as a conv2d over transposed inputs, through tf.customGrad. Those gradients must be tfjs's
 * own, as tfjs-cpu computes them with its Conv2DBackpropFilter kernel; and the whole toy network's step must match.
 */
import * as tf from '@tensorflow/tfjs';
import { convSame, filterGradient, LENET_SIZES, tfjsLenet } from '../benchmarks/lenet';
import { useTfBackend } from '../benchmarks/workloads';
import { Rng, uniformArray } from '../benchmarks/rng';

/** max |a − b| / max |b|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

interface Case {
  batch: number;
  side: number;
  kernel: number;
  inC: number;
  outC: number;
}

const CASES: Case[] = [
  { batch: 4, side: 12, kernel: 5, inC: 3, outC: 5 },
  { batch: 2, side: 9, kernel: 3, inC: 2, outC: 4 },
  { batch: 3, side: 7, kernel: 4, inC: 1, outC: 2 }, // an even kernel: 'same' pads one more after than before
];

function inputsOf(c: Case): { x: Float32Array; f: Float32Array; dy: Float32Array } {
  const rng = new Rng(c.batch * 1000 + c.side * 10 + c.kernel);
  return {
    x: uniformArray(rng, c.batch * c.side * c.side * c.inC, -1, 1),
    f: uniformArray(rng, c.kernel * c.kernel * c.inC * c.outC, -1, 1),
    dy: uniformArray(rng, c.batch * c.side * c.side * c.outC, -1, 1),
  };
}

/** d(Σ dy · conv2d(x, f, 1, 'same'))/dx and /df, by tf.grads on the current backend, natively or via convSame. */
function convGradients(c: Case, custom: boolean): [Float32Array, Float32Array] {
  const { x, f, dy } = inputsOf(c);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.batch, c.side, c.side, c.inC]);
    const ft = tf.tensor4d(f, [c.kernel, c.kernel, c.inC, c.outC]);
    const dyt = tf.tensor4d(dy, [c.batch, c.side, c.side, c.outC]);
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D =>
      custom ? convSame(a, b, true) : tf.conv2d(a, b, 1, 'same');
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), dyt)),
    )([xt, ft]);
    return [dx.dataSync() as Float32Array, df.dataSync() as Float32Array].map((a) => Float32Array.from(a)) as [
      Float32Array,
      Float32Array,
    ];
  });
}

describe('conv2d gradients without Conv2DBackpropFilter (the LeNet benchmark’s tfjs-wasm contender)', () => {
  test.each(CASES)('filterGradient is what tfjs-cpu’s Conv2DBackpropFilter kernel gives: %j', async (c) => {
    await useTfBackend('cpu');
    const [, df] = convGradients(c, false);
    const { x, dy } = inputsOf(c);
    const ours = tf.tidy(() => {
      const xt = tf.tensor4d(x, [c.batch, c.side, c.side, c.inC]);
      const dyt = tf.tensor4d(dy, [c.batch, c.side, c.side, c.outC]);
      return Float32Array.from(filterGradient(xt, dyt, c.kernel).dataSync() as Float32Array);
    });
    expect(relativeError(ours, df)).toBeLessThan(1e-5);
  });

  test.each(CASES)('convSame’s gradients on tfjs-cpu and tfjs-wasm are tfjs-cpu’s own: %j', async (c) => {
    await useTfBackend('cpu');
    const [dx, df] = convGradients(c, false);
    const [cpuDx, cpuDf] = convGradients(c, true);
    await useTfBackend('wasm');
    const [wasmDx, wasmDf] = convGradients(c, true);
    await useTfBackend('cpu');
    expect(relativeError(cpuDx, dx)).toBeLessThan(1e-5);
    expect(relativeError(cpuDf, df)).toBeLessThan(1e-5);
    expect(relativeError(wasmDx, dx)).toBeLessThan(1e-5);
    expect(relativeError(wasmDf, df)).toBeLessThan(1e-5);
  });

  test('the reason for it: tf.grads through tf.conv2d fails on tfjs-wasm', async () => {
    await useTfBackend('wasm');
    try {
      expect(() => convGradients(CASES[0], false)).toThrow(/Conv2DBackpropFilter/);
    } finally {
      await useTfBackend('cpu');
    }
  });

  test('the toy LeNet’s gradients through convSame are tfjs-cpu’s, for every parameter', async () => {
    expect(LENET_SIZES.toy.kernel).toBe(5);
    const gradientsOf = (custom: boolean): Float32Array[] => {
      const net = tfjsLenet('toy', custom);
      const { grads } = tf.variableGrads(net.loss, net.params);
      const values = net.params.map((p) => Float32Array.from(grads[p.name].dataSync() as Float32Array));
      tf.dispose([net.x, net.labels, ...net.params, ...Object.values(grads)]);
      return values;
    };
    await useTfBackend('cpu');
    const native = gradientsOf(false);
    await useTfBackend('wasm');
    const custom = gradientsOf(true);
    await useTfBackend('cpu');
    expect(custom).toHaveLength(8);
    custom.forEach((g, i) => expect([i, relativeError(g, native[i]) < 1e-4]).toEqual([i, true]));
  });
});
