/**
 * Issue 20's batch-1 path in a session: a plan's float32 constants are copied into the wasm arena once (its first
 * run) and read in place afterwards, their block freed with the plan; variables, already arena-held, are read in place
 * by the skinny kernel after every way a variable is written (assign, an optimizer step, restoreVariables, restore);
 * and a cached plan's lookup gives the same results (feeds still validated with the same errors).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  assign,
  DTypeError,
  FeedError,
  fusedMatMul,
  Graph,
  matMul,
  mul,
  NDArray,
  Session,
  ShapeError,
  sum,
  train,
} from '../src';
import { sessionKernels } from '../src/backend';
import { Rng } from './ops/util';

const kernels = sessionKernels('wasm').wasm;
if (kernels === null) throw new Error('these tests need the wasm kernels');
const arena = kernels.wasm.arena;

function uniform(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

/** x·w (+ bias, act) in float64 from the float32 values. */
function reference(x: Float32Array, w: Float32Array, K: number, N: number, bias?: Float32Array): Float64Array {
  const out = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    let s = bias === undefined ? 0 : bias[j];
    for (let k = 0; k < K; k++) s += x[k] * w[k * N + j];
    out[j] = s;
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol);
}

describe('constants in the arena', () => {
  const K = 300;
  const N = 70;
  const rng = new Rng(1);
  const w = uniform(rng, K * N);
  const bias = uniform(rng, N);
  const x = uniform(rng, K);

  function build(): { g: Graph; y: ReturnType<typeof matMul>; input: ReturnType<Graph['placeholder']> } {
    const g = new Graph();
    const input = g.placeholder('x', [1, K]);
    const weights = g.constant(new NDArray(w, [K, N]));
    const b = g.constant(new NDArray(bias, [N]));
    return { g, y: fusedMatMul({ a: input, b: weights, bias: b }), input };
  }

  test('are copied once at the first run, read in place after it, and given back on dispose', () => {
    const { g, y, input } = build();
    const sess = new Session(g, { backend: 'wasm' });
    const feeds = new Map([[input, new NDArray(x, [1, K])]]);
    const expected = reference(x, w, K, N, bias);
    // Another session's run first, so that the kernels' staging area (reserved once, shared) is not counted below.
    const warm = new Graph();
    new Session(warm, { backend: 'wasm' }).run(mul(warm.placeholder('v', [4]), 2), { v: new Float32Array(4) });
    const before = arena.used;
    const skinny = kernels.wasm.skinnyRuns;
    const packs = kernels.wasm.packedCopies;
    expectClose(sess.run(y, feeds).data, expected);
    const afterFirst = arena.used;
    // The weights (and the bias) now have a block of their own.
    expect(afterFirst - before).toBeGreaterThanOrEqual(K * N * 4 + N * 4);
    for (let r = 0; r < 5; r++) expectClose(sess.run(y, feeds).data, expected);
    expect(arena.used).toBe(afterFirst);
    expect(kernels.wasm.skinnyRuns - skinny).toBe(6);
    // The weights were packed once, at the first run (the bias is no matMul operand).
    expect(kernels.wasm.packedCopies - packs).toBe(1);
    sess.dispose();
    expect(afterFirst - arena.used).toBeGreaterThanOrEqual(K * N * 4 + N * 4);
    expect(arena.used).toBeLessThanOrEqual(before);
  });

  test.each([
    [301, 67, 'relu', false],
    [301, 67, 'relu', true],
    [17, 5, 'sigmoid', false],
    [17, 5, 'sigmoid', true],
    [2, 130, 'none', true],
    [1030, 1000, 'tanh', false],
    [1030, 1001, 'tanh', true],
  ] as const)(
    'a packed %d x %d weight (tails of rows and columns), %s epilogue, stored transposed: %s',
    (k, n, act, tB) => {
      const r = new Rng(k + n);
      const weights = uniform(r, k * n);
      const b = uniform(r, n);
      const input = uniform(r, k);
      // Stored as [n, k] when read transposed: the same matrix.
      const stored = tB
        ? Float32Array.from({ length: k * n }, (_, i) => weights[(i % k) * n + Math.floor(i / k)])
        : weights;
      const g = new Graph();
      const xt = g.placeholder('x', [1, k]);
      const w = g.constant(new NDArray(stored, tB ? [n, k] : [k, n]));
      const y = fusedMatMul({ a: xt, b: w, bias: g.constant(b), activation: act, transposeB: tB });
      const sess = new Session(g, { backend: 'wasm' });
      const f = {
        none: (v: number) => v,
        relu: (v: number) => Math.max(v, 0),
        tanh: Math.tanh,
        sigmoid: (v: number) => 1 / (1 + Math.exp(-v)),
      }[act];
      const expected = Array.from(reference(input, weights, k, n, b), f);
      const packs = kernels.wasm.packedCopies;
      for (let run = 0; run < 2; run++)
        expectClose(sess.run(y, { x: new NDArray(input, [1, k]) }).data, expected, 2e-5);
      expect(kernels.wasm.packedCopies - packs).toBe(1);
      sess.dispose();
    },
  );

  test('a fetched constant is a copy: writing into it changes neither the graph nor the next run', () => {
    const g = new Graph();
    const c = g.constant(new NDArray(w.slice(0, 128), [128]));
    const doubled = mul(c, 2);
    const sess = new Session(g, { backend: 'wasm' });
    const [value] = sess.run([c, doubled]);
    value.data.fill(0);
    expectClose(sess.run(c).data, w.slice(0, 128), 0);
    expectClose(
      sess.run(doubled).data,
      Array.from(w.slice(0, 128), (v) => 2 * v),
      0,
    );
    expectClose((c.node.value as NDArray).data, w.slice(0, 128), 0);
    sess.dispose();
  });

  test('the js backend gives the same results', () => {
    const { g, y, input } = build();
    const feeds = new Map([[input, new NDArray(x, [1, K])]]);
    const fast = new Session(g, { backend: 'wasm' }).run(y, feeds);
    const reference = new Session(g, { backend: 'js' }).run(y, feeds);
    expectClose(fast.data, reference.data);
  });
});

describe('variables read in place by the skinny kernel after every write path', () => {
  const K = 96;
  const N = 40;

  function build(): {
    g: Graph;
    w: ReturnType<Graph['variable']>;
    x: ReturnType<Graph['placeholder']>;
    y: ReturnType<typeof matMul>;
  } {
    const g = new Graph();
    const rng = new Rng(2);
    const w = g.variable('w', new NDArray(uniform(rng, K * N), [K, N]));
    const x = g.placeholder('x', [1, K]);
    return { g, w, x, y: matMul(x, w) };
  }

  const rng = new Rng(3);
  const xValue = uniform(rng, K);

  /** Runs y and checks it against x·(the session's current w) in float64; the skinny kernel ran. */
  function checkAgainstCurrent(sess: Session, parts: ReturnType<typeof build>): void {
    const feeds = new Map([[parts.x, new NDArray(xValue, [1, K])]]);
    const before = kernels?.wasm.skinnyRuns ?? 0;
    const y = sess.run(parts.y, feeds);
    expect((kernels?.wasm.skinnyRuns ?? 0) - before).toBe(1);
    const current = sess.variableValue(parts.w).data as Float32Array;
    expectClose(y.data, reference(xValue, current, K, N));
  }

  test('assign', () => {
    const parts = build();
    const sess = new Session(parts.g, { backend: 'wasm' });
    checkAgainstCurrent(sess, parts);
    const next = new Rng(4);
    sess.run(assign(parts.w, parts.g.constant(new NDArray(uniform(next, K * N), [K, N]))));
    checkAgainstCurrent(sess, parts);
  });

  test('an optimizer step', () => {
    const parts = build();
    const loss = sum(mul(parts.y, parts.y));
    const step = train.adam(0.1).minimize(loss);
    const sess = new Session(parts.g, { backend: 'wasm' });
    const feeds = new Map([[parts.x, new NDArray(xValue, [1, K])]]);
    checkAgainstCurrent(sess, parts);
    const before = Float32Array.from(sess.variableValue(parts.w).data);
    for (let i = 0; i < 3; i++) sess.run(step, feeds);
    expect(Array.from(sess.variableValue(parts.w).data)).not.toEqual(Array.from(before));
    checkAgainstCurrent(sess, parts);
  });

  test('restoreVariables and restore', () => {
    const parts = build();
    const source = new Session(parts.g, { backend: 'wasm' });
    source.run(assign(parts.w, parts.g.constant(new NDArray(uniform(new Rng(5), K * N), [K, N]))));
    const bytes = source.serializeVariables();
    const sess = new Session(parts.g, { backend: 'wasm' });
    checkAgainstCurrent(sess, parts);
    sess.restoreVariables(bytes);
    expectClose(sess.variableValue(parts.w).data, source.variableValue(parts.w).data, 0);
    checkAgainstCurrent(sess, parts);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lazygrad-batch1-')), 'w.safetensors');
    sess.run(assign(parts.w, parts.g.constant(new NDArray(new Float32Array(K * N).fill(0.25), [K, N]))));
    checkAgainstCurrent(sess, parts);
    source.save(file);
    sess.restore(file);
    expectClose(sess.variableValue(parts.w).data, source.variableValue(parts.w).data, 0);
    checkAgainstCurrent(sess, parts);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});

describe('a cached plan', () => {
  test('still validates every feed, with the same error classes and messages', () => {
    for (const backend of ['js', 'wasm'] as const) {
      const g = new Graph();
      const x = g.placeholder('x', [1, 4]);
      const y = mul(x, 2);
      const sess = new Session(g, { backend });
      const good = new NDArray(new Float32Array([1, 2, 3, 4]), [1, 4]);
      expect(Array.from(sess.run(y, new Map([[x, good]])).data)).toEqual([2, 4, 6, 8]);
      expect(sess.cachedPlans).toBe(1);
      // The same fetches again: the plan is found without building its key, and the feeds are still checked.
      expect(() => sess.run(y, new Map([[x, new NDArray(new Float32Array(5), [1, 5])]]))).toThrow(ShapeError);
      expect(() => sess.run(y, new Map([[x, new NDArray(new Float64Array(4), [1, 4])]]))).toThrow(DTypeError);
      expect(() => sess.run(y, new Map([[x, new NDArray(new Float32Array(5), [1, 5])]]))).toThrow(
        "Session.run: feed for placeholder 'x' has shape [1, 5], expected [1, 4]",
      );
      expect(() => sess.run(y)).toThrow(FeedError);
      expect(Array.from(sess.run(y, new Map([[x, good]])).data)).toEqual([2, 4, 6, 8]);
      expect(Array.from(sess.run({ out: y }, new Map([[x, good]])).out.data)).toEqual([2, 4, 6, 8]);
      expect(sess.cachedPlans).toBe(1);
    }
  });

  test('a different fed shape compiles another plan, and the first is found again after it', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const y = sum(x);
    const sess = new Session(g, { backend: 'wasm' });
    const one = new NDArray(new Float32Array([1, 2, 3]), [1, 3]);
    const two = new NDArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(sess.run(y, new Map([[x, one]])).data[0]).toBe(6);
    expect(sess.run(y, new Map([[x, two]])).data[0]).toBe(21);
    expect(sess.run(y, new Map([[x, one]])).data[0]).toBe(6);
    expect(sess.cachedPlans).toBe(2);
    sess.dispose();
    expect(sess.run(y, new Map([[x, two]])).data[0]).toBe(21);
  });
});
