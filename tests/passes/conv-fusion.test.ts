/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The compiler's conv rewrites: the epilogue pass fuses conv2d + per-channel bias (+ relu/sigmoid/tanh) into one
 * fusedConv2d, and conv-bn folds a batchNorm with constant statistics into a constant filter and bias. Golden IR,
 * the cases that must not fire, equivalence with level 0 on random conv nets (values and gradients), an ONNX
 * Conv + BatchNormalization model folded and checked against ONNX Runtime, and fusedConv2d's ONNX export.
 */
import fc from 'fast-check';
import { onnx } from 'onnx-proto';
import {
  add,
  batchNorm,
  conv2d,
  convBatchNorm,
  depthwiseConv2d,
  exportOnnx,
  formatReport,
  fused,
  FusedActivation,
  gradients,
  Graph,
  groupedConv2d,
  importOnnx,
  mul,
  NDArray,
  Node,
  optimize,
  relu,
  Session,
  sigmoid,
  square,
  sub,
  sum,
  tanh,
  Tensor,
} from '../../src';
import { runOrt } from '../interop/ort';
import { expectClose, randomArray, Rng } from '../ops/util';

const ops = (nodes: readonly Node[]): string[] => nodes.filter((n) => n.inputs.length > 0).map((n) => n.op);
const fusedConvs = (nodes: readonly Node[]): Node[] => nodes.filter((n) => n.op === 'fusedConv2d');
const changesOf = (report: ReturnType<typeof optimize>['report'], pass: string) =>
  report.find((r) => r.pass === pass)?.changes ?? {};

/** x [1, 5, 5, 2] conv f [3, 3, 2, 3] 'same' + b: the conv layer, NHWC, all placeholders. */
function layer(shapes: { b?: number[] } = {}) {
  const g = new Graph();
  const x = g.placeholder('x', [1, 5, 5, 2]);
  const f = g.placeholder('f', [3, 3, 2, 3]);
  const b = g.placeholder('b', shapes.b ?? [3]);
  const conv = conv2d(x, f, 1, 'same');
  return { g, x, f, b, conv, pre: add(conv, b) };
}

/** Runs fetches at level 2 and level 0 (JS backend) and checks they agree. */
function expectSameAsUnoptimized(g: Graph, fetches: Tensor[], feeds: Map<Tensor, NDArray>, tol: number): void {
  const on = new Session(g, { backend: 'js', optimize: { verify: true } }).run(fetches, feeds);
  const off = new Session(g, { backend: 'js', optimize: false }).run(fetches, feeds);
  on.forEach((value, i) => expectClose(value, off[i], tol));
}

describe('conv epilogue fusion', () => {
  test('golden: relu(conv2d(x, f) + b) becomes one fusedConv2d with the relu', () => {
    const { g, pre } = layer();
    const { graph } = optimize(g, [relu(pre)]);
    expect(graph.toString()).toBe(
      [
        '%0 = placeholder() : float32[1, 5, 5, 2]  # x',
        '%1 = placeholder() : float32[3, 3, 2, 3]  # f',
        '%2 = placeholder() : float32[3]  # b',
        '%3 = fusedConv2d(%0, %1, %2) {strides=[1,1], dilations=[1,1], pad="same", dataFormat="NHWC", ' +
          'activation="relu"} : float32[1, 5, 5, 3]  # relu',
      ].join('\n'),
    );
  });

  test('the report counts the bias-add and the activation it fused', () => {
    const { g, pre } = layer();
    const { report } = optimize(g, [sigmoid(pre)]);
    const line = formatReport(report.find((r) => r.pass === 'epilogue') as (typeof report)[number]);
    expect(line).toMatch(/^epilogue nodes 6 → 4 \(−2\) {2}conv-bias 1, conv-activation 1 /);
  });

  test.each([
    ['NHWC [1, 1, 1, C]', 'NHWC', [1, 1, 1, 3]],
    ['NCHW [C, 1, 1] (an ONNX Conv bias as imported)', 'NCHW', [3, 1, 1]],
    ['NCHW [1, C, 1, 1]', 'NCHW', [1, 3, 1, 1]],
  ] as const)('a bias %s fuses', (_name, format, biasShape) => {
    const g = new Graph();
    const x = g.placeholder('x', format === 'NHWC' ? [1, 4, 4, 2] : [1, 2, 4, 4]);
    const y = tanh(
      add(conv2d(x, g.placeholder('f', [3, 3, 2, 3]), 1, 'valid', format), g.placeholder('b', [...biasShape])),
    );
    const { graph } = optimize(g, [y]);
    expect(ops(graph.nodes)).toEqual(['fusedConv2d']);
    expect(fusedConvs(graph.nodes)[0].attrs).toMatchObject({ dataFormat: format, activation: 'tanh' });
  });

  test('a bias first, add(b, conv), and a conv without activation fuse', () => {
    const { g, b, conv } = layer();
    const { graph } = optimize(g, [square(add(b, conv))]);
    expect(ops(graph.nodes)).toEqual(['fusedConv2d', 'square']);
    expect(fusedConvs(graph.nodes)[0].attrs.activation).toBe('none');
  });

  test('depthwise and grouped convs fuse, keeping their groups', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 6, 6, 4]);
    const depthwise = depthwiseConv2d(x, g.placeholder('d', [3, 3, 4, 2]), 1, 'same');
    const h = relu(add(depthwise, g.placeholder('b1', [8])));
    const grouped = groupedConv2d(h, g.placeholder('w', [1, 1, 4, 6]), 2, 1, 'valid');
    const y = sigmoid(add(grouped, g.placeholder('b2', [6])));
    const { graph } = optimize(g, [y]);
    expect(fusedConvs(graph.nodes).map((n) => [n.attrs.groups, n.attrs.activation])).toEqual([
      [4, 'relu'],
      [2, 'sigmoid'],
    ]);
  });

  test("a session's explain shows the fusedConv2d step and the epilogue's report line", () => {
    const { g, x, f, b, pre } = layer();
    const rng = new Rng(4);
    const feeds = new Map([x, f, b].map((t) => [t, randomArray(rng, t.shape as number[], 'float32')]));
    const text = new Session(g, { backend: 'js' }).explain([relu(pre)], feeds);
    expect(text).toMatch(/fusedConv2d\(%0, %1, %2\) \{[^}]*activation="relu"\}/);
    expect(text).toMatch(/epilogue nodes 6 → 4 \(−2\) {2}conv-bias 1, conv-activation 1/);
  });

  test("in a training graph relu's mask moves to the fused output, and the gradients equal level 0's", () => {
    const { g, x, f, b, pre } = layer();
    const y = relu(pre);
    const grads = gradients(sum(mul(y, y)), [x, f, b]) as Tensor[];
    const { graph, report } = optimize(g, [y, ...grads], { disable: ['fuse'] });
    expect(changesOf(report, 'epilogue')).toMatchObject({ 'relu-mask': 1, 'conv-bias': 1, 'conv-activation': 1 });
    const mask = graph.nodes.find((n) => n.op === 'reluGrad') as Node;
    expect(graph.node(mask.inputs[1]).op).toBe('fusedConv2d');
    const rng = new Rng(3);
    const feeds = new Map([x, f, b].map((t) => [t, randomArray(rng, t.shape as number[], 'float32')]));
    expectSameAsUnoptimized(g, [y, ...grads], feeds, 1e-5);
  });
});

describe('what the epilogue does not fuse', () => {
  test('a conv whose output is also read elsewhere', () => {
    const { g, conv, pre } = layer();
    expect(fusedConvs(optimize(g, [add(relu(pre), conv)]).graph.nodes)).toEqual([]);
  });

  test('a fetched conv', () => {
    const { g, conv, pre } = layer();
    expect(fusedConvs(optimize(g, [conv, relu(pre)]).graph.nodes)).toEqual([]);
  });

  test('a fetched pre-activation: the bias-add fuses, the activation stays', () => {
    const { g, pre } = layer();
    const { graph } = optimize(g, [pre, relu(pre)], { disable: ['fuse'] });
    expect(ops(graph.nodes)).toEqual(['fusedConv2d', 'relu']);
    expect(fusedConvs(graph.nodes)[0].attrs.activation).toBe('none');
  });

  test.each([
    ['a full [1, 5, 5, 3]', [1, 5, 5, 3]],
    ['a per-column [5, 1]', [5, 1]],
    ['a scalar-like [1]', [1]],
    ['of higher rank than the output', [1, 1, 1, 1, 3]],
  ])('a bias that is %s (not per channel)', (_name, shape) => {
    const { g, pre } = layer({ b: shape });
    expect(fusedConvs(optimize(g, [relu(pre)]).graph.nodes)).toEqual([]);
  });

  test('an NCHW bias [C], which broadcasts along the width, not the channels', () => {
    const g = new Graph();
    const x = g.placeholder('x', [1, 2, 4, 4]);
    const conv = conv2d(x, g.placeholder('f', [1, 1, 2, 4]), 1, 'valid', 'NCHW');
    expect(fusedConvs(optimize(g, [relu(add(conv, g.placeholder('b', [4])))]).graph.nodes)).toEqual([]);
  });

  test("at level 1, or with disable: ['epilogue']", () => {
    const { g, pre } = layer();
    expect(ops(optimize(g, [relu(pre)], { level: 1 }).graph.nodes)).toEqual(['conv2d', 'add', 'relu']);
    expect(ops(optimize(g, [relu(pre)], { disable: ['epilogue', 'fuse'] }).graph.nodes)).toEqual([
      'conv2d',
      'add',
      'relu',
    ]);
  });
});

/** A conv net layer with constant weights and a batchNorm over constant statistics (inference). */
function bnLayer(options: { format?: 'NHWC' | 'NCHW'; bias?: boolean; seed?: number } = {}) {
  const rng = new Rng(options.seed ?? 7);
  const format = options.format ?? 'NHWC';
  const g = new Graph();
  const x = g.placeholder('x', format === 'NHWC' ? [2, 5, 5, 2] : [2, 2, 5, 5]);
  const f = g.constant(randomArray(rng, [3, 3, 2, 4], 'float32'), 'float32', 'f');
  const stat = (lo = -1, hi = 1) => {
    const value = randomArray(rng, [4], 'float32', { lo, hi });
    return format === 'NHWC' ? g.constant(value) : g.constant(value).reshape([4, 1, 1]);
  };
  let conv = conv2d(x, f, 1, 'same', format);
  if (options.bias === true) conv = add(conv, stat());
  const y = batchNorm(conv, stat(), stat(0.5, 2), stat(), stat(0.5, 1.5), 1e-3);
  const feeds = new Map([[x, randomArray(rng, x.shape as number[], 'float32')]]);
  return { g, x, f, conv, y, feeds, stat };
}

describe('batchNorm folded into the conv', () => {
  test('golden: relu(batchNorm(conv2d(x, f))) with constant f and statistics is one fusedConv2d', () => {
    const { g, y } = bnLayer();
    const { graph, report } = optimize(g, [relu(y)]);
    expect(ops(graph.nodes)).toEqual(['fusedConv2d']);
    const node = fusedConvs(graph.nodes)[0];
    expect(graph.toString().split('\n').at(-1)).toBe(
      `%3 = fusedConv2d(%0, %1, %2) {strides=[1,1], dilations=[1,1], pad="same", dataFormat="NHWC", ` +
        `activation="relu"} : float32[2, 5, 5, 4]  # relu`,
    );
    expect(graph.node(node.inputs[1]).op).toBe('constant');
    expect(graph.node(node.inputs[2]).shape).toEqual([4]);
    expect(changesOf(report, 'conv-bn')).toEqual({ 'batchnorm-into-conv': 1, 'affine-steps': 3 });
    expect(changesOf(report, 'epilogue')).toMatchObject({ 'conv-activation': 1 });
  });

  test.each([
    ['NHWC', 'NHWC', false],
    ['NHWC with a conv bias', 'NHWC', true],
    ['NCHW with a conv bias', 'NCHW', true],
  ] as const)('the folded values equal the unfolded ones up to rounding: %s', (_name, format, bias) => {
    const { g, y, feeds } = bnLayer({ format, bias, seed: 11 });
    const { graph } = optimize(g, [sigmoid(y)]);
    expect(ops(graph.nodes)).toEqual(['fusedConv2d']);
    expectSameAsUnoptimized(g, [sigmoid(y), y], feeds, 1e-5);
  });

  test('a depthwise conv and a fused.conv2d with a constant bias fold too', () => {
    const rng = new Rng(5);
    const g = new Graph();
    const x = g.placeholder('x', [1, 6, 6, 3]);
    const c = (shape: number[], lo = -1, hi = 1) => g.constant(randomArray(rng, shape, 'float32', { lo, hi }));
    const d = batchNorm(depthwiseConv2d(x, c([3, 3, 3, 2]), 1, 'same'), c([6]), c([6], 0.5, 2), c([6]), c([6]));
    const conv = fused.conv2d({ x: d, filter: c([1, 1, 6, 4]), strides: 1, pad: 'valid', bias: c([4]) });
    const y = batchNorm(conv, c([4]), c([4], 0.5, 2), c([4]), c([4]));
    const { graph, report } = optimize(g, [y]);
    expect(ops(graph.nodes)).toEqual(['fusedConv2d', 'fusedConv2d']);
    expect(changesOf(report, 'conv-bn')['batchnorm-into-conv']).toBe(2);
    expectSameAsUnoptimized(g, [y], new Map([[x, randomArray(rng, [1, 6, 6, 3], 'float32')]]), 1e-5);
  });

  test('a variable filter is not folded (training would change it); the bias-add still fuses', () => {
    const rng = new Rng(8);
    const g = new Graph();
    const x = g.placeholder('x', [1, 4, 4, 2]);
    const w = g.variable('w', randomArray(rng, [3, 3, 2, 3], 'float32'));
    const y = batchNorm(conv2d(x, w, 1, 'same'), [0.1, 0.2, 0.3], [1, 2, 3], [0, 1, 0], [1, 1, 2]);
    const { graph, report } = optimize(g, [y]);
    expect(changesOf(report, 'conv-bn')['batchnorm-into-conv']).toBe(0);
    expect(graph.nodes.some((n) => n.op === 'conv2d')).toBe(true);
  });

  test('statistics that are variables or placeholders are not folded', () => {
    for (const kind of ['variable', 'placeholder'] as const) {
      const { g, conv, stat } = bnLayer();
      const mean = kind === 'variable' ? g.variable('mean', [0.1, 0.2, 0.3, 0.4]) : g.placeholder('mean', [4]);
      const y = batchNorm(conv, mean, stat(0.5, 2), stat(), stat(0.5, 1.5));
      expect(fusedConvs(optimize(g, [y]).graph.nodes)).toEqual([]);
    }
  });

  test('a conv or an intermediate that is read elsewhere or fetched is not folded', () => {
    const cases: ((l: ReturnType<typeof bnLayer>) => Tensor[])[] = [
      (l) => [l.y, l.conv], // the conv fetched
      (l) => [add(l.y, l.conv)], // the conv read elsewhere
      (l) => {
        const centered = sub(l.conv, l.stat());
        return [mul(centered, l.stat(0.5, 2)), centered]; // an intermediate fetched
      },
    ];
    for (const fetches of cases) {
      const l = bnLayer();
      const { report } = optimize(l.g, fetches(l));
      expect(changesOf(report, 'conv-bn')['batchnorm-into-conv']).toBe(0);
    }
  });

  test('a zero scale (γ = 0) is not folded, so an Inf of the conv stays NaN as unfolded', () => {
    const { g, conv, stat } = bnLayer();
    const y = batchNorm(conv, stat(), stat(0.5, 2), stat(), [1, 0, 1, 1]);
    expect(changesOf(optimize(g, [y]).report, 'conv-bn')['batchnorm-into-conv']).toBe(0);
  });

  test('a bias-add alone is left to the epilogue (exact), and the pass is named conv-bn', () => {
    const { g, conv, stat } = bnLayer();
    const { report } = optimize(g, [add(conv, stat())]);
    expect(changesOf(report, 'conv-bn')['batchnorm-into-conv']).toBe(0);
    expect(changesOf(report, 'epilogue')['conv-bias']).toBe(1);
    expect(convBatchNorm.name).toBe('conv-bn');
    const l = bnLayer();
    expect(ops(optimize(l.g, [l.y], { disable: ['conv-bn'] }).graph.nodes)).not.toContain('fusedConv2d');
  });
});

describe('equivalence (property)', () => {
  const ACTS: readonly (FusedActivation | 'square')[] = ['none', 'relu', 'sigmoid', 'tanh', 'square'];
  test('random conv layers (bias forms, groups, batchNorm, extra readers) give the level-0 values and gradients', () => {
    fc.assert(
      fc.property(
        fc.record({
          nchw: fc.boolean(),
          groups: fc.constantFrom(1, 2),
          perGroupIn: fc.integer({ min: 1, max: 2 }),
          perGroupOut: fc.integer({ min: 1, max: 2 }),
          size: fc.integer({ min: 3, max: 5 }),
          kernel: fc.integer({ min: 1, max: 3 }),
          stride: fc.constantFrom(1, 2),
          pad: fc.constantFrom('same', 'valid'),
          biasForm: fc.constantFrom('vector', 'full-rank', 'none', 'wrong'),
          constantFilter: fc.boolean(),
          batchNorm: fc.boolean(),
          act: fc.constantFrom(...ACTS),
          fetchConv: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        (p) => {
          const rng = new Rng(p.seed);
          const g = new Graph();
          const inC = p.groups * p.perGroupIn;
          const outC = p.groups * p.perGroupOut;
          const format = p.nchw ? 'NCHW' : 'NHWC';
          const xShape = p.nchw ? [2, inC, p.size, p.size] : [2, p.size, p.size, inC];
          const x = g.placeholder('x', xShape, 'float64');
          const fShape = [p.kernel, p.kernel, p.perGroupIn, outC];
          const f = p.constantFilter
            ? g.constant(randomArray(rng, fShape, 'float64'), 'float64', 'f')
            : g.placeholder('f', fShape, 'float64');
          const channelShape = p.nchw ? [outC, 1, 1] : [outC];
          const conv = groupedConv2d(x, f, p.groups, p.stride, p.pad, format);
          const biasShape = { vector: channelShape, 'full-rank': p.nchw ? [1, outC, 1, 1] : [1, 1, 1, outC] }[
            p.biasForm as 'vector'
          ] ?? [1, 1, 1, 1];
          let pre = p.biasForm === 'none' ? conv : add(conv, g.constant(randomArray(rng, biasShape, 'float64')));
          if (p.batchNorm) {
            const stat = (lo: number, hi: number) =>
              g.constant(randomArray(rng, channelShape, 'float64', { lo, hi }), 'float64');
            pre = batchNorm(pre, stat(-1, 1), stat(0.5, 2), stat(-1, 1), stat(0.5, 1.5));
          }
          const activate = { none: (t: Tensor) => t, relu, sigmoid, tanh, square }[p.act];
          const y = activate(pre);
          const wrt = p.constantFilter ? [x] : [x, f];
          const grads = gradients(sum(mul(y, y)), wrt) as Tensor[];
          const fetches = [y, ...grads, ...(p.fetchConv ? [conv] : [])];
          const feeds = new Map(wrt.map((t) => [t, randomArray(rng, t.shape as number[], 'float64')]));
          // Folding a batchNorm rounds differently: the values agree to float64 rounding, not bit for bit.
          expectSameAsUnoptimized(g, fetches, feeds, 1e-9);
        },
      ),
      { numRuns: 40, seed: 20261206 },
    );
  });
});

/** An ONNX model: Conv (with bias) → BatchNormalization → Relu → Conv (no bias, grouped) → BatchNormalization. */
function convBnModel(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const tensor = (name: string, dims: number[], lo = -1, hi = 1): onnx.ITensorProto => ({
    name,
    dims,
    dataType: 1,
    floatData: Array.from(randomArray(rng, dims, 'float32', { lo, hi }).data),
  });
  const bn = (prefix: string, c: number) => [
    tensor(`${prefix}.scale`, [c], 0.5, 1.5),
    tensor(`${prefix}.bias`, [c]),
    tensor(`${prefix}.mean`, [c]),
    tensor(`${prefix}.var`, [c], 0.5, 2),
  ];
  const ints = (name: string, values: number[]): onnx.IAttributeProto => ({
    name,
    type: onnx.AttributeProto.AttributeType.INTS,
    ints: values,
  });
  const node = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []) => ({
    opType,
    input,
    output: [output],
    name: output,
    attribute,
  });
  const bnInputs = (prefix: string) => ['scale', 'bias', 'mean', 'var'].map((s) => `${prefix}.${s}`);
  const model: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 11 }],
    graph: {
      name: 'conv_bn',
      initializer: [tensor('w1', [4, 2, 3, 3]), tensor('b1', [4]), ...bn('bn1', 4), tensor('w2', [4, 2, 3, 3]), ...bn('bn2', 4)],
      node: [
        node('Conv', ['x', 'w1', 'b1'], 'c1', [ints('pads', [1, 1, 1, 1])]),
        node('BatchNormalization', ['c1', ...bnInputs('bn1')], 'n1'),
        node('Relu', ['n1'], 'r1'),
        node('Conv', ['r1', 'w2'], 'c2', [ints('strides', [2, 2]), { name: 'group', type: 2, i: 2 }]),
        node('BatchNormalization', ['c2', ...bnInputs('bn2')], 'y'),
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [1, 2, 7, 7].map((d) => ({ dimValue: d })) } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [1, 4, 3, 3].map((d) => ({ dimValue: d })) } } } }],
    },
  }; // prettier-ignore
  return onnx.ModelProto.encode(model).finish();
}

describe('ONNX', () => {
  test('a Conv + BatchNormalization model imported with constant initializers folds, and matches ONNX Runtime', async () => {
    const bytes = convBnModel(31);
    const input = randomArray(new Rng(32), [1, 2, 7, 7], 'float32');
    const expected = (await runOrt(bytes, new Map([['x', input]]))).get('y') as NDArray;
    const imported = importOnnx(bytes, { initializersAs: 'constant' });
    const x = imported.inputs.get('x') as Tensor;
    const { graph, report } = optimize(imported.graph, imported.outputs);
    expect(ops(graph.nodes)).toEqual(['fusedConv2d', 'fusedConv2d']);
    expect(fusedConvs(graph.nodes).map((n) => [n.attrs.groups ?? 1, n.attrs.activation])).toEqual([
      [1, 'relu'],
      [2, 'none'],
    ]);
    expect(changesOf(report, 'conv-bn')['batchnorm-into-conv']).toBe(2);
    const folded = new Session(imported.graph).run(imported.outputs[0], new Map([[x, input]]));
    expectClose(folded, expected, 1e-5);
    // Imported as variables (the default, trainable), nothing folds, and the values are the same.
    const trainable = importOnnx(bytes);
    expect(changesOf(optimize(trainable.graph, trainable.outputs).report, 'conv-bn')['batchnorm-into-conv']).toBe(0);
  });

  const EXPORTS: readonly [string, 'NHWC' | 'NCHW', number, FusedActivation][] = [
    ['NHWC relu', 'NHWC', 1, 'relu'],
    ['NHWC sigmoid, 2 groups', 'NHWC', 2, 'sigmoid'],
    ['NCHW tanh', 'NCHW', 1, 'tanh'],
    ['NCHW none', 'NCHW', 1, 'none'],
  ];
  test.each(EXPORTS)('fusedConv2d %s exports as Conv + activation and runs in ONNX Runtime', async (_n, format, groups, act) => {
    const rng = new Rng(40 + groups);
    const g = new Graph();
    const x = g.placeholder('x', format === 'NHWC' ? [2, 6, 5, 4] : [2, 4, 6, 5]);
    const f = g.placeholder('f', [3, 3, 4 / groups, 6]);
    const b = g.placeholder('b', format === 'NHWC' ? [6] : [6, 1, 1]);
    const y = act === 'none' ? add(groupedConv2d(x, f, groups, 2, 'same', format), b) : { relu, sigmoid, tanh }[act](
      add(groupedConv2d(x, f, groups, 2, 'same', format), b),
    );
    const { graph, outputs } = optimize(g, [y]);
    expect(ops(graph.nodes)).toEqual(['fusedConv2d']);
    const values = new Map([x, f, b].map((t) => [t, randomArray(rng, t.shape as number[], 'float32')]));
    const feeds = new Map([...values].map(([t, v]) => [t.name, v]));
    const bytes = exportOnnx(graph, { outputs: { y: outputs[0] } });
    const types = onnx.ModelProto.decode(bytes).graph?.node?.map((n) => n.opType) ?? [];
    expect(types.filter((t) => t === 'Conv' || t === 'Relu' || t === 'Sigmoid' || t === 'Tanh')).toEqual(
      ['Conv', ...(act === 'none' ? [] : [{ relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' }[act]])],
    );
    const expected = new Session(g).run(y, values);
    const ort = (await runOrt(bytes, feeds)).get('y') as NDArray;
    expectClose(ort, expected, 2e-5);
    const back = importOnnx(bytes);
    expect(back.graph.nodes.filter((n) => n.op === 'fusedConv2d')).toHaveLength(1);
  }); // prettier-ignore
});
