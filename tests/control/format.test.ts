/**
 * The JSON format with regions (version 2): exact round trips of cond, whileLoop and scan graphs (nested, with special
 * floats in region constants), version-1 files still read, and hostile region JSON refused with a GraphError.
 */
import {
  add,
  cond,
  Graph,
  GraphError,
  graphFromJSON,
  graphToJSON,
  gradients,
  less,
  loadGraph,
  mul,
  NDArray,
  scan,
  sum,
  serializeGraph,
  Session,
  Tensor,
  whileLoop,
} from '../../src';
import { controlGraph } from './graphs';

const FEEDS = {
  x: NDArray.from([0.5, -0.25], 'float64'),
  W: NDArray.from(
    [
      [0.3, -0.2],
      [0.1, 0.4],
    ],
    'float64',
  ),
  U: NDArray.from(
    [
      [0.2, 0.1],
      [-0.3, 0.5],
    ],
    'float64',
  ),
  xs: NDArray.from([[[1, 2]], [[0.5, -1]], [[0, 3]], [[-2, 1]]], 'float64'),
};

function bits(values: readonly NDArray[]): number[][] {
  return values.map((v) => Array.from(v.data));
}

describe('JSON format with regions', () => {
  test('a graph with cond, scan and a whileLoop holding a cond round-trips: same text IR, same values', () => {
    const { g, y, last, ys, count, acc } = controlGraph();
    const text = serializeGraph(g);
    expect(JSON.parse(text).version).toBe(2);
    const loaded = loadGraph(text);
    expect(loaded.toString()).toBe(g.toString());
    const fetches = [y, last, ys, count, acc];
    const expected = new Session(g).run(fetches, FEEDS);
    const actual = new Session(loaded).run(
      fetches.map((t) => loaded.tensor(t.id)),
      FEEDS,
    );
    expect(bits(actual)).toEqual(bits(expected));
  });

  test('gradients through the constructs (backward loops reading stacked forward values) round-trip bit for bit', () => {
    const { g, y, last, acc } = controlGraph();
    const inputs = ['x', 'W', 'U'].map((name) => g.byName(name) as Tensor);
    const grads = gradients(add(add(sum(last), sum(acc)), sum(y)), inputs) as Tensor[];
    const loaded = loadGraph(serializeGraph(g));
    expect(loaded.toString()).toBe(g.toString());
    const actual = new Session(loaded).run(
      grads.map((t) => loaded.tensor(t.id)),
      FEEDS,
    );
    expect(bits(actual)).toEqual(bits(new Session(g).run(grads, FEEDS)));
  });

  test('a graph without regions is still written as version 1, and a version-1 file still loads', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    mul(add(x, 1), 2);
    const json = graphToJSON(g);
    expect(json.version).toBe(1);
    const file = {
      format: 'lazygrad.graph',
      version: 1,
      nodes: [
        { id: 0, op: 'placeholder', name: 'x', inputs: [], attrs: {}, dtype: 'float32', shape: [2] },
        { id: 1, op: 'neg', name: 'neg', inputs: [0], attrs: {}, dtype: 'float32', shape: [2] },
      ],
    };
    expect(graphFromJSON(file).toString()).toBe(
      '%0 = placeholder() : float32[2]  # x\n%1 = neg(%0) : float32[2]  # neg',
    );
  });

  test('a version-1 file holding a control-flow node is refused (regions came with version 2)', () => {
    const { g } = controlGraph();
    const json = { ...graphToJSON(g), version: 1 };
    expect(() => graphFromJSON(json)).toThrow(/a cond node holds regions, which files of version 2 hold/);
  });

  test('NaN, ±Infinity and −0 in region constants survive the round trip', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4], 'float64');
    const special = NDArray.from([NaN, Infinity, -Infinity, -0], 'float64');
    const [, ys] = scan(
      (c: Tensor, xt: Tensor) => [c, mul(xt, g.constant(special))],
      g.constant(0, 'float64'),
      x.reshape([1, 4]),
    );
    const loaded = loadGraph(serializeGraph(g));
    const out = new Session(loaded).run(loaded.tensor((ys as Tensor).id), { x: NDArray.from([1, 1, 1, 1], 'float64') });
    const values = Array.from(out.data);
    expect(values[0]).toBeNaN();
    expect(values.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(Object.is(values[3], -0)).toBe(true);
    expect(loaded.toString()).toBe(g.toString());
  });

  test('loops nested three deep round-trip', () => {
    const g = new Graph();
    const x = g.placeholder('x', [], 'float64');
    const [, out] = whileLoop(
      ([i]) => less(i, 2),
      ([i, a]) => [
        add(i, 1),
        scan(
          (c: Tensor) => [
            cond(
              less(c, 100),
              () => add(mul(c, x), 1),
              () => c,
            ),
            null,
          ],
          a,
          null,
          { length: 3 },
        )[0],
      ],
      [g.constant(0, 'int32'), x],
      { maximumIterations: 5 },
    );
    const loaded = loadGraph(serializeGraph(g));
    expect(loaded.toString()).toBe(g.toString());
    const feeds = { x: NDArray.from(1.5, 'float64') };
    expect(Array.from(new Session(loaded).run(loaded.tensor(out.id), feeds).data)).toEqual(
      Array.from(new Session(g).run(out, feeds).data),
    );
  });
});

describe('hostile region JSON', () => {
  /** The file of a small scan, with the scan node's body changed by `change`. */
  function withBody(change: (body: { params: number[]; outputs: number[]; nodes: Record<string, unknown>[] }) => void) {
    const g = new Graph();
    const w = g.placeholder('w', [2], 'float64');
    const xs = g.placeholder('xs', [3, 2], 'float64');
    scan((c: Tensor, xt: Tensor) => [add(c, mul(xt, w)), null], g.constant([0, 0], 'float64'), xs);
    const json = JSON.parse(serializeGraph(g));
    const node = json.nodes.find((n: { op: string }) => n.op === 'scan');
    change(node.attrs.body);
    return json;
  }

  const cases: [
    string,
    (b: { params: number[]; outputs: number[]; nodes: Record<string, unknown>[] }) => void,
    RegExp,
  ][] = [
    ['an output index past the nodes', (b) => (b.outputs[0] = 99), /output 99 is not a node/],
    [
      'a negative input index',
      (b) => ((b.nodes[3].inputs as number[])[0] = -1),
      /reads -1, which is not an earlier node/,
    ],
    [
      'a node reading a later node',
      (b) => ((b.nodes[3].inputs as number[])[0] = 4),
      /reads 4, which is not an earlier node/,
    ],
    ['a placeholder that is not a parameter', (b) => b.params.pop(), /is not a parameter|parameters but is given/],
    [
      'a parameter that is not a placeholder',
      (b) => (b.params[0] = 3),
      /is a \w+; parameters are distinct placeholders/,
    ],
    ['a repeated parameter', (b) => (b.params[1] = b.params[0]), /repeats; parameters are distinct placeholders/],
    [
      'a variable inside the region',
      (b) => (b.nodes[0] = { ...b.nodes[0], op: 'variable' }),
      /cannot hold variable|is a variable/,
    ],
    ['an unknown op', (b) => (b.nodes[3].op = 'noSuchOp'), /noSuchOp/],

    [
      'a parameter of another dtype than its input',
      (b) => (b.nodes[0].dtype = 'int32'),
      /parameter 0 .* is int32\[2\], but its input is float64\[2\]/,
    ],
  ];

  test.each(cases)('%s is a GraphError', (_, change, message) => {
    const file = withBody(change);
    let error: unknown;
    try {
      graphFromJSON(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GraphError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/node 3 \('scan\/carry:0'\)/);
  });

  test('a region constant holding strings or the wrong number of values is a GraphError', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2], 'float64');
    cond(
      less(x.sum(), 0),
      () => mul(x, 3),
      () => x,
    );
    const json = JSON.parse(serializeGraph(g));
    const node = json.nodes.find((n: { op: string }) => n.op === 'cond');
    const constant = node.attrs.branches[0].nodes.find((n: { op: string }) => n.op === 'constant');
    for (const value of [['a'], [], [1, 2]]) {
      constant.value = value;
      expect(() => graphFromJSON(json)).toThrow(/does not hold its \[\] values/);
    }
  });

  test('region nodes count against the maxNodes limit (once per construct, not per sibling)', () => {
    const { g } = controlGraph();
    const json = graphToJSON(g);
    // then 3, else 2; scan body 10; while cond 5, body 9, the cond in it: then 4, else 3.
    const regionNodes = 3 + 2 + 10 + 5 + 9 + 4 + 3;
    const total = json.nodes.length + regionNodes;
    expect(graphFromJSON(json, { limits: { maxNodes: total } }).size).toBe(g.size);
    expect(() => graphFromJSON(json, { limits: { maxNodes: total - 1 } })).toThrow(
      /its regions bring the nodes of the file above the limit of \d+/,
    );
  });

  test('regions nested deeper than attrs may nest are refused, not a stack overflow', () => {
    let body: unknown = {
      params: [0],
      outputs: [0],
      nodes: [{ op: 'placeholder', inputs: [], attrs: {}, name: 'c', dtype: 'float32', shape: [] }],
    };
    for (let depth = 0; depth < 200; depth++) {
      body = {
        params: [0],
        outputs: [1],
        nodes: [
          { op: 'placeholder', inputs: [], attrs: {}, name: 'c', dtype: 'float32', shape: [] },
          {
            op: 'scan',
            inputs: [0],
            attrs: { body, carries: 1, xs: 0, length: 1, output: 'carry:0' },
            name: 's',
            dtype: 'float32',
            shape: [],
          },
        ],
      };
    }
    const file = {
      format: 'lazygrad.graph',
      version: 2,
      nodes: [
        { id: 0, op: 'placeholder', name: 'x', inputs: [], attrs: {}, dtype: 'float32', shape: [] },
        {
          id: 1,
          op: 'scan',
          name: 's',
          inputs: [0],
          attrs: { body, carries: 1, xs: 0, length: 1, output: 'carry:0' },
          dtype: 'float32',
          shape: [],
        },
      ],
    };
    expect(() => graphFromJSON(file)).toThrow(GraphError);
    expect(() => loadGraph(JSON.stringify(file))).toThrow(GraphError);
  });
});
