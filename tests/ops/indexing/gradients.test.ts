/**
 * Gradients of the indexing ops beyond their op-table rows (../cases/indexing.ts): inputs whose static shapes hold
 * unknown dims (fed concrete values) against central finite differences in float64, the composites unstack and
 * split, and a zero repetition. Every gradient has exactly its input's shape.
 */
import * as tf from '@tensorflow/tfjs';
import {
  concat,
  gather,
  gradients,
  Graph,
  pad,
  Session,
  slice,
  split,
  stack,
  stridedSlice,
  sum,
  tile,
  unstack,
} from '../../../src';
import { Rng } from '../util';
import { expectGradientsMatchFd, expectGradientsMatchTf, f64, useTfCpu, values } from './helpers';

beforeAll(useTfCpu);

describe('concat', () => {
  test('along an axis of unknown size (sizes read at run time) vs finite differences', () => {
    const rng = new Rng(3);
    const shapes = [
      [null, 2],
      [null, 2],
    ];
    expectGradientsMatchFd(3, [f64(rng, [3, 2]), f64(rng, [1, 2])], (a, b) => concat([a, b], 0), shapes);
  });
});

describe('stack', () => {
  test('with unknown dims vs finite differences', () => {
    const rng = new Rng(12);
    const shapes = [
      [null, 2],
      [null, 2],
    ];
    expectGradientsMatchFd(12, [f64(rng, [3, 2]), f64(rng, [3, 2])], (a, b) => stack([a, b], -1), shapes);
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
  test('to the end of dims of unknown size vs finite differences', () => {
    const rng = new Rng(41);
    expectGradientsMatchFd(41, [f64(rng, [4, 3])], (x) => slice(x, [1, 1], [-1, -1]), [[null, null]]);
  });
});

describe('stridedSlice (tfjs has no gradient for it)', () => {
  test('masks on dims of unknown size vs finite differences', () => {
    const rng = new Rng(52);
    expectGradientsMatchFd(52, [f64(rng, [5, 3])], (x) => stridedSlice(x, [0, 2], [0, 0], [2, -1], 1, 1), [[null, 3]]);
  });
});

describe('gather', () => {
  test('a table with unknown dims vs finite differences', () => {
    const rng = new Rng(63);
    expectGradientsMatchFd(63, [f64(rng, [4, 2])], (x) => gather(x, [3, 1, 3], 0), [[null, null]]);
  });
});

describe('tile', () => {
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
});

describe('pad', () => {
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
});
