/**
 * Fusion gives the groups of one structure (the same dtype, ops, literals and argument wiring) one frozen attrs
 * object, built once; the graph then validates and keys it once (attrsProblem, canonicalJSON) and the fused op
 * infers its steps' dtype once per input dtypes. On random graphs made of repeated small chains (literals 0, −0,
 * 0.5 and 2; float32 and float64; an input read once or twice), the shared attrs give the nodes (ops, inputs,
 * attrs to the sign of a zero, names) and counts that building each group's attrs on its own gives.
 */
import fc from 'fast-check';
import {
  add,
  Attrs,
  attrsProblem,
  broadcastStatic,
  canonicalJSON,
  Dim,
  exp,
  freezeAttrs,
  FUSED,
  Graph,
  isFrozenAttrs,
  mul,
  sigmoid,
  sub,
  tanh,
  Tensor,
} from '../../src';
import { addOp } from '../../src/ops/record';
import { elementwiseFusion } from '../../src/passes/fuse';
import { sliceOf } from './slices';

const LITERALS = [0, -0, 0.5, 2];
const link = fc.record({ kind: fc.integer({ min: 0, max: 6 }), literal: fc.nat(3), other: fc.nat(1) });
// `flip`: the instance's literals are the template's with 0 and −0, 0.5 and 2 swapped (one structure otherwise).
const instance = fc.record({
  template: fc.nat(),
  base: fc.nat(3),
  others: fc.nat(3),
  flip: fc.boolean(),
  out: fc.boolean(),
});

function randomGraph(
  templates: { kind: number; literal: number; other: number }[][],
  instances: { template: number; base: number; others: number; flip: boolean; out: boolean }[],
) {
  const g = new Graph();
  const inputs = [
    g.placeholder('a', [2, 3]),
    g.placeholder('b', [2, 3]),
    g.placeholder('c', [2, 3], 'float64'),
    g.placeholder('d', [2, 3], 'float64'),
  ];
  const outputs: Tensor[] = [];
  for (const { template, base, others, flip, out } of instances) {
    let t = inputs[base];
    // Two other inputs of the base's dtype: the same one twice (one external) or two (two externals).
    const pool = inputs.filter((x) => x.dtype === t.dtype);
    const other = [pool[others % 2], pool[(others >> 1) % 2]];
    for (const { kind, literal, other: which } of templates[template % templates.length]) {
      const c = LITERALS[flip ? literal ^ 1 : literal];
      const o = other[which];
      t = [
        () => exp(t),
        () => tanh(t),
        () => mul(t, c),
        () => add(t, c),
        () => add(t, o),
        () => sub(o, t),
        () => sigmoid(t),
      ][kind]();
    }
    outputs.push(out ? t : tanh(t));
  }
  return { g, outputs };
}

describe('fused groups of one structure share their attrs', () => {
  test('the same nodes and counts as attrs built per group, on random graphs of repeated chains', () => {
    const shortcut = elementwiseFusion();
    const reference = elementwiseFusion([], true, false);
    let sharedSeen = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(link, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        fc.array(instance, { minLength: 1, maxLength: 10 }),
        (templates, instances) => {
          const { g, outputs } = randomGraph(templates, instances);
          const slice = sliceOf(g, outputs);
          const fast = shortcut.run(slice);
          const full = reference.run(slice);
          expect(fast.changes).toEqual(full.changes);
          // toEqual tells −0 from 0: a literal's sign is kept.
          expect(fast.slice.graph.nodes).toEqual(full.slice.graph.nodes);
          expect(fast.slice.outputs).toEqual(full.slice.outputs);
          const fused = fast.slice.graph.nodes.filter((n) => n.op === 'fused');
          for (const node of fused) expect(isFrozenAttrs(node.attrs)).toBe(true);
          sharedSeen += fused.length - new Set(fused.map((n) => n.attrs)).size;
        },
      ),
      { numRuns: 300 },
    );
    // The property saw groups that shared their attrs.
    expect(sharedSeen).toBeGreaterThan(50);
  });

  test('frozen attrs: the same canonical JSON and problems as an unfrozen copy, and they cannot change', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), (value) => {
        const copy = JSON.parse(JSON.stringify(value)) as Attrs;
        const frozen = freezeAttrs(JSON.parse(JSON.stringify(value)) as Attrs);
        for (let round = 0; round < 2; round++) {
          expect(canonicalJSON(frozen)).toBe(canonicalJSON(copy));
          expect(attrsProblem(frozen)).toEqual(attrsProblem(copy));
        }
      }),
      { numRuns: 300 },
    );
    const attrs = freezeAttrs({ steps: [{ op: 'exp', args: [{ input: 0 }] }], list: [1, 2] });
    expect(canonicalJSON(attrs)).toBe('{"list":[1,2],"steps":[{"args":[{"input":0}],"op":"exp"}]}');
    expect(() => {
      (attrs.list as number[])[0] = 3;
    }).toThrow(TypeError);
    expect(() => {
      (attrs.steps[0].args as { input: number }[])[0].input = 1;
    }).toThrow(TypeError);
    expect(canonicalJSON(attrs)).toBe('{"list":[1,2],"steps":[{"args":[{"input":0}],"op":"exp"}]}');
    // Only what freezeAttrs froze is kept: an object frozen otherwise is written each time.
    expect(isFrozenAttrs(Object.freeze({ a: 1 }))).toBe(false);
  });

  test('a shared fused attrs object is inferred again for other input dtypes', () => {
    const steps = [
      { op: 'exp', args: [{ input: 0 }] },
      { op: 'neg', args: [{ step: 0 }] },
    ];
    const shared = freezeAttrs({ dtype: 'float32' as const, steps });
    const plain = { dtype: 'float32' as const, steps };
    const g = new Graph();
    const a = g.placeholder('a', [2]);
    const c = g.placeholder('c', [2], 'float64');
    expect(addOp(g, FUSED, [a.id], shared).dtype).toBe('float32');
    // On float64 the steps compute float64: both say so, the shared one after its float32 inference was kept.
    const wrong = /the steps compute float64, but the node's dtype attr says float32/;
    expect(() => addOp(g, FUSED, [c.id], shared)).toThrow(wrong);
    expect(() => addOp(g, FUSED, [c.id], plain)).toThrow(wrong);
    expect(addOp(g, FUSED, [a.id], shared).dtype).toBe('float32');
    const d = g.placeholder('d', [2], 'float64');
    const shared64 = freezeAttrs({ dtype: 'float64' as const, steps });
    expect(addOp(g, FUSED, [d.id], shared64).dtype).toBe('float64');
    expect(() => addOp(g, FUSED, [a.id], shared64)).toThrow(/the steps compute float32/);
  });

  test("the fused op's shape: inputs of one shape take it without a broadcast, as the broadcast gives", () => {
    const shapes: Dim[][] = [[2, 3], [3], [1, 3], [2, 1], [], [null, 3], [2, 3, 1]];
    const attrs = { dtype: 'float32' as const, steps: [{ op: 'exp', args: [{ input: 0 }] }] };
    fc.assert(
      fc.property(fc.array(fc.nat(shapes.length - 1), { minLength: 1, maxLength: 4 }), fc.boolean(), (picks, one) => {
        const inputs = picks.map((k) => ({ dtype: 'float32' as const, shape: shapes[one ? picks[0] : k] }));
        let expected: Dim[] | null = [];
        for (const input of inputs) expected = expected === null ? null : broadcastStatic(expected, input.shape);
        if (expected === null) {
          expect(() => FUSED.infer(inputs, attrs)).toThrow(/do not broadcast/);
        } else {
          const shape = FUSED.infer(inputs, attrs).shape;
          expect(shape).toEqual(expected);
          expect(shape).not.toBe(inputs[0].shape);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('frozen steps are checked again for another input count', () => {
    const steps = [
      { op: 'add', args: [{ input: 0 }, { input: 1 }] },
      { op: 'exp', args: [{ step: 0 }] },
    ];
    const shared = freezeAttrs({ dtype: 'float32' as const, steps });
    const plain = { dtype: 'float32' as const, steps: JSON.parse(JSON.stringify(steps)) as typeof steps };
    expect(isFrozenAttrs(shared.steps)).toBe(true);
    const g = new Graph();
    const a = g.placeholder('a', [2]);
    const b = g.placeholder('b', [2]);
    expect(addOp(g, FUSED, [a.id, b.id], shared).shape).toEqual([2]);
    const notAnArgument = /step 0 has an argument that is not \{input: k\}/;
    expect(() => addOp(g, FUSED, [a.id], plain)).toThrow(notAnArgument);
    expect(() => addOp(g, FUSED, [a.id], shared)).toThrow(notAnArgument);
    expect(addOp(g, FUSED, [b.id, a.id], shared).shape).toEqual([2]);
    expect(() => addOp(g, FUSED, [a.id], shared)).toThrow(notAnArgument);
  });
});
