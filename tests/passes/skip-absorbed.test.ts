/**
 * `epilogue` and `fuse` do not copy the nodes their fusion absorbs (a fused bias-add's product, a fused add whose
 * activation fuses too, a group's members): `rebuildSkipping`, which falls back to the full rebuild when a node
 * merges. On random graphs (with gradients, so products, biases and elementwise chains are shared and read
 * elsewhere), the shortcut gives the graph, outputs, bindings and counts of the full rebuild.
 */
import fc from 'fast-check';
import { add, exp, gradients, Graph, matMul, mul, NDArray, relu, sigmoid, sum, tanh, Tensor } from '../../src';
import { epiloguePass } from '../../src/passes/epilogue';
import { elementwiseFusion } from '../../src/passes/fuse';
import { rebuildSkipping } from '../../src/passes/slice';
import { sliceOf } from './slices';

const pairs = [
  { name: 'epilogue', shortcut: epiloguePass(), reference: epiloguePass(false) },
  { name: 'fuse', shortcut: elementwiseFusion(), reference: elementwiseFusion([], false) },
];

describe('fusion passes skip the nodes they absorb', () => {
  test.each(pairs)('$name: the same slice and counts as the full rebuild, on random graphs', (pair) => {
    const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 10 }), out: fc.boolean() });
    let changed = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), fc.boolean(), fc.boolean(), (steps, grad, one) => {
        const g = new Graph();
        const x = g.placeholder('x', [2, 3]);
        const w = g.variable('w', new NDArray(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), [3, 3]));
        const bias = g.variable('b', new NDArray(new Float32Array([1, 2, 3]), [3]));
        const pool: Tensor[] = [x];
        const outputs: Tensor[] = [];
        for (const { a, b, kind, out } of steps) {
          const left = pool[a % pool.length];
          const right = pool[b % pool.length];
          const ops = [
            () => matMul(left, w),
            () => add(left, bias),
            () => add(bias, left),
            () => relu(left),
            () => tanh(left),
            () => sigmoid(left),
            () => add(left, right),
            () => mul(left, right),
            () => exp(left),
            // Dense layers, so that products and bias-adds are often read only by each other.
            () => add(matMul(left, w), bias),
            () => [relu, tanh, sigmoid][b % 3](add(matMul(left, w), bias)),
          ];
          const t = ops[kind]();
          pool.push(t);
          if (out) outputs.push(t);
        }
        const last = pool[pool.length - 1];
        outputs.push(last);
        if (grad) {
          const loss = sum(last);
          outputs.push(loss, ...gradients(loss, [w, bias]).filter((t): t is Tensor => t !== null));
        }
        const slice = sliceOf(g, outputs, { level: one ? 1 : 0 });
        const expected = pair.reference.run(slice);
        const actual = pair.shortcut.run(slice);
        if (expected.slice !== slice) changed++;
        expect(actual.changes).toEqual(expected.changes);
        expect(actual.slice.graph.toString()).toBe(expected.slice.graph.toString());
        expect(actual.slice.outputs).toEqual(expected.slice.outputs);
        expect([...actual.slice.bindings]).toEqual([...expected.slice.bindings]);
      }),
      { numRuns: 200 },
    );
    // The property saw graphs the pass changed, not only unchanged ones.
    expect(changed).toBeGreaterThan(20);
  });

  test('a rebuild that merges a node gives up (null), so the pass rebuilds in full', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const a = exp(x);
    const b = tanh(x);
    const slice = sliceOf(g, [a, b]);
    const skip = new Uint8Array(slice.graph.size);
    // A rewrite that turns tanh into the exp already built: a merge.
    const merged = rebuildSkipping(slice, skip, (node, inputs, target) =>
      node.op === 'tanh' ? exp(target.tensor(inputs[0])).id : undefined,
    );
    expect(merged).toBeNull();
    const none = rebuildSkipping(slice, skip, () => undefined);
    expect(none?.graph.toString()).toBe(slice.graph.toString());
  });
});
