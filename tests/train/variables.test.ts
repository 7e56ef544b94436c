/**
 * g.variable's call forms (value, dtype, options, initializer objects) and g.trainableVariables().
 */
import { DType, Graph, GraphError, initializers, NDArray, Session, ShapeError, VariableInitializer } from '../../src';

describe('g.variable', () => {
  test('the value-and-dtype form still works', () => {
    const g = new Graph();
    const w = g.variable('w', [1, 2], 'int32');
    expect([w.dtype, w.shape]).toEqual(['int32', [2]]);
    expect(new Session(g).run(w).toArray()).toEqual([1, 2]);
  });

  test('the options form takes a dtype', () => {
    const g = new Graph();
    expect(g.variable('w', [1, 2], { dtype: 'float64' }).dtype).toBe('float64');
  });

  test('variables are trainable by default; trainable: false is recorded in the attrs and the text IR', () => {
    const g = new Graph();
    const w = g.variable('w', [1]);
    const frozen = g.variable('frozen', [1], { trainable: false });
    expect(w.node.attrs).toEqual({});
    expect(frozen.node.attrs).toEqual({ trainable: false });
    expect(frozen.toString()).toContain('{trainable=false}');
    expect(w.toString()).toBe('%0 = variable() : float32[1]  # w');
  });

  test('trainableVariables lists the trainable ones in creation order', () => {
    const g = new Graph();
    g.variable('a', 1);
    g.variable('b', 1, { trainable: false });
    g.variable('c', 1, { trainable: true });
    expect(g.trainableVariables().map((v) => v.name)).toEqual(['a', 'c']);
    expect(g.variables().map((v) => v.name)).toEqual(['a', 'b', 'c']);
  });

  test('a shape in the options must match the initial value', () => {
    const g = new Graph();
    expect(g.variable('ok', [[1, 2]], { shape: [1, 2] }).shape).toEqual([1, 2]);
    expect(() => g.variable('bad', [1, 2], { shape: [2, 1] })).toThrow(ShapeError);
  });

  test('any object with kind "initializer" and apply(shape, dtype, name) initializes a variable', () => {
    const calls: string[] = [];
    const counting: VariableInitializer = {
      kind: 'initializer',
      apply(shape: readonly number[], dtype: DType, name: string): NDArray {
        calls.push(`${name} ${dtype} [${shape.join(',')}]`);
        return NDArray.from(
          Array.from({ length: shape[0] }, (_, i) => i),
          dtype,
        );
      },
    };
    const g = new Graph();
    const w = g.variable('w', counting, { shape: [3], dtype: 'float64' });
    expect(calls).toEqual(['w float64 [3]']);
    expect(new Session(g).run(w).toArray()).toEqual([0, 1, 2]);
  });

  test('an initializer that returns the wrong shape is a GraphError naming both shapes', () => {
    const wrong: VariableInitializer = { kind: 'initializer', apply: () => NDArray.zeros([2]) };
    const g = new Graph();
    expect(() => g.variable('w', wrong, { shape: [3] })).toThrow(/returned float32\[2\], expected float32\[3\]/);
  });

  test('invalid options are errors: a non-boolean trainable, a shape with unknown dims', () => {
    const g = new Graph();
    expect(() => g.variable('a', 1, { trainable: 'no' as unknown as boolean })).toThrow(GraphError);
    expect(() => g.variable('b', initializers.zeros(), { shape: [null as unknown as number] })).toThrow(ShapeError);
  });
});
