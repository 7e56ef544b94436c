import { DTypeError, formatShape, GraphError, ShapeError, Tensor } from '../graph';
import { apply, OpRecord, TensorLike } from './record';

/**
 * assign(variable, value): when fetched, writes value into the variable after the run has computed every
 * fetch from the variables' previous values. Its output is the value written.
 */
export const ASSIGN: OpRecord = {
  name: 'assign',
  arity: 2,
  stateful: true,
  infer([variable, value]) {
    if (variable.dtype !== value.dtype) {
      throw new DTypeError(`the value's dtype ${value.dtype} differs from the variable's ${variable.dtype}`);
    }
    const fits =
      variable.shape.length === value.shape.length &&
      variable.shape.every((d, i) => value.shape[i] === null || value.shape[i] === d);
    if (!fits) {
      throw new ShapeError(
        `the value's shape ${formatShape(value.shape)} differs from the variable's ${formatShape(variable.shape)}`,
      );
    }
    return variable;
  },
  // A planned assign's output is its value's own buffer (see the memory planner): nothing to copy then.
  kernel: ([, value], out) => {
    if (out.data.buffer !== value.data.buffer || out.data.byteOffset !== value.data.byteOffset)
      out.data.set(value.data);
  },
};

/**
 * group(...inputs): a bool scalar (true) that depends on every input, so fetching it runs them all: the way to
 * fetch several assigns as one tensor (TF's tf.group). Stateful, so no pass merges, folds or prunes it away.
 */
export const GROUP: OpRecord = {
  name: 'group',
  arity: 'variadic',
  stateful: true,
  infer(inputs) {
    if (inputs.length === 0) throw new GraphError('needs at least one input (the tensors to run together)');
    return { dtype: 'bool', shape: [] };
  },
  kernel: (_inputs, out) => {
    out.data[0] = 1;
  },
};

export const STATE_OPS: readonly OpRecord[] = [ASSIGN, GROUP];

/**
 * Writes `value` into `variable` when fetched (after all fetches of that run are computed).
 * @example sess.run([loss, assign(w, sub(w, mul(0.1, dw)))])
 */
export function assign(variable: Tensor, value: TensorLike): Tensor {
  if (variable.op !== 'variable') {
    throw new GraphError(`assign: '${variable.name}' is a ${variable.op} node; only variables can be assigned`);
  }
  return apply(ASSIGN, [variable, value]);
}

/**
 * One fetchable tensor that runs all of `tensors` (e.g. several assigns, applied together after the run): a bool
 * scalar, true. It has no gradient.
 * @example sess.run(group([assign(w, newW), assign(b, newB)]))
 */
export function group(tensors: readonly Tensor[], name?: string): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0 || !tensors.every((t) => t instanceof Tensor)) {
    throw new GraphError('group: give a non-empty array of Tensors to run together');
  }
  return apply(GROUP, tensors, {}, name);
}
