/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Exporting control flow: cond → If, whileLoop → Loop, scan → Scan (Loop without xs), regions → subgraphs reading
 * captured outer values by name. Each exported model runs in onnxruntime-node with the values lazygrad's own Session
 * gives, and re-imports to a graph with the same values; nested constructs too. An imported ONNX LSTM re-exports to
 * a model ORT runs with the original's results.
 */
import {
  add,
  cond,
  controlSibling,
  exportOnnx,
  gradients,
  Graph,
  greater,
  importOnnx,
  less,
  matMul,
  mul,
  NDArray,
  neg,
  scan,
  Session,
  sub,
  sum,
  tanh,
  Tensor,
  whileLoop,
} from '../../src';
import { Rng } from '../ops/util';
import { runOrt } from './ort';
import { graph, info, init, model, node } from './onnx-build';

function randomArray(shape: number[], seed: number): NDArray {
  const rng = new Rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return new NDArray(
    Float32Array.from({ length: n }, () => rng.uniform(-1, 1)),
    shape,
  );
}

function maxAbs(a: NDArray, b: NDArray): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** Exports `outputs`, runs the model in ORT and re-imported in lazygrad, and compares both with the Session. */
async function roundTrip(
  g: Graph,
  outputs: Tensor[],
  feeds: Map<Tensor, NDArray>,
  reimport = true,
): Promise<Uint8Array> {
  const tol = 1e-5;
  const expected = new Session(g).run(outputs, feeds) as NDArray[];
  const bytes = exportOnnx(g, { outputs });
  const ortFeeds = new Map([...feeds].map(([t, v]) => [t.name, v]));
  const got = await runOrt(bytes, ortFeeds);
  outputs.forEach((t, k) => expect(maxAbs(got.get(t.name) as NDArray, expected[k])).toBeLessThan(tol));
  if (!reimport) return bytes;
  const back = importOnnx(bytes);
  const again = new Session(back.graph).run(
    back.outputs,
    new Map([...feeds].map(([t, v]) => [back.inputs.get(t.name) as Tensor, v])),
  ) as NDArray[];
  again.forEach((v, k) => expect(maxAbs(v, expected[k])).toBeLessThan(tol));
  return bytes;
}

describe('exporting control flow', () => {
  test('cond → If, both branches, with captured tensors and several outputs', async () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const w = g.variable('w', randomArray([3, 3], 1));
    const [y, z] = cond(
      greater(sum(x), 0),
      () => [tanh(matMul(x, w)), mul(x, 2)],
      () => [neg(x), sub(x, 1)],
    );
    for (const seed of [2, 3, 4]) {
      const value = randomArray([2, 3], seed);
      const bytes = await roundTrip(g, [y, z], new Map([[x, value]]));
      if (seed === 2) {
        const ifs = (await import('onnx-proto')).onnx.ModelProto.decode(bytes).graph?.node?.filter(
          (n) => n.opType === 'If',
        );
        expect(ifs).toHaveLength(1); // one If for both outputs
      }
    }
    // Both branches are taken over the seeds.
    const sums = [2, 3, 4].map((s) => Array.from(randomArray([2, 3], s).data).reduce((p, v) => p + v, 0));
    expect(sums.some((v) => v > 0) && sums.some((v) => v <= 0)).toBe(true);
  });

  test('whileLoop → Loop: 0, 1 and many iterations, with a captured tensor and the iteration count', async () => {
    const g = new Graph();
    const n = g.placeholder('n', [], 'int32');
    const x = g.placeholder('x', [3]);
    const [i, acc] = whileLoop(
      ([k]) => less(k, n),
      ([k, a]) => [add(k, 1), add(mul(a, 0.5), x)],
      [g.constant(0, 'int32'), g.constant([1, 2, 3], 'float32')],
      { maximumIterations: 20 },
    );
    for (const count of [0, 1, 7]) {
      await roundTrip(
        g,
        [i, acc],
        new Map([
          [n, new NDArray(Int32Array.from([count]), [])],
          [x, randomArray([3], 5)],
        ]),
      );
    }
  });

  test('scan → Scan, forward and reverse, carry and ys, captured weights', async () => {
    for (const reverse of [false, true]) {
      const g = new Graph();
      const xs = g.placeholder('xs', [5, 2, 3]);
      const h0 = g.placeholder('h0', [2, 4]);
      const wx = g.constant(randomArray([3, 4], 6));
      const wh = g.constant(randomArray([4, 4], 7));
      const [last, ys] = scan(
        (h: Tensor, xt: Tensor) => {
          const h2 = tanh(add(matMul(xt, wx), matMul(h, wh)));
          return [h2, sum(h2, [1])];
        },
        h0,
        xs,
        { reverse },
      );
      await roundTrip(
        g,
        [last as Tensor, ys as Tensor],
        new Map([
          [xs, randomArray([5, 2, 3], 8)],
          [h0, randomArray([2, 4], 9)],
        ]),
      );
    }
  });

  test('scan without xs → Loop (forward and reverse)', async () => {
    for (const reverse of [false, true]) {
      const g = new Graph();
      const x = g.placeholder('x', [2]);
      const [c, ys] = scan((carry: Tensor) => [add(mul(carry, 0.9), x), mul(carry, 2)], x, null, {
        length: 4,
        reverse,
      });
      await roundTrip(g, [c as Tensor, ys as Tensor], new Map([[x, randomArray([2], 10)]]));
    }
  });

  test('nested: a cond inside a scan body inside a whileLoop', async () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [4, 3]);
    const t = g.placeholder('t', []);
    const [, total] = whileLoop(
      ([k]) => less(k, 3),
      ([k, acc]) => {
        const [s] = scan(
          (c: Tensor, xt: Tensor) => [
            add(
              c,
              cond(
                greater(sum(xt), t),
                () => mul(xt, acc),
                () => neg(xt),
              ),
            ),
            null,
          ],
          acc,
          xs,
        ) as [Tensor, null];
        return [add(k, 1), mul(s, 0.25)];
      },
      [g.constant(0, 'int32'), g.constant([1, -1, 0.5], 'float32')],
      { maximumIterations: 5 },
    );
    for (const threshold of [-10, 0, 10]) {
      await roundTrip(
        g,
        [total],
        new Map([
          [xs, randomArray([4, 3], 11)],
          [t, NDArray.from(threshold)],
        ]),
      );
    }
  });

  test("stacked outputs (what gradients read): a whileLoop's rows padded to maximumIterations, a scan's rows", async () => {
    const g = new Graph();
    const n = g.placeholder('n', [], 'int32');
    const x = g.placeholder('x', [2]);
    const [i] = whileLoop(
      ([k]) => less(k, n),
      ([k, a]) => [add(k, 1), tanh(add(a, x))],
      [g.constant(0, 'int32'), g.constant([0.5, -0.5], 'float32')],
      { maximumIterations: 6 },
    );
    // Body node of var 1's next value, at every iteration; and the iteration count.
    const loop = i.node;
    const stored = (loop.attrs.body as { outputs: number[] }).outputs[1];
    const rows = controlSibling(g, loop, `stack:${stored}`);
    const count = controlSibling(g, loop, 'count');
    for (const times of [0, 2, 6]) {
      // Not re-imported: importOnnx refuses a Loop whose scan outputs' length only the run knows.
      const feeds = new Map([
        [n, new NDArray(Int32Array.from([times]), [])],
        [x, randomArray([2], 13)],
      ]);
      await roundTrip(g, [rows, count], feeds, false);
    }
    const xs = g.placeholder('xs', [3, 2]);
    const [c] = scan((carry: Tensor, xt: Tensor) => [tanh(add(carry, xt)), null], x, xs, { reverse: true }) as [
      Tensor,
      null,
    ];
    const scanRows = controlSibling(g, c.node, `stack:${(c.node.attrs.body as { outputs: number[] }).outputs[0]}`);
    await roundTrip(
      g,
      [scanRows, c],
      new Map([
        [x, randomArray([2], 14)],
        [xs, randomArray([3, 2], 15)],
      ]),
    );
  });

  test("a gradient graph through scan, cond and whileLoop exports and runs in ORT with the Session's values", async () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [5, 2, 3]);
    const h0 = g.placeholder('h0', [2, 4]);
    const n = g.placeholder('n', [], 'int32');
    const wx = g.variable('wx', randomArray([3, 4], 16));
    const wh = g.variable('wh', randomArray([4, 4], 17));
    const [last, ys] = scan(
      (h: Tensor, xt: Tensor) => {
        const h2 = tanh(add(matMul(xt, wx), matMul(h, mul(wh, 0.5))));
        return [h2, h2];
      },
      h0,
      xs,
    ) as [Tensor, Tensor];
    const c = cond(
      greater(sum(last), 0),
      () => mul(last, 2),
      () => neg(last),
    );
    const [, acc] = whileLoop(
      ([k]) => less(k, n),
      ([k, a]) => [add(k, 1), tanh(add(mul(a, 0.9), c))],
      [g.constant(0, 'int32'), h0],
      { maximumIterations: 6 },
    );
    const loss = add(sum(mul(ys, ys)), sum(acc));
    const grads = gradients(loss, [wx, wh, h0, xs]) as Tensor[];
    const feeds = new Map<Tensor, NDArray>([
      [xs, randomArray([5, 2, 3], 18)],
      [h0, randomArray([2, 4], 19)],
    ]);
    for (const count of [0, 3]) {
      feeds.set(n, new NDArray(Int32Array.from([count]), []));
      // Not re-imported: the while's gradient reads its stacked rows (a Loop importOnnx refuses).
      await roundTrip(g, [loss, ...grads], feeds, false);
    }
  });

  test.each([
    ['LSTM', 0],
    ['GRU', 0],
    ['RNN', 0],
    ['LSTM', 1],
  ] as const)(
    'an imported ONNX %s (layout %i) re-exports to a model ORT runs with the same results',
    async (op, layout) => {
      const rng = new Rng(12);
      const H = 4;
      const G = op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1;
      const rand = (shape: number[]): NDArray =>
        new NDArray(
          Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.uniform(-0.7, 0.7)),
          shape,
        );
      const outs = op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
      const make = (l: number): Uint8Array =>
        model(
          graph(
            [
              node(op, ['X', 'W', 'R', 'B', 'L'], outs, {
                hidden_size: { int: H },
                direction: { string: 'bidirectional' },
                ...(l === 1 ? { layout: { int: 1 } } : {}),
              }),
            ],
            [info('X', 'float32', l === 0 ? [5, 3, 2] : [3, 5, 2])],
            outs.map((o) => info(o, 'float32', null)),
            [
              init('W', rand([2, G * H, 2])),
              init('R', rand([2, G * H, H])),
              init('B', rand([2, 2 * G * H])),
              { name: 'L', dataType: 6, dims: [3], int32Data: [5, 3, 1] },
            ],
          ),
          14,
        );
      const original = make(layout);
      const x = rand(layout === 0 ? [5, 3, 2] : [3, 5, 2]);
      const { graph: g, inputs, outputs } = importOnnx(original);
      const expected = new Session(g).run(outputs, new Map([[inputs.get('X') as Tensor, x]])) as NDArray[];
      const bytes = exportOnnx(g, { outputs: Object.fromEntries(outs.map((o, k) => [o, outputs[k]])) });
      const ops = ((await import('onnx-proto')).onnx.ModelProto.decode(bytes).graph?.node ?? []).map((n) => n.opType);
      // Layout 0 float32 (what ORT runs) comes back as the ONNX node itself; layout 1 as the Scans it was read as.
      expect(ops.includes(op)).toBe(layout === 0);
      expect(ops.includes('Scan')).toBe(layout === 1);
      const again = await runOrt(bytes, new Map([['X', x]]));
      outs.forEach((name, k) => expect(maxAbs(again.get(name) as NDArray, expected[k])).toBeLessThan(1e-6));
      if (layout === 0) {
        const reference = await runOrt(original, new Map([['X', x]]));
        outs.forEach((name) => expect(maxAbs(again.get(name) as NDArray, reference.get(name) as NDArray)).toBe(0));
      }
    },
  );
});
