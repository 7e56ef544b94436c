/**
 * Issue 15, item 7: int32 values outside -2^31..2^31-1, non-integers, NaN and ±Inf are refused wherever JS numbers
 * become int32 (NDArray.from, constants, variables, feeds, fill), naming the value, its index and the valid range;
 * bool values other than 0/1 are normalised to 1 (as tfjs does for truthy values).
 */
import { cast, DTypeError, evaluateConstant, fill, Graph, logicalAnd, NDArray, range, Session } from '../../src';

const INT32_RANGE = '-2147483648 to 2147483647';

describe('int32 conversion refuses values it cannot hold', () => {
  test('NDArray.from([3e9], int32) is a DTypeError naming the value, index and range', () => {
    expect(() => NDArray.from([1, 3e9], 'int32')).toThrow(DTypeError);
    expect(() => NDArray.from([1, 3e9], 'int32')).toThrow(/3000000000 at index 1.*-2147483648 to 2147483647/);
  });

  test('NDArray.from of a non-integer, NaN or Infinity to int32 is a DTypeError', () => {
    expect(() => NDArray.from([[0, 1.7]], 'int32')).toThrow(/1\.7 at index 1 is not an integer/);
    expect(() => NDArray.from([NaN], 'int32')).toThrow(/NaN at index 0/);
    expect(() => NDArray.from(new Float64Array([-Infinity]), 'int32')).toThrow(/-Infinity at index 0/);
  });

  test('the bounds themselves convert exactly', () => {
    const a = NDArray.from([-(2 ** 31), 2 ** 31 - 1, -0], 'int32');
    expect(Array.from(a.data)).toEqual([-(2 ** 31), 2 ** 31 - 1, 0]);
    expect(() => NDArray.from([-(2 ** 31) - 1], 'int32')).toThrow(INT32_RANGE);
  });

  test('an Int32Array is taken as it is (already in range)', () => {
    expect(Array.from(NDArray.from(new Int32Array([2 ** 31 - 1]), 'int32').data)).toEqual([2 ** 31 - 1]);
  });

  test('g.constant([2**31], int32) is a DTypeError naming the constant', () => {
    const g = new Graph();
    expect(() => g.constant([2 ** 31], 'int32', 'big')).toThrow(DTypeError);
    expect(() => g.constant([2 ** 31], 'int32', 'big')).toThrow(/constant 'big'.*2147483648 at index 0/);
  });

  test('an int32 variable from an out-of-range number is refused', () => {
    const g = new Graph();
    expect(() => g.variable('v', [2 ** 33], 'int32')).toThrow(DTypeError);
  });

  test('an int32 feed of [1.7, 2**33] is a DTypeError, not truncated or wrapped', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'int32');
    const sess = new Session(g);
    expect(() => sess.run(cast(x, 'float32'), { x: [1.7, 2] })).toThrow(DTypeError);
    expect(() => sess.run(cast(x, 'float32'), { x: [1, 2 ** 33] })).toThrow(/'x'.*8589934592 at index 1/);
    expect(() => sess.run(cast(x, 'float32'), { x: new Float64Array([1, 2 ** 33]) })).toThrow(DTypeError);
    expect(Array.from(sess.run(cast(x, 'float32'), { x: [7, -3] }).data)).toEqual([7, -3]);
  });

  test('fill or range with an out-of-range int32 value is refused', () => {
    const g = new Graph();
    expect(() => fill([2], 2 ** 31, 'int32', g)).toThrow(DTypeError);
    expect(() => range(2 ** 31 - 2, 2 ** 31 + 1, 1, 'int32', g)).toThrow(/2147483646 to 2147483648.*int32's range/);
    expect(Array.from(evaluateConstant(range(2 ** 31 - 2, 2 ** 31 - 1, 1, 'int32', g)).data)).toEqual([2 ** 31 - 2]);
  });

  test('astype(int32) truncates fractions (a cast) but refuses values out of range', () => {
    expect(Array.from(NDArray.from([1.7, -2.5]).astype('int32').data)).toEqual([1, -2]);
    expect(() => NDArray.from([3e9], 'float64').astype('int32')).toThrow(/3000000000 at index 0.*out of range/);
  });
});

describe('bool values are normalised to 0/1', () => {
  test('a Uint8Array([7, 1]) bool feed is read as [true, true]', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'bool');
    const y = g.placeholder('y', [2], 'bool');
    const sess = new Session(g);
    const out = sess.run(cast(x, 'float32'), { x: new Uint8Array([7, 1]) });
    expect(Array.from(out.data)).toEqual([1, 1]);
    const both = sess.run(cast(logicalAnd(x, y), 'float32'), { x: new Uint8Array([2, 0]), y: new Uint8Array([1, 1]) });
    expect(Array.from(both.data)).toEqual([1, 0]);
  });

  test('a bool NDArray holding 7 is normalised when fed or made a constant, and the caller keeps its data', () => {
    const raw = new Uint8Array([7, 0]);
    const value = new NDArray(raw, [2], 'bool');
    const g = new Graph();
    const x = g.placeholder('x', [2], 'bool');
    const c = g.constant(value);
    const sess = new Session(g);
    expect(Array.from(sess.run(cast(x, 'int32'), { x: value }).data)).toEqual([1, 0]);
    expect(Array.from(sess.run(cast(c, 'int32')).data)).toEqual([1, 0]);
    expect(Array.from(raw)).toEqual([7, 0]);
  });
});
