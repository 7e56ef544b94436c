/**
 * Gradients of every row of the op table against tf.grads on the tfjs cpu backend, in float32, with a random dy
 * fed as gradYs; the forward value is compared too.
 */
import { casesOf } from '../cases';
import { checkGradientsVsTfjs, useTfjsCpu } from '../harness';

beforeAll(useTfjsCpu);

test.each(casesOf('gradTfjs'))('$name', ({ row, c, seed }) => {
  const twin = c.tfjs ?? row.tfjs;
  if (twin === undefined) throw new Error('a tfjs gradient case needs a tfjs twin');
  checkGradientsVsTfjs(seed, c.inputs, c.build ?? row.build, twin, row.tol?.gradTfjs);
});
