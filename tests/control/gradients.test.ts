/**
 * Reverse mode through cond, whileLoop and scan: gradients against the same computation unrolled by hand (float64),
 * against central finite differences, on both backends; captured tensors; the untaken branch; nesting; gradients of
 * gradients; scan's checkpoint; the size of a scan's gradient graph does not grow with T.
 */
import {
  add,
  checkGradients,
  cond,
  exp,
  gather,
  gradients,
  Graph,
  greater,
  less,
  matMul,
  mul,
  NDArray,
  reshape,
  scan,
  Session,
  sin,
  sum,
  tanh,
  Tensor,
  whileLoop,
} from '../../src';

const BACKENDS = ['js', 'wasm'] as const;

function expectClose(a: NDArray, b: NDArray, tol = 1e-10): void {
  expect(a.shape).toEqual(b.shape);
  const db = Array.from(b.data);
  Array.from(a.data).forEach((v, i) => expect(Math.abs(v - db[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(db[i]))));
}

function rnnGraph(checkpoint: boolean) {
  const g = new Graph();
  const w = g.placeholder('w', [2, 3], 'float64');
  const u = g.placeholder('u', [3, 3], 'float64');
  const xs = g.placeholder('xs', [5, 2, 2], 'float64');
  const h0 = g.placeholder('h0', [2, 3], 'float64');
  const v = g.constant([1.5, -0.5, 0.25], 'float64');
  const step = (h: Tensor, x: Tensor): Tensor => tanh(add(matMul(x, w), matMul(h, u)));
  const [last, ys] = scan((h, x) => [step(h, x), mul(sin(step(h, x)), v)] as const, h0, xs, { checkpoint });
  const loss = add(sum(mul(last, last)), sum(ys));
  // The same, unrolled by hand.
  let h = h0;
  let unrolled: Tensor = g.constant(0, 'float64');
  for (let t = 0; t < 5; t++) {
    h = step(h, reshape(gather(xs, g.constant([t], 'int32')), [2, 2]));
    unrolled = add(unrolled, sum(mul(sin(h), v)));
  }
  unrolled = add(unrolled, sum(mul(h, h)));
  const feeds = {
    w: NDArray.from(
      [
        [0.5, -0.2, 0.3],
        [0.1, 0.3, -0.4],
      ],
      'float64',
    ),
    u: NDArray.from(
      [
        [0.2, 0.4, -0.1],
        [-0.3, 0.1, 0.2],
        [0.05, -0.2, 0.3],
      ],
      'float64',
    ),
    xs: new NDArray(
      Float64Array.from({ length: 20 }, (_, i) => Math.sin(i * 1.3)),
      [5, 2, 2],
      'float64',
    ),
    h0: NDArray.from(
      [
        [0.1, -0.1, 0.2],
        [0, 0.3, -0.2],
      ],
      'float64',
    ),
  };
  return { g, w, u, xs, h0, loss, unrolled, feeds };
}

describe.each(BACKENDS)('%s backend', (backend) => {
  test.each([false, true])('scan (checkpoint %s): gradients of every input match the unrolled RNN', (checkpoint) => {
    const { g, w, u, xs, h0, loss, unrolled, feeds } = rnnGraph(checkpoint);
    const xsList = [w, u, xs, h0];
    const ours = gradients(loss, xsList) as Tensor[];
    const theirs = gradients(unrolled, xsList) as Tensor[];
    const sess = new Session(g, { backend });
    const got = sess.run([loss, unrolled, ...ours, ...theirs], feeds);
    expectClose(got[0], got[1]);
    for (let i = 0; i < 4; i++) expectClose(got[2 + i], got[6 + i]);
  });

  test('scan: second derivatives match the unrolled RNN', () => {
    const { g, w, u, loss, unrolled, feeds } = rnnGraph(false);
    const [gw] = gradients(loss, [w]) as Tensor[];
    const [gwU] = gradients(unrolled, [w]) as Tensor[];
    const [hu] = gradients(sum(mul(gw, gw)), [u]) as Tensor[];
    const [huU] = gradients(sum(mul(gwU, gwU)), [u]) as Tensor[];
    const sess = new Session(g, { backend });
    const [a, b] = sess.run([hu, huU], feeds);
    expectClose(a, b);
  });

  test('cond: gradients flow into the taken branch; a tensor the taken branch does not read gets zeros', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const z = g.placeholder('z', [3], 'float64');
    const p = g.placeholder('p', [], 'bool');
    const y = cond(
      p,
      () => sin(mul(x, 2)),
      () => mul(x, z),
    );
    const [gx, gz] = gradients(sum(y), [x, z]) as Tensor[];
    expect(gz).not.toBeNull();
    const sess = new Session(g, { backend });
    const xv = [1, 2, 3];
    const feeds = { x: NDArray.from(xv, 'float64'), z: NDArray.from([4, 5, 6], 'float64') };
    const [tx, tz] = sess.run([gx, gz], { ...feeds, p: NDArray.from(true, 'bool') });
    expectClose(
      tx,
      NDArray.from(
        xv.map((v) => 2 * Math.cos(2 * v)),
        'float64',
      ),
    );
    expect(Array.from(tz.data)).toEqual([0, 0, 0]);
    const [fx, fz] = sess.run([gx, gz], { ...feeds, p: NDArray.from(false, 'bool') });
    expect(Array.from(fx.data)).toEqual([4, 5, 6]);
    expect(Array.from(fz.data)).toEqual(xv);
  });

  test('whileLoop: gradients match the unrolled loop for 0, 1 and 4 iterations; captured and initial values', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const a0 = g.placeholder('a0', [3], 'float64');
    const n = g.placeholder('n', [], 'int32');
    const [, a] = whileLoop(
      ([i]) => less(i, n),
      ([i, acc]) => [add(i, 1), sin(add(mul(acc, x), 0.1))],
      [g.constant(0, 'int32'), a0],
      { maximumIterations: 8 },
    );
    const [gx, ga] = gradients(sum(mul(a, a)), [x, a0]) as Tensor[];
    const sess = new Session(g, { backend });
    for (const steps of [0, 1, 4]) {
      let u: Tensor = a0;
      for (let i = 0; i < steps; i++) u = sin(add(mul(u, x), 0.1));
      const [ux, ua] = gradients(sum(mul(u, u)), [x, a0], undefined, { unconnected: 'zero' });
      const feeds = {
        x: NDArray.from([0.5, -1, 2], 'float64'),
        a0: NDArray.from([1, 0.5, -0.3], 'float64'),
        n: NDArray.from(steps, 'int32'),
      };
      const [p, q, r, s] = sess.run([gx, ga, ux, ua], feeds);
      expectClose(p, r);
      expectClose(q, s);
    }
  });

  test('nested: a cond inside a scan, gradients against finite differences', () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [6, 2], 'float64');
    const w = g.placeholder('w', [2], 'float64');
    const [c] = scan(
      (h, x) =>
        [
          add(
            h,
            cond(
              greater(sum(x), 0),
              () => exp(mul(mul(x, w), h)),
              () => mul(sin(x), w),
            ),
          ),
          null,
        ] as const,
      g.constant([0.1, 0.2], 'float64'),
      xs,
    );
    const loss = sum(mul(c, c));
    const feeds = {
      xs: new NDArray(
        Float64Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.9)),
        [6, 2],
        'float64',
      ),
      w: NDArray.from([0.3, -0.2], 'float64'),
    };
    const result = checkGradients(loss, [xs, w], feeds);
    expect(result.maxError).toBeLessThan(1e-6);
    const sess = new Session(g, { backend });
    expect(Number.isFinite(sess.run(loss, feeds).data[0])).toBe(true);
  });
});

test('the gradient graph of a scan does not grow with T', () => {
  const sizes = [4, 64].map((T) => {
    const g = new Graph();
    const xs = g.placeholder('xs', [T, 3], 'float64');
    const w = g.placeholder('w', [3], 'float64');
    const [c] = scan((h, x) => [tanh(add(mul(h, w), x)), null] as const, g.constant([0, 0, 0], 'float64'), xs);
    const before = g.size;
    gradients(sum(c), [w, xs]);
    return g.size - before;
  });
  expect(sizes[0]).toBe(sizes[1]);
});

test('a whileLoop without maximumIterations has no gradient, and the error says what to add', () => {
  const g = new Graph();
  const x = g.placeholder('x', [3]);
  const [, a] = whileLoop(
    ([i]) => less(i, 3),
    ([i, v]) => [add(i, 1), mul(v, x)],
    [g.constant(0, 'int32'), x],
  );
  expect(() => gradients(sum(a), [x])).toThrow(/maximumIterations/);
});

test('checkpoint keeps only the carries: the forward scan stacks fewer values per step, same gradients', () => {
  const build = (checkpoint: boolean) => {
    const g = new Graph();
    const xs = g.placeholder('xs', [6, 4], 'float64');
    const w = g.placeholder('w', [4], 'float64');
    const [c] = scan(
      (h, x) => {
        const a = add(mul(h, w), x);
        return [tanh(mul(sin(a), exp(mul(a, 0.1)))), null] as const;
      },
      g.constant([0.1, 0.2, 0.3, 0.4], 'float64'),
      xs,
      { checkpoint },
    );
    const [gw] = gradients(sum(mul(c, c)), [w]) as Tensor[];
    const stacked = g.nodes
      .filter((n) => n.op === 'scan' && String(n.attrs.output).startsWith('stack:') && n.attrs.reverse !== true)
      .reduce((total, n) => total + n.shape.reduce((a: number, d) => a * (d ?? 1), 1), 0);
    const feeds = {
      xs: new NDArray(
        Float64Array.from({ length: 24 }, (_, i) => Math.cos(i)),
        [6, 4],
        'float64',
      ),
      w: NDArray.from([0.5, -0.4, 0.3, 0.2], 'float64'),
    };
    return { stacked, value: new Session(g).run(gw, feeds) };
  };
  const kept = build(false);
  const recomputed = build(true);
  expect(recomputed.stacked).toBe(6 * 4); // the carries only
  expect(kept.stacked).toBeGreaterThan(recomputed.stacked);
  expectClose(recomputed.value, kept.value, 1e-12);
});
