/**
 * How optimizers behave in graphs and sessions: convergence on a convex problem, pre-update losses, state in
 * variables, variable lists, errors.
 */
import {
  add,
  cast,
  DTypeError,
  Graph,
  GraphError,
  matMul,
  mean,
  mul,
  NDArray,
  Optimizer,
  Session,
  ShapeError,
  square,
  sub,
  sum,
  Tensor,
  train,
} from '../../src';
import { Rng, randomArray } from '../ops/util';
import { lazygradModel, regressionProblem } from './helpers';

/** y = x·w* + b* exactly, so least squares has the minimum w*, b* with loss 0. */
function leastSquares(seed: number): { g: Graph; w: Tensor; b: Tensor; loss: Tensor; wStar: number[]; bStar: number } {
  const rng = new Rng(seed);
  const x = randomArray(rng, [32, 3], 'float32', { lo: -1, hi: 1 });
  const wStar = [1.5, -2, 0.5];
  const bStar = 0.75;
  const y = new Float32Array(32);
  for (let i = 0; i < 32; i++) {
    y[i] = bStar + wStar.reduce((s, wj, j) => s + wj * x.data[i * 3 + j], 0);
  }
  const g = new Graph();
  const w = g.variable('w', NDArray.zeros([3, 1]));
  const b = g.variable('b', NDArray.zeros([1]));
  const loss = mean(square(sub(add(matMul(g.constant(x), w), b), g.constant(new NDArray(y, [32, 1])))));
  return { g, w, b, loss, wStar, bStar };
}

const CONVERGING: [string, () => Optimizer, number][] = [
  ['sgd', () => train.sgd(0.3), 400],
  ['momentum', () => train.momentum(0.05, 0.9), 400],
  ['momentum with Nesterov', () => train.momentum(0.05, 0.9, true), 400],
  ['adam', () => train.adam(0.05), 800],
  ['adamW (tiny decay)', () => train.adamW(0.05, 1e-5), 800],
  ['rmsprop', () => train.rmsprop(0.01), 800],
  ['centered rmsprop with momentum', () => train.rmsprop(0.002, 0.9, 0.9, 1e-7, true), 800],
  ['adagrad', () => train.adagrad(0.5), 800],
];

describe('convergence on least squares', () => {
  test.each(CONVERGING)('%s reaches the minimum', (_name, make, steps) => {
    const { g, w, b, loss, wStar, bStar } = leastSquares(21);
    const trainOp = make().minimize(loss);
    const sess = new Session(g);
    const first = sess.run(loss).get();
    for (let i = 0; i < steps; i++) sess.run(trainOp);
    expect(sess.run(loss).get()).toBeLessThan(first * 1e-4);
    const learned = Array.from(sess.run(w).data);
    learned.forEach((v, j) => expect(Math.abs(v - wStar[j])).toBeLessThan(2e-2));
    expect(Math.abs(sess.run(b).get() - bStar)).toBeLessThan(2e-2);
  });
});

describe('running an update', () => {
  test.each([
    ['sgd', () => train.sgd(0.1)],
    ['adam', () => train.adam(0.1)],
    ['rmsprop', () => train.rmsprop(0.01, 0.9, 0.5, 1e-7, true)],
  ] as [string, () => Optimizer][])(
    '%s: a run fetching the loss and the update gives the pre-update loss',
    (_n, make) => {
      const { g, loss } = lazygradModel(regressionProblem(31));
      const trainOp = make().minimize(loss);
      const sess = new Session(g);
      for (let i = 0; i < 3; i++) {
        const before = sess.run(loss).get();
        const [fetched, done] = sess.run([loss, trainOp]);
        const after = sess.run(loss).get();
        // The two plans may fuse the loss differently (float32 rounding); the step itself moves it far more.
        expect(Math.abs(fetched.get() - before)).toBeLessThan(1e-6 * before);
        expect(Math.abs(after - before)).toBeGreaterThan(1e-3 * before);
        expect(done.toArray()).toBe(true);
      }
    },
  );

  test('each fetch of the update applies exactly one step (the step count counts them)', () => {
    const { g, loss } = lazygradModel(regressionProblem(32));
    const optimizer = train.adam(0.01);
    const trainOp = optimizer.minimize(loss);
    const sess = new Session(g);
    const step = g.byName('adam/step') as Tensor;
    expect(sess.run(step).toArray()).toBe(0);
    for (let i = 1; i <= 4; i++) {
      sess.run(trainOp);
      expect(sess.run(step).toArray()).toBe(i);
    }
  });

  test('a fresh session starts again from the initial values, slots included', () => {
    const { g, w, loss } = lazygradModel(regressionProblem(33));
    const optimizer = train.momentum(0.1, 0.9);
    const trainOp = optimizer.minimize(loss);
    const first = new Session(g);
    for (let i = 0; i < 3; i++) first.run(trainOp);
    const second = new Session(g);
    for (let i = 0; i < 3; i++) second.run(trainOp);
    expect(second.run(w).data).toEqual(first.run(w).data);
    expect(second.run(optimizer.getSlot(w, 'accum') as Tensor).data).toEqual(
      first.run(optimizer.getSlot(w, 'accum') as Tensor).data,
    );
  });

  test.each([1, 2] as const)(
    'the update at optimization level %i gives the values of the unoptimized plan',
    (level) => {
      const run = (optimize: boolean | { level: 0 | 1 | 2 }): Float32Array => {
        const { g, w, loss } = lazygradModel(regressionProblem(34));
        const trainOp = train.adam(0.1).minimize(loss);
        const sess = new Session(g, { optimize });
        for (let i = 0; i < 3; i++) sess.run(trainOp);
        return sess.run(w).data as Float32Array;
      };
      const got = run({ level });
      const reference = run(false);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - reference[i])).toBeLessThan(1e-6);
      expect(got).not.toEqual(regressionProblem(34).w0.data);
    },
  );

  test('a learning rate placeholder is read at run time (0 leaves the weights alone)', () => {
    const { g, w, loss } = lazygradModel(regressionProblem(35));
    const lr = g.placeholder('lr', [], 'float32');
    const trainOp = train.sgd(lr).minimize(loss);
    const sess = new Session(g);
    const start = sess.run(w);
    sess.run(trainOp, { lr: 0 });
    expect(sess.run(w).data).toEqual(start.data);
    const [dw] = sess.run([train.sgd(1).computeGradients(loss, [w])[0][0] as Tensor]);
    sess.run(trainOp, { lr: 0.5 });
    const after = sess.run(w);
    for (let i = 0; i < after.size; i++) expect(after.data[i]).toBeCloseTo(start.data[i] - 0.5 * dw.data[i], 6);
  });

  test('float64 variables train, with a float32 learning rate tensor cast to float64', () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([3, -2], 'float64'));
    const loss = sum(square(w));
    const lr = g.placeholder('lr', [], 'float32');
    const trainOp = train.adam(lr).minimize(loss);
    const sess = new Session(g);
    for (let i = 0; i < 300; i++) sess.run(trainOp, { lr: 0.1 });
    const value = sess.run(w);
    expect(value.dtype).toBe('float64');
    for (const v of value.data) expect(Math.abs(v)).toBeLessThan(0.05);
  });

  test('two updates of one variable fetched in one run are an error naming the variable', () => {
    const { g, loss } = lazygradModel(regressionProblem(36));
    const a = train.sgd(0.1).minimize(loss);
    const b = train.sgd(0.2).minimize(loss);
    expect(() => new Session(g).run([a, b])).toThrow(/variable 'w' is assigned twice/);
  });
});

describe('optimizer state lives in variables', () => {
  test('adam creates w/adam_m, w/adam_v, b/adam_m, b/adam_v and adam/step, listed by g.variables()', () => {
    const { g, loss } = lazygradModel(regressionProblem(41));
    const optimizer = train.adam(0.01);
    optimizer.minimize(loss);
    const names = g.variables().map((v) => v.name);
    expect(names).toEqual(['w', 'b', 'adam/step', 'w/adam_m', 'w/adam_v', 'b/adam_m', 'b/adam_v']);
    expect(optimizer.variables(g).map((v) => v.name)).toEqual(names.slice(2));
  });

  test("slots have their variable's shape and dtype; the step is an int32 scalar", () => {
    const { g, w, loss } = lazygradModel(regressionProblem(42));
    const optimizer = train.rmsprop(0.01, 0.9, 0.9, 1e-7, true);
    optimizer.minimize(loss);
    expect(optimizer.getSlotNames()).toEqual(['ms', 'mom', 'mg']);
    for (const name of optimizer.getSlotNames()) {
      const slot = optimizer.getSlot(w, name) as Tensor;
      expect(slot.name).toBe(`w/rmsprop_${name}`);
      expect(slot.shape).toEqual([3, 2]);
      expect(slot.dtype).toBe('float32');
    }
    const adam = train.adam();
    adam.minimize(loss);
    const step = adam.variables(g)[0];
    expect([step.name, step.dtype, step.shape]).toEqual(['adam/step', 'int32', []]);
  });

  test("slots start at zero, adagrad's accumulator at initialAccumulatorValue", () => {
    const { g, w, loss } = lazygradModel(regressionProblem(43));
    const adagrad = train.adagrad(0.1, 0.25);
    const adam = train.adam();
    adagrad.minimize(loss);
    adam.minimize(loss);
    const sess = new Session(g);
    expect(Array.from(sess.run(adagrad.getSlot(w, 'accum') as Tensor).data)).toEqual(new Array(6).fill(0.25));
    expect(Array.from(sess.run(adam.getSlot(w, 'm') as Tensor).data)).toEqual(new Array(6).fill(0));
  });

  test('slot and step variables are not trainable', () => {
    const { g, loss } = lazygradModel(regressionProblem(44));
    train.adam().minimize(loss);
    expect(g.trainableVariables().map((v) => v.name)).toEqual(['w', 'b']);
  });

  test('minimizing twice with one optimizer reuses its slots and step', () => {
    const { g, loss } = lazygradModel(regressionProblem(45));
    const optimizer = train.adam();
    optimizer.minimize(loss);
    const count = g.variables().length;
    optimizer.minimize(mul(loss, 2));
    expect(g.variables().length).toBe(count);
  });

  test('a second optimizer of the same kind on one graph gets its own names', () => {
    const { g, loss } = lazygradModel(regressionProblem(46));
    train.adam().minimize(loss);
    const second = train.adam();
    second.minimize(loss);
    expect(second.variables(g).map((v) => v.name)).toEqual([
      'adam_1/step',
      'w/adam_1_m',
      'w/adam_1_v',
      'b/adam_1_m',
      'b/adam_1_v',
    ]);
  });

  test('getSlot is null for a variable without an update', () => {
    const { w } = lazygradModel(regressionProblem(47));
    expect(train.adam().getSlot(w, 'm')).toBeNull();
  });
});

describe('variable lists', () => {
  test('variables created with trainable: false are left out of the default varList', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const frozen = g.variable('frozen', [3, 4], { trainable: false });
    const loss = sum(square(mul(w, frozen)));
    const optimizer = train.sgd(0.01);
    expect(optimizer.computeGradients(loss).map(([, v]) => v.name)).toEqual(['w']);
    const trainOp = optimizer.minimize(loss);
    const sess = new Session(g);
    sess.run(trainOp);
    expect(sess.run(frozen).toArray()).toEqual([3, 4]);
    expect(sess.run(w).toArray()).not.toEqual([1, 2]);
  });

  test('an explicit varList trains only those variables, trainable or not', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const frozen = g.variable('frozen', [3, 4], { trainable: false });
    const loss = sum(square(mul(w, frozen)));
    const sess = new Session(g);
    sess.run(train.sgd(0.01).minimize(loss, [frozen]));
    expect(sess.run(w).toArray()).toEqual([1, 2]);
    expect(sess.run(frozen).toArray()).not.toEqual([3, 4]);
  });

  test('int32 variables are left out of the default varList', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const counter = g.variable('counter', 0, 'int32');
    const loss = sum(square(mul(w, cast(counter, 'float32'))));
    expect(
      train
        .sgd(0.1)
        .computeGradients(loss)
        .map(([, v]) => v.name),
    ).toEqual(['w']);
  });

  test('computeGradients gives null for a variable the loss does not depend on; applyGradients skips it', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const unused = g.variable('unused', [5]);
    const loss = sum(square(w));
    const optimizer = train.sgd(0.5);
    const pairs = optimizer.computeGradients(loss);
    expect(pairs.map(([grad, v]) => [grad === null, v.name])).toEqual([
      [false, 'w'],
      [true, 'unused'],
    ]);
    const sess = new Session(g);
    sess.run(optimizer.applyGradients(pairs));
    expect(sess.run(w).toArray()).toEqual([0, 0]);
    expect(sess.run(unused).toArray()).toEqual([5]);
  });

  test('applyGradients takes transformed gradients', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const optimizer = train.sgd(1);
    const pairs = optimizer.computeGradients(sum(square(w)));
    const sess = new Session(g);
    sess.run(optimizer.applyGradients(pairs.map(([grad, v]) => [mul(grad as Tensor, 0.25), v])));
    expect(sess.run(w).toArray()).toEqual([0.5, 1]);
  });
});

describe('misuse', () => {
  test('minimize with a loss that depends on no variable is a GraphError naming them', () => {
    const g = new Graph();
    g.variable('w', [1]);
    const loss = sum(g.constant([1, 2]));
    expect(() => train.sgd(0.1).minimize(loss)).toThrow(/depends on none of the variables 'w'/);
  });

  test('minimize on a graph without trainable variables is a GraphError', () => {
    const g = new Graph();
    g.variable('w', [1], { trainable: false });
    expect(() => train.sgd(0.1).minimize(sum(g.placeholder('x', [2])))).toThrow(GraphError);
  });

  test('training an int32 variable is a DTypeError', () => {
    const g = new Graph();
    const n = g.variable('n', [1], 'int32');
    expect(() => train.sgd(0.1).computeGradients(sum(cast(n, 'float32')), [n])).toThrow(DTypeError);
  });

  test('training a non-variable is a GraphError', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    expect(() => train.sgd(0.1).minimize(sum(square(x)), [x])).toThrow(/only variables can be trained/);
  });

  test('a gradient of the wrong shape is a ShapeError, of the wrong dtype a DTypeError', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    expect(() => train.sgd(0.1).applyGradients([[g.constant([1, 2, 3]), w]])).toThrow(ShapeError);
    expect(() => train.sgd(0.1).applyGradients([[g.constant(NDArray.from([1, 2], 'float64')), w]])).toThrow(DTypeError);
  });

  test('one variable twice in applyGradients is a GraphError', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    const grad = g.constant([1, 1]);
    expect(() =>
      train.sgd(0.1).applyGradients([
        [grad, w],
        [grad, w],
      ]),
    ).toThrow(/appears twice/);
  });

  test('applyGradients with only null gradients is a GraphError', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2]);
    expect(() => train.adam().applyGradients([[null, w]])).toThrow(/no gradients for any variable/);
  });

  test.each([
    ['a negative learning rate', () => train.sgd(-1)],
    ['a NaN learning rate', () => train.sgd(Number.NaN)],
    ['a negative momentum', () => train.momentum(0.1, -0.5)],
    ['beta1 = 1', () => train.adam(0.1, 1)],
    ['a negative epsilon', () => train.adam(0.1, 0.9, 0.999, -1)],
    ['a negative weight decay', () => train.adamW(0.1, -0.1)],
    ['rmsprop decay above 1', () => train.rmsprop(0.1, 1.5)],
    ['a negative initial accumulator', () => train.adagrad(0.1, -1)],
  ])('%s is a GraphError', (_what, make) => {
    expect(make).toThrow(GraphError);
  });

  test('a learning rate tensor that is not a float scalar is a DTypeError', () => {
    const g = new Graph();
    expect(() => train.sgd(g.placeholder('lr', [2]))).toThrow(DTypeError);
    expect(() => train.sgd(g.placeholder('n', [], 'int32'))).toThrow(DTypeError);
  });
});
