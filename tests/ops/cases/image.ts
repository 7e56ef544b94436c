/**
 * Rows of the image family (ops/image.ts): resizeBilinear and resizeNearestNeighbor in TensorFlow's three sampling
 * modes (asymmetric, alignCorners, halfPixelCenters), up- and down-sampling, rank 3 and 4. The gradient ops are
 * exercised through the rows' gradients, and their own gradient (the resize again) through the second-order cases.
 * tfjs's cpu gradient kernels ignore halfPixelCenters (they sample as the asymmetric mode does), so the tfjs
 * gradient cases cover the two other modes (on the shapes its kernels get right, see TFJS_SIZES) and finite
 * differences cover all three.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Case, OpRow } from './table';

type Shape = readonly number[];
type Mode = readonly [string, boolean, boolean];

const MODES: readonly Mode[] = [
  ['asymmetric', false, false],
  ['alignCorners', true, false],
  ['halfPixelCenters', false, true],
];
/** [label, image shape, new size]. */
const SIZES: readonly (readonly [string, Shape, readonly [number, number]])[] = [
  ['up [1, 3, 4, 2] to [5, 7]', [1, 3, 4, 2], [5, 7]],
  ['down [2, 6, 5, 3] to [4, 2]', [2, 6, 5, 3], [4, 2]],
  ['up by 2 [1, 2, 3, 1] to [4, 6]', [1, 2, 3, 1], [4, 6]],
  ['rank 3 [3, 3, 2] to [2, 5]', [3, 3, 2], [2, 5]],
  ['to one pixel [1, 3, 3, 1] to [1, 1]', [1, 3, 3, 1], [1, 1]],
];

/**
 * tfjs 4.22's cpu gradient kernels are right only for square images (ResizeBilinearGrad returns the images' shape
 * with height and width swapped) of batch 1 (ResizeNearestNeighborGrad strides batches by the images' size, reading
 * past dy: NaN); these sizes keep to that.
 */
const TFJS_SIZES: readonly (readonly [string, Shape, readonly [number, number]])[] = [
  ['up [1, 3, 3, 2] to [5, 7]', [1, 3, 3, 2], [5, 7]],
  ['down [1, 6, 6, 3] to [4, 2]', [1, 6, 6, 3], [4, 2]],
  ['up by 2 [1, 2, 2, 1] to [4, 4]', [1, 2, 2, 1], [4, 4]],
  ['rank 3 [3, 3, 2] to [2, 5]', [3, 3, 2], [2, 5]],
];

type Ours = typeof lg.resizeBilinear;
type Theirs = typeof tf.image.resizeBilinear;

function cases(ours: Ours, theirs: Theirs, modes: readonly Mode[], sizes = SIZES, square = false): Case[] {
  return modes.flatMap(([mode, align, half]) =>
    sizes.map(([label, shape, size]) => ({
      label: `${mode}, ${label}`,
      inputs: [{ shape, options: { lo: -2, hi: 2 } }],
      build: (x: lg.Tensor) => (square ? lg.square(ours(x, size, align, half)) : ours(x, size, align, half)),
      tfjs: (x: tf.Tensor) => theirs(x as tf.Tensor4D, [size[0], size[1]], align, half),
    })),
  );
}

function resizeRow(op: string, ours: Ours, theirs: Theirs): OpRow {
  return {
    op,
    build: (x) => ours(x, [4, 4]),
    tfjs: (x) => theirs(x as tf.Tensor4D, [4, 4]),
    forward: [
      ...cases(ours, theirs, MODES),
      {
        label: 'int32 images',
        inputs: [{ shape: [1, 3, 2, 2], dtype: 'int32', options: { lo: -9, hi: 9 } }],
        build: (x) => ours(x, [5, 3]),
        tfjs: (x) => theirs(x as tf.Tensor4D, [5, 3]),
      },
    ],
    gradFd: cases(ours, theirs, MODES),
    gradTfjs: cases(ours, theirs, MODES.slice(0, 2), TFJS_SIZES),
    // The resize is linear: squared, its second derivative runs the gradient op's own gradient (the resize).
    secondOrder: cases(ours, theirs, MODES, SIZES.slice(0, 2), true),
  };
}

const RESIZE_ROWS: readonly OpRow[] = [
  resizeRow('resizeBilinear', lg.resizeBilinear, tf.image.resizeBilinear),
  resizeRow('resizeNearestNeighbor', lg.resizeNearestNeighbor, tf.image.resizeNearestNeighbor),
];

// ---- space, depth and batch (reshape / transpose composites) ------------------------------------------------------

type SpaceCase = readonly [string, Shape, (x: lg.Tensor) => lg.Tensor, (x: tf.Tensor) => tf.Tensor];

function spaceCases(list: readonly SpaceCase[], square = false): Case[] {
  return list.map(([label, shape, build, tfjs]) => ({
    label,
    inputs: [{ shape, options: { lo: -2, hi: 2 } }],
    build: square ? (x: lg.Tensor) => lg.square(build(x)) : build,
    tfjs,
  }));
}

const toNhwc = (x: tf.Tensor): tf.Tensor4D => tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
const toNchw = (x: tf.Tensor): tf.Tensor4D => tf.transpose(x, [0, 3, 1, 2]) as tf.Tensor4D;

const DEPTH_TO_SPACE: readonly SpaceCase[] = [
  ['NHWC [1, 2, 3, 8] by 2', [1, 2, 3, 8], (x) => lg.depthToSpace(x, 2), (x) => tf.depthToSpace(x as tf.Tensor4D, 2)],
  ['NHWC [2, 2, 1, 18] by 3', [2, 2, 1, 18], (x) => lg.depthToSpace(x, 3), (x) => tf.depthToSpace(x as tf.Tensor4D, 3)],
  // tfjs's cpu kernel is NHWC only: NCHW is checked through transposes of it.
  [
    'NCHW [2, 8, 2, 3] by 2',
    [2, 8, 2, 3],
    (x) => lg.depthToSpace(x, 2, 'NCHW'),
    (x) => toNchw(tf.depthToSpace(toNhwc(x), 2)),
  ],
];

/**
 * tfjs has no spaceToDepth: its twin is tf.spaceToBatchND with the block offsets moved from the batch into the
 * depth (block offset-major, as TensorFlow orders the depth).
 */
function tfSpaceToDepth(x: tf.Tensor, s: number): tf.Tensor {
  const [B, H, W, C] = x.shape;
  const batched = tf.spaceToBatchND(
    x,
    [s, s],
    [
      [0, 0],
      [0, 0],
    ],
  );
  const split = tf.reshape(batched, [s * s, B, H / s, W / s, C]);
  return tf.reshape(tf.transpose(split, [1, 2, 3, 0, 4]), [B, H / s, W / s, s * s * C]);
}

const SPACE_TO_DEPTH: readonly SpaceCase[] = [
  ['NHWC [1, 4, 6, 2] by 2', [1, 4, 6, 2], (x) => lg.spaceToDepth(x, 2), (x) => tfSpaceToDepth(x, 2)],
  ['NHWC [2, 3, 3, 1] by 3', [2, 3, 3, 1], (x) => lg.spaceToDepth(x, 3), (x) => tfSpaceToDepth(x, 3)],
  [
    'NCHW [2, 3, 4, 2] by 2',
    [2, 3, 4, 2],
    (x) => lg.spaceToDepth(x, 2, 'NCHW'),
    (x) => toNchw(tfSpaceToDepth(toNhwc(x), 2)),
  ],
  [
    'undoes depthToSpace, NHWC [2, 2, 3, 8] by 2',
    [2, 2, 3, 8],
    (x) => lg.spaceToDepth(lg.depthToSpace(x, 2), 2),
    (x) => x,
  ],
];

type Pairs = [number, number][];
const SPACE_TO_BATCH: readonly SpaceCase[] = (
  [
    [
      '[2, 4, 4, 3] by [2, 2]',
      [2, 4, 4, 3],
      [2, 2],
      [
        [0, 0],
        [0, 0],
      ],
    ],
    [
      '[1, 3, 5, 2] by [2, 3], padded',
      [1, 3, 5, 2],
      [2, 3],
      [
        [1, 0],
        [0, 1],
      ],
    ],
    ['rank 3 [2, 4, 3] by [2], padded', [2, 4, 3], [2], [[1, 1]]],
    [
      'rank 5 [1, 4, 2, 2, 3] by [2, 1]',
      [1, 4, 2, 2, 3],
      [2, 1],
      [
        [0, 0],
        [1, 1],
      ],
    ],
  ] as const
).map(([label, shape, block, pads]): SpaceCase => [
  label,
  shape,
  (x) => lg.spaceToBatchND(x, block, pads as unknown as Pairs),
  (x) => tf.spaceToBatchND(x, [...block], pads as unknown as Pairs),
]);

const BATCH_TO_SPACE: readonly SpaceCase[] = (
  [
    [
      '[8, 1, 3, 2] by [2, 2], cropped',
      [8, 1, 3, 2],
      [2, 2],
      [
        [0, 0],
        [1, 0],
      ],
    ],
    [
      '[4, 2, 2, 1] by [2, 2]',
      [4, 2, 2, 1],
      [2, 2],
      [
        [0, 0],
        [0, 0],
      ],
    ],
    ['rank 3 [4, 3, 2] by [2], cropped', [4, 3, 2], [2], [[1, 2]]],
    [
      '[12, 2, 1, 1] by [3, 2], cropped',
      [12, 2, 1, 1],
      [3, 2],
      [
        [2, 1],
        [0, 1],
      ],
    ],
  ] as const
).map(([label, shape, block, crops]): SpaceCase => [
  label,
  shape,
  (x) => lg.batchToSpaceND(x, block, crops as unknown as Pairs),
  (x) => tf.batchToSpaceND(x, [...block], crops as unknown as Pairs),
]);

function spaceRow(op: string, list: readonly SpaceCase[], tfjsGrad: boolean): OpRow {
  return {
    op,
    build: list[0][2],
    tfjs: list[0][3],
    forward: spaceCases(list),
    gradFd: spaceCases(list),
    gradTfjs: tfjsGrad ? spaceCases(list) : undefined,
    secondOrder: spaceCases(list.slice(0, 2), true),
  };
}

export const SPACE_ROWS: readonly OpRow[] = [
  // tfjs has no gradient for DepthToSpace (and no SpaceToDepth): finite differences check those.
  spaceRow('depthToSpace', DEPTH_TO_SPACE, false),
  spaceRow('spaceToDepth', SPACE_TO_DEPTH, false),
  spaceRow('spaceToBatchND', SPACE_TO_BATCH, true),
  spaceRow('batchToSpaceND', BATCH_TO_SPACE, true),
];

// ---- segments -----------------------------------------------------------------------------------------------------

/** [label, x shape, ids]: ids outside [0, 4) are dropped, as tfjs drops them. */
const SEGMENTS: readonly (readonly [string, Shape, readonly number[]])[] = [
  ['[5, 3] into 4, one segment empty', [5, 3], [0, 2, 0, 3, 2]],
  ['[6] into 4, with dropped ids', [6], [1, -1, 3, 4, 1, 0]],
  ['[4, 2, 2] into 4', [4, 2, 2], [3, 3, 3, 1]],
];

const SEGMENT_ROW: OpRow = {
  op: 'unsortedSegmentSum',
  build: (x, ids) => lg.unsortedSegmentSum(x, ids, 4),
  tfjs: (x, ids) => tf.unsortedSegmentSum(x, ids as tf.Tensor1D, 4),
  forward: [
    ...SEGMENTS.map(([label, shape, ids]) => ({
      label,
      inputs: [{ shape }, { shape: [ids.length], dtype: 'int32' as const, values: ids }],
    })),
    {
      // tfjs's cpu kernel gives float32 (it multiplies by a float mask); lazygrad keeps int32, as TensorFlow.
      label: 'int32 x',
      tfjs: (x, ids) => tf.cast(tf.unsortedSegmentSum(x, ids as tf.Tensor1D, 4), 'int32'),
      inputs: [
        { shape: [4, 2], dtype: 'int32', options: { lo: -9, hi: 9 } },
        { shape: [4], dtype: 'int32', values: [1, 0, 1, 1] },
      ],
    },
  ],
  gradFd: SEGMENTS.map(([label, shape, ids]) => ({
    label,
    inputs: [{ shape }],
    build: (x: lg.Tensor) => lg.unsortedSegmentSum(x, ids, 4),
  })).concat([
    {
      label: '2-D ids over [2, 3, 2] (TensorFlow)',
      inputs: [{ shape: [2, 3, 2] }],
      build: (x: lg.Tensor) =>
        lg.unsortedSegmentSum(
          x,
          [
            [0, 1, 0],
            [2, -1, 1],
          ],
          3,
        ),
    },
  ]),
  // tfjs's gradient drops only negative ids (it gathers at an id >= numSegments and fails): none here.
  gradTfjs: SEGMENTS.map(([label, shape, ids]) => ({
    label,
    inputs: [{ shape }, { shape: [ids.length], dtype: 'int32' as const, values: ids.map((i) => (i >= 4 ? -2 : i)) }],
  })),
  secondOrder: SEGMENTS.slice(0, 2).map(([label, shape, ids]) => ({
    label,
    inputs: [{ shape }],
    build: (x: lg.Tensor) => lg.square(lg.unsortedSegmentSum(x, ids, 4)),
  })),
};

// ---- padding by copies ----------------------------------------------------------------------------------------------

type PadCase = readonly [string, Shape, Pairs];
const MIRROR: readonly (readonly ['reflect' | 'symmetric', PadCase])[] = [
  ['reflect', ['[4] by [3, 2]', [4], [[3, 2]]]],
  [
    'reflect',
    [
      '[3, 4] by [[2, 1], [0, 3]]',
      [3, 4],
      [
        [2, 1],
        [0, 3],
      ],
    ],
  ],
  [
    'reflect',
    [
      '[2, 3, 2] by [[1, 1], [2, 0], [1, 1]]',
      [2, 3, 2],
      [
        [1, 1],
        [2, 0],
        [1, 1],
      ],
    ],
  ],
  ['symmetric', ['[4] by [4, 1]', [4], [[4, 1]]]],
  [
    'symmetric',
    [
      '[3, 2] by [[3, 0], [2, 2]]',
      [3, 2],
      [
        [3, 0],
        [2, 2],
      ],
    ],
  ],
  [
    'symmetric',
    [
      '[1, 3, 1] by [[1, 1], [1, 3], [0, 1]]',
      [1, 3, 1],
      [
        [1, 1],
        [1, 3],
        [0, 1],
      ],
    ],
  ],
];

function mirrorCases(square = false): Case[] {
  return MIRROR.map(([mode, [label, shape, pads]]) => ({
    label: `${mode} ${label}`,
    inputs: [{ shape, options: { lo: -2, hi: 2 } }],
    build: (x: lg.Tensor) => (square ? lg.square(lg.mirrorPad(x, pads, mode)) : lg.mirrorPad(x, pads, mode)),
    tfjs: (x: tf.Tensor) => tf.mirrorPad(x, pads, mode),
  }));
}

const MIRROR_ROW: OpRow = {
  op: 'mirrorPad',
  build: (x) => lg.mirrorPad(x, [[1, 1]], 'reflect'),
  tfjs: (x) => tf.mirrorPad(x, [[1, 1]], 'reflect'),
  forward: mirrorCases(),
  gradFd: mirrorCases(),
  // No tf.grads check: tfjs 4.22's MirrorPad gradient only slices dy (as for constant padding), dropping what the
  // mirrored copies add to their sources; finite differences confirm lazygrad's scatter-add.

  secondOrder: mirrorCases(true).slice(1, 5),
};

/** tfjs has no edge padding: its twin concatenates tiled copies of the border slices, dim by dim. */
function tfEdgePad(x: tf.Tensor, pads: Pairs): tf.Tensor {
  let y = x;
  pads.forEach(([before, after], d) => {
    const n = y.shape[d];
    const reps = (k: number): number[] => y.shape.map((_, i) => (i === d ? k : 1));
    const first = tf.slice(
      y,
      y.shape.map(() => 0),
      y.shape.map((s, i) => (i === d ? 1 : s)),
    );
    const last = tf.slice(
      y,
      y.shape.map((_, i) => (i === d ? n - 1 : 0)),
      y.shape.map((s, i) => (i === d ? 1 : s)),
    );
    const parts = [
      ...(before > 0 ? [tf.tile(first, reps(before))] : []),
      y,
      ...(after > 0 ? [tf.tile(last, reps(after))] : []),
    ];
    y = tf.concat(parts, d);
  });
  return y;
}

const EDGES: readonly PadCase[] = [
  ['[3] by [5, 2]', [3], [[5, 2]]],
  [
    '[2, 3] by [[1, 2], [3, 0]]',
    [2, 3],
    [
      [1, 2],
      [3, 0],
    ],
  ],
  [
    '[1, 2, 2] by [[2, 0], [1, 1], [0, 2]]',
    [1, 2, 2],
    [
      [2, 0],
      [1, 1],
      [0, 2],
    ],
  ],
];

function edgeCases(square = false): Case[] {
  return EDGES.map(([label, shape, pads]) => ({
    label,
    inputs: [{ shape, options: { lo: -2, hi: 2 } }],
    build: (x: lg.Tensor) => (square ? lg.square(lg.edgePad(x, pads)) : lg.edgePad(x, pads)),
    tfjs: (x: tf.Tensor) => tfEdgePad(x, pads),
  }));
}

const EDGE_ROW: OpRow = {
  op: 'edgePad',
  build: (x) => lg.edgePad(x, [[1, 1]]),
  tfjs: (x) => tfEdgePad(x, [[1, 1]]),
  forward: edgeCases(),
  gradFd: edgeCases(),
  gradTfjs: edgeCases(),
  secondOrder: edgeCases(true).slice(0, 2),
};

export const IMAGE_ROWS: readonly OpRow[] = [...RESIZE_ROWS, ...SPACE_ROWS, SEGMENT_ROW, MIRROR_ROW, EDGE_ROW];
