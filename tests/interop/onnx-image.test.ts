/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The ONNX mapping of the image ops, in ONNX Runtime. Export: each resize mode (and the gradient graph, whose
 * resize-gradient ops export as MatMuls) run in ONNX Runtime matches Session.run, and imports back (with and
 * without lazygrad's annotations) to the same values. Import: hand-written Resize (opsets 10–19) and Upsample
 * (7–9) models import to the values ONNX Runtime computes, and the samplings with no exact tfjs form are refused.
 */
import { onnx } from 'onnx-proto';
import * as L from '../../src';
import { exportOnnx, Graph, GraphError, importOnnx, NDArray, Session, Tensor } from '../../src';
import { expectClose, randomArray, Rng } from '../ops/util';
import { runOrt } from './ort';

type Mode = readonly [string, boolean, boolean];
const MODES: readonly Mode[] = [
  ['asymmetric', false, false],
  ['alignCorners', true, false],
  ['halfPixelCenters', false, true],
];
const SIZES: readonly (readonly [readonly number[], readonly [number, number]])[] = [
  [
    [2, 3, 4, 2],
    [6, 8],
  ],
  [
    [1, 8, 6, 3],
    [4, 3],
  ],
  [
    [1, 5, 7, 1],
    [3, 10],
  ],
];

interface ExportCase {
  readonly name: string;
  readonly build: (g: Graph, x: Tensor) => Tensor;
  readonly shape: readonly number[];
  readonly placeholder?: readonly (number | null)[];
  /** Why importing by ONNX semantics alone is not tested. */
  readonly plain?: string;
}

const RESIZES = [
  ['resizeBilinear', L.resizeBilinear],
  ['resizeNearestNeighbor', L.resizeNearestNeighbor],
] as const;

const EXPORT_CASES: readonly ExportCase[] = RESIZES.flatMap(([op, f]) =>
  MODES.flatMap(([mode, align, half]) =>
    SIZES.flatMap(([shape, size]): ExportCase[] => [
      {
        name: `${op} ${mode} ${JSON.stringify(shape)} to ${JSON.stringify(size)}`,
        shape,
        build: (_, x) => f(x, size, align, half),
      },
      {
        name: `the gradient of ${op} ${mode} ${JSON.stringify(shape)} to ${JSON.stringify(size)}`,
        shape,
        build: (g, x) => {
          const y = f(x, size, align, half);
          const wv = randomArray(new Rng(3), y.shape as number[], 'float32');
          const [dx] = L.gradients(L.sum(L.mul(y, g.constant(wv))), [x]);
          return dx as Tensor;
        },
      },
    ]),
  ),
).concat([
  ...(
    [
      ['depthToSpace NHWC by 2', [2, 2, 3, 8], (x) => L.depthToSpace(x, 2)],
      ['depthToSpace NCHW by 3', [1, 18, 2, 1], (x) => L.depthToSpace(x, 3, 'NCHW')],
      ['spaceToDepth NHWC by 2', [2, 4, 2, 3], (x) => L.spaceToDepth(x, 2)],
      ['spaceToDepth NCHW by 2', [1, 3, 4, 6], (x) => L.spaceToDepth(x, 2, 'NCHW')],
      [
        'spaceToBatchND padded',
        [2, 3, 5, 2],
        (x) =>
          L.spaceToBatchND(
            x,
            [2, 3],
            [
              [1, 0],
              [0, 1],
            ],
          ),
      ],
      [
        'batchToSpaceND cropped',
        [12, 2, 1, 1],
        (x) =>
          L.batchToSpaceND(
            x,
            [3, 2],
            [
              [2, 1],
              [0, 1],
            ],
          ),
      ],
      [
        'mirrorPad reflect',
        [3, 4],
        (x) =>
          L.mirrorPad(
            x,
            [
              [2, 1],
              [0, 3],
            ],
            'reflect',
          ),
      ],
      [
        'mirrorPad symmetric',
        [2, 3],
        (x) =>
          L.mirrorPad(
            x,
            [
              [2, 0],
              [1, 3],
            ],
            'symmetric',
          ),
      ],
      [
        'edgePad',
        [2, 3],
        (x) =>
          L.edgePad(x, [
            [1, 2],
            [3, 0],
          ]),
      ],
    ] as readonly (readonly [string, number[], (x: Tensor) => Tensor])[]
  ).flatMap(([name, shape, f]): ExportCase[] => [
    { name, shape, build: (_, x) => f(x) },
    {
      name: `the gradient of ${name}`,
      shape,
      plain: name.includes('cropped')
        ? "the crop's gradient (stridedSliceGrad) exports as Range/ScatterElements, which import does not read"
        : name.includes('Pad')
          ? "the gather's gradient (scatterAdd) exports as ScatterElements, which import does not read"
          : undefined,
      build: (g, x) => {
        const y = f(x);
        const wv = randomArray(new Rng(5), y.shape as number[], 'float32');
        return L.gradients(L.sum(L.mul(y, g.constant(wv))), [x])[0] as Tensor;
      },
    },
  ]),
  ...[false, true].map((gradient): ExportCase => ({
    name: `${gradient ? 'the gradient of ' : ''}unsortedSegmentSum with dropped ids`,
    shape: [5, 3],
    plain: 'scatterAdd exports as ScatterElements, which import does not read',
    build: (g, x) => {
      const y = L.unsortedSegmentSum(x, [0, 3, -1, 0, 5], 4);
      if (!gradient) return y;
      const wv = randomArray(new Rng(6), [4, 3], 'float32');
      return L.gradients(L.sum(L.mul(y, g.constant(wv))), [x])[0] as Tensor;
    },
  })),
  {
    name: 'depthToSpace of an unknown batch',
    shape: [3, 1, 2, 4],
    placeholder: [null, 1, 2, 4],
    build: (_, x) => L.depthToSpace(x, 2),
  },
  {
    name: 'resizeBilinear of an unknown batch',
    shape: [3, 2, 3, 2],
    placeholder: [null, 2, 3, 2],
    build: (_, x) => L.resizeBilinear(x, [5, 4], false, true),
  },
  {
    name: 'resizeNearestNeighbor of a rank-3 image',
    shape: [4, 4, 3],
    build: (_, x) => L.resizeNearestNeighbor(x, [2, 6], true),
  },
]);

function runImported(bytes: Uint8Array, x: NDArray, annotations: boolean): NDArray {
  const imported = importOnnx(bytes, { annotations, initializersAs: 'constant' });
  return new Session(imported.graph).run(imported.outputs[0], new Map([[imported.inputs.get('x') as Tensor, x]]));
}

describe.each(EXPORT_CASES.map((c, i) => [c.name, c, i] as const))('export: %s', (_name, c, index) => {
  const graph = new Graph();
  const x = graph.placeholder('x', [...(c.placeholder ?? c.shape)]);
  const value = randomArray(new Rng(40 + index), c.shape, 'float32');
  const y = c.build(graph, x);
  const expected = new Session(graph).run(y, new Map<Tensor, NDArray>([[x, value]]));
  const bytes = exportOnnx(graph, { outputs: { y } });

  test('ONNX Runtime matches Session.run', async () => {
    const actual = (await runOrt(bytes, new Map([['x', value]]))).get('y') as NDArray;
    expectClose(actual, expected, 2e-6, c.name);
  });
  test('importing back with annotations gives the same values', () => {
    expectClose(runImported(bytes, value, true), expected, 0, c.name);
  });
  (c.plain === undefined ? test : test.skip)('importing back by ONNX semantics alone gives the same values', () => {
    const plain = exportOnnx(graph, { outputs: { y }, annotations: false });
    expectClose(runImported(plain, value, false), expected, 2e-6, c.name);
  });
});

// ---- import of hand-written models --------------------------------------------------------------------------------

const AttributeType = onnx.AttributeProto.AttributeType;
type Attr = onnx.IAttributeProto;
const str = (name: string, s: string): Attr => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(s) });
const floats = (name: string, values: number[]): Attr => ({ name, type: AttributeType.FLOATS, floats: values });
const int = (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i });

interface ImportCase {
  readonly name: string;
  readonly opType?: 'Resize' | 'Upsample' | 'DepthToSpace' | 'SpaceToDepth';
  readonly opset: number;
  readonly shape: readonly number[];
  /** Float scales, int64 sizes (input order of the opset), or absent (Upsample-7's attribute). */
  readonly scales?: readonly number[];
  readonly sizes?: readonly number[];
  readonly attrs?: readonly Attr[];
}

function model(c: ImportCase): Uint8Array {
  const initializer: onnx.ITensorProto[] = [];
  const inputs = ['x'];
  const opType = c.opType ?? 'Resize';
  // Resize-11 needs roi and scales given (empty when unused); from 13 they may be left out ('').
  const empty = opType === 'Resize' && c.opset >= 11 && c.opset < 13;
  if (empty) initializer.push({ name: 'empty', dims: [0], dataType: 1, floatData: [] });
  if (opType === 'Resize' && c.opset >= 11) inputs.push(empty ? 'empty' : '');
  if (c.scales !== undefined && !(opType === 'Upsample' && c.opset < 9)) {
    inputs.push('scales');
    initializer.push({ name: 'scales', dims: [c.scales.length], dataType: 1, floatData: [...c.scales] });
  }
  if (c.sizes !== undefined) {
    inputs.push(empty ? 'empty' : '', 'sizes');
    initializer.push({ name: 'sizes', dims: [c.sizes.length], dataType: 7, int64Data: [...c.sizes] });
  }
  const attrs = [...(c.attrs ?? [])];
  if (opType === 'Upsample' && c.opset < 9) attrs.push(floats('scales', [...(c.scales ?? [])]));
  const proto: onnx.IModelProto = {
    irVersion: c.opset <= 8 ? 3 : 8,
    producerName: 'hand-written',
    opsetImport: [{ domain: '', version: c.opset }],
    graph: {
      name: c.name,
      node: [{ opType, input: inputs, output: ['y'], attribute: attrs, name: 'n' }],
      initializer,
      input: [
        {
          name: 'x',
          type: { tensorType: { elemType: 1, shape: { dim: c.shape.map((d) => ({ dimValue: d })) } } },
        },
      ],
      output: [{ name: 'y' }],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

const linear = str('mode', 'linear');
const nearest = str('mode', 'nearest');
const ctm = (mode: string): Attr => str('coordinate_transformation_mode', mode);
const rounding = (mode: string): Attr => str('nearest_mode', mode);
const NCHW = [1, 2, 4, 6];

const IMPORT_CASES: readonly ImportCase[] = [
  { name: 'Upsample-7 nearest by 2', opType: 'Upsample', opset: 7, shape: NCHW, scales: [1, 1, 2, 2] },
  {
    name: 'Upsample-7 linear by [3, 2]',
    opType: 'Upsample',
    opset: 7,
    shape: NCHW,
    scales: [1, 1, 3, 2],
    attrs: [linear],
  },
  {
    name: 'Upsample-9 nearest by 2',
    opType: 'Upsample',
    opset: 9,
    shape: NCHW,
    scales: [1, 1, 2, 2],
    attrs: [nearest],
  },
  {
    name: 'Upsample-9 linear by [2, 1.5]',
    opType: 'Upsample',
    opset: 9,
    shape: NCHW,
    scales: [1, 1, 2, 1.5],
    attrs: [linear],
  },
  { name: 'Resize-10 nearest by 2', opset: 10, shape: NCHW, scales: [1, 1, 2, 2] },
  { name: 'Resize-10 linear by [2, 0.5]', opset: 10, shape: NCHW, scales: [1, 1, 2, 0.5], attrs: [linear] },
  ...[11, 13, 18, 19].flatMap((opset): ImportCase[] => [
    {
      name: `Resize-${opset} linear half_pixel (the default) by 2`,
      opset,
      shape: NCHW,
      scales: [1, 1, 2, 2],
      attrs: [linear],
    },
    {
      name: `Resize-${opset} linear align_corners to sizes`,
      opset,
      shape: NCHW,
      sizes: [1, 2, 7, 3],
      attrs: [linear, ctm('align_corners')],
    },
    {
      name: `Resize-${opset} linear asymmetric by 0.5`,
      opset,
      shape: NCHW,
      scales: [1, 1, 0.5, 0.5],
      attrs: [linear, ctm('asymmetric')],
    },
    {
      name: `Resize-${opset} linear pytorch_half_pixel to sizes`,
      opset,
      shape: NCHW,
      sizes: [1, 2, 3, 9],
      attrs: [linear, ctm('pytorch_half_pixel')],
    },
    {
      name: `Resize-${opset} nearest asymmetric floor by 2`,
      opset,
      shape: NCHW,
      scales: [1, 1, 2, 2],
      attrs: [ctm('asymmetric'), rounding('floor')],
    },
    {
      name: `Resize-${opset} nearest half_pixel round_prefer_ceil to sizes`,
      opset,
      shape: NCHW,
      sizes: [1, 2, 2, 3],
      attrs: [ctm('half_pixel'), rounding('round_prefer_ceil')],
    },
    {
      name: `Resize-${opset} nearest align_corners round_prefer_ceil to sizes`,
      opset,
      shape: NCHW,
      sizes: [1, 2, 7, 4],
      attrs: [ctm('align_corners'), rounding('round_prefer_ceil')],
    },
    {
      name: `Resize-${opset} linear of NHWC by [2, 3]`,
      opset,
      shape: [1, 4, 6, 2],
      scales: [1, 2, 3, 1],
      attrs: [linear, ctm('half_pixel')],
    },
  ]),
  ...[1, 11, 13].flatMap((opset): ImportCase[] => [
    { name: `DepthToSpace-${opset}`, opType: 'DepthToSpace', opset, shape: [2, 8, 2, 3], attrs: [int('blocksize', 2)] },
    { name: `SpaceToDepth-${opset}`, opType: 'SpaceToDepth', opset, shape: [2, 3, 4, 6], attrs: [int('blocksize', 2)] },
  ]),
  ...[11, 13].flatMap((opset): ImportCase[] =>
    ['DCR', 'CRD'].map((mode) => ({
      name: `DepthToSpace-${opset} ${mode}`,
      opType: 'DepthToSpace',
      opset,
      shape: [2, 18, 2, 1],
      attrs: [int('blocksize', 3), str('mode', mode)],
    })),
  ),
  // Ratios that are not powers of two: ONNX Runtime divides by its float32 scale where tfjs multiplies by in / out.
  ...(
    [
      [
        [1, 1, 6, 7],
        [1, 1, 4, 3],
      ],
      [
        [1, 1, 5, 9],
        [1, 1, 3, 6],
      ],
      [
        [1, 1, 3, 10],
        [1, 1, 7, 3],
      ],
    ] as const
  ).flatMap(([shape, sizes]): ImportCase[] =>
    (
      [
        ['asymmetric', 'floor'],
        ['align_corners', 'round_prefer_ceil'],
        ['half_pixel', 'round_prefer_ceil'],
      ] as const
    ).flatMap(([mode, round]) => [
      {
        name: `Resize-13 nearest ${mode} ${JSON.stringify(shape)} to ${JSON.stringify(sizes)}`,
        opset: 13,
        shape,
        sizes,
        attrs: [ctm(mode), rounding(round)],
      },
      {
        name: `Resize-13 linear ${mode} ${JSON.stringify(shape)} to ${JSON.stringify(sizes)}`,
        opset: 13,
        shape,
        sizes,
        attrs: [linear, ctm(mode)],
      },
    ]),
  ),
  {
    name: 'Resize-11 nearest tf_half_pixel_for_nn floor by 2',
    opset: 11,
    shape: NCHW,
    scales: [1, 1, 2, 2],
    attrs: [ctm('tf_half_pixel_for_nn'), rounding('floor')],
  },
];

async function expectAsOrt(c: ImportCase): Promise<void> {
  const bytes = model(c);
  const x = randomArray(new Rng(7), c.shape, 'float32');
  const expected = (await runOrt(bytes, new Map([['x', x]]))).get('y') as NDArray;
  const imported = importOnnx(bytes);
  const actual = new Session(imported.graph).run(
    imported.outputs[0],
    new Map([[imported.inputs.get('x') as Tensor, x]]),
  );
  expectClose(actual, expected, 2e-6, c.name);
}

describe('import: Resize and Upsample match ONNX Runtime', () => {
  test.each(IMPORT_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectAsOrt(c);
  });
});

const REFUSED: readonly (readonly [ImportCase, RegExp])[] = [
  [{ name: 'cubic', opset: 13, shape: NCHW, scales: [1, 1, 2, 2], attrs: [str('mode', 'cubic')] }, /mode 'cubic'/],
  [
    {
      name: 'half_pixel round_prefer_floor',
      opset: 13,
      shape: NCHW,
      scales: [1, 1, 0.5, 0.5],
      attrs: [ctm('half_pixel')],
    },
    /nearest_mode 'round_prefer_floor' has no exact form/,
  ],
  [
    {
      name: 'tf_crop_and_resize',
      opset: 13,
      shape: NCHW,
      scales: [1, 1, 2, 2],
      attrs: [linear, ctm('tf_crop_and_resize')],
    },
    /'tf_crop_and_resize' has no exact form/,
  ],
  [{ name: 'a fractional scale', opset: 13, shape: NCHW, scales: [1, 1, 1.3, 2], attrs: [linear] }, /whole size/],
  [{ name: 'scaling the batch', opset: 13, shape: NCHW, scales: [2, 1, 2, 2], attrs: [linear] }, /batch and channel/],
  [
    { name: 'Upsample-9 nearest downsampling', opType: 'Upsample', opset: 9, shape: NCHW, scales: [1, 1, 0.5, 0.5] },
    /downsampling/,
  ],
  [
    { name: 'antialias', opset: 18, shape: NCHW, scales: [1, 1, 0.5, 0.5], attrs: [linear, int('antialias', 1)] },
    /antialias/,
  ],
  [
    {
      name: 'pytorch_half_pixel to one row',
      opset: 13,
      shape: NCHW,
      sizes: [1, 2, 1, 3],
      attrs: [linear, ctm('pytorch_half_pixel')],
    },
    /one spatial axis to 1/,
  ],
];

describe('import: samplings with no exact form are refused', () => {
  test.each(REFUSED.map(([c, message]) => [c.name, c, message] as const))('%s', (_name, c, message) => {
    expect(() => importOnnx(model(c))).toThrow(GraphError);
    expect(() => importOnnx(model(c))).toThrow(message);
  });
});
