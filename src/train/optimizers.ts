/**
 * The update rules, as TensorFlow writes them (tfjs names, positional arguments and defaults). Each rule reads the
 * variable, its gradient and its slots before the step, and returns their values after it.
 */
import { Tensor } from '../graph';
import { add, div, mul, pow, sqrt, square, sub } from '../ops';
import { LearningRate, Optimizer, requireHyperparameter, SlotSpec, Update, UpdateContext } from './optimizer';

/** tfjs's backend epsilon for float32, its default for Adam, RMSProp and Adagrad. */
const EPSILON = 1e-7;

const inUnitInterval = (v: number): boolean => v >= 0 && v < 1;
const nonNegative = (v: number): boolean => v >= 0;

/** Plain gradient descent: w ← w − lr·g. */
export class SGDOptimizer extends Optimizer {
  readonly className = 'sgd';
  protected readonly slotSpecs: readonly SlotSpec[] = [];

  constructor(learningRate: LearningRate) {
    super('sgd', learningRate);
  }

  protected update({ variable, gradient, learningRate }: UpdateContext): Update {
    return { value: sub(variable, mul(learningRate, gradient)), slots: {} };
  }
}

/**
 * Momentum: a ← momentum·a + g; w ← w − lr·a, or with Nesterov w ← w − lr·(g + momentum·a) (TF's formulation).
 */
export class MomentumOptimizer extends Optimizer {
  readonly className = 'momentum';
  protected readonly slotSpecs: readonly SlotSpec[] = [{ name: 'accum', initial: 0 }];
  readonly momentum: number;

  constructor(
    learningRate: LearningRate,
    momentum: number,
    readonly useNesterov = false,
  ) {
    super('momentum', learningRate);
    this.momentum = requireHyperparameter('momentum', 'momentum', momentum, nonNegative, 'a finite number >= 0');
  }

  protected update({ variable, gradient, slots, learningRate }: UpdateContext): Update {
    const accum = add(mul(slots.accum, this.momentum), gradient);
    const direction = this.useNesterov ? add(gradient, mul(accum, this.momentum)) : accum;
    return { value: sub(variable, mul(learningRate, direction)), slots: { accum } };
  }
}

/**
 * Adam (Kingma and Ba, Algorithm 1, as tfjs and Keras write it): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * w ← w − lr·m̂ / (√v̂ + ε) with m̂ = m / (1−β1^t), v̂ = v / (1−β2^t) and t the step count.
 */
export class AdamOptimizer extends Optimizer {
  readonly className: string = 'adam';
  protected readonly slotSpecs: readonly SlotSpec[] = [
    { name: 'm', initial: 0 },
    { name: 'v', initial: 0 },
  ];
  protected override readonly usesStep = true;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(learningRate: LearningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = EPSILON, optimizer = 'adam') {
    super(optimizer, learningRate);
    this.beta1 = requireHyperparameter(optimizer, 'beta1', beta1, inUnitInterval, 'in [0, 1)');
    this.beta2 = requireHyperparameter(optimizer, 'beta2', beta2, inUnitInterval, 'in [0, 1)');
    this.epsilon = requireHyperparameter(optimizer, 'epsilon', epsilon, nonNegative, 'a finite number >= 0');
  }

  /** The Adam direction m̂ / (√v̂ + ε) and the new moments. */
  protected adamStep({ gradient, slots, step }: UpdateContext): { direction: Tensor; m: Tensor; v: Tensor } {
    const t = step as Tensor;
    const m = add(mul(slots.m, this.beta1), mul(gradient, 1 - this.beta1));
    const v = add(mul(slots.v, this.beta2), mul(square(gradient), 1 - this.beta2));
    const mHat = div(m, sub(1, pow(this.beta1, t)));
    const vHat = div(v, sub(1, pow(this.beta2, t)));
    return { direction: div(mHat, add(sqrt(vHat), this.epsilon)), m, v };
  }

  protected update(context: UpdateContext): Update {
    const { direction, m, v } = this.adamStep(context);
    return { value: sub(context.variable, mul(context.learningRate, direction)), slots: { m, v } };
  }
}

/**
 * AdamW (Loshchilov and Hutter): Adam with decoupled weight decay, as TF's (Keras) AdamW applies it:
 * w ← w − lr·weightDecay·w − lr·m̂ / (√v̂ + ε). The decay is not part of the gradient, so it is not rescaled by v̂.
 */
export class AdamWOptimizer extends AdamOptimizer {
  override readonly className = 'adamW';
  readonly weightDecay: number;

  constructor(learningRate: LearningRate = 0.001, weightDecay = 0.004, beta1 = 0.9, beta2 = 0.999, epsilon = EPSILON) {
    super(learningRate, beta1, beta2, epsilon, 'adamW');
    this.weightDecay = requireHyperparameter('adamW', 'weightDecay', weightDecay, nonNegative, 'a finite number >= 0');
  }

  protected override update(context: UpdateContext): Update {
    const { variable, learningRate } = context;
    const { direction, m, v } = this.adamStep(context);
    const rate =
      typeof learningRate === 'number' ? learningRate * this.weightDecay : mul(learningRate, this.weightDecay);
    const decayed = sub(variable, mul(variable, rate));
    return { value: sub(decayed, mul(learningRate, direction)), slots: { m, v } };
  }
}

/**
 * RMSProp (TF's formulation): ms ← decay·ms + (1−decay)·g², mom ← momentum·mom + lr·g / √(ms + ε), w ← w − mom.
 * Centered: mg ← decay·mg + (1−decay)·g and the denominator is √(ms − mg² + ε).
 */
export class RMSPropOptimizer extends Optimizer {
  readonly className = 'rmsprop';
  protected readonly slotSpecs: readonly SlotSpec[];
  readonly decay: number;
  readonly momentum: number;
  readonly epsilon: number;

  constructor(
    learningRate: LearningRate,
    decay = 0.9,
    momentum = 0,
    epsilon = EPSILON,
    readonly centered = false,
  ) {
    super('rmsprop', learningRate);
    this.decay = requireHyperparameter('rmsprop', 'decay', decay, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.momentum = requireHyperparameter('rmsprop', 'momentum', momentum, nonNegative, 'a finite number >= 0');
    this.epsilon = requireHyperparameter('rmsprop', 'epsilon', epsilon, nonNegative, 'a finite number >= 0');
    this.slotSpecs = [
      { name: 'ms', initial: 0 },
      { name: 'mom', initial: 0 },
      ...(centered ? [{ name: 'mg', initial: 0 }] : []),
    ];
  }

  protected update({ variable, gradient, slots, learningRate }: UpdateContext): Update {
    const ms = add(mul(slots.ms, this.decay), mul(square(gradient), 1 - this.decay));
    let denominator: Tensor;
    let mg: Tensor | undefined;
    if (this.centered) {
      mg = add(mul(slots.mg, this.decay), mul(gradient, 1 - this.decay));
      denominator = sqrt(add(sub(ms, square(mg)), this.epsilon));
    } else {
      denominator = sqrt(add(ms, this.epsilon));
    }
    const mom = add(mul(slots.mom, this.momentum), div(mul(gradient, learningRate), denominator));
    return { value: sub(variable, mom), slots: mg === undefined ? { ms, mom } : { ms, mom, mg } };
  }
}

/** Adagrad (as tfjs): accum ← accum + g², w ← w − lr·g / √(accum + ε), accum starting at initialAccumulatorValue. */
export class AdagradOptimizer extends Optimizer {
  readonly className = 'adagrad';
  protected readonly slotSpecs: readonly SlotSpec[];

  constructor(
    learningRate: LearningRate,
    readonly initialAccumulatorValue = 0.1,
  ) {
    super('adagrad', learningRate);
    requireHyperparameter('adagrad', 'initialAccumulatorValue', initialAccumulatorValue, nonNegative, '>= 0');
    this.slotSpecs = [{ name: 'accum', initial: initialAccumulatorValue }];
  }

  protected update({ variable, gradient, slots, learningRate }: UpdateContext): Update {
    const accum = add(slots.accum, square(gradient));
    return { value: sub(variable, mul(learningRate, div(gradient, sqrt(add(accum, EPSILON))))), slots: { accum } };
  }
}

/**
 * Gradient descent: w ← w − lr·g.
 * @example const trainOp = train.sgd(0.1).minimize(loss);
 */
export function sgd(learningRate: LearningRate): SGDOptimizer {
  return new SGDOptimizer(learningRate);
}

/**
 * Momentum, optionally Nesterov.
 * @example train.momentum(0.01, 0.9, true).minimize(loss)
 */
export function momentum(learningRate: LearningRate, momentum: number, useNesterov = false): MomentumOptimizer {
  return new MomentumOptimizer(learningRate, momentum, useNesterov);
}

/**
 * Adam with bias correction.
 * @example train.adam(0.001).minimize(loss)
 */
export function adam(
  learningRate = 0.001 as LearningRate,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon = EPSILON,
): AdamOptimizer {
  return new AdamOptimizer(learningRate, beta1, beta2, epsilon);
}

/**
 * Adam with decoupled weight decay (decay multiplied by the learning rate, as TF's AdamW).
 * @example train.adamW(0.001, 0.01).minimize(loss)
 */
export function adamW(
  learningRate = 0.001 as LearningRate,
  weightDecay = 0.004,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon = EPSILON,
): AdamWOptimizer {
  return new AdamWOptimizer(learningRate, weightDecay, beta1, beta2, epsilon);
}

/**
 * RMSProp, optionally with momentum and centered.
 * @example train.rmsprop(0.001, 0.9, 0.9).minimize(loss)
 */
export function rmsprop(
  learningRate: LearningRate,
  decay = 0.9,
  momentum = 0,
  epsilon = EPSILON,
  centered = false,
): RMSPropOptimizer {
  return new RMSPropOptimizer(learningRate, decay, momentum, epsilon, centered);
}

/**
 * Adagrad.
 * @example train.adagrad(0.1).minimize(loss)
 */
export function adagrad(learningRate: LearningRate, initialAccumulatorValue = 0.1): AdagradOptimizer {
  return new AdagradOptimizer(learningRate, initialAccumulatorValue);
}
