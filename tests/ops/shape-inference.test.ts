/**
 * Static shape and dtype inference at build time: unknown (null) dims propagate through every op, reshape
 * resolves -1 when it can, and invalid combinations throw ShapeError / DTypeError naming the op and the shapes
 * or dtypes, before anything runs.
 */
import {
  DTypeError,
  Graph,
  LazygradError,
  NDArray,
  Session,
  ShapeError,
  Tensor,
  add,
  broadcastTo,
  cast,
  div,
  equal,
  exp,
  expandDims,
  gradients,
  greater,
  logSoftmax,
  matMul,
  max,
  mean,
  mul,
  relu,
  reshape,
  softmax,
  sqrt,
  square,
  squeeze,
  sub,
  sum,
  transpose,
  where,
} from '../../src';
import { Rng, randomArray } from './util';

function ph(
  g: Graph,
  name: string,
  shape: (number | null)[],
  dtype: 'float32' | 'float64' | 'int32' | 'bool' = 'float32',
): Tensor {
  return g.placeholder(name, shape, dtype);
}

/** Nodes that are not leaves: what a failed op must not have added (inputs may be created in `build`). */
function opNodes(g: Graph): number {
  return g.nodes.filter((n) => n.op !== 'placeholder' && n.op !== 'constant' && n.op !== 'variable').length;
}

/** Expects `build` to throw `ErrorClass` whose message contains every fragment, and to add no op node. */
function expectBuildError(
  g: Graph,
  build: () => unknown,
  ErrorClass: typeof ShapeError | typeof DTypeError,
  fragments: string[],
): void {
  const before = opNodes(g);
  let caught: unknown;
  try {
    build();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ErrorClass);
  expect(caught).toBeInstanceOf(LazygradError);
  const message = (caught as Error).message;
  for (const fragment of fragments) expect(message).toContain(fragment);
  expect(opNodes(g)).toBe(before);
}

describe('unknown dims propagate', () => {
  test('[null, 3] matMul [3, 4] -> [null, 4]', () => {
    const g = new Graph();
    expect(matMul(ph(g, 'x', [null, 3]), ph(g, 'w', [3, 4])).shape).toEqual([null, 4]);
  });

  test('matMul with transposeA of [3, null] -> [null, 4]', () => {
    const g = new Graph();
    expect(matMul(ph(g, 'x', [3, null]), ph(g, 'w', [3, 4]), true).shape).toEqual([null, 4]);
  });

  test('matMul with transposeB of [2, 3] and [null, 3] -> [2, null]', () => {
    const g = new Graph();
    expect(matMul(ph(g, 'x', [2, 3]), ph(g, 'w', [null, 3]), false, true).shape).toEqual([2, null]);
  });

  test('an unknown inner dim is accepted: [2, null] matMul [3, 4] -> [2, 4]', () => {
    const g = new Graph();
    expect(matMul(ph(g, 'x', [2, null]), ph(g, 'w', [3, 4])).shape).toEqual([2, 4]);
  });

  test('batched [null, 2, 3] matMul [3, 4] -> [null, 2, 4]', () => {
    const g = new Graph();
    expect(matMul(ph(g, 'x', [null, 2, 3]), ph(g, 'w', [3, 4])).shape).toEqual([null, 2, 4]);
  });

  test('batch dims broadcast with unknowns: [null, 1, 2, 3] matMul [5, 3, 4] -> [null, 5, 2, 4]', () => {
    const g = new Graph();
    expect(matMul(ph(g, 'x', [null, 1, 2, 3]), ph(g, 'w', [5, 3, 4])).shape).toEqual([null, 5, 2, 4]);
  });

  test.each([
    ['sum', sum],
    ['mean', mean],
    ['max', max],
  ] as const)(
    '%s of [null, 3] over axis 0 -> [3], over 1 -> [null], keepDims -> [1, 3] / [null, 1], all -> []',
    (_n, op) => {
      const g = new Graph();
      const x = ph(g, 'x', [null, 3]);
      expect(op(x, 0).shape).toEqual([3]);
      expect(op(x, 1).shape).toEqual([null]);
      expect(op(x, -1).shape).toEqual([null]);
      expect(op(x, 0, true).shape).toEqual([1, 3]);
      expect(op(x, 1, true).shape).toEqual([null, 1]);
      expect(op(x).shape).toEqual([]);
      expect(op(x, undefined, true).shape).toEqual([1, 1]);
    },
  );

  test.each([
    ['[null, 3] + [3]', [null, 3], [3], [null, 3]],
    ['[null, 1] + [1, 4]', [null, 1], [1, 4], [null, 4]],
    ['[null, 3] + [2, 1]', [null, 3], [2, 1], [2, 3]],
    ['[null] + [null]', [null], [null], [null]],
    ['[null] + [1]', [null], [1], [null]],
    ['[] + [null, 2]', [], [null, 2], [null, 2]],
    ['[null, null] + [5]', [null, null], [5], [null, 5]],
  ] as [string, (number | null)[], (number | null)[], (number | null)[]][])(
    'broadcasting %s',
    (_label, sa, sb, expected) => {
      const g = new Graph();
      const a = ph(g, 'a', sa);
      const b = ph(g, 'b', sb);
      for (const op of [add, sub, mul, div]) expect(op(a, b).shape).toEqual(expected);
      expect(equal(a, b).shape).toEqual(expected);
      expect(equal(a, b).dtype).toBe('bool');
    },
  );

  test('unary ops, cast, softmax and logSoftmax keep [null, null, 5]', () => {
    const g = new Graph();
    const x = ph(g, 'x', [null, null, 5]);
    for (const y of [exp(x), sqrt(x), relu(x), square(x), softmax(x), logSoftmax(x, 1), cast(x, 'int32')]) {
      expect(y.shape).toEqual([null, null, 5]);
    }
    expect(cast(x, 'int32').dtype).toBe('int32');
  });

  test('transpose permutes unknown dims: [null, 3, 2] by [2, 0, 1] -> [2, null, 3]', () => {
    const g = new Graph();
    expect(transpose(ph(g, 'x', [null, 3, 2]), [2, 0, 1]).shape).toEqual([2, null, 3]);
    expect(transpose(ph(g, 'y', [null, 3])).shape).toEqual([3, null]);
  });

  test('expandDims and squeeze around unknown dims', () => {
    const g = new Graph();
    const x = ph(g, 'x', [null, 3]);
    expect(expandDims(x, 1).shape).toEqual([null, 1, 3]);
    expect(expandDims(x, -1).shape).toEqual([null, 3, 1]);
    expect(squeeze(ph(g, 'y', [null, 1, 4]), 1).shape).toEqual([null, 4]);
  });

  test('broadcastTo fills unknown dims from the target: [null, 1] -> [2, 3]', () => {
    const g = new Graph();
    expect(broadcastTo(ph(g, 'x', [null, 1]), [2, 3]).shape).toEqual([2, 3]);
  });

  test('where broadcasts cond [null, 3], a [3] and b [] -> [null, 3]', () => {
    const g = new Graph();
    const c = ph(g, 'c', [null, 3], 'bool');
    expect(where(c, ph(g, 'a', [3]), ph(g, 'b', [])).shape).toEqual([null, 3]);
  });

  test('a chain: relu(x·w + b) summed over the batch', () => {
    const g = new Graph();
    const x = ph(g, 'x', [null, 3]);
    const y = x
      .matMul(ph(g, 'w', [3, 4]))
      .add(ph(g, 'b', [4]))
      .relu();
    expect(y.shape).toEqual([null, 4]);
    expect(y.sum(0).shape).toEqual([4]);
    expect(y.mean().shape).toEqual([]);
  });

  test('gradients keep the static shapes of the xs, unknown dims included', () => {
    const g = new Graph();
    const x = ph(g, 'x', [null, 3], 'float64');
    const w = ph(g, 'w', [3, 4], 'float64');
    const b = ph(g, 'b', [4], 'float64');
    const loss = mean(square(add(matMul(x, w), b)));
    const [dx, dw, db] = gradients(loss, [x, w, b]) as Tensor[];
    expect(dx.shape).toEqual([null, 3]);
    expect(dw.shape).toEqual([3, 4]);
    expect(db.shape).toEqual([4]);
  });

  test('one graph with an unknown batch dim runs with different batch sizes', () => {
    const rng = new Rng(4000);
    const g = new Graph();
    const x = ph(g, 'x', [null, 3], 'float64');
    const b = ph(g, 'b', [3], 'float64');
    const y = mean(mul(add(x, b), 2), 0);
    const [dx] = gradients(sum(y), [x]) as Tensor[];
    const sess = new Session(g);
    for (const n of [1, 2, 5]) {
      const xv = randomArray(rng, [n, 3]);
      const bv = randomArray(rng, [3]);
      const [yv, dxv] = sess.run(
        [y, dx],
        new Map([
          [x, xv],
          [b, bv],
        ]),
      );
      expect([...yv.shape]).toEqual([3]);
      expect([...dxv.shape]).toEqual([n, 3]);
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += xv.data[i * 3 + j] + bv.data[j];
        expect(yv.data[j]).toBeCloseTo((2 * s) / n, 12);
      }
      expect(Array.from(dxv.data).every((v) => Math.abs(v - 2 / n) < 1e-15)).toBe(true);
    }
  });
});

describe('reshape', () => {
  test.each([
    ['[2, 3] to [-1, 2]', [2, 3], [-1, 2], [3, 2]],
    ['[2, 3] to [-1]', [2, 3], [-1], [6]],
    ['[2, 3, 4] to [4, -1, 2]', [2, 3, 4], [4, -1, 2], [4, 3, 2]],
    ['[null, 3] to [-1]', [null, 3], [-1], [null]],
    ['[null, 4] to [2, -1]', [null, 4], [2, -1], [2, null]],
    ['[null, 4] to [-1, 2, 2]', [null, 4], [-1, 2, 2], [null, 2, 2]],
    ['[null, 4] to [8] (no -1)', [null, 4], [8], [8]],
    ['[] to [1, -1]', [], [1, -1], [1, 1]],
  ] as [string, (number | null)[], number[], (number | null)[]][])('%s', (_label, from, to, expected) => {
    const g = new Graph();
    expect(reshape(ph(g, 'x', from), to).shape).toEqual(expected);
  });

  test('the runtime shape of reshape(-1) with an unknown input dim is resolved from the feed', () => {
    const g = new Graph();
    const x = ph(g, 'x', [null, 4]);
    const y = reshape(x, [2, -1]);
    const out = new Session(g).run(y, {
      x: NDArray.from([
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10, 11, 12],
      ]),
    });
    expect([...out.shape]).toEqual([2, 6]);
  });

  test('a size mismatch is a ShapeError naming reshape and both shapes', () => {
    const g = new Graph();
    const x = ph(g, 'x', [2, 3]);
    expectBuildError(g, () => reshape(x, [4, -1]), ShapeError, ['reshape', '[2, 3]', '[4, -1]']);
    expectBuildError(g, () => reshape(x, [5]), ShapeError, ['reshape', '[2, 3]', '[5]']);
  });

  test('two -1 dims is a ShapeError', () => {
    const g = new Graph();
    const x = ph(g, 'x', [2, 3]);
    expectBuildError(g, () => reshape(x, [-1, -1]), ShapeError, ['reshape', '-1']);
  });
});

describe('incompatible shapes throw ShapeError at build time', () => {
  test.each([
    ['add', add],
    ['sub', sub],
    ['mul', mul],
    ['div', div],
  ] as const)('%s of [2, 3] and [4] names the op and both shapes', (name, op) => {
    const g = new Graph();
    const a = ph(g, 'a', [2, 3]);
    const b = ph(g, 'b', [4]);
    expectBuildError(g, () => op(a, b), ShapeError, [name, '[2, 3]', '[4]']);
  });

  test('add of [null, 3] and [4] (a known dim conflicts)', () => {
    const g = new Graph();
    expectBuildError(g, () => add(ph(g, 'a', [null, 3]), ph(g, 'b', [4])), ShapeError, ['add', '[?, 3]', '[4]']);
  });

  test('greater of [2, 1, 3] and [2, 4] (the middle dims conflict)', () => {
    const g = new Graph();
    expectBuildError(g, () => greater(ph(g, 'a', [3, 1, 3]), ph(g, 'b', [2, 4])), ShapeError, [
      'greater',
      '[3, 1, 3]',
      '[2, 4]',
    ]);
  });

  test('matMul with mismatched inner dims names matMul and both shapes', () => {
    const g = new Graph();
    expectBuildError(g, () => matMul(ph(g, 'a', [2, 3]), ph(g, 'b', [4, 5])), ShapeError, [
      'matMul',
      '[2, 3]',
      '[4, 5]',
    ]);
  });

  test('matMul whose inner dims only mismatch after a transpose', () => {
    const g = new Graph();
    const a = ph(g, 'a', [3, 3]);
    const b = ph(g, 'b', [3, 4]);
    expect(matMul(a, b).shape).toEqual([3, 4]);
    expectBuildError(g, () => matMul(a, b, false, true), ShapeError, ['matMul', '[3, 3]', '[3, 4]']);
  });

  test('matMul of a rank-1 operand', () => {
    const g = new Graph();
    expectBuildError(g, () => matMul(ph(g, 'a', [3]), ph(g, 'b', [3, 4])), ShapeError, ['matMul', '[3]']);
  });

  test('matMul with batch dims that cannot broadcast', () => {
    const g = new Graph();
    expectBuildError(g, () => matMul(ph(g, 'a', [2, 3, 4]), ph(g, 'b', [3, 4, 5])), ShapeError, [
      'matMul',
      '[2]',
      '[3]',
    ]);
  });

  test.each([
    ['sum', sum],
    ['mean', mean],
    ['max', max],
  ] as const)('%s over an out-of-range axis', (name, op) => {
    const g = new Graph();
    const x = ph(g, 'x', [2, 3]);
    expectBuildError(g, () => op(x, 2), ShapeError, [name, '[2, 3]']);
    expectBuildError(g, () => op(x, -3), ShapeError, [name, '[2, 3]']);
  });

  test.each([
    ['softmax', softmax],
    ['logSoftmax', logSoftmax],
  ] as const)('%s over an out-of-range axis or of a scalar', (name, op) => {
    const g = new Graph();
    expectBuildError(g, () => op(ph(g, 'x', [2, 3]), 2), ShapeError, [name, '[2, 3]']);
    expectBuildError(g, () => op(ph(g, 's', [])), ShapeError, [name, '[]']);
  });

  test('transpose with a perm that is not a permutation', () => {
    const g = new Graph();
    const x = ph(g, 'x', [2, 3, 4]);
    expectBuildError(g, () => transpose(x, [0, 0, 1]), ShapeError, ['transpose', '[2, 3, 4]']);
    expectBuildError(g, () => transpose(x, [1, 0]), ShapeError, ['transpose', '[2, 3, 4]']);
  });

  test('broadcastTo an incompatible shape', () => {
    const g = new Graph();
    expectBuildError(g, () => broadcastTo(ph(g, 'x', [3]), [2, 4]), ShapeError, ['broadcastTo', '[3]', '[2, 4]']);
    expectBuildError(g, () => broadcastTo(ph(g, 'y', [2, 3]), [3]), ShapeError, ['broadcastTo', '[2, 3]', '[3]']);
  });

  test('squeeze of an axis whose size is not 1', () => {
    const g = new Graph();
    expectBuildError(g, () => squeeze(ph(g, 'x', [2, 3]), 0), ShapeError, ['squeeze', '[2, 3]']);
  });

  test('where with a condition that cannot broadcast', () => {
    const g = new Graph();
    const c = ph(g, 'c', [4], 'bool');
    expectBuildError(g, () => where(c, ph(g, 'a', [2, 3]), ph(g, 'b', [2, 3])), ShapeError, ['where', '[4]', '[2, 3]']);
  });

  test('a fed value of the wrong shape is a ShapeError at run time naming the placeholder', () => {
    const g = new Graph();
    const x = ph(g, 'x', [null, 3]);
    const y = relu(x);
    expect(() => new Session(g).run(y, { x: NDArray.from([[1, 2]]) })).toThrow(ShapeError);
    expect(() => new Session(g).run(y, { x: NDArray.from([[1, 2]]) })).toThrow(/'x'.*\[1, 2\].*\[\?, 3\]/);
  });
});

describe('dtype mismatches throw DTypeError at build time', () => {
  test('float32 + int32 placeholder names both dtypes and the op', () => {
    const g = new Graph();
    const a = ph(g, 'a', [2], 'float32');
    const b = ph(g, 'b', [2], 'int32');
    expectBuildError(g, () => add(a, b), DTypeError, ['add', 'float32', 'int32']);
  });

  test.each([
    ['mul', mul],
    ['sub', sub],
    ['div', div],
    ['equal', equal],
    ['greater', greater],
  ] as const)('%s of float64 and float32', (name, op) => {
    const g = new Graph();
    expectBuildError(g, () => op(ph(g, 'a', [2], 'float64'), ph(g, 'b', [2], 'float32')), DTypeError, [
      name,
      'float64',
      'float32',
    ]);
  });

  test('matMul of float32 and float64', () => {
    const g = new Graph();
    expectBuildError(g, () => matMul(ph(g, 'a', [2, 2], 'float32'), ph(g, 'b', [2, 2], 'float64')), DTypeError, [
      'matMul',
      'float32',
      'float64',
    ]);
  });

  test('float-only ops reject int32 and name it', () => {
    const g = new Graph();
    const i = ph(g, 'i', [2], 'int32');
    expectBuildError(g, () => sqrt(i), DTypeError, ['sqrt', 'int32']);
    expectBuildError(g, () => exp(i), DTypeError, ['exp', 'int32']);
    expectBuildError(g, () => softmax(i), DTypeError, ['softmax', 'int32']);
  });

  test('arithmetic on bool is a DTypeError', () => {
    const g = new Graph();
    const b = ph(g, 'b', [2], 'bool');
    expectBuildError(g, () => add(b, b), DTypeError, ['add', 'bool']);
    expectBuildError(g, () => sum(b), DTypeError, ['sum', 'bool']);
  });

  test('where needs a bool condition and equal branch dtypes', () => {
    const g = new Graph();
    const c = ph(g, 'c', [2], 'float32');
    const a = ph(g, 'a', [2], 'float32');
    const b = ph(g, 'b', [2], 'int32');
    expectBuildError(g, () => where(c, a, a), DTypeError, ['where', 'float32']);
    const cond = greater(a, 0);
    expectBuildError(g, () => where(cond, a, b), DTypeError, ['where', 'float32', 'int32']);
  });

  test("a JS number operand takes the tensor's dtype (no mismatch)", () => {
    const g = new Graph();
    const x = ph(g, 'x', [2], 'float64');
    const i = ph(g, 'i', [2], 'int32');
    expect(add(x, 1).dtype).toBe('float64');
    expect(mul(i, 3).dtype).toBe('int32');
    expect(greater(x, 0).dtype).toBe('bool');
  });
});
