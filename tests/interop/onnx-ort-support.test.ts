/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * onnxRuntimeSupport (which nodes ONNX Runtime can run, for a backend's split) and the exporter fixes the op
 * table's run through ONNX Runtime found (tests/ops/suites/onnxruntime-*.test.ts): 'same' convolutions with
 * dilations over sizes unknown at export.
 */
import * as L from '../../src';
import {
  assign,
  cond,
  exportOnnx,
  Graph,
  GraphError,
  greater,
  mul,
  NDArray,
  onnxRuntimeSupport,
  ORT_CPU_MISSING_KERNELS,
  randomUniform,
  Session,
  sum,
  Tensor,
} from '../../src';
import { decodeModel } from '../../src/interop/onnx/onnx-messages';
import { expectClose, randomArray, Rng } from '../ops/util';
import { runOrt } from './ort';

/** The Conv nodes' attribute names of a model. */
function convAttributes(bytes: Uint8Array): string[][] {
  const model = decodeModel(bytes);
  return (model.graph?.node ?? [])
    .filter((n) => n.opType === 'Conv')
    .map((n) => (n.attribute ?? []).map((a) => String(a.name)).sort());
}

async function expectRunsLikeSession(g: Graph, y: Tensor, feeds: [Tensor, NDArray][]): Promise<Uint8Array> {
  const bytes = exportOnnx(g, { outputs: { y }, inputs: feeds.map(([x]) => x) });
  const got = await runOrt(bytes, new Map(feeds.map(([x, v]) => [x.name, v])));
  expectClose(got.get('y') as NDArray, new Session(g, { backend: 'js' }).run(y, new Map(feeds)), 1e-5);
  return bytes;
}

describe("'same' convolutions with dilations over sizes unknown at export", () => {
  test('conv2d of stride 1: explicit pads (ONNX Runtime refuses auto_pad SAME_UPPER with dilations)', async () => {
    const rng = new Rng(1);
    const g = new Graph();
    const x = g.placeholder('x', [null, null, null, 2]);
    const f = g.constant(randomArray(rng, [3, 3, 2, 3], 'float32'));
    const y = L.conv2d(x, f, 1, 'same', 'NHWC', 2);
    const bytes = await expectRunsLikeSession(g, y, [[x, randomArray(rng, [1, 8, 7, 2], 'float32')]]);
    expect(convAttributes(bytes)).toEqual([['dilations', 'group', 'pads', 'strides']]);
  });

  test('fusedConv2d and conv3d of stride 1 too', async () => {
    const rng = new Rng(2);
    const g = new Graph();
    const x = g.placeholder('x', [null, null, null, 2]);
    const f = g.constant(randomArray(rng, [3, 2, 2, 3], 'float32'));
    const b = g.constant(randomArray(rng, [3], 'float32'));
    const y = L.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', dilations: [2, 3], bias: b, activation: 'tanh' });
    await expectRunsLikeSession(g, y, [[x, randomArray(rng, [2, 7, 9, 2], 'float32')]]);
    const v = g.placeholder('v', [1, null, null, null, 2]);
    const f3 = g.constant(randomArray(rng, [2, 3, 2, 2, 3], 'float32'));
    const z = L.conv3d(v, f3, [1, 1, 1], 'same', 'NDHWC', [2, 1, 2]);
    const bytes = await expectRunsLikeSession(g, z, [[v, randomArray(rng, [1, 5, 4, 6, 2], 'float32')]]);
    expect(convAttributes(bytes)).toEqual([['dilations', 'group', 'pads', 'strides']]);
  });

  test('stride 2 over an unknown size still takes auto_pad SAME_UPPER without dilations', async () => {
    const rng = new Rng(3);
    const g = new Graph();
    const x = g.placeholder('x', [null, null, null, 2]);
    const f = g.constant(randomArray(rng, [3, 3, 2, 3], 'float32'));
    const y = L.conv2d(x, f, 2, 'same');
    const bytes = await expectRunsLikeSession(g, y, [[x, randomArray(rng, [1, 9, 8, 2], 'float32')]]);
    expect(convAttributes(bytes)).toEqual([['auto_pad', 'dilations', 'group', 'strides']]);
  });

  test('with dilations, pads that depend on an unknown size are a GraphError naming the node', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, null, 8, 2]);
    const f = g.constant(randomArray(new Rng(4), [3, 3, 2, 3], 'float32'));
    const y = L.conv2d(x, f, [2, 1], 'same', 'NHWC', 2);
    expect(() => exportOnnx(g, { outputs: { y } })).toThrow(GraphError);
    expect(() => exportOnnx(g, { outputs: { y } })).toThrow(
      /conv2d 'conv2d' has padding 'same' and dilations > 1, and its pads depend on sizes unknown at export time/,
    );
    expect(onnxRuntimeSupport(g, y.id)).toMatch(/refuses auto_pad SAME_UPPER with dilations/);
    // Known sizes: explicit pads.
    const known = L.conv2d(g.placeholder('k', [1, 9, 8, 2]), f, [2, 1], 'same', 'NHWC', 2);
    expect(onnxRuntimeSupport(g, known.id)).toBe(true);
  });
});

describe('int32 division by zero', () => {
  test('div, mod and floorDiv give 0 where the divisor is 0, as lazygrad (ONNX Runtime would stop the run)', async () => {
    const g = new Graph();
    const a = g.placeholder('a', [2, 4], 'int32');
    const b = g.placeholder('b', [4], 'int32');
    const feeds = new Map([
      [
        a,
        NDArray.from(
          [
            [7, -7, 5, 0],
            [-9, 9, 0, 3],
          ],
          'int32',
        ),
      ],
      [b, NDArray.from([2, 0, -3, 0], 'int32')],
    ]);
    for (const y of [L.div(a, b), L.mod(a, b), L.floorDiv(a, b)]) {
      const bytes = exportOnnx(g, { outputs: { y }, inputs: [a, b] });
      const got = (await runOrt(bytes, new Map([...feeds].map(([t, v]) => [t.name, v])))).get('y') as NDArray;
      const want = new Session(g, { backend: 'js' }).run(y, feeds);
      expect([y.node.op, Array.from(got.data)]).toEqual([y.node.op, Array.from(want.data)]);
      expect([y.node.op, got.data[1], got.data[3]]).toEqual([y.node.op, 0, 0]);
    }
  });
});

describe('onnxRuntimeSupport', () => {
  test('leaves and float32 ops run in ONNX Runtime', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const w = g.variable('w', NDArray.from([[1], [2], [3]]));
    const y = L.tanh(L.matMul(x, w));
    for (const t of [x, w, y, y.node.inputs.length > 0 ? g.tensor(y.node.inputs[0]) : y]) {
      expect(onnxRuntimeSupport(g, t.id)).toBe(true);
    }
  });

  test('a node without an ONNX form gives the exporter’s reason', () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([1, 2]));
    const a = assign(w, mul(w, 2));
    expect(onnxRuntimeSupport(g, a.id)).toMatch(/^assign node '.*' has no ONNX form: assign writes a variable/);
  });

  test('float64: the ops whose ONNX form ONNX Runtime’s CPU provider lacks a kernel for, named', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 5, 5, 2], 'float64');
    const f = g.constant(randomArray(new Rng(5), [3, 3, 2, 2], 'float64'));
    const conv = L.conv2d(x, f, 1, 'valid');
    expect(onnxRuntimeSupport(g, conv.id)).toBe(
      "ONNX Runtime's CPU provider has no float64 kernel for Conv, which conv2d node 'conv2d' exports to",
    );
    expect(onnxRuntimeSupport(g, L.tan(x).id)).toMatch(/no float64 kernel for Tan/);
    // Some only at some opsets: ONNX Runtime expands them into function bodies where those exist.
    const hardSwish = L.hardSwish(x);
    expect(onnxRuntimeSupport(g, hardSwish.id)).toMatch(/no float64 kernel for HardSwish/);
    expect(onnxRuntimeSupport(g, hardSwish.id, { opset: 18 })).toMatch(/no float64 kernel for HardSwish/);
    const prelu = L.prelu(x, g.placeholder('alpha', [2], 'float64'));
    expect(onnxRuntimeSupport(g, prelu.id)).toBe(true);
    expect(onnxRuntimeSupport(g, prelu.id, { opset: 19 })).toMatch(/no float64 kernel for PRelu/);
    // float64 ops ONNX Runtime runs.
    for (const t of [L.sin(x), L.exp(x), L.maxPool(x, 2, 1, 'valid'), sum(x), L.sigmoid(x)]) {
      expect([t.node.op, onnxRuntimeSupport(g, t.id)]).toEqual([t.node.op, true]);
    }
    // The same ops in float32 run.
    const x32 = g.placeholder('x32', [1, 5, 5, 2]);
    expect(onnxRuntimeSupport(g, L.conv2d(x32, L.cast(f, 'float32'), 1, 'valid').id)).toBe(true);
    expect(onnxRuntimeSupport(g, L.tan(x32).id)).toBe(true);
    expect(ORT_CPU_MISSING_KERNELS).toContainEqual({ onnxOp: 'Conv', dtype: 'float64' });
    expect(ORT_CPU_MISSING_KERNELS.filter((m) => m.dtype !== 'float64')).toEqual([]);
  });

  test('the opset-dependent entries: ONNX Runtime refuses them at their opsets and runs them at the others', async () => {
    const rng = new Rng(8);
    const g = new Graph();
    const x = g.placeholder('x', [2, 3], 'float64');
    const alpha = g.placeholder('alpha', [3], 'float64');
    const ops: { [onnxOp: string]: Tensor } = { PRelu: L.prelu(x, alpha), Elu: L.elu(x) };
    const feeds = new Map([
      ['x', randomArray(rng, [2, 3], 'float64')],
      ['alpha', randomArray(rng, [3], 'float64')],
    ]);
    for (const { onnxOp, opsets } of ORT_CPU_MISSING_KERNELS) {
      if (opsets === undefined) continue;
      const y = ops[onnxOp];
      for (const opset of [17, 18, 19, 20, 21]) {
        const inputs = onnxOp === 'PRelu' ? [x, alpha] : [x];
        const bytes = exportOnnx(g, { outputs: { y }, inputs, opset });
        const run = runOrt(bytes, new Map(inputs.map((t) => [t.name, feeds.get(t.name) as NDArray])));
        if (opsets.includes(opset)) {
          await expect(run).rejects.toMatchObject({
            message: expect.stringMatching(/Could not find an implementation/),
          });
          expect(onnxRuntimeSupport(g, y.id, { opset })).toMatch(new RegExp(`no float64 kernel for ${onnxOp}`));
        } else {
          expectClose(
            (await run).get('y') as NDArray,
            new Session(g, { backend: 'js' }).run(y, {
              x: feeds.get('x') as NDArray,
              alpha: feeds.get('alpha') as NDArray,
            }),
            1e-12,
          );
          expect(onnxRuntimeSupport(g, y.id, { opset })).toBe(true);
        }
      }
    }
  });

  test('seeded random ops are refused unless allowRandom (ONNX Runtime draws other numbers)', () => {
    const g = new Graph();
    const r = randomUniform([2, 2], 0, 1, 'float32', 7, g);
    expect(onnxRuntimeSupport(g, r.id)).toMatch(/seeded random op: ONNX Runtime would draw other numbers/);
    expect(onnxRuntimeSupport(g, r.id, { allowRandom: true })).toBe(true);
  });

  test('a control-flow node is as runnable as the nodes of its regions', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const ok = cond(
      greater(sum(x), 0),
      () => mul(x, 2),
      () => L.neg(x),
    );
    expect(onnxRuntimeSupport(g, ok.id)).toBe(true);
    const bad = cond(
      greater(sum(x), 1),
      () => L.exp(x),
      () => L.atan(x),
    );
    expect(onnxRuntimeSupport(g, bad.id)).toMatch(/no float64 kernel for Atan, which atan node/);
  });

  test('an op whose export needs sizes unknown here gives the exporter’s reason', () => {
    const g = new Graph();
    const dy = g.placeholder('dy', [null, null, null, 3]);
    const f = g.constant(randomArray(new Rng(6), [3, 3, 2, 3], 'float32'));
    const dx = L.conv2dBackpropInput([1, null, null, 2], dy, f, 1, 'same');
    expect(onnxRuntimeSupport(g, dx.id)).toMatch(/^exportOnnx: conv2dBackpropInput .* needs the spatial sizes known/);
  });

  test('the avgPool dilations of opset 19: refused at 17, run from 19', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 7, 7, 2]);
    const y = L.pool(x, 3, 'avg', 'valid', 2, 1);
    expect(onnxRuntimeSupport(g, y.id)).toMatch(/takes from opset 19/);
    expect(onnxRuntimeSupport(g, y.id, { opset: 19 })).toBe(true);
  });
});
