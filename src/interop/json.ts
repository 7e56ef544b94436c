/**
 * The JSON graph format (docs/format.md): every node with its op, inputs, attrs, name, dtype and shape, and the
 * values of constants and variables (small ones inline, large ones as base64 of little-endian bytes). Loading
 * treats the file as untrusted: every field is checked, every op node is rebuilt through its op's own inference,
 * and sizes are limited, so a bad file is a GraphError naming the node and the field.
 */
import {
  allocate,
  Attrs,
  DType,
  Graph,
  GraphError,
  isDType,
  nameProblem,
  NDArray,
  quoteName,
  Shape,
  sizeOf,
  Tensor,
  TypedArray,
} from '../graph';
import { isLeafOp, OpRecord, opRecord } from '../ops';
import {
  AttrProblem,
  decodeAttrs,
  decodeNumber,
  encodeAttrs,
  encodeNumber,
  isIgnoredKey,
  isPlainObject,
  JSONValue,
} from './jsonvalues';
import {
  bytesPerElement,
  decodeBase64,
  encodeBase64,
  fromLittleEndian,
  invalidBoolByte,
  toLittleEndian,
} from './bytes';
import { addCheckedOp, checkAttrs, Fail, LoadLimits, recordFor, resolveLimits, shapeProblem } from './rebuild';

/** The `format` field of every file. */
export const GRAPH_FORMAT = 'lazygrad.graph';
/**
 * The newest version this build writes and reads. Version 2 added regions (the subgraphs of cond, while and scan
 * nodes, in their attrs); a graph without them is written as version 1, which every earlier build reads.
 */
export const GRAPH_FORMAT_VERSION = 2;
/** The versions this build reads. */
export const GRAPH_FORMAT_VERSIONS: readonly number[] = [1, 2];
/** Values with at most this many elements are written inline as numbers; larger ones as base64. */
export const INLINE_LIMIT = 64;

/** A constant's or variable's value: numbers in row-major order, or base64 of the little-endian element bytes. */
export type ValueJSON =
  { encoding: 'inline'; data: (number | string | boolean)[] } | { encoding: 'base64'; data: string };

export interface NodeJSON {
  id: number;
  op: string;
  name: string;
  inputs: number[];
  attrs: { [key: string]: JSONValue };
  dtype: DType;
  shape: (number | null)[];
  value?: ValueJSON;
}

export interface GraphJSON {
  format: typeof GRAPH_FORMAT;
  /** 2 when a node holds regions (control flow), else 1. */
  version: 1 | 2;
  nodes: NodeJSON[];
}

export interface LoadOptions {
  /** Size limits for untrusted files (see LoadLimits for the defaults). */
  limits?: LoadLimits;
}

// ---- writing -------------------------------------------------------------------------------------------------

function valueToJSON(value: NDArray): ValueJSON {
  if (value.size <= INLINE_LIMIT) {
    const isBool = value.dtype === 'bool';
    return { encoding: 'inline', data: Array.from(value.data, (v) => (isBool ? v !== 0 : encodeNumber(v))) };
  }
  return { encoding: 'base64', data: encodeBase64(toLittleEndian(value.data)) };
}

/**
 * The whole graph in the JSON format. Custom gradient functions (JS closures attached to customGradient nodes)
 * are not saved: the op is, but after loading it has no gradient.
 *
 * @example fs.writeFileSync('model.json', JSON.stringify(graphToJSON(g)))
 */
export function graphToJSON(graph: Graph): GraphJSON {
  const nodes = graph.nodes.map((node): NodeJSON => {
    const out: NodeJSON = {
      id: node.id,
      op: node.op,
      name: node.name,
      inputs: [...node.inputs],
      attrs: encodeAttrs(node.attrs),
      dtype: node.dtype,
      shape: [...node.shape],
    };
    if (node.value !== undefined) out.value = valueToJSON(node.value);
    return out;
  });
  const version = graph.nodes.some((node) => holdsRegions(opRecord(node.op))) ? 2 : 1;
  return { format: GRAPH_FORMAT, version, nodes };
}

/**
 * The graph as JSON text (`indent` spaces per level; compact by default).
 *
 * @example fs.writeFileSync('model.json', serializeGraph(g))
 */
export function serializeGraph(graph: Graph, options: { indent?: number } = {}): string {
  return JSON.stringify(graphToJSON(graph), null, options.indent);
}

/** Whether an op's nodes hold regions (attrs of the region kinds): control flow, written as version 2. */
function holdsRegions(record: OpRecord): boolean {
  return Object.values(record.attrs ?? {}).some((kind) => kind === 'region' || kind === 'regions');
}

/** What a file has used of its limits so far: elements of known shapes, nodes (region nodes too). */
interface LoadBudget {
  total: number;
  nodes: number;
  /** The regions already counted (siblings repeat them). */
  readonly regions: Set<string>;
}

/** How many nodes a node's regions hold, nested regions included (attrs nest at most MAX_ATTR_DEPTH deep). */
function regionNodeCount(attrs: Attrs): number {
  let count = 0;
  const stack: unknown[] = [attrs];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
    } else if (isPlainObject(value)) {
      if (Array.isArray(value.nodes) && Array.isArray(value.params)) count += value.nodes.length;
      for (const key of Object.keys(value)) stack.push(value[key]);
    }
  }
  return count;
}

// ---- reading -------------------------------------------------------------------------------------------------

const NODE_FIELDS = new Set(['id', 'op', 'name', 'inputs', 'attrs', 'dtype', 'shape', 'value']);
const GRAPH_FIELDS = new Set(['format', 'version', 'nodes']);

function own(record: { readonly [key: string]: unknown }, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

function decodeInline(data: unknown, dtype: DType, count: number, fail: Fail): TypedArray {
  if (!Array.isArray(data)) throw fail('value.data', 'must be a list of numbers for the inline encoding');
  if (data.length !== count) throw fail('value.data', `holds ${data.length} numbers, the shape needs ${count}`);
  const out = allocate(dtype, count);
  for (let i = 0; i < count; i++) {
    const raw: unknown = data[i];
    if (dtype === 'bool') {
      if (raw !== true && raw !== false && raw !== 0 && raw !== 1) {
        throw fail('value.data', `element ${i} is ${JSON.stringify(raw)}; bool values are true/false (or 0/1)`);
      }
      out[i] = raw === true || raw === 1 ? 1 : 0;
      continue;
    }
    const value = decodeNumber(raw);
    if (value === undefined) {
      throw fail(
        'value.data',
        `element ${i} is ${JSON.stringify(raw)}, not a number, "NaN", "Infinity", "-Infinity" or "-0"`,
      );
    }
    if (
      dtype === 'int32' &&
      !(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 && !Object.is(value, -0))
    ) {
      throw fail('value.data', `element ${i} is ${String(raw)}, not an int32`);
    }
    out[i] = value;
  }
  return out;
}

function decodeValue(raw: unknown, dtype: DType, shape: readonly number[], fail: Fail): NDArray {
  if (!isPlainObject(raw)) throw fail('value', 'must be {encoding, data}');
  for (const key of Object.keys(raw)) {
    if (!isIgnoredKey(key) && key !== 'encoding' && key !== 'data')
      throw fail(`value.${key}`, 'is not a field of a value');
  }
  const count = sizeOf(shape);
  const encoding = own(raw, 'encoding');
  const data = own(raw, 'data');
  let values: TypedArray;
  if (encoding === 'inline') {
    values = decodeInline(data, dtype, count, fail);
  } else if (encoding === 'base64') {
    if (typeof data !== 'string') throw fail('value.data', 'must be a base64 string');
    const expected = count * bytesPerElement(dtype);
    // Check the length before decoding, so a claimed size is never allocated on the file's word alone.
    if (Math.floor((data.length * 3) / 4) < expected || data.length > Math.ceil(expected / 3) * 4) {
      throw fail('value.data', `base64 of ${data.length} characters cannot hold the ${expected} bytes the shape needs`);
    }
    const bytes = decodeBase64(data);
    if (typeof bytes === 'string') throw fail('value.data', bytes);
    if (bytes.length !== expected) throw fail('value.data', `holds ${bytes.length} bytes, the shape needs ${expected}`);
    values = fromLittleEndian(bytes, dtype, count);
    if (dtype === 'bool') {
      const bad = invalidBoolByte(values);
      if (bad >= 0) throw fail('value.data', `bool element ${bad} is the byte ${values[bad]}; bools are 0 or 1`);
    }
  } else {
    throw fail('value.encoding', `must be "inline" or "base64", got ${JSON.stringify(encoding)}`);
  }
  return new NDArray(values, shape, dtype);
}

function describeNode(what: string, index: number, raw: unknown): (field: string, message: string) => GraphError {
  const name = isPlainObject(raw) && typeof raw.name === 'string' ? ` (${quoteName(raw.name.slice(0, 200))})` : '';
  return (field, message) => new GraphError(`${what}: node ${index}${name} field '${field}': ${message}`);
}

function loadNode(
  graph: Graph,
  raw: unknown,
  index: number,
  names: Map<string, number>,
  limits: Required<LoadLimits>,
  budget: LoadBudget,
  what: string,
  version: number,
): Tensor {
  const fail = describeNode(what, index, raw);
  if (!isPlainObject(raw)) throw fail('node', 'must be an object');
  for (const key of Object.keys(raw)) {
    if (!isIgnoredKey(key) && !NODE_FIELDS.has(key))
      throw fail(key, `is not a field of a node (format version ${version})`);
  }
  const id = own(raw, 'id');
  if (id !== index) throw fail('id', `is ${JSON.stringify(id)}; node ids are their positions, so it must be ${index}`);
  const record = recordFor(own(raw, 'op'), fail);
  const op = record.name;
  if (version < 2 && holdsRegions(record)) {
    throw fail('op', `a ${op} node holds regions, which files of version 2 hold; this file says version ${version}`);
  }
  const name = own(raw, 'name');
  // The rule Graph applies to every name it is given (graph/rules.ts).
  const badName = nameProblem(name);
  if (badName !== null) throw fail('name', badName);
  if (typeof name !== 'string') throw fail('name', 'must be a string');
  const taken = names.get(name);
  if (taken !== undefined)
    throw fail('name', `${quoteName(name)} is already the name of node ${taken}; names are unique`);
  names.set(name, index);
  const inputs = own(raw, 'inputs');
  if (!Array.isArray(inputs)) throw fail('inputs', 'must be a list of node ids');
  inputs.forEach((input: unknown, k) => {
    if (!Number.isSafeInteger(input) || (input as number) < 0 || (input as number) >= index) {
      throw fail(
        'inputs',
        `input ${k} is ${JSON.stringify(input)}; inputs must be ids of earlier nodes (0..${index - 1})`,
      );
    }
  });
  const attrs = decodeAttrs(own(raw, 'attrs'));
  if (attrs instanceof AttrProblem) throw fail(attrs.path, attrs.message);
  if (holdsRegions(record)) {
    // Region nodes count against maxNodes with the graph's own (each sibling holds the same regions: counted once).
    const key = JSON.stringify(attrs.body ?? attrs.branches ?? null);
    if (!budget.regions.has(key)) {
      budget.regions.add(key);
      budget.nodes += regionNodeCount(attrs);
      if (budget.nodes > limits.maxNodes) {
        throw fail('attrs', `its regions bring the nodes of the file above the limit of ${limits.maxNodes}`);
      }
    }
  }
  const dtype = own(raw, 'dtype');
  if (!isDType(dtype)) throw fail('dtype', `${JSON.stringify(dtype)} is not one of float32, float64, int32, bool`);
  const shape = own(raw, 'shape');
  const problem = shapeProblem(shape, limits, budget);
  if (problem !== null) throw fail('shape', problem);
  const staticShape = shape as Shape;
  const value = own(raw, 'value');
  const holdsValue = op === 'constant' || op === 'variable';
  if (holdsValue !== (value !== undefined)) {
    throw fail('value', holdsValue ? `a ${op} needs its value` : `only constants and variables hold a value`);
  }

  let tensor: Tensor;
  if (isLeafOp(op)) {
    if (inputs.length > 0) throw fail('inputs', `a ${op} has no inputs`);
    // Leaves are made by Graph methods, not addOp: their schema (a variable's `trainable`) is all they may hold.
    const schema = record.attrs ?? {};
    const unknown = Object.keys(attrs).find((k) => !Object.prototype.hasOwnProperty.call(schema, k));
    if (unknown !== undefined) throw fail(`attrs.${unknown}`, `is not an attribute of a ${op}`);
    checkAttrs(record, attrs, 0, fail);
    tensor = addLeaf(graph, op, name, dtype, staticShape, attrs, value, fail);
  } else {
    tensor = addCheckedOp(graph, record, inputs as number[], attrs, name, fail);
  }
  if (tensor.id !== index) {
    throw fail('op', `the node equals node ${tensor.id} (same op, inputs and attrs); a graph never holds two such`);
  }
  if (tensor.name !== name) {
    throw fail('name', `${quoteName(name)} could not be kept (the graph named the node ${quoteName(tensor.name)})`);
  }
  if (tensor.dtype !== dtype)
    throw fail('dtype', `the file says ${dtype}, but ${op} of these inputs is ${tensor.dtype}`);
  const inferred = tensor.shape;
  if (inferred.length !== staticShape.length || inferred.some((d, i) => d !== staticShape[i])) {
    throw fail(
      'shape',
      `the file says ${JSON.stringify(staticShape)}, but ${op} of these inputs gives ${JSON.stringify(inferred)}`,
    );
  }
  return tensor;
}

function addLeaf(
  graph: Graph,
  op: string,
  name: string,
  dtype: DType,
  shape: Shape,
  attrs: Attrs,
  rawValue: unknown,
  fail: Fail,
): Tensor {
  if (op === 'placeholder') return graph.placeholder(name, shape, dtype);
  if (shape.some((d) => d === null)) throw fail('shape', `a ${op}'s shape must be fully known`);
  const value = decodeValue(rawValue, dtype, shape as number[], fail);
  if (op === 'constant') return graph.constant(value, dtype, name);
  if (Object.keys(attrs).length === 0) return graph.variable(name, value, dtype);
  return graph.addNode({
    op,
    inputs: [],
    attrs,
    dtype,
    shape,
    name,
    value,
    stateful: true,
  });
}

/**
 * A graph from the JSON format (an object, as JSON.parse gives). The input is untrusted: anything wrong is a
 * GraphError naming the node and the field, and `__proto__`/`constructor` keys are ignored.
 *
 * @example const g = graphFromJSON(JSON.parse(text))
 */
export function graphFromJSON(json: unknown, options: LoadOptions = {}, what = 'graphFromJSON'): Graph {
  const limits = resolveLimits(options.limits);
  const fail = (field: string, message: string): GraphError => new GraphError(`${what}: field '${field}': ${message}`);
  if (!isPlainObject(json)) throw fail('(root)', 'a graph file is a JSON object');
  for (const key of Object.keys(json)) {
    if (!isIgnoredKey(key) && !GRAPH_FIELDS.has(key)) throw fail(key, 'is not a field of a graph file');
  }
  if (own(json, 'format') !== GRAPH_FORMAT) {
    throw fail('format', `must be "${GRAPH_FORMAT}", got ${JSON.stringify(own(json, 'format'))}`);
  }
  const version = own(json, 'version');
  if (typeof version !== 'number' || !GRAPH_FORMAT_VERSIONS.includes(version)) {
    throw fail(
      'version',
      `this build reads versions ${GRAPH_FORMAT_VERSIONS.join(' and ')}, the file is version ${JSON.stringify(version)}`,
    );
  }
  const nodes = own(json, 'nodes');
  if (!Array.isArray(nodes)) throw fail('nodes', 'must be a list');
  if (nodes.length > limits.maxNodes)
    throw fail('nodes', `holds ${nodes.length} nodes, above the limit ${limits.maxNodes}`);
  const graph = new Graph();
  const names = new Map<string, number>();
  const budget: LoadBudget = { total: 0, nodes: nodes.length, regions: new Set() };
  for (let i = 0; i < nodes.length; i++) loadNode(graph, nodes[i], i, names, limits, budget, what, version);
  return graph;
}

/**
 * A graph from JSON text (see graphFromJSON); text that is not JSON is a GraphError too.
 *
 * @example const g = loadGraph(fs.readFileSync('model.json', 'utf8'))
 */
export function loadGraph(text: string, options: LoadOptions = {}): Graph {
  if (typeof text !== 'string') throw new GraphError(`loadGraph: expects the file's text, got ${typeof text}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new GraphError(`loadGraph: the text is not valid JSON (${(error as Error).message})`);
  }
  return graphFromJSON(json, options, 'loadGraph');
}
