/**
 * recompute(x, after): x's value, read only once `after` has been computed. It starts a rematerialized segment of a
 * gradient graph (gradients' `remat` option, `checkpoint(fn)`): the copies of the forward nodes that the backward
 * pass recomputes read their kept inputs through it. Its two jobs are those of XLA's optimization barrier: the
 * copies are new nodes (a recomputed matMul does not intern or CSE back into the forward one, whose value would then
 * be kept), and they run late (the plan orders steps by dependencies, and `after` is a gradient that exists only
 * once the backward pass has reached the segment).
 */
import { Tensor } from '../graph';
import { apply, OpRecord } from './record';

export const RECOMPUTE: OpRecord = {
  name: 'recompute',
  arity: 2,
  infer: ([x]) => x,
  // A copy: the kept value usually dies here, so the planner gives the output that buffer (no new memory).
  inPlace: true,
  kernel: ([x], out) => {
    if (out.data !== x.data) out.data.set(x.data);
  },
  vjp: ({ dy, needs }) => [needs[0] ? dy : null, null],
  jvp: ({ tangents: [t] }) => t,
};

export const REMAT_OPS: readonly OpRecord[] = [RECOMPUTE];

/** x, computed no earlier than `after` (a rematerialization barrier). @example recompute(h, dy) */
export function recompute(x: Tensor, after: Tensor): Tensor {
  return apply(RECOMPUTE, [x, after]);
}
