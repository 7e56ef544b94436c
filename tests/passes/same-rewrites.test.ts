/**
 * The pipeline rewrites exactly as it did before the issue-20 compile-time work: for each graph of golden-graphs.ts,
 * at levels 1 and 2, the optimized graph's text and every pass report (without times) equal what that code produced
 * (stored in fixtures/optimized.json).
 *
 * Changed on purpose once since: broadcastLike(constant, like) folds in the first round (fold reads `like` for its
 * shape only) and `mul-one` sees through a broadcast of ones, so the gradients of a summed loss reach the fixed point
 * in one round; the stored graphs then differed only in one constant's name (`broadcastLike` for `broadcastLike_1`),
 * and the reports lost their second round.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Golden, GOLDEN_GRAPHS, optimizedGolden } from './golden-graphs';

const expected = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'optimized.json'), 'utf8')) as {
  [key: string]: Golden;
};

describe('the optimized graphs and pass reports are the stored ones', () => {
  test('every graph is stored at both levels', () => {
    const keys = Object.keys(GOLDEN_GRAPHS).flatMap((name) => [`${name} level 1`, `${name} level 2`]);
    expect(Object.keys(expected).sort()).toEqual(keys.sort());
  });
  for (const name of Object.keys(GOLDEN_GRAPHS)) {
    for (const level of [1, 2] as const) {
      test(`${name}, level ${level}`, () => {
        const actual = optimizedGolden(name, level);
        const stored = expected[`${name} level ${level}`];
        expect(actual.reports).toEqual(stored.reports);
        if (stored.text !== undefined) expect(actual.text).toBe(stored.text);
        expect(actual.lines).toBe(stored.lines);
        expect(actual.sha256).toBe(stored.sha256);
      });
    }
  }
});
