import {
  add,
  div,
  exp,
  Graph,
  gradients,
  log,
  mean,
  mul,
  neg,
  NDArray,
  optimize,
  Session,
  softmax,
  sum,
  Tensor,
} from '../../src';

const naive = { optimize: { level: 1 as const } };

function finite(values: ArrayLike<number>): boolean {
  return Array.from(values).every(Number.isFinite);
}

describe('stabilization', () => {
  test('cross-entropy written as −Σ labels·log(softmax(x)) becomes the fused op: finite at logits ±1000', () => {
    const g = new Graph();
    const logits = g.placeholder('logits', [2, 3]);
    const labels = g.placeholder('labels', [2, 3]);
    const loss = mean(neg(sum(mul(labels, log(softmax(logits))), -1)));
    const [dLogits] = gradients(loss, [logits]) as Tensor[];
    const feeds = {
      logits: [
        [1000, -1000, 0],
        [0, 1, 2],
      ],
      labels: [
        [0, 1, 0],
        [0, 0, 1],
      ],
    };
    const { graph } = optimize(g, [loss], { disable: ['fuse'] });
    expect(graph.nodes.map((n) => n.op)).toContain('softmaxCrossEntropyWithLogits');
    const [badLoss, badGrad] = new Session(g, naive).run([loss, dLogits], feeds);
    const [goodLoss, goodGrad] = new Session(g).run([loss, dLogits], feeds);
    expect(finite(badLoss.data) && finite(badGrad.data)).toBe(false);
    // row 0: −log softmax at the −1000 logit = 2000; row 1: the usual value
    const row1 = -(2 - Math.log(Math.exp(0) + Math.exp(1) + Math.exp(2)));
    expect(goodLoss.get()).toBeCloseTo((2000 + row1) / 2, 2);
    expect(finite(goodGrad.data)).toBe(true);
    // softmax − labels, over the batch of 2
    expect(goodGrad.data[0]).toBeCloseTo(0.5, 5);
    expect(goodGrad.data[1]).toBeCloseTo(-0.5, 5);
  });

  test('the gradient of log(softmax(x)) is rewritten to the stable logSoftmax gradient', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3]);
    const [dx] = gradients(sum(mul(log(softmax(x)), g.constant([[1, 2, 3]]))), [x]) as Tensor[];
    const feeds = { x: [[0, 1000, -1000]] };
    expect(finite(new Session(g, naive).run(dx, feeds).data)).toBe(false);
    const good = new Session(g).run(dx, feeds);
    // d − s·Σd with d = [1, 2, 3], s = [0, 1, 0]
    expect(Array.from(good.data)).toEqual([1, -4, 3]);
  });

  test('a sigmoid written as 1/(1 + exp(−x)) gets a stable op and the staged gradient σ(1 − σ)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4]);
    const y = div(1, add(1, exp(neg(x))));
    const [dx] = gradients(sum(y), [x]) as Tensor[];
    const feeds = { x: [-1000, -1, 0, 2] };
    const [, badGrad] = new Session(g, naive).run([y, dx], feeds);
    expect(finite(badGrad.data)).toBe(false);
    const [value, grad] = new Session(g).run([y, dx], feeds);
    const sigma = [-1000, -1, 0, 2].map((v) => 1 / (1 + Math.exp(-v)));
    sigma.forEach((s, i) => {
      expect(value.data[i]).toBeCloseTo(s, 6);
      expect(grad.data[i]).toBeCloseTo(s * (1 - s), 6);
    });
    const { report } = optimize(g, [y, dx], { disable: ['fuse'] });
    const fired = report.flatMap((r) => Object.keys(r.changes).filter((k) => r.changes[k] > 0));
    expect(fired).toEqual(expect.arrayContaining(['sigmoid-formula', 'sigmoid-gradient']));
  });

  test('log(1 + x) → log1p and exp(x) − 1 → expm1 keep precision for tiny x', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1], 'float64');
    const a = log(add(1, x));
    const c = exp(x).sub(1);
    const feeds = new Map([[x, NDArray.from([1e-18], 'float64')]]);
    const [la, lc] = new Session(g, naive).run([a, c], feeds);
    expect(la.get()).toBe(0); // 1 + 1e-18 rounds to 1
    expect(lc.get()).toBe(0);
    const [ga, gc] = new Session(g).run([a, c], feeds);
    expect(ga.get()).toBe(1e-18);
    expect(gc.get()).toBe(1e-18);
  });

  test('logSigmoid is finite where log(sigmoid(x)) underflows', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1]);
    const y = log(g.constant(1).mul(x).sigmoid());
    expect(new Session(g, naive).run(y, { x: [-200] }).get()).toBe(-Infinity);
    expect(new Session(g).run(y, { x: [-200] }).get()).toBeCloseTo(-200, 3);
  });
});
