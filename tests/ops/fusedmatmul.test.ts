/**
 * fusedMatMul = act(matMul(a, b) + bias) and its builder fused.matMul: forward against tfjs's tf.fused.matMul (CPU
 * backend), bit-for-bit against the unfused ops on the JS backend, shape and activation errors, gradients against
 * finite differences in float64 and against tf.grads, and second derivatives.
 */
import * as tf from '@tensorflow/tfjs';
import {
  add,
  checkGradients,
  DTypeError,
  FusedActivation,
  fused,
  FUSED_MAT_MUL,
  fusedMatMul,
  gradients,
  Graph,
  jvp,
  loadGraph,
  GraphError,
  matMul,
  mul,
  NDArray,
  relu,
  serializeGraph,
  Session,
  ShapeError,
  sigmoid,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { expectClose, randomArray, Rng } from './util';

const TOL = 1e-5;

beforeAll(async () => {
  tf.env().set('PROD', true); // silences the one-time "install tfjs-node" console warning
  await tf.setBackend('cpu');
});

const tfTensor = (a: NDArray): tf.Tensor => tf.tensor(a.data as Float32Array, [...a.shape], 'float32');

function fromTf(t: tf.Tensor): NDArray {
  return new NDArray(Float32Array.from(t.dataSync()), t.shape);
}

interface Layout {
  readonly a: number[];
  readonly b: number[];
  readonly bias: number[];
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
}

const LAYOUTS: readonly [string, Layout][] = [
  ['2-D', { a: [3, 4], b: [4, 5], bias: [5] }],
  ['transposeA', { a: [4, 3], b: [4, 5], bias: [1, 5], transposeA: true }],
  ['transposeB', { a: [3, 4], b: [5, 4], bias: [5], transposeB: true }],
  ['both transposes', { a: [4, 3], b: [5, 4], bias: [5], transposeA: true, transposeB: true }],
  ['batched', { a: [2, 3, 4], b: [2, 4, 5], bias: [5] }],
  ['batched with a [1, 1, N] bias', { a: [2, 3, 4], b: [2, 4, 5], bias: [1, 1, 5] }],
];

const ACTIVATIONS: readonly FusedActivation[] = ['none', 'relu', 'sigmoid', 'tanh'];

/** Ours through fused.matMul, run by a Session. */
function ours(
  layout: Layout,
  activation: FusedActivation,
  values: NDArray[],
  dtype: 'float32' | 'float64' = 'float32',
) {
  const g = new Graph();
  const [a, b, bias] = [layout.a, layout.b, layout.bias].map((s, i) => g.placeholder(`x${i}`, s, dtype));
  const y = fused.matMul({ ...layout, a, b, bias, activation });
  return { g, y, a, b, bias, feeds: new Map([a, b, bias].map((t, i) => [t, values[i]])) };
}

describe('forward', () => {
  describe.each(LAYOUTS)('%s', (_name, layout) => {
    test.each(['none', 'relu', 'sigmoid'] as const)('activation %s matches tf.fused.matMul', (activation) => {
      const rng = new Rng(7);
      const values = [layout.a, layout.b, layout.bias].map((s) => randomArray(rng, s, 'float32'));
      const { g, y, feeds } = ours(layout, activation, values);
      const [a, b, bias] = values.map(tfTensor);
      const expected = tf.fused.matMul({
        a,
        b,
        bias,
        transposeA: layout.transposeA,
        transposeB: layout.transposeB,
        activation: activation === 'none' ? 'linear' : activation,
      });
      expectClose(new Session(g).run(y, feeds), fromTf(expected), TOL);
    });

    test('activation tanh matches tanh of tfjs matMul + bias (tfjs has no fused tanh)', () => {
      const rng = new Rng(8);
      const values = [layout.a, layout.b, layout.bias].map((s) => randomArray(rng, s, 'float32'));
      const { g, y, feeds } = ours(layout, 'tanh', values);
      const [a, b, bias] = values.map(tfTensor);
      const expected = tf.tanh(tf.add(tf.matMul(a, b, layout.transposeA, layout.transposeB), bias));
      expectClose(new Session(g).run(y, feeds), fromTf(expected), TOL);
    });
  });

  test.each(ACTIVATIONS)(
    'the JS kernel gives bit for bit what the unfused ops give (%s, NaN and ±Inf included)',
    (act) => {
      const rng = new Rng(9);
      const a = randomArray(rng, [5, 3], 'float32');
      a.data[0] = NaN;
      a.data[4] = Infinity;
      a.data[8] = -Infinity;
      const b = randomArray(rng, [3, 4], 'float32');
      const bias = randomArray(rng, [4], 'float32');
      const g = new Graph();
      const [pa, pb, pbias] = [a, b, bias].map((v, i) => g.placeholder(`x${i}`, v.shape, 'float32'));
      const sumNode = add(matMul(pa, pb), pbias);
      const unfused = { none: sumNode, relu: relu(sumNode), sigmoid: sigmoid(sumNode), tanh: tanh(sumNode) }[act];
      const fusedY = fusedMatMul({ a: pa, b: pb, bias: pbias, activation: act });
      const feeds = new Map([
        [pa, a],
        [pb, b],
        [pbias, bias],
      ]);
      const [expected, actual] = new Session(g, { backend: 'js', optimize: false }).run([unfused, fusedY], feeds);
      expect(Array.from(actual.data)).toEqual(Array.from(expected.data));
      expect(Array.from(actual.data).some(Number.isNaN)).toBe(true);
    },
  );

  test('relu gives NaN for a NaN pre-activation, as the relu op does', () => {
    const g = new Graph();
    const a = g.constant([[NaN, 1]]);
    const y = fusedMatMul({ a, b: g.constant([[1], [1]]), bias: g.constant([0]), activation: 'relu' });
    expect(Number.isNaN(new Session(g).run(y).data[0])).toBe(true);
  });

  test('float64 operands give a float64 result', () => {
    const g = new Graph();
    const a = g.constant(new NDArray(new Float64Array([1, 2]), [1, 2]));
    const b = g.constant(new NDArray(new Float64Array([3, 4]), [2, 1]));
    const y = fusedMatMul({ a, b, bias: g.constant(new NDArray(new Float64Array([0.5]), [1])) });
    expect(y.dtype).toBe('float64');
    expect(Array.from(new Session(g).run(y).data)).toEqual([11.5]);
  });

  test('without a bias the builder gives the plain activation of the product', () => {
    const g = new Graph();
    const a = g.placeholder('a', [2, 3]);
    const b = g.placeholder('b', [3, 2]);
    const y = fused.matMul({ a, b, activation: 'relu' });
    expect(y.node.op).toBe('relu');
    expect(g.node(y.node.inputs[0]).op).toBe('matMul');
    expect(fused.matMul({ a, b }).node.op).toBe('matMul');
  });

  test("'linear' and 'none' name the same op", () => {
    const g = new Graph();
    const [a, b, bias] = [g.placeholder('a', [2, 3]), g.placeholder('b', [3, 2]), g.placeholder('c', [2])];
    expect(fused.matMul({ a, b, bias, activation: 'linear' }).id).toBe(fused.matMul({ a, b, bias }).id);
    expect(fused.matMul({ a, b, bias }).node.attrs).toEqual({
      transposeA: false,
      transposeB: false,
      activation: 'none',
    });
  });
});

test('a graph holding fusedMatMul round-trips through JSON (its attrs are plain JSON)', () => {
  const g = new Graph();
  const [a, b, bias] = [g.placeholder('a', [2, 3]), g.placeholder('b', [3, 2]), g.placeholder('c', [2])];
  fused.matMul({ a, b, bias, activation: 'tanh', transposeA: false });
  expect(loadGraph(serializeGraph(g)).toString()).toBe(g.toString());
});

describe('errors', () => {
  function operands(): { a: Tensor; b: Tensor; g: Graph } {
    const g = new Graph();
    return { g, a: g.placeholder('a', [3, 4]), b: g.placeholder('b', [4, 5]) };
  }

  test.each([
    ['a column [M, 1]', [3, 1]],
    ['a full [M, N]', [3, 5]],
    ['a wrong length [N + 1]', [6]],
    ['a broadcasting [1]', [1]],
    ['a scalar', []],
    ['more dims than the product', [1, 1, 5]],
  ])('a bias that is %s is a ShapeError naming the valid shapes', (_name, shape) => {
    const { g, a, b } = operands();
    const bias = g.placeholder('bias', shape);
    expect(() => fused.matMul({ a, b, bias })).toThrow(ShapeError);
    expect(() => fused.matMul({ a, b, bias })).toThrow(/fusedMatMul.*valid bias shapes are \[5\] or \[1, …, 1, 5\]/);
  });

  test.each(['elu', 'relu6', 'prelu', 'leakyrelu'] as const)(
    "activation '%s' is a GraphError listing the valid ones",
    (act) => {
      const { g, a, b } = operands();
      const bias = g.placeholder('bias', [5]);
      expect(() => fused.matMul({ a, b, bias, activation: act })).toThrow(GraphError);
      expect(() => fused.matMul({ a, b, bias, activation: act })).toThrow(/'linear'.*'relu', 'sigmoid', 'tanh'/);
    },
  );

  test('a bias of another dtype is a DTypeError', () => {
    const { g, a, b } = operands();
    const bias = g.placeholder('bias', [5], 'float64');
    expect(() => fused.matMul({ a, b, bias })).toThrow(DTypeError);
  });

  test('int32 operands are a DTypeError (the op is float only)', () => {
    const g = new Graph();
    const a = g.placeholder('a', [2, 2], 'int32');
    expect(() => fused.matMul({ a, b: a, bias: g.placeholder('c', [2], 'int32') })).toThrow(DTypeError);
  });

  test('an unknown activation attr is a GraphError at inference', () => {
    const g = new Graph();
    const ids = [g.placeholder('a', [2, 2]), g.placeholder('b', [2, 2]), g.placeholder('c', [2])];
    expect(() => FUSED_MAT_MUL.infer(ids, { activation: 'gelu' })).toThrow(/unknown activation 'gelu'/);
  });
});

describe('gradients', () => {
  describe.each(LAYOUTS)('%s', (_name, layout) => {
    test.each(ACTIVATIONS)('%s: match central finite differences in float64 for a, b and bias', (activation) => {
      const rng = new Rng(11);
      // Away from zero so no pre-activation sits on relu's kink.
      const values = [layout.a, layout.b, layout.bias].map((s) =>
        randomArray(rng, s, 'float64', { lo: -1, hi: 1, awayFromZero: 0.05 }),
      );
      const { y, a, b, bias, feeds } = ours(layout, activation, values, 'float64');
      // A weighted sum, so that every output element's gradient differs.
      const weights = y.graph.constant(randomArray(rng, y.shape as number[], 'float64'));
      const result = checkGradients(sum(mul(y, weights)), [a, b, bias], feeds);
      expect(result.maxError).toBeLessThan(1e-6);
    });
  });

  test('a bias broadcast over a batch of products gets the sum over the batch (batched a, 2-D b)', () => {
    const layout = { a: [2, 3, 4], b: [4, 5], bias: [1, 5] };
    const rng = new Rng(12);
    const values = [layout.a, layout.b, layout.bias].map((s) => randomArray(rng, s, 'float64'));
    const { y, a, b, bias, feeds } = ours(layout, 'sigmoid', values, 'float64');
    const result = checkGradients(sum(y), [a, b, bias], feeds);
    expect(result.maxError).toBeLessThan(1e-6);
    expect(result.analytic[2].shape).toEqual([1, 5]);
  });

  test.each(['none', 'relu', 'sigmoid'] as const)('%s: match tf.grads of tf.fused.matMul (float32)', (activation) => {
    const layout = LAYOUTS[4][1];
    const rng = new Rng(13);
    const values = [layout.a, layout.b, layout.bias].map((s) => randomArray(rng, s, 'float32', { awayFromZero: 0.05 }));
    const { g, y, a, b, bias, feeds } = ours(layout, activation, values);
    const loss = sum(mul(y, y));
    const grads = gradients(loss, [a, b, bias]) as Tensor[];
    const actual = new Session(g).run(grads, feeds);
    const tfLoss = (xa: tf.Tensor, xb: tf.Tensor, xbias: tf.Tensor): tf.Tensor => {
      const out = tf.fused.matMul({
        a: xa as tf.Tensor3D,
        b: xb as tf.Tensor3D,
        bias: xbias,
        activation: activation === 'none' ? 'linear' : activation,
      });
      return tf.sum(tf.mul(out, out));
    };
    const expected = tf.grads(tfLoss)(values.map(tfTensor));
    actual.forEach((value, i) => expectClose(value, fromTf(expected[i]), 1e-4));
  });

  test.each(ACTIVATIONS)('%s: forward mode (jvp, by the double-VJP construction) matches the unfused ops', (act) => {
    const layout = LAYOUTS[2][1];
    const rng = new Rng(15);
    const values = [layout.a, layout.b, layout.bias].map((s) => randomArray(rng, s, 'float64'));
    const { g, y, a, b, bias, feeds } = ours(layout, act, values, 'float64');
    const pre = add(matMul(a, b, false, true), bias);
    const unfused = { none: pre, relu: relu(pre), sigmoid: sigmoid(pre), tanh: tanh(pre) }[act];
    const tangents = [layout.a, layout.b, layout.bias].map((s) => g.constant(randomArray(rng, s, 'float64')));
    const [fusedTangent, unfusedTangent] = [y, unfused].map((out) => jvp(out, [a, b, bias], tangents)[0]);
    const [actual, expected] = new Session(g, { optimize: false }).run([fusedTangent, unfusedTangent], feeds);
    expectClose(actual, expected, 1e-12);
  });

  test.each(['none', 'sigmoid', 'tanh'] as const)('%s: second derivatives match finite differences', (activation) => {
    const layout = LAYOUTS[1][1];
    const rng = new Rng(14);
    const values = [layout.a, layout.b, layout.bias].map((s) => randomArray(rng, s, 'float64', { lo: -1, hi: 1 }));
    const { y, a, b, bias, feeds } = ours(layout, activation, values, 'float64');
    const [ga, gb] = gradients(sum(mul(y, y)), [a, b]) as Tensor[];
    // d/d(a, b, bias) of a scalar built from first derivatives: differentiates the vjp rule itself.
    const result = checkGradients(add(sum(mul(ga, ga)), sum(gb)), [a, b, bias], feeds);
    expect(result.maxError).toBeLessThan(1e-5);
  });
});
