/**
 * Shared problems for the optimizer tests: a small least-squares regression with a weight matrix and a bias,
 * built both in lazygrad and in TensorFlow.js from the same seeded values.
 */
import * as tf from '@tensorflow/tfjs';
import { add, DType, Graph, matMul, mean, NDArray, Session, square, sub, Tensor } from '../../src';
import { Rng, randomArray } from '../ops/util';

export interface Problem {
  x: NDArray;
  y: NDArray;
  w0: NDArray;
  b0: NDArray;
}

/** Random inputs, targets and initial values (float32-exact, so both libraries start from the same numbers). */
export function regressionProblem(seed: number, dtype: DType = 'float32'): Problem {
  const rng = new Rng(seed);
  return {
    x: randomArray(rng, [6, 3], dtype, { lo: -1, hi: 1 }),
    y: randomArray(rng, [6, 2], dtype, { lo: -1, hi: 1 }),
    w0: randomArray(rng, [3, 2], dtype, { lo: -1, hi: 1 }),
    b0: randomArray(rng, [2], dtype, { lo: -1, hi: 1 }),
  };
}

export interface Model {
  g: Graph;
  w: Tensor;
  b: Tensor;
  loss: Tensor;
}

/** loss = mean((x·w + b − y)²) with x and y as constants. */
export function lazygradModel(problem: Problem): Model {
  const g = new Graph();
  const w = g.variable('w', problem.w0);
  const b = g.variable('b', problem.b0);
  const x = g.constant(problem.x);
  const y = g.constant(problem.y);
  const loss = mean(square(sub(add(matMul(x, w), b), y)));
  return { g, w, b, loss };
}

/** Runs `steps` updates in lazygrad and returns w and b after each. */
export function lazygradSteps(model: Model, trainOp: Tensor, steps: number): { w: NDArray; b: NDArray }[] {
  const sess = new Session(model.g);
  const out: { w: NDArray; b: NDArray }[] = [];
  for (let i = 0; i < steps; i++) {
    sess.run(trainOp);
    out.push({ w: sess.run(model.w), b: sess.run(model.b) });
  }
  return out;
}

function toTf(a: NDArray): tf.Tensor {
  return tf.tensor(Array.from(a.data), [...a.shape], 'float32');
}

/** The same problem and updates in TensorFlow.js (cpu backend) with one of its optimizers. */
export function tfjsSteps(problem: Problem, optimizer: tf.Optimizer, steps: number): { w: NDArray; b: NDArray }[] {
  const x = toTf(problem.x);
  const y = toTf(problem.y);
  const w = tf.variable(toTf(problem.w0));
  const b = tf.variable(toTf(problem.b0));
  const out: { w: NDArray; b: NDArray }[] = [];
  for (let i = 0; i < steps; i++) {
    optimizer.minimize(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar, false, [w, b]);
    out.push({
      w: new NDArray(Float32Array.from(w.dataSync()), [...w.shape]),
      b: new NDArray(Float32Array.from(b.dataSync()), [...b.shape]),
    });
  }
  optimizer.dispose();
  tf.dispose([x, y, w, b]);
  return out;
}
