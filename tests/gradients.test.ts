import * as lazygrad from '../src';
import {
  add,
  exp,
  Graph,
  gradients,
  matMul,
  mul,
  NDArray,
  Session,
  sin,
  square,
  stopGradient,
  sum,
  Tensor,
} from '../src';

function run(g: Graph, fetches: (Tensor | null)[], feeds: { [name: string]: number | number[] }): unknown[] {
  return new Session(g).run(fetches, feeds).map((v) => (v === null ? null : v.toArray()));
}

describe('gradients()', () => {
  test('fan-out contributions are summed', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const y = add(mul(x, x), mul(x, 3)); // 2x + 3
    expect(run(g, gradients(y, [x]), { x: 2 })).toEqual([7]);
  });

  test('several ys are summed; gradYs weight each y', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const y1 = mul(x, 2);
    const y2 = square(x);
    expect(run(g, gradients([y1, y2], [x]), { x: 3 })).toEqual([8]);
    const weights = [g.constant(10), g.constant(1)];
    expect(run(g, gradients([y1, y2], [x], weights), { x: 3 })).toEqual([26]);
  });

  test('a vector gradY gives a vector-Jacobian product', () => {
    const g = new Graph();
    const w = g.placeholder('w', [2, 2]);
    const v = g.placeholder('v', [1, 2]);
    const y = matMul(v, w);
    const [dv] = gradients(y, [v], [g.constant([[1, -1]])]) as Tensor[];
    const out = new Session(g).run(dv, {
      w: [
        [1, 2],
        [3, 4],
      ],
      v: [[0, 0]],
    });
    expect(out.toArray()).toEqual([[-1, -1]]);
  });

  test('unconnected xs give null, or zeros when asked', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const other = g.placeholder('other', [2]);
    const y = sum(mul(x, 2));
    expect(gradients(y, [other])).toEqual([null]);
    const [zeros] = gradients(y, [other], undefined, { unconnected: 'zero' }) as Tensor[];
    expect(new Session(g).run(zeros, { other: [5, 6] }).toArray()).toEqual([0, 0]);
  });

  test('stopGradients and stopGradient() block the flow', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const h = mul(x, x);
    const y = add(h, mul(x, 5));
    expect(run(g, gradients(y, [x], undefined, { stopGradients: [h] }), { x: 2 })).toEqual([5]);
    const z = add(stopGradient(mul(x, x)), mul(x, 5));
    expect(run(g, gradients(z, [x]), { x: 2 })).toEqual([5]);
  });

  test('broadcasting is undone: each gradient has its input shape', () => {
    const g = new Graph();
    const a = g.placeholder('a', [2, 3]);
    const b = g.placeholder('b', [3]);
    const c = g.placeholder('c', [null, 1]);
    const y = sum(mul(add(a, b), c));
    const [da, db, dc] = gradients(y, [a, b, c]) as Tensor[];
    expect(da.shape).toEqual([2, 3]);
    expect(db.shape).toEqual([3]);
    expect(dc.shape).toEqual([null, 1]);
    const out = new Session(g).run([da, db, dc], {
      a: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      b: [1, 1, 1],
      c: [[1], [2]],
    });
    expect(out.map((o) => o.toArray())).toEqual([
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
      [3, 3, 3],
      [[9], [18]],
    ]);
  });

  test('gradient nodes are added under the gradients/ scope, only along paths between xs and ys', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const k = g.placeholder('k');
    const y = mul(exp(x), sin(k));
    const before = g.size;
    gradients(y, [x]);
    const added = g.nodes.slice(before);
    expect(added.every((n) => n.name.startsWith('gradients/'))).toBe(true);
    // Nothing differentiates sin(k): k is not on a path from x.
    expect(added.some((n) => n.name.includes('sin_grad'))).toBe(false);
  });

  test('gradients of gradients: d²/dx² x³ = 6x, d³/dx³ = 6', () => {
    const g = new Graph();
    const x = g.placeholder('x', [], 'float64');
    const y = mul(mul(x, x), x);
    const [d1] = gradients(y, [x]) as Tensor[];
    const [d2] = gradients(d1, [x]) as Tensor[];
    const [d3] = gradients(d2, [x]) as Tensor[];
    expect(run(g, [d1, d2, d3], { x: 2 })).toEqual([12, 12, 6]);
  });

  test('a gradient w.r.t. an intermediate tensor', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const h = mul(x, 3);
    const y = square(h);
    expect(run(g, gradients(y, [h, x]), { x: 1 })).toEqual([6, 18]);
  });

  test('chained tensor methods build the same nodes as the functions', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const w = g.variable('w', NDArray.from([[1], [2], [3]]));
    const chained = x.matMul(w).add(1).relu();
    const direct = add(matMul(x, w), 1).relu();
    expect(chained).toBe(direct);
  });
});

describe('chainable methods of the full op set', () => {
  test('each method builds the same node as its function', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const y = g.placeholder('y', [2, 3]);
    const ops = lazygrad as unknown as { [name: string]: (...args: unknown[]) => Tensor };
    const unary = ['abs', 'sign', 'rsqrt', 'reciprocal', 'expm1', 'log1p', 'tan', 'atan', 'sinh', 'cosh', 'erf'];
    for (const name of unary) {
      const method = (x as unknown as { [k: string]: () => Tensor })[name];
      expect(method.call(x)).toBe(ops[name](x));
    }
    for (const name of ['maximum', 'minimum', 'squaredDifference', 'atan2', 'less', 'greaterEqual']) {
      const method = (x as unknown as { [k: string]: (b: Tensor) => Tensor })[name];
      expect(method.call(x, y)).toBe(ops[name](x, y));
    }
    expect(x.concat(y, 1)).toBe(ops.concat([x, y], 1));
    expect(x.stack([y])).toBe(ops.stack([x, y]));
    expect(x.slice([0, 1], [1, 2])).toBe(ops.slice(x, [0, 1], [1, 2]));
    expect(x.logSumExp(1)).toBe(ops.logSumExp(x, 1));
    expect(x.clipByValue(0, 1)).toBe(ops.clipByValue(x, 0, 1));
  });
});
