/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * batchNorm exported as one ONNX BatchNormalization node where the graph holds its inference pattern (channel axis
 * moved to 1 by transposes when it is last), checked in ONNX Runtime and imported back; the cases that keep the
 * elementwise export (a gradient through the pattern, an inner node as an output, an ε float32 cannot hold in a
 * float64 graph); and an imported BatchNormalization model exported again as one node.
 */
import { onnx } from 'onnx-proto';
import * as L from '../../src';
import { exportOnnx, Graph, gradients, importOnnx, NDArray, Session, Tensor } from '../../src';
import { expectClose, randomArray, RandomOptions, Rng } from '../ops/util';
import { runOrt } from './ort';

type Feed = [Tensor, NDArray];
const positive: RandomOptions = { lo: 0.2, hi: 2 };

interface Case {
  readonly name: string;
  readonly build: (input: (name: string, shape: number[], options?: RandomOptions) => Tensor) => Tensor;
  /** How many BatchNormalization nodes the export holds. */
  readonly nodes: number;
  readonly dtype?: 'float32' | 'float64';
}

const CASES: readonly Case[] = [
  {
    name: 'NHWC [2, 3, 3, 4] with [4] statistics, offset and scale (Transposes around it)',
    build: (input) =>
      L.batchNorm(
        input('x', [2, 3, 3, 4]),
        input('m', [4]),
        input('v', [4], positive),
        input('o', [4]),
        input('s', [4]),
        0.01,
      ),
    nodes: 1,
  },
  {
    name: 'NCHW [2, 3, 4, 2] with [3, 1, 1] statistics (no Transpose)',
    build: (input) =>
      L.batchNorm(
        input('x', [2, 3, 4, 2]),
        input('m', [3, 1, 1]),
        input('v', [3, 1, 1], positive),
        input('o', [3, 1, 1]),
        input('s', [3, 1, 1]),
      ),
    nodes: 1,
  },
  {
    name: '[5, 6] without offset and scale (ones and zeros)',
    build: (input) => L.batchNorm(input('x', [5, 6]), input('m', [6]), input('v', [6], positive)),
    nodes: 1,
  },
  {
    name: 'scale only, then relu (the pattern inside a larger graph)',
    build: (input) =>
      L.relu(L.batchNorm(input('x', [2, 4, 3]), input('m', [3]), input('v', [3], positive), null, input('s', [3]))),
    nodes: 1,
  },
  {
    name: 'float64 with an ε float32 holds exactly (2^-10)',
    build: (input) =>
      L.batchNorm(
        input('x', [2, 3, 5]),
        input('m', [5]),
        input('v', [5], positive),
        input('o', [5]),
        input('s', [5]),
        2 ** -10,
      ),
    nodes: 1,
    dtype: 'float64',
  },
  {
    name: 'float64 with ε 0.001, which float32 cannot hold: elementwise',
    build: (input) => L.batchNorm(input('x', [2, 3, 5]), input('m', [5]), input('v', [5], positive)),
    nodes: 0,
    dtype: 'float64',
  },
  {
    name: 'statistics over two axes ([3, 4] against [2, 3, 4]): elementwise',
    build: (input) => L.batchNorm(input('x', [2, 3, 4]), input('m', [3, 4]), input('v', [3, 4], positive)),
    nodes: 0,
  },
];

function build(c: Case, seed: number): { graph: Graph; y: Tensor; feeds: Feed[] } {
  const rng = new Rng(seed);
  const graph = new Graph();
  const feeds: Feed[] = [];
  const input = (name: string, shape: number[], options?: RandomOptions): Tensor => {
    const x = graph.placeholder(name, shape, c.dtype ?? 'float32');
    feeds.push([x, randomArray(rng, shape, c.dtype ?? 'float32', options)]);
    return x;
  };
  return { graph, y: c.build(input), feeds };
}

const opTypes = (bytes: Uint8Array): string[] =>
  (onnx.ModelProto.decode(bytes).graph?.node ?? []).map((n) => n.opType ?? '');
const count = (types: readonly string[], op: string): number => types.filter((t) => t === op).length;
const byName = (feeds: readonly Feed[]): Map<string, NDArray> => new Map(feeds.map(([t, v]) => [t.name, v]));

describe.each(CASES.map((c, i) => [c.name, c, i] as const))('batchNorm %s', (_name, c, index) => {
  test('exports with the expected BatchNormalization nodes, runs in ONNX Runtime and imports back', async () => {
    const { graph, y, feeds } = build(c, 2100 + index);
    const expected = new Session(graph).run(y, new Map(feeds));
    const bytes = exportOnnx(graph, { outputs: { y } });
    const types = opTypes(bytes);
    expect(count(types, 'BatchNormalization')).toBe(c.nodes);
    if (c.nodes > 0) expect(types).not.toContain('Sqrt');
    const tol = c.dtype === 'float64' ? 1e-12 : 2e-6;
    expectClose((await runOrt(bytes, byName(feeds))).get('y') as NDArray, expected, tol, c.name);
    for (const annotations of [true, false]) {
      const imported = importOnnx(bytes, { annotations });
      const got = new Session(imported.graph).run(
        imported.outputs[0],
        new Map(feeds.map(([t, v]) => [imported.inputs.get(t.name) as Tensor, v])),
      );
      expectClose(got, expected, tol, `${c.name}, imported with annotations: ${annotations}`);
    }
  });
});

test('a gradient through batchNorm reads its inner nodes: the elementwise export, still equal in ONNX Runtime', async () => {
  const g = new Graph();
  const x = g.placeholder('x', [2, 3, 4]);
  const m = g.placeholder('m', [4]);
  const v = g.placeholder('v', [4]);
  const y = L.batchNorm(x, m, v, null, null, 0.01);
  const [dx] = gradients(L.sum(L.square(y)), [x]) as Tensor[];
  const rng = new Rng(2150);
  const feeds: Feed[] = [
    [x, randomArray(rng, [2, 3, 4], 'float32')],
    [m, randomArray(rng, [4], 'float32')],
    [v, randomArray(rng, [4], 'float32', positive)],
  ];
  const [wantY, wantDx] = new Session(g).run([y, dx], new Map(feeds));
  const bytes = exportOnnx(g, { outputs: { y, dx } });
  expect(opTypes(bytes)).not.toContain('BatchNormalization');
  const got = await runOrt(bytes, byName(feeds));
  expectClose(got.get('y') as NDArray, wantY, 2e-6);
  expectClose(got.get('dx') as NDArray, wantDx, 2e-5);
});

test('an inner node among the outputs keeps the elementwise export', () => {
  const g = new Graph();
  const x = g.placeholder('x', [2, 4]);
  const y = L.batchNorm(x, [0, 1, 2, 3], [1, 2, 3, 4]);
  const centered = g.nodes.find((n) => n.op === 'sub') as { name: string; id: number };
  const bytes = exportOnnx(g, { outputs: { y, centered: g.tensor(centered.id) } });
  expect(opTypes(bytes)).not.toContain('BatchNormalization');
});

test('an imported NCHW BatchNormalization model is exported again as one BatchNormalization node', async () => {
  const rng = new Rng(2160);
  const stat = (name: string, options?: RandomOptions) => {
    const value = randomArray(rng, [3], 'float32', options);
    return { name, dims: [3], dataType: 1, floatData: Array.from(value.data) };
  };
  const proto: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 15 }],
    graph: {
      name: 'bn',
      node: [
        {
          opType: 'BatchNormalization',
          input: ['x', 's', 'b', 'm', 'v'],
          output: ['y'],
          attribute: [{ name: 'epsilon', type: 1, f: 0.001 }],
        },
      ],
      initializer: [stat('s'), stat('b'), stat('m'), stat('v', positive)],
      input: [
        {
          name: 'x',
          type: { tensorType: { elemType: 1, shape: { dim: [2, 3, 4, 5].map((d) => ({ dimValue: d })) } } },
        },
      ],
      output: [{ name: 'y' }],
    },
  };
  const bytes = onnx.ModelProto.encode(proto).finish();
  const x = randomArray(rng, [2, 3, 4, 5], 'float32');
  const want = (await runOrt(bytes, new Map([['x', x]]))).get('y') as NDArray;
  const imported = importOnnx(bytes);
  const input = imported.inputs.get('x') as Tensor;
  expectClose(new Session(imported.graph).run(imported.outputs[0], new Map([[input, x]])), want, 2e-6);
  const again = exportOnnx(imported.graph, { outputs: { y: imported.outputs[0] } });
  const types = opTypes(again);
  expect(count(types, 'BatchNormalization')).toBe(1);
  expect(types).not.toContain('Transpose');
  expectClose((await runOrt(again, new Map([[input.name, x]]))).get('y') as NDArray, want, 2e-6);
});
