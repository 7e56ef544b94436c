/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Importing ONNX ops as other tools write them: one-node models built directly with the ONNX schema, each run in
 * ONNX Runtime and imported by ONNX semantics, with the same results.
 */
import { onnx } from 'onnx-proto';
import { importOnnx, NDArray, Session, Tensor } from '../../src';
import { expectClose, randomArray, Rng } from '../ops/util';
import { runOrt } from './ort';

const AttributeType = onnx.AttributeProto.AttributeType;
type Attr = onnx.IAttributeProto;
const int = (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i });
const ints = (name: string, values: number[]): Attr => ({ name, type: AttributeType.INTS, ints: values });
const float = (name: string, f: number): Attr => ({ name, type: AttributeType.FLOAT, f });
const floats = (name: string, values: number[]): Attr => ({ name, type: AttributeType.FLOATS, floats: values });

const ONNX_TYPE = { float32: 1, float64: 11, int32: 6, bool: 9 } as const;

interface Case {
  readonly name: string;
  readonly opType: string;
  /** Fed inputs (graph inputs) as [name, value], or the name of an int64 initializer ('' for an absent input). */
  readonly inputs: readonly (readonly [string, NDArray] | string)[];
  /** float32 initializers by name. */
  readonly floats?: { readonly [name: string]: NDArray };
  /** int64 initializers (shapes, axes, indices) by name. */
  readonly int64?: { readonly [name: string]: readonly number[] | readonly number[][] | number };
  readonly attrs?: readonly Attr[];
  readonly outputs?: number;
  readonly opset?: number;
}

const rng = new Rng(61);
const x234 = randomArray(rng, [2, 3, 4], 'float32');
const x34 = randomArray(rng, [3, 4], 'float32');
const y34 = randomArray(rng, [3, 4], 'float32');
const b4 = randomArray(rng, [4], 'float32');
const bools = (shape: number[]): NDArray => randomArray(rng, shape, 'bool');
const withInfinities = NDArray.from([Infinity, -Infinity, NaN, 1, -2, 0], 'float32');

const CASES: readonly Case[] = [
  {
    name: 'Mean of three inputs',
    opType: 'Mean',
    inputs: [
      ['a', x34],
      ['b', y34],
      ['c', b4],
    ],
  },
  {
    name: 'Sum broadcasting',
    opType: 'Sum',
    inputs: [
      ['a', x234],
      ['b', b4],
    ],
  },
  {
    name: 'Max of three inputs',
    opType: 'Max',
    inputs: [
      ['a', x34],
      ['b', y34],
      ['c', b4],
    ],
  },
  {
    name: 'Xor',
    opType: 'Xor',
    inputs: [
      ['a', bools([3, 4])],
      ['b', bools([4])],
    ],
  },
  {
    name: 'IsInf of negatives only',
    opType: 'IsInf',
    inputs: [['x', withInfinities]],
    attrs: [int('detect_positive', 0)],
  },
  { name: 'Softsign', opType: 'Softsign', inputs: [['x', x234]] },
  { name: 'Elu with alpha 0.5', opType: 'Elu', inputs: [['x', x234]], attrs: [float('alpha', 0.5)] },
  { name: 'Selu with the default constants', opType: 'Selu', inputs: [['x', x234]] },
  {
    name: 'Selu with other constants',
    opType: 'Selu',
    inputs: [['x', x234]],
    attrs: [float('alpha', 1.5), float('gamma', 2)],
  },
  {
    name: 'HardSigmoid',
    opType: 'HardSigmoid',
    inputs: [['x', x234]],
    attrs: [float('alpha', 0.3), float('beta', 0.4)],
  },
  { name: 'LeakyRelu with the default alpha', opType: 'LeakyRelu', inputs: [['x', x234]] },
  {
    name: 'Clip with only a minimum',
    opType: 'Clip',
    inputs: [
      ['x', x234],
      ['lo', NDArray.from(-0.2, 'float32')],
    ],
  },
  {
    name: 'Clip with tensor bounds',
    opType: 'Clip',
    inputs: [
      ['x', x34],
      ['lo', NDArray.from(-0.3, 'float32')],
      ['hi', NDArray.from(0.4, 'float32')],
    ],
  },
  { name: 'Dropout at inference', opType: 'Dropout', inputs: [['x', x34]] },
  { name: 'Flatten at axis 2', opType: 'Flatten', inputs: [['x', x234]], attrs: [int('axis', 2)] },
  { name: 'Split into two outputs', opType: 'Split', inputs: [['x', x234]], attrs: [int('axis', 2)], outputs: 2 },
  {
    name: 'Split with sizes',
    opType: 'Split',
    inputs: [['x', x234], 'sizes'],
    int64: { sizes: [1, 3] },
    attrs: [int('axis', 2)],
    outputs: 2,
  },
  {
    name: 'Slice with axes and negative steps',
    opType: 'Slice',
    inputs: [['x', x234], 'starts', 'ends', 'axes', 'steps'],
    int64: { starts: [-1, 2], ends: [-1e18, 0], axes: [2, 1], steps: [-2, -1] },
  },
  {
    name: 'Gather of negative indices',
    opType: 'Gather',
    inputs: [['x', x234], 'idx'],
    int64: {
      idx: [
        [-1, 0],
        [1, -2],
      ],
    },
    attrs: [int('axis', 2)],
  },
  {
    name: 'Pad of some axes with a value',
    opType: 'Pad',
    opset: 18,
    inputs: [['x', x234], 'pads', 'value', 'axes'],
    int64: { pads: [1, 0, 2, 1], axes: [0, 2] },
    floats: { value: NDArray.from(9, 'float32') },
  },
  {
    name: 'OneHot with a negative index',
    opType: 'OneHot',
    inputs: ['idx', 'depth', 'values'],
    int64: { idx: [0, 2, -1, 1], depth: 3 },
    floats: { values: NDArray.from([-1, 3], 'float32') },
  },
  {
    name: 'ReduceMean',
    opType: 'ReduceMean',
    inputs: [['x', x234]],
    attrs: [ints('axes', [0, 2]), int('keepdims', 0)],
  },
  { name: 'ReduceSumSquare', opType: 'ReduceSumSquare', inputs: [['x', x234]], attrs: [ints('axes', [1])] },
  { name: 'ReduceL1', opType: 'ReduceL1', inputs: [['x', x234]], attrs: [ints('axes', [2])] },
  { name: 'ReduceL2 of all axes', opType: 'ReduceL2', inputs: [['x', x234]], attrs: [int('keepdims', 0)] },
  {
    name: 'ReduceSum with noop for no axes',
    opType: 'ReduceSum',
    inputs: [['x', x234]],
    attrs: [int('noop_with_empty_axes', 1)],
  },
  { name: 'ArgMax keeping dims', opType: 'ArgMax', inputs: [['x', x234]], attrs: [int('axis', -1)] },
  { name: 'Squeeze of every size-1 dim', opType: 'Squeeze', inputs: [['x', randomArray(rng, [1, 3, 1], 'float32')]] },
  {
    name: 'Unsqueeze before opset 13',
    opType: 'Unsqueeze',
    opset: 11,
    inputs: [['x', x34]],
    attrs: [ints('axes', [0, 3])],
  },
  { name: 'Transpose reversing dims', opType: 'Transpose', inputs: [['x', x234]] },
  {
    name: 'Expand both ways',
    opType: 'Expand',
    inputs: [['x', randomArray(rng, [3, 1], 'float32')], 'shape'],
    int64: { shape: [1, 4] },
  },
  { name: 'Tile', opType: 'Tile', inputs: [['x', x34], 'reps'], int64: { reps: [2, 1] } },
  {
    name: 'CumSum reversed',
    opType: 'CumSum',
    inputs: [['x', x34], 'axis'],
    int64: { axis: 1 },
    attrs: [int('reverse', 1)],
  },
  {
    name: 'Where',
    opType: 'Where',
    inputs: [
      ['c', bools([3, 4])],
      ['a', x34],
      ['b', b4],
    ],
  },
  {
    name: 'ConstantOfShape with a value',
    opType: 'ConstantOfShape',
    inputs: ['shape'],
    int64: { shape: [2, 3] },
    attrs: [{ name: 'value', type: AttributeType.TENSOR, t: { dims: [1], dataType: 1, floatData: [2.5] } }],
  },
  { name: 'Constant of value_floats', opType: 'Constant', inputs: [], attrs: [floats('value_floats', [1, -2, 3.5])] },
  {
    name: 'Softmax before opset 13 along the last axis',
    opType: 'Softmax',
    opset: 11,
    inputs: [['x', x34]],
    attrs: [int('axis', 1)],
  },
  {
    name: 'Gemm with alpha, beta and C',
    opType: 'Gemm',
    inputs: [
      ['a', randomArray(rng, [4, 3], 'float32')],
      ['b', randomArray(rng, [4, 4], 'float32')],
      ['c', b4],
    ],
    attrs: [int('transA', 1), float('alpha', 0.5), float('beta', 2)],
  },
  {
    name: 'MatMul of a vector and a matrix',
    opType: 'MatMul',
    inputs: [
      ['a', randomArray(rng, [3], 'float32')],
      ['b', x34],
    ],
  },
  {
    name: 'MatMul of a batch and a vector',
    opType: 'MatMul',
    inputs: [
      ['a', x234],
      ['b', b4],
    ],
  },
  { name: 'Cast to int64', opType: 'Cast', inputs: [['x', x34]], attrs: [int('to', 7)] },
  {
    name: 'Mod of integers (floor)',
    opType: 'Mod',
    inputs: [
      ['a', NDArray.from([7, -7, 7, -7], 'int32')],
      ['b', NDArray.from([3, 3, -3, -3], 'int32')],
    ],
  },
  {
    name: 'Mod of floats (fmod)',
    opType: 'Mod',
    inputs: [
      ['a', x34],
      ['b', NDArray.from(0.3, 'float32')],
    ],
    attrs: [int('fmod', 1)],
  },
  {
    name: 'BatchNormalization of an image batch',
    opType: 'BatchNormalization',
    inputs: [
      ['x', x234],
      ['s', randomArray(rng, [3], 'float32')],
      ['b', randomArray(rng, [3], 'float32')],
      ['m', randomArray(rng, [3], 'float32')],
      ['v', randomArray(rng, [3], 'float32', { lo: 0.5, hi: 2 })],
    ],
    attrs: [float('epsilon', 1e-3)],
  },
];

/** A one-node model: fed inputs as graph inputs, int64 parameters as initializers. */
function model(c: Case): Uint8Array {
  const int64 = c.int64 ?? {};
  const inputNames = c.inputs.map((i) => (typeof i === 'string' ? i : i[0]));
  const fed = c.inputs.filter((i): i is readonly [string, NDArray] => typeof i !== 'string');
  const outputs = Array.from({ length: c.outputs ?? 1 }, (_, k) => `y${k}`);
  const floatInitializers = Object.entries(c.floats ?? {}).map(([name, v]) => ({
    name,
    dims: [...v.shape],
    dataType: 1,
    floatData: Array.from(v.data),
  }));
  const initializer = Object.entries(int64).map(([name, value]) => {
    const rows = typeof value === 'number' ? null : (value as readonly (number | readonly number[])[]);
    const flat = rows === null ? [value as number] : rows.flat();
    const dims =
      rows === null
        ? []
        : Array.isArray(rows[0])
          ? [rows.length, (rows[0] as readonly number[]).length]
          : [rows.length];
    return { name, dims, dataType: 7, int64Data: flat };
  });
  const proto: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'hand-written',
    opsetImport: [{ domain: '', version: c.opset ?? 17 }],
    graph: {
      name: c.name,
      node: [
        { opType: c.opType, input: inputNames, output: outputs, attribute: [...(c.attrs ?? [])], name: 'the-node' },
      ],
      initializer: [...initializer, ...floatInitializers],
      input: fed.map(([name, v]) => ({
        name,
        type: { tensorType: { elemType: ONNX_TYPE[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
      })),
      output: outputs.map((name) => ({ name })),
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test('imported, it computes what ONNX Runtime computes', async () => {
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
  });
});

test('an int64 input becomes an int32 placeholder', () => {
  const bytes = model({ name: 'cast', opType: 'Identity', inputs: [['x', NDArray.from([1, 2], 'int32')]] });
  const changed = onnx.ModelProto.decode(bytes);
  const input = changed.graph?.input?.[0];
  if (input?.type?.tensorType) input.type.tensorType.elemType = 7;
  const imported = importOnnx(onnx.ModelProto.encode(changed).finish());
  expect(imported.inputs.get('x')?.dtype).toBe('int32');
});

describe('inputShapes: fixing the dims a model leaves symbolic', () => {
  const str = (name: string, value: string): Attr => ({
    name,
    type: AttributeType.STRING,
    s: new TextEncoder().encode(value),
  });
  /** A Resize by scales 2 (opset 11, as paddle2onnx writes it) of an input with symbolic batch and spatial dims. */
  function dynamicResize(): Uint8Array {
    const proto: onnx.IModelProto = {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 11 }],
      graph: {
        name: 'upsample',
        node: [
          {
            opType: 'Resize',
            input: ['x', 'roi', 'scales'],
            output: ['y'],
            attribute: [str('coordinate_transformation_mode', 'asymmetric'), str('mode', 'linear')],
            name: 'resize',
          },
        ],
        initializer: [
          { name: 'roi', dims: [0], dataType: 1, floatData: [] },
          { name: 'scales', dims: [4], dataType: 1, floatData: [1, 1, 2, 2] },
        ],
        input: [
          {
            name: 'x',
            type: {
              tensorType: {
                elemType: 1,
                shape: { dim: [{ dimParam: 'n' }, { dimValue: 3 }, { dimParam: 'h' }, { dimParam: 'w' }] },
              },
            },
          },
        ],
        output: [{ name: 'y' }],
      },
    };
    return onnx.ModelProto.encode(proto).finish();
  }

  // (A nearest Resize by whole scales imports with its sizes symbolic: onnx-runtime-shapes.test.ts.)
  test('a linear Resize by scales of a symbolic size is refused without them and matches ONNX Runtime with them', async () => {
    const bytes = dynamicResize();
    expect(() => importOnnx(bytes)).toThrow(
      "node 'resize' (Resize): Resize by scales [1, 1, 2, 2] of a [null,3,null,null] tensor, sizes known only at run " +
        'time: only nearest is read (each pixel repeated), not linear',
    );
    const x = randomArray(new Rng(5), [1, 3, 4, 5], 'float32');
    const imported = importOnnx(bytes, { inputShapes: { x: [1, 3, 4, 5] } });
    const input = imported.inputs.get('x') as Tensor;
    expect(input.shape).toEqual([1, 3, 4, 5]);
    const actual = new Session(imported.graph).run(imported.outputs[0], new Map([[input, x]]));
    const expected = (await runOrt(bytes, new Map([['x', x]]))).get('y') as NDArray;
    expect(actual.shape).toEqual([1, 3, 8, 10]);
    expectClose(actual, expected, 1e-6);
  });

  test('shapes that do not fit the model, or name no input, are refused', () => {
    const bytes = dynamicResize();
    expect(() => importOnnx(bytes, { inputShapes: { x: [1, 4, 4, 5] } })).toThrow(
      `importOnnx: inputShapes['x'] [1,4,4,5] does not fit the model's shape [null,3,null,null]`,
    );
    expect(() => importOnnx(bytes, { inputShapes: { x: [1, 3, 4] } })).toThrow('does not fit');
    expect(() => importOnnx(bytes, { inputShapes: { x: [1, 3, 4.5, 5] } })).toThrow('must be an array of whole sizes');
    expect(() => importOnnx(bytes, { inputShapes: { image: [1, 3, 4, 5] } })).toThrow(
      "importOnnx: inputShapes names 'image', which is not an input",
    );
  });
});
