/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Control flow on the 'onnxruntime' backend: cond, whileLoop and scan run as ONNX If, Loop and Scan inside an
 * ONNX Runtime segment (gradients through them too), with the values of the js backend; a random op captured by
 * a construct is drawn by lazygrad before it.
 */
import {
  add,
  cond,
  gradients,
  Graph,
  greater,
  less,
  matMul,
  mul,
  NDArray,
  neg,
  randomNormal,
  scan,
  Session,
  sum,
  tanh,
  Tensor,
  whileLoop,
} from '../../src';
import { expectClose } from '../ops/util';

test('an RNN by scan, its loss and its gradients', async () => {
  const g = new Graph();
  const xs = g.placeholder('xs', [5, 2, 3]);
  const w = g.variable(
    'w',
    NDArray.from([
      [0.1, -0.2],
      [0.3, 0.4],
      [-0.5, 0.2],
    ]),
  );
  const u = g.variable(
    'u',
    NDArray.from([
      [0.5, 0.1],
      [-0.3, 0.2],
    ]),
  );
  const h0 = g.constant(new NDArray(new Float32Array(4), [2, 2]));
  const [last, ys] = scan(
    (h: ReturnType<typeof tanh>, xt: ReturnType<typeof tanh>) => {
      const h2 = tanh(add(matMul(xt, w), matMul(h, u)));
      return [h2, h2];
    },
    h0,
    xs,
  );
  const loss = add(sum(mul(last, last)), sum(ys));
  const [dw, du] = gradients(loss, [w, u]) as Tensor[];
  const feeds = {
    xs: new NDArray(
      Float32Array.from({ length: 30 }, (_, i) => Math.sin(i)),
      [5, 2, 3],
    ),
  };
  const ort = new Session(g, { backend: 'onnxruntime' });
  const js = new Session(g, { backend: 'js' });
  const got = await ort.runAsync([loss, dw, du], feeds);
  const want = js.run([loss, dw, du], feeds);
  got.forEach((value, i) => expectClose(value, want[i], 1e-4));
  expect(ort.explain([loss, dw, du], feeds)).toContain('1 segment (1 in ONNX Runtime, 0 in lazygrad kernels)');
});

test('cond and whileLoop', async () => {
  const g = new Graph();
  const x = g.placeholder('x', [3]);
  const y = cond(
    greater(sum(x), 0),
    () => mul(x, 2),
    () => neg(x),
  );
  const [, acc] = whileLoop(
    ([i]) => less(i, 4),
    ([i, a]) => [add(i, 1), mul(a, 1.5)],
    [g.constant(0), x],
  );
  const ort = new Session(g, { backend: 'onnxruntime' });
  const js = new Session(g, { backend: 'js' });
  for (const value of [
    [1, 2, 3],
    [-1, -2, 0.5],
  ]) {
    const got = await ort.runAsync([y, acc], { x: value });
    const want = js.run([y, acc], { x: value });
    expectClose(got[0], want[0], 1e-6);
    expectClose(got[1], want[1], 1e-6);
  }
});

test('a random op captured by a construct: drawn in lazygrad, the construct run in ONNX Runtime', async () => {
  const g = new Graph();
  const x = g.placeholder('x', [2]);
  const noise = randomNormal([2], 0, 1, 'float32', 3, g);
  const y = cond(
    greater(sum(x), 0),
    () => add(x, noise),
    () => mul(x, noise),
  );
  const ort = new Session(g, { backend: 'onnxruntime' });
  const js = new Session(g, { backend: 'js' });
  await ort.ready();
  const text = ort.explain(y, { x: [1, 2] });
  expect(text).toContain('2 segments (1 in ONNX Runtime, 1 in lazygrad kernels)');
  expect(text).toMatch(/segment 0: lazygrad kernels, 1 node\n {4}nodes: %\d+ randomNormal\[2\]/);
  for (const value of [
    [1, 2],
    [-1, -2],
    [3, 0],
  ]) {
    expectClose(await ort.runAsync(y, { x: value }), js.run(y, { x: value }), 1e-6);
  }
});
