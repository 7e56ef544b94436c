/**
 * Issue 15, items 1-3: shape rules that were silently wrong or too strict with unknown (null) dims.
 * squeeze without axes, a gradY of another shape than its y, and an unknown dim broadcast against 1.
 */
import {
  DTypeError,
  Graph,
  GraphError,
  neg,
  opRecord,
  NDArray,
  Session,
  ShapeError,
  broadcastLike,
  broadcastTo,
  checkGradients,
  cos,
  ensureShapeLike,
  gradients,
  jvp,
  mul,
  sin,
  square,
  squeeze,
  sum,
  sumTo,
  Tensor,
} from '../../src';

function grad(y: Tensor, x: Tensor, gradY?: Tensor): Tensor {
  const [d] = gradients(y, [x], gradY === undefined ? undefined : [gradY]);
  if (d === null) throw new Error(`no gradient for '${x.name}'`);
  return d;
}

function values(a: NDArray): number[] {
  return Array.from(a.data);
}

describe('squeeze without axes (item 1)', () => {
  test('on unknown dims is a ShapeError at build time naming the shape and saying to pass axes', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3, null]);
    expect(() => squeeze(x)).toThrow(ShapeError);
    expect(() => squeeze(x)).toThrow(/'x'.*\[\?, 3, \?\].*unknown.*axes 0, 2.*pass the axes/);
    expect(() => x.squeeze()).toThrow(ShapeError);
  });

  test('a known 1 beside an unknown dim is refused too (the unknown dim may be 1 when fed)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, null]);
    expect(() => squeeze(x)).toThrow(/unknown.*axis 1/);
  });

  test('on known dims removes every size-1 dim', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3, 1]);
    expect(squeeze(x).shape).toEqual([3]);
  });

  test('with axes on unknown dims squeezes the fed shape, with the exact gradient', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3, null], 'float64');
    const y = squeeze(x, [0, 2]);
    expect(y.shape).toEqual([3]);
    const dx = grad(sum(sin(y)), x);
    const fed = NDArray.from([[[0.5], [-1.25], [2]]], 'float64');
    const [out, d] = new Session(g).run([y, dx], new Map([[x, fed]]));
    expect(out.shape).toEqual([3]);
    expect(d.shape).toEqual([1, 3, 1]);
    expect(values(d)).toEqual([0.5, -1.25, 2].map(Math.cos));
  });

  test('with axes on an unknown dim fed a size other than 1 is a ShapeError at run time', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const y = squeeze(x, [0]);
    const run = (): unknown =>
      new Session(g).run(
        y,
        new Map([
          [
            x,
            NDArray.from([
              [1, 2, 3],
              [4, 5, 6],
            ]),
          ],
        ]),
      );
    expect(run).toThrow(ShapeError);
    expect(run).toThrow(/cannot squeeze axis 0 of \[2, 3\]/);
  });
});

describe('gradients with a gradY (item 2)', () => {
  test('a gradY of another shape than y is a ShapeError naming both shapes', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const y = mul(x, 2);
    const broadcastable = g.placeholder('gy', [1, 3]);
    expect(() => gradients(y, [x], [broadcastable])).toThrow(ShapeError);
    expect(() => gradients(y, [x], [broadcastable])).toThrow(/gradY 'gy'.*\[1, 3\].*y 'mul'.*\[2, 3\]/);
    const lowerRank = g.placeholder('gy3', [3]);
    expect(() => gradients(y, [x], [lowerRank])).toThrow(/gradY 'gy3'.*\[3\].*\[2, 3\]/);
    const scalar = g.constant(1);
    expect(() => gradients(y, [x], [scalar])).toThrow(ShapeError);
  });

  test('a gradY of another dtype than y is a DTypeError naming both', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const gy = g.placeholder('gy', [2, 3], 'float64');
    expect(() => gradients(mul(x, 2), [x], [gy])).toThrow(DTypeError);
    expect(() => gradients(mul(x, 2), [x], [gy])).toThrow(/float64.*float32/);
  });

  test('with unknown dims, a gradY fed another shape than y is a ShapeError at run time', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const gy = g.placeholder('gy', [null, 3]);
    const dx = grad(mul(x, 2), x, gy);
    const sess = new Session(g);
    const xs = NDArray.from([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const run = (xValue: NDArray, gyValue: NDArray): NDArray =>
      sess.run(
        dx,
        new Map([
          [x, xValue],
          [gy, gyValue],
        ]),
      );
    const oneRow = NDArray.from([[1, 1, 1]]);
    // A gradY larger than y was summed down to x's shape before: [6, 6, 6] with no error.
    expect(() => run(oneRow, xs)).toThrow(ShapeError);
    expect(() => run(oneRow, xs)).toThrow(/gradY.*\[2, 3\].*\[1, 3\]/);
    expect(() => run(xs, oneRow)).toThrow(ShapeError);
    expect(() => run(xs, oneRow)).toThrow(/gradY.*\[1, 3\].*\[2, 3\]/);
    // The same shape runs, with the exact numbers.
    expect(
      values(
        run(
          xs,
          NDArray.from([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ),
      ),
    ).toEqual([2, 4, 6, 8, 10, 12]);
  });

  test('a known gradY against a y with unknown dims is checked at run time', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const gy = g.constant(
      NDArray.from([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    const dx = grad(mul(x, 2), x, gy);
    const sess = new Session(g);
    const twoRows = NDArray.from([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(values(sess.run(dx, new Map([[x, twoRows]])))).toEqual([2, 4, 6, 8, 10, 12]);
    expect(() => sess.run(dx, new Map([[x, NDArray.from([[7, 8, 9]])]]))).toThrow(ShapeError);
  });
});

describe('ensureShapeLike, the check a gradY goes through', () => {
  test('is x itself when both shapes are known and equal, and a ShapeError when they differ', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    expect(ensureShapeLike(x, g.placeholder('same', [2, 3]))).toBe(x);
    expect(() => ensureShapeLike(x, g.placeholder('row', [1, 3]))).toThrow(ShapeError);
    expect(() => ensureShapeLike(x, g.placeholder('flat', [6]))).toThrow(/\[2, 3\].*\[6\].*never broadcasts/);
  });

  test('takes the known dims of either side, checks the rest when fed, and passes gradients through', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3], 'float64');
    const like = g.placeholder('like', [2, null], 'float64');
    const y = ensureShapeLike(x, like);
    expect(y.shape).toEqual([2, 3]);
    const dx = grad(sum(sin(y)), x);
    const sess = new Session(g);
    const xValue = NDArray.from(
      [
        [0.1, 0.2, 0.3],
        [0.4, 0.5, 0.6],
      ],
      'float64',
    );
    const [out, d] = sess.run(
      [y, dx],
      new Map([
        [x, xValue],
        [like, xValue],
      ]),
    );
    expect(values(out)).toEqual(values(xValue));
    expect(values(d)).toEqual(values(xValue).map(Math.cos));
    const wide = new NDArray(new Float64Array(8), [2, 4]);
    expect(() =>
      sess.run(
        y,
        new Map([
          [x, xValue],
          [like, wide],
        ]),
      ),
    ).toThrow(ShapeError);
  });
});

describe('an unknown dim broadcast against 1 (item 3)', () => {
  test('broadcastTo([?, 3] to [1, 3]) builds, runs when fed 1, and is a ShapeError otherwise', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const y = broadcastTo(x, [1, 3]);
    expect(y.shape).toEqual([1, 3]);
    const sess = new Session(g);
    expect(values(sess.run(y, new Map([[x, NDArray.from([[1, 2, 3]])]])))).toEqual([1, 2, 3]);
    const twoRows = NDArray.from([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const run = (): unknown => sess.run(y, new Map([[x, twoRows]]));
    expect(run).toThrow(ShapeError);
    expect(run).toThrow(/cannot broadcast \[2, 3\] to \[1, 3\]/);
  });

  test('broadcastTo([?, 3] to [2, 3]) still works fed 1 row, and 3 rows is a ShapeError', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const y = broadcastTo(x, [2, 3]);
    const sess = new Session(g);
    expect(values(sess.run(y, new Map([[x, NDArray.from([[1, 2, 3]])]])))).toEqual([1, 2, 3, 1, 2, 3]);
    const three = NDArray.from([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(() => sess.run(y, new Map([[x, three]]))).toThrow(ShapeError);
  });

  test('broadcastLike of unknown dims to a known shape with a 1', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, null]);
    const like = g.placeholder('like', [1, 3]);
    const y = broadcastLike(x, like);
    expect(y.shape).toEqual([1, 3]);
    const sess = new Session(g);
    const likeValue = NDArray.from([[0, 0, 0]]);
    expect(
      values(
        sess.run(
          y,
          new Map([
            [x, NDArray.from([[5]])],
            [like, likeValue],
          ]),
        ),
      ),
    ).toEqual([5, 5, 5]);
    expect(() =>
      sess.run(
        y,
        new Map([
          [x, NDArray.from([[5], [6]])],
          [like, likeValue],
        ]),
      ),
    ).toThrow(ShapeError);
  });

  test('sumTo whose like does not broadcast to x is a ShapeError (at build time when known, else at run time)', () => {
    const g = new Graph();
    const small = g.placeholder('small', [1, 3]);
    const big = g.placeholder('big', [2, 3]);
    expect(() => sumTo(small, big)).toThrow(ShapeError);
    expect(() => sumTo(small, big)).toThrow(/cannot sum \[1, 3\] down to \[2, 3\]/);
    const unknown = g.placeholder('unknown', [null, 3]);
    const y = sumTo(unknown, big);
    expect(y.shape).toEqual([2, 3]);
    const bigValue = new NDArray(new Float32Array(6), [2, 3]);
    const run = (): unknown =>
      new Session(g).run(
        y,
        new Map([
          [unknown, NDArray.from([[1, 2, 3]])],
          [big, bigValue],
        ]),
      );
    expect(run).toThrow(ShapeError);
    expect(run).toThrow(/cannot sum \[1, 3\] down to \[2, 3\]/);
  });

  describe('the repro: gradients(sum(square(sumTo(c, x))), [c]) with c [2, 1, 2] and x [?, ?, ?]', () => {
    const cValue = NDArray.from([[[0.3, -0.7]], [[1.1, 0.45]]], 'float64');
    function build(): { g: Graph; c: Tensor; x: Tensor; dc: Tensor } {
      const g = new Graph();
      const c = g.placeholder('c', [2, 1, 2], 'float64');
      const x = g.placeholder('x', [null, null, null], 'float64');
      const dc = grad(sum(square(sumTo(c, x))), c);
      return { g, c, x, dc };
    }

    test.each([
      ['[1, 1, 2]', [1, 1, 2], [2 * (0.3 + 1.1), 2 * (-0.7 + 0.45), 2 * (0.3 + 1.1), 2 * (-0.7 + 0.45)]],
      ['[2, 1, 2]', [2, 1, 2], [0.6, -1.4, 2.2, 0.9]],
      ['[1, 1, 1]', [1, 1, 1], [2.3, 2.3, 2.3, 2.3]],
    ])('the first gradient with x fed %s is exact', (_label, xShape, expected) => {
      const { g, c, x, dc } = build();
      expect(dc.shape).toEqual([2, 1, 2]);
      const xValue = new NDArray(new Float64Array(xShape.reduce((a, b) => a * b, 1)), xShape);
      const out = new Session(g).run(
        dc,
        new Map([
          [c, cValue],
          [x, xValue],
        ]),
      );
      const got = values(out);
      expected.forEach((e, i) => expect(got[i]).toBeCloseTo(e, 12));
    });

    test.each([
      ['[1, 1, 2]', [1, 1, 2]],
      ['[2, 1, 1]', [2, 1, 1]],
      ['[1, 1, 1]', [1, 1, 1]],
    ])('the second derivative with x fed %s matches finite differences', (_label, xShape) => {
      const { c, x, dc } = build();
      // A non-linear function of the first gradient, so the second derivative is not a constant.
      const z = sum(mul(sin(dc), cos(c)));
      const [d2] = gradients(z, [c]);
      expect(d2).not.toBeNull();
      const xValue = new NDArray(new Float64Array(xShape.reduce((a, b) => a * b, 1)), xShape);
      const result = checkGradients(
        z,
        [c],
        new Map([
          [c, cValue],
          [x, xValue],
        ]),
        { tolerance: 1e-6 },
      );
      expect(result.maxError).toBeLessThan(1e-6);
    });

    test('x fed a shape c does not broadcast to is a ShapeError at run time', () => {
      const { g, c, x, dc } = build();
      const xValue = new NDArray(new Float64Array(3), [1, 1, 3]);
      expect(() =>
        new Session(g).run(
          dc,
          new Map([
            [c, cValue],
            [x, xValue],
          ]),
        ),
      ).toThrow(ShapeError);
    });
  });
});

describe("the session's compile step re-infers nodes with the fed shapes", () => {
  test('a copy that contradicts the static shape of the user node is a GraphError, not a silent difference', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const y = neg(x);
    expect(y.shape).toEqual([null, 3]);
    // A shape rule that (wrongly) gives another shape once the dims are known, as squeeze without axes could.
    const record = opRecord('neg');
    const original = record.infer.bind(record);
    const spy = jest.spyOn(record, 'infer').mockImplementation((inputs, attrs) => {
      const info = original(inputs, attrs);
      return info.shape.every((d) => d !== null) ? { ...info, shape: [...info.shape, 1] } : info;
    });
    try {
      const run = (): unknown => new Session(g).run(y, new Map([[x, NDArray.from([[1, 2, 3]])]]));
      expect(run).toThrow(GraphError);
      expect(run).toThrow(/neg 'neg' is float32\[\?, 3\] in the graph but float32\[1, 3, 1\]/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('jvp with a tangent of unknown dims (the same check as a gradY)', () => {
  test('a tangent fed another shape than its x is a ShapeError at run time, not a broadcast', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3], 'float64');
    const t = g.placeholder('t', [null, 3], 'float64');
    const [dy] = jvp(sin(x), [x], [t]);
    const sess = new Session(g);
    const twoRows = (a: number, b: number): NDArray =>
      NDArray.from(
        [
          [a, a, a],
          [b, b, b],
        ].map((r, i) => r.map((v, j) => v + 0.1 * j * i)),
        'float64',
      );
    const xValue = twoRows(0.1, 0.4);
    const run = (tValue: NDArray): NDArray =>
      sess.run(
        dy,
        new Map([
          [x, xValue],
          [t, tValue],
        ]),
      );
    // Before, cos(x) · t broadcast the one row of t over x's two with no error.
    expect(() => run(NDArray.from([[1, 2, 3]], 'float64'))).toThrow(ShapeError);
    const tValue = twoRows(1, 2);
    const expected = values(xValue).map((v, i) => Math.cos(v) * values(tValue)[i]);
    expect(values(run(tValue))).toEqual(expected);
  });
});
