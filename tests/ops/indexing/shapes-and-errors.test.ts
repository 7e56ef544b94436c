/**
 * Static shapes of the indexing ops when some dims are unknown (null), their resolution at run time, constant
 * folding, and misuse: ShapeError / DTypeError at build time naming the op, the shapes and what is valid, and a
 * RuntimeError naming the node, the bad index and the valid range for out-of-range gather indices.
 */
import {
  concat,
  cumsum,
  DTypeError,
  fill,
  gather,
  gradients,
  Graph,
  GraphError,
  linspace,
  NDArray,
  oneHot,
  ones,
  pad,
  range,
  reverse,
  RuntimeError,
  scatterAdd,
  Session,
  ShapeError,
  slice,
  split,
  stack,
  stridedSlice,
  sum,
  Tensor,
  tile,
  unstack,
  zeros,
} from '../../../src';

function thrown(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

function opNodes(g: Graph): number {
  return g.nodes.filter((n) => n.op !== 'placeholder' && n.op !== 'constant').length;
}

/** Expects `build` to throw `ErrorClass` with every fragment in its message, adding no op node. */
function expectError(
  g: Graph,
  build: () => unknown,
  ErrorClass: typeof ShapeError | typeof DTypeError | typeof GraphError,
  fragments: string[],
): void {
  const before = opNodes(g);
  const error = thrown(build);
  expect(error).toBeInstanceOf(ErrorClass);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  expect(opNodes(g)).toBe(before);
}

describe('static shapes with unknown dims', () => {
  const g = new Graph();
  const a = g.placeholder('a', [null, 3]);
  const b = g.placeholder('b', [2, null]);
  const ids = g.placeholder('ids', [null], 'int32');

  test.each<[string, () => Tensor, (number | null)[]]>([
    ['concat along the unknown axis', () => concat([a, b], 0), [null, 3]],
    ['concat along a known axis', () => concat([a, a], 1), [null, 6]],
    ['stack merges what the inputs know', () => stack([a, b]), [2, 2, 3]],
    ['unstack along a known axis', () => unstack(a, 1)[0], [null]],
    ['split along a known axis', () => split(a, [1, 2], 1)[1], [null, 2]],
    ['slice to the end of an unknown dim', () => slice(a, [1, 1], [-1, 2]), [null, 2]],
    ['slice with a size on an unknown dim', () => slice(a, [1, 0], [4, -1]), [4, 3]],
    ['stridedSlice with masks', () => stridedSlice(a, [0, 2], [0, 0], [1, -1], 1, 3), [null, 3]],
    ['stridedSlice shrinking an unknown dim', () => stridedSlice(a, [-1, 0], [0, 3], [1, 2], 0, 0, 0, 0, 1), [2]],
    ['gather rows by unknown many indices', () => gather(a, ids), [null, 3]],
    ['gather along the known axis', () => gather(a, ids, 1), [null, null]],
    ['tile', () => tile(a, [2, 3]), [null, 9]],
    [
      'pad',
      () =>
        pad(b, [
          [1, 1],
          [0, 2],
        ]),
      [4, null],
    ],
    ['reverse', () => reverse(a), [null, 3]],
    ['oneHot', () => oneHot(ids, 4), [null, 4]],
    ['cumsum', () => cumsum(a, 1), [null, 3]],
  ])('%s', (_name, build, shape) => {
    expect(build().shape).toEqual(shape);
  });

  test('gradients have their inputs’ static shapes', () => {
    const y = sum(concat([a, tile(gather(a, ids), [1, 1]), slice(a, [1, 0])], 0));
    const [da] = gradients(y, [a]);
    expect(da?.shape).toEqual([null, 3]);
  });

  test('values resolve at run time for the fed shapes', () => {
    const out = new Session(g).run([concat([a, a], 0), slice(a, [1, 1], [-1, 2]), gather(a, ids)], {
      a: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      ids: NDArray.from([1, 1, 0], 'int32'),
    });
    expect(out.map((v) => v.toArray())).toEqual([
      [
        [1, 2, 3],
        [4, 5, 6],
        [1, 2, 3],
        [4, 5, 6],
      ],
      [[5, 6]],
      [
        [4, 5, 6],
        [4, 5, 6],
        [1, 2, 3],
      ],
    ]);
  });

  test('a mismatch that only the fed shapes reveal is a ShapeError at run time naming the dims', () => {
    const h = new Graph();
    const x = h.placeholder('x', [null, 3]);
    const z = h.placeholder('z', [null, null]);
    const y = concat([x, z], 0);
    const error = thrown(() => new Session(h).run(y, { x: [[1, 2, 3]], z: [[1, 2]] }));
    expect(error).toBeInstanceOf(ShapeError);
    expect(error.message).toContain('dim 1 differs');
    expect(error.message).toContain('[1, 3]');
    expect(error.message).toContain('[1, 2]');
  });

  test('a slice that the fed shape cannot hold is a ShapeError at run time', () => {
    const h = new Graph();
    const x = h.placeholder('x', [null]);
    const error = thrown(() => new Session(h).run(slice(x, [1], [3]), { x: [1, 2] }));
    expect(error).toBeInstanceOf(ShapeError);
    expect(error.message).toContain('exceeds dim 0 of size 2');
  });
});

describe('constant folding', () => {
  test('ops over generated constants fold and give the same values unoptimized', () => {
    const g = new Graph();
    const y = tile(concat([range(0, 3, g), ones([2], g)]), [2]);
    const folded = new Session(g).run(y);
    const plain = new Session(g, { optimize: false }).run(y);
    expect(folded.toArray()).toEqual([0, 1, 2, 1, 1, 0, 1, 2, 1, 1]);
    expect(plain.toArray()).toEqual(folded.toArray());
    expect(new Session(g).explain(y)).toContain('folded');
  });
});

describe('build-time misuse', () => {
  const g = new Graph();
  const x = g.placeholder('x', [2, 3]);
  const w = g.placeholder('w', [3, 4]);
  const i32 = g.placeholder('i', [2, 2], 'int32');

  test('concat of mismatched dims names the dim, both inputs and their sizes', () => {
    expectError(g, () => concat([x, w], 1), ShapeError, [
      "concat 'concat'",
      'dim 0 differs',
      'input 0 [2, 3] has size 2',
      'input 1 [3, 4] has size 3',
      'every dim except the concat axis 1 must match',
    ]);
  });

  test('concat of different ranks, scalars, dtypes, bad axes or nothing', () => {
    expectError(g, () => concat([x, g.placeholder('v', [3])]), ShapeError, ['input 1 has rank 1', 'rank 2']);
    expectError(g, () => concat([g.placeholder('s', []), g.placeholder('t', [])]), ShapeError, ['use stack']);
    expectError(g, () => concat([x, g.placeholder('d', [2, 3], 'float64')]), DTypeError, ['float32 and float64']);
    expectError(g, () => concat([x, x], 2), ShapeError, ['axis 2 is out of range', '[-2, 2)']);
    expectError(g, () => concat([]), ShapeError, ['at least one tensor']);
  });

  test('stack of different shapes or a bad axis', () => {
    expectError(g, () => stack([x, w]), ShapeError, ['dim 0 differs', 'must all have the same shape']);
    expectError(g, () => stack([x, x], 3), ShapeError, ['axis 3 is out of range', '[-3, 3)']);
  });

  test('unstack and split need the axis size known and sizes that fit', () => {
    const u = g.placeholder('u', [null, 4]);
    expectError(g, () => unstack(u), ShapeError, ['axis 0 has an unknown size']);
    expectError(g, () => split(u, 2), ShapeError, ['axis 0 has an unknown size']);
    expectError(g, () => split(x, 2, 1), ShapeError, ['2 pieces do not evenly divide axis 1 of size 3']);
    expectError(g, () => split(x, [1, 1], 1), ShapeError, ['must add up to the size 3 of axis 1']);
    expectError(g, () => split(x, [-1, -1], 1), ShapeError, ['at most one -1']);
    expectError(g, () => split(x, [4, -1], 1), ShapeError, ['must add up to the size 3']);
  });

  test('slice outside the tensor', () => {
    expectError(g, () => slice(x, [1, 2], [2, 1]), ShapeError, ['begin[0] + size[0] = 1 + 2 exceeds dim 0 of size 2']);
    expectError(g, () => slice(x, [0, 4]), ShapeError, ['exceeds dim 1 of size 3']);
    expectError(g, () => slice(x, [-1, 0]), ShapeError, ['begin[0] = -1 must be >= 0']);
    expectError(g, () => slice(x, [0, 0, 0]), ShapeError, ['exceed rank 2']);
  });

  test('stridedSlice with an index out of range, a zero stride, two ellipses or ragged arguments', () => {
    expectError(g, () => stridedSlice(x, [2, 0], [3, 3], [1, 1], 0, 0, 0, 0, 1), ShapeError, [
      'index 2 of dim 0 is out of range for size 2',
      'valid indices are -2 to 1',
    ]);
    expectError(g, () => stridedSlice(x, [0, 0], [2, 3], [1, 0]), ShapeError, ['stride 0 of dim 1']);
    expectError(g, () => stridedSlice(x, [0, 0], [2, 3], [1, 1], 0, 0, 3), ShapeError, ['at most one ellipsis']);
    expectError(g, () => stridedSlice(x, [0], [2, 3]), ShapeError, ['must have the same length']);
    expectError(g, () => stridedSlice(x, [0, 0, 0], [1, 1, 1], [1, 1, 1]), ShapeError, ['more dims than x has']);
  });

  test('gather with float indices, fractional JS indices, bad axes or batch dims', () => {
    expectError(g, () => gather(w, g.placeholder('f', [2])), DTypeError, ['indices must be int32, got float32']);
    expectError(g, () => gather(w, [0.5]), DTypeError, ['index 0.5 is not an integer']);
    expectError(g, () => gather(w, [0], 2), ShapeError, ['axis 2 is out of range', '[-2, 2)']);
    expectError(g, () => gather(w, i32, 0, 1), ShapeError, ['batchDims 1 must be in [0, 0]']);
    expectError(g, () => gather(g.placeholder('b3', [3, 4, 2]), i32, 1, 1), ShapeError, [
      'batch dim 0 differs: x has size 3 but indices [2, 2] have 2',
    ]);
  });

  test('scatterAdd with updates of the wrong shape', () => {
    expectError(g, () => scatterAdd(x, [0, 1], w), ShapeError, [
      'updates [2, 3] must have the shape gather would give',
    ]);
  });

  test('tile, pad and reverse with arguments that do not fit the rank', () => {
    expectError(g, () => tile(x, [2]), ShapeError, ['one entry per dim (rank 2)']);
    expectError(g, () => tile(x, [2, -1]), ShapeError, ['one integer >= 0 per dim']);
    expectError(g, () => pad(x, [[1, 1]]), ShapeError, ['one [before, after] pair of non-negative integers per dim']);
    expectError(
      g,
      () =>
        pad(x, [
          [1, 1],
          [0, -1],
        ]),
      ShapeError,
      ['non-negative'],
    );
    expectError(g, () => pad(g.placeholder('sc', []), []), ShapeError, ['cannot pad a scalar']);
    expectError(
      g,
      () =>
        pad(
          i32,
          [
            [0, 0],
            [1, 1],
          ],
          0.5,
        ),
      DTypeError,
      ['constantValue 0.5 is not an integer'],
    );
    expectError(g, () => reverse(x, 2), ShapeError, ['axis 2 is out of range']);
  });

  test('oneHot and cumsum with unsupported dtypes or arguments', () => {
    expectError(g, () => oneHot(x, 3), DTypeError, ['indices must be int32, got float32']);
    expectError(g, () => oneHot(i32, -1), ShapeError, ['depth -1 must be a non-negative integer']);
    expectError(g, () => cumsum(g.placeholder('bo', [3], 'bool')), DTypeError, ['got bool']);
    expectError(g, () => cumsum(x, -3), ShapeError, ['axis -3 is out of range']);
  });

  test('generators need the graph last, valid shapes, integer int32 values and valid steps', () => {
    const call = (f: (...args: unknown[]) => unknown, ...args: unknown[]): unknown => f(...args);
    expectError(g, () => call(zeros as (...args: unknown[]) => unknown, [2]), GraphError, [
      'pass the Graph as the last',
    ]);
    expectError(g, () => zeros([2, -1], g), ShapeError, ['non-negative integers']);
    expectError(g, () => fill([2], 0.5, 'int32', g), DTypeError, ['0.5 is not an integer']);
    expectError(g, () => range(0, 3, 0, g), ShapeError, ['step 0']);
    expectError(g, () => range(0.5, 3, 1, 'int32', g), DTypeError, ['must be integers for int32']);
    expectError(g, () => linspace(0, 1, 0, g), ShapeError, ['num 0 must be a positive integer']);
  });
});

describe('run-time misuse', () => {
  test('a gather index out of range is a RuntimeError naming the node, the index and the valid range', () => {
    const g = new Graph();
    const x = g.placeholder('table', [4, 2]);
    const ids = g.placeholder('ids', [2, 2], 'int32');
    const y = gather(x, ids, 0);
    const error = thrown(() =>
      new Session(g).run(y, {
        table: NDArray.zeros([4, 2]),
        ids: NDArray.from(
          [
            [0, 1],
            [7, 2],
          ],
          'int32',
        ),
      }),
    );
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.message).toContain("gather 'gather'");
    expect(error.message).toContain('indices[1, 0] = 7 is out of range for axis 0');
    expect(error.message).toContain('valid indices are 0 to 3');
  });

  test('a negative gather index is out of range too', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const error = thrown(() => new Session(g).run(gather(x, [-1]), { x: [1, 2, 3] }));
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.message).toContain('indices[0] = -1 is out of range');
  });

  test('the gradient of gather checks its indices as well', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const ids = g.placeholder('ids', [1], 'int32');
    const [dx] = gradients(sum(gather(x, ids)), [x]);
    const error = thrown(() => new Session(g).run(dx as Tensor, { x: [1, 2, 3], ids: NDArray.from([3], 'int32') }));
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.message).toContain('valid indices are 0 to 2');
  });
});
