/**
 * reluGrad(dy, x) = dy · (x > 0 ? 1 : 0): relu's gradient as one op (TensorFlow's ReluGrad). Checked against the
 * product it replaces (bit for bit, NaN and ±0 included), finite differences, tfjs's relu gradient, its own
 * gradient and forward-mode rule, and each backend.
 */
import * as tf from '@tensorflow/tfjs';
import {
  cast,
  checkGradients,
  gradients,
  Graph,
  greater,
  jvp,
  mul,
  NDArray,
  relu,
  reluGrad,
  Session,
  sum,
  Tensor,
} from '../../src';
import { randomArray, Rng } from './util';

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-45, -1e-45, 2.5, -2.5];

describe('reluGrad', () => {
  test('equals dy · cast(x > 0) bit for bit on special values, on both backends', () => {
    const g = new Graph();
    const dy = g.placeholder('dy', [SPECIAL.length * SPECIAL.length]);
    const x = g.placeholder('x', [SPECIAL.length * SPECIAL.length]);
    const feeds = {
      dy: SPECIAL.flatMap((d) => SPECIAL.map(() => d)),
      x: SPECIAL.flatMap(() => SPECIAL),
    };
    const reference = new Session(g, { optimize: false }).run(mul(dy, cast(greater(x, 0), 'float32')), feeds);
    for (const backend of ['js', 'wasm'] as const) {
      const value = new Session(g, { backend }).run(reluGrad(dy, x), feeds);
      expect(Array.from(value.data)).toEqual(Array.from(reference.data));
    }
  });

  test('the wasm kernel gives the JS kernel’s bits on a large array (fused and alone)', () => {
    const rng = new Rng(3);
    const g = new Graph();
    const dy = g.placeholder('dy', [33, 65]);
    const x = g.placeholder('x', [33, 65]);
    const feeds = { dy: randomArray(rng, [33, 65], 'float32'), x: randomArray(rng, [33, 65], 'float32') };
    const js = new Session(g, { backend: 'js', optimize: false }).run(reluGrad(dy, x), feeds);
    const wasm = new Session(g, { backend: 'wasm', optimize: false }).run(reluGrad(dy, x), feeds);
    expect(Array.from(wasm.data)).toEqual(Array.from(js.data));
    const fused = new Session(g).run(reluGrad(dy.mul(2), x), feeds);
    expect(Array.from(fused.data)).toEqual(Array.from(js.data).map((v) => v * 2));
  });

  test("is relu's gradient: one node, matching tfjs's tf.grad(relu) and finite differences", () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 5], 'float64');
    const y = sum(relu(x).mul(relu(x)));
    const [dx] = gradients(y, [x]) as Tensor[];
    expect(g.nodes.filter((n) => n.op === 'reluGrad')).toHaveLength(1);
    expect(g.nodes.some((n) => n.op === 'greater')).toBe(false);
    const values = randomArray(new Rng(5), [4, 5], 'float64', { awayFromZero: 0.05 });
    expect(checkGradients(y, [x], new Map([[x, values]])).ok).toBe(true);
    const ours = new Session(g).run(dx, { x: values });
    const theirs = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.relu(t))))(tf.tensor(Array.from(values.data), [4, 5]))
      .dataSync();
    ours.data.forEach((v, i) => expect(v).toBeCloseTo(theirs[i], 4));
  });

  test('its gradient is reluGrad(ddy, x) for dy and zero for x; its tangent is reluGrad(t, x)', () => {
    const g = new Graph();
    const dy = g.placeholder('dy', [3, 4], 'float64');
    const x = g.placeholder('x', [3, 4], 'float64');
    const y = sum(reluGrad(dy, x).mul(reluGrad(dy, x)));
    const rng = new Rng(7);
    const feeds = new Map<Tensor, NDArray>([
      [dy, randomArray(rng, [3, 4])],
      [x, randomArray(rng, [3, 4], 'float64', { awayFromZero: 0.05 })],
    ]);
    expect(checkGradients(y, [dy, x], feeds).ok).toBe(true);
    const tangent = g.placeholder('t', [3, 4], 'float64');
    const [dout] = jvp([reluGrad(dy, x)], [dy], [tangent]);
    const s = new Session(g);
    const t = randomArray(rng, [3, 4]);
    const directional = s.run(dout, { dy: feeds.get(dy) as NDArray, x: feeds.get(x) as NDArray, t });
    const expected = s.run(reluGrad(tangent, x), { x: feeds.get(x) as NDArray, t });
    expect(Array.from(directional.data)).toEqual(Array.from(expected.data));
  });
});
