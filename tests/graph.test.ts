import {
  DTypeError,
  Graph,
  GraphError,
  NDArray,
  ShapeError,
  add,
  formatGraph,
  gradients,
  mul,
  sum,
  toDot,
} from '../src';

describe('Graph', () => {
  test('adding an equal node returns the existing node (interning)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const a = add(x, 1);
    const b = add(x, 1);
    expect(b).toBe(a);
    expect(g.size).toBe(3);
  });

  test('placeholders never merge, even with equal shapes', () => {
    const g = new Graph();
    expect(g.placeholder('a', [2]).id).not.toBe(g.placeholder('b', [2]).id);
  });

  test('names are unique and scoped', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const y = g.nameScope('layer1', () => mul(x, 2));
    const z = g.nameScope('layer1', () => mul(x, 3));
    expect(y.name).toBe('layer1/mul');
    expect(z.name).toBe('layer1/mul_1');
    expect(g.byName('layer1/mul')).toBe(y);
  });

  test('a duplicate placeholder name is a GraphError', () => {
    const g = new Graph();
    g.placeholder('x');
    expect(() => g.placeholder('x')).toThrow(GraphError);
  });

  test('inputs always have smaller ids than their consumers', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const y = sum(mul(add(x, 1), x));
    gradients(y, [x]);
    for (const node of g.nodes) for (const input of node.inputs) expect(input).toBeLessThan(node.id);
  });

  test('combining tensors of two graphs is a GraphError naming both tensors', () => {
    const g1 = new Graph();
    const g2 = new Graph();
    const a = g1.placeholder('a');
    const b = g2.placeholder('b');
    expect(() => add(a, b)).toThrow(GraphError);
    expect(() => add(a, b)).toThrow(/'a' and 'b' belong to different graphs/);
  });

  test('toString prints one node per line with id, op, inputs, dtype, shape and name', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    add(x, 1);
    expect(g.toString()).toBe(
      [
        '%0 = placeholder() : float32[?, 3]  # x',
        '%1 = constant() <1> : float32[]  # Const',
        '%2 = add(%0, %1) : float32[?, 3]  # add',
      ].join('\n'),
    );
  });

  test('formatGraph prints only the subgraph computing the given tensors', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const unrelated = g.placeholder('unrelated');
    mul(unrelated, 3);
    const y = mul(x, x);
    const [dx] = gradients(y, [x]);
    const text = formatGraph(dx as never);
    expect(text).toContain('gradients/');
    expect(text).not.toContain('unrelated');
    expect(text.split('\n').pop()).toBe(`-> %${(dx as { id: number }).id}`);
  });

  test('toDot draws nodes and edges, gradient nodes in their own cluster', () => {
    const g = new Graph();
    const x = g.placeholder('x');
    const [dx] = gradients(mul(x, x), [x]);
    const dot = toDot(dx as never);
    expect(dot.startsWith('digraph lazygrad {')).toBe(true);
    expect(dot).toContain('subgraph cluster_gradients');
    expect(dot).toMatch(/n0 -> n\d+;/);
  });
});

describe('NDArray', () => {
  test('from a nested array infers shape and defaults to float32', () => {
    const a = NDArray.from([[1, 2, 3]]);
    expect(a.shape).toEqual([1, 3]);
    expect(a.dtype).toBe('float32');
    expect(a.toArray()).toEqual([[1, 2, 3]]);
  });

  test('wraps a typed array without copying', () => {
    const data = new Float32Array(6);
    const a = new NDArray(data, [2, 3]);
    expect(a.data).toBe(data);
  });

  test('a ragged nested array is a ShapeError', () => {
    expect(() => NDArray.from([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => NDArray.from([[1, 2], 3] as never)).toThrow(/ragged/);
  });

  test('an unknown dtype (a shape passed where the dtype goes, say) is a DTypeError that says how to shape data', () => {
    expect(() => NDArray.from(new Float32Array(6), [2, 3] as never)).toThrow(DTypeError);
    expect(() => NDArray.from(new Float32Array(6), [2, 3] as never)).toThrow(/new NDArray\(data, shape\)/);
  });

  test('booleans become bool, int32 refuses fractions (astype truncates)', () => {
    expect(NDArray.from([true, false]).dtype).toBe('bool');
    expect(() => NDArray.from([1.7, -1.7], 'int32')).toThrow(/1\.7 at index 0 is not an integer/);
    expect(NDArray.from([1.7, -1.7]).astype('int32').toArray()).toEqual([1, -1]);
  });

  test('size-0 shapes round-trip', () => {
    expect(NDArray.zeros([2, 0]).toArray()).toEqual([[], []]);
    expect(NDArray.zeros([0, 3]).toArray()).toEqual([]);
  });

  test('data length must match the shape', () => {
    expect(() => new NDArray(new Float32Array(5), [2, 3])).toThrow(ShapeError);
  });
});
