/**
 * The demo's models and training loop: a 784-128-10 MLP or a small CNN classifying MNIST digits, trained
 * TensorFlow 1.x style: the graph (forward pass, gradients and optimizer update) is built once, then a Session runs
 * the update per batch. Written against the public API only, as a user would.
 */
import {
  add,
  argMax,
  cast,
  conv2d,
  equal,
  Graph,
  initializers,
  matMul,
  maxPool,
  mean,
  NDArray,
  oneHot,
  Optimizer,
  relu,
  reshape,
  Session,
  SessionOptions,
  softmaxCrossEntropyWithLogits,
  sum,
  Tensor,
  train,
} from '..';
import { CLASSES, Dataset, IMAGE_SIDE, IMAGE_SIZE, MnistSplit } from './mnist';
import { Rng } from './random';

export const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Learning rates that train this model well in the default number of epochs. */
export const DEFAULT_LEARNING_RATE: { readonly [name in OptimizerName]: number } = {
  sgd: 0.2,
  momentum: 0.05,
  adam: 0.002,
  adamw: 0.002,
  rmsprop: 0.001,
  adagrad: 0.05,
};

function makeOptimizer(name: OptimizerName, learningRate: Tensor): Optimizer {
  switch (name) {
    case 'sgd':
      return train.sgd(learningRate);
    case 'momentum':
      return train.momentum(learningRate, 0.9);
    case 'adam':
      return train.adam(learningRate);
    case 'adamw':
      return train.adamW(learningRate, 0.004);
    case 'rmsprop':
      return train.rmsprop(learningRate);
    case 'adagrad':
      return train.adagrad(learningRate);
  }
}

/** The demo's models: the MLP 784-hidden-10, or the CNN (two 5×5 conv + relu + 2×2 max-pool layers, then dense). */
export const MODELS = ['mlp', 'cnn'] as const;
export type ModelName = (typeof MODELS)[number];

/** The CNN's learning rates where they differ from the MLP's: it trains best with a larger Adam step. */
export const CNN_LEARNING_RATE: { readonly [name in OptimizerName]?: number } = { adam: 0.005, adamw: 0.005 };

/** The default peak learning rate of a model and optimizer. */
export function defaultLearningRate(model: ModelName, optimizer: OptimizerName): number {
  return (model === 'cnn' ? CNN_LEARNING_RATE[optimizer] : undefined) ?? DEFAULT_LEARNING_RATE[optimizer];
}

/** Filters of the CNN's two conv layers. */
export const CNN_FILTERS = [8, 16] as const;

/** Epochs that train each model well: the MLP's keep `npm start` under a minute; the CNN's reach 98%. */
export const DEFAULT_EPOCHS: { readonly [name in ModelName]: number } = { mlp: 10, cnn: 8 };

/** The model in a few words, for logs and the report. */
export function describeModel(options: Pick<MlpOptions, 'model' | 'hidden'>): string {
  if (options.model !== 'cnn') return `MLP ${IMAGE_SIZE}-${options.hidden}-${CLASSES} (relu)`;
  const [a, b] = CNN_FILTERS;
  return (
    `CNN: conv 5×5 → ${a} + relu, max-pool 2, conv 5×5 → ${b} + relu, max-pool 2, ` +
    // 28 → 24 (conv) → 12 (pool) → 8 (conv) → 4 (pool): a 4×4×b feature map.
    `dense ${4 * 4 * b}-${options.hidden}-${CLASSES} (relu)`
  );
}

export interface MlpOptions {
  /** Which model; the MLP when absent. */
  readonly model?: ModelName;
  /** The width of the dense hidden layer (the MLP's only hidden layer, the CNN's layer after the convolutions). */
  readonly hidden: number;
  readonly optimizer: OptimizerName;
  readonly seed: number;
}

/** A demo model's graph (the MLP's or the CNN's) and the tensors the training loop feeds and fetches. */
export interface Mlp {
  readonly graph: Graph;
  /** Placeholders: a batch of flattened images, their labels, and the step's learning rate. */
  readonly images: Tensor;
  readonly labels: Tensor;
  readonly learningRate: Tensor;
  readonly logits: Tensor;
  /** Mean cross-entropy of the batch. */
  readonly loss: Tensor;
  /** How many of the batch's predictions are right (float32 scalar). */
  readonly correct: Tensor;
  readonly parameters: readonly Tensor[];
  /** ∂loss/∂parameter for each parameter, in order. */
  readonly gradients: readonly Tensor[];
  /** Fetching it applies one optimizer step (after the run computed everything from the previous values). */
  readonly trainOp: Tensor;
}

function dense(graph: Graph, name: string, x: Tensor, units: number, seed: number, activation: boolean): Tensor {
  return graph.nameScope(name, () => {
    const inputs = x.shape[1] as number;
    // He initialization suits relu layers, Glorot the linear output layer.
    const init = activation ? initializers.heNormal({ seed }) : initializers.glorotUniform({ seed });
    const kernel = graph.variable('kernel', init, { shape: [inputs, units] });
    const bias = graph.variable('bias', initializers.zeros(), { shape: [units] });
    const y = add(matMul(x, kernel), bias);
    return activation ? relu(y) : y;
  });
}

/**
 * A 5×5 convolution with 'valid' padding, bias and relu, then a 2×2 max-pool:
 * [n, h, w, c] -> [n, (h - 4) / 2, (w - 4) / 2, filters].
 */
function convBlock(graph: Graph, name: string, x: Tensor, filters: number, seed: number): Tensor {
  return graph.nameScope(name, () => {
    const channels = x.shape[3] as number;
    const kernel = graph.variable('kernel', initializers.heNormal({ seed }), { shape: [5, 5, channels, filters] });
    const bias = graph.variable('bias', initializers.zeros(), { shape: [filters] });
    const y = relu(add(conv2d(x, kernel, 1, 'valid'), bias));
    return maxPool(y, 2, 2, 'valid');
  });
}

/**
 * The CNN: images [n, 784] as [n, 28, 28, 1], conv 5×5 → 8 + relu, max-pool 2 (12×12×8), conv 5×5 → 16 + relu,
 * max-pool 2 (4×4×16), flattened to 256, dense → hidden + relu, dense → 10 logits.
 */
function cnnLogits(graph: Graph, images: Tensor, options: MlpOptions): Tensor {
  let x = reshape(images, [-1, IMAGE_SIDE, IMAGE_SIDE, 1]);
  x = convBlock(graph, 'conv1', x, CNN_FILTERS[0], options.seed);
  x = convBlock(graph, 'conv2', x, CNN_FILTERS[1], options.seed + 1);
  const [, h, w, c] = x.shape as number[];
  const flat = reshape(x, [-1, h * w * c]);
  const hidden = dense(graph, 'dense1', flat, options.hidden, options.seed + 2, true);
  return dense(graph, 'dense2', hidden, CLASSES, options.seed + 3, false);
}

/**
 * Builds the model (the MLP 784-hidden-10 unless `options.model` is 'cnn') with its loss, accuracy count, gradients
 * and optimizer update in one graph. Both read images as [n, 784] rows of pixels.
 *
 * @example const cnn = buildModel({ model: 'cnn', hidden: 128, optimizer: 'adam', seed: 1 });
 */
export function buildModel(options: MlpOptions): Mlp {
  const graph = new Graph();
  const images = graph.placeholder('images', [null, IMAGE_SIZE]);
  const labels = graph.placeholder('labels', [null], 'int32');
  const learningRate = graph.placeholder('learning_rate');
  let logits: Tensor;
  if (options.model === 'cnn') logits = cnnLogits(graph, images, options);
  else {
    const hidden = dense(graph, 'dense1', images, options.hidden, options.seed, true);
    logits = dense(graph, 'dense2', hidden, CLASSES, options.seed + 1, false);
  }
  const loss = graph.nameScope('loss', () => mean(softmaxCrossEntropyWithLogits(oneHot(labels, CLASSES), logits)));
  const correct = graph.nameScope('accuracy', () => sum(cast(equal(argMax(logits, 1), labels), 'float32')));
  const optimizer = makeOptimizer(options.optimizer, learningRate);
  const parameters = graph.trainableVariables();
  const gradsAndVars = optimizer.computeGradients(loss, parameters);
  const trainOp = optimizer.applyGradients(gradsAndVars);
  return {
    graph,
    images,
    labels,
    learningRate,
    logits,
    loss,
    correct,
    parameters,
    gradients: gradsAndVars.map(([gradient]) => gradient as Tensor),
    trainOp,
  };
}

/**
 * The MLP 784-hidden-10 (whatever `options.model` says).
 *
 * @example const model = buildMlp({ hidden: 128, optimizer: 'adam', seed: 1 });
 */
export function buildMlp(options: MlpOptions): Mlp {
  return buildModel({ ...options, model: 'mlp' });
}

export interface TrainConfig extends MlpOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** The peak learning rate; it follows a cosine decay to zero over the run. */
  readonly learningRate: number;
  /** Shift each training image by up to one pixel in x and y (a new shift each epoch). */
  readonly augment: boolean;
  /** The session's backend (SessionOptions.backend; its default when absent). 'onnxruntime' needs trainModelAsync. */
  readonly backend?: SessionOptions['backend'];
}

/** Where training is, for a progress bar. */
export interface Progress {
  readonly epoch: number;
  readonly epochs: number;
  readonly samples: number;
  readonly samplesPerEpoch: number;
  /** Mean loss of this epoch's batches so far. */
  readonly loss: number;
  readonly samplesPerSecond: number;
}

export interface EpochStats {
  readonly epoch: number;
  readonly loss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number;
  readonly testAccuracy: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
}

export interface TrainResult {
  readonly model: Mlp;
  readonly session: Session;
  readonly history: readonly EpochStats[];
  /** The loss of every batch, in order. */
  readonly batchLosses: readonly number[];
  readonly testAccuracy: number;
  /** Time spent training and evaluating, in seconds. */
  readonly seconds: number;
}

/** Copies an image into a batch, moved by (dx, dy) pixels; what moves out of the frame is dropped. */
function copyShifted(source: Float32Array, from: number, target: Float32Array, to: number, dx: number, dy: number) {
  target.fill(0, to, to + IMAGE_SIZE);
  for (let y = Math.max(0, dy); y < Math.min(IMAGE_SIDE, IMAGE_SIDE + dy); y++) {
    const row = from + (y - dy) * IMAGE_SIDE;
    for (let x = Math.max(0, dx); x < Math.min(IMAGE_SIDE, IMAGE_SIDE + dx); x++) {
      target[to + y * IMAGE_SIDE + x] = source[row + x - dx];
    }
  }
}

/** One run a loop asks for: what it fetches and what it feeds. The loop gets the fetched values back. */
interface RunRequest {
  readonly fetches: Tensor[];
  readonly feeds: Map<Tensor, NDArray | number>;
}

/**
 * A loop written once for every backend: it yields each run it needs and receives the values. `runSync` drives it
 * with `session.run` (js and wasm: no promise per step), `runAsync` with `session.runAsync` (ONNX Runtime, whose
 * API is asynchronous).
 */
type RunLoop<T> = Generator<RunRequest, T, NDArray[]>;

function runSync<T>(loop: RunLoop<T>, session: Session): T {
  let next = loop.next();
  while (next.done !== true) next = loop.next(session.run(next.value.fetches, next.value.feeds));
  return next.value;
}

async function runAsync<T>(loop: RunLoop<T>, session: Session): Promise<T> {
  let next = loop.next();
  while (next.done !== true) next = loop.next(await session.runAsync(next.value.fetches, next.value.feeds));
  return next.value;
}

/** Whether a session's runs must go through `runAsync`: its backend computes asynchronously (ONNX Runtime). */
export function runsAsync(session: Session): boolean {
  return session.backend === 'onnxruntime';
}

function* evaluation(model: Mlp, data: Dataset, batchSize: number): RunLoop<[number, number]> {
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const end = Math.min(data.count, start + batchSize);
    const feeds = new Map<Tensor, NDArray>([
      [
        model.images,
        new NDArray(data.images.subarray(start * IMAGE_SIZE, end * IMAGE_SIZE), [end - start, IMAGE_SIZE]),
      ],
      [model.labels, new NDArray(data.labels.subarray(start, end), [end - start])],
    ]);
    const [loss, right] = yield { fetches: [model.loss, model.correct], feeds };
    lossSum += loss.get() * (end - start);
    correct += right.get();
  }
  return [lossSum / data.count, correct / data.count];
}

/** Mean loss and accuracy over a dataset, in batches so memory stays bounded (js and wasm backends). */
export function evaluate(model: Mlp, session: Session, data: Dataset, batchSize = 1000): [number, number] {
  return runSync(evaluation(model, data, batchSize), session);
}

/** `evaluate` on any backend: through `runAsync` where the backend needs it (ONNX Runtime). */
export function evaluateAsync(
  model: Mlp,
  session: Session,
  data: Dataset,
  batchSize = 1000,
): Promise<[number, number]> {
  const loop = evaluation(model, data, batchSize);
  return runsAsync(session) ? runAsync(loop, session) : Promise.resolve(runSync(loop, session));
}

/** Called during training, for progress bars and logs. */
export interface TrainHooks {
  /** After each batch. */
  readonly onBatch?: (progress: Progress) => void;
  /** After each epoch, with its test accuracy. */
  readonly onEpoch?: (stats: EpochStats) => void;
  /** Before the first step, with the fresh session: a place to restore a checkpoint. */
  readonly onStart?: (model: Mlp, session: Session) => void;
  /** After `onStart`, with the test loss and accuracy before the first step (an extra evaluation, only when given). */
  readonly onStartEvaluated?: (testLoss: number, testAccuracy: number) => void;
}

/** The session a training run uses: the config's backend (the Session default when absent). */
function trainingSession(model: Mlp, config: TrainConfig): Session {
  return new Session(model.graph, config.backend === undefined ? {} : { backend: config.backend });
}

/**
 * Trains the model (`config.model`, the MLP by default): each epoch visits the training digits in a seeded random
 * order in batches, one optimizer step per batch, then measures the test accuracy. The same config gives the same
 * numbers. On the js and wasm backends; `trainModelAsync` also runs on ONNX Runtime.
 */
export function trainModel(data: MnistSplit, config: TrainConfig, hooks: TrainHooks = {}): TrainResult {
  const model = buildModel(config);
  const session = trainingSession(model, config);
  if (runsAsync(session)) {
    throw new Error(`trainModel: the ${session.backend} backend runs asynchronously; use trainModelAsync`);
  }
  return runSync(training(model, session, data, config, hooks), session);
}

/**
 * `trainModel` on any backend: each step through `runAsync` where the backend needs it (ONNX Runtime); on js and
 * wasm the same synchronous loop as `trainModel`.
 *
 * @example const result = await trainModelAsync(data, { ...config, backend: 'onnxruntime' });
 */
export async function trainModelAsync(
  data: MnistSplit,
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const model = buildModel(config);
  const session = trainingSession(model, config);
  const loop = training(model, session, data, config, hooks);
  return runsAsync(session) ? runAsync(loop, session) : runSync(loop, session);
}

function* training(
  model: Mlp,
  session: Session,
  data: MnistSplit,
  config: TrainConfig,
  hooks: TrainHooks,
): RunLoop<TrainResult> {
  hooks.onStart?.(model, session);
  if (hooks.onStartEvaluated !== undefined) hooks.onStartEvaluated(...(yield* evaluation(model, data.test, 1000)));
  const rng = new Rng(config.seed);
  const { count } = data.train;
  const batch = Math.min(config.batchSize, count);
  const images = new Float32Array(batch * IMAGE_SIZE);
  const labels = new Int32Array(batch);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  const stepsPerEpoch = Math.ceil(count / batch);
  const totalSteps = stepsPerEpoch * config.epochs;
  const history: EpochStats[] = [];
  const batchLosses: number[] = [];
  const started = Date.now();
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const epochStart = Date.now();
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < count; start += batch) {
      const size = Math.min(batch, count - start);
      for (let i = 0; i < size; i++) {
        const sample = order[start + i];
        const [dx, dy] = config.augment ? [rng.below(3) - 1, rng.below(3) - 1] : [0, 0];
        copyShifted(data.train.images, sample * IMAGE_SIZE, images, i * IMAGE_SIZE, dx, dy);
        labels[i] = data.train.labels[sample];
      }
      const step = (epoch - 1) * stepsPerEpoch + start / batch;
      const rate = (config.learningRate * (1 + Math.cos((Math.PI * step) / totalSteps))) / 2;
      const feeds = new Map<Tensor, NDArray | number>([
        [model.images, new NDArray(images.subarray(0, size * IMAGE_SIZE), [size, IMAGE_SIZE])],
        [model.labels, new NDArray(labels.subarray(0, size), [size])],
        [model.learningRate, rate],
      ]);
      const [loss, right] = yield { fetches: [model.loss, model.correct, model.trainOp], feeds };
      batchLosses.push(loss.get());
      lossSum += loss.get() * size;
      correct += right.get();
      const seconds = (Date.now() - epochStart) / 1000;
      hooks.onBatch?.({
        epoch,
        epochs: config.epochs,
        samples: start + size,
        samplesPerEpoch: count,
        loss: lossSum / (start + size),
        samplesPerSecond: seconds > 0 ? (start + size) / seconds : 0,
      });
    }
    const seconds = (Date.now() - epochStart) / 1000;
    const [testLoss, testAccuracy] = yield* evaluation(model, data.test, 1000);
    const stats: EpochStats = {
      epoch,
      loss: lossSum / count,
      trainAccuracy: correct / count,
      testLoss,
      testAccuracy,
      seconds,
      samplesPerSecond: count / Math.max(seconds, 1e-3),
    };
    history.push(stats);
    hooks.onEpoch?.(stats);
  }
  const last = history[history.length - 1];
  return {
    model,
    session,
    history,
    batchLosses,
    testAccuracy: last?.testAccuracy ?? (yield* evaluation(model, data.test, 1000))[1],
    seconds: (Date.now() - started) / 1000,
  };
}
