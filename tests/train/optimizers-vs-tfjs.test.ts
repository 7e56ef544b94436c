/**
 * Each optimizer's first three steps against TensorFlow.js's optimizer (cpu backend) on the same least-squares
 * problem: same initial values, same loss, so the same gradients. float32 on both sides: ~1e-5 relative. Where
 * tfjs has no optimizer (AdamW) or differs from TensorFlow (centered RMSProp's epsilon), the steps are checked
 * against a float64 hand computation instead.
 */
import * as tf from '@tensorflow/tfjs';
import { Graph, mul, NDArray, Optimizer, Session, square, sub, sum, Tensor, train } from '../../src';
import { expectClose } from '../ops/util';
import { lazygradModel, lazygradSteps, regressionProblem, tfjsSteps } from './helpers';

const TOL = 1e-5;
const STEPS = 3;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

type Build = (lazy: typeof train) => Optimizer;

function compareWithTfjs(seed: number, ours: Build, theirs: () => tf.Optimizer): void {
  const problem = regressionProblem(seed);
  const model = lazygradModel(problem);
  const got = lazygradSteps(model, ours(train).minimize(model.loss), STEPS);
  const want = tfjsSteps(problem, theirs(), STEPS);
  for (let i = 0; i < STEPS; i++) {
    expectClose(got[i].w, want[i].w, TOL, `w after step ${i + 1}`);
    expectClose(got[i].b, want[i].b, TOL, `b after step ${i + 1}`);
  }
  // The steps moved the weights: the comparison is not of two unchanged copies.
  expect(Math.abs(got[STEPS - 1].w.data[0] - problem.w0.data[0])).toBeGreaterThan(1e-3);
}

describe('optimizers match tfjs for three steps', () => {
  test('sgd', () =>
    compareWithTfjs(
      1,
      (t) => t.sgd(0.1),
      () => tf.train.sgd(0.1),
    ));

  test('momentum', () =>
    compareWithTfjs(
      2,
      (t) => t.momentum(0.1, 0.9),
      () => tf.train.momentum(0.1, 0.9),
    ));

  test('momentum with Nesterov', () =>
    compareWithTfjs(
      3,
      (t) => t.momentum(0.1, 0.9, true),
      () => tf.train.momentum(0.1, 0.9, true),
    ));

  test('adam with default hyperparameters', () =>
    compareWithTfjs(
      4,
      (t) => t.adam(0.1),
      () => tf.train.adam(0.1),
    ));

  test('adam with explicit betas and epsilon', () =>
    compareWithTfjs(
      5,
      (t) => t.adam(0.05, 0.8, 0.99, 1e-4),
      () => tf.train.adam(0.05, 0.8, 0.99, 1e-4),
    ));

  test('adamW with zero weight decay is adam', () =>
    compareWithTfjs(
      6,
      (t) => t.adamW(0.1, 0),
      () => tf.train.adam(0.1),
    ));

  test('rmsprop', () =>
    compareWithTfjs(
      7,
      (t) => t.rmsprop(0.01),
      () => tf.train.rmsprop(0.01),
    ));

  test('rmsprop with momentum', () =>
    compareWithTfjs(
      8,
      (t) => t.rmsprop(0.01, 0.8, 0.9),
      () => tf.train.rmsprop(0.01, 0.8, 0.9),
    ));

  test('centered rmsprop (epsilon 0, where tfjs and TensorFlow agree)', () =>
    compareWithTfjs(
      9,
      (t) => t.rmsprop(0.01, 0.9, 0.5, 0, true),
      () => tf.train.rmsprop(0.01, 0.9, 0.5, 0, true),
    ));

  test('adagrad', () =>
    compareWithTfjs(
      10,
      (t) => t.adagrad(0.1),
      () => tf.train.adagrad(0.1),
    ));

  test('adagrad with an initial accumulator value', () =>
    compareWithTfjs(
      11,
      (t) => t.adagrad(0.2, 0.5),
      () => tf.train.adagrad(0.2, 0.5),
    ));

  test('adam slots m and v match tfjs after three steps', async () => {
    const problem = regressionProblem(12);
    const model = lazygradModel(problem);
    const optimizer = train.adam(0.1);
    const trainOp = optimizer.minimize(model.loss);
    const sess = new Session(model.g);
    for (let i = 0; i < STEPS; i++) sess.run(trainOp);
    const x = tf.tensor(Array.from(problem.x.data), [6, 3]);
    const y = tf.tensor(Array.from(problem.y.data), [6, 2]);
    const w = tf.variable(tf.tensor(Array.from(problem.w0.data), [3, 2]), true, 'adam_slots_w');
    const b = tf.variable(tf.tensor(Array.from(problem.b0.data), [2]), true, 'adam_slots_b');
    const tfOptimizer = tf.train.adam(0.1);
    for (let i = 0; i < STEPS; i++) {
      tfOptimizer.minimize(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar, false, [w, b]);
    }
    const weights = await tfOptimizer.getWeights();
    const byName = new Map(weights.map((nt) => [nt.name, nt.tensor]));
    const slot = (name: string, shape: number[]): NDArray =>
      new NDArray(Float32Array.from((byName.get(name) as tf.Tensor).dataSync()), shape);
    expectClose(sess.run(optimizer.getSlot(model.w, 'm') as Tensor), slot('adam_slots_w/m', [3, 2]), TOL, 'w/m');
    expectClose(sess.run(optimizer.getSlot(model.w, 'v') as Tensor), slot('adam_slots_w/v', [3, 2]), TOL, 'w/v');
    expectClose(sess.run(optimizer.getSlot(model.b, 'm') as Tensor), slot('adam_slots_b/m', [2]), TOL, 'b/m');
    expect(sess.run(optimizer.variables(model.g)[0]).toArray()).toBe(STEPS);
    tfOptimizer.dispose();
    tf.dispose([x, y, w, b]);
  });
});

/**
 * A float64 problem whose gradient is known in closed form: loss = ½‖w − target‖², so g = w − target. The steps
 * are compared with the same formulas evaluated in JS doubles.
 */
function quadratic(): { g: Graph; w: Tensor; loss: Tensor; w0: number[]; target: number[] } {
  const w0 = [0.5, -1.25, 2, 0.1];
  const target = [1, 1, -1, 0.3];
  const g = new Graph();
  const w = g.variable('w', NDArray.from(w0, 'float64'));
  const loss = mul(sum(square(sub(w, g.constant(NDArray.from(target, 'float64'))))), 0.5);
  return { g, w, loss, w0, target };
}

function runSteps(g: Graph, w: Tensor, trainOp: Tensor, steps: number): number[][] {
  const sess = new Session(g);
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    sess.run(trainOp);
    out.push(Array.from(sess.run(w).data));
  }
  return out;
}

function expectSteps(got: number[][], want: number[][]): void {
  for (let i = 0; i < want.length; i++) {
    expectClose(
      { shape: [got[i].length], data: got[i] },
      { shape: [want[i].length], data: want[i] },
      1e-12,
      `step ${i + 1}`,
    );
  }
}

describe('optimizers match hand computations in float64', () => {
  test('momentum with Nesterov: w ← w − lr·(g + momentum·a), a ← momentum·a + g', () => {
    const { g, w, loss, w0, target } = quadratic();
    const [lr, m] = [0.1, 0.9];
    const got = runSteps(g, w, train.momentum(lr, m, true).minimize(loss), STEPS);
    const value = [...w0];
    const accum = value.map(() => 0);
    const want: number[][] = [];
    for (let step = 0; step < STEPS; step++) {
      for (let i = 0; i < value.length; i++) {
        const grad = value[i] - target[i];
        accum[i] = m * accum[i] + grad;
        value[i] -= lr * (grad + m * accum[i]);
      }
      want.push([...value]);
    }
    expectSteps(got, want);
  });

  test('adamW: decoupled decay w ← w − lr·wd·w − lr·m̂/(√v̂ + ε)', () => {
    const { g, w, loss, w0, target } = quadratic();
    const [lr, wd, b1, b2, eps] = [0.05, 0.1, 0.9, 0.999, 1e-7];
    const got = runSteps(g, w, train.adamW(lr, wd, b1, b2, eps).minimize(loss), STEPS);
    const value = [...w0];
    const m = value.map(() => 0);
    const v = value.map(() => 0);
    const want: number[][] = [];
    for (let t = 1; t <= STEPS; t++) {
      for (let i = 0; i < value.length; i++) {
        const grad = value[i] - target[i];
        m[i] = b1 * m[i] + (1 - b1) * grad;
        v[i] = b2 * v[i] + (1 - b2) * grad * grad;
        const mHat = m[i] / (1 - b1 ** t);
        const vHat = v[i] / (1 - b2 ** t);
        value[i] = value[i] - lr * wd * value[i] - (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
      want.push([...value]);
    }
    expectSteps(got, want);
  });

  test('adamW decays weights even where the gradient is zero', () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([2, -4], 'float64'));
    const unused = g.variable('u', NDArray.from([3], 'float64'));
    const loss = sum(mul(unused, 1));
    // The loss does not depend on w, so give w a zero gradient explicitly.
    const optimizer = train.adamW(0.1, 0.5);
    const trainOp = optimizer.applyGradients([
      [g.constant(NDArray.from([0, 0], 'float64')), w],
      ...optimizer.computeGradients(loss, [unused]),
    ]);
    const got = runSteps(g, w, trainOp, 1);
    expectSteps(got, [[2 - 0.1 * 0.5 * 2, -4 - 0.1 * 0.5 * -4]]);
  });

  test('centered rmsprop adds epsilon under the root as TensorFlow does: √(ms − mg² + ε)', () => {
    const { g, w, loss, w0, target } = quadratic();
    const [lr, decay, momentum, eps] = [0.01, 0.9, 0.5, 0.05];
    const got = runSteps(g, w, train.rmsprop(lr, decay, momentum, eps, true).minimize(loss), STEPS);
    const value = [...w0];
    const ms = value.map(() => 0);
    const mg = value.map(() => 0);
    const mom = value.map(() => 0);
    const want: number[][] = [];
    for (let step = 0; step < STEPS; step++) {
      for (let i = 0; i < value.length; i++) {
        const grad = value[i] - target[i];
        ms[i] = decay * ms[i] + (1 - decay) * grad * grad;
        mg[i] = decay * mg[i] + (1 - decay) * grad;
        mom[i] = momentum * mom[i] + (lr * grad) / Math.sqrt(ms[i] - mg[i] * mg[i] + eps);
        value[i] -= mom[i];
      }
      want.push([...value]);
    }
    expectSteps(got, want);
  });

  test('adam in float64 matches the paper formulas', () => {
    const { g, w, loss, w0, target } = quadratic();
    const [lr, b1, b2, eps] = [0.1, 0.9, 0.999, 1e-7];
    const got = runSteps(g, w, train.adam(lr, b1, b2, eps).minimize(loss), STEPS);
    const value = [...w0];
    const m = value.map(() => 0);
    const v = value.map(() => 0);
    const want: number[][] = [];
    for (let t = 1; t <= STEPS; t++) {
      for (let i = 0; i < value.length; i++) {
        const grad = value[i] - target[i];
        m[i] = b1 * m[i] + (1 - b1) * grad;
        v[i] = b2 * v[i] + (1 - b2) * grad * grad;
        value[i] -= (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
      }
      want.push([...value]);
    }
    expectSteps(got, want);
  });
});
