import {
  checkValueSize,
  NDArray,
  DType,
  formatByteSize,
  formatNodeLines,
  Graph,
  GraphError,
  Node,
  quoteName,
  ResourceExhaustedError,
  shapesEqual,
  sizeOf,
} from '../graph';
import { controlGroupKey, isControlOp, opRecord, OpRecord } from '../ops';
import { formatReport, PassReport, Slice } from '../passes';
import { scheduleUpdates } from './inplace';
import { bytesOf, formatBytes, layoutBuffers, MemoryPlan, PlannedStep, planMemory } from './memory';

/**
 * One kernel call: read input slots, write the output slot, then free slots whose last use this was. A step is also
 * what the memory planner reads of it (PlannedStep: its op, a control step's outputs, whether it is written early).
 */
export interface Step extends PlannedStep {
  readonly node: Node;
  readonly kernel: NonNullable<OpRecord['kernel']>;
  readonly inputs: readonly number[];
  readonly output: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly release: readonly number[];
  /** For a stateful op (a random op): its node in the user's graph, whose run count in the session it is told. */
  readonly stateOf?: number;
  /** For a control-flow construct (cond, whileLoop, scan): the step that runs its regions' plans (control.ts). */
  readonly control?: ControlStep;
  /**
   * For an assign written into its variable at its step (inplace.ts): the variable (user-graph id), and whether the
   * assign is fetched (its value is then also computed into the step's output). For the step computing such an
   * update's value straight into the variable's memory: `input`, the index of its input that is the variable.
   */
  readonly early?: { readonly variable: number; readonly fetched: boolean; readonly input?: number };
}

/** A region's compiled plan, and which of the region's parameters feeds each of the plan's feeds. */
export interface RegionPlan {
  readonly plan: Plan;
  readonly feedParams: readonly number[];
}

/** What a control step runs its regions with: the session's executor (one region plan run → its outputs). */
export interface RegionRunner {
  run(region: RegionPlan, args: readonly NDArray[]): NDArray[];
}

/**
 * One step for a group of sibling control-flow nodes: it runs the construct once and writes every sibling's slot.
 * `plans` are its regions' compiled plans (the executor prepares their memory with the outer plan's).
 */
export interface ControlStep {
  readonly slots: readonly number[];
  /** Each slot's shape and dtype (the memory planner gives each output a buffer). */
  readonly outputs: readonly { readonly slot: number; readonly shape: readonly number[]; readonly dtype: DType }[];
  readonly plans: readonly RegionPlan[];
  /** Runs the construct; `into` are planned arrays to write outputs into (null entries: allocate a fresh array). */
  run(inputs: readonly NDArray[], runner: RegionRunner, into: readonly (NDArray | null)[] | undefined): NDArray[];
}

/** Compiles a region (a graph with concrete parameter shapes) for the given outputs: see compile.ts. */
export type RegionCompiler = (graph: Graph, outputs: readonly number[], params: readonly number[]) => RegionPlan;

/** Builds the control step of a sibling group (control.ts; passed in to keep plan.ts free of the constructs). */
export type ControlBuilder = (graph: Graph, siblings: readonly Node[], compile: RegionCompiler) => ControlStep;

/**
 * A compiled plan: a flat list of steps over slots (one slot per node of the optimized slice). Executing it
 * is a short loop; no graph walk happens per run.
 */
export interface Plan {
  readonly graph: Graph;
  readonly steps: readonly Step[];
  /** Slot ← value fed for a node of the user's graph. */
  readonly feeds: readonly { readonly slot: number; readonly source: number }[];
  /** Slot ← the session's value of a variable of the user's graph. */
  readonly variables: readonly { readonly slot: number; readonly variable: number }[];
  readonly constants: readonly number[];
  /** Slot holding each requested fetch, in the order given. */
  readonly outputs: readonly number[];
  /**
   * Variable writes: applied after every step succeeded, or (`early`) at the assign's step, once no later step can
   * fail (inplace.ts).
   */
  readonly assigns: readonly { readonly variable: number; readonly slot: number; readonly early: boolean }[];
  /** The last step that can fail (its output slot), or -1: the updates written early run after it. */
  readonly lastFallible: number;
  /** The nodes in the order the steps run (the graph's, but for updates moved to run early: inplace.ts). */
  readonly order: readonly number[];
  readonly reports: readonly PassReport[];
  /** Where each step's output lives (see memory.ts); null when planning is off. */
  readonly memory: MemoryPlan | null;
}

/** How many distinct shapes FrozenShapes remembers (the most recently used). */
const RECENT_SHAPES = 8;

/**
 * Frozen copies of step shapes, shared between steps of equal shape (a shape is read, never written): a deep graph's
 * ~10⁵ steps have a handful of shapes, and a frozen copy per step was most of buildPlan's own time (issue 20). The
 * most recently used shapes are compared first, so a run of steps of one shape costs one comparison each.
 */
export class FrozenShapes {
  private readonly recent: (readonly number[])[] = [];

  frozen(shape: readonly number[]): readonly number[] {
    const recent = this.recent;
    for (let k = 0; k < recent.length; k++) {
      const known = recent[k];
      if (!shapesEqual(known, shape)) continue;
      if (k > 0) {
        recent.splice(k, 1);
        recent.unshift(known);
      }
      return known;
    }
    const made = Object.freeze(shape.slice());
    if (recent.length === RECENT_SHAPES) recent.pop();
    recent.unshift(made);
    return made;
  }
}

/** The release list of a step after which no slot dies (shared: a plan never changes its steps). */
const NO_RELEASE: readonly number[] = Object.freeze([]);

/**
 * Lowers an optimized slice to a plan: steps in id order (but for updates written early, moved to just after what
 * they need: inplace.ts), each slot released after its last reader.
 */
export function buildPlan(
  slice: Slice,
  reports: readonly PassReport[],
  planBuffers = true,
  overrides: ReadonlyMap<string, NonNullable<OpRecord['kernel']>> = new Map(),
  regions?: { readonly compile: RegionCompiler; readonly build: ControlBuilder },
  earlyUpdates = true,
): Plan {
  const { graph, outputs, bindings } = slice;
  const keep = new Uint8Array(graph.size);
  for (const id of outputs) keep[id] = 1;
  // Sibling control-flow nodes run as one step, at the first sibling: `stepOf` maps each to it.
  const stepOf = new Int32Array(graph.size);
  const groups = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    stepOf[node.id] = node.id;
    if (!isControlOp(node.op)) continue;
    const key = controlGroupKey(node);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [node]);
    else {
      group.push(node);
      stepOf[node.id] = group[0].id;
    }
  }
  const schedule = scheduleUpdates(graph, outputs, bindings, earlyUpdates);
  const position = new Int32Array(graph.size);
  schedule.order.forEach((id, p) => (position[id] = p));
  const lastUse = new Int32Array(graph.size).fill(-1);
  for (const node of graph.nodes) {
    const reader = stepOf[node.id];
    for (const input of node.inputs) {
      if (lastUse[input] < 0 || position[reader] > position[lastUse[input]]) lastUse[input] = reader;
    }
  }

  const feeds: { slot: number; source: number }[] = [];
  const variables: { slot: number; variable: number }[] = [];
  const constants: number[] = [];
  const assigns: { variable: number; slot: number; early: boolean }[] = [];
  // Each step's release list, by the id of its node (in id order, as slots die there): most nodes release one or two.
  const releaseAt = new Array<number[] | undefined>(graph.size);
  for (let id = 0; id < graph.size; id++) {
    const user = lastUse[id];
    if (user < 0 || keep[id] !== 0) continue;
    const op = graph.node(id).op;
    // An assign's output is written to its variable after the last step, so it must outlive its readers (unless it
    // is written at its step).
    const held = op === 'constant' || op === 'variable' || (op === 'assign' && !schedule.early.has(id));
    if (!held) {
      const list = releaseAt[user];
      if (list === undefined) releaseAt[user] = [id];
      else list.push(id);
    }
  }
  const steps: Step[] = [];
  const shapes = new FrozenShapes();
  for (const id of schedule.order) {
    const node = graph.node(id);
    if (node.op === 'placeholder') {
      feeds.push({ slot: node.id, source: bindings.get(node.id) as number });
      continue;
    }
    if (node.op === 'variable') {
      variables.push({ slot: node.id, variable: bindings.get(node.id) as number });
      continue;
    }
    if (node.op === 'constant') {
      constants.push(node.id);
      continue;
    }
    const record = opRecord(node.op);
    if (record.kernel === undefined) throw new GraphError(`op '${node.op}' has no kernel`);
    if (isControlOp(node.op)) {
      if (stepOf[node.id] !== node.id) continue;
      if (regions === undefined) throw new GraphError(`Session: ${node.op} '${node.name}' needs a region compiler`);
      const siblings = groups.get(controlGroupKey(node)) as Node[];
      const control = regions.build(graph, siblings, regions.compile);
      steps.push({
        node,
        kernel: record.kernel,
        inputs: node.inputs,
        output: node.id,
        shape: shapes.frozen(node.shape as number[]),
        dtype: node.dtype,
        release: releaseAt[node.id] ?? NO_RELEASE,
        op: node.op,
        writtenEarly: false,
        control,
        outputs: control.outputs,
      });
      continue;
    }
    if (node.op === 'assign') {
      const variable = bindings.get(node.inputs[0]) as number;
      const earlier = assigns.find((a) => a.variable === variable);
      if (earlier !== undefined) {
        throw new GraphError(
          `Session.run: variable ${quoteName(graph.node(node.inputs[0]).name)} is assigned twice in one run (by ` +
            `${quoteName(graph.node(earlier.slot).name)} and ${quoteName(node.name)}); fetch at most one assign per variable per run`,
        );
      }
      const early = schedule.early.has(node.id);
      assigns.push({ variable, slot: node.id, early });
      if (early) {
        steps.push({
          node,
          kernel: overrides.get(node.op) ?? record.kernel,
          inputs: node.inputs,
          output: node.id,
          shape: node.shape as number[],
          dtype: node.dtype,
          release: releaseAt[node.id] ?? NO_RELEASE,
          stateOf: bindings.get(node.id),
          op: node.op,
          writtenEarly: keep[node.id] !== 1,
          early: { variable, fetched: keep[node.id] === 1 },
        });
        continue;
      }
    }
    const input = schedule.into.get(node.id);
    steps.push({
      node,
      kernel: overrides.get(node.op) ?? record.kernel,
      inputs: node.inputs,
      output: node.id,
      shape: shapes.frozen(node.shape as number[]),
      dtype: node.dtype,
      release: releaseAt[node.id] ?? NO_RELEASE,
      stateOf: bindings.get(node.id),
      op: node.op,
      // A value computed into its variable's memory (never fetched) takes no buffer.
      writtenEarly: input !== undefined,
      early:
        input === undefined
          ? undefined
          : { variable: bindings.get(node.inputs[input]) as number, fetched: false, input },
    });
  }
  const memory = planBuffers ? planMemory(graph, plannedSteps(steps), outputs) : null;
  const { lastFallible, order } = schedule;
  return { graph, steps, feeds, variables, constants, outputs, assigns, lastFallible, order, reports, memory };
}

const RAISE_LIMIT = '; raise it with new Session(g, { maxBytes }) if the memory is there';

/**
 * Checks, before a plan's first run allocates anything, every array the run would allocate against the session's
 * limit on one allocation: each step's output (planned or fresh), and the plan's reused buffers together, which
 * with the wasm backend are one block of the arena (the same check on both backends, so a plan that runs on one
 * runs on the other). A step too large is a ResourceExhaustedError naming its node, op, dtype, shape and the limit.
 */
export function checkPlanSize(plan: Plan, maxBytes: number): void {
  for (const step of plan.steps) {
    // The message is made only for a step over the limit (the same product checkValueSize computes).
    if (sizeOf(step.shape) * bytesOf(step.dtype) <= maxBytes) continue;
    checkValueSize(`Session.run: ${step.node.op} '${step.node.name}'`, step.shape, step.dtype, maxBytes, RAISE_LIMIT);
  }
  const memory = plan.memory;
  if (memory !== null) {
    const bytes = layoutBuffers(memory).bytes;
    if (bytes > maxBytes) {
      throw new ResourceExhaustedError(
        `Session.run: the plan's ${memory.buffers.length} reused buffers for intermediate values take ` +
          `${formatByteSize(bytes)} together (one block), above the limit of ${formatByteSize(maxBytes)} for one ` +
          `allocation${RAISE_LIMIT}`,
      );
    }
  }
}

/** What the memory planner reads of a plan's steps: the steps themselves (each step is a PlannedStep). */
export function plannedSteps(steps: readonly Step[]): readonly PlannedStep[] {
  return steps;
}

/**
 * Which assigns are written into their variables as soon as computed (inplace.ts) and which at the end of the run,
 * and why: the last step that can fail (null: the plan assigns nothing).
 */
export function updatesLine(plan: Plan): string | null {
  if (plan.assigns.length === 0) return null;
  const name = (slot: number): string => `%${slot} ${quoteName(plan.graph.node(slot).name)}`;
  const assigns = [...plan.assigns].sort((a, b) => a.slot - b.slot);
  const early = assigns.filter((a) => a.early);
  const late = assigns.filter((a) => !a.early);
  const fallible = plan.lastFallible < 0 ? null : plan.graph.node(plan.lastFallible);
  const after =
    fallible === null ? 'no step can fail' : `after the last step that can fail, ${fallible.op} ${name(fallible.id)}`;
  const into = plan.steps.filter((step) => step.early?.input !== undefined).length;
  let text = `updates: ${early.length} of ${plan.assigns.length} written as computed (${after}`;
  text += into > 0 ? `; ${into} computed in the variable's memory)` : ')';
  if (early.length > 0) text += `: ${early.map((a) => name(a.slot)).join(', ')}`;
  if (late.length > 0) text += `; at the end of the run: ${late.map((a) => name(a.slot)).join(', ')}`;
  return text;
}

/** What a control step's region plans are, in order (control.ts builds them in this order). */
export const REGION_PLAN_LABELS: { readonly [op: string]: readonly string[] } = {
  cond: ['then', 'else'],
  while: ['cond', 'body'],
  scan: ['body'],
};

/**
 * The plan as text: pass reports, then the optimized IR, then the outputs; a control step's regions as their own
 * compiled plans, indented under it.
 */
export function formatPlan(plan: Plan, onlyChanges = false): string {
  // A region's plan lists only the passes that changed it: its every no-op pass under every control step is noise.
  const reports = onlyChanges ? plan.reports.filter((r) => Object.values(r.changes).some((n) => n > 0)) : plan.reports;
  const lines = [reports.length === 0 && onlyChanges ? 'passes: none changed the region' : 'passes:'];
  for (const report of reports) lines.push(`  ${formatReport(report)}`);
  lines.push(`plan: ${plan.steps.length} steps over ${plan.graph.size} slots`);
  // A control step shows, under its first sibling, each region's own compiled plan (its passes, steps and memory).
  const controls = new Map<Node, ControlStep>();
  for (const step of plan.steps) if (step.control !== undefined) controls.set(step.node, step.control);
  const regions = (node: Node): string[] | undefined => {
    const control = controls.get(node);
    if (control === undefined) return undefined;
    const labels = REGION_PLAN_LABELS[node.op] ?? [];
    return control.plans.flatMap((region, k) => [
      `${labels[k] ?? `region ${k}`} plan:`,
      ...formatPlan(region.plan, true)
        .split('\n')
        .map((text) => `  ${text}`),
    ]);
  };
  const nodes = plan.order.map((id) => plan.graph.node(id));
  for (const text of formatNodeLines(nodes, { regions })) lines.push(`  ${text}`);
  lines.push(`outputs: ${plan.outputs.map((id) => `%${id}`).join(', ')}`);
  const updates = updatesLine(plan);
  if (updates !== null) lines.push(updates);
  const memory = plan.memory;
  if (memory !== null) {
    lines.push(
      `memory: ${formatBytes(memory.plannedBytes)} in ${memory.buffers.length} reused buffers ` +
        `(${memory.inPlace} steps in place) for ${formatBytes(memory.intermediateBytes)} of intermediates; ` +
        `${formatBytes(memory.outputBytes)} of results allocated per run`,
    );
  }
  return lines.join('\n');
}
