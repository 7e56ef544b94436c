import {
  addN,
  allOps,
  cse,
  erf,
  exp,
  Graph,
  mul,
  NDArray,
  OpRecord,
  opRecord,
  optimize,
  Session,
  sin,
  sub,
  Tensor,
  TensorLike,
} from '../../src';
import { apply } from '../../src/ops/record';

/**
 * Facts that passes and the planner read from op records instead of keeping lists of op names: `commutative`
 * (CSE) and `inPlace` (the memory planner).
 */

const namesWith = (fact: (r: OpRecord) => boolean): string[] =>
  allOps()
    .filter(fact)
    .map((r) => r.name)
    .sort();

describe('inPlace', () => {
  test('exactly the ops that ran in place before it was a record field (then: "has a template", and fused)', () => {
    // Pinned from the old rule `op === 'fused' || record.template !== undefined` when the field was introduced: a
    // change to this list is a change of the memory plans, to be made on purpose.
    expect(namesWith((r) => r.inPlace === true)).toEqual([
      'abs', 'acos', 'acosh', 'add', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'ceil', 'clipByValue', 'cos',
      'cosh', 'div', 'elu', 'equal', 'exp', 'expm1', 'floor', 'floorDiv', 'fused', 'greater', 'greaterEqual',
      'hardSigmoid', 'hardSwish',
      'identity', 'isFinite', 'isNaN', 'less', 'lessEqual', 'log', 'log1p', 'logSigmoid', 'logicalAnd',
      'logicalNot', 'logicalOr', 'maximum', 'minimum', 'mod', 'mul', 'neg', 'notEqual', 'pow', 'prelu',
      'reciprocal', 'recompute', 'relu', 'relu6', 'reluGrad', 'round', 'rsqrt', 'selu', 'sigmoid',
      'sigmoidCrossEntropyWithLogits', 'sign', 'sin', 'sinh', 'softplus', 'sqrt', 'square', 'squaredDifference',
      'step', 'stopGradient', 'sub', 'tan', 'tanh', 'where',
    ]); // prettier-ignore
  });

  test('the planner reads the field: an exp chain runs in place, an erf chain (inPlace false) does not', () => {
    const inPlaceSteps = (f: (x: Tensor) => Tensor): number => {
      const g = new Graph();
      const x = g.placeholder('x', [4], 'float64');
      const y = f(f(f(x)));
      const sess = new Session(g, { backend: 'js', optimize: { disable: ['fuse'] } });
      const memory = /\((\d+) steps in place\)/.exec(sess.explain(y, { x: [0.1, 0.2, 0.3, 0.4] }));
      return Number(memory?.[1]);
    };
    expect(inPlaceSteps(exp)).toBe(1); // the middle exp overwrites the first one's dying output
    expect(opRecord('erf').inPlace).toBe(false);
    expect(inPlaceSteps(erf)).toBe(0);
  });
});

describe('commutative', () => {
  const COMMUTATIVE = [
    'add', 'equal', 'logicalAnd', 'logicalOr', 'maximum', 'minimum', 'mul', 'notEqual', 'squaredDifference',
  ]; // prettier-ignore

  test('exactly the ops of the list CSE kept before it was a record field, but addN (below)', () => {
    expect(namesWith((r) => r.commutative === true)).toEqual(COMMUTATIVE);
  });

  // Every pair of these, both ways: special values first (NaN, ±Inf, ±0), then ordinary and extreme ones.
  const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -2.5, 3e38, -3e38, 1e-45, 7];

  function swappedPairs(dtype: 'float32' | 'bool'): { a: NDArray; b: NDArray } {
    const values = dtype === 'bool' ? [0, 1] : SPECIAL;
    const a: number[] = [];
    const b: number[] = [];
    // Repeated past the wasm kernels' size threshold, so the wasm backend runs its own kernels too.
    while (a.length < 20000) {
      for (const p of values) {
        for (const q of values) {
          a.push(p);
          b.push(q);
        }
      }
    }
    return { a: NDArray.from(a, dtype), b: NDArray.from(b, dtype) };
  }

  test.each(COMMUTATIVE)(
    '%s gives the same value with its inputs swapped, for every pair of special values, on both backends',
    (name) => {
      const dtype = name.startsWith('logical') ? 'bool' : 'float32';
      const { a, b } = swappedPairs(dtype);
      const g = new Graph();
      const pa = g.placeholder('a', [a.size], dtype);
      const pb = g.placeholder('b', [a.size], dtype);
      const record = opRecord(name);
      const forward = apply(record, [pa, pb]);
      const swapped = apply(record, [pb, pa]);
      for (const backend of ['js', 'wasm'] as const) {
        const sess = new Session(g, { backend, optimize: false });
        expect(sess.backend).toBe(backend);
        const [y1, y2] = sess.run([forward, swapped], { a, b });
        for (let i = 0; i < y1.size; i++) {
          // Object.is: NaN equals NaN (payload bits aside), −0 differs from +0.
          if (!Object.is(y1.data[i], y2.data[i])) {
            throw new Error(`${name}(${a.data[i]}, ${b.data[i]}) on ${backend}: ${y1.data[i]} vs ${y2.data[i]}`);
          }
        }
      }
    },
  );

  test('CSE merges a commuted node of every commutative binary op, and not of sub', () => {
    const merged = (build: (a: TensorLike, b: TensorLike) => Tensor, dtype: 'float32' | 'bool'): number => {
      const g = new Graph();
      const a = g.placeholder('a', [3], dtype);
      const b = g.placeholder('b', [3], dtype);
      const { report } = optimize(g, [build(a, b), build(b, a)], { level: 1, verify: true });
      return report.find((r) => r.pass === 'cse')?.changes.merged ?? -1;
    };
    for (const name of COMMUTATIVE) {
      const dtype = name.startsWith('logical') ? 'bool' : 'float32';
      expect([name, merged((a, b) => apply(opRecord(name), [a, b]), dtype)]).toEqual([name, 1]);
    }
    expect(merged(sub, 'float32')).toBe(0);
  });

  test('addN is not commutative: its order of summation is its rounding, which CSE must keep', () => {
    const g = new Graph();
    const [a, b, c] = ['a', 'b', 'c'].map((name) => g.placeholder(name, [1], 'float64'));
    const total = addN([c, a, b]); // (c + a) + b
    // A commuted pair elsewhere in the slice, so CSE's rebuilt slice (with any reorderings) is the one kept.
    const product = sub(mul(a, b), mul(b, a));
    const feeds = { a: [1e16], b: [1], c: [-1e16] };
    const [optimized] = new Session(g, { optimize: { level: 1, verify: true } }).run([total, product], feeds);
    const [written] = new Session(g, { optimize: false }).run([total, product], feeds);
    expect(written.toArray()).toEqual([1]); // (a + b) + c would be 0: 1e16 + 1 rounds to 1e16
    expect(optimized.toArray()).toEqual([1]);
  });

  test('the cse pass itself reorders by the field (a slice with a commuted pair loses one node)', () => {
    const g = new Graph();
    const a = g.placeholder('a', [2]);
    const b = g.placeholder('b', [2]);
    const y = sub(sin(apply(opRecord('mul'), [a, b])), sin(apply(opRecord('mul'), [b, a])));
    const result = cse.run({ graph: g, outputs: [y.id], bindings: new Map() });
    expect(result.changes.merged).toBe(2); // the second mul, then the second sin over it
  });
});
