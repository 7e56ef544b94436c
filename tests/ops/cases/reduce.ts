/**
 * Rows of the reductions (ops/reduce.ts) and of `mean`, a composite of sum. Forward checks run at both optimize
 * levels. Gradients of max and min use distinct values, so the extremum is unique within the finite-difference
 * step; the composites norm and moments, ties, and prod with zeros are bespoke tests in reduce-nn/.
 */
import * as tf from '@tensorflow/tfjs';
import * as lg from '../../../src';
import { Rng, distinctArray } from '../util';
import { Build, Operand, TfBuild } from '../harness';
import { Case, OpRow } from './table';

type Axis = number | number[] | undefined;
type Reducer = (x: lg.Tensor, axis?: number | readonly number[], keepDims?: boolean) => lg.Tensor;
type TfReducer = (x: tf.Tensor, axis?: number | number[], keepDims?: boolean) => tf.Tensor;

const show = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const showAxis = (axis: Axis): string => (axis === undefined ? 'all' : JSON.stringify(axis));

/** Distinct values (no ties) in a seeded random order. */
function distinct(seed: number, shape: readonly number[], spacing = 0.37, dtype: 'float32' | 'float64' = 'float64') {
  return Array.from(distinctArray(new Rng(seed), shape, dtype, spacing).data);
}

/** One case reducing `shape` over `axis`, with keepDims as given. */
function reduceCase(
  ours: Reducer,
  theirs: TfReducer | undefined,
  shape: readonly number[],
  axis: Axis,
  keepDims: boolean,
  input: Omit<Operand, 'shape'>,
  prefix = '',
): Case {
  return {
    label: `${prefix}shape ${show(shape)}, axis ${showAxis(axis)}, keepDims ${keepDims}`,
    inputs: [{ shape, ...input }],
    build: (x) => ours(x, axis, keepDims),
    tfjs: theirs === undefined ? undefined : (x) => theirs(x, axis, keepDims),
  };
}

const withKeepDims = <T>(cases: readonly T[]): [T, boolean][] =>
  cases.flatMap((c) => [false, true].map((k) => [c, k] as [T, boolean]));

/** Axes over a [2, 3, 4] input (forward-vs-tfjs of the first reductions). */
const RANK3_AXES: Axis[] = [undefined, 0, 1, -1, [0, 2], [-1, 0], []];
/** Shapes up to rank 4 with numbers, negative numbers and arrays as axes. */
const SHAPES_AND_AXES: [number[], Axis][] = [
  [[], undefined],
  [[5], undefined],
  [[5], 0],
  [[5], -1],
  [[3, 4], 1],
  [[3, 4], -2],
  [
    [3, 4],
    [0, 1],
  ],
  [
    [2, 3, 4],
    [0, 2],
  ],
  [
    [2, 3, 4],
    [-1, 0],
  ],
  [[2, 3, 4], 1],
  [
    [2, 3, 2, 3],
    [1, 3],
  ],
  [[2, 3, 2, 3], [-3]],
  [
    [2, 3, 2, 3],
    [0, 1, 2],
  ],
  [[2, 3, 2, 3], undefined],
];
/** Gradient cases: [shape, axis, keepDims]. */
export const GRAD_AXES: [number[], Axis, boolean][] = [
  [[5], undefined, false],
  [[3, 4], 1, false],
  [[3, 4], -2, true],
  [[2, 3, 4], [0, 2], false],
  [[2, 3, 4], [-1, 0], true],
  [[2, 3, 2, 2], [1, 3], false],
  [[2, 3, 2, 2], undefined, true],
];

function forwardSweeps(ours: Reducer, theirs: TfReducer, first: boolean): Case[] {
  const wide = withKeepDims(SHAPES_AND_AXES).map(([[shape, axis], k]) =>
    reduceCase(ours, theirs, shape, axis, k, { options: { lo: -1.6, hi: 1.6 } }),
  );
  if (!first) return wide;
  return [
    ...withKeepDims(RANK3_AXES).map(([axis, k]) => reduceCase(ours, theirs, [2, 3, 4], axis, k, {}, 'default domain ')),
    { label: 'of a scalar is the scalar', inputs: [{ shape: [] }], build: (x) => ours(x), tfjs: (x) => theirs(x) },
    reduceCase(ours, theirs, [2, 1, 5, 3], [1, 2], true, {}, 'a middle axis with size-1 dims: '),
    ...wide,
  ];
}

/** The int32 case: sum, max, min and prod keep int32 and match tfjs exactly. */
function int32Case(ours: Reducer, theirs: TfReducer): Case {
  return reduceCase(ours, theirs, [3, 4], 1, false, { dtype: 'int32', options: { lo: -3, hi: 3 } }, 'int32 ');
}

const distinctFd = (name: string): Case[] =>
  withKeepDims<Axis>([undefined, 0, -1, [0, 2]]).map(([axis, k], i) => ({
    label: `distinct values, shape [2, 3, 4], axis ${showAxis(axis)}, keepDims ${k}`,
    inputs: [{ shape: [2, 3, 4], values: distinct(1300 + i + name.length, [2, 3, 4]) }],
  }));

/** max and min rows share the same cases. */
function extremum(op: 'max' | 'min', ours: Reducer, theirs: TfReducer): OpRow {
  const fd = op === 'max' ? distinctFd(op) : [];
  return {
    op,
    build: ((x: lg.Tensor) => ours(x)) as Build,
    tfjs: ((x: tf.Tensor) => theirs(x)) as TfBuild,
    forwardLevels: [true, false],
    forward: [...forwardSweeps(ours, theirs, op === 'max'), int32Case(ours, theirs)],
    gradFd: [
      ...fd.map((c, i) => ({ ...c, build: buildFor(ours, i) })),
      ...GRAD_AXES.map(([shape, axis, k], i) =>
        reduceCase(ours, undefined, shape, axis, k, { values: distinct(10 + i, shape, 0.23) }, 'distinct values, '),
      ),
      {
        label: 'two ties agree with central finite differences',
        inputs: [{ shape: [2, 3], values: [1, 2, 2, -1, -1, 0] }],
        build: (x) => ours(x, 1),
      },
    ],
    gradTfjs: [
      ...GRAD_AXES.map(([shape, axis, k], i) =>
        reduceCase(ours, theirs, shape, axis, k, { values: distinct(80 + i, shape, 0.37, 'float32') }, 'distinct '),
      ),
      ...(op === 'max'
        ? (
            [
              [undefined, false],
              [1, false],
              [0, true],
              [[0, 2], false],
            ] as [Axis, boolean][]
          ).map(([axis, k], i): Case => ({
            label: `sum(square(max)) over axis ${showAxis(axis)}, keepDims ${k}, distinct values`,
            inputs: [{ shape: [2, 3, 4], values: distinct(3007 + i, [2, 3, 4], 0.37, 'float32') }],
            build: (x) => lg.sum(lg.square(ours(x, axis, k))),
            tfjs: (x) => tf.sum(tf.square(theirs(x, axis, k))),
          }))
        : []),
    ],
  };
}

/** The axis/keepDims of the FD sweep of sum, mean and max, by index. */
function buildFor(ours: Reducer, i: number): Build {
  const [axis, k] = withKeepDims<Axis>([undefined, 0, -1, [0, 2]])[i];
  return (x) => ours(x, axis, k);
}

function sumLike(op: 'sum' | 'mean', ours: Reducer, theirs: TfReducer): OpRow {
  return {
    op,
    build: ((x: lg.Tensor) => ours(x)) as Build,
    tfjs: ((x: tf.Tensor) => theirs(x)) as TfBuild,
    forwardLevels: [true, false],
    forward: [
      ...forwardSweeps(ours, theirs, true),
      ...(op === 'sum'
        ? [
            int32Case(ours, theirs),
            reduceCase(ours, theirs, [64, 50], 0, false, {}, 'many float32 values (float64 accumulation): '),
          ]
        : []),
    ],
    gradFd: distinctFd(op).map((c, i) => ({ ...c, build: buildFor(ours, i) })),
  };
}

/** tfjs's prod gradient fails on negative axes (it transposes by them), so it is given their positive form. */
function positiveAxis(axis: Axis, rank: number): Axis {
  if (typeof axis === 'number') return (axis + rank) % rank;
  return axis?.map((a) => (a + rank) % rank);
}

export const REDUCE_ROWS: readonly OpRow[] = [
  sumLike('sum', lg.sum, tf.sum),
  sumLike('mean', lg.mean, tf.mean),
  extremum('max', lg.max, tf.max),
  extremum('min', lg.min, tf.min),
  {
    op: 'prod',
    build: ((x: lg.Tensor) => lg.prod(x)) as Build,
    tfjs: ((x: tf.Tensor) => tf.prod(x)) as TfBuild,
    forwardLevels: [true, false],
    forward: [...forwardSweeps(lg.prod, tf.prod, false), int32Case(lg.prod, tf.prod)],
    gradFd: GRAD_AXES.flatMap(([shape, axis, k]) => [
      reduceCase(lg.prod, undefined, shape, axis, k, { options: { lo: 0.4, hi: 1.6 } }, 'positive, '),
      reduceCase(lg.prod, undefined, shape, axis, k, { options: { lo: -1.5, hi: 1.5, awayFromZero: 0.3 } }, 'mixed, '),
    ]),
    gradTfjs: GRAD_AXES.map(([shape, axis, k]) => ({
      ...reduceCase(lg.prod, tf.prod, shape, axis, k, { options: { lo: -1.5, hi: 1.5 } }),
      tfjs: (x: tf.Tensor) => tf.prod(x, positiveAxis(axis, shape.length), k),
    })),
    tol: { gradTfjs: 1e-4 },
    secondOrder: GRAD_AXES.slice(0, 5).map(([shape, axis, k]) =>
      reduceCase(lg.prod, undefined, shape, axis, k, { options: { lo: -1.5, hi: 1.5, awayFromZero: 0.3 } }),
    ),
  },
  {
    op: 'logSumExp',
    build: ((x: lg.Tensor) => lg.logSumExp(x)) as Build,
    tfjs: ((x: tf.Tensor) => tf.logSumExp(x)) as TfBuild,
    forwardLevels: [true, false],
    forward: forwardSweeps(lg.logSumExp, tf.logSumExp, false),
    gradFd: GRAD_AXES.map(([shape, axis, k]) =>
      reduceCase(lg.logSumExp, undefined, shape, axis, k, { options: { lo: -3, hi: 3 } }),
    ),
    gradTfjs: GRAD_AXES.map(([shape, axis, k]) =>
      reduceCase(lg.logSumExp, tf.logSumExp, shape, axis, k, { options: { lo: -3, hi: 3 } }),
    ),
    secondOrder: GRAD_AXES.map(([shape, axis, k]) =>
      reduceCase(lg.logSumExp, undefined, shape, axis, k, { options: { lo: -2, hi: 2 } }),
    ),
  },
  // Mostly true for all (so that some groups are all true), mostly false for any.
  ...(
    [
      ['all', lg.all, tf.all, { lo: -0.3, hi: 4 }],
      ['any', lg.any, tf.any, { lo: -4, hi: 0.3 }],
    ] as const
  ).map(([op, ours, theirs, options]): OpRow => ({
    op,
    build: ((x: lg.Tensor) => ours(x)) as Build,
    tfjs: ((x: tf.Tensor) => theirs(x)) as TfBuild,
    forwardLevels: [true, false],
    forward: withKeepDims(SHAPES_AND_AXES).map(([[shape, axis], k]) =>
      reduceCase(ours, theirs, shape, axis, k, { dtype: 'bool', options }),
    ),
  })),
  ...(
    [
      ['argMax', lg.argMax, tf.argMax],
      ['argMin', lg.argMin, tf.argMin],
    ] as const
  ).map(([op, ours, theirs]): OpRow => {
    const ties = [1, 3, 3, -2, 0, 0, -2, 1, 5, -2, 5, 5];
    const shapes: [number[], number | undefined][] = [
      [[6], undefined],
      [[3, 4], undefined],
      [[3, 4], 1],
      [[3, 4], -1],
      [[2, 3, 4], 1],
      [[2, 3, 2, 3], -2],
      [[2, 3, 2, 3], 3],
    ];
    const along = (axis: number | undefined): Pick<Case, 'build' | 'tfjs'> => ({
      build: (x) => ours(x, axis),
      tfjs: (x) => theirs(x, axis),
    });
    return {
      op,
      build: ((x: lg.Tensor) => ours(x)) as Build,
      tfjs: ((x: tf.Tensor) => theirs(x)) as TfBuild,
      forwardLevels: [true, false],
      forward: [
        ...shapes.map(([shape, axis]) => ({
          label: `distinct values, shape ${show(shape)}, axis ${showAxis(axis)}`,
          inputs: [{ shape, values: distinct(shape.length, shape, 0.37, 'float32') }],
          ...along(axis),
        })),
        { label: 'the first of tied extremes wins (axis 1)', inputs: [{ shape: [3, 4], values: ties }], ...along(1) },
        { label: 'the first of tied extremes wins (axis 0)', inputs: [{ shape: [3, 4], values: ties }], ...along(0) },
        { label: 'int32 input', inputs: [{ shape: [4, 5], dtype: 'int32', options: { lo: -9, hi: 9 } }], ...along(1) },
      ],
    };
  }),
];
