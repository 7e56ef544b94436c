/**
 * Gradients against central finite differences (checkGradients), in float64, beyond the per-op sweeps of the op
 * table (suites/gradients-fd.test.ts): fan-out, static gradient shapes, pow's conventions, ties, unknown dims,
 * where under a constant condition, cast, stopGradient, and composites.
 */
import {
  Graph,
  NDArray,
  Session,
  Tensor,
  add,
  broadcastTo,
  cast,
  div,
  exp,
  expandDims,
  gradients,
  greater,
  log,
  logSoftmax,
  matMul,
  max,
  mean,
  mul,
  neg,
  onesLike,
  pow,
  relu,
  reshape,
  sin,
  softmax,
  square,
  squeeze,
  stopGradient,
  sub,
  sum,
  transpose,
  where,
  zerosLike,
} from '../../src';
import { checkFiniteDifferences, expectGradientsMatch } from './harness';
import { RandomOptions, Rng, expectClose, input, randomArray, weightedSum } from './util';

type Feed = [Tensor, NDArray];

describe('unary ops', () => {
  test('a tensor used twice (fan-out) accumulates both contributions', () => {
    checkFiniteDifferences(1011, [{ shape: [5] }], (x) => add(mul(x, x), sin(x)));
  });
});

describe('binary ops with broadcasting', () => {
  test.each([
    ['[2, 3] op [3]', [2, 3], [3]],
    ['[2, 1] op [1, 4]', [2, 1], [1, 4]],
  ])("the gradient tensors of %s have each operand's own static shape", (_label, sa, sb) => {
    const g = new Graph();
    const a = g.placeholder('a', sa, 'float64');
    const b = g.placeholder('b', sb, 'float64');
    for (const op of [add, sub, mul, div, pow]) {
      const [da, db] = gradients(sum(op(a, b)), [a, b]) as Tensor[];
      expect(da.shape).toEqual(sa);
      expect(db.shape).toEqual(sb);
    }
  });

  test('pow with negative bases and integer exponents: gradient w.r.t. the base', () => {
    const g = new Graph();
    const rng = new Rng(1120);
    const x = g.placeholder('x', [6], 'float64');
    const value = NDArray.from([-2.5, -1.5, -0.7, 0.6, 1.3, 2.2], 'float64');
    for (const e of [-3, -2, 2, 3, 4]) {
      expectGradientsMatch(weightedSum(rng, pow(x, e)), [[x, value]]);
    }
  });

  test('pow: the exponent gradient is 0, not NaN, where the base is <= 0 (TensorFlow convention)', () => {
    const g = new Graph();
    const a = g.placeholder('a', [3], 'float64');
    const b = g.placeholder('b', [3], 'float64');
    const [db] = gradients(sum(pow(a, b)), [b]) as Tensor[];
    const out = new Session(g).run(
      db,
      new Map([
        [a, NDArray.from([-2, 0, 2], 'float64')],
        [b, NDArray.from([2, 3, 3], 'float64')],
      ]),
    );
    expect(out.get(0)).toBe(0);
    expect(out.get(1)).toBe(0);
    expect(out.get(2)).toBeCloseTo(8 * Math.log(2), 12);
  });
});

describe('reductions', () => {
  test('max splits the gradient equally between tied maxima', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3], 'float64');
    const [dx] = gradients(sum(max(x, 1)), [x]) as Tensor[];
    const out = new Session(g).run(
      dx,
      new Map([
        [
          x,
          NDArray.from(
            [
              [1, 3, 3],
              [5, 5, 5],
            ],
            'float64',
          ),
        ],
      ]),
    );
    expect(out.toArray()).toEqual([
      [0, 0.5, 0.5],
      [1 / 3, 1 / 3, 1 / 3],
    ]);
  });

  test('mean over an unknown dim (the count is computed at run time)', () => {
    const rng = new Rng(1301);
    const g = new Graph();
    const x = g.placeholder('x', [null, 3], 'float64');
    const b = g.placeholder('b', [3], 'float64');
    const loss = mean(square(add(x, b)), 0);
    expectGradientsMatch(sum(mul(loss, g.constant(NDArray.from([0.5, -1, 2], 'float64')))), [
      [x, randomArray(rng, [4, 3])],
      [b, randomArray(rng, [3])],
    ]);
  });
});

describe('softmax and logSoftmax', () => {
  test('a softmax cross-entropy loss: -sum(labels * logSoftmax(logits))', () => {
    const rng = new Rng(1402);
    const g = new Graph();
    const [logits, value] = input(g, rng, 'logits', [4, 3]);
    const labels = g.constant(
      NDArray.from(
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
          [0.5, 0.5, 0],
        ],
        'float64',
      ),
    );
    expectGradientsMatch(neg(mean(sum(mul(labels, logSoftmax(logits)), -1))), [[logits, value]]);
  });
});

describe('movement ops', () => {
  test('reshape of an input with an unknown dim', () => {
    const rng = new Rng(1501);
    const g = new Graph();
    const x = g.placeholder('x', [null, 4], 'float64');
    const y = reshape(x, [-1, 2]);
    const w = g.constant(randomArray(rng, [2], 'float64'));
    expectGradientsMatch(sum(mul(square(y), w)), [[x, randomArray(rng, [3, 4])]]);
  });
});

describe('where, cast, stopGradient and constants', () => {
  test('where(cond, a, b): the gradient goes to a where cond is true, else to b', () => {
    const rng = new Rng(1600);
    const g = new Graph();
    const cond = g.constant(
      NDArray.from([
        [true, false, true],
        [false, false, true],
      ]),
    );
    const [a, av] = input(g, rng, 'a', [2, 3]);
    const [b, bv] = input(g, rng, 'b', [2, 3]);
    expectGradientsMatch(weightedSum(rng, where(cond, a, b)), [
      [a, av],
      [b, bv],
    ]);
  });

  test('where with broadcasting: cond [2, 3], a [3], b []', () => {
    const rng = new Rng(1601);
    const g = new Graph();
    const cond = g.constant(
      NDArray.from([
        [true, false, true],
        [false, false, true],
      ]),
    );
    const [a, av] = input(g, rng, 'a', [3]);
    const [b, bv] = input(g, rng, 'b', []);
    expectGradientsMatch(weightedSum(rng, where(cond, a, b)), [
      [a, av],
      [b, bv],
    ]);
  });

  test('cast float64 -> float32 passes the gradient back as float64', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const w = g.constant(NDArray.from([0.5, -2, 4], 'float32'));
    const [dx] = gradients(sum(mul(cast(x, 'float32'), w)), [x]) as Tensor[];
    expect(dx.dtype).toBe('float64');
    const out = new Session(g).run(dx, new Map([[x, NDArray.from([1, 2, 3], 'float64')]]));
    expect(Array.from(out.data)).toEqual([0.5, -2, 4]);
  });

  test('cast to int32 passes no gradient', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const y = add(x, cast(cast(x, 'int32'), 'float64'));
    const [dx] = gradients(sum(y), [x]) as Tensor[];
    const out = new Session(g).run(dx, new Map([[x, NDArray.from([1.5, 2, 3], 'float64')]]));
    expect(Array.from(out.data)).toEqual([1, 1, 1]);
  });

  test('stopGradient blocks the gradient: d/dx [stopGradient(x) * x] = x', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const [dx] = gradients(sum(mul(stopGradient(x), x)), [x]) as Tensor[];
    const out = new Session(g).run(dx, new Map([[x, NDArray.from([1.5, -2, 3], 'float64')]]));
    expect(Array.from(out.data)).toEqual([1.5, -2, 3]);
  });

  test('zerosLike and onesLike carry no gradient', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    expect(gradients(sum(zerosLike(x)), [x])).toEqual([null]);
    expect(gradients(sum(onesLike(x)), [x])).toEqual([null]);
  });
});

describe('unknown (null) dims: gradients built from run-time shapes', () => {
  // The loss is sum(sin(y)): no weights of a static shape are needed, and sin makes every element count.
  function checkDynamic(
    seed: number,
    inputs: readonly [readonly (number | null)[], readonly number[], RandomOptions?][],
    build: (...xs: Tensor[]) => Tensor,
  ): void {
    const rng = new Rng(seed);
    const g = new Graph();
    const feeds: Feed[] = inputs.map(([staticShape, fedShape, options], i) => [
      g.placeholder(`x${i}`, staticShape, 'float64'),
      randomArray(rng, fedShape, 'float64', options),
    ]);
    expectGradientsMatch(sum(sin(build(...feeds.map(([x]) => x)))), feeds);
  }

  test('[null, 1] * [1, null] broadcasting (sumTo with run-time shapes)', () => {
    checkDynamic(
      1800,
      [
        [
          [null, 1],
          [3, 1],
        ],
        [
          [1, null],
          [1, 4],
        ],
      ],
      mul,
    );
  });

  test('[null, 3] + [3] and [null, 3] / [] ', () => {
    checkDynamic(
      1801,
      [
        [
          [null, 3],
          [2, 3],
        ],
        [[3], [3]],
        [[], [], { lo: 0.5, hi: 2 }],
      ],
      (a, b, c) => div(add(a, b), c),
    );
  });

  test.each([
    ['sum', sum],
    ['mean', mean],
    ['max', max],
  ] as const)('%s over an unknown dim, with and without keepDims', (_name, op) => {
    checkDynamic(
      1802,
      [
        [
          [null, null],
          [3, 4],
        ],
      ],
      (x) => add(op(square(x), 0, true), expandDims(op(x, 1), 1)),
    );
  });

  test('batched matMul with unknown batch and output dims', () => {
    checkDynamic(
      1803,
      [
        [
          [null, 2, 3],
          [2, 2, 3],
        ],
        [
          [3, null],
          [3, 2],
        ],
      ],
      (a, b) => matMul(a, b),
    );
  });

  test('softmax and logSoftmax over an unknown axis', () => {
    checkDynamic(
      1804,
      [
        [
          [null, 3],
          [4, 3],
        ],
      ],
      (x) => add(softmax(x, 0), logSoftmax(x, 1)),
    );
  });

  test('broadcastTo, transpose, expandDims/squeeze and where with an unknown dim', () => {
    const cond = (x: Tensor): Tensor => greater(transpose(x), 0.2);
    checkDynamic(
      1805,
      [
        [
          [null, 1],
          [3, 1],
        ],
      ],
      (x) => {
        const wide = broadcastTo(x, [3, 4]);
        const t = transpose(squeeze(expandDims(wide, 0), 0));
        return where(cond(wide), t, square(t));
      },
    );
  });
});

describe('composites', () => {
  test('a two-layer relu/softmax MLP: gradient w.r.t. every parameter', () => {
    const rng = new Rng(1700);
    const g = new Graph();
    const [x, xv] = input(g, rng, 'x', [5, 3]);
    const [w1, w1v] = input(g, rng, 'w1', [3, 4]);
    const [b1, b1v] = input(g, rng, 'b1', [4]);
    const [w2, w2v] = input(g, rng, 'w2', [4, 2]);
    const [b2, b2v] = input(g, rng, 'b2', [2]);
    const hidden = relu(add(matMul(x, w1), b1));
    const probs = softmax(add(matMul(hidden, w2), b2));
    const labels = g.constant(
      NDArray.from(
        [
          [1, 0],
          [0, 1],
          [1, 0],
          [1, 0],
          [0, 1],
        ],
        'float64',
      ),
    );
    const loss = neg(mean(sum(mul(labels, log(probs)), 1)));
    // Keep relu away from its kink: check the pre-activations first.
    const pre = new Session(g).run(
      add(matMul(x, w1), b1),
      new Map([
        [x, xv],
        [w1, w1v],
        [b1, b1v],
      ]),
    );
    expect(Math.min(...Array.from(pre.data, Math.abs))).toBeGreaterThan(1e-3);
    expectGradientsMatch(loss, [
      [x, xv],
      [w1, w1v],
      [b1, b1v],
      [w2, w2v],
      [b2, b2v],
    ]);
  });

  test('gradients are the same with the optimizer off', () => {
    const rng = new Rng(1701);
    const g = new Graph();
    const [x, xv] = input(g, rng, 'x', [3, 4]);
    const y = sum(mul(exp(softmax(x)), g.constant(randomArray(rng, [3, 4]))));
    const [dx] = gradients(y, [x]) as Tensor[];
    const feeds = new Map([[x, xv]]);
    const optimized = new Session(g).run(dx, feeds);
    const plain = new Session(g, { optimize: false }).run(dx, feeds);
    expectClose(optimized, plain, 1e-14);
  });
});
