// The README's quick start, importing from ../src instead of 'lazygrad'. Run: npx ts-node examples/quickstart.ts
import { Graph, Session, gradients, matMul, sigmoid } from '../src';

const g = new Graph();
const x = g.placeholder('x', [null, 2]); // a batch of rows with 2 features; nothing is computed yet
const w = g.variable('w', [[0.5], [-0.5]]);
const loss = sigmoid(matMul(x, w)).sub(1).square().mean(); // ops chain like TensorFlow.js methods
const [dw] = gradients(loss, [w]); // new nodes in the same graph, not a tape

const sess = new Session(g);
const feeds = {
  x: [
    [1, 2],
    [3, 4],
  ],
};
const { value, grad } = sess.run({ value: loss, grad: dw }, feeds);
console.log(value.get(), grad?.toArray()); // a scalar and a [2, 1] gradient
console.log(sess.explain(dw, feeds)); // the optimized plan, with one report line per pass
