import { loadWasmKernels, type WasmKernels } from '../../src/backend/wasm';
import { Rng, nodeStartWorker, randF32 } from './helpers';

// Splitting never changes an element's arithmetic (same micro-kernel, same K order; rows stay whole), so two
// threads must give bit-identical results to one; one thread is tested against the JS kernels elsewhere.
const one = loadWasmKernels({ initialBytes: 32 << 20 });
const two = loadWasmKernels({ initialBytes: 32 << 20, threads: 2, startWorker: nodeStartWorker });

afterAll(() => two.dispose());

/** Copies `data` into a fresh allocation of both instances at equal offsets relative to each arena's base. */
function put(data: Float32Array): [number, number] {
  const offsets = [one, two].map((k) => {
    const at = k.arena.alloc(data.length * 4);
    k.arena.f32(at, data.length).set(data);
    return at;
  });
  return [offsets[0], offsets[1]];
}

function alloc(n: number): [number, number] {
  return [one.arena.alloc(n * 4), two.arena.alloc(n * 4)];
}

function expectSame(out: [number, number], n: number): void {
  const a = one.arena.f32(out[0], n);
  const b = two.arena.f32(out[1], n);
  for (let i = 0; i < n; i++) {
    if (!Object.is(a[i], b[i])) throw new Error(`element ${i}: one thread ${a[i]}, two threads ${b[i]}`);
  }
}

function run(body: (k: WasmKernels, which: 0 | 1) => void): void {
  body(one, 0);
  body(two, 1);
}

describe('two threads', () => {
  beforeEach(() => {
    one.arena.reset();
    two.arena.reset();
  });

  test('start a helper worker over shared memory', () => {
    expect(two.threads).toBe(2);
    expect(two.arena.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(one.threads).toBe(1);
  });

  test('split matMul by rows (M >= N) and by columns (M < N), bit-identical, every transpose and epilogue', () => {
    const rng = new Rng(70);
    for (const [M, K, N] of [
      [203, 97, 131],
      [61, 150, 389],
      [257, 300, 9],
    ]) {
      for (const [tA, tB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const a = put(randF32(rng, [M * K]).data as Float32Array);
        const b = put(randF32(rng, [K * N]).data as Float32Array);
        const bias = put(randF32(rng, [N]).data as Float32Array);
        const out = alloc(M * N);
        run((k, i) => k.matMul(a[i], b[i], out[i], M, N, K, tA, tB, bias[i], 'tanh'));
        expectSame(out, M * N);
      }
    }
  });

  test('split elementwise ops, softmax and logSoftmax, bit-identical', () => {
    const rng = new Rng(71);
    const n = 100003;
    const x = put(randF32(rng, [n], 3).data as Float32Array);
    const y = put(randF32(rng, [n]).data as Float32Array);
    const out = alloc(n);
    for (const op of ['exp', 'tanh', 'sigmoid', 'relu'] as const) {
      run((k, i) => k.unary(op, x[i], out[i], n));
      expectSame(out, n);
    }
    for (const op of ['add', 'div'] as const) {
      run((k, i) => k.binary(op, x[i], y[i], out[i], n));
      expectSame(out, n);
      run((k, i) => k.binary(op, x[i], y[i], out[i], n, 'b'));
      expectSame(out, n);
      run((k, i) => k.binary(op, x[i], y[i], out[i], n, 'a'));
      expectSame(out, n);
      run((k, i) => k.binaryRow(op, x[i], y[i], out[i], 1001, 99, true));
      expectSame(out, 1001 * 99);
    }
    run((k, i) => k.reluGrad(x[i], y[i], out[i], n));
    expectSame(out, n);
    run((k, i) => k.softmax(x[i], out[i], 1001, 99));
    expectSame(out, 1001 * 99);
    run((k, i) => k.logSoftmax(x[i], out[i], 333, 300));
    expectSame(out, 333 * 300);
  });

  test('report a kernel that fails in the worker, and keep working', () => {
    const [M, K, N] = [256, 256, 16];
    // A's second half of rows (the helper's) lies past the end of memory; the caller's half is in bounds.
    const a = two.arena.capacity - (M / 2) * K * 4;
    const b = two.arena.alloc(K * N * 4);
    const c = two.arena.alloc(M * N * 4);
    expect(() => two.matMul(a, b, c, M, N, K)).toThrow(/failed in the worker/);
    const x = two.arena.alloc(1 << 18);
    two.arena.f32(x, 1 << 16).fill(-1);
    two.unary('abs', x, x, 1 << 16);
    expect(two.arena.f32(x, 1 << 16).every((v) => v === 1)).toBe(true);
  });

  test('need a way to start the worker', () => {
    expect(() => loadWasmKernels({ threads: 2 })).toThrow(/startWorker/);
  });

  test('fall back to one thread after dispose', () => {
    const k = loadWasmKernels({ initialBytes: 1 << 20, threads: 2, startWorker: nodeStartWorker });
    k.dispose();
    expect(k.threads).toBe(1);
    const x = k.arena.alloc(1 << 18);
    k.unary('neg', x, x, 1 << 16);
    expect(k.arena.f32(x, 1)[0]).toBe(-0);
  });
});
