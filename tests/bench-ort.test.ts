/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Issue 21's hand-run ONNX Runtime contender (benchmarks/ort-backend.ts) on a step with int32 feeds and an int32
 * variable (the MNIST demo's Adam step: int32 labels, Adam's step counter): its numbers are the session's, step after
 * step, with the new values fed back.
 */
import { maxNormalizedError } from '../benchmarks/harness';
import { handRunInstance, ortBackendInstance } from '../benchmarks/ort-backend';
import { lazygradInstance, LazygradProgram } from '../benchmarks/workloads';
import { NDArray, Tensor } from '../src';
import { buildModel } from '../src/cli/model';

function demoStep(): LazygradProgram {
  const model = buildModel({ hidden: 8, optimizer: 'adam', seed: 5 });
  const images = Float32Array.from({ length: 6 * 784 }, (_, i) => ((i * 7) % 11) / 11);
  const labels = Int32Array.from({ length: 6 }, (_, i) => (i * 3) % 10);
  const feeds = new Map<Tensor, NDArray>([
    [model.images, new NDArray(images, [6, 784])],
    [model.labels, new NDArray(labels, [6])],
    [model.learningRate, new NDArray(new Float32Array([0.01]), [])],
  ]);
  const fetches = [model.loss, model.correct, model.trainOp];
  return { graph: model.graph, fetches, feeds, options: {}, checked: 2, checkVariables: model.graph.variables() };
}

test('the hand-run step with int32 feeds and variables computes the session’s loss, count and new variables', async () => {
  const reference = await lazygradInstance(demoStep()).check();
  const hand = await handRunInstance(demoStep());
  try {
    const values = await hand.check();
    expect(values).toHaveLength(reference.length);
    expect(values.length).toBe(2 + demoStep().checkVariables.length);
    expect(maxNormalizedError(reference, values)).toBeLessThan(1e-4);
    expect(hand.note).toContain('13 variables as inputs, 13 updates as outputs');
  } finally {
    hand.dispose();
  }
});

test('the ORT backend contender starts its check from the initial values after compiling', async () => {
  const reference = await lazygradInstance(demoStep()).check();
  const backend = await ortBackendInstance(demoStep());
  try {
    expect(maxNormalizedError(reference, await backend.check())).toBeLessThan(1e-4);
  } finally {
    backend.dispose();
  }
});
