/**
 * The image family beyond the table rows: shape and dtype errors, unknown batch sizes, the forward rule (jvp) of
 * the resizes and of their gradient ops, and the gradient ops' own forward values against tfjs's kernels.
 */
import * as tf from '@tensorflow/tfjs';
import * as L from '../../src';
import { DTypeError, Graph, NDArray, Session, ShapeError, Tensor } from '../../src';
import { useTfjsCpu } from './harness';
import { expectClose, randomArray, Rng } from './util';

beforeAll(useTfjsCpu);

describe('shape and dtype rules', () => {
  const g = new Graph();
  const x = g.placeholder('x', [1, 3, 4, 2]);
  const matrix = g.placeholder('m', [3, 4]);
  const empty = g.placeholder('e', [1, 0, 4, 2]);
  test.each([
    ['a rank-2 image', () => L.resizeBilinear(matrix, [2, 2]), /must be rank 3 or 4, got rank 2/],
    ['a size of one number', () => L.resizeBilinear(x, [2]), /must be \[newHeight, newWidth\]/],
    ['a zero size', () => L.resizeNearestNeighbor(x, [0, 2]), /positive integers/],
    ['both sampling flags', () => L.resizeBilinear(x, [2, 2], true, true), /cannot both be true/],
    ['an empty image', () => L.resizeBilinear(empty, [2, 2]), /empty image/],
  ])('%s is a ShapeError', (_name, build, message) => {
    expect(build).toThrow(ShapeError);
    expect(build).toThrow(message);
  });

  test('bool images are a DTypeError', () => {
    const b = g.placeholder('b', [1, 2, 2, 1], 'bool');
    expect(() => L.resizeNearestNeighbor(b, [3, 3])).toThrow(DTypeError);
    expect(() => L.resizeNearestNeighbor(b, [3, 3])).toThrow(/images must be numeric, got bool/);
  });

  test('int32 images: bilinear gives float32 (as tfjs), nearest keeps int32', () => {
    const i = g.placeholder('i', [2, 2, 1], 'int32');
    expect(L.resizeBilinear(i, [3, 3]).dtype).toBe('float32');
    expect(L.resizeNearestNeighbor(i, [3, 3]).dtype).toBe('int32');
    expect(L.resizeNearestNeighbor(i, [3, 3]).shape).toEqual([3, 3, 1]);
  });

  test('an unknown batch and channel count stay unknown, and run', () => {
    const open = g.placeholder('open', [null, 3, 4, null]);
    const y = open.resizeBilinear([5, 2], false, true);
    expect(y.shape).toEqual([null, 5, 2, null]);
    const value = randomArray(new Rng(1), [2, 3, 4, 3], 'float32');
    const [dx] = L.gradients(L.sum(y), [open]);
    const out = new Session(g).run([y, dx as Tensor], new Map([[open, value]]));
    expect(out[0].shape).toEqual([2, 5, 2, 3]);
    expect(out[1].shape).toEqual([2, 3, 4, 3]);
  });
});

describe('space, depth and batch: argument errors', () => {
  const g = new Graph();
  const x = g.placeholder('x', [2, 4, 6, 8]);
  const open = g.placeholder('open', [2, null, 6, 8]);
  test.each([
    ['blockSize 1', () => L.depthToSpace(x, 1), /blockSize must be an integer > 1, got 1/],
    ['a depth not divisible by blockSize²', () => L.depthToSpace(x, 3), /depth 8 must be divisible by blockSize² = 9/],
    ['a bad dataFormat', () => L.depthToSpace(x, 2, 'NWHC' as 'NHWC'), /dataFormat must be 'NHWC' or 'NCHW'/],
    ['an unknown height', () => L.depthToSpace(open, 2), /needs the height, width and depth known \(dim 1 is not\)/],
    ['a size not divisible by the block', () => L.spaceToDepth(x, 3), /height 4 and width 6 must be divisible/],
    ['paddings of the wrong length', () => L.spaceToBatchND(x, [2, 2], [[0, 0]]), /one pair of non-negative/],
    [
      'a padded size not divisible',
      () =>
        L.spaceToBatchND(
          x,
          [3, 2],
          [
            [0, 0],
            [0, 0],
          ],
        ),
      /dim 1 of size 4/,
    ],
    [
      'a batch not divisible',
      () =>
        L.batchToSpaceND(
          x,
          [2, 2],
          [
            [0, 0],
            [0, 0],
          ],
        ),
      /batch 2 must be divisible/,
    ],
    ['crops larger than the dim', () => L.batchToSpaceND(x, [2], [[5, 4]]), /exceed dim 1 of size 8/],
  ])('%s is a ShapeError', (_name, build, message) => {
    expect(build).toThrow(ShapeError);
    expect(build).toThrow(message);
  });

  test('an unknown batch stays unknown through each', () => {
    const b = g.placeholder('b', [null, 4, 6, 8]);
    expect(L.depthToSpace(b, 2).shape).toEqual([null, 8, 12, 2]);
    expect(L.spaceToDepth(b, 2).shape).toEqual([null, 2, 3, 32]);
    expect(
      L.spaceToBatchND(
        b,
        [2, 3],
        [
          [0, 0],
          [0, 0],
        ],
      ).shape,
    ).toEqual([null, 2, 2, 8]);
    expect(
      L.batchToSpaceND(
        b,
        [2, 1],
        [
          [1, 0],
          [0, 0],
        ],
      ).shape,
    ).toEqual([null, 7, 6, 8]);
  });
});

describe('mirrorPad and edgePad: argument errors', () => {
  const g = new Graph();
  const x = g.placeholder('x', [3, 4]);
  const open = g.placeholder('open', [null, 4]);
  test.each([
    [
      'reflect by the size',
      () =>
        L.mirrorPad(
          x,
          [
            [3, 0],
            [0, 0],
          ],
          'reflect',
        ),
      /must be at most 2 in reflect mode/,
    ],
    [
      'symmetric beyond the size',
      () =>
        L.mirrorPad(
          x,
          [
            [0, 0],
            [0, 5],
          ],
          'symmetric',
        ),
      /must be at most 4 in symmetric/,
    ],
    [
      'a bad mode',
      () =>
        L.mirrorPad(
          x,
          [
            [1, 1],
            [1, 1],
          ],
          'edge' as 'reflect',
        ),
      /mode must be 'reflect' or 'symmetric'/,
    ],
    ['a pair per dim', () => L.edgePad(x, [[1, 1]]), /one \[before, after\] pair per dim/],
    [
      'negative paddings',
      () =>
        L.edgePad(x, [
          [-1, 0],
          [0, 0],
        ]),
      /must be non-negative integers/,
    ],
    [
      'an unknown padded dim',
      () =>
        L.edgePad(open, [
          [1, 0],
          [0, 0],
        ]),
      /size of padded dim 0 known/,
    ],
  ])('%s is a ShapeError', (_name, build, message) => {
    expect(build).toThrow(ShapeError);
    expect(build).toThrow(message);
  });

  test('an unknown dim that is not padded is fine', () => {
    expect(
      L.mirrorPad(
        open,
        [
          [0, 0],
          [2, 1],
        ],
        'reflect',
      ).shape,
    ).toEqual([null, 7]);
  });
});

describe('forward mode', () => {
  test.each([
    ['resizeBilinear', L.resizeBilinear],
    ['resizeNearestNeighbor', L.resizeNearestNeighbor],
  ] as const)('the jvp of %s (and of its gradient op) is the op on the tangent', (_name, f) => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3, 4, 2], 'float64');
    const t = g.placeholder('t', [1, 3, 4, 2], 'float64');
    const dy = g.placeholder('dy', [1, 5, 3, 2], 'float64');
    const y = f(x, [5, 3], false, true);
    const [tangent] = L.jvp(y, [x], [t]);
    const [dx] = L.gradients(y, [x], [L.mul(dy, L.sum(L.square(x)))]);
    const [dxTangent] = L.jvp(dx as Tensor, [x], [t]);
    const rng = new Rng(2);
    const feeds = new Map<Tensor, NDArray>([
      [x, randomArray(rng, [1, 3, 4, 2], 'float64')],
      [t, randomArray(rng, [1, 3, 4, 2], 'float64')],
      [dy, randomArray(rng, [1, 5, 3, 2], 'float64')],
    ]);
    const [got, want] = new Session(g).run([tangent, f(t, [5, 3], false, true)], feeds);
    expectClose(got, want, 1e-12);
    // d/dx of resizeGrad(dy · |x|²) along t = resizeGrad(dy · 2<x, t>).
    const [gotDx, wantDx] = new Session(g).run(
      [dxTangent, L.gradients(y, [x], [L.mul(dy, L.mul(2, L.sum(L.mul(x, t))))])[0] as Tensor],
      feeds,
    );
    expectClose(gotDx, wantDx, 1e-12);
  });
});

describe("the gradient ops' forward values against tfjs's kernels", () => {
  test.each([
    ['resizeBilinear', L.resizeBilinear, tf.image.resizeBilinear],
    ['resizeNearestNeighbor', L.resizeNearestNeighbor, tf.image.resizeNearestNeighbor],
  ] as const)('%s: the gradient of a weighted sum is tfjs grads', (_name, f, tfF) => {
    for (const [align, size] of [
      [false, [7, 5]],
      [true, [2, 3]],
    ] as const) {
      const g = new Graph();
      const x = g.placeholder('x', [1, 4, 4, 3]);
      const value = randomArray(new Rng(3), [1, 4, 4, 3], 'float32');
      const weights = randomArray(new Rng(4), [1, size[0], size[1], 3], 'float32');
      const [dx] = L.gradients(L.sum(L.mul(f(x, size, align), g.constant(weights))), [x]);
      const got = new Session(g).run(dx as Tensor, new Map([[x, value]]));
      const want = tf.grad((v: tf.Tensor) =>
        tf.sum(tf.mul(tfF(v as tf.Tensor4D, [size[0], size[1]], align), tf.tensor(weights.data, [...weights.shape]))),
      )(tf.tensor(value.data, [...value.shape]));
      expectClose(got, new NDArray(Float32Array.from(want.dataSync()), [1, 4, 4, 3]), 1e-5);
    }
  });
});
