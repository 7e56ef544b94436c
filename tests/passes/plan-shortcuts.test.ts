/**
 * The plan's lowering without its per-step garbage (issue 20, fifth round): the memory planner marks dying slots in
 * one array instead of a set per step and reads the steps themselves (no copy per step), buildPlan keeps release
 * lists in an array and shares frozen shapes between steps, the staging bytes count each slot once, and a step's
 * view is its buffer's own array when the value fills it.
 * On random graphs (training steps with updates, gradients, fused groups, a cond), each gives what the code before gave
 * (tests/passes/plan-reference.ts keeps it).
 */
import fc from 'fast-check';
import {
  add,
  assign,
  cond,
  exp,
  gradients,
  Graph,
  greater,
  matMul,
  mul,
  NDArray,
  relu,
  sigmoid,
  sub,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { compilePlan } from '../../src/session/compile';
import { layoutBuffers, PlannedStep, planMemory, typedView, viewsIn } from '../../src/session/memory';
import { Plan, plannedSteps } from '../../src/session/plan';
import { stagingBytes } from '../../src/session/placement';
import {
  referencePlannedStep,
  referencePlanMemory,
  referenceReleases,
  referenceStagingBytes,
  referenceStepViews,
} from './plan-reference';

interface Built {
  g: Graph;
  fetches: Tensor[];
  feeds: Map<number, NDArray>;
}

const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 11 }), out: fc.boolean() });

function build(steps: readonly { a: number; b: number; kind: number; out: boolean }[], train: boolean): Built {
  const g = new Graph();
  const x = g.placeholder('x', [2, 3]);
  const w = g.variable(
    'w',
    new NDArray(
      new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]).map((v) => v / 10),
      [3, 3],
    ),
  );
  const bias = g.variable('b', new NDArray(new Float32Array([0.1, 0.2, 0.3]), [3]));
  const pool: Tensor[] = [x];
  const fetches: Tensor[] = [];
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
      () => exp(mul(left, g.constant(NDArray.from(0.01)))),
      () => sub(left, right),
      () => add(matMul(left, w), bias),
      () => mul(left, sum(left, [1], true)),
      () =>
        cond(
          greater(sum(left), g.constant(NDArray.from(0))),
          () => tanh(left),
          () => mul(left, right),
        ),
    ];
    const t = ops[kind]();
    pool.push(t);
    if (out) fetches.push(t);
  }
  const loss = sum(pool[pool.length - 1]);
  fetches.push(loss);
  const grads = gradients(loss, [w, bias]);
  if (train) {
    const lr = g.constant(NDArray.from(0.1));
    if (grads[0] !== null) fetches.push(assign(w, sub(w, mul(lr, grads[0]))));
    if (grads[1] !== null) fetches.push(assign(bias, sub(bias, mul(lr, grads[1]))));
  } else fetches.push(...grads.filter((t): t is Tensor => t !== null));
  const feeds = new Map([[x.id, new NDArray(new Float32Array([1, -2, 3, -4, 5, -6]), [2, 3])]]);
  return { g, fetches, feeds };
}

function planOf({ g, fetches, feeds }: Built, level: 0 | 1 | 2): Plan {
  const ids = [...new Set(fetches.map((t) => t.id))];
  return compilePlan(g, ids, feeds, { level }, new Map(), false);
}

function sameShape(a: readonly number[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

describe('the plan lowered without per-step garbage', () => {
  test('memory plans, release lists, shapes, staging bytes and views equal the code before, on random graphs', () => {
    let planned = 0;
    let inPlace = 0;
    let writtenEarly = 0;
    let controls = 0;
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 16 }),
        fc.boolean(),
        fc.constantFrom<0 | 1 | 2>(0, 1, 2),
        (steps, train, level) => {
          const plan = planOf(build(steps, train), level);
          // buildPlan: each step's release list and shape (frozen, shared between equal shapes) as before.
          expect(plan.steps.map((s) => [...s.release])).toEqual(referenceReleases(plan));
          for (const s of plan.steps) {
            expect(Object.isFrozen(s.shape) || s.early !== undefined).toBe(true);
            expect(sameShape(s.shape, s.node.shape)).toBe(true);
          }
          // The steps are what the planner reads (no copy per step): the fields it read of each copy before.
          const planned1 = plannedSteps(plan.steps);
          planned1.forEach((p, i) => {
            const want = referencePlannedStep(plan.steps[i]);
            const fields = (q: PlannedStep): unknown[] => [
              q.output,
              q.inputs,
              q.release,
              q.shape,
              q.dtype,
              q.op,
              q.outputs,
              q.writtenEarly === true,
            ];
            expect(fields(p)).toEqual(fields(want));
            if (want.writtenEarly === true) writtenEarly++;
            if (want.outputs !== undefined) controls++;
          });
          // The memory planner, with results in fresh arrays and in buffers.
          for (const inBuffers of [false, true]) {
            const actual = planMemory(plan.graph, planned1, plan.outputs, inBuffers);
            expect(actual).toEqual(referencePlanMemory(plan.graph, planned1, plan.outputs, inBuffers));
          }
          // Staging bytes with every op of the plan bound, and with only fused groups and matMuls.
          const every = new Map(plan.steps.map((s) => [s.node.op, true]));
          const some = new Map([
            ['fused', true],
            ['matMul', true],
          ]);
          expect(stagingBytes(plan, every)).toBe(referenceStagingBytes(plan, every));
          expect(stagingBytes(plan, some)).toBe(referenceStagingBytes(plan, some));
          // Views: the same elements of the same memory, shape and dtype.
          const memory = plan.memory;
          if (memory === null) return;
          planned++;
          inPlace += memory.inPlace;
          const layout = layoutBuffers(memory);
          const buffer = new ArrayBuffer(layout.bytes + 64);
          const { views } = viewsIn(memory, planned1, layout, buffer, 64);
          const arrays = memory.buffers.map((b, i) => typedView(b.dtype, buffer, 64 + layout.offsets[i], b.capacity));
          const expected = referenceStepViews(memory, planned1, arrays);
          expect(views.length).toBe(expected.length);
          views.forEach((view, i) => {
            const want = expected[i];
            if (want === null || view === null) {
              expect(view).toBe(want);
              return;
            }
            expect(view.data.buffer).toBe(want.data.buffer);
            expect([view.data.byteOffset, view.data.length, view.dtype]).toEqual([
              want.data.byteOffset,
              want.data.length,
              want.dtype,
            ]);
            expect(view.shape).toEqual(want.shape);
          });
        },
      ),
      { numRuns: 150 },
    );
    // The property saw memory plans, some with steps in place.
    expect(planned).toBeGreaterThan(20);
    expect(inPlace).toBeGreaterThan(0);
    expect(writtenEarly).toBeGreaterThan(0);
    expect(controls).toBeGreaterThan(0);
  });
});
