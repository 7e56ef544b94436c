/**
 * The ONNX protobuf schema (the `onnx-proto` package: ONNX's own .proto compiled for protobufjs) and small helpers
 * around it: dtypes, tensors, attributes and value infos. No protobuf encoding is written by hand.
 */
import type { onnx } from 'onnx-proto';
import { DType, GraphError, NDArray, Shape } from '../../graph';
import { fromLittleEndian, toLittleEndian } from '../bytes';

export type { onnx };

/** Node's CommonJS loader, where the module runs as CommonJS (the core compiles without Node's types). */
declare const require: ((id: string) => unknown) | undefined;

let schema: typeof onnx | undefined;

/**
 * `require` in both builds: the ES module build has none, so it resolves from the working directory. A bridge
 * until the hand-written ONNX reader/writer replaces `onnx-proto` (an optional peer dependency meanwhile).
 */
function schemaRequire(): (id: string) => unknown {
  if (typeof require === 'function') return require;
  const process = (globalThis as { process?: { cwd(): string; getBuiltinModule?(id: string): unknown } }).process;
  const module = process?.getBuiltinModule?.('node:module') as
    { createRequire(from: string): (id: string) => unknown } | undefined;
  if (process === undefined || module === undefined) throw new GraphError(ONNX_PROTO_MISSING);
  return module.createRequire(`${process.cwd()}/`);
}

const ONNX_PROTO_MISSING =
  "ONNX needs the 'onnx-proto' package (an optional peer dependency of lazygrad): npm install onnx-proto";

/**
 * The ONNX schema's message classes, loaded on first use: protobufjs stays off lazygrad's load path (as Graphviz
 * does for pictures) until a model is read or written.
 */
export function onnxSchema(): typeof onnx {
  if (schema === undefined) {
    try {
      schema = (schemaRequire()('onnx-proto') as typeof import('onnx-proto')).onnx;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes("'onnx-proto'")) {
        throw new GraphError(ONNX_PROTO_MISSING);
      }
      throw error;
    }
  }
  return schema;
}

/** ONNX's TensorProto.DataType numbers for the types lazygrad reads or writes. */
export const ONNX_TYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;

const TO_ONNX: { readonly [dtype in DType]: number } = {
  float32: ONNX_TYPE.FLOAT,
  float64: ONNX_TYPE.DOUBLE,
  int32: ONNX_TYPE.INT32,
  bool: ONNX_TYPE.BOOL,
};

export function onnxType(dtype: DType): number {
  return TO_ONNX[dtype];
}

/** The lazygrad dtype holding an ONNX element type: int64 and the small ints become int32. */
export function dtypeOfOnnx(type: number): DType | null {
  switch (type) {
    case ONNX_TYPE.FLOAT:
      return 'float32';
    case ONNX_TYPE.DOUBLE:
      return 'float64';
    case ONNX_TYPE.INT32:
    case ONNX_TYPE.INT64:
    case ONNX_TYPE.INT16:
    case ONNX_TYPE.INT8:
    case ONNX_TYPE.UINT8:
      return 'int32';
    case ONNX_TYPE.BOOL:
      return 'bool';
    default:
      return null;
  }
}

export const TYPE_NAMES: { readonly [type: number]: string } = {
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

/** A protobuf int64 (a number, or a Long from protobufjs) as a number; unsafe magnitudes are clamped. */
export function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

// ---- writing ---------------------------------------------------------------------------------------------

/** An initializer or a Constant's tensor from an NDArray, as raw little-endian bytes. */
export function tensorProto(name: string, value: NDArray): onnx.ITensorProto {
  return { name, dims: [...value.shape], dataType: onnxType(value.dtype), rawData: toLittleEndian(value.data) };
}

/** An int64 tensor (ONNX's type for shapes, axes and indices), exact for any int64 through BigInt. */
export function int64Proto(
  name: string,
  values: readonly (number | bigint)[],
  dims: readonly number[],
): onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [...dims], dataType: ONNX_TYPE.INT64, rawData: bytes };
}

/** A graph input or output: element type and shape, unknown dims as named symbols (`dimName`) or left open. */
export function valueInfo(
  name: string,
  dtype: DType,
  shape: Shape,
  dimName?: (axis: number) => string,
): onnx.IValueInfoProto {
  const dim = shape.map((d, axis) =>
    d !== null ? { dimValue: d } : dimName !== undefined ? { dimParam: dimName(axis) } : {},
  );
  return { name, type: { tensorType: { elemType: onnxType(dtype), shape: { dim } } } };
}

/** An ONNX attribute value as the exporter writes it. */
export type OnnxAttr =
  | { readonly int: number }
  | { readonly ints: readonly number[] }
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly string: string }
  | { readonly strings: readonly string[] }
  | { readonly graph: onnx.IGraphProto }
  | { readonly tensor: onnx.ITensorProto };

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0x7f);
}

export function attributeProto(name: string, value: OnnxAttr): onnx.IAttributeProto {
  const AttributeType = onnxSchema().AttributeProto.AttributeType;
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: [...value.ints] };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  if ('string' in value) return { name, type: AttributeType.STRING, s: asciiBytes(value.string) };
  if ('strings' in value) return { name, type: AttributeType.STRINGS, strings: value.strings.map(asciiBytes) };
  if ('graph' in value) return { name, type: AttributeType.GRAPH, g: value.graph };
  return { name, type: AttributeType.TENSOR, t: value.tensor };
}

// ---- reading ---------------------------------------------------------------------------------------------

/** A tensor read from a model: its ONNX element type, dims and values (int64 as numbers, bool as 0/1). */
export interface HostTensor {
  readonly type: number;
  readonly dims: readonly number[];
  readonly data: readonly number[] | Float32Array | Float64Array | Int32Array | Uint8Array;
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * The values of a TensorProto, from raw_data or the typed repeated fields. Sizes are checked against the bytes
 * actually present, so a small model cannot claim a huge tensor; `maxElements` bounds it further.
 */
export function readTensor(tensor: onnx.ITensorProto, maxElements: number, what: string): HostTensor {
  const dims = (tensor.dims ?? []).map(toNumber);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new GraphError(`${what}: invalid dims ${JSON.stringify(dims)}`);
  const count = elementCount(dims);
  if (count > maxElements) throw new GraphError(`${what}: ${count} elements, above the limit of ${maxElements}`);
  if (
    tensor.dataLocation === onnxSchema().TensorProto.DataLocation.EXTERNAL ||
    (tensor.externalData ?? []).length > 0
  ) {
    throw new GraphError(`${what}: external data is not supported (save the model with its weights inside)`);
  }
  const type = tensor.dataType ?? 0;
  const raw = tensor.rawData;
  const fail = (found: number): GraphError =>
    new GraphError(`${what}: dims ${JSON.stringify(dims)} need ${count} elements, the tensor holds ${found}`);
  if (raw !== null && raw !== undefined && raw.length > 0) {
    const size = { 1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 11: 8 }[type];
    if (size === undefined) throw new GraphError(`${what}: element type ${TYPE_NAMES[type] ?? type} is not supported`);
    if (raw.length !== count * size) throw fail(raw.length / size);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (type) {
      case ONNX_TYPE.FLOAT:
        return { type, dims, data: fromLittleEndian(raw, 'float32', count) as Float32Array };
      case ONNX_TYPE.DOUBLE:
        return { type, dims, data: fromLittleEndian(raw, 'float64', count) as Float64Array };
      case ONNX_TYPE.INT32:
        return { type, dims, data: fromLittleEndian(raw, 'int32', count) as Int32Array };
      case ONNX_TYPE.INT64:
        return { type, dims, data: Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true))) };
      case ONNX_TYPE.INT16:
        return { type, dims, data: Int32Array.from({ length: count }, (_, i) => view.getInt16(i * 2, true)) };
      case ONNX_TYPE.INT8:
        return { type, dims, data: Int32Array.from({ length: count }, (_, i) => view.getInt8(i)) };
      default:
        return { type, dims, data: Uint8Array.from(raw, (b) => (type === ONNX_TYPE.BOOL ? (b !== 0 ? 1 : 0) : b)) };
    }
  }
  let values: readonly number[];
  switch (type) {
    case ONNX_TYPE.FLOAT:
      values = tensor.floatData ?? [];
      break;
    case ONNX_TYPE.DOUBLE:
      values = tensor.doubleData ?? [];
      break;
    case ONNX_TYPE.INT64:
      values = (tensor.int64Data ?? []).map(toNumber);
      break;
    case ONNX_TYPE.INT32:
    case ONNX_TYPE.INT16:
    case ONNX_TYPE.INT8:
    case ONNX_TYPE.UINT8:
    case ONNX_TYPE.BOOL:
      values = tensor.int32Data ?? [];
      break;
    default:
      throw new GraphError(`${what}: element type ${TYPE_NAMES[type] ?? type} is not supported`);
  }
  if (values.length !== count) throw fail(values.length);
  if (type === ONNX_TYPE.FLOAT) return { type, dims, data: Float32Array.from(values) };
  if (type === ONNX_TYPE.DOUBLE) return { type, dims, data: Float64Array.from(values) };
  return { type, dims, data: [...values] };
}

/** A host tensor as an NDArray of the lazygrad dtype holding its type (int64 must fit int32). */
export function toNDArray(host: HostTensor, what: string): NDArray {
  const dtype = dtypeOfOnnx(host.type);
  if (dtype === null)
    throw new GraphError(`${what}: element type ${TYPE_NAMES[host.type] ?? host.type} is not supported`);
  const array = NDArray.zeros(host.dims, dtype);
  for (let i = 0; i < host.data.length; i++) {
    const v = host.data[i];
    if (dtype === 'int32' && !(v >= -(2 ** 31) && v < 2 ** 31)) {
      throw new GraphError(`${what}: the value ${v} does not fit int32 (lazygrad has no int64)`);
    }
    array.data[i] = dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
  }
  return array;
}

/** The attributes of a node by name, read into plain values. */
export interface ReadAttrs {
  int(name: string, fallback?: number): number;
  ints(name: string, fallback?: readonly number[]): number[];
  float(name: string, fallback?: number): number;
  string(name: string, fallback?: string): string;
  tensor(name: string): onnx.ITensorProto | undefined;
  has(name: string): boolean;
}

export function readAttrs(node: onnx.INodeProto, what: string): ReadAttrs {
  const byName = new Map<string, onnx.IAttributeProto>();
  for (const attr of node.attribute ?? []) byName.set(attr.name ?? '', attr);
  const need = <T>(name: string, fallback: T | undefined, read: (a: onnx.IAttributeProto) => T): T => {
    const attr = byName.get(name);
    if (attr === undefined) {
      if (fallback === undefined) throw new GraphError(`${what}: attribute '${name}' is missing`);
      return fallback;
    }
    return read(attr);
  };
  return {
    int: (name, fallback) => need(name, fallback, (a) => toNumber(a.i)),
    ints: (name, fallback) => need(name, fallback && [...fallback], (a) => (a.ints ?? []).map(toNumber)),
    float: (name, fallback) => need(name, fallback, (a) => a.f ?? 0),
    string: (name, fallback) =>
      need(name, fallback, (a) => String.fromCharCode(...Array.from(a.s ?? new Uint8Array(0)).slice(0, 256))),
    tensor: (name) => byName.get(name)?.t ?? undefined,
    has: (name) => byName.has(name),
  };
}
