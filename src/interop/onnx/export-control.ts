/**
 * Exporting control flow: a cond becomes an If, a whileLoop a Loop, a scan a Scan (a Loop when it has no xs).
 * A construct is several sibling nodes (one per output) but one ONNX node: the first sibling met writes the node
 * with an output for every sibling in the graph, and each sibling takes its output. A region becomes a subgraph:
 * its parameters bound to the node's operands become subgraph inputs, the captured ones read the outer values by
 * name (ONNX's outer-scope references), and its nodes are written by the same rules as the main graph's (nested
 * constructs recursively).
 *
 * Where ONNX differs: a Loop stops at M = maximumIterations, where lazygrad's whileLoop throws a RuntimeError when
 * its condition is still true there; a while's `stack:i` (rows past the iterations run are zeros) is the Loop's
 * scan output padded with zero rows to maximumIterations.
 */
import { Graph, GraphError, Node, quoteName } from '../../graph';
import { attrsOf, COND, controlGroupKey, instantiate, isControlOp, Region, RegionAttr, SCAN, WHILE } from '../../ops';
import { ruleFor } from './export-ops';
import { attributeProto, onnx, OnnxAttr, onnxType, tensorProto } from './proto';
import { RECURRENT_TAG, RecurrentTag, recurrentHash } from './recurrent';
import { INT64_MIN, OnnxWriter } from './writer';

/** A value declaration with a dtype and rank and no fixed dims (bodies may see other sizes at run time). */
function declared(name: string, node: Pick<Node, 'dtype' | 'shape'>, exact = false): onnx.IValueInfoProto {
  const dim = node.shape.map((d) => (exact && d !== null ? { dimValue: d } : {}));
  return { name, type: { tensorType: { elemType: onnxType(node.dtype), shape: { dim } } } };
}

function int64Info(name: string): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: 7, shape: { dim: [] } } } };
}

function boolInfo(name: string): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: 9, shape: { dim: [] } } } };
}

/** Writes the control-flow nodes of one graph (the model's or a region's), one ONNX node per construct. */
export class ControlWriter {
  private readonly groups = new Map<string, Map<string, string>>();

  constructor(private readonly graph: Graph) {}

  /** The ONNX value of control-flow node `node`, writing its construct the first time one of its nodes is met. */
  write(w: OnnxWriter, node: Node, inputs: readonly string[]): string {
    const key = controlGroupKey(node);
    let outputs = this.groups.get(key);
    if (outputs === undefined) {
      const wanted: string[] = [];
      for (const other of this.graph.nodes) {
        if (other.op === node.op && controlGroupKey(other) === key) wanted.push(String(other.attrs.output));
      }
      const infos = node.inputs.map((i) => this.graph.node(i));
      outputs =
        node.op === 'cond'
          ? writeCond(w, node, inputs, infos, wanted)
          : node.op === 'while'
            ? writeWhile(w, node, inputs, infos, wanted)
            : writeScan(w, node, inputs, infos, wanted);
      this.groups.set(key, outputs);
    }
    const name = outputs.get(String(node.attrs.output));
    if (name === undefined) throw new GraphError(`exportOnnx: internal error: no output for ${node.name}`);
    return name;
  }
}

type Infos = readonly Pick<Node, 'dtype' | 'shape'>[];

/**
 * Writes a region's nodes into `w` (a subgraph's writer, or the outer one to inline it) with its parameters bound
 * to ONNX names; gives the names of the values of `wanted` (graph ids of the region).
 */
function writeRegion(
  w: OnnxWriter,
  region: Region,
  bound: readonly string[],
  wanted: readonly number[],
  base: string,
): string[] {
  const graph = region.graph;
  const needed = new Uint8Array(graph.size);
  for (const id of wanted) needed[id] = 1;
  for (let id = graph.size - 1; id >= 0; id--) {
    if (needed[id] === 1) for (const input of graph.node(id).inputs) needed[input] = 1;
  }
  const valueOf = new Map<number, string>();
  region.params.forEach((id, k) => valueOf.set(id, bound[k]));
  const control = new ControlWriter(graph);
  for (let id = 0; id < graph.size; id++) {
    if (needed[id] === 0 || valueOf.has(id)) continue;
    const node = graph.node(id);
    const out = w.fresh(`${base}/${node.name.replace(/[^A-Za-z0-9_./:-]/g, '_')}`);
    if (node.op === 'placeholder' || node.op === 'variable') {
      throw new GraphError(`exportOnnx: ${node.op} ${quoteName(node.name)} inside a region is not a parameter`);
    }
    const inputs = node.inputs.map((i) => valueOf.get(i) as string);
    let result: string;
    if (node.op === 'constant') {
      result = w.node('Constant', [], { value: { tensor: tensorProto('', node.value as never) } }, out);
    } else if (isControlOp(node.op)) {
      result = control.write(w, node, inputs);
    } else {
      const before = w.nodes.length;
      result = ruleFor(node)({ w, node, inputs, infos: node.inputs.map((i) => graph.node(i)), out });
      if (w.nodes.length === before && result === out) throw new GraphError(`exportOnnx: ${node.op} wrote nothing`);
    }
    valueOf.set(id, result);
  }
  return wanted.map((id) => valueOf.get(id) as string);
}

/** A subgraph: a writer sharing the model's names, its inputs, and its outputs (each through an Identity). */
function subgraph(
  outer: OnnxWriter,
  name: string,
  inputs: readonly onnx.IValueInfoProto[],
  fill: (w: OnnxWriter) => { names: readonly string[]; infos: Infos },
): onnx.IGraphProto {
  const w = new OnnxWriter(outer.opset, outer);
  const { names, infos } = fill(w);
  const output = names.map((value, k) =>
    declared(w.node('Identity', [value], {}, w.fresh(`${name}/out${k}`)), infos[k]),
  );
  return { name, node: w.nodes, initializer: w.initializers, input: [...inputs], output };
}

function regionNode(region: Region, id: number): Node {
  return region.graph.node(id);
}

// ---- cond → If --------------------------------------------------------------------------------------------------

function writeCond(
  w: OnnxWriter,
  node: Node,
  inputs: readonly string[],
  infos: Infos,
  _wanted: readonly string[],
): Map<string, string> {
  const { branches } = attrsOf(COND, node);
  const captured = inputs.slice(1);
  const base = node.name.replace(/\/[^/]*$/, '');
  const graphs = branches.map((attr: RegionAttr, k: number) => {
    const region = instantiate(attr, infos.slice(1), 'cond');
    return subgraph(w, `${base}/${k === 0 ? 'then' : 'else'}`, [], (sub) => ({
      names: writeRegion(sub, region, captured, region.outputs, `${base}/${k === 0 ? 'then' : 'else'}`),
      infos: region.outputs.map((id) => regionNode(region, id)),
    }));
  });
  const count = (graphs[0].output ?? []).length;
  const outs = Array.from({ length: count }, (_, k) => w.fresh(`${base}/${k}`));
  w.nodes.push({
    opType: 'If',
    name: w.fresh(`${base}/If`),
    input: [inputs[0]],
    output: outs,
    attribute: [
      { name: 'then_branch', type: 5, g: graphs[0] },
      { name: 'else_branch', type: 5, g: graphs[1] },
    ],
  });
  return new Map(outs.map((o, k) => [String(k), o]));
}

// ---- whileLoop → Loop -------------------------------------------------------------------------------------------

function writeWhile(
  w: OnnxWriter,
  node: Node,
  inputs: readonly string[],
  infos: Infos,
  wanted: readonly string[],
): Map<string, string> {
  const attrs = attrsOf(WHILE, node);
  const condition = instantiate(attrs.cond, infos, 'whileLoop');
  const body = instantiate(attrs.body, infos, 'whileLoop');
  const n = body.outputs.length;
  const captured = inputs.slice(n);
  const base = node.name.replace(/\/[^/]*$/, '');
  const max = attrs.maximumIterations;
  const stacks = wanted.filter((o) => o.startsWith('stack:')).map((o) => Number(o.slice(6)));
  if (stacks.length > 0 && max === undefined) {
    throw new GraphError(`exportOnnx: whileLoop ${quoteName(base)}: a stacked output needs maximumIterations`);
  }
  // The condition on the initial values, inline; then, in the body, on the next values.
  const [cond0] = writeRegion(w, condition, inputs, condition.outputs, `${base}/cond0`);
  const iter = w.fresh(`${base}/iter`);
  const condIn = w.fresh(`${base}/cond_in`);
  const formal = infos.slice(0, n).map((_, j) => w.fresh(`${base}/var${j}`));
  const countIn = w.fresh(`${base}/count_in`);
  const graphProto = subgraph(
    w,
    `${base}/body`,
    [
      int64Info(iter),
      boolInfo(condIn),
      ...formal.map((f, j) => declared(f, infos[j])),
      declared(countIn, { dtype: 'int32', shape: [] }),
    ],
    (sub) => {
      const stackIds = stacks.map((i) => {
        const id = body.ids[i];
        if (id === undefined)
          throw new GraphError(`exportOnnx: whileLoop ${quoteName(base)}: stack:${i} names no node`);
        return id;
      });
      const values = writeRegion(sub, body, [...formal, ...captured], [...body.outputs, ...stackIds], `${base}/body`);
      const next = values.slice(0, n);
      const [condOut] = writeRegion(sub, condition, [...next, ...captured], condition.outputs, `${base}/cond`);
      const countOut = sub.node('Add', [countIn, sub.scalar(1, 'int32')]);
      return {
        names: [condOut, ...next, countOut, ...values.slice(n)],
        infos: [
          { dtype: 'bool', shape: [] },
          ...infos.slice(0, n),
          { dtype: 'int32', shape: [] },
          ...stackIds.map((id) => regionNode(body, id)),
        ],
      };
    },
  );
  const finals = infos.slice(0, n).map((_, j) => w.fresh(`${base}/var:${j}`));
  const count = w.fresh(`${base}/count`);
  const scans = stacks.map((i) => w.fresh(`${base}/rows:${i}`));
  w.nodes.push({
    opType: 'Loop',
    name: w.fresh(`${base}/Loop`),
    input: [max === undefined ? '' : scalarInt64(w, max), cond0, ...inputs.slice(0, n), w.scalar(0, 'int32')],
    output: [...finals, count, ...scans],
    attribute: [{ name: 'body', type: 5, g: graphProto }],
  });
  const out = new Map<string, string>();
  finals.forEach((f, j) => out.set(`var:${j}`, f));
  out.set('count', count);
  stacks.forEach((i, k) => {
    // Pad the rows run to maximumIterations with zero rows, as lazygrad's stack holds them.
    const rank = regionNode(body, body.ids[i]).shape.length + 1;
    const run = w.node('Slice', [w.node('Shape', [scans[k]]), w.ints([0]), w.ints([1])]);
    const rest = w.node('Sub', [w.ints([max as number]), run]);
    const zeros = (m: number): number[] => new Array<number>(m).fill(0);
    const pads = w.node('Concat', [w.ints(zeros(rank)), rest, ...(rank > 1 ? [w.ints(zeros(rank - 1))] : [])], {
      axis: { int: 0 },
    });
    out.set(`stack:${i}`, w.node('Pad', [scans[k], pads], { mode: { string: 'constant' } }));
  });
  return out;
}

function scalarInt64(w: OnnxWriter, value: number): string {
  return w.node('Squeeze', [w.ints([value]), w.ints([0])]);
}

// ---- scan → Scan (or Loop without xs) ---------------------------------------------------------------------------

function writeScan(
  w: OnnxWriter,
  node: Node,
  inputs: readonly string[],
  infos: Infos,
  wanted: readonly string[],
): Map<string, string> {
  const attrs = attrsOf(SCAN, node);
  const { carries, xs } = attrs;
  const reverse = attrs.reverse === true;
  const params = infos.map((t, j) =>
    j >= carries && j < carries + xs ? { dtype: t.dtype, shape: t.shape.slice(1) } : t,
  );
  const body = instantiate(attrs.body, params, 'scan');
  const ys = body.outputs.length - carries;
  const captured = inputs.slice(carries + xs);
  const base = node.name.replace(/\/[^/]*$/, '');
  const stacks = wanted.filter((o) => o.startsWith('stack:')).map((o) => Number(o.slice(6)));
  const stackIds = stacks.map((i) => {
    const id = body.ids[i];
    if (id === undefined) throw new GraphError(`exportOnnx: scan ${quoteName(base)}: stack:${i} names no node`);
    return id;
  });
  const formal = params.slice(0, carries + xs).map((_, j) => w.fresh(`${base}/${j < carries ? 'carry' : 'x'}${j}`));
  const fill = (sub: OnnxWriter) => ({
    names: writeRegion(sub, body, [...formal, ...captured], [...body.outputs, ...stackIds], `${base}/body`),
    infos: [...body.outputs, ...stackIds].map((id) => regionNode(body, id)),
  });
  const finals = Array.from({ length: carries }, (_, j) => w.fresh(`${base}/carry:${j}`));
  const rows = [...Array.from({ length: ys }, (_, j) => `ys:${j}`), ...stacks.map((i) => `stack:${i}`)];
  const stacked = rows.map((r) => w.fresh(`${base}/${r}`));
  const out = new Map<string, string>();
  finals.forEach((f, j) => out.set(`carry:${j}`, f));
  if (xs > 0) {
    const graphProto = subgraph(
      w,
      `${base}/body`,
      formal.map((f, j) => declared(f, params[j])),
      fill,
    );
    const k = rows.length;
    w.nodes.push({
      opType: 'Scan',
      name: w.fresh(`${base}/Scan`),
      input: inputs.slice(0, carries + xs),
      output: [...finals, ...stacked],
      attribute: [
        { name: 'body', type: 5, g: graphProto },
        { name: 'num_scan_inputs', type: 2, i: xs },
        ...(reverse
          ? [
              { name: 'scan_input_directions', type: 7, ints: new Array<number>(xs).fill(1) },
              ...(k > 0 ? [{ name: 'scan_output_directions', type: 7, ints: new Array<number>(k).fill(1) }] : []),
            ]
          : []),
      ],
    });
    rows.forEach((r, j) => out.set(r, stacked[j]));
    return out;
  }
  // No xs: a Loop of `length` iterations whose condition stays true; a reverse scan's rows come out reversed.
  const iter = w.fresh(`${base}/iter`);
  const condIn = w.fresh(`${base}/cond_in`);
  const graphProto = subgraph(
    w,
    `${base}/body`,
    [int64Info(iter), boolInfo(condIn), ...formal.map((f, j) => declared(f, params[j]))],
    (sub) => {
      const filled = fill(sub);
      return { names: [condIn, ...filled.names], infos: [{ dtype: 'bool', shape: [] }, ...filled.infos] };
    },
  );
  const loopRows = rows.map((r) => (reverse ? w.fresh(`${base}/${r}_reversed`) : stacked[rows.indexOf(r)]));
  w.nodes.push({
    opType: 'Loop',
    name: w.fresh(`${base}/Loop`),
    input: [scalarInt64(w, attrs.length as number), '', ...inputs.slice(0, carries)],
    output: [...finals, ...loopRows],
    attribute: [{ name: 'body', type: 5, g: graphProto }],
  });
  rows.forEach((r, j) => {
    const value = reverse
      ? w.node('Slice', [loopRows[j], w.ints([-1]), w.ints([INT64_MIN]), w.ints([0]), w.ints([-1])], {}, stacked[j])
      : stacked[j];
    out.set(r, value);
  });
  return out;
}

// ---- imported LSTM / GRU / RNN → the same node -------------------------------------------------------------------

/**
 * The identities that tag the outputs of an imported LSTM/GRU/RNN (recurrent.ts) whose graph is still what the import
 * built (same hash), in float32 and layout 0 (what ONNX Runtime runs): exportOnnx writes the ONNX node again for
 * them, from the tagged inputs. Other tagged outputs export as their Scans.
 */
export function findRecurrent(graph: Graph): Map<number, RecurrentTag> {
  const found = new Map<number, RecurrentTag>();
  for (const node of graph.nodes) {
    if (node.op !== 'identity' || !Object.prototype.hasOwnProperty.call(node.attrs, RECURRENT_TAG)) continue;
    const tag = node.attrs[RECURRENT_TAG] as unknown as RecurrentTag;
    const layout = tag.attrs.layout as { int?: number } | undefined;
    const valid =
      node.dtype === 'float32' &&
      (layout?.int ?? 0) === 0 &&
      Array.isArray(tag.inputs) &&
      tag.inputs.every((i) => Number.isInteger(i) && i >= -1 && i < node.id) &&
      recurrentHash(graph, node.inputs[0], tag.inputs) === tag.hash;
    if (valid) found.set(node.id, tag);
  }
  return found;
}

/** Writes (once per layer) the LSTM/GRU/RNN node a tag names; gives the value of the tagged output. */
export function writeRecurrent(
  w: OnnxWriter,
  tag: RecurrentTag,
  valueOf: (id: number) => string,
  written: Map<string, string[]>,
  base: string,
): string {
  const key = JSON.stringify([tag.op, tag.attrs, tag.inputs]);
  let outputs = written.get(key);
  if (outputs === undefined) {
    const names = tag.inputs.map((i) => (i < 0 ? '' : valueOf(i)));
    while (names.length > 0 && names[names.length - 1] === '') names.pop();
    const count = tag.op === 'LSTM' ? 3 : 2;
    outputs = Array.from({ length: count }, (_, k) => w.fresh(`${base}/${['Y', 'Y_h', 'Y_c'][k]}`));
    w.nodes.push({
      opType: tag.op,
      name: w.fresh(`${base}/${tag.op}`),
      input: names,
      output: outputs,
      attribute: Object.keys(tag.attrs).map((name) => attributeProto(name, tag.attrs[name] as unknown as OnnxAttr)),
    });
    written.set(key, outputs);
  }
  return outputs[tag.output];
}

/** The regions a control-flow node's construct writes as subgraphs (instantiated as its export does). */
export function regionsOf(graph: Graph, node: Node): Region[] {
  const infos = node.inputs.map((i) => graph.node(i));
  if (node.op === 'cond') {
    return attrsOf(COND, node).branches.map((attr: RegionAttr) => instantiate(attr, infos.slice(1), 'cond'));
  }
  if (node.op === 'while') {
    const attrs = attrsOf(WHILE, node);
    return [instantiate(attrs.cond, infos, 'whileLoop'), instantiate(attrs.body, infos, 'whileLoop')];
  }
  const { carries, xs, body } = attrsOf(SCAN, node);
  const params = infos.map((t, j) =>
    j >= carries && j < carries + xs ? { dtype: t.dtype, shape: t.shape.slice(1) } : t,
  );
  return [instantiate(body, params, 'scan')];
}
