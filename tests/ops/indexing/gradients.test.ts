/**
 * Gradients of the indexing ops: against central finite differences in float64 (including inputs whose static
 * shapes hold unknown dims, fed concrete values), and against tf.grads with a random upstream gradient wherever
 * TensorFlow.js has the gradient (it has none for stridedSlice). Every gradient has exactly its input's shape.
 */
import * as tf from '@tensorflow/tfjs';
import {
  concat,
  cumsum,
  gather,
  gradients,
  Graph,
  pad,
  reverse,
  Session,
  slice,
  split,
  stack,
  stridedSlice,
  sum,
  tile,
  unstack,
  mul,
} from '../../../src';
import { Rng } from '../util';
import { expectGradientsMatchFd, expectGradientsMatchTf, f64, ints, useTfCpu, values } from './helpers';

beforeAll(useTfCpu);

describe('concat', () => {
  test('two matrices along axis 1 vs finite differences', () => {
    const rng = new Rng(1);
    expectGradientsMatchFd(1, [f64(rng, [2, 3]), f64(rng, [2, 2])], (a, b) => concat([a, b], 1));
  });

  test('three rank-3 tensors along axis -1 (one of size 0) vs finite differences', () => {
    const rng = new Rng(2);
    expectGradientsMatchFd(2, [f64(rng, [2, 1, 2]), f64(rng, [2, 1, 0]), f64(rng, [2, 1, 3])], (a, b, c) =>
      concat([a, b, c], -1),
    );
  });

  test('along an axis of unknown size (sizes read at run time) vs finite differences', () => {
    const rng = new Rng(3);
    const shapes = [
      [null, 2],
      [null, 2],
    ];
    expectGradientsMatchFd(3, [f64(rng, [3, 2]), f64(rng, [1, 2])], (a, b) => concat([a, b], 0), shapes);
  });

  test('with a tensor used twice vs finite differences', () => {
    const rng = new Rng(4);
    expectGradientsMatchFd(4, [f64(rng, [2, 2])], (a) => concat([a, mul(a, a), a], 0));
  });

  test('rank 4 vs tf.grads', () => {
    const rng = new Rng(5);
    expectGradientsMatchTf(
      5,
      [values(rng, [2, 1, 2, 3]), values(rng, [2, 2, 2, 3])],
      (a, b) => concat([a, b], 1),
      (a, b) => tf.concat([a, b], 1),
    );
  });
});

describe('stack', () => {
  test('three matrices along axis 1 vs finite differences', () => {
    const rng = new Rng(10);
    expectGradientsMatchFd(10, [f64(rng, [2, 3]), f64(rng, [2, 3]), f64(rng, [2, 3])], (a, b, c) =>
      stack([a, b, c], 1),
    );
  });

  test('scalars vs finite differences', () => {
    const rng = new Rng(11);
    expectGradientsMatchFd(11, [f64(rng, []), f64(rng, [])], (a, b) => stack([a, b]));
  });

  test('with unknown dims vs finite differences', () => {
    const rng = new Rng(12);
    const shapes = [
      [null, 2],
      [null, 2],
    ];
    expectGradientsMatchFd(12, [f64(rng, [3, 2]), f64(rng, [3, 2])], (a, b) => stack([a, b], -1), shapes);
  });

  test('rank 3 along the last axis vs tf.grads', () => {
    const rng = new Rng(13);
    expectGradientsMatchTf(
      13,
      [values(rng, [2, 3, 2]), values(rng, [2, 3, 2])],
      (a, b) => stack([a, b], -1),
      (a, b) => tf.stack([a, b], -1),
    );
  });
});

describe('unstack', () => {
  test('columns of a matrix vs finite differences', () => {
    const rng = new Rng(20);
    expectGradientsMatchFd(20, [f64(rng, [3, 2])], (x) => unstack(x, 1));
  });

  test('only some pieces used vs finite differences', () => {
    const rng = new Rng(21);
    expectGradientsMatchFd(21, [f64(rng, [4, 2])], (x) => unstack(x)[2]);
  });

  test('rank 3 along axis 1 vs tf.grads', () => {
    const rng = new Rng(22);
    expectGradientsMatchTf(
      22,
      [values(rng, [2, 3, 2])],
      (x) => unstack(x, 1),
      (x) => tf.unstack(x, 1),
    );
  });
});

describe('split', () => {
  test('by sizes with one inferred vs finite differences', () => {
    const rng = new Rng(30);
    expectGradientsMatchFd(30, [f64(rng, [2, 6])], (x) => split(x, [1, -1, 2], 1));
  });

  test('into equal rank-3 parts vs tf.grads', () => {
    const rng = new Rng(31);
    expectGradientsMatchTf(
      31,
      [values(rng, [4, 2, 3])],
      (x) => split(x, 2),
      (x) => tf.split(x, 2),
    );
  });
});

describe('slice', () => {
  test('rank 3 vs finite differences', () => {
    const rng = new Rng(40);
    expectGradientsMatchFd(40, [f64(rng, [3, 4, 2])], (x) => slice(x, [1, 1, 0], [2, -1, 1]));
  });

  test('to the end of dims of unknown size vs finite differences', () => {
    const rng = new Rng(41);
    expectGradientsMatchFd(41, [f64(rng, [4, 3])], (x) => slice(x, [1, 1], [-1, -1]), [[null, null]]);
  });

  test('rank 4 vs tf.grads', () => {
    const rng = new Rng(42);
    expectGradientsMatchTf(
      42,
      [values(rng, [2, 3, 4, 2])],
      (x) => slice(x, [1, 0, 1, 0], [1, 2, 3, -1]),
      (x) => tf.slice(x, [1, 0, 1, 0], [1, 2, 3, -1]),
    );
  });
});

describe('stridedSlice (tfjs has no gradient for it)', () => {
  test('negative strides vs finite differences', () => {
    const rng = new Rng(50);
    expectGradientsMatchFd(50, [f64(rng, [5, 4])], (x) => stridedSlice(x, [-1, 3], [0, -5], [-2, -1]));
  });

  test('shrink, new axis and ellipsis vs finite differences', () => {
    const rng = new Rng(51);
    expectGradientsMatchFd(51, [f64(rng, [3, 4, 5])], (x) =>
      stridedSlice(x, [1, 0, 0, 1], [2, 0, 0, 5], [1, 1, 1, 2], 0, 0, 2, 4, 1),
    );
  });

  test('masks on dims of unknown size vs finite differences', () => {
    const rng = new Rng(52);
    expectGradientsMatchFd(52, [f64(rng, [5, 3])], (x) => stridedSlice(x, [0, 2], [0, 0], [2, -1], 1, 1), [[null, 3]]);
  });
});

describe('gather', () => {
  test('repeated indices accumulate vs finite differences', () => {
    const rng = new Rng(60);
    const ids = [2, 0, 2, 2];
    expectGradientsMatchFd(60, [f64(rng, [3, 2])], (x) => gather(x, ids));
  });

  test('2-D indices along axis 1 of rank 3 vs finite differences', () => {
    const rng = new Rng(61);
    expectGradientsMatchFd(61, [f64(rng, [2, 4, 2])], (x) =>
      gather(
        x,
        [
          [3, 0],
          [1, 3],
        ],
        1,
      ),
    );
  });

  test('with a batch dim vs finite differences', () => {
    const rng = new Rng(62);
    expectGradientsMatchFd(62, [f64(rng, [2, 3, 2])], (x) =>
      gather(
        x,
        [
          [2, 2],
          [0, 1],
        ],
        1,
        1,
      ),
    );
  });

  test('a table with unknown dims vs finite differences', () => {
    const rng = new Rng(63);
    expectGradientsMatchFd(63, [f64(rng, [4, 2])], (x) => gather(x, [3, 1, 3], 0), [[null, null]]);
  });

  test('axis 1 with repeated indices vs tf.grads', () => {
    const rng = new Rng(64);
    expectGradientsMatchTf(
      64,
      [values(rng, [3, 4, 2]), ints([3, 0, 3, 1, 3], [5])],
      (x, i) => gather(x, i, 1),
      (x, i) => tf.gather(x, i, 1),
    );
  });

  test('2-D indices along axis 0 vs tf.grads', () => {
    const rng = new Rng(65);
    expectGradientsMatchTf(
      65,
      [values(rng, [5, 3]), ints([4, 4, 0, 1, 2, 4], [2, 3])],
      (x, i) => gather(x, i),
      (x, i) => tf.gather(x, i),
    );
  });

  test('with a batch dim vs tf.grads', () => {
    const rng = new Rng(66);
    expectGradientsMatchTf(
      66,
      [values(rng, [2, 4, 3]), ints([3, 3, 0, 1, 2, 1], [2, 3])],
      (x, i) => gather(x, i, 1, 1),
      (x, i) => tf.gather(x, i, 1, 1),
    );
  });
});

describe('tile', () => {
  test('both dims of a matrix vs finite differences', () => {
    const rng = new Rng(70);
    expectGradientsMatchFd(70, [f64(rng, [2, 3])], (x) => tile(x, [2, 3]));
  });

  test('dims of unknown size vs finite differences', () => {
    const rng = new Rng(71);
    expectGradientsMatchFd(71, [f64(rng, [2, 3])], (x) => tile(x, [3, 1]), [[null, null]]);
  });

  test('zero repetitions give a zero gradient of x shape', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3], 'float64');
    const [dx] = gradients(sum(tile(x, [0, 2])), [x]);
    const out = new Session(g).run(dx as NonNullable<typeof dx>, {
      x: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
    expect(out.toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  test('rank 3 vs tf.grads', () => {
    const rng = new Rng(72);
    expectGradientsMatchTf(
      72,
      [values(rng, [1, 2, 3])],
      (x) => tile(x, [2, 1, 2]),
      (x) => tf.tile(x, [2, 1, 2]),
    );
  });
});

describe('pad', () => {
  test('a matrix vs finite differences', () => {
    const rng = new Rng(80);
    expectGradientsMatchFd(80, [f64(rng, [2, 3])], (x) =>
      pad(
        x,
        [
          [1, 2],
          [0, 1],
        ],
        3,
      ),
    );
  });

  test('dims of unknown size vs finite differences', () => {
    const rng = new Rng(81);
    expectGradientsMatchFd(
      81,
      [f64(rng, [3, 2])],
      (x) =>
        pad(x, [
          [2, 0],
          [1, 1],
        ]),
      [[null, null]],
    );
  });

  test('rank 4 vs tf.grads', () => {
    const rng = new Rng(82);
    expectGradientsMatchTf(
      82,
      [values(rng, [2, 1, 2, 3])],
      (x) =>
        pad(
          x,
          [
            [0, 1],
            [1, 1],
            [2, 0],
            [0, 0],
          ],
          -1,
        ),
      (x) =>
        tf.pad(
          x,
          [
            [0, 1],
            [1, 1],
            [2, 0],
            [0, 0],
          ],
          -1,
        ),
    );
  });
});

describe('reverse', () => {
  test('two axes of rank 3 vs finite differences', () => {
    const rng = new Rng(90);
    expectGradientsMatchFd(90, [f64(rng, [2, 3, 2])], (x) => reverse(x, [0, -1]));
  });

  test('all axes vs tf.grads', () => {
    const rng = new Rng(91);
    expectGradientsMatchTf(
      91,
      [values(rng, [3, 2, 2])],
      (x) => reverse(x),
      (x) => tf.reverse(x),
    );
  });
});

describe('cumsum', () => {
  const flags: [boolean, boolean][] = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];

  test.each(flags)('exclusive %s, reverse %s vs finite differences', (exclusive, rev) => {
    const rng = new Rng(100);
    expectGradientsMatchFd(100, [f64(rng, [3, 4])], (x) => cumsum(x, 1, exclusive, rev));
  });

  // tfjs 4.22's cumsum gradient has the wrong shape for any axis but the last, so it is compared on the last one.
  test.each(flags)('exclusive %s, reverse %s on rank 3 vs tf.grads', (exclusive, rev) => {
    const rng = new Rng(101);
    expectGradientsMatchTf(
      101,
      [values(rng, [2, 3, 4])],
      (x) => cumsum(x, 2, exclusive, rev),
      (x) => tf.cumsum(x, 2, exclusive, rev),
    );
  });
});
