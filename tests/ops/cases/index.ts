/**
 * The op test table: every row of every family, read by the shared suites in ../suites. Adding an op means one
 * record in src/ops and one row here (or one line in COVERED_ELSEWHERE saying why it needs none).
 */
import { CONV_ROWS } from './conv';
import { CONV3D_ROWS } from './conv3d';
import { ELEMENTWISE_ROWS } from './elementwise';
import { FUSED_CONV_ROWS } from './fusedconv';
import { IMAGE_ROWS } from './image';
import { INDEXING_ROWS } from './indexing';
import { LINALG_NN_ROWS } from './linalg-nn';
import { LOSS_ROWS } from './losses';
import { MOVEMENT_ROWS } from './movement';
import { POOL_ROWS } from './pool';
import { NORMALIZATION_COMPOSITES, NORMALIZATION_ROWS } from './normalization';
import { REDUCE_ROWS } from './reduce';
import { RUNTIME_SHAPE_ROWS } from './runtimeshape';
import { Case, OpRow, rowName, seedOf } from './table';

export type { OpRow, Case } from './table';

export const OP_ROWS: readonly OpRow[] = [
  ...ELEMENTWISE_ROWS,
  ...REDUCE_ROWS,
  ...LINALG_NN_ROWS,
  ...MOVEMENT_ROWS,
  ...INDEXING_ROWS,
  ...LOSS_ROWS,
  ...IMAGE_ROWS,
  ...POOL_ROWS,
  ...CONV_ROWS,
  ...NORMALIZATION_ROWS,
  ...FUSED_CONV_ROWS,
  ...RUNTIME_SHAPE_ROWS,
  ...CONV3D_ROWS,
];

/**
 * Rows of builders that are not registry ops, checked like the primitives: mean is sum times 1 / count, and
 * leakyRelu a prelu node with a constant alpha.
 */
export const COMPOSITE_ROWS: readonly string[] = [
  'mean',
  'leakyRelu',
  // reshape / transpose (pad, slice) composites of the image family
  'depthToSpace',
  'spaceToDepth',
  'spaceToBatchND',
  'batchToSpaceND',
  // masked ids over scatterAdd
  'unsortedSegmentSum',
  // gathers of the padded dims
  'mirrorPad',
  'edgePad',
  // Convolution builders over the conv2d ops (ops/conv.ts).
  'conv2dTranspose',
  'conv1d',
  'depthwiseConv2d',
  'groupedConv2d',
  'separableConv2d',
  ...NORMALIZATION_COMPOSITES,
  // The transpose of conv3d is the conv3dBackpropInput op (ops/conv3d.ts).
  'conv3dTranspose',
];

/**
 * Registry ops without a row, each with why: a test `file` (relative to tests/) that exercises it by name, or the
 * row `via` whose gradient builds it (differentiating that row twice runs it forward and backward).
 * suites/coverage.test.ts fails for an op in neither place, so a new op must get a row or a line here.
 */
export const COVERED_ELSEWHERE: { readonly [op: string]: { reason: string; file?: string; via?: string } } = {
  placeholder: { reason: 'a leaf made by Graph, no kernel', file: 'graph.test.ts' },
  constant: { reason: 'a leaf made by Graph, no kernel', file: 'graph.test.ts' },
  variable: { reason: 'a leaf made by Graph; its values live in the session', file: 'session.test.ts' },
  reluGrad: { reason: "relu's gradient op, with its own forward and gradient tests", file: 'ops/relu-grad.test.ts' },
  broadcastLike: { reason: 'gradient op for run-time shapes', file: 'ops/second-derivatives.test.ts' },
  sumTo: { reason: 'gradient op that undoes broadcasting', file: 'ops/gradients-fd.test.ts' },
  reshapeLike: { reason: 'gradient op for run-time shapes', file: 'ops/second-derivatives.test.ts' },
  ensureShapeLike: { reason: "the check of a gradY's shape", file: 'issue15/shapes.test.ts' },
  recompute: { reason: "the barrier of gradients' remat segments", file: 'autodiff/remat.test.ts' },
  cond: { reason: 'control flow: regions, tested against unrolled graphs', file: 'control/forward.test.ts' },
  while: { reason: 'control flow: regions, tested against unrolled graphs', file: 'control/forward.test.ts' },
  scan: { reason: 'control flow: regions, tested against unrolled graphs', file: 'control/forward.test.ts' },
  reducedSize: { reason: 'the count of mean over unknown dims', file: 'ops/second-derivatives.test.ts' },
  prodExcept: { reason: "prod's gradient op (the product of the other elements)", via: 'prod' },
  concatPart: { reason: "concat's gradient op for run-time sizes", file: 'ops/indexing/second-derivatives.test.ts' },
  stridedSliceGrad: { reason: "stridedSlice's gradient op", via: 'stridedSlice' },
  scatterAdd: { reason: "gather's gradient op", file: 'ops/indexing/second-derivatives.test.ts' },
  sumTiles: { reason: "tile's gradient op", via: 'tile' },
  fusedMatMul: {
    reason: 'made by the epilogue pass; checked against its unfused graph',
    file: 'ops/fusedmatmul.test.ts',
  },
  assign: { reason: 'stateful: a variable write, tested through sessions', file: 'session.test.ts' },
  group: { reason: 'stateful: runs its inputs, tested through sessions', file: 'passes/memory.test.ts' },
  randomUniform: { reason: 'stateful random op: statistics, not values', file: 'ops/random/ops.test.ts' },
  randomNormal: { reason: 'stateful random op: statistics, not values', file: 'ops/random/ops.test.ts' },
  truncatedNormal: { reason: 'stateful random op: statistics, not values', file: 'ops/random/ops.test.ts' },
  customGradient: { reason: "the user's gradient function, no fixed math", file: 'jvp.test.ts' },
  fused: { reason: 'made by the fuse pass from the rows above', file: 'passes/fuse.test.ts' },
  resizeBilinearGrad: { reason: "resizeBilinear's gradient op", via: 'resizeBilinear' },
  resizeNearestNeighborGrad: { reason: "resizeNearestNeighbor's gradient op", via: 'resizeNearestNeighbor' },
  maxPoolGrad: { reason: "maxPool's gradient op", via: 'maxPool' },
  maxPoolGradGrad: { reason: "maxPoolGrad's gradient op (maxPool's second derivative)", file: 'ops/pool.test.ts' },
  avgPoolGrad: { reason: "avgPool's gradient op", via: 'avgPool' },
  maxPool3dGrad: { reason: "maxPool3d's gradient op", via: 'maxPool3d' },
  maxPool3dGradGrad: {
    reason: "maxPool3dGrad's gradient op (maxPool3d's second derivative)",
    file: 'ops/conv3d.test.ts',
  },
  avgPool3dGrad: { reason: "avgPool3d's gradient op", via: 'avgPool3d' },
};

type Check = 'forward' | 'gradFd' | 'gradTfjs' | 'secondOrder';

/** The (row, case) pairs of one check, with a name for the test and a seed stable under edits of other rows. */
export function casesOf(check: Check): { name: string; row: OpRow; c: Case; seed: number }[] {
  return OP_ROWS.flatMap((row) =>
    (row[check] ?? []).map((c) => ({
      name: `${rowName(row)}: ${c.label}`,
      row,
      c,
      seed: seedOf(check, rowName(row), c.label, row.seedSalt ?? ''),
    })),
  );
}
