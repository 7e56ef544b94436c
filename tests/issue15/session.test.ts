/**
 * Issue 15, the session's items: re-entrant runs (5), fetch structures that contain themselves (8), option checks
 * (11), fetch keys named `__proto__` (13), flat typed-array feeds (14) and checkGradients' feeds (15).
 */
import {
  add,
  checkGradients,
  Fetch,
  Graph,
  GraphError,
  mul,
  NDArray,
  Session,
  SessionError,
  SessionOptions,
  sessionKernels,
  ShapeError,
  sum,
  Tensor,
} from '../../src';

/** A typed array whose `onRead` runs when element 0 is read for the `nth` time (as a kernel reads it). */
function readHook(data: Float32Array, nth: number, onRead: () => void): Float32Array {
  let reads = 0;
  return new Proxy(data, {
    get(target, key) {
      if (key === '0' && ++reads === nth) onRead();
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('a session used during its own run (item 5)', () => {
  // y = 2x + x in two steps (no fusion), so the second step reads x while the first step's buffer is live.
  function twoSteps(backend: 'js' | 'wasm'): { g: Graph; x: Tensor; y: Tensor; sess: Session } {
    const g = new Graph();
    const x = g.placeholder('x', [4]);
    const y = add(mul(x, 2), x);
    return { g, x, y, sess: new Session(g, { backend, optimize: { disable: ['fuse'] } }) };
  }

  for (const backend of ['js', 'wasm'] as const) {
    test(`a run started from a feed's getter throws a SessionError and the outer run is right (${backend})`, () => {
      const { y, sess } = twoSteps(backend);
      sess.run(y, { x: new Float32Array(4) });
      let nested: unknown = null;
      const feed = readHook(new Float32Array([1, 2, 3, 4]), 2, () => {
        try {
          sess.run(y, { x: new Float32Array([10, 20, 30, 40]) });
        } catch (error) {
          nested = error;
        }
      });
      expect(sess.run(y, { x: feed }).toArray()).toEqual([3, 6, 9, 12]);
      expect(nested).toBeInstanceOf(SessionError);
      expect(String(nested)).toMatch(/Session\.run was called during a run of the same session/);
      // The session still works afterwards.
      expect(sess.run(y, { x: [1, 1, 1, 1] }).toArray()).toEqual([3, 3, 3, 3]);
    });
  }

  test('a wasm run started inside a step of another wasm session throws; both give right numbers', () => {
    const { y, sess } = twoSteps('wasm');
    const other = twoSteps('wasm');
    let nested: unknown = null;
    const feed = readHook(new Float32Array([1, 2, 3, 4]), 2, () => {
      try {
        other.sess.run(other.y, { x: new Float32Array([10, 20, 30, 40]) });
      } catch (error) {
        nested = error;
      }
    });
    expect(sess.run(y, { x: feed }).toArray()).toEqual([3, 6, 9, 12]);
    expect(nested).toBeInstanceOf(SessionError);
    expect(String(nested)).toMatch(/during a step of another session that shares the WebAssembly kernels/);
    expect(other.sess.run(other.y, { x: [1, 2, 3, 4] }).toArray()).toEqual([3, 6, 9, 12]);
  });

  test('dispose, restore and variableValue during a run throw; explain and reading values work', () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([1, 2, 3, 4]));
    const x = g.placeholder('x', [4]);
    const y = add(mul(x, w), x);
    const sess = new Session(g, { optimize: { disable: ['fuse'] } });
    const bytes = sess.serializeVariables();
    const outcomes: string[] = [];
    const attempt = (what: string, call: () => unknown): void => {
      try {
        call();
        outcomes.push(`${what}: ok`);
      } catch (error) {
        outcomes.push(`${what}: ${(error as Error).name}`);
      }
    };
    const feed = readHook(new Float32Array([1, 1, 1, 1]), 2, () => {
      attempt('dispose', () => sess.dispose());
      attempt('restoreVariables', () => sess.restoreVariables(bytes));
      attempt('variableValue', () => sess.variableValue(w));
      attempt('explain', () => sess.explain(y));
      attempt('variableValues', () => sess.variableValues());
    });
    expect(sess.run(y, { x: feed }).toArray()).toEqual([2, 3, 4, 5]);
    expect(outcomes).toEqual([
      'dispose: SessionError',
      'restoreVariables: SessionError',
      'variableValue: SessionError',
      'explain: ok',
      'variableValues: ok',
    ]);
  });

  test('a run from an onTrace callback throws a SessionError; the outer run still returns its result', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const y = mul(x, 3);
    const sess = new Session(g);
    let nested: unknown = null;
    const out = sess.run(
      y,
      { x: [1, 2] },
      {
        onTrace: () => {
          try {
            sess.run(y, { x: [5, 5] });
          } catch (error) {
            nested = error;
          }
        },
      },
    );
    expect(out.toArray()).toEqual([3, 6]);
    expect(nested).toBeInstanceOf(SessionError);
  });
});

describe('fetch structures (items 8 and 13)', () => {
  // A structure that contains itself has no finite FetchResult type: run it untyped.
  const runUntyped = (g: Graph, fetches: unknown): unknown => new Session(g).run(fetches as Tensor);

  test('an array that contains itself is a GraphError naming the path, not a crash', () => {
    const g = new Graph();
    const x = g.constant([1, 2]);
    const fetches: Fetch[] = [x];
    fetches.push(fetches);
    expect(() => runUntyped(g, fetches)).toThrow(GraphError);
    expect(() => runUntyped(g, fetches)).toThrow(/contains itself: fetches\[1\] is fetches/);
  });

  test('an object that contains itself deep down is a GraphError naming the path', () => {
    const g = new Graph();
    const x = g.constant([1, 2]);
    const inner: { [key: string]: Fetch } = { x };
    const fetches = { a: { b: [inner] } };
    inner.back = fetches;
    expect(() => runUntyped(g, fetches)).toThrow(/contains itself: fetches\.a\.b\[0\]\.back is fetches/);
  });

  test('a shared (not cyclic) sub-structure is fetched twice', () => {
    const g = new Graph();
    const x = g.constant([1, 2]);
    const shared = { x };
    const out = new Session(g).run({ a: shared, b: [shared, shared] });
    expect(out.a.x.toArray()).toEqual([1, 2]);
    expect(out.b[1].x.toArray()).toEqual([1, 2]);
  });

  test('a fetch structure nested 100,000 deep runs (no recursion)', () => {
    const g = new Graph();
    const x = g.constant([1, 2]);
    let fetches: unknown = x;
    for (let i = 0; i < 100_000; i++) fetches = [fetches];
    // Typed as one Tensor only to keep the compiler from expanding FetchResult 100,000 levels deep.
    let out: unknown = new Session(g).run(fetches as Tensor);
    for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
    expect((out as NDArray).toArray()).toEqual([1, 2]);
  });

  test('a getter in a fetch object is read once, so the result matches what was fetched', () => {
    const g = new Graph();
    const a = g.constant([1]);
    const b = g.constant([2]);
    let reads = 0;
    const fetches = {
      get y(): Tensor {
        reads++;
        return reads === 1 ? a : b;
      },
    };
    expect(new Session(g).run(fetches).y.toArray()).toEqual([1]);
    expect(reads).toBe(1);
  });

  test('an own __proto__ key of a fetch object is kept as an own key of the result', () => {
    const g = new Graph();
    const x = g.constant([1, 2]);
    const y = g.constant([3]);
    const fetches = JSON.parse('{"__proto__": 0, "plain": 1}') as { [key: string]: unknown };
    fetches.plain = y;
    Object.defineProperty(fetches, '__proto__', { value: x, enumerable: true, writable: true, configurable: true });
    const out: object = new Session(g).run(fetches as { [key: string]: Tensor });
    expect(Object.keys(out)).toEqual(['__proto__', 'plain']);
    expect((Object.getOwnPropertyDescriptor(out, '__proto__')?.value as NDArray).toArray()).toEqual([1, 2]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe('session options (item 11)', () => {
  const g = new Graph();
  const bad: [string, unknown, RegExp][] = [
    ['threads 3', { threads: 3 }, /threads.*3.*valid: 1 or 2/],
    ['threads 0', { threads: 0 }, /threads.*valid: 1 or 2/],
    ["threads '2'", { threads: '2' }, /threads.*"2".*valid: 1 or 2/],
    ['threads 1.5', { threads: 1.5 }, /threads.*1\.5.*valid: 1 or 2/],
    ["backend 'evil'", { backend: 'evil' }, /backend.*"evil".*valid: 'wasm', 'js' or 'onnxruntime'/],
    ['level 99', { optimize: { level: 99 } }, /optimize\.level.*99.*valid: 0, 1 or 2/],
    [
      'an unknown pass',
      { optimize: { disable: ['cse', 'nope'] } },
      /optimize\.disable is \["cse","nope"\]; valid: an array of pass names: 'fold'.*'fuse' \("nope" is not one\)/,
    ],
    ['disable not an array', { optimize: { disable: 'cse' } }, /optimize\.disable.*an array of pass names/],
    [
      'an unknown optimize key',
      { optimize: { levle: 1 } },
      /unknown option 'optimize\.levle'; valid: level, disable, verify/,
    ],
    ['optimize a number', { optimize: 2 }, /optimize.*2.*true, false or/],
    ['an unknown key', { threadz: 2 }, /unknown option 'threadz'.*valid:.*threads/],
    ['checkNumerics a string', { checkNumerics: 'yes' }, /checkNumerics.*"yes".*true or false/],
    ['null', null, /options must be an object.*got null/],
    ['an array', [], /options must be an object.*got \[\]/],
  ];
  for (const [what, options, message] of bad) {
    test(`new Session refuses ${what} with a SessionError saying what is valid`, () => {
      const make = (): Session => new Session(g, options as SessionOptions);
      expect(make).toThrow(SessionError);
      expect(make).toThrow(message);
    });
  }

  test('sessionKernels refuses a thread count or backend other than the valid ones (no extra memory)', () => {
    expect(() => sessionKernels('wasm', 3 as 2)).toThrow(/threads is 3; valid: 1 or 2/);
    expect(() => sessionKernels('evil' as 'js')).toThrow(SessionError);
  });

  test('new Session refuses a first argument that is not a Graph', () => {
    expect(() => new Session({} as Graph)).toThrow(SessionError);
    expect(() => new Session(undefined as unknown as Graph)).toThrow(/expected a Graph, got undefined/);
  });

  test('valid options are accepted (undefined values mean the default)', () => {
    const x = g.placeholder('x', [1]);
    const options: SessionOptions[] = [
      {},
      { threads: 2, backend: 'js', checkNumerics: true },
      { optimize: false, backend: undefined },
      { optimize: { level: 1, disable: ['cse'], verify: true } },
    ];
    for (const o of options) expect(new Session(g, o).run(mul(x, 2), { x: [2] }).toArray()).toEqual([4]);
  });

  test('run options are checked too', () => {
    const sess = new Session(g);
    const y = g.constant([1]);
    expect(() => sess.run(y, undefined, { trace: 1 } as never)).toThrow(/run option trace.*1.*true or false/);
    expect(() => sess.run(y, undefined, { ontrace: () => {} } as never)).toThrow(
      /unknown run option 'ontrace'.*valid: checkNumerics, trace, onTrace/,
    );
    expect(() => sess.run(y, undefined, null as never)).toThrow(SessionError);
  });
});

describe('flat typed-array feeds (item 14)', () => {
  test('a flat typed array for a placeholder with unknown dims of rank > 1 says it needs a shape', () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const run = (): NDArray => new Session(g).run(x, { x: new Float32Array(6) });
    expect(run).toThrow(ShapeError);
    expect(run).toThrow(/'x'.*\[\?, 3\].*flat Float32Array of 6 elements.*needs a shape: new NDArray\(data, shape\)/);
  });

  test('a Float64Array for a float32 placeholder of known shape is converted and shaped as the placeholder', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    const out = new Session(g).run(mul(x, 2), { x: new Float64Array([1, 2, 3, 4, 5, 6]) });
    expect(out.dtype).toBe('float32');
    expect(out.toArray()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
  });

  test('a Float64Array for a [?, 3] float32 placeholder names its type and asks for a shape', () => {
    const g = new Graph();
    g.placeholder('x', [null, 3]);
    const run = (): unknown => new Session(g).run(g.byName('x') as Tensor, { x: new Float64Array(6) });
    expect(run).toThrow(/flat Float64Array of 6 elements \(float64, converted to float32\).*new NDArray/);
  });

  test('a flat typed array of another size than a known placeholder says both sizes', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3]);
    expect(() => new Session(g).run(x, { x: new Float32Array(5) })).toThrow(/5 elements.*\[2, 3\] holds 6/);
  });

  test('a flat typed array fills a rank-1 placeholder of any length, and a shaped NDArray any placeholder', () => {
    const g = new Graph();
    const v = g.placeholder('v', [null]);
    const m = g.placeholder('m', [null, 3]);
    const sess = new Session(g);
    expect(sess.run(v, { v: new Float32Array([1, 2]) }).toArray()).toEqual([1, 2]);
    expect(sess.run(m, { m: new NDArray(new Float32Array(6), [2, 3]) }).shape).toEqual([2, 3]);
  });
});

describe('checkGradients feeds (item 15)', () => {
  test('accepts feeds as an object keyed by name', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const w = g.variable('w', NDArray.from([3, 4], 'float64'));
    const result = checkGradients(sum(mul(mul(x, w), w)), [w], { x: [1, 2] });
    expect(result.ok).toBe(true);
    expect(result.analytic[0].toArray()).toEqual([6, 16]);
  });

  test('a variable without a feed is checked at its initial value, or at its current value in a given session', () => {
    const g = new Graph();
    const w = g.variable('w', NDArray.from([1, 2], 'float64'));
    const y = sum(mul(w, w));
    expect(checkGradients(y, [w]).analytic[0].toArray()).toEqual([2, 4]);
    const sess = new Session(g);
    sess.restoreVariables(new Session(g).serializeVariables());
    const trained = new Graph();
    const v = trained.variable('w', NDArray.from([5, 7], 'float64'));
    sess.restoreVariables(new Session(trained).serializeVariables());
    expect(v.id).toBe(w.id);
    const result = checkGradients(y, [w], undefined, { session: sess });
    expect(result.ok).toBe(true);
    expect(result.analytic[0].toArray()).toEqual([10, 14]);
  });

  test('a placeholder x without a feed is a FeedError naming it', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    expect(() => checkGradients(sum(mul(x, x)), [x], {})).toThrow(/'x' has no value/);
  });

  test('a Map keyed by tensor still works', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    const r = checkGradients(sum(mul(x, x)), [x], new Map([[x, NDArray.from([1, 2], 'float64')]]));
    expect(r.analytic[0].toArray()).toEqual([2, 4]);
  });
});
