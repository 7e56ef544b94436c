/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Pooling and ONNX: lazygrad's NHWC pooling ops and their gradient ops exported (NCHW nodes between transposes) and
 * run in ONNX Runtime, imported back; and ONNX MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool nodes as
 * other tools write them (asymmetric pads, auto_pad, ceil_mode, count_include_pad) imported and compared with ONNX
 * Runtime.
 */
import { onnx } from 'onnx-proto';
import * as L from '../../src';
import { exportOnnx, gradients, Graph, importOnnx, NDArray, optimize, Session, Tensor } from '../../src';
import { expectClose, randomArray, Rng } from '../ops/util';
import { runOrt } from './ort';

type Feed = [Tensor, NDArray];

interface ExportCase {
  readonly name: string;
  readonly build: (x: Tensor) => Tensor;
  readonly shape: readonly number[];
  /** Why importing by ONNX semantics alone is not tested (lazygrad does not read the ONNX ops it exports to). */
  readonly plain?: string;
  /** The export opset (AveragePool has dilations from 19). */
  readonly opset?: number;
}

/** sum(sin(f(sin x)) · cos 3f(sin x)) differentiated with respect to x: a pool's gradient graph, smooth around it. */
function gradientOf(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => {
    const y = f(L.sin(x));
    const [dx] = gradients(L.sum(L.mul(L.sin(y), L.cos(L.mul(y, 3)))), [x]);
    return dx as Tensor;
  };
}

/** The gradient of the gradient's sum: runs the gradient ops' own gradients (maxPoolGradGrad, avgPool). */
function secondOf(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => {
    const [d2] = gradients(L.sum(L.square(gradientOf(f)(x))), [x]);
    return d2 as Tensor;
  };
}

const GRADIENT_OPS = 'the exported gradient uses ScatterElements/ConvTranspose, which the importer does not read';

const EXPORT_CASES: readonly ExportCase[] = [
  { name: 'maxPool 2 / 2 valid', shape: [2, 4, 4, 3], build: (x) => L.maxPool(x, 2, 2, 'valid') },
  { name: 'maxPool 3 / 2 same', shape: [1, 5, 6, 2], build: (x) => L.maxPool(x, 3, 2, 'same') },
  { name: 'maxPool 3 / 1 same', shape: [1, 4, 4, 2], build: (x) => L.maxPool(x, 3, 1, 'same') },
  { name: 'maxPool with ceil rounding', shape: [1, 6, 6, 2], build: (x) => L.maxPool(x, 3, 2, 1, 'ceil') },
  { name: 'avgPool 2 / 2 valid', shape: [2, 4, 4, 3], build: (x) => L.avgPool(x, 2, 2, 'valid') },
  { name: 'avgPool 3 / 2 same', shape: [1, 5, 6, 2], build: (x) => L.avgPool(x, 3, 2, 'same') },
  { name: 'avgPool [2, 3] / [1, 2] same', shape: [1, 5, 6, 2], build: (x) => L.avgPool(x, [2, 3], [1, 2], 'same') },
  {
    name: 'maxPoolWithArgmax indexes (maxPoolArgmax)',
    shape: [2, 5, 4, 3],
    build: (x) => L.maxPoolWithArgmax(x, 3, 2, 'same').indexes,
  },
  {
    name: 'maxPoolWithArgmax indexes with the batch',
    shape: [2, 4, 6, 2],
    build: (x) => L.maxPoolWithArgmax(x, 2, [1, 2], 'valid', true).indexes,
  },
  { name: 'pool max, dilation 2, same', shape: [1, 7, 6, 2], build: (x) => L.pool(x, 3, 'max', 'same', 2) },
  {
    name: 'pool avg, dilations [2, 1], stride 2 (opset 19)',
    shape: [2, 7, 6, 2],
    build: (x) => L.pool(x, [2, 3], 'avg', 'same', [2, 1], 2),
    opset: 19,
  },
  {
    name: 'the gradient of dilated max pooling',
    shape: [1, 7, 7, 2],
    build: gradientOf((x) => L.pool(x, 2, 'max', 'same', 2, 2)),
    plain: GRADIENT_OPS,
  },
  {
    name: 'the gradient of dilated average pooling (opset 19)',
    shape: [1, 7, 8, 2],
    build: gradientOf((x) => L.pool(x, 3, 'avg', 'same', 2)),
    plain: GRADIENT_OPS,
    opset: 19,
  },
  { name: 'globalAvgPool', shape: [2, 3, 4, 5], build: (x) => L.globalAvgPool(x) },
  { name: 'globalMaxPool', shape: [2, 3, 4, 5], build: (x) => L.globalMaxPool(x, true) },
  {
    name: 'the gradient of maxPool (maxPoolGrad)',
    shape: [2, 5, 5, 3],
    build: gradientOf((x) => L.maxPool(x, 3, 2, 'same')),
    plain: GRADIENT_OPS,
  },
  {
    name: 'the gradient of overlapping maxPool windows',
    shape: [1, 4, 4, 2],
    build: gradientOf((x) => L.maxPool(x, 3, 1, 'same')),
    plain: GRADIENT_OPS,
  },
  {
    name: 'the gradient of avgPool (avgPoolGrad)',
    shape: [2, 5, 6, 3],
    build: gradientOf((x) => L.avgPool(x, 3, 2, 'same')),
    plain: GRADIENT_OPS,
  },
  {
    name: 'the gradient of avgPool with rows no window reaches',
    shape: [1, 7, 5, 2],
    build: gradientOf((x) => L.avgPool(x, 2, 3, 'valid')),
    plain: GRADIENT_OPS,
  },
  {
    name: 'the second derivative of maxPool (maxPoolGradGrad)',
    shape: [1, 5, 5, 2],
    build: secondOf((x) => L.maxPool(x, 2, 2, 'same')),
    plain: GRADIENT_OPS,
  },
  {
    name: 'the second derivative of avgPool',
    shape: [1, 5, 5, 2],
    build: secondOf((x) => L.avgPool(x, 3, 2, 'same')),
    plain: GRADIENT_OPS,
  },
];

function built(c: ExportCase, seed: number): { graph: Graph; y: Tensor; feeds: Feed[]; expected: NDArray } {
  const graph = new Graph();
  const x = graph.placeholder('x', [...c.shape]);
  const feeds: Feed[] = [[x, randomArray(new Rng(seed), c.shape, 'float32')]];
  const y = c.build(x);
  return { graph, y, feeds, expected: new Session(graph).run(y, new Map(feeds)) };
}

function runImported(bytes: Uint8Array, feeds: readonly Feed[], annotations: boolean): NDArray {
  const imported = importOnnx(bytes, { annotations, initializersAs: 'constant' });
  const fed = new Map(feeds.map(([t, v]) => [imported.inputs.get(t.name) as Tensor, v]));
  return new Session(imported.graph).run(imported.outputs[0], fed);
}

const byName = (feeds: readonly Feed[]): Map<string, NDArray> => new Map(feeds.map(([t, v]) => [t.name, v]));

describe.each(EXPORT_CASES.map((c, i) => [c.name, c, i] as const))('exported: %s', (_name, c, index) => {
  const seed = 500 + index;

  test('runs in ONNX Runtime with the values of Session.run', async () => {
    const { graph, y, feeds, expected } = built(c, seed);
    const outputs = await runOrt(exportOnnx(graph, { outputs: { y }, opset: c.opset }), byName(feeds));
    expectClose(outputs.get('y') as NDArray, expected, 2e-5, c.name);
  });

  test('imported back with annotations, gives the same values', () => {
    const { graph, y, feeds, expected } = built(c, seed);
    expectClose(runImported(exportOnnx(graph, { outputs: { y }, opset: c.opset }), feeds, true), expected, 0, c.name);
  });

  const plain = c.plain === undefined ? test : test.skip;
  plain('imported back by ONNX semantics alone, gives the same values', () => {
    const { graph, y, feeds, expected } = built(c, seed);
    const bytes = exportOnnx(graph, { outputs: { y }, annotations: false, opset: c.opset });
    expectClose(runImported(bytes, feeds, false), expected, 2e-6, c.name);
  });
});

// ---- ONNX nodes as other tools write them --------------------------------------------------------------------------

const AttributeType = onnx.AttributeProto.AttributeType;
type Attr = onnx.IAttributeProto;
const int = (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i });
const ints = (name: string, values: number[]): Attr => ({ name, type: AttributeType.INTS, ints: values });
const str = (name: string, s: string): Attr => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(s) });

interface NodeCase {
  readonly name: string;
  readonly opType: 'MaxPool' | 'AveragePool' | 'GlobalAveragePool' | 'GlobalMaxPool';
  readonly shape: readonly number[];
  readonly attrs?: readonly Attr[];
  readonly opset?: number;
  /** MaxPool's outputs: 2 asks for Indices too. */
  readonly outputs?: number;
}

const k = (h: number, w = h): Attr => ints('kernel_shape', [h, w]);
const s = (h: number, w = h): Attr => ints('strides', [h, w]);

const NODE_CASES: readonly NodeCase[] = [
  { name: 'MaxPool 2×2', opType: 'MaxPool', shape: [2, 3, 4, 4], attrs: [k(2), s(2)] },
  { name: 'MaxPool default strides', opType: 'MaxPool', shape: [1, 2, 5, 5], attrs: [k(3)] },
  {
    name: 'MaxPool asymmetric pads',
    opType: 'MaxPool',
    shape: [1, 2, 6, 5],
    attrs: [k(3), s(2), ints('pads', [0, 1, 2, 0])],
  },
  {
    name: 'MaxPool SAME_UPPER',
    opType: 'MaxPool',
    shape: [1, 2, 6, 7],
    attrs: [k(3), s(2), str('auto_pad', 'SAME_UPPER')],
  },
  {
    name: 'MaxPool SAME_LOWER',
    opType: 'MaxPool',
    shape: [1, 2, 6, 7],
    attrs: [k(2), s(1), str('auto_pad', 'SAME_LOWER')],
  },
  {
    name: 'MaxPool VALID',
    opType: 'MaxPool',
    shape: [1, 2, 7, 6],
    attrs: [k(3, 2), s(2, 1), str('auto_pad', 'VALID')],
  },
  { name: 'MaxPool ceil_mode', opType: 'MaxPool', shape: [1, 2, 6, 6], attrs: [k(3), s(2), int('ceil_mode', 1)] },
  {
    name: 'MaxPool ceil_mode with pads',
    opType: 'MaxPool',
    shape: [1, 2, 7, 8],
    attrs: [k(2), s(2), ints('pads', [1, 1, 1, 1]), int('ceil_mode', 1)],
  },
  {
    name: 'MaxPool with Indices',
    opType: 'MaxPool',
    shape: [2, 3, 5, 4],
    attrs: [k(3), s(2), ints('pads', [1, 0, 1, 1])],
    outputs: 2,
  },
  {
    name: 'MaxPool with Indices in column-major order',
    opType: 'MaxPool',
    shape: [2, 2, 4, 5],
    attrs: [k(2), s(1), int('storage_order', 1)],
    outputs: 2,
  },
  {
    name: 'MaxPool dilations with pads',
    opType: 'MaxPool',
    shape: [1, 2, 8, 7],
    attrs: [k(3), s(2), ints('dilations', [2, 2]), ints('pads', [1, 2, 2, 1])],
    outputs: 2,
  },
  {
    name: 'MaxPool dilations SAME_UPPER',
    opType: 'MaxPool',
    shape: [1, 2, 7, 7],
    attrs: [k(2), s(1), ints('dilations', [2, 3]), str('auto_pad', 'SAME_UPPER')],
  },
  {
    name: 'MaxPool dilations ceil_mode',
    opType: 'MaxPool',
    shape: [1, 2, 8, 8],
    attrs: [k(2), s(2), ints('dilations', [2, 2]), int('ceil_mode', 1)],
  },
  {
    name: 'AveragePool dilations (opset 19)',
    opType: 'AveragePool',
    shape: [1, 2, 8, 7],
    attrs: [k(3), s(1), ints('dilations', [2, 2]), ints('pads', [1, 1, 2, 2])],
    opset: 19,
  },
  { name: 'MaxPool at opset 9', opType: 'MaxPool', shape: [1, 2, 5, 5], attrs: [k(2), s(2)], opset: 9 },
  { name: 'AveragePool 2×2', opType: 'AveragePool', shape: [2, 3, 4, 4], attrs: [k(2), s(2)] },
  {
    name: 'AveragePool pads, padding left out of the count',
    opType: 'AveragePool',
    shape: [1, 2, 5, 6],
    attrs: [k(3), s(2), ints('pads', [1, 0, 1, 2])],
  },
  {
    name: 'AveragePool count_include_pad',
    opType: 'AveragePool',
    shape: [1, 2, 5, 6],
    attrs: [k(3), s(2), ints('pads', [1, 1, 1, 2]), int('count_include_pad', 1)],
  },
  {
    name: 'AveragePool SAME_UPPER',
    opType: 'AveragePool',
    shape: [1, 3, 5, 5],
    attrs: [k(3), s(2), str('auto_pad', 'SAME_UPPER')],
  },
  {
    name: 'AveragePool ceil_mode',
    opType: 'AveragePool',
    shape: [1, 2, 7, 7],
    attrs: [k(2), s(2), int('ceil_mode', 1)],
  },
  { name: 'AveragePool at opset 11', opType: 'AveragePool', shape: [1, 2, 6, 6], attrs: [k(3), s(3)], opset: 11 },
  {
    name: '1-D MaxPool with pads and Indices',
    opType: 'MaxPool',
    shape: [2, 3, 9],
    attrs: [ints('kernel_shape', [3]), ints('strides', [2]), ints('pads', [1, 2])],
    outputs: 2,
  },
  {
    name: '1-D AveragePool SAME_UPPER',
    opType: 'AveragePool',
    shape: [2, 3, 8],
    attrs: [ints('kernel_shape', [3]), ints('strides', [3]), str('auto_pad', 'SAME_UPPER')],
  },
  {
    name: '1-D AveragePool ceil_mode',
    opType: 'AveragePool',
    shape: [1, 2, 8],
    attrs: [ints('kernel_shape', [3]), ints('strides', [2]), int('ceil_mode', 1)],
  },
  { name: 'GlobalAveragePool', opType: 'GlobalAveragePool', shape: [2, 3, 4, 5] },
  { name: 'GlobalMaxPool', opType: 'GlobalMaxPool', shape: [2, 3, 4, 5] },
  { name: 'GlobalAveragePool over one spatial axis', opType: 'GlobalAveragePool', shape: [2, 3, 7] },
];

function nodeModel(c: NodeCase): Uint8Array {
  const outputs = c.outputs === 2 ? ['y', 'indices'] : ['y'];
  const proto: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'hand-written',
    opsetImport: [{ domain: '', version: c.opset ?? 17 }],
    graph: {
      name: c.name,
      node: [{ opType: c.opType, input: ['x'], output: outputs, attribute: [...(c.attrs ?? [])], name: 'the-node' }],
      input: [
        { name: 'x', type: { tensorType: { elemType: 1, shape: { dim: c.shape.map((d) => ({ dimValue: d })) } } } },
      ],
      output: outputs.map((name) => ({ name })),
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

describe.each(NODE_CASES.map((c, i) => [c.name, c, i] as const))('imported ONNX node: %s', (_name, c, index) => {
  test('computes what ONNX Runtime computes', async () => {
    const bytes = nodeModel(c);
    const x = randomArray(new Rng(700 + index), c.shape, 'float32');
    const expected = (await runOrt(bytes, new Map([['x', x]]))).get('y') as NDArray;
    const imported = importOnnx(bytes);
    const actual = new Session(imported.graph).run(
      imported.outputs[0],
      new Map([[imported.inputs.get('x') as Tensor, x]]),
    );
    expectClose(actual, expected, 2e-6, c.name);
  });
});

test('a dilated avgPool exported before opset 19 says AveragePool takes dilations from 19', () => {
  const g = new Graph();
  const y = L.pool(g.placeholder('x', [1, 5, 5, 1]), 2, 'avg', 'valid', 2);
  expect(() => exportOnnx(g, { outputs: { y } })).toThrow(/AveragePool takes from opset 19/);
});

test('an ONNX pooling node lazygrad cannot map says why', () => {
  const dilated = nodeModel({
    name: 'dilated',
    opType: 'MaxPool',
    shape: [1, 1, 5, 5],
    attrs: [k(2), ints('dilations', [0, 2])],
  });
  expect(() => importOnnx(dilated)).toThrow(/dilations \[0,2\] must be 2 positive integers/);
  const fourD = nodeModel({
    name: '4-D',
    opType: 'MaxPool',
    shape: [1, 1, 3, 3, 3, 3],
    attrs: [ints('kernel_shape', [2, 2, 2, 2])],
  });
  expect(() => importOnnx(fourD)).toThrow(/only 1-D, 2-D and 3-D pooling/);
});

test('the transposes between two imported pooling nodes cancel when the graph is optimized', () => {
  const proto: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'two pools',
      node: [
        { opType: 'MaxPool', input: ['x'], output: ['h'], attribute: [k(2), s(2)] },
        { opType: 'AveragePool', input: ['h'], output: ['y'], attribute: [k(2), s(1)] },
      ],
      input: [
        {
          name: 'x',
          type: { tensorType: { elemType: 1, shape: { dim: [1, 2, 8, 8].map((d) => ({ dimValue: d })) } } },
        },
      ],
      output: [{ name: 'y' }],
    },
  };
  const imported = importOnnx(onnx.ModelProto.encode(proto).finish());
  const { graph } = optimize(imported.graph, imported.outputs);
  const ops = graph.nodes.map((n) => n.op);
  expect(ops.filter((op) => op === 'transpose')).toHaveLength(2);
  expect(ops).toEqual(expect.arrayContaining(['maxPool', 'avgPool']));
});
