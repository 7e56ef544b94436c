import { exp, gradients, Graph, matMul, NDArray, Session, softmax, sum, tanh, Tensor } from '../src';

function mlp(): { g: Graph; loss: Tensor; grads: Tensor[]; feeds: { x: NDArray } } {
  const g = new Graph();
  const x = g.placeholder('x', [null, 33]);
  const w = g.variable(
    'w',
    NDArray.from(Array.from({ length: 33 }, (_, i) => Array.from({ length: 17 }, (_, j) => Math.sin(i * 17 + j)))),
  );
  const loss = sum(softmax(tanh(matMul(x, w))).mul(exp(matMul(x, w).mul(0.1))));
  const grads = gradients(loss, [w, x]) as Tensor[];
  const data = new Float32Array(9 * 33).map((_, i) => Math.cos(i));
  return { g, loss, grads, feeds: { x: new NDArray(data, [9, 33]) } };
}

describe('backends', () => {
  test('the default backend is wasm where it loads, and js on request', () => {
    const g = new Graph();
    expect(new Session(g).backend).toBe('wasm');
    expect(new Session(g, { backend: 'js' }).backend).toBe('js');
  });

  test('wasm and js backends agree on values and gradients (float32 tolerance), odd sizes included', () => {
    const { g, loss, grads, feeds } = mlp();
    const js = new Session(g, { backend: 'js' }).run([loss, ...grads], feeds);
    const wasm = new Session(g, { backend: 'wasm' }).run([loss, ...grads], feeds);
    js.forEach((a, k) =>
      a.data.forEach((v, i) =>
        expect(Math.abs(wasm[k].data[i] - v)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v))),
      ),
    );
  });

  test('two threads give the same results as one', () => {
    const { g, loss, grads, feeds } = mlp();
    const one = new Session(g, { threads: 1 }).run([loss, ...grads], feeds);
    const two = new Session(g, { threads: 2 }).run([loss, ...grads], feeds);
    one.forEach((a, k) => expect(Array.from(two[k].data)).toEqual(Array.from(a.data)));
  });

  test('float64 graphs run the JS kernels under the wasm backend (exact same values)', () => {
    const g = new Graph();
    const a = g.placeholder('a', [3, 5], 'float64');
    const y = matMul(a, a, false, true);
    const feeds = new Map([
      [
        a,
        NDArray.from(
          Array.from({ length: 3 }, (_, i) => [1, 2, 3, 4, 5].map((v) => v * (i + 0.5))),
          'float64',
        ),
      ],
    ]);
    const js = new Session(g, { backend: 'js' }).run(y, feeds);
    expect(Array.from(new Session(g).run(y, feeds).data)).toEqual(Array.from(js.data));
  });
});
