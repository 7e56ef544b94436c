/**
 * Forward values of the elementwise ops where tfjs is the reference for a definition, not a sweep: int32 inputs
 * of ops that accept them, rounding of halves, the signs of mod and floorDiv, and NaN. The sweeps over shapes,
 * dtypes and broadcasting are rows of the op table (../cases/elementwise.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {
  abs,
  addN,
  cast,
  clipByValue,
  floorDiv,
  greaterEqual,
  isFinite,
  isNaN,
  less,
  lessEqual,
  maximum,
  minimum,
  mod,
  notEqual,
  relu6,
  round,
  sign,
  Tensor,
} from '../../../src';
import { checkForward, Operand, useTfjsCpu } from '../harness';

beforeAll(useTfjsCpu);

type Binary = (a: Tensor, b: Tensor) => Tensor;
type TfBinary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

describe('int32 inputs', () => {
  test('abs, sign, relu6, clipByValue, isNaN and isFinite accept int32 like tfjs', () => {
    checkForward(
      8,
      [{ shape: [6], dtype: 'int32', values: [-9, -3, 0, 2, 6, 11] }],
      (x) =>
        addN([abs(x), sign(x), relu6(x), clipByValue(x, -2, 5), cast(isNaN(x), 'int32'), cast(isFinite(x), 'int32')]),
      (x) =>
        tf.addN([
          tf.abs(x),
          tf.sign(x),
          tf.relu6(x),
          tf.clipByValue(x, -2, 5),
          tf.cast(tf.isNaN(x), 'int32'),
          tf.cast(tf.isFinite(x), 'int32'),
        ]),
    );
  });
});

describe('values where the definitions differ between libraries match tfjs', () => {
  test('round takes halves to the even neighbour', () => {
    const values = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, -2.5001];
    checkForward(9, [{ shape: [values.length], values }], round, tf.round);
  });

  test('mod takes the sign of the divisor, in every sign combination', () => {
    checkForward(
      10,
      [
        { shape: [8], values: [7.5, -7.5, 7.5, -7.5, 6, -6, 0, 2] },
        { shape: [8], values: [2, 2, -2, -2, 3, 3, -3, 2] },
      ],
      mod,
      tf.mod,
    );
  });

  test('floorDiv rounds toward minus infinity', () => {
    checkForward(
      11,
      [
        { shape: [6], dtype: 'int32', values: [7, -7, 7, -7, 6, -6] },
        { shape: [6], dtype: 'int32', values: [2, 2, -2, -2, 3, 3] },
      ],
      floorDiv,
      tf.floorDiv,
    );
  });

  test('maximum and minimum propagate NaN', () => {
    const a: Operand = { shape: [3], values: [NaN, 1, NaN] };
    const b: Operand = { shape: [3], values: [1, NaN, NaN] };
    checkForward(12, [a, b], maximum, tf.maximum);
    checkForward(12, [a, b], minimum, tf.minimum);
  });

  test('comparisons with NaN are false, except notEqual', () => {
    const a: Operand = { shape: [4], values: [NaN, NaN, 1, Infinity] };
    const b: Operand = { shape: [4], values: [NaN, 1, NaN, Infinity] };
    for (const [ours, theirs] of [
      [notEqual, tf.notEqual],
      [less, tf.less],
      [lessEqual, tf.lessEqual],
      [greaterEqual, tf.greaterEqual],
    ] as [Binary, TfBinary][]) {
      checkForward(18, [a, b], ours, theirs);
    }
  });
});
