/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The 'onnxruntime' backend against the wasm backend on whole models: the demo MLP and CNN (forward, every gradient,
 * and Adam training steps over several runs, assigns included), within float32 tolerance.
 */
import { NDArray, Session, Tensor } from '../../src';
import { buildModel, Mlp } from '../../src/cli/model';
import { expectClose } from '../ops/util';

function batch(model: Mlp, n: number, seed: number): Map<Tensor, NDArray | number> {
  const images = new Float32Array(n * 784);
  let s = seed;
  for (let i = 0; i < images.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    images[i] = s / 2147483648;
  }
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10);
  return new Map<Tensor, NDArray | number>([
    [model.images, new NDArray(images, [n, 784])],
    [model.labels, new NDArray(labels, [n])],
    [model.learningRate, 0.01],
  ]);
}

describe.each([
  ['MLP 784-32-10', 'mlp' as const],
  ['CNN (two conv + pool layers)', 'cnn' as const],
])('%s on ONNX Runtime equals the wasm backend', (_name, kind) => {
  test('forward logits and loss, and the gradient of every parameter', async () => {
    const model = buildModel({ model: kind, hidden: 32, optimizer: 'adam', seed: 5 });
    const ort = new Session(model.graph, { backend: 'onnxruntime' });
    const wasm = new Session(model.graph, { backend: 'wasm' });
    const feeds = batch(model, 8, 3);
    const fetches = { logits: model.logits, loss: model.loss, grads: [...model.gradients] };
    const got = await ort.runAsync(fetches, feeds);
    const want = wasm.run(fetches, feeds);
    expectClose(got.logits, want.logits, 1e-4, 'logits');
    expectClose(got.loss, want.loss, 1e-4, 'loss');
    expect(got.grads).toHaveLength(model.parameters.length);
    got.grads.forEach((g, i) => expectClose(g, want.grads[i], 2e-3, model.parameters[i].name));
    // The whole forward and backward graph ran in one ONNX Runtime segment.
    const split = ort.explain(fetches, feeds);
    expect(split).toContain('1 segment (1 in ONNX Runtime, 0 in lazygrad kernels)');
  });

  test('Adam training steps over several runs give the same losses and variables', async () => {
    const model = buildModel({ model: kind, hidden: 32, optimizer: 'adam', seed: 7 });
    const ort = new Session(model.graph, { backend: 'onnxruntime' });
    const wasm = new Session(model.graph, { backend: 'wasm' });
    const losses: [number, number][] = [];
    for (let step = 0; step < 4; step++) {
      const feeds = batch(model, 16, step + 1);
      const [a] = await ort.runAsync([model.loss, model.trainOp], feeds);
      const [b] = wasm.run([model.loss, model.trainOp], feeds);
      losses.push([a.get(), b.get()]);
    }
    for (const [a, b] of losses) expect(a).toBeCloseTo(b, 4);
    // Training moved the loss: the assigns were written back between runs.
    expect(losses[3][0]).not.toBeCloseTo(losses[0][0], 4);
    for (const v of model.graph.variables()) {
      expectClose(ort.variableValue(v), wasm.variableValue(v), 2e-3, v.name);
    }
    // One plan for the four runs (same fetches and shapes).
    expect(ort.cachedPlans).toBe(1);
  });
});
