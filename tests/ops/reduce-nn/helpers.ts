/**
 * The reduction, linear-algebra and loss tests' view of the op harness (../harness): forward checks at both
 * optimize levels, and the harness's checks under the names these tests use.
 */
import * as tf from '@tensorflow/tfjs';
import { Graph, NDArray, Session, Tensor } from '../../../src';
import {
  Feed,
  Operand,
  checkFiniteDifferences,
  checkForward as checkForwardAt,
  checkSecondOrder as checkSecondOrderOf,
  feeds64,
  useTfjsCpu,
} from '../harness';
import { Rng } from '../util';

export { arrayOf, compareGradientsWithTf, expectGradientsMatch, expectSecondOrderMatches } from '../harness';
export type { Feed, Operand } from '../harness';

export function useTfCpu(): void {
  beforeAll(useTfjsCpu);
}

/** Runs `ys` in a fresh Session with the given feeds. */
export function run(ys: readonly Tensor[], feeds: readonly Feed[], optimize = true): NDArray[] {
  return new Session(ys[0].graph, { optimize }).run([...ys], new Map(feeds));
}

/** The harness's forward check, at optimize levels 2 and 0. */
export function checkForward(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor | Tensor[],
  ref: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  tol = 1e-5,
): void {
  checkForwardAt(seed, operands, build, ref, { tol, optimize: [true, false] });
}

/** float64 placeholders with given (or random) values, for the finite-difference checks. */
export function placeholders(g: Graph, rng: Rng, operands: readonly Operand[]): { xs: Tensor[]; feeds: Feed[] } {
  const feeds = feeds64(g, rng, operands);
  return { xs: feeds.map(([x]) => x), feeds };
}

/** Gradient of Σ y·w (random w) vs finite differences, for y = build(xs) over float64 placeholders. */
export function checkFirstOrder(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  tolerance = 1e-6,
): void {
  checkFiniteDifferences(seed, operands, build, tolerance);
}

/** Second derivative of Σ y·w (random w) vs finite differences of the gradient, over float64 placeholders. */
export function checkSecondOrder(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  tolerance = 1e-6,
): void {
  checkSecondOrderOf(seed, operands, build, true, tolerance);
}
