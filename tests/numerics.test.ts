/** checkNumerics: the first step producing NaN or ±Inf throws a NumericsError that says where and why. */
import { assign, div, exp, Graph, log, mul, NDArray, NumericsError, Session, sub, sum, train } from '../src';

function thrown(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** y = 3·log(x − 1): NaN wherever x < 1. */
function logGraph(): { g: Graph; y: ReturnType<typeof mul> } {
  const g = new Graph();
  const x = g.placeholder('x', [2, 2]);
  return { g, y: mul(log(sub(x, 1)), 3) };
}

describe('checkNumerics', () => {
  test('an unfused step producing NaN names the node, op, inputs and first bad index', () => {
    const { g, y } = logGraph();
    const sess = new Session(g, { checkNumerics: true, optimize: false });
    const e = thrown(() =>
      sess.run(y, {
        x: [
          [2, 3],
          [0.5, 4],
        ],
      }),
    );
    expect(e).toBeInstanceOf(NumericsError);
    expect(e.message).toContain("log 'log'");
    expect(e.message).toContain("('sub' float32[2, 2])");
    expect(e.message).toContain('NaN at index 2 [1, 0]');
  });

  test('inside a fused node the error names the original op and the values it got', () => {
    const { g, y } = logGraph();
    const sess = new Session(g, { checkNumerics: true, optimize: { level: 2 }, backend: 'js' });
    const e = thrown(() =>
      sess.run(y, {
        x: [
          [2, 3],
          [4, 0.5],
        ],
      }),
    );
    expect(e).toBeInstanceOf(NumericsError);
    expect(e.message).toContain("fused 'mul'");
    expect(e.message).toContain('NaN at index 3 [1, 1]');
    expect(e.message).toContain('the original op is log');
    expect(e.message).toContain('from (-0.5)');
  });

  test('an overflow to Infinity is caught like NaN', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const y = exp(x);
    const e = thrown(() => new Session(g, { checkNumerics: true }).run(y, { x: [1, 200, 2] }));
    expect(e).toBeInstanceOf(NumericsError);
    expect(e.message).toContain("exp 'exp'");
    expect(e.message).toContain('Infinity at index 1 [1]');
  });

  test('a non-finite value that was fed is reported as an input already non-finite', () => {
    const { g, y } = logGraph();
    const e = thrown(() =>
      new Session(g, { checkNumerics: true }).run(y, {
        x: [
          [2, 3],
          [NaN, 4],
        ],
      }),
    );
    expect(e).toBeInstanceOf(NumericsError);
    expect(e.message).toContain('input was already non-finite');
    expect(e.message).toContain("placeholder 'x' holds NaN at index 2 [1, 0]");
  });

  test('the per-run option turns checking on for one run only', () => {
    const { g, y } = logGraph();
    const sess = new Session(g);
    const bad = {
      x: [
        [0, 3],
        [2, 4],
      ],
    };
    expect(Number.isNaN(sess.run(y, bad).data[0])).toBe(true);
    expect(thrown(() => sess.run(y, bad, { checkNumerics: true }))).toBeInstanceOf(NumericsError);
  });

  test('the per-run option can turn a session-wide check off', () => {
    const { g, y } = logGraph();
    const sess = new Session(g, { checkNumerics: true });
    const out = sess.run(
      y,
      {
        x: [
          [0, 3],
          [2, 4],
        ],
      },
      { checkNumerics: false },
    );
    expect(Number.isNaN(out.data[0])).toBe(true);
  });

  test('finite runs give the same values with and without checking', () => {
    const { g, y } = logGraph();
    const feed = {
      x: [
        [2, 3],
        [5, 4],
      ],
    };
    const plain = new Session(g).run(y, feed);
    const checked = new Session(g, { checkNumerics: true }).run(y, feed);
    expect(Array.from(checked.data)).toEqual(Array.from(plain.data));
  });

  test('integer steps are not scanned', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'int32');
    const y = div(x, 0);
    expect(() => new Session(g, { checkNumerics: true }).run(y, { x: NDArray.from([1, 2], 'int32') })).not.toThrow();
  });

  test('an optimizer update that overflows names the variable it would write', () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([1e38, 1]));
    const step = train.sgd(10).minimize(sum(mul(w, w)));
    const sess = new Session(g, { checkNumerics: true, backend: 'js' });
    const e = thrown(() => sess.run(step));
    expect(e).toBeInstanceOf(NumericsError);
    expect(e.message).toContain("variable 'w'");
    expect(e.message).toContain('-Infinity at index 0 [0]');
    expect(e.message).toContain('the original op is sub');
  });

  test('a fed update value that is non-finite is blamed on the feed, naming the variable', () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([1, 2]));
    const v = g.placeholder('v', [2]);
    const step = assign(w, v);
    const sess = new Session(g, { checkNumerics: true });
    const e = thrown(() => sess.run(step, { v: [1, Infinity] }));
    expect(e).toBeInstanceOf(NumericsError);
    expect(e.message).toContain("update of variable 'w'");
    expect(e.message).toContain('input was already non-finite');
  });

  test('a run that throws a NumericsError changes no variable', () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([1e38, 1]));
    const step = train.sgd(10).minimize(sum(mul(w, w)));
    const sess = new Session(g, { checkNumerics: true });
    expect(() => sess.run(step)).toThrow(NumericsError);
    expect(Array.from(sess.variableValue(w).data)).toEqual([Math.fround(1e38), 1]);
  });

  test('a run that throws leaves the plan cache as it was', () => {
    const { g, y } = logGraph();
    const sess = new Session(g, { checkNumerics: true });
    sess.run(y, {
      x: [
        [2, 3],
        [5, 4],
      ],
    });
    const before = sess.cachedPlans;
    const other = mul(y, 2);
    expect(() =>
      sess.run(other, {
        x: [
          [0, 3],
          [5, 4],
        ],
      }),
    ).toThrow(NumericsError);
    expect(sess.cachedPlans).toBe(before);
    sess.run(other, {
      x: [
        [2, 3],
        [5, 4],
      ],
    });
    expect(sess.cachedPlans).toBe(before + 1);
  });
});
