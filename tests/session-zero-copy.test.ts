/**
 * Issue 20: opt-in zero-copy results. `sess.run(fetches, feeds, { copy: false })` hands out computed results as
 * views of the plan's buffers (the wasm arena), valid until the session's next run or dispose(); a read after that
 * throws instead of showing another run's numbers, and a growth of the arena never leaves a view empty.
 */
import { add, exp, Graph, matMul, mul, NDArray, RuntimeError, Session, sum, tanh, Tensor } from '../src';
import type { WasmArena } from '../src/backend/wasm';

const arenaOf = (s: Session): WasmArena => (s as unknown as { placement: { arena: WasmArena } }).placement.arena;

function model(): { g: Graph; y: Tensor; total: Tensor } {
  const g = new Graph();
  const x = g.placeholder('x', [null, 256]);
  const w = g.variable(
    'w',
    new NDArray(
      Float32Array.from({ length: 256 * 256 }, (_, i) => ((i % 7) - 3) / 50),
      [256, 256],
    ),
  );
  const y = tanh(add(matMul(x, w), 0.5));
  return { g, y, total: sum(exp(mul(y, 0.1))) };
}

const feed = (rows: number, scale = 1): NDArray =>
  new NDArray(
    Float32Array.from({ length: rows * 256 }, (_, i) => (((i * 13) % 17) / 17 - 0.5) * scale),
    [rows, 256],
  );

describe.each(['wasm', 'js'] as const)('{ copy: false } on the %s backend', (backend) => {
  test('gives the same values as a copying run', () => {
    const { g, y, total } = model();
    const s = new Session(g, { backend });
    const [a, b] = s.run([y, total], { x: feed(64) });
    const expected = [Array.from(a.data), Array.from(b.data)];
    const [c, d] = s.run([y, total], { x: feed(64) }, { copy: false });
    expect(Array.from(c.data)).toEqual(expected[0]);
    expect(Array.from(d.data)).toEqual(expected[1]);
  });

  test('a view read after the next run (of any plan) throws a RuntimeError; a clone taken before stays', () => {
    const { g, y, total } = model();
    const s = new Session(g, { backend });
    const view = s.run(y, { x: feed(32) }, { copy: false });
    const kept = view.clone();
    const values = Array.from(view.data);
    s.run(total, { x: feed(32, 2) });
    expect(() => view.data).toThrow(RuntimeError);
    expect(() => view.toArray()).toThrow(/valid until the session’s next run or dispose\(\)/);
    expect(Array.from(kept.data)).toEqual(values);
  });

  test('dispose() invalidates the views; a stale view fed back is refused, not read', () => {
    const { g, y } = model();
    const s = new Session(g, { backend });
    const view = s.run(y, { x: feed(8) }, { copy: false });
    const again = new Session(g, { backend });
    const fresh = s.run(y, { x: feed(8) }, { copy: false });
    expect(() => again.run(y, { x: view })).toThrow(RuntimeError);
    s.dispose();
    expect(() => fresh.data).toThrow(RuntimeError);
  });
});

describe.each(['wasm', 'js'] as const)('a { copy: false } result fed back on the %s backend', (backend) => {
  // A loop that carries its state through views: each run's result is the next run's feed (x ← tanh(x·w + 0.5)).
  function square(): { g: Graph; x: Tensor; y: Tensor } {
    const g = new Graph();
    const x = g.placeholder('x', [4, 4]);
    const w = g.constant(
      new NDArray(
        Float32Array.from({ length: 16 }, (_, i) => ((i % 5) - 2) / 4),
        [4, 4],
      ),
    );
    return { g, x, y: tanh(add(matMul(x, w), 0.5)) };
  }
  const start = (): NDArray =>
    new NDArray(
      Float32Array.from({ length: 16 }, (_, i) => i / 16 - 0.5),
      [4, 4],
    );

  test('into the same session: read before the run writes over it, the same values as copies', () => {
    const { g, x, y } = square();
    const copying = new Session(g, { backend });
    const viewing = new Session(g, { backend });
    let a = start();
    let b = start();
    for (let i = 0; i < 5; i++) {
      a = copying.run(y, new Map([[x, a]]));
      b = viewing.run(y, new Map([[x, b]]), { copy: false });
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
    }
  });

  test('into another session: read as it is while its own session has not run again', () => {
    const { g, x, y } = square();
    const first = new Session(g, { backend });
    const second = new Session(g, { backend });
    const view = first.run(y, new Map([[x, start()]]), { copy: false });
    const expected = new Session(g, { backend }).run(y, new Map([[x, view.clone()]]));
    expect(Array.from(second.run(y, new Map([[x, view]])).data)).toEqual(Array.from(expected.data));
  });

  test('a feed error leaves the views valid (nothing ran)', () => {
    const { g, x, y } = square();
    const s = new Session(g, { backend });
    const view = s.run(y, new Map([[x, start()]]), { copy: false });
    const values = Array.from(view.data);
    expect(() => s.run(y, { nope: start() })).toThrow(/names no node/);
    expect(Array.from(view.data)).toEqual(values);
  });
});

describe('{ copy: false } on the wasm backend', () => {
  test('results are arena views: a wasm kernel wrote them in place, nothing was copied out', () => {
    const { g, y } = model();
    const s = new Session(g, { backend: 'wasm' });
    s.run(y, { x: feed(64) }, { copy: false }); // compiles and places everything first
    const set = Float32Array.prototype.set;
    let copied = 0;
    const count = function (this: Float32Array, source: ArrayLike<number>, offset?: number): void {
      copied += source.length * 4;
      set.call(this, source, offset);
    };
    Float32Array.prototype.set = count as typeof set;
    let view: NDArray;
    let copiedViews: number;
    try {
      view = s.run(y, { x: feed(64) }, { copy: false });
      copiedViews = copied;
      copied = 0;
      s.run(y, { x: feed(64) });
    } finally {
      Float32Array.prototype.set = set;
    }
    // The copying run also copies the 64×256 result out of the arena; the feed is staged by both.
    expect(copied - copiedViews).toBe(64 * 256 * 4);
    const fresh = s.run(y, { x: feed(64) }, { copy: false });
    expect(arenaOf(s).holds(fresh.data)).toBe(true);
    expect(() => view.data).toThrow(RuntimeError);
  });

  test('a growth of the arena (another allocation) re-takes the view: it keeps its values', () => {
    const { g, y } = model();
    const s = new Session(g, { backend: 'wasm' });
    const view = s.run(y, { x: feed(16) }, { copy: false });
    const values = Array.from(view.data);
    const arena = arenaOf(s);
    const generation = arena.generation;
    const big = arena.alloc(arena.capacity);
    expect(arena.generation).toBeGreaterThan(generation);
    expect(Array.from(view.data)).toEqual(values);
    expect(arena.holds(view.data)).toBe(true);
    arena.free(big);
  });
});
