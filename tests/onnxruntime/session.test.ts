/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The 'onnxruntime' backend of Session: runAsync (on every backend), the plan cache (one InferenceSession per
 * signature and segment), all-or-nothing variable writes, the split into ONNX Runtime and lazygrad segments,
 * checkNumerics and traces per segment, queued runs, and its errors.
 */
import * as ortNode from 'onnxruntime-node';
import {
  add,
  assign,
  exp,
  FeedError,
  gather,
  Graph,
  greater,
  group,
  log,
  logicalNot,
  matMul,
  mul,
  NDArray,
  NumericsError,
  randomUniform,
  relu,
  RuntimeError,
  Session,
  SessionError,
  ShapeError,
  sum,
  tan,
  tanh,
} from '../../src';
import { loadOnnxRuntime, OnnxRuntimeModule } from '../../src/session/ort/module';
import { expectClose } from '../ops/util';

/** onnxruntime-node, counting the InferenceSessions created and released. */
function countingModule(): { module: OnnxRuntimeModule; created: () => number; released: () => number } {
  let created = 0;
  let released = 0;
  const module: OnnxRuntimeModule = {
    Tensor: ortNode.Tensor as unknown as OnnxRuntimeModule['Tensor'],
    InferenceSession: {
      async create(bytes: Uint8Array, options?: object) {
        created++;
        const session = await ortNode.InferenceSession.create(
          bytes,
          options as ortNode.InferenceSession.SessionOptions,
        );
        return {
          inputNames: session.inputNames,
          outputNames: session.outputNames,
          run: (feeds: never) => session.run(feeds) as never,
          release: async () => {
            released++;
            await session.release();
          },
        };
      },
    },
  };
  return { module, created: () => created, released: () => released };
}

function mlp(): {
  g: Graph;
  x: ReturnType<Graph['placeholder']>;
  w: ReturnType<Graph['variable']>;
  y: ReturnType<typeof relu>;
} {
  const g = new Graph();
  const x = g.placeholder('x', [null, 3]);
  const w = g.variable(
    'w',
    NDArray.from([
      [0.5, -1],
      [2, 0.25],
      [-0.75, 1.5],
    ]),
  );
  const y = relu(matMul(x, w));
  return { g, x, w, y };
}

describe('runAsync', () => {
  test.each(['js', 'wasm'] as const)(
    'on backend %s is run, as a promise: same results, same errors',
    async (backend) => {
      const { g, x, y } = mlp();
      const sess = new Session(g, { backend });
      const feeds = { x: [[1, 2, 3]] };
      const got = await sess.runAsync({ y, both: [y, x] }, feeds);
      const want = sess.run({ y, both: [y, x] }, feeds);
      expect(got.y.toArray()).toEqual(want.y.toArray());
      expect(got.both[1].toArray()).toEqual([[1, 2, 3]]);
      await expect(sess.runAsync(y)).rejects.toThrow(FeedError);
      await expect(sess.runAsync(y, { x: [[1, 2]] })).rejects.toThrow(ShapeError);
    },
  );

  test("on backend 'onnxruntime': the same fetch structure and values as the js backend", async () => {
    const { g, x, w, y } = mlp();
    const sess = new Session(g, { backend: 'onnxruntime' });
    const js = new Session(g, { backend: 'js' });
    const feeds = {
      x: [
        [1, 2, 3],
        [-1, 0.5, 2],
      ],
    };
    const fetches = { y, parts: [x, w, null], s: sum(y) };
    const got = await sess.runAsync(fetches, feeds);
    const want = js.run(fetches, feeds);
    expectClose(got.y, want.y, 1e-6);
    expect(got.parts[0]?.toArray()).toEqual(want.parts[0]?.toArray());
    expect(got.parts[1]?.toArray()).toEqual(want.parts[1]?.toArray());
    expect(got.parts[2]).toBeNull();
    expectClose(got.s, want.s, 1e-6);
    // A single tensor gives a single NDArray.
    expect((await sess.runAsync(sum(y), feeds)).shape).toEqual([]);
  });
});

test('feeds of every dtype, and views into larger buffers, go to ONNX Runtime as they are', async () => {
  const g = new Graph();
  const f = g.placeholder('f', [3]);
  const d = g.placeholder('d', [2], 'float64');
  const i = g.placeholder('i', [2], 'int32');
  const b = g.placeholder('b', [2], 'bool');
  const fetches = [mul(f, 2), mul(d, 0.5), mul(i, 3), logicalNot(b), greater(i, 7)];
  const sess = new Session(g, { backend: 'onnxruntime' });
  const feeds = {
    f: new NDArray(Float32Array.from([100, 1, 2, 3, 400]).subarray(1, 4), [3]),
    d: new NDArray(Float64Array.from([9, 1, 3]).subarray(1), [2], 'float64'),
    i: new NDArray(Int32Array.from([7, 8, 1, 20]).subarray(2), [2], 'int32'),
    b: new NDArray(Uint8Array.from([0, 1, 0]).subarray(1), [2], 'bool'),
  };
  const got = await sess.runAsync(fetches, feeds);
  expect(got.map((a) => [a.dtype, a.toArray()])).toEqual([
    ['float32', [2, 4, 6]],
    ['float64', [0.5, 1.5]],
    ['int32', [3, 60]],
    ['bool', [false, true]],
    ['bool', [false, true]],
  ]);
});

describe('the plan cache', () => {
  test('one InferenceSession per signature; a new fed shape makes a new one; dispose releases them', async () => {
    const { g, y } = mlp();
    const counting = countingModule();
    const sess = new Session(g, { backend: 'onnxruntime', onnxruntime: counting.module });
    await sess.runAsync(y, { x: [[1, 2, 3]] });
    await sess.runAsync(y, { x: [[4, 5, 6]] });
    expect(counting.created()).toBe(1);
    expect(sess.cachedPlans).toBe(1);
    const two = await sess.runAsync(y, {
      x: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
    expect(two.shape).toEqual([2, 2]);
    expect(counting.created()).toBe(2);
    expect(sess.cachedPlans).toBe(2);
    await sess.runAsync(y, { x: [[1, 1, 1]] });
    expect(counting.created()).toBe(2);
    sess.dispose();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(counting.released()).toBe(2);
    expect(sess.cachedPlans).toBe(0);
    // Still usable after dispose: a new session is created.
    await sess.runAsync(y, { x: [[1, 2, 3]] });
    expect(counting.created()).toBe(3);
  });
});

describe('variables and assigns', () => {
  test('assigns are written after the run; a run that fails after an assign was computed changes nothing', async () => {
    const g = new Graph();
    const v = g.variable('v', NDArray.from([1, 2, 3]));
    const x = g.placeholder('x', [3]);
    const data = g.constant(NDArray.from([10, 20, 30]));
    const idx = g.placeholder('idx', [2], 'int32');
    const update = assign(v, add(v, x));
    const sess = new Session(g, { backend: 'onnxruntime' });
    // The fetched values are computed from the old value; the write happens after.
    const [old, next] = await sess.runAsync([v, update], { x: [1, 1, 1] });
    expect(old.toArray()).toEqual([1, 2, 3]);
    expect(next.toArray()).toEqual([2, 3, 4]);
    expect(sess.variableValue(v).toArray()).toEqual([2, 3, 4]);
    // The fetched new value is the caller's own array, not the variable's.
    next.data[0] = 99;
    expect(sess.variableValue(v).toArray()).toEqual([2, 3, 4]);
    // A NaN after the assign's value was computed (checkNumerics): no write.
    await expect(sess.runAsync([update, log(x)], { x: [1, -1, 1] }, { checkNumerics: true })).rejects.toThrow(
      NumericsError,
    );
    expect(sess.variableValue(v).toArray()).toEqual([2, 3, 4]);
    // ONNX Runtime itself failing (an index out of range) in the run that computed the assign's value: no write.
    await expect(sess.runAsync([update, gather(data, idx)], { x: [5, 5, 5], idx: [0, 7] })).rejects.toThrow(
      RuntimeError,
    );
    expect(sess.variableValue(v).toArray()).toEqual([2, 3, 4]);
    await sess.runAsync(group([update]), { x: [1, 1, 1] });
    expect(sess.variableValue(v).toArray()).toEqual([3, 4, 5]);
    // Variables save and restore as on the other backends.
    const js = new Session(g, { backend: 'js' });
    js.restoreVariables(sess.serializeVariables());
    expect(js.variableValue(v).toArray()).toEqual([3, 4, 5]);
  });

  test('runs of one session are queued in call order: a second runAsync waits for the first', async () => {
    const g = new Graph();
    const v = g.variable('v', NDArray.from(0));
    const step = assign(v, add(v, 1));
    const sess = new Session(g, { backend: 'onnxruntime' });
    const runs = [sess.runAsync(step), sess.runAsync(step), sess.runAsync(step)];
    // While runs are in flight, calls that would change the variables under them are refused.
    expect(() => sess.dispose()).toThrow(/in flight/);
    const values = await Promise.all(runs);
    expect(values.map((a) => a.get())).toEqual([1, 2, 3]);
    expect(sess.variableValue(v).get()).toBe(3);
  });
});

describe('the split into ONNX Runtime and lazygrad segments', () => {
  test('a seeded random op runs in lazygrad (its stream), between two ONNX Runtime segments', async () => {
    const { g, x, y } = mlp();
    const noise = randomUniform([2, 2], 0, 1, 'float32', 42, g);
    const z = exp(mul(add(y, noise), 0.5));
    const sess = new Session(g, { backend: 'onnxruntime' });
    const js = new Session(g, { backend: 'js' });
    const feeds = new Map([
      [
        x,
        NDArray.from([
          [1, 2, 3],
          [0.5, -1, 0],
        ]),
      ],
    ]);
    // explain compiles and splits without ONNX Runtime (nothing loaded, nothing cached).
    const text = sess.explain(z, feeds);
    expect(sess.cachedPlans).toBe(0);
    expect(text).toContain('3 segments (2 in ONNX Runtime, 1 in lazygrad kernels)');
    expect(text).toMatch(/segment 1: lazygrad kernels, 1 node\n {4}nodes: %\d+ randomUniform\[2, 2\]/);
    expect(text).toContain("a seeded random op: run by lazygrad's generator to keep its stream");
    expect(text).toMatch(/segment 2: ONNX Runtime \(one InferenceSession\), 3 nodes/);
    // The same numbers as the js backend's, run after run (the stream's counter advances with each run).
    for (let run = 0; run < 3; run++) expectClose(await sess.runAsync(z, feeds), js.run(z, feeds), 1e-6);
  });

  test('a float64 op ONNX Runtime runs for float32 only runs in lazygrad', async () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const t = tan(mul(x, 2));
    const out = add(t, x);
    const sess = new Session(g, { backend: 'onnxruntime' });
    const js = new Session(g, { backend: 'js' });
    const feeds = { x: new NDArray(Float64Array.from([0.1, 0.2, 0.3]), [3]) };
    await sess.ready();
    expect(sess.explain(out, feeds)).toMatch(/%\d+ tan: ONNX Runtime's CPU provider has no float64 kernel for Tan/);
    const got = await sess.runAsync(out, feeds);
    expect(got.dtype).toBe('float64');
    expectClose(got, js.run(out, feeds), 1e-12);
  });
});

describe('a segment ONNX Runtime refuses to load', () => {
  test('the node it has no kernel for moves to lazygrad, and the plan is split again', async () => {
    const g = new Graph();
    const x = g.placeholder('x', [null]);
    const y = mul(tanh(mul(x, 2)), 3);
    // A module whose provider has no Tanh kernel (as an execution provider may lack one): it refuses any model with a
    // Tanh node the way ONNX Runtime does, without naming the node, so the backend finds it by its ONNX op.
    const counting = countingModule();
    const create = counting.module.InferenceSession.create;
    let refusals = 0;
    const module: OnnxRuntimeModule = {
      ...counting.module,
      InferenceSession: {
        async create(bytes: Uint8Array, options?: object) {
          if (Buffer.from(bytes).includes('Tanh')) {
            refusals++;
            throw new Error("Could not find an implementation for Tanh(13) node with name ''");
          }
          return create(bytes, options);
        },
      },
    };
    const sess = new Session(g, { backend: 'onnxruntime', onnxruntime: module });
    const js = new Session(g, { backend: 'js' });
    const feeds = { x: NDArray.from([-2, -0.5, 0.25, 3]) };
    expectClose(await sess.runAsync(y, feeds), js.run(y, feeds), 1e-6);
    expect(refusals).toBe(1);
    const text = sess.explain(y, feeds);
    expect(text).toMatch(/%\d+ tanh: ONNX Runtime has no kernel: .*Tanh/);
    expect(text).toContain('3 segments (2 in ONNX Runtime, 1 in lazygrad kernels)');
    // Remembered: another signature is split at once (two sessions made, no refused attempt).
    const before = counting.created();
    const two = { x: NDArray.from([1, 2]) };
    expectClose(await sess.runAsync(y, two), js.run(y, two), 1e-6);
    expect(counting.created()).toBe(before + 2);
    expect(refusals).toBe(1);
  });
});

describe('checkNumerics and traces', () => {
  test('a trace has one entry per ONNX Runtime segment (as a whole) and one per lazygrad step', async () => {
    const { g, x, y } = mlp();
    const noise = randomUniform([1, 2], 0, 1, 'float32', 1, g);
    const z = add(y, noise);
    const sess = new Session(g, { backend: 'onnxruntime' });
    let seen = 0;
    await sess.runAsync(z, new Map([[x, NDArray.from([[1, 2, 3]])]]), { onTrace: (t) => (seen = t.steps.length) });
    const steps = sess.lastTrace?.steps ?? [];
    expect(seen).toBe(steps.length);
    expect(steps.map((s) => s.op)).toEqual(['onnxruntime', 'randomUniform', 'onnxruntime']);
    expect(steps[0].node).toContain('as a whole');
    expect(steps[0].inputs.map((i) => i.name)).toEqual(['x', 'w']);
  });

  test('a NaN out of an ONNX Runtime segment names the segment, the node, and a bad input when there is one', async () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const y = mul(log(x), 2);
    const sess = new Session(g, { backend: 'onnxruntime', checkNumerics: true });
    await expect(sess.runAsync(y, { x: [1, -1] })).rejects.toThrow(
      /ONNX Runtime segment 0's output mul '.*' holds NaN at index 1 \[1\] of float32\[2\]; ONNX Runtime runs the segment as a whole/,
    );
    await expect(sess.runAsync(y, { x: [1, NaN] })).rejects.toThrow(/input was already non-finite: placeholder 'x'/);
    // Without checkNumerics the NaN is returned.
    const plain = new Session(g, { backend: 'onnxruntime' });
    expect(Number.isNaN((await plain.runAsync(y, { x: [1, -1] })).data[1])).toBe(true);
  });
});

describe('options and errors', () => {
  test('threads and execution providers go to ONNX Runtime', async () => {
    const { g, y } = mlp();
    const sess = new Session(g, { backend: 'onnxruntime', threads: 2, executionProviders: ['cpu'] });
    expect(sess.backend).toBe('onnxruntime');
    expect((await sess.runAsync(y, { x: [[1, 2, 3]] })).toArray()).toEqual([[2.25, 4]]);
    const bad = new Session(g, { backend: 'onnxruntime', executionProviders: ['no-such-provider'] });
    await expect(bad.runAsync(y, { x: [[1, 2, 3]] })).rejects.toThrow(SessionError);
  });

  test('sess.run on this backend throws a SessionError pointing to runAsync', () => {
    const { g, y } = mlp();
    const sess = new Session(g, { backend: 'onnxruntime' });
    expect(() => sess.run(y, { x: [[1, 2, 3]] })).toThrow(SessionError);
    expect(() => sess.run(y, { x: [[1, 2, 3]] })).toThrow(/use await sess.runAsync\(fetches, feeds, options\)/);
  });

  test('feed errors reject before ONNX Runtime is loaded or anything runs', async () => {
    const { g, y } = mlp();
    let loads = 0;
    const sess = new Session(g, {
      backend: 'onnxruntime',
      onnxruntime: () => {
        loads++;
        return ortNode as unknown as OnnxRuntimeModule;
      },
    });
    await expect(sess.runAsync(y)).rejects.toThrow(FeedError);
    await expect(sess.runAsync(y, { x: [[1, 2]] })).rejects.toThrow(ShapeError);
    await expect(sess.runAsync(y, { nope: [1] })).rejects.toThrow(FeedError);
    expect(loads).toBe(0);
    await sess.runAsync(y, { x: [[1, 2, 3]] });
    expect(loads).toBe(1);
  });

  test('a missing package is a SessionError naming it and the install command', async () => {
    const { g, y } = mlp();
    const missing = Object.assign(new Error("Cannot find module 'onnxruntime-node'"), { code: 'MODULE_NOT_FOUND' });
    const sess = new Session(g, {
      backend: 'onnxruntime',
      onnxruntime: () => {
        throw missing;
      },
    });
    const run = sess.runAsync(y, { x: [[1, 2, 3]] });
    await expect(run).rejects.toThrow(SessionError);
    await expect(sess.ready()).rejects.toThrow(/npm install onnxruntime-node/);
    await expect(sess.runAsync(y, { x: [[1, 2, 3]] })).rejects.toThrow(
      /needs the 'onnxruntime-node' package .*npm install onnxruntime-node/,
    );
    // The default loader, with the package import failing as when it is not installed.
    await expect(loadOnnxRuntime(undefined, () => Promise.reject(missing))).rejects.toThrow(
      /npm install onnxruntime-node/,
    );
    // A loader failing otherwise, or giving something else than the module.
    await expect(
      loadOnnxRuntime(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow(/the onnxruntime loader given in the options threw: boom/);
    await expect(loadOnnxRuntime(() => ({}) as OnnxRuntimeModule)).rejects.toThrow(/no InferenceSession.create/);
    // The default loader finds the installed package.
    expect(typeof (await loadOnnxRuntime(undefined)).InferenceSession.create).toBe('function');
  });

  test('options are checked against the backend', () => {
    const { g } = mlp();
    expect(() => new Session(g, { backend: 'wasm', threads: 4 })).toThrow(/option threads is 4; valid: 1 or 2/);
    expect(() => new Session(g, { backend: 'js', executionProviders: ['cpu'] })).toThrow(
      /executionProviders applies only to backend 'onnxruntime'/,
    );
    expect(() => new Session(g, { backend: 'onnxruntime', threads: 0 })).toThrow(SessionError);
    expect(() => new Session(g, { backend: 'onnxruntime', onnxruntime: 5 as never })).toThrow(
      /onnxruntime is 5; valid: the onnxruntime module/,
    );
    expect(() => new Session(g, { backend: 'onnxruntime', threads: 8 })).not.toThrow();
  });
});
