/**
 * Training updates written into their variables as soon as computed (issue 20, src/session/inplace.ts): only once
 * no later step of the run can fail, and only after the last reader of the variable's old value, so the values and
 * the all-or-nothing guarantee are those of writing every update at the end of the run.
 */
import {
  add,
  assign,
  gather,
  gradients,
  Graph,
  group,
  matMul,
  mean,
  mul,
  NDArray,
  relu,
  RuntimeError,
  Session,
  softmaxCrossEntropyWithLogits,
  sub,
  sum,
  Tensor,
} from '../src';
import type { SessionOptions } from '../src';

/** A deterministic pseudo-random float array in [-scale, scale). */
function values(n: number, seed: number, scale = 0.5): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

interface Mlp {
  g: Graph;
  x: Tensor;
  labels: Tensor;
  params: Tensor[];
  loss: Tensor;
  step: Tensor;
  feeds: Map<Tensor, NDArray>;
}

/** An MLP trained by SGD through assigns; `embed`: its input is a gather of an embedding table at fed ids. */
function mlp(layers: number, width: number, batch: number, options: { embed?: boolean; remat?: 'auto' } = {}): Mlp {
  const g = new Graph();
  const classes = 5;
  const labels = g.placeholder('labels', [batch, classes]);
  const ids = g.placeholder('ids', [batch], 'int32');
  const x = g.placeholder('x', [batch, width]);
  const params: Tensor[] = [];
  let h: Tensor = x;
  if (options.embed === true) {
    const table = g.variable('table', new NDArray(values(10 * width, 99), [10, width]));
    params.push(table);
    h = gather(table, ids);
  }
  for (let i = 0; i < layers; i++) {
    const out = i + 1 === layers ? classes : width;
    const w = g.variable(`w${i}`, new NDArray(values(width * out, 7 + i, 1 / Math.sqrt(width)), [width, out]));
    const b = g.variable(`b${i}`, new NDArray(values(out, 50 + i, 0.1), [out]));
    params.push(w, b);
    h = add(matMul(h, w), b);
    if (i + 1 < layers) h = relu(h);
  }
  const loss = mean(softmaxCrossEntropyWithLogits(labels, h));
  const grads = gradients(loss, params, undefined, options.remat === undefined ? {} : { remat: 'auto' }) as Tensor[];
  const step = group(
    params.map((p, i) => assign(p, sub(p, mul(grads[i], 0.05)))),
    'sgd_step',
  );
  const oneHot = new Float32Array(batch * classes);
  for (let r = 0; r < batch; r++) oneHot[r * classes + (r % classes)] = 1;
  const feeds = new Map<Tensor, NDArray>([
    [labels, new NDArray(oneHot, [batch, classes])],
    [x, new NDArray(values(batch * width, 3), [batch, width])],
  ]);
  if (options.embed === true) {
    feeds.delete(x);
    feeds.set(
      ids,
      new NDArray(
        Int32Array.from({ length: batch }, (_, i) => i % 10),
        [batch],
        'int32',
      ),
    );
  }
  return { g, x, labels, params, loss, step, feeds };
}

const plannedBytes = (text: string): number => {
  const line = text.split('\n').find((l) => l.startsWith('memory:')) as string;
  const [, amount, unit] = /^memory: ([\d.]+) (B|KiB|MiB)/.exec(line) as RegExpExecArray;
  return Number(amount) * { B: 1, KiB: 1024, MiB: 1024 * 1024 }[unit as 'B'];
};
const updatesLine = (text: string): string => text.split('\n').find((l) => l.startsWith('updates:')) ?? '';

/** Runs `steps` SGD steps and returns the losses and every parameter's final value. */
function train(m: Mlp, options: SessionOptions, steps: number): { losses: number[]; params: Float32Array[] } {
  const sess = new Session(m.g, options);
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) losses.push(sess.run([m.loss, m.step], m.feeds)[0].data[0]);
  const params = m.params.map((p) => Float32Array.from(sess.run(p).data));
  sess.dispose();
  return { losses, params };
}

describe('updates written as computed: planned memory and explain', () => {
  test('an SGD step plans less memory than with every update written at the end of the run', () => {
    const m = mlp(6, 64, 16);
    const early = new Session(m.g).explain([m.loss, m.step], m.feeds);
    const end = new Session(m.g, { writeUpdates: 'end-of-run' }).explain([m.loss, m.step], m.feeds);
    expect(updatesLine(early)).toMatch(
      /^updates: 12 of 12 written as computed \(no step can fail; 12 computed in the variable's memory\): %\d+ 'assign'/,
    );
    expect(updatesLine(end)).toMatch(/^updates: 0 of 12 written as computed .*; at the end of the run: %\d+ 'assign'/);
    // Without early writes every weight gradient (or new weight) is alive at the start of the update section.
    expect(plannedBytes(early)).toBeLessThan(0.6 * plannedBytes(end));
  });

  test('with remat auto too, each update runs right after its gradient and the old weight’s last reader', () => {
    const m = mlp(6, 64, 16, { remat: 'auto' });
    const sess = new Session(m.g);
    const text = sess.explain([m.loss, m.step], m.feeds);
    expect(updatesLine(text)).toMatch(/^updates: 12 of 12 written as computed/);
    const end = new Session(m.g, { writeUpdates: 'end-of-run' }).explain([m.loss, m.step], m.feeds);
    expect(plannedBytes(text)).toBeLessThan(0.6 * plannedBytes(end));
    // In the listed order, no step after an assign reads its variable.
    const lines = text.split('\n').filter((l) => /^ {2}%\d+ = /.test(l));
    const assignAt = new Map<string, number>();
    lines.forEach((line, k) => {
      const found = /= assign\((%\d+), /.exec(line);
      if (found !== null) assignAt.set(found[1], k);
    });
    expect(assignAt.size).toBe(12);
    lines.forEach((line, k) => {
      for (const [variable, at] of assignAt) {
        if (k > at && !line.includes('= group(')) expect(line).not.toMatch(new RegExp(`[(, ]${variable}[,)]`));
      }
    });
  });

  test('a step that can fail late (a gather at fed ids after the updates) keeps every write at the end', () => {
    const m = mlp(3, 16, 4);
    const table = m.g.variable('late_table', new NDArray(values(40, 5), [10, 4]));
    const ids = m.g.placeholder('late_ids', [2], 'int32');
    const looked = sum(gather(table, ids));
    const sess = new Session(m.g);
    const text = sess.explain([m.loss, m.step, looked], m.feeds);
    expect(updatesLine(text)).toMatch(
      /^updates: 0 of 6 written as computed \(after the last step that can fail, gather %\d+ .gather.\); at the end of the run: /,
    );
    const before = m.params.map((p) => Float32Array.from(sess.run(p).data));
    const feeds = new Map(m.feeds).set(ids, new NDArray(Int32Array.from([1, 12]), [2], 'int32'));
    expect(() => sess.run([m.loss, m.step, looked], feeds)).toThrow(RuntimeError);
    m.params.forEach((p, i) => expect(sess.run(p).data).toEqual(before[i]));
    // With valid ids the same plan trains, and matches writing at the end of the run.
    feeds.set(ids, new NDArray(Int32Array.from([1, 2]), [2], 'int32'));
    sess.run([m.loss, m.step, looked], feeds);
    const end = new Session(m.g, { writeUpdates: 'end-of-run' });
    end.run([m.loss, m.step, looked], feeds);
    m.params.forEach((p) => expect(sess.run(p).data).toEqual(end.run(p).data));
  });

  test('a step that can fail early (an embedding gather) lets the updates be written early; a bad id changes nothing', () => {
    const m = mlp(3, 16, 4, { embed: true });
    const sess = new Session(m.g);
    const text = sess.explain([m.loss, m.step], m.feeds);
    expect(updatesLine(text)).toMatch(
      /^updates: 7 of 7 written as computed \(after the last step that can fail, gather %\d+ .gather.; 7 computed in the variable's memory\): /,
    );
    const before = m.params.map((p) => Float32Array.from(sess.run(p).data));
    const ids = [...m.feeds.keys()].find((t) => t.name === 'ids') as Tensor;
    const bad = new Map(m.feeds).set(ids, new NDArray(Int32Array.from([0, 1, 2, 30]), [4], 'int32'));
    expect(() => sess.run([m.loss, m.step], bad)).toThrow(/gather/);
    m.params.forEach((p, i) => expect(sess.run(p).data).toEqual(before[i]));
  });
});

describe('updates written as computed: the same values as writing at the end of the run', () => {
  const cases: [string, SessionOptions][] = [
    ['js', { backend: 'js' }],
    ['wasm, 1 thread', { backend: 'wasm', threads: 1 }],
    ['wasm, 2 threads', { backend: 'wasm', threads: 2 }],
  ];
  test.each(cases)('%s: losses and variables after 4 steps are bit-identical', (_, options) => {
    for (const build of [
      () => mlp(4, 48, 16),
      () => mlp(4, 48, 16, { remat: 'auto' }),
      () => mlp(3, 32, 8, { embed: true }),
    ]) {
      const early = train(build(), { ...options, writeUpdates: 'early' }, 4);
      const end = train(build(), { ...options, writeUpdates: 'end-of-run' }, 4);
      expect(early.losses).toEqual(end.losses);
      early.params.forEach((p, i) => expect(p).toEqual(end.params[i]));
      // Training happened: the loss moved.
      expect(early.losses[3]).not.toEqual(early.losses[0]);
    }
  });

  test.each(cases)('%s: a traced run writes early too, and its trace lists every step', (_, options) => {
    const m = mlp(3, 32, 8);
    const traced = new Session(m.g, options);
    const plain = new Session(m.g, { ...options, writeUpdates: 'end-of-run' });
    traced.run([m.loss, m.step], m.feeds, { trace: true });
    plain.run([m.loss, m.step], m.feeds);
    const steps = traced.lastTrace?.steps ?? [];
    expect(steps.filter((entry) => entry.op === 'assign')).toHaveLength(6);
    m.params.forEach((p) => expect(traced.run(p).data).toEqual(plain.run(p).data));
  });

  test.each(cases)('%s: a checkNumerics run (any step may throw) still writes the same values', (_, options) => {
    const m = mlp(3, 32, 8);
    const checked = new Session(m.g, options);
    const plain = new Session(m.g, { ...options, writeUpdates: 'end-of-run' });
    for (let k = 0; k < 2; k++) {
      checked.run([m.loss, m.step], m.feeds, { checkNumerics: true });
      plain.run([m.loss, m.step], m.feeds);
    }
    m.params.forEach((p) => expect(checked.run(p).data).toEqual(plain.run(p).data));
  });
});

describe('updates written as computed: reads of the old value', () => {
  for (const backend of ['js', 'wasm'] as const) {
    test(`${backend}: a fetch of the variable in the same run sees the old value (that update waits for the end)`, () => {
      const m = mlp(3, 16, 4);
      const w0 = m.params[0];
      const sess = new Session(m.g, { backend });
      const text = sess.explain([m.loss, m.step, w0], m.feeds);
      expect(updatesLine(text)).toMatch(
        /^updates: 5 of 6 written as computed.*; at the end of the run: %\d+ 'assign'$/,
      );
      const old = Float32Array.from(sess.run(w0).data);
      const [, , fetched] = sess.run([m.loss, m.step, w0], m.feeds);
      expect(fetched.data).toEqual(old);
      expect(sess.run(w0).data).not.toEqual(old);
    });

    test(`${backend}: an op built after the update that reads the variable sees the old value`, () => {
      const m = mlp(3, 16, 4);
      const w0 = m.params[0];
      const readsOld = sum(mul(w0, 2));
      const sess = new Session(m.g, { backend });
      expect(updatesLine(sess.explain([m.loss, m.step, readsOld], m.feeds))).toMatch(/^updates: 6 of 6 written/);
      const expected = 2 * Array.from(sess.run(w0).data as Float32Array).reduce((a, b) => a + Math.fround(b), 0);
      const [, , got] = sess.run([m.loss, m.step, readsOld], m.feeds);
      expect(got.data[0]).toBeCloseTo(expected, 3);
      const end = new Session(m.g, { backend, writeUpdates: 'end-of-run' });
      expect(end.run([m.loss, m.step, readsOld], m.feeds)[2].data).toEqual(got.data);
    });

    test(`${backend}: a fetched assign returns the new value, which is the variable's, and stays the caller's`, () => {
      const g = new Graph();
      const w = g.variable('w', new NDArray(Float32Array.from([1, 2, 3]), [3]));
      const update = assign(w, mul(w, 2));
      for (const copy of [true, false]) {
        const sess = new Session(g, { backend });
        expect(updatesLine(sess.explain(update))).toMatch(/^updates: 1 of 1 written as computed/);
        const first = sess.run(update, undefined, { copy });
        expect(Array.from(first.data)).toEqual([2, 4, 6]);
        if (copy) {
          sess.run(update);
          expect(Array.from(first.data)).toEqual([2, 4, 6]);
        }
        expect(Array.from(sess.run(w).data)).toEqual(copy ? [4, 8, 12] : [2, 4, 6]);
      }
    });
  }
});

describe('updates computed in the variables’ memory (wasm)', () => {
  interface Internals {
    store: { get(id: number): NDArray | undefined; onWritten(listener: (id: number) => void): void };
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

  test('no weight or bias is copied; each variable keeps its block; the store tells each write', () => {
    const m = mlp(3, 32, 8);
    const sess = new Session(m.g, { backend: 'wasm' });
    sess.run([m.loss, m.step], m.feeds);
    const store = (sess as unknown as Internals).store;
    const written: number[] = [];
    store.onWritten((id) => written.push(id));
    const before = m.params.map((p) => (store.get(p.id) as NDArray).data.byteOffset);
    const copied = copiedBy(() => sess.run([m.loss, m.step], m.feeds));
    // Only the feeds are staged (x for its two wasm matMuls, the labels): 32·(32 + 5)·4 + … bytes, no parameter.
    const params = m.params.reduce((n, p) => n + (store.get(p.id) as NDArray).size, 0) * 4;
    const end = new Session(m.g, { backend: 'wasm', writeUpdates: 'end-of-run' });
    end.run([m.loss, m.step], m.feeds);
    const copiedEnd = copiedBy(() => end.run([m.loss, m.step], m.feeds));
    expect(copied).toBeLessThan(copiedEnd);
    expect(copied).toBeLessThan(params);
    m.params.forEach((p, i) => expect((store.get(p.id) as NDArray).data.byteOffset).toBe(before[i]));
    expect([...written].sort((a, b) => a - b)).toEqual(m.params.map((p) => p.id).sort((a, b) => a - b));
    m.params.forEach((p) => expect(sess.run(p).data).toEqual(end.run(p).data));
  });
});
