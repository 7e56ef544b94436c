/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Models whose sizes are known only at run time: reshapeDims exported to ONNX (Reshape to a shape computed from
 * Shape) and read back, and hand-written models with symbolic input dims — Reshape to several run-time dims, Resize
 * by whole scales, ConvTranspose — imported once and run at several input sizes, against ONNX Runtime; their
 * gradients (the model recast to float64) against finite differences.
 */
import { onnx } from 'onnx-proto';
import {
  checkGradients,
  exportOnnx,
  Graph,
  GraphError,
  importOnnx,
  NDArray,
  reshapeDims,
  Session,
  sum,
  Tensor,
} from '../../src';
import { expectClose, randomArray, Rng } from '../ops/util';
import { runOrt } from './ort';
import { asFloat64 } from './real-models';

// ---- reshapeDims through ONNX --------------------------------------------------------------------------------------

describe('export: reshapeDims with dims known only at run time', () => {
  const graph = new Graph();
  const x = graph.placeholder('x', [null, 3, null], 'float32');
  const outputs = {
    // [N, 3 · W]: the batch and a scaled dim read from x; [W, -1]; [N, W, 3] (a dim of another tensor's).
    merged: reshapeDims(x, [
      { of: x, axis: 0 },
      { of: x, axis: 2, factor: 3 },
    ]),
    inferred: reshapeDims(x, [{ of: x, axis: 2 }, -1]),
    swapped: reshapeDims(x, [{ of: x, axis: 0 }, { of: x, axis: 2 }, 3]),
  };
  const bytes = exportOnnx(graph, { outputs });
  const plain = exportOnnx(graph, { outputs, annotations: false });
  const shapes = [
    [2, 3, 4],
    [1, 3, 7],
  ];

  test.each(shapes)(
    'ONNX Runtime and the imported model (with and without annotations) match at [%i, %i, %i]',
    async (...shape) => {
      const value = randomArray(new Rng(shape[2]), shape, 'float32');
      const session = new Session(graph);
      const fromOrt = await runOrt(bytes, new Map([['x', value]]));
      for (const [name, y] of Object.entries(outputs)) {
        const expected = session.run(y, new Map([[x, value]]));
        expectClose(fromOrt.get(name) as NDArray, expected, 0, name);
        for (const model of [bytes, plain]) {
          const imported = importOnnx(model, { annotations: model === bytes });
          const back = imported.outputs[imported.outputNames.indexOf(name)];
          expect(imported.graph.nodes.map((n) => n.op)).toContain('reshapeDims');
          const actual = new Session(imported.graph).run(back, new Map([[imported.inputs.get('x') as Tensor, value]]));
          expectClose(actual, expected, 0, name);
        }
      }
    },
  );

  test('a target that does not fit the fed size is a ShapeError when the session runs', () => {
    const y = reshapeDims(x, [{ of: x, axis: 0 }, 5]);
    expect(() => new Session(graph).run(y, new Map([[x, randomArray(new Rng(1), [2, 3, 4], 'float32')]]))).toThrow(
      /cannot reshape 24 elements \[2, 3, 4\] into \[2, 5\]/,
    );
  });
});

// ---- hand-written models with symbolic dims ------------------------------------------------------------------------

const AttributeType = onnx.AttributeProto.AttributeType;
type Attr = onnx.IAttributeProto;
const str = (name: string, s: string): Attr => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(s) });
const int = (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i });
const ints = (name: string, values: number[]): Attr => ({ name, type: AttributeType.INTS, ints: values });
const int64s = (name: string, values: number[]): onnx.ITensorProto => ({
  name,
  dims: [values.length],
  dataType: 7,
  int64Data: values,
});
const floats = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({
  name,
  dims,
  dataType: 1,
  floatData: values,
});

interface ModelCase {
  readonly name: string;
  readonly opset: number;
  /** The input's dims: a number, or a name for a symbolic dim. */
  readonly input: readonly (number | string)[];
  readonly nodes: readonly onnx.INodeProto[];
  readonly initializers?: readonly onnx.ITensorProto[];
  /** The sizes the one imported graph is run at. */
  readonly runs: readonly (readonly number[])[];
}

function model(c: ModelCase): Uint8Array {
  const proto: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'hand-written',
    opsetImport: [{ domain: '', version: c.opset }],
    graph: {
      name: c.name,
      node: c.nodes.map((n, i) => ({ name: `n${i}`, ...n })),
      initializer: [...(c.initializers ?? [])],
      input: [
        {
          name: 'x',
          type: {
            tensorType: {
              elemType: 1,
              shape: { dim: c.input.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
            },
          },
        },
      ],
      output: [{ name: 'y' }],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

/** The model imported once (dims symbolic), run at each size against ONNX Runtime; its gradient in float64. */
async function expectAsOrt(c: ModelCase): Promise<void> {
  const bytes = model(c);
  const imported = importOnnx(bytes, { initializersAs: 'constant' });
  const x = imported.inputs.get('x') as Tensor;
  expect(x.shape.some((d) => d === null)).toBe(true);
  const session = new Session(imported.graph);
  for (const [k, shape] of c.runs.entries()) {
    const value = randomArray(new Rng(10 + k), shape, 'float32');
    const expected = (await runOrt(bytes, new Map([['x', value]]))).get('y') as NDArray;
    const actual = session.run(imported.outputs[0], new Map([[x, value]]));
    expect(actual.shape).toEqual(expected.shape);
    expectClose(actual, expected, 2e-6, `${c.name} at ${JSON.stringify(shape)}`);
  }
  const wide = importOnnx(asFloat64(bytes), { initializersAs: 'constant' });
  const x64 = wide.inputs.get('x') as Tensor;
  const value = randomArray(new Rng(3), c.runs[0], 'float64');
  const check = checkGradients(sum(wide.outputs[0]), [x64], new Map([[x64, value]]));
  expect(check.maxError).toBeLessThan(1e-6);
}

const shapeOfX = { opType: 'Shape', input: ['x'], output: ['s'] };
const sliceOf = (name: string, start: number): onnx.INodeProto => ({
  opType: 'Slice',
  input: ['s', `start${start}`, `end${start}`],
  output: [name],
});
const bounds = (i: number): onnx.ITensorProto[] => [int64s(`start${i}`, [i]), int64s(`end${i}`, [i + 1])];

const RESHAPES: readonly ModelCase[] = [
  {
    name: 'Reshape [N, 4, H, W] to [0, 0, -1] (two run-time dims: N copied, H·W inferred)',
    opset: 14,
    input: ['N', 4, 'H', 'W'],
    initializers: [int64s('target', [0, 0, -1])],
    nodes: [{ opType: 'Reshape', input: ['x', 'target'], output: ['y'] }],
    runs: [
      [2, 4, 3, 5],
      [1, 4, 6, 2],
    ],
  },
  {
    name: 'Reshape [N, 4, H, W] to Concat(N, H, -1) from Shape (three run-time dims)',
    opset: 13,
    input: ['N', 4, 'H', 'W'],
    initializers: [...bounds(0), ...bounds(2), int64s('minus', [-1])],
    nodes: [
      shapeOfX,
      sliceOf('n', 0),
      sliceOf('h', 2),
      { opType: 'Concat', input: ['n', 'h', 'minus'], output: ['target'], attribute: [int('axis', 0)] },
      { opType: 'Reshape', input: ['x', 'target'], output: ['y'] },
    ],
    runs: [
      [2, 4, 3, 5],
      [3, 4, 1, 2],
    ],
  },
];

/** A Resize by scales of a model whose spatial dims are symbolic. */
function resize(name: string, opset: number, scales: number[], attrs: Attr[], input: (number | string)[]): ModelCase {
  const nhwc = input[3] === 2;
  const runs = nhwc
    ? [
        [1, 3, 4, 2],
        [2, 2, 5, 2],
      ]
    : [
        [1, 2, 3, 4],
        [2, 2, 5, 2],
      ];
  if (opset < 11) {
    return {
      name,
      opset,
      input,
      runs,
      initializers: [floats('scales', [4], scales)],
      nodes: [{ opType: opset < 10 ? 'Upsample' : 'Resize', input: ['x', 'scales'], output: ['y'], attribute: attrs }],
    };
  }
  return {
    name,
    opset,
    input,
    runs,
    initializers: [floats('roi', [0], []), floats('scales', [4], scales)],
    nodes: [{ opType: 'Resize', input: ['x', 'roi', 'scales'], output: ['y'], attribute: attrs }],
  };
}

const nearest = str('mode', 'nearest');
const ctm = (mode: string): Attr => str('coordinate_transformation_mode', mode);
const rounding = (mode: string): Attr => str('nearest_mode', mode);
const NCHW = ['N', 2, 'H', 'W'];

const RESIZES: readonly ModelCase[] = [
  resize(
    'Resize-13 nearest asymmetric floor by [2, 3]',
    13,
    [1, 1, 2, 3],
    [nearest, ctm('asymmetric'), rounding('floor')],
    NCHW,
  ),
  resize(
    'Resize-13 nearest half_pixel round_prefer_ceil by 2',
    13,
    [1, 1, 2, 2],
    [nearest, rounding('round_prefer_ceil')],
    NCHW,
  ),
  resize(
    'Resize-13 nearest pytorch_half_pixel round_prefer_ceil by [3, 1]',
    13,
    [1, 1, 3, 1],
    [nearest, ctm('pytorch_half_pixel'), rounding('round_prefer_ceil')],
    NCHW,
  ),
  resize(
    'Resize-11 nearest tf_half_pixel_for_nn floor by 2',
    11,
    [1, 1, 2, 2],
    [nearest, ctm('tf_half_pixel_for_nn'), rounding('floor')],
    NCHW,
  ),
  resize(
    'Resize-13 nearest asymmetric floor of NHWC by [2, 2]',
    13,
    [1, 2, 2, 1],
    [nearest, ctm('asymmetric'), rounding('floor')],
    ['N', 'H', 'W', 2],
  ),
  resize('Resize-10 nearest by 2', 10, [1, 1, 2, 2], [nearest], NCHW),
  resize('Upsample-9 nearest by [1, 2]', 9, [1, 1, 1, 2], [nearest], NCHW),
];

/** A ConvTranspose of weights [C=2, M / group, kh, kw] over an input [N, 2, H, W] with H and W symbolic. */
function convTranspose(name: string, kernel: [number, number], group: number, attrs: Attr[]): ModelCase {
  const rng = new Rng(kernel[0] * 7 + kernel[1]);
  const weights = Array.from({ length: 2 * (4 / group) * kernel[0] * kernel[1] }, () => rng.uniform(-1, 1));
  const bias = [0.1, -0.2, 0.3, 0.05];
  return {
    name,
    opset: 13,
    input: ['N', 2, 'H', 'W'],
    initializers: [floats('w', [2, 4 / group, ...kernel], weights), floats('b', [4], bias)],
    nodes: [
      {
        opType: 'ConvTranspose',
        input: ['x', 'w', 'b'],
        output: ['y'],
        attribute: [ints('kernel_shape', kernel), int('group', group), ...attrs],
      },
    ],
    runs: [
      [1, 2, 3, 4],
      [2, 2, 5, 2],
    ],
  };
}

const CONV_TRANSPOSES: readonly ModelCase[] = [
  convTranspose('2×2, strides 2 (output 2·in)', [2, 2], 1, [ints('strides', [2, 2])]),
  convTranspose('3×3, strides 2, pads 1, output_padding 1 (output 2·in)', [3, 3], 1, [
    ints('strides', [2, 2]),
    ints('pads', [1, 1, 1, 1]),
    ints('output_padding', [1, 1]),
  ]),
  convTranspose('3×2, strides 1 (output in + [2, 1])', [3, 2], 2, []),
  convTranspose('3×3, dilations 2, strides [2, 1], pads [1, 0, 0, 1] (output [2·in + 2, in + 3])', [3, 3], 1, [
    ints('dilations', [2, 2]),
    ints('strides', [2, 1]),
    ints('pads', [1, 0, 0, 1]),
  ]),
];

describe('import: symbolic dims, one graph run at several sizes, matches ONNX Runtime', () => {
  test.each([...RESHAPES, ...RESIZES, ...CONV_TRANSPOSES].map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectAsOrt(c);
  });
});

const REFUSED: readonly (readonly [ModelCase, RegExp])[] = [
  [
    resize('linear', 13, [1, 1, 2, 2], [str('mode', 'linear')], NCHW),
    /sizes known only at run time: only nearest is read/,
  ],
  [
    resize('align_corners', 13, [1, 1, 2, 2], [nearest, ctm('align_corners'), rounding('round_prefer_ceil')], NCHW),
    /align_corners does not repeat pixels/,
  ],
  [resize('a fractional scale', 13, [1, 1, 1.5, 2], [nearest], NCHW), /the scales must be whole/],
  [resize('a scale below 1', 13, [1, 1, 0.5, 0.5], [nearest], NCHW), /the scales must be whole/],
  [
    convTranspose('output_shape', [2, 2], 1, [ints('strides', [2, 2]), ints('output_shape', [6, 8])]),
    /output_shape or SAME padding needs the spatial sizes of its input known/,
  ],
  [convTranspose('pads beyond the kernel', [1, 1], 1, [ints('strides', [2, 2])]), /smaller than stride · input/],
  [
    {
      name: 'two -1s',
      opset: 14,
      input: ['N', 4, 'H', 'W'],
      initializers: [int64s('target', [0, -1, -1])],
      nodes: [{ opType: 'Reshape', input: ['x', 'target'], output: ['y'] }],
      runs: [],
    },
    /more than one -1/,
  ],
];

describe('import: what symbolic dims cannot give is refused, naming why', () => {
  test.each(REFUSED.map(([c, message]) => [c.name, c, message] as const))('%s', (_name, c, message) => {
    expect(() => importOnnx(model(c))).toThrow(GraphError);
    expect(() => importOnnx(model(c))).toThrow(message);
  });
});
