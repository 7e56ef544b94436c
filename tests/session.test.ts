import { add, assign, Graph, gradients, matMul, mul, NDArray, relu, Session, square, sub, sum, Tensor } from '../src';

function contract(): { g: Graph; x: Tensor; w: Tensor; y: Tensor; dw: Tensor; dx: Tensor } {
  const g = new Graph();
  const x = g.placeholder('x', [null, 3]);
  g.constant([1, 2, 3]);
  const w = g.variable('w', NDArray.from([[1], [2], [3]]));
  const y = relu(add(matMul(x, w), 1));
  const [dw, dx] = gradients(sum(y), [w, x]) as Tensor[];
  return { g, x, w, y, dw, dx };
}

describe('Session.run', () => {
  test('runs the public API contract example', () => {
    const { g, x, y, dw, dx } = contract();
    const sess = new Session(g);
    const out = sess.run(y, { x: [[1, 2, 3]] });
    expect(out.shape).toEqual([1, 1]);
    expect(out.dtype).toBe('float32');
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(out.toArray()).toEqual([[15]]);
    const r = sess.run({ y, grads: [dw, dx] }, new Map([[x, NDArray.from([[1, 2, 3]])]]));
    expect(r.y.toArray()).toEqual([[15]]);
    expect(r.grads[0].toArray()).toEqual([[1], [2], [3]]);
    expect(r.grads[1].toArray()).toEqual([[1, 2, 3]]);
  });

  test('unknown dims take the fed size; a new fed shape compiles a new plan, a repeated one reuses it', () => {
    const { g, y } = contract();
    const sess = new Session(g);
    const big = new NDArray(new Float32Array(1024 * 3).fill(1), [1024, 3]);
    expect(sess.run(y, { x: big }).shape).toEqual([1024, 1]);
    expect(sess.cachedPlans).toBe(1);
    sess.run(y, { x: big });
    expect(sess.cachedPlans).toBe(1);
    sess.run(y, { x: [[1, 2, 3]] });
    expect(sess.cachedPlans).toBe(2);
  });

  test('result mirrors nested fetch structures, null entries included', () => {
    const g = new Graph();
    const a = g.placeholder('a');
    const r = sess(g).run({ list: [mul(a, 2), null], nested: { z: add(a, 1) } }, { a: 3 });
    expect(r.list[0]?.toArray()).toBe(6);
    expect(r.list[1]).toBeNull();
    expect(r.nested.z.toArray()).toBe(4);
  });

  test('any tensor may be fed; what is upstream of it is not computed', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const h = mul(x, 10);
    const y = add(h, 1);
    // x is not fed: it would be a missing feed if anything upstream of h were computed.
    expect(
      sess(g)
        .run(y, new Map([[h, NDArray.from(5)]]))
        .toArray(),
    ).toBe(6);
    expect(
      sess(g)
        .run(y, { [h.name]: 7 })
        .toArray(),
    ).toBe(8);
  });

  test('runs only what the fetches need', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const unused = g.placeholder('unused');
    add(unused, 1);
    expect(sess(g).run(mul(x, 2), { x: 4 }).toArray()).toBe(8);
  });

  test('explain prints the pass reports and the plan', () => {
    const { g, y, dw } = contract();
    const text = new Session(g).explain([y, dw], { x: [[1, 2, 3]] });
    expect(text).toMatch(/^passes:/);
    expect(text).toMatch(/prune +nodes \d+ → \d+/);
    expect(text).toMatch(/fold +nodes/);
    expect(text).toMatch(/plan: \d+ steps/);
    expect(text).toContain('matMul(');
  });

  test('optimize: false skips folding but gives the same values', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const y = mul(add(g.constant(2), g.constant(3)), x);
    const on = new Session(g);
    const off = new Session(g, { optimize: false });
    expect(on.run(y, { x: 2 }).toArray()).toBe(10);
    expect(off.run(y, { x: 2 }).toArray()).toBe(10);
    expect(on.explain(y, { x: 2 })).toMatch(/folded 1/);
    expect(off.explain(y, { x: 2 })).not.toMatch(/fold/);
  });
});

describe('variables', () => {
  test('a variable is initialized on first use, per session', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const s1 = new Session(g);
    const s2 = new Session(g);
    s1.run(assign(w, [5, 6]));
    expect(s1.run(w).toArray()).toEqual([5, 6]);
    expect(s2.run(w).toArray()).toEqual([1, 2]);
  });

  test('reading a variable returns a copy, not the stored value', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const sess = new Session(g);
    sess.run(w).data[0] = 100;
    expect(sess.run(w).toArray()).toEqual([1, 2]);
  });

  test('an SGD step: the loss is computed from the values before the update', () => {
    const g = new Graph();
    const w = g.variable('w', [3]);
    const loss = sum(square(w));
    const [dw] = gradients(loss, [w]) as Tensor[];
    const sess = new Session(g);
    const [l1] = sess.run([loss, assign(w, sub(w, mul(0.1, dw)))]);
    expect(l1.toArray()).toBeCloseTo(9);
    expect(sess.run(w).toArray()).toEqual([expect.closeTo(2.4, 5)]);
    const [l2] = sess.run([loss, assign(w, sub(w, mul(0.1, dw)))]);
    expect(l2.toArray()).toBeCloseTo(5.76, 5);
  });

  test('variableValues(): every variable by tensor, as copies; an unread one has its initial value', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const b = g.variable('b', [7]);
    const sess = new Session(g);
    sess.run(assign(w, [5, 6]));
    const values = sess.variableValues();
    expect([...values.keys()]).toEqual([w, b]);
    expect(values.get(w)?.toArray()).toEqual([5, 6]);
    expect(values.get(b)?.toArray()).toEqual([7]);
    (values.get(w) as NDArray).data[0] = 100;
    expect(sess.variableValue(w).toArray()).toEqual([5, 6]);
    expect(new Session(g).variableValues().get(w)?.toArray()).toEqual([1, 2]);
  });

  test('fetching a variable and its assign in one run gives the old value and stores the new', () => {
    const g = new Graph();
    const w = g.variable('w', [1]);
    const sess = new Session(g);
    const [before, written] = sess.run([w, assign(w, add(w, 1))]);
    expect(before.toArray()).toEqual([1]);
    expect(written.toArray()).toEqual([2]);
    expect(sess.run(w).toArray()).toEqual([2]);
  });
});

function sess(g: Graph): Session {
  return new Session(g);
}

describe('feeds', () => {
  test('a typed array of the right dtype is used without a copy, shaped as the (fully known) placeholder', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const [fed, doubled] = new Session(g).run([x, mul(x, 2)], { x: data });
    expect(fed.data).toBe(data);
    expect(fed.shape).toEqual([2, 3]);
    expect(doubled.toArray()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
  });

  test('a typed array of another dtype is converted (copied)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const data = new Float64Array([1.5, 2.5]);
    const fed = new Session(g).run(x, { x: data });
    expect(fed.data).not.toBe(data);
    expect(fed.dtype).toBe('float32');
  });

  test('repeated runs of one plan reuse its buffers and still return fresh results', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const y = mul(add(mul(x, 2), 1), 3);
    const sess = new Session(g);
    const a = sess.run(y, { x: [1, 2, 3] });
    const b = sess.run(y, { x: [0, 0, 0] });
    expect(a.data).not.toBe(b.data);
    expect(a.toArray()).toEqual([9, 15, 21]);
    expect(b.toArray()).toEqual([3, 3, 3]);
  });
});
