/**
 * Weight penalties to add to a loss: tfjs's tf.regularizers (l1, l2, l1l2) and TensorFlow's tf.nn.l2_loss.
 */
import { DTypeError, GraphError, graphOf, Tensor } from '../graph';
import { abs, addN, mul, square, sum } from '../ops';
import { requireHyperparameter } from './optimizer';

/** A penalty on weights: apply(weights) is a scalar to add to the loss. */
export interface Regularizer {
  readonly className: string;
  /** The penalty of one weight tensor, or the sum over several. */
  apply(weights: Tensor | readonly Tensor[]): Tensor;
}

function weightList(what: string, weights: Tensor | readonly Tensor[]): Tensor[] {
  const list = weights instanceof Tensor ? [weights] : [...weights];
  if (list.length === 0) throw new GraphError(`${what}: needs at least one weight tensor`);
  graphOf(list, what);
  for (const w of list) {
    if (!w.isFloat) throw new DTypeError(`${what}: weight '${w.name}' is ${w.dtype}; penalties need float tensors`);
  }
  return list;
}

function total(terms: readonly Tensor[]): Tensor {
  return terms.length === 1 ? terms[0] : addN(terms);
}

class L1L2 implements Regularizer {
  constructor(
    readonly className: string,
    readonly l1: number,
    readonly l2: number,
  ) {
    requireHyperparameter(className, 'l1', l1, (v) => v >= 0, 'a finite number >= 0');
    requireHyperparameter(className, 'l2', l2, (v) => v >= 0, 'a finite number >= 0');
  }

  apply(weights: Tensor | readonly Tensor[]): Tensor {
    const list = weightList(this.className, weights);
    const terms: Tensor[] = [];
    for (const w of list) {
      if (this.l1 !== 0 || this.l2 === 0) terms.push(mul(sum(abs(w)), this.l1));
      if (this.l2 !== 0) terms.push(mul(sum(square(w)), this.l2));
    }
    return total(terms);
  }
}

/**
 * l1 · Σ|w|.
 * @example const loss = add(dataLoss, regularizers.l1({ l1: 1e-4 }).apply([w1, w2]));
 */
function l1(args: { l1?: number } = {}): Regularizer {
  return new L1L2('l1', args.l1 ?? 0.01, 0);
}

/**
 * l2 · Σw² (the Keras/tfjs convention, without TensorFlow's l2_loss ½).
 * @example const loss = add(dataLoss, regularizers.l2({ l2: 1e-4 }).apply([w1, w2]));
 */
function l2(args: { l2?: number } = {}): Regularizer {
  return new L1L2('l2', 0, args.l2 ?? 0.01);
}

/**
 * l1 · Σ|w| + l2 · Σw².
 * @example regularizers.l1l2({ l1: 1e-5, l2: 1e-4 }).apply(w)
 */
function l1l2(args: { l1?: number; l2?: number } = {}): Regularizer {
  return new L1L2('l1l2', args.l1 ?? 0.01, args.l2 ?? 0.01);
}

/** The tf.regularizers namespace: TensorFlow.js names and config objects. */
export const regularizers = { l1, l2, l1l2 };

/**
 * Σx² / 2, TensorFlow's tf.nn.l2_loss: weight decay as `add(loss, mul(scale, l2Loss(w)))`.
 * @example const loss = add(dataLoss, mul(l2Loss(w), 5e-4));
 */
export function l2Loss(x: Tensor): Tensor {
  const [w] = weightList('l2Loss', x);
  return mul(sum(square(w)), 0.5);
}
