/** tile, pad and reverse (and tile's gradient sumTiles): tensors repeated, framed and mirrored. */
import { DTypeError, ShapeError, Tensor } from '../graph';
import { zerosLike } from './elementwise';
import { argumentError, isIndex, linearTangent, normalizeAxis } from './indexing-common';
import { pad as padKernel, reverse as reverseKernel, sumTiles as sumTilesKernel, tile as tileKernel } from './kernels';
import { apply, defineOp, VjpResult } from './record';
import { SliceSpec, STRIDED_SLICE } from './slice';

function checkReps(reps: readonly number[], rank: number, least: number): void {
  if (reps.length !== rank || reps.some((r) => !Number.isInteger(r) || r < least)) {
    throw new ShapeError(`reps ${JSON.stringify(reps)} must hold one integer >= ${least} per dim (rank ${rank})`);
  }
}

/** tile(x) {reps}. */
export const TILE = defineOp({
  name: 'tile',
  arity: 1,
  attrs: { reps: 'ints' },
  infer([x], { reps }) {
    checkReps(reps, x.shape.length, 0);
    return { dtype: x.dtype, shape: x.shape.map((d, i) => (reps[i] === 0 ? 0 : d === null ? null : d * reps[i])) };
  },
  kernel: ([x], out, attrs) => tileKernel(x, attrs.reps, out),
  // Zero repetitions leave nothing to differentiate: the gradient is zero.
  vjp: ({ inputs: [x], dy, attrs }): VjpResult => [
    attrs.reps.includes(0) ? zerosLike(x) : apply(SUM_TILES, [dy], attrs),
  ],
  jvp: (args): Tensor | null => linearTangent(TILE, args),
});

/** sumTiles(dy) {reps}: the sum of the reps tiles of dy (the gradient of tile). */
export const SUM_TILES = defineOp({
  name: 'sumTiles',
  arity: 1,
  attrs: { reps: 'ints' },
  infer([dy], { reps }) {
    checkReps(reps, dy.shape.length, 1);
    const shape = dy.shape.map((d, i) => {
      if (d !== null && d % reps[i] !== 0) {
        throw new ShapeError(`dim ${i} of size ${d} does not hold a whole number of ${reps[i]} tiles`);
      }
      return d === null ? null : d / reps[i];
    });
    return { dtype: dy.dtype, shape };
  },
  kernel: ([dy], out, attrs) => sumTilesKernel(dy, attrs.reps, out),
  vjp: ({ dy, attrs }): VjpResult => [apply(TILE, [dy], attrs)],
  jvp: (args): Tensor | null => linearTangent(SUM_TILES, args),
});

/** pad(x) {paddings: [before, after] per dim, constantValue}. */
export const PAD = defineOp({
  name: 'pad',
  arity: 1,
  attrs: { paddings: 'pairs', constantValue: 'number' },
  infer([x], attrs) {
    const { paddings } = attrs;
    const rank = x.shape.length;
    if (rank === 0) throw new ShapeError('cannot pad a scalar; reshape it to [1] first');
    const valid =
      Array.isArray(paddings) &&
      paddings.length === rank &&
      paddings.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0));
    if (!valid) {
      throw new ShapeError(
        `paddings ${JSON.stringify(paddings)} must hold one [before, after] pair of non-negative integers per dim ` +
          `(rank ${rank})`,
      );
    }
    const value = attrs.constantValue;
    if (x.dtype === 'int32' && !Number.isInteger(value)) {
      throw new DTypeError(`constantValue ${value} is not an integer, but x is int32`);
    }
    return { dtype: x.dtype, shape: x.shape.map((d, i) => (d === null ? null : d + paddings[i][0] + paddings[i][1])) };
  },
  kernel: ([x], out, attrs) => padKernel(x, attrs.paddings, attrs.constantValue, out),
  vjp: ({ dy, attrs }): VjpResult => {
    const { paddings } = attrs;
    const spec: SliceSpec = {
      begin: paddings.map((p) => p[0]),
      end: paddings.map((p) => (p[1] === 0 ? null : -p[1])),
      strides: paddings.map(() => 1),
      shrinkAxes: [],
      newAxes: [],
    };
    return [apply(STRIDED_SLICE, [dy], spec)];
  },
  // The padding is constant, so its tangent is zero.
  jvp: (args): Tensor | null => linearTangent(PAD, args, { ...args.attrs, constantValue: 0 }),
});

/** reverse(x) {axes}: sorted, unique axes. */
export const REVERSE = defineOp({
  name: 'reverse',
  arity: 1,
  attrs: { axes: 'ints' },
  infer([x], { axes }) {
    const rank = x.shape.length;
    if (axes.some((a, i) => !isIndex(a, 0, rank) || (i > 0 && a <= axes[i - 1]))) {
      throw new ShapeError(`axes ${JSON.stringify(axes)} must be sorted, unique and within [0, ${rank})`);
    }
    return x;
  },
  kernel: ([x], out, attrs) => reverseKernel(x, attrs.axes, out),
  vjp: ({ dy, attrs }): VjpResult => [apply(REVERSE, [dy], attrs)],
  jvp: (args): Tensor | null => linearTangent(REVERSE, args),
});

/**
 * Repeats x reps[d] times along each dim d.
 * @example tile(x, [2, 1]) // [2, 3] -> [4, 3]
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  if (reps.length !== x.rank) {
    throw argumentError('tile', [x], `reps ${JSON.stringify(reps)} must have one entry per dim (rank ${x.rank})`);
  }
  return apply(TILE, [x], { reps: [...reps] });
}

/**
 * Pads x with `constantValue`: paddings[d] = [before, after] for each dim d.
 * @example pad(x, [[1, 1], [0, 2]])
 */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], constantValue = 0): Tensor {
  return apply(PAD, [x], {
    paddings: paddings.map(([before, after]): [number, number] => [before, after]),
    constantValue,
  });
}

/**
 * Reverses x along `axis` (a number or list, negative from the end; all axes by default).
 * @example reverse(x, 1)
 */
export function reverse(x: Tensor, axis?: number | readonly number[]): Tensor {
  const list = axis === undefined ? x.shape.map((_, i) => i) : typeof axis === 'number' ? [axis] : [...axis];
  const axes = [...new Set(list.map((a) => normalizeAxis('reverse', [x], a, x.rank)))].sort((a, b) => a - b);
  return apply(REVERSE, [x], { axes });
}
