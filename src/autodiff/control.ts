/**
 * Reverse mode through control flow. The gradient of a construct is a construct of the same kind, built as ordinary
 * nodes (so it prints, optimizes, exports and differentiates again):
 * - `cond`: a cond on the same predicate whose branches are the gradients of the original branches (a captured tensor
 *   the taken branch does not use gets zeros).
 * - `scan`: a scan over the steps in the opposite order (as JAX's): its carries are the carries' gradients and the
 *   captured tensors' accumulated gradients, its ys the gradients of each row of xs.
 * - `whileLoop`: a loop running the same number of iterations backwards (TensorFlow's while_v2): it reads what the
 *   forward loop kept of each iteration from stacks of `maximumIterations` rows, which the gradient needs.
 * What the backward body reads of the forward body is either kept (default: the forward construct stacks those body
 * values for every step, as `stack:i` siblings that run with it) or, with scan's `checkpoint`, recomputed from the
 * kept carries (less memory, one more forward pass of the body). Each backward body is built by copying the forward
 * body into a scratch graph, differentiating it there with `gradients`, and re-emitting what the gradient needs into
 * the new region, with kept values as row parameters.
 */
import { DType, Graph, GraphError, isFloat, Node, quoteName, Shape, Tensor } from '../graph';
import {
  add,
  addOp,
  COND,
  controlSibling,
  freshRegion,
  gather,
  greaterEqual,
  opRecord,
  parseSelector,
  Region,
  RegionAttr,
  regionToAttr,
  SCAN,
  sub,
  WHILE,
  zerosLike,
} from '../ops';

/** The reverse-mode function the rules differentiate bodies with (gradients.ts passes itself: no import cycle). */
export type GradientsFn = (ys: Tensor[], xs: Tensor[], gradYs: (Tensor | null)[]) => (Tensor | null)[];

/** What a group of sibling nodes is given: its nodes, the gradient of each (null: none), which inputs need one. */
export interface ControlVjpArgs {
  readonly graph: Graph;
  readonly siblings: readonly Node[];
  readonly dys: readonly (Tensor | null)[];
  readonly needs: readonly boolean[];
}

/** The gradient of each input of a construct (null where none is needed or none flows). */
export function controlVjp(args: ControlVjpArgs, grad: GradientsFn): (Tensor | null)[] {
  switch (args.siblings[0].op) {
    case 'cond':
      return condVjp(args, grad);
    case 'scan':
      return scanVjp(args, grad);
    case 'while':
      return whileVjp(args, grad);
    default:
      throw new GraphError(`${args.siblings[0].op} is not a control-flow op`);
  }
}

/** Sums the gradients of siblings that ask for the same output (interning makes that rare). */
function byOutput(siblings: readonly Node[], dys: readonly (Tensor | null)[]): Map<string, Tensor> {
  const found = new Map<string, Tensor>();
  siblings.forEach((node, k) => {
    const dy = dys[k];
    if (dy === null) return;
    const key = String(node.attrs.output);
    const earlier = found.get(key);
    found.set(key, earlier === undefined ? dy : add(earlier, dy));
  });
  return found;
}

/** The backward body as built in the scratch graph: what it outputs, and the scratch nodes that are its parameters. */
interface Scratch {
  readonly forward: Region;
  /** Size of the scratch graph before the gradient was built: ids below it are copies of forward body nodes. */
  readonly forwardSize: number;
  readonly outputs: number[];
}

/**
 * How a scratch node becomes a node of the backward region: a parameter of it (given), a value computed from a
 * parameter (e.g. a row of a stack read at the loop counter), or copied (every other node, in id order).
 */
type Binding = (region: Graph) => number;

/**
 * The backward region: the scratch nodes the outputs need, copied in id order into a new graph whose parameters are
 * made by `params` (in order); `bind` says which scratch nodes are parameters or read from them, and stops the copy
 * there. Returns the region's graph, parameters and outputs, ready for regionToAttr.
 */
function emitRegion(
  scratch: Graph,
  outputs: readonly number[],
  params: readonly { name: string; dtype: DType; shape: Shape }[],
  bind: (region: Graph, paramIds: readonly number[]) => Map<number, Binding>,
): { graph: Graph; params: number[]; outputs: number[] } {
  const region = new Graph();
  const paramIds = params.map((p) => region.placeholder(p.name, p.shape, p.dtype).id);
  const bindings = bind(region, paramIds);
  const needed = new Uint8Array(scratch.size);
  for (const id of outputs) needed[id] = 1;
  for (let id = scratch.size - 1; id >= 0; id--) {
    if (needed[id] === 0 || bindings.has(id)) continue;
    for (const input of scratch.node(id).inputs) needed[input] = 1;
  }
  const mapped = new Int32Array(scratch.size).fill(-1);
  for (let id = 0; id < scratch.size; id++) {
    if (needed[id] === 0) continue;
    const binding = bindings.get(id);
    const node = scratch.node(id);
    if (binding !== undefined) mapped[id] = binding(region);
    else if (node.op === 'constant') mapped[id] = region.constant(node.value as never, node.dtype, node.name).id;
    else if (node.op === 'placeholder') {
      throw new GraphError(`gradient of control flow: ${quoteName(node.name)} has no binding (a lazygrad bug)`);
    } else {
      mapped[id] = addOp(
        region,
        opRecord(node.op),
        node.inputs.map((i) => mapped[i]),
        node.attrs,
        node.name,
      ).id;
    }
  }
  return {
    graph: region,
    params: paramIds,
    outputs: outputs.map((id) => mapped[id]),
  };
}

/** The scratch node ids whose values depend on the given parameters (ascending sweep over the forward copy). */
function variantNodes(graph: Graph, size: number, sources: readonly number[]): Uint8Array {
  const variant = new Uint8Array(graph.size);
  for (const id of sources) variant[id] = 1;
  for (let id = 0; id < size; id++) {
    if (variant[id] === 1) continue;
    for (const input of graph.node(id).inputs) {
      if (variant[input] === 1) {
        variant[id] = 1;
        break;
      }
    }
  }
  return variant;
}

/**
 * The forward body nodes the backward body reads, to keep per step (default) or none (checkpoint: recompute them
 * from kept carries): nodes of the forward copy that depend on the step's values (not constants or parameters, which
 * are bound otherwise), reached from the outputs without passing another kept node.
 */
function keptNodes(scratch: Scratch, variant: Uint8Array, isParam: (id: number) => boolean, keep: boolean): number[] {
  const graph = scratch.forward.graph;
  if (!keep) return [];
  const kept: number[] = [];
  const needed = new Uint8Array(graph.size);
  for (const id of scratch.outputs) needed[id] = 1;
  for (let id = graph.size - 1; id >= 0; id--) {
    if (needed[id] === 0) continue;
    const node = graph.node(id);
    if (id < scratch.forwardSize && !isParam(id) && node.op !== 'constant' && variant[id] === 1) {
      kept.push(id);
      continue;
    }
    for (const input of node.inputs) needed[input] = 1;
  }
  return kept.reverse();
}

/** The scratch nodes the outputs read, not looking past `stops` (kept values and parameters). */
function readNodes(graph: Graph, outputs: readonly number[], stops: ReadonlySet<number>): Uint8Array {
  const reads = new Uint8Array(graph.size);
  for (const id of outputs) reads[id] = 1;
  for (let id = graph.size - 1; id >= 0; id--) {
    if (reads[id] === 0 || stops.has(id)) continue;
    for (const input of graph.node(id).inputs) reads[input] = 1;
  }
  return reads;
}

/** The stored index (in the region attr) of a forward-copy node, for its `stack:i` sibling. */
function storedIndex(forward: Region, id: number): number {
  const index = forward.ids.indexOf(id);
  if (index < 0) throw new GraphError('gradient of control flow: a kept value has no stored node (a lazygrad bug)');
  return index;
}

/** A placeholder of the scratch graph shaped like one of its nodes: a seed or accumulator of the gradient. */
function seedLike(graph: Graph, name: string, like: number): Tensor {
  const node = graph.node(like);
  return graph.placeholder(name, node.shape, node.dtype);
}

function info(node: Node): { dtype: DType; shape: Shape } {
  return { dtype: node.dtype, shape: node.shape };
}

function nameOf(leader: Node): string {
  const slash = leader.name.lastIndexOf('/');
  return `${slash < 0 ? leader.name : leader.name.slice(0, slash)}_grad`;
}

// ---- scan ------------------------------------------------------------------------------------------------------

function scanVjp({ graph, siblings, dys, needs }: ControlVjpArgs, grad: GradientsFn): (Tensor | null)[] {
  const leader = siblings[0];
  const attrs = leader.attrs;
  const carries = attrs.carries as number;
  const xsCount = attrs.xs as number;
  const inputs = leader.inputs;
  const body = attrs.body as RegionAttr;
  const given = byOutput(siblings, dys);
  const forward = freshRegion(body, `the gradient of scan '${leader.name}'`);
  const sg = forward.graph;
  const forwardSize = sg.size;
  const carryParams = forward.params.slice(0, carries);
  const xParams = forward.params.slice(carries, carries + xsCount);
  const capParams = forward.params.slice(carries + xsCount);
  const floatCarries = carryParams.map((_, j) => j).filter((j) => isFloat(sg.node(carryParams[j]).dtype));
  const wantedXs = xParams.map((_, j) => j).filter((j) => needs[carries + j] && isFloat(sg.node(xParams[j]).dtype));
  const wantedCaps = capParams
    .map((_, k) => k)
    .filter((k) => needs[carries + xsCount + k] && isFloat(sg.node(capParams[k]).dtype));
  // Per-step outputs with a gradient: ys, and stacked body values (a gradient of a gradient asks for those).
  const rows: { node: number; dy: Tensor }[] = [];
  for (const [output, dy] of given) {
    const { kind, index } = parseSelector(output, 'scan', ['carry', 'ys', 'stack']);
    if (kind === 'ys') rows.push({ node: forward.outputs[carries + index], dy });
    if (kind === 'stack') rows.push({ node: forward.ids[index], dy });
  }
  // The scratch gradient: seeds for the carries' and rows' gradients, accumulators for the captured tensors'.
  const dcSeeds = floatCarries.map((j) => seedLike(sg, `dcarry${j}`, carryParams[j]));
  const dySeeds = rows.map((r, k) => seedLike(sg, `dy${k}`, r.node));
  const accSeeds = wantedCaps.map((k) => seedLike(sg, `dcapture${k}`, capParams[k]));
  const wrt = [
    ...floatCarries.map((j) => carryParams[j]),
    ...wantedXs.map((j) => xParams[j]),
    ...wantedCaps.map((k) => capParams[k]),
  ];
  const grads = grad(
    [...floatCarries.map((j) => sg.tensor(forward.outputs[j])), ...rows.map((r) => sg.tensor(r.node))],
    wrt.map((id) => sg.tensor(id)),
    [...dcSeeds, ...dySeeds],
  );
  const g = (k: number): Tensor | null => grads[k];
  const outDc = floatCarries.map((_, m) => (g(m) ?? zerosLike(dcSeeds[m])).id);
  const outAcc = wantedCaps.map((_, m) => {
    const d = g(floatCarries.length + wantedXs.length + m);
    return (d === null ? accSeeds[m] : add(accSeeds[m], d)).id;
  });
  const outDx = wantedXs.map((j, m) => (g(floatCarries.length + m) ?? zerosLike(sg.tensor(xParams[j]))).id);
  const scratch: Scratch = { forward, forwardSize, outputs: [...outDc, ...outAcc, ...outDx] };

  // What the backward body reads per step: kept body values, kept carries, rows of xs, rows of the gradients.
  const isParam = (id: number): boolean => forward.params.includes(id);
  const variant = variantNodes(sg, forwardSize, [...carryParams, ...xParams]);
  const kept = keptNodes(scratch, variant, isParam, attrs.checkpoint !== true);
  const reads = readNodes(sg, scratch.outputs, new Set(kept));
  const usedCarries = carryParams.map((_, j) => j).filter((j) => reads[carryParams[j]] === 1);
  const usedXs = xParams.map((_, j) => j).filter((j) => reads[xParams[j]] === 1);
  const usedCaps = capParams.map((_, k) => k).filter((k) => reads[capParams[k]] === 1);
  const usedRows = rows.map((_, k) => k).filter((k) => reads[dySeeds[k].id] === 1);
  // Row inputs of the backward scan (outer ids) and the scratch node each row stands for.
  const rowInputs: { outer: number; scratch: number }[] = [
    ...kept.map((id) => ({
      outer: controlSibling(graph, leader, `stack:${storedIndex(forward, id)}`).id,
      scratch: id,
    })),
    ...usedCarries.map((j) => ({
      outer: controlSibling(graph, leader, `stack:${body.params[j]}`).id,
      scratch: carryParams[j],
    })),
    ...usedXs.map((j) => ({ outer: inputs[carries + j], scratch: xParams[j] })),
    ...usedRows.map((k) => ({ outer: rows[k].dy.id, scratch: dySeeds[k].id })),
  ];
  if (rowInputs.length === 0 && xsCount > 0) rowInputs.push({ outer: inputs[carries], scratch: -1 });
  const carryInputs: { outer: number; scratch: number }[] = [
    ...floatCarries.map((j, m) => ({
      outer: given.get(`carry:${j}`)?.id ?? zerosLike(graph.tensor(inputs[j])).id,
      scratch: dcSeeds[m].id,
    })),
    ...wantedCaps.map((k, m) => ({
      outer: zerosLike(graph.tensor(inputs[carries + xsCount + k])).id,
      scratch: accSeeds[m].id,
    })),
  ];
  const capInputs = usedCaps.map((k) => ({ outer: inputs[carries + xsCount + k], scratch: capParams[k] }));
  const rowInfo = (r: { outer: number; scratch: number }): { dtype: DType; shape: Shape } =>
    r.scratch >= 0
      ? info(sg.node(r.scratch))
      : { dtype: graph.node(r.outer).dtype, shape: graph.node(r.outer).shape.slice(1) };
  const params = [
    ...carryInputs.map((c, i) => ({ name: `carry${i}`, ...info(sg.node(c.scratch)) })),
    ...rowInputs.map((r, i) => ({ name: `x${i}`, ...rowInfo(r) })),
    ...capInputs.map((c) => ({ name: sg.node(c.scratch).name, ...info(sg.node(c.scratch)) })),
  ];
  const bound = [...carryInputs, ...rowInputs, ...capInputs];
  const region = emitRegion(sg, scratch.outputs, params, (_, ids) => {
    const map = new Map<number, Binding>();
    bound.forEach((b, i) => {
      if (b.scratch >= 0) map.set(b.scratch, () => ids[i]);
    });
    return map;
  });
  const nCarry = carryInputs.length;
  const backAttrs = {
    body: regionToAttr(region.graph, region.params, region.outputs),
    carries: nCarry,
    xs: rowInputs.length,
    ...(attrs.reverse === true ? {} : { reverse: true }),
    ...(attrs.length !== undefined ? { length: attrs.length as number } : {}),
    ...(attrs.checkpoint === true ? { checkpoint: true } : {}),
  };
  const backInputs = bound.map((b) => b.outer);
  const base = nameOf(leader);
  const out = (output: string): Tensor => addOp(graph, SCAN, backInputs, { ...backAttrs, output }, `${base}/${output}`);
  const result: (Tensor | null)[] = inputs.map(() => null);
  floatCarries.forEach((j, m) => {
    if (needs[j]) result[j] = out(`carry:${m}`);
  });
  wantedCaps.forEach((k, m) => (result[carries + xsCount + k] = out(`carry:${floatCarries.length + m}`)));
  wantedXs.forEach((j, m) => (result[carries + j] = out(`ys:${m}`)));
  return result;
}

// ---- cond ------------------------------------------------------------------------------------------------------

function condVjp({ graph, siblings, dys, needs }: ControlVjpArgs, grad: GradientsFn): (Tensor | null)[] {
  const leader = siblings[0];
  const inputs = leader.inputs;
  const branches = leader.attrs.branches as readonly RegionAttr[];
  const given = [...byOutput(siblings, dys)].map(([k, dy]) => ({ k: Number(k), dy }));
  const caps = inputs.slice(1);
  const wanted = caps.map((_, k) => k).filter((k) => needs[1 + k] && isFloat(graph.node(caps[k]).dtype));
  if (wanted.length === 0 || given.length === 0) return inputs.map(() => null);
  const regions = branches.map((attr) => {
    const forward = freshRegion(attr, `the gradient of cond '${leader.name}'`);
    const sg = forward.graph;
    const seeds = given.map(({ k }, m) => seedLike(sg, `dy${m}`, forward.outputs[k]));
    const grads = grad(
      given.map(({ k }) => sg.tensor(forward.outputs[k])),
      wanted.map((k) => sg.tensor(forward.params[k])),
      seeds,
    );
    // A captured tensor this branch does not use gets zeros: the other branch may give it a gradient.
    const outputs = wanted.map((k, m) => (grads[m] ?? zerosLike(sg.tensor(forward.params[k]))).id);
    const bound = [...forward.params, ...seeds.map((s) => s.id)];
    const params = bound.map((id) => ({ name: sg.node(id).name, ...info(sg.node(id)) }));
    const region = emitRegion(sg, outputs, params, (_, ids) => new Map(bound.map((id, i) => [id, () => ids[i]])));
    return regionToAttr(region.graph, region.params, region.outputs);
  });
  const backInputs = [inputs[0], ...caps, ...given.map(({ dy }) => dy.id)];
  const base = nameOf(leader);
  const result: (Tensor | null)[] = inputs.map(() => null);
  wanted.forEach((k, m) => {
    result[1 + k] = addOp(graph, COND, backInputs, { branches: regions, output: m }, `${base}/${m}`);
  });
  return result;
}

// ---- whileLoop -------------------------------------------------------------------------------------------------

function whileVjp({ graph, siblings, dys, needs }: ControlVjpArgs, grad: GradientsFn): (Tensor | null)[] {
  const leader = siblings[0];
  const attrs = leader.attrs;
  const max = attrs.maximumIterations as number | undefined;
  if (max === undefined) {
    throw new GraphError(
      `gradients: whileLoop '${leader.name}' has no maximumIterations; its gradient keeps the values of every ` +
        'iteration (as TensorFlow does) and needs that bound: whileLoop(cond, body, vars, { maximumIterations })',
    );
  }
  const inputs = leader.inputs;
  const body = attrs.body as RegionAttr;
  const given = byOutput(siblings, dys);
  const forward = freshRegion(body, `the gradient of whileLoop '${leader.name}'`);
  const sg = forward.graph;
  const forwardSize = sg.size;
  const vars = forward.outputs.length;
  const varParams = forward.params.slice(0, vars);
  const capParams = forward.params.slice(vars);
  const floatVars = varParams.map((_, j) => j).filter((j) => isFloat(sg.node(varParams[j]).dtype));
  const wantedCaps = capParams.map((_, k) => k).filter((k) => needs[vars + k] && isFloat(sg.node(capParams[k]).dtype));
  const rows: { node: number; dy: Tensor }[] = [];
  for (const [output, dy] of given) {
    const { kind, index } = parseSelector(output, 'whileLoop', ['var', 'count', 'stack']);
    if (kind === 'stack') rows.push({ node: forward.ids[index], dy });
  }
  const dvSeeds = floatVars.map((j) => seedLike(sg, `dvar${j}`, varParams[j]));
  const dySeeds = rows.map((r, k) => seedLike(sg, `dy${k}`, r.node));
  const accSeeds = wantedCaps.map((k) => seedLike(sg, `dcapture${k}`, capParams[k]));
  const grads = grad(
    [...floatVars.map((j) => sg.tensor(forward.outputs[j])), ...rows.map((r) => sg.tensor(r.node))],
    [...floatVars.map((j) => sg.tensor(varParams[j])), ...wantedCaps.map((k) => sg.tensor(capParams[k]))],
    [...dvSeeds, ...dySeeds],
  );
  const outDv = floatVars.map((_, m) => (grads[m] ?? zerosLike(dvSeeds[m])).id);
  const outAcc = wantedCaps.map((_, m) => {
    const d = grads[floatVars.length + m];
    return (d === null ? accSeeds[m] : add(accSeeds[m], d)).id;
  });
  const scratch: Scratch = { forward, forwardSize, outputs: [...outDv, ...outAcc] };
  const isParam = (id: number): boolean => forward.params.includes(id);
  const variant = variantNodes(sg, forwardSize, varParams);
  const kept = keptNodes(scratch, variant, isParam, true);
  const reads = readNodes(sg, scratch.outputs, new Set(kept));
  // Stacks (whole arrays, read at the counter) and the captured tensors are loop invariants of the backward loop.
  const stacks: { outer: number; scratch: number }[] = [
    ...kept.map((id) => ({
      outer: controlSibling(graph, leader, `stack:${storedIndex(forward, id)}`).id,
      scratch: id,
    })),
    ...varParams
      .map((id, j) => ({ id, j }))
      .filter(({ id }) => reads[id] === 1)
      .map(({ id, j }) => ({ outer: controlSibling(graph, leader, `stack:${body.params[j]}`).id, scratch: id })),
    ...rows
      .filter((_, k) => reads[dySeeds[k].id] === 1)
      .map((r) => ({ outer: r.dy.id, scratch: dySeeds[rows.indexOf(r)].id })),
  ];
  const count = controlSibling(graph, leader, 'count');
  const loopInputs: { outer: number; scratch: number }[] = [
    ...floatVars.map((j, m) => ({
      outer: given.get(`var:${j}`)?.id ?? zerosLike(graph.tensor(inputs[j])).id,
      scratch: dvSeeds[m].id,
    })),
    ...wantedCaps.map((k, m) => ({ outer: zerosLike(graph.tensor(inputs[vars + k])).id, scratch: accSeeds[m].id })),
  ];
  const capInputs = capParams
    .map((id, k) => ({ outer: inputs[vars + k], scratch: id }))
    .filter((c) => reads[c.scratch] === 1);
  const stackInfo = (s: { outer: number }): { dtype: DType; shape: Shape } => info(graph.node(s.outer));
  const params = [
    { name: 'k', dtype: 'int32' as DType, shape: [] as Shape },
    ...loopInputs.map((v, i) => ({ name: `var${i + 1}`, ...info(sg.node(v.scratch)) })),
    ...stacks.map((s, i) => ({ name: `stack${i}`, ...stackInfo(s) })),
    ...capInputs.map((c) => ({ name: sg.node(c.scratch).name, ...info(sg.node(c.scratch)) })),
  ];
  const region = emitRegion(sg, scratch.outputs, params, (region, ids) => {
    const map = new Map<number, Binding>();
    loopInputs.forEach((v, i) => map.set(v.scratch, () => ids[1 + i]));
    stacks.forEach((s, i) =>
      map.set(s.scratch, (r) => gather(r.tensor(ids[1 + loopInputs.length + i]), r.tensor(ids[0])).id),
    );
    capInputs.forEach((c, i) => map.set(c.scratch, () => ids[1 + loopInputs.length + stacks.length + i]));
    return map;
  });
  // The counter counts down: iteration k of the backward loop undoes forward iteration k.
  const k = region.graph.tensor(region.params[0]);
  const bodyOutputs = [sub(k, 1).id, ...region.outputs];
  const condGraph = new Graph();
  const condParams = params.map((p) => condGraph.placeholder(p.name, p.shape, p.dtype).id);
  const condOut = greaterEqual(condGraph.tensor(condParams[0]), 0).id;
  const backAttrs = {
    cond: regionToAttr(condGraph, condParams, [condOut]),
    body: regionToAttr(region.graph, region.params, bodyOutputs),
    maximumIterations: max,
  };
  const backInputs = [
    sub(count, 1).id,
    ...loopInputs.map((v) => v.outer),
    ...stacks.map((s) => s.outer),
    ...capInputs.map((c) => c.outer),
  ];
  const base = nameOf(leader);
  const out = (j: number): Tensor =>
    addOp(graph, WHILE, backInputs, { ...backAttrs, output: `var:${j}` }, `${base}/var:${j}`);
  const result: (Tensor | null)[] = inputs.map(() => null);
  floatVars.forEach((j, m) => {
    if (needs[j]) result[j] = out(1 + m);
  });
  wantedCaps.forEach((kk, m) => (result[vars + kk] = out(1 + floatVars.length + m)));
  return result;
}
