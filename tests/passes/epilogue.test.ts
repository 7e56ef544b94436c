/**
 * The epilogue pass: add(matMul(a, b), bias) with a row bias, and relu/sigmoid/tanh of it, become one fusedMatMul;
 * in training graphs relu's gradient mask moves from x > 0 to relu(x) > 0 so that the pre-activation can fuse.
 * Golden IR, the cases that must not fuse, and equivalence with level 0 on random layers.
 */
import fc from 'fast-check';
import {
  add,
  epilogue,
  formatReport,
  FusedActivation,
  gradients,
  Graph,
  matMul,
  mean,
  NDArray,
  Node,
  optimize,
  relu,
  Session,
  sigmoid,
  softmaxCrossEntropyWithLogits,
  square,
  sum,
  tanh,
  Tensor,
  verifySlice,
} from '../../src';
import { expectClose, randomArray, Rng } from '../ops/util';

const ops = (nodes: readonly Node[]): string[] => nodes.filter((n) => n.inputs.length > 0).map((n) => n.op);
const fusedNodes = (nodes: readonly Node[]): Node[] => nodes.filter((n) => n.op === 'fusedMatMul');

/** x [4, 3] · w [3, 2] + b [2]: the dense layer. */
function layer(shapes: { b?: number[] } = {}): { g: Graph; x: Tensor; w: Tensor; b: Tensor; pre: Tensor } {
  const g = new Graph();
  const x = g.placeholder('x', [4, 3]);
  const w = g.placeholder('w', [3, 2]);
  const b = g.placeholder('b', shapes.b ?? [2]);
  return { g, x, w, b, pre: add(matMul(x, w), b) };
}

/** A two-layer MLP with its loss and the gradients of its weights and biases. */
function mlp(): { g: Graph; fetches: Tensor[]; feeds: Map<Tensor, NDArray> } {
  const rng = new Rng(21);
  const g = new Graph();
  const x = g.placeholder('x', [8, 5]);
  const labels = g.placeholder('labels', [8, 3]);
  const w1 = g.variable('w1', randomArray(rng, [5, 6], 'float32'));
  const b1 = g.variable('b1', randomArray(rng, [6], 'float32'));
  const w2 = g.variable('w2', randomArray(rng, [6, 3], 'float32'));
  const b2 = g.variable('b2', randomArray(rng, [3], 'float32'));
  const h = relu(add(matMul(x, w1), b1));
  const logits = add(matMul(h, w2), b2);
  const loss = mean(softmaxCrossEntropyWithLogits(labels, logits));
  const grads = gradients(loss, [w1, b1, w2, b2]) as Tensor[];
  const feeds = new Map([
    [x, randomArray(rng, [8, 5], 'float32')],
    [labels, randomArray(rng, [8, 3], 'float32', { lo: 0, hi: 1 })],
  ]);
  return { g, fetches: [loss, ...grads], feeds };
}

describe('epilogue fusion', () => {
  test('golden: relu(matMul(x, w) + b) becomes one fusedMatMul with the relu', () => {
    const { g, pre } = layer();
    const { graph } = optimize(g, [relu(pre)]);
    expect(graph.toString()).toBe(
      [
        '%0 = placeholder() : float32[4, 3]  # x',
        '%1 = placeholder() : float32[3, 2]  # w',
        '%2 = placeholder() : float32[2]  # b',
        '%3 = fusedMatMul(%0, %1, %2) {transposeA=false, transposeB=false, activation="relu"} : float32[4, 2]  # relu',
      ].join('\n'),
    );
  });

  test('the report counts the bias-add and the activation it fused', () => {
    const { g, pre } = layer();
    const { report } = optimize(g, [sigmoid(pre)]);
    const line = formatReport(report.find((r) => r.pass === 'epilogue') as (typeof report)[number]);
    expect(line).toMatch(/^epilogue nodes 6 → 4 \(−2\) {2}matmul-bias 1, matmul-activation 1 /);
  });

  test('a bias first, add(b, matMul(x, w)), fuses too', () => {
    const { g, x, w, b } = layer();
    const { graph } = optimize(g, [tanh(add(b, matMul(x, w)))]);
    expect(ops(graph.nodes)).toEqual(['fusedMatMul']);
    expect(fusedNodes(graph.nodes)[0].attrs.activation).toBe('tanh');
  });

  test('a [1, N] bias, transposed operands and batched operands fuse, keeping the transposes', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 3, 4]);
    const w = g.placeholder('w', [5, 3]);
    const y = relu(add(matMul(x, w, true, true), g.placeholder('b', [1, 1, 5])));
    const { graph } = optimize(g, [y]);
    expect(ops(graph.nodes)).toEqual(['fusedMatMul']);
    expect(fusedNodes(graph.nodes)[0].attrs).toEqual({ transposeA: true, transposeB: true, activation: 'relu' });
  });

  test('without an activation the bias-add alone fuses', () => {
    const { g, pre } = layer();
    const { graph } = optimize(g, [square(pre)]);
    expect(ops(graph.nodes)).toEqual(['fusedMatMul', 'square']);
    expect(fusedNodes(graph.nodes)[0].attrs.activation).toBe('none');
  });

  test('float64 layers fuse', () => {
    const g = new Graph();
    const x = g.placeholder('x', [4, 3], 'float64');
    const y = relu(add(matMul(x, g.placeholder('w', [3, 2], 'float64')), g.placeholder('b', [2], 'float64')));
    expect(ops(optimize(g, [y]).graph.nodes)).toEqual(['fusedMatMul']);
  });

  test('the fused graph passes the verifier', () => {
    const { g, pre } = layer();
    const { graph, outputs } = optimize(g, [relu(pre)], { verify: true });
    expect(() => verifySlice({ graph, outputs: outputs.map((t) => t.id), bindings: new Map() }, 'test')).not.toThrow();
  });
});

describe('what does not fuse', () => {
  test('a matMul whose product is also read elsewhere', () => {
    const { g, x, w, b } = layer();
    const product = matMul(x, w);
    const y = add(relu(add(product, b)), sum(product));
    expect(fusedNodes(optimize(g, [y]).graph.nodes)).toEqual([]);
  });

  test('a fetched matMul', () => {
    const { g, x, w, b } = layer();
    const product = matMul(x, w);
    expect(fusedNodes(optimize(g, [product, relu(add(product, b))]).graph.nodes)).toEqual([]);
  });

  test('a fetched pre-activation: the bias-add fuses, the activation stays', () => {
    const { g, pre } = layer();
    const { graph } = optimize(g, [pre, relu(pre)]);
    expect(ops(graph.nodes)).toEqual(['fusedMatMul', 'relu']);
    expect(fusedNodes(graph.nodes)[0].attrs.activation).toBe('none');
  });

  test('a pre-activation read by another op besides the activation', () => {
    const { g, pre } = layer();
    const { graph } = optimize(g, [add(relu(pre), square(pre))], { disable: ['fuse'] });
    expect(ops(graph.nodes)).toEqual(['fusedMatMul', 'relu', 'square', 'add']);
  });

  test.each([
    ['a column [M, 1]', [4, 1]],
    ['a full [M, N]', [4, 2]],
    ['a scalar-like [1]', [1]],
  ])('a bias that is %s (not a row)', (_name, shape) => {
    const { g, pre } = layer({ b: shape });
    expect(fusedNodes(optimize(g, [relu(pre)]).graph.nodes)).toEqual([]);
  });

  test('a bias of higher rank than the product (the sum gains dims)', () => {
    const { g, pre } = layer({ b: [1, 1, 2] });
    expect(fusedNodes(optimize(g, [relu(pre)]).graph.nodes)).toEqual([]);
  });

  test('int32 products', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2, 2], 'int32');
    expect(fusedNodes(optimize(g, [relu(add(matMul(x, x), g.placeholder('b', [2], 'int32')))]).graph.nodes)).toEqual(
      [],
    );
  });

  test("at level 1, or with disable: ['epilogue']", () => {
    const { g, pre } = layer();
    expect(ops(optimize(g, [relu(pre)], { level: 1 }).graph.nodes)).toEqual(['matMul', 'add', 'relu']);
    const { graph } = optimize(g, [relu(pre)], { disable: ['epilogue', 'fuse'] });
    expect(ops(graph.nodes)).toEqual(['matMul', 'add', 'relu']);
  });
});

describe("relu's gradient mask", () => {
  test('golden: in a training graph the mask reads relu(x), and x fuses into the relu', () => {
    const { g, w, pre } = layer();
    const y = relu(pre);
    const [dw] = gradients(sum(y), [w]) as Tensor[];
    const { graph, report } = optimize(g, [y, dw], { disable: ['fuse'] });
    expect(graph.toString()).toBe(
      [
        '%0 = placeholder() : float32[4, 3]  # x',
        '%1 = placeholder() : float32[3, 2]  # w',
        '%2 = placeholder() : float32[2]  # b',
        '%3 = fusedMatMul(%0, %1, %2) {transposeA=false, transposeB=false, activation="relu"} : float32[4, 2]  # relu',
        '%4 = constant() <1, 1, 1, 1, 1, 1, 1, 1> : float32[4, 2]  # gradients/sum_grad/broadcastLike',
        '%5 = reluGrad(%4, %3) : float32[4, 2]  # gradients/relu_grad/reluGrad',
        '%6 = matMul(%0, %5) {transposeA=true, transposeB=false} : float32[3, 2]  # gradients/matMul_grad/matMul',
      ].join('\n'),
    );
    expect(report.find((r) => r.pass === 'epilogue')?.changes).toEqual({
      'relu-mask': 1,
      'matmul-bias': 1,
      'matmul-activation': 1,
    });
  });

  test('the mask stays on x when x is fetched (the move would free nothing)', () => {
    const { g, w, pre } = layer();
    const y = relu(pre);
    const [dw] = gradients(sum(y), [w]) as Tensor[];
    const { graph, report } = optimize(g, [pre, y, dw]);
    expect(report.find((r) => r.pass === 'epilogue')?.changes['relu-mask']).toBe(0);
    const mask = graph.nodes.find((n) => n.op === 'reluGrad') as Node;
    expect(graph.node(mask.inputs[1]).op).toBe('fusedMatMul');
    expect(graph.node(mask.inputs[1]).attrs.activation).toBe('none');
  });

  test('a mask written out as x > 0 moves to relu(x) too', () => {
    const { g, pre } = layer();
    const y = relu(pre);
    const mask = pre.greater(0);
    const { graph, report } = optimize(g, [y, mask], { disable: ['fuse'] });
    expect(report.find((r) => r.pass === 'epilogue')?.changes['relu-mask']).toBe(1);
    const greater = graph.nodes.find((n) => n.op === 'greater') as Node;
    expect(graph.node(greater.inputs[0]).op).toBe('fusedMatMul');
    expect(graph.node(greater.inputs[0]).attrs.activation).toBe('relu');
  });

  test('the mask moves to relu(x) for any x, so x dies at relu instead of living through the backward pass', () => {
    const g = new Graph();
    const x = g.placeholder('x', [8, 5]);
    const w = g.placeholder('w', [5, 6]);
    const h = relu(matMul(x, w)); // no bias: nothing to fuse, but the pre-activation need not be kept
    const [dw] = gradients(sum(h.mul(h)), [w]) as Tensor[];
    const { graph } = optimize(g, [dw], { disable: ['fuse'] });
    const mask = graph.nodes.find((n) => n.op === 'reluGrad') as Node;
    expect(graph.node(mask.inputs[1]).op).toBe('relu');
  });

  test('relu(x) > 0 equals x > 0 for NaN, ±0 and ±Inf', () => {
    const g = new Graph();
    const x = g.placeholder('x', [6]);
    const feeds = { x: [NaN, 0, -0, Infinity, -Infinity, 1e-45] };
    const session = new Session(g, { optimize: false });
    const [direct, viaRelu] = session.run([x.greater(0), relu(x).greater(0)], feeds);
    expect(Array.from(viaRelu.data)).toEqual(Array.from(direct.data));
  });

  test('the MLP training graph fuses both layers and gives the values level 0 gives', () => {
    const { g, fetches, feeds } = mlp();
    const { graph, report } = optimize(g, fetches);
    const fused = fusedNodes(graph.nodes).map((n) => n.attrs.activation);
    expect(fused.sort()).toEqual(['none', 'relu']);
    expect(graph.nodes.filter((n) => n.op === 'matMul')).toHaveLength(3); // dW1, dW2 and dH
    expect(report.find((r) => r.pass === 'epilogue')?.changes['relu-mask']).toBe(1);
    const on = new Session(g, { backend: 'js' }).run(fetches, feeds);
    const off = new Session(g, { backend: 'js', optimize: false }).run(fetches, feeds);
    on.forEach((value, i) => expectClose(value, off[i], 1e-6));
  });
});

describe('equivalence (property)', () => {
  const ACTS: readonly (FusedActivation | 'square')[] = ['none', 'relu', 'sigmoid', 'tanh', 'square'];
  test('random dense layers, their gradients and extra readers give the level-0 values at level 2', () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 4 }),
          k: fc.integer({ min: 1, max: 4 }),
          n: fc.integer({ min: 1, max: 4 }),
          batch: fc.boolean(),
          transposeA: fc.boolean(),
          transposeB: fc.boolean(),
          biasShape: fc.constantFrom('row', 'row2', 'column', 'full'),
          biasFirst: fc.boolean(),
          act: fc.constantFrom(...ACTS),
          fetchPre: fc.boolean(),
          shareProduct: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        (p) => {
          const rng = new Rng(p.seed);
          const g = new Graph();
          const lead = p.batch ? [2] : [];
          const a = g.placeholder('a', [...lead, ...(p.transposeA ? [p.k, p.m] : [p.m, p.k])], 'float64');
          const b = g.placeholder('b', p.transposeB ? [p.n, p.k] : [p.k, p.n], 'float64');
          const biasShape = { row: [p.n], row2: [1, p.n], column: [p.m, 1], full: [p.m, p.n] }[p.biasShape];
          const bias = g.placeholder('bias', biasShape, 'float64');
          const product = matMul(a, b, p.transposeA, p.transposeB);
          const pre = p.biasFirst ? add(bias, product) : add(product, bias);
          const activate = { none: (t: Tensor) => t, relu, sigmoid, tanh, square }[p.act];
          let y = activate(pre);
          if (p.shareProduct) y = add(y, sum(product));
          const fetches = [y, ...(p.fetchPre ? [pre] : [])];
          const grads = gradients(sum(y), [a, b, bias]) as Tensor[];
          const feeds = new Map([a, b, bias].map((t) => [t, randomArray(rng, t.shape as number[], 'float64')]));
          const all = [...fetches, ...grads];
          const on = new Session(g, { backend: 'js', optimize: { verify: true } }).run(all, feeds);
          const off = new Session(g, { backend: 'js', optimize: false }).run(all, feeds);
          on.forEach((value, i) => expectClose(value, off[i], 1e-12));
        },
      ),
      { numRuns: 60, seed: 20261126 },
    );
  });

  test('the pass object is named epilogue (the name options.disable takes)', () => {
    expect(epilogue.name).toBe('epilogue');
  });
});
