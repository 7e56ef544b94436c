/**
 * Every row of docs/errors.md has a case here (by its id): the case triggers the situation the row describes and
 * checks the class and the parts of the message that make it helpful. A test also parses the table, so a row
 * without a case, or a class that is not exported, fails.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as lazygrad from '../src';
import {
  add,
  broadcastTo,
  cast,
  CheckpointError,
  decodeSafetensors,
  evaluateConstant,
  DTypeError,
  FeedError,
  gather,
  gradients,
  Graph,
  GraphError,
  LazygradError,
  log,
  matMul,
  mul,
  NDArray,
  NumericsError,
  ResourceExhaustedError,
  RuntimeError,
  Session,
  SessionError,
  ShapeError,
  squeeze,
  sub,
  sum,
  tile,
  zeros,
} from '../src';
import { parseArgs, UsageError } from '../src/cli/args';
import { onnx } from 'onnx-proto';

type ErrorClass = abstract new (...args: never[]) => Error;

interface Case {
  readonly errorClass: ErrorClass;
  readonly trigger: () => unknown;
  /** Substrings the message must contain. */
  readonly says: readonly string[];
  /** The row is about a base class: the error thrown is one of its subclasses. */
  readonly base?: true;
}

const CASES: { readonly [id: string]: Case } = {
  'shape-build': {
    errorClass: ShapeError,
    trigger: () => {
      const g = new Graph();
      matMul(g.placeholder('a', [2, 3]), g.placeholder('b', [4, 5]));
    },
    says: ['matMul', "'a' float32[2, 3]", "'b' float32[4, 5]"],
  },
  'shape-feed': {
    errorClass: ShapeError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [null, 3]);
      new Session(g).run(mul(x, 2), { x: [[1, 2]] });
    },
    says: ["placeholder 'x'", 'has shape [1, 2]', 'expected [?, 3]'],
  },
  // issue 15 (shapes): squeeze without axes, a gradY's shape, a dim known only when fed
  'shape-squeeze-unknown': {
    errorClass: ShapeError,
    trigger: () => {
      const g = new Graph();
      squeeze(g.placeholder('x', [null, 3, 1]));
    },
    says: ["squeeze: 'x' [?, 3, 1] has unknown dims (axis 0)", 'pass the axes', 'squeeze(x, [0, 2])'],
  },
  'shape-grad-y': {
    errorClass: ShapeError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [2, 3]);
      gradients(mul(x, 2), [x], [g.placeholder('dy', [1, 3])]);
    },
    says: ["gradY 'dy' is float32[1, 3]", "y 'mul' is float32[2, 3]", 'not broadcast'],
  },
  'shape-fed-dims': {
    errorClass: ShapeError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [null, 3]);
      new Session(g).run(broadcastTo(x, [1, 3]), {
        x: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      });
    },
    says: ['Session.run: with the fed shapes', "'x' float32[2, 3]", 'cannot broadcast [2, 3] to [1, 3]'],
  },
  'dtype-build': {
    errorClass: DTypeError,
    trigger: () => {
      const g = new Graph();
      add(g.placeholder('a', [2]), g.placeholder('i', [2], 'int32'));
    },
    says: ['add', 'float32', 'int32'],
  },
  'dtype-feed': {
    errorClass: DTypeError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [2]);
      new Session(g).run(mul(x, 2), { x: NDArray.from([1, 2], 'int32') });
    },
    says: ["placeholder 'x'", 'is int32, expected float32', "astype('float32')"],
  },
  'feed-missing': {
    errorClass: FeedError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [null, 3]);
      new Session(g).run(mul(x, 2));
    },
    says: ["placeholder 'x'", 'float32[?, 3]', "fetch 'mul'"],
  },
  'feed-unknown': {
    errorClass: FeedError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x');
      new Session(g).run(mul(x, 2), { xx: 1 });
    },
    says: ["feed 'xx' names no node", "placeholders are 'x'"],
  },
  'graph-two-graphs': {
    errorClass: GraphError,
    trigger: () => add(new Graph().placeholder('a'), new Graph().placeholder('b')),
    says: ['different graph'],
  },
  'onnx-op-version': {
    errorClass: GraphError,
    trigger: () => {
      const input = { name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } };
      const graph = { node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'], name: 'sum' }], input: [input] };
      const model = {
        irVersion: 3,
        opsetImport: [{ domain: '', version: 6 }],
        graph: { ...graph, output: [{ name: 'y' }] },
      };
      lazygrad.importOnnx(onnx.ModelProto.encode(model).finish());
    },
    says: ["node 'sum' (Add)", 'Add version 6', 'opset 6', 'from version 7'],
  },
  'onnx-annotation': {
    errorClass: GraphError,
    trigger: () => {
      const g = new Graph();
      const y = lazygrad.relu(g.placeholder('x', [2]));
      const model = onnx.ModelProto.decode(lazygrad.exportOnnx(g, { outputs: { y } }));
      (model.graph?.node?.[0] as onnx.NodeProto).docString = 'lazygrad:{"op":"neg","attrs":{},"inputs":["x"]}';
      lazygrad.importOnnx(onnx.ModelProto.encode(model).finish());
    },
    says: ["node 'relu' (Relu)", "annotation op 'neg'", 'Neg', 'Relu'],
  },
  'graph-duplicate-name': {
    errorClass: GraphError,
    trigger: () => {
      const g = new Graph();
      g.placeholder('x');
      g.placeholder('x');
    },
    says: ["'x'"],
  },
  'runtime-kernel': {
    errorClass: RuntimeError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [3]);
      const i = g.placeholder('i', [2], 'int32');
      new Session(g).run(gather(x, i), { x: [1, 2, 3], i: NDArray.from([0, 7], 'int32') });
    },
    says: [
      "gather 'gather' failed on inputs",
      'int32[2]',
      'indices[1] = 7 is out of range',
      'valid indices are 0 to 2',
    ],
  },
  'numerics-step': {
    errorClass: NumericsError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [2, 2]);
      new Session(g, { checkNumerics: true, optimize: false }).run(log(sub(x, 1)), {
        x: [
          [2, 3],
          [0.5, 4],
        ],
      });
    },
    says: ["log 'log'", "'sub' float32[2, 2]", 'NaN at index 2 [1, 0]'],
  },
  'numerics-fused': {
    errorClass: NumericsError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [2, 2]);
      const y = mul(log(sub(x, 1)), 3);
      new Session(g, { checkNumerics: true, backend: 'js' }).run(y, {
        x: [
          [2, 3],
          [0.5, 4],
        ],
      });
    },
    says: ["fused 'mul'", 'the original op is log', 'from (-0.5)'],
  },
  'numerics-input': {
    errorClass: NumericsError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [2]);
      new Session(g, { checkNumerics: true }).run(mul(x, 2), { x: [1, NaN] });
    },
    says: ['input was already non-finite', "placeholder 'x' holds NaN at index 1 [1]"],
  },
  'numerics-region': {
    errorClass: NumericsError,
    trigger: () => {
      const g = new Graph();
      const xs = g.placeholder('xs', [3, 2]);
      const [last] = lazygrad.scan(
        (h: lazygrad.Tensor, x: lazygrad.Tensor) => [add(h, log(x)), null],
        g.constant([0, 0]),
        xs,
        {
          name: 'rnn',
        },
      );
      new Session(g, { checkNumerics: true, optimize: false }).run(last as lazygrad.Tensor, {
        xs: [
          [1, 2],
          [3, -4],
          [5, 6],
        ],
      });
    },
    says: ["scan 'rnn/carry:0', step 1: Session.run (checkNumerics): log 'log'", 'produced NaN at index 1'],
  },
  'checkpoint-mismatch': {
    errorClass: CheckpointError,
    trigger: () => {
      const a = new Graph();
      a.variable('w', NDArray.from([1, 2]));
      const b = new Graph();
      b.variable('w', NDArray.from([1, 2, 3]));
      new Session(b).restoreVariables(new Session(a).serializeVariables());
    },
    says: ["'w'", '[2]', '[3]'],
  },
  'checkpoint-truncated': {
    errorClass: CheckpointError,
    trigger: () => {
      const g = new Graph();
      g.variable('w', NDArray.from([1, 2]));
      const bytes = new Session(g).serializeVariables();
      new Session(g).restoreVariables(bytes.subarray(0, 5));
    },
    says: ['5 bytes', '8-byte header length'],
  },
  'dtype-int-range': {
    errorClass: DTypeError,
    trigger: () => new Graph().constant([1, 2 ** 31], 'int32', 'c'),
    says: ["constant 'c'", 'int32 value 2147483648 at index 1', '-2147483648 to 2147483647'],
  },
  'runtime-memory-limit': {
    errorClass: RuntimeError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [null]);
      new Session(g, { memoryLimit: 1024 }).run(sum(tile(x, [1024])), { x: [1, 2, 3, 4] });
    },
    says: ["the plan for 'sum'", 'reused buffers', 'results 4 B', 'memoryLimit of 1 KiB (1024 bytes)', 'at least'],
  },
  'runtime-stale-view': {
    errorClass: RuntimeError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [3]);
      const s = new Session(g);
      const view = s.run(x.mul(2), { x: [1, 2, 3] }, { copy: false });
      s.run(x.mul(2), { x: [4, 5, 6] });
      return view.data;
    },
    says: ['{ copy: false }', 'valid until the session’s next run or dispose()', 'clone()'],
  },
  'resource-run': {
    errorClass: ResourceExhaustedError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [null]);
      new Session(g, { maxBytes: 2 ** 20 }).run(sum(tile(x, [2 ** 30])), { x: [1, 2, 3, 4] });
    },
    says: ["tile 'tile'", 'float32[4294967296]', '16 GiB', 'limit of 1 MiB', 'new Session(g, { maxBytes })'],
  },
  'resource-build': {
    errorClass: ResourceExhaustedError,
    trigger: () => zeros([1e6, 1e6], new Graph()),
    says: ['zeros', 'float32[1000000, 1000000]', 'limit of 1 GiB'],
  },
  'runtime-evaluate': {
    errorClass: RuntimeError,
    trigger: () => {
      const g = new Graph();
      evaluateConstant(gather(g.constant([1, 2, 3]), g.constant([0, 7], 'int32')));
    },
    says: ["gather 'gather'", 'int32[2]', 'indices[1] = 7 is out of range'],
  },
  'checkpoint-not-bytes': {
    errorClass: CheckpointError,
    trigger: () => decodeSafetensors(new ArrayBuffer(8) as unknown as Uint8Array),
    says: ['Uint8Array', 'got an ArrayBuffer', 'new Uint8Array(buffer)'],
  },
  // Issue 15, the session's rows: flat typed-array feeds, fetch cycles, session options and re-entry.
  'shape-flat-feed': {
    errorClass: ShapeError,
    trigger: () => {
      const g = new Graph();
      g.placeholder('x', [null, 3]);
      new Session(g).run(g.byName('x') as lazygrad.Tensor, { x: new Float32Array(6) });
    },
    says: ["placeholder 'x'", 'float32[?, 3]', 'flat Float32Array of 6 elements', 'new NDArray(data, shape)'],
  },
  'graph-fetch-cycle': {
    errorClass: GraphError,
    trigger: () => {
      const g = new Graph();
      const fetches: unknown[] = [g.constant(1)];
      fetches.push({ again: fetches });
      new Session(g).run(fetches as unknown as lazygrad.Tensor);
    },
    says: ['contains itself', 'fetches[1].again is fetches'],
  },
  'session-options': {
    errorClass: SessionError,
    trigger: () => new Session(new Graph(), { threads: 3 as 2 }),
    says: ['option threads is 3', 'valid: 1 or 2'],
  },
  'session-onnxruntime': {
    errorClass: SessionError,
    trigger: () => {
      const g = new Graph();
      new Session(g, { backend: 'onnxruntime' }).run(g.constant(1));
    },
    says: ["backend 'onnxruntime' runs asynchronously", 'await sess.runAsync(fetches, feeds, options)'],
  },
  'session-reentry': {
    errorClass: SessionError,
    trigger: () => {
      const g = new Graph();
      const x = g.placeholder('x', [1]);
      const sess = new Session(g);
      const feed = {
        get x(): number[] {
          sess.dispose();
          return [1];
        },
      };
      sess.run(mul(x, 2), feed);
    },
    says: ['Session.dispose was called during a run of the same session'],
  },
  'usage-flag': {
    errorClass: UsageError,
    trigger: () =>
      parseArgs(
        {
          name: 'train',
          summary: 'trains',
          positionals: [],
          flags: [{ name: 'epochs', kind: 'integer', description: 'passes', default: 1 }],
        },
        ['--epoch=3'],
      ),
    says: ['--epoch', '--epochs'],
  },
  'graph-name-limit': {
    errorClass: GraphError,
    trigger: () => new Graph().placeholder(''),
    says: ['placeholder', 'must not be empty'],
  },
  'shape-rank-limit': {
    errorClass: ShapeError,
    trigger: () => new Graph().placeholder('x', new Array<number>(65).fill(1)),
    says: ["placeholder 'x'", 'rank 65', 'at most 64'],
  },
  'graph-fused-steps': {
    errorClass: GraphError,
    trigger: () => {
      const g = new Graph();
      const steps = [{ op: 'add', args: [{ input: 0 }] }];
      lazygrad.addOp(g, lazygrad.opRecord('fused'), [g.placeholder('y', [2]).id], { steps, dtype: 'float32' });
    },
    says: ["fused 'fused'", 'step 0 (add) has 1 argument', 'add takes 2'],
  },

  'lazygrad-base': {
    errorClass: LazygradError,
    trigger: () => {
      const g = new Graph();
      cast(g.placeholder('x', [2]), 'float16' as 'float32');
    },
    says: ["cast 'cast'", "unknown target dtype 'float16'"],
    base: true,
  },
};

function thrown(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** The table rows of docs/errors.md: `| Class | id | situation | example |`. */
function docRows(): { className: string; id: string }[] {
  const text = fs.readFileSync(path.join(__dirname, '..', 'docs', 'errors.md'), 'utf8');
  const rows: { className: string; id: string }[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^`\w+`$/.test(cells[1]) || !/^`[a-z-]+`$/.test(cells[2])) continue;
    rows.push({ className: cells[1].slice(1, -1), id: cells[2].slice(1, -1) });
  }
  return rows;
}

describe('docs/errors.md', () => {
  for (const [id, c] of Object.entries(CASES)) {
    test(`case ${id} throws ${c.errorClass.name} with a helpful message`, () => {
      const e = thrown(c.trigger);
      expect(e).toBeInstanceOf(c.errorClass);
      if (c.base === undefined) expect(e.name).toBe(c.errorClass.name);
      for (const part of c.says) expect(e.message).toContain(part);
    });
  }

  test('every row names an exported error class and a case id that has a test', () => {
    const rows = docRows();
    expect(rows.length).toBeGreaterThan(0);
    const exported = lazygrad as unknown as { [name: string]: unknown };
    for (const { className, id } of rows) {
      expect(CASES[id]).toBeDefined();
      expect(CASES[id].errorClass.name).toBe(className);
      if (className !== 'UsageError') expect(exported[className]).toBe(CASES[id].errorClass);
    }
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(Object.keys(CASES)));
  });

  test('every exported error class has a row', () => {
    const exported = Object.entries(lazygrad as unknown as { [name: string]: unknown })
      .filter(([, v]) => typeof v === 'function' && (v as { prototype: unknown }).prototype instanceof Error)
      .map(([name]) => name);
    const documented = new Set(docRows().map((r) => r.className));
    for (const name of exported) expect(documented).toContain(name);
  });

  test('every lazygrad error class extends LazygradError', () => {
    for (const C of [
      ShapeError,
      DTypeError,
      FeedError,
      GraphError,
      RuntimeError,
      NumericsError,
      CheckpointError,
      ResourceExhaustedError,
      SessionError,
    ]) {
      expect(new C('m')).toBeInstanceOf(LazygradError);
    }
  });

  test('print the messages (for the doc)', () => {
    if (process.env.PRINT_ERRORS !== '1') return;
    for (const [id, c] of Object.entries(CASES)) console.log(`${id}\t${thrown(c.trigger).message}`);
  });
});
