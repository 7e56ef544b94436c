import { GraphError, Tensor } from '../graph';
import { addOp, defineOp, OpRecord } from './record';

/** A user gradient: dy and the saved tensors in, one gradient per input out. */
export type GradFunc = (dy: Tensor, saved: readonly Tensor[]) => Tensor | readonly (Tensor | null)[];

/** The function customGradient passes last, to keep tensors for the gradient. */
export type SaveFunc = (saved: Tensor[]) => void;

/**
 * How customGradient types the parameters of `f` from context: any position may be an input or the trailing
 * `save`, so an unannotated parameter is both (`(x: Tensor, save) => …` then types `save` as callable, as in the
 * documented example; TypeScript gives a lambda's parameters no contextual type by position from the end).
 */
export type CustomGradientArg = Tensor & SaveFunc;

/**
 * The inputs of the function customGradient returns, from the parameters of `f`: all of them but a trailing
 * `save` (a parameter typed as a SaveFunc), each a Tensor.
 */
export type CustomGradientInputs<P extends readonly unknown[]> = P extends readonly [...infer Inputs, infer Last]
  ? Last extends SaveFunc
    ? { [K in keyof Inputs]: Tensor }
    : { [K in keyof P]: Tensor }
  : { [K in keyof P]: Tensor };

/** What the function given to customGradient returns: the forward value and its gradient function. */
export interface CustomGradientResult {
  value: Tensor;
  gradFunc: GradFunc;
}

interface Attached {
  gradFunc: GradFunc;
  inputCount: number;
  savedCount: number;
}

let serial = 0;

/**
 * customGradient(value, ...inputs, ...saved): passes `value` through; its gradient is the user's gradFunc, which
 * the graph keeps attached to the node (so the text IR shows the op as `customGradient`).
 */
export const CUSTOM_GRADIENT = defineOp({
  name: 'customGradient',
  arity: 'variadic',
  // Never merged with an equal-looking node: its gradient function lives outside the attrs.
  stateful: true,
  // fn: a serial number (the function itself is attached to the node); inputs: how many inputs are the user's.
  attrs: { fn: 'int', inputs: 'int' },
  infer: ([value]) => value,
  kernel: ([value], out) => out.data.set(value.data),
  vjp: ({ inputs, output, dy }) => {
    const attached = output.graph.attachment(output.id) as Attached | undefined;
    if (attached === undefined) {
      throw new GraphError(
        `customGradient '${output.name}': its gradient function is not attached (a graph loaded from a file keeps ` +
          'the op but not the JS function)',
      );
    }
    const own = inputs.slice(1, 1 + attached.inputCount);
    const saved = inputs.slice(1 + attached.inputCount);
    const result = attached.gradFunc(dy, saved);
    const grads = result instanceof Tensor ? [result] : [...result];
    if (grads.length !== own.length) {
      throw new GraphError(
        `customGradient '${output.name}': gradFunc returned ${grads.length} gradients for ${own.length} inputs`,
      );
    }
    return [null, ...grads, ...saved.map(() => null)];
  },
});

export const CUSTOM_OPS: readonly OpRecord[] = [CUSTOM_GRADIENT];

/**
 * Defines an op with a user gradient, as tfjs's customGrad: `f(...inputs, save)` returns `{ value, gradFunc }`;
 * `gradients()` then uses gradFunc(dy, saved) for the inputs instead of differentiating through f.
 *
 * @example
 * const clipGrad = customGradient((x: Tensor, save) => {
 *   save([x]);
 *   return { value: identity(x), gradFunc: (dy) => [clipByValue(dy, -1, 1)] };
 * });
 */
export function customGradient<F extends (...args: CustomGradientArg[]) => CustomGradientResult>(
  f: F,
): (...inputs: CustomGradientInputs<Parameters<F>>) => Tensor {
  return (...inputs: Tensor[]): Tensor => {
    if (inputs.length === 0) throw new GraphError('customGradient: the function needs at least one Tensor input');
    let saved: Tensor[] = [];
    const call = f as unknown as (...args: (Tensor | SaveFunc)[]) => CustomGradientResult;
    const { value, gradFunc } = call(...inputs, (tensors: Tensor[]) => {
      saved = [...tensors];
    });
    if (!(value instanceof Tensor) || typeof gradFunc !== 'function') {
      throw new GraphError('customGradient: f must return { value: Tensor, gradFunc: (dy, saved) => gradients }');
    }
    const graph = value.graph;
    const ids = [value, ...inputs, ...saved].map((t) => {
      if (t.graph !== graph) throw new GraphError(`customGradient: '${t.name}' belongs to a different graph`);
      return t.id;
    });
    const node = addOp(graph, CUSTOM_GRADIENT, ids, { fn: serial++, inputs: inputs.length });
    graph.attach(node.id, { gradFunc, inputCount: inputs.length, savedCount: saved.length } satisfies Attached);
    return node;
  };
}
