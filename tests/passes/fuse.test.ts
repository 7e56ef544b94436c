import fc from 'fast-check';
import { WasmBufKernels } from '../../src/backend/wasm';
import {
  add,
  exp,
  Graph,
  gradients,
  log1p,
  mul,
  NDArray,
  optimize,
  relu,
  Session,
  sigmoid,
  sin,
  sub,
  sum,
  tanh,
  Tensor,
  where,
  greater,
} from '../../src';
import { fusedCacheSize } from '../../src/ops/kernels';

function chain(x: Tensor, b: Tensor): Tensor {
  // eight elementwise ops with a broadcast operand
  return mul(tanh(add(sigmoid(mul(exp(sin(x)), b)), 1)), relu(sub(x, b)));
}

describe('elementwise fusion', () => {
  test('golden: a chain of elementwise ops becomes one fused node that prints its expression', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 3]);
    const b = g.placeholder('b', [3]);
    const { graph } = optimize(g, [chain(x, b)]);
    expect(graph.toString()).toBe(
      [
        '%0 = placeholder() : float32[4, 3]  # x',
        '%1 = placeholder() : float32[3]  # b',
        '%2 = fused(%0, %1) {expr="mul(tanh(add(sigmoid(mul(exp(sin($0)), $1)), 1)), relu(sub($0, $1)))"} : ' +
          'float32[4, 3]  # mul_1',
      ].join('\n'),
    );
  });

  test('fused and unfused plans give the same values, with broadcasting', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 3]);
    const b = g.placeholder('b', [3]);
    const y = chain(x, b);
    const feeds = {
      x: [
        [0.1, -2, 3],
        [4, -0.5, 0.6],
        [0.7, 8, -9],
        [1, 1, -1],
      ],
      b: [0.3, -0.2, 1.5],
    };
    const fused = new Session(g).run(y, feeds);
    const plain = new Session(g, { optimize: { disable: ['fuse'] } }).run(y, feeds);
    fused.data.forEach((v, i) => expect(v).toBeCloseTo(plain.data[i], 6));
  });

  test('a fused chain allocates no intermediates', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1000]);
    // The JS backend: under wasm, exp/tanh/sigmoid run as their own wasm kernels instead of being fused.
    const text = new Session(g, { backend: 'js' }).explain(chain(x, g.constant(2)), { x: new Float32Array(1000) });
    expect(text).toContain('fuse');
    expect(text).toMatch(/memory: 0 B in 0 reused buffers .* for 0 B of intermediates/);
  });

  test('the generated kernel is compiled once per group structure and cached', () => {
    const g = new Graph();
    const x = g.placeholder('x', [8]);
    const y = chain(x, g.constant(0.5));
    new Session(g).run(y, { x: new Float32Array(8) });
    const after = fusedCacheSize();
    const h = new Graph();
    const z = h.placeholder('x', [8]);
    new Session(h).run(chain(z, h.constant(0.5)), { x: new Float32Array(8) });
    expect(fusedCacheSize()).toBe(after);
  });

  test('an int32 chain is not fused (fused loops would skip per-step truncation)', () => {
    const g = new Graph();
    const i = g.placeholder('i', [3], 'int32');
    const { graph } = optimize(g, [mul(add(i, 1), 2)]);
    expect(graph.nodes.some((n) => n.op === 'fused')).toBe(false);
  });

  test('a value used outside the group stays a separate output', () => {
    const g = new Graph();
    const x = g.placeholder('x', [5]);
    const shared = exp(x);
    const a = sin(shared);
    const out = new Session(g, { backend: 'js' }).run([shared, mul(a, 2)], { x: [0, 1, 2, 3, 4] });
    expect(Array.from(out[0].data)).toEqual(Array.from(new Float32Array([0, 1, 2, 3, 4].map(Math.exp))));
  });

  test('fused kernels run in place over a dying input of the same size', () => {
    const g = new Graph();
    const x = g.placeholder('x', [100]);
    const w = g.placeholder('w', [100, 100]);
    // matMul's output dies into the fused epilogue, whose output then reuses its buffer.
    const h = sum(log1p(mul(exp(sum(mul(w, x), 1)), 0.001)));
    expect(
      new Session(g, { backend: 'js' }).explain(h, {
        x: new Float32Array(100),
        w: new NDArray(new Float32Array(1e4), [100, 100]),
      }),
    ).toMatch(/1 steps in place/);
  });
});

describe('fusion under the wasm backend', () => {
  test('groups run in the wasm interpreter; only ops it lacks (sin here) stay out of them; values agree', () => {
    const g = new Graph();
    const x = g.placeholder('x', [40, 30]);
    const b = g.placeholder('b', [40, 30]);
    const y = chain(x, b);
    const values = (seed: number): NDArray =>
      new NDArray(
        Float32Array.from({ length: 1200 }, (_, i) => 3 * Math.sin(i * seed)),
        [40, 30],
        'float32',
      );
    const feeds = { x: values(0.37), b: values(1.1) };
    const wasm = new Session(g, { backend: 'wasm' });
    const plan = wasm.explain(y, feeds);
    expect(plan).toMatch(/= sin\(/);
    expect(plan).toMatch(/= fused\(.*exp\(\$0\)/);
    expect(plan).not.toMatch(/= (exp|tanh|sigmoid)\(/);
    expect(new Session(g, { backend: 'js' }).explain(y, feeds)).not.toMatch(/= sin\(/);
    const js = new Session(g, { backend: 'js' }).run(y, feeds);
    const interpreted = jest.spyOn(WasmBufKernels.prototype, 'fused');
    try {
      wasm.run(y, feeds).data.forEach((v, i) => expect(v).toBeCloseTo(js.data[i], 5));
      expect(interpreted.mock.results.map((r) => r.value)).toContain(true);
    } finally {
      interpreted.mockRestore();
    }
  });

  test('a group with broadcast inputs (a column, a row) runs in the interpreter too, expanded first', () => {
    const g = new Graph();
    const x = g.placeholder('x', [64, 48]);
    const col = g.placeholder('col', [64, 1]);
    const row = g.placeholder('row', [48]);
    const y = tanh(mul(exp(x), col)).add(row);
    const feeds = {
      x: new NDArray(
        Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i)),
        [64, 48],
        'float32',
      ),
      col: new NDArray(
        Float32Array.from({ length: 64 }, (_, i) => Math.cos(i)),
        [64, 1],
        'float32',
      ),
      row: new NDArray(
        Float32Array.from({ length: 48 }, (_, i) => i / 48),
        [48],
        'float32',
      ),
    };
    expect(new Session(g).explain(y, feeds)).toMatch(/= fused\(/);
    const js = new Session(g, { backend: 'js' }).run(y, feeds);
    const interpreted = jest.spyOn(WasmBufKernels.prototype, 'fused');
    try {
      const wasm = new Session(g).run(y, feeds);
      expect(interpreted.mock.results.map((r) => r.value)).toEqual([true]);
      wasm.data.forEach((v, i) => expect(Math.abs(v - js.data[i])).toBeLessThan(1e-6));
    } finally {
      interpreted.mockRestore();
    }
  });
});

describe('fusion property', () => {
  const unary = [sin, tanh, sigmoid, relu, (t: Tensor) => exp(tanh(t)), (t: Tensor) => log1p(mul(t, t))];
  const binary = [add, sub, mul, (a: Tensor, b: Tensor) => where(greater(a, b), a, b)];
  test('random elementwise graphs give the same values and gradients fused and unfused', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat(), fc.nat()), { minLength: 2, maxLength: 30 }),
        (program) => {
          const g = new Graph();
          const pool: Tensor[] = [g.placeholder('x', [3, 4], 'float64'), g.placeholder('b', [4], 'float64')];
          for (const [isUnary, op, i, j] of program) {
            const a = pool[i % pool.length];
            const c = pool[j % pool.length];
            pool.push(isUnary ? unary[op % unary.length](a) : binary[op % binary.length](a, c));
          }
          const y = pool[pool.length - 1];
          const x = pool[0];
          const [dx] = gradients(sum(y), [x], undefined, { unconnected: 'zero' }) as Tensor[];
          const feeds = new Map<Tensor, NDArray>([
            [
              x,
              NDArray.from(
                [
                  [0.1, -0.7, 1.3, 2],
                  [-1, 0.4, 0.9, -2.2],
                  [0.05, 3, -0.3, 0.6],
                ],
                'float64',
              ),
            ],
            [pool[1], NDArray.from([0.2, -1.1, 0.8, 1.7], 'float64')],
          ]);
          const on = new Session(g).run([y, dx], feeds);
          const off = new Session(g, { optimize: false }).run([y, dx], feeds);
          return on.every((v, k) =>
            Array.from(v.data).every((value, i) => {
              const other = off[k].data[i];
              return Object.is(value, other) || Math.abs(value - other) <= 1e-12 * Math.max(1, Math.abs(other));
            }),
          );
        },
      ),
      { numRuns: 120, seed: 7 },
    );
  });
});
