/**
 * importOnnx: an ONNX model as a lazygrad graph, so an existing model can be run, differentiated and trained.
 * Graph inputs become placeholders, initializers variables (or constants), and each node the lazygrad ops its
 * rule in import-ops.ts gives. A model lazygrad wrote carries annotations naming each node's lazygrad op; those
 * nodes are rebuilt as the same ops (checked as the JSON loader checks a file), so a round trip keeps the graph.
 */
import { DType, Graph, GraphError, NDArray, Shape, sizeOf, Tensor } from '../../graph';
import { evaluateConstant, opRecord } from '../../ops';
import { AttrProblem, decodeAttrs, isPlainObject } from '../jsonvalues';
import { addCheckedOp, LoadLimits, resolveLimits, shapeProblem } from '../rebuild';
import { ANNOTATION_PREFIX, exportedNodes, ONNX_OPSETS } from './export';
import {
  IMPORT_RULES,
  ImportArgs,
  ImportRule,
  known,
  RANDOM_ONNX_OPS,
  shapeArithmetic,
  SubgraphImporter,
  SUBGRAPH_ONNX_OPS,
  Value,
  versionProblem,
} from './import-ops';
import {
  dtypeOfOnnx,
  HostTensor,
  onnx,
  decodeModel,
  encodeTensor,
  onnxType,
  readAttrs,
  readTensor,
  toNDArray,
  toNumber,
  TYPE_NAMES,
} from './proto';

export interface ImportOnnxOptions {
  /** What initializers become: 'variable' (default, so they can be trained) or 'constant'. */
  initializersAs?: 'constant' | 'variable';
  /** Use the annotations of models lazygrad wrote to rebuild the same ops (default true). */
  annotations?: boolean;
  /** Size limits for untrusted models (see LoadLimits). */
  limits?: LoadLimits;
  /**
   * Fixed shapes for inputs by name, giving the dims the model leaves symbolic (its known dims must agree), as ONNX
   * Runtime's make_dynamic_shape_fixed does: ops that need known sizes (Resize by scales, some Reshapes) then import.
   */
  inputShapes?: { readonly [name: string]: readonly number[] };
}

export interface ImportedOnnx {
  readonly graph: Graph;
  /** The placeholders, by the model's input names. */
  readonly inputs: Map<string, Tensor>;
  /** The model's outputs, in order. */
  readonly outputs: Tensor[];
  readonly outputNames: string[];
}

/** Shape arithmetic ops that also accept a symbolic (run-time) shape. */
const SHAPE_OPS = new Set([
  ...['Identity', 'Cast', 'Gather', 'Unsqueeze', 'Squeeze', 'Slice', 'Concat', 'ReduceProd', 'Mul'],
]);
/** Host values up to this size are folded while importing (shape arithmetic); larger ones become graph nodes. */
const FOLD_LIMIT = 4096;

interface Annotation {
  readonly op: string;
  readonly attrs: unknown;
  readonly inputs: readonly string[];
}

/** A lazygrad annotation from a doc string, or null for any other doc string (annotations are hints). */
function annotationOf(docString: string | null | undefined): Annotation | null {
  if (typeof docString !== 'string' || !docString.startsWith(ANNOTATION_PREFIX)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(docString.slice(ANNOTATION_PREFIX.length));
  } catch {
    return null;
  }
  if (!isPlainObject(parsed) || typeof parsed.op !== 'string') return null;
  const inputs = parsed.inputs ?? [];
  if (!Array.isArray(inputs) || !inputs.every((i) => typeof i === 'string')) return null;
  return { op: parsed.op, attrs: parsed.attrs ?? {}, inputs };
}

function dimsOf(info: onnx.IValueInfoProto, what: string): { dtype: DType; shape: Shape } {
  const tensorType = info.type?.tensorType;
  if (tensorType === null || tensorType === undefined)
    throw new GraphError(`${what}: only tensor inputs are supported`);
  const type = tensorType.elemType ?? 0;
  const dtype = dtypeOfOnnx(type);
  if (dtype === null) throw new GraphError(`${what}: element type ${TYPE_NAMES[type] ?? type} is not supported`);
  if (tensorType.shape === null || tensorType.shape === undefined) {
    throw new GraphError(`${what}: the rank is unknown; lazygrad placeholders need a known rank`);
  }
  // dim_value and dim_param are a oneof: the absent one is undefined.
  const shape = (tensorType.shape.dim ?? []).map((d) =>
    d.dimValue === null || d.dimValue === undefined ? null : toNumber(d.dimValue),
  );
  return { dtype, shape };
}

/** An input's shape with the symbolic dims given by inputShapes (which must keep the rank and the known dims). */
function fixedShape(name: string, declared: Shape, given: ImportOnnxOptions['inputShapes']): Shape {
  if (given === undefined || !Object.prototype.hasOwnProperty.call(given, name)) return declared;
  const dims = given[name];
  const what = `importOnnx: inputShapes['${name}']`;
  if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0))
    throw new GraphError(`${what} must be an array of whole sizes`);
  if (dims.length !== declared.length || declared.some((d, i) => d !== null && d !== dims[i])) {
    throw new GraphError(`${what} ${JSON.stringify(dims)} does not fit the model's shape ${JSON.stringify(declared)}`);
  }
  return [...dims];
}

/**
 * A lazygrad graph from the bytes of an ONNX model (any opset; each op's versions ONNX Runtime runs, docs/onnx.md).
 * The model is untrusted: sizes are limited, and anything unsupported or malformed is a GraphError naming the node.
 *
 * @example
 * const { graph, inputs, outputs } = importOnnx(fs.readFileSync('model.onnx'));
 * const grads = gradients(sum(outputs[0]), graph.trainableVariables());
 */
export function importOnnx(bytes: Uint8Array, options: ImportOnnxOptions = {}): ImportedOnnx {
  const limits = resolveLimits(options.limits);
  if (!(bytes instanceof Uint8Array)) throw new GraphError('importOnnx: expects the model as a Uint8Array');
  const model = decodeModel(bytes, { maxNodes: limits.maxNodes }, 'importOnnx');
  const proto = model.graph;
  if (proto === null || proto === undefined) throw new GraphError('importOnnx: the model has no graph');
  const opsetEntry = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  const opset = opsetEntry === undefined ? 0 : toNumber(opsetEntry.version);
  if (!(opset >= 1)) throw new GraphError(`importOnnx: the model imports no opset of the default ONNX domain`);
  const protoNodes = proto.node ?? [];
  if (protoNodes.length > limits.maxNodes) {
    throw new GraphError(`importOnnx: ${protoNodes.length} nodes, above the limit of ${limits.maxNodes}`);
  }
  const useAnnotations = options.annotations !== false;
  const initializersAs = options.initializersAs ?? 'variable';
  if (initializersAs !== 'variable' && initializersAs !== 'constant') {
    throw new GraphError(`importOnnx: initializersAs must be 'variable' or 'constant'`);
  }
  const graph = new Graph();
  const budget = { total: 0 };

  const root = newScope(null, proto.initializer ?? [], 'importOnnx');
  const inputs = new Map<string, Tensor>();
  for (const info of proto.input ?? []) {
    const name = info.name ?? '';
    if (root.initializers.has(name)) continue;
    if (name === '' || root.values.has(name))
      throw new GraphError(`importOnnx: input name '${name}' is empty or repeated`);
    const { dtype, shape: declared } = dimsOf(info, `importOnnx: input '${name}'`);
    const shape = fixedShape(name, declared, options.inputShapes);
    const problem = shapeProblem(shape, limits, { total: 0 });
    if (problem !== null) throw new GraphError(`importOnnx: input '${name}' shape ${problem}`);
    const tensor = graph.placeholder(name, shape, dtype);
    inputs.set(name, tensor);
    root.values.set(name, { kind: 'tensor', tensor });
  }

  for (const name of Object.keys(options.inputShapes ?? {})) {
    if (!inputs.has(name)) throw new GraphError(`importOnnx: inputShapes names '${name}', which is not an input`);
  }

  /**
   * A value by name: a computed value, or an initializer read on first use, of this scope or an enclosing one (a
   * subgraph reads the values of the graphs around it by name). Also gives the scope that holds it.
   */
  const lookup = (scope: Scope, name: string, what: string): [Value, Scope] => {
    for (let s: Scope | null = scope; s !== null; s = s.parent) {
      const found = s.values.get(name);
      if (found !== undefined) return [found, s];
      const init = s.initializers.get(name);
      if (init !== undefined) {
        const value: Value = {
          kind: 'host',
          host: readTensor(init, limits.maxElements, `importOnnx: initializer '${name}'`),
          fromInitializer: true,
        };
        s.values.set(name, value);
        return [value, s];
      }
      if (s.producers.has(name))
        throw new GraphError(`${what}: value '${name}' is an output lazygrad does not compute`);
    }
    throw new GraphError(`${what}: value '${name}' is not produced by any node, input or initializer`);
  };
  const valueIn =
    (scope: Scope) =>
    (name: string, what: string): Value =>
      lookup(scope, name, what)[0];

  /** A host value as a tensor of the graph: a constant, or a variable for an initializer (annotated or not). */
  const hostTensor = (value: Value & { kind: 'host' }, name: string, initializer: onnx.ITensorProto | undefined) => {
    const array = toNDArray(value.host, `importOnnx: value '${name}'`);
    if (!value.fromInitializer) return graph.constant(array, array.dtype, name);
    const note = useAnnotations ? annotationOf(initializer?.docString) : null;
    // An initializer is data: its annotation may only say whether it was a constant or a variable.
    if (note !== null && note.op !== 'constant' && note.op !== 'variable') {
      throw new GraphError(
        `importOnnx: initializer '${name}': annotation op '${note.op}' is not 'constant' or 'variable' ` +
          `(an initializer holds data; its annotation can only say which of the two it was)`,
      );
    }
    const kind = note !== null ? note.op : initializersAs;
    if (kind === 'variable') {
      const attrs = note !== null ? decodeAttrs(note.attrs) : {};
      const trainable = attrs instanceof AttrProblem || attrs.trainable !== false;
      // Initializers of subgraphs may repeat a name of another graph: the variable takes a fresh one.
      const unique = graph.byName(name) !== undefined ? `${name}_${graph.size}` : name;
      return graph.variable(unique, array, { trainable, dtype: array.dtype });
    }
    return graph.constant(array, array.dtype, name);
  };

  /** A value as a tensor of the graph: host values become constants (or variables, for initializers). */
  const tensorIn =
    (scope: Scope) =>
    (name: string, what: string): Tensor => {
      const [value, owner] = lookup(scope, name, what);
      if (value.kind === 'tensor') return value.tensor;
      const cached = owner.tensors.get(name);
      if (cached !== undefined) return cached;
      if (value.kind === 'shape') {
        throw new GraphError(
          `${what}: value '${name}' is a shape known only at run time, which lazygrad cannot use as data`,
        );
      }
      const tensor = hostTensor(value, name, owner.initializers.get(name));
      owner.tensors.set(name, tensor);
      return tensor;
    };
  const tensorOf = tensorIn(root);

  /** Imports the nodes of a graph (the model's, or a subgraph's) that its outputs need, into its scope. */
  const importNodes = (scope: Scope, protoNodes: readonly onnx.INodeProto[], outputNames: readonly string[]): void => {
    const valueOfHere = valueIn(scope);
    const tensorOfHere = tensorIn(scope);
    const producers = scope.producers;
    protoNodes.forEach((node, index) => {
      for (const output of node.output ?? []) {
        if (output === '') continue;
        if (producers.has(output) || scope.values.has(output) || scope.initializers.has(output)) {
          throw new GraphError(`importOnnx: value '${output}' is produced twice`);
        }
        producers.set(output, index);
      }
    });
    const visible = (name: string): boolean => {
      for (let s: Scope | null = scope; s !== null; s = s.parent) {
        if (s.producers.has(name) || s.values.has(name) || s.initializers.has(name)) return true;
      }
      return false;
    };
    const notes = protoNodes.map((node) => {
      if (!useAnnotations) return null;
      const note = annotationOf(node.docString);
      return note !== null && note.inputs.every(visible) ? note : null;
    });
    // A node with subgraphs also depends on the outer values its subgraphs read.
    const depsOf = (index: number): string[] =>
      [...(notes[index]?.inputs ?? protoNodes[index].input ?? []), ...outerNames(protoNodes[index])].filter(
        (i) => i !== '',
      );
    const order = neededOrder(protoNodes.length, outputNames, producers, depsOf);

    for (const index of order) {
      const node = protoNodes[index];
      const opType = node.opType ?? '';
      const label =
        node.name !== null && node.name !== undefined && node.name !== '' ? node.name : (node.output ?? [''])[0];
      const what = `importOnnx: node '${label}' (${opType})`;
      const outputs = (node.output ?? []).filter((o) => o !== '');
      const note = notes[index];
      const buildNode = (): (Value | Tensor)[] => {
        if (note === null) {
          if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') {
            throw new GraphError(`${what}: domain '${node.domain}' is not supported`);
          }
          const sub: SubgraphImporter = {
            subgraph: (attr, bindings) => importSubgraph(scope, node, attr, bindings, what),
            asTensor: (value, name) =>
              value.kind === 'tensor'
                ? value.tensor
                : value.kind === 'host'
                  ? hostTensor(value, name, undefined)
                  : (() => {
                      throw new GraphError(`${what}: value '${name}' is a shape known only at run time`);
                    })(),
          };
          return applyRule(graph, node, opType, opset, what, valueOfHere, tensorOfHere, limits.maxElements, sub);
        }
        const fail = (field: string, message: string): GraphError =>
          new GraphError(`${what}: annotation field '${field}': ${message}`);
        let record;
        try {
          record = opRecord(note.op);
        } catch {
          throw fail('op', `unknown op '${note.op}'`);
        }
        const attrs = decodeAttrs(note.attrs);
        if (attrs instanceof AttrProblem) throw fail(attrs.path, attrs.message);
        const ids = note.inputs.map((i) => graph.buildTarget().lift(tensorOfHere(i, what)));
        const tensor = addCheckedOp(graph.buildTarget(), record, ids, attrs, outputs[0] ?? note.op, fail);
        checkAnnotation(graph.buildTarget(), tensor, node, note, opset, what, (name) => {
          const index = producers.get(name);
          return index === undefined ? undefined : protoNodes[index];
        });
        return [tensor];
      };
      let results: (Value | Tensor)[] = [];
      try {
        results = buildNode();
      } catch (error) {
        // Builders throw ShapeError/DTypeError (and a malformed model can trip anything): name the node.
        if (error instanceof GraphError && error.message.startsWith('importOnnx: ')) throw error;
        throw new GraphError(`${what}: ${(error as Error).message}`);
      }
      // Outputs a rule does not give (Dropout's mask) stay unset: reading one later is an error naming it.
      // Results go to the outputs by position: an output left out ('') takes its result nowhere.
      (node.output ?? []).forEach((name, k) => {
        if (name === '' || k >= results.length) return;
        const result = results[k];
        const value: Value = result instanceof Tensor ? { kind: 'tensor', tensor: result } : result;
        if (value.kind === 'tensor') {
          const problem = shapeProblem(value.tensor.shape, limits, budget);
          if (problem !== null) throw new GraphError(`${what}: output '${name}' shape ${problem}`);
        }
        scope.values.set(name, value);
      });
    }
  };

  /**
   * Imports subgraph attribute `attr` of `node` in a scope inside `parent`, its inputs bound in order to `bindings`:
   * its nodes are built where ops are being built now (inside the region a control rule has open, or inline for a
   * branch known while importing), and read outer values by name. Gives its outputs.
   */
  const importSubgraph = (
    parent: Scope,
    node: onnx.INodeProto,
    attr: string,
    bindings: readonly Value[],
    what: string,
  ): Value[] => {
    const body = (node.attribute ?? []).find((a) => a.name === attr)?.g;
    if (body === null || body === undefined) throw new GraphError(`${what}: attribute '${attr}' (a graph) is missing`);
    const formal = body.input ?? [];
    if (formal.length !== bindings.length) {
      throw new GraphError(
        `${what}: subgraph '${attr}' has ${formal.length} inputs where ${bindings.length} are given to it`,
      );
    }
    if (++depth.now > 32) throw new GraphError(`${what}: subgraphs are nested more than 32 deep`);
    try {
      const scope = newScope(parent, body.initializer ?? [], `${what}: subgraph '${attr}'`);
      formal.forEach((info, k) => scope.values.set(info.name ?? '', bindings[k]));
      const names = (body.output ?? []).map((o) => o.name ?? '');
      importNodes(scope, body.node ?? [], names);
      return names.map((name) => lookup(scope, name, `${what}: subgraph '${attr}' output`)[0]);
    } finally {
      depth.now--;
    }
  };
  const depth = { now: 0 };

  const outputNames = (proto.output ?? []).map((o) => o.name ?? '');
  importNodes(root, protoNodes, outputNames);

  const outputs = outputNames.map((name) => tensorOf(name, `importOnnx: output '${name}'`));
  return { graph, inputs, outputs, outputNames };
}

/**
 * An annotation may only add what the ONNX nodes cannot say (names, lazygrad-only attributes): exporting the op it
 * names must write the nodes the model has, the node it is on and the helper nodes feeding it (same ONNX ops, same
 * attributes, the op's inputs read where the op reads them). Otherwise it would change what the model computes.
 */
function checkAnnotation(
  graph: Graph,
  tensor: Tensor,
  node: onnx.INodeProto,
  note: Annotation,
  opset: number,
  what: string,
  producerOf: (name: string) => onnx.INodeProto | undefined,
): void {
  const disagree = (why: string): GraphError =>
    new GraphError(
      `${what}: annotation op '${note.op}' does not agree with the ONNX node: ${why}; an annotation may only add ` +
        `names and lazygrad-only attributes to what the nodes compute (import with { annotations: false } to ` +
        `read the model by ONNX semantics alone)`,
    );
  const exportOpset = Math.min(ONNX_OPSETS[ONNX_OPSETS.length - 1], Math.max(ONNX_OPSETS[0], opset));
  let written: { nodes: readonly onnx.INodeProto[]; out: string };
  try {
    written = exportedNodes(graph, tensor.id, note.inputs, exportOpset);
  } catch (error) {
    throw disagree(`'${note.op}' has no ONNX form (${(error as Error).message})`);
  }
  const writtenBy = new Map<string, onnx.INodeProto>();
  for (const n of written.nodes) for (const o of n.output ?? []) writtenBy.set(o, n);
  const direct = new Set(note.inputs);
  // Walks the written nodes back from the value, pairing each with the model's node at the same place.
  const stack: [string, string][] = [[written.out, (node.output ?? [])[0] ?? '']];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const [mine, theirs] = stack.pop() as [string, string];
    const pair = `${mine}\u0000${theirs}`;
    if (seen.has(pair)) continue;
    seen.add(pair);
    if (direct.has(mine) || direct.has(theirs)) {
      if (mine !== theirs) throw disagree(`'${note.op}' reads '${mine}' where the model reads '${theirs}'`);
      continue;
    }
    const w = writtenBy.get(mine);
    const r = mine === written.out ? node : producerOf(theirs);
    if (w === undefined || r === undefined)
      throw disagree(`the model's value '${theirs}' is not what '${note.op}' computes`);
    if (w.opType !== r.opType)
      throw disagree(`'${note.op}' is written with ${w.opType} where the model has ${r.opType}`);
    const [wAttrs, rAttrs] = [attributeKeys(w.attribute ?? []), attributeKeys(r.attribute ?? [])];
    if (wAttrs !== rAttrs) throw disagree(`'${note.op}' writes ${w.opType} with ${wAttrs}, the model ${rAttrs}`);
    const [wIn, rIn] = [w.input ?? [], r.input ?? []];
    if (wIn.length !== rIn.length || (w.output ?? []).indexOf(mine) !== (r.output ?? []).indexOf(theirs))
      throw disagree(`'${note.op}' writes ${w.opType} with other inputs or outputs than the model's`);
    wIn.forEach((v, k) => {
      if (v !== '' || rIn[k] !== '') stack.push([v, rIn[k]]);
    });
  }
}

/** A node's attributes as one comparable string (floats as float32, as a model stores them). */
function attributeKeys(attributes: readonly onnx.IAttributeProto[]): string {
  const keys = attributes.map((attr) => {
    const value =
      attr.t !== null && attr.t !== undefined
        ? Array.from(encodeTensor(attr.t)).join(',')
        : JSON.stringify([
            toNumber(attr.i),
            Math.fround(attr.f ?? 0),
            Array.from(attr.s ?? []),
            (attr.ints ?? []).map(toNumber),
            (attr.floats ?? []).map((f) => Math.fround(f)),
          ]);
    return `${attr.name ?? ''}=${value}`;
  });
  return `{${keys.sort().join('; ')}}`;
}

/** The values of one graph being imported (the model's or a subgraph's); names not found here are looked up outside. */
interface Scope {
  readonly parent: Scope | null;
  readonly values: Map<string, Value>;
  /** Tensors made for this scope's host values (constants, variables), made once. */
  readonly tensors: Map<string, Tensor>;
  readonly initializers: Map<string, onnx.ITensorProto>;
  /** Which node (by index in its graph) produces each value. */
  readonly producers: Map<string, number>;
}

function newScope(parent: Scope | null, inits: readonly onnx.ITensorProto[], what: string): Scope {
  const initializers = new Map<string, onnx.ITensorProto>();
  for (const init of inits) {
    const name = init.name ?? '';
    if (name === '' || initializers.has(name))
      throw new GraphError(`${what}: initializer name '${name}' is empty or repeated`);
    initializers.set(name, init);
  }
  return { parent, values: new Map(), tensors: new Map(), initializers, producers: new Map() };
}

/**
 * The outer values a node's subgraphs read (their nodes' inputs that no node, input or initializer of theirs
 * gives), through every level of nesting; empty for a node without subgraphs.
 */
function outerNames(node: onnx.INodeProto): string[] {
  const free = new Set<string>();
  // An explicit stack of [graph, names defined around it]; nesting depth is bounded by the model.
  const stack: [onnx.IGraphProto, ReadonlySet<string>][] = [];
  for (const attr of node.attribute ?? []) if (attr.g) stack.push([attr.g, new Set()]);
  for (const attr of node.attribute ?? []) for (const g of attr.graphs ?? []) stack.push([g, new Set()]);
  while (stack.length > 0) {
    const [g, around] = stack.pop() as [onnx.IGraphProto, ReadonlySet<string>];
    const defined = new Set(around);
    for (const i of g.input ?? []) defined.add(i.name ?? '');
    for (const i of g.initializer ?? []) defined.add(i.name ?? '');
    for (const n of g.node ?? []) for (const o of n.output ?? []) defined.add(o);
    for (const n of g.node ?? []) {
      for (const i of n.input ?? []) if (i !== '' && !defined.has(i)) free.add(i);
      for (const attr of n.attribute ?? []) if (attr.g) stack.push([attr.g, defined]);
    }
  }
  return [...free];
}

/** The nodes the outputs need, in an order where each node comes after the producers of its inputs. */
function neededOrder(
  count: number,
  outputs: readonly string[],
  producers: ReadonlyMap<string, number>,
  depsOf: (index: number) => string[],
): number[] {
  const state = new Uint8Array(count); // 0 unseen, 1 on the stack, 2 placed
  const order: number[] = [];
  for (const output of outputs) {
    const root = producers.get(output);
    if (root === undefined || state[root] === 2) continue;
    // An explicit stack of (node, next dependency) pairs: no recursion over the model.
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const deps = depsOf(top[0]);
      if (top[1] < deps.length) {
        const dep = producers.get(deps[top[1]++]);
        if (dep === undefined || state[dep] === 2) continue;
        if (state[dep] === 1) throw new GraphError('importOnnx: the model has a cycle');
        state[dep] = 1;
        stack.push([dep, 0]);
        continue;
      }
      stack.pop();
      state[top[0]] = 2;
      order.push(top[0]);
    }
  }
  return order;
}

/** A Constant node's value (the `value` tensor or one of the value_* attributes). */
function constantValue(node: onnx.INodeProto, what: string, maxElements: number): HostTensor {
  for (const attr of node.attribute ?? []) {
    switch (attr.name) {
      case 'value':
        return readTensor(attr.t ?? {}, maxElements, what);
      case 'value_float':
        return { type: 1, dims: [], data: [attr.f ?? 0] };
      case 'value_floats':
        return { type: 1, dims: [(attr.floats ?? []).length], data: [...(attr.floats ?? [])] };
      case 'value_int':
        return { type: 7, dims: [], data: [toNumber(attr.i)] };
      case 'value_ints':
        return { type: 7, dims: [(attr.ints ?? []).length], data: (attr.ints ?? []).map(toNumber) };
    }
  }
  throw new GraphError(`${what}: a Constant needs a value attribute (value, value_float(s) or value_int(s))`);
}

function applyRule(
  graph: Graph,
  node: onnx.INodeProto,
  opType: string,
  opset: number,
  what: string,
  valueOf: (name: string, what: string) => Value,
  tensorOf: (name: string, what: string) => Tensor,
  maxElements: number,
  sub: SubgraphImporter,
): (Value | Tensor)[] {
  if (opType === 'Constant')
    return [{ kind: 'host', host: constantValue(node, what, maxElements), fromInitializer: false }];
  const rule: ImportRule | undefined = Object.prototype.hasOwnProperty.call(IMPORT_RULES, opType)
    ? IMPORT_RULES[opType]
    : undefined;
  if (rule === undefined) throw new GraphError(`${what}: ONNX op '${opType}' is not supported (see docs/onnx.md)`);
  const problem = versionProblem(opType, opset);
  if (problem !== null) throw new GraphError(`${what}: ${problem}`);
  const names = node.input ?? [];
  const present = names.map((n) => n !== '');
  const inputValues = names.map((n) => (n === '' ? undefined : valueOf(n, what)));
  const args = makeArgs(graph, node, opset, what, inputValues, (i) => tensorOf(names[i], what), maxElements, sub);
  if (SHAPE_OPS.has(opType) && inputValues.some((v) => v?.kind === 'shape')) {
    const value = shapeArithmetic(opType, args);
    if (value !== undefined) return [value];
  }
  if (foldable(opType, inputValues, present)) {
    const folded = fold(node, opType, opset, what, rule, inputValues, maxElements);
    if (folded !== undefined) return [folded];
  }
  const result = rule(args);
  return Array.isArray(result) ? [...(result as readonly (Value | Tensor)[])] : [result as Value | Tensor];
}

/** Whether a node can be evaluated now: known, small inputs, no randomness, and no float data of initializers. */
function foldable(opType: string, inputs: readonly (Value | undefined)[], present: readonly boolean[]): boolean {
  if (RANDOM_ONNX_OPS.has(opType) || SUBGRAPH_ONNX_OPS.has(opType) || !present.some((p) => p)) return false;
  return inputs.every(
    (v, i) =>
      !present[i] ||
      (v !== undefined &&
        v.kind === 'host' &&
        v.host.data.length <= FOLD_LIMIT &&
        // Weights stay variables: only integer data of initializers (shapes, axes) is folded.
        (!v.fromInitializer || !(v.host.type === 1 || v.host.type === 11))),
  );
}

/**
 * Evaluates a node on known inputs with the op records' kernels (as constant folding does), in a scratch graph;
 * undefined when the result would be large (it then becomes a node of the graph, where the size limits apply,
 * instead of a value held now).
 */
function fold(
  node: onnx.INodeProto,
  opType: string,
  opset: number,
  what: string,
  rule: ImportRule,
  inputs: readonly (Value | undefined)[],
  maxElements: number,
): Value | undefined {
  const scratch = new Graph();
  const constants = inputs.map((v) => (v?.kind === 'host' ? scratch.constant(saturated(v.host, what)) : undefined));
  const args = makeArgs(
    scratch,
    node,
    opset,
    what,
    inputs,
    (i) => {
      const t = constants[i];
      if (t === undefined) throw new GraphError(`${what}: input ${i} is missing`);
      return t;
    },
    maxElements,
  );
  const result = rule(args);
  if (Array.isArray(result)) return undefined;
  if (!(result instanceof Tensor)) return result as Value;
  if (!result.shape.every((d) => d !== null) || sizeOf(result.shape as number[]) > FOLD_LIMIT) return undefined;
  const array = evaluateConstant(result);
  return {
    kind: 'host',
    host: { type: onnxType(array.dtype), dims: array.shape, data: array.data },
    fromInitializer: false,
  };
}

/** A known value as an NDArray for evaluation: int64 beyond int32 saturates (as ONNX's INT64_MAX slice ends). */
function saturated(host: HostTensor, what: string): NDArray {
  if (host.type !== 7) return toNDArray(host, what);
  const clamped = Array.from(host.data, (v) => Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), v)));
  return toNDArray({ type: 6, dims: host.dims, data: clamped }, what);
}

function makeArgs(
  graph: Graph,
  node: onnx.INodeProto,
  opset: number,
  what: string,
  inputs: readonly (Value | undefined)[],
  tensor: (i: number) => Tensor,
  maxElements: number,
  sub: SubgraphImporter = NO_SUBGRAPHS,
): ImportArgs {
  const fail = (message: string): GraphError => new GraphError(`${what}: ${message}`);
  const has = (i: number): boolean => inputs[i] !== undefined;
  const value = (i: number): Value => {
    const v = inputs[i];
    if (v === undefined) throw fail(`input ${i} is missing`);
    return v;
  };
  const host = (i: number): HostTensor | undefined => {
    const v = inputs[i];
    if (v?.kind === 'host') return v.host;
    if (v?.kind === 'shape' && v.dims.every((d) => typeof known(d) === 'number')) {
      return { type: 7, dims: v.scalar ? [] : [v.dims.length], data: v.dims.map((d) => known(d) as number) };
    }
    return undefined;
  };
  return {
    graph,
    node,
    attrs: readAttrs(node, what),
    opset,
    maxElements,
    inputCount: inputs.filter((v) => v !== undefined).length,
    has,
    tensor: (i) => {
      value(i);
      return tensor(i);
    },
    host,
    numbers: (i, name) => {
      const known = host(i);
      if (known === undefined) throw fail(`input ${i} (${name}) must be known when importing (a constant or a shape)`);
      return Array.from(known.data);
    },
    value,
    fail,
    ...sub,
  };
}

const NO_SUBGRAPHS: SubgraphImporter = {
  subgraph: () => {
    throw new GraphError('importOnnx: subgraphs are not imported while folding');
  },
  asTensor: () => {
    throw new GraphError('importOnnx: subgraphs are not imported while folding');
  },
};
