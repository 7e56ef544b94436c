import { exp, gradients, Graph, matMul, NDArray, opRecord, Session, softmax, sum, tanh, Tensor } from '../src';
import { bindWasmKernels, loadWasmKernels, WASM_BINDINGS, WasmBufKernels } from '../src/backend';
import type { Buf } from '../src/ops/kernels';

function mlp(): { g: Graph; loss: Tensor; grads: Tensor[]; feeds: { x: NDArray } } {
  const g = new Graph();
  const x = g.placeholder('x', [null, 33]);
  const w = g.variable(
    'w',
    NDArray.from(Array.from({ length: 33 }, (_, i) => Array.from({ length: 17 }, (_, j) => Math.sin(i * 17 + j)))),
  );
  const loss = sum(softmax(tanh(matMul(x, w))).mul(exp(matMul(x, w).mul(0.1))));
  const grads = gradients(loss, [w, x]) as Tensor[];
  const data = new Float32Array(9 * 33).map((_, i) => Math.cos(i));
  return { g, loss, grads, feeds: { x: new NDArray(data, [9, 33]) } };
}

describe('backends', () => {
  test('the default backend is wasm where it loads, and js on request', () => {
    const g = new Graph();
    expect(new Session(g).backend).toBe('wasm');
    expect(new Session(g, { backend: 'js' }).backend).toBe('js');
  });

  test('wasm and js backends agree on values and gradients (float32 tolerance), odd sizes included', () => {
    const { g, loss, grads, feeds } = mlp();
    const js = new Session(g, { backend: 'js' }).run([loss, ...grads], feeds);
    const wasm = new Session(g, { backend: 'wasm' }).run([loss, ...grads], feeds);
    js.forEach((a, k) =>
      a.data.forEach((v, i) =>
        expect(Math.abs(wasm[k].data[i] - v)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v))),
      ),
    );
  });

  test('two threads give the same results as one', () => {
    const { g, loss, grads, feeds } = mlp();
    const one = new Session(g, { threads: 1 }).run([loss, ...grads], feeds);
    const two = new Session(g, { threads: 2 }).run([loss, ...grads], feeds);
    one.forEach((a, k) => expect(Array.from(two[k].data)).toEqual(Array.from(a.data)));
  });

  test('float64 graphs run the JS kernels under the wasm backend (exact same values)', () => {
    const g = new Graph();
    const a = g.placeholder('a', [3, 5], 'float64');
    const y = matMul(a, a, false, true);
    const feeds = new Map([
      [
        a,
        NDArray.from(
          Array.from({ length: 3 }, (_, i) => [1, 2, 3, 4, 5].map((v) => v * (i + 0.5))),
          'float64',
        ),
      ],
    ]);
    const js = new Session(g, { backend: 'js' }).run(y, feeds);
    expect(Array.from(new Session(g).run(y, feeds).data)).toEqual(Array.from(js.data));
  });
});

describe('elementwise ops and reductions on the wasm backend', () => {
  const values = (n: number, seed: number): Float32Array =>
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 3 + (i % 7 === 0 ? 0 : 0.25));

  function agree(build: (g: Graph) => { y: Tensor; feeds: Map<Tensor, NDArray> }, exact = true): void {
    const g = new Graph();
    const { y, feeds } = build(g);
    const js = new Session(g, { backend: 'js', optimize: false }).run(y, feeds);
    const wasm = new Session(g, { backend: 'wasm', optimize: false }).run(y, feeds);
    expect(wasm.shape).toEqual(js.shape);
    if (exact) expect(Array.from(wasm.data)).toEqual(Array.from(js.data));
    else js.data.forEach((v, i) => expect(Math.abs(Number(wasm.data[i]) - Number(v))).toBeLessThan(1e-3));
  }

  test.each(['add', 'sub', 'mul', 'div'] as const)(
    '%s gives the JS kernel’s bits: same shapes, scalar either side, a row either side, a column',
    (op) => {
      const shapes: [number[], number[]][] = [
        [
          [33, 65],
          [33, 65],
        ],
        [[], [33, 65]],
        [[33, 65], []],
        [[33, 65], [65]],
        [
          [1, 65],
          [33, 65],
        ],
        [
          [33, 1],
          [33, 65],
        ], // general broadcasting: the JS kernel
      ];
      for (const [sa, sb] of shapes) {
        agree((g) => {
          const a = g.placeholder('a', sa);
          const b = g.placeholder('b', sb);
          const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);
          const feeds = new Map([
            [a, new NDArray(values(size(sa), 1), sa, 'float32')],
            [b, new NDArray(values(size(sb), 2), sb, 'float32')],
          ]);
          return { y: a[op](b), feeds };
        });
      }
    },
  );

  test('relu, neg, abs, sqrt and square of large arrays give the JS kernel’s bits', () => {
    for (const name of ['relu', 'neg', 'abs', 'sqrt', 'square'] as const) {
      agree((g) => {
        const x = g.placeholder('x', [1000]);
        const data = values(1000, 3);
        data[5] = NaN;
        data[6] = -0;
        return { y: x[name](), feeds: new Map([[x, new NDArray(data, [1000], 'float32')]]) };
      });
    }
  });

  test('sums over leading or trailing axes and maxima over trailing axes agree with the JS kernels', () => {
    const cases: [number[], number[], 'sum' | 'max'][] = [
      [[40, 30], [0], 'sum'],
      [[40, 30], [1], 'sum'],
      [[4, 10, 30], [1, 2], 'max'],
      [[4, 10, 30], [1], 'sum'], // a middle axis: the JS kernel
    ];
    for (const [shape, axes, kind] of cases) {
      agree((g) => {
        const x = g.placeholder('x', shape);
        const n = shape.reduce((p, d) => p * d, 1);
        return { y: x[kind](axes), feeds: new Map([[x, new NDArray(values(n, 4), shape, 'float32')]]) };
      }, kind === 'max');
    }
  });

  test('int32 arithmetic runs the op’s own kernel under the wasm backend', () => {
    agree((g) => {
      const a = g.placeholder('a', [600], 'int32');
      const b = g.placeholder('b', [600], 'int32');
      const ia = Int32Array.from({ length: 600 }, (_, i) => i * 7919 - 2_000_000);
      const ib = Int32Array.from({ length: 600 }, (_, i) => (i % 13) - 6 || 3);
      return {
        y: a.div(b).add(a.mul(b)),
        feeds: new Map([
          [a, new NDArray(ia, [600], 'int32')],
          [b, new NDArray(ib, [600], 'int32')],
        ]),
      };
    });
  });
});

describe('the binding table', () => {
  const wasm = new WasmBufKernels(loadWasmKernels({ initialBytes: 8 << 20 }));
  const bound = bindWasmKernels(wasm);
  const buf = (data: Float32Array | Float64Array): Buf => ({ data, shape: [data.length] });
  const ramp = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (i % 17) - 8.5);

  test('every row names an op with its own JS kernel, to fall back to', () => {
    for (const op of Object.keys(WASM_BINDINGS)) expect(typeof opRecord(op).kernel).toBe('function');
    expect([...bound.keys()]).toEqual(Object.keys(WASM_BINDINGS));
  });

  test('exp, tanh, sigmoid and log run in wasm at any size; other elementwise ops and reductions from 256', () => {
    const every = ['matMul', 'fusedMatMul', 'softmax', 'logSoftmax', 'softmaxCrossEntropyWithLogits', 'fused'];
    for (const op of [...every, 'exp', 'tanh', 'sigmoid', 'log']) expect(WASM_BINDINGS[op].minElements).toBe(0);
    for (const op of ['relu', 'neg', 'abs', 'sqrt', 'square', 'add', 'sub', 'mul', 'div', 'reluGrad', 'sum', 'max']) {
      expect(WASM_BINDINGS[op].minElements).toBe(256);
    }
  });

  test('the guard: wasm for float32 from the row’s size, else (or when declined) the record’s kernel', () => {
    const unary = jest.spyOn(wasm, 'unary');
    try {
      const call = (op: string, x: Buf): Buf => {
        const out = {
          data: x.data instanceof Float32Array ? new Float32Array(x.data.length) : new Float64Array(x.data.length),
          shape: x.shape,
        };
        bound.get(op)?.([x], out, {});
        return out;
      };
      call('exp', buf(ramp(3)));
      expect(unary).toHaveBeenCalledTimes(1); // exp: every size
      const small = call('relu', buf(ramp(255)));
      expect(unary).toHaveBeenCalledTimes(1); // relu below 256: the record's kernel
      expect(Array.from(small.data)).toEqual(Array.from(ramp(255), (v) => Math.max(v, 0)));
      call('relu', buf(ramp(256)));
      expect(unary).toHaveBeenCalledTimes(2);
      expect(unary.mock.results[1].value).toBe(true);
      const f64 = call('exp', buf(Float64Array.from([0, 1, 2])));
      expect(unary).toHaveBeenCalledTimes(2); // float64: the record's kernel
      expect(Array.from(f64.data)).toEqual([1, Math.E, Math.exp(2)]);
      unary.mockReturnValueOnce(false); // declined (no staging room, say): the record's kernel, read at call time
      const record = opRecord('neg') as { kernel: unknown };
      const original = record.kernel;
      record.kernel = (_inputs: readonly Buf[], out: Buf) => out.data.fill(7);
      try {
        expect(Array.from(call('neg', buf(ramp(300))).data.slice(0, 3))).toEqual([7, 7, 7]);
      } finally {
        record.kernel = original;
      }
      expect(unary).toHaveBeenCalledTimes(3);
    } finally {
      unary.mockRestore();
    }
  });
});
