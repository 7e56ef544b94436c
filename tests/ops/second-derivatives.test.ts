/**
 * Second derivatives beyond the per-op rows of the op table (suites/second-order.test.ts): exact derivatives of
 * x³, composites through broadcasting and reductions, run-time shapes, and Hessian-vector products of a small MLP
 * against finite differences of its gradient.
 */
import {
  Graph,
  NDArray,
  Session,
  Tensor,
  add,
  checkGradients,
  exp,
  gradients,
  matMul,
  max,
  mean,
  mul,
  pow,
  reshape,
  sin,
  square,
  sub,
  sum,
  tanh,
} from '../../src';
import { checkSecondOrder, expectSecondOrderMatches } from './harness';
import { Rng, expectClose, input, randomArray, weightedSum } from './util';

type Feed = [Tensor, NDArray];

function firstGradients(loss: Tensor, xs: readonly Tensor[]): Tensor[] {
  const grads = gradients(loss, xs);
  grads.forEach((d, i) => {
    if (d === null) throw new Error(`no first gradient for '${xs[i].name}'`);
  });
  return grads as Tensor[];
}

describe('x³', () => {
  // Values with short mantissas, so that every intermediate product and sum is exact.
  const values = [-3, -1.25, 0, 0.5, 2.75, 7];

  test.each([
    ['pow(x, 3)', (x: Tensor) => pow(x, 3)],
    ['mul(mul(x, x), x)', (x: Tensor) => mul(mul(x, x), x)],
  ])('d²/dx² of %s is exactly 6x', (_label, cube) => {
    const g = new Graph();
    const x = g.placeholder('x', [6], 'float64');
    const [dx] = firstGradients(sum(cube(x)), [x]);
    const [d2x] = firstGradients(sum(dx), [x]);
    const out = new Session(g).run([dx, d2x], new Map([[x, NDArray.from(values, 'float64')]]));
    expect(Array.from(out[0].data)).toEqual(values.map((v) => 3 * v * v));
    expect(Array.from(out[1].data)).toEqual(values.map((v) => 6 * v));
  });

  test('the third derivative of x³ is exactly 6', () => {
    const g = new Graph();
    const x = g.placeholder('x', [6], 'float64');
    const [dx] = firstGradients(sum(pow(x, 3)), [x]);
    const [d2x] = firstGradients(sum(dx), [x]);
    const [d3x] = firstGradients(sum(d2x), [x]);
    const out = new Session(g).run(d3x, new Map([[x, NDArray.from(values, 'float64')]]));
    expect(Array.from(out.data)).toEqual(values.map(() => 6));
  });
});

describe('binary ops', () => {
  test('mul with broadcasting [2, 1] x [1, 4] (second order through sumTo)', () => {
    checkSecondOrder(2302, [{ shape: [2, 1] }, { shape: [1, 4] }], (a, b) => tanh(mul(a, b)));
  });

  test('sub and add inside a nonlinearity', () => {
    checkSecondOrder(2304, [{ shape: [3] }, { shape: [2, 3] }], (a, b) => sin(add(square(sub(a, b)), a)));
  });
});

describe('reductions', () => {
  test('reductions inside nonlinearities: sum, mean and max', () => {
    const rng = new Rng(2404);
    const g = new Graph();
    const x = g.placeholder('x', [3, 4], 'float64');
    const value = NDArray.from(
      [
        [0.1, 0.9, -0.4, 0.5],
        [1.2, -0.3, 0.25, 0.6],
        [-1, 0.35, 0.7, -0.8],
      ],
      'float64',
    );
    const y = add(add(tanh(sum(x, 1, true)), square(mean(x, 0, true))), exp(max(x, -1, true))); // [3, 4]
    expectSecondOrderMatches(rng, weightedSum(rng, y), [[x, value]]);
  });
});

describe('unknown (null) dims: second derivatives through run-time-shaped gradient ops', () => {
  // sumTo/broadcastLike/reshapeLike/reducedSize are differentiated again here.
  function checkDynamic(
    seed: number,
    inputs: readonly [(number | null)[], number[]][],
    build: (...xs: Tensor[]) => Tensor,
  ): void {
    const rng = new Rng(seed);
    const g = new Graph();
    const feeds: Feed[] = inputs.map(([staticShape, fedShape], i) => [
      g.placeholder(`x${i}`, staticShape, 'float64'),
      randomArray(rng, fedShape, 'float64'),
    ]);
    const xs = feeds.map(([x]) => x);
    const grads = firstGradients(sum(sin(build(...xs))), xs);
    // The first gradients have unknown dims too, so they are reduced with sin (not with static weights).
    let z = sum(sin(grads[0]));
    for (let i = 1; i < grads.length; i++) z = add(z, sum(sin(grads[i])));
    const result = checkGradients(z, xs, new Map(feeds), { tolerance: 1e-6 });
    expect(result.maxError).toBeLessThan(1e-6);
  }

  test('[null, 1] * [1, null] broadcasting', () => {
    checkDynamic(
      2600,
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

  test('mean and max over unknown dims', () => {
    checkDynamic(
      2601,
      [
        [
          [null, null],
          [3, 4],
        ],
      ],
      (x) => add(mean(square(x), 0, true), max(x, 1, true)),
    );
  });

  test('reshape with -1 of an input with an unknown dim', () => {
    checkDynamic(
      2602,
      [
        [
          [null, 4],
          [3, 4],
        ],
      ],
      (x) => square(reshape(x, [-1, 2])),
    );
  });
});

describe('Hessian-vector products', () => {
  /** A 2-layer tanh MLP with a squared-error loss; parameters are placeholders so they can be perturbed. */
  function mlp(rng: Rng): { g: Graph; loss: Tensor; params: Feed[] } {
    const g = new Graph();
    const x = g.constant(randomArray(rng, [5, 3]));
    const t = g.constant(randomArray(rng, [5, 2]));
    const params = [
      input(g, rng, 'w1', [3, 4], { lo: -1, hi: 1 }),
      input(g, rng, 'b1', [4], { lo: -0.5, hi: 0.5 }),
      input(g, rng, 'w2', [4, 2], { lo: -1, hi: 1 }),
      input(g, rng, 'b2', [2], { lo: -0.5, hi: 0.5 }),
    ];
    const [w1, b1, w2, b2] = params.map(([p]) => p);
    const hidden = tanh(add(matMul(x, w1), b1));
    const out = add(matMul(hidden, w2), b2);
    const loss = mean(square(sub(out, t)));
    return { g, loss, params };
  }

  test('HVP = gradients(sum(grad · v), params) matches (grad(p + εv) − grad(p − εv)) / 2ε', () => {
    const rng = new Rng(2500);
    const { g, loss, params } = mlp(rng);
    const ps = params.map(([p]) => p);
    const grads = firstGradients(loss, ps);
    const vs = params.map(([p, value]) => g.placeholder(`v_${p.name}`, [...value.shape], 'float64'));
    const vValues = params.map(([, value]) => randomArray(rng, value.shape, 'float64'));
    let dot = sum(mul(grads[0], vs[0]));
    for (let i = 1; i < grads.length; i++) dot = add(dot, sum(mul(grads[i], vs[i])));
    const hvp = firstGradients(dot, ps);

    const sess = new Session(g);
    const feeds = new Map<Tensor, NDArray>();
    params.forEach(([p, value]) => feeds.set(p, value));
    vs.forEach((v, i) => feeds.set(v, vValues[i]));
    const analytic = sess.run(hvp, feeds);

    const eps = 1e-5;
    const shifted = (sign: number): NDArray[] => {
      const moved = new Map<Tensor, NDArray>();
      params.forEach(([p, value], i) => {
        const data = Float64Array.from(value.data, (v, j) => v + sign * eps * vValues[i].data[j]);
        moved.set(p, new NDArray(data, value.shape, 'float64'));
      });
      return sess.run(grads, moved);
    };
    const plus = shifted(1);
    const minus = shifted(-1);
    analytic.forEach((a, i) => {
      const numeric = new NDArray(
        Float64Array.from(plus[i].data, (v, j) => (v - minus[i].data[j]) / (2 * eps)),
        a.shape,
        'float64',
      );
      expectClose(a, numeric, 1e-7, `HVP block for ${ps[i].name}`);
    });
    // Not vacuous: the product is far from zero.
    expect(Math.max(...analytic.flatMap((a) => Array.from(a.data, Math.abs)))).toBeGreaterThan(1e-3);
  });

  test('the Hessian assembled from HVPs with basis vectors is symmetric', () => {
    const rng = new Rng(2501);
    const { g, loss, params } = mlp(rng);
    // Only w2 and b2 (10 parameters) to keep it small.
    const sub2 = params.slice(2);
    const ps = sub2.map(([p]) => p);
    const grads = firstGradients(loss, ps);
    const vs = sub2.map(([p, value]) => g.placeholder(`v_${p.name}`, [...value.shape], 'float64'));
    let dot = sum(mul(grads[0], vs[0]));
    for (let i = 1; i < grads.length; i++) dot = add(dot, sum(mul(grads[i], vs[i])));
    const hvp = firstGradients(dot, ps);
    const sizes = sub2.map(([, v]) => v.size);
    const n = sizes.reduce((a, b) => a + b, 0);
    const sess = new Session(g);
    const rows: number[][] = [];
    for (let k = 0; k < n; k++) {
      const feeds = new Map<Tensor, NDArray>(params.map(([p, v]) => [p, v]));
      let offset = 0;
      sub2.forEach(([, value], i) => {
        const data = new Float64Array(value.size);
        if (k >= offset && k < offset + value.size) data[k - offset] = 1;
        feeds.set(vs[i], new NDArray(data, value.shape, 'float64'));
        offset += value.size;
      });
      rows.push(sess.run(hvp, feeds).flatMap((a) => Array.from(a.data)));
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) expect(Math.abs(rows[i][j] - rows[j][i])).toBeLessThan(1e-12);
    }
  });
});
