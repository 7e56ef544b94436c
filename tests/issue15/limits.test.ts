/**
 * Issue 15, item 9: every value a session allocates for a run is checked against the session's limit (maxBytes,
 * default 1 GiB) before anything is allocated: a fed shape that makes a step's output too large is a
 * ResourceExhaustedError naming the node, op, shape and limit. Constant folding never folds above its own cap.
 * The limits in these tests are small, so nothing large is allocated even when a check is missing.
 */
import {
  DEFAULT_MAX_BYTES,
  graphToJSON,
  Graph,
  loadGraph,
  mul,
  neg,
  optimize,
  ResourceExhaustedError,
  Session,
  sum,
  tile,
} from '../../src';

describe('a session refuses a step output above its maxBytes before allocating', () => {
  test('a placeholder [null] tiled 2^16 times, fed 4 numbers, is refused with a 512 KiB limit', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null]);
    const y = sum(tile(x, [2 ** 16]));
    for (const backend of ['js', 'wasm'] as const) {
      const sess = new Session(g, { maxBytes: 512 * 1024, backend });
      const run = (): unknown => sess.run(y, { x: [1, 2, 3, 4] });
      expect(run).toThrow(ResourceExhaustedError);
      expect(run).toThrow(
        /Session\.run: tile 'tile': a float32\[262144\] value \(262144 elements, 1 MiB\) is above the limit of 512 KiB/,
      );
      expect(run).toThrow(/new Session\(g, \{ maxBytes \}\)/);
      // A smaller feed fits, and the session is still usable.
      expect(sess.run(y, { x: [1] }).get()).toBe(2 ** 16);
    }
  });

  test('the same graph runs under the default limit of 1 GiB', () => {
    expect(DEFAULT_MAX_BYTES).toBe(2 ** 30);
    const g = new Graph();
    const x = g.placeholder('x', [null]);
    expect(new Session(g).run(sum(tile(x, [2 ** 16])), { x: [1, 2, 3, 4] }).get()).toBe(10 * 2 ** 16);
  });

  test('the reused buffers of a plan are checked together (one arena block with the wasm backend)', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null]);
    // Two live intermediates of 16 KiB each: every one fits a 24 KiB limit, the two together do not.
    const a = tile(x, [4096]);
    const b = tile(neg(x), [4096]);
    const y = sum(mul(a, b));
    const run = (backend: 'js' | 'wasm'): unknown =>
      new Session(g, { maxBytes: 24 * 1024, backend }).run(y, { x: [1] });
    expect(() => run('js')).toThrow(/reused buffers/);
    expect(() => run('wasm')).toThrow(ResourceExhaustedError);
    expect(new Session(g, { maxBytes: 64 * 1024 }).run(y, { x: [2] }).get()).toBe(-4 * 4096);
  });

  test('maxBytes must be a positive number', () => {
    const g = new Graph();
    expect(() => new Session(g, { maxBytes: -1 })).toThrow(/maxBytes/);
    expect(() => new Session(g, { maxBytes: '1' as unknown as number })).toThrow(/maxBytes/);
  });
});

describe('a small JSON file with tile nodes', () => {
  /** A file of a few hundred bytes whose tiles, run or folded, would take 2^28 elements each. */
  function tileFile(): string {
    const g = new Graph();
    const c = g.constant([1, 2, 3, 4]);
    const t = tile(tile(c, [2 ** 13]), [2 ** 13]);
    sum(t);
    return JSON.stringify(graphToJSON(g));
  }

  test('is refused by the session limit when run', () => {
    const text = tileFile();
    expect(text.length).toBeLessThan(2000);
    const g = loadGraph(text);
    const out = g.tensor(g.size - 1);
    const run = (): unknown => new Session(g, { maxBytes: 1024 * 1024 }).run(out);
    expect(run).toThrow(ResourceExhaustedError);
    expect(run).toThrow(/tile 'tile_1': a float32\[268435456\]/);
  });

  test('is not folded by optimize (the fold cap is checked before the kernel allocates)', () => {
    const g = loadGraph(tileFile());
    const before = process.memoryUsage().arrayBuffers;
    const result = optimize(g, [g.tensor(g.size - 1)]);
    expect(result.graph.nodes.map((n) => n.op)).toEqual(['constant', 'tile', 'sum']);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });
});
