import { loadMnist, IMAGE_SIZE, TEST_POOL, TRAIN_POOL } from '../src/cli/mnist';
import { buildMlp, trainModel, TrainConfig } from '../src/cli/model';

const small: TrainConfig = {
  hidden: 128,
  optimizer: 'adam',
  seed: 1,
  epochs: 1,
  batchSize: 25,
  learningRate: 0.005,
  augment: false,
};

describe('the MNIST digits', () => {
  const data = loadMnist(require);

  test('are split into 8,000 training and 2,000 test digits of 784 pixels in [0, 1]', () => {
    expect([data.train.count, data.test.count]).toEqual([TRAIN_POOL, TEST_POOL]);
    expect(data.train.images.length).toBe(TRAIN_POOL * IMAGE_SIZE);
    expect(data.test.images.length).toBe(TEST_POOL * IMAGE_SIZE);
    expect(data.train.images.every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  test('every class appears in both sets, in roughly equal numbers', () => {
    for (const set of [data.train, data.test]) {
      const counts = new Array<number>(10).fill(0);
      for (const label of set.labels) counts[label]++;
      for (const count of counts) expect(count).toBeGreaterThan(set.count * 0.06);
    }
  });

  test('the split is the same on every load, and a smaller request takes a prefix of it', () => {
    const again = loadMnist(require, 100, 50);
    expect(again.train.labels).toEqual(data.train.labels.subarray(0, 100));
    expect(
      Buffer.from(again.test.images.buffer).equals(Buffer.from(data.test.images.buffer, 0, 50 * IMAGE_SIZE * 4)),
    ).toBe(true);
  });
});

describe('training the MLP', () => {
  const data = loadMnist(require, 500, 500);

  test('one epoch on 500 digits reaches far-above-chance test accuracy', () => {
    const result = trainModel(data, small);
    expect(result.testAccuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(result.history).toHaveLength(1);
    expect(result.batchLosses).toHaveLength(20);
    expect(result.batchLosses[19]).toBeLessThan(result.batchLosses[0]);
  });

  test('the same seed gives the same run; another seed a different one', () => {
    const config = { ...small, augment: true, batchSize: 100 };
    const first = trainModel(data, config);
    const second = trainModel(data, config);
    const other = trainModel(data, { ...config, seed: 2 });
    expect(second.batchLosses).toEqual(first.batchLosses);
    const bytes = (run: typeof first): Buffer => Buffer.from(run.session.serializeVariables());
    expect(bytes(second).equals(bytes(first))).toBe(true); // every weight and optimizer slot, bit for bit
    expect(other.batchLosses).not.toEqual(first.batchLosses);
  });

  test('every optimizer trains the model', () => {
    const rates = { sgd: 0.2, momentum: 0.05, adam: 0.005, adamw: 0.005, rmsprop: 0.002, adagrad: 0.05 };
    for (const [optimizer, learningRate] of Object.entries(rates)) {
      const result = trainModel(data, { ...small, optimizer: optimizer as TrainConfig['optimizer'], learningRate });
      expect([optimizer, result.testAccuracy > 0.4]).toEqual([optimizer, true]);
    }
  });

  test("the model's variables are its four parameters plus the optimizer's slots and step", () => {
    const model = buildMlp({ hidden: 16, optimizer: 'adam', seed: 1 });
    expect(model.parameters.map((p) => `${p.name} ${p.shape.join('x')}`)).toEqual([
      'dense1/kernel 784x16',
      'dense1/bias 16',
      'dense2/kernel 16x10',
      'dense2/bias 10',
    ]);
    expect(model.graph.variables()).toHaveLength(4 + 4 * 2 + 1);
    expect(model.gradients.map((g) => g.shape)).toEqual(model.parameters.map((p) => p.shape));
  });
});
