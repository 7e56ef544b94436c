import {
  add,
  assign,
  Graph,
  gradients,
  group,
  matMul,
  mean,
  mul,
  NDArray,
  relu,
  Session,
  sigmoid,
  square,
  sub,
  Tensor,
} from '../../src';
import { planMemory } from '../../src/session/memory';

function mlp(): { g: Graph; loss: Tensor; grads: Tensor[] } {
  const g = new Graph();
  const x = g.placeholder('x', [null, 16]);
  const t = g.placeholder('t', [null, 4]);
  const w1 = g.variable('w1', NDArray.zeros([16, 32]));
  const w2 = g.variable('w2', NDArray.zeros([32, 32]));
  const w3 = g.variable('w3', NDArray.zeros([32, 4]));
  const h1 = relu(matMul(x, w1));
  const h2 = sigmoid(matMul(h1, w2));
  const loss = mean(square(sub(matMul(h2, w3), t)));
  const grads = gradients(loss, [w1, w2, w3]) as Tensor[];
  return { g, loss, grads };
}

describe('memory planning', () => {
  test('an MLP training step needs well under half the bytes of its intermediates', () => {
    const { g, loss, grads } = mlp();
    const sess = new Session(g);
    const text = sess.explain([loss, ...grads], { x: NDArray.zeros([64, 16]), t: NDArray.zeros([64, 4]) });
    const [, planned, intermediates] =
      /memory: ([\d.]+ \w+) in \d+ reused buffers .* for ([\d.]+ \w+) of/.exec(text) ?? [];
    expect(planned).toBeDefined();
    const bytes = (s: string): number => {
      const [n, unit] = s.split(' ');
      return Number(n) * ({ B: 1, KiB: 1024, MiB: 1024 * 1024 } as { [u: string]: number })[unit];
    };
    expect(bytes(planned)).toBeLessThan(bytes(intermediates) / 2);
  });

  test('a freed buffer is reused by a later step of the same dtype and size', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1000]);
    // Four steps in a chain; with two buffers alternating, no step needs a third.
    const y = mul(add(mul(add(x, 1), 2), 3), 4);
    const plan = planMemory(
      g,
      g.nodes
        .slice(1)
        .filter((n) => n.op !== 'constant')
        .map((n, i, all) => ({
          output: n.id,
          inputs: n.inputs,
          release: i > 0 ? [all[i - 1].id] : [],
          shape: [1000],
          dtype: 'float32',
          op: 'matMul', // not in place: forces buffer reuse through the free list
        })),
      [y.id],
    );
    expect(plan.buffers.length).toBe(2);
    expect(plan.intermediateBytes).toBe(3 * 4000);
    expect(plan.plannedBytes).toBe(2 * 4000);
  });

  test("an assign's output is its value's buffer: no buffer of its own, held until the run ends", () => {
    const g = new Graph();
    const v = g.variable('v', NDArray.zeros([1000]));
    const x = g.placeholder('x', [1000]);
    const value = mul(add(x, 1), 2);
    const a = assign(v, value);
    const after = add(value, 3); // a later reader of the value, then more steps that need buffers
    const y = mul(add(after, 4), 5);
    const steps = g.nodes
      .filter((n) => n.op !== 'constant' && n.op !== 'placeholder' && n.op !== 'variable')
      .map((n) => ({ output: n.id, inputs: n.inputs, shape: [1000], dtype: 'float32' as const, op: n.op }));
    const lastUse = new Map<number, number>();
    for (const step of steps) for (const input of step.inputs) lastUse.set(input, step.output);
    const withRelease = steps.map((step) => ({
      ...step,
      release: [...lastUse].filter(([id, at]) => at === step.output && id !== a.id).map(([id]) => id),
    }));
    const plan = planMemory(g, withRelease, [y.id]);
    const bufferOf = (t: Tensor): number => plan.stepBuffer[withRelease.findIndex((s) => s.output === t.id)];
    expect(bufferOf(a)).toBe(bufferOf(value));
    // The value's buffer stays the assign's: nothing later takes it, in place or through the free list.
    for (const t of [after, y]) expect(bufferOf(t)).not.toBe(bufferOf(value));
  });

  test('a training step with its updates grouped gives the values of one without planning', () => {
    const { g, loss, grads } = mlp();
    const params = g.variables();
    const step = group(params.map((p, i) => assign(p, sub(p, mul(grads[i], 0.5)))));
    const feeds = {
      x: NDArray.from(Array.from({ length: 8 }, (_, r) => Array.from({ length: 16 }, (_, c) => Math.sin(r + c)))),
      t: NDArray.from(Array.from({ length: 8 }, (_, r) => [r % 2, 1, 0, -1])),
    };
    const planned = new Session(g);
    const plain = new Session(g, { optimize: false });
    for (let i = 0; i < 3; i++) {
      const [a] = planned.run([loss, step], feeds);
      const [b] = plain.run([loss, step], feeds);
      expect(a.get()).toBeCloseTo(b.get(), 5);
    }
    for (const p of params) {
      const a = planned.variableValue(p);
      const b = plain.variableValue(p);
      a.data.forEach((v, i) => expect(v).toBeCloseTo(b.data[i], 5));
    }
  });

  test('results handed to the user are never overwritten by a later run', () => {
    const { g, loss, grads } = mlp();
    const sess = new Session(g);
    const feeds1 = {
      x: NDArray.from(Array.from({ length: 2 }, () => new Array(16).fill(0.5))),
      t: [
        [1, 0, 0, 1],
        [0, 1, 1, 0],
      ],
    };
    const feeds2 = {
      x: NDArray.from(Array.from({ length: 2 }, () => new Array(16).fill(-2))),
      t: [
        [0, 0, 0, 0],
        [1, 1, 1, 1],
      ],
    };
    const first = sess.run([loss, ...grads], feeds1);
    const copy = first.map((a) => Array.from(a.data));
    sess.run([loss, ...grads], feeds2);
    first.forEach((a, i) => expect(Array.from(a.data)).toEqual(copy[i]));
  });

  test('planned and unplanned sessions agree over repeated runs', () => {
    const { g, loss, grads } = mlp();
    const planned = new Session(g);
    const unplanned = new Session(g, { optimize: { level: 1 } });
    for (let k = 0; k < 3; k++) {
      const feeds = { x: NDArray.from([new Array(16).fill(k / 3 - 0.4)]), t: [[k, 1, 0, -k]] };
      const a = planned.run([loss, ...grads], feeds);
      const b = unplanned.run([loss, ...grads], feeds);
      a.forEach((v, i) => expect(Array.from(v.data)).toEqual(Array.from(b[i].data)));
    }
  });
});
