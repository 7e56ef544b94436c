/**
 * Gradients of every row of the op table against central finite differences (checkGradients), in float64: the
 * loss is sum(op(...) · w) with a random constant w, so no gradient cancels; some gradient must be nonzero unless
 * the row is piecewise constant.
 */
import { casesOf } from '../cases';
import { checkFiniteDifferences } from '../harness';

test.each(casesOf('gradFd'))('$name', ({ row, c, seed }) => {
  checkFiniteDifferences(seed, c.inputs, c.build ?? row.build, 1e-6, row.zeroGradient !== true);
});
