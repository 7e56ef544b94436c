/**
 * exportOnnx: a lazygrad graph (a gradient graph included) as an ONNX model. Placeholders (or any tensors named as
 * inputs) become graph inputs with unknown dims as symbolic dims, variables and constants become initializers,
 * each op becomes the nodes its rule in export-ops.ts gives, and the outputs are named.
 */
import { Graph, GraphError, graphOf, NDArray, Node, Tensor } from '../../graph';
import { encodeAttrs } from '../jsonvalues';
import { ruleFor } from './export-ops';
import { ControlWriter, findRecurrent, writeRecurrent } from './export-control';
import { RECURRENT_TAG } from './recurrent';
import { isControlOp } from '../../ops';
import { findBatchNorms, writeBatchNorm } from './batchnorm';
import { encodeModel, onnx, tensorProto, valueInfo } from './proto';
import { OnnxWriter } from './writer';

/** The opsets exportOnnx writes (17 is the default). */
export const ONNX_OPSETS = [17, 18, 19, 20, 21] as const;

/** Prefix of the doc strings that tell importOnnx which lazygrad op an ONNX node (or initializer) came from. */
export const ANNOTATION_PREFIX = 'lazygrad:';

/** What `session` needs: a variable's current value, as `Session.variableValue` reads it (no session import). */
export interface VariableReader {
  variableValue(variable: Tensor): NDArray;
}

export interface ExportOnnxOptions {
  /** The outputs: a tensor, a list (named by the tensors' names) or an object from output names to tensors. */
  outputs: Tensor | readonly Tensor[] | { readonly [name: string]: Tensor };
  /**
   * The graph inputs, in order: placeholders, or any tensors to feed instead of computing them. By default, every
   * placeholder the outputs need, in creation order.
   */
  inputs?: readonly Tensor[];
  /** ONNX opset, 17 (default) to 21. */
  opset?: number;
  /**
   * Values for variables, e.g. a session's trained weights (`sess.variableValues()`); a variable not in the map
   * takes its initial value.
   */
  values?: ReadonlyMap<Tensor, NDArray>;
  /** The older form of `values`: a session (or anything reading variables) whose current values are exported. */
  session?: VariableReader;
  /** The ONNX graph's name (default 'lazygrad'). */
  name?: string;
  /**
   * Write annotations (doc strings) naming the lazygrad op of each node, so importOnnx rebuilds the same ops;
   * other tools ignore them. Default true.
   */
  annotations?: boolean;
}

const IR_VERSION: { readonly [opset: number]: number } = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

function namedOutputs(outputs: ExportOnnxOptions['outputs']): [string, Tensor][] {
  if (outputs instanceof Tensor) return [[outputs.name, outputs]];
  if (Array.isArray(outputs)) return (outputs as readonly Tensor[]).map((t) => [t.name, t]);
  if (typeof outputs !== 'object' || outputs === null) {
    throw new GraphError('exportOnnx: options.outputs must be a Tensor, a list of Tensors or an object of Tensors');
  }
  return Object.entries(outputs as { readonly [name: string]: Tensor });
}

/** Ids the outputs need, stopping at the inputs (which are fed, so their own inputs are not needed). */
function neededIds(
  graph: Graph,
  roots: readonly number[],
  cut: ReadonlySet<number>,
  inputsOf: (id: number) => readonly number[] = (id) => graph.node(id).inputs,
): number[] {
  const seen = new Uint8Array(graph.size);
  const stack = [...roots];
  for (const r of roots) seen[r] = 1;
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (cut.has(id)) continue;
    for (const input of inputsOf(id)) {
      if (seen[input] === 0) {
        seen[input] = 1;
        stack.push(input);
      }
    }
  }
  const ids: number[] = [];
  for (let id = 0; id < seen.length; id++) if (seen[id] === 1) ids.push(id);
  return ids;
}

function variableValue(node: Node, tensor: Tensor, options: ExportOnnxOptions): NDArray {
  const given = options.values?.get(tensor);
  if (given !== undefined) {
    if (
      given.dtype !== node.dtype ||
      given.shape.length !== node.shape.length ||
      given.shape.some((d, i) => d !== node.shape[i])
    ) {
      throw new GraphError(
        `exportOnnx: the value given for variable '${node.name}' is ${given.dtype}[${given.shape.join(', ')}], ` +
          `the variable is ${node.dtype}[${node.shape.join(', ')}]`,
      );
    }
    return given;
  }
  if (options.session !== undefined) return options.session.variableValue(tensor);
  return node.value as NDArray;
}

/** The node writing `value` (searched from the end: it is among the last ones written). */
function producer(nodes: readonly onnx.INodeProto[], value: string): onnx.INodeProto {
  for (let i = nodes.length - 1; i >= 0; i--) if ((nodes[i].output ?? []).includes(value)) return nodes[i];
  throw new GraphError(`exportOnnx: internal error: no node writes '${value}'`);
}

/**
 * The ONNX nodes that exporting node `id` alone writes; the last one computes its value (`out`) and carries its
 * annotation. importOnnx exports the op an annotation names this way to check that the annotation agrees with the
 * nodes of the model. `inputs` are the ONNX value names of the node's inputs.
 */
export function exportedNodes(
  graph: Graph,
  id: number,
  inputs: readonly string[],
  opset: number,
): { nodes: readonly onnx.INodeProto[]; out: string } {
  const node = graph.node(id);
  const w = new OnnxWriter(opset);
  w.reserve(node.name);
  for (const name of inputs) w.reserve(name);
  const infos = node.inputs.map((i) => graph.node(i));
  const result = ruleFor(node)({ w, node, inputs, infos, out: node.name });
  if (result !== node.name || w.nodes.length === 0) w.node('Identity', [result], {}, node.name);
  return { nodes: w.nodes, out: node.name };
}

function annotate(proto: { docString?: string | null }, fields: object): void {
  proto.docString = ANNOTATION_PREFIX + JSON.stringify(fields);
}

/**
 * The graph computing `outputs` as the bytes of an ONNX model (ModelProto), to run in ONNX Runtime or any ONNX
 * tool. An op without an ONNX form (assign) is a GraphError naming it.
 *
 * @example
 * const bytes = exportOnnx(g, { outputs: { loss, dw: grads[0] } });
 * const session = await ort.InferenceSession.create(bytes);
 */
export function exportOnnx(graph: Graph, options: ExportOnnxOptions): Uint8Array {
  const opset = options.opset ?? 17;
  if (!ONNX_OPSETS.includes(opset as (typeof ONNX_OPSETS)[number])) {
    throw new GraphError(`exportOnnx: opset ${opset} is not supported; use one of ${ONNX_OPSETS.join(', ')}`);
  }
  const outputs = namedOutputs(options.outputs);
  if (outputs.length === 0) throw new GraphError('exportOnnx: needs at least one output');
  const inputs = options.inputs;
  const all = [...outputs.map(([, t]) => t), ...(inputs ?? [])];
  if (graphOf(all, 'exportOnnx') !== graph) {
    throw new GraphError('exportOnnx: the outputs and inputs must be tensors of the graph being exported');
  }
  const cut = new Set((inputs ?? []).map((t) => t.id));
  // Outputs of imported LSTM/GRU/RNN layers still as imported: written as those nodes, from their inputs.
  const recurrent = findRecurrent(graph);
  const ids = neededIds(
    graph,
    outputs.map(([, t]) => t.id),
    cut,
    (id) => recurrent.get(id)?.inputs.filter((i) => i >= 0) ?? graph.node(id).inputs,
  );
  const inputIds =
    inputs !== undefined ? inputs.map((t) => t.id) : ids.filter((id) => graph.node(id).op === 'placeholder');
  if (new Set(inputIds).size !== inputIds.length) throw new GraphError('exportOnnx: an input is listed twice');
  for (const id of ids) {
    const node = graph.node(id);
    if (node.op === 'placeholder' && !cut.has(id) && inputs !== undefined) {
      throw new GraphError(
        `exportOnnx: the outputs need placeholder '${node.name}', which is not among options.inputs`,
      );
    }
  }
  const annotations = options.annotations !== false;
  const w = new OnnxWriter(opset);
  for (const id of ids) w.reserve(graph.node(id).name);
  const outputNames = new Set<string>();
  for (const [name, tensor] of outputs) {
    if (typeof name !== 'string' || name.length === 0)
      throw new GraphError('exportOnnx: output names must be non-empty');
    if (outputNames.has(name)) throw new GraphError(`exportOnnx: two outputs are named '${name}'`);
    if (name !== tensor.name && w.isTaken(name)) {
      throw new GraphError(
        `exportOnnx: output name '${name}' is already the name of node '${name}' in the exported graph`,
      );
    }
    outputNames.add(name);
    w.reserve(name);
  }

  const graphInputs = inputIds.map((id) => {
    const node = graph.node(id);
    return valueInfo(node.name, node.dtype, node.shape, (axis) => `${node.name}_dim${axis}`);
  });
  const isInput = new Set(inputIds);
  const valueOf = new Map<number, string>();
  // batchNorm's inference pattern as one BatchNormalization node (batchnorm.ts).
  const batchNorms = findBatchNorms(
    graph,
    ids,
    isInput,
    outputs.map(([, t]) => t.id),
  );
  const control = new ControlWriter(graph);
  const written = new Map<string, string[]>();
  for (const id of ids) {
    const node = graph.node(id);
    if (isInput.has(id)) {
      valueOf.set(id, node.name);
      continue;
    }
    if (batchNorms.skipped.has(id)) continue;
    const batchNorm = batchNorms.matches.get(id);
    if (batchNorm !== undefined) {
      writeBatchNorm(w, graph, batchNorm, (i) => valueOf.get(i) as string, node.name);
      valueOf.set(id, node.name);
      continue;
    }
    if (node.op === 'placeholder') {
      throw new GraphError(`exportOnnx: placeholder '${node.name}' is needed by the outputs but is not an input`);
    }
    if (node.op === 'constant' || node.op === 'variable') {
      const value = node.op === 'variable' ? variableValue(node, graph.tensor(id), options) : (node.value as NDArray);
      const initializer = tensorProto(node.name, value);
      if (annotations) annotate(initializer, { op: node.op, attrs: encodeAttrs(node.attrs) });
      w.initializers.push(initializer);
      valueOf.set(id, node.name);
      continue;
    }
    const tag = recurrent.get(id);
    if (tag !== undefined) {
      const result = writeRecurrent(w, tag, (i) => valueOf.get(i) as string, written, node.name);
      w.node('Identity', [result], {}, node.name);
      valueOf.set(id, node.name);
      continue;
    }
    if (isControlOp(node.op)) {
      // One If/Loop/Scan per construct (export-control.ts); its nodes are not annotated (import reads them as ONNX).
      const result = control.write(
        w,
        node,
        node.inputs.map((i) => valueOf.get(i) as string),
      );
      w.node('Identity', [result], {}, node.name);
      valueOf.set(id, node.name);
      continue;
    }
    const rule = ruleFor(node);
    const before = w.nodes.length;
    const result = rule({
      w,
      node,
      inputs: node.inputs.map((i) => valueOf.get(i) as string),
      infos: node.inputs.map((i) => graph.node(i)),
      out: node.name,
    });
    if (result !== node.name || w.nodes.length === before) w.node('Identity', [result], {}, node.name);
    const last = producer(w.nodes, node.name);
    if (annotations && node.op !== 'customGradient' && node.op !== 'fused') {
      // A recurrent tag names ids of this graph: it is not carried into the model.
      const { [RECURRENT_TAG]: _tag, ...attrs } = node.attrs;
      annotate(last, {
        op: node.op,
        attrs: encodeAttrs(attrs),
        inputs: node.inputs.map((i) => valueOf.get(i) as string),
      });
    }
    valueOf.set(id, node.name);
  }

  const graphOutputs = outputs.map(([name, tensor]) => {
    let value = valueOf.get(tensor.id) as string;
    const node = tensor.node;
    // An output must be produced by a node: inputs and initializers, and values output twice, pass an Identity.
    if (value !== name || isInput.has(tensor.id) || node.op === 'constant' || node.op === 'variable') {
      value = w.node('Identity', [value], {}, name);
    }
    return valueInfo(value, node.dtype, node.shape);
  });

  const model: onnx.IModelProto = {
    irVersion: IR_VERSION[opset],
    producerName: 'lazygrad',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: options.name ?? 'lazygrad',
      node: w.nodes,
      initializer: w.initializers,
      input: graphInputs,
      output: graphOutputs,
    },
  };
  return encodeModel(model);
}
