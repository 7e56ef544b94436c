/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The 3-D ops and ONNX, both ways: conv3d, conv3dBackpropInput, conv3dBackpropFilter, maxPool3d, avgPool3d and the
 * pooling gradient ops exported and run in ONNX Runtime against Session.run, and imported back (with annotations
 * and by ONNX semantics alone); 3-D Conv / ConvTranspose / MaxPool / AveragePool models as other tools write them
 * run in ONNX Runtime and imported; 1-D and 3-D models imported and exported again; and the exported gradient graph
 * of a small 3-D conv net.
 */
import { onnx } from 'onnx-proto';
import * as L from '../../src';
import { exportOnnx, Graph, gradients, importOnnx, NDArray, Session, Tensor } from '../../src';
import { expectClose, randomArray, Rng } from '../ops/util';
import { runOrt } from './ort';

type Feed = [Tensor, NDArray];

interface ExportCase {
  readonly name: string;
  readonly inputs: readonly (readonly number[])[];
  readonly build: (...xs: Tensor[]) => Tensor;
  readonly placeholders?: readonly (readonly (number | null)[])[];
  readonly tol?: number;
  /** Exported through MaxPool's Indices, which lazygrad does not import in 3-D. */
  readonly indices?: boolean;
}

const window = (filterSize: number[], strides: number[], pads: number[]) => ({ filterSize, strides, pads });

const EXPORT_CASES: readonly ExportCase[] = [
  {
    name: "conv3d NDHWC 'same' stride 2",
    inputs: [
      [2, 5, 6, 4, 3],
      [3, 3, 2, 3, 4],
    ],
    build: (x, f) => L.conv3d(x, f, 2, 'same'),
  },
  {
    name: "conv3d 'same' with unknown batch and spatial dims (auto_pad SAME_UPPER)",
    inputs: [
      [2, 4, 5, 4, 2],
      [3, 2, 3, 2, 3],
    ],
    placeholders: [
      [null, null, null, null, 2],
      [3, 2, 3, 2, 3],
    ],
    build: (x, f) => L.conv3d(x, f, 1, 'same'),
  },
  {
    name: 'conv3d NCDHW explicit pads, dilations [2, 1, 2], 2 groups',
    inputs: [
      [1, 4, 6, 5, 6],
      [2, 2, 2, 2, 4],
    ],
    build: (x, f) =>
      L.apply(L.CONV3D, [x, f], {
        strides: [1, 2, 1],
        dilations: [2, 1, 2],
        pad: 'explicit',
        pads: [1, 0, 0, 2, 1, 1],
        dataFormat: 'NCDHW',
        groups: 2,
      }),
  },
  {
    name: "conv3dBackpropInput NDHWC 'same' stride 2 (output_padding)",
    inputs: [
      [2, 3, 3, 2, 4],
      [3, 3, 2, 3, 4],
    ],
    build: (dy, f) => L.conv3dBackpropInput([2, 5, 6, 4, 3], dy, f, 2, 'same'),
  },
  {
    name: 'conv3dBackpropInput NCDHW explicit pads, 2 groups, dilations 2',
    inputs: [
      [1, 4, 5, 5, 6],
      [2, 2, 2, 2, 4],
    ],
    build: (dy, f) =>
      L.apply(L.CONV3D_BACKPROP_INPUT, [dy, f], {
        strides: [1, 1, 1],
        dilations: [2, 2, 2],
        pad: 'explicit',
        pads: [0, 1, 1, 0, 1, 1],
        dataFormat: 'NCDHW',
        groups: 2,
        inputShape: [1, 4, 6, 6, 6],
      }),
  },
  {
    name: "conv3dBackpropFilter NDHWC 'valid' stride 2 (voxels the conv never read)",
    inputs: [
      [2, 6, 5, 6, 3],
      [2, 2, 2, 2, 4],
    ],
    build: (x, dy) => L.conv3dBackpropFilter(x, dy, [3, 2, 3, 3, 4], 2, 'valid'),
  },
  {
    name: "conv3dBackpropFilter NCDHW 'same' dilations 2, 2 groups",
    inputs: [
      [2, 4, 4, 5, 4],
      [2, 2, 4, 5, 4],
    ],
    build: (x, dy) =>
      L.apply(L.CONV3D_BACKPROP_FILTER, [x, dy], {
        strides: [1, 1, 1],
        dilations: [2, 2, 2],
        pad: 'same',
        dataFormat: 'NCDHW',
        groups: 2,
        filterShape: [2, 3, 2, 2, 2],
      }),
    tol: 1e-5,
  },
  { name: "maxPool3d 'same' stride 2", inputs: [[2, 5, 4, 5, 3]], build: (x) => L.maxPool3d(x, 3, 2, 'same') },
  {
    name: 'avgPool3d numeric pad with ceil rounding',
    inputs: [[1, 4, 5, 4, 2]],
    build: (x) => L.avgPool3d(x, 3, 2, 1, 'ceil'),
  },
  {
    name: 'avgPool3d count_include_pad, dilations (opset 19)',
    inputs: [[1, 6, 5, 6, 2]],
    build: (x) =>
      L.apply(L.AVG_POOL3D, [x], { ...window([2, 2, 2], [1, 2, 1], [1, 0, 0, 1, 1, 1]), countPadding: true }),
  },
  {
    name: 'maxPool3dGrad',
    inputs: [
      [2, 4, 5, 4, 2],
      [2, 2, 3, 2, 2],
    ],
    build: (x, dy) => L.apply(L.MAX_POOL3D_GRAD, [x, dy], window([2, 3, 2], [2, 2, 2], [0, 0, 1, 1, 0, 0])),
    indices: true,
  },
  {
    name: 'maxPool3dGradGrad',
    inputs: [
      [1, 4, 5, 4, 2],
      [1, 4, 5, 4, 2],
    ],
    build: (x, g) => L.apply(L.MAX_POOL3D_GRAD_GRAD, [x, g], window([2, 2, 2], [2, 1, 2], [0, 0, 0, 1, 0, 0])),
    indices: true,
  },
  {
    name: 'avgPool3dGrad (windows past the input)',
    inputs: [[1, 3, 3, 3, 2]],
    build: (dy) =>
      L.apply(L.AVG_POOL3D_GRAD, [dy], { ...window([3, 2, 3], [2, 2, 2], [1, 1, 0, 1, 1, 1]), inputSize: [5, 5, 5] }),
  },
];

function buildExport(c: ExportCase, seed: number): { graph: Graph; y: Tensor; feeds: Feed[]; expected: NDArray } {
  const rng = new Rng(seed);
  const graph = new Graph();
  const feeds = c.inputs.map((shape, i): Feed => {
    const x = graph.placeholder(`x${i}`, [...(c.placeholders?.[i] ?? shape)]);
    return [x, randomArray(rng, shape, 'float32')];
  });
  const y = c.build(...feeds.map(([x]) => x));
  return { graph, y, feeds, expected: new Session(graph).run(y, new Map(feeds)) };
}

const byName = (feeds: readonly Feed[]): Map<string, NDArray> => new Map(feeds.map(([t, v]) => [t.name, v]));

function runImported(bytes: Uint8Array, feeds: readonly Feed[], annotations: boolean): NDArray {
  const imported = importOnnx(bytes, { annotations, initializersAs: 'constant' });
  return new Session(imported.graph).run(
    imported.outputs[0],
    new Map(feeds.map(([t, v]) => [imported.inputs.get(t.name) as Tensor, v])),
  );
}

describe.each(EXPORT_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, index) => {
  const seed = 1900 + index;
  const opset = c.name.includes('opset 19') ? 19 : undefined;

  test('the exported model run in ONNX Runtime matches Session.run', async () => {
    const { graph, y, feeds, expected } = buildExport(c, seed);
    const outputs = await runOrt(exportOnnx(graph, { outputs: { y }, opset }), byName(feeds));
    expectClose(outputs.get('y') as NDArray, expected, c.tol ?? 2e-6, c.name);
  });

  test('importing it back with annotations gives the same values', () => {
    const { graph, y, feeds, expected } = buildExport(c, seed);
    expectClose(runImported(exportOnnx(graph, { outputs: { y }, opset }), feeds, true), expected, 0, c.name);
  });

  test('importing it back by ONNX semantics alone gives the same values', () => {
    const { graph, y, feeds, expected } = buildExport(c, seed);
    const bytes = exportOnnx(graph, { outputs: { y }, annotations: false, opset });
    if (c.indices === true) {
      expect(() => runImported(bytes, feeds, false)).toThrow(/3-D MaxPool's Indices output is not supported/);
      return;
    }
    expectClose(runImported(bytes, feeds, false), expected, c.tol ?? 2e-6, c.name);
  });
});

// ---- models as other tools write them ---------------------------------------------------------------------------

const AttributeType = onnx.AttributeProto.AttributeType;
type Attr = onnx.IAttributeProto;
const int = (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i });
const ints = (name: string, values: number[]): Attr => ({ name, type: AttributeType.INTS, ints: values });
const str = (name: string, s: string): Attr => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(s) });

interface ModelCase {
  readonly name: string;
  readonly opType: 'Conv' | 'ConvTranspose' | 'MaxPool' | 'AveragePool';
  readonly x: readonly number[];
  /** The weights' shape (Conv, ConvTranspose). */
  readonly w?: readonly number[];
  readonly bias?: number;
  readonly attrs: readonly Attr[];
  readonly opset?: number;
}

const MODEL_CASES: readonly ModelCase[] = [
  {
    name: 'Conv 3-D with bias and pads',
    opType: 'Conv',
    x: [2, 3, 5, 6, 4],
    w: [4, 3, 3, 2, 3],
    bias: 4,
    attrs: [ints('pads', [1, 0, 1, 0, 2, 1])],
  },
  {
    name: 'Conv 3-D group 2, strides 2, dilations 2',
    opType: 'Conv',
    x: [1, 4, 7, 6, 7],
    w: [6, 2, 2, 2, 3],
    attrs: [
      int('group', 2),
      ints('strides', [2, 2, 2]),
      ints('dilations', [2, 2, 2]),
      ints('pads', [1, 1, 1, 1, 1, 1]),
    ],
  },
  {
    name: 'Conv 3-D auto_pad SAME_UPPER stride 2',
    opType: 'Conv',
    x: [1, 2, 5, 6, 7],
    w: [3, 2, 2, 3, 4],
    attrs: [str('auto_pad', 'SAME_UPPER'), ints('strides', [2, 2, 2])],
  },
  {
    name: 'Conv 3-D auto_pad SAME_LOWER stride 2 (opset 11)',
    opType: 'Conv',
    x: [1, 2, 5, 6, 7],
    w: [3, 2, 2, 3, 4],
    attrs: [str('auto_pad', 'SAME_LOWER'), ints('strides', [2, 2, 2])],
    opset: 11,
  },
  {
    name: 'ConvTranspose 3-D with bias, stride 2, pads',
    opType: 'ConvTranspose',
    x: [1, 3, 3, 4, 3],
    w: [3, 2, 3, 3, 2],
    bias: 2,
    attrs: [ints('strides', [2, 2, 2]), ints('pads', [1, 0, 1, 0, 1, 1])],
  },
  {
    name: 'ConvTranspose 3-D output_padding, group 2, dilations 2',
    opType: 'ConvTranspose',
    x: [1, 4, 3, 3, 2],
    w: [4, 1, 2, 2, 2],
    attrs: [
      int('group', 2),
      ints('strides', [2, 2, 2]),
      ints('dilations', [2, 2, 2]),
      ints('output_padding', [1, 0, 1]),
    ],
  },
  {
    name: 'ConvTranspose 3-D output_shape',
    opType: 'ConvTranspose',
    x: [1, 2, 3, 2, 3],
    w: [2, 3, 3, 3, 3],
    attrs: [ints('strides', [2, 2, 2]), ints('output_shape', [6, 5, 7])],
  },
  {
    name: 'ConvTranspose 3-D auto_pad SAME_UPPER',
    opType: 'ConvTranspose',
    x: [1, 2, 2, 3, 2],
    w: [2, 2, 3, 3, 3],
    attrs: [ints('strides', [2, 2, 2]), str('auto_pad', 'SAME_UPPER')],
  },
  {
    name: 'MaxPool 3-D with pads',
    opType: 'MaxPool',
    x: [2, 3, 5, 6, 5],
    attrs: [ints('kernel_shape', [3, 2, 3]), ints('strides', [2, 2, 1]), ints('pads', [1, 0, 1, 1, 1, 1])],
  },
  {
    name: 'MaxPool 3-D ceil_mode, dilations',
    opType: 'MaxPool',
    x: [1, 2, 7, 6, 8],
    attrs: [
      ints('kernel_shape', [2, 2, 2]),
      ints('strides', [2, 2, 2]),
      ints('dilations', [2, 1, 2]),
      int('ceil_mode', 1),
    ],
  },
  {
    name: 'MaxPool 3-D SAME_UPPER',
    opType: 'MaxPool',
    x: [1, 2, 5, 4, 5],
    attrs: [ints('kernel_shape', [3, 3, 3]), ints('strides', [2, 2, 2]), str('auto_pad', 'SAME_UPPER')],
  },
  {
    name: 'AveragePool 3-D pads, padding left out of the count',
    opType: 'AveragePool',
    x: [1, 2, 5, 5, 6],
    attrs: [ints('kernel_shape', [3, 3, 3]), ints('strides', [2, 2, 2]), ints('pads', [1, 1, 0, 1, 1, 2])],
  },
  {
    name: 'AveragePool 3-D count_include_pad',
    opType: 'AveragePool',
    x: [1, 2, 5, 5, 6],
    attrs: [
      ints('kernel_shape', [3, 2, 3]),
      ints('strides', [2, 1, 2]),
      ints('pads', [1, 0, 1, 1, 1, 2]),
      int('count_include_pad', 1),
    ],
  },
  {
    name: 'AveragePool 3-D ceil_mode (opset 11)',
    opType: 'AveragePool',
    x: [1, 2, 7, 7, 6],
    attrs: [ints('kernel_shape', [2, 2, 2]), ints('strides', [2, 2, 2]), int('ceil_mode', 1)],
    opset: 11,
  },
];

function model(c: ModelCase, w: NDArray | null, bias: NDArray | null): Uint8Array {
  const initializer = [
    ...(w === null ? [] : [{ name: 'w', dims: [...w.shape], dataType: 1, floatData: Array.from(w.data) }]),
    ...(bias === null ? [] : [{ name: 'b', dims: [...bias.shape], dataType: 1, floatData: Array.from(bias.data) }]),
  ];
  const proto: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'hand-written',
    opsetImport: [{ domain: '', version: c.opset ?? 17 }],
    graph: {
      name: c.name,
      node: [
        {
          opType: c.opType,
          input: ['x', ...(w === null ? [] : ['w']), ...(bias === null ? [] : ['b'])],
          output: ['y'],
          attribute: [...c.attrs],
        },
      ],
      initializer,
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: c.x.map((d) => ({ dimValue: d })) } } } }],
      output: [{ name: 'y' }],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

describe.each(MODEL_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, index) => {
  test('imported, it computes what ONNX Runtime computes', async () => {
    const rng = new Rng(1950 + index);
    const x = randomArray(rng, c.x, 'float32');
    const w = c.w === undefined ? null : randomArray(rng, c.w, 'float32');
    const bias = c.bias === undefined ? null : randomArray(rng, [c.bias], 'float32');
    const bytes = model(c, w, bias);
    const want = (await runOrt(bytes, new Map([['x', x]]))).get('y') as NDArray;
    const imported = importOnnx(bytes);
    const got = new Session(imported.graph).run(
      imported.outputs[0],
      new Map([[imported.inputs.get('x') as Tensor, x]]),
    );
    expect(got.shape).toEqual(want.shape);
    // float32 sums of up to 54 products, rounded differently by ONNX Runtime.
    expectClose(got, want, 1e-5, c.name);
  });
});

/** 1-D models (lazygrad reads them as 2-D ops over a height of 1) and 3-D ones, imported and exported again. */
const ROUND_TRIPS: readonly ModelCase[] = [
  {
    name: 'Conv 1-D with bias, pads, stride 2',
    opType: 'Conv',
    x: [2, 3, 11],
    w: [4, 3, 3],
    bias: 4,
    attrs: [ints('pads', [1, 2]), ints('strides', [2])],
  },
  {
    name: 'ConvTranspose 1-D stride 3',
    opType: 'ConvTranspose',
    x: [2, 3, 5],
    w: [3, 2, 4],
    attrs: [ints('strides', [3]), ints('pads', [1, 0])],
  },
  {
    name: 'MaxPool 1-D with pads',
    opType: 'MaxPool',
    x: [2, 3, 9],
    attrs: [ints('kernel_shape', [3]), ints('strides', [2]), ints('pads', [1, 1])],
  },
  {
    name: 'AveragePool 1-D ceil_mode',
    opType: 'AveragePool',
    x: [1, 2, 8],
    attrs: [ints('kernel_shape', [3]), ints('strides', [2]), int('ceil_mode', 1)],
  },
  ...MODEL_CASES.filter((c) => c.name.startsWith('Conv 3-D with bias') || c.name.startsWith('MaxPool 3-D with pads')),
];

describe.each(ROUND_TRIPS.map((c, i) => [c.name, c, i] as const))('%s, imported and exported again', (_n, c, index) => {
  test('runs in ONNX Runtime with the numbers of the original model', async () => {
    const rng = new Rng(1980 + index);
    const x = randomArray(rng, c.x, 'float32');
    const w = c.w === undefined ? null : randomArray(rng, c.w, 'float32');
    const bias = c.bias === undefined ? null : randomArray(rng, [c.bias], 'float32');
    const bytes = model(c, w, bias);
    const want = (await runOrt(bytes, new Map([['x', x]]))).get('y') as NDArray;
    const imported = importOnnx(bytes);
    const again = exportOnnx(imported.graph, { outputs: { y: imported.outputs[0] } });
    const input = (imported.inputs.get('x') as Tensor).name;
    const got = (await runOrt(again, new Map([[input, x]]))).get('y') as NDArray;
    expect(got.shape).toEqual(want.shape);
    expectClose(got, want, 1e-5, c.name);
  });
});

test("3-D MaxPool's Indices output is refused with a clear message", () => {
  const proto: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'indices',
      node: [{ opType: 'MaxPool', input: ['x'], output: ['y', 'i'], attribute: [ints('kernel_shape', [2, 2, 2])] }],
      input: [
        {
          name: 'x',
          type: { tensorType: { elemType: 1, shape: { dim: [1, 1, 4, 4, 4].map((d) => ({ dimValue: d })) } } },
        },
      ],
      output: [{ name: 'y' }, { name: 'i' }],
    },
  };
  expect(() => importOnnx(onnx.ModelProto.encode(proto).finish())).toThrow(/3-D MaxPool's Indices output/);
});

// ---- the gradient graph of a small 3-D conv net ---------------------------------------------------------------------

test('the gradient graph of a small 3-D conv net, exported, runs in ONNX Runtime with the same numbers', async () => {
  const rng = new Rng(1999);
  const g = new Graph();
  const x = g.placeholder('x', [null, 6, 6, 6, 1]);
  const w1 = g.placeholder('w1', [3, 3, 3, 1, 4]);
  const w2 = g.placeholder('w2', [2, 2, 2, 4, 3]);
  const dense = g.placeholder('dense', [3 * 2 * 2 * 2, 2]);
  const h1 = L.relu(L.conv3d(x, w1, 1, 'same'));
  const p1 = L.maxPool3d(h1, 2, 2, 'valid');
  const h2 = L.tanh(L.conv3d(p1, w2, 1, 'same'));
  const p2 = L.avgPool3d(h2, 2, 1, 'valid');
  const logits = L.matMul(L.reshape(p2, [-1, 3 * 2 * 2 * 2]), dense);
  const loss = L.sum(L.square(logits));
  const weights = [x, w1, w2, dense];
  const grads = gradients(loss, weights) as Tensor[];
  const values = [
    randomArray(rng, [3, 6, 6, 6, 1], 'float32'),
    ...[w1, w2, dense].map((t) => randomArray(rng, t.shape as number[], 'float32', { lo: -0.5, hi: 0.5 })),
  ];
  const feeds = new Map(weights.map((t, i) => [t, values[i]] as Feed));
  const expected = new Session(g).run(grads, feeds);
  const outputs = Object.fromEntries(grads.map((d, i) => [`d${i}`, d]));
  const bytes = exportOnnx(g, { outputs });
  const got = await runOrt(bytes, new Map(weights.map((t, i) => [t.name, values[i]])));
  expected.forEach((want, i) => expectClose(got.get(`d${i}`) as NDArray, want, 1e-5, `gradient ${i}`));
  const imported = importOnnx(bytes);
  const back = new Session(imported.graph).run(
    imported.outputs,
    new Map(weights.map((t, i) => [imported.inputs.get(t.name) as Tensor, values[i]])),
  );
  expected.forEach((want, i) => expectClose(back[i], want, 1e-5, `imported gradient ${i}`));
});
