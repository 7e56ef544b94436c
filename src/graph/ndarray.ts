import { allocate, DType, dtypeOfArray, isDType, TypedArray } from './dtype';
import { DTypeError, ResourceExhaustedError, ShapeError } from './errors';
import { formatShape, sizeOf } from './shape';

/**
 * The most bytes one value may take (1 GiB): the default limit of every allocation lazygrad makes for a value
 * (constants from generators and initializers, folded constants, a session's step outputs and planned buffers).
 * A session takes another limit with `new Session(g, { maxBytes })`.
 */
export const DEFAULT_MAX_BYTES = 2 ** 30;

const BYTES_PER_ELEMENT: { readonly [dtype in DType]: number } = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Bytes as a short readable size (exact below 1 KiB). */
export function formatByteSize(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(2))} ${units[unit]}`;
}

/**
 * Throws a ResourceExhaustedError before allocating a value of this shape and dtype when it would take more than
 * `maxBytes`. `what` names the node or builder; `hint` says how to raise the limit where there is a way.
 */
export function checkValueSize(
  what: string,
  shape: readonly number[],
  dtype: DType,
  maxBytes: number = DEFAULT_MAX_BYTES,
  hint = '',
): void {
  const elements = shape.reduce((p, d) => p * d, 1);
  const bytes = elements * BYTES_PER_ELEMENT[dtype];
  if (bytes <= maxBytes) return;
  throw new ResourceExhaustedError(
    `${what}: a ${dtype}${formatShape(shape)} value (${elements} elements, ${formatByteSize(bytes)}) is above the ` +
      `limit of ${formatByteSize(maxBytes)} for one allocation${hint}`,
  );
}

/** A nested JS array of numbers or booleans, or a single number/boolean. */
export type NestedArray = number | boolean | readonly NestedArray[];
/** Anything a value can be given as: an NDArray, a typed array (1-D) or a nested JS array. */
export type ArrayValue = NDArray | TypedArray | NestedArray;

/**
 * A concrete, dense, row-major array: what a session takes as feeds and returns as fetches.
 *
 * @example
 * const a = NDArray.from([[1, 2], [3, 4]]); // float32 [2, 2]
 * const b = new NDArray(new Float32Array(6), [2, 3]); // wraps without copying
 */
export class NDArray {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;

  constructor(data: TypedArray, shape: readonly number[], dtype?: DType) {
    const storage = dtypeOfArray(data);
    if (storage === null)
      throw new DTypeError('NDArray: data must be a Float32Array, Float64Array, Int32Array or Uint8Array');
    const resolved = dtype ?? storage;
    if (!isDType(resolved) || storage !== resolved) {
      throw new DTypeError(
        `NDArray: dtype ${String(resolved)} is stored as ${storage}-typed data, got ${data.constructor.name}`,
      );
    }
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`NDArray: invalid shape ${formatShape(shape)}`);
    }
    if (sizeOf(shape) !== data.length) {
      throw new ShapeError(
        `NDArray: shape ${formatShape(shape)} holds ${sizeOf(shape)} elements, data has ${data.length}`,
      );
    }
    this.data = data;
    // A frozen shape (a plan step's, another array's) is immutable already: shared, not copied.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.dtype = resolved;
  }

  /**
   * Builds an NDArray from a nested array, a number, a boolean or a typed array (copied).
   * The dtype defaults to float32, bool for booleans, or the typed array's own type.
   *
   * @example NDArray.from([[1, 2, 3]]).shape // [1, 3]
   */
  static from(value: ArrayValue, dtype?: DType): NDArray {
    if (dtype !== undefined && !isDType(dtype)) {
      throw new DTypeError(
        `NDArray.from: unknown dtype ${JSON.stringify(dtype)}; valid: float32, float64, int32, bool ` +
          '(the shape comes from the nested arrays; to shape a flat typed array use new NDArray(data, shape))',
      );
    }
    if (value instanceof NDArray) {
      if (dtype === undefined || dtype === value.dtype) return normalizedBool(value);
      return value.astype(dtype);
    }
    const typed = dtypeOfArray(value);
    if (typed !== null) {
      const source = value as TypedArray;
      const target = dtype ?? typed;
      const data = allocate(target, source.length);
      convertInto(source, data, target, 'NDArray.from', false);
      return new NDArray(data, [source.length], target);
    }
    const { shape, flat, sawBoolean } = flatten(value as NestedArray);
    const target = dtype ?? (sawBoolean ? 'bool' : 'float32');
    const data = allocate(target, flat.length);
    for (let i = 0; i < flat.length; i++) data[i] = convertScalar(flat[i], target, i, 'NDArray.from', false);
    return new NDArray(data, shape, target);
  }

  /** Zero-filled array. */
  static zeros(shape: readonly number[], dtype: DType = 'float32'): NDArray {
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ShapeError(`NDArray.zeros: invalid shape ${formatShape(shape)}; dims are non-negative integers`);
    }
    checkValueSize('NDArray.zeros', shape, dtype);
    return new NDArray(allocate(dtype, sizeOf(shape)), shape, dtype);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /**
   * A copy converted to another dtype: int32 truncates toward zero (a cast), but a value outside -2^31..2^31-1,
   * NaN or ±Inf is a DTypeError rather than a wrapped number; bool is x !== 0.
   */
  astype(dtype: DType): NDArray {
    const data = allocate(dtype, this.data.length);
    convertInto(this.data, data, dtype, 'astype', true);
    return new NDArray(data, this.shape, dtype);
  }

  clone(): NDArray {
    return new NDArray(this.data.slice(), this.shape, this.dtype);
  }

  /** The element at a flat index, as a number (bool as 0/1). */
  get(index = 0): number {
    return this.data[index];
  }

  /** The values as a nested JS array (a number or boolean for a scalar). */
  toArray(): NestedArray {
    const isBool = this.dtype === 'bool';
    const toValue = (v: number): number | boolean => (isBool ? v !== 0 : v);
    if (this.shape.length === 0) return toValue(this.data[0]);
    // Build level by level from the innermost dim outwards: iterative, no recursion.
    let level: NestedArray[] = Array.from(this.data, toValue);
    for (let axis = this.shape.length - 1; axis >= 0; axis--) {
      const d = this.shape[axis];
      const groups = d === 0 ? sizeOf(this.shape.slice(0, axis)) : level.length / d;
      const next: NestedArray[] = new Array<NestedArray>(groups);
      for (let g = 0; g < groups; g++) next[g] = level.slice(g * d, g * d + d);
      level = next;
    }
    return level[0];
  }

  toString(): string {
    return `NDArray(${this.dtype} ${formatShape(this.shape)}) ${JSON.stringify(this.toArray())}`;
  }
}

/** The range of int32, the one integer dtype: what an Int32Array holds without wrapping. */
export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/**
 * A JS number as an element of `dtype`. int32 takes integers in INT32_MIN..INT32_MAX only (a typed array would wrap
 * 2^31 to -2^31 and truncate 1.7 silently); `truncate` (astype, a cast) drops fractions first. bool is 0 or 1.
 */
function convertScalar(value: number | boolean, dtype: DType, index: number, what: string, truncate: boolean): number {
  const n = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  if (dtype === 'bool') return n !== 0 ? 1 : 0;
  if (dtype === 'int32') {
    const integer = truncate ? Math.trunc(n) : n;
    if (!Number.isInteger(integer)) {
      throw new DTypeError(
        `${what}: int32 value ${n} at index ${index} is not an integer; int32 holds integers from ` +
          `${INT32_MIN} to ${INT32_MAX} (round the values first, or use a float dtype)`,
      );
    }
    if (integer < INT32_MIN || integer > INT32_MAX) {
      throw new DTypeError(
        `${what}: int32 value ${n} at index ${index} is out of range; int32 holds integers from ` +
          `${INT32_MIN} to ${INT32_MAX} (-2^31..2^31-1)`,
      );
    }
    return integer;
  }
  return n;
}

function convertInto(source: TypedArray, target: TypedArray, dtype: DType, what: string, truncate: boolean): void {
  if (dtype === 'float32' || dtype === 'float64' || (dtype === 'int32' && source instanceof Int32Array)) {
    target.set(source);
    return;
  }
  for (let i = 0; i < source.length; i++) target[i] = convertScalar(source[i], dtype, i, what, truncate);
}

/**
 * A bool array whose bytes are all 0 or 1: the array itself, or a normalised copy when some byte is another
 * non-zero value (a Uint8Array holds 0..255; as in tfjs, every non-zero value means true). Kernels rely on 0/1.
 */
export function normalizedBool(array: NDArray): NDArray {
  if (array.dtype !== 'bool') return array;
  const data = array.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i] > 1) {
      const copy = new Uint8Array(data.length);
      for (let k = 0; k < data.length; k++) copy[k] = data[k] !== 0 ? 1 : 0;
      return new NDArray(copy, array.shape, 'bool');
    }
  }
  return array;
}

/** Flattens a nested array breadth-first, checking it is rectangular (a ragged array is a ShapeError). */
function flatten(value: NestedArray): { shape: number[]; flat: (number | boolean)[]; sawBoolean: boolean } {
  let sawBoolean = false;
  const shape: number[] = [];
  let level: NestedArray[] = [value];
  for (;;) {
    const first = level[0];
    if (level.length === 0 || !Array.isArray(first)) {
      const flat: (number | boolean)[] = [];
      for (const item of level) {
        if (Array.isArray(item)) throw raggedError(shape);
        if (typeof item === 'boolean') sawBoolean = true;
        else if (typeof item !== 'number') {
          throw new DTypeError(`NDArray.from: elements must be numbers or booleans, got ${typeof item}`);
        }
        flat.push(item as number | boolean);
      }
      return { shape, flat, sawBoolean };
    }
    const length = (first as readonly NestedArray[]).length;
    const next: NestedArray[] = [];
    for (const item of level) {
      if (!Array.isArray(item) || item.length !== length) throw raggedError(shape);
      for (const child of item as readonly NestedArray[]) next.push(child);
    }
    shape.push(length);
    level = next;
  }
}

function raggedError(prefix: number[]): ShapeError {
  return new ShapeError(
    `NDArray.from: ragged nested array: the sub-arrays at depth ${prefix.length} differ in length or nesting ` +
      `(outer shape so far ${formatShape(prefix)}); every sub-array at one depth must have the same length`,
  );
}
