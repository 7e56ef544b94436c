/**
 * Training (TensorFlow 1.x style): initializers for variables, optimizers that build their update as graph nodes,
 * gradient clipping and weight penalties. Namespaces follow tfjs: `initializers.*`, `train.*`, `regularizers.*`.
 */
import {
  constant,
  glorotNormal,
  glorotUniform,
  heNormal,
  heUniform,
  leCunNormal,
  leCunUniform,
  ones,
  randomNormal,
  randomUniform,
  truncatedNormal,
  varianceScaling,
  zeros,
} from './initializers';
import { adagrad, adam, adamW, momentum, rmsprop, sgd } from './optimizers';

export { Initializer, computeFans } from './initializers';
export type {
  Distribution,
  FanMode,
  RandomNormalArgs,
  RandomUniformArgs,
  SeedOnlyArgs,
  VarianceScalingArgs,
} from './initializers';
export { Optimizer } from './optimizer';
export type { GradientAndVariable, LearningRate, SlotSpec, Update, UpdateContext } from './optimizer';
export {
  AdagradOptimizer,
  AdamOptimizer,
  AdamWOptimizer,
  MomentumOptimizer,
  RMSPropOptimizer,
  SGDOptimizer,
} from './optimizers';
export { clipByGlobalNorm, globalNorm } from './clip';
export { l2Loss, regularizers } from './regularizers';
export type { Regularizer } from './regularizers';

/** The tf.initializers namespace: TensorFlow.js names and config objects. */
export const initializers = {
  zeros,
  ones,
  constant,
  randomNormal,
  randomUniform,
  truncatedNormal,
  varianceScaling,
  glorotUniform,
  glorotNormal,
  heNormal,
  heUniform,
  leCunNormal,
  leCunUniform,
};

/** The tf.train namespace: optimizer constructors with TensorFlow.js names and positional arguments. */
export const train = { sgd, momentum, adam, adamW, rmsprop, adagrad };
