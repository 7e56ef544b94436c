/**
 * The split of a compiled plan between ONNX Runtime and lazygrad's own kernels: each step is classified (ONNX
 * Runtime runs it, or lazygrad must, and why), then the steps are cut into maximal segments in the plan's
 * topological order, one pass over the steps (no recursion): a step joins the latest segment among its inputs' when
 * that segment is of its kind, else the next one, so the segments alternate in kind and every segment reads only
 * values of earlier segments (or its own).
 */
import { formatShape, Node, quoteName } from '../../graph';
import { isControlOp, opRecord } from '../../ops';
import { exportedNodes } from '../../interop/onnx/export';
import { onnxRuntimeSupport } from '../../interop/onnx/ort-support';
import { Plan } from '../plan';

export type SegmentKind = 'onnxruntime' | 'lazygrad';

export interface Segment {
  readonly kind: SegmentKind;
  /** Indices into plan.steps, in order. */
  readonly steps: readonly number[];
  /** The nodes it computes (a control step's sibling nodes included), in order. */
  readonly nodes: readonly number[];
  /** Values it reads from outside: fed, variables, earlier segments' values (constants too for a lazygrad one). */
  readonly inputs: readonly number[];
  /** Its values read after it: by later segments, as fetches, or as a variable's new value. */
  readonly outputs: readonly number[];
}

export interface Partition {
  readonly segments: readonly Segment[];
  /** Why each step lazygrad runs is not run by ONNX Runtime (by node id). */
  readonly reasons: ReadonlyMap<number, string>;
}

/**
 * The ONNX opset the backend exports with: 21 (IR version 10, which ONNX Runtime reads from 1.18), the newest form
 * of each op (AveragePool's dilations from 19, reductions' axes as inputs). An older ONNX Runtime gets opset 17.
 */
export const ORT_OPSET = 21;

/** The opset of the models made for an ONNX Runtime module: ORT_OPSET, or 17 when its version says it is older than 1.18. */
export function opsetFor(module: object): number {
  const version = (module as { env?: { versions?: { common?: unknown } } }).env?.versions?.common;
  const parts = typeof version === 'string' ? /^(\d+)\.(\d+)/.exec(version) : null;
  if (parts === null) return ORT_OPSET;
  const [major, minor] = [Number(parts[1]), Number(parts[2])];
  return major > 1 || (major === 1 && minor >= 18) ? ORT_OPSET : 17;
}

/** A stateful op other than these is a seeded random op. */
const NOT_RANDOM = new Set(['assign', 'group', 'customGradient', 'placeholder', 'variable', 'constant']);

function isRandom(op: string): boolean {
  return opRecord(op).stateful === true && !NOT_RANDOM.has(op);
}

/**
 * Why lazygrad (not ONNX Runtime) must run a node, or null when ONNX Runtime runs it.
 */
export function lazygradReason(
  plan: Plan,
  node: Node,
  refused?: ReadonlyMap<string, string>,
  opset = ORT_OPSET,
): string | null {
  const op = node.op;
  const known = refused?.get(kernelKey(plan, node));
  if (known !== undefined) return known;
  if (op === 'assign') return 'writes a variable (the value it writes is an output of the segment computing it)';
  if (op === 'group') return 'groups effects (no ONNX form)';
  if (isRandom(op)) return "a seeded random op: run by lazygrad's generator to keep its stream";
  // Exportable at the opset, with ONNX Runtime CPU kernels at its dtypes; a construct when its regions are.
  const support = onnxRuntimeSupport(plan.graph, node.id, { opset, allowRandom: true });
  return support === true ? null : support;
}

/**
 * What ONNX Runtime's kernel choice depends on: the op and the dtypes of its output and inputs. A node ONNX Runtime
 * refused to load (no kernel for one of its ONNX nodes) is remembered by this key and runs in lazygrad from then on.
 */
export function kernelKey(plan: Plan, node: Node): string {
  return `${node.op}:${node.dtype}(${node.inputs.map((i) => plan.graph.node(i).dtype).join(',')})`;
}

/**
 * The nodes of a segment that ONNX Runtime refused, from its message (`Could not find an implementation for
 * HardSigmoid(6) node with name 'x'`): the node named so, or else every node whose ONNX form has that ONNX op.
 */
export function refusedNodes(plan: Plan, nodes: readonly number[], message: string, opset = ORT_OPSET): number[] {
  const found = /implementation for (\w+)\(\d+\) node with name '([^']*)'/.exec(message);
  if (found === null) return [];
  const [, onnxOp, onnxName] = found;
  const graph = plan.graph;
  const candidates = nodes.filter((id) => !isControlOp(graph.node(id).op));
  const named = candidates.filter((id) => {
    const name = graph.node(id).name;
    return onnxName === name || (onnxName.startsWith(`${name}__`) && /^\d+$/.test(onnxName.slice(name.length + 2)));
  });
  if (named.length > 0) return named;
  return candidates.filter((id) => {
    const node = graph.node(id);
    try {
      const inputs = node.inputs.map((i) => graph.node(i).name);
      return exportedNodes(graph, id, inputs, opset).nodes.some((n) => n.opType === onnxOp);
    } catch {
      return false;
    }
  });
}

/** Splits a plan's steps into maximal ONNX Runtime and lazygrad segments (see the file comment). */
export function partitionPlan(plan: Plan, refused?: ReadonlyMap<string, string>, opset = ORT_OPSET): Partition {
  const graph = plan.graph;
  const n = graph.size;
  const segmentOf = new Int32Array(n).fill(-1);
  const reasons = new Map<number, string>();
  const kinds: SegmentKind[] = plan.steps.map((step) => {
    const reason = lazygradReason(plan, step.node, refused, opset);
    if (reason === null) return 'onnxruntime';
    reasons.set(step.node.id, reason);
    return 'lazygrad';
  });
  const first: SegmentKind = kinds[0] ?? 'onnxruntime';
  const kindOf = (j: number): SegmentKind =>
    j % 2 === 0 ? first : first === 'onnxruntime' ? 'lazygrad' : 'onnxruntime';
  const stepsIn: number[][] = [];
  const nodesIn: number[][] = [];
  plan.steps.forEach((step, index) => {
    const produced = step.control?.slots ?? [step.output];
    let latest = 0;
    for (const id of produced) {
      for (const input of graph.node(id).inputs) latest = Math.max(latest, segmentOf[input]);
    }
    const j = kindOf(latest) === kinds[index] ? latest : latest + 1;
    while (stepsIn.length <= j) {
      stepsIn.push([]);
      nodesIn.push([]);
    }
    stepsIn[j].push(index);
    for (const id of produced) {
      segmentOf[id] = j;
      nodesIn[j].push(id);
    }
  });
  // Who reads each value: the segments after its own, the fetches.
  const readLater = new Uint8Array(n);
  for (const id of plan.outputs) readLater[id] = 1;
  for (let j = 0; j < nodesIn.length; j++) {
    for (const id of nodesIn[j]) {
      for (const input of graph.node(id).inputs)
        if (segmentOf[input] >= 0 && segmentOf[input] !== j) readLater[input] = 1;
    }
  }
  const segments: Segment[] = [];
  for (let j = 0; j < stepsIn.length; j++) {
    if (stepsIn[j].length === 0) continue;
    const kind = kindOf(j);
    const inputs = new Set<number>();
    for (const id of nodesIn[j]) {
      for (const input of graph.node(id).inputs) {
        if (segmentOf[input] === j) continue;
        // ONNX Runtime gets the plan's constants as initializers of its model.
        if (kind === 'onnxruntime' && graph.node(input).op === 'constant') continue;
        inputs.add(input);
      }
    }
    const outputs = nodesIn[j].filter((id) => readLater[id] === 1);
    segments.push({
      kind,
      steps: stepsIn[j],
      nodes: nodesIn[j],
      inputs: [...inputs].sort((a, b) => a - b),
      outputs,
    });
  }
  return { segments, reasons };
}

function valueName(plan: Plan, id: number): string {
  const node = plan.graph.node(id);
  const what = node.op === 'placeholder' || node.op === 'variable' || node.op === 'constant' ? ` (${node.op})` : '';
  return `%${id} ${quoteName(node.name)}${what}`;
}

/** The split as text (explain): each segment, where it runs, its nodes, inputs and outputs; why lazygrad runs some. */
export function formatPartition(plan: Plan, partition: Partition): string {
  const { segments, reasons } = partition;
  const ort = segments.filter((s) => s.kind === 'onnxruntime').length;
  const lines = [
    `onnxruntime backend: ${segments.length} segment${segments.length === 1 ? '' : 's'} (${ort} in ONNX Runtime, ` +
      `${segments.length - ort} in lazygrad kernels), in order`,
  ];
  segments.forEach((segment, k) => {
    const where = segment.kind === 'onnxruntime' ? 'ONNX Runtime (one InferenceSession)' : 'lazygrad kernels';
    lines.push(`  segment ${k}: ${where}, ${segment.nodes.length} node${segment.nodes.length === 1 ? '' : 's'}`);
    const nodes = segment.nodes.map((id) => {
      const node = plan.graph.node(id);
      return `%${id} ${node.op}${formatShape(node.shape)}`;
    });
    for (let i = 0; i < nodes.length; i += 8)
      lines.push(`    ${i === 0 ? 'nodes: ' : '       '}${nodes.slice(i, i + 8).join(', ')}`);
    lines.push(`    inputs: ${segment.inputs.map((id) => valueName(plan, id)).join(', ') || 'none'}`);
    lines.push(`    outputs: ${segment.outputs.map((id) => valueName(plan, id)).join(', ') || 'none'}`);
    if (segment.kind === 'lazygrad') {
      for (const id of segment.nodes) {
        const reason = reasons.get(id);
        if (reason !== undefined) lines.push(`    %${id} ${plan.graph.node(id).op}: ${reason}`);
      }
    }
  });
  return lines.join('\n');
}
