/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * ONNX for the normalization ops and the activations step, hardSigmoid and hardSwish: each exported model run in
 * ONNX Runtime matches Session.run, and imports back with the same values; and one-node ONNX models of their ONNX
 * ops (BatchNormalization, LRN, HardSigmoid, HardSwish), run in ONNX Runtime, import with the same results.
 */
import { onnx } from 'onnx-proto';
import * as L from '../../src';
import { exportOnnx, Graph, importOnnx, NDArray, Session, Tensor } from '../../src';
import { expectClose, randomArray, RandomOptions, Rng } from '../ops/util';
import { runOrt } from './ort';

type Feed = [Tensor, NDArray];

interface ExportCase {
  readonly name: string;
  readonly build: (g: Graph, input: (name: string, shape: number[], options?: RandomOptions) => Tensor) => Tensor;
}

const positive: RandomOptions = { lo: 0.2, hi: 2 };
const wide: RandomOptions = { lo: -5, hi: 5 };

const EXPORTS: readonly ExportCase[] = [
  {
    name: 'batchNorm with offset and scale',
    build: (_g, input) =>
      L.batchNorm(
        input('x', [2, 3, 3, 4]),
        input('m', [4]),
        input('v', [4], positive),
        input('o', [4]),
        input('s', [4]),
        0.01,
      ),
  },
  {
    name: 'batchNorm without offset and scale',
    build: (_g, input) => L.batchNorm(input('x', [2, 5]), input('m', [5]), input('v', [5], positive)),
  },
  {
    name: 'batchNormTraining (its output, with the batch statistics)',
    build: (g, input) => {
      const moving = (name: string): Tensor =>
        g.variable(name, L.initializers.zeros(), { shape: [3, 1, 1], trainable: false });
      const x = input('x', [4, 3, 2, 2]);
      return L.batchNormTraining(x, moving('mm'), moving('mv'), input('o', [3, 1, 1]), input('s', [3, 1, 1]), {
        axes: [0, 2, 3],
      }).y;
    },
  },
  {
    name: 'layerNorm over the last two axes with gamma and beta',
    build: (_g, input) => L.layerNorm(input('x', [2, 3, 4]), [1, 2], 1e-5, input('g', [3, 4]), input('b', [3, 4])),
  },
  { name: 'windowSum along the last axis', build: (_g, input) => L.windowSum(input('x', [2, 3, 7]), -1, 2) },
  { name: 'windowSum along a middle axis', build: (_g, input) => L.windowSum(input('x', [2, 5, 3]), 1, 1) },
  { name: 'windowSum with radius 0', build: (_g, input) => L.windowSum(input('x', [2, 3]), 0, 0) },
  {
    name: 'localResponseNormalization (NHWC: LRN between Transposes)',
    build: (_g, input) => L.localResponseNormalization(input('x', [2, 3, 3, 8]), 2, 1.5, 0.3, 0.75),
  },
  {
    name: 'localResponseNormalization over axis 1 (NCHW: one LRN node)',
    build: (_g, input) => L.localResponseNormalization(input('x', [2, 6, 3, 3]), 1, 1, 0.5, 0.5, 1),
  },
  {
    name: 'localResponseNormalization over axis 0 of a rank-4 tensor',
    build: (_g, input) => L.localResponseNormalization(input('x', [5, 2, 3, 2]), 1, 2, 0.4, 1, 0),
  },
  {
    name: 'localResponseNormalization of rank 3 (the formula, as ONNX Runtime takes only 4-D)',
    build: (_g, input) => L.localResponseNormalization(input('x', [4, 3, 6]), 3, 1, 1, 0.75),
  },
  { name: 'step', build: (_g, input) => L.step(input('x', [2, 3, 4])) },
  { name: 'step with alpha', build: (_g, input) => L.step(input('x', [2, 3, 4]), -0.5) },
  { name: 'hardSigmoid (HardSigmoid)', build: (_g, input) => L.hardSigmoid(input('x', [2, 3, 4], wide), 0.25, 0.5) },
  {
    name: 'hardSigmoid with an alpha no float32 holds (Max, Min, Add, Mul)',
    build: (_g, input) => L.hardSigmoid(input('x', [2, 3, 4], wide), 0.1, 0.3),
  },
  { name: 'hardSwish (HardSwish)', build: (_g, input) => L.hardSwish(input('x', [2, 3, 4], wide)) },
  {
    name: 'the gradient of hardSwish and hardSigmoid',
    build: (_g, input) => {
      const x = input('x', [3, 5], wide);
      return L.gradients(L.sum(L.mul(L.hardSwish(x), L.hardSigmoid(x))), [x])[0] as Tensor;
    },
  },
  {
    name: 'the gradient of localResponseNormalization',
    build: (_g, input) => {
      const x = input('x', [1, 2, 2, 6]);
      return L.gradients(L.sum(L.square(L.localResponseNormalization(x, 1, 1, 0.5, 0.75))), [x])[0] as Tensor;
    },
  },
];

function built(c: ExportCase, seed: number): { y: Tensor; graph: Graph; feeds: Feed[]; expected: NDArray } {
  const rng = new Rng(seed);
  const graph = new Graph();
  const feeds: Feed[] = [];
  const input = (name: string, shape: number[], options: RandomOptions = {}): Tensor => {
    const t = graph.placeholder(name, shape);
    feeds.push([t, randomArray(rng, shape, 'float32', options)]);
    return t;
  };
  const y = c.build(graph, input);
  return { y, graph, feeds, expected: new Session(graph).run(y, new Map(feeds)) };
}

describe.each(EXPORTS.map((c, i) => [c.name, c, i] as const))('export: %s', (_name, c, index) => {
  test('the exported model run in ONNX Runtime matches Session.run', async () => {
    const { y, graph, feeds, expected } = built(c, 700 + index);
    const outputs = await runOrt(exportOnnx(graph, { outputs: { y } }), new Map(feeds.map(([t, v]) => [t.name, v])));
    expectClose(outputs.get('y') as NDArray, expected, 2e-6, c.name);
  });

  test('imported back by ONNX semantics alone, it gives the same values', () => {
    const { y, graph, feeds, expected } = built(c, 700 + index);
    const imported = importOnnx(exportOnnx(graph, { outputs: { y }, annotations: false }), {
      annotations: false,
    });
    const fed = new Map(feeds.map(([t, v]) => [imported.inputs.get(t.name) as Tensor, v]));
    expectClose(new Session(imported.graph).run(imported.outputs[0], fed), expected, 2e-6, c.name);
  });
});

// ---- one-node ONNX models, as other tools write them ---------------------------------------------------

const AttributeType = onnx.AttributeProto.AttributeType;
type Attr = onnx.IAttributeProto;
const float = (name: string, f: number): Attr => ({ name, type: AttributeType.FLOAT, f });

interface ImportCase {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly (readonly [string, NDArray])[];
  readonly attrs?: readonly Attr[];
  readonly opset?: number;
}

const rng = new Rng(1616);
const image = randomArray(rng, [2, 3, 4, 5], 'float32');

const IMPORTS: ImportCase[] = [
  {
    name: 'BatchNormalization (NCHW, per channel)',
    opType: 'BatchNormalization',
    inputs: [
      ['x', image],
      ['s', randomArray(rng, [3], 'float32')],
      ['b', randomArray(rng, [3], 'float32')],
      ['m', randomArray(rng, [3], 'float32')],
      ['v', randomArray(rng, [3], 'float32', positive)],
    ],
    attrs: [float('epsilon', 1e-3)],
    opset: 11,
  },
];

const lrn = (size: number, alpha: number, beta: number, bias: number): ImportCase => ({
  name: `LRN size ${size}, alpha ${alpha}, beta ${beta}, bias ${bias} (ONNX divides alpha by size)`,
  opType: 'LRN',
  inputs: [['x', randomArray(rng, [2, 6, 3, 3], 'float32')]],
  attrs: [
    { name: 'size', type: AttributeType.INT, i: size },
    float('alpha', alpha),
    float('beta', beta),
    float('bias', bias),
  ],
});
IMPORTS.push(lrn(3, 0.9, 0.75, 1), lrn(5, 2, 0.5, 2), lrn(1, 1e-4, 0.75, 1));
const wideImage = randomArray(rng, [2, 3, 4, 5], 'float32', wide);
IMPORTS.push(
  { name: 'HardSigmoid with its defaults', opType: 'HardSigmoid', inputs: [['x', wideImage]] },
  {
    name: 'HardSigmoid with alpha and beta',
    opType: 'HardSigmoid',
    inputs: [['x', wideImage]],
    attrs: [float('alpha', 0.3), float('beta', 0.4)],
    opset: 6,
  },
  { name: 'HardSwish', opType: 'HardSwish', inputs: [['x', wideImage]], opset: 14 },
);

function model(c: ImportCase): Uint8Array {
  const proto: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'hand-written',
    opsetImport: [{ domain: '', version: c.opset ?? 17 }],
    graph: {
      name: c.name,
      node: [{ opType: c.opType, input: c.inputs.map(([n]) => n), output: ['y'], attribute: [...(c.attrs ?? [])] }],
      input: c.inputs.map(([name, v]) => ({
        name,
        type: { tensorType: { elemType: 1, shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
      })),
      output: [{ name: 'y' }],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

test.each(IMPORTS.map((c) => [c.name, c] as const))('import: %s computes what ONNX Runtime computes', async (_n, c) => {
  const bytes = model(c);
  const expected = (await runOrt(bytes, new Map(c.inputs))).get('y') as NDArray;
  const imported = importOnnx(bytes);
  const feeds = new Map(c.inputs.map(([name, v]) => [imported.inputs.get(name) as Tensor, v]));
  expectClose(new Session(imported.graph).run(imported.outputs[0], feeds), expected, 2e-6, c.name);
});

test('an LRN of even size (a lopsided window) is refused, naming the size', () => {
  const c = lrn(4, 1, 0.75, 1);
  expect(() => importOnnx(model(c))).toThrow(/LRN with size 4 is not supported/);
});

test('HardSigmoid and HardSwish import as one hardSigmoid / hardSwish node', () => {
  const sigmoid = importOnnx(model(IMPORTS.find((c) => c.opType === 'HardSigmoid') as ImportCase));
  expect(sigmoid.graph.nodes.map((n) => n.op)).toContain('hardSigmoid');
  const swish = importOnnx(model(IMPORTS.find((c) => c.opType === 'HardSwish') as ImportCase));
  expect(swish.graph.nodes.map((n) => n.op)).toContain('hardSwish');
});

test('HardSwish before opset 14 is refused', () => {
  const c = IMPORTS.find((i) => i.opType === 'HardSwish') as ImportCase;
  expect(() => importOnnx(model({ ...c, opset: 13 }))).toThrow(/HardSwish does not exist at opset 13/);
});

test('hardSigmoid with constant alpha and beta exports as one HardSigmoid node', () => {
  const g = new Graph();
  const y = L.hardSigmoid(g.placeholder('x', [3]), 0.25, 0.5);
  const decoded = onnx.ModelProto.decode(exportOnnx(g, { outputs: { y }, annotations: false }));
  expect(decoded.graph?.node?.map((n) => n.opType).filter((op) => op !== 'Identity')).toEqual(['HardSigmoid']);
});

test('a float32 rank-4 localResponseNormalization exports as one LRN node with alpha times size', () => {
  const g = new Graph();
  const y = L.localResponseNormalization(g.placeholder('x', [1, 5, 2, 2]), 2, 1, 0.1, 0.75, 1);
  const decoded = onnx.ModelProto.decode(exportOnnx(g, { outputs: { y }, annotations: false }));
  const lrnNodes = decoded.graph?.node?.filter((n) => n.opType === 'LRN') ?? [];
  expect(lrnNodes.length).toBe(1);
  const size = lrnNodes[0].attribute?.find((a) => a.name === 'size')?.i;
  const alpha = lrnNodes[0].attribute?.find((a) => a.name === 'alpha')?.f as number;
  expect(Number(size)).toBe(5);
  expect(alpha).toBeCloseTo(0.5, 6);
});
