/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Every version of the ONNX ops importOnnx reads, as ONNX Runtime runs them: a node uses the newest version of its
 * op at or below the model's opset, so a one-node model at each opset where an op changed is run in ONNX Runtime and
 * imported, with the same results. Versions ONNX Runtime does not run are a GraphError naming the op and version.
 */
import { onnx } from 'onnx-proto';
import { GraphError, importOnnx, NDArray, Session, Tensor } from '../../src';
import { expectClose, randomArray, Rng } from '../ops/util';
import { runOrt } from './ort';

const AttributeType = onnx.AttributeProto.AttributeType;
type Attr = onnx.IAttributeProto;
const int = (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i });
const ints = (name: string, values: number[]): Attr => ({ name, type: AttributeType.INTS, ints: values });
const float = (name: string, f: number): Attr => ({ name, type: AttributeType.FLOAT, f });

const ONNX_TYPE = { float32: 1, float64: 11, int32: 6, bool: 9 } as const;

interface Case {
  readonly name: string;
  readonly opType: string;
  readonly opset: number;
  /** Fed inputs as [name, value], or the name of an initializer ('' for an absent input). */
  readonly inputs: readonly (readonly [string, NDArray] | string)[];
  /** Initializers: int64 numbers (shapes, axes) or NDArrays (float32/bool data). */
  readonly init?: { readonly [name: string]: readonly number[] | number | NDArray };
  readonly attrs?: readonly Attr[];
  readonly outputs?: number;
}

const rng = new Rng(15);
const x234 = randomArray(rng, [2, 3, 4], 'float32');
const x34 = randomArray(rng, [3, 4], 'float32');
const y34 = randomArray(rng, [3, 4], 'float32');
const x2345 = randomArray(rng, [2, 3, 4, 5], 'float32');
const positive = randomArray(rng, [3, 4], 'float32', { lo: 0.1, hi: 0.9 });
const special = NDArray.from([Infinity, -Infinity, 1e30, -2, 0.5, 7], 'float32');

function model(c: Case): Uint8Array {
  const inputNames = c.inputs.map((i) => (typeof i === 'string' ? i : i[0]));
  const fed = c.inputs.filter((i): i is readonly [string, NDArray] => typeof i !== 'string');
  const outputs = Array.from({ length: c.outputs ?? 1 }, (_, k) => `y${k}`);
  const initializer = Object.entries(c.init ?? {}).map(([name, value]): onnx.ITensorProto => {
    if (value instanceof NDArray) {
      return value.dtype === 'bool'
        ? { name, dims: [...value.shape], dataType: 9, int32Data: Array.from(value.data) }
        : { name, dims: [...value.shape], dataType: 1, floatData: Array.from(value.data) };
    }
    const list = typeof value === 'number' ? [value] : [...(value as readonly number[])];
    return { name, dims: typeof value === 'number' ? [] : [list.length], dataType: 7, int64Data: list };
  });
  const proto: onnx.IModelProto = {
    // IR version 3 is the one of opsets up to 8; later opsets need later IR versions.
    irVersion: c.opset <= 8 ? 3 : 8,
    producerName: 'hand-written',
    opsetImport: [{ domain: '', version: c.opset }],
    graph: {
      name: c.name,
      node: [{ opType: c.opType, input: inputNames, output: outputs, attribute: [...(c.attrs ?? [])], name: 'n' }],
      initializer,
      input: fed.map(([name, v]) => ({
        name,
        type: { tensorType: { elemType: ONNX_TYPE[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
      })),
      output: outputs.map((name) => ({ name })),
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

async function expectAsOrt(c: Case): Promise<void> {
  const bytes = model(c);
  const fed = c.inputs.filter((i): i is readonly [string, NDArray] => typeof i !== 'string');
  const expected = await runOrt(bytes, new Map(fed));
  const imported = importOnnx(bytes);
  const feeds = new Map(fed.map(([name, v]) => [imported.inputs.get(name) as Tensor, v]));
  const actual = new Session(imported.graph).run(imported.outputs, feeds);
  imported.outputNames.forEach((name, k) => {
    const want = expected.get(name) as NDArray;
    expect(actual[k].dtype).toBe(want.dtype);
    expectClose(actual[k], want, 2e-6, `${c.name} ${name}`);
  });
}

describe('the repros of issue 15', () => {
  test('Clip before opset 11 clamps to its min and max attributes', async () => {
    await expectAsOrt({
      name: 'clip6',
      opType: 'Clip',
      opset: 6,
      inputs: [['x', x234]],
      attrs: [float('min', -0.25), float('max', 0.3)],
    });
  });
  test('Clip at opset 10 (an OCR model) clamps to its attributes, not reading as identity', async () => {
    await expectAsOrt({
      name: 'clip10',
      opType: 'Clip',
      opset: 10,
      inputs: [['x', x234]],
      attrs: [float('min', 0), float('max', 0.5)],
    });
  });
  test('Slice before opset 10 reads its starts, ends and axes attributes', async () => {
    await expectAsOrt({
      name: 'slice1',
      opType: 'Slice',
      opset: 1,
      inputs: [['x', x234]],
      attrs: [ints('starts', [1, -3]), ints('ends', [1000, -1]), ints('axes', [1, 2])],
    });
  });
  test('a model of opset 6 is imported', async () => {
    await expectAsOrt({ name: 'relu6', opType: 'Relu', opset: 6, inputs: [['x', x234]] });
  });
});
