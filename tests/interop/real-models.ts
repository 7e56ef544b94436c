/**
 * Helpers for the tests of real ONNX models shipped in npm packages (real-models.test.ts): reading a model file,
 * a synthetic text image normalized as PaddleOCR does, a float32 model recast to float64 (so finite differences
 * of the imported graph are exact to ~1e-9), and the comparisons the tests make.
 */
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { gradients, mul, NDArray, Session, sum, Tensor } from '../../src';
import { Rng } from '../ops/util';

/** The bytes of a file inside an installed package (its package.json `exports` may not list it). */
export function packageFile(pkg: string, file: string): Uint8Array {
  const root = path.join(__dirname, '..', '..', 'node_modules', pkg);
  return new Uint8Array(fs.readFileSync(path.join(root, file)));
}

/**
 * White pages (one per batch item) with two lines of dark, text-like strokes (vertical bars and a baseline) and a little noise, as
 * [1, C, H, W] pixel values in 0..255, normalized as PaddleOCR does: (v / 255 − 0.5) / 0.5.
 */
export function textImage(shape: readonly number[], seed: number): Float32Array {
  const [N, C, H, W] = shape;
  const rng = new Rng(seed);
  const data = new Float32Array(N * C * H * W);
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inLine = (y > H * 0.3 && y < H * 0.45) || (y > H * 0.6 && y < H * 0.75);
        const stroke = inLine && x > W * 0.1 && x < W * 0.9 && ((x + 3 * n) % 6 < 2 || y % 7 < 1);
        for (let c = 0; c < C; c++) {
          const v = (stroke ? 30 : 235) + (rng.next() - 0.5) * 20;
          data[((n * C + c) * H + y) * W + x] = (v / 255 - 0.5) / 0.5;
        }
      }
    }
  }
  return data;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const DOUBLE = onnx.TensorProto.DataType.DOUBLE;

/** A float32 tensor of a model as float64 (other types unchanged). */
function toDouble(t: onnx.ITensorProto): void {
  if (t.dataType !== FLOAT) return;
  let values: Float32Array;
  if (t.rawData !== null && t.rawData !== undefined && t.rawData.length > 0) {
    const raw = t.rawData;
    values = new Float32Array(raw.length / 4);
    new Uint8Array(values.buffer).set(raw);
  } else {
    values = Float32Array.from(t.floatData ?? []);
  }
  t.dataType = DOUBLE;
  t.floatData = [];
  t.doubleData = [];
  t.rawData = new Uint8Array(new Float64Array(values).buffer);
}

/**
 * The model recast to float64: every float initializer, Constant and ConstantOfShape value, Cast to float and
 * float input, output and value_info becomes double. The result is the same function computed in float64 (the
 * weights are the float32 ones, widened), for lazygrad alone (ONNX Runtime runs several of these ops in float32 only).
 */
export function asFloat64(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  // The main graph and every subgraph (If branches, loop bodies), through an explicit stack.
  const graphs: onnx.IGraphProto[] = [model.graph as onnx.GraphProto];
  while (graphs.length > 0) {
    const graph = graphs.pop() as onnx.IGraphProto;
    for (const init of graph.initializer ?? []) toDouble(init);
    for (const node of graph.node ?? []) {
      for (const attr of node.attribute ?? []) {
        if (
          attr.t !== null &&
          attr.t !== undefined &&
          (node.opType === 'Constant' || node.opType === 'ConstantOfShape')
        )
          toDouble(attr.t);
        if (node.opType === 'Cast' && attr.name === 'to' && Number(attr.i) === FLOAT) attr.i = DOUBLE;
        if (attr.g !== null && attr.g !== undefined) graphs.push(attr.g);
      }
    }
    for (const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
      const tensorType = info.type?.tensorType;
      if (tensorType !== null && tensorType !== undefined && tensorType.elemType === FLOAT)
        tensorType.elemType = DOUBLE;
    }
  }
  return onnx.ModelProto.encode(model).finish();
}

/** The largest |a − b| and the largest |b|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

export interface GradientCheck {
  /** The largest |analytic − numeric| / |numeric| over the directions and pixels. */
  worst: number;
  /** Each direction's analytic and numeric directional derivative. */
  pairs: [number, number][];
}

/**
 * The gradient of L = Σ w ⊙ y (w fixed random weights) w.r.t. the input x, checked against central differences
 * (L(x + h·v) − L(x − h·v)) / 2h along random directions v and along single pixels. The graph must be float64.
 * Returns each pair (analytic, numeric).
 */
export function checkInputGradient(
  x: Tensor,
  y: Tensor,
  image: Float64Array,
  options: {
    shape: readonly number[];
    directions: number;
    pixels: readonly number[];
    /** The steps along a random direction (all pixels move, so a small one crosses fewer kinks) and one pixel. */
    hDirection: number;
    hPixel: number;
    seed: number;
    /** Values for the graph's other inputs (held fixed). */
    feeds?: ReadonlyMap<Tensor, NDArray>;
  },
): GradientCheck {
  const rng = new Rng(options.seed);
  const session = new Session(x.graph);
  const xShape = (x.shape as (number | null)[]).map((d, i) => d ?? options.shape[i]);
  const feed = (values: Float64Array): Map<Tensor, NDArray> =>
    new Map([...(options.feeds ?? []), [x, new NDArray(values, xShape)]]);
  const outShape = (session.run(y, feed(image)) as NDArray).shape;
  const size = outShape.reduce((p, d) => p * d, 1);
  const w = new NDArray(
    Float64Array.from({ length: size }, () => rng.uniform(-1, 1)),
    outShape,
  );
  const loss = sum(mul(y, w));
  const [grad] = gradients(loss, [x]);
  const run = (values: Float64Array): number => (session.run(loss, feed(values)) as NDArray).data[0];
  const g = (session.run(grad as Tensor, feed(image)) as NDArray).data;
  const steps: [Float64Array, number][] = [];
  for (let k = 0; k < options.directions; k++) {
    steps.push([Float64Array.from({ length: image.length }, () => rng.uniform(-1, 1)), options.hDirection]);
  }
  for (const p of options.pixels) {
    const v = new Float64Array(image.length);
    v[p] = 1;
    steps.push([v, options.hPixel]);
  }
  const pairs: [number, number][] = steps.map(([v, h]) => {
    let analytic = 0;
    for (let i = 0; i < v.length; i++) analytic += g[i] * v[i];
    const plus = image.map((e, i) => e + h * v[i]);
    const minus = image.map((e, i) => e - h * v[i]);
    return [analytic, (run(plus) - run(minus)) / (2 * h)];
  });
  const worst = Math.max(...pairs.map(([a, n]) => Math.abs(a - n) / Math.abs(n)));
  return { worst, pairs };
}
