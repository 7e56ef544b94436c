/**
 * Second derivatives of every row of the op table: the gradient graph differentiated again, against central
 * differences of the analytic first derivative (float64); elementwise unary rows also against their closed form
 * f''(x). Piecewise-linear rows must give exactly the zero second derivative, rather than fail to build.
 */
import { OP_ROWS, casesOf } from '../cases';
import { rowName, seedOf } from '../cases/table';
import { checkClosedFormSecondDerivative, checkSecondOrder } from '../harness';

describe('vs finite differences of the first derivative', () => {
  test.each(casesOf('secondOrder'))('$name', ({ row, c, seed }) => {
    checkSecondOrder(seed, c.inputs, c.build ?? row.build, row.zeroSecondOrder !== true);
  });
});

describe('vs the closed form', () => {
  const rows = OP_ROWS.filter((row) => row.d2 !== undefined).map((row) => ({ name: rowName(row), row }));
  test.each(rows)('$name', ({ name, row }) => {
    if (row.d2 === undefined) throw new Error('no closed form');
    const build = row.secondOrder?.[0]?.build ?? row.build;
    checkClosedFormSecondDerivative(seedOf('d2', name), row.d2.options, build, row.d2.fn);
  });
});
