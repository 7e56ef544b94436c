/**
 * The demo CNN (`lazygrad demo --model cnn`): its graph, its loss and gradients on real digits against tfjs's, and a
 * bounded training run on real digits whose accuracy a wrong conv or pool gradient would not reach.
 */
import * as tf from '@tensorflow/tfjs';
import { NDArray, Session, Tensor } from '../src';
import { IMAGE_SIZE, loadMnist } from '../src/cli/mnist';
import { buildModel, TrainConfig, trainModel } from '../src/cli/model';

const data = loadMnist(require, 1500, 500);

describe('the demo CNN', () => {
  test('has two conv layers and two dense layers, and an Adam slot pair per parameter', () => {
    const model = buildModel({ model: 'cnn', hidden: 128, optimizer: 'adam', seed: 1 });
    expect(model.parameters.map((p) => `${p.name} ${p.shape.join('x')}`)).toEqual([
      'conv1/kernel 5x5x1x8',
      'conv1/bias 8',
      'conv2/kernel 5x5x8x16',
      'conv2/bias 16',
      'dense1/kernel 256x128',
      'dense1/bias 128',
      'dense2/kernel 128x10',
      'dense2/bias 10',
    ]);
    expect(model.logits.shape).toEqual([null, 10]);
    expect(model.graph.variables()).toHaveLength(8 + 8 * 2 + 1);
    const ops = new Set(model.graph.nodes.map((n) => n.op));
    for (const op of ['conv2d', 'maxPool', 'conv2dBackpropFilter', 'conv2dBackpropInput']) expect(ops).toContain(op);
  });

  test('its loss and gradients on real digits are tfjs’s, for every parameter', async () => {
    const model = buildModel({ model: 'cnn', hidden: 32, optimizer: 'adam', seed: 3 });
    const session = new Session(model.graph);
    const batch = 32;
    const feedsAt = (start: number): Map<Tensor, NDArray | number> =>
      new Map<Tensor, NDArray | number>([
        [
          model.images,
          new NDArray(data.train.images.slice(start * IMAGE_SIZE, (start + batch) * IMAGE_SIZE), [batch, IMAGE_SIZE]),
        ],
        [model.labels, new NDArray(data.train.labels.slice(start, start + batch), [batch])],
        [model.learningRate, 0.005],
      ]);
    // A few steps first, so the weights are not the initial ones (the biases, in particular, not zero).
    for (let step = 1; step <= 3; step++) session.run(model.trainOp, feedsAt(step * batch));
    const feeds = feedsAt(0);
    const [loss, ...grads] = session.run([model.loss, ...model.gradients], feeds);

    await tf.setBackend('cpu');
    const params = model.parameters.map((p) => {
      const value = session.variableValue(p);
      return tf.variable(tf.tensor(Float32Array.from(value.data), [...value.shape]));
    });
    const [k1, b1, k2, b2, w1, c1, w2, c2] = params;
    const images = tf.tensor2d(data.train.images.slice(0, batch * IMAGE_SIZE), [batch, IMAGE_SIZE]);
    const labels = tf.oneHot(tf.tensor1d(data.train.labels.slice(0, batch), 'int32'), 10);
    const block = (x: tf.Tensor4D, k: tf.Variable, b: tf.Variable): tf.Tensor4D =>
      tf.maxPool(tf.relu(tf.add(tf.conv2d(x, k as tf.Tensor4D, 1, 'valid'), b)) as tf.Tensor4D, 2, 2, 'valid');
    const tfLoss = (): tf.Scalar => {
      const x = block(block(tf.reshape(images, [-1, 28, 28, 1]), k1, b1), k2, b2);
      const hidden = tf.relu(tf.add(tf.matMul(tf.reshape(x, [batch, -1]), w1), c1));
      return tf.losses.softmaxCrossEntropy(labels, tf.add(tf.matMul(hidden, w2), c2)) as tf.Scalar;
    };
    const { value, grads: expected } = tf.variableGrads(tfLoss, params);
    expect(loss.get()).toBeCloseTo(value.dataSync()[0], 5);
    model.parameters.forEach((parameter, i) => {
      const want = expected[params[i].name].dataSync();
      let diff = 0;
      let scale = 0;
      for (let j = 0; j < want.length; j++) {
        diff = Math.max(diff, Math.abs(grads[i].data[j] - want[j]));
        scale = Math.max(scale, Math.abs(want[j]));
      }
      expect([parameter.name, scale > 0, diff / scale < 1e-4]).toEqual([parameter.name, true, true]);
    });
    tf.dispose([value, images, labels, ...params, ...Object.values(expected)]);
  });

  // 92.6% when written; 85.4% with the conv layers' filter gradients zeroed (random conv features, trained dense
  // layers), lower still with wrong gradients: a threshold of 90% fails if conv or pool gradients break.
  test('trained on 1,500 real digits for 3 epochs, it classifies 90% of 500 held-out digits', () => {
    const config: TrainConfig = {
      model: 'cnn',
      hidden: 128,
      optimizer: 'adam',
      seed: 1,
      epochs: 3,
      batchSize: 32,
      learningRate: 0.005,
      augment: false,
    };
    const result = trainModel(data, config);
    expect(result.history).toHaveLength(3);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.9);
  }, 300_000);
});
