/**
 * cond, whileLoop and scan forward (the ops cond, while and scan): values against the same computation unrolled by hand (float64), on both
 * backends; only the taken branch runs; loops are bounded by maximumIterations; errors name the construct.
 */
import {
  add,
  cast,
  cond,
  gather,
  Graph,
  greater,
  less,
  matMul,
  mul,
  NDArray,
  neg,
  reshape,
  scan,
  Session,
  sub,
  sum,
  tanh,
  Tensor,
  whileLoop,
} from '../../src';

const BACKENDS = ['js', 'wasm'] as const;

function close(a: NDArray, b: NDArray, tol = 1e-12): void {
  expect(a.shape).toEqual(b.shape);
  const da = Array.from(a.data);
  const db = Array.from(b.data);
  da.forEach((v, i) => expect(Math.abs(v - db[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(db[i]))));
}

describe.each(BACKENDS)('%s backend', (backend) => {
  test('cond runs the branch its predicate picks, with captured tensors', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const y = cond(
      greater(sum(x), 0),
      () => mul(x, 2),
      () => neg(x),
    );
    const sess = new Session(g, { backend });
    expect(Array.from(sess.run(y, { x: NDArray.from([1, 2, -0.5], 'float64') }).data)).toEqual([2, 4, -1]);
    expect(Array.from(sess.run(y, { x: NDArray.from([-1, -2, 0.5], 'float64') }).data)).toEqual([1, 2, -0.5]);
  });

  test('cond: the untaken branch never runs (one that would throw stays silent)', () => {
    const g = new Graph();
    const i = g.placeholder('i', [], 'int32');
    const table = g.constant([10, 20, 30], 'float64');
    // gather with an index out of range throws at run time; the branch that does it must not run.
    const y = cond(
      less(i, 3),
      () => gather(table, reshape(i, [1])),
      () => gather(table, reshape(sub(i, 100), [1])),
    );
    const sess = new Session(g, { backend });
    expect(Array.from(sess.run(y, { i: NDArray.from(1, 'int32') }).data)).toEqual([20]);
    expect(() => sess.run(y, { i: NDArray.from(50, 'int32') })).toThrow();
  });

  test('cond returns arrays and objects of tensors', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const p = g.placeholder('p', [], 'bool');
    const out = cond(
      p,
      () => ({ a: add(x, 1), b: [mul(x, 3), x] }),
      () => ({ a: sub(x, 1), b: [neg(x), mul(x, x)] }),
    );
    const sess = new Session(g, { backend });
    const feeds = { x: NDArray.from([2, 3], 'float64'), p: NDArray.from(true, 'bool') };
    const r = sess.run({ a: out.a, b0: out.b[0], b1: out.b[1] }, feeds);
    expect(Array.from(r.a.data)).toEqual([3, 4]);
    expect(Array.from(r.b0.data)).toEqual([6, 9]);
    expect(Array.from(r.b1.data)).toEqual([2, 3]);
    const q = sess.run(out.b[1], { ...feeds, p: NDArray.from(false, 'bool') });
    expect(Array.from(q.data)).toEqual([4, 9]);
  });

  test('whileLoop matches the loop unrolled by hand; count and loop variables', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const n = g.placeholder('n', [], 'int32');
    const [i, acc] = whileLoop(
      ([i]) => less(i, n),
      ([i, acc]) => [add(i, 1), mul(acc, x)],
      [g.constant(0, 'int32'), g.constant([1, 1, 1], 'float64')],
      { maximumIterations: 100 },
    );
    const sess = new Session(g, { backend });
    const xv = [1.5, -2, 0.25];
    for (const steps of [0, 1, 5]) {
      const r = sess.run({ i, acc }, { x: NDArray.from(xv, 'float64'), n: NDArray.from(steps, 'int32') });
      expect(r.i.data[0]).toBe(steps);
      close(
        r.acc,
        NDArray.from(
          xv.map((v) => v ** steps),
          'float64',
        ),
      );
    }
  });

  test('whileLoop beyond maximumIterations is a RuntimeError naming the loop', () => {
    const g = new Graph();
    const n = g.placeholder('n', [], 'int32');
    const [i] = whileLoop(
      ([i]) => less(i, n),
      ([i]) => [add(i, 1)],
      [g.constant(0, 'int32')],
      {
        maximumIterations: 10,
        name: 'counter',
      },
    );
    const sess = new Session(g, { backend });
    expect(sess.run(i, { n: NDArray.from(10, 'int32') }).data[0]).toBe(10);
    expect(() => sess.run(i, { n: NDArray.from(11, 'int32') })).toThrow(/counter.*maximumIterations = 10/);
  });

  test('scan matches an RNN unrolled by hand, forward and reverse', () => {
    const g = new Graph();
    const w = g.constant(
      [
        [0.5, -0.2],
        [0.1, 0.3],
      ],
      'float64',
    );
    const u = g.constant(
      [
        [0.2, 0.4],
        [-0.3, 0.1],
      ],
      'float64',
    );
    const xs = g.placeholder('xs', [4, 1, 2], 'float64');
    const h0 = g.placeholder('h0', [1, 2], 'float64');
    const step = (h: Tensor, x: Tensor): Tensor => tanh(add(matMul(x, w), matMul(h, u)));
    const [last, ys] = scan((h, x) => [step(h, x), step(h, x)] as const, h0, xs);
    const [lastR, ysR] = scan((h, x) => [step(h, x), mul(step(h, x), 2)] as const, h0, xs, { reverse: true });
    // By hand: four steps of the same cell, as separate nodes.
    const rows = [0, 1, 2, 3].map((t) => reshape(gather(xs, g.constant([t], 'int32')), [1, 2]));
    let h = h0;
    const hs: Tensor[] = [];
    for (const x of rows) hs.push((h = step(h, x)));
    let hr = h0;
    const hsR: Tensor[] = [];
    for (const x of [...rows].reverse()) hsR.unshift((hr = step(hr, x)));
    const sess = new Session(g, { backend });
    const feeds = {
      xs: NDArray.from([[[1, 2]], [[0.5, -1]], [[0, 0]], [[3, 1]]], 'float64'),
      h0: NDArray.from([[0.1, -0.1]], 'float64'),
    };
    const r = sess.run({ last, ys, lastR, ysR, h, hr, hs, hsR }, feeds);
    close(r.last, r.h);
    close(r.lastR, r.hr);
    r.hs.forEach((v, t) =>
      close(
        NDArray.from(Array.from(r.ys.data.subarray(2 * t, 2 * t + 2)), 'float64'),
        NDArray.from(Array.from(v.data), 'float64'),
      ),
    );
    // Reverse: ys come out in the order of xs (row t is the step that read xs[t]), as in JAX.
    r.hsR.forEach((v, t) =>
      close(
        NDArray.from(Array.from(r.ysR.data.subarray(2 * t, 2 * t + 2)), 'float64'),
        NDArray.from(
          Array.from(v.data, (e) => 2 * e),
          'float64',
        ),
      ),
    );
  });

  test('scan with array carries, no ys, and a length instead of xs', () => {
    const g = new Graph();
    const a = g.placeholder('a', [], 'float64');
    const [[p, q], none] = scan(([p, q]) => [[add(p, q), p], null] as const, [a, g.constant(0, 'float64')], null, {
      length: 10,
    });
    expect(none).toBeNull();
    const sess = new Session(g, { backend });
    const r = sess.run([p, q], { a: NDArray.from(1, 'float64') });
    expect([r[0].data[0], r[1].data[0]]).toEqual([89, 55]); // Fibonacci
  });

  test('nested control flow: a cond inside a scan inside a whileLoop', () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [5], 'float64');
    const [, total] = whileLoop(
      ([k]) => less(k, 3),
      ([k, t]) => {
        const [s] = scan(
          (c, x) =>
            [
              add(
                c,
                cond(
                  greater(x, 0),
                  () => mul(x, cast(k, 'float64')),
                  () => neg(x),
                ),
              ),
              null,
            ] as const,
          g.constant(0, 'float64'),
          xs,
        );
        return [add(k, 1), add(t, s)];
      },
      [g.constant(0, 'int32'), g.constant(0, 'float64')],
      { maximumIterations: 5 },
    );
    const sess = new Session(g, { backend });
    const xv = [1, -2, 3, -4, 0.5];
    let expected = 0;
    for (let k = 0; k < 3; k++) for (const x of xv) expected += x > 0 ? x * k : -x;
    expect(sess.run(total, { xs: NDArray.from(xv, 'float64') }).data[0]).toBeCloseTo(expected, 12);
  });
});

describe('building', () => {
  test('a cond on a non-scalar predicate is a ShapeError naming it', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    expect(() =>
      cond(
        greater(x, 0),
        () => x,
        () => neg(x),
      ),
    ).toThrow(/cond.*bool scalar.*bool\[3\]/);
  });

  test('branches of different structures or dtypes are refused', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const p = g.placeholder('p', [], 'bool');
    expect(() =>
      cond(
        p,
        () => [x, x],
        () => [x] as never,
      ),
    ).toThrow(/different structures/);
    expect(() =>
      cond(
        p,
        () => x,
        () => cast(x, 'int32'),
      ),
    ).toThrow(/float32\[3\] in the true branch but int32\[3\]/);
  });

  test('a loop variable that changes shape is a ShapeError', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    expect(() =>
      whileLoop(
        ([v]) => less(sum(v), 10),
        ([v]) => [reshape(v, [3, 1])],
        [x],
      ),
    ).toThrow(/loop variable 0 enters as float32\[3\] but the body returns float32\[3, 1\]/);
  });

  test('a tensor of a closed body cannot be used outside it', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    let leaked: Tensor | undefined;
    scan(
      (c, xt) => {
        leaked = add(c, xt);
        return [leaked, null] as const;
      },
      x,
      reshape(x, [1, 3]),
    );
    expect(() => add(leaked as Tensor, x)).toThrow(/built inside a cond\/whileLoop\/scan body/);
  });

  test('an error inside a body names the construct and the step, keeping its class', () => {
    const g = new Graph();
    const table = g.constant([1, 2, 3], 'float64');
    const ids = g.placeholder('ids', [4], 'int32');
    const [c] = scan(
      (acc, id) => [add(acc, gather(table, reshape(id, [1]))), null] as const,
      g.constant([0], 'float64'),
      ids,
      {
        name: 'lookup',
      },
    );
    const sess = new Session(g);
    expect(sess.run(c, { ids: NDArray.from([0, 1, 2, 2], 'int32') }).data[0]).toBe(9);
    expect(() => sess.run(c, { ids: NDArray.from([0, 1, 7, 2], 'int32') })).toThrow(
      /scan 'lookup\/carry:0', step 2: .*gather/,
    );
  });
});
