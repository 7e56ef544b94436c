/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The convolution ops and ONNX, both ways: conv2d, conv2dBackpropInput and conv2dBackpropFilter exported and run
 * in ONNX Runtime against Session.run, and imported back (with annotations and by ONNX semantics alone); Conv and
 * ConvTranspose models as other tools write them (bias, group, auto_pad, output_padding, output_shape, 1-D) run in
 * ONNX Runtime and imported; and the exported gradient graph of a small conv net.
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
  /** Placeholder shapes where they differ from the fed values' (unknown batch). */
  readonly placeholders?: readonly (readonly (number | null)[])[];
  /** Tolerance against Session.run (float32 sums over many terms round differently in ONNX Runtime). */
  readonly tol?: number;
}

const EXPORT_CASES: readonly ExportCase[] = [
  {
    name: "conv2d NHWC 'same' stride 2",
    inputs: [
      [2, 7, 6, 3],
      [3, 3, 3, 4],
    ],
    build: (x, f) => L.conv2d(x, f, 2, 'same'),
  },
  {
    name: "conv2d NHWC 'same' with an unknown batch and unknown spatial dims (stride 1: explicit pads)",
    inputs: [
      [2, 7, 6, 3],
      [3, 3, 3, 4],
    ],
    placeholders: [
      [null, null, null, 3],
      [3, 3, 3, 4],
    ],
    build: (x, f) => L.conv2d(x, f, 1, 'same'),
  },
  {
    name: 'conv2d NCHW explicit pads, dilations 2',
    inputs: [
      [1, 2, 8, 7],
      [3, 2, 2, 3],
    ],
    build: (x, f) =>
      L.conv2d(
        x,
        f,
        1,
        [
          [0, 0],
          [0, 0],
          [1, 2],
          [0, 1],
        ],
        'NCHW',
        2,
      ),
  },
  {
    name: 'conv2d 3 groups strides 2 dilations 2',
    inputs: [
      [1, 9, 8, 6],
      [2, 2, 2, 6],
    ],
    build: (x, f) => L.groupedConv2d(x, f, 3, 2, 'same', 'NHWC', 2),
  },
  {
    name: 'depthwiseConv2d',
    inputs: [
      [2, 6, 6, 3],
      [3, 3, 3, 2],
    ],
    build: (x, f) => L.depthwiseConv2d(x, f, 1, 'valid'),
  },
  {
    name: 'conv1d',
    inputs: [
      [2, 9, 3],
      [3, 3, 2],
    ],
    build: (x, f) => L.conv1d(x, f, 2, 'same'),
  },
  {
    name: "conv2dBackpropInput NHWC 'same' stride 2 (output_padding 1)",
    inputs: [
      [2, 4, 3, 4],
      [3, 3, 3, 4],
    ],
    build: (dy, f) => L.conv2dBackpropInput([2, 7, 6, 3], dy, f, 2, 'same'),
  },
  {
    name: 'conv2dBackpropInput NCHW explicit pads, 2 groups, dilations 2',
    inputs: [
      [1, 4, 7, 7],
      [2, 2, 2, 4],
    ],
    build: (dy, f) =>
      L.apply(L.CONV2D_BACKPROP_INPUT, [dy, f], {
        strides: [1, 1],
        dilations: [2, 2],
        pad: 'explicit',
        pads: [0, 1, 1, 1],
        dataFormat: 'NCHW',
        groups: 2,
        inputShape: [1, 4, 8, 7],
      }),
  },
  {
    name: "conv2dBackpropFilter NHWC 'valid' stride 2 (rows the conv never read)",
    inputs: [
      [2, 8, 7, 3],
      [2, 3, 3, 4],
    ],
    build: (x, dy) => L.conv2dBackpropFilter(x, dy, [3, 2, 3, 4], 2, 'valid'),
  },
  {
    name: "conv2dBackpropFilter NCHW 'same' dilations 2",
    inputs: [
      [2, 3, 7, 6],
      [2, 4, 7, 6],
    ],
    build: (x, dy) => L.conv2dBackpropFilter(x, dy, [3, 2, 3, 4], 1, 'same', 'NCHW', 2),
    tol: 1e-5,
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
  const seed = 1600 + index;

  test('the exported model run in ONNX Runtime matches Session.run', async () => {
    const { graph, y, feeds, expected } = buildExport(c, seed);
    const outputs = await runOrt(exportOnnx(graph, { outputs: { y } }), byName(feeds));
    expectClose(outputs.get('y') as NDArray, expected, c.tol ?? 2e-6, c.name);
  });

  test('importing it back with annotations gives the same values', () => {
    const { graph, y, feeds, expected } = buildExport(c, seed);
    expectClose(runImported(exportOnnx(graph, { outputs: { y } }), feeds, true), expected, 0, c.name);
  });

  test('importing it back by ONNX semantics alone gives the same values', () => {
    const { graph, y, feeds, expected } = buildExport(c, seed);
    const bytes = exportOnnx(graph, { outputs: { y }, annotations: false });
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
  readonly opType: 'Conv' | 'ConvTranspose';
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly bias?: number;
  readonly attrs: readonly Attr[];
  readonly opset?: number;
}

const MODEL_CASES: readonly ModelCase[] = [
  {
    name: 'Conv with bias and pads',
    opType: 'Conv',
    x: [2, 3, 7, 6],
    w: [4, 3, 3, 2],
    bias: 4,
    attrs: [ints('pads', [1, 0, 2, 1])],
  },
  {
    name: 'Conv group 2, strides 2, dilations 2, no bias',
    opType: 'Conv',
    x: [1, 4, 9, 8],
    w: [6, 2, 2, 3],
    attrs: [int('group', 2), ints('strides', [2, 2]), ints('dilations', [2, 2]), ints('pads', [1, 1, 1, 1])],
  },
  {
    name: 'Conv depthwise (group = channels)',
    opType: 'Conv',
    x: [1, 3, 6, 6],
    w: [3, 1, 3, 3],
    bias: 3,
    attrs: [int('group', 3), ints('pads', [1, 1, 1, 1])],
  },
  {
    name: 'Conv auto_pad SAME_UPPER stride 2',
    opType: 'Conv',
    x: [1, 2, 7, 8],
    w: [3, 2, 4, 3],
    attrs: [str('auto_pad', 'SAME_UPPER'), ints('strides', [2, 2])],
  },
  {
    name: 'Conv auto_pad SAME_LOWER stride 2',
    opType: 'Conv',
    x: [1, 2, 7, 8],
    w: [3, 2, 4, 3],
    attrs: [str('auto_pad', 'SAME_LOWER'), ints('strides', [2, 2])],
  },
  { name: 'Conv auto_pad VALID', opType: 'Conv', x: [1, 2, 7, 8], w: [3, 2, 4, 3], attrs: [str('auto_pad', 'VALID')] },
  {
    name: 'Conv 1-D with bias (opset 9)',
    opType: 'Conv',
    x: [2, 3, 10],
    w: [4, 3, 3],
    bias: 4,
    attrs: [ints('pads', [1, 2]), ints('strides', [2])],
    opset: 9,
  },
  {
    name: 'ConvTranspose with bias, stride 2, pads',
    opType: 'ConvTranspose',
    x: [1, 3, 4, 5],
    w: [3, 2, 3, 3],
    bias: 2,
    attrs: [ints('strides', [2, 2]), ints('pads', [1, 1, 0, 1])],
  },
  {
    name: 'ConvTranspose output_padding, group 2, dilations 2',
    opType: 'ConvTranspose',
    x: [1, 4, 3, 4],
    w: [4, 1, 2, 2],
    attrs: [int('group', 2), ints('strides', [2, 2]), ints('dilations', [2, 2]), ints('output_padding', [1, 0])],
  },
  {
    name: 'ConvTranspose output_shape',
    opType: 'ConvTranspose',
    x: [1, 2, 3, 3],
    w: [2, 3, 3, 3],
    attrs: [ints('strides', [2, 2]), ints('output_shape', [6, 7])],
  },
  {
    name: 'ConvTranspose auto_pad SAME_UPPER',
    opType: 'ConvTranspose',
    x: [1, 2, 3, 4],
    w: [2, 2, 3, 3],
    attrs: [ints('strides', [2, 2]), str('auto_pad', 'SAME_UPPER')],
  },
  {
    name: 'ConvTranspose 1-D (opset 11)',
    opType: 'ConvTranspose',
    x: [2, 3, 5],
    w: [3, 2, 4],
    bias: 2,
    attrs: [ints('strides', [3])],
    opset: 11,
  },
];

/** A one-node model: x fed, the weights (and bias) float32 initializers. */
function model(c: ModelCase, w: NDArray, bias: NDArray | null): Uint8Array {
  const initializer = [
    { name: 'w', dims: [...w.shape], dataType: 1, floatData: Array.from(w.data) },
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
          input: ['x', 'w', ...(bias === null ? [] : ['b'])],
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
    const rng = new Rng(1700 + index);
    const x = randomArray(rng, c.x, 'float32');
    const w = randomArray(rng, c.w, 'float32');
    const bias = c.bias === undefined ? null : randomArray(rng, [c.bias], 'float32');
    const bytes = model(c, w, bias);
    const want = (await runOrt(bytes, new Map([['x', x]]))).get('y') as NDArray;
    const imported = importOnnx(bytes);
    const got = new Session(imported.graph).run(
      imported.outputs[0],
      new Map([[imported.inputs.get('x') as Tensor, x]]),
    );
    expect(got.shape).toEqual(want.shape);
    expectClose(got, want, 2e-6, c.name);
  });
});

test('Conv over 4-D data is refused with a clear message (3-D: onnx-conv3d.test.ts)', () => {
  const c: ModelCase = { name: 'conv4d', opType: 'Conv', x: [1, 1, 3, 3, 3, 3], w: [1, 1, 2, 2, 2, 2], attrs: [] };
  expect(() => importOnnx(model(c, randomArray(new Rng(1), c.w, 'float32'), null))).toThrow(
    /needs data and weights of rank 3 or 4/,
  );
});

// ---- the gradient graph of a small conv net ----------------------------------------------------------------------

test('the gradient graph of a small conv net, exported, runs in ONNX Runtime with the same numbers', async () => {
  const rng = new Rng(1699);
  const g = new Graph();
  const x = g.placeholder('x', [null, 8, 8, 1]);
  const w1 = g.placeholder('w1', [3, 3, 1, 4]);
  const w2 = g.placeholder('w2', [3, 3, 4, 6]);
  const w3 = g.placeholder('w3', [2, 2, 6, 1]);
  const dense = g.placeholder('dense', [6 * 3 * 3, 3]);
  const h1 = L.relu(L.conv2d(x, w1, 1, 'same'));
  const h2 = L.tanh(L.conv2d(h1, w2, 2, 'valid'));
  const h3 = L.relu(L.depthwiseConv2d(h2, w3, 1, 'same'));
  const logits = L.matMul(L.reshape(h3, [-1, 6 * 3 * 3]), dense);
  const loss = L.sum(L.square(logits));
  const weights = [x, w1, w2, w3, dense];
  const grads = gradients(loss, weights) as Tensor[];
  const values = [
    randomArray(rng, [5, 8, 8, 1], 'float32'),
    ...[w1, w2, w3, dense].map((t) => randomArray(rng, t.shape as number[], 'float32', { lo: -0.5, hi: 0.5 })),
  ];
  const feeds = new Map(weights.map((t, i) => [t, values[i]] as Feed));
  const expected = new Session(g).run(grads, feeds);
  const outputs = Object.fromEntries(grads.map((d, i) => [`d${i}`, d]));
  const bytes = exportOnnx(g, { outputs });
  const got = await runOrt(bytes, new Map(weights.map((t, i) => [t.name, values[i]])));
  expected.forEach((want, i) => expectClose(got.get(`d${i}`) as NDArray, want, 1e-5, `gradient ${i}`));
  // And imported back (with annotations: by ONNX semantics alone, the Shape arithmetic the exporter writes for the
  // unknown batch of reshape's gradient is data lazygrad cannot import).
  const imported = importOnnx(bytes);
  const back = new Session(imported.graph).run(
    imported.outputs,
    new Map(weights.map((t, i) => [imported.inputs.get(t.name) as Tensor, values[i]])),
  );
  expected.forEach((want, i) => expectClose(back[i], want, 1e-5, `imported gradient ${i}`));
});
