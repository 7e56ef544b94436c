/**
 * What is not a number comparison with tfjs: gradients through bool and piecewise-constant ops (null or zeros, as
 * documented in unary.ts / compare.ts), the records' scalar functions agreeing with their kernels (fusion and
 * constant folding rely on it), erf to double precision, unknown dims, and the errors misuse gets.
 */
import {
  ADD_N,
  ATAN2,
  COMPARE_OPS,
  DTypeError,
  FLOOR_DIV,
  Graph,
  GraphError,
  MAXIMUM,
  MINIMUM,
  MOD,
  NDArray,
  OpRecord,
  Session,
  ShapeError,
  SQUARED_DIFFERENCE,
  Tensor,
  UNARY_OPS,
  abs,
  add,
  addN,
  atan,
  atan2,
  cast,
  ceil,
  clipByValue,
  erf,
  floor,
  floorDiv,
  gradients,
  greaterEqual,
  isFinite,
  isNaN,
  leakyRelu,
  less,
  lessEqual,
  logicalAnd,
  logicalNot,
  logSigmoid,
  logicalOr,
  maximum,
  mul,
  notEqual,
  prelu,
  round,
  rsqrt,
  selu,
  sign,
  softplus,
  sum,
  where,
} from '../../../src';
import { fusedKernel } from '../../../src/ops/kernels';
import type { Buf } from '../../../src/ops/kernels/types';
import { expectClose } from '../util';
import { runOn } from '../harness';

describe('gradients through bool-valued ops', () => {
  const masks: [string, (x: Tensor) => Tensor][] = [
    ['notEqual', (x) => notEqual(x, 0.5)],
    ['less', (x) => less(x, 0.5)],
    ['lessEqual', (x) => lessEqual(x, 0.5)],
    ['greaterEqual', (x) => greaterEqual(x, 0.5)],
    ['logicalAnd', (x) => logicalAnd(less(x, 1), greaterEqual(x, 0))],
    ['logicalOr', (x) => logicalOr(less(x, 0), greaterEqual(x, 1))],
    ['logicalNot', (x) => logicalNot(less(x, 0))],
    ['isNaN', (x) => isNaN(x)],
    ['isFinite', (x) => isFinite(x)],
  ];

  test.each(masks)('%s passes no gradient: null by default, zeros when asked', (_name, mask) => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const y = sum(cast(mask(x), 'float64'));
    expect(gradients(y, [x])).toEqual([null]);
    const [zeros] = gradients(y, [x], undefined, { unconnected: 'zero' });
    const value = new Session(g).run(zeros as Tensor, new Map([[x, NDArray.from([0.2, 0.7, -1], 'float64')]]));
    expect(Array.from(value.data)).toEqual([0, 0, 0]);
  });

  test('a mask used in where routes the gradient to the chosen branch only', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4], 'float64');
    const y = sum(where(greaterEqual(x, 0), mul(x, 3), mul(x, -2)));
    const [dx] = gradients(y, [x]);
    const value = new Session(g).run(dx as Tensor, new Map([[x, NDArray.from([-1, 0, 2, -3], 'float64')]]));
    expect(Array.from(value.data)).toEqual([-2, 3, 3, -2]);
  });

  test('the bool-valued records have no gradient rule', () => {
    const records: OpRecord[] = [...COMPARE_OPS, ...UNARY_OPS.filter((r) => ['isNaN', 'isFinite'].includes(r.name))];
    expect(records.filter((r) => r.vjp !== undefined).map((r) => r.name)).toEqual([]);
    expect(records).toHaveLength(9);
  });

  test('floorDiv passes no gradient (as TensorFlow; tfjs would return the gradient of a / b)', () => {
    const g = new Graph();
    const a = g.placeholder('a', [2], 'float64');
    const b = g.placeholder('b', [2], 'float64');
    expect(gradients(sum(floorDiv(a, b)), [a, b])).toEqual([null, null]);
    expect(FLOOR_DIV.vjp).toBeUndefined();
  });

  test.each([
    ['floor', floor],
    ['ceil', ceil],
    ['round', round],
    ['sign', sign],
  ] as [string, (x: Tensor) => Tensor][])('%s has a defined zero gradient, not null', (_name, op) => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const [dx] = gradients(sum(mul(op(x), 5)), [x]);
    expect(dx).not.toBeNull();
    const value = new Session(g).run(dx as Tensor, new Map([[x, NDArray.from([-1.5, 0.2, 2.7], 'float64')]]));
    expect(Array.from(value.data)).toEqual([0, 0, 0]);
  });

  test('abs has gradient 0 at 0 (sign(0), as TensorFlow; tfjs gives -1)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const [dx] = gradients(sum(abs(x)), [x]);
    const value = new Session(g).run(dx as Tensor, new Map([[x, NDArray.from([-2, 0, 3], 'float64')]]));
    expect(Array.from(value.data)).toEqual([-1, 0, 1]);
  });

  test('gradients() of a bool tensor is a DTypeError', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    expect(() => gradients(less(x, 0), [x])).toThrow(DTypeError);
  });
});

describe("every record's kernel and fusion template compute its scalar function", () => {
  const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.9, -0.3, 3, -7, 1e-9, 6, 7.25];
  const records: OpRecord[] = [
    ...UNARY_OPS,
    ...COMPARE_OPS,
    MAXIMUM,
    MINIMUM,
    SQUARED_DIFFERENCE,
    FLOOR_DIV,
    MOD,
    ATAN2,
    ADD_N,
  ];
  const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

  /** Operand columns: every combination for one and two operands; for three, x over all values and two scalars. */
  function columnsFor(record: OpRecord): number[][] {
    const values = record.name.startsWith('logical') ? [0, 1] : SPECIAL;
    const arity = record.arity === 'variadic' ? 3 : record.arity;
    if (arity === 1) return [values];
    if (arity === 2) return [values.flatMap((a) => values.map(() => a)), values.flatMap(() => values)];
    return [values, values.map(() => -0.5), values.map(() => 2)];
  }

  function expectScalarEverywhere(record: OpRecord, kernel: (inputs: Buf[], out: Buf) => void, what: string): void {
    const columns = columnsFor(record);
    const n = columns[0].length;
    const boolOut = COMPARE_OPS.includes(record) || ['isNaN', 'isFinite'].includes(record.name);
    const out = { data: boolOut ? new Uint8Array(n) : new Float64Array(n), shape: [n] };
    kernel(
      columns.map((c) => ({ data: Float64Array.from(c), shape: [n] })),
      out,
    );
    const scalar = record.scalar as NonNullable<OpRecord['scalar']>;
    for (let i = 0; i < n; i++) {
      const expected = scalar(...columns.map((c) => c[i]));
      const stored = boolOut ? Uint8Array.of(expected)[0] : expected;
      if (!same(out.data[i], stored)) {
        throw new Error(`${what} at (${columns.map((c) => c[i]).join(', ')}): ${out.data[i]}, scalar ${expected}`);
      }
    }
  }

  test.each(records.map((r) => [r.name, r] as [string, OpRecord]))('%s: kernel', (_name, record) => {
    expectScalarEverywhere(
      record,
      (inputs, out) => (record.kernel as NonNullable<OpRecord['kernel']>)(inputs, out, {}),
      'kernel',
    );
  });

  const templated = records.filter((r) => r.template !== undefined);
  test.each(templated.map((r) => [r.name, r] as [string, OpRecord]))('%s: template', (_name, record) => {
    const arity = columnsFor(record).length;
    const args = Array.from({ length: arity }, (_, k) => ({ input: k }));
    expectScalarEverywhere(record, fusedKernel([{ template: record.template as string, args }]), 'template');
  });

  test('only erf and addN have no template', () => {
    expect(records.filter((r) => r.template === undefined).map((r) => r.name)).toEqual(['erf', 'addN']);
  });

  test('a chain of these ops is fused into one node and computes the same values', () => {
    const g = new Graph();
    const x = g.placeholder('x', [5], 'float64');
    const y = round(mul(selu(clipByValue(atan(abs(x)), 0.2, 1.2)), 3));
    const feeds = new Map([[x, NDArray.from([-2, -0.3, 0, 0.7, 4], 'float64')]]);
    const session = new Session(g);
    expect(session.explain(y, feeds)).toMatch(/fused/);
    expect(Array.from(session.run(y, feeds).data)).toEqual(
      Array.from(new Session(g, { optimize: false }).run(y, feeds).data),
    );
  });
});

describe('erf in float64', () => {
  test('matches 40-digit reference values to about an ulp', () => {
    // mpmath.erf at 40 digits, rounded to double.
    const reference: [number, number][] = [
      [-5.9, -0.9999999999999999],
      [-3.3, -0.9999969422902035],
      [-1.0, -0.8427007929497149],
      [-0.6, -0.6038560908479259],
      [-1e-12, -1.1283791670955126e-12],
      [0.001, 0.0011283787909692365],
      [0.25, 0.27632639016823696],
      [0.999, 0.8422852702064969],
      [1.0, 0.8427007929497149],
      [1.2345, 0.9191623964135659],
      [2.0, 0.9953222650189527],
      [2.75, 0.9998993780778803],
      [3.9, 0.9999999652077514],
      [4.5, 0.9999999998033839],
      [5.25, 0.9999999999998869],
      [5.99, 1.0],
      [6.5, 1.0],
    ];
    const x = NDArray.from(
      reference.map(([v]) => v),
      'float64',
    );
    const got = runOn([x], erf);
    for (let i = 0; i < reference.length; i++) {
      const expected = reference[i][1];
      expect(Math.abs(got.data[i] - expected)).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(expected));
    }
  });

  test('is odd, ±1 at ±infinity and NaN at NaN', () => {
    const got = runOn([NDArray.from([0.3, -0.3, 2.2, -2.2, Infinity, -Infinity, NaN], 'float64')], erf);
    expect(got.data[1]).toBe(-got.data[0]);
    expect(got.data[3]).toBe(-got.data[2]);
    expect(Array.from(got.data.slice(4))).toEqual([1, -1, NaN]);
  });
});

describe('other values fixed by definition', () => {
  test('sign keeps NaN (as TensorFlow and NumPy; tfjs maps it to 0)', () => {
    const got = runOn([NDArray.from([NaN, -3, 0, 4], 'float64')], sign);
    expect(Array.from(got.data)).toEqual([NaN, -1, 0, 1]);
  });

  test('softplus and logSigmoid neither overflow nor take log(0) in float64', () => {
    const x = NDArray.from([-800, -40, 40, 800], 'float64');
    expect(Array.from(runOn([x], softplus).data)).toEqual([0, Math.exp(-40), 40 + Math.log1p(Math.exp(-40)), 800]);
    expect(Array.from(runOn([x], logSigmoid).data)).toEqual([
      -800,
      -40 - Math.log1p(Math.exp(-40)),
      -Math.exp(-40),
      -0,
    ]);
  });

  test('leakyRelu is a prelu node named leakyRelu', () => {
    const g = new Graph();
    const y = leakyRelu(g.placeholder('x', [2], 'float32'), 0.1);
    expect(y.node.op).toBe('prelu');
    expect(y.name).toBe('leakyRelu');
  });
});

describe('unknown dims', () => {
  test('addN merges known dims across its inputs', () => {
    const g = new Graph();
    const a = g.placeholder('a', [null, 3]);
    const b = g.placeholder('b', [2, null]);
    expect(addN([a, b]).shape).toEqual([2, 3]);
  });

  test('addN with mismatched fed shapes fails at run time', () => {
    const g = new Graph();
    const a = g.placeholder('a', [null], 'float64');
    const b = g.placeholder('b', [null], 'float64');
    const feeds = new Map([
      [a, NDArray.from([1, 2], 'float64')],
      [b, NDArray.from([1, 2, 3], 'float64')],
    ]);
    expect(() => new Session(g).run(addN([a, b]), feeds)).toThrow(/addN/);
  });

  test('comparisons and logic broadcast unknown dims', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    expect(logicalAnd(less(x, 0), greaterEqual(x, g.placeholder('y', [3]))).shape).toEqual([null, 3]);
  });
});

describe('errors', () => {
  const g = new Graph();
  const f = g.placeholder('f', [2, 3]);
  const f3 = g.placeholder('f3', [3]);
  const f4 = g.placeholder('f4', [4]);
  const i = g.placeholder('i', [2, 3], 'int32');
  const b = g.placeholder('b', [2, 3], 'bool');
  const b4 = g.placeholder('b4', [4], 'bool');

  test.each([
    ['logicalAnd on floats', () => logicalAnd(f, f)],
    ['logicalOr on bool and int32', () => logicalOr(b, i)],
    ['logicalNot on a float', () => logicalNot(f)],
  ])('%s is a DTypeError that asks for bool inputs', (_name, build) => {
    expect(build).toThrow(DTypeError);
    expect(build).toThrow(/expects bool inputs/);
  });

  test.each([
    ['less of float32 and int32', () => less(f, i)],
    ['maximum of bools', () => maximum(b, b)],
    ['atan2 of int32', () => atan2(i, i)],
    ['erf of int32', () => erf(i)],
    ['floor of int32', () => floor(i)],
    ['rsqrt of int32', () => rsqrt(i)],
    ['prelu of int32', () => prelu(i, i)],
    ['abs of bool', () => abs(b)],
    ['sign of bool', () => sign(b)],
    ['isNaN of bool', () => isNaN(b)],
    ['addN of float32 and int32', () => addN([f, i])],
    ['addN of bools', () => addN([b, b])],
    ['clipByValue of int32 with a fractional bound', () => clipByValue(i, 0.5, 2)],
  ])('%s is a DTypeError', (_name, build) => {
    expect(build).toThrow(DTypeError);
  });

  test.each([
    ['maximum of [2, 3] and [4]', () => maximum(f, f4)],
    ['notEqual of [2, 3] and [4]', () => notEqual(f, f4)],
    ['logicalAnd of [2, 3] and [4]', () => logicalAnd(b, b4)],
    ['prelu of [2, 3] and [4]', () => prelu(f, f4)],
    ['addN of [2, 3] and [3] (no broadcasting)', () => addN([f, f3])],
  ])('%s is a ShapeError', (_name, build) => {
    expect(build).toThrow(ShapeError);
  });

  test('the message names the op, the node and the input shapes', () => {
    expect(() => addN([f, f3])).toThrow(/^addN 'addN' \(inputs: 'f' float32\[2, ?3\], 'f3' float32\[3\]\)/);
    expect(() => logicalAnd(f, f)).toThrow(/^logicalAnd 'logicalAnd' \(inputs: 'f' float32/);
  });

  test('addN of no tensors is a GraphError', () => {
    expect(() => addN([])).toThrow(GraphError);
  });

  test.each([
    [2, 1],
    [NaN, 1],
  ])('clipByValue(x, %p, %p) is a GraphError', (lo, hi) => {
    expect(() => clipByValue(f, lo, hi)).toThrow(GraphError);
    expect(() => clipByValue(f, lo, hi)).toThrow(/clipValueMin .* must be <= clipValueMax/);
  });

  test('a JS number broadcasts as a scalar of the tensor dtype', () => {
    expect(maximum(i, 0).dtype).toBe('int32');
    expect(add(floorDiv(f, 2), 1).dtype).toBe('float32');
  });
});

test('addN sums in float64 exactly like repeated add', () => {
  const x = NDArray.from([0.1, 0.2, 0.3], 'float64');
  const y = NDArray.from([1e-17, 3, -0.3], 'float64');
  const z = NDArray.from([5, 7, 11], 'float64');
  const viaAddN = runOn([x, y, z], (a, c, d) => addN([a, c, d]));
  const viaAdd = runOn([x, y, z], (a, c, d) => add(add(a, c), d));
  expectClose(viaAddN, viaAdd, 0);
});
