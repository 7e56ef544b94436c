/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * fusedMatMul through ONNX: Gemm for 2-D operands, MatMul + Add for batched ones, then Relu/Sigmoid/Tanh. The
 * exported model runs in ONNX Runtime as in Session.run, and imports back (with and without annotations) to the
 * same values; an optimized MLP graph, where the epilogue pass made the fusedMatMuls, exports too.
 */
import {
  add,
  exportOnnx,
  FusedActivation,
  fused,
  Graph,
  importOnnx,
  matMul,
  NDArray,
  optimize,
  relu,
  Session,
  sum,
  Tensor,
} from '../../src';
import { onnx } from 'onnx-proto';
import { expectClose, randomArray, Rng } from '../ops/util';
import { runOrt } from './ort';

interface Case {
  readonly name: string;
  readonly a: number[];
  readonly b: number[];
  readonly bias: number[];
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
  readonly dtype?: 'float32' | 'float64';
}

const CASES: readonly Case[] = [
  { name: '2-D (Gemm)', a: [3, 4], b: [4, 5], bias: [5] },
  { name: '2-D transposed, [1, N] bias', a: [4, 3], b: [5, 4], bias: [1, 5], transposeA: true, transposeB: true },
  { name: 'batched (MatMul + Add)', a: [2, 3, 4], b: [4, 5], bias: [1, 1, 5], transposeB: false },
  { name: 'batched with transposeA (MatMul + Add)', a: [2, 4, 3], b: [2, 4, 5], bias: [5], transposeA: true },
  { name: '2-D float64 (Gemm)', a: [3, 4], b: [4, 5], bias: [5], dtype: 'float64' },
]; // prettier-ignore

const ACTIVATIONS: readonly FusedActivation[] = ['none', 'relu', 'sigmoid', 'tanh'];

function build(c: Case, activation: FusedActivation, seed: number) {
  const rng = new Rng(seed);
  const g = new Graph();
  const dtype = c.dtype ?? 'float32';
  const inputs = [c.a, c.b, c.bias].map((shape, i) => g.placeholder(['a', 'b', 'bias'][i], shape, dtype));
  const [a, b, bias] = inputs;
  const y = fused.matMul({ a, b, bias, activation, transposeA: c.transposeA, transposeB: c.transposeB });
  const feeds = new Map(inputs.map((t) => [t.name, randomArray(rng, t.shape as number[], dtype)]));
  const expected = new Session(g).run(y, new Map(inputs.map((t) => [t, feeds.get(t.name) as NDArray])));
  return { g, y, feeds, expected, inputs };
}

function runImported(bytes: Uint8Array, feeds: ReadonlyMap<string, NDArray>, annotations: boolean) {
  const imported = importOnnx(bytes, { annotations });
  const inputs = new Map([...feeds].map(([name, value]) => [imported.inputs.get(name) as Tensor, value]));
  return { graph: imported.graph, value: new Session(imported.graph).run(imported.outputs[0], inputs) };
}

describe.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, index) => {
  const tol = c.dtype === 'float64' ? 1e-12 : 2e-6;

  test.each(ACTIVATIONS)('%s: the exported model runs in ONNX Runtime as in Session.run', async (activation) => {
    const { g, y, feeds, expected } = build(c, activation, 300 + index);
    const outputs = await runOrt(exportOnnx(g, { outputs: { y } }), feeds);
    expectClose(outputs.get('y') as NDArray, expected, tol);
  });

  test('exports as Gemm for 2-D operands, else MatMul + Add, then the activation', () => {
    const { g, y } = build(c, 'sigmoid', 350 + index);
    const types = onnx.ModelProto.decode(exportOnnx(g, { outputs: { y } })).graph?.node?.map((n) => n.opType) ?? [];
    const core = c.a.length === 2 && c.b.length === 2 ? ['Gemm'] : ['MatMul', 'Add'];
    expect(types.filter((t) => t !== 'Transpose' && t !== 'Identity')).toEqual([...core, 'Sigmoid']);
  });

  test('imports back with annotations as one fusedMatMul, and by ONNX semantics alone to the same values', () => {
    const { g, y, feeds, expected } = build(c, 'relu', 400 + index);
    const annotated = runImported(exportOnnx(g, { outputs: { y } }), feeds, true);
    expect(annotated.graph.nodes.filter((n) => n.op === 'fusedMatMul')).toHaveLength(1);
    expectClose(annotated.value, expected, 0);
    const plain = runImported(exportOnnx(g, { outputs: { y }, annotations: false }), feeds, false);
    expectClose(plain.value, expected, tol);
  });
});

test('an optimized MLP, fused by the epilogue pass, exports and runs in ONNX Runtime', async () => {
  const rng = new Rng(500);
  const g = new Graph();
  const x = g.placeholder('x', [6, 4]);
  const w1 = g.constant(randomArray(rng, [4, 5], 'float32'));
  const b1 = g.constant(randomArray(rng, [5], 'float32'));
  const w2 = g.constant(randomArray(rng, [5, 2], 'float32'));
  const b2 = g.constant(randomArray(rng, [2], 'float32'));
  const y = sum(add(matMul(relu(add(matMul(x, w1), b1)), w2), b2), 1);
  const feed = randomArray(rng, [6, 4], 'float32');
  const expected = new Session(g).run(y, { x: feed });
  const optimized = optimize(g, [y]);
  expect(optimized.graph.nodes.filter((n) => n.op === 'fusedMatMul')).toHaveLength(2);
  const outputs = await runOrt(
    exportOnnx(optimized.graph, { outputs: { y: optimized.outputs[0] } }),
    new Map([['x', feed]]),
  );
  expectClose(outputs.get('y') as NDArray, expected, 2e-6);
});
