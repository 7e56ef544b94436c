/**
 * Hostile inputs for the loaders: mutated and truncated JSON graphs, ONNX models and safetensors checkpoints. Each
 * is loaded or rejected with a LazygradError (CheckpointError for checkpoints); nothing hangs, a failed restore
 * changes no variable, and a small input cannot make a loader allocate a huge tensor.
 */
import fc from 'fast-check';
import { onnx } from 'onnx-proto';
import {
  CheckpointError,
  decodeSafetensors,
  exportOnnx,
  Graph,
  graphFromJSON,
  graphToJSON,
  importOnnx,
  LazygradError,
  loadGraph,
  NDArray,
  RuntimeError,
  serializeGraph,
  Session,
  Tensor,
} from '../../src';
import { controlGraph } from '../control/graphs';
import { manyOpsGraph, mlpGraph } from '../interop/graphs';

/** Most a single hostile case may take: the loaders validate before they allocate or loop. */
const CASE_MS = 2000;
const HEAP_JUMP = 200 * 2 ** 20;

/**
 * Runs one load, checks its time and heap growth, and returns the error (null when it loaded). Any error that is
 * not a LazygradError (of `expected`'s class) fails the test with the error's stack.
 */
function attempt(what: string, load: () => unknown, expected: typeof LazygradError = LazygradError): Error | null {
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  let error: Error | null = null;
  try {
    load();
  } catch (e) {
    error = e as Error;
  }
  const elapsed = performance.now() - start;
  const grown = process.memoryUsage().heapUsed - heapBefore;
  if (error !== null && !(error instanceof expected)) {
    throw new Error(`${what}: threw ${error.name} (not a ${expected.name}): ${error.message}\n${error.stack}`);
  }
  if (elapsed > CASE_MS) throw new Error(`${what}: took ${elapsed.toFixed(0)} ms`);
  if (grown > HEAP_JUMP) throw new Error(`${what}: the heap grew by ${(grown / 2 ** 20).toFixed(0)} MB`);
  return error;
}

/** Values a hostile file might put anywhere. */
const HOSTILE: readonly unknown[] = [
  null,
  -1,
  0,
  1.5,
  1e9,
  2 ** 31,
  2 ** 53,
  -0,
  'x',
  '',
  true,
  [],
  {},
  [1e9, 1e9],
  [2 ** 20, 2 ** 20, 2 ** 20],
  [-1],
  [null],
  [[0]],
  { encoding: 'base64', data: 'AAAA' },
  { encoding: 'inline', data: [] },
  JSON.parse('{"__proto__": {"polluted": 1}}') as unknown,
  'constructor',
  '__proto__',
];

/** Every path (list of keys) to a value inside a JSON value, parents before children. */
function paths(
  value: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  }
  return out;
}

/** A deep copy of `root` with the value at `path` replaced (or, for 'delete', removed). */
function mutate(root: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(root)) as unknown;
  if (path.length === 0) return replacement;
  let parent = copy as { [key: string]: unknown };
  for (const key of path.slice(0, -1)) parent = parent[key] as { [key: string]: unknown };
  const last = path[path.length - 1];
  if (replacement === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = replacement;
  return copy;
}

const jsonText = serializeGraph(manyOpsGraph().graph);
const jsonValue = graphToJSON(manyOpsGraph().graph);
const jsonPaths = paths(jsonValue);

describe('JSON graph loader under hostile input', () => {
  test('a field replaced by a hostile value loads or throws a LazygradError, fast and without a heap jump', () => {
    fc.assert(
      fc.property(fc.nat(jsonPaths.length - 1), fc.nat(HOSTILE.length), (p, h) => {
        const path = jsonPaths[p];
        const replacement = h === HOSTILE.length ? 'delete' : HOSTILE[h];
        attempt(`graphFromJSON with ${path.join('.')} = ${JSON.stringify(replacement)}`, () =>
          graphFromJSON(mutate(jsonValue, path, replacement)),
        );
      }),
      { numRuns: 500, seed: 91 },
    );
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  test('a mutated graph that loads runs or throws a LazygradError, never a crash from inside the engine', () => {
    const built = manyOpsGraph();
    const fetchNames = built.fetches.map((t) => t.name);
    fc.assert(
      fc.property(fc.nat(jsonPaths.length - 1), fc.nat(HOSTILE.length), (p, h) => {
        const path = jsonPaths[p];
        const replacement = h === HOSTILE.length ? 'delete' : HOSTILE[h];
        const what = `a graph with ${path.join('.')} = ${JSON.stringify(replacement)}`;
        let graph: Graph;
        try {
          graph = graphFromJSON(mutate(jsonValue, path, replacement));
        } catch (error) {
          if (error instanceof LazygradError) return;
          throw error;
        }
        const fetches = fetchNames.map((name) => graph.byName(name)).filter((t): t is Tensor => t !== undefined);
        const error = attempt(`running ${what}`, () => new Session(graph, { backend: 'js' }).run(fetches, built.feeds));
        // A kernel failure wrapped as a RuntimeError is still a crash the loader's checks should have prevented.
        if (
          error instanceof RuntimeError &&
          /Cannot read|is not a function|Invalid (typed )?array length/.test(error.message)
        ) {
          throw error;
        }
      }),
      { numRuns: 300, seed: 97 },
    );
  });

  test('a graph with regions (cond, scan, a whileLoop holding a cond) mutated anywhere, inside its regions too, loads and runs or throws a LazygradError', () => {
    const built = controlGraph();
    const fetches = [built.y, built.last, built.ys, built.count, built.acc];
    const feeds = {
      x: NDArray.from([0.5, -0.25], 'float64'),
      W: new NDArray(Float64Array.from([0.3, -0.2, 0.1, 0.4]), [2, 2], 'float64'),
      U: new NDArray(Float64Array.from([0.2, 0.1, -0.3, 0.5]), [2, 2], 'float64'),
      xs: new NDArray(Float64Array.from([1, 2, 0.5, -1, 0, 3, -2, 1]), [4, 1, 2], 'float64'),
    };
    const value = graphToJSON(built.g);
    const regionPaths = paths(value);
    fc.assert(
      fc.property(fc.nat(regionPaths.length - 1), fc.nat(HOSTILE.length), (p, h) => {
        const path = regionPaths[p];
        const replacement = h === HOSTILE.length ? 'delete' : HOSTILE[h];
        const what = `a control-flow graph with ${path.join('.')} = ${JSON.stringify(replacement)}`;
        let graph: Graph | null = null;
        attempt(what, () => (graph = graphFromJSON(mutate(value, path, replacement))));
        if (graph === null) return;
        const loaded: Graph = graph;
        const present = fetches.map((t) => loaded.byName(t.name)).filter((t): t is Tensor => t !== undefined);
        const error = attempt(`running ${what}`, () => new Session(loaded, { backend: 'js' }).run(present, feeds));
        if (
          error instanceof RuntimeError &&
          /Cannot read|is not a function|Invalid (typed )?array length/.test(error.message)
        ) {
          throw error;
        }
      }),
      { numRuns: 400, seed: 171 },
    );
  });

  test('truncated or byte-mutated text loads or throws a LazygradError', () => {
    fc.assert(
      fc.property(
        fc.nat(jsonText.length),
        fc.nat(jsonText.length),
        fc.constantFrom('', '{', ']', '9', '"', '-'),
        (cut, at, c) => {
          attempt(`loadGraph of the first ${cut} characters`, () => loadGraph(jsonText.slice(0, cut)));
          const changed = jsonText.slice(0, at) + c + jsonText.slice(at + 1);
          attempt(`loadGraph with character ${at} = '${c}'`, () => loadGraph(changed));
        },
      ),
      { numRuns: 300, seed: 92 },
    );
  });

  test('a tiny file declaring a huge constant is rejected before allocating it', () => {
    for (const shape of [[1e9], [2 ** 16, 2 ** 16], [2 ** 30, 2 ** 30, 2 ** 30], [2 ** 27]]) {
      const file = {
        format: 'lazygrad.graph',
        version: 1,
        nodes: [
          {
            id: 0,
            op: 'constant',
            name: 'c',
            inputs: [],
            attrs: {},
            dtype: 'float32',
            shape,
            value: { encoding: 'base64', data: 'AAAAAA==' },
          },
        ],
      };
      expect(attempt(`constant of shape [${shape.join(',')}]`, () => graphFromJSON(file))).toBeInstanceOf(
        LazygradError,
      );
    }
  });

  test('deeply nested JSON is rejected with a LazygradError, not a stack overflow', () => {
    const depth = 100_000;
    expect(
      attempt('loadGraph of nested arrays', () => loadGraph('['.repeat(depth) + ']'.repeat(depth))),
    ).toBeInstanceOf(LazygradError);
    let nested: unknown = 0;
    for (let i = 0; i < depth; i++) nested = [nested];
    const file = mutate(jsonValue, ['nodes', 2, 'attrs'], { deep: nested });
    attempt('graphFromJSON with deeply nested attrs', () => graphFromJSON(file));
  });
});

const mlp = mlpGraph(2, null);
const onnxBytes = exportOnnx(mlp.graph, { outputs: { logits: mlp.logits } });
const onnxSchema = onnx.ModelProto;

/** The exported model, decoded, changed by `change`, and encoded again. */
function onnxWith(change: (model: onnx.ModelProto) => void): Uint8Array {
  const model = onnxSchema.decode(onnxBytes);
  change(model);
  return onnxSchema.encode(model).finish();
}

describe('ONNX importer under hostile input', () => {
  test('truncated or byte-mutated models import or throw a LazygradError', () => {
    fc.assert(
      fc.property(fc.nat(onnxBytes.length), fc.nat(onnxBytes.length - 1), fc.nat(255), (cut, at, byte) => {
        attempt(`importOnnx of the first ${cut} bytes`, () => importOnnx(onnxBytes.subarray(0, cut)));
        const changed = onnxBytes.slice();
        changed[at] = byte;
        attempt(`importOnnx with byte ${at} = ${byte}`, () => importOnnx(changed));
      }),
      { numRuns: 300, seed: 93 },
    );
  });

  test('initializers declaring huge or invalid dims are rejected before allocating them', () => {
    for (const dims of [[1e9], [2 ** 16, 2 ** 16], [2 ** 30, 2 ** 30, 2 ** 30], [-1], [2 ** 27]]) {
      const bytes = onnxWith((model) => {
        (model.graph as onnx.GraphProto).initializer[0].dims = dims;
      });
      expect(attempt(`initializer dims [${dims.join(',')}]`, () => importOnnx(bytes))).toBeInstanceOf(LazygradError);
    }
  });

  test('nodes with unknown ops, missing inputs or wrong attributes import or throw a LazygradError', () => {
    const graphOf = (model: onnx.ModelProto): onnx.GraphProto => model.graph as onnx.GraphProto;
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(5),
        fc.constantFrom('Foo', 'Gemm', 'Reshape', 'Concat', 'Gather', 'Softmax', ''),
        (n, kind, opType) => {
          const bytes = onnxWith((model) => {
            const nodes = graphOf(model).node;
            const node = nodes[n % nodes.length];
            if (kind === 0) node.opType = opType;
            else if (kind === 1) node.input = ['nowhere'];
            else if (kind === 2) node.attribute = [onnx.AttributeProto.create({ name: 'axis', type: 2, i: 99 })];
            else if (kind === 3) node.output = [];
            else if (kind === 4) graphOf(model).initializer[n % graphOf(model).initializer.length].dataType = 999;
            else node.docString = 'lazygrad:{"op":"matMul","attrs":{"transposeA":"x"},"inputs":[]}';
          });
          attempt(
            `importOnnx with node ${n % graphOf(onnxSchema.decode(onnxBytes)).node.length} changed (${kind})`,
            () => importOnnx(bytes),
          );
        },
      ),
      { numRuns: 150, seed: 94 },
    );
  });
});

describe('checkpoint restore under hostile input', () => {
  const session = new Session(mlp.graph, { backend: 'js' });
  const good = session.serializeVariables();
  const snapshot = (): NDArray[] => mlp.weights.map((w) => session.variableValue(w));
  const before = snapshot();
  const headerLength = new DataView(good.buffer, good.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + headerLength))) as unknown;
  const headerPaths = paths(header);

  /** safetensors bytes with a replaced header (padded to 8 bytes) and the original data section. */
  function withHeader(value: unknown): Uint8Array {
    let text = JSON.stringify(value) ?? 'null';
    while (text.length % 8 !== 0) text += ' ';
    const encoded = new TextEncoder().encode(text);
    const out = new Uint8Array(8 + encoded.length + good.length - 8 - headerLength);
    new DataView(out.buffer).setUint32(0, encoded.length, true);
    out.set(encoded, 8);
    out.set(good.subarray(8 + headerLength), 8 + encoded.length);
    return out;
  }

  /** Restores `bytes`; a failure must be a CheckpointError that changed nothing. Then puts the good values back. */
  function restoreCase(what: string, bytes: Uint8Array): void {
    const error = attempt(what, () => session.restoreVariables(bytes), CheckpointError);
    if (error !== null) {
      snapshot().forEach((v, i) => {
        if (Buffer.compare(Buffer.from(v.data.buffer), Buffer.from(before[i].data.buffer)) !== 0) {
          throw new Error(`${what}: the failed restore changed '${mlp.weights[i].name}'`);
        }
      });
    }
    session.restoreVariables(good);
  }

  test('truncated or byte-mutated checkpoints restore or throw a CheckpointError that changes nothing', () => {
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.nat(8 + headerLength), fc.nat(255), (cut, at, byte) => {
        restoreCase(`restore of the first ${cut} bytes`, good.subarray(0, cut));
        const changed = good.slice();
        changed[at] = byte;
        restoreCase(`restore with byte ${at} = ${byte}`, changed);
      }),
      { numRuns: 300, seed: 95 },
    );
  });

  test('a header field replaced by a hostile value restores or throws a CheckpointError that changes nothing', () => {
    fc.assert(
      fc.property(fc.nat(headerPaths.length - 1), fc.nat(HOSTILE.length), (p, h) => {
        const path = headerPaths[p];
        const replacement = h === HOSTILE.length ? 'delete' : HOSTILE[h];
        restoreCase(
          `restore with header ${path.join('.')} = ${JSON.stringify(replacement)}`,
          withHeader(mutate(header, path, replacement)),
        );
      }),
      { numRuns: 300, seed: 96 },
    );
  });

  test('a header length field claiming a huge header is rejected before reading it', () => {
    for (const length of [2 ** 32 - 1, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      const bytes = good.slice();
      const view = new DataView(bytes.buffer);
      view.setUint32(0, length % 2 ** 32, true);
      view.setUint32(4, Math.floor(length / 2 ** 32), true);
      expect(attempt(`header length ${length}`, () => decodeSafetensors(bytes), CheckpointError)).toBeInstanceOf(
        CheckpointError,
      );
    }
  });
});
