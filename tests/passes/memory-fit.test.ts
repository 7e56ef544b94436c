/**
 * The memory planner's fit rule: a value takes the smallest free buffer that holds it, but never one over twice its
 * size (beyond a small slack), so that a small long-lived value (a bias gradient held until a training step's
 * updates) does not pin a large buffer that a later large value then cannot use.
 */
import { add, exp, Graph, mul, neg, NDArray, Session, sin, sum } from '../../src';
import { compilePlan } from '../../src/session/compile';

describe('memory planning: buffer fit', () => {
  test('a small value left after a large one dies takes a small buffer of its own; the large buffer is reused', () => {
    const g = new Graph();
    const x = g.placeholder('x', [64, 1024]);
    const big = exp(x); // 256 KiB, dies at the sum
    const small = sum(big, 0); // 4 KiB
    const held = neg(small); // 4 KiB, computed after big is freed (small lives on: not in place), read at the end
    const later = sin(x); // 256 KiB: takes big's buffer
    const out = add(sum(mul(later, held)), sum(small));
    const feeds = new Map([[x.id, NDArray.zeros([64, 1024])]]);
    const plan = compilePlan(g, [out.id], feeds, { level: 2, disable: ['fuse'] }, new Map(), true);
    const memory = plan.memory;
    if (memory === null) throw new Error('no memory plan');
    const bigBuffers = memory.buffers.filter((b) => b.capacity === 64 * 1024).length;
    expect(bigBuffers).toBe(1);
    expect(memory.plannedBytes).toBeLessThan(2 * 64 * 1024 * 4);
    // and the values are those of a plan without planning
    const value = new Session(g).run(out, { x: NDArray.zeros([64, 1024]) }) as NDArray;
    const unplanned = new Session(g, { optimize: { level: 1 } }).run(out, { x: NDArray.zeros([64, 1024]) }) as NDArray;
    expect(Array.from(value.data)).toEqual(Array.from(unplanned.data));
  });
});
