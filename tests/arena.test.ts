/**
 * A wasm-backed session keeps its planned buffers and its variables in the wasm kernels' arena, so JS and wasm
 * kernels share them with no copies. These tests look at where values live (through the session's private fields,
 * typed below) and at what must survive: arena growth, failed runs, plan eviction, dispose.
 */
import {
  assign,
  gradients,
  Graph,
  matMul,
  mean,
  NDArray,
  relu,
  Session,
  softmaxCrossEntropyWithLogits,
  sub,
  Tensor,
} from '../src';
import { bindWasmKernels } from '../src/backend';
import type { WasmArena, WasmBufKernels } from '../src/backend/wasm';
import { Rng } from './ops/util';

interface Internals {
  placement: { arena: WasmArena; kernels: WasmBufKernels } | null;
  store: { readonly placedCount: number; get(id: number): NDArray | undefined };
}

const internals = (s: Session): Internals => s as unknown as Internals;
const arenaOf = (s: Session): WasmArena => (internals(s).placement as { arena: WasmArena }).arena;

function randn(rng: Rng, shape: number[], scale = 1): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return new NDArray(
    Float32Array.from({ length: n }, () => scale * (rng.next() * 2 - 1)),
    shape,
    'float32',
  );
}

/** A two-layer classifier trained by plain SGD through assign: loss, and the update ops to fetch. */
function classifier(rng: Rng): {
  g: Graph;
  loss: Tensor;
  updates: Tensor[];
  params: Tensor[];
  feeds: Map<Tensor, NDArray>;
} {
  const g = new Graph();
  const x = g.placeholder('x', [null, 37]);
  const labels = g.placeholder('labels', [null, 5]);
  const w1 = g.variable('w1', randn(rng, [37, 29], 0.3));
  const b1 = g.variable('b1', randn(rng, [29], 0.1));
  const w2 = g.variable('w2', randn(rng, [29, 5], 0.3));
  const params = [w1, b1, w2];
  const logits = matMul(relu(matMul(x, w1).add(b1)), w2);
  const loss = mean(softmaxCrossEntropyWithLogits(labels, logits));
  const grads = gradients(loss, params) as Tensor[];
  const updates = params.map((p, i) => assign(p, sub(p, grads[i].mul(0.1))));
  const onehot = new Float32Array(11 * 5);
  for (let r = 0; r < 11; r++) onehot[r * 5 + (r % 5)] = 1;
  const feeds = new Map<Tensor, NDArray>([
    [x, randn(rng, [11, 37])],
    [labels, new NDArray(onehot, [11, 5], 'float32')],
  ]);
  return { g, loss, updates, params, feeds };
}

function expectClose(a: NDArray, b: NDArray, tolerance = 1e-4): void {
  expect(a.shape).toEqual(b.shape);
  a.data.forEach((v, i) => expect(Math.abs(Number(b.data[i]) - Number(v))).toBeLessThanOrEqual(tolerance));
}

describe('a wasm session keeps its memory in the arena', () => {
  test('variables and planned buffers are views of the arena after a run; the JS backend has none', () => {
    const { g, loss, updates, feeds } = classifier(new Rng(1));
    const s = new Session(g, { backend: 'wasm' });
    const arena = arenaOf(s);
    const before = arena.used;
    s.run([loss, ...updates], feeds);
    const { store } = internals(s);
    expect(store.placedCount).toBe(3);
    for (const v of g.variables()) expect(arena.holds((store.get(v.id) as NDArray).data)).toBe(true);
    expect(arena.used).toBeGreaterThan(before);
    expect(internals(new Session(g, { backend: 'js' })).placement).toBeNull();
  });

  test('training in the arena gives the JS backend’s losses and weights, step after step', () => {
    const { g, loss, updates, params, feeds } = classifier(new Rng(2));
    const js = new Session(g, { backend: 'js' });
    const wasm = new Session(g, { backend: 'wasm' });
    for (let step = 0; step < 5; step++) {
      const [a] = js.run([loss, ...updates], feeds);
      const [b] = wasm.run([loss, ...updates], feeds);
      expectClose(a, b);
    }
    for (const p of params) expectClose(js.variableValue(p), wasm.variableValue(p));
  });

  test('values returned to the user are never arena views (a later run cannot overwrite them)', () => {
    const { g, loss, updates, params, feeds } = classifier(new Rng(3));
    const s = new Session(g);
    const results = s.run([loss, ...updates], feeds);
    const w1 = s.variableValue(params[0]);
    const kept = results.map((r) => Array.from(r.data));
    const keptW1 = Array.from(w1.data);
    s.run([loss, ...updates], feeds);
    for (const r of [...results, w1]) expect(arenaOf(s).holds(r.data)).toBe(false);
    results.forEach((r, i) => expect(Array.from(r.data)).toEqual(kept[i]));
    expect(Array.from(w1.data)).toEqual(keptW1);
  });

  test('a growth of the arena between runs re-takes every view: variables and results stay right', () => {
    const { g, loss, updates, params, feeds } = classifier(new Rng(4));
    const reference = new Session(g, { backend: 'js' });
    const s = new Session(g);
    reference.run([loss, ...updates], feeds);
    s.run([loss, ...updates], feeds);
    const arena = arenaOf(s);
    const generation = arena.generation;
    const big = arena.alloc(arena.capacity); // more than is left: the memory grows
    expect(arena.generation).toBeGreaterThan(generation);
    arena.free(big);
    const [a] = reference.run([loss, ...updates], feeds);
    const [b] = s.run([loss, ...updates], feeds);
    expectClose(a, b);
    for (const p of params) expectClose(reference.variableValue(p), s.variableValue(p));
    for (const v of g.variables()) expect(arena.holds((internals(s).store.get(v.id) as NDArray).data)).toBe(true);
  });

  test('a failed run gives back the blocks it took and changes nothing', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const y = matMul(x, g.variable('w', randn(new Rng(5), [3, 4])));
    const s = new Session(g);
    const arena = arenaOf(s);
    const used = arena.used;
    const bad = new NDArray(Float32Array.from([NaN, 1, 2]), [1, 3], 'float32');
    expect(() => s.run(y, { x: bad }, { checkNumerics: true })).toThrow(/NaN/);
    expect(arena.used).toBe(used);
    expect(internals(s).store.placedCount).toBe(0);
    for (const v of g.variables()) expect(internals(s).store.get(v.id)).toBeUndefined();
    expect(s.cachedPlans).toBe(0);
  });

  test('dispose gives the arena memory back and the session keeps working with the same variable values', () => {
    const { g, loss, updates, params, feeds } = classifier(new Rng(6));
    const s = new Session(g);
    const arena = arenaOf(s);
    const used = arena.used;
    s.run([loss, ...updates], feeds);
    const weights = params.map((p) => s.variableValue(p));
    expect(arena.used).toBeGreaterThan(used);
    s.dispose();
    expect(arena.used).toBe(used);
    params.forEach((p, i) => expect(Array.from(s.variableValue(p).data)).toEqual(Array.from(weights[i].data)));
    s.run([loss, ...updates], feeds);
    expect(internals(s).store.placedCount).toBe(3);
    s.dispose();
  });

  test('plans pushed out of the cache give their blocks back', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 8]);
    const y = relu(matMul(x, g.variable('w', randn(new Rng(7), [8, 8]))));
    const s = new Session(g);
    const arena = arenaOf(s);
    s.run(y, { x: randn(new Rng(8), [1, 8]) });
    const afterOne = arena.used;
    for (let batch = 2; batch < 140; batch++) s.run(relu(y), { x: randn(new Rng(batch), [batch, 8]) });
    expect(s.cachedPlans).toBe(64);
    // 64 live plans of at most 139 rows × 8 floats per buffer: far below what 138 plans would hold.
    expect(arena.used - afterOne).toBeLessThan(64 * 4 * 139 * 8 * 4);
    s.dispose();
  });

  test('restoring a checkpoint replaces arena-held variables', () => {
    const { g, loss, updates, params, feeds } = classifier(new Rng(9));
    const s = new Session(g);
    const saved = s.serializeVariables();
    const initial = params.map((p) => Array.from(s.variableValue(p).data));
    s.run([loss, ...updates], feeds);
    s.restoreVariables(saved);
    params.forEach((p, i) => expect(Array.from(s.variableValue(p).data)).toEqual(initial[i]));
    s.run([loss, ...updates], feeds);
    expect(internals(s).store.placedCount).toBe(3);
  });
});

describe('the wasm kernels while a session holds arena views', () => {
  test('a locked call whose copies do not fit runs the JS kernel and never grows the arena', () => {
    const s = new Session(new Graph());
    const kernels = (internals(s).placement as { kernels: WasmBufKernels }).kernels;
    const arena = arenaOf(s);
    const staging = (kernels as unknown as { stagingBytes: number }).stagingBytes;
    const n = staging / 4 + 1024; // a copy that does not fit the reserved staging area
    const a = { data: new Float32Array(n).fill(2), shape: [n] };
    const out = { data: new Float32Array(n), shape: [n] };
    const generation = arena.generation;
    const square = bindWasmKernels(kernels).get('square');
    kernels.lock();
    try {
      expect(kernels.unary('square', a, out)).toBe(false); // the wasm kernel declines, writing nothing
      expect(out.data[0]).toBe(0);
      square?.([a], out, {}); // and the binding table's guard runs the JS kernel
    } finally {
      kernels.unlock();
    }
    expect(out.data[0]).toBe(4);
    expect(out.data[n - 1]).toBe(4);
    expect(arena.generation).toBe(generation);
    expect((kernels as unknown as { stagingBytes: number }).stagingBytes).toBe(staging);
  });
});
