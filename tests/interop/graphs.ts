/**
 * Graphs shared by the interop tests: one using many op families (with a gradient graph), and an MLP with its loss
 * and gradients. Values come from the seeded PRNG.
 */
import {
  add,
  argMax,
  cast,
  clipByValue,
  concat,
  cumsum,
  div,
  dropout,
  exp,
  gather,
  gradients,
  Graph,
  greater,
  leakyRelu,
  log,
  logSoftmax,
  matMul,
  maximum,
  mean,
  mul,
  NDArray,
  oneHot,
  pad,
  randomNormal,
  randomUniform,
  relu,
  reshape,
  reverse,
  sigmoid,
  slice,
  softmax,
  softmaxCrossEntropyWithLogits,
  sqrt,
  square,
  stack,
  stridedSlice,
  sub,
  sum,
  tanh,
  Tensor,
  tile,
  transpose,
  where,
} from '../../src';
import { randomArray, Rng } from '../ops/util';

export interface Built {
  readonly graph: Graph;
  /** Tensors to fetch (forward values and gradients). */
  readonly fetches: Tensor[];
  /** Feeds by placeholder name. */
  readonly feeds: { readonly [name: string]: NDArray };
}

/** A graph touching most op families, plus the gradients of a scalar loss w.r.t. its variables. */
export function manyOpsGraph(seed = 1): Built {
  const rng = new Rng(seed);
  const g = new Graph();
  const x = g.placeholder('x', [null, 4]);
  const ids = g.placeholder('ids', [null], 'int32');
  const w = g.variable('w', randomArray(rng, [4, 3], 'float32'));
  const table = g.variable('table', randomArray(rng, [5, 3], 'float32'));
  const h = g.nameScope('layer', () => tanh(add(matMul(x, w), 0.5)));
  const e = gather(table, ids);
  const joined = concat([h, e], 1);
  const s = softmax(joined);
  const pieces = stack([slice(s, [0, 0], [-1, 2]), reverse(stridedSlice(s, [0, -1], [0, -3], [1, -1], 1, 1), 1)]);
  const padded = pad(
    transpose(reshape(sum(pieces, 0), [-1, 2]), [1, 0]),
    [
      [1, 0],
      [0, 2],
    ],
    -1.5,
  );
  const mask = cast(greater(padded, 0), 'float32');
  const mixed = where(greater(padded, 0.1), sqrt(add(square(padded), 1)), mul(mask, leakyRelu(padded, 0.1)));
  const labels = oneHot(argMax(joined, 1), 6);
  const ce = softmaxCrossEntropyWithLogits(labels, logSoftmax(joined));
  const tiled = tile(cumsum(clipByValue(mixed, -2, 2), 1, true), [1, 2]);
  const noise = randomNormal([2], 0, 0.01, 'float32', 7, g);
  const u = randomUniform([2], 0, 1, 'float32', undefined, g);
  const dropped = dropout(sigmoid(tiled), 0.3, undefined, 3);
  const loss = add(add(mean(ce), sum(mul(dropped, maximum(exp(div(tiled, 10)), 1)))), sum(mul(noise, u)));
  const logged = log(add(mean(square(sub(h, 0.2))), 1));
  const total = add(loss, logged);
  const [dw, dTable] = gradients(total, [w, table]);
  const feeds = {
    x: randomArray(rng, [3, 4], 'float32'),
    ids: new NDArray(Int32Array.from([4, 0, 2]), [3], 'int32'),
  };
  return { graph: g, fetches: [total, dw as Tensor, dTable as Tensor, relu(mixed)], feeds };
}

/** A two-layer MLP with a softmax cross-entropy loss; fetches are the loss and its gradients w.r.t. the weights. */
export function mlpGraph(
  seed = 2,
  batch: number | null = null,
): Built & { logits: Tensor; loss: Tensor; weights: Tensor[] } {
  const rng = new Rng(seed);
  const g = new Graph();
  const x = g.placeholder('x', [batch, 6]);
  const y = g.placeholder('labels', [batch, 3]);
  const w1 = g.variable('w1', randomArray(rng, [6, 8], 'float32', { lo: -0.5, hi: 0.5 }));
  const b1 = g.variable('b1', randomArray(rng, [8], 'float32', { lo: -0.1, hi: 0.1 }));
  const w2 = g.variable('w2', randomArray(rng, [8, 3], 'float32', { lo: -0.5, hi: 0.5 }));
  const b2 = g.variable('b2', randomArray(rng, [3], 'float32', { lo: -0.1, hi: 0.1 }));
  const hidden = g.nameScope('dense1', () => relu(add(matMul(x, w1), b1)));
  const logits = g.nameScope('dense2', () => add(matMul(hidden, w2), b2));
  const loss = mean(softmaxCrossEntropyWithLogits(y, logits));
  const weights = [w1, b1, w2, b2];
  const grads = gradients(loss, weights) as Tensor[];
  const labelRows = [0, 2, 1, 1, 0].map((k) => [0, 1, 2].map((j) => (j === k ? 1 : 0)));
  const feeds = { x: randomArray(rng, [5, 6], 'float32'), labels: NDArray.from(labelRows) };
  return { graph: g, fetches: [loss, ...grads], feeds, logits, loss, weights };
}
