import { add, Graph, gradients, mul, Session, sin, Tensor } from '../src';

describe('scale', () => {
  test('a 100,000-node chain builds, differentiates, compiles and runs without a stack overflow', () => {
    const g = new Graph();
    const x = g.placeholder('x', [], 'float64');
    let h: Tensor = x;
    // h ← sin(h)·0.5 + 1 repeated: three nodes per link (the constants are shared).
    while (g.size < 100_000) h = add(mul(sin(h), 0.5), 1);
    expect(g.size).toBeGreaterThanOrEqual(100_000);
    const [dx] = gradients(h, [x]) as Tensor[];
    const sess = new Session(g);
    const [value, grad] = sess.run([h, dx], { x: 0.3 });
    // Reference by direct iteration in JS.
    const links = g.nodes.filter((n) => n.op === 'sin').length;
    let v = 0.3;
    let d = 1;
    for (let i = 0; i < links; i++) {
      d *= 0.5 * Math.cos(v);
      v = 0.5 * Math.sin(v) + 1;
    }
    expect(value.toArray()).toBeCloseTo(v, 12);
    expect(grad.toArray()).toBeCloseTo(d, 12);
  });
});
