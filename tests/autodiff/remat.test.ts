/**
 * Rematerialization: gradients(…, { remat }) and checkpoint(fn) recompute forward values in the backward pass
 * instead of keeping them. The same values and gradients, bit for bit, as without remat (the same kernels run on
 * the same inputs); less planned memory; explain says what was recomputed; remat: 'none' turns it off.
 */
import fc from 'fast-check';
import {
  add,
  avgPool,
  checkpoint,
  conv2d,
  exp,
  gradients,
  Graph,
  GraphError,
  matMul,
  maxPool,
  mean,
  mul,
  NDArray,
  randomUniform,
  recompute,
  relu,
  reshape,
  RematOption,
  Session,
  SessionOptions,
  sigmoid,
  sin,
  softmaxCrossEntropyWithLogits,
  square,
  sub,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { randomArray, Rng } from '../ops/util';

interface Program {
  g: Graph;
  fetches: Tensor[];
  feeds: Map<Tensor, NDArray>;
}

/** Runs a program: its fetched values, the plan's planned bytes and explain's text. */
function run(p: Program, options: SessionOptions = {}): { values: NDArray[]; planned: number; text: string } {
  const sess = new Session(p.g, options);
  const values = sess.run(p.fetches, p.feeds) as NDArray[];
  const text = sess.explain(p.fetches, p.feeds);
  const match = /^memory: ([\d.]+) (B|KiB|MiB)/m.exec(text);
  const planned = match === null ? NaN : Number(match[1]) * { B: 1, KiB: 1024, MiB: 1024 * 1024 }[match[2] as 'B'];
  sess.dispose();
  return { values, planned, text };
}

function expectBitwiseEqual(actual: readonly NDArray[], expected: readonly NDArray[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a.shape).toEqual(expected[i].shape);
    expect(Array.from(a.data)).toEqual(Array.from(expected[i].data));
  });
}

function expectClose(actual: readonly NDArray[], expected: readonly NDArray[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    let scale = 0;
    for (const v of expected[i].data) scale = Math.max(scale, Math.abs(v));
    a.data.forEach((v, k) => expect(Math.abs(v - expected[i].data[k])).toBeLessThanOrEqual(1e-5 * scale + 1e-30));
  });
}

/**
 * Remat against no remat: bit for bit where the same ops run in the same order (level 1: no fusion); with fusion,
 * a fused group computes in float64 and rounds where the group ends, and which values end a group depends on which
 * are read later, so level 2 agrees to rounding. Returns the level-2 runs (planned memory, explain).
 */
function compare(build: (remat: boolean) => Program, options: SessionOptions = {}) {
  expectBitwiseEqual(
    run(build(true), { ...options, optimize: { level: 1 } }).values,
    run(build(false), { ...options, optimize: { level: 1 } }).values,
  );
  const kept = run(build(false), options);
  const remat = run(build(true), options);
  expectClose(remat.values, kept.values);
  return { kept, remat };
}

/** A deep MLP (relu or tanh) with its loss and the gradients of every weight and bias. */
function mlp(remat: RematOption, options: { layers?: number; width?: number; activation?: 'relu' | 'tanh' } = {}) {
  const { layers = 12, width = 16, activation = 'relu' } = options;
  const rng = new Rng(7);
  const g = new Graph();
  const x = g.placeholder('x', [8, width]);
  const labels = g.placeholder('labels', [8, 4]);
  const params: Tensor[] = [];
  let h = x;
  for (let i = 0; i < layers; i++) {
    const out = i + 1 === layers ? 4 : width;
    const w = g.variable(`w${i}`, randomArray(rng, [width, out], 'float32', { lo: -0.5, hi: 0.5 }));
    const b = g.variable(`b${i}`, randomArray(rng, [out], 'float32', { lo: -0.1, hi: 0.1 }));
    params.push(w, b);
    h = add(matMul(h, w), b);
    if (i + 1 < layers) h = activation === 'relu' ? relu(h) : tanh(h);
  }
  const loss = mean(softmaxCrossEntropyWithLogits(labels, h));
  const grads = gradients(loss, params, undefined, { remat }) as Tensor[];
  const feeds = new Map([
    [x, randomArray(rng, [8, width], 'float32')],
    [labels, randomArray(rng, [8, 4], 'float32', { lo: 0, hi: 1 })],
  ]);
  return { g, fetches: [loss, ...grads], feeds, params };
}

describe('gradients with remat', () => {
  test.each(['relu', 'tanh'] as const)(
    'a 12-layer %s MLP: the same loss and gradients in less memory',
    (activation) => {
      const { kept, remat } = compare((on) => mlp(on ? 'auto' : 'none', { activation }));
      expect(remat.planned).toBeLessThan(kept.planned * 0.75);
    },
  );

  test('relu with fusion on: bit for bit (recomputed matMuls fuse as the forward ones did)', () => {
    expectBitwiseEqual(run(mlp('auto')).values, run(mlp('none')).values);
  });

  test('on the js backend too, and with { every: 2 }', () => {
    const { kept, remat } = compare((on) => mlp(on ? { every: 2 } : 'none'), { backend: 'js' });
    expect(remat.planned).toBeLessThan(kept.planned);
  });

  test("'auto' keeps the output of every k-th matMul (k ≈ √units) and recomputes the matMuls between", () => {
    // 16 matMuls: k = 4, so matMuls 4, 8 and 12 (1-based) are kept. Segments start at x (fed) and at the kept
    // matMuls 4 and 8; in each, 3 matMuls rerun (fused with their bias and relu). Past matMul 12 nothing is
    // recomputed: those values are live when the backward pass starts.
    const { text } = run(mlp('auto', { layers: 16 }));
    const line = /^remat: (\d+) steps recompute forward values \(([^)]*)\) from (\d+) kept values/m.exec(text);
    expect(line).not.toBeNull();
    const [, , ops, barriers] = line as RegExpExecArray;
    expect(Number(barriers)).toBe(3);
    expect(ops).toContain('9 fusedMatMul');
    expect(text).toMatch(/^remat: planned memory .* against .* without it \(.* saved\)$/m);
  });

  test("remat: 'none' on the session compiles the plan without recomputation", () => {
    const kept = run(mlp('none'));
    const off = run(mlp('auto'), { remat: 'none' });
    expectBitwiseEqual(off.values, kept.values);
    expect(off.planned).toBe(kept.planned);
    expect(off.text).not.toMatch(/^remat:/m);
    expect(off.text).toMatch(/unremat .* stripped 3/);
    expect(off.text).not.toMatch(/recompute/);
  });

  test('a CNN (conv, relu, max and average pooling): the same gradients in less memory', () => {
    const build = (remat: RematOption): Program => {
      const rng = new Rng(3);
      const g = new Graph();
      const x = g.placeholder('x', [2, 16, 16, 2]);
      const params: Tensor[] = [];
      let h = x;
      for (let i = 0; i < 6; i++) {
        const f = g.variable(`f${i}`, randomArray(rng, [3, 3, i === 0 ? 2 : 4, 4], 'float32', { lo: -0.4, hi: 0.4 }));
        params.push(f);
        h = relu(conv2d(h, f, 1, 'same'));
        if (i === 2) h = maxPool(h, 2, 2, 'valid');
      }
      h = avgPool(h, 2, 2, 'valid');
      const loss = sum(square(reshape(h, [2, -1])));
      const grads = gradients(loss, params, undefined, { remat }) as Tensor[];
      return { g, fetches: [loss, ...grads], feeds: new Map([[x, randomArray(rng, [2, 16, 16, 2], 'float32')]]) };
    };
    const { kept, remat } = compare((on) => build(on ? { every: 2 } : 'none'));
    expect(remat.planned).toBeLessThan(kept.planned);
    expect(remat.text).toMatch(/^remat: \d+ steps recompute .*conv2d/m);
  });

  test('random ops are kept, never recomputed (a recomputed draw would differ)', () => {
    const build = (remat: RematOption): Program => {
      const g = new Graph();
      const w = g.variable('w', new NDArray(new Float32Array([0.5, -1, 2, 0.25]), [4]));
      let h = mul(w, w);
      for (let i = 0; i < 8; i++) {
        const noise = randomUniform([4], 0, 1, 'float32', 11 + i, g);
        h = sin(add(mul(h, noise), w));
      }
      const loss = sum(h);
      return { g, fetches: [loss, ...(gradients(loss, [w], undefined, { remat }) as Tensor[])], feeds: new Map() };
    };
    const { remat } = compare((on) => build(on ? { every: 2 } : 'none'));
    expect(remat.text).toMatch(/^remat: /m);
  });

  test('the gradient graph differentiates again (second order through the barriers)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const chain = (remat: RematOption): Tensor => {
      let h = x;
      for (let i = 0; i < 6; i++) h = exp(mul(sin(h), 0.5));
      const [dx] = gradients(sum(h), [x], undefined, { remat }) as Tensor[];
      return (gradients(sum(square(dx)), [x]) as Tensor[])[0];
    };
    const feeds = new Map([[x, new NDArray(new Float32Array([0.1, -0.7, 1.3]), [3])]]);
    const p = { g, fetches: [chain('none'), chain({ every: 2 })], feeds };
    const { values } = run(p, { optimize: { level: 1 } });
    expect(Array.from(values[1].data)).toEqual(Array.from(values[0].data));
  });

  test('remat.every must be a whole number >= 1', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    expect(() => gradients(sum(exp(exp(x))), [x], undefined, { remat: { every: 0 } })).toThrow(GraphError);
    expect(() => gradients(sum(exp(exp(x))), [x], undefined, { remat: { every: 0 } })).toThrow(/remat\.every is 0/);
  });
});

describe('checkpoint(fn)', () => {
  test("a checkpointed block's inner values are recomputed, its inputs and outputs kept; values unchanged", () => {
    const build = (wrap: boolean): Program => {
      const rng = new Rng(5);
      const g = new Graph();
      const x = g.placeholder('x', [4, 8]);
      const params: Tensor[] = [];
      let h = x;
      for (let i = 0; i < 4; i++) {
        const w1 = g.variable(`w${i}a`, randomArray(rng, [8, 8], 'float32', { lo: -0.5, hi: 0.5 }));
        const w2 = g.variable(`w${i}b`, randomArray(rng, [8, 8], 'float32', { lo: -0.5, hi: 0.5 }));
        params.push(w1, w2);
        const block = (t: Tensor): Tensor => add(t, matMul(sigmoid(matMul(t, w1)), w2));
        h = wrap ? checkpoint(block)(h) : block(h);
      }
      const loss = sum(square(h));
      const grads = gradients(loss, params) as Tensor[];
      return { g, fetches: [loss, ...grads], feeds: new Map([[x, randomArray(rng, [4, 8], 'float32')]]) };
    };
    const { kept, remat } = compare(build);
    expect(remat.planned).toBeLessThan(kept.planned);
    // Each block's two matMuls and its sigmoid rerun from the block's input (one barrier per block).
    expect(remat.text).toMatch(/^remat: \d+ steps recompute forward values \(.*matMul.*\) from 4 kept values/m);
  });

  test('the recompute barrier is its input, differentiable, and refuses nothing else', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const after = g.placeholder('after', [3]);
    const y = recompute(x, after);
    expect(y.shape).toEqual([2]);
    const [dx, dAfter] = gradients(sum(mul(y, y)), [x, after]);
    expect(dAfter).toBeNull();
    const sess = new Session(g);
    const feeds = new Map([
      [x, new NDArray(new Float32Array([1.5, -2]), [2])],
      [after, new NDArray(new Float32Array(3), [3])],
    ]);
    const [value, grad] = sess.run([y, dx as Tensor], feeds) as NDArray[];
    expect(Array.from(value.data)).toEqual([1.5, -2]);
    expect(Array.from(grad.data)).toEqual([3, -4]);
  });
});

describe('remat on random graphs (property)', () => {
  /** A random chain-with-skips of elementwise ops and matMuls over a [3, 3] value; fetches loss and gradients. */
  function randomProgram(seed: number, choices: readonly number[], remat: RematOption): Program {
    const rng = new Rng(seed);
    const g = new Graph();
    const x = g.placeholder('x', [3, 3]);
    const w = g.variable('w', randomArray(rng, [3, 3], 'float32', { lo: -0.6, hi: 0.6 }));
    const values: Tensor[] = [x];
    for (const choice of choices) {
      const a = values[values.length - 1];
      const b = values[Math.floor((choice / 7) % values.length)];
      const kinds = [
        () => matMul(a, w),
        () => tanh(add(a, b)),
        () => mul(a, sigmoid(b)),
        () => sub(sin(a), mul(b, 0.5)),
        () => relu(matMul(b, w)),
      ];
      values.push(kinds[choice % kinds.length]());
    }
    const loss = sum(square(values[values.length - 1]));
    const grads = gradients(loss, [x, w], undefined, { remat, unconnected: 'zero' });
    return { g, fetches: [loss, ...grads], feeds: new Map([[x, randomArray(rng, [3, 3], 'float32')]]) };
  }

  test('the same loss and gradients (bit for bit without fusion) for every segment length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 3, maxLength: 14 }),
        fc.constantFrom<RematOption>('auto', { every: 1 }, { every: 2 }, { every: 3 }),
        (seed, choices, remat) => {
          compare((on) => randomProgram(seed, choices, on ? remat : 'none'));
        },
      ),
      { numRuns: 40, seed: 2020 },
    );
  });
});
