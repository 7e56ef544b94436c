/**
 * Issue 20, training updates copied once: on the wasm backend an SGD update computed into a planned buffer of its
 * own becomes the variable's arena block after the run (the blocks are exchanged), so no weight is copied per step;
 * the values match the JS backend step after step, and a failed run still changes nothing.
 */
import {
  assign,
  gradients,
  Graph,
  group,
  matMul,
  mean,
  NDArray,
  relu,
  Session,
  softmaxCrossEntropyWithLogits,
  sub,
  Tensor,
} from '../../src';
import type { WasmArena } from '../../src/backend/wasm';
import { Rng, randF32 } from './helpers';

interface Internals {
  placement: { arena: WasmArena };
  store: { get(id: number): NDArray | undefined };
}
const internals = (s: Session): Internals => s as unknown as Internals;

function dense(rng: Rng, shape: number[], scale: number): NDArray {
  return new NDArray(randF32(rng, shape, scale).data as Float32Array, shape, 'float32');
}

function classifier(seed: number): {
  g: Graph;
  loss: Tensor;
  step: Tensor;
  params: Tensor[];
  feeds: Map<Tensor, NDArray>;
} {
  const rng = new Rng(seed);
  const g = new Graph();
  const x = g.placeholder('x', [16, 48]);
  const labels = g.placeholder('labels', [16, 6]);
  const w1 = g.variable('w1', dense(rng, [48, 40], 0.2));
  const w2 = g.variable('w2', dense(rng, [40, 6], 0.2));
  const params = [w1, w2];
  const loss = mean(softmaxCrossEntropyWithLogits(labels, matMul(relu(matMul(x, w1)), w2)));
  const grads = gradients(loss, params) as Tensor[];
  const step = group(
    params.map((p, i) => assign(p, sub(p, grads[i].mul(0.1)))),
    'sgd',
  );
  const onehot = new Float32Array(16 * 6);
  for (let r = 0; r < 16; r++) onehot[r * 6 + (r % 6)] = 1;
  const feeds = new Map<Tensor, NDArray>([
    [x, dense(rng, [16, 48], 1)],
    [labels, new NDArray(onehot, [16, 6], 'float32')],
  ]);
  return { g, loss, step, params, feeds };
}

/** Bytes that pass through Float32Array.prototype.set while `body` runs. */
function copiedBy(body: () => void): number {
  const set = Float32Array.prototype.set;
  let bytes = 0;
  Float32Array.prototype.set = function (this: Float32Array, source: ArrayLike<number>, offset?: number): void {
    bytes += source.length * 4;
    set.call(this, source, offset);
  } as typeof set;
  try {
    body();
  } finally {
    Float32Array.prototype.set = set;
  }
  return bytes;
}

describe('SGD updates on the wasm backend are not copied into the variables', () => {
  test('a step copies only the staged feeds; each variable moves to the block its update was written to', () => {
    const { g, loss, step, params, feeds } = classifier(1);
    const s = new Session(g, { backend: 'wasm' });
    s.run([loss, step], feeds);
    const { store, placement } = internals(s);
    const before = params.map((p) => (store.get(p.id) as NDArray).data.byteOffset);
    const copied = copiedBy(() => s.run([loss, step], feeds));
    const after = params.map((p) => (store.get(p.id) as NDArray).data.byteOffset);
    // Only the feeds are staged into the arena, x for each of its two wasm matMuls (the forward one and dW1's), the
    // labels once; no weight (48×40 + 40×6 floats) is copied.
    expect(copied).toBe((2 * 16 * 48 + 16 * 6) * 4);
    after.forEach((offset, i) => expect(offset).not.toBe(before[i]));
    for (const p of params) expect(placement.arena.holds((store.get(p.id) as NDArray).data)).toBe(true);
    // The next step writes its update into the variable's previous block: the two alternate.
    s.run([loss, step], feeds);
    expect(params.map((p) => (store.get(p.id) as NDArray).data.byteOffset)).toEqual(before);
  });

  test('losses and weights match the JS backend step after step', () => {
    const { g, loss, step, params, feeds } = classifier(2);
    const js = new Session(g, { backend: 'js' });
    const wasm = new Session(g, { backend: 'wasm' });
    for (let k = 0; k < 6; k++) {
      const [a] = js.run([loss, step], feeds);
      const [b] = wasm.run([loss, step], feeds);
      expect(b.toArray() as number).toBeCloseTo(a.toArray() as number, 5);
    }
    for (const p of params) {
      const a = js.variableValue(p).data;
      const b = wasm.variableValue(p).data;
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
    }
  });

  test('a failed run after exchanges changes no variable', () => {
    const { g, loss, step, params, feeds } = classifier(3);
    const s = new Session(g, { backend: 'wasm' });
    s.run([loss, step], feeds);
    s.run([loss, step], feeds);
    const kept = params.map((p) => Array.from(s.variableValue(p).data));
    const bad = new Map(feeds);
    const x = [...feeds.keys()][0];
    const poisoned = (feeds.get(x) as NDArray).clone();
    poisoned.data[5] = NaN;
    bad.set(x, poisoned);
    expect(() => s.run([loss, step], bad, { checkNumerics: true })).toThrow(/NaN/);
    params.forEach((p, i) => expect(Array.from(s.variableValue(p).data)).toEqual(kept[i]));
    // A checked run that succeeds computes into fresh arrays and copies the update: the values are still right.
    const [checked] = s.run([loss, step], feeds, { checkNumerics: true });
    expect(Number.isFinite(checked.toArray() as number)).toBe(true);
  });

  test('dispose() after exchanges gives every block back and keeps the trained values', () => {
    const { g, loss, step, params, feeds } = classifier(4);
    const s = new Session(g, { backend: 'wasm' });
    const arena = internals(s).placement.arena;
    s.run([loss, step], feeds); // the staging area is allocated by now
    s.dispose();
    const others = arena.blocks; // other tests' sessions, still alive
    for (let k = 0; k < 3; k++) s.run([loss, step], feeds);
    const kept = params.map((p) => Array.from(s.variableValue(p).data));
    expect(arena.blocks).toBeGreaterThan(others);
    s.dispose();
    expect(arena.blocks).toBe(others);
    params.forEach((p, i) => expect(Array.from(s.variableValue(p).data)).toEqual(kept[i]));
  });
});
