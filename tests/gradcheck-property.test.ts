import fc from 'fast-check';
import * as lg from '../src';
import { checkGradients, Graph, NDArray, Tensor } from '../src';

/**
 * Random compositions of 3–12 ops over random shapes, differentiated and checked against central finite
 * differences in float64. Ops are applied where their domain is safe (logs of positive values, no kinks).
 */
type Op = (a: Tensor, b: Tensor) => Tensor;

const smooth: Op[] = [
  (a) => lg.sin(a),
  (a) => lg.tanh(a),
  (a) => lg.sigmoid(a),
  (a) => lg.exp(lg.tanh(a)),
  (a) => lg.log1p(lg.square(a)),
  (a) => lg.softplus(a),
  (a) => lg.atan(a),
  (a) => lg.sqrt(lg.add(lg.square(a), 1)),
  (a) => lg.mul(a, lg.cos(a)),
  (a) => lg.erf(a),
  (a, b) => lg.add(a, b),
  (a, b) => lg.sub(a, b),
  (a, b) => lg.mul(a, b),
  (a, b) => lg.div(a, lg.add(lg.square(b), 1)),
  (a, b) => lg.squaredDifference(a, b),
  (a, b) => lg.atan2(a, lg.add(lg.abs(b), 1)),
  (a) => lg.softmax(a),
  (a) => lg.logSoftmax(a),
  (a) => lg.logSumExp(a, -1, true),
  (a) => lg.sum(a, 0, true),
  (a) => lg.mean(a, -1, true),
  (a) => lg.cumsum(a, -1),
  (a) => lg.reverse(a, [-1]),
  (a) => lg.transpose(lg.transpose(a)),
  (a, b) => lg.matMul(a, b, false, true),
  (a) => lg.concat([a, lg.square(a)], -1),
  (a) => lg.slice(lg.concat([a, a], -1), [0, 1], [-1, a.shape[1] as number]),
  (a) =>
    lg.pad(a, [
      [0, 0],
      [1, 0],
    ]),
  (a) => lg.tile(a, [1, 2]),
];

/** Every result is brought back to [r, c] so ops compose: slice off or sum what changed the shape. */
function conform(t: Tensor, rows: number, cols: number): Tensor {
  let out = t;
  const [r, c] = out.shape as number[];
  if (r > rows || c > cols) out = lg.slice(out, [0, 0], [Math.min(r, rows), Math.min(c, cols)]);
  // A dim that shrank to 1 broadcasts back up.
  if ((out.shape[0] as number) < rows || (out.shape[1] as number) < cols) {
    out = lg.add(lg.zeros([rows, cols], 'float64', t.graph), lg.sum(lg.sum(out, 0, true), 1, true));
  }
  return out;
}

describe('gradient property', () => {
  test('random compositions of 3–12 ops agree with central finite differences (float64)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 3, maxLength: 12 }),
        fc.integer({ min: 1, max: 1000 }),
        (rows, cols, program, seed) => {
          const g = new Graph();
          const x = g.placeholder('x', [rows, cols], 'float64');
          const w = g.placeholder('w', [rows, cols], 'float64');
          const pool: Tensor[] = [x, w];
          for (const [op, i, j] of program) {
            const a = pool[i % pool.length];
            const b = pool[j % pool.length];
            const f = smooth[op % smooth.length];
            let out = f(a, b);
            if (out.shape.length === 2 && (out.shape[0] !== rows || out.shape[1] !== cols))
              out = conform(out, rows, cols);
            pool.push(out);
          }
          // A fixed random weighting keeps gradients from cancelling in the sum.
          let state = seed;
          const next = (): number => ((state = (state * 16807) % 2147483647) / 2147483647) * 2 - 1;
          const weights = g.constant(
            Array.from({ length: rows }, () => Array.from({ length: cols }, next)),
            'float64',
          );
          const y = lg.sum(lg.mul(pool[pool.length - 1], weights));
          const value = (): NDArray =>
            NDArray.from(
              Array.from({ length: rows }, () => Array.from({ length: cols }, () => next() * 1.5)),
              'float64',
            );
          const result = checkGradients(
            y,
            [x, w],
            new Map([
              [x, value()],
              [w, value()],
            ]),
            { tolerance: 1e-5 },
          );
          return result.ok;
        },
      ),
      { numRuns: 80, seed: 20261126 },
    );
  });
});
