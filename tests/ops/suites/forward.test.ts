/**
 * Forward values of every row of the op table against its TensorFlow.js twin (cpu backend): float32 results to
 * the row's tolerance (1e-5 relative by default), int32 and bool results exactly, static shapes and dtypes equal.
 */
import { casesOf } from '../cases';
import { checkForward, useTfjsCpu } from '../harness';

beforeAll(useTfjsCpu);

const cases = casesOf('forward');

test.each(cases)('$name', ({ row, c, seed }) => {
  const twin = c.tfjs ?? row.tfjs;
  if (twin === undefined) throw new Error('a forward case needs a tfjs twin');
  checkForward(seed, c.inputs, c.build ?? row.build, twin, { tol: row.tol?.forward, optimize: row.forwardLevels });
});
