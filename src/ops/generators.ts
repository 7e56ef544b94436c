/**
 * Generators: constants computed in JS (fill, zeros, ones, range, linspace). These take no tensor, so they cannot
 * find a graph the way other builders do. They take the Graph as their LAST argument (after tfjs's positional
 * arguments): a deliberate difference from tfjs, which has an implicit global engine, while lazygrad has no global
 * graph.
 */
import {
  allocate,
  checkValueSize,
  DType,
  DTypeError,
  Graph,
  GraphError,
  INT32_MAX,
  INT32_MIN,
  isDType,
  NDArray,
  ShapeError,
  sizeOf,
  Tensor,
} from '../graph';

function trailingGraph(op: string, args: readonly unknown[]): Graph {
  const last = args[args.length - 1];
  if (!(last instanceof Graph)) {
    throw new GraphError(
      `${op}: pass the Graph as the last argument, e.g. ${op}(..., g); lazygrad has no global graph`,
    );
  }
  return last;
}

function optionalDType(op: string, value: unknown, fallback: DType): DType {
  if (value === undefined) return fallback;
  if (!isDType(value))
    throw new DTypeError(`${op}: unknown dtype '${String(value)}'; valid: float32, float64, int32, bool`);
  return value;
}

function filled(op: string, shape: readonly number[], value: number, dtype: DType, graph: Graph): Tensor {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${op}: shape ${JSON.stringify(shape)} must be a list of non-negative integers`);
  }
  if (dtype === 'int32' && !Number.isInteger(value)) {
    throw new DTypeError(`${op}: the value ${value} is not an integer, but the dtype is int32`);
  }
  if (dtype === 'int32' && (value < INT32_MIN || value > INT32_MAX)) {
    throw new DTypeError(`${op}: the value ${value} is out of int32's range ${INT32_MIN} to ${INT32_MAX}`);
  }
  checkValueSize(op, shape, dtype);
  const data = allocate(dtype, sizeOf(shape));
  data.fill(dtype === 'bool' ? (value !== 0 ? 1 : 0) : value);
  return graph.constant(new NDArray(data, shape, dtype), dtype, op);
}

/** A constant of `shape` filled with `value`. @example fill([2, 2], 4, g) */
export function fill(shape: readonly number[], value: number, graph: Graph): Tensor;
export function fill(shape: readonly number[], value: number, dtype: DType | undefined, graph: Graph): Tensor;
export function fill(shape: readonly number[], value: number, ...rest: (DType | Graph | undefined)[]): Tensor {
  const graph = trailingGraph('fill', rest);
  return filled('fill', shape, value, optionalDType('fill', rest.length > 1 ? rest[0] : undefined, 'float32'), graph);
}

/** A constant of zeros. @example zeros([2, 3], g) */
export function zeros(shape: readonly number[], graph: Graph): Tensor;
export function zeros(shape: readonly number[], dtype: DType | undefined, graph: Graph): Tensor;
export function zeros(shape: readonly number[], ...rest: (DType | Graph | undefined)[]): Tensor {
  const graph = trailingGraph('zeros', rest);
  return filled('zeros', shape, 0, optionalDType('zeros', rest.length > 1 ? rest[0] : undefined, 'float32'), graph);
}

/** A constant of ones. @example ones([2, 3], 'int32', g) */
export function ones(shape: readonly number[], graph: Graph): Tensor;
export function ones(shape: readonly number[], dtype: DType | undefined, graph: Graph): Tensor;
export function ones(shape: readonly number[], ...rest: (DType | Graph | undefined)[]): Tensor {
  const graph = trailingGraph('ones', rest);
  return filled('ones', shape, 1, optionalDType('ones', rest.length > 1 ? rest[0] : undefined, 'float32'), graph);
}

/**
 * The numbers start, start + step, … before stop, as a 1-D constant. As in tfjs, a decreasing range with step 1
 * (the default) counts down by 1.
 * @example range(0, 9, 2, g) // [0, 2, 4, 6, 8]
 */
export function range(start: number, stop: number, graph: Graph): Tensor;
export function range(start: number, stop: number, step: number | undefined, graph: Graph): Tensor;
export function range(
  start: number,
  stop: number,
  step: number | undefined,
  dtype: DType | undefined,
  graph: Graph,
): Tensor;
export function range(start: number, stop: number, ...rest: (number | DType | Graph | undefined)[]): Tensor {
  const graph = trailingGraph('range', rest);
  const stepArg = rest.length > 1 ? rest[0] : undefined;
  if (stepArg !== undefined && typeof stepArg !== 'number') {
    throw new GraphError(`range: step must be a number, got ${String(stepArg)}`);
  }
  let step = stepArg ?? 1;
  const dtype = optionalDType('range', rest.length > 2 ? rest[1] : undefined, 'float32');
  if (step === 0 || !Number.isFinite(step))
    throw new ShapeError(`range: step ${step} must be a finite non-zero number`);
  if (dtype === 'int32' && ![start, step].every(Number.isInteger)) {
    throw new DTypeError(`range: start ${start} and step ${step} must be integers for int32`);
  }
  if (!Number.isFinite(start) || !Number.isFinite(stop)) {
    throw new ShapeError(`range: start ${start} and stop ${stop} must be finite numbers`);
  }
  if (stop < start && step === 1) step = -1;
  const count = Math.max(0, Math.ceil((stop - start) / step));
  checkValueSize('range', [count], dtype);
  const last = start + (count - 1) * step;
  if (dtype === 'int32' && count > 0 && [start, last].some((v) => v < INT32_MIN || v > INT32_MAX)) {
    throw new DTypeError(`range: the values ${start} to ${last} leave int32's range ${INT32_MIN} to ${INT32_MAX}`);
  }
  const data = allocate(dtype, count);
  for (let i = 0; i < count; i++) data[i] = start + i * step;
  return graph.constant(new NDArray(data, [count], dtype), dtype, 'range');
}

/**
 * `num` evenly spaced float32 numbers from start to stop (both included).
 * @example linspace(0, 1, 5, g) // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, num: number, graph: Graph): Tensor {
  trailingGraph('linspace', [graph]);
  if (!Number.isInteger(num) || num <= 0) throw new ShapeError(`linspace: num ${num} must be a positive integer`);
  checkValueSize('linspace', [num], 'float32');
  const step = (stop - start) / (num - 1);
  const data = new Float32Array(num);
  for (let i = 0; i < num; i++) data[i] = i === 0 ? start : start + i * step;
  return graph.constant(new NDArray(data, [num], 'float32'), 'float32', 'linspace');
}
