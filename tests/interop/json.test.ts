/**
 * The JSON graph format: exact round trips (text IR, values, gradients, special floats, large constants) and
 * loading untrusted files (every problem a GraphError naming the node and the field, no crash).
 */
import {
  addOp,
  customGradient,
  FusedStepAttr,
  gradients,
  Graph,
  GraphError,
  graphFromJSON,
  graphToJSON,
  identity,
  loadGraph,
  mul,
  NDArray,
  oneHot,
  opRecord,
  pad,
  randomUniform,
  serializeGraph,
  Session,
  sum,
  Tensor,
} from '../../src';
import type { GraphJSON, NodeJSON } from '../../src';
import { randomArray, Rng } from '../ops/util';
import { manyOpsGraph, mlpGraph } from './graphs';

function runAll(graph: Graph, fetches: readonly Tensor[], feeds: { readonly [name: string]: NDArray }): NDArray[] {
  return new Session(graph).run([...fetches], feeds);
}

/** The same tensors (by id) in another graph. */
function sameIds(graph: Graph, tensors: readonly Tensor[]): Tensor[] {
  return tensors.map((t) => graph.tensor(t.id));
}

function expectSameValues(actual: readonly NDArray[], expected: readonly NDArray[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a.dtype).toBe(expected[i].dtype);
    expect([...a.shape]).toEqual([...expected[i].shape]);
    expect(Array.from(a.data)).toEqual(Array.from(expected[i].data));
  });
}

function roundTrip(graph: Graph): Graph {
  return loadGraph(serializeGraph(graph));
}

describe('JSON round trip', () => {
  test('a graph of many ops and its gradients prints the same text IR after loading', () => {
    const { graph } = manyOpsGraph();
    expect(roundTrip(graph).toString()).toBe(graph.toString());
  });

  test('a loaded graph gives the same values and gradients, bit for bit', () => {
    const { graph, fetches, feeds } = manyOpsGraph();
    const loaded = roundTrip(graph);
    expectSameValues(runAll(loaded, sameIds(loaded, fetches), feeds), runAll(graph, fetches, feeds));
  });

  test('gradients taken after loading equal gradients taken before saving', () => {
    const { graph, loss, weights, feeds } = mlpGraph();
    const saved = serializeGraph(graph);
    const before = gradients(loss, weights) as Tensor[];
    const loaded = loadGraph(saved);
    const after = gradients(loaded.tensor(loss.id), sameIds(loaded, weights)) as Tensor[];
    expectSameValues(runAll(loaded, after, feeds), runAll(graph, before, feeds));
  });

  test('the MLP gradient graph round-trips with the same text IR', () => {
    const { graph } = mlpGraph();
    expect(roundTrip(graph).toString()).toBe(graph.toString());
  });

  test('a round trip of a round trip writes the same file', () => {
    const { graph } = manyOpsGraph();
    const once = serializeGraph(graph);
    expect(serializeGraph(loadGraph(once))).toBe(once);
  });

  test('NaN, ±Infinity and −0 round-trip exactly inline, in base64 and in attrs', () => {
    const g = new Graph();
    const specials = [NaN, Infinity, -Infinity, -0, 0, 1.5, -2.25e-38, 3.4e38];
    const small = g.constant(NDArray.from(specials, 'float64'), 'float64', 'small');
    const large = g.constant(
      new NDArray(
        Float32Array.from({ length: 100 }, (_, i) => specials[i % specials.length]),
        [100],
      ),
      'float32',
      'large',
    );
    const x = g.placeholder('x', [2]);
    const padded = pad(x, [[1, 1]], -Infinity);
    const hot = oneHot(g.placeholder('i', [2], 'int32'), 3, NaN, -0);
    const loaded = roundTrip(g);
    for (const t of [small, large]) {
      const original = Array.from((t.node.value as NDArray).data);
      const copy = Array.from((loaded.tensor(t.id).node.value as NDArray).data);
      copy.forEach((v, i) => expect(Object.is(v, original[i])).toBe(true));
    }
    expect(loaded.tensor(padded.id).node.attrs.constantValue).toBe(-Infinity);
    expect(Number.isNaN(loaded.tensor(hot.id).node.attrs.onValue)).toBe(true);
    expect(Object.is(loaded.tensor(hot.id).node.attrs.offValue, -0)).toBe(true);
  });

  test('values of up to 64 elements are written inline, larger ones as base64 of little-endian bytes', () => {
    const g = new Graph();
    g.constant(randomArray(new Rng(3), [8, 8], 'float32'), 'float32', 'inline');
    const big = randomArray(new Rng(4), [5, 13], 'float64');
    g.constant(big, 'float64', 'encoded');
    const json = graphToJSON(g);
    expect(json.nodes[0].value?.encoding).toBe('inline');
    const encoded = json.nodes[1].value;
    expect(encoded?.encoding).toBe('base64');
    const bytes = Buffer.from(encoded?.data as string, 'base64');
    for (let i = 0; i < big.size; i++) expect(bytes.readDoubleLE(i * 8)).toBe(big.data[i]);
  });

  test('large constants of every dtype round-trip through base64', () => {
    const rng = new Rng(5);
    const g = new Graph();
    const arrays = (['float32', 'float64', 'int32', 'bool'] as const).map((dtype) => randomArray(rng, [300], dtype));
    arrays.forEach((a, i) => g.constant(a, a.dtype, `c${i}`));
    const loaded = roundTrip(g);
    arrays.forEach((a, i) => {
      const value = loaded.node(i).value as NDArray;
      expect(value.dtype).toBe(a.dtype);
      expect(Array.from(value.data)).toEqual(Array.from(a.data));
    });
  });

  test('variables keep their initial values and a trainable attr', () => {
    const g = new Graph();
    g.variable('w', NDArray.from([[1, 2]]));
    g.addNode({
      op: 'variable',
      inputs: [],
      attrs: { trainable: false },
      dtype: 'float32',
      shape: [2],
      name: 'frozen',
      value: NDArray.from([3, 4]),
      stateful: true,
    });
    const loaded = roundTrip(g);
    expect(Array.from((loaded.node(0).value as NDArray).data)).toEqual([1, 2]);
    expect(loaded.node(1).attrs).toEqual({ trainable: false });
    expect(loaded.variables().map((v) => v.name)).toEqual(['w', 'frozen']);
  });

  test('random ops draw the same numbers after a round trip', () => {
    const g = new Graph();
    const seeded = randomUniform([4], 0, 1, 'float32', 'seed', g);
    const unseeded = randomUniform([4], 0, 1, 'float32', undefined, g);
    const loaded = roundTrip(g);
    expectSameValues(
      new Session(loaded).run(sameIds(loaded, [seeded, unseeded])),
      new Session(g).run([seeded, unseeded]),
    );
  });

  test('JSON.stringify(graph) writes the format and Graph.fromJSON reads it', () => {
    const { graph } = mlpGraph();
    const text = JSON.stringify(graph);
    expect(JSON.parse(text)).toEqual(graph.toJSON());
    expect(Graph.fromJSON(JSON.parse(text)).toString()).toBe(graph.toString());
  });

  test('a customGradient node loads as the op, without its gradient function', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const halved = customGradient((...args) => ({
      value: identity(args[0] as Tensor),
      gradFunc: (dy: Tensor) => [mul(dy, 0.5)],
    }));
    const y = sum(halved(x));
    const loaded = roundTrip(g);
    expect(loaded.toString()).toBe(g.toString());
    expect(new Session(loaded).run(loaded.tensor(y.id), { x: [1, 2] }).get()).toBe(3);
    expect(() => gradients(loaded.tensor(y.id), [loaded.tensor(x.id)])).toThrow(/not attached/);
  });

  test('a fused node round-trips and computes the same values', () => {
    const g = new Graph();
    const a = g.placeholder('a', [3]);
    const b = g.placeholder('b', [3]);
    const steps: FusedStepAttr[] = [
      { op: 'mul', args: [{ input: 0 }, { input: 1 }] },
      { op: 'add', args: [{ step: 0 }, { value: -0 }] },
      { op: 'exp', args: [{ step: 1 }] },
    ];
    const fused = addOp(g, opRecord('fused'), [a.id, b.id], {
      dtype: 'float32',
      expr: 'exp(mul($0, $1))',
      steps,
    } as never);
    const loaded = roundTrip(g);
    const feeds = { a: [1, 2, 3], b: [0.5, -1, 0] };
    expectSameValues(new Session(loaded).run([loaded.tensor(fused.id)], feeds), new Session(g).run([fused], feeds));
  });
});

// ---- untrusted files ---------------------------------------------------------------------------------------------

/** A small valid file to break: x [null, 2], w [2, 2] variable, y = matMul(x, w), s = sum(y). */
function validFile(): GraphJSON {
  const g = new Graph();
  const x = g.placeholder('x', [null, 2]);
  const w = g.variable(
    'w',
    NDArray.from([
      [1, 2],
      [3, 4],
    ]),
  );
  const y = g.nameScope('dense', () =>
    addOp(g, opRecord('matMul'), [x.id, w.id], { transposeA: false, transposeB: false }),
  );
  addOp(g, opRecord('sum'), [y.id], { axes: [0, 1], keepDims: false });
  return JSON.parse(JSON.stringify(graphToJSON(g))) as GraphJSON;
}

function withNode(index: number, change: (node: NodeJSON & { [key: string]: unknown }) => void): GraphJSON {
  const file = validFile();
  change(file.nodes[index] as NodeJSON & { [key: string]: unknown });
  return file;
}

/** Loading fails with a GraphError whose message names the node and the field. */
function expectRejected(file: unknown, node: number | null, field: string): void {
  let error: unknown;
  try {
    graphFromJSON(file);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GraphError);
  const message = (error as Error).message;
  if (node !== null) expect(message).toContain(`node ${node}`);
  expect(message).toContain(`field '${field}`);
}

describe('loading untrusted JSON', () => {
  test('the valid file used below loads', () => {
    expect(graphFromJSON(validFile()).size).toBe(4);
  });

  test('an unknown op is a GraphError naming the node and the op field', () => {
    expectRejected(
      withNode(2, (n) => (n.op = 'conv9d')),
      2,
      'op',
    );
  });

  test('an input pointing forward is rejected', () => {
    expectRejected(
      withNode(2, (n) => (n.inputs = [0, 3])),
      2,
      'inputs',
    );
  });

  test('an input pointing at the node itself is rejected', () => {
    expectRejected(
      withNode(2, (n) => (n.inputs = [0, 2])),
      2,
      'inputs',
    );
  });

  test('non-integer and negative input ids are rejected', () => {
    expectRejected(
      withNode(2, (n) => (n.inputs = [0, 0.5])),
      2,
      'inputs',
    );
    expectRejected(
      withNode(2, (n) => (n.inputs = [-1, 1])),
      2,
      'inputs',
    );
  });

  test('a dtype that disagrees with re-inference is rejected', () => {
    expectRejected(
      withNode(2, (n) => (n.dtype = 'float64')),
      2,
      'dtype',
    );
  });

  test('a shape that disagrees with re-inference is rejected', () => {
    expectRejected(
      withNode(2, (n) => (n.shape = [null, 3])),
      2,
      'shape',
    );
  });

  test('inputs or attrs that the op cannot take are rejected by its own inference', () => {
    expectRejected(
      withNode(3, (n) => (n.inputs = [2, 1])),
      3,
      'attrs/inputs',
    );
    expectRejected(
      withNode(3, (n) => (n.attrs = { axes: [0, 5], keepDims: false })),
      3,
      'attrs/inputs',
    );
  });

  test('a placeholder claiming 10^12 elements is rejected before anything is allocated', () => {
    expectRejected(
      withNode(0, (n) => (n.shape = [1e6, 1e6])),
      0,
      'shape',
    );
  });

  test('a constant claiming a huge shape with little data is rejected', () => {
    const file = validFile();
    file.nodes[1] = { ...file.nodes[1], op: 'constant', shape: [65536, 65536] };
    expectRejected(file, 1, 'shape');
  });

  test('an op whose inferred output would be huge is rejected', () => {
    const g = new Graph();
    randomUniform([4], 0, 1, 'float32', 1, g);
    const file = graphToJSON(g) as GraphJSON & { nodes: (NodeJSON & { attrs: { shape: number[] } })[] };
    file.nodes[0].attrs.shape = [2 ** 20, 2 ** 20];
    file.nodes[0].shape = [2 ** 20, 2 ** 20];
    expectRejected(file, 0, 'shape');
  });

  test('a total element budget over all nodes limits many medium tensors', () => {
    const g = new Graph();
    for (let i = 0; i < 4; i++) g.placeholder(`p${i}`, [1000, 1000]);
    const file = graphToJSON(g);
    expect(() => graphFromJSON(file, { limits: { maxTotalElements: 3e6 } })).toThrow(/node 3.*total/);
    expect(graphFromJSON(file).size).toBe(4);
  });

  test('__proto__ and constructor keys do nothing', () => {
    const text = JSON.stringify(validFile())
      .replace('"attrs":{"transposeA"', '"attrs":{"__proto__":{"polluted":true},"constructor":{"x":1},"transposeA"')
      .replace('{"format"', '{"__proto__":{"polluted":true},"format"');
    expect(text).toContain('__proto__');
    const g = loadGraph(text);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(g.node(2).attrs)).toEqual(['transposeA', 'transposeB']);
    expect(g.toString()).toBe(graphFromJSON(validFile()).toString());
  });

  test('truncated JSON text is a GraphError', () => {
    const text = JSON.stringify(validFile());
    expect(() => loadGraph(text.slice(0, text.length / 2))).toThrow(GraphError);
    expect(() => loadGraph(text.slice(0, text.length / 2))).toThrow(/not valid JSON/);
  });

  test('a wrong version or format is rejected', () => {
    expectRejected({ ...validFile(), version: 3 }, null, 'version');
    expectRejected({ ...validFile(), format: 'onnx' }, null, 'format');
    expectRejected([], null, '(root)');
  });

  test('repeated names are rejected', () => {
    expectRejected(
      withNode(3, (n) => (n.name = 'x')),
      3,
      'name',
    );
  });

  test('an id that is not the node position is rejected', () => {
    expectRejected(
      withNode(1, (n) => (n.id = 7)),
      1,
      'id',
    );
  });

  test('an unknown node field is rejected', () => {
    expectRejected(
      withNode(1, (n) => (n.code = 'alert(1)')),
      1,
      'code',
    );
  });

  test('attrs of the wrong type are rejected by name', () => {
    expectRejected(
      withNode(3, (n) => (n.attrs = { axes: 'abc', keepDims: false })),
      3,
      'attrs.axes',
    );
    expectRejected(
      withNode(2, (n) => (n.attrs = { transposeA: 'yes' })),
      2,
      'attrs.transposeA',
    );
    expectRejected(
      withNode(3, (n) => (n.attrs = [] as never)),
      3,
      'attrs',
    );
  });

  test('attrs nested too deeply are rejected', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 80; i++) deep = [deep];
    expectRejected(
      withNode(3, (n) => (n.attrs = { axes: [0, 1], keepDims: false, deep } as never)),
      3,
      'attrs.deep',
    );
  });

  test('a value on an op node, or none on a variable, is rejected', () => {
    expectRejected(
      withNode(2, (n) => (n.value = { encoding: 'inline', data: [1] })),
      2,
      'value',
    );
    expectRejected(
      withNode(1, (n) => delete n.value),
      1,
      'value',
    );
  });

  test('inline values of the wrong count or kind are rejected', () => {
    expectRejected(
      withNode(1, (n) => (n.value = { encoding: 'inline', data: [1, 2, 3] })),
      1,
      'value.data',
    );
    expectRejected(
      withNode(1, (n) => (n.value = { encoding: 'inline', data: [1, 2, 3, 'four'] })),
      1,
      'value.data',
    );
  });

  test('malformed base64 values are rejected', () => {
    expectRejected(
      withNode(1, (n) => (n.value = { encoding: 'base64', data: 'AAAAAAAAAAAAAAAAAAAAA!==' })),
      1,
      'value.data',
    );
    expectRejected(
      withNode(1, (n) => (n.value = { encoding: 'base64', data: 'AAAA' })),
      1,
      'value.data',
    );
    expectRejected(
      withNode(1, (n) => (n.value = { encoding: 'hex', data: '00' } as never)),
      1,
      'value.encoding',
    );
  });

  test('int32 and bool values outside their type are rejected', () => {
    const g = new Graph();
    g.constant(NDArray.from([1, 2], 'int32'), 'int32', 'i');
    g.constant(NDArray.from(new Uint8Array(100).fill(1), 'bool'), 'bool', 'b');
    const file = JSON.parse(serializeGraph(g)) as GraphJSON;
    file.nodes[0].value = { encoding: 'inline', data: [1, 2.5] };
    expectRejected(file, 0, 'value.data');
    const bools = JSON.parse(serializeGraph(g)) as GraphJSON;
    bools.nodes[1].value = { encoding: 'base64', data: Buffer.from(new Uint8Array(100).fill(7)).toString('base64') };
    expectRejected(bools, 1, 'value.data');
  });

  test('a node equal to an earlier one is rejected (a graph never holds two)', () => {
    const file = validFile();
    file.nodes.push({ ...file.nodes[3], id: 4, name: 'sum_again' });
    expectRejected(file, 4, 'op');
  });

  test("a fused node's steps may name only fusible ops with well-formed arguments", () => {
    const g = new Graph();
    const a = g.placeholder('a', [3]);
    const steps: FusedStepAttr[] = [{ op: 'exp', args: [{ input: 0 }] }];
    addOp(g, opRecord('fused'), [a.id], { dtype: 'float32', steps } as never);
    const file = JSON.parse(serializeGraph(g)) as GraphJSON & { nodes: { attrs: { steps: unknown } }[] };
    const withSteps = (s: unknown): GraphJSON => {
      const copy = JSON.parse(JSON.stringify(file)) as GraphJSON & { nodes: { attrs: { steps: unknown } }[] };
      copy.nodes[1].attrs.steps = s;
      return copy;
    };
    expect(graphFromJSON(file).size).toBe(2);
    expectRejected(withSteps([{ op: 'matMul', args: [{ input: 0 }] }]), 1, 'attrs/inputs');
    expectRejected(withSteps([{ op: 'exp', args: [{ input: 3 }] }]), 1, 'attrs.steps');
    expectRejected(withSteps([{ op: 'exp', args: [{ value: 'process.exit()' }] }]), 1, 'attrs.steps');
    expectRejected(withSteps([{ op: 'exp', args: [{ step: 0 }] }]), 1, 'attrs.steps');
    expectRejected(withSteps([{ op: 'exp', args: [{ input: 0 }], code: 'x' }]), 1, 'attrs.steps');
  });

  test('randomly corrupted files load or fail with a GraphError, never anything else', () => {
    const rng = new Rng(11);
    const base = JSON.stringify(manyOpsGraph().graph.toJSON());
    const junk = ['null', '-1', '1e309', '"x"', '[]', '{}', 'true', '1.5', '[null]', '"NaN"', '{"$number":"NaN"}'];
    let rejected = 0;
    for (let trial = 0; trial < 300; trial++) {
      let text = base;
      // Replace one JSON value (a number, string, literal or small array) with junk.
      const matches = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?|"[^"]*"|true|false|null|\[\]/g)];
      const target = matches[rng.int(0, matches.length - 1)];
      const index = target.index as number;
      text = text.slice(0, index) + junk[rng.int(0, junk.length - 1)] + text.slice(index + target[0].length);
      try {
        loadGraph(text);
      } catch (error) {
        expect(error).toBeInstanceOf(GraphError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });
});
