/**
 * Forward mode through control flow: the jvp of a cond, whileLoop or scan is a construct of the same kind over primal
 * and tangent values together (JAX's jvp of lax.cond / lax.while_loop / lax.scan). Its regions are the original ones,
 * re-emitted node by node into a new region, followed by the jvp of their outputs with respect to their parameters;
 * the tangents of captured outer tensors enter as new captures. Parameters without a tangent get none (no zero arrays
 * are made for them), except a loop-carried value whose tangent becomes non-zero inside the loop: it starts from
 * zeros. A sibling group gets ONE jvp construct per jvp() call, whose siblings give the tangents of every output.
 */
import { Graph, GraphError, isFloat, NDArray, Node, quoteName, Tensor } from '../graph';
import {
  addOp,
  buildRegion,
  COND,
  controlGroupKey,
  isControlOp,
  opRecord,
  parseRegion,
  parseSelector,
  Region,
  RegionAttr,
  regionToAttr,
  SCAN,
  shareCaptures,
  storedIndices,
  WHILE,
  zerosLike,
} from '../ops';

/** The tangents of ys along tangents of xs, all in one graph; null where a y gets no tangent (jvp's core). */
export type Differentiate = (
  ys: readonly Tensor[],
  xs: readonly Tensor[],
  tangents: readonly Tensor[],
) => (Tensor | null)[];

/** What jvp() hands the control-flow rule for one node. */
export interface ControlJvpArgs {
  readonly graph: Graph;
  readonly node: Node;
  /** The tangent of a node of `graph` computed so far (null: none, i.e. zero). */
  readonly tangentOf: (id: number) => Tensor | null;
  readonly differentiate: Differentiate;
  /** The highest id the jvp sweep visits: siblings up to it are the group's outputs to differentiate. */
  readonly highest: number;
  /** Whether a node of `graph` is one the ys depend on (siblings that are not get no tangent). */
  readonly isNeeded: (id: number) => boolean;
  /** Per jvp() call: the tangent of each output of each group already differentiated, by controlGroupKey. */
  readonly groups: Map<string, Map<string, Tensor | null>>;
}

/** The tangent of one output of a control-flow node; the first sibling seen builds the jvp construct of its group. */
export function controlJvp(args: ControlJvpArgs): Tensor | null {
  const { graph, node, highest, isNeeded, groups } = args;
  const key = controlGroupKey(node);
  let tangents = groups.get(key);
  if (tangents === undefined) {
    const wanted: string[] = [];
    for (let id = node.id; id <= highest; id++) {
      const other = graph.node(id);
      if (other.op === node.op && isNeeded(id) && sameInputs(other, node) && controlGroupKey(other) === key) {
        wanted.push(String(other.attrs.output));
      }
    }
    tangents =
      node.op === 'cond' ? condJvp(args, wanted) : node.op === 'scan' ? scanJvp(args, wanted) : whileJvp(args, wanted);
    groups.set(key, tangents);
  }
  return tangents.get(String(node.attrs.output)) ?? null;
}

function sameInputs(a: Node, b: Node): boolean {
  return a.inputs.length === b.inputs.length && a.inputs.every((id, i) => id === b.inputs[i]);
}

// ---- cond ------------------------------------------------------------------------------------------------------

/**
 * A cond on the same predicate whose branches return (outputs, tangents of the outputs that have one): each branch is
 * the original one plus the jvp of its outputs with respect to its captures. An output whose tangent is zero in one
 * branch but not the other gets zeros there, so both branches return the same structure.
 */
function condJvp(args: ControlJvpArgs, wanted: readonly string[]): Map<string, Tensor | null> {
  const { graph, node, tangentOf, differentiate } = args;
  const attrs = node.attrs as { branches: RegionAttr[] };
  const captures = node.inputs.slice(1);
  const captureTangents = captures.map(tangentOf);
  const branches = attrs.branches.map((b, k) => parseRegion(b, `cond: the ${k === 0 ? 'true' : 'false'} branch`));
  const active = branches.map((b) =>
    activeOutputs(
      b,
      captureTangents.map((t) => t !== null),
    ),
  );
  const outputs = branches[0].outputs.length;
  const hasTangent = Array.from({ length: outputs }, (_, k) => active.some((a) => a[k]) && wantedIndex(wanted, k));
  const tangentSlots = hasTangent.flatMap((h, k) => (h ? [k] : []));
  if (tangentSlots.length === 0) return new Map();
  const built = branches.map((branch, b) =>
    buildRegion(
      graph,
      [],
      () => {
        const target = graph.buildTarget();
        const params = captures.map((id) => local(target, graph.tensor(id)));
        const values = emitRegion(target, branch, params);
        const ys = branch.outputs.map((id) => values[id]);
        const { xs, ts } = withTangents(
          params,
          captureTangents.map((t) => (t === null ? null : local(target, t))),
        );
        const dys = xs.length === 0 ? ys.map(() => null) : differentiate(ys, xs, ts);
        return [...ys, ...tangentSlots.map((k) => dys[k] ?? zerosLike(ys[k]))];
      },
      `jvp of cond ${quoteName(node.name)}: the ${b === 0 ? 'true' : 'false'} branch`,
    ),
  );
  const captured = shareCaptures(graph, built);
  const branchAttrs = built.map((r) => regionToAttr(r.graph, r.params, r.outputs));
  const base = baseName(node.name);
  const result = new Map<string, Tensor | null>();
  tangentSlots.forEach((k, slot) => {
    result.set(
      String(k),
      addOp(
        graph,
        COND,
        [node.inputs[0], ...captured],
        { branches: branchAttrs, output: outputs + slot },
        `${base}/${k}`,
      ),
    );
  });
  return result;
}

function wantedIndex(wanted: readonly string[], k: number): boolean {
  return wanted.includes(String(k));
}

// ---- scan ------------------------------------------------------------------------------------------------------

interface ScanNodeAttrs {
  body: RegionAttr;
  carries: number;
  xs: number;
  reverse?: boolean;
  length?: number;
  checkpoint?: boolean;
}

/**
 * A scan whose carries are (carries, tangent carries) and whose xs are (xs, tangent xs that are not zero); its body
 * is the original body plus the jvp of its outputs. Outputs: carries, tangent carries, ys, tangent ys, and the tangent
 * of every body value a `stack:i` sibling asked for (stacked as extra ys when the body would not keep it).
 */
function scanJvp(args: ControlJvpArgs, wanted: readonly string[]): Map<string, Tensor | null> {
  const { graph, node, tangentOf, differentiate } = args;
  const attrs = node.attrs as unknown as ScanNodeAttrs;
  const { carries, xs } = attrs;
  const body = parseRegion(attrs.body, 'scan: the body');
  const inputs = node.inputs.map((id) => graph.tensor(id));
  const inputTangents = node.inputs.map(tangentOf);
  const carried = carriedTangents(body, inputTangents, carries);
  const xsActive = inputTangents.slice(carries, carries + xs).map((t) => t !== null);
  const ysCount = body.outputs.length - carries;
  const stacks = stackIndices(wanted, 'scan');
  const result = new Map<string, Tensor | null>();
  const tangentCarryIn = carried.map((j) => inputTangents[j] ?? zerosLike(inputs[j]));
  const tangentXsIn = inputTangents.slice(carries, carries + xs).filter((t): t is Tensor => t !== null);
  const info = (t: Tensor, j: number, prefix: string) => ({ name: `${prefix}${j}`, dtype: t.dtype, shape: t.shape });
  const rowInfo = (t: Tensor, j: number, prefix: string) => ({ ...info(t, j, prefix), shape: t.shape.slice(1) });
  const params = [
    ...inputs.slice(0, carries).map((t, j) => info(t, j, 'carry')),
    ...tangentCarryIn.map((t, j) => info(t, j, 'tangent_carry')),
    ...inputs.slice(carries, carries + xs).map((t, j) => rowInfo(t, j, 'x')),
    ...tangentXsIn.map((t, j) => rowInfo(t, j, 'tangent_x')),
  ];
  // Filled while the body is built: where each tangent lands among the body's outputs or nodes.
  let ysTangents: number[] = [];
  let stackTangents: (Tensor | null)[] = [];
  const built = buildRegion(
    graph,
    params,
    (ts) => {
      const target = graph.buildTarget();
      const carryParams = ts.slice(0, carries);
      const tangentCarries = ts.slice(carries, carries + carried.length);
      const xsParams = ts.slice(carries + carried.length, carries + carried.length + xs);
      const tangentXs = ts.slice(carries + carried.length + xs);
      const captures = inputs.slice(carries + xs).map((t) => local(target, t));
      const values = emitRegion(target, body, [...carryParams, ...xsParams, ...captures]);
      const outputs = body.outputs.map((id) => values[id]);
      const stacked = stacks.map((i) => values[bodyId(body, i, 'scan')]);
      const carryTangents: (Tensor | null)[] = carryParams.map(() => null);
      carried.forEach((j, k) => (carryTangents[j] = tangentCarries[k]));
      let next = 0;
      const xsTangents = xsActive.map((a) => (a ? tangentXs[next++] : null));
      const captureTangents = inputTangents.slice(carries + xs).map((t) => (t === null ? null : local(target, t)));
      const { xs: wrt, ts: along } = withTangents(
        [...carryParams, ...xsParams, ...captures],
        [...carryTangents, ...xsTangents, ...captureTangents],
      );
      const dys =
        wrt.length === 0
          ? [...outputs, ...stacked].map(() => null)
          : differentiate([...outputs, ...stacked], wrt, along);
      const outCarryTangents = carried.map((j) => dys[j] ?? zerosLike(outputs[j]));
      const outYs = outputs.slice(carries);
      const outYsTangents: Tensor[] = [];
      ysTangents = [];
      for (let j = 0; j < ysCount; j++) {
        const dy = dys[carries + j];
        if (dy !== null) {
          ysTangents[j] = ysCount + outYsTangents.length;
          outYsTangents.push(dy);
        }
      }
      stackTangents = stacks.map((_, k) => dys[outputs.length + k]);
      return [...outputs.slice(0, carries), ...outCarryTangents, ...outYs, ...outYsTangents];
    },
    `jvp of scan ${quoteName(node.name)}: the body`,
  );
  // A stacked tangent is a `stack:i` of the new body; one the body's outputs do not reach becomes an extra ys output
  // (which keeps it stored). Indices are read once every output and capture is in place.
  const captured = shareCaptures(graph, [built]);
  const stackIds = stackTangents.map((t) => (t === null ? -1 : built.graph.lift(t)));
  const before = storedIndices(built.graph, [...built.params, ...capturedIds(built.graph)], built.outputs);
  for (const id of stackIds) if (id >= 0 && before[id] < 0 && !built.outputs.includes(id)) built.outputs.push(id);
  const lookup = storedIndices(built.graph, built.params, built.outputs);
  const stackOutputs = stackIds.map((id) => (id < 0 ? '' : `stack:${lookup[id]}`));
  const newAttrs = {
    body: regionToAttr(built.graph, built.params, built.outputs),
    carries: carries + carried.length,
    xs: xs + tangentXsIn.length,
    ...(attrs.reverse !== undefined ? { reverse: attrs.reverse } : {}),
    ...(attrs.length !== undefined ? { length: attrs.length } : {}),
    ...(attrs.checkpoint !== undefined ? { checkpoint: attrs.checkpoint } : {}),
  };
  const newInputs = [
    ...node.inputs.slice(0, carries),
    ...tangentCarryIn.map((t) => graph.lift(t)),
    ...node.inputs.slice(carries, carries + xs),
    ...tangentXsIn.map((t) => graph.lift(t)),
    ...captured,
  ];
  const base = baseName(node.name);
  const make = (output: string): Tensor => addOp(graph, SCAN, newInputs, { ...newAttrs, output }, `${base}/${output}`);
  for (const output of wanted) {
    const { kind, index } = parseSelector(output, 'scan', ['carry', 'ys', 'stack']);
    if (kind === 'carry') {
      const k = carried.indexOf(index);
      result.set(output, k < 0 ? null : make(`carry:${carries + k}`));
    } else if (kind === 'ys') {
      result.set(output, ysTangents[index] === undefined ? null : make(`ys:${ysTangents[index]}`));
    } else {
      const selector = stackOutputs[stacks.indexOf(index)];
      result.set(output, selector === '' ? null : make(selector));
    }
  }
  return result;
}

// ---- whileLoop -------------------------------------------------------------------------------------------------

/**
 * A whileLoop over (vars, tangent vars) with the same condition on the primal vars; the body is the original body
 * plus the jvp of its outputs. The iteration count gets no tangent; a `stack:i` sibling's tangent is the stack of
 * the tangent of body value i.
 */
function whileJvp(args: ControlJvpArgs, wanted: readonly string[]): Map<string, Tensor | null> {
  const { graph, node, tangentOf, differentiate } = args;
  const attrs = node.attrs as { cond: RegionAttr; body: RegionAttr; maximumIterations?: number };
  const condition = parseRegion(attrs.cond, 'whileLoop: the condition');
  const body = parseRegion(attrs.body, 'whileLoop: the body');
  const vars = body.outputs.length;
  const inputs = node.inputs.map((id) => graph.tensor(id));
  const inputTangents = node.inputs.map(tangentOf);
  const carried = carriedTangents(body, inputTangents, vars);
  const stacks = stackIndices(wanted, 'whileLoop');
  const tangentVarsIn = carried.map((j) => inputTangents[j] ?? zerosLike(inputs[j]));
  const params = [
    ...inputs.slice(0, vars).map((t, j) => ({ name: `var${j}`, dtype: t.dtype, shape: t.shape })),
    ...tangentVarsIn.map((t, j) => ({ name: `tangent_var${j}`, dtype: t.dtype, shape: t.shape })),
  ];
  const what = `jvp of whileLoop ${quoteName(node.name)}`;
  // `extra`: stacked tangents the loop variables' tangents do not reach, carried as loop variables of their own (from
  // zeros) so that the body keeps them. Known only once the body is built: it is built again when there are some.
  const build = (extra: readonly number[]) => {
    const allParams = [
      ...params,
      ...extra.map((k) => {
        const info = body.graph.node(bodyId(body, stacks[k], 'whileLoop'));
        return { name: `tangent_stack${k}`, dtype: info.dtype, shape: info.shape };
      }),
    ];
    const conditionRegion = buildRegion(
      graph,
      allParams,
      (ts) => {
        const target = graph.buildTarget();
        const captures = inputs.slice(vars).map((t) => local(target, t));
        const values = emitRegion(target, condition, [...ts.slice(0, vars), ...captures]);
        return condition.outputs.map((id) => values[id]);
      },
      `${what}: the condition`,
    );
    let stackTangents: (Tensor | null)[] = [];
    const bodyRegion = buildRegion(
      graph,
      allParams,
      (ts) => {
        const target = graph.buildTarget();
        const varParams = ts.slice(0, vars);
        const tangentVars = ts.slice(vars, vars + carried.length);
        const captures = inputs.slice(vars).map((t) => local(target, t));
        const values = emitRegion(target, body, [...varParams, ...captures]);
        const outputs = body.outputs.map((id) => values[id]);
        const stacked = stacks.map((i) => values[bodyId(body, i, 'whileLoop')]);
        const varTangents: (Tensor | null)[] = varParams.map(() => null);
        carried.forEach((j, k) => (varTangents[j] = tangentVars[k]));
        const captureTangents = inputTangents.slice(vars).map((t) => (t === null ? null : local(target, t)));
        const { xs: wrt, ts: along } = withTangents([...varParams, ...captures], [...varTangents, ...captureTangents]);
        const all = [...outputs, ...stacked];
        const dys = wrt.length === 0 ? all.map(() => null) : differentiate(all, wrt, along);
        stackTangents = stacks.map((_, k) => dys[vars + k]);
        return [
          ...outputs,
          ...carried.map((j) => dys[j] ?? zerosLike(outputs[j])),
          ...extra.map((k) => stackTangents[k] as Tensor),
        ];
      },
      `${what}: the body`,
    );
    const kept = storedIndices(
      bodyRegion.graph,
      [...bodyRegion.params, ...capturedIds(bodyRegion.graph)],
      [...bodyRegion.outputs],
    );
    return { conditionRegion, bodyRegion, stackTangents, kept };
  };
  let built = build([]);
  const unreached = built.stackTangents.flatMap((t, k) =>
    t !== null && built.kept[built.bodyRegion.graph.lift(t)] < 0 ? [k] : [],
  );
  const extraInits = unreached.map((k) => {
    const info = body.graph.node(bodyId(body, stacks[k], 'whileLoop'));
    if (!info.shape.every((d) => d !== null)) {
      throw new GraphError(
        `${what}: the tangent of body value stack:${stacks[k]} (${info.dtype}${JSON.stringify(info.shape)}) does not ` +
          'reach the loop variables, and its shape is not fully known, so the new loop cannot carry it',
      );
    }
    return graph.constant(NDArray.zeros(info.shape as number[], info.dtype), info.dtype, `tangent_stack${k}_init`);
  });
  if (unreached.length > 0) built = build(unreached);
  const { conditionRegion, bodyRegion, stackTangents } = built;
  const captured = shareCaptures(graph, [conditionRegion, bodyRegion]);
  const lookup = storedIndices(bodyRegion.graph, bodyRegion.params, bodyRegion.outputs);
  const stackOutputs = stackTangents.map((t) => (t === null ? '' : `stack:${lookup[bodyRegion.graph.lift(t)]}`));
  const newAttrs = {
    cond: regionToAttr(conditionRegion.graph, conditionRegion.params, conditionRegion.outputs),
    body: regionToAttr(bodyRegion.graph, bodyRegion.params, bodyRegion.outputs),
    ...(attrs.maximumIterations !== undefined ? { maximumIterations: attrs.maximumIterations } : {}),
  };
  const newInputs = [
    ...node.inputs.slice(0, vars),
    ...tangentVarsIn.map((t) => graph.lift(t)),
    ...extraInits.map((t) => graph.lift(t)),
    ...captured,
  ];
  const base = baseName(node.name);
  const make = (output: string): Tensor => addOp(graph, WHILE, newInputs, { ...newAttrs, output }, `${base}/${output}`);
  const result = new Map<string, Tensor | null>();
  for (const output of wanted) {
    const { kind, index } = parseSelector(output, 'whileLoop', ['var', 'count', 'stack']);
    if (kind === 'var') {
      const k = carried.indexOf(index);
      result.set(output, k < 0 ? null : make(`var:${vars + k}`));
    } else if (kind === 'stack') {
      const selector = stackOutputs[stacks.indexOf(index)];
      result.set(output, selector === '' ? null : make(selector));
    } else result.set(output, null);
  }
  return result;
}

// ---- shared ----------------------------------------------------------------------------------------------------

/**
 * The loop-carried values (scan carries, while vars) that need a tangent: those entering with one, and, to a fixed
 * point, those the body makes depend on a value with a tangent (a carry entering without one then starts at zeros).
 */
function carriedTangents(body: Region, inputTangents: readonly (Tensor | null)[], count: number): number[] {
  const active = inputTangents.map((t) => t !== null);
  for (;;) {
    const out = activeOutputs(body, active);
    let changed = false;
    for (let j = 0; j < count; j++) {
      if (out[j] && !active[j]) {
        active[j] = true;
        changed = true;
      }
    }
    if (!changed) break;
  }
  const carried: number[] = [];
  for (let j = 0; j < count; j++) if (active[j]) carried.push(j);
  return carried;
}

/**
 * Which outputs of a region may get a tangent when the given parameters have one: a float node whose inputs have
 * one and whose op has a rule (a superset of what jvp() gives a tangent, so a tangent slot decided from it is only
 * ever filled with zeros, never missing).
 */
function activeOutputs(region: Region, activeParams: readonly boolean[]): boolean[] {
  const graph = region.graph;
  const active = new Uint8Array(graph.size);
  region.params.forEach((id, k) => {
    if (activeParams[k] === true) active[id] = 1;
  });
  for (let id = 0; id < graph.size; id++) {
    const node = graph.node(id);
    if (active[id] === 1 || node.op === 'placeholder' || node.op === 'constant' || !isFloat(node.dtype)) continue;
    if (!node.inputs.some((i) => active[i] === 1)) continue;
    const record = opRecord(node.op);
    if (isControlOp(node.op) || record.jvp !== undefined || record.vjp !== undefined) active[id] = 1;
  }
  return region.outputs.map((id) => active[id] === 1);
}

/** The xs that have a tangent, with their tangents. */
function withTangents(xs: readonly Tensor[], tangents: readonly (Tensor | null)[]): { xs: Tensor[]; ts: Tensor[] } {
  const out: { xs: Tensor[]; ts: Tensor[] } = { xs: [], ts: [] };
  xs.forEach((x, i) => {
    const t = tangents[i];
    if (t !== null && isFloat(x.dtype)) {
      out.xs.push(x);
      out.ts.push(t);
    }
  });
  return out;
}

/**
 * Re-emits a stored region's nodes into `target` (the region being built), its parameters bound to `args`: the same
 * ops and attrs, re-inferred for the new inputs. Returns the new tensor of each of the region's graph ids.
 */
function emitRegion(target: Graph, region: Region, args: readonly Tensor[]): Tensor[] {
  const source = region.graph;
  const values: Tensor[] = [];
  region.params.forEach((id, k) => (values[id] = args[k]));
  for (let id = 0; id < source.size; id++) {
    if (values[id] !== undefined) continue;
    const node = source.node(id);
    if (node.op === 'placeholder') {
      throw new GraphError(`jvp: placeholder ${quoteName(node.name)} of a region is not one of its parameters`);
    }
    values[id] =
      node.op === 'constant'
        ? target.constant(node.value as never, node.dtype, node.name)
        : addOp(
            target,
            opRecord(node.op),
            node.inputs.map((i) => target.lift(values[i])),
            node.attrs,
            node.name,
          );
  }
  return values;
}

/** A tensor of an enclosing graph (or of `target`) as a tensor of `target` (its capture placeholder there). */
function local(target: Graph, tensor: Tensor): Tensor {
  return target.tensor(target.lift(tensor));
}

/** The placeholders of a region that capture outer tensors (parameters once shareCaptures has run). */
function capturedIds(region: Graph): number[] {
  return region.captures().map((c) => c.local);
}

function stackIndices(wanted: readonly string[], op: string): number[] {
  const out: number[] = [];
  for (const output of wanted) {
    const { kind, index } = parseSelector(
      output,
      op,
      op === 'scan' ? ['carry', 'ys', 'stack'] : ['var', 'count', 'stack'],
    );
    if (kind === 'stack' && !out.includes(index)) out.push(index);
  }
  return out;
}

function bodyId(body: Region, index: number, op: string): number {
  const id = body.ids[index];
  if (id === undefined) throw new GraphError(`${op}: stack:${index} names no node of the body`);
  return id;
}

function baseName(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
}
