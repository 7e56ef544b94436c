/**
 * fusedConv2d beyond its rows in the op test table (cases/fusedconv.ts): bit for bit against the unfused ops on the
 * JS backend, the bias shapes it takes and refuses, the builder's unfused fallbacks and errors, its forward rule
 * against the unfused graph's tangents, and a JSON round trip.
 */
import {
  add,
  conv2d,
  DTypeError,
  FUSED_CONV2D,
  FusedActivation,
  fused,
  Graph,
  GraphError,
  groupedConv2d,
  jvp,
  loadGraph,
  NDArray,
  relu,
  serializeGraph,
  Session,
  ShapeError,
  sigmoid,
  tanh,
  Tensor,
  apply,
} from '../../src';
import { expectClose, randomArray, Rng } from './util';

const ACTIVATIONS: readonly FusedActivation[] = ['none', 'relu', 'sigmoid', 'tanh'];
const unfused = (activation: FusedActivation, t: Tensor): Tensor =>
  activation === 'none' ? t : { relu, sigmoid, tanh }[activation](t);

function values(rng: Rng, ts: readonly Tensor[], dtype: 'float32' | 'float64' = 'float32'): Map<Tensor, NDArray> {
  return new Map(ts.map((t) => [t, randomArray(rng, t.shape as number[], dtype)]));
}

describe('fusedConv2d', () => {
  test.each(ACTIVATIONS)('%s: bit for bit the unfused ops on the JS backend, NHWC and NCHW, grouped', (activation) => {
    for (const [format, groups] of [
      ['NHWC', 1],
      ['NCHW', 2],
    ] as const) {
      const g = new Graph();
      const x = g.placeholder('x', format === 'NHWC' ? [2, 5, 6, 4] : [2, 4, 5, 6]);
      const f = g.placeholder('f', [3, 2, 4 / groups, 6]);
      const b = g.placeholder('b', format === 'NHWC' ? [6] : [6, 1, 1]);
      const conv = groupedConv2d(x, f, groups, 2, 'same', format);
      const attrs = { strides: [2, 2], dilations: [1, 1], pad: 'same', dataFormat: format, groups, activation };
      const y = apply(FUSED_CONV2D, [x, f, b], attrs);
      const want = unfused(activation, add(conv, b));
      const session = new Session(g, { backend: 'js', optimize: false });
      const [got, expected] = session.run([y, want], values(new Rng(1), [x, f, b]));
      expect(Array.from(got.data)).toEqual(Array.from(expected.data));
    }
  });

  test('takes [C] in either layout (per channel, as tfjs), and the broadcasting per-channel shapes', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3, 4, 4]);
    const f = g.placeholder('f', [1, 1, 3, 4]);
    const attrs = { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NCHW', activation: 'relu' };
    for (const [i, shape] of [[4], [4, 1, 1], [1, 4, 1, 1]].entries()) {
      expect(apply(FUSED_CONV2D, [x, f, g.placeholder(`b${i}`, shape)], attrs).shape).toEqual([1, 4, 4, 4]);
    }
    // NCHW [C] is per channel: the same values as adding [C, 1, 1].
    const b = g.placeholder('bias', [4]);
    const vector = apply(FUSED_CONV2D, [x, f, b], attrs);
    const reshaped = relu(add(conv2d(x, f, 1, 'valid', 'NCHW'), b.reshape([4, 1, 1])));
    const [got, want] = new Session(g, { backend: 'js' }).run([vector, reshaped], values(new Rng(2), [x, f, b]));
    expectClose(got, want, 0);
  });

  test.each([
    ['a full-size bias', [1, 4, 4, 4]],
    ['a bias with the wrong channel count', [3]],
    ['a per-width NCHW bias [1, 1, 1, 4]', [1, 1, 1, 4]],
    ['a rank-5 bias', [1, 1, 4, 1, 1]],
  ])('refuses %s with a ShapeError naming the valid shapes', (_name, shape) => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 3, 4, 4]);
    const f = g.placeholder('f', [1, 1, 3, 4]);
    const attrs = { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NCHW' };
    expect(() => apply(FUSED_CONV2D, [x, f, g.placeholder('b', shape)], attrs)).toThrow(ShapeError);
    expect(() => apply(FUSED_CONV2D, [x, f, g.placeholder('c', shape)], attrs)).toThrow(/\[4\], \[4, 1, 1\] or/);
  });

  test('refuses a bias of another dtype and an unknown activation', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 2]);
    const f = g.placeholder('f', [1, 1, 2, 3]);
    const attrs = { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NHWC' };
    expect(() => apply(FUSED_CONV2D, [x, f, g.placeholder('b', [3], 'float64')], attrs)).toThrow(DTypeError);
    const b = g.placeholder('b32', [3]);
    expect(() => apply(FUSED_CONV2D, [x, f, b], { ...attrs, activation: 'elu' })).toThrow(/unknown activation 'elu'/);
  });

  test('the builder: no bias or a bias tfjs broadcasts builds the unfused ops; other activations are refused', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 2]);
    const filter = g.placeholder('f', [3, 3, 2, 3]);
    expect(fused.conv2d({ x, filter, strides: 1, pad: 'same', activation: 'relu' }).op).toBe('relu');
    const broadcast = fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: g.placeholder('b', [4, 1, 1]) });
    expect(broadcast.op).toBe('add');
    expect(fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: [1, 2, 3] }).op).toBe('fusedConv2d');
    expect(() => fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: [1, 2, 3], activation: 'relu6' })).toThrow(
      GraphError,
    );
    expect(() =>
      fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: [1, 2, 3], dimRoundingMode: 'floor' }),
    ).toThrow(/dimRoundingMode/);
    const nchw = g.placeholder('xn', [1, 2, 4, 4]);
    expect(() =>
      fused.conv2d({ x: nchw, filter, strides: 1, pad: 'same', dataFormat: 'NCHW', bias: g.placeholder('c', [4, 3]) }),
    ).toThrow(ShapeError);
  });

  test.each(ACTIVATIONS)('%s: the forward rule gives the unfused graph tangents', (activation) => {
    const rng = new Rng(9);
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 5, 2], 'float64');
    const f = g.placeholder('f', [2, 3, 2, 3], 'float64');
    const b = g.placeholder('b', [3], 'float64');
    const y = fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias: b, activation });
    const want = unfused(activation, add(conv2d(x, f, 1, 'same'), b));
    const tangents = [x, f, b].map((t) => randomArray(rng, t.shape as number[], 'float64'));
    const feeds = values(rng, [x, f, b], 'float64');
    const session = new Session(g, { backend: 'js' });
    for (const wrt of [[0], [2], [0, 1, 2]]) {
      const xs = wrt.map((i) => [x, f, b][i]);
      const ts = wrt.map((i) => tangents[i]);
      const [got] = jvp(y, xs, ts);
      const [expected] = jvp(want, xs, ts);
      const [a, c] = session.run([got, expected], feeds);
      expectClose(a, c, 1e-12);
    }
  });

  test('survives a JSON round trip with its attrs', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 2]);
    const y = fused.depthwiseConv2d({
      x,
      filter: g.placeholder('f', [3, 3, 2, 2]),
      strides: 2,
      pad: 'same',
      bias: g.placeholder('b', [4]),
      activation: 'sigmoid',
    });
    const loaded = loadGraph(serializeGraph(g));
    expect(loaded.toString()).toBe(g.toString());
    const node = loaded.nodes.find((n) => n.op === 'fusedConv2d');
    expect(node?.attrs).toEqual(y.node.attrs);
    expect(node?.attrs).toMatchObject({ groups: 2, activation: 'sigmoid' });
  });
});
