/**
 * The LeNet-like CNN of issue 16: a training step (loss, gradients, SGD update) and an inference (logits) on a batch
 * of 28×28×1 images: conv 5×5 1→16 'same' + relu, max-pool 2, conv 5×5 16→32 'same' + relu, max-pool 2, dense
 * 1568→128 + relu, dense 128→10, softmax cross-entropy.
 *
 * tfjs-wasm 4.22 has no Conv2DBackpropFilter kernel, so tf.grads through tf.conv2d throws there. Its contender gets
 * the filter gradient as a conv2d over transposed inputs (`filterGradient`), wired in with tf.customGrad; the input
 * gradient is tf.conv2dTranspose (Conv2DBackpropInput, which tfjs-wasm has). tfjs-cpu uses tfjs's own gradients.
 * tests/bench-lenet.test.ts checks the customGrad gradients against tfjs-cpu's.
 */
import * as tf from '@tensorflow/tfjs';
import {
  add,
  conv2d,
  gradients,
  Graph,
  group,
  assign,
  matMul,
  maxPool,
  mean,
  mul,
  NDArray,
  relu,
  reshape,
  softmaxCrossEntropyWithLogits,
  sub,
  Tensor,
} from '../src';
import { glorot, oneHot, Rng, seedOf, uniformArray } from './rng';
import type { ContenderId, Instance, LazygradProgram, Scale, Workload } from './workloads';

/** The network's sizes: images side × side × 1, two 'same' convs with `filters`, a dense layer of `hidden`. */
export interface LenetSizes {
  batch: number;
  side: number;
  kernel: number;
  filters: readonly [number, number];
  hidden: number;
  classes: number;
}

export const LENET_SIZES: { readonly [scale in Scale]: LenetSizes } = {
  bench: { batch: 64, side: 28, kernel: 5, filters: [16, 32], hidden: 128, classes: 10 },
  toy: { batch: 3, side: 8, kernel: 5, filters: [2, 3], hidden: 5, classes: 4 },
};

const LEARNING_RATE = 0.05;

/** The parameters in order: conv1 filter and bias, conv2 filter and bias, dense1 kernel and bias, dense2 likewise. */
interface LenetData {
  x: Float32Array;
  labels: Float32Array;
  params: { data: Float32Array; shape: number[] }[];
}

function lenetData(s: LenetSizes): LenetData {
  const rng = new Rng(seedOf(`lenet-${s.batch}-${s.side}`));
  const [f1, f2] = s.filters;
  const k = s.kernel;
  const flat = (s.side / 4) * (s.side / 4) * f2;
  const params: { data: Float32Array; shape: number[] }[] = [];
  const layer = (shape: number[], fanIn: number, fanOut: number): void => {
    params.push({ data: glorot(rng, fanIn, fanOut), shape });
    params.push({ data: uniformArray(rng, fanOut, -0.1, 0.1), shape: [fanOut] });
  };
  layer([k, k, 1, f1], k * k, f1);
  layer([k, k, f1, f2], k * k * f1, f2);
  layer([flat, s.hidden], flat, s.hidden);
  layer([s.hidden, s.classes], s.hidden, s.classes);
  const x = uniformArray(rng, s.batch * s.side * s.side, 0, 1);
  return { x, labels: oneHot(rng, s.batch, s.classes), params };
}

/** Each thread makes the data once; every contender of both workloads starts from the same numbers. */
const dataCache = new Map<Scale, LenetData>();
function dataOf(scale: Scale): LenetData {
  let data = dataCache.get(scale);
  if (data === undefined) {
    data = lenetData(LENET_SIZES[scale]);
    dataCache.set(scale, data);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------------------------
// lazygrad

function lazygradLenet(scale: Scale, training: boolean, options: LazygradProgram['options']): LazygradProgram {
  const s = LENET_SIZES[scale];
  const d = dataOf(scale);
  const g = new Graph();
  const x = g.placeholder('x', [s.batch, s.side, s.side, 1]);
  const labels = g.placeholder('labels', [s.batch, s.classes]);
  const params = d.params.map((p, i) => g.variable(`p${i}`, new NDArray(p.data, p.shape)));
  const [k1, b1, k2, b2, w1, c1, w2, c2] = params;
  let h = maxPool(relu(add(conv2d(x, k1, 1, 'same'), b1)), 2, 2, 'valid');
  h = maxPool(relu(add(conv2d(h, k2, 1, 'same'), b2)), 2, 2, 'valid');
  h = reshape(h, [s.batch, -1]);
  const logits = add(matMul(relu(add(matMul(h, w1), c1)), w2), c2);
  const feeds = new Map([[x, new NDArray(d.x, [s.batch, s.side, s.side, 1])]]);
  if (!training) return { graph: g, fetches: [logits], feeds, options, checkVariables: [] };
  feeds.set(labels, new NDArray(d.labels, [s.batch, s.classes]));
  const loss = mean(softmaxCrossEntropyWithLogits(labels, logits));
  const grads = gradients(loss, params);
  const step = group(
    params.map((p, i) => assign(p, sub(p, mul(grads[i] as Tensor, LEARNING_RATE)))),
    'sgd_step',
  );
  return { graph: g, fetches: [loss, step], feeds, options, checked: 1, checkVariables: params };
}

// ---------------------------------------------------------------------------------------------------------------
// tfjs

/**
 * ∂loss/∂filter of a stride-1 'same' conv2d from its input x [n, h, w, ci] and output gradient dy [n, h, w, co],
 * without tfjs's Conv2DBackpropFilter: df[kh, kw, ci, co] = Σ over n, y, x of x[n, y + kh − top, x + kw − left, ci] ·
 * dy[n, y, x, co], which is a conv2d of x with channels and batch swapped ([ci, h, w, n]) by dy as a filter
 * ([h, w, n, co]), padded as the forward conv was: its [ci, kh, kw, co] output, transposed, is df.
 */
export function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kernel: number): tf.Tensor4D {
  const top = Math.floor((kernel - 1) / 2);
  const bottom = kernel - 1 - top;
  const xt = tf.transpose(x, [3, 1, 2, 0]);
  const dyt = tf.transpose(dy, [1, 2, 0, 3]);
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [top, bottom],
    [top, bottom],
    [0, 0],
  ];
  return tf.transpose(tf.conv2d(xt, dyt, 1, pad), [1, 2, 0, 3]);
}

/**
 * conv2d(x, filter, 1, 'same') whose gradients avoid Conv2DBackpropFilter: the filter's is `filterGradient`, the
 * input's tf.conv2dTranspose. With `inputGradient` false, x is a constant and only the filter gets a gradient.
 */
export function convSame(x: tf.Tensor4D, filter: tf.Tensor4D, inputGradient: boolean): tf.Tensor4D {
  const kernel = filter.shape[0] as number;
  if (!inputGradient) {
    const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const f = args[0] as tf.Tensor;
      return {
        value: tf.conv2d(x, f as tf.Tensor4D, 1, 'same'),
        gradFunc: (dy: tf.Tensor) => [filterGradient(x, dy as tf.Tensor4D, kernel)],
      };
    });
    return conv(filter as tf.Tensor) as tf.Tensor4D;
  }
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, f, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([input, f]);
    return {
      value: tf.conv2d(input as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, fs, xs.shape, 1, 'same');
        return [dx, filterGradient(xs, dy as tf.Tensor4D, kernel)];
      },
    };
  });
  return conv(x, filter as tf.Tensor) as tf.Tensor4D;
}

/** The network in tfjs on the current backend; `custom` routes the conv gradients through convSame. */
export function tfjsLenet(scale: Scale, custom: boolean) {
  const s = LENET_SIZES[scale];
  const d = dataOf(scale);
  const params = d.params.map((p) => tf.variable(tf.tensor(p.data, p.shape)));
  const [k1, b1, k2, b2, w1, c1, w2, c2] = params;
  const [f1, f2] = [k1, k2] as unknown as [tf.Tensor4D, tf.Tensor4D];
  const x = tf.tensor4d(d.x, [s.batch, s.side, s.side, 1]);
  const labels = tf.tensor2d(d.labels, [s.batch, s.classes]);
  const conv = (input: tf.Tensor4D, filter: tf.Tensor4D, first: boolean): tf.Tensor4D =>
    custom ? convSame(input, filter, !first) : tf.conv2d(input, filter, 1, 'same');
  const block = (input: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor, first: boolean): tf.Tensor4D =>
    tf.maxPool(tf.relu(tf.add(conv(input, filter, first), bias)) as tf.Tensor4D, 2, 2, 'valid') as tf.Tensor4D;
  const logits = (): tf.Tensor2D => {
    const h = block(block(x, f1, b1, true), f2, b2, false);
    const flat = tf.reshape(h, [s.batch, -1]);
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(flat, w1), c1)), w2), c2);
  };
  const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy(labels, logits()) as tf.Scalar;
  return { params, x, labels, logits, loss };
}

// ---------------------------------------------------------------------------------------------------------------
// The workloads

/** What lenetWorkloads needs from workloads.ts (passed in, so the two files do not import each other's values). */
export interface LenetPlumbing {
  lazygradInstance(program: LazygradProgram): Instance;
  tfjsInstance(
    compute: () => tf.Tensor[],
    state?: { checkTensors?: () => tf.Tensor[]; dispose?: () => void },
  ): Instance;
  useTfBackend(backend: 'cpu' | 'wasm'): Promise<void>;
}

function title(s: LenetSizes, what: string): string {
  const [f1, f2] = s.filters;
  const flat = (s.side / 4) * (s.side / 4) * f2;
  return (
    `LeNet-like CNN, batch ${s.batch} of ${s.side}×${s.side}×1 (conv ${s.kernel}×${s.kernel} 1→${f1} same + relu, ` +
    `max-pool 2, conv ${s.kernel}×${s.kernel} ${f1}→${f2} same + relu, max-pool 2, dense ${flat}→${s.hidden}→` +
    `${s.classes}): ${what}`
  );
}

const CONTENDERS: readonly ContenderId[] = ['lazygrad', 'lazygrad-2t', 'lazygrad-js', 'tfjs-cpu', 'tfjs-wasm'];

/** lenet-train and lenet-infer (`npm run bench -- --only lenet` runs both). */
export function lenetWorkloads(scale: Scale, plumbing: LenetPlumbing): Workload[] {
  const s = LENET_SIZES[scale];
  const lazygrad = (contender: ContenderId, training: boolean): Instance | null => {
    if (contender === 'lazygrad') return plumbing.lazygradInstance(lazygradLenet(scale, training, {}));
    if (contender === 'lazygrad-2t') return plumbing.lazygradInstance(lazygradLenet(scale, training, { threads: 2 }));
    if (contender === 'lazygrad-js')
      return plumbing.lazygradInstance(lazygradLenet(scale, training, { backend: 'js' }));
    return null;
  };
  const tfBackend = async (contender: ContenderId, id: string): Promise<void> => {
    if (contender !== 'tfjs-cpu' && contender !== 'tfjs-wasm') {
      throw new Error(`workload '${id}' has no contender '${contender}'`);
    }
    await plumbing.useTfBackend(contender === 'tfjs-wasm' ? 'wasm' : 'cpu');
  };

  const train: Workload = {
    id: 'lenet-train',
    title: title(s, 'training step (loss, gradients, SGD update)'),
    // tfjs cpu's conv backprop kernels take about 100 s per step at the bench size (measured once, docs/benchmarks.md),
    // which would make a run last half an hour: it is checked at the toy size (tests/bench.test.ts) but not timed.
    contenders: scale === 'bench' ? CONTENDERS.filter((c) => c !== 'tfjs-cpu') : CONTENDERS,
    tolerance: 1e-4,
    program: () => lazygradLenet(scale, true, {}),
    build: async (contender) => {
      const ours = lazygrad(contender, true);
      if (ours !== null) return ours;
      await tfBackend(contender, 'lenet-train');
      const net = tfjsLenet(scale, contender === 'tfjs-wasm');
      const optimizer = tf.train.sgd(LEARNING_RATE);
      const instance = plumbing.tfjsInstance(
        () => {
          const { value, grads } = tf.variableGrads(net.loss, net.params);
          optimizer.applyGradients(grads);
          tf.dispose(grads);
          return [value];
        },
        {
          checkTensors: () => net.params,
          dispose: () => {
            tf.dispose([net.x, net.labels, ...net.params]);
            optimizer.dispose();
          },
        },
      );
      if (contender === 'tfjs-wasm') {
        instance.note = 'filter gradients as conv2d over transposed inputs (tf.customGrad): no Conv2DBackpropFilter';
      }
      return instance;
    },
  };

  const infer: Workload = {
    id: 'lenet-infer',
    title: title(s, 'inference (logits)'),
    contenders: CONTENDERS,
    tolerance: 1e-4,
    program: () => lazygradLenet(scale, false, {}),
    build: async (contender) => {
      const ours = lazygrad(contender, false);
      if (ours !== null) return ours;
      await tfBackend(contender, 'lenet-infer');
      const net = tfjsLenet(scale, false);
      return plumbing.tfjsInstance(() => [tf.tidy(net.logits)], {
        dispose: () => tf.dispose([net.x, net.labels, ...net.params]),
      });
    },
  };
  return [train, infer];
}
