/**
 * Whatever can be built can be saved and loaded, and what cannot be loaded cannot be built: the Graph API and the
 * JSON loader share one rule each for names, shapes and attrs (src/graph/rules.ts), and a fused node's steps are
 * checked against its inputs' count and dtypes when it is added (issue 15, item 12).
 */
import {
  add,
  addOp,
  exportOnnx,
  expandDims,
  FusedStepAttr,
  Graph,
  GraphError,
  graphToJSON,
  loadGraph,
  NDArray,
  opRecord,
  serializeGraph,
  Session,
  ShapeError,
  DTypeError,
} from '../src';

/** Saves and loads a graph, expecting the same text IR. */
function roundTrip(graph: Graph): Graph {
  const loaded = loadGraph(serializeGraph(graph));
  expect(loaded.toString()).toBe(graph.toString());
  return loaded;
}

const FUSED = opRecord('fused');

describe('names', () => {
  const longest = 'n'.repeat(4096);
  const tooLong = 'n'.repeat(4097);

  test('a name of 4,096 characters is built and round trips', () => {
    const g = new Graph();
    g.placeholder(longest, [2]);
    g.variable(`v${longest.slice(1)}`, [1, 2]);
    g.constant(3, 'float32', `c${longest.slice(1)}`);
    expect(roundTrip(g).byName(longest)?.shape).toEqual([2]);
  });

  test.each([
    ['placeholder', (g: Graph) => g.placeholder(tooLong)],
    ['variable', (g: Graph) => g.variable(tooLong, 1)],
    ['constant', (g: Graph) => g.constant(1, 'float32', tooLong)],
    ['an op', (g: Graph) => addOp(g, opRecord('neg'), [g.placeholder('x').id], {}, tooLong)],
  ])('a name of 4,097 characters is refused when a %s is built', (_what, build) => {
    expect(() => build(new Graph())).toThrow(/4097 characters.*at most 4096/);
  });

  test('a scope that makes a full name longer than 4,096 characters is refused', () => {
    const g = new Graph();
    expect(() => g.nameScope('s'.repeat(4000), () => g.placeholder('x'.repeat(100)))).toThrow(GraphError);
    expect(g.size).toBe(0);
  });

  test('a suffix that makes a 4,096-character name too long is refused at build, not at load', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    addOp(g, opRecord('neg'), [x.id], {}, longest);
    expect(() => addOp(g, opRecord('exp'), [x.id], {}, longest)).toThrow(/at most 4096/);
    roundTrip(g);
  });

  test.each([
    ['placeholder', (g: Graph) => g.placeholder('')],
    ['variable', (g: Graph) => g.variable('', 1)],
    ['constant', (g: Graph) => g.constant(1, 'float32', '')],
    ['nameScope', (g: Graph) => g.nameScope('', () => g.placeholder('x'))],
  ])('an empty name is refused by %s', (_what, build) => {
    expect(() => build(new Graph())).toThrow(GraphError);
  });

  test('a name that is not a string is refused', () => {
    expect(() => new Graph().placeholder(7 as unknown as string)).toThrow(GraphError);
  });

  test('the loader refuses the same names, with the same rule', () => {
    const g = new Graph();
    g.placeholder('x', [2]);
    const json = graphToJSON(g);
    json.nodes[0].name = tooLong;
    expect(() => loadGraph(JSON.stringify(json))).toThrow(/node 0 .*field 'name'.*4097 characters.*at most 4096/);
    json.nodes[0].name = '';
    expect(() => loadGraph(JSON.stringify(json))).toThrow(/field 'name'.*empty/);
  });
});

describe('shapes', () => {
  test('a placeholder of rank 64 is built and round trips; rank 65 is refused at build', () => {
    const g = new Graph();
    g.placeholder('x', new Array<number>(64).fill(1));
    roundTrip(g);
    expect(() => g.placeholder('y', new Array<number>(65).fill(1))).toThrow(ShapeError);
    expect(() => g.placeholder('y', new Array<number>(65).fill(1))).toThrow(/rank 65.*at most 64/);
  });

  test('an op whose inferred shape has rank 65 is refused when it is added', () => {
    const g = new Graph();
    const x = g.placeholder('x', new Array<number>(64).fill(1));
    expect(() => expandDims(x, 0)).toThrow(/expandDims.*rank 65.*at most 64/);
    expect(g.size).toBe(1);
  });

  test('a dim of 2^53 or more is refused at build; 2^53 − 1 builds and loads (with raised element limits)', () => {
    const g = new Graph();
    expect(() => g.placeholder('x', [2 ** 53])).toThrow(ShapeError);
    expect(() => g.placeholder('x', [2 ** 60, null])).toThrow(/dim 0 is 1152921504606846976/);
    g.placeholder('y', [2 ** 53 - 1, null]);
    const big = { maxElements: 2 ** 53, maxTotalElements: 2 ** 53 };
    expect(loadGraph(serializeGraph(g), { limits: big }).toString()).toBe(g.toString());
  });

  test('the loader refuses rank 65 and dims of 2^53 with the same rule', () => {
    const g = new Graph();
    g.placeholder('x', [2]);
    const json = graphToJSON(g);
    json.nodes[0].shape = new Array<number>(65).fill(1);
    expect(() => loadGraph(JSON.stringify(json))).toThrow(/field 'shape'.*rank 65.*at most 64/);
    json.nodes[0].shape = [2 ** 53];
    expect(() => loadGraph(JSON.stringify(json))).toThrow(/field 'shape'.*dim 0/);
  });
});

describe('attrs', () => {
  function nested(depth: number): unknown {
    let value: unknown = 1;
    for (let i = 1; i < depth; i++) value = [value];
    return value;
  }

  test('attrs nested 64 levels round trip; 65 levels are refused when the node is added', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    addOp(g, opRecord('neg'), [x.id], { note: nested(64) } as never);
    roundTrip(g);
    expect(() => addOp(g, opRecord('neg'), [x.id], { note: nested(65) } as never)).toThrow(/nests deeper than 64/);
  });

  test('attr keys the loader would drop and the reserved {$number} form are refused when the node is added', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const withKey = JSON.parse('{"note": {"__proto__": 1}}') as never;
    expect(() => addOp(g, opRecord('neg'), [x.id], withKey)).toThrow(/attrs\.note.*__proto__/);
    expect(() => addOp(g, opRecord('neg'), [x.id], { constructor: 1 } as never)).toThrow(GraphError);
    expect(() => addOp(g, opRecord('neg'), [x.id], { note: { $number: 'NaN' } } as never)).toThrow(/\$number/);
  });

  test('non-JSON attr values are refused when the node is added; special numbers round trip', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    expect(() => addOp(g, opRecord('neg'), [x.id], { note: new Float32Array(2) } as never)).toThrow(GraphError);
    expect(() => addOp(g, opRecord('neg'), [x.id], { note: [undefined] } as never)).toThrow(GraphError);
    addOp(g, opRecord('neg'), [x.id], { note: [NaN, -0, Infinity] } as never);
    roundTrip(g);
  });
});

describe('fused nodes', () => {
  function fusedGraph(): { g: Graph; x: number; b: number } {
    const g = new Graph();
    return { g, x: g.placeholder('x', [2]).id, b: g.placeholder('b', [2], 'bool').id };
  }

  test('a step with the wrong number of arguments is refused when the node is added', () => {
    const { g, x } = fusedGraph();
    const steps: FusedStepAttr[] = [{ op: 'add', args: [{ input: 0 }] }];
    expect(() => addOp(g, FUSED, [x], { steps, dtype: 'float32' })).toThrow(/step 0 \(add\) has 1 argument.*takes 2/);
  });

  test("a step whose operands' dtypes its op refuses is refused when the node is added", () => {
    const { g, x, b } = fusedGraph();
    const bad: FusedStepAttr[] = [{ op: 'add', args: [{ input: 0 }, { input: 1 }] }];
    expect(() => addOp(g, FUSED, [x, b], { steps: bad, dtype: 'float32' })).toThrow(DTypeError);
    expect(() => addOp(g, FUSED, [x, b], { steps: bad, dtype: 'float32' })).toThrow(/step 0 \(add\)/);
  });

  test('a dtype attr that is not what the last step computes is refused', () => {
    const { g, x } = fusedGraph();
    const steps: FusedStepAttr[] = [{ op: 'neg', args: [{ input: 0 }] }];
    expect(() => addOp(g, FUSED, [x], { steps, dtype: 'float64' })).toThrow(
      /steps compute float32.*dtype attr says float64/,
    );
    const where: FusedStepAttr[] = [{ op: 'where', args: [{ input: 0 }, { input: 0 }, { value: 1 }] }];
    expect(() => addOp(g, FUSED, [x], { steps: where, dtype: 'float32' })).toThrow(DTypeError);
  });

  test('a valid fused node builds, runs, saves, loads and exports', () => {
    const { g, x, b } = fusedGraph();
    const steps: FusedStepAttr[] = [
      { op: 'neg', args: [{ input: 0 }] },
      { op: 'where', args: [{ input: 1 }, { step: 0 }, { value: 2 }] },
    ];
    const node = addOp(g, FUSED, [x, b], { steps, dtype: 'float32' });
    const loaded = roundTrip(g);
    const feeds = { x: NDArray.from([3, 4]), b: NDArray.from([true, false]) };
    expect(Array.from(new Session(loaded).run(loaded.tensor(node.id), feeds).data)).toEqual([-3, 2]);
    expect(exportOnnx(g, { outputs: node }).length).toBeGreaterThan(0);
  });

  test('the loader refuses a fused node of the wrong arity, naming the node, and exportOnnx never sees one', () => {
    const { g, x } = fusedGraph();
    const node = addOp(g, FUSED, [x], { steps: [{ op: 'neg', args: [{ input: 0 }] }], dtype: 'float32' });
    const json = graphToJSON(g);
    json.nodes[node.id].attrs.steps = [{ op: 'sub', args: [{ input: 0 }] }];
    expect(() => loadGraph(JSON.stringify(json))).toThrow(/node 2 .*step 0 \(sub\) has 1 argument/);
  });

  const MANY = 1_000_000;
  function manySteps(): FusedStepAttr[] {
    const steps: FusedStepAttr[] = [{ op: 'neg', args: [{ input: 0 }] }];
    for (let j = 1; j < MANY; j++) steps.push({ op: 'neg', args: [{ step: j - 1 }] });
    return steps;
  }

  test('a 1,000,000-step fused node is a clear error when added, not a stack overflow', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    expect(() => addOp(g, FUSED, [x.id], { steps: manySteps(), dtype: 'float32' })).toThrow(
      /1000000 steps.*at most 4096/,
    );
  });

  test('a 1,000,000-step fused node in a file is a GraphError naming the node, not a stack overflow', () => {
    const g = new Graph();
    g.placeholder('x', [2]);
    const json = graphToJSON(g);
    json.nodes.push({
      id: 1,
      op: 'fused',
      name: 'fused',
      inputs: [0],
      attrs: { steps: manySteps(), dtype: 'float32' },
      dtype: 'float32',
      shape: [2],
    } as never);
    expect(() => loadGraph(JSON.stringify(json))).toThrow(/node 1 \('fused'\).*1000000 steps.*at most 4096/);
  });

  test('a 4,096-step fused node builds and runs', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3]);
    const steps = manySteps().slice(0, 4096);
    const node = addOp(g, FUSED, [x.id], { steps, dtype: 'float32' });
    // An even number of negations: the input itself.
    expect(Array.from(new Session(g).run(node, { x: NDArray.from([1, -2, 3]) }).data)).toEqual([1, -2, 3]);
    const added = add(node, 1);
    expect(Array.from(new Session(g, { backend: 'js' }).run(added, { x: NDArray.from([1, -2, 3]) }).data)).toEqual([
      2, -1, 4,
    ]);
  });
});
