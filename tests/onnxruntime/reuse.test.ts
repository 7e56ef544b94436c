/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * What the 'onnxruntime' backend reuses from run to run (the last plan looked up, a values array per plan, the
 * ONNX Runtime tensor of an input whose array has not changed) must never go stale: a variable written by an assign
 * or restored, a feed of a new array or a new shape, queued runs of one plan.
 */
import * as ortNode from 'onnxruntime-node';
import { add, assign, Graph, mul, NDArray, Session } from '../../src';
import { OnnxRuntimeModule } from '../../src/session/ort/module';

/** onnxruntime-node, counting the tensors the backend makes. */
function countingTensors(): { module: OnnxRuntimeModule; made: () => number } {
  let made = 0;
  const Base = ortNode.Tensor as unknown as new (type: string, data: unknown, dims: readonly number[]) => object;
  class Counted extends Base {
    constructor(type: string, data: unknown, dims: readonly number[]) {
      super(type, data, dims);
      made++;
    }
  }
  const module = {
    Tensor: Counted,
    InferenceSession: ortNode.InferenceSession,
  } as unknown as OnnxRuntimeModule;
  return { module, made: () => made };
}

function model(): {
  g: Graph;
  x: ReturnType<Graph['placeholder']>;
  w: ReturnType<Graph['variable']>;
  y: ReturnType<typeof add>;
  step: ReturnType<typeof assign>;
} {
  const g = new Graph();
  const x = g.placeholder('x', [null]);
  const w = g.variable('w', [1, 2, 3]);
  const y = mul(add(x, w), 2);
  const step = assign(w, add(w, 10));
  return { g, x, w, y, step };
}

const vector = (values: number[]): NDArray => new NDArray(new Float32Array(values), [values.length]);

describe("backend 'onnxruntime': what runs reuse does not go stale", () => {
  test('an unchanged variable and the same fed array reuse their tensors; a written variable gets a new one', async () => {
    const { module, made } = countingTensors();
    const { g, w, y, step } = model();
    const sess = new Session(g, { backend: 'onnxruntime', onnxruntime: module });
    const feed = vector([1, 1, 1]);
    expect((await sess.runAsync(y, { x: feed })).data).toEqual(new Float32Array([4, 6, 8]));
    const afterFirst = made();
    expect((await sess.runAsync(y, { x: feed })).data).toEqual(new Float32Array([4, 6, 8]));
    // Neither x (the same array) nor w (not written since) needed a new tensor.
    expect(made()).toBe(afterFirst);
    await sess.runAsync(step);
    const beforeRead = made();
    expect((await sess.runAsync(y, { x: feed })).data).toEqual(new Float32Array([24, 26, 28]));
    // w's value is a new array: its tensor is made again (x's is not).
    expect(made()).toBe(beforeRead + 1);
    expect(sess.variableValue(w).data).toEqual(new Float32Array([11, 12, 13]));
  });

  test('a fed array written in place between runs is read as it is now (the tensor holds the array, not a copy)', async () => {
    const { g, y } = model();
    const sess = new Session(g, { backend: 'onnxruntime' });
    const feed = vector([1, 1, 1]);
    expect((await sess.runAsync(y, { x: feed })).data).toEqual(new Float32Array([4, 6, 8]));
    (feed.data as Float32Array).set([0, 5, -1]);
    expect((await sess.runAsync(y, { x: feed })).data).toEqual(new Float32Array([2, 14, 4]));
  });

  test('restoreVariables between runs: the next run reads the restored values, not the old tensor', async () => {
    const { g, x, w, y, step } = model();
    const sess = new Session(g, { backend: 'onnxruntime' });
    const initial = sess.serializeVariables();
    const feed = vector([0, 0, 0]);
    await sess.runAsync(step);
    await sess.runAsync(step);
    expect((await sess.runAsync(y, new Map([[x, feed]]))).data).toEqual(new Float32Array([42, 44, 46]));
    sess.restoreVariables(initial);
    expect((await sess.runAsync(y, new Map([[x, feed]]))).data).toEqual(new Float32Array([2, 4, 6]));
    expect(sess.variableValue(w).data).toEqual(new Float32Array([1, 2, 3]));
    // And a step after the restore starts from the restored values.
    await sess.runAsync([step]);
    expect((await sess.runAsync([y], new Map([[x, feed]])))[0].data).toEqual(new Float32Array([22, 24, 26]));
  });

  test('a new fed shape gets a new plan; going back to the first shape uses the first plan again', async () => {
    const { g, y } = model();
    const h = new Graph();
    const v = h.placeholder('v', [null]);
    const z = mul(v, 3);
    const sess = new Session(g, { backend: 'onnxruntime' });
    const other = new Session(h, { backend: 'onnxruntime' });
    expect((await sess.runAsync(y, { x: vector([1, 1, 1]) })).data).toEqual(new Float32Array([4, 6, 8]));
    expect(sess.cachedPlans).toBe(1);
    // x of 1 element broadcasts against w [3]: a plan of its own.
    expect((await sess.runAsync(y, { x: vector([2]) })).data).toEqual(new Float32Array([6, 8, 10]));
    expect(sess.cachedPlans).toBe(2);
    expect((await sess.runAsync(y, { x: vector([0, 1, 2]) })).data).toEqual(new Float32Array([2, 6, 10]));
    expect(sess.cachedPlans).toBe(2);
    // A fed shape the plan cannot take is refused as before (not run with the last plan).
    await expect(sess.runAsync(y, { x: vector([1, 2]) })).rejects.toThrow(/shape|broadcast/i);
    expect(sess.cachedPlans).toBe(2);
    for (const n of [1, 4, 2, 4]) {
      const values = Array.from({ length: n }, (_, i) => i);
      expect(Array.from((await other.runAsync(z, { v: vector(values) })).data)).toEqual(values.map((a) => a * 3));
    }
    expect(other.cachedPlans).toBe(3);
  });

  test('queued runs of one plan: each gets its own values, assigns apply in call order', async () => {
    const { g, w, y, step } = model();
    const sess = new Session(g, { backend: 'onnxruntime' });
    const runs = [
      sess.runAsync(y, { x: vector([1, 1, 1]) }),
      sess.runAsync([y, step], { x: vector([2, 2, 2]) }),
      sess.runAsync(y, { x: vector([3, 3, 3]) }),
      sess.runAsync(step),
      sess.runAsync({ y }, { x: vector([0, 0, 0]) }),
    ];
    const [a, b, c, , e] = await Promise.all(runs);
    expect((a as NDArray).data).toEqual(new Float32Array([4, 6, 8]));
    expect((b as NDArray[])[0].data).toEqual(new Float32Array([6, 8, 10]));
    expect((c as NDArray).data).toEqual(new Float32Array([28, 30, 32]));
    expect((e as { y: NDArray }).y.data).toEqual(new Float32Array([42, 44, 46]));
    expect(sess.variableValue(w).data).toEqual(new Float32Array([21, 22, 23]));
  });

  test('a failed run leaves nothing behind: the next run of the plan reads its own feeds and variables', async () => {
    const { g, x, y, step } = model();
    const sess = new Session(g, { backend: 'onnxruntime' });
    expect((await sess.runAsync([y, step], { x: vector([1, 1, 1]) }))[0].data).toEqual(new Float32Array([4, 6, 8]));
    // A feed of the wrong dtype is refused before anything runs; the variable is unchanged.
    await expect(
      sess.runAsync([y, step], new Map([[x, new NDArray(new Int32Array([1, 1, 1]), [3])]])),
    ).rejects.toThrow();
    expect((await sess.runAsync([y, step], { x: vector([1, 1, 1]) }))[0].data).toEqual(new Float32Array([24, 26, 28]));
  });

  test('a run failing in the queue (first, or between others) does not stop the runs after it nor write anything', async () => {
    const { g, w, y, step } = model();
    const sess = new Session(g, { backend: 'onnxruntime' });
    // Fails before its first await (the missing feed is found when the plan is compiled).
    await expect(sess.runAsync(y)).rejects.toThrow(/x/);
    const runs = [
      sess.runAsync(step),
      sess.runAsync([y, step]),
      sess.runAsync(step),
      sess.runAsync(y, { x: vector([1, 1, 1]) }),
    ];
    const settled = await Promise.allSettled(runs);
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(((settled[3] as PromiseFulfilledResult<NDArray>).value as NDArray).data).toEqual(
      new Float32Array([44, 46, 48]),
    );
    expect(sess.variableValue(w).data).toEqual(new Float32Array([21, 22, 23]));
    // Nothing is left in flight.
    expect(() => sess.dispose()).not.toThrow();
  });
});
