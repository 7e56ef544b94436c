/**
 * evaluateConstant / foldNode (src/ops/evaluate.ts): computing constant subgraphs with the op records' kernels, no
 * session. Constant folding and the ONNX importer rely on them.
 */
import {
  add,
  cast,
  evaluateConstant,
  exp,
  foldNode,
  Graph,
  GraphError,
  matMul,
  mul,
  NDArray,
  reshape,
  Session,
  onesLike,
  stack,
  sum,
} from '../src';

describe('evaluateConstant', () => {
  test('folds a constant subgraph to what a JS-backend session computes', () => {
    const g = new Graph();
    const a = g.constant([
      [1, 2],
      [3, 4],
    ]);
    const b = g.constant([[0.5], [-1]]);
    const y = exp(mul(add(matMul(a, b), 1), 0.1));
    const z = reshape(stack([sum(y), cast(sum(a), 'float32')]), [1, 2]);
    const expected = new Session(g, { backend: 'js', optimize: false }).run(z);
    const value = evaluateConstant(z);
    expect(value.shape).toEqual([1, 2]);
    expect(value.dtype).toBe('float32');
    expect(value.data).toEqual(expected.data);
  });

  test('only what the tensor needs is evaluated; a constant is its own value', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const c = g.constant([1, 2, 3]);
    add(x, 1); // an earlier node the tensor does not need: evaluating it would throw
    expect(evaluateConstant(sum(onesLike(c))).toArray()).toEqual(3);
    expect(evaluateConstant(c).toArray()).toEqual([1, 2, 3]);
  });

  test('a placeholder or variable on the way is a GraphError naming it', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const w = g.variable('w', NDArray.from([1, 2]));
    expect(() => evaluateConstant(add(x, 1))).toThrow(GraphError);
    expect(() => evaluateConstant(add(x, 1))).toThrow(/needs placeholder 'x'/);
    expect(() => evaluateConstant(mul(w, 2))).toThrow(/needs variable 'w'/);
  });

  test('foldNode runs one node on given input buffers', () => {
    const g = new Graph();
    const y = add(g.constant([1, 2]), g.constant([10, 20]));
    const out = foldNode(y.node, [NDArray.from([1, 2]), NDArray.from([3, 4])]);
    expect(out.toArray()).toEqual([4, 6]);
  });
});
