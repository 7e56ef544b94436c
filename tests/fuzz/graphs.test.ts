/**
 * Random graphs over a broad op mix, random shapes (size-0 dims and scalars included) and random dtypes: building,
 * differentiating and running either succeeds or throws a LazygradError, never a TypeError/RangeError from inside
 * the engine. Smooth float64 graphs also agree with finite differences, and optimize levels 0 and 2 agree.
 */
import fc from 'fast-check';
import * as lg from '../../src';
import {
  checkGradients,
  DType,
  Graph,
  gradients,
  LazygradError,
  NDArray,
  RuntimeError,
  Session,
  Tensor,
} from '../../src';
import { randomArray, Rng } from '../ops/util';

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** Parameters drawn per op: small integers that each op maps to its own arguments (axes, shapes, flags). */
type Params = readonly number[];
type Builder = (a: Tensor, b: Tensor, p: Params) => Tensor;

/** An axis in [-rank-1, rank], so that out-of-range axes are exercised too. */
const axisOf = (t: Tensor, n: number): number => (n % (2 * t.shape.length + 3)) - t.shape.length - 1;
const axesOf = (t: Tensor, p: Params): number | number[] | undefined =>
  p[0] % 4 === 0 ? undefined : p[0] % 4 === 1 ? axisOf(t, p[1]) : [axisOf(t, p[1]), axisOf(t, p[2])];
const dims = (t: Tensor): number[] => t.shape.map((d) => d ?? 1);

const OPS: readonly (readonly [string, Builder])[] = [
  ['add', (a, b) => lg.add(a, b)],
  ['sub', (a, b) => lg.sub(a, b)],
  ['mul', (a, b) => lg.mul(a, b)],
  ['div', (a, b) => lg.div(a, b)],
  ['pow', (a, b) => lg.pow(a, b)],
  ['maximum', (a, b) => lg.maximum(a, b)],
  ['minimum', (a, b) => lg.minimum(a, b)],
  ['squaredDifference', (a, b) => lg.squaredDifference(a, b)],
  ['atan2', (a, b) => lg.atan2(a, b)],
  ['floorDiv', (a, b) => lg.floorDiv(a, b)],
  ['mod', (a, b) => lg.mod(a, b)],
  ['addN', (a, b) => lg.addN([a, b, a])],
  ['equal', (a, b) => lg.equal(a, b)],
  ['greater', (a, b) => lg.greater(a, b)],
  ['lessEqual', (a, b) => lg.lessEqual(a, b)],
  ['logicalAnd', (a, b) => lg.logicalAnd(a, b)],
  ['logicalNot', (a) => lg.logicalNot(a)],
  ['neg', (a) => lg.neg(a)],
  ['square', (a) => lg.square(a)],
  ['sqrt', (a) => lg.sqrt(a)],
  ['exp', (a) => lg.exp(a)],
  ['log', (a) => lg.log(a)],
  ['sin', (a) => lg.sin(a)],
  ['tanh', (a) => lg.tanh(a)],
  ['sigmoid', (a) => lg.sigmoid(a)],
  ['relu', (a) => lg.relu(a)],
  ['abs', (a) => lg.abs(a)],
  ['sign', (a) => lg.sign(a)],
  ['softplus', (a) => lg.softplus(a)],
  ['erf', (a) => lg.erf(a)],
  ['floor', (a) => lg.floor(a)],
  ['isNaN', (a) => lg.isNaN(a)],
  ['sum', (a, _b, p) => lg.sum(a, axesOf(a, p), p[3] % 2 === 0)],
  ['mean', (a, _b, p) => lg.mean(a, axesOf(a, p), p[3] % 2 === 0)],
  ['max', (a, _b, p) => lg.max(a, axesOf(a, p), p[3] % 2 === 0)],
  ['min', (a, _b, p) => lg.min(a, axesOf(a, p), p[3] % 2 === 0)],
  ['prod', (a, _b, p) => lg.prod(a, axesOf(a, p), p[3] % 2 === 0)],
  ['logSumExp', (a, _b, p) => lg.logSumExp(a, axesOf(a, p), p[3] % 2 === 0)],
  ['any', (a, _b, p) => lg.any(a, axesOf(a, p), p[3] % 2 === 0)],
  ['argMax', (a, _b, p) => lg.argMax(a, axisOf(a, p[1]))],
  ['reshape', (a, _b, p) => lg.reshape(a, p[0] % 3 === 0 ? [-1] : p[0] % 3 === 1 ? dims(a).reverse() : [p[1] % 4, -1])],
  [
    'transpose',
    (a, _b, p) => lg.transpose(a, p[0] % 2 === 0 ? undefined : dims(a).map((_, i, all) => (i + p[1]) % all.length)),
  ],
  ['transposeBad', (a, _b, p) => lg.transpose(a, [p[1] % 3, p[2] % 3])],
  ['concat', (a, b, p) => lg.concat([a, b], axisOf(a, p[1]))],
  ['concatSelf', (a, _b, p) => lg.concat([a, a], axisOf(a, p[1]))],
  ['stack', (a, b, p) => lg.stack([a, b], axisOf(a, p[1]))],
  [
    'slice',
    (a, _b, p) =>
      lg.slice(
        a,
        dims(a).map((d, i) => (p[i % 4] % (d + 2)) - (p[0] % 5 === 0 ? 1 : 0)),
        dims(a).map((_, i) => (p[(i + 1) % 4] % 4) - 1),
      ),
  ],
  ['gather', (a, _b, p) => lg.gather(a, a.graph.constant([p[1] % 3, p[2] % 2], 'int32'), axisOf(a, p[3]))],
  [
    'pad',
    (a, _b, p) =>
      lg.pad(
        a,
        dims(a).map((_, i) => [p[i % 4] % 3, p[(i + 2) % 4] % 2] as [number, number]),
        0.5,
      ),
  ],
  [
    'tile',
    (a, _b, p) =>
      lg.tile(
        a,
        dims(a).map((_, i) => p[i % 4] % 3),
      ),
  ],
  ['reverse', (a, _b, p) => lg.reverse(a, axisOf(a, p[1]))],
  ['expandDims', (a, _b, p) => lg.expandDims(a, axisOf(a, p[1]))],
  ['squeeze', (a, _b, p) => lg.squeeze(a, p[0] % 2 === 0 ? undefined : axisOf(a, p[1]))],
  ['cumsum', (a, _b, p) => lg.cumsum(a, axisOf(a, p[1]), p[2] % 2 === 0, p[3] % 2 === 0)],
  ['broadcastTo', (a, _b, p) => lg.broadcastTo(a, [p[1] % 3, ...dims(a)])],
  ['matMul', (a, b, p) => lg.matMul(a, b, p[1] % 2 === 0, p[2] % 2 === 0)],
  ['softmax', (a, _b, p) => lg.softmax(a, axisOf(a, p[1]))],
  ['logSoftmax', (a, _b, p) => lg.logSoftmax(a, axisOf(a, p[1]))],
  ['where', (a, b) => lg.where(lg.greater(a, 0), a, b)],
  ['whereRaw', (a, b) => lg.where(a, b, a)],
  ['cast', (a, _b, p) => lg.cast(a, DTYPES[p[1] % DTYPES.length])],
  ['oneHot', (a, _b, p) => lg.oneHot(a, p[1] % 4)],
  ['clipByValue', (a) => lg.clipByValue(a, -0.5, 0.5)],
];

interface Input {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Bit i set: dim i is declared unknown (null) and only fixed by the fed value at run time. */
  readonly unknown: number;
}

const arbInput: fc.Arbitrary<Input> = fc.record({
  shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  dtype: fc.constantFrom(...DTYPES),
  unknown: fc.nat(7),
});
const arbProgram = fc.array(
  fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.array(fc.nat(40), { minLength: 4, maxLength: 4 })),
  {
    minLength: 1,
    maxLength: 6,
  },
);

/** A failure that is not a LazygradError, with the program that produced it. */
function unexpected(stage: string, trace: readonly string[], error: unknown): Error {
  const e = error as Error;
  return new Error(`${stage} threw ${e?.name}: ${e?.message}\nprogram: ${trace.join('; ')}\n${e?.stack ?? ''}`);
}

/**
 * Messages of JavaScript's own errors. A RuntimeError wrapping one of them is a kernel crash the op's infer should
 * have prevented; a RuntimeError for bad data (a gather index out of range) is a documented outcome.
 */
const ENGINE_CRASH = new RegExp(
  ['Cannot read', 'Cannot set', 'is not a function', 'is not iterable', 'Invalid (typed )?array length'].join('|') +
    '|out of bounds|call stack|undefined|NaN is not',
);

/** Runs `f`, passing LazygradErrors through as null and turning any other error into a failure. */
function guarded<T>(stage: string, trace: readonly string[], f: () => T): T | null {
  try {
    return f();
  } catch (error) {
    if (error instanceof RuntimeError && ENGINE_CRASH.test(error.message)) throw unexpected(stage, trace, error);
    if (error instanceof LazygradError) return null;
    throw unexpected(stage, trace, error);
  }
}

function sameValues(a: NDArray, b: NDArray): boolean {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  for (let i = 0; i < a.size; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(x)))) return false;
  }
  return true;
}

/** Applies each step of `program` (an op of `ops` over two tensors of the pool) and pushes what builds. */
function buildProgram(
  ops: readonly (readonly [string, Builder])[],
  pool: Tensor[],
  program: readonly (readonly [number, number, number, Params])[],
  trace: string[],
): Tensor {
  for (const [op, i, j, p] of program) {
    const [name, build] = ops[op % ops.length];
    const a = pool[i % pool.length];
    const b = pool[j % pool.length];
    trace.push(`${name}(${a.name}, ${b.name}, [${p.join(',')}])`);
    const out = guarded('build', trace, () => build(a, b, p));
    if (out !== null) pool.push(out);
  }
  return pool[pool.length - 1];
}

/** Runs `fetches` at optimize levels 0 and 2 (JS backend) and throws if any value differs. */
function expectLevelsAgree(g: Graph, fetches: Tensor[], feeds: Map<Tensor, NDArray>, trace: readonly string[]): void {
  const plain = new Session(g, { optimize: false, backend: 'js' }).run(fetches, feeds);
  const optimized = new Session(g, { optimize: { level: 2 }, backend: 'js' }).run(fetches, feeds);
  plain.forEach((v, k) => {
    if (!sameValues(v, optimized[k])) throw new Error(`levels 0 and 2 disagree on fetch ${k}: ${trace.join('; ')}`);
  });
}

describe('random graphs', () => {
  test('building, differentiating and running either succeeds or throws a LazygradError', () => {
    fc.assert(
      fc.property(fc.array(arbInput, { minLength: 1, maxLength: 3 }), arbProgram, fc.nat(), (inputs, program, seed) => {
        const rng = new Rng(seed);
        const g = new Graph();
        const placeholders = inputs.map((inp, i) =>
          g.placeholder(
            `x${i}`,
            inp.shape.map((d, k) => ((inp.unknown >> k) & 1 ? null : d)),
            inp.dtype,
          ),
        );
        const pool: Tensor[] = [...placeholders];
        const trace = inputs.map(
          (inp, i) => `x${i}: ${inp.dtype}[${inp.shape.join(',')}] unknown dims mask ${inp.unknown}`,
        );
        const y = buildProgram(OPS, pool, program, trace);
        const feeds = new Map<Tensor, NDArray>(
          placeholders.map((x, i) => [x, randomArray(rng, inputs[i].shape, inputs[i].dtype)]),
        );
        const fetches: Tensor[] = [y];
        const xs = placeholders.filter((x) => x.dtype === 'float32' || x.dtype === 'float64');
        if ((y.dtype === 'float32' || y.dtype === 'float64') && xs.length > 0) {
          const grads = guarded('gradients', trace, () => gradients(lg.sum(y), xs, undefined, { unconnected: 'zero' }));
          if (grads !== null) fetches.push(...(grads as Tensor[]));
        }
        const plain = guarded('run (level 0)', trace, () =>
          new Session(g, { optimize: false, backend: 'js' }).run(fetches, feeds),
        );
        const optimized = guarded('run (level 2)', trace, () => new Session(g, { backend: 'js' }).run(fetches, feeds));
        if ((plain === null) !== (optimized === null)) throw new Error(`only one level failed: ${trace.join('; ')}`);
        if (plain !== null && optimized !== null) {
          plain.forEach((v, k) => {
            if (!sameValues(v, optimized[k]))
              throw new Error(`levels 0 and 2 disagree on fetch ${k}: ${trace.join('; ')}`);
          });
        }
      }),
      { numRuns: 400, seed: 9009 },
    );
  });
});

/** Smooth ops (no kinks, bounded domains), so finite differences are a valid reference everywhere. */
const SMOOTH: readonly (readonly [string, Builder])[] = [
  ['sin', (a) => lg.sin(a)],
  ['tanh', (a) => lg.tanh(a)],
  ['sigmoid', (a) => lg.sigmoid(a)],
  ['softplus', (a) => lg.softplus(a)],
  ['atan', (a) => lg.atan(a)],
  ['erf', (a) => lg.erf(a)],
  ['exp∘tanh', (a) => lg.exp(lg.tanh(a))],
  ['log1p∘square', (a) => lg.log1p(lg.square(a))],
  ['add', (a, b) => lg.add(a, b)],
  ['sub', (a, b) => lg.sub(a, b)],
  ['mul', (a, b) => lg.mul(a, b)],
  ['div', (a, b) => lg.div(a, lg.add(lg.square(b), 1))],
  ['squaredDifference', (a, b) => lg.squaredDifference(a, b)],
  ['addN', (a, b) => lg.addN([a, lg.sin(b)])],
  ['sum', (a, _b, p) => lg.sum(a, axesOf(a, p), p[3] % 2 === 0)],
  ['mean', (a, _b, p) => lg.mean(a, axesOf(a, p), p[3] % 2 === 0)],
  ['logSumExp', (a, _b, p) => lg.logSumExp(a, axesOf(a, p), p[3] % 2 === 0)],
  ['reshape', (a) => lg.reshape(a, [-1])],
  ['reshapeBack', (a) => lg.reshape(a, dims(a).reverse())],
  ['transpose', (a) => lg.transpose(a)],
  ['concat', (a, b, p) => lg.concat([a, b], axisOf(a, p[1]))],
  ['concatSelf', (a, _b, p) => lg.concat([a, lg.square(a)], axisOf(a, p[1]))],
  [
    'slice',
    (a, _b, p) =>
      lg.slice(
        a,
        dims(a).map((d, i) => p[i % 4] % (d + 1)),
        dims(a).map(() => -1),
      ),
  ],
  // Indices are data: on an empty axis no index is valid, so gather only from non-empty axes here.
  [
    'gather',
    (a, _b, p) => {
      const axis = p[1] % Math.max(1, a.shape.length);
      return a.shape.length > 0 && dims(a)[axis] > 0 ? lg.gather(a, a.graph.constant([0, 0], 'int32'), axis) : a;
    },
  ],
  [
    'pad',
    (a, _b, p) =>
      lg.pad(
        a,
        dims(a).map((_, i) => [p[i % 4] % 2, p[(i + 1) % 4] % 2] as [number, number]),
        0.3,
      ),
  ],
  [
    'tile',
    (a, _b, p) =>
      lg.tile(
        a,
        dims(a).map((_, i) => 1 + (p[i % 4] % 2)),
      ),
  ],
  ['reverse', (a, _b, p) => lg.reverse(a, axisOf(a, p[1]))],
  ['cumsum', (a, _b, p) => lg.cumsum(a, axisOf(a, p[1]), p[2] % 2 === 0, p[3] % 2 === 0)],
  ['matMul', (a, b, p) => lg.matMul(a, b, p[1] % 2 === 0, p[2] % 2 === 0)],
  ['softmax', (a, _b, p) => lg.softmax(a, axisOf(a, p[1]))],
  ['logSoftmax', (a) => lg.logSoftmax(a)],
  ['where', (a, b) => lg.where(lg.greater(b, 0), lg.sin(a), lg.cos(a))],
  ['cast', (a) => lg.cast(a, 'float64')],
];

/** x's shape and a shape that broadcasts with it (the same, a suffix, with 1s, or a scalar). */
const arbShapes: fc.Arbitrary<readonly [number[], number[]]> = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), fc.nat(3), fc.nat(7))
  .map(([shape, kind, mask]) => {
    if (kind === 0) return [shape, [...shape]] as const;
    if (kind === 1) return [shape, shape.slice(1)] as const;
    if (kind === 2) return [shape, shape.map((d, i) => ((mask >> i) & 1 ? 1 : d))] as const;
    return [shape, []] as const;
  });

/**
 * A smooth program over float64 placeholders x and w, reduced to y = sum(out · c) with fixed random weights c,
 * which keep gradients from cancelling in the sum.
 */
function smoothProgram(
  xShape: number[],
  wShape: number[],
  program: readonly (readonly [number, number, number, Params])[],
  rng: Rng,
): { g: Graph; x: Tensor; w: Tensor; y: Tensor; trace: string[] } {
  const g = new Graph();
  const x = g.placeholder('x', xShape, 'float64');
  const w = g.placeholder('w', wShape, 'float64');
  const trace = [`x: [${xShape.join(',')}]`, `w: [${wShape.join(',')}]`];
  const out = buildProgram(SMOOTH, [x, w], program, trace);
  return { g, x, w, y: lg.sum(lg.mul(out, g.constant(randomArray(rng, dims(out), 'float64')))), trace };
}

describe('random smooth float64 graphs', () => {
  test('gradients agree with finite differences, and optimize levels 0 and 2 agree on values and gradients', () => {
    fc.assert(
      fc.property(arbShapes, arbProgram, fc.nat(), ([xShape, wShape], program, seed) => {
        const rng = new Rng(seed);
        const { g, x, w, y, trace } = smoothProgram(xShape, wShape, program, rng);
        const feeds = new Map<Tensor, NDArray>([
          [x, randomArray(rng, xShape, 'float64')],
          [w, randomArray(rng, wShape, 'float64')],
        ]);
        // The mean of an empty tensor is NaN (0/0, as in TensorFlow): finite differences are undefined there.
        const finite = Number.isFinite(new Session(g, { backend: 'js' }).run(y, feeds).data[0]);
        const check = finite ? checkGradients(y, [x, w], feeds, { tolerance: 1e-5 }) : { ok: true, maxError: 0 };
        if (!check.ok) throw new Error(`gradient error ${check.maxError}: ${trace.join('; ')}`);
        const grads = gradients(y, [x, w], undefined, { unconnected: 'zero' }) as Tensor[];
        expectLevelsAgree(g, [y, ...grads], feeds, trace);
      }),
      { numRuns: 150, seed: 2611 },
    );
  });
});

describe('random smooth float64 graphs, second order', () => {
  test('the gradient of a weighted gradient agrees with finite differences at optimize levels 0 and 2', () => {
    fc.assert(
      fc.property(arbShapes, arbProgram, fc.nat(), ([xShape, wShape], program, seed) => {
        const rng = new Rng(seed);
        const { g, x, w, y, trace } = smoothProgram(xShape, wShape, program, rng);
        const [dx] = gradients(y, [x], undefined, { unconnected: 'zero' }) as Tensor[];
        const z = lg.sum(lg.mul(dx, g.constant(randomArray(rng, xShape, 'float64'))));
        const feeds = new Map<Tensor, NDArray>([
          [x, randomArray(rng, xShape, 'float64')],
          [w, randomArray(rng, wShape, 'float64')],
        ]);
        const finite = Number.isFinite(new Session(g, { backend: 'js' }).run(z, feeds).data[0]);
        const check = finite ? checkGradients(z, [x, w], feeds, { tolerance: 1e-4 }) : { ok: true, maxError: 0 };
        if (!check.ok) throw new Error(`second-order gradient error ${check.maxError}: ${trace.join('; ')}`);
        const grads = gradients(z, [x, w], undefined, { unconnected: 'zero' }) as Tensor[];
        expectLevelsAgree(g, [z, ...grads], feeds, trace);
      }),
      { numRuns: 100, seed: 4242 },
    );
  });
});
