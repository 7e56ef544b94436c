/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * `lazygrad train --backend onnxruntime` (issue 21): the MNIST training loop and its evaluations run through
 * `Session.runAsync` on ONNX Runtime; the loss falls, the checkpoint holds what the session holds, and the same
 * steps on the wasm backend give the same numbers within float32 tolerance.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { decodeSafetensors, NDArray } from '../src';
import { Io } from '../src/cli/commands';
import { main } from '../src/cli/main';
import { loadMnist } from '../src/cli/mnist';
import { evaluate, evaluateAsync, TrainConfig, trainModel, trainModelAsync } from '../src/cli/model';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    stream: { write: (text: string) => ((out += text), true), isTTY: false },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const config: TrainConfig = {
  hidden: 32,
  optimizer: 'adam',
  seed: 3,
  epochs: 1,
  batchSize: 20,
  learningRate: 0.005,
  augment: false,
  backend: 'onnxruntime',
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lazygrad-cli-ort-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trainModelAsync on the onnxruntime backend', () => {
  const data = loadMnist(require, 200, 100);

  test('the loss falls, and the checkpoint saved is exactly what the session holds', async () => {
    const result = await trainModelAsync(data, config);
    expect(result.session.backend).toBe('onnxruntime');
    const losses = result.batchLosses;
    expect(losses).toHaveLength(10);
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-3))).toBeLessThan(0.8 * mean(losses.slice(0, 3)));
    expect(result.testAccuracy).toBeGreaterThan(0.3); // chance is 0.1

    const file = join(dir, 'ort.safetensors');
    result.session.save(file);
    const saved = decodeSafetensors(new Uint8Array(readFileSync(file))).tensors;
    const held = result.session.variableValues();
    expect(saved.size).toBe(held.size);
    expect(held.size).toBe(result.model.graph.variables().length); // Adam's slots and step included
    for (const [variable, value] of held) {
      const stored = saved.get(variable.name);
      expect(stored?.shape).toEqual(value.shape);
      expect(Array.from(stored?.data ?? [])).toEqual(Array.from(value.data));
    }
  });

  test('takes the steps the wasm backend takes, within float32 tolerance', async () => {
    const onOrt = await trainModelAsync(data, config);
    const onWasm = trainModel(data, { ...config, backend: 'wasm' });
    expect(onOrt.batchLosses).toHaveLength(onWasm.batchLosses.length);
    onOrt.batchLosses.forEach((loss, i) => expect(loss).toBeCloseTo(onWasm.batchLosses[i], 3));
    // Each run builds its own graph: variables are matched by name.
    const ortValues = new Map([...onOrt.session.variableValues()].map(([v, value]) => [v.name, value]));
    expect(ortValues.size).toBe(onWasm.session.variableValues().size);
    for (const [variable, value] of onWasm.session.variableValues()) {
      const other = ortValues.get(variable.name) as NDArray;
      let worst = 0;
      let scale = 1e-6;
      for (let i = 0; i < value.data.length; i++) {
        worst = Math.max(worst, Math.abs(Number(value.data[i]) - Number(other.data[i])));
        scale = Math.max(scale, Math.abs(Number(value.data[i])));
      }
      expect(worst / scale).toBeLessThan(1e-3);
    }
    // The evaluation goes through runAsync too, and scores the ORT session's weights on the wasm backend alike.
    const [, accuracy] = await evaluateAsync(onOrt.model, onOrt.session, data.test);
    expect(accuracy).toBe(onOrt.testAccuracy);
    expect(evaluate(onWasm.model, onWasm.session, data.test)[1]).toBeCloseTo(onWasm.testAccuracy, 10);
  });

  test('trainModel refuses the onnxruntime backend and names trainModelAsync', () => {
    expect(() => trainModel(data, config)).toThrow(
      'trainModel: the onnxruntime backend runs asynchronously; use trainModelAsync',
    );
  });
});

describe('lazygrad train --backend onnxruntime', () => {
  test('trains, saves a checkpoint, and a wasm session restored from it scores what the ORT session scored', async () => {
    const checkpoint = join(dir, 'cli.safetensors');
    const common = ['train', '--epochs', '2', '--train-samples', '240', '--test-samples', '120', '--hidden', '32'];
    const first = await cli(...common, '--backend', 'onnxruntime', '--save', checkpoint);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain('; onnxruntime backend');
    expect(first.out).toContain(`saved checkpoint ${checkpoint}`);
    const epochLoss = [...first.out.matchAll(/epoch (\d)\/2 .*?loss (\d+\.\d+)/g)].map((m) => Number(m[2]));
    expect(epochLoss).toHaveLength(2);
    expect(epochLoss[1]).toBeLessThan(epochLoss[0]);
    const accuracy = /test accuracy (\d+\.\d+)%/.exec(first.out)?.[1];
    const second = await cli(...common, '--backend', 'wasm', '--restore', checkpoint);
    expect(second.code).toBe(0);
    expect(second.out).toContain(`restored ${checkpoint}: test accuracy ${accuracy}% before training`);
  });

  test('--help names the backends, and charlm refuses --backend', async () => {
    const help = await cli('train', '--help');
    expect(help.out).toMatch(/--backend NAME +the session's kernels/);
    expect(help.out).toMatch(/wasm, js, onnxruntime/);
    const charlm = await cli('train', '--model', 'charlm', '--backend', 'js');
    expect(charlm.code).toBe(2);
    expect(charlm.err).toContain('train --backend: charlm runs on the default backend; --backend is for mlp and cnn');
  });
});
