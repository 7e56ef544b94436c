/** Tracing a run: per-step time and output bytes, kept in session.lastTrace and formatted by formatTrace. */
import { formatTrace, Graph, log, matMul, mul, NDArray, NumericsError, relu, Session, sub, Trace } from '../src';

function model(): { g: Graph; y: ReturnType<typeof relu> } {
  const g = new Graph();
  const x = g.placeholder('x', [2, 3]);
  const w = g.variable('w', NDArray.from([[1], [2], [3]]));
  return { g, y: relu(matMul(x, w)) };
}

const feed = {
  x: [
    [1, 2, 3],
    [-4, 5, -6],
  ],
};

describe('trace', () => {
  test('a traced run records one entry per step with shape, dtype and output bytes', () => {
    const { g, y } = model();
    const sess = new Session(g, { optimize: false });
    sess.run(y, feed, { trace: true });
    const trace = sess.lastTrace as Trace;
    expect(trace.steps.map((e) => e.op)).toEqual(['matMul', 'relu']);
    expect(trace.steps[0].shape).toEqual([2, 1]);
    expect(trace.steps[0].dtype).toBe('float32');
    expect(trace.steps[0].bytes).toBe(8);
    expect(trace.totalBytes).toBe(16);
    for (const entry of trace.steps) expect(entry.ms).toBeGreaterThanOrEqual(0);
    expect(trace.totalMs).toBeCloseTo(
      trace.steps.reduce((s, e) => s + e.ms, 0),
      9,
    );
  });

  test('onTrace receives the trace of the run', () => {
    const { g, y } = model();
    const sess = new Session(g);
    const seen: Trace[] = [];
    sess.run(y, feed, { onTrace: (t) => seen.push(t) });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBe(sess.lastTrace);
  });

  test('a traced run gives the same values as an untraced one', () => {
    const { g, y } = model();
    const sess = new Session(g);
    const plain = sess.run(y, feed);
    const traced = sess.run(y, feed, { trace: true });
    expect(Array.from(traced.data)).toEqual(Array.from(plain.data));
  });

  test('an untraced run leaves lastTrace unset', () => {
    const { g, y } = model();
    const sess = new Session(g);
    sess.run(y, feed);
    expect(sess.lastTrace).toBeUndefined();
  });

  test('formatTrace prints a table with a header, one row per step and totals', () => {
    const { g, y } = model();
    const sess = new Session(g, { optimize: false });
    sess.run(y, feed, { trace: true });
    const text = formatTrace(sess.lastTrace as Trace);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s*step\s+node\s+op\s+shape\s+ms\s+bytes$/);
    expect(lines[2]).toMatch(/^\s*0\s+matMul\s+matMul\s+float32\[2, 1\]\s+\d+\.\d{3}\s+8$/);
    expect(lines[3]).toMatch(/^\s*1\s+relu\s+relu\s+float32\[2, 1\]\s+\d+\.\d{3}\s+8$/);
    expect(lines[lines.length - 1]).toMatch(/^total\s+2 steps\s+\d+\.\d{3}\s+16$/);
  });

  test('a run that throws still leaves the trace of the steps that ran', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const y = mul(log(sub(x, 1)), 2);
    const sess = new Session(g, { optimize: false });
    expect(() => sess.run(y, { x: [0, 3] }, { trace: true, checkNumerics: true })).toThrow(NumericsError);
    expect((sess.lastTrace as Trace).steps.map((e) => e.op)).toEqual(['sub', 'log']);
  });
});
