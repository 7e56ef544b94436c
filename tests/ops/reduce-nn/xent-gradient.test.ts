/**
 * softmaxCrossEntropyWithLogits builds logSoftmax + softmaxCrossEntropyFromLogSoftmax, so that the logits gradient
 * (exp(ls) − labels)·dy reads the forward's log-softmax instead of recomputing softmax (issue 20). Structural facts
 * of the optimized MLP training step, values against the one-kernel primitive (whose gradient recomputes softmax),
 * Hessian-vector products against finite differences and jvp against the closed form, in float64.
 */
import {
  add,
  apply,
  DType,
  gradients,
  Graph,
  jvp,
  logSoftmax,
  matMul,
  mean,
  mul,
  neg,
  NDArray,
  optimize,
  relu,
  Session,
  SOFTMAX_CROSS_ENTROPY,
  softmaxCrossEntropyWithLogits,
  sum,
  tanh,
  Tensor,
  train,
} from '../../../src';
import { oneHotLabels, softLabels } from '../cases/losses';
import { expectClose, randomArray, Rng } from '../util';

/** The ops whose kernels run a max and a sum of exp over their input's class axis. */
const ROW_EXP_OPS = ['softmax', 'logSoftmax', 'logSumExp', 'softmaxCrossEntropyWithLogits'];

type LossBuilder = (labels: Tensor, logits: Tensor) => Tensor;
const twoNodes: LossBuilder = (labels, logits) => softmaxCrossEntropyWithLogits(labels, logits);
const fusedPrimitive: LossBuilder = (labels, logits) => apply(SOFTMAX_CROSS_ENTROPY, [labels, logits], { axis: 1 });

/** The MLP 784-256-256-10 at batch 128 with one SGD step: the loss and the update, as the training demo builds it. */
function mlpStep(xent: LossBuilder, widths = [784, 256, 256, 10], batch = 128) {
  const rng = new Rng(7);
  const g = new Graph();
  const x = g.placeholder('x', [batch, widths[0]]);
  const labels = g.placeholder('labels', [batch, widths[widths.length - 1]]);
  let h: Tensor = x;
  let logits: Tensor = x;
  for (let i = 0; i + 1 < widths.length; i++) {
    const scale = Math.sqrt(2 / widths[i]);
    const w = g.variable(`w${i}`, randomArray(rng, [widths[i], widths[i + 1]], 'float32', { lo: -scale, hi: scale }));
    const b = g.variable(`b${i}`, randomArray(rng, [widths[i + 1]], 'float32', { lo: -0.1, hi: 0.1 }));
    logits = add(matMul(h, w), b);
    h = relu(logits);
  }
  const loss = mean(xent(labels, logits));
  const step = train.sgd(0.1).minimize(loss);
  const feeds = new Map([
    [x, randomArray(rng, [batch, widths[0]], 'float32')],
    [labels, oneHotLabels(rng, batch, widths[widths.length - 1])],
  ]);
  return { g, loss, step, feeds, logits };
}

/** Nodes of the optimized step that run a max/sum-exp reduction over the logits' class axis. */
function rowExpReductions(xent: LossBuilder): string[] {
  const { g, loss, step } = mlpStep(xent);
  const { graph } = optimize(g, [loss, step]);
  return graph.nodes.filter((n) => ROW_EXP_OPS.includes(n.op)).map((n) => n.op);
}

describe('the cross-entropy gradient reads the forward log-softmax', () => {
  test('the optimized MLP training step has one max/sum-exp reduction over the logits (two with the primitive)', () => {
    expect(rowExpReductions(twoNodes)).toEqual(['logSoftmax']);
    // The peer: the one-kernel primitive, whose gradient builds softmax(logits) again.
    expect(rowExpReductions(fusedPrimitive).sort()).toEqual(['softmax', 'softmaxCrossEntropyWithLogits']);
  });

  test('the logits gradient is one fused elementwise group over the log-softmax', () => {
    const { g, loss, step } = mlpStep(twoNodes);
    const { graph } = optimize(g, [loss, step]);
    const ls = graph.nodes.find((n) => n.op === 'logSoftmax');
    const readers = graph.nodes.filter((n) => ls !== undefined && n.inputs.includes(ls.id)).map((n) => n.op);
    expect(readers.sort()).toEqual(['fused', 'softmaxCrossEntropyFromLogSoftmax']);
    const group = graph.nodes.find((n) => n.op === 'fused' && ls !== undefined && n.inputs.includes(ls.id));
    expect(String(group?.attrs.expr)).toMatch(/exp\(/);
  });

  test('training steps give the losses and weights of the primitive, to float32 rounding', () => {
    const runs = [twoNodes, fusedPrimitive].map((xent) => {
      const { g, loss, step, feeds } = mlpStep(xent, [32, 16, 16, 10], 16);
      const sess = new Session(g);
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) losses.push(sess.run([loss, step], feeds)[0].data[0] as number);
      return { losses, weights: [...sess.variableValues().values()] };
    });
    expectClose({ shape: [5], data: runs[0].losses }, { shape: [5], data: runs[1].losses }, 1e-5);
    runs[0].weights.forEach((w, i) => expectClose(w, runs[1].weights[i], 1e-5));
  });

  /** A float64 tanh layer into the loss: logits = tanh(x·w)·3, soft labels. */
  function smallLoss(g: Graph, w: Tensor, rng: Rng): Tensor {
    const x = g.constant(randomArray(rng, [5, 4], 'float64'));
    const labels = g.constant(softLabels(rng, [5, 3], -1, 'float64'));
    return mean(softmaxCrossEntropyWithLogits(labels, tanh(matMul(x, w))));
  }

  test('Hessian-vector products through the loss match finite differences of the gradient (float64)', () => {
    const rng = new Rng(11);
    const wValue = randomArray(rng, [4, 3], 'float64');
    const v = randomArray(rng, [4, 3], 'float64');
    const g = new Graph();
    const w = g.placeholder('w', [4, 3], 'float64' as DType);
    const loss = smallLoss(g, w, rng);
    const [grad] = gradients(loss, [w]) as Tensor[];
    const [hvp] = gradients(sum(mul(grad, g.constant(v))), [w]) as Tensor[];
    const sess = new Session(g);
    const eps = 1e-5;
    const shifted = (sign: number): NDArray =>
      sess.run(
        grad,
        new Map([
          [
            w,
            new NDArray(
              wValue.data.map((a, i) => a + sign * eps * v.data[i]),
              [4, 3],
            ),
          ],
        ]),
      );
    const plus = shifted(1);
    const minus = shifted(-1);
    const fd = new NDArray(
      plus.data.map((p, i) => (p - (minus.data[i] as number)) / (2 * eps)),
      [4, 3],
    );
    expectClose(sess.run(hvp, new Map([[w, wValue]])), fd, 1e-7);
  });

  test('jvp of the loss is Σ (softmax − labels)·ṫ − Σ ls·l̇ (float64)', () => {
    const rng = new Rng(12);
    const g = new Graph();
    const logits = g.placeholder('logits', [3, 4], 'float64' as DType);
    const labels = g.placeholder('labels', [3, 4], 'float64' as DType);
    const loss = softmaxCrossEntropyWithLogits(labels, logits);
    const t = randomArray(rng, [3, 4], 'float64');
    const tl = randomArray(rng, [3, 4], 'float64');
    const [tangent] = jvp(loss, [logits, labels], [t, tl]);
    const x = randomArray(rng, [3, 4], 'float64', { lo: -3, hi: 3 });
    const y = softLabels(rng, [3, 4], -1, 'float64');
    const got = new Session(g).run(
      tangent,
      new Map([
        [logits, x],
        [labels, y],
      ]),
    );
    const want: number[] = [];
    for (let r = 0; r < 3; r++) {
      const row = [0, 1, 2, 3].map((c) => x.data[r * 4 + c] as number);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      let d = 0;
      for (let c = 0; c < 4; c++) {
        const k = r * 4 + c;
        const ls = row[c] - lse;
        d += (Math.exp(ls) - (y.data[k] as number)) * (t.data[k] as number) - ls * (tl.data[k] as number);
      }
      want.push(d);
    }
    expectClose(got, { shape: [3], data: want }, 1e-12);
  });

  test('a loss fetched without its gradient runs the one-kernel primitive (the xent pass)', () => {
    const { g, loss } = mlpStep(twoNodes, [32, 16, 10], 8);
    const { graph, report } = optimize(g, [loss]);
    expect(graph.nodes.filter((n) => ROW_EXP_OPS.includes(n.op)).map((n) => n.op)).toEqual([
      'softmaxCrossEntropyWithLogits',
    ]);
    expect(report.find((r) => r.pass === 'xent')?.changes).toEqual({ 'loss-without-gradient': 1 });
    // The log-softmax fetched too: it is computed anyway, and the loss reads it.
    const ls = g.nodes.find((n) => n.op === 'logSoftmax');
    const both = optimize(g, [loss, g.tensor(ls?.id ?? -1)]).graph;
    expect(both.nodes.filter((n) => ROW_EXP_OPS.includes(n.op)).map((n) => n.op)).toEqual(['logSoftmax']);
  });

  test('the wasm kernel of the loss agrees with the JS one, masked classes (−∞ logits) included', () => {
    const rng = new Rng(13);
    const [rows, classes] = [9, 37];
    const logitsValue = randomArray(rng, [rows, classes], 'float32', { lo: -4, hi: 4 });
    const labelsValue = softLabels(rng, [rows, classes]);
    for (let r = 0; r < rows; r++) {
      const masked = r * classes + ((r * 5) % classes);
      logitsValue.data[masked] = -Infinity;
      labelsValue.data[masked] = 0;
    }
    const [js, wasm] = (['js', 'wasm'] as const).map((backend) => {
      const g = new Graph();
      const logits = g.placeholder('logits', [rows, classes]);
      const labels = g.placeholder('labels', [rows, classes]);
      const loss = softmaxCrossEntropyWithLogits(labels, logits);
      const [grad] = gradients(sum(loss), [logits]) as Tensor[];
      const feeds = new Map([
        [logits, logitsValue],
        [labels, labelsValue],
      ]);
      return new Session(g, { backend }).run([loss, grad], feeds);
    });
    expect(js[0].data.every((v) => Number.isFinite(v))).toBe(true);
    expect(js[1].data.every((v) => Number.isFinite(v))).toBe(true);
    expectClose(wasm[0], js[0], 1e-6);
    expectClose(wasm[1], js[1], 1e-6);
  });

  test('a written-out −Σ labels·logSoftmax(x) with its gradient keeps one log-softmax (stabilize + xent)', () => {
    const g = new Graph();
    const logits = g.placeholder('logits', [4, 5]);
    const labels = g.placeholder('labels', [4, 5]);
    const loss = mean(neg(sum(mul(labels, logSoftmax(logits)), -1)));
    const [grad] = gradients(loss, [logits]) as Tensor[];
    const rowExp = (fetches: Tensor[]): string[] =>
      optimize(g, fetches)
        .graph.nodes.filter((n) => ROW_EXP_OPS.includes(n.op))
        .map((n) => n.op);
    expect(rowExp([loss, grad])).toEqual(['logSoftmax']);
    expect(rowExp([loss])).toEqual(['softmaxCrossEntropyWithLogits']);
    const rng = new Rng(14);
    const feeds = new Map([
      [logits, randomArray(rng, [4, 5], 'float32', { lo: -3, hi: 3 })],
      [labels, softLabels(rng, [4, 5])],
    ]);
    const [optimized, plain] = [2, 0].map((level) =>
      new Session(g, { optimize: { level: level as 0 | 2 } }).run([loss, grad], feeds),
    );
    expectClose(optimized[0], plain[0], 1e-6);
    expectClose(optimized[1], plain[1], 1e-6);
  });
});
