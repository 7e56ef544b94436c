import {
  add,
  assign,
  cast,
  DTypeError,
  FeedError,
  Graph,
  GraphError,
  gradients,
  matMul,
  mul,
  MUL,
  NDArray,
  reshape,
  RuntimeError,
  Session,
  ShapeError,
  sum,
} from '../src';

function thrown(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('bad input gets a clear error', () => {
  test('an unknown feed name is a FeedError listing the placeholders', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    g.placeholder('labels');
    const e = thrown(() => new Session(g).run(mul(x, 2), { xx: 1 }));
    expect(e).toBeInstanceOf(FeedError);
    expect(e.message).toContain("'xx'");
    expect(e.message).toContain("'x', 'labels'");
  });

  test('a missing feed is a FeedError naming the placeholder and a fetch that needs it', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const y = g.nameScope('model', () => mul(x, 2));
    const e = thrown(() => new Session(g).run(y));
    expect(e).toBeInstanceOf(FeedError);
    expect(e.message).toContain("placeholder 'x'");
    expect(e.message).toContain('float32[?, 3]');
    expect(e.message).toContain("fetch 'model/mul'");
  });

  test('a feed of the wrong shape is a ShapeError with both shapes', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const e = thrown(() => new Session(g).run(mul(x, 2), { x: [[1, 2]] }));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain("placeholder 'x'");
    expect(e.message).toContain('[1, 2]');
    expect(e.message).toContain('[?, 3]');
  });

  test('a feed of the wrong dtype is a DTypeError with both dtypes', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const e = thrown(() => new Session(g).run(mul(x, 2), { x: NDArray.from([1, 2], 'int32') }));
    expect(e).toBeInstanceOf(DTypeError);
    expect(e.message).toContain('int32');
    expect(e.message).toContain('float32');
  });

  test('a ragged nested array feed is a ShapeError naming the placeholder', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, null]);
    const e = thrown(() => new Session(g).run(mul(x, 2), { x: [[1, 2], [3]] }));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain("'x'");
    expect(e.message).toContain('ragged');
  });

  test('tensors of two graphs combined is a GraphError', () => {
    const a = new Graph().placeholder('a');
    const b = new Graph().placeholder('b');
    expect(thrown(() => mul(a, b))).toBeInstanceOf(GraphError);
    expect(thrown(() => new Session(new Graph()).run(a))).toBeInstanceOf(GraphError);
  });

  test('incompatible shapes at build time are a ShapeError naming op, node and shapes', () => {
    const g = new Graph();
    const a = g.placeholder('a', [2, 3]);
    const b = g.placeholder('b', [4]);
    const e = thrown(() => add(a, b));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/^add 'add'/);
    expect(e.message).toContain("'a' float32[2, 3]");
    expect(e.message).toContain("'b' float32[4]");
    expect(e.message).toContain('cannot broadcast');
  });

  test('matMul with mismatched inner dims says which dims must agree', () => {
    const g = new Graph();
    const e = thrown(() => matMul(g.placeholder('a', [2, 3]), g.placeholder('b', [4, 5])));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain('contracts 3 with 4');
  });

  test('reshape to an incompatible size is a ShapeError', () => {
    const g = new Graph();
    expect(thrown(() => reshape(g.placeholder('a', [2, 3]), [4, -1]))).toBeInstanceOf(ShapeError);
  });

  test('mixing dtypes is a DTypeError that suggests cast', () => {
    const g = new Graph();
    const e = thrown(() => add(g.placeholder('a', [2]), g.placeholder('i', [2], 'int32')));
    expect(e).toBeInstanceOf(DTypeError);
    expect(e.message).toContain('float32 and int32');
    expect(e.message).toContain('cast');
  });

  test('a gradient of a non-float tensor is a DTypeError', () => {
    const g = new Graph();
    const i = g.placeholder('i', [2], 'int32');
    const x = g.placeholder('x', [2]);
    expect(thrown(() => gradients(sum(i), [x]))).toBeInstanceOf(DTypeError);
    expect(thrown(() => gradients(sum(x), [i]))).toBeInstanceOf(DTypeError);
    expect(thrown(() => gradients(sum(cast(x, 'int32')), [x])).message).toContain('int32');
  });

  test('a shape clash found only with the fed shapes is a ShapeError at run time', () => {
    const g = new Graph();
    const a = g.placeholder('a', [null]);
    const b = g.placeholder('b', [null]);
    const e = thrown(() => new Session(g).run(add(a, b), { a: [1, 2], b: [1, 2, 3] }));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain('[2]');
    expect(e.message).toContain('[3]');
  });

  test('a failed run changes no variable', () => {
    const g = new Graph();
    const w = g.variable('w', [1]);
    const v = g.variable('v', [10]);
    const x = g.placeholder('x', [1]);
    const sess = new Session(g);
    sess.run(assign(w, [5]));
    const record = MUL as { kernel: unknown };
    const original = record.kernel;
    record.kernel = () => {
      throw new Error('boom');
    };
    try {
      const e = thrown(() => sess.run([assign(w, add(w, 1)), assign(v, add(v, 1)), mul(x, w)], { x: [2] }));
      expect(e).toBeInstanceOf(RuntimeError);
      expect(e.message).toContain("mul 'mul'");
      expect(e.message).toContain('boom');
    } finally {
      record.kernel = original;
    }
    expect(sess.run(w).toArray()).toEqual([5]);
    expect(sess.run(v).toArray()).toEqual([10]);
  });
});

describe('more misuse', () => {
  test('a non-integer number next to an int32 tensor is a DTypeError, not a silent truncation', () => {
    const g = new Graph();
    const i = g.placeholder('i', [2], 'int32');
    expect(thrown(() => add(i, 2.5))).toBeInstanceOf(DTypeError);
    expect(new Session(g).run(add(i, 2), { i: NDArray.from([1, 2], 'int32') }).toArray()).toEqual([3, 4]);
  });

  test('two assigns to one variable in one run is a GraphError naming both', () => {
    const g = new Graph();
    const w = g.variable('w', [1]);
    const e = thrown(() => new Session(g).run([assign(w, [2]), assign(w, [3])]));
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toContain("variable 'w' is assigned twice");
  });
});

describe('int32 constants', () => {
  test('an array with a fraction next to an int32 tensor is a DTypeError too', () => {
    const g = new Graph();
    const i = g.placeholder('i', [2], 'int32');
    expect(thrown(() => add(i, [2, 2.5]))).toBeInstanceOf(DTypeError);
    expect(new Session(g).run(add(i, [1, 2]), { i: NDArray.from([1, 2], 'int32') }).toArray()).toEqual([2, 4]);
  });
});
