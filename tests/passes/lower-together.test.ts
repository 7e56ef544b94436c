/**
 * `epilogueAndFusion` runs `epilogue` and `fuse` in one rebuild (fusion planned on a view of the epilogue's slice).
 * On random graphs (dense layers, activations, relu masks from gradients, scalar constants that fusion takes as
 * literals, shared and fetched intermediates) it gives the slice, outputs, bindings and both reports (nodes before
 * and after, changes) of the two passes run one after the other; so does `optimize` with and without `verify`
 * (which runs them one by one).
 */
import fc from 'fast-check';
import {
  add,
  exp,
  gradients,
  Graph,
  matMul,
  mul,
  NDArray,
  optimize,
  relu,
  sigmoid,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { epilogue } from '../../src/passes/epilogue';
import { elementwiseFusion } from '../../src/passes/fuse';
import { epilogueAndFusion, lowerVisits } from '../../src/passes/lower';
import { sliceOf } from './slices';

const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 14 }), out: fc.boolean() });

function randomGraph(steps: { a: number; b: number; kind: number; out: boolean }[], grad: boolean) {
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
      () => relu(left),
      () => tanh(left),
      () => sigmoid(left),
      () => add(left, right),
      () => mul(left, right),
      () => exp(left),
      // Scalar constants: fusion takes them as literals (then nothing may read them any more).
      () => mul(left, 2),
      () => add(exp(left), 0.5),
      // Dense layers, so that products and bias-adds are often read only by each other.
      () => add(matMul(left, w), bias),
      () => [relu, tanh, sigmoid][b % 3](add(matMul(left, w), bias)),
      () => tanh(mul(add(matMul(left, w), bias), 3)),
      // relu layers: their gradients' masks move to relu(x).
      () => relu(add(matMul(left, w), bias)),
      () => relu(add(left, right)),
    ];
    const t = ops[kind]();
    pool.push(t);
    if (out) outputs.push(t);
  }
  const last = pool[pool.length - 1];
  outputs.push(last);
  if (grad) {
    const loss = sum(mul(last, last));
    outputs.push(loss, ...gradients(loss, [w, bias, x]).filter((t): t is Tensor => t !== null));
  }
  return { g, outputs };
}

const withoutTime = (reports: readonly { pass: string; nodesBefore: number; nodesAfter: number; changes: object }[]) =>
  reports.map(({ pass, nodesBefore, nodesAfter, changes }) => ({ pass, nodesBefore, nodesAfter, changes }));

describe('epilogue and fuse in one rebuild', () => {
  test.each([
    { name: 'every op fused', exclude: [] as string[] },
    { name: 'exp kept unfused', exclude: ['exp'] },
  ])('the slice and reports of the two passes one after the other, on random graphs ($name)', ({ exclude }) => {
    const together = epilogueAndFusion(exclude);
    const fusion = elementwiseFusion(exclude);
    const before = { ...lowerVisits };
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 24 }), fc.boolean(), fc.boolean(), (steps, grad, one) => {
        const { g, outputs } = randomGraph(steps, grad);
        const slice = sliceOf(g, outputs, { level: one ? 1 : 0 });
        const first = epilogue.run(slice);
        const second = fusion.run(first.slice);
        const expected = withoutTime([
          {
            pass: 'epilogue',
            nodesBefore: slice.graph.size,
            nodesAfter: first.slice.graph.size,
            changes: first.changes,
          },
          {
            pass: 'fuse',
            nodesBefore: first.slice.graph.size,
            nodesAfter: second.slice.graph.size,
            changes: second.changes,
          },
        ]);
        const actual = together.runParts(slice);
        expect(withoutTime(actual.reports)).toEqual(expected);
        expect(actual.slice.graph.toString()).toBe(second.slice.graph.toString());
        expect(actual.slice.outputs).toEqual(second.slice.outputs);
        expect([...actual.slice.bindings]).toEqual([...second.slice.bindings]);
      }),
      { numRuns: 200 },
    );
    // The property saw the shared rebuild often, and the passes one after the other (its fallbacks) too.
    expect(lowerVisits.together - before.together).toBeGreaterThan(40);
    expect(lowerVisits.separately - before.separately).toBeGreaterThan(10);
  });

  test('optimize gives the same graph and reports with verify (the passes one by one)', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 16 }), fc.boolean(), (steps, grad) => {
        const { g, outputs } = randomGraph(steps, grad);
        const shared = optimize(g, outputs);
        const oneByOne = optimize(g, outputs, { verify: true });
        expect(withoutTime(shared.report)).toEqual(withoutTime(oneByOne.report));
        expect(shared.graph.toString()).toBe(oneByOne.graph.toString());
        expect(shared.outputs.map((t) => t.id)).toEqual(oneByOne.outputs.map((t) => t.id));
      }),
      { numRuns: 60 },
    );
  });

  test('a scalar constant read only by fused groups is not copied, and the lowered slice keeps every node live', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const y = tanh(mul(exp(x), 2));
    const slice = sliceOf(g, [y], { level: 1 });
    const lowered = epilogueAndFusion().runParts(slice);
    const reference = elementwiseFusion([], false).run(epilogue.run(slice).slice);
    expect(lowered.slice.graph.toString()).toBe(reference.slice.graph.toString());
    expect(lowered.slice.graph.nodes.map((n) => n.op)).toEqual(['placeholder', 'fused']);
  });
});
