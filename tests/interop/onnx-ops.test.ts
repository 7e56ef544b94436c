/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Every op with an ONNX mapping, on its own: the exported model run in ONNX Runtime matches Session.run within
 * float32 tolerance, and importing the model back (with lazygrad's annotations, and by ONNX semantics alone) gives
 * the same values.
 */
import * as L from '../../src';
import { apply, DType, exportOnnx, Graph, importOnnx, NDArray, opRecord, Session, Tensor } from '../../src';
import { expectClose, randomArray, RandomOptions, Rng } from '../ops/util';
import { runOrt } from './ort';

type Feed = [Tensor, NDArray];

interface Case {
  readonly name: string;
  readonly build: (g: Graph, rng: Rng, feeds: Feed[]) => Tensor;
  /** Tolerance against Session.run (relative, absolute below 1). */
  readonly tol?: number;
  /** Why importing by ONNX semantics alone (no annotations) is not tested for this case. */
  readonly plain?: string;
  /** Why ONNX Runtime cannot run this case (the model is valid ONNX; the runtime lacks the kernel). */
  readonly ort?: string;
}

/** A float32 (or other dtype) placeholder with a random value fed to it. */
function input(
  g: Graph,
  rng: Rng,
  feeds: Feed[],
  name: string,
  shape: readonly number[],
  dtype: DType = 'float32',
  options: RandomOptions = {},
  placeholderShape: readonly (number | null)[] = shape,
): Tensor {
  const t = g.placeholder(name, placeholderShape, dtype);
  feeds.push([t, randomArray(rng, shape, dtype, options)]);
  return t;
}

function given(g: Graph, feeds: Feed[], name: string, value: NDArray, shape?: readonly (number | null)[]): Tensor {
  const t = g.placeholder(name, shape ?? value.shape, value.dtype);
  feeds.push([t, value]);
  return t;
}

const unary = (name: string, f: (x: Tensor) => Tensor, options: RandomOptions = {}, tol?: number): Case => ({
  name,
  tol,
  build: (g, rng, feeds) => f(input(g, rng, feeds, 'x', [2, 3, 4], 'float32', options)),
});

const binary = (
  name: string,
  f: (a: Tensor, b: Tensor) => Tensor,
  a: RandomOptions = {},
  b: RandomOptions = {},
  dtype: DType = 'float32',
): Case => ({
  name,
  build: (g, rng, feeds) =>
    f(input(g, rng, feeds, 'a', [2, 3, 4], dtype, a), input(g, rng, feeds, 'b', [3, 1], dtype, b)),
});

/** Integer-valued floats, so comparisons meet ties. */
const ties: RandomOptions = { lo: -2, hi: 2 };
const rounded = (g: Graph, rng: Rng, feeds: Feed[], name: string, shape: number[]): Tensor => {
  const value = randomArray(rng, shape, 'float32', ties);
  return given(g, feeds, name, new NDArray(Float32Array.from(value.data, Math.round), shape));
};
const compare = (name: string, f: (a: Tensor, b: Tensor) => Tensor): Case => ({
  name,
  build: (g, rng, feeds) => f(rounded(g, rng, feeds, 'a', [2, 3, 4]), rounded(g, rng, feeds, 'b', [3, 1])),
});
const bools = (g: Graph, rng: Rng, feeds: Feed[], name: string, shape: number[]): Tensor =>
  input(g, rng, feeds, name, shape, 'bool');

const away: RandomOptions = { awayFromZero: 0.5 };
const positive: RandomOptions = { lo: 0.1, hi: 3 };
const unit: RandomOptions = { lo: -0.95, hi: 0.95 };
const special = new NDArray(Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1.5, -3, 1e30]), [2, 4]);

const CASES: readonly Case[] = [
  // elementwise, binary
  binary('add', L.add),
  binary('sub', L.sub),
  binary('mul', L.mul),
  binary('div', L.div, {}, away),
  binary('pow', L.pow, { lo: 0.5, hi: 2 }),
  binary('maximum', L.maximum),
  binary('minimum', L.minimum),
  binary('squaredDifference', L.squaredDifference),
  binary('reluGrad', L.reluGrad),
  binary('floorDiv', L.floorDiv, { lo: -5, hi: 5 }, away),
  binary('mod', L.mod, { lo: -5, hi: 5 }, away),
  binary('atan2', L.atan2),
  {
    name: 'atan2 at the origin and on the axes',
    build: (g, _r, feeds) =>
      L.atan2(
        given(g, feeds, 'a', NDArray.from([0, 0, 1, -1, 0])),
        given(g, feeds, 'b', NDArray.from([0, -2, 0, 0, 3])),
      ),
  },
  binary('add int32', L.add, { lo: -9, hi: 9 }, { lo: -9, hi: 9 }, 'int32'),
  binary('div int32', L.div, { lo: -20, hi: 20 }, { lo: 1, hi: 5 }, 'int32'),
  binary('mod int32', L.mod, { lo: -20, hi: 20 }, { lo: 1, hi: 5 }, 'int32'),
  binary('mod int32 negative divisor', L.mod, { lo: -20, hi: 20 }, { lo: -5, hi: -1 }, 'int32'),
  binary('floorDiv int32', L.floorDiv, { lo: -20, hi: 20 }, { lo: 1, hi: 5 }, 'int32'),
  binary('maximum int32', L.maximum, { lo: -9, hi: 9 }, { lo: -9, hi: 9 }, 'int32'),
  { name: 'addN', build: (g, rng, feeds) => L.addN([0, 1, 2].map((i) => input(g, rng, feeds, `x${i}`, [2, 3]))) },
  {
    name: 'addN int32',
    build: (g, rng, feeds) =>
      L.addN([0, 1, 2].map((i) => input(g, rng, feeds, `x${i}`, [2, 3], 'int32', { lo: -9, hi: 9 }))),
  },
  {
    name: 'where',
    build: (g, rng, feeds) =>
      L.where(bools(g, rng, feeds, 'c', [3, 1]), input(g, rng, feeds, 'a', [2, 3, 4]), input(g, rng, feeds, 'b', [4])),
  },
  // comparisons and logic
  compare('equal', L.equal),
  compare('notEqual', L.notEqual),
  compare('greater', L.greater),
  compare('greaterEqual', L.greaterEqual),
  compare('less', L.less),
  compare('lessEqual', L.lessEqual),
  {
    name: 'greater of bools',
    build: (g, rng, feeds) => L.greater(bools(g, rng, feeds, 'a', [2, 3]), bools(g, rng, feeds, 'b', [3])),
  },
  {
    name: 'equal of bools',
    build: (g, rng, feeds) => L.equal(bools(g, rng, feeds, 'a', [2, 3]), bools(g, rng, feeds, 'b', [3])),
  },
  {
    name: 'logicalAnd',
    build: (g, rng, feeds) => L.logicalAnd(bools(g, rng, feeds, 'a', [2, 3]), bools(g, rng, feeds, 'b', [3])),
  },
  {
    name: 'logicalOr',
    build: (g, rng, feeds) => L.logicalOr(bools(g, rng, feeds, 'a', [2, 3]), bools(g, rng, feeds, 'b', [3])),
  },
  { name: 'logicalNot', build: (g, rng, feeds) => L.logicalNot(bools(g, rng, feeds, 'a', [2, 3])) },
  { name: 'isNaN', build: (g, _r, feeds) => L.isNaN(given(g, feeds, 'x', special)) },
  { name: 'isFinite', build: (g, _r, feeds) => L.isFinite(given(g, feeds, 'x', special)) },
  { name: 'isFinite int32', build: (g, rng, feeds) => L.isFinite(input(g, rng, feeds, 'x', [5], 'int32')) },
  // unary math
  unary('neg', L.neg),
  unary('abs', L.abs),
  unary('sign', L.sign),
  unary('square', L.square),
  unary('sqrt', L.sqrt, positive),
  unary('rsqrt', L.rsqrt, positive),
  unary('reciprocal', L.reciprocal, away),
  unary('exp', L.exp),
  unary('expm1', L.expm1, {}, 1e-5),
  unary('log', L.log, positive),
  unary('log1p', L.log1p, positive, 1e-5),
  unary('sin', L.sin),
  unary('cos', L.cos),
  unary('tan', L.tan, unit),
  unary('asin', L.asin, unit),
  unary('acos', L.acos, unit),
  unary('atan', L.atan),
  unary('sinh', L.sinh),
  unary('cosh', L.cosh),
  unary('asinh', L.asinh),
  unary('acosh', L.acosh, { lo: 1.1, hi: 4 }),
  unary('atanh', L.atanh, unit),
  unary('tanh', L.tanh),
  unary('erf', L.erf),
  unary('floor', L.floor, { lo: -5, hi: 5 }),
  unary('ceil', L.ceil, { lo: -5, hi: 5 }),
  {
    name: 'round (halves to even)',
    build: (g, _r, feeds) => L.round(given(g, feeds, 'x', NDArray.from([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6]))),
  },
  { name: 'neg int32', build: (g, rng, feeds) => L.neg(input(g, rng, feeds, 'x', [5], 'int32', { lo: -9, hi: 9 })) },
  { name: 'abs int32', build: (g, rng, feeds) => L.abs(input(g, rng, feeds, 'x', [5], 'int32', { lo: -9, hi: 9 })) },
  // activations
  unary('sigmoid', L.sigmoid, { lo: -8, hi: 8 }),
  unary('relu', L.relu),
  { name: 'relu int32', build: (g, rng, feeds) => L.relu(input(g, rng, feeds, 'x', [6], 'int32', { lo: -9, hi: 9 })) },
  unary('relu6', L.relu6, { lo: -8, hi: 8 }),
  unary('elu', L.elu),
  unary('selu', L.selu),
  unary('softplus', L.softplus, { lo: -10, hi: 10 }),
  unary('logSigmoid', L.logSigmoid, { lo: -10, hi: 10 }),
  unary('leakyRelu', (x) => L.leakyRelu(x, 0.1)),
  {
    name: 'leakyRelu of an unknown shape',
    build: (g, rng, feeds) => L.leakyRelu(input(g, rng, feeds, 'x', [3, 2], 'float32', {}, [null, 2]), 0.25),
  },
  {
    name: 'prelu (alpha broadcast to x)',
    build: (g, rng, feeds) =>
      L.prelu(input(g, rng, feeds, 'x', [2, 3, 4]), input(g, rng, feeds, 'alpha', [4], 'float32', positive)),
  },
  {
    name: 'prelu (alpha widening x)',
    build: (g, rng, feeds) =>
      L.prelu(input(g, rng, feeds, 'x', [4]), input(g, rng, feeds, 'alpha', [3, 1], 'float32', positive)),
  },
  unary('clipByValue', (x) => L.clipByValue(x, -0.5, 0.7)),
  // passing values through
  unary('identity', L.identity),
  unary('stopGradient', L.stopGradient),
  unary('cast to int32', (x) => L.cast(x, 'int32'), { lo: -5, hi: 5 }),
  unary('cast to bool', (x) => L.cast(L.round(x), 'bool'), { lo: -2, hi: 2 }),
  { name: 'cast bool to float64', build: (g, rng, feeds) => L.cast(bools(g, rng, feeds, 'x', [2, 3]), 'float64') },
  {
    name: 'zerosLike of an unknown shape',
    build: (g, rng, feeds) => L.zerosLike(input(g, rng, feeds, 'x', [2, 3], 'float32', {}, [null, 3])),
  },
  { name: 'onesLike', build: (g, rng, feeds) => L.onesLike(input(g, rng, feeds, 'x', [2, 3], 'int32')) },
  {
    name: 'customGradient',
    build: (g, rng, feeds) => {
      const twice = L.customGradient((...args) => ({
        value: L.mul(args[0] as Tensor, 2),
        gradFunc: (dy: Tensor) => [dy],
      }));
      return twice(input(g, rng, feeds, 'x', [3]));
    },
  },
  // movement
  { name: 'reshape', build: (g, rng, feeds) => L.reshape(input(g, rng, feeds, 'x', [2, 6]), [3, 2, 2]) },
  {
    name: 'reshape of an unknown dim',
    build: (g, rng, feeds) => L.reshape(input(g, rng, feeds, 'x', [2, 6], 'float32', {}, [null, 6]), [-1, 2, 3]),
  },
  {
    name: 'reshape to a size-0 dim',
    build: (g, rng, feeds) => L.reshape(input(g, rng, feeds, 'x', [0, 6]), [3, 0, 2]),
  },
  { name: 'transpose', build: (g, rng, feeds) => L.transpose(input(g, rng, feeds, 'x', [2, 3, 4]), [2, 0, 1]) },
  { name: 'broadcastTo', build: (g, rng, feeds) => L.broadcastTo(input(g, rng, feeds, 'x', [3, 1]), [2, 3, 4]) },
  {
    name: 'broadcastLike of an unknown shape',
    build: (g, rng, feeds) =>
      L.broadcastLike(
        input(g, rng, feeds, 'x', [3, 1]),
        input(g, rng, feeds, 'like', [2, 3, 4], 'float32', {}, [null, 3, null]),
      ),
  },
  {
    name: 'sumTo',
    build: (g, rng, feeds) => L.sumTo(input(g, rng, feeds, 'x', [2, 3, 4]), input(g, rng, feeds, 'like', [3, 1])),
  },
  {
    name: 'sumTo with dims known only at run time',
    plain: 'the axes are found at run time (NonZero of a shape comparison), which only the annotation recovers',
    build: (g, rng, feeds) =>
      L.sumTo(
        input(g, rng, feeds, 'x', [4, 3], 'float32', {}, [null, 3]),
        input(g, rng, feeds, 'like', [1, 3], 'float32', {}, [null, 3]),
      ),
  },
  {
    name: 'reshapeLike of an unknown shape',
    build: (g, rng, feeds) =>
      L.reshapeLike(input(g, rng, feeds, 'x', [2, 6]), input(g, rng, feeds, 'like', [4, 3], 'float32', {}, [null, 3])),
  },
  {
    name: 'ensureShapeLike of an unknown shape',
    build: (g, rng, feeds) =>
      L.ensureShapeLike(
        input(g, rng, feeds, 'x', [2, 3], 'float32', {}, [null, 3]),
        input(g, rng, feeds, 'like', [2, 3], 'float32', {}, [2, null]),
      ),
  },
  { name: 'expandDims', build: (g, rng, feeds) => L.expandDims(input(g, rng, feeds, 'x', [2, 3]), [0, 2]) },
  { name: 'squeeze', build: (g, rng, feeds) => L.squeeze(input(g, rng, feeds, 'x', [2, 1, 3, 1]), [1]) },
  { name: 'squeeze of no axes', build: (g, rng, feeds) => L.squeeze(input(g, rng, feeds, 'x', [2, 3]), []) },
  // indexing
  {
    name: 'concat',
    build: (g, rng, feeds) => L.concat([input(g, rng, feeds, 'a', [2, 3]), input(g, rng, feeds, 'b', [2, 1])], 1),
  },
  {
    name: 'concatPart with sizes known only at run time',
    plain: 'the offsets are computed from shapes at run time (Gather/Add of Shape), which only the annotation recovers',
    build: (g, rng, feeds) => {
      const parts = [
        input(g, rng, feeds, 'a', [2, 3], 'float32', {}, [2, null]),
        input(g, rng, feeds, 'b', [2, 2], 'float32', {}, [2, null]),
      ];
      return apply(opRecord('concatPart'), [input(g, rng, feeds, 'dy', [2, 5], 'float32', {}, [2, null]), ...parts], {
        axis: 1,
        index: 1,
      });
    },
  },
  {
    name: 'stack',
    build: (g, rng, feeds) => L.stack([input(g, rng, feeds, 'a', [2, 3]), input(g, rng, feeds, 'b', [2, 3])], 1),
  },
  { name: 'slice', build: (g, rng, feeds) => L.slice(input(g, rng, feeds, 'x', [3, 4]), [1, 1], [2, -1]) },
  {
    name: 'stridedSlice with a negative stride',
    build: (g, rng, feeds) => L.stridedSlice(input(g, rng, feeds, 'x', [4, 5]), [0, -1], [4, 0], [2, -2]),
  },
  {
    name: 'stridedSlice with masks',
    build: (g, rng, feeds) =>
      L.stridedSlice(input(g, rng, feeds, 'x', [4, 5, 2]), [1, 0, 1], [3, 0, 0], [1, 1, 1], 0, 2, 0, 2, 4),
  },
  {
    name: 'stridedSlice shrinking the last index',
    build: (g, rng, feeds) => L.stridedSlice(input(g, rng, feeds, 'x', [4, 5]), [-1, 0], [0, 5], [1, 1], 0, 0, 0, 0, 1),
  },
  {
    name: 'stridedSlice starting before the start with a negative stride',
    build: (g, rng, feeds) => L.stridedSlice(input(g, rng, feeds, 'x', [4]), [-9], [-10], [-1]),
  },
  {
    name: 'stridedSliceGrad (the gradient of a strided slice)',
    plain: 'the scatter is a ScatterElements of a Range, which the annotation-free import does not read',
    build: (g, rng, feeds) => {
      const x = input(g, rng, feeds, 'x', [4, 5], 'float32', {}, [null, 5]);
      return L.gradients(L.sum(L.square(L.stridedSlice(x, [3, 0], [0, 5], [-2, 2]))), [x])[0] as Tensor;
    },
  },
  {
    name: 'gather',
    build: (g, rng, feeds) =>
      L.gather(
        input(g, rng, feeds, 'x', [2, 4, 3]),
        given(
          g,
          feeds,
          'i',
          NDArray.from(
            [
              [3, 0],
              [1, 3],
            ],
            'int32',
          ),
        ),
        1,
      ),
  },
  {
    name: 'gather with batchDims',
    plain: 'batched gathers export as GatherElements, which the annotation-free import does not read',
    build: (g, rng, feeds) =>
      L.gather(
        input(g, rng, feeds, 'x', [2, 4, 3]),
        given(
          g,
          feeds,
          'i',
          NDArray.from(
            [
              [3, 0, 3],
              [1, 2, 0],
            ],
            'int32',
          ),
        ),
        1,
        1,
      ),
  },
  {
    name: 'scatterAdd with repeated indices',
    plain: 'scatterAdd exports as ScatterElements, which the annotation-free import does not read',
    build: (g, rng, feeds) =>
      L.scatterAdd(
        input(g, rng, feeds, 'u', [5, 3]),
        given(g, feeds, 'i', NDArray.from([1, 3, 1, 0, 1], 'int32')),
        input(g, rng, feeds, 'like', [4, 3]),
      ),
  },
  {
    name: 'scatterAdd with batchDims along axis 1',
    plain: 'scatterAdd exports as ScatterElements, which the annotation-free import does not read',
    build: (g, rng, feeds) =>
      L.scatterAdd(
        input(g, rng, feeds, 'u', [2, 3, 2]),
        given(
          g,
          feeds,
          'i',
          NDArray.from(
            [
              [0, 2, 0],
              [1, 1, 3],
            ],
            'int32',
          ),
        ),
        input(g, rng, feeds, 'like', [2, 4, 2]),
        1,
        1,
      ),
  },
  { name: 'tile', build: (g, rng, feeds) => L.tile(input(g, rng, feeds, 'x', [2, 3]), [2, 1]) },
  {
    name: 'sumTiles',
    build: (g, rng, feeds) => apply(opRecord('sumTiles'), [input(g, rng, feeds, 'dy', [4, 6])], { reps: [2, 3] }),
  },
  {
    name: 'pad',
    build: (g, rng, feeds) =>
      L.pad(
        input(g, rng, feeds, 'x', [2, 3]),
        [
          [1, 2],
          [0, 1],
        ],
        2.5,
      ),
  },
  { name: 'reverse', build: (g, rng, feeds) => L.reverse(input(g, rng, feeds, 'x', [2, 3, 4]), [0, 2]) },
  {
    name: 'oneHot with out-of-range indices',
    build: (g, _r, feeds) => L.oneHot(given(g, feeds, 'i', NDArray.from([0, 2, -1, 3, 1], 'int32')), 3, 5, -1),
  },
  { name: 'cumsum', build: (g, rng, feeds) => L.cumsum(input(g, rng, feeds, 'x', [2, 4]), 1) },
  {
    name: 'cumsum exclusive and reversed',
    build: (g, rng, feeds) => L.cumsum(input(g, rng, feeds, 'x', [3, 4]), 0, true, true),
  },
  // reductions
  { name: 'sum', build: (g, rng, feeds) => L.sum(input(g, rng, feeds, 'x', [2, 3, 4]), [0, 2]) },
  { name: 'sum keeping dims', build: (g, rng, feeds) => L.sum(input(g, rng, feeds, 'x', [2, 3, 4]), 1, true) },
  { name: 'max', build: (g, rng, feeds) => L.max(input(g, rng, feeds, 'x', [2, 3, 4]), [1]) },
  { name: 'min keeping dims', build: (g, rng, feeds) => L.min(input(g, rng, feeds, 'x', [2, 3, 4]), [0, 1], true) },
  { name: 'prod', build: (g, rng, feeds) => L.prod(input(g, rng, feeds, 'x', [2, 3, 4]), 2) },
  {
    name: 'logSumExp',
    build: (g, rng, feeds) => L.logSumExp(input(g, rng, feeds, 'x', [2, 3, 4], 'float32', { lo: -30, hi: 30 }), 1),
  },
  {
    name: 'mean of an unknown shape',
    build: (g, rng, feeds) => L.mean(input(g, rng, feeds, 'x', [3, 4], 'float32', {}, [null, 4])),
  },
  {
    name: 'prodExcept with zeros',
    build: (g, _r, feeds) =>
      apply(
        opRecord('prodExcept'),
        [
          given(
            g,
            feeds,
            'x',
            NDArray.from([
              [1, 2, 3],
              [0, 2, 3],
              [0, 0, 4],
              [2, -1, 0.5],
            ]),
          ),
        ],
        { axes: [1] },
      ),
  },
  { name: 'all', build: (g, rng, feeds) => L.all(bools(g, rng, feeds, 'x', [3, 4]), 1) },
  { name: 'any', build: (g, rng, feeds) => L.any(bools(g, rng, feeds, 'x', [3, 4]), 0, true) },
  { name: 'argMax', build: (g, rng, feeds) => L.argMax(input(g, rng, feeds, 'x', [3, 4]), 1) },
  { name: 'argMin', build: (g, rng, feeds) => L.argMin(input(g, rng, feeds, 'x', [3, 4]), 0) },
  // linear algebra and nn
  {
    name: 'matMul',
    build: (g, rng, feeds) => L.matMul(input(g, rng, feeds, 'a', [2, 3]), input(g, rng, feeds, 'b', [3, 4])),
  },
  {
    name: 'matMul with transposes',
    build: (g, rng, feeds) =>
      L.matMul(input(g, rng, feeds, 'a', [3, 2]), input(g, rng, feeds, 'b', [4, 3]), true, true),
  },
  {
    name: 'matMul batched with broadcasting',
    build: (g, rng, feeds) => L.matMul(input(g, rng, feeds, 'a', [2, 3, 4]), input(g, rng, feeds, 'b', [4, 5])),
  },
  { name: 'softmax', build: (g, rng, feeds) => L.softmax(input(g, rng, feeds, 'x', [3, 4]), 0) },
  { name: 'logSoftmax', build: (g, rng, feeds) => L.logSoftmax(input(g, rng, feeds, 'x', [3, 4])) },
  {
    name: 'softmaxCrossEntropyWithLogits',
    build: (g, rng, feeds) =>
      L.softmaxCrossEntropyWithLogits(
        L.softmax(input(g, rng, feeds, 'labels', [3, 4])),
        input(g, rng, feeds, 'logits', [3, 4]),
      ),
  },
  {
    name: 'sigmoidCrossEntropyWithLogits',
    build: (g, rng, feeds) =>
      L.sigmoidCrossEntropyWithLogits(
        input(g, rng, feeds, 'labels', [3, 4], 'float32', { lo: 0, hi: 1 }),
        input(g, rng, feeds, 'logits', [3, 4], 'float32', { lo: -20, hi: 20 }),
      ),
  },
  {
    name: 'fused (a compiled elementwise group)',
    build: (g, rng, feeds) => {
      const steps = [
        { op: 'mul', args: [{ input: 0 }, { input: 1 }] },
        { op: 'add', args: [{ step: 0 }, { value: 0.5 }] },
        { op: 'tanh', args: [{ step: 1 }] },
      ];
      const a = input(g, rng, feeds, 'a', [2, 3]);
      const b = input(g, rng, feeds, 'b', [3]);
      return L.addOp(g, opRecord('fused'), [a.id, b.id], { dtype: 'float32', steps } as never);
    },
  },
];

/** ONNX Runtime's CPU provider has float32 kernels only for these ONNX ops (checked with onnxruntime-node 1.30). */
const FLOAT32_ONLY: { readonly [op: string]: string } = {
  tan: 'Tan',
  asin: 'Asin',
  acos: 'Acos',
  atan: 'Atan',
  sinh: 'Sinh',
  cosh: 'Cosh',
  asinh: 'Asinh',
  acosh: 'Acosh',
  atanh: 'Atanh',
  erf: 'Erf',
  elu: 'Elu',
  selu: 'Selu',
  softplus: 'Softplus',
  logSigmoid: 'Softplus',
  atan2: 'Atan',
  sigmoidCrossEntropyWithLogits: 'Softplus',
};

const DOUBLE_OPS: readonly [string, (x: Tensor) => Tensor, RandomOptions?][] = [
  ['sqrt', L.sqrt, positive],
  ['exp', L.exp],
  ['log', L.log, positive],
  ['sin', L.sin],
  ['cos', L.cos],
  ['tan', L.tan, unit],
  ['asin', L.asin, unit],
  ['acos', L.acos, unit],
  ['atan', L.atan],
  ['sinh', L.sinh],
  ['cosh', L.cosh],
  ['asinh', L.asinh],
  ['acosh', L.acosh, { lo: 1.1, hi: 4 }],
  ['atanh', L.atanh, unit],
  ['tanh', L.tanh],
  ['erf', L.erf],
  ['sigmoid', L.sigmoid],
  ['relu', L.relu],
  ['elu', L.elu],
  ['selu', L.selu],
  ['softplus', L.softplus],
  ['logSigmoid', L.logSigmoid],
  ['leakyRelu', (x) => L.leakyRelu(x, 0.1)],
  ['atan2', (x) => L.atan2(x, L.cos(x))],
  ['sigmoidCrossEntropyWithLogits', (x) => L.sigmoidCrossEntropyWithLogits(L.sigmoid(x), x)],
  ['mod', (x) => L.mod(x, 0.3)],
  ['logSumExp', (x) => L.logSumExp(x, 1)],
  ['softmax', (x) => L.softmax(x)],
  ['cumsum', (x) => L.cumsum(x, 2, true)],
];

/** The same ops on float64 (compared at float64 precision less the runtime's own rounding). */
const DOUBLE_CASES: readonly Case[] = DOUBLE_OPS.map(([name, f, options]) => ({
  name: `${name} float64`,
  tol: 1e-12,
  ort:
    FLOAT32_ONLY[name] === undefined
      ? undefined
      : `ONNX Runtime's CPU provider has no float64 kernel for ${FLOAT32_ONLY[name]}`,
  build: (g, rng, feeds) => f(input(g, rng, feeds, 'x', [2, 3, 4], 'float64', options ?? {})),
}));

function build(c: Case, seed: number): { graph: Graph; y: Tensor; feeds: Feed[]; expected: NDArray } {
  const graph = new Graph();
  const feeds: Feed[] = [];
  const y = c.build(graph, new Rng(seed), feeds);
  const expected = new Session(graph).run(y, new Map(feeds));
  return { graph, y, feeds, expected };
}

const byName = (feeds: readonly Feed[]): Map<string, NDArray> => new Map(feeds.map(([t, v]) => [t.name, v]));

function runImported(bytes: Uint8Array, feeds: readonly Feed[], annotations: boolean): NDArray {
  const imported = importOnnx(bytes, { annotations, initializersAs: 'constant' });
  const imported2 = new Map(feeds.map(([t, v]) => [imported.inputs.get(t.name) as Tensor, v]));
  return new Session(imported.graph).run(imported.outputs[0], imported2);
}

describe.each([...CASES, ...DOUBLE_CASES].map((c, i) => [c.name, c, i] as const))('%s', (_name, c, index) => {
  const seed = 100 + index;

  const inOrt = c.ort === undefined ? test : test.skip;
  inOrt('the exported model run in ONNX Runtime matches Session.run', async () => {
    const { graph, y, feeds, expected } = build(c, seed);
    const outputs = await runOrt(exportOnnx(graph, { outputs: { y } }), byName(feeds));
    const actual = outputs.get('y') as NDArray;
    expect(actual.dtype).toBe(expected.dtype);
    expectClose(actual, expected, c.tol ?? 2e-6, c.name);
  });

  test('importing the model back with annotations gives the same values', () => {
    const { graph, y, feeds, expected } = build(c, seed);
    expectClose(runImported(exportOnnx(graph, { outputs: { y } }), feeds, true), expected, 0, c.name);
  });

  const plain = c.plain === undefined ? test : test.skip;
  plain('importing the model back by ONNX semantics alone gives the same values', () => {
    const { graph, y, feeds, expected } = build(c, seed);
    const actual = runImported(exportOnnx(graph, { outputs: { y }, annotations: false }), feeds, false);
    expect(actual.dtype).toBe(expected.dtype);
    expectClose(actual, expected, c.tol ?? 2e-6, c.name);
  });
});
