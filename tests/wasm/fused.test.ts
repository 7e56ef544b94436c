import { opRecord } from '../../src/ops';
import { fusedKernel, type Buf, type FusedArg } from '../../src/ops/kernels';
import {
  compileFusedProgram,
  FUSED_WASM_OPS,
  loadWasmKernels,
  type FusedInputKind,
  type FusedProgramStep,
  type WasmKernels,
} from '../../src/backend/wasm';
import { Rng, nodeStartWorker, ulpF32 } from './helpers';

const one = loadWasmKernels({ initialBytes: 32 << 20 });
const two = loadWasmKernels({ initialBytes: 32 << 20, threads: 2, startWorker: nodeStartWorker });

afterAll(() => two.dispose());

interface Step {
  op: string;
  args: FusedArg[];
}

const SIZES = [0, 1, 3, 255, 256, 257, 1000, 4099];

// Ops whose float32 result is not the correctly rounded one (polynomials, or two roundings where the JS template
// rounds once): the reference perturbs their results by a few ulps to learn how much that moves the output.
const INEXACT = new Set([
  'exp',
  'log',
  'tanh',
  'sigmoid',
  'log1p',
  'expm1',
  'softplus',
  'logSigmoid',
  'elu',
  'selu',
  'rsqrt',
  'squaredDifference',
]);
const PERTURB = 6e-7; // ~5 float32 ulps, relative

/**
 * The JS fused kernel with the ops' own templates, each step's value rounded to float32 (as the unfused graph does
 * between ops) and the inexact ops' values scaled by 1 + sign(j)·PERTURB.
 */
function reference(
  steps: readonly Step[],
  inputs: readonly Buf[],
  n: number,
  sign: (j: number) => number,
): Float32Array {
  const fused = fusedKernel(
    steps.map((step, j) => {
      const template = opRecord(step.op).template as string;
      const scale = INEXACT.has(step.op) ? sign(j) * PERTURB : 0;
      return {
        template: scale === 0 ? `Math.fround(${template})` : `Math.fround((${template}) * ${1 + scale})`,
        args: step.args,
      };
    }),
  );
  const out: Buf = { data: new Float32Array(n), shape: [n] };
  fused(inputs, out);
  return out.data as Float32Array;
}

/**
 * Asserts the wasm result is the float32 reference within 4 ulps plus twice how far the perturbed references move,
 * so that cancellation downstream of an inexact op widens the bound only where it amplifies an ulp.
 */
function expectMatchesReference(
  steps: readonly Step[],
  inputs: readonly Buf[],
  actual: Float32Array,
  what: string,
): void {
  const n = actual.length;
  const exact = reference(steps, inputs, n, () => 0);
  const perturbed = [
    () => 1,
    () => -1,
    (j: number) => (j % 2 === 0 ? 1 : -1),
    (j: number) => (j % 2 === 0 ? -1 : 1),
  ].map((sign) => reference(steps, inputs, n, sign));
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const e = exact[i];
    const all = [e, ...perturbed.map((p) => p[i])];
    let ok: boolean;
    if (all.some((v) => !Number.isFinite(v)) || !Number.isFinite(a)) {
      const finite = all.filter((v) => Number.isFinite(v));
      ok = all.some((v) => Object.is(v, a) || (v !== v && a !== a) || (v === 0 && a === 0));
      // Where the references straddle an overflow or a NaN boundary, any value between the finite ones also passes.
      ok ||= finite.length > 0 && a >= Math.min(...finite) && a <= Math.max(...finite);
    } else {
      const spread = Math.max(...all.map((v) => Math.abs(v - e)));
      ok = Math.abs(a - e) <= 2 * spread + 4 * ulpF32(e) || (e === 0 && a === 0);
    }
    if (!ok) {
      const x = inputs.map((b) => (b.data.length === 1 ? b.data[0] : b.data[i]));
      throw new Error(
        `${what} element ${i}: wasm ${a}, JS ${e} (perturbed ${perturbed.map((p) => p[i]).join(', ')}), inputs ${x.join(', ')}`,
      );
    }
  }
}

function put(k: WasmKernels, data: Float32Array): number {
  const at = k.arena.alloc(data.length * 4);
  k.arena.f32(at, data.length).set(data);
  return at;
}

/** Runs the program on `k` over copies of the inputs in its arena; out gets a guard float on each side. */
function runWasm(k: WasmKernels, program: Int32Array, inputs: readonly Buf[], n: number): Float32Array {
  const offsets = inputs.map((b) => put(k, b.data as Float32Array));
  const guarded = k.arena.alloc((n + 2) * 4);
  const view = k.arena.f32(guarded, n + 2);
  view.fill(-12345);
  k.fused(program, offsets, guarded + 4, n);
  const after = k.arena.f32(guarded, n + 2);
  if (after[0] !== -12345 || after[n + 1] !== -12345) throw new Error(`fused wrote outside out (n = ${n})`);
  return after.slice(1, n + 1);
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 1e-40, 1, -1];

function randomInput(rng: Rng, kind: FusedInputKind, n: number): Buf {
  const length = kind === 'scalar' ? 1 : n;
  const data = new Float32Array(length);
  const scale = rng.pick([0.5, 2, 10]);
  for (let i = 0; i < length; i++) data[i] = rng.next() < 0.03 ? rng.pick(SPECIALS) : scale * rng.normal();
  return { data, shape: kind === 'scalar' ? [] : [n] };
}

const LITERALS = [0, -0, 0.5, 2, -3, 1e-3, 6, 100];

function randomProgram(rng: Rng, inputCount: number): Step[] {
  const length = rng.int(1, 7);
  const steps: Step[] = [];
  for (let j = 0; j < length; j++) {
    const op = rng.pick(FUSED_WASM_OPS);
    const arity = op === 'clipByValue' ? 3 : opRecord(op).arity === 2 ? 2 : 1;
    const args: FusedArg[] = [];
    for (let a = 0; a < arity; a++) {
      const r = rng.next();
      if (j > 0 && r < 0.5) args.push({ step: rng.int(Math.max(0, j - 3), j - 1) });
      else if (r < 0.85 || (op === 'clipByValue' && a > 0)) args.push({ input: rng.int(0, inputCount - 1) });
      else args.push({ value: Math.fround(rng.next() < 0.7 ? rng.pick(LITERALS) : rng.normal()) });
    }
    steps.push({ op, args });
  }
  return steps;
}

function compile(steps: readonly Step[], kinds: readonly FusedInputKind[]): Int32Array {
  const program = compileFusedProgram(steps as readonly FusedProgramStep[], kinds);
  if (program === null) throw new Error(`expected a program for ${JSON.stringify(steps)}`);
  return program;
}

describe('fused wasm interpreter', () => {
  beforeEach(() => {
    one.arena.reset();
    two.arena.reset();
  });

  test('random programs match the JS fused kernel (float32 per step) at every size, specials included', () => {
    const rng = new Rng(90);
    for (let t = 0; t < 160; t++) {
      const n = SIZES[t % SIZES.length];
      const inputCount = rng.int(1, 4);
      const kinds = Array.from({ length: inputCount }, (): FusedInputKind => (rng.next() < 0.25 ? 'scalar' : 'full'));
      const steps = randomProgram(rng, inputCount);
      const inputs = kinds.map((kind) => randomInput(rng, kind, n));
      const actual = runWasm(one, compile(steps, kinds), inputs, n);
      expectMatchesReference(steps, inputs, actual, `program ${t} ${JSON.stringify(steps)} (n = ${n})`);
      one.arena.reset();
    }
  });

  test('every op alone matches its template on special values and a sweep (exact ops bit for bit)', () => {
    const sweep = Array.from({ length: 400 }, (_, i) => Math.fround((i - 200) / 9));
    const x = Float32Array.from([...SPECIALS, 3e38, -3e38, 88.5, 89, -104, 1e-7, -1e-7, 0.6, -0.6, 6, 7, ...sweep]);
    const n = x.length;
    const second = Float32Array.from(x, (_, i) => x[(i * 7 + 3) % n]);
    const third = Float32Array.from(x, (_, i) => x[(i * 13 + 5) % n]);
    for (const op of FUSED_WASM_OPS) {
      const arity = op === 'clipByValue' ? 3 : opRecord(op).arity === 2 ? 2 : 1;
      const inputs: Buf[] = [x, second, third].slice(0, arity).map((data) => ({ data, shape: [n] }));
      const steps: Step[] = [{ op, args: inputs.map((_, k) => ({ input: k })) }];
      const actual = runWasm(
        one,
        compile(
          steps,
          inputs.map(() => 'full'),
        ),
        inputs,
        n,
      );
      const exact = reference(steps, inputs, n, () => 0);
      for (let i = 0; i < n; i++) {
        const a = actual[i];
        const e = exact[i];
        const ok = INEXACT.has(op)
          ? Object.is(a, e) || (a === 0 && e === 0) || (Number.isFinite(e) && Math.abs(a - e) <= 3 * ulpF32(e))
          : Object.is(a, e);
        if (!ok) throw new Error(`${op}(${inputs.map((b) => b.data[i]).join(', ')}) = ${a}, template gives ${e}`);
      }
      one.arena.reset();
    }
  });

  test('the benchmark chain matches the JS fused kernel (double intermediates) within float32 tolerance', () => {
    const rng = new Rng(91);
    const n = 4099;
    const steps: Step[] = [
      { op: 'mul', args: [{ value: 0.5 }, { input: 0 }] },
      { op: 'add', args: [{ step: 0 }, { value: 0.1 }] },
      { op: 'tanh', args: [{ step: 1 }] },
      { op: 'square', args: [{ step: 2 }] },
      { op: 'neg', args: [{ step: 3 }] },
      { op: 'exp', args: [{ step: 4 }] },
      { op: 'add', args: [{ step: 5 }, { value: 1 }] },
      { op: 'sqrt', args: [{ step: 6 }] },
    ];
    const x = randomInput(rng, 'full', n);
    const actual = runWasm(one, compile(steps, ['full']), [x], n);
    const js = fusedKernel(steps.map((s) => ({ template: opRecord(s.op).template as string, args: s.args })));
    const expected: Buf = { data: new Float32Array(n), shape: [n] };
    js([x], expected);
    for (let i = 0; i < n; i++) {
      const e = expected.data[i];
      if (!(Object.is(actual[i], e) || Math.abs(actual[i] - e) <= 4 * ulpF32(e))) {
        throw new Error(`element ${i}: wasm ${actual[i]}, JS ${e}`);
      }
    }
  });

  test('scalar inputs are splatted, and a program of constants fills the output', () => {
    const n = 257;
    const x = { data: Float32Array.from({ length: n }, (_, i) => i), shape: [n] };
    const s = { data: Float32Array.of(2.5), shape: [] };
    const steps: Step[] = [
      { op: 'mul', args: [{ input: 0 }, { input: 1 }] },
      { op: 'sub', args: [{ step: 0 }, { input: 1 }] },
    ];
    const actual = runWasm(one, compile(steps, ['full', 'scalar']), [x, s], n);
    expect(Array.from(actual)).toEqual(Array.from({ length: n }, (_, i) => i * 2.5 - 2.5));
    const constant = compile([{ op: 'add', args: [{ input: 0 }, { value: 1 }] }], ['scalar']);
    expect(Array.from(runWasm(one, constant, [s], 5))).toEqual([3.5, 3.5, 3.5, 3.5, 3.5]);
  });

  test('an input used twice in one step reads the same values for both operands', () => {
    const n = 1000;
    const x = randomInput(new Rng(92), 'full', n);
    const steps: Step[] = [
      { op: 'sub', args: [{ input: 0 }, { input: 0 }] },
      { op: 'mul', args: [{ input: 0 }, { input: 0 }] },
      { op: 'add', args: [{ step: 0 }, { step: 1 }] },
    ];
    const actual = runWasm(one, compile(steps, ['full']), [x], n);
    for (let i = 0; i < n; i++) {
      const v = x.data[i];
      expect(Object.is(actual[i], Math.fround(v - v + Math.fround(v * v)))).toBe(true);
    }
  });

  test('out may be one of the inputs: in place over the output is correct at every size', () => {
    const rng = new Rng(93);
    for (const n of SIZES) {
      const x = randomInput(rng, 'full', n);
      const y = randomInput(rng, 'full', n);
      const steps: Step[] = [
        { op: 'exp', args: [{ input: 1 }] },
        { op: 'mul', args: [{ step: 0 }, { input: 0 }] },
        { op: 'add', args: [{ step: 1 }, { input: 0 }] },
      ];
      const at = [put(one, x.data as Float32Array), put(one, y.data as Float32Array)];
      one.fused(compile(steps, ['full', 'full']), at, at[0], n);
      expectMatchesReference(steps, [x, y], one.arena.f32(at[0], n).slice(), `in place (n = ${n})`);
      one.arena.reset();
    }
  });

  test('reads and writes nothing past n: inputs and out ending at the end of memory', () => {
    const steps: Step[] = [
      { op: 'log', args: [{ input: 0 }] },
      { op: 'maximum', args: [{ step: 0 }, { input: 1 }] },
    ];
    const program = compile(steps, ['full', 'full']);
    const rng = new Rng(94);
    for (const n of [1, 3, 5, 257, 4099]) {
      const end = one.arena.capacity;
      const x = randomInput(rng, 'full', n);
      const y = randomInput(rng, 'full', n);
      // Beyond the arena's allocations: out is the last n floats of memory, x the n before them (in place: y = out).
      const outAt = end - 4 * n;
      const xAt = outAt - 4 * n;
      one.arena.f32(xAt, n).set(x.data);
      one.arena.f32(outAt, n).set(y.data);
      one.fused(program, [xAt, outAt], outAt, n);
      expectMatchesReference(steps, [x, y], one.arena.f32(outAt, n).slice(), `at the end (n = ${n})`);
    }
  });

  test('two threads give results bit-identical to one thread', () => {
    const rng = new Rng(95);
    const n = 100003;
    for (let t = 0; t < 6; t++) {
      const steps = randomProgram(rng, 2);
      const inputs = (['full', 'scalar'] as const).map((kind) => randomInput(rng, kind, n));
      const program = compile(steps, ['full', 'scalar']);
      const a = runWasm(one, program, inputs, n);
      const b = runWasm(two, program, inputs, n);
      for (let i = 0; i < n; i++) {
        if (!Object.is(a[i], b[i])) throw new Error(`program ${t} element ${i}: one thread ${a[i]}, two ${b[i]}`);
      }
      one.arena.reset();
      two.arena.reset();
    }
  });

  test('the program in wasm memory is replaced when another program runs', () => {
    const x = { data: Float32Array.of(1, 2, 3, 4, 5), shape: [5] };
    const double = compile([{ op: 'add', args: [{ input: 0 }, { input: 0 }] }], ['full']);
    const negate = compile([{ op: 'neg', args: [{ input: 0 }] }], ['full']);
    expect(Array.from(runWasm(one, double, [x], 5))).toEqual([2, 4, 6, 8, 10]);
    expect(Array.from(runWasm(one, negate, [x], 5))).toEqual([-1, -2, -3, -4, -5]);
    expect(Array.from(runWasm(one, double, [x], 5))).toEqual([2, 4, 6, 8, 10]);
  });
});

describe('compileFusedProgram', () => {
  const exp0: FusedProgramStep = { op: 'exp', args: [{ input: 0 }] };

  test('returns null for an op outside the interpreter table (the JS kernel runs)', () => {
    expect(compileFusedProgram([exp0, { op: 'sin', args: [{ step: 0 }] }], ['full'])).toBeNull();
    expect(compileFusedProgram([{ op: 'noSuchOp', args: [{ input: 0 }] }], ['full'])).toBeNull();
  });

  test('returns null for strided inputs, out-of-range literals, too many inputs or registers', () => {
    expect(compileFusedProgram([exp0], ['strided'])).toBeNull();
    expect(compileFusedProgram([{ op: 'mul', args: [{ input: 0 }, { value: 1e39 }] }], ['full'])).toBeNull();
    expect(
      compileFusedProgram(
        [exp0],
        Array.from({ length: 65 }, () => 'full'),
      ),
    ).toBeNull();
    const literals: FusedProgramStep[] = [exp0];
    for (let j = 1; j < 70; j++) literals.push({ op: 'add', args: [{ step: j - 1 }, { value: j }] });
    expect(compileFusedProgram(literals, ['full'])).toBeNull();
  });

  test('keeps literals that are ±Infinity and NaN', () => {
    const steps: FusedProgramStep[] = [
      { op: 'minimum', args: [{ input: 0 }, { value: Infinity }] },
      { op: 'maximum', args: [{ step: 0 }, { value: -Infinity }] },
    ];
    const program = compile(steps as Step[], ['full']);
    expect(Array.from(runWasm(one, program, [{ data: Float32Array.of(1, -2, 3), shape: [3] }], 3))).toEqual([1, -2, 3]);
    expect(compileFusedProgram([{ op: 'add', args: [{ input: 0 }, { value: NaN }] }], ['full'])).not.toBeNull();
  });

  test.each([
    ['an empty step list', [], /non-empty/],
    ['an input index out of range', [{ op: 'exp', args: [{ input: 1 }] }], /reads input 1 of 1/],
    ['a fractional input index', [{ op: 'exp', args: [{ input: 0.5 }] }], /reads input 0.5/],
    ['a reference to a later step', [{ op: 'exp', args: [{ step: 0 }] }], /not an earlier step/],
    ['a wrong arg count', [{ op: 'add', args: [{ input: 0 }] }], /takes 2 args, got 1/],
    ['a literal that is a string', [{ op: 'neg', args: [{ value: '1' }] }], /not a number/],
    ['an arg with two keys', [{ op: 'neg', args: [{ input: 0, step: 0 }] }], /exactly one of/],
    [
      'an arg of unknown kind',
      [{ op: 'neg', args: [{ node: 0 }] }],
      /must be {input}, {step} or {value}; got key node/,
    ],
    ['a step without args', [{ op: 'neg' }], /no args list/],
    ['a step that is not an object', [null], /must be an object/],
  ])('throws a clear error for %s', (_what, steps, message) => {
    expect(() => compileFusedProgram(steps as unknown as FusedProgramStep[], ['full'])).toThrow(message);
  });

  test('fused rejects a program whose length is not whole instructions', () => {
    expect(() => one.fused(new Int32Array(7), [0], 0, 4)).toThrow(/instructions/);
  });

  test('fused rejects fewer input offsets than the program reads', () => {
    const program = compile([{ op: 'add', args: [{ input: 0 }, { input: 2 }] }], ['full', 'full', 'scalar']);
    expect(() => one.fused(program, [0, 0], 0, 4)).toThrow(/reads 3 inputs, got 2/);
    const scalar = compile([{ op: 'add', args: [{ input: 0 }, { input: 1 }] }], ['full', 'scalar']);
    expect(() => one.fused(scalar, [0], 0, 4)).toThrow(/reads 2 inputs, got 1/);
  });
});
