import { formatShape, Graph, isFloat, NDArray, now, NumericsError, sizeOf } from '../graph';
import { attrsOf, FUSED, opRecord } from '../ops';
import { ControlStep, Plan, REGION_PLAN_LABELS, RegionPlan, RegionRunner, Step } from './plan';

/** One step of a traced run: what ran, what it wrote and how long it took. */
export interface TraceEntry {
  readonly step: number;
  readonly node: string;
  readonly op: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly ms: number;
  readonly bytes: number;
  /** The step's inputs by node name, each with its first values (at most PREVIEW). */
  readonly inputs: readonly { readonly name: string; readonly values: readonly number[] }[];
  /** The output's first values (at most PREVIEW). */
  readonly values: readonly number[];
  /** For a control step (cond, whileLoop, scan): each region plan's runs and time; the step's ms include them. */
  readonly regions?: readonly RegionTrace[];
}

/** What a control step's region plan did in a traced run: how often it ran, its steps per run, its total time. */
export interface RegionTrace {
  readonly region: string;
  readonly runs: number;
  readonly steps: number;
  readonly ms: number;
}

/** How many values a trace keeps per array: enough to read a small graph's whole run, cheap for a big one. */
export const PREVIEW = 8;

function preview(data: ArrayLike<number>): number[] {
  const n = Math.min(PREVIEW, data.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = data[i];
  return out;
}

/** A traced run: every step in execution order, and the totals. */
export interface Trace {
  readonly steps: readonly TraceEntry[];
  readonly totalMs: number;
  readonly totalBytes: number;
}

/** The index of the first NaN or ±Inf in an array's data, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    // v - v is 0 for every finite value and NaN for NaN and ±Inf: one comparison per element.
    if (v - v !== 0) return i;
  }
  return -1;
}

/** The multi-index of a flat row-major index in a shape. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d];
    if (dim > 0) {
      index[d] = rest % dim;
      rest = Math.floor(rest / dim);
    }
  }
  return index;
}

/** The flat index of an input element read at an output multi-index under numpy broadcasting. */
function broadcastIndex(outIndex: readonly number[], shape: readonly number[]): number {
  const offset = outIndex.length - shape.length;
  let flat = 0;
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d];
    flat = flat * dim + (dim === 1 ? 0 : outIndex[d + offset]);
  }
  return flat;
}

function describeAt(array: NDArray, flat: number): string {
  return `${array.data[flat]} at index ${flat} ${formatShape(unravel(flat, array.shape))}`;
}

/** What went wrong inside a fused node at one element: the first step whose result is non-finite. */
function fusedCulprit(step: Step, inputs: readonly NDArray[], outIndex: readonly number[]): string {
  // addOp checked the steps against the fused record's schema, so they are well formed here.
  const { steps: raw, expr = '' } = attrsOf(FUSED, step.node);
  const values: number[] = [];
  const shown: string[] = [];
  for (let j = 0; j < raw.length; j++) {
    const { op, args } = raw[j];
    const operands: number[] = [];
    const names: string[] = [];
    for (const arg of args) {
      if ('step' in arg && typeof arg.step === 'number') {
        operands.push(values[arg.step]);
        names.push(`s${arg.step}`);
      } else if ('value' in arg && typeof arg.value === 'number') {
        operands.push(arg.value);
        names.push(String(arg.value));
      } else if ('input' in arg && typeof arg.input === 'number') {
        const input = inputs[arg.input];
        operands.push(input.data[broadcastIndex(outIndex, input.shape)]);
        names.push(`$${arg.input}`);
      }
    }
    const scalar = opRecord(op).scalar;
    const value = scalar === undefined ? NaN : scalar(...operands);
    values.push(value);
    shown.push(`s${j} = ${op}(${names.join(', ')})`);
    if (value - value !== 0) {
      const given = operands.map((v) => String(v)).join(', ');
      return (
        `the original op is ${op}: inside the fused group ${expr}, its step s${j} = ${op}(${names.join(', ')}) ` +
        `gave ${value} from (${given}); the group's steps: ${shown.join('; ')}`
      );
    }
  }
  // Every step is finite in double precision: the last one overflowed when rounded to the output's dtype.
  return (
    `the original op is ${raw[raw.length - 1].op}: inside the fused group ${expr}, its last step gave ` +
    `${values[values.length - 1]}, which overflows ${step.dtype}`
  );
}

/**
 * Called after a float step whose output holds a non-finite value: builds the NumericsError naming the node, the
 * op, the inputs' names and shapes and the first bad element (for a fused node: the op inside it that produced it).
 */
export function numericsError(
  graph: Graph,
  step: Step,
  inputs: readonly NDArray[],
  out: NDArray,
  bad: number,
): NumericsError {
  const node = step.node;
  const described = inputs
    .map((x, k) => `'${graph.node(step.inputs[k]).name}' ${x.dtype}${formatShape(x.shape)}`)
    .join(', ');
  const head =
    `Session.run (checkNumerics): ${node.op} '${node.name}' on inputs (${described}) produced ` +
    `${describeAt(out, bad)} of its output ${out.dtype}${formatShape(out.shape)}`;
  const assigned = graph.nodes.find((n) => n.op === 'assign' && n.inputs[1] === step.output);
  const role =
    node.op === 'assign'
      ? `; this is the update of variable '${graph.node(node.inputs[0]).name}'`
      : assigned !== undefined
        ? `; it is the new value of variable '${graph.node(assigned.inputs[0]).name}' (assigned by '${assigned.name}')`
        : '';
  const outIndex = unravel(bad, out.shape);
  for (let k = 0; k < inputs.length; k++) {
    const x = inputs[k];
    if (node.op === 'assign' && k === 0) continue; // the variable's old value is overwritten, not read
    const at = firstNonFinite(x.data);
    if (at >= 0) {
      const source = graph.node(step.inputs[k]);
      return new NumericsError(
        `${head}${role}, but input was already non-finite: ${source.op} '${source.name}' holds ` +
          `${describeAt(x, at)}; check what is fed or stored there`,
      );
    }
  }
  const detail = node.op === 'fused' ? `; ${fusedCulprit(step, inputs, outIndex)}` : '';
  return new NumericsError(`${head}${role}${detail}`);
}

/** A step's input values as a trace records them: taken before the step runs, which may overwrite an input. */
export function inputPreviews(step: Step, inputs: readonly NDArray[], graph: Graph): TraceEntry['inputs'] {
  return inputs.map((x, k) => ({ name: graph.node(step.inputs[k]).name, values: preview(x.data) }));
}

/** A trace entry for a step that just ran (its inputs previewed before it ran, see inputPreviews). */
export function traceEntry(
  index: number,
  step: Step,
  out: NDArray,
  ms: number,
  inputs: TraceEntry['inputs'],
): TraceEntry {
  return {
    inputs,
    values: preview(out.data),
    step: index,
    node: step.node.name,
    op: step.node.op,
    shape: out.shape,
    dtype: out.dtype,
    ms,
    bytes: sizeOf(out.shape) * out.data.BYTES_PER_ELEMENT,
  };
}

/** What a debugging run does after each step: scan for NaN/Inf, and/or record a trace entry. */
export interface Probe {
  readonly check: boolean;
  readonly entries: TraceEntry[] | null;
}

/** A plan's steps wrapped for debugging runs; `entries` receives the current run's trace (null when not traced). */
export interface ProbedSteps {
  readonly steps: readonly Step[];
  entries: TraceEntry[] | null;
}

/**
 * A plan's steps with each kernel wrapped by a probe: tracing previews the inputs before the step runs (it may
 * overwrite one), times the kernel and records an entry; checking scans a float output for NaN and ±Inf. Built once
 * per plan and probe kind, so the executor's loop is the same for every run and ordinary runs pay nothing for it.
 */
export function probedSteps(plan: Plan, check: boolean, traced: boolean): ProbedSteps {
  const steps: Step[] = [];
  const probed: ProbedSteps = { steps, entries: null };
  plan.steps.forEach((step, index) => {
    if (step.control !== undefined) {
      steps.push({ ...step, control: probedControl(plan, step, step.control, index, check, traced, probed) });
      return;
    }
    const kernel = step.kernel;
    steps.push({
      ...step,
      // The executor calls kernels with NDArrays (a kernel's own signature asks only for buffers).
      kernel: (buffers, result, attrs, context) => {
        const inputs = buffers as readonly NDArray[];
        const out = result as NDArray;
        if (traced) {
          const previews = inputPreviews(step, inputs, plan.graph);
          const start = now();
          kernel(inputs, out, attrs, context);
          (probed.entries as TraceEntry[]).push(traceEntry(index, step, out, now() - start, previews));
        } else kernel(inputs, out, attrs, context);
        if (check && isFloat(out.dtype)) {
          const bad = firstNonFinite(out.data);
          if (bad >= 0) throw numericsError(plan.graph, step, inputs, out, bad);
        }
      },
    });
  });
  return probed;
}

/** What a control step's construct is called in messages: `scan 'rnn'`, `whileLoop 'while'`, `cond 'cond'`. */
function constructName(step: Step): string {
  const name = step.node.name;
  const slash = name.lastIndexOf('/');
  return `${step.node.op === 'while' ? 'whileLoop' : step.node.op} '${slash < 0 ? name : name.slice(0, slash)}'`;
}

/**
 * A control step run under a probe: its region plans' runs are counted and timed (for the trace), and its outputs are
 * checked like any step's. Inside its regions, a checked run checks every step too (the executor runs region plans
 * with checked steps), and the control step names the construct and the iteration in what a body throws.
 */
function probedControl(
  plan: Plan,
  step: Step,
  control: ControlStep,
  index: number,
  check: boolean,
  traced: boolean,
  probed: ProbedSteps,
): ControlStep {
  const labels = REGION_PLAN_LABELS[step.node.op] ?? [];
  const labelOf = (region: RegionPlan): string => {
    const k = control.plans.indexOf(region);
    return labels[k] ?? `region ${k}`;
  };
  return {
    slots: control.slots,
    outputs: control.outputs,
    plans: control.plans,
    run(inputs, runner, into) {
      const runs = control.plans.map(() => 0);
      const times = control.plans.map(() => 0);
      const counting: RegionRunner = {
        run(region, args) {
          const k = control.plans.indexOf(region);
          const start = now();
          try {
            return runner.run(region, args);
          } finally {
            times[k] += now() - start;
            runs[k]++;
          }
        },
      };
      const previews = traced ? inputPreviews(step, inputs, plan.graph) : [];
      const start = now();
      const values = control.run(inputs, counting, into);
      const ms = now() - start;
      if (traced) {
        const entry = traceEntry(index, step, values[0], ms, previews);
        let bytes = 0;
        for (const v of values) bytes += sizeOf(v.shape) * v.data.BYTES_PER_ELEMENT;
        const regions = control.plans.map((region, k) => ({
          region: labelOf(region),
          runs: runs[k],
          steps: region.plan.steps.length,
          ms: times[k],
        }));
        (probed.entries as TraceEntry[]).push({ ...entry, bytes, regions });
      }
      if (check) {
        values.forEach((out, k) => {
          if (!isFloat(out.dtype)) return;
          const bad = firstNonFinite(out.data);
          if (bad < 0) return;
          const sibling = plan.graph.node(control.slots[k]);
          const culprit = numericsError(plan.graph, { ...step, node: sibling, output: sibling.id }, inputs, out, bad);
          throw new NumericsError(
            culprit.message.replace(
              `${sibling.op} '${sibling.name}'`,
              `${constructName(step)} (output ${JSON.stringify(sibling.attrs.output)}, node '${sibling.name}')`,
            ),
          );
        });
      }
      return values;
    },
  };
}

export function makeTrace(steps: readonly TraceEntry[]): Trace {
  let totalMs = 0;
  let totalBytes = 0;
  for (const entry of steps) {
    totalMs += entry.ms;
    totalBytes += entry.bytes;
  }
  return { steps, totalMs, totalBytes };
}

/**
 * A trace as a text table: step, node name, op, output shape, milliseconds and bytes per step, then the totals.
 *
 * @example console.log(formatTrace(sess.lastTrace!))
 */
export function formatTrace(trace: Trace): string {
  const header = ['step', 'node', 'op', 'shape', 'ms', 'bytes'];
  const rows = trace.steps.flatMap((e) => [
    [String(e.step), e.node, e.op, `${e.dtype}${formatShape(e.shape)}`, e.ms.toFixed(3), String(e.bytes)],
    // A control step's regions, under it: runs of the region's plan and their total time (part of the step's).
    ...(e.regions ?? []).map((r) => [
      '',
      `  ${r.region}: ${r.runs} run${r.runs === 1 ? '' : 's'} × ${r.steps} steps`,
      '',
      '',
      r.ms.toFixed(3),
      '',
    ]),
  ]);
  rows.push(['total', `${trace.steps.length} steps`, '', '', trace.totalMs.toFixed(3), String(trace.totalBytes)]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const numeric = [true, false, false, false, true, true];
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const body = rows.map(line);
  return [line(header), rule, ...body.slice(0, -1), rule, body[body.length - 1]].join('\n');
}
