/**
 * Regions: the subgraphs that control-flow nodes own (cond branches, loop bodies). A region is stored in its node's
 * attrs as plain JSON (`RegionAttr`), so every pass, the interning of equal nodes, the JSON format and the copies a
 * compile makes carry it without knowing it is there. In memory it is a Graph of its own (`Region`), parsed once per
 * attr object and re-inferred once per set of parameter shapes; its parameters are placeholders, bound in order to
 * the node's inputs (operands first, captured outer tensors after them).
 */
import {
  allocate,
  DType,
  formatShape,
  Graph,
  GraphError,
  LazygradError,
  NDArray,
  Node,
  quoteName,
  Shape,
  ShapeError,
  sizeOf,
  Tensor,
} from '../graph';
import { foldNode } from './evaluate';
import type { Buf } from './kernels/types';
import type { RegionAttr, RegionNodeAttr } from './attrs';
import { addOp, TensorInfo, TensorLike } from './record';
import { isLeafOp, opRecord } from './registry';

export type { RegionAttr, RegionNodeAttr } from './attrs';

/** A region in memory: a graph whose `params` are placeholders bound to the node's inputs, and its `outputs`. */
export interface Region {
  readonly graph: Graph;
  readonly params: readonly number[];
  readonly outputs: readonly number[];
  /** The graph id of each stored node (stored nodes equal to an earlier one share its id). */
  readonly ids: readonly number[];
}

/**
 * The index each node of `graph` gets in the stored form of the region with these params and outputs (the nodes the
 * outputs need, and every parameter, in id order), or -1 for a node that is not stored.
 */
export function storedIndices(graph: Graph, params: readonly number[], outputs: readonly number[]): Int32Array {
  const keep = new Uint8Array(graph.size);
  for (const id of outputs) keep[id] = 1;
  for (const id of params) keep[id] = 1;
  for (let id = graph.size - 1; id >= 0; id--) {
    if (keep[id] === 1) for (const input of graph.node(id).inputs) keep[input] = 1;
  }
  const index = new Int32Array(graph.size).fill(-1);
  let next = 0;
  for (let id = 0; id < graph.size; id++) if (keep[id] === 1) index[id] = next++;
  return index;
}

/** The stored form of a region of `graph`: the nodes the outputs need, and every parameter (used or not). */
export function regionToAttr(graph: Graph, params: readonly number[], outputs: readonly number[]): RegionAttr {
  const index = storedIndices(graph, params, outputs);
  const nodes: RegionNodeAttr[] = [];
  for (let id = 0; id < graph.size; id++) {
    if (index[id] < 0) continue;
    const node = graph.node(id);
    if (node.op === 'variable') {
      throw new GraphError(`a region cannot hold variable ${quoteName(node.name)}; it is captured from outside`);
    }
    const stored: RegionNodeAttr = {
      op: node.op,
      inputs: node.inputs.map((i) => index[i]),
      attrs: node.attrs,
      dtype: node.dtype,
      shape: [...node.shape],
      name: node.name,
    };
    nodes.push(node.op === 'constant' ? { ...stored, value: Array.from((node.value as NDArray).data) } : stored);
  }
  return { params: params.map((id) => index[id]), outputs: outputs.map((id) => index[id]), nodes };
}

const parsed = new WeakMap<RegionAttr, Region>();

/**
 * The region a stored attr describes, built node by node through the op records (so a stored region is checked as
 * strictly as a built one: every node re-inferred). Cached per attr object.
 */
export function parseRegion(attr: RegionAttr, what = 'region'): Region {
  let region = parsed.get(attr);
  if (region === undefined) {
    region = buildStored(attr, null, what);
    parsed.set(attr, region);
  }
  return region;
}

/** A region as a new graph of its own (not cached), to build more nodes into: e.g. a gradient's copy of a body. */
export function freshRegion(attr: RegionAttr, what = 'region'): Region {
  return buildStored(attr, null, what);
}

const instances = new WeakMap<RegionAttr, Map<string, Region>>();

/**
 * The region re-inferred with its parameters given these dtypes and shapes (the node's inputs, sliced for a scan's
 * xs): what its outputs are for them. A parameter must keep its stored dtype and rank, and every dim it knew.
 */
export function instantiate(attr: RegionAttr, params: readonly TensorInfo[], what = 'region'): Region {
  const key = params.map((p) => `${p.dtype}${formatShape(p.shape)}`).join(';');
  let byShapes = instances.get(attr);
  if (byShapes === undefined) {
    byShapes = new Map();
    instances.set(attr, byShapes);
  }
  let region = byShapes.get(key);
  if (region === undefined) {
    region = buildStored(attr, params, what);
    if (byShapes.size > 64) byShapes.clear();
    byShapes.set(key, region);
  }
  return region;
}

function buildStored(attr: RegionAttr, params: readonly TensorInfo[] | null, what: string): Region {
  const graph = new Graph();
  const ids: number[] = [];
  const paramIndex = new Map<number, number>();
  attr.params.forEach((p, k) => {
    const stored = attr.nodes[p];
    if (stored === undefined || stored.op !== 'placeholder' || paramIndex.has(p)) {
      const why =
        stored === undefined ? 'is not a node' : stored.op !== 'placeholder' ? `is a ${stored.op}` : 'repeats';
      throw new GraphError(`${what}: parameter ${k} (node ${p}) ${why}; parameters are distinct placeholders`);
    }
    paramIndex.set(p, k);
  });
  if (params !== null && params.length !== attr.params.length) {
    throw new GraphError(`${what}: has ${attr.params.length} parameters but is given ${params.length} inputs`);
  }
  attr.nodes.forEach((stored, i) => {
    const inputs = stored.inputs.map((input) => {
      if (!Number.isInteger(input) || input < 0 || input >= i) {
        throw new GraphError(`${what}: node ${i} (${stored.op}) reads ${input}, which is not an earlier node`);
      }
      return ids[input];
    });
    if (stored.op === 'placeholder') {
      const k = paramIndex.get(i);
      if (k === undefined) throw new GraphError(`${what}: placeholder ${quoteName(stored.name)} is not a parameter`);
      let shape = stored.shape;
      let dtype = stored.dtype;
      if (params !== null) {
        const given = params[k];
        const fits =
          given.dtype === dtype &&
          given.shape.length === shape.length &&
          shape.every((d, j) => d === null || given.shape[j] === null || given.shape[j] === d);
        if (!fits) {
          throw new ShapeError(
            `${what}: parameter ${k} (${quoteName(stored.name)}) is ${dtype}${formatShape(shape)}, but its input is ` +
              `${given.dtype}${formatShape(given.shape)}; a region's inputs keep their dtype and shape`,
          );
        }
        shape = given.shape.map((d, j) => d ?? shape[j]);
        dtype = given.dtype;
      }
      ids.push(graph.placeholder(stored.name, shape, dtype).id);
    } else if (stored.op === 'constant') {
      const shape = stored.shape;
      const values = stored.value;
      const fits = values !== undefined && values.every((v) => typeof v === 'number');
      if (!shape.every((d) => d !== null) || !fits || values.length !== sizeOf(shape as number[])) {
        throw new GraphError(
          `${what}: constant ${quoteName(stored.name)} does not hold its ${formatShape(shape)} values`,
        );
      }
      const data = allocate(stored.dtype, values.length);
      for (let j = 0; j < values.length; j++) data[j] = values[j];
      ids.push(graph.constant(new NDArray(data, shape as number[], stored.dtype), stored.dtype, stored.name).id);
    } else if (isLeafOp(stored.op)) {
      throw new GraphError(`${what}: a region cannot hold ${stored.op} ${quoteName(stored.name)}`);
    } else {
      ids.push(addOp(graph, opRecord(stored.op), inputs, stored.attrs, stored.name).id);
    }
  });
  const check = (list: readonly number[], kind: string): number[] =>
    list.map((i) => {
      if (!Number.isInteger(i) || ids[i] === undefined) throw new GraphError(`${what}: ${kind} ${i} is not a node`);
      return ids[i];
    });
  return { graph, params: check(attr.params, 'parameter'), outputs: check(attr.outputs, 'output'), ids };
}

/** A nest of tensors as bodies take and return them: a tensor, or arrays and objects of nests. */
export type Nest<T = Tensor> = T | readonly Nest<T>[] | { readonly [key: string]: Nest<T> };

/** The shape of a nest without its leaves, to rebuild one from a flat list. */
export type NestDef = null | readonly NestDef[] | { readonly [key: string]: NestDef };

/** The leaves of a nest in order (arrays by index, objects by key order), and its structure. */
export function flattenNest<T>(nest: Nest<T>, isLeaf: (value: unknown) => value is T): { leaves: T[]; def: NestDef } {
  const leaves: T[] = [];
  const walk = (value: Nest<T>, depth: number): NestDef => {
    if (depth > 64) throw new GraphError('a nest of tensors may be at most 64 levels deep');
    if (isLeaf(value)) {
      leaves.push(value);
      return null;
    }
    if (Array.isArray(value)) return (value as readonly Nest<T>[]).map((v) => walk(v, depth + 1));
    if (typeof value === 'object' && value !== null) {
      const out: { [key: string]: NestDef } = {};
      for (const key of Object.keys(value)) out[key] = walk((value as { [key: string]: Nest<T> })[key], depth + 1);
      return out;
    }
    throw new GraphError(`expected a Tensor, or an array or object of Tensors; got ${describe(value)}`);
  };
  const def = walk(nest, 0);
  return { leaves, def };
}

/** A nest of this structure over the given leaves, in order. */
export function unflattenNest<T>(def: NestDef, leaves: readonly T[]): Nest<T> {
  let next = 0;
  const walk = (d: NestDef): Nest<T> => {
    if (d === null) return leaves[next++];
    if (Array.isArray(d)) return (d as readonly NestDef[]).map(walk);
    const out: { [key: string]: Nest<T> } = {};
    for (const key of Object.keys(d)) out[key] = walk((d as { [key: string]: NestDef })[key]);
    return out;
  };
  return walk(def);
}

/** Whether two structures are the same. */
export function sameNest(a: NestDef, b: NestDef): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

/** A region being built: the graph, its parameters, and after `finish` its outputs. */
export interface BuiltRegion {
  readonly graph: Graph;
  readonly params: number[];
  outputs: number[];
  def: NestDef;
}

/**
 * Builds a region inside `outer` (the graph the control-flow node goes into): opens it, makes one placeholder per
 * parameter, runs `body` on them and records what it returns (tensors of the region or of enclosing graphs, or JS
 * numbers, which become constants). Tensors of enclosing graphs that the body reads are captured.
 */
export function buildRegion(
  outer: Graph,
  params: readonly { readonly name: string; readonly dtype: DType; readonly shape: Shape }[],
  body: (params: Tensor[]) => unknown,
  what: string,
): BuiltRegion {
  const graph = outer.openRegion();
  let result: unknown;
  let tensors: Tensor[];
  try {
    tensors = params.map((p) => graph.placeholder(p.name, p.shape, p.dtype));
    result = body(tensors);
  } finally {
    outer.closeRegion(graph);
  }
  const isLeaf = (v: unknown): v is TensorLike =>
    v instanceof Tensor || v instanceof NDArray || typeof v === 'number' || typeof v === 'boolean';
  let flat: { leaves: TensorLike[]; def: NestDef };
  try {
    flat = flattenNest(result as Nest<TensorLike>, isLeaf);
  } catch (error) {
    if (error instanceof LazygradError)
      throw new GraphError(`${what} must return ${error.message.replace(/^expected /, '')}`);
    throw error;
  }
  const outputs = flat.leaves.map((leaf) =>
    leaf instanceof Tensor ? graph.lift(leaf) : graph.constant(leaf as number).id,
  );
  return { graph, params: tensors.map((t) => t.id), outputs, def: flat.def };
}

/**
 * Gives every region a parameter for every tensor any of them captured (in one order), so the node's inputs after
 * its operands are the same captures for all its regions. Returns those captured ids of the outer graph.
 */
export function shareCaptures(outer: Graph, regions: readonly BuiltRegion[]): number[] {
  const all: number[] = [];
  const seen = new Set<number>();
  for (const region of regions) {
    for (const { outer: id } of region.graph.captures()) {
      if (!seen.has(id)) {
        seen.add(id);
        all.push(id);
      }
    }
  }
  for (const region of regions) {
    for (const id of all) region.params.push(region.graph.lift(outer.tensor(id)));
  }
  return all;
}

/**
 * Evaluates a region's outputs from its parameters' values with the op records' own kernels, node by node (the
 * reference semantics; the session runs regions through compiled plans instead). Only nodes the outputs need run.
 */
export function evaluateRegion(
  region: Region,
  args: readonly Buf[],
  outputs: readonly number[] = region.outputs,
): NDArray[] {
  const graph = region.graph;
  const needed = new Uint8Array(graph.size);
  for (const id of outputs) needed[id] = 1;
  for (let id = graph.size - 1; id >= 0; id--) {
    if (needed[id] === 1) for (const input of graph.node(id).inputs) needed[input] = 1;
  }
  const values: Buf[] = [];
  region.params.forEach((id, k) => (values[id] = args[k]));
  for (let id = 0; id < graph.size; id++) {
    if (needed[id] === 0 || values[id] !== undefined) continue;
    const node: Node = graph.node(id);
    values[id] =
      node.op === 'constant'
        ? (node.value as NDArray)
        : foldNode(
            node,
            node.inputs.map((i) => values[i]),
          );
  }
  return outputs.map((id) => {
    const value = values[id];
    return value instanceof NDArray ? value : new NDArray(value.data, value.shape, graph.node(id).dtype);
  });
}
