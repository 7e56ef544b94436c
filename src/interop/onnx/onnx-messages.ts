/**
 * The ONNX messages lazygrad reads and writes, with their field numbers from ONNX's onnx.proto, over the wire format
 * of wire.ts. Fields lazygrad does not use (sparse tensors, training info, functions, quantization annotations,
 * non-tensor types, segments) are skipped when reading, as protobuf skips unknown fields. Reading is bounded: every
 * length is checked against the bytes, subgraphs nest at most MAX_GRAPH_DEPTH deep (the importer's own cap), and
 * the nodes of all graphs together are capped by the importer's maxNodes limit.
 *
 * The interfaces keep the names of ONNX's protobuf classes (`IModelProto`…) and their camelCase fields; int64
 * fields are JS numbers (exact up to 2^53; see WireReader.int64). Absent fields are left undefined.
 */
import { GraphError } from '../../graph';
import { BYTES, FIXED32, VARINT, WireReader, WireWriter } from './wire';

export interface IOperatorSetIdProto {
  domain?: string | null;
  version?: number | null;
}

export interface IStringStringEntryProto {
  key?: string | null;
  value?: string | null;
}

export interface ITensorShapeProtoDimension {
  dimValue?: number | null;
  dimParam?: string | null;
  denotation?: string | null;
}

export interface ITensorShapeProto {
  dim?: ITensorShapeProtoDimension[] | null;
}

export interface ITypeProtoTensor {
  elemType?: number | null;
  shape?: ITensorShapeProto | null;
}

export interface ITypeProto {
  tensorType?: ITypeProtoTensor | null;
  denotation?: string | null;
}

export interface IValueInfoProto {
  name?: string | null;
  type?: ITypeProto | null;
  docString?: string | null;
}

export interface ITensorProto {
  dims?: number[] | null;
  dataType?: number | null;
  floatData?: number[] | null;
  int32Data?: number[] | null;
  stringData?: Uint8Array[] | null;
  int64Data?: number[] | null;
  name?: string | null;
  rawData?: Uint8Array | null;
  doubleData?: number[] | null;
  uint64Data?: number[] | null;
  docString?: string | null;
  externalData?: IStringStringEntryProto[] | null;
  dataLocation?: number | null;
}

export interface IAttributeProto {
  name?: string | null;
  f?: number | null;
  i?: number | null;
  s?: Uint8Array | null;
  t?: ITensorProto | null;
  g?: IGraphProto | null;
  floats?: number[] | null;
  ints?: number[] | null;
  strings?: Uint8Array[] | null;
  tensors?: ITensorProto[] | null;
  graphs?: IGraphProto[] | null;
  docString?: string | null;
  type?: number | null;
  refAttrName?: string | null;
}

export interface INodeProto {
  input?: string[] | null;
  output?: string[] | null;
  name?: string | null;
  opType?: string | null;
  attribute?: IAttributeProto[] | null;
  docString?: string | null;
  domain?: string | null;
}

export interface IGraphProto {
  node?: INodeProto[] | null;
  name?: string | null;
  initializer?: ITensorProto[] | null;
  docString?: string | null;
  input?: IValueInfoProto[] | null;
  output?: IValueInfoProto[] | null;
  valueInfo?: IValueInfoProto[] | null;
}

export interface IModelProto {
  irVersion?: number | null;
  producerName?: string | null;
  producerVersion?: string | null;
  domain?: string | null;
  modelVersion?: number | null;
  docString?: string | null;
  graph?: IGraphProto | null;
  opsetImport?: IOperatorSetIdProto[] | null;
  metadataProps?: IStringStringEntryProto[] | null;
}

/** A decoded model (the same shape as the one written: every field optional). */
export type ModelProto = IModelProto;

/** AttributeProto.AttributeType. */
export const ATTRIBUTE_TYPE = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/** TensorProto.DataLocation. */
export const DATA_LOCATION = { DEFAULT: 0, EXTERNAL: 1 } as const;

/** Subgraphs (If/Loop/Scan bodies) nest at most this deep, as the importer allows. */
export const MAX_GRAPH_DEPTH = 32;

export interface DecodeLimits {
  /** Most nodes summed over the model's graph and all its subgraphs. */
  readonly maxNodes: number;
}

/** Thrown when the nodes exceed the limit (reported by decodeModel as a limit, not as malformed bytes). */
class NodeLimit extends Error {}

interface DecodeState {
  readonly limits: DecodeLimits;
  nodes: number;
  depth: number;
}

// ---- reading ---------------------------------------------------------------------------------------------

function list<T>(into: T[] | null | undefined): T[] {
  return into ?? [];
}

function readOperatorSetId(r: WireReader): IOperatorSetIdProto {
  const m: IOperatorSetIdProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === BYTES) m.domain = r.string();
    else if (field === 2 && wire === VARINT) m.version = r.int64();
    else r.skip(wire);
  }
  return m;
}

function readEntry(r: WireReader): IStringStringEntryProto {
  const m: IStringStringEntryProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === BYTES) m.key = r.string();
    else if (field === 2 && wire === BYTES) m.value = r.string();
    else r.skip(wire);
  }
  return m;
}

function readDimension(r: WireReader): ITensorShapeProtoDimension {
  const m: ITensorShapeProtoDimension = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    // dim_value and dim_param are a oneof: the last one read wins, the other is cleared.
    if (field === 1 && wire === VARINT) {
      m.dimValue = r.int64();
      delete m.dimParam;
    } else if (field === 2 && wire === BYTES) {
      m.dimParam = r.string();
      delete m.dimValue;
    } else if (field === 3 && wire === BYTES) m.denotation = r.string();
    else r.skip(wire);
  }
  return m;
}

function readShape(r: WireReader): ITensorShapeProto {
  const m: ITensorShapeProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === BYTES) (m.dim = list(m.dim)).push(r.message(readDimension));
    else r.skip(wire);
  }
  return m;
}

function readTypeTensor(r: WireReader): ITypeProtoTensor {
  const m: ITypeProtoTensor = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === VARINT) m.elemType = r.int32();
    else if (field === 2 && wire === BYTES) m.shape = r.message(readShape);
    else r.skip(wire);
  }
  return m;
}

/** A TypeProto: only tensor_type is read (sequence, map and optional types are skipped, so they nest nowhere). */
function readType(r: WireReader): ITypeProto {
  const m: ITypeProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === BYTES) m.tensorType = r.message(readTypeTensor);
    else if (field === 6 && wire === BYTES) m.denotation = r.string();
    else r.skip(wire);
  }
  return m;
}

function readValueInfo(r: WireReader): IValueInfoProto {
  const m: IValueInfoProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === BYTES) m.name = r.string();
    else if (field === 2 && wire === BYTES) m.type = r.message(readType);
    else if (field === 3 && wire === BYTES) m.docString = r.string();
    else r.skip(wire);
  }
  return m;
}

function readTensorProto(r: WireReader): ITensorProto {
  const m: ITensorProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 1:
        r.repeated(wire, 'int64', (m.dims = list(m.dims)));
        break;
      case 2:
        r.expect(wire, VARINT, 'TensorProto.data_type');
        m.dataType = r.int32();
        break;
      case 4:
        r.repeated(wire, 'float', (m.floatData = list(m.floatData)));
        break;
      case 5:
        r.repeated(wire, 'int32', (m.int32Data = list(m.int32Data)));
        break;
      case 6:
        r.expect(wire, BYTES, 'TensorProto.string_data');
        (m.stringData = list(m.stringData)).push(r.bytesField());
        break;
      case 7:
        r.repeated(wire, 'int64', (m.int64Data = list(m.int64Data)));
        break;
      case 8:
        r.expect(wire, BYTES, 'TensorProto.name');
        m.name = r.string();
        break;
      case 9:
        r.expect(wire, BYTES, 'TensorProto.raw_data');
        m.rawData = r.bytesField();
        break;
      case 10:
        r.repeated(wire, 'double', (m.doubleData = list(m.doubleData)));
        break;
      case 11:
        r.repeated(wire, 'int64', (m.uint64Data = list(m.uint64Data)));
        break;
      case 12:
        r.expect(wire, BYTES, 'TensorProto.doc_string');
        m.docString = r.string();
        break;
      case 13:
        r.expect(wire, BYTES, 'TensorProto.external_data');
        (m.externalData = list(m.externalData)).push(r.message(readEntry));
        break;
      case 14:
        r.expect(wire, VARINT, 'TensorProto.data_location');
        m.dataLocation = r.int32();
        break;
      default:
        r.skip(wire);
    }
  }
  return m;
}

function readAttribute(r: WireReader, st: DecodeState): IAttributeProto {
  const m: IAttributeProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 1:
        r.expect(wire, BYTES, 'AttributeProto.name');
        m.name = r.string();
        break;
      case 2:
        r.expect(wire, FIXED32, 'AttributeProto.f');
        m.f = r.float();
        break;
      case 3:
        r.expect(wire, VARINT, 'AttributeProto.i');
        m.i = r.int64();
        break;
      case 4:
        r.expect(wire, BYTES, 'AttributeProto.s');
        m.s = r.bytesField();
        break;
      case 5:
        r.expect(wire, BYTES, 'AttributeProto.t');
        m.t = r.message(readTensorProto);
        break;
      case 6:
        r.expect(wire, BYTES, 'AttributeProto.g');
        m.g = r.message((sub) => readGraph(sub, st));
        break;
      case 7:
        r.repeated(wire, 'float', (m.floats = list(m.floats)));
        break;
      case 8:
        r.repeated(wire, 'int64', (m.ints = list(m.ints)));
        break;
      case 9:
        r.expect(wire, BYTES, 'AttributeProto.strings');
        (m.strings = list(m.strings)).push(r.bytesField());
        break;
      case 10:
        r.expect(wire, BYTES, 'AttributeProto.tensors');
        (m.tensors = list(m.tensors)).push(r.message(readTensorProto));
        break;
      case 11:
        r.expect(wire, BYTES, 'AttributeProto.graphs');
        (m.graphs = list(m.graphs)).push(r.message((sub) => readGraph(sub, st)));
        break;
      case 13:
        r.expect(wire, BYTES, 'AttributeProto.doc_string');
        m.docString = r.string();
        break;
      case 20:
        r.expect(wire, VARINT, 'AttributeProto.type');
        m.type = r.int32();
        break;
      case 21:
        r.expect(wire, BYTES, 'AttributeProto.ref_attr_name');
        m.refAttrName = r.string();
        break;
      default:
        r.skip(wire);
    }
  }
  return m;
}

function readNode(r: WireReader, st: DecodeState): INodeProto {
  if (++st.nodes > st.limits.maxNodes) throw new NodeLimit();
  const m: INodeProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === BYTES) (m.input = list(m.input)).push(r.string());
    else if (field === 2 && wire === BYTES) (m.output = list(m.output)).push(r.string());
    else if (field === 3 && wire === BYTES) m.name = r.string();
    else if (field === 4 && wire === BYTES) m.opType = r.string();
    else if (field === 5 && wire === BYTES)
      (m.attribute = list(m.attribute)).push(r.message((s) => readAttribute(s, st)));
    else if (field === 6 && wire === BYTES) m.docString = r.string();
    else if (field === 7 && wire === BYTES) m.domain = r.string();
    else r.skip(wire);
  }
  return m;
}

/** A GraphProto; a subgraph one level deeper (recursion is bounded by MAX_GRAPH_DEPTH). */
function readGraph(r: WireReader, st: DecodeState): IGraphProto {
  if (st.depth > MAX_GRAPH_DEPTH) throw r.fail(`subgraphs are nested more than ${MAX_GRAPH_DEPTH} deep`);
  st.depth++;
  const m: IGraphProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === BYTES) (m.node = list(m.node)).push(r.message((s) => readNode(s, st)));
    else if (field === 2 && wire === BYTES) m.name = r.string();
    else if (field === 5 && wire === BYTES) (m.initializer = list(m.initializer)).push(r.message(readTensorProto));
    else if (field === 10 && wire === BYTES) m.docString = r.string();
    else if (field === 11 && wire === BYTES) (m.input = list(m.input)).push(r.message(readValueInfo));
    else if (field === 12 && wire === BYTES) (m.output = list(m.output)).push(r.message(readValueInfo));
    else if (field === 13 && wire === BYTES) (m.valueInfo = list(m.valueInfo)).push(r.message(readValueInfo));
    else r.skip(wire);
  }
  st.depth--;
  return m;
}

function readModel(r: WireReader, st: DecodeState): IModelProto {
  const m: IModelProto = {};
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === VARINT) m.irVersion = r.int64();
    else if (field === 2 && wire === BYTES) m.producerName = r.string();
    else if (field === 3 && wire === BYTES) m.producerVersion = r.string();
    else if (field === 4 && wire === BYTES) m.domain = r.string();
    else if (field === 5 && wire === VARINT) m.modelVersion = r.int64();
    else if (field === 6 && wire === BYTES) m.docString = r.string();
    else if (field === 7 && wire === BYTES) m.graph = r.message((s) => readGraph(s, st));
    else if (field === 8 && wire === BYTES) (m.opsetImport = list(m.opsetImport)).push(r.message(readOperatorSetId));
    else if (field === 14 && wire === BYTES) (m.metadataProps = list(m.metadataProps)).push(r.message(readEntry));
    else r.skip(wire); // training_info (20), functions (25) and anything newer
  }
  return m;
}

/**
 * A ModelProto from its bytes. Malformed bytes are a GraphError "`what`: the bytes are not an ONNX model (the
 * problem at byte N)"; more nodes in all graphs together than `limits.maxNodes` is a GraphError naming the limit.
 */
export function decodeModel(
  bytes: Uint8Array,
  limits: DecodeLimits = { maxNodes: 2 ** 22 },
  what = 'decodeModel',
): IModelProto {
  try {
    return readModel(new WireReader(bytes), { limits, nodes: 0, depth: 0 });
  } catch (error) {
    if (error instanceof NodeLimit) {
      throw new GraphError(
        `${what}: more than ${limits.maxNodes} nodes in all graphs, above the limit of ${limits.maxNodes}`,
      );
    }
    if (error instanceof GraphError)
      throw new GraphError(`${what}: the bytes are not an ONNX model (${error.message})`);
    throw error;
  }
}

/** A TensorProto from its bytes (ONNX's test data stores inputs and outputs as bare TensorProtos). */
export function decodeTensor(bytes: Uint8Array, what = 'decodeTensor'): ITensorProto {
  try {
    return readTensorProto(new WireReader(bytes));
  } catch (error) {
    if (error instanceof GraphError)
      throw new GraphError(`${what}: the bytes are not an ONNX tensor (${error.message})`);
    throw error;
  }
}

// ---- writing ---------------------------------------------------------------------------------------------
// Fields are written in field-number order, set fields only (null and undefined are absent), repeated scalars
// packed: the bytes protobufjs writes for the same message.

function present<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

function str(w: WireWriter, field: number, value: string | null | undefined): void {
  if (!present(value)) return;
  w.tag(field, BYTES);
  w.string(value);
}

function strs(w: WireWriter, field: number, values: readonly string[] | null | undefined): void {
  for (const v of values ?? []) str(w, field, v);
}

function bytes(w: WireWriter, field: number, value: Uint8Array | null | undefined): void {
  if (!present(value)) return;
  w.tag(field, BYTES);
  w.bytesField(value);
}

function int32(w: WireWriter, field: number, value: number | null | undefined): void {
  if (!present(value)) return;
  w.tag(field, VARINT);
  w.int32(value);
}

function int64(w: WireWriter, field: number, value: number | bigint | null | undefined): void {
  if (!present(value)) return;
  w.tag(field, VARINT);
  w.int64(value);
}

function packed(
  w: WireWriter,
  field: number,
  values: readonly number[] | null | undefined,
  write: (w: WireWriter, v: number) => void,
): void {
  if (!present(values) || values.length === 0) return;
  w.tag(field, BYTES);
  const at = w.begin();
  for (const v of values) write(w, v);
  w.end(at);
}

function message<T>(
  w: WireWriter,
  field: number,
  value: T | null | undefined,
  write: (w: WireWriter, m: T) => void,
): void {
  if (!present(value)) return;
  w.tag(field, BYTES);
  const at = w.begin();
  write(w, value);
  w.end(at);
}

function messages<T>(
  w: WireWriter,
  field: number,
  values: readonly T[] | null | undefined,
  write: (w: WireWriter, m: T) => void,
): void {
  for (const v of values ?? []) message(w, field, v, write);
}

function writeEntry(w: WireWriter, m: IStringStringEntryProto): void {
  str(w, 1, m.key);
  str(w, 2, m.value);
}

function writeTensor(w: WireWriter, m: ITensorProto): void {
  packed(w, 1, m.dims, (i, v) => i.int64(v));
  int32(w, 2, m.dataType);
  packed(w, 4, m.floatData, (i, v) => i.float(v));
  packed(w, 5, m.int32Data, (i, v) => i.int32(v));
  for (const s of m.stringData ?? []) bytes(w, 6, s);
  packed(w, 7, m.int64Data, (i, v) => i.int64(v));
  str(w, 8, m.name);
  bytes(w, 9, m.rawData);
  packed(w, 10, m.doubleData, (i, v) => i.double(v));
  packed(w, 11, m.uint64Data, (i, v) => i.int64(v));
  str(w, 12, m.docString);
  messages(w, 13, m.externalData, writeEntry);
  int32(w, 14, m.dataLocation);
}

function writeDimension(w: WireWriter, m: ITensorShapeProtoDimension): void {
  int64(w, 1, m.dimValue);
  str(w, 2, m.dimParam);
  str(w, 3, m.denotation);
}

function writeTypeTensor(w: WireWriter, m: ITypeProtoTensor): void {
  int32(w, 1, m.elemType);
  message(w, 2, m.shape, (sw, s) => messages(sw, 1, s.dim, writeDimension));
}

function writeType(w: WireWriter, m: ITypeProto): void {
  message(w, 1, m.tensorType, writeTypeTensor);
  str(w, 6, m.denotation);
}

function writeValueInfo(w: WireWriter, m: IValueInfoProto): void {
  str(w, 1, m.name);
  message(w, 2, m.type, writeType);
  str(w, 3, m.docString);
}

function writeAttribute(w: WireWriter, m: IAttributeProto): void {
  str(w, 1, m.name);
  if (present(m.f)) {
    w.tag(2, FIXED32);
    w.float(m.f);
  }
  int64(w, 3, m.i);
  bytes(w, 4, m.s);
  message(w, 5, m.t, writeTensor);
  message(w, 6, m.g, writeGraph);
  packed(w, 7, m.floats, (i, v) => i.float(v));
  packed(w, 8, m.ints, (i, v) => i.int64(v));
  for (const s of m.strings ?? []) bytes(w, 9, s);
  messages(w, 10, m.tensors, writeTensor);
  messages(w, 11, m.graphs, writeGraph);
  str(w, 13, m.docString);
  int32(w, 20, m.type);
  str(w, 21, m.refAttrName);
}

function writeNode(w: WireWriter, m: INodeProto): void {
  strs(w, 1, m.input);
  strs(w, 2, m.output);
  str(w, 3, m.name);
  str(w, 4, m.opType);
  messages(w, 5, m.attribute, writeAttribute);
  str(w, 6, m.docString);
  str(w, 7, m.domain);
}

/** A graph (recursing into subgraph attributes: the depth of what lazygrad exports, bounded by its region nesting). */
function writeGraph(w: WireWriter, m: IGraphProto): void {
  messages(w, 1, m.node, writeNode);
  str(w, 2, m.name);
  messages(w, 5, m.initializer, writeTensor);
  str(w, 10, m.docString);
  messages(w, 11, m.input, writeValueInfo);
  messages(w, 12, m.output, writeValueInfo);
  messages(w, 13, m.valueInfo, writeValueInfo);
}

/** About the bytes of a model's tensor data (raw and typed), walking its graphs with an explicit stack. */
function dataSize(m: IModelProto): number {
  let bytes = 0;
  const add = (t: ITensorProto | null | undefined): void => {
    if (!present(t)) return;
    bytes += (t.rawData?.length ?? 0) + 4 * (t.floatData?.length ?? 0) + 5 * (t.int32Data?.length ?? 0);
    bytes += 10 * (t.int64Data?.length ?? 0) + 8 * (t.doubleData?.length ?? 0);
  };
  const graphs: IGraphProto[] = present(m.graph) ? [m.graph] : [];
  while (graphs.length > 0) {
    const g = graphs.pop() as IGraphProto;
    for (const t of g.initializer ?? []) add(t);
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        add(a.t);
        for (const t of a.tensors ?? []) add(t);
        if (present(a.g)) graphs.push(a.g);
        for (const sub of a.graphs ?? []) graphs.push(sub);
      }
    }
  }
  return bytes;
}

/** A ModelProto's bytes. */
export function encodeModel(m: IModelProto): Uint8Array {
  const w = new WireWriter(dataSize(m) + 65536);
  int64(w, 1, m.irVersion);
  str(w, 2, m.producerName);
  str(w, 3, m.producerVersion);
  str(w, 4, m.domain);
  int64(w, 5, m.modelVersion);
  str(w, 6, m.docString);
  message(w, 7, m.graph, writeGraph);
  messages(w, 8, m.opsetImport, (ow, o) => {
    str(ow, 1, o.domain);
    int64(ow, 2, o.version);
  });
  messages(w, 14, m.metadataProps, writeEntry);
  return w.finish();
}

/** A TensorProto's bytes. */
export function encodeTensor(m: ITensorProto): Uint8Array {
  const w = new WireWriter();
  writeTensor(w, m);
  return w.finish();
}
