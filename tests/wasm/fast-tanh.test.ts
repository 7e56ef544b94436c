/**
 * The session option `fastTanh`: tanh as ONNX Runtime's MLAS computes it (Eigen's rational form, assembly/vmath.ts
 * `tanhFast`) in every wasm kernel that computes tanh, within 7 ulp, |y| ≤ 1; the default stays within 2 ulp.
 */
import {
  compileFusedProgram,
  loadWasmKernels,
  WasmBufKernels,
  type FusedProgramStep,
  type WasmKernels,
} from '../../src/backend/wasm';
import {
  add,
  exp,
  fused,
  Graph,
  mul,
  neg,
  NDArray,
  Session,
  SessionError,
  sqrt,
  square,
  tanh,
  type Tensor,
} from '../../src';
import { sessionKernels } from '../../src/backend/backend';
import { firstBitDifference, Rng, ulpError, uniformF32 } from './helpers';

const one = loadWasmKernels({ initialBytes: 64 << 20 });
const kernels = new WasmBufKernels(one);
const relaxed = one.variant.endsWith('relaxed');

// MLAS's constants (onnxruntime/core/mlas/lib/tanh.cpp), as float32.
const P = [
  -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8, 1.48572235717979e-5,
  6.37261928875436e-4, 4.89352455891786e-3,
].map(Math.fround);
const Q = [1.19825839466702e-6, 1.18534705686654e-4, 2.268434632439e-3, 4.89352518554385e-3].map(Math.fround);

/**
 * The form in float32 arithmetic, one rounding per operation (no fused multiply-add): the baseline build's bits.
 * x·(P/Q), not MLAS's (x·P)/Q, which loses up to 104 ulp where x·P is subnormal.
 */
function reference(x: number): number {
  const f = Math.fround;
  if (Number.isNaN(x)) return NaN;
  const xc = Math.min(Math.max(x, -9), 9);
  const z = f(xc * xc);
  let p = P[0];
  for (let i = 1; i < P.length; i++) p = f(f(p * z) + P[i]);
  let q = Q[0];
  for (let i = 1; i < Q.length; i++) q = f(f(q * z) + Q[i]);
  const y = f(xc * f(p / q));
  return Math.min(Math.max(y, -1), 1);
}

function unary(op: 'tanh' | 'tanhFast', x: Float32Array): Float32Array {
  const out = { data: new Float32Array(x.length), shape: [x.length] };
  if (!kernels.unary(op, { data: x, shape: [x.length] }, out)) throw new Error(`${op} declined`);
  return out.data;
}

/** Every `stride`-th float32 from 0 to 12, both signs, and the special values. */
function sweep(stride: number): Float32Array {
  const top = new Uint32Array(new Float32Array([12]).buffer)[0];
  const bits: number[] = [];
  for (let b = 0; b <= top; b += stride) bits.push(b, b | 0x80000000);
  const x = new Float32Array(new Uint32Array(bits).buffer);
  return Float32Array.from([...x, NaN, Infinity, -Infinity, 0, -0, 9, -9, 8.44, 3e38, -3e38, 1e-45]);
}

function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  const i = firstBitDifference(actual, expected);
  if (i >= 0) throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
}

describe("fastTanh: ONNX Runtime's rational tanh in the wasm kernels", () => {
  const x = sweep(2039);

  test('the kernel is the form bit for bit (baseline build), within 7 ulp of tanh, never beyond ±1', () => {
    const y = unary('tanhFast', x);
    if (!relaxed) expectSameBits(y, Float32Array.from(x, reference), 'tanhFast against the float32 reference');
    let worst = 0;
    let beyondOne = 0;
    let nanMismatch = 0;
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i]) !== Number.isNaN(y[i])) nanMismatch++;
      else if (!Number.isNaN(x[i])) worst = Math.max(worst, ulpError(y[i], Math.tanh(x[i])));
      if (Math.abs(y[i]) > 1) beyondOne++;
    }
    expect([nanMismatch, beyondOne]).toEqual([0, 0]);
    expect(worst).toBeLessThanOrEqual(7);
    // It is the cheaper form, not the 2-ulp one: its worst error is well past 2 ulp (6.58 at x ≈ 6.03).
    expect(worst).toBeGreaterThan(4);
    const accurate = unary('tanh', x);
    let worstAccurate = 0;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isNaN(x[i])) worstAccurate = Math.max(worstAccurate, ulpError(accurate[i], Math.tanh(x[i])));
    }
    expect(worstAccurate).toBeLessThanOrEqual(2);
  });

  test('keeps NaN, the sign of zero, and gives ±1 at ±∞ and from |x| = 9 on', () => {
    const specials = Float32Array.from([NaN, 0, -0, Infinity, -Infinity, 9, -9, 100, -100, 1e-40, -1e-40]);
    const y = unary('tanhFast', specials);
    expect(y[0]).toBeNaN();
    expect(Object.is(y[1], 0)).toBe(true);
    expect(Object.is(y[2], -0)).toBe(true);
    expect(Array.from(y.slice(3, 9))).toEqual([1, -1, 1, -1, 1, -1]);
    // Subnormal x: tanh x is x, within the form's bound (x·P would be subnormal, so P/Q is taken first).
    expect(ulpError(y[9], specials[9])).toBeLessThanOrEqual(7);
    expect(ulpError(y[10], specials[10])).toBeLessThanOrEqual(7);
  });

  function runFused(k: WasmKernels, program: Int32Array, input: Float32Array, jit: boolean): Float32Array {
    const mark = k.arena.mark();
    const at = k.arena.alloc(input.length * 4);
    k.arena.f32(at, input.length).set(input);
    const out = k.arena.alloc(input.length * 4);
    k.fused(program, [at], out, input.length, jit);
    const result = k.arena.f32(out, input.length).slice();
    k.arena.release(mark);
    return result;
  }

  test('fused groups: the interpreter and the jit compute it with the same bits as the tanhFast kernel', () => {
    const steps: FusedProgramStep[] = [{ op: 'tanh', args: [{ input: 0 }] }];
    const fast = compileFusedProgram(steps, ['full'], { fastTanh: true }) as Int32Array;
    const accurate = compileFusedProgram(steps, ['full']) as Int32Array;
    const byKernel = unary('tanhFast', x);
    expectSameBits(runFused(one, fast, x, false), byKernel, 'interpreted');
    expectSameBits(runFused(one, fast, x, true), byKernel, 'jitted');
    expectSameBits(runFused(one, accurate, x, true), unary('tanh', x), 'the default program');
    // A chain whose exp is bounded by tanh's range: the jit's narrow exp path stays valid under the fast form.
    const chain: FusedProgramStep[] = [
      { op: 'tanh', args: [{ input: 0 }] },
      { op: 'square', args: [{ step: 0 }] },
      { op: 'neg', args: [{ step: 1 }] },
      { op: 'exp', args: [{ step: 2 }] },
    ];
    const program = compileFusedProgram(chain, ['full'], { fastTanh: true }) as Int32Array;
    expectSameBits(runFused(one, program, x, true), runFused(one, program, x, false), 'chain jitted');
  });
});

describe('new Session(graph, { fastTanh })', () => {
  const rng = new Rng(7);

  function session(g: Graph, fastTanh: boolean): Session {
    return new Session(g, { fastTanh });
  }

  test('the tanh op and a fused chain take the fast form; the default keeps the 2-ulp one', () => {
    const n = 4096;
    const data = uniformF32(rng, n, -7, 7);
    const g = new Graph();
    const x = g.placeholder('x', [n]);
    const alone = tanh(x);
    const chain = sqrt(add(exp(neg(square(tanh(add(mul(x, 0.5), 0.1))))), 1));
    const feeds = { x: new NDArray(data, [n]) };
    const [fastAlone, fastChain] = session(g, true).run([alone, chain], feeds);
    const [accAlone, accChain] = session(g, false).run([alone, chain], feeds);
    expectSameBits(fastAlone.data as Float32Array, Float32Array.from(data, reference), 'tanh op');
    expect(Array.from(fastAlone.data as Float32Array)).not.toEqual(Array.from(accAlone.data as Float32Array));
    let worstAccurate = 0;
    let chainGap = 0;
    for (let i = 0; i < n; i++) {
      worstAccurate = Math.max(worstAccurate, ulpError(accAlone.data[i], Math.tanh(data[i])));
      chainGap = Math.max(chainGap, Math.abs(fastChain.data[i] - accChain.data[i]));
    }
    expect(worstAccurate).toBeLessThanOrEqual(2);
    // The chain does not amplify tanh's error: both forms agree to a few float32 roundings of the result.
    expect(chainGap).toBeLessThanOrEqual(4e-7);
  });

  test('fusedMatMul and fusedConv2d epilogues (GEMM and depthwise) apply the fast form to their pre-activation', () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [3, 64]);
    const img = g.placeholder('img', [1, 6, 6, 8]);
    const w = g.constant(new NDArray(uniformF32(rng, 64 * 40, -0.6, 0.6), [64, 40]));
    const b = g.constant(new NDArray(uniformF32(rng, 40, -1, 1), [40]));
    const filter = g.constant(new NDArray(uniformF32(rng, 3 * 3 * 8 * 5, -0.5, 0.5), [3, 3, 8, 5]));
    const dwFilter = g.constant(new NDArray(uniformF32(rng, 3 * 3 * 8, -0.5, 0.5), [3, 3, 8, 1]));
    const cb = g.constant(new NDArray(uniformF32(rng, 5, -1, 1), [5]));
    const db = g.constant(new NDArray(uniformF32(rng, 8, -1, 1), [8]));
    const layers = (activation: 'linear' | 'tanh'): Tensor[] => [
      fused.matMul({ a: xs, b: w, bias: b, activation }),
      fused.conv2d({ x: img, filter, strides: 1, pad: 'same', bias: cb, activation }),
      fused.depthwiseConv2d({ x: img, filter: dwFilter, strides: 1, pad: 'same', bias: db, activation }),
    ];
    const linear = layers('linear');
    const activated = layers('tanh');
    const feeds = {
      xs: new NDArray(uniformF32(rng, 3 * 64, -2, 2), [3, 64]),
      img: new NDArray(uniformF32(rng, 6 * 6 * 8, -2, 2), [1, 6, 6, 8]),
    };
    const fast = session(g, true);
    const pre = fast.run(linear, feeds);
    const post = fast.run(activated, feeds);
    const accurate = session(g, false).run(activated, feeds);
    expect(activated.map((t) => t.node.op)).toEqual(['fusedMatMul', 'fusedConv2d', 'fusedConv2d']);
    pre.forEach((z, k) => {
      const what = ['dense', 'conv', 'depthwise'][k];
      const expected = Float32Array.from(z.data as Float32Array, reference);
      if (!relaxed) expectSameBits(post[k].data as Float32Array, expected, what);
      let worstFast = 0;
      let worstAccurate = 0;
      for (let i = 0; i < z.data.length; i++) {
        worstFast = Math.max(worstFast, ulpError(post[k].data[i], Math.tanh(z.data[i])));
        worstAccurate = Math.max(worstAccurate, ulpError(accurate[k].data[i], Math.tanh(z.data[i])));
      }
      expect([what, worstFast <= 7, worstAccurate <= 2]).toEqual([what, true, true]);
    });
  });

  test('two threads: the helper runs the same form, bit for bit what one thread gives', () => {
    const kernels = sessionKernels('wasm', 2).wasm?.wasm as WasmKernels | undefined;
    if (kernels === undefined || kernels.threads !== 2) return; // no shared memory here: nothing to check
    const n = 1 << 18;
    const data = uniformF32(rng, n, -7, 7);
    const g = new Graph();
    const x = g.placeholder('x', [n]);
    const fetches = [tanh(x), sqrt(add(exp(neg(square(tanh(add(mul(x, 0.5), 0.1))))), 1))];
    const feeds = { x: new NDArray(data, [n]) };
    const single = new Session(g, { fastTanh: true }).run(fetches, feeds);
    const sess = new Session(g, { fastTanh: true, threads: 2 });
    const helperRuns = kernels.jitStats.helperRuns;
    const split = sess.run(fetches, feeds);
    expect(kernels.jitStats.helperRuns).toBeGreaterThan(helperRuns);
    split.forEach((y, k) => expectSameBits(y.data as Float32Array, single[k].data as Float32Array, `fetch ${k}`));
    sess.dispose();
  });

  test('is checked like every option: a boolean, else a SessionError that says what is valid', () => {
    const g = new Graph();
    tanh(g.placeholder('x', [2]));
    expect(() => new Session(g, { fastTanh: 'yes' as unknown as boolean })).toThrow(SessionError);
    expect(() => new Session(g, { fastTanh: 'yes' as unknown as boolean })).toThrow(
      /fastTanh is "yes".*valid: true or false/,
    );
    expect(() => new Session(g, { fastTanh: true, jit: false })).not.toThrow();
  });
});
