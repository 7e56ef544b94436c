import {
  addOp,
  allOps,
  apply,
  AttrKind,
  Attrs,
  cast,
  concat,
  cumsum,
  customGradient,
  DTypeError,
  expandDims,
  fused,
  fusedMatMul,
  gather,
  gradients,
  Graph,
  GraphError,
  identity,
  isLeafOp,
  LazygradError,
  logSoftmax,
  logSumExp,
  matMul,
  max,
  mean,
  min,
  oneHot,
  opRecord,
  optimize,
  pad,
  prod,
  randomNormal,
  randomUniform,
  reshape,
  reverse,
  scatterAdd,
  ShapeError,
  slice,
  softmax,
  softmaxCrossEntropyWithLogits,
  squeeze,
  stack,
  stridedSlice,
  sum,
  Tensor,
  tile,
  transpose,
  truncatedNormal,
  windowSum,
  localResponseNormalization,
  unstack,
  all,
  any,
  argMax,
  argMin,
  broadcastTo,
  exp,
  mul,
  add,
  greater,
  avgPool,
  maxPoolWithArgmax,
  pool,
  sin,
  square,
  groupedConv2d,
  SOFTMAX_CROSS_ENTROPY,
} from '../src';
import { reshapeDims, resizeBilinear, resizeNearestNeighbor } from '../src';
import { avgPool3d, conv3d, maxPool3d } from '../src';
import { cond, less, neg, scan, whileLoop } from '../src';

type ErrorClass = new (message: string) => LazygradError;

/** One bad value per attribute kind: the op, its inputs' shapes, good attrs, the attr broken and its bad value. */
interface BadCase {
  readonly kind: AttrKind;
  readonly op: string;
  readonly inputs: readonly (readonly number[])[];
  readonly attrs: Attrs;
  readonly attr: string;
  readonly bad: Attrs[string] | undefined;
  readonly errorClass: ErrorClass;
  /** What the message says would be valid. */
  readonly valid: string;
}

const RANDOM = { shape: [2], dtype: 'float32', minval: 0, maxval: 1, seed: 1 } as const;
const SLICE = { begin: [0], end: [1], strides: [1], shrinkAxes: [], newAxes: [] } as const;

const CASES: readonly BadCase[] = [
  {
    kind: 'bool',
    op: 'matMul',
    inputs: [
      [2, 2],
      [2, 2],
    ],
    attrs: {},
    attr: 'transposeA',
    bad: 'yes',
    errorClass: GraphError,
    valid: 'must be true or false',
  },
  {
    kind: 'int',
    op: 'concat',
    inputs: [[2], [3]],
    attrs: { axis: 0 },
    attr: 'axis',
    bad: 0.5,
    errorClass: ShapeError,
    valid: 'must be an integer',
  },
  {
    kind: 'number',
    op: 'pad',
    inputs: [[2]],
    attrs: { paddings: [[1, 1]], constantValue: 0 },
    attr: 'constantValue',
    bad: '0',
    errorClass: GraphError,
    valid: 'must be a number',
  },
  {
    kind: 'dtype',
    op: 'cast',
    inputs: [[2]],
    attrs: { dtype: 'int32' },
    attr: 'dtype',
    bad: 'float16',
    errorClass: DTypeError,
    valid: 'valid: float32, float64, int32, bool',
  },
  {
    kind: 'ints',
    op: 'transpose',
    inputs: [[2, 3]],
    attrs: { perm: [1, 0] },
    attr: 'perm',
    bad: [1, '0'],
    errorClass: ShapeError,
    valid: 'must be a list of integers',
  },
  {
    kind: 'dims',
    op: 'randomUniform',
    inputs: [],
    attrs: RANDOM,
    attr: 'shape',
    bad: [2, -1],
    errorClass: ShapeError,
    valid: 'must be a list of non-negative integers or null',
  },
  {
    kind: 'bounds',
    op: 'stridedSlice',
    inputs: [[3]],
    attrs: SLICE,
    attr: 'begin',
    bad: [0.5],
    errorClass: ShapeError,
    valid: 'must be a list of integers or null',
  },
  {
    kind: 'pairs',
    op: 'pad',
    inputs: [[2]],
    attrs: { paddings: [[1, 1]], constantValue: 0 },
    attr: 'paddings',
    bad: [[1, 1, 1]],
    errorClass: ShapeError,
    valid: 'must be a list of [before, after] integer pairs',
  },
  {
    kind: 'seed',
    op: 'randomNormal',
    inputs: [],
    attrs: { shape: [2], dtype: 'float32', mean: 0, stdDev: 1, seed: 1 },
    attr: 'seed',
    bad: true,
    errorClass: GraphError,
    valid: 'must be a number or a string',
  },
  {
    kind: 'string',
    op: 'fusedMatMul',
    inputs: [[2, 2], [2, 2], [2]],
    attrs: { activation: 'relu' },
    attr: 'activation',
    bad: 1,
    errorClass: GraphError,
    valid: 'must be a string',
  },
  {
    kind: 'steps',
    op: 'fused',
    inputs: [[2]],
    attrs: { dtype: 'float32', steps: [{ op: 'exp', args: [{ input: 0 }] }] },
    attr: 'steps',
    bad: [{ op: 'exp', args: [{ input: 1 }] }],
    errorClass: GraphError,
    valid: 'is not {input: k}, {step: earlier j} or {value: number}',
  },
];

function inputsOf(g: Graph, shapes: readonly (readonly number[])[]): number[] {
  return shapes.map((shape, i) => g.placeholder(`in${i}`, shape).id);
}

describe('attribute schemas checked in addOp', () => {
  test('the cases cover every attribute kind', () => {
    const kinds: AttrKind[] = [
      'bool', 'int', 'number', 'dtype', 'ints', 'dims', 'bounds', 'pairs', 'seed', 'string', 'steps',
    ]; // prettier-ignore
    expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set(kinds));
  });

  for (const c of CASES) {
    test(`a bad ${c.kind} attribute is refused, naming the op, the node, the attribute and what is valid`, () => {
      const g = new Graph();
      const ids = inputsOf(g, c.inputs);
      const record = opRecord(c.op);
      // The good attrs build: the check refuses only the bad value.
      expect(() => addOp(g, record, ids, c.attrs, 'good')).not.toThrow();
      let error: unknown;
      g.nameScope('layer', () => {
        try {
          addOp(g, record, ids, { ...c.attrs, [c.attr]: c.bad ?? null }, 'bad');
        } catch (e) {
          error = e;
        }
      });
      expect(error).toBeInstanceOf(c.errorClass);
      const message = (error as Error).message;
      expect(message).toContain(`${c.op} 'layer/bad'`);
      expect(message).toContain(`attribute '${c.attr}'`);
      expect(message).toContain(c.valid);
      expect(g.nodes.some((n) => n.name === 'layer/bad')).toBe(false);
    });
  }

  test('a missing attribute is refused; a missing optional one is not', () => {
    const g = new Graph();
    const [x] = inputsOf(g, [[2, 3]]);
    expect(() => addOp(g, opRecord('sum'), [x], { keepDims: true })).toThrow(
      /sum 'sum' \(inputs: 'in0' float32\[2, 3\]\): attribute 'axes' is missing; it must be a list of integers/,
    );
    expect(() => addOp(g, opRecord('sum'), [x], { axes: [0] })).not.toThrow();
  });

  test('builders refuse bad arguments with the same errors as before the schemas', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    expect(() => cast(x, 'float16' as 'float32')).toThrow(DTypeError);
    expect(() => cast(x, 'float16' as 'float32')).toThrow(/unknown target dtype 'float16'/);
    expect(() => reshape(x, [2.5])).toThrow(ShapeError);
  });
});

/**
 * Builds every op that has attributes through its public builder (or, for gradient-only ops, through gradients and
 * the optimizer), so the test below sees the attrs the library itself writes.
 */
function everyOpGraph(): Graph {
  const g = new Graph();
  const x = g.placeholder('x', [2, 3]);
  const open = g.placeholder('open', [null, 3]);
  const ids = g.placeholder('ids', [2], 'int32');
  const outputs: Tensor[] = [
    cast(x, 'float64'),
    reshape(x, [3, 2]),
    transpose(x),
    broadcastTo(g.placeholder('row', [3]), [2, 3]),
    squeeze(expandDims(x, 0), 0),
    concat([x, x], 1),
    stack([x, x], 0),
    ...unstack(x, 0),
    slice(x, [0, 1], [2, 2]),
    stridedSlice(x, [0, -1], [2, 0], [1, -1]),
    gather(x, ids, 0),
    scatterAdd(x, ids, x, 0),
    tile(x, [2, 1]),
    pad(x, [
      [1, 0],
      [0, 1],
    ]),
    reverse(x, 1),
    oneHot(ids, 4),
    cumsum(x, 1, true, true),
    sum(x, 1, true),
    max(x, 0),
    min(x),
    prod(x, 1),
    logSumExp(x, 1),
    all(greater(x, 0), 1),
    any(greater(x, 0)),
    argMax(x, 1),
    argMin(x, 0),
    mean(open, 0),
    matMul(x, x, false, true),
    fusedMatMul({ a: x, b: transpose(x), bias: g.placeholder('bias', [2]), activation: 'relu' }),
    softmax(x),
    logSoftmax(x),
    softmaxCrossEntropyWithLogits(x, x),
    apply(SOFTMAX_CROSS_ENTROPY, [x, x], { axis: 1 }),
    randomUniform([2], 0, 1, 'float32', 3, g),
    randomUniform([2], 0, 1, 'float32', undefined, g),
    randomNormal([2], 0, 1, 'float32', 'seed', g),
    truncatedNormal([2], 0, 1, 'float32', 5, g),
    customGradient((v: Tensor) => ({ value: identity(v), gradFunc: (dy: Tensor) => [dy] }))(x),
    windowSum(x, -1, 1),
    localResponseNormalization(x, 1, 1, 0.5, 0.75),
  ];
  // Convolutions: a grouped conv2d with explicit pads, and its gradient ops (reading unknown dims at run time).
  const image = g.placeholder('image', [null, null, null, 4]);
  const kernel = g.placeholder('kernel', [3, 3, 2, 4]);
  const conv = groupedConv2d(image, kernel, 2, 1, [
    [0, 0],
    [1, 1],
    [0, 2],
    [0, 0],
  ]);
  outputs.push(conv, ...(gradients(sum(conv), [image, kernel]) as Tensor[]));
  const w = g.variable('w', [[1, 2, 3]], { trainable: false });
  // Gradient-only ops: concatPart (concat of unknown sizes), stridedSliceGrad, sumTiles, prodExcept.
  const loss = sum(
    add(mul(concat([open, open], 0), 2), sum(mul(tile(slice(x, [0, 0], [1, 3]), [2, 1]), prod(add(x, w), 1, true)))),
  );
  outputs.push(...(gradients(loss, [x, open]).filter((t) => t !== null) as Tensor[]));
  outputs.push(loss);
  // The image family, with their gradient ops.
  const picture = g.placeholder('picture', [1, 2, 3, 1]);
  const resized = [resizeBilinear(picture, [3, 4], true), resizeNearestNeighbor(picture, [4, 2], false, true)];
  outputs.push(...resized, ...(gradients(sum(add(resized[0], sum(resized[1]))), [picture]) as Tensor[]));
  // Run-time shapes: reshapeDims reading dims of its input (one scaled) and inferring one.
  outputs.push(reshapeDims(picture, [{ of: picture, axis: 0 }, { of: picture, axis: 2, factor: 2 }, -1]));
  // Pooling and its gradient ops (maxPoolGradGrad is the gradient of maxPoolGrad).
  const poolImage = g.placeholder('poolImage', [1, 4, 4, 2]);
  const pooled = add(sum(sin(pool(poolImage, 2, 'max', 'same', 2))), sum(avgPool(poolImage, 2, 2, 'valid')));
  const [dImage] = gradients(pooled, [poolImage]);
  outputs.push(maxPoolWithArgmax(poolImage, 2, 2, 'valid', true).indexes);
  outputs.push(...(gradients(sum(square(dImage as Tensor)), [poolImage]).filter((t) => t !== null) as Tensor[]));
  // fusedConv2d, through fused.depthwiseConv2d (a grouped conv with a bias and an activation).
  const dwKernel = g.placeholder('dwKernel', [3, 3, 2, 1]);
  const dwBias = g.placeholder('dwBias', [2]);
  outputs.push(fused.depthwiseConv2d({ x: poolImage, filter: dwKernel, strides: 1, pad: 'same', bias: dwBias }));
  // 3-D convolution and pooling with their gradient ops (maxPool3dGradGrad: the gradient of maxPool3dGrad).
  const volume = g.placeholder('volume', [null, 4, 4, 4, 2]);
  const kernel3 = g.placeholder('kernel3', [2, 2, 2, 2, 2]);
  const conv3 = conv3d(volume, kernel3, 1, 'same');
  const pooled3 = add(sum(sin(maxPool3d(conv3, 2, 1, 'valid'))), sum(avgPool3d(conv3, 2, 2, 1, 'ceil')));
  const [dVolume, dKernel3] = gradients(pooled3, [volume, kernel3]);
  outputs.push(dKernel3 as Tensor);
  outputs.push(...(gradients(sum(square(dVolume as Tensor)), [volume]).filter((t) => t !== null) as Tensor[]));
  // The fused record: the optimizer's elementwise fusion.
  const { graph } = optimize(g, [exp(mul(add(x, 1), 2))], { level: 2 });
  for (const node of graph.nodes) {
    if (node.op !== 'fused') continue;
    const inputs = node.inputs.map((i) => graph.node(i));
    const xs = inputs.map(
      (n, k) =>
        g.placeholder(
          `fusedIn${k}`,
          n.shape.map((d) => d ?? 1),
          n.dtype,
        ).id,
    );
    outputs.push(addOp(g, opRecord('fused'), xs, node.attrs, 'fused'));
  }
  // Control flow: each construct's outputs are sibling nodes whose attrs hold regions.
  const pred = g.placeholder('pred', [], 'bool');
  outputs.push(
    cond(
      pred,
      () => neg(x),
      () => x,
    ),
  );
  outputs.push(
    ...whileLoop(
      ([v]) => less(sum(v), 10),
      ([v]) => [add(v, 1)],
      [x],
      { maximumIterations: 4 },
    ),
  );
  outputs.push(scan((c, row) => [add(c, row), null] as const, g.placeholder('c0', [3]), x, { reverse: true })[0]);
  expect(outputs.length).toBeGreaterThan(0);
  return g;
}

describe('every op record with attributes has a schema for what its builders write', () => {
  const g = everyOpGraph();

  test("each node's attrs are attributes of its op's schema", () => {
    for (const node of g.nodes) {
      const schema = opRecord(node.op).attrs ?? {};
      const extra = Object.keys(node.attrs).filter((key) => !Object.prototype.hasOwnProperty.call(schema, key));
      expect({ op: node.op, extra }).toEqual({ op: node.op, extra: [] });
    }
  });

  test('every op with a schema was built (so a new op with attributes must be added above)', () => {
    const built = new Set(g.nodes.map((n) => n.op));
    const withAttrs = allOps()
      .filter((r) => r.attrs !== undefined && Object.keys(r.attrs).length > 0)
      .map((r) => r.name);
    expect(withAttrs.filter((name) => !built.has(name))).toEqual([]);
  });

  test('ops without a schema take no attributes from their builders', () => {
    for (const node of g.nodes) {
      if (isLeafOp(node.op) || opRecord(node.op).attrs !== undefined) continue;
      expect({ op: node.op, attrs: node.attrs }).toEqual({ op: node.op, attrs: {} });
    }
  });
});
