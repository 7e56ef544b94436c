/**
 * Issue 20: a per-session memory cap, `new Session(g, { memoryLimit })`. A plan whose buffers, results, staging and
 * the session's variables would exceed it is refused before anything is allocated, with a RuntimeError naming each
 * part and the cap; other cached plans' buffers make room first.
 */
import { add, Graph, matMul, NDArray, RuntimeError, Session, SessionError, sum, tanh, Tensor } from '../src';

function model(): { g: Graph; y: Tensor; hidden: Tensor } {
  const g = new Graph();
  const x = g.placeholder('x', [null, 32]);
  const w = g.variable('w', new NDArray(new Float32Array(32 * 64).fill(0.01), [32, 64]));
  const hidden = tanh(add(matMul(x, w), 1));
  const y = sum(hidden);
  return { g, y, hidden };
}

const feed = (rows: number): NDArray => new NDArray(new Float32Array(rows * 32).fill(0.5), [rows, 32]);

/** The byte count a refusal says the plan needs ("a memoryLimit of at least N bytes"). */
function neededBytes(run: () => unknown): number {
  try {
    run();
  } catch (error) {
    const match = /at least (\d+) bytes/.exec((error as Error).message);
    if (match !== null) return Number(match[1]);
    throw error;
  }
  throw new Error('the run was not refused');
}

describe.each(['wasm', 'js'] as const)('memoryLimit on the %s backend', (backend) => {
  test('a plan above the cap is a RuntimeError naming its parts and the cap, and nothing changes', () => {
    const { g, y } = model();
    const s = new Session(g, { backend, memoryLimit: 4096 });
    let caught: unknown;
    try {
      s.run(y, { x: feed(256) });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RuntimeError);
    const message = (caught as Error).message;
    expect(message).toMatch(/the plan for 'sum[^']*' needs [\d.]+ KiB \(reused buffers [\d.]+ KiB, results 4 B,/);
    expect(message).toMatch(/variables 8 KiB/);
    expect(message).toMatch(/memoryLimit of 4 KiB \(4096 bytes\)/);
    expect(s.cachedPlans).toBe(0);
    // Nothing was placed: the session holds no variable value yet (its store is empty).
    expect([...(s as unknown as { store: { ids(): Iterable<number> } }).store.ids()]).toEqual([]);
  });

  test('the need it names is the threshold: a cap of that many bytes runs, one byte less is refused', () => {
    const { g, y } = model();
    const need = neededBytes(() => new Session(g, { backend, memoryLimit: 1 }).run(y, { x: feed(64) }));
    expect(() => new Session(g, { backend, memoryLimit: need - 1 }).run(y, { x: feed(64) })).toThrow(RuntimeError);
    const s = new Session(g, { backend, memoryLimit: need });
    const reference = new Session(g, { backend }).run(y, { x: feed(64) });
    expect(s.run(y, { x: feed(64) }).toArray()).toEqual(reference.toArray());
  });

  test('other cached plans are dropped (oldest first) to make room, and only as many as needed', () => {
    const { g, y, hidden } = model();
    const small = neededBytes(() => new Session(g, { backend, memoryLimit: 1 }).run(y, { x: feed(8) }));
    const large = neededBytes(() => new Session(g, { backend, memoryLimit: 1 }).run(hidden, { x: feed(128) }));
    const s = new Session(g, { backend, memoryLimit: large + 64 });
    s.run(y, { x: feed(8) });
    s.run(y, { x: feed(9) });
    expect(s.cachedPlans).toBe(2);
    expect(small).toBeLessThan(large);
    s.run(hidden, { x: feed(128) }); // its need plus both cached plans' buffers is above the cap
    expect(s.cachedPlans).toBeLessThan(3);
    expect(s.cachedPlans).toBeGreaterThanOrEqual(1);
  });
});

test('memoryLimit must be a number of bytes above 0', () => {
  expect(() => new Session(new Graph(), { memoryLimit: 0 })).toThrow(SessionError);
  expect(() => new Session(new Graph(), { memoryLimit: 'big' as unknown as number })).toThrow(
    /memoryLimit is "big" \(a string\); valid: a number of bytes above 0/,
  );
});
