import { add, apply, Graph, matMul, mean, relu, Session, SOFTMAX_CROSS_ENTROPY, softmaxCrossEntropyWithLogits, train, NDArray, Tensor } from '../src';
function build(fusedOld: boolean) {
  const g = new Graph();
  const x = g.placeholder('x', [128, 784]);
  const labels = g.placeholder('labels', [128, 10]);
  const dims = [784, 256, 256, 10];
  let h: Tensor = x;
  for (let i = 0; i < 3; i++) {
    const w = g.variable(`w${i}`, new NDArray(new Float32Array(dims[i] * dims[i + 1]).fill(0.01), [dims[i], dims[i + 1]]));
    const b = g.variable(`b${i}`, new NDArray(new Float32Array(dims[i + 1]), [dims[i + 1]]));
    h = add(matMul(h, w), b);
    if (i < 2) h = relu(h);
  }
  const xent = fusedOld ? apply(SOFTMAX_CROSS_ENTROPY, [labels, h], { axis: 1 }) : softmaxCrossEntropyWithLogits(labels, h);
  const loss = mean(xent);
  const step = train.sgd(0.1).minimize(loss);
  return { g, loss, step };
}
for (const old of [true, false]) {
  const { g, loss, step } = build(old);
  const s = new Session(g);
  console.log(old ? '=== before (fused op, softmax recomputed)' : '=== after');
  console.log(s.explain([loss, step]));
}
