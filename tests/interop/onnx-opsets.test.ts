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

const bools = (shape: number[]): NDArray => randomArray(rng, shape, 'bool');
const ints32 = NDArray.from([7, -7, 3, 0, -2, 5], 'int32');
const ints32b = NDArray.from([3, 3, -3, 2, -2, 5], 'int32');

/** Unary ops at the oldest version read (6, or the opset they appeared in) and at opset 13. */
const UNARY: readonly (readonly [string, number])[] = [
  ...['Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Tanh', 'Floor', 'Ceil', 'Sigmoid', 'Relu'].map(
    (op) => [op, 6] as const,
  ),
  ...['Elu', 'Selu', 'LeakyRelu', 'HardSigmoid'].map((op) => [op, 6] as const),
  ...['Softplus', 'Softsign', 'Identity'].map((op) => [op, 1] as const),
  ...['Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan'].map((op) => [op, 7] as const),
  ...['Sinh', 'Cosh', 'Asinh', 'Atanh', 'Erf', 'Sign'].map((op) => [op, 9] as const),
  ['Round', 11],
];

const CASES: readonly Case[] = [
  ...UNARY.flatMap(([op, opset]) =>
    [opset, 13].map((v): Case => ({ name: `${op} at opset ${v}`, opType: op, opset: v, inputs: [['x', positive]] })),
  ),
  { name: 'Acosh at opset 9', opType: 'Acosh', opset: 9, inputs: [['x', NDArray.from([1, 1.5, 4], 'float32')]] },
  { name: 'Not at opset 1', opType: 'Not', opset: 1, inputs: [['x', bools([3, 4])]] },
  { name: 'IsNaN at opset 9', opType: 'IsNaN', opset: 9, inputs: [['x', special]] },
  { name: 'IsInf at opset 10', opType: 'IsInf', opset: 10, inputs: [['x', special]] },
  // binary: numpy broadcasting from version 7
  ...['Add', 'Sub', 'Mul', 'Div'].flatMap((op) =>
    [7, 13, 14].map((v): Case => ({
      name: `${op} at opset ${v}`,
      opType: op,
      opset: v,
      inputs: [
        ['a', x234],
        ['b', y34],
      ],
    })),
  ),
  ...[7, 12, 13, 15].map((v): Case => ({
    name: `Pow at opset ${v}`,
    opType: 'Pow',
    opset: v,
    inputs: [
      ['a', positive],
      ['b', y34],
    ],
  })),
  // variadic: same shapes before opset 8, broadcasting from 8
  ...['Max', 'Min', 'Sum', 'Mean'].flatMap((op): Case[] => [
    {
      name: `${op} at opset 6`,
      opType: op,
      opset: 6,
      inputs: [
        ['a', x34],
        ['b', y34],
      ],
    },
    {
      name: `${op} at opset 8 broadcasting`,
      opType: op,
      opset: 8,
      inputs: [
        ['a', x234],
        ['b', y34],
        ['c', positive],
      ],
    },
  ]),
  {
    name: 'Equal of int32 at opset 7',
    opType: 'Equal',
    opset: 7,
    inputs: [
      ['a', ints32],
      ['b', ints32b],
    ],
  },
  {
    name: 'Equal of floats at opset 11',
    opType: 'Equal',
    opset: 11,
    inputs: [
      ['a', x34],
      ['b', x34],
    ],
  },
  ...['Greater', 'Less'].flatMap((op) =>
    [7, 9, 13].map((v): Case => ({
      name: `${op} at opset ${v}`,
      opType: op,
      opset: v,
      inputs: [
        ['a', x234],
        ['b', y34],
      ],
    })),
  ),
  ...['GreaterOrEqual', 'LessOrEqual'].map((op): Case => ({
    name: `${op} at opset 12`,
    opType: op,
    opset: 12,
    inputs: [
      ['a', x34],
      ['b', positive],
    ],
  })),
  ...['And', 'Or', 'Xor'].map((op): Case => ({
    name: `${op} at opset 7`,
    opType: op,
    opset: 7,
    inputs: [
      ['a', bools([3, 4])],
      ['b', bools([4])],
    ],
  })),
  {
    name: 'Mod at opset 10',
    opType: 'Mod',
    opset: 10,
    inputs: [
      ['a', ints32],
      ['b', ints32b],
    ],
  },
  {
    name: 'Where at opset 9',
    opType: 'Where',
    opset: 9,
    inputs: [
      ['c', bools([3, 4])],
      ['a', x34],
      ['b', y34],
    ],
  },
  {
    name: 'PRelu at opset 7',
    opType: 'PRelu',
    opset: 7,
    inputs: [
      ['x', x34],
      ['s', NDArray.from([0.1, 0.2, 0.3, 0.4], 'float32')],
    ],
  },
  {
    name: 'PRelu at opset 9',
    opType: 'PRelu',
    opset: 9,
    inputs: [
      ['x', x234],
      ['s', y34],
    ],
  },
  {
    name: 'PRelu at opset 16',
    opType: 'PRelu',
    opset: 16,
    inputs: [
      ['x', x234],
      ['s', y34],
    ],
  },
  // Clip: attributes before 11 (defaults: float32's limits, which infinities clamp to), inputs from 11
  { name: 'Clip at opset 6 without bounds', opType: 'Clip', opset: 6, inputs: [['x', special]] },
  {
    name: 'Clip at opset 6 with a max only',
    opType: 'Clip',
    opset: 6,
    inputs: [['x', special]],
    attrs: [float('max', 2)],
  },
  { name: 'Clip at opset 11 without bounds', opType: 'Clip', opset: 11, inputs: [['x', special]] },
  {
    name: 'Clip at opset 11 with a min only',
    opType: 'Clip',
    opset: 11,
    inputs: [['x', special], 'lo'],
    init: { lo: NDArray.from(-1, 'float32') },
  },
  {
    name: 'Clip at opset 12 with both bounds',
    opType: 'Clip',
    opset: 12,
    inputs: [['x', special], 'lo', 'hi'],
    init: { lo: NDArray.from(-1, 'float32'), hi: NDArray.from(3, 'float32') },
  },
  {
    name: 'Clip at opset 13 with a max only',
    opType: 'Clip',
    opset: 13,
    inputs: [['x', special], '', 'hi'],
    init: { hi: NDArray.from(3, 'float32') },
  },
  // Softmax/LogSoftmax: a 2-D view split at axis (default 1) before 13, one axis (default -1) from 13
  ...['Softmax', 'LogSoftmax'].flatMap((op): Case[] => [
    { name: `${op} at opset 1 with the default axis`, opType: op, opset: 1, inputs: [['x', x234]] },
    { name: `${op} at opset 11 along axis 0`, opType: op, opset: 11, inputs: [['x', x234]], attrs: [int('axis', 0)] },
    {
      name: `${op} at opset 11 along axis -2`,
      opType: op,
      opset: 11,
      inputs: [['x', x2345]],
      attrs: [int('axis', -2)],
    },
    { name: `${op} at opset 13 with the default axis`, opType: op, opset: 13, inputs: [['x', x234]] },
    { name: `${op} at opset 13 along axis 1`, opType: op, opset: 13, inputs: [['x', x234]], attrs: [int('axis', 1)] },
  ]),
  // Dropout: ratio attribute before 12, ratio and training_mode inputs from 12
  { name: 'Dropout at opset 7', opType: 'Dropout', opset: 7, inputs: [['x', x34]], attrs: [float('ratio', 0.3)] },
  { name: 'Dropout at opset 10', opType: 'Dropout', opset: 10, inputs: [['x', x34]], attrs: [float('ratio', 0.3)] },
  {
    name: 'Dropout at opset 12 with a ratio and training_mode false',
    opType: 'Dropout',
    opset: 12,
    inputs: [['x', x34], 'r', 't'],
    init: { r: NDArray.from(0.3, 'float32'), t: NDArray.from(false, 'bool') },
  },
  {
    name: 'Dropout at opset 13 in training mode with ratio 0',
    opType: 'Dropout',
    opset: 13,
    inputs: [['x', x34], 'r', 't'],
    init: { r: NDArray.from(0, 'float32'), t: NDArray.from(true, 'bool') },
  },
  { name: 'Cast at opset 6', opType: 'Cast', opset: 6, inputs: [['x', x34]], attrs: [int('to', 6)] },
  { name: 'Cast at opset 9', opType: 'Cast', opset: 9, inputs: [['x', ints32]], attrs: [int('to', 1)] },
  // shapes and movement
  { name: 'Shape at opset 1', opType: 'Shape', opset: 1, inputs: [['x', x234]] },
  { name: 'Shape at opset 15 with start', opType: 'Shape', opset: 15, inputs: [['x', x234]], attrs: [int('start', 1)] },
  { name: 'Size at opset 1', opType: 'Size', opset: 1, inputs: [['x', x234]] },
  {
    name: 'Reshape at opset 1 (shape attribute)',
    opType: 'Reshape',
    opset: 1,
    inputs: [['x', x234]],
    attrs: [ints('shape', [0, -1])],
  },
  { name: 'Reshape at opset 4', opType: 'Reshape', opset: 4, inputs: [['x', x234]], attrs: [ints('shape', [4, 6])] },
  {
    name: 'Reshape at opset 5 (shape input)',
    opType: 'Reshape',
    opset: 5,
    inputs: [['x', x234], 's'],
    init: { s: [0, 2, -1] },
  },
  {
    name: 'Reshape at opset 14 with allowzero',
    opType: 'Reshape',
    opset: 14,
    inputs: [['x', x234], 's'],
    init: { s: [6, 4] },
    attrs: [int('allowzero', 1)],
  },
  { name: 'Flatten at opset 1', opType: 'Flatten', opset: 1, inputs: [['x', x234]] },
  { name: 'Flatten at opset 9 at axis 0', opType: 'Flatten', opset: 9, inputs: [['x', x234]], attrs: [int('axis', 0)] },
  {
    name: 'Flatten at opset 11 at axis -1',
    opType: 'Flatten',
    opset: 11,
    inputs: [['x', x234]],
    attrs: [int('axis', -1)],
  },
  { name: 'Expand at opset 8', opType: 'Expand', opset: 8, inputs: [['x', b3()], 's'], init: { s: [2, 3, 1] } },
  { name: 'ConstantOfShape at opset 9', opType: 'ConstantOfShape', opset: 9, inputs: ['s'], init: { s: [2, 2] } },
  {
    name: 'Transpose at opset 1',
    opType: 'Transpose',
    opset: 1,
    inputs: [['x', x234]],
    attrs: [ints('perm', [1, 2, 0])],
  },
  { name: 'Unsqueeze at opset 1', opType: 'Unsqueeze', opset: 1, inputs: [['x', x34]], attrs: [ints('axes', [1])] },
  {
    name: 'Unsqueeze at opset 11 with a negative axis',
    opType: 'Unsqueeze',
    opset: 11,
    inputs: [['x', x34]],
    attrs: [ints('axes', [-1])],
  },
  {
    name: 'Unsqueeze at opset 13 (axes input)',
    opType: 'Unsqueeze',
    opset: 13,
    inputs: [['x', x34], 'a'],
    init: { a: [0, -1] },
  },
  {
    name: 'Squeeze at opset 1 of an axis',
    opType: 'Squeeze',
    opset: 1,
    inputs: [['x', x134()]],
    attrs: [ints('axes', [0])],
  },
  { name: 'Squeeze at opset 11 of every size-1 dim', opType: 'Squeeze', opset: 11, inputs: [['x', x134()]] },
  {
    name: 'Squeeze at opset 13 (axes input)',
    opType: 'Squeeze',
    opset: 13,
    inputs: [['x', x134()], 'a'],
    init: { a: [-3] },
  },
  {
    name: 'Concat at opset 4',
    opType: 'Concat',
    opset: 4,
    inputs: [
      ['a', x34],
      ['b', y34],
    ],
    attrs: [int('axis', 1)],
  },
  {
    name: 'Concat at opset 11 with a negative axis',
    opType: 'Concat',
    opset: 11,
    inputs: [
      ['a', x34],
      ['b', y34],
    ],
    attrs: [int('axis', -2)],
  },
  {
    name: 'Split at opset 2 with the split attribute',
    opType: 'Split',
    opset: 2,
    inputs: [['x', x234]],
    attrs: [int('axis', 2), ints('split', [3, 1])],
    outputs: 2,
  },
  {
    name: 'Split at opset 2 in equal parts',
    opType: 'Split',
    opset: 2,
    inputs: [['x', x234]],
    attrs: [int('axis', 2)],
    outputs: 2,
  },
  {
    name: 'Split at opset 11 with a negative axis',
    opType: 'Split',
    opset: 11,
    inputs: [['x', x234]],
    attrs: [int('axis', -1), ints('split', [1, 3])],
    outputs: 2,
  },
  {
    name: 'Split at opset 13 (split input)',
    opType: 'Split',
    opset: 13,
    inputs: [['x', x234], 's'],
    init: { s: [2, 1] },
    attrs: [int('axis', 1)],
    outputs: 2,
  },
  {
    name: 'Split at opset 18 with num_outputs',
    opType: 'Split',
    opset: 18,
    inputs: [['x', x234]],
    attrs: [int('axis', 1), int('num_outputs', 2)],
    outputs: 2,
  },
  {
    name: 'Slice at opset 1 without axes',
    opType: 'Slice',
    opset: 1,
    inputs: [['x', x234]],
    attrs: [ints('starts', [1, 0]), ints('ends', [2, 2])],
  },
  {
    name: 'Slice at opset 9 with large ends',
    opType: 'Slice',
    opset: 9,
    inputs: [['x', x234]],
    attrs: [ints('starts', [-2]), ints('ends', [2 ** 40]), ints('axes', [-1])],
  },
  {
    name: 'Slice at opset 10 (inputs, steps)',
    opType: 'Slice',
    opset: 10,
    inputs: [['x', x234], 's', 'e', 'a', 'st'],
    init: { s: [3], e: [0], a: [2], st: [-2] },
  },
  {
    name: 'Slice at opset 13',
    opType: 'Slice',
    opset: 13,
    inputs: [['x', x234], 's', 'e'],
    init: { s: [1, 1], e: [2, 3] },
  },
  {
    name: 'Gather at opset 1',
    opType: 'Gather',
    opset: 1,
    inputs: [['x', x234], 'i'],
    init: { i: [2, 0] },
    attrs: [int('axis', 1)],
  },
  {
    name: 'Gather at opset 13 with a negative index',
    opType: 'Gather',
    opset: 13,
    inputs: [['x', x234], 'i'],
    init: { i: [-1, 0] },
  },
  { name: 'Tile at opset 6', opType: 'Tile', opset: 6, inputs: [['x', x34], 'r'], init: { r: [1, 2] } },
  { name: 'Tile at opset 13', opType: 'Tile', opset: 13, inputs: [['x', x34], 'r'], init: { r: [2, 1] } },
  // Pad: pads and value attributes before 11, inputs from 11
  {
    name: 'Pad at opset 2 (attributes)',
    opType: 'Pad',
    opset: 2,
    inputs: [['x', x34]],
    attrs: [ints('pads', [1, 0, 0, 2]), float('value', 1.5)],
  },
  {
    name: 'Pad at opset 2 without a value',
    opType: 'Pad',
    opset: 2,
    inputs: [['x', x34]],
    attrs: [ints('pads', [0, 1, 2, 0])],
  },
  {
    name: 'Pad at opset 11 (inputs)',
    opType: 'Pad',
    opset: 11,
    inputs: [['x', x34], 'p', 'v'],
    init: { p: [1, 0, 0, 2], v: NDArray.from(2, 'float32') },
  },
  {
    name: 'Pad at opset 13 without a value',
    opType: 'Pad',
    opset: 13,
    inputs: [['x', x34], 'p'],
    init: { p: [0, 1, 1, 0] },
  },
  ...['reflect', 'edge'].flatMap((mode): Case[] => [
    {
      name: `Pad at opset 2 in ${mode} mode`,
      opType: 'Pad',
      opset: 2,
      inputs: [['x', x34]],
      attrs: [
        ints('pads', [2, 1, 1, 3]),
        { name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode(mode) },
      ],
    },
    {
      name: `Pad at opset 18 in ${mode} mode of some axes`,
      opType: 'Pad',
      opset: 18,
      inputs: [['x', x234], 'p', '', 'a'],
      init: { p: [1, 2, 2, 0], a: [2, -2] },
      attrs: [{ name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode(mode) }],
    },
  ]),
  {
    name: 'Pad at opset 19 in wrap mode',
    opType: 'Pad',
    opset: 19,
    inputs: [['x', x34], 'p'],
    init: { p: [1, 2, 2, 3] },
    attrs: [{ name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode('wrap') }],
  },
  {
    name: 'Pad at opset 13 with negative pads (cropping) and a value',
    opType: 'Pad',
    opset: 13,
    inputs: [['x', x34], 'p', 'v'],
    init: { p: [-1, 2, 1, -2], v: NDArray.from(3, 'float32') },
  },
  // OneHot: negative indices count from the end from opset 11
  {
    name: 'OneHot at opset 9',
    opType: 'OneHot',
    opset: 9,
    inputs: ['i', 'd', 'v'],
    init: { i: [0, 2, 1], d: 3, v: NDArray.from([0, 5], 'float32') },
  },
  {
    name: 'OneHot at opset 10 with a negative index',
    opType: 'OneHot',
    opset: 10,
    inputs: ['i', 'd', 'v'],
    init: { i: [0, -1, 1], d: 3, v: NDArray.from([0, 5], 'float32') },
  },
  {
    name: 'OneHot at opset 11 with a negative index',
    opType: 'OneHot',
    opset: 11,
    inputs: ['i', 'd', 'v'],
    init: { i: [0, -1, 1], d: 3, v: NDArray.from([0, 5], 'float32') },
  },
  ...[0, 1, -2].map((axis): Case => ({
    name: `OneHot at opset 11 along axis ${axis}`,
    opType: 'OneHot',
    opset: 11,
    inputs: ['i', 'd', 'v'],
    init: { i: [0, 2, -1, 1], d: 3, v: NDArray.from([-1, 4], 'float32') },
    attrs: [int('axis', axis)],
  })),
  {
    name: 'CumSum at opset 11',
    opType: 'CumSum',
    opset: 11,
    inputs: [['x', x34], 'a'],
    init: { a: 0 },
    attrs: [int('exclusive', 1)],
  },
  // reductions: axes attribute before 13 (ReduceSum) or 18 (the others), input after
  { name: 'ReduceSum at opset 1', opType: 'ReduceSum', opset: 1, inputs: [['x', x234]], attrs: [ints('axes', [1])] },
  {
    name: 'ReduceSum at opset 11 with a negative axis',
    opType: 'ReduceSum',
    opset: 11,
    inputs: [['x', x234]],
    attrs: [ints('axes', [-1]), int('keepdims', 0)],
  },
  {
    name: 'ReduceSum at opset 13 (axes input)',
    opType: 'ReduceSum',
    opset: 13,
    inputs: [['x', x234], 'a'],
    init: { a: [0, 2] },
  },
  { name: 'ReduceSum at opset 13 without axes', opType: 'ReduceSum', opset: 13, inputs: [['x', x234]] },
  ...[
    'ReduceMean',
    'ReduceMax',
    'ReduceMin',
    'ReduceProd',
    'ReduceLogSumExp',
    'ReduceSumSquare',
    'ReduceL1',
    'ReduceL2',
  ].flatMap((op): Case[] => [
    { name: `${op} at opset 1`, opType: op, opset: 1, inputs: [['x', x234]], attrs: [ints('axes', [0, 2])] },
    {
      name: `${op} at opset 13`,
      opType: op,
      opset: 13,
      inputs: [['x', x234]],
      attrs: [ints('axes', [-1]), int('keepdims', 0)],
    },
    { name: `${op} at opset 18 (axes input)`, opType: op, opset: 18, inputs: [['x', x234], 'a'], init: { a: [1] } },
    {
      name: `${op} at opset 18 without axes`,
      opType: op,
      opset: 18,
      inputs: [['x', x234]],
      attrs: [int('keepdims', 0)],
    },
  ]),
  { name: 'ArgMax at opset 1', opType: 'ArgMax', opset: 1, inputs: [['x', x234]], attrs: [int('axis', 1)] },
  {
    name: 'ArgMin at opset 11 with a negative axis',
    opType: 'ArgMin',
    opset: 11,
    inputs: [['x', x234]],
    attrs: [int('axis', -1), int('keepdims', 0)],
  },
  { name: 'ArgMax at opset 13', opType: 'ArgMax', opset: 13, inputs: [['x', x234]] },
  ...['ArgMax', 'ArgMin'].flatMap((op): Case[] =>
    [0, 1].map((last) => ({
      name: `${op} at opset 12 with select_last_index=${last} and ties`,
      opType: op,
      opset: 12,
      inputs: [
        [
          'x',
          NDArray.from(
            [
              [1, 3, 3, 0],
              [2, 2, -1, -1],
              [5, 5, 5, 5],
            ],
            'float32',
          ),
        ],
      ],
      attrs: [int('axis', 1), int('select_last_index', last)],
    })),
  ),
  // linear algebra and nn
  {
    name: 'MatMul at opset 1',
    opType: 'MatMul',
    opset: 1,
    inputs: [
      ['a', x234],
      ['b', new NDArray(y34.data, [4, 3])],
    ],
  },
  {
    name: 'Gemm at opset 7 with C broadcast',
    opType: 'Gemm',
    opset: 7,
    inputs: [
      ['a', x34],
      ['b', y34],
      ['c', b3()],
    ],
    attrs: [int('transB', 1), float('beta', 0.5)],
  },
  {
    name: 'Gemm at opset 9',
    opType: 'Gemm',
    opset: 9,
    inputs: [
      ['a', x34],
      ['b', y34],
      ['c', NDArray.from([1, 2, 3, 4], 'float32')],
    ],
    attrs: [int('transA', 1), float('alpha', 2)],
  },
  {
    name: 'Gemm at opset 11 without C',
    opType: 'Gemm',
    opset: 11,
    inputs: [
      ['a', x34],
      ['b', y34],
    ],
    attrs: [int('transB', 1)],
  },
  ...[7, 9, 14, 15].map((v): Case => batchNorm(`BatchNormalization at opset ${v}`, v, 3)),
  batchNorm('BatchNormalization at opset 7 with spatial=0', 7, [3, 4], [int('spatial', 0)]),
  { ...batchNorm('BatchNormalization at opset 14 in training mode', 14, 3, [int('training_mode', 1)]), outputs: 3 },
  {
    ...batchNorm('BatchNormalization at opset 15 in training mode', 15, 3, [
      int('training_mode', 1),
      float('momentum', 0.7),
    ]),
    outputs: 3,
  },
];

function b3(): NDArray {
  return NDArray.from([0.5, -1, 2], 'float32');
}

function x134(): NDArray {
  return randomArray(new Rng(3), [1, 3, 4], 'float32');
}

function batchNorm(name: string, opset: number, stat: number | number[], attrs: Attr[] = []): Case {
  const shape = typeof stat === 'number' ? [stat] : stat;
  const r = new Rng(opset);
  return {
    name,
    opType: 'BatchNormalization',
    opset,
    inputs: [
      ['x', x234],
      ['s', randomArray(r, shape, 'float32')],
      ['b', randomArray(r, shape, 'float32')],
      ['m', randomArray(r, shape, 'float32')],
      ['v', randomArray(r, shape, 'float32', { lo: 0.5, hi: 2 })],
    ],
    attrs: [float('epsilon', 1e-3), ...attrs],
  };
}

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test('imported, it computes what ONNX Runtime computes', async () => {
    await expectAsOrt(c);
  });
});

test('a Softmax before opset 13 of an input with an unknown batch dim computes what ONNX Runtime computes', async () => {
  const bytes = model({ name: 'sym', opType: 'Softmax', opset: 11, inputs: [['x', x234]], attrs: [int('axis', 1)] });
  const changed = onnx.ModelProto.decode(bytes);
  const dims = changed.graph?.input?.[0].type?.tensorType?.shape?.dim ?? [];
  dims[0] = { dimParam: 'batch' };
  const symbolic = onnx.ModelProto.encode(changed).finish();
  const expected = (await runOrt(symbolic, new Map([['x', x234]]))).get('y0') as NDArray;
  const imported = importOnnx(symbolic);
  expect(imported.inputs.get('x')?.shape).toEqual([null, 3, 4]);
  const [actual] = new Session(imported.graph).run(
    imported.outputs,
    new Map([[imported.inputs.get('x') as Tensor, x234]]),
  );
  expectClose(actual, expected, 2e-6);
});

describe('versions ONNX Runtime does not run are a GraphError naming the op and its version', () => {
  const refused: readonly (readonly [Case, RegExp])[] = [
    [
      {
        name: 'add6',
        opType: 'Add',
        opset: 6,
        inputs: [
          ['a', x34],
          ['b', y34],
        ],
        attrs: [int('broadcast', 0)],
      },
      /node 'n' \(Add\): Add version 6 \(the model's opset 6\) is not supported.*from version 7/,
    ],
    [
      {
        name: 'add1',
        opType: 'Add',
        opset: 3,
        inputs: [
          ['a', x34],
          ['b', y34],
        ],
      },
      /Add version 1 \(the model's opset 3\)/,
    ],
    [
      {
        name: 'concat3',
        opType: 'Concat',
        opset: 3,
        inputs: [
          ['a', x34],
          ['b', y34],
        ],
        attrs: [int('axis', 0)],
      },
      /Concat version 1 \(the model's opset 3\) is not supported.*from version 4/,
    ],
    [
      {
        name: 'gemm6',
        opType: 'Gemm',
        opset: 6,
        inputs: [
          ['a', x34],
          ['b', new NDArray(y34.data, [4, 3])],
          ['c', b3()],
        ],
      },
      /Gemm version 6/,
    ],
    [
      { name: 'clip1', opType: 'Clip', opset: 5, inputs: [['x', x34]], attrs: [float('min', 0)] },
      /Clip version 1 \(the model's opset 5\).*from version 6/,
    ],
    [
      {
        name: 'where8',
        opType: 'Where',
        opset: 8,
        inputs: [
          ['c', bools([3, 4])],
          ['a', x34],
          ['b', y34],
        ],
      },
      /Where does not exist at opset 8 \(it is new in opset 9\)/,
    ],
  ];
  test.each(refused.map(([c, message]) => [c.name, c, message] as const))('%s', async (_name, c, message) => {
    const bytes = model(c);
    await expect(
      runOrt(bytes, new Map(c.inputs.filter((i): i is [string, NDArray] => typeof i !== 'string'))),
    ).rejects.toThrow();
    expect(() => importOnnx(bytes)).toThrow(GraphError);
    expect(() => importOnnx(bytes)).toThrow(message);
  });
});

test('a Dropout in training mode of a known input is not evaluated while importing: it drops at run time', () => {
  const x = NDArray.from([1, 2, 3, 4, 5, 6, 7, 8], 'float32');
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      node: [
        {
          opType: 'Constant',
          output: ['x'],
          attribute: [
            { name: 'value', type: AttributeType.TENSOR, t: { dims: [8], dataType: 1, floatData: Array.from(x.data) } },
          ],
        },
        {
          opType: 'Constant',
          output: ['r'],
          attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { dims: [], dataType: 1, floatData: [0.5] } }],
        },
        {
          opType: 'Constant',
          output: ['t'],
          attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { dims: [], dataType: 9, int32Data: [1] } }],
        },
        { opType: 'Dropout', input: ['x', 'r', 't'], output: ['y'] },
      ],
      output: [{ name: 'y' }],
    },
  }).finish();
  const imported = importOnnx(bytes);
  expect(imported.outputs[0].node.op).not.toBe('constant');
  const [y] = new Session(imported.graph).run(imported.outputs, new Map());
  Array.from(y.data).forEach((v, i) => expect([0, 2 * x.data[i]]).toContain(v));
});
