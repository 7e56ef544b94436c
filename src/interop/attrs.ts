/**
 * Node attributes in files: plain JSON, with the numbers JSON cannot hold (NaN, ±Infinity, −0) written as
 * `{"$number": "NaN"}`, and a table of the attribute types each op expects, checked before any op sees them.
 * Used by the JSON format and by the annotations of ONNX models written by lazygrad.
 */
import { Attrs, AttrValue, isDType } from '../graph';

/** The numbers JSON cannot write, by their names in files. */
const SPECIAL_NUMBERS: { readonly [name: string]: number } = {
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  '-0': -0,
};

/** A JSON value as files hold it (no undefined, no functions, no non-finite numbers). */
export type JSONValue = null | boolean | number | string | readonly JSONValue[] | { readonly [key: string]: JSONValue };

/** Keys that would reach an object's prototype machinery: ignored wherever a file has them. */
export function isIgnoredKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/** A number as a file element: itself, or the name of a number JSON cannot hold. */
export function encodeNumber(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (Object.is(value, -0)) return '-0';
  return value;
}

/** The number a file element stands for, or undefined when it is neither a number nor a special name. */
export function decodeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(SPECIAL_NUMBERS, value)) {
    return SPECIAL_NUMBERS[value];
  }
  return undefined;
}

/** Attrs as JSON: special numbers become `{"$number": name}`. */
export function encodeAttrs(attrs: Attrs): { [key: string]: JSONValue } {
  const out: { [key: string]: JSONValue } = {};
  for (const key of Object.keys(attrs)) out[key] = encodeAttr(attrs[key], 0);
  return out;
}

function encodeAttr(value: AttrValue, depth: number): JSONValue {
  if (depth > MAX_ATTR_DEPTH) throw new Error(`attribute nesting deeper than ${MAX_ATTR_DEPTH}`);
  if (typeof value === 'number') {
    const encoded = encodeNumber(value);
    return typeof encoded === 'number' ? encoded : { $number: encoded };
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: AttrValue) => encodeAttr(v, depth + 1));
  const record = value as { readonly [key: string]: AttrValue };
  const out: { [key: string]: JSONValue } = {};
  for (const key of Object.keys(record)) out[key] = encodeAttr(record[key], depth + 1);
  return out;
}

/** Attribute values nest at most this deep (a fused step's argument sits at depth 3). */
export const MAX_ATTR_DEPTH = 16;

/** A problem found in a file's attrs: the path to the value and what is wrong. */
export class AttrProblem {
  constructor(
    readonly path: string,
    readonly message: string,
  ) {}
}

/**
 * Attrs from a file: a fresh plain-JSON copy with special numbers decoded and prototype keys dropped, or the
 * first problem found. Bounded recursion: at most MAX_ATTR_DEPTH levels.
 */
export function decodeAttrs(raw: unknown): Attrs | AttrProblem {
  if (!isPlainObject(raw)) return new AttrProblem('attrs', 'must be an object');
  const out: { [key: string]: AttrValue } = {};
  for (const key of Object.keys(raw)) {
    if (isIgnoredKey(key)) continue;
    const value = decodeAttr(raw[key], `attrs.${key}`, 1);
    if (value instanceof AttrProblem) return value;
    out[key] = value;
  }
  return out;
}

function decodeAttr(raw: unknown, path: string, depth: number): AttrValue | AttrProblem {
  if (depth > MAX_ATTR_DEPTH) return new AttrProblem(path, `nests deeper than ${MAX_ATTR_DEPTH} levels`);
  if (raw === null || typeof raw === 'boolean' || typeof raw === 'string') return raw;
  if (typeof raw === 'number') {
    return Number.isFinite(raw) ? raw : new AttrProblem(path, 'is not a finite number');
  }
  if (Array.isArray(raw)) {
    const items: AttrValue[] = [];
    for (let i = 0; i < raw.length; i++) {
      const item = decodeAttr(raw[i], `${path}[${i}]`, depth + 1);
      if (item instanceof AttrProblem) return item;
      items.push(item);
    }
    return items;
  }
  if (isPlainObject(raw)) {
    const keys = Object.keys(raw).filter((k) => !isIgnoredKey(k));
    if (keys.length === 1 && keys[0] === '$number') {
      const value = decodeNumber(raw.$number);
      if (value === undefined || typeof raw.$number !== 'string') {
        return new AttrProblem(path, `{"$number": …} must name NaN, Infinity, -Infinity or -0`);
      }
      return value;
    }
    const out: { [key: string]: AttrValue } = {};
    for (const key of keys) {
      const value = decodeAttr(raw[key], `${path}.${key}`, depth + 1);
      if (value instanceof AttrProblem) return value;
      out[key] = value;
    }
    return out;
  }
  return new AttrProblem(path, `has type ${typeof raw}, which is not JSON`);
}

/** An object from JSON.parse (or a literal): not an array, not null. */
export function isPlainObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- the attribute types each op expects ----------------------------------------------------------------------

type AttrKind =
  'bool' | 'int' | 'number' | 'dtype' | 'ints' | 'dims' | 'bounds' | 'pairs' | 'seed' | 'string' | 'steps';

/** `?` marks an optional attr. Ops not listed (or attrs not listed) are checked only as plain JSON. */
type Schema = { readonly [attr: string]: `${AttrKind}` | `${AttrKind}?` };

const REDUCTION: Schema = { axes: 'ints', keepDims: 'bool?' };
const INDEXED: Schema = { axis: 'int', batchDims: 'int' };
const STRIDED: Schema = { begin: 'bounds', end: 'bounds', strides: 'ints', shrinkAxes: 'ints', newAxes: 'ints' };
const RANDOM_SEED: Schema = { shape: 'dims', dtype: 'dtype', seed: 'seed?', nodeSeed: 'int?' };

const SCHEMAS: { readonly [op: string]: Schema } = {
  cast: { dtype: 'dtype' },
  reshape: { shape: 'ints' },
  transpose: { perm: 'ints' },
  broadcastTo: { shape: 'ints' },
  expandDims: { axes: 'ints' },
  squeeze: { axes: 'ints' },
  concat: { axis: 'int' },
  concatPart: { axis: 'int', index: 'int' },
  stack: { axis: 'int' },
  slice: { begin: 'ints', size: 'ints' },
  stridedSlice: STRIDED,
  stridedSliceGrad: STRIDED,
  gather: INDEXED,
  scatterAdd: INDEXED,
  tile: { reps: 'ints' },
  sumTiles: { reps: 'ints' },
  pad: { paddings: 'pairs', constantValue: 'number' },
  reverse: { axes: 'ints' },
  oneHot: { depth: 'int', onValue: 'number', offValue: 'number', dtype: 'dtype' },
  cumsum: { axis: 'int', exclusive: 'bool?', reverse: 'bool?' },
  sum: REDUCTION,
  max: REDUCTION,
  min: REDUCTION,
  prod: REDUCTION,
  all: REDUCTION,
  any: REDUCTION,
  logSumExp: REDUCTION,
  prodExcept: { axes: 'ints' },
  argMax: { axis: 'int' },
  argMin: { axis: 'int' },
  reducedSize: { axes: 'ints', dtype: 'dtype?' },
  matMul: { transposeA: 'bool?', transposeB: 'bool?' },
  softmax: { axis: 'int' },
  logSoftmax: { axis: 'int' },
  softmaxCrossEntropyWithLogits: { axis: 'int' },
  randomUniform: { ...RANDOM_SEED, minval: 'number', maxval: 'number' },
  randomNormal: { ...RANDOM_SEED, mean: 'number', stdDev: 'number' },
  truncatedNormal: { ...RANDOM_SEED, mean: 'number', stdDev: 'number' },
  customGradient: { fn: 'int', inputs: 'int' },
  fused: { steps: 'steps', dtype: 'dtype', expr: 'string?' },
  variable: { trainable: 'bool?' },
};

const isInt = (v: unknown): boolean => Number.isSafeInteger(v);

function kindProblem(kind: AttrKind, value: AttrValue, inputCount: number): string | null {
  switch (kind) {
    case 'bool':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'int':
      return isInt(value) ? null : 'must be an integer';
    case 'number':
      return typeof value === 'number' ? null : 'must be a number';
    case 'string':
      return typeof value === 'string' ? null : 'must be a string';
    case 'dtype':
      return isDType(value) ? null : 'must be one of float32, float64, int32, bool';
    case 'ints':
      return Array.isArray(value) && value.every(isInt) ? null : 'must be a list of integers';
    case 'dims':
      return Array.isArray(value) && value.every((d) => d === null || (isInt(d) && (d as number) >= 0))
        ? null
        : 'must be a list of non-negative integers or null';
    case 'bounds':
      return Array.isArray(value) && value.every((d) => d === null || isInt(d))
        ? null
        : 'must be a list of integers or null';
    case 'pairs':
      return Array.isArray(value) && value.every((p) => Array.isArray(p) && p.length === 2 && p.every(isInt))
        ? null
        : 'must be a list of [before, after] integer pairs';
    case 'seed':
      return typeof value === 'string' || typeof value === 'number' ? null : 'must be a number or a string';
    case 'steps':
      return stepsProblem(value, inputCount);
  }
}

/**
 * A fused node's steps: each `{op, args}` with args `{input: k}` (k < the node's input count), `{step: j}` (an
 * earlier step) or `{value: number}`. The fused record itself checks that each op is a fusible elementwise op, so
 * only engine templates ever reach generated code; this check keeps malformed args from reaching it at all.
 */
function stepsProblem(value: AttrValue, inputCount: number): string | null {
  if (!Array.isArray(value) || value.length === 0) return 'must be a non-empty list of steps';
  for (let j = 0; j < value.length; j++) {
    const step = value[j] as AttrValue;
    if (!isPlainObject(step) || typeof step.op !== 'string' || !Array.isArray(step.args)) {
      return `step ${j} must be {op: string, args: list}`;
    }
    if (Object.keys(step).some((k) => k !== 'op' && k !== 'args')) return `step ${j} has keys other than op and args`;
    for (const arg of step.args as readonly AttrValue[]) {
      const keys = isPlainObject(arg) ? Object.keys(arg) : [];
      const item = isPlainObject(arg) ? (arg as { readonly [key: string]: AttrValue }) : {};
      const valid =
        keys.length === 1 &&
        ((keys[0] === 'input' &&
          isInt(item.input) &&
          (item.input as number) >= 0 &&
          (item.input as number) < inputCount) ||
          (keys[0] === 'step' && isInt(item.step) && (item.step as number) >= 0 && (item.step as number) < j) ||
          (keys[0] === 'value' && typeof item.value === 'number'));
      if (!valid) return `step ${j} has an argument that is not {input: k}, {step: earlier j} or {value: number}`;
    }
  }
  return null;
}

/** The first attr of `attrs` whose type does not fit what `op` expects, as [attr name, problem], or null. */
export function schemaProblem(op: string, attrs: Attrs, inputCount: number): [string, string] | null {
  const schema = Object.prototype.hasOwnProperty.call(SCHEMAS, op) ? SCHEMAS[op] : undefined;
  if (schema === undefined) return null;
  for (const name of Object.keys(schema)) {
    const spec = schema[name];
    const optional = spec.endsWith('?');
    const kind = (optional ? spec.slice(0, -1) : spec) as AttrKind;
    const present = Object.prototype.hasOwnProperty.call(attrs, name);
    if (!present) {
      if (!optional) return [name, 'is missing'];
      continue;
    }
    const problem = kindProblem(kind, attrs[name], inputCount);
    if (problem !== null) return [name, problem];
  }
  return null;
}
