/**
 * checkNumerics and traces through control steps: a trace shows a control step (its time and output bytes) with each
 * region plan's runs and time under it; checkNumerics checks inside regions and names the construct, the region, the
 * iteration and the body node where a NaN or Inf first appears.
 */
import {
  add,
  cond,
  formatTrace,
  Graph,
  greater,
  less,
  log,
  mul,
  NDArray,
  NumericsError,
  scan,
  Session,
  sum,
  Tensor,
  Trace,
  whileLoop,
} from '../../src';

function rnn(): { g: Graph; last: Tensor; ys: Tensor } {
  const g = new Graph();
  const xs = g.placeholder('xs', [4, 2], 'float64');
  const [last, ys] = scan(
    (h: Tensor, x: Tensor) => {
      const h2 = add(mul(h, 0.5), log(x));
      return [h2, h2];
    },
    g.constant([0, 0], 'float64'),
    xs,
    { name: 'rnn' },
  );
  return { g, last: last as Tensor, ys: ys as Tensor };
}

const GOOD = NDArray.from(
  [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ],
  'float64',
);
const BAD = NDArray.from(
  [
    [1, 2],
    [3, 4],
    [5, -6],
    [7, 8],
  ],
  'float64',
);

describe.each(['js', 'wasm'] as const)('%s backend', (backend) => {
  test('a trace shows the scan step with its output bytes and the body plan run once per step', () => {
    const { g, last, ys } = rnn();
    const sess = new Session(g, { backend });
    const plain = sess.run([last, ys], { xs: GOOD });
    const traced = sess.run([last, ys], { xs: GOOD }, { trace: true });
    expect(traced.map((v) => Array.from(v.data))).toEqual(plain.map((v) => Array.from(v.data)));
    const trace = sess.lastTrace as Trace;
    const step = trace.steps.find((e) => e.op === 'scan');
    expect(step).toBeDefined();
    // Both siblings' outputs: the last carry (2 float64) and the ys (4 × 2 float64).
    expect(step?.bytes).toBe((2 + 8) * 8);
    expect(step?.regions).toHaveLength(1);
    expect(step?.regions?.[0]).toMatchObject({ region: 'body', runs: 4 });
    expect(step?.regions?.[0].ms).toBeLessThanOrEqual(step?.ms as number);
    const text = formatTrace(trace);
    expect(text).toMatch(/scan +float64\[2\]/);
    expect(text).toMatch(new RegExp(`\\n +body: 4 runs × ${step?.regions?.[0].steps} steps +\\d+\\.\\d{3}\\n`));
  });

  test('a whileLoop step reports its condition run once more than its body', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const [, v] = whileLoop(
      ([i]) => less(i, 3),
      ([i, a]) => [add(i, 1), mul(a, x)],
      [g.constant(0, 'int32'), x],
      {
        maximumIterations: 5,
      },
    );
    const sess = new Session(g, { backend });
    sess.run(v, { x: [1, 2] }, { trace: true });
    const step = (sess.lastTrace as Trace).steps.find((e) => e.op === 'while');
    expect(step?.regions?.map((r) => [r.region, r.runs])).toEqual([
      ['cond', 4],
      ['body', 3],
    ]);
  });

  test('checkNumerics names the construct, the body node and the step where a NaN appears', () => {
    const { g, last } = rnn();
    const sess = new Session(g, { backend, checkNumerics: true });
    expect(Array.from(sess.run(last, { xs: GOOD }).data)).toEqual(
      Array.from(new Session(g, { backend }).run(last, { xs: GOOD }).data),
    );
    let error: unknown;
    try {
      sess.run(last, { xs: BAD });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NumericsError);
    const message = (error as Error).message;
    expect(message).toMatch(/^scan 'rnn\/carry:0', step 2: Session\.run \(checkNumerics\): /);
    expect(message).toMatch(/fused 'add' on inputs .* produced NaN at index 1 .*the original op is log/);
    // Unoptimized, the body node itself is named.
    const unfused = new Session(g, { backend, checkNumerics: true, optimize: false });
    expect(() => unfused.run(last, { xs: BAD })).toThrow(
      /scan 'rnn\/carry:0', step 2: Session\.run \(checkNumerics\): log 'log' on inputs \('x0' float64\[2\]\) produced NaN at index 1/,
    );
  });

  test('a NaN inside a cond nested in a loop body names both constructs', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const [, v] = whileLoop(
      ([i]) => less(i, 3),
      ([i, a]) => [
        add(i, 1),
        cond(
          greater(sum(a), 10),
          () => log(mul(a, -1)),
          () => mul(a, 3),
        ),
      ],
      [g.constant(0, 'int32'), x],
      { maximumIterations: 5 },
    );
    const sess = new Session(g, { backend, checkNumerics: true });
    // 1, 3, 9 → sum 20 at iteration 2... the then branch runs at the third iteration: log of a negative.
    expect(() => sess.run(v, { x: [1, 1] })).toThrow(
      /^whileLoop 'while\/var:1', iteration 2: cond 'cond\/0', the true branch: Session\.run \(checkNumerics\): .*the original op is log/,
    );
  });

  test('a non-finite value a construct passes through is blamed on its input', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const p = g.placeholder('p', [], 'bool');
    const y = cond(
      p,
      () => x,
      () => mul(x, 2),
    );
    const sess = new Session(g, { backend, checkNumerics: true });
    expect(() => sess.run(y, { x: [NaN, 1], p: NDArray.from(true, 'bool') })).toThrow(
      /cond 'cond' \(output 0, node 'cond\/0'\) on inputs .* input was already non-finite: placeholder 'x'/,
    );
  });
});
