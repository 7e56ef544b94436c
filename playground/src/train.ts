/**
 * The train tab: the CLI demo's MLP (src/cli/model.ts, 784-64-10, Adam) learns MNIST digits in the page. The digits
 * are the CLI's split (src/cli/mnist.ts), a subset written by the build into assets/digits.bin: the labels as bytes,
 * then the pixels as bytes. Steps run one batch at a time, yielding to the page between them, so the loss curve
 * and the per-step time are drawn live; the session asks for two threads (granted where the page is cross-origin
 * isolated).
 */
import { NDArray, Session, Tensor, argMax } from '../../src/core';
import { buildModel, evaluate, Mlp } from '../../src/cli/model';
import { IMAGE_SIZE } from '../../src/cli/mnist';

/** How many digits the build bundles (from the CLI's 8,000 training and 2,000 test digits). */
export const TRAIN_DIGITS = 2000;
export const TEST_DIGITS = 500;
const BATCH = 100;
/** The CLI's default for Adam on the MLP. */
export const LEARNING_RATE = 0.002;

export interface Digits {
  train: { images: Float32Array; labels: Int32Array; count: number };
  test: { images: Float32Array; labels: Int32Array; count: number };
}

/** Reads assets/digits.bin: TRAIN_DIGITS + TEST_DIGITS label bytes, then as many 784-byte images. */
function decode(bytes: Uint8Array): Digits {
  const total = TRAIN_DIGITS + TEST_DIGITS;
  const labels = Int32Array.from(bytes.subarray(0, total));
  const images = new Float32Array(total * IMAGE_SIZE);
  for (let i = 0; i < images.length; i++) images[i] = bytes[total + i] / 255;
  return {
    train: {
      images: images.subarray(0, TRAIN_DIGITS * IMAGE_SIZE),
      labels: labels.subarray(0, TRAIN_DIGITS),
      count: TRAIN_DIGITS,
    },
    test: {
      images: images.subarray(TRAIN_DIGITS * IMAGE_SIZE),
      labels: labels.subarray(TRAIN_DIGITS),
      count: TEST_DIGITS,
    },
  };
}

export interface TrainProgress {
  readonly step: number;
  readonly loss: number;
  readonly milliseconds: number;
}

/** A training run the page steps: `step()` runs one batch and returns its loss and time. */
export class Trainer {
  private readonly model: Mlp;
  readonly session: Session;
  private next = 0;
  private count = 0;

  private readonly predicted: Tensor;

  private constructor(
    private readonly digits: Digits,
    threads: 1 | 2,
  ) {
    this.model = buildModel({ model: 'mlp', hidden: 64, optimizer: 'adam', seed: 1 });
    this.predicted = argMax(this.model.logits, 1);
    this.session = new Session(this.model.graph, { threads });
  }

  /** Fetches the digits once; `Trainer.start` then makes fresh models from them. */
  static async fetchDigits(url: string): Promise<Digits> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return decode(new Uint8Array(await response.arrayBuffer()));
  }

  /** A fresh model (the CLI's seed) and a session asking for `threads`, started. */
  static async start(digits: Digits, threads: 1 | 2): Promise<Trainer> {
    const trainer = new Trainer(digits, threads);
    await trainer.session.ready();
    return trainer;
  }

  /** One optimizer step on the next batch at `learningRate`. */
  step(learningRate = LEARNING_RATE): TrainProgress {
    const { train } = this.digits;
    const start = this.next;
    this.next = (this.next + BATCH) % train.count;
    const feeds = new Map<Tensor, NDArray | number>([
      [
        this.model.images,
        new NDArray(train.images.subarray(start * IMAGE_SIZE, (start + BATCH) * IMAGE_SIZE), [BATCH, IMAGE_SIZE]),
      ],
      [this.model.labels, new NDArray(train.labels.subarray(start, start + BATCH), [BATCH])],
      [this.model.learningRate, learningRate],
    ]);
    const started = performance.now();
    const [loss] = this.session.run([this.model.loss, this.model.trainOp], feeds);
    this.count++;
    return { step: this.count, loss: loss.get() as number, milliseconds: performance.now() - started };
  }

  /** The first `count` test digits: pixels (784 each, 0 … 1), true labels and the model's predictions. */
  predictions(count: number): { images: Float32Array[]; labels: number[]; predicted: number[] } {
    const { test } = this.digits;
    const images = test.images.subarray(0, count * IMAGE_SIZE);
    const [predicted] = this.session.run(
      [this.predicted],
      new Map([[this.model.images, new NDArray(images, [count, IMAGE_SIZE])]]),
    );
    return {
      images: Array.from({ length: count }, (_, i) => images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE)),
      labels: Array.from(test.labels.subarray(0, count)),
      predicted: Array.from(predicted.data as ArrayLike<number>),
    };
  }

  /** Test accuracy on the bundled test digits. */
  accuracy(): number {
    return evaluate(this.model, this.session, this.digits.test)[1];
  }
}
