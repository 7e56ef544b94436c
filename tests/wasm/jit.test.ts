import fc from 'fast-check';
import { opRecord } from '../../src/ops';
import {
  compileFusedProgram,
  FUSED_WASM_OPS,
  loadWasmKernels,
  type FusedInputKind,
  type FusedProgramStep,
  type WasmKernels,
} from '../../src/backend/wasm';
import { jitCacheStats } from '../../src/backend/wasm/jit/cache';
import { compileFusedJit } from '../../src/backend/wasm/jit/compile';
import { sessionKernels } from '../../src/backend/backend';
import { add, exp, Graph, mul, NDArray, neg, Session, sqrt, square, tanh } from '../../src';
import { firstBitDifference, nodeStartWorker, Rng, ulpError, uniformF32 } from './helpers';

const one = loadWasmKernels({ initialBytes: 48 << 20 });
const two = loadWasmKernels({ initialBytes: 48 << 20, threads: 2, startWorker: nodeStartWorker });

afterAll(() => two.dispose());
beforeEach(() => {
  one.arena.reset();
  two.arena.reset();
});

type Arg = { input: number } | { step: number } | { value: number };
interface Step {
  op: string;
  args: Arg[];
}

function compile(steps: readonly Step[], kinds: readonly FusedInputKind[]): Int32Array {
  const program = compileFusedProgram(steps as readonly FusedProgramStep[], kinds);
  if (program === null) throw new Error(`expected a program for ${JSON.stringify(steps)}`);
  return program;
}

/** Runs a program over copies of the inputs, jitted or interpreted; checks nothing outside out was written. */
function run(
  k: WasmKernels,
  program: Int32Array,
  inputs: readonly Float32Array[],
  n: number,
  jit: boolean,
): Float32Array {
  const offsets = inputs.map((data) => {
    const at = k.arena.alloc(Math.max(data.length, 1) * 4);
    k.arena.f32(at, data.length).set(data);
    return at;
  });
  const guarded = k.arena.alloc((n + 2) * 4);
  k.arena.f32(guarded, n + 2).fill(-12345);
  k.fused(program, offsets, guarded + 4, n, jit);
  const after = k.arena.f32(guarded, n + 2);
  if (after[0] !== -12345 || after[n + 1] !== -12345) throw new Error(`fused wrote outside out (n = ${n})`);
  return after.slice(1, n + 1);
}

function expectSameBits(jitted: Float32Array, interpreted: Float32Array, what: string): void {
  const i = firstBitDifference(jitted, interpreted);
  if (i >= 0) throw new Error(`${what}: element ${i} jitted ${jitted[i]}, interpreted ${interpreted[i]}`);
}

const arityOf = (op: string): number => (op === 'clipByValue' ? 3 : opRecord(op).arity === 2 ? 2 : 1);

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 1e-40, -1e-40, 1, -1, 3e38, -3e38];
const WIDE = [86.9, 87.1, 88.5, 88.8, 89, 95, -87.1, -95, -103, -104, -110, 9.99, 10, 10.01, 44, 45, 0.6249, 0.625];

describe('fused jit: the same results as the interpreter', () => {
  test('every fusible op, jitted, equals the interpreter bit for bit on special, wide and swept values', () => {
    const sweep = Array.from({ length: 600 }, (_, i) => Math.fround((i - 300) / 7));
    const x = Float32Array.from([...SPECIALS, ...WIDE, ...WIDE.map((v) => -v), ...sweep]);
    const n = x.length;
    const second = Float32Array.from(x, (_, i) => x[(i * 7 + 3) % n]);
    const third = Float32Array.from(x, (_, i) => x[(i * 13 + 5) % n]);
    const before = one.jitStats.runs;
    for (const op of FUSED_WASM_OPS) {
      const inputs = [x, second, third].slice(0, arityOf(op));
      const program = compile(
        [{ op, args: inputs.map((_, k) => ({ input: k })) }],
        inputs.map(() => 'full'),
      );
      expectSameBits(run(one, program, inputs, n, true), run(one, program, inputs, n, false), op);
    }
    expect(one.jitStats.runs - before).toBe(FUSED_WASM_OPS.length);
  });

  test('exp, log, tanh and sigmoid jitted stay within the wasm kernels’ ulp bounds of float64 Math', () => {
    const rng = new Rng(2001);
    const bounds: [string, (v: number) => number, Float32Array, number][] = [
      ['exp', Math.exp, uniformF32(rng, 60000, -103, 88.7), 1.5],
      ['tanh', Math.tanh, uniformF32(rng, 60000, -12, 12), 2],
      ['sigmoid', (v) => 1 / (1 + Math.exp(-v)), uniformF32(rng, 60000, -87, 87), 3],
      ['log', Math.log, Float32Array.from({ length: 60000 }, () => 2 ** (rng.next() * 277 - 149)), 1.5],
    ];
    for (const [op, exact, x, ulps] of bounds) {
      const y = run(one, compile([{ op, args: [{ input: 0 }] }], ['full']), [x], x.length, true);
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulpError(y[i], exact(x[i])));
      expect([op, worst <= ulps ? 'within' : worst]).toEqual([op, 'within']);
    }
  });

  test('exp on its narrow path (an argument bounded by the group: s·tanh x) keeps exp’s bound and bits', () => {
    const x = Float32Array.from([...uniformF32(new Rng(2002), 40000, -6, 6), 20, -20, 1e30, -1e30, NaN]);
    // 80 proves |argument| <= 86 (the narrow path); the others do not, and overflow or go subnormal at the ends.
    for (const scale of [80, -80, 88.5, 92, -92, -110]) {
      const scaled = [
        { op: 'tanh', args: [{ input: 0 }] },
        { op: 'mul', args: [{ step: 0 }, { value: scale }] },
      ];
      const u = run(one, compile(scaled, ['full']), [x], x.length, true);
      const program = compile([...scaled, { op: 'exp', args: [{ step: 1 }] }], ['full']);
      const y = run(one, program, [x], x.length, true);
      for (let i = 0; i < x.length; i++) {
        const exact = Math.exp(u[i]);
        const ok = Object.is(Math.fround(exact), y[i]) || ulpError(y[i], exact) <= 1.5;
        if (!ok) throw new Error(`exp(${u[i]}) = ${y[i]} (scale ${scale})`);
      }
      expectSameBits(y, run(one, program, [x], x.length, false), `exp(${scale}·tanh x)`);
    }
  });

  test('random fused groups (full, scalar and row inputs, literals, any size) equal the interpreter bit for bit', () => {
    const kindArb = fc.constantFrom<FusedInputKind>('full', 'scalar', 'row:4', 'row:12', 'row:6', 'row:1');
    const valueArb = fc.oneof(
      fc.constantFrom(...SPECIALS, ...WIDE),
      fc.double({ min: -20, max: 20, noNaN: true }).map(Math.fround),
    );
    const groupArb = fc
      .record({ kinds: fc.array(kindArb, { minLength: 1, maxLength: 4 }), length: fc.integer({ min: 1, max: 8 }) })
      .chain(({ kinds, length }) =>
        fc.record({
          kinds: fc.constant(kinds),
          n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 41, max: 3000 })),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
          ops: fc.array(fc.constantFrom(...FUSED_WASM_OPS), { minLength: length, maxLength: length }),
          literal: valueArb,
        }),
      );
    fc.assert(
      fc.property(groupArb, ({ kinds, n, seed, ops, literal }) => {
        const rng = new Rng(seed);
        const steps: Step[] = ops.map((op, j) => ({
          op,
          args: Array.from({ length: arityOf(op) }, (): Arg => {
            const r = rng.next();
            if (j > 0 && r < 0.55) return { step: rng.int(Math.max(0, j - 3), j - 1) };
            if (r < 0.9) return { input: rng.int(0, kinds.length - 1) };
            return { value: literal };
          }),
        }));
        const inputs = kinds.map((kind) => {
          const length = kind === 'full' ? n : kind === 'scalar' ? 1 : Number(kind.slice(4));
          return Float32Array.from({ length }, () =>
            rng.next() < 0.05 ? rng.pick([...SPECIALS, ...WIDE]) : 3 * rng.normal(),
          );
        });
        // A row input needs an output that is whole rows.
        const rows = kinds.filter((k) => k.startsWith('row:')).map((k) => Number(k.slice(4)));
        const size = rows.length === 0 ? n : Math.ceil(n / 12) * 12;
        if (rows.some((l) => size % l !== 0)) return;
        const full = inputs.map((data, k) =>
          kinds[k] === 'full' ? Float32Array.from({ length: size }, (_, i) => data[i % Math.max(n, 1)] ?? 0) : data,
        );
        const program = compile(steps, kinds);
        expectSameBits(
          run(one, program, full, size, true),
          run(one, program, full, size, false),
          `${JSON.stringify(steps)} ${kinds.join()} n=${size}`,
        );
        one.arena.reset();
      }),
      { numRuns: 120, seed: 20 },
    );
  });
});

describe('fused jit: broadcasting, fallback, threads, cache', () => {
  test('a row whose length is a multiple of 4 is jitted; another length falls back to the interpreter', () => {
    const n = 600;
    const x = uniformF32(new Rng(2003), n, -3, 3);
    for (const length of [4, 12, 20, 6, 10, 3]) {
      const row = uniformF32(new Rng(length), length, -1, 1);
      const program = compile(
        [
          { op: 'add', args: [{ input: 0 }, { input: 1 }] },
          { op: 'tanh', args: [{ step: 0 }] },
        ],
        ['full', `row:${length}`],
      );
      const runs = one.jitStats.runs;
      const declined = jitCacheStats().declined;
      const jitted = run(one, program, [x, row], n, true);
      expect(one.jitStats.runs - runs).toBe(length % 4 === 0 ? 1 : 0);
      expect(compileFusedJit(program, { shared: false, maximumPages: 65536, relaxed: false }) === null).toBe(
        length % 4 !== 0,
      );
      if (length % 4 !== 0) expect(jitCacheStats().declined).toBeGreaterThanOrEqual(declined + (length === 6 ? 1 : 0));
      const expected = Float32Array.from(x, (v, i) => v + row[i % length]);
      const interpreted = run(one, program, [x, row], n, false);
      expectSameBits(jitted, interpreted, `row:${length}`);
      for (let i = 0; i < n; i++) expect(Math.abs(jitted[i] - Math.tanh(expected[i]))).toBeLessThan(1e-6);
    }
  });

  test('a scalar input and a literal are splatted once; the result matches the interpreter', () => {
    const n = 1001;
    const x = uniformF32(new Rng(2004), n, -5, 5);
    const program = compile(
      [
        { op: 'mul', args: [{ input: 0 }, { input: 1 }] },
        { op: 'sub', args: [{ step: 0 }, { value: 0.75 }] },
        { op: 'sigmoid', args: [{ step: 1 }] },
      ],
      ['full', 'scalar'],
    );
    const s = Float32Array.of(-1.5);
    expectSameBits(run(one, program, [x, s], n, true), run(one, program, [x, s], n, false), 'scalar');
  });

  test('two threads run the same jitted function on their halves: the same bits as one thread', () => {
    const n = 100003;
    const rng = new Rng(2005);
    const x = uniformF32(rng, n, -4, 4);
    const b = uniformF32(rng, 8, -1, 1);
    const program = compile(
      [
        { op: 'add', args: [{ input: 0 }, { input: 1 }] },
        { op: 'tanh', args: [{ step: 0 }] },
        { op: 'square', args: [{ step: 1 }] },
        { op: 'neg', args: [{ step: 2 }] },
        { op: 'exp', args: [{ step: 3 }] },
        { op: 'add', args: [{ step: 4 }, { value: 1 }] },
        { op: 'sqrt', args: [{ step: 5 }] },
      ],
      ['full', 'row:8'],
    );
    const jobs = two.helperJobs;
    const stats = { ...two.jitStats };
    const threaded = run(two, program, [x, b], n, true);
    expect(two.threads).toBe(2);
    expect(two.jitStats.helperRuns - stats.helperRuns).toBe(1);
    expect(two.jitStats.helperLoads - stats.helperLoads).toBe(1); // loaded once, on the first split run
    run(two, program, [x, b], n, true);
    expect(two.jitStats.helperLoads - stats.helperLoads).toBe(1);
    expect(two.helperJobs - jobs).toBe(3); // the load, then two halves
    expectSameBits(threaded, run(one, program, [x, b], n, true), 'two threads vs one');
    expectSameBits(threaded, run(one, program, [x, b], n, false), 'two threads vs the interpreter');
  });

  test('kernels over another memory compile nothing again: the cached module is instantiated there', () => {
    const other = loadWasmKernels({ initialBytes: 8 << 20 });
    const program = compile(
      [
        { op: 'softplus', args: [{ input: 0 }] },
        { op: 'mul', args: [{ step: 0 }, { value: 0.3125 }] },
      ],
      ['full'],
    );
    const x = uniformF32(new Rng(2006), 333, -30, 30);
    const first = run(one, program, [x], 333, true);
    const compiled = jitCacheStats().compiled;
    const instances = other.jitStats.instances;
    expectSameBits(run(other, program, [x], 333, true), first, 'another memory');
    expect(jitCacheStats().compiled).toBe(compiled);
    expect(other.jitStats.instances - instances).toBe(1);
  });

  test('a session compiles a group once; a second plan with the same structure hits the cache', () => {
    const n = 4096;
    const data = uniformF32(new Rng(2007), n, -2, 2);
    const build = (): { g: Graph; y: ReturnType<typeof sqrt>; feeds: Map<unknown, NDArray> } => {
      const g = new Graph();
      const x = g.placeholder('x', [n]);
      // 0.4375 keeps this structure apart from the other tests' (the cache is per process).
      const y = sqrt(add(exp(neg(square(tanh(add(mul(x, 0.4375), 0.1))))), 1));
      return { g, y, feeds: new Map([[x, new NDArray(data, [n])]]) };
    };
    const kernels = sessionKernels('wasm', 1).wasm?.wasm as WasmKernels;
    const a = build();
    const stats = jitCacheStats();
    const runs = kernels.jitStats.runs;
    const first = new Session(a.g).run([a.y], a.feeds as never)[0].data as Float32Array;
    expect(kernels.jitStats.runs - runs).toBe(1);
    expect(jitCacheStats().compiled - stats.compiled).toBe(1);
    const b = build();
    const second = new Session(b.g).run([b.y], b.feeds as never)[0].data as Float32Array;
    expect(jitCacheStats().compiled - stats.compiled).toBe(1);
    expect(jitCacheStats().hits - stats.hits).toBeGreaterThanOrEqual(1);
    expect(kernels.jitStats.runs - runs).toBe(2);
    expectSameBits(second, first, 'second plan');
    // jit: false runs the interpreter: nothing jitted runs, the bits are the same.
    const c = build();
    const interpreted = new Session(c.g, { jit: false }).run([c.y], c.feeds as never)[0].data as Float32Array;
    expect(kernels.jitStats.runs - runs).toBe(2);
    expectSameBits(interpreted, first, 'jit: false');
  });

  test('jit must be a boolean', () => {
    expect(() => new Session(new Graph(), { jit: 1 as never })).toThrow(/jit/);
  });
});
