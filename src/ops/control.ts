/**
 * Control flow as graph nodes: `cond`, `whileLoop` and `scan` (TensorFlow's tf.cond / tf.while_loop, JAX's
 * lax.cond / lax.while_loop / lax.scan). Each builds its branches or body as regions (src/ops/region.ts) and adds one
 * node per output it returns. The nodes of one construct are siblings: the same op, inputs and regions, differing only
 * in their `output` attribute; the session runs a group of siblings once (src/session/control.ts), autodiff
 * differentiates them together, and a sibling made later (a gradient asking a loop for the values it saw at every
 * step) joins the group, so the loop still runs once.
 *
 * Outputs: a cond's `output` is the index of a branch output. A whileLoop's is `var:j` (the final value of loop
 * variable j), `count` (iterations run, int32) or `stack:i` (the value of body node i at every iteration, stacked
 * along a new leading axis of length maximumIterations). A scan's is `carry:j` (final carry j), `ys:j` (output j of
 * every step, stacked along axis 0 in the order of xs) or `stack:i` (body node i at every step, in the order of xs).
 */
import {
  dtypeOfArray,
  DType,
  DTypeError,
  formatShape,
  Graph,
  GraphError,
  quoteName,
  RuntimeError,
  Shape,
  ShapeError,
  sizeOf,
  Tensor,
  canonicalJSON,
  Attrs,
  Node,
} from '../graph';
import type { Buf } from './kernels/types';
import { AttrsOf, RegionAttr } from './attrs';
import { addOp, defineOp, OpRecord, TensorInfo, TensorLike, toTensor } from './record';
import {
  buildRegion,
  BuiltRegion,
  evaluateRegion,
  flattenNest,
  instantiate,
  Nest,
  NestDef,
  regionToAttr,
  sameNest,
  shareCaptures,
  unflattenNest,
} from './region';

/** Which output of a control-flow node a sibling is: a kind and an index (`var:2`, `ys:0`, `stack:17`, `count`). */
export interface OutputSelector {
  readonly kind: string;
  readonly index: number;
}

export function parseSelector(output: string, op: string, kinds: readonly string[]): OutputSelector {
  const match = /^([a-z]+)(?::(\d+))?$/.exec(output);
  const kind = match?.[1] ?? '';
  const hasIndex = match?.[2] !== undefined;
  if (match === null || !kinds.includes(kind) || hasIndex === (kind === 'count')) {
    const valid = kinds.map((k) => (k === 'count' ? k : `${k}:N`)).join(', ');
    throw new GraphError(`${op}: output ${JSON.stringify(output.slice(0, 40))} is not one of ${valid}`);
  }
  return { kind, index: hasIndex ? Number(match[2]) : 0 };
}

/** Whether an op is a control-flow op (its nodes come in sibling groups). */
export function isControlOp(op: string): boolean {
  return op === 'cond' || op === 'while' || op === 'scan';
}

const groupKeys = new WeakMap<Attrs, string>();

/**
 * The key siblings share: op, inputs and every attr but `output`. Nodes with equal keys are one construct, run once
 * and differentiated together.
 */
export function controlGroupKey(node: Node): string {
  let attrsKey = groupKeys.get(node.attrs);
  if (attrsKey === undefined) {
    const rest: { [key: string]: Attrs[string] } = {};
    for (const key of Object.keys(node.attrs)) if (key !== 'output') rest[key] = node.attrs[key];
    attrsKey = canonicalJSON(rest);
    groupKeys.set(node.attrs, attrsKey);
  }
  return `${node.op}|${node.inputs.join(',')}|${attrsKey}`;
}

/** A sibling of a control-flow node: the same construct, another output (interned: asking twice gives one node). */
export function controlSibling(graph: Graph, node: Node, output: string | number, name?: string): Tensor {
  return addOp(
    graph,
    opRecordOf(node.op),
    node.inputs,
    { ...node.attrs, output },
    name ?? `${baseName(node.name)}/${output}`,
  );
}

function baseName(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
}

function opRecordOf(op: string): OpRecord {
  const record = CONTROL_OPS.find((r) => r.name === op);
  if (record === undefined) throw new GraphError(`${op} is not a control-flow op`);
  return record;
}

/** Same rank, same dtype, equal where both dims are known: a loop variable's value may keep its place. */
function fits(a: TensorInfo, b: TensorInfo): boolean {
  return (
    a.dtype === b.dtype &&
    a.shape.length === b.shape.length &&
    a.shape.every((d, i) => d === null || b.shape[i] === null || d === b.shape[i])
  );
}

function info(t: TensorInfo): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}

function regionInfo(graph: Graph, id: number): TensorInfo {
  return graph.node(id);
}

// ---- cond ------------------------------------------------------------------------------------------------------

const COND_ATTRS = { branches: 'regions', output: 'int' } as const;
type CondAttrs = AttrsOf<typeof COND_ATTRS>;

function condBranches(inputs: readonly TensorInfo[], attrs: CondAttrs): ReturnType<typeof instantiate>[] {
  const pred = inputs[0];
  if (pred.dtype !== 'bool') {
    throw new DTypeError(`the predicate must be a bool scalar, got ${info(pred)}; compare first, e.g. greater(x, 0)`);
  }
  if (pred.shape.length !== 0) {
    throw new ShapeError(
      `the predicate must be a bool scalar (shape []), got ${info(pred)}; reduce it first, e.g. all(x) or any(x)`,
    );
  }
  if (attrs.branches.length !== 2) throw new GraphError(`a cond has 2 branches, got ${attrs.branches.length}`);
  return attrs.branches.map((b, k) =>
    instantiate(b, inputs.slice(1), `cond: the ${k === 0 ? 'true' : 'false'} branch`),
  );
}

export const COND = defineOp({
  name: 'cond',
  arity: 'variadic',
  attrs: COND_ATTRS,
  infer(inputs, attrs) {
    const [taken, other] = condBranches(inputs, attrs);
    const k = attrs.output;
    if (taken.outputs.length !== other.outputs.length) {
      throw new GraphError(
        `the branches return ${taken.outputs.length} and ${other.outputs.length} tensors; both must return the same`,
      );
    }
    if (!Number.isInteger(k) || k < 0 || k >= taken.outputs.length) {
      throw new GraphError(`output ${k} does not exist; the branches return ${taken.outputs.length} tensors`);
    }
    const a = regionInfo(taken.graph, taken.outputs[k]);
    const b = regionInfo(other.graph, other.outputs[k]);
    if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) {
      throw new DTypeError(
        `output ${k} is ${info(a)} in the true branch but ${info(b)} in the false one; both branches must return ` +
          'the same dtypes and ranks',
      );
    }
    const shape = a.shape.map((d, i) => (d === b.shape[i] ? d : null));
    return { dtype: a.dtype, shape };
  },
  kernel(inputs, out, attrs) {
    const branches = condBranches(shapesOf(inputs), attrs);
    const taken = inputs[0].data[0] !== 0 ? branches[0] : branches[1];
    const [value] = evaluateRegion(taken, inputs.slice(1), [taken.outputs[attrs.output]]);
    copyInto(value, out, 'cond');
  },
});

/**
 * `pred ? trueFn() : falseFn()` as one graph node: the branches are built now, as regions, and only the taken one
 * runs. Both return the same structure (a tensor, an array or an object of tensors) with the same dtypes. Tensors
 * from outside used in a branch are captured; their gradients are zeros when their branch was not taken.
 *
 * @example const y = cond(greater(x, 0), () => mul(x, 2), () => neg(x));
 */
export function cond<T extends Nest<Leaf>>(pred: Tensor, trueFn: () => T, falseFn: () => T, name = 'cond'): NestOf<T> {
  if (!(pred instanceof Tensor)) throw new GraphError('cond: the predicate must be a Tensor (a bool scalar)');
  const graph = pred.graph.buildTarget();
  const predId = graph.lift(pred);
  const branches = [
    buildRegion(graph, [], () => trueFn(), 'cond: the true branch'),
    buildRegion(graph, [], () => falseFn(), 'cond: the false branch'),
  ];
  if (!sameNest(branches[0].def, branches[1].def)) {
    throw new GraphError(
      `cond ${quoteName(name)}: the branches return different structures (${describeNest(branches[0].def)} and ` +
        `${describeNest(branches[1].def)}); both must return the same`,
    );
  }
  const captured = shareCaptures(graph, branches);
  const attrs = { branches: branches.map(toAttr) };
  const base = uniqueBase(graph, name);
  const outputs = branches[0].outputs.map((_, k) =>
    addOp(graph, COND, [predId, ...captured], { ...attrs, output: k }, `${base}/${k}`),
  );
  return unflattenNest(branches[0].def, outputs) as unknown as NestOf<T>;
}

// ---- whileLoop -------------------------------------------------------------------------------------------------

const WHILE_ATTRS = { cond: 'region', body: 'region', maximumIterations: 'int?', output: 'string' } as const;
type WhileAttrs = AttrsOf<typeof WHILE_ATTRS>;

function whileRegions(inputs: readonly TensorInfo[], attrs: WhileAttrs) {
  const condition = instantiate(attrs.cond, inputs, 'whileLoop: the condition');
  const body = instantiate(attrs.body, inputs, 'whileLoop: the body');
  const vars = body.outputs.length;
  if (vars > inputs.length) throw new GraphError(`the body returns ${vars} values for ${inputs.length} inputs`);
  if (condition.outputs.length !== 1) throw new GraphError('the condition must return one bool scalar');
  const pred = regionInfo(condition.graph, condition.outputs[0]);
  if (pred.dtype !== 'bool' || pred.shape.length !== 0) {
    throw new ShapeError(`the condition must return a bool scalar, got ${info(pred)}; reduce it, e.g. all(x)`);
  }
  for (let j = 0; j < vars; j++) {
    const out = regionInfo(body.graph, body.outputs[j]);
    if (!fits(inputs[j], out)) {
      throw new ShapeError(
        `loop variable ${j} enters as ${info(inputs[j])} but the body returns ${info(out)}; a loop variable keeps its ` +
          'dtype and shape across iterations',
      );
    }
  }
  const max = attrs.maximumIterations;
  if (max !== undefined && max < 0) throw new GraphError(`maximumIterations must be ≥ 0, got ${max}`);
  return { condition, body, vars };
}

const WHILE_OUTPUTS = ['var', 'count', 'stack'] as const;

export const WHILE = defineOp({
  name: 'while',
  arity: 'variadic',
  attrs: WHILE_ATTRS,
  foldable: false,
  infer(inputs, attrs) {
    const { body, vars } = whileRegions(inputs, attrs);
    const { kind, index } = parseSelector(attrs.output, 'whileLoop', WHILE_OUTPUTS);
    if (kind === 'count') return { dtype: 'int32', shape: [] };
    if (kind === 'var') {
      if (index >= vars) throw new GraphError(`output var:${index} does not exist; the loop has ${vars} variables`);
      return { dtype: inputs[index].dtype, shape: inputs[index].shape };
    }
    const max = attrs.maximumIterations;
    if (max === undefined) {
      throw new GraphError(
        'stacking a value of every iteration (what the gradient of a whileLoop keeps) needs maximumIterations; ' +
          'give whileLoop(cond, body, vars, { maximumIterations })',
      );
    }
    const node = stackedNode(body, index, 'whileLoop');
    return { dtype: node.dtype, shape: [max, ...node.shape] };
  },
  kernel(inputs, out, attrs) {
    const { condition, body, vars } = whileRegions(shapesOf(inputs), attrs);
    const { kind, index } = parseSelector(attrs.output, 'whileLoop', WHILE_OUTPUTS);
    let values: Buf[] = inputs.slice(0, vars);
    const captured = inputs.slice(vars);
    const stackId = kind === 'stack' ? stackedNode(body, index, 'whileLoop').id : -1;
    const rowSize = kind === 'stack' ? sizeOf(out.shape.slice(1)) : 0;
    let count = 0;
    for (;;) {
      const args = [...values, ...captured];
      if (evaluateRegion(condition, args)[0].data[0] === 0) break;
      checkIterations(count, attrs.maximumIterations, 'whileLoop');
      const wanted = stackId >= 0 ? [...body.outputs, stackId] : body.outputs;
      const results = evaluateRegion(body, args, wanted);
      if (stackId >= 0) out.data.set(results[results.length - 1].data, count * rowSize);
      values = results.slice(0, vars);
      count++;
    }
    if (kind === 'count') out.data[0] = count;
    else if (kind === 'var') copyInto(values[index], out, 'whileLoop');
  },
});

/** A loop about to start iteration `count` must stay within maximumIterations; past it is an error. */
export function checkIterations(count: number, max: number | undefined, op: string): void {
  if (max !== undefined && count >= max) {
    throw new RuntimeError(
      `${op}: the loop did not end within maximumIterations = ${max} (its condition was still true); raise ` +
        'maximumIterations or check the condition',
    );
  }
}

function stackedNode(region: ReturnType<typeof instantiate>, index: number, op: string): Node {
  const id = region.ids[index];
  if (id === undefined) throw new GraphError(`${op}: stack:${index} names no node of the body`);
  return region.graph.node(id);
}

/**
 * A loop: `vars = body(vars)` while `condFn(vars)` is true, as one graph node (no unrolling). Both functions get the
 * loop variables as one array; the body returns their next values as one array, with the same dtypes and shapes.
 * More than `maximumIterations` iterations is a RuntimeError; the gradient of a loop needs that bound (it keeps
 * the values of every iteration, as TensorFlow's while_v2 does).
 *
 * @example const [i, acc] = whileLoop(([i]) => less(i, 5), ([i, acc]) => [add(i, 1), mul(acc, x)], [i0, acc0]);
 */
export function whileLoop(
  condFn: (vars: Tensor[]) => Tensor | boolean,
  bodyFn: (vars: Tensor[]) => TensorLike[] | TensorLike,
  loopVars: readonly TensorLike[],
  options: { maximumIterations?: number; name?: string } = {},
): Tensor[] {
  const name = options.name ?? 'while';
  const first = loopVars.find((v): v is Tensor => v instanceof Tensor);
  if (!Array.isArray(loopVars) || first === undefined) {
    throw new GraphError(
      `whileLoop ${quoteName(name)}: the loop variables must be an array holding at least one Tensor`,
    );
  }
  const max = options.maximumIterations;
  if (max !== undefined && !(Number.isSafeInteger(max) && max >= 0)) {
    throw new GraphError(`whileLoop ${quoteName(name)}: maximumIterations must be a non-negative integer, got ${max}`);
  }
  const graph = first.graph.buildTarget();
  const vars = loopVars.map((v) => graph.lift(v instanceof Tensor ? v : toTensor(graph, v as number)));
  const params = vars.map((id, j) => ({ name: `var${j}`, dtype: graph.node(id).dtype, shape: graph.node(id).shape }));
  const condition = buildRegion(graph, params, (ts) => [condFn(ts)], `whileLoop ${quoteName(name)}: the condition`);
  const body = buildRegion(
    graph,
    params,
    (ts) => {
      const next = bodyFn(ts);
      return Array.isArray(next) ? next : [next];
    },
    `whileLoop ${quoteName(name)}: the body`,
  );
  if (body.outputs.length !== vars.length) {
    throw new GraphError(
      `whileLoop ${quoteName(name)}: the body returns ${body.outputs.length} values for ${vars.length} loop variables; ` +
        'it must return one per variable, as an array',
    );
  }
  const captured = shareCaptures(graph, [condition, body]);
  const attrs = {
    cond: toAttr(condition),
    body: toAttr(body),
    ...(max === undefined ? {} : { maximumIterations: max }),
  };
  const base = uniqueBase(graph, name);
  return vars.map((_, j) =>
    addOp(graph, WHILE, [...vars, ...captured], { ...attrs, output: `var:${j}` }, `${base}/var:${j}`),
  );
}

// ---- scan ------------------------------------------------------------------------------------------------------

const SCAN_ATTRS = {
  body: 'region',
  carries: 'int',
  xs: 'int',
  reverse: 'bool?',
  length: 'int?',
  checkpoint: 'bool?',
  output: 'string',
} as const;
type ScanAttrs = AttrsOf<typeof SCAN_ATTRS>;

function scanLength(inputs: readonly TensorInfo[], attrs: ScanAttrs): number | null {
  const { carries, xs } = attrs;
  if (!(carries >= 0 && xs >= 0 && carries + xs <= inputs.length)) {
    throw new GraphError(`${carries} carries and ${xs} xs do not fit ${inputs.length} inputs`);
  }
  let length: number | null = attrs.length ?? null;
  for (let j = carries; j < carries + xs; j++) {
    const x = inputs[j];
    if (x.shape.length === 0)
      throw new ShapeError(`xs ${j - carries} is a scalar (${info(x)}); xs are scanned along axis 0`);
    const n = x.shape[0];
    if (n !== null && length !== null && n !== length) {
      throw new ShapeError(
        `xs ${j - carries} has ${n} steps along axis 0 but ${attrs.length !== undefined ? 'length is' : 'xs 0 has'} ${length}; ` +
          'every xs must have the same length',
      );
    }
    length = length ?? n;
  }
  if (xs === 0 && attrs.length === undefined) throw new GraphError('a scan without xs needs its length');
  return length;
}

function scanParams(inputs: readonly TensorInfo[], attrs: ScanAttrs): TensorInfo[] {
  const { carries, xs } = attrs;
  return inputs.map((t, j) => (j >= carries && j < carries + xs ? { dtype: t.dtype, shape: t.shape.slice(1) } : t));
}

function scanBody(inputs: readonly TensorInfo[], attrs: ScanAttrs) {
  const body = instantiate(attrs.body, scanParams(inputs, attrs), 'scan: the body');
  const { carries } = attrs;
  if (body.outputs.length < carries) {
    throw new GraphError(`the body returns ${body.outputs.length} values for ${carries} carries`);
  }
  for (let j = 0; j < carries; j++) {
    const out = regionInfo(body.graph, body.outputs[j]);
    if (!fits(inputs[j], out)) {
      throw new ShapeError(
        `carry ${j} enters as ${info(inputs[j])} but the body returns ${info(out)}; a carry keeps its dtype and shape ` +
          'from step to step',
      );
    }
  }
  return body;
}

const SCAN_OUTPUTS = ['carry', 'ys', 'stack'] as const;

export const SCAN = defineOp({
  name: 'scan',
  arity: 'variadic',
  attrs: SCAN_ATTRS,
  infer(inputs, attrs) {
    const length = scanLength(inputs, attrs);
    const body = scanBody(inputs, attrs);
    const { kind, index } = parseSelector(attrs.output, 'scan', SCAN_OUTPUTS);
    const { carries } = attrs;
    if (kind === 'carry') {
      if (index >= carries)
        throw new GraphError(`output carry:${index} does not exist; the scan has ${carries} carries`);
      return { dtype: inputs[index].dtype, shape: inputs[index].shape };
    }
    let node: TensorInfo;
    if (kind === 'ys') {
      const ys = body.outputs.length - carries;
      if (index >= ys) throw new GraphError(`output ys:${index} does not exist; the body returns ${ys} ys`);
      node = regionInfo(body.graph, body.outputs[carries + index]);
    } else node = stackedNode(body, index, 'scan');
    return { dtype: node.dtype, shape: [length, ...node.shape] };
  },
  kernel(inputs, out, attrs) {
    const infos = shapesOf(inputs);
    const length = scanLength(infos, attrs) as number;
    const body = scanBody(infos, attrs);
    const { kind, index } = parseSelector(attrs.output, 'scan', SCAN_OUTPUTS);
    const { carries, xs } = attrs;
    let values: Buf[] = inputs.slice(0, carries);
    const rows = inputs.slice(carries, carries + xs);
    const captured = inputs.slice(carries + xs);
    const wanted =
      kind === 'carry'
        ? body.outputs.slice(0, carries)
        : [
            ...body.outputs.slice(0, carries),
            kind === 'ys' ? body.outputs[carries + index] : stackedNode(body, index, 'scan').id,
          ];
    const rowSize = kind === 'carry' ? 0 : sizeOf(out.shape.slice(1));
    for (let s = 0; s < length; s++) {
      const t = attrs.reverse === true ? length - 1 - s : s;
      const results = evaluateRegion(body, [...values, ...rows.map((x) => rowOf(x, t)), ...captured], wanted);
      if (kind !== 'carry') out.data.set(results[carries].data, t * rowSize);
      values = results.slice(0, carries);
    }
    if (kind === 'carry') copyInto(values[index], out, 'scan');
  },
});

/** Row `t` of an array along axis 0, as a view (no copy). */
export function rowOf(x: Buf, t: number): Buf {
  const shape = x.shape.slice(1);
  const size = sizeOf(shape);
  return { data: x.data.subarray(t * size, (t + 1) * size), shape };
}

/** A leaf of a nest that bodies return: a tensor, or a JS number or boolean (made a constant). */
export type Leaf = Tensor | number | boolean;

/** What a scan's body function is given and returns: a carry and an x (nests of tensors) → [carry, y]. */
export type ScanFn<C, X, Y> = (carry: C, x: X) => readonly [C, Y];

/** The tensors of a nest as its builder returns them (JS numbers given as leaves come back as tensors). */
export type NestOf<T> = T extends Leaf ? Tensor : { -readonly [K in keyof T]: NestOf<T[K]> };

export interface ScanOptions {
  /** Step through xs from the last row to the first (the ys still come out in the order of xs, as in JAX). */
  reverse?: boolean;
  /** The number of steps: required without xs, checked against xs' leading dim with them. */
  length?: number;
  /**
   * Gradient memory (JAX's `checkpoint`, TensorFlow's `recompute_grad`): `false` (default) keeps, for every step, the
   * body values the backward scan reads; `true` keeps only the carries and recomputes the body in the backward scan
   * (less memory, about one more forward pass of the body).
   */
  checkpoint?: boolean;
  name?: string;
}

/**
 * `carry, y = fn(carry, x)` for every row x of xs (axis 0), as one graph node: the body is compiled once and run T
 * times (no unrolling). Returns the final carry and the ys stacked along axis 0. A carry may be a tensor, an array or
 * an object of tensors, and so may xs and y; y may be null (no ys). As in JAX, with `reverse` the steps run from the
 * last row, and the ys come out in the order of xs.
 *
 * @example const [last, ys] = scan((h, x) => { const h2 = tanh(add(matMul(x, w), matMul(h, u))); return [h2, h2]; }, h0, xs);
 */
export function scan<C, X, Y>(
  fn: (carry: NestOf<C>, x: NestOf<X>) => readonly [NestOf<C> | C, Y],
  init: C,
  xs: X,
  options: ScanOptions = {},
): [NestOf<C>, NestOf<Y>] {
  const name = options.name ?? 'scan';
  const isLeaf = (v: unknown): v is Leaf => v instanceof Tensor || typeof v === 'number' || typeof v === 'boolean';
  const carry = flattenNest(init as Nest<Leaf>, isLeaf);
  const scanned =
    xs === null || xs === undefined
      ? { leaves: [] as Tensor[], def: null as NestDef }
      : flattenNest(xs as Nest<Tensor>, (v): v is Tensor => v instanceof Tensor);
  const first = [...carry.leaves, ...scanned.leaves].find((v): v is Tensor => v instanceof Tensor);
  if (first === undefined)
    throw new GraphError(`scan ${quoteName(name)}: the carry or xs must hold at least one Tensor`);
  const graph = first.graph.buildTarget();
  const carries = carry.leaves.map((v) => graph.lift(v instanceof Tensor ? v : toTensor(graph, v as number)));
  const rows = scanned.leaves.map((x) => graph.lift(x));
  const { reverse = false, length } = options;
  if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
    throw new GraphError(`scan ${quoteName(name)}: length must be a non-negative integer, got ${length}`);
  }
  if (rows.length === 0 && length === undefined) {
    throw new GraphError(
      `scan ${quoteName(name)}: without xs, give the number of steps: scan(fn, init, null, { length })`,
    );
  }
  const checkpoint = options.checkpoint ?? false;
  if (typeof checkpoint !== 'boolean') {
    throw new GraphError(`scan ${quoteName(name)}: checkpoint must be true or false, got ${String(checkpoint)}`);
  }
  const params = [
    ...carries.map((id, j) => ({ name: `carry${j}`, dtype: graph.node(id).dtype, shape: graph.node(id).shape })),
    ...rows.map((id, j) => {
      const x = graph.node(id);
      if (x.shape.length === 0) {
        throw new ShapeError(
          `scan ${quoteName(name)}: xs ${quoteName(x.name)} is a scalar; xs are scanned along axis 0`,
        );
      }
      return { name: `x${j}`, dtype: x.dtype, shape: x.shape.slice(1) as Shape };
    }),
  ];
  let yDef: NestDef = null;
  let noYs = false;
  const body: BuiltRegion = buildRegion(
    graph,
    params,
    (ts) => {
      const c = unflattenNest(carry.def, ts.slice(0, carries.length));
      const x = xs === null || xs === undefined ? null : unflattenNest(scanned.def, ts.slice(carries.length));
      const result: readonly unknown[] = fn(c as unknown as NestOf<C>, x as unknown as NestOf<X>);
      if (!Array.isArray(result) || result.length !== 2) {
        throw new GraphError(`scan ${quoteName(name)}: the body must return [carry, y] (y may be null)`);
      }
      const flatCarry = flattenNest(result[0] as Nest<Leaf>, isLeaf);
      if (!sameNest(flatCarry.def, carry.def)) {
        throw new GraphError(
          `scan ${quoteName(name)}: the body returns a carry of structure ${describeNest(flatCarry.def)}, but the ` +
            `initial carry is ${describeNest(carry.def)}; the carry keeps its structure`,
        );
      }
      noYs = result[1] === null || result[1] === undefined;
      const flatY = noYs ? { leaves: [] as Leaf[], def: null } : flattenNest(result[1] as Nest<Leaf>, isLeaf);
      yDef = flatY.def;
      return [...flatCarry.leaves, ...flatY.leaves];
    },
    `scan ${quoteName(name)}: the body`,
  );
  const captured = shareCaptures(graph, [body]);
  const attrs = {
    body: toAttr(body),
    carries: carries.length,
    xs: rows.length,
    ...(reverse ? { reverse } : {}),
    ...(length !== undefined ? { length } : {}),
    ...(checkpoint ? { checkpoint } : {}),
  };
  const base = uniqueBase(graph, name);
  const inputs = [...carries, ...rows, ...captured];
  const outCarries = carries.map((_, j) =>
    addOp(graph, SCAN, inputs, { ...attrs, output: `carry:${j}` }, `${base}/carry:${j}`),
  );
  const ys = body.outputs
    .slice(carries.length)
    .map((_, j) => addOp(graph, SCAN, inputs, { ...attrs, output: `ys:${j}` }, `${base}/ys:${j}`));
  const carryOut = unflattenNest(carry.def, outCarries) as unknown as NestOf<C>;
  const yOut = (noYs ? null : unflattenNest(yDef, ys)) as unknown as NestOf<Y>;
  return [carryOut, yOut];
}

// ---- shared ----------------------------------------------------------------------------------------------------

function toAttr(region: BuiltRegion): RegionAttr {
  return regionToAttr(region.graph, region.params, region.outputs);
}

/** A name not yet taken as a prefix of sibling names (`scan`, `scan_1`, …), in the graph's current scope. */
function uniqueBase(graph: Graph, name: string): string {
  const prefix = graph.scopePrefix;
  const taken = (base: string): boolean => graph.nodes.some((n) => n.name.startsWith(`${prefix}${base}/`));
  if (!taken(name)) return name;
  let k = 1;
  while (taken(`${name}_${k}`)) k++;
  return `${name}_${k}`;
}

function describeNest(def: NestDef): string {
  const text = JSON.stringify(def, (_, v: unknown) => (v === null ? 'tensor' : v));
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Inputs' dtypes and shapes (for re-instantiating regions at run time in the reference kernels). */
function shapesOf(inputs: readonly Buf[]): TensorInfo[] {
  return inputs.map((x) => ({ dtype: dtypeOfArray(x.data) as DType, shape: x.shape }));
}

function copyInto(value: Buf, out: Buf, op: string): void {
  if (value.data.length !== out.data.length) {
    throw new RuntimeError(
      `${op}: a value of ${value.data.length} elements does not fit its output of ${out.data.length}`,
    );
  }
  out.data.set(value.data);
}

export const CONTROL_OPS: readonly OpRecord[] = [COND, WHILE, SCAN];
