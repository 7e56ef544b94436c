/**
 * Seeded random numbers outside a graph, for variable initializers (src/train): the same streams and distributions
 * as the random ops, so the numbers are those a random op with the same seed draws in its first run.
 */
import { NDArray } from '../graph';
import { fillNormal, fillUniform, RandomStream } from './kernels';
import type { Seed } from './random';

/**
 * Fills `out` uniformly from [minval, maxval) with the stream of `seed` (floats on the dtype's grid, int32 as
 * integers), as randomUniform's first run with that seed does.
 *
 * @example fillRandomUniform(NDArray.zeros([3]), 'w', -0.05, 0.05)
 */
export function fillRandomUniform(out: NDArray, seed: Seed, minval: number, maxval: number): void {
  fillUniform(new RandomStream(seed, false, 0), out, minval, maxval);
}

/**
 * Fills float `out` with mean + stddev · z, z standard normal from the stream of `seed`; `truncated`: |z| < 2
 * (TensorFlow's truncated normal), as randomNormal / truncatedNormal's first run with that seed does.
 *
 * @example fillRandomNormal(NDArray.zeros([3]), 7, 0, 1, false)
 */
export function fillRandomNormal(out: NDArray, seed: Seed, mean: number, stddev: number, truncated: boolean): void {
  fillNormal(new RandomStream(seed, false, 0), out, mean, stddev, truncated);
}
