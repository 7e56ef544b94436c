/**
 * Running control flow in a plan: one step per group of sibling cond / while / scan nodes (plan.ts groups them). The
 * step compiles each region once, for the concrete shapes of its inputs, into a plan of its own (the same compiler:
 * folding, CSE, simplification and fusion inside the body; its own memory plan, whose buffers every iteration
 * reuses), and runs it per branch taken or per iteration through the session's executor. Only the outputs some
 * sibling asks for are computed: a scan whose ys nobody reads does not stack them, a loop stacks a body value per
 * iteration only when a gradient asked for it.
 */
import { allocate, DType, Graph, GraphError, LazygradError, NDArray, Node, sizeOf } from '../graph';
import { checkIterations, instantiate, parseSelector, RegionAttr, TensorInfo } from '../ops';
import { ControlStep, RegionCompiler, RegionPlan, RegionRunner } from './plan';

function infoOf(graph: Graph, id: number): TensorInfo {
  return graph.node(id);
}

function fresh(dtype: DType, shape: readonly number[]): NDArray {
  return new NDArray(allocate(dtype, sizeOf(shape)), shape, dtype);
}

/**
 * A result that shares memory with one of the step's inputs (a loop that ran no iteration, a carry that is a row of
 * xs) is copied: what a step returns is its own, as the user or a later step may keep or overwrite it.
 */
function owned(value: NDArray, inputs: readonly NDArray[]): NDArray {
  return inputs.some((x) => x.data.buffer === value.data.buffer) ? value.clone() : value;
}

/**
 * Runs a region plan, naming the construct (and the iteration) in an error from inside it: the error keeps its class,
 * its message says where it happened, e.g. `scan 'rnn/carry:0', step 7: Session.run: gather 'gather' failed …`.
 */
function runIn(runner: RegionRunner, region: RegionPlan, args: readonly NDArray[], where: () => string): NDArray[] {
  try {
    return runner.run(region, args);
  } catch (error) {
    if (!(error instanceof LazygradError)) throw error;
    const ErrorClass = error.constructor as new (message: string) => LazygradError;
    throw new ErrorClass(`${where()}: ${error.message}`);
  }
}

/** Row `t` of an array along axis 0, as a view (no copy). */
function row(x: NDArray, t: number): NDArray {
  const shape = x.shape.slice(1);
  const size = sizeOf(shape);
  return new NDArray(x.data.subarray(t * size, (t + 1) * size), shape, x.dtype);
}

/** The control step of a group of siblings (same op, inputs and regions; each asks for one output). */
export function buildControlStep(graph: Graph, siblings: readonly Node[], compile: RegionCompiler): ControlStep {
  const leader = siblings[0];
  const inputs = leader.inputs.map((id) => infoOf(graph, id));
  const slots = siblings.map((n) => n.id);
  const outputs = siblings.map((n) => ({ slot: n.id, shape: n.shape as number[], dtype: n.dtype }));
  const step = ((): Omit<ControlStep, 'outputs'> => {
    switch (leader.op) {
      case 'cond':
        return condStep(leader, siblings, inputs, slots, compile);
      case 'while':
        return whileStep(leader, siblings, inputs, slots, compile);
      case 'scan':
        return scanStep(leader, siblings, inputs, slots, compile);
      default:
        throw new GraphError(`${leader.op} is not a control-flow op`);
    }
  })();
  return { ...step, outputs };
}

/**
 * The value as the step's output k: copied into its planned array when it has one (then it is the step's own), else
 * itself when it is the step's own, else a copy (it shares memory with an input: a loop that ran no iteration, a
 * carry that is a row of xs): what a step returns is never an alias, as the user or a later step may keep or write it.
 */
function placed(
  value: NDArray,
  into: readonly (NDArray | null)[] | undefined,
  k: number,
  inputs: readonly NDArray[],
): NDArray {
  const out = into?.[k] ?? null;
  if (out === null) return owned(value, inputs);
  out.data.set(value.data);
  return out;
}

/** A stack of rows for output k: its planned array (zeroed: a loop may fill fewer rows than it has), or a new one. */
function stackFor(
  into: readonly (NDArray | null)[] | undefined,
  k: number,
  dtype: DType,
  shape: readonly number[],
  zero: boolean,
): NDArray {
  const out = into?.[k] ?? null;
  if (out === null) return fresh(dtype, shape);
  if (zero) out.data.fill(0);
  return out;
}

function condStep(
  leader: Node,
  siblings: readonly Node[],
  inputs: readonly TensorInfo[],
  slots: readonly number[],
  compile: RegionCompiler,
): Omit<ControlStep, 'outputs'> {
  const branches = leader.attrs.branches as readonly RegionAttr[];
  const wanted = siblings.map((n) => n.attrs.output as number);
  const plans = branches.map((attr, b) => {
    const region = instantiate(attr, inputs.slice(1), `cond '${leader.name}': branch ${b}`);
    return compile(
      region.graph,
      wanted.map((k) => region.outputs[k]),
      region.params,
    );
  });
  return {
    slots,
    plans,
    run(args, runner, into) {
      const taken = args[0].data[0] !== 0 ? plans[0] : plans[1];
      const rest = args.slice(1);
      const branch = taken === plans[0] ? 'true' : 'false';
      const values = runIn(runner, taken, rest, () => `cond '${leader.name}', the ${branch} branch`);
      return values.map((v, k) => placed(v, into, k, rest));
    },
  };
}

function whileStep(
  leader: Node,
  siblings: readonly Node[],
  inputs: readonly TensorInfo[],
  slots: readonly number[],
  compile: RegionCompiler,
): Omit<ControlStep, 'outputs'> {
  const what = `whileLoop '${leader.name}'`;
  const condition = instantiate(leader.attrs.cond as RegionAttr, inputs, `${what}: the condition`);
  const body = instantiate(leader.attrs.body as RegionAttr, inputs, `${what}: the body`);
  const max = leader.attrs.maximumIterations as number | undefined;
  const vars = body.outputs.length;
  const selectors = siblings.map((n) =>
    parseSelector(n.attrs.output as string, 'whileLoop', ['var', 'count', 'stack']),
  );
  // The body computes every variable (each feeds the next iteration), then each stacked value asked for.
  const stacked = selectors.filter((s) => s.kind === 'stack').map((s) => s.index);
  const stackIds = stacked.map((i) => body.ids[i]);
  const condPlan = compile(condition.graph, condition.outputs, condition.params);
  const bodyPlan = compile(body.graph, [...body.outputs, ...stackIds], body.params);
  const stackShapes = stackIds.map((id) => [max as number, ...(body.graph.node(id).shape as number[])]);
  // Which output (sibling) each stacked value is.
  const stackOutputs = stacked.map((index) => selectors.findIndex((x) => x.kind === 'stack' && x.index === index));
  return {
    slots,
    plans: [condPlan, bodyPlan],
    run(args, runner, into) {
      let values = args.slice(0, vars);
      const captured = args.slice(vars);
      const stacks = stacked.map((index, s) =>
        stackFor(into, stackOutputs[s], body.graph.node(stackIds[s]).dtype, stackShapes[s], true),
      );
      let count = 0;
      for (;;) {
        const state = [...values, ...captured];
        const where = (): string => `${what}, iteration ${count}`;
        if (runIn(runner, condPlan, state, where)[0].data[0] === 0) break;
        checkIterations(count, max, what);
        const results = runIn(runner, bodyPlan, state, where);
        for (let s = 0; s < stacks.length; s++) {
          const value = results[vars + s];
          stacks[s].data.set(value.data, count * value.size);
        }
        values = results.slice(0, vars);
        count++;
      }
      return selectors.map(({ kind, index }, k) => {
        if (kind === 'count') return placed(NDArray.from(count, 'int32'), into, k, args);
        if (kind === 'var') return placed(values[index], into, k, args);
        return stacks[stacked.indexOf(index)];
      });
    },
  };
}

function scanStep(
  leader: Node,
  siblings: readonly Node[],
  inputs: readonly TensorInfo[],
  slots: readonly number[],
  compile: RegionCompiler,
): Omit<ControlStep, 'outputs'> {
  const what = `scan '${leader.name}'`;
  const carries = leader.attrs.carries as number;
  const xs = leader.attrs.xs as number;
  const reverse = leader.attrs.reverse === true;
  const params = inputs.map((t, j) =>
    j >= carries && j < carries + xs ? { dtype: t.dtype, shape: t.shape.slice(1) } : t,
  );
  const body = instantiate(leader.attrs.body as RegionAttr, params, `${what}: the body`);
  const length = (leader.attrs.length as number | undefined) ?? (xs > 0 ? (inputs[carries].shape[0] as number) : 0);
  const selectors = siblings.map((n) => parseSelector(n.attrs.output as string, 'scan', ['carry', 'ys', 'stack']));
  // Per step: every carry, then each stacked value asked for (a ys output, or any body node for a gradient).
  const rows = selectors.filter((s) => s.kind !== 'carry');
  const rowIds = rows.map((s) => (s.kind === 'ys' ? body.outputs[carries + s.index] : body.ids[s.index]));
  const bodyPlan = compile(body.graph, [...body.outputs.slice(0, carries), ...rowIds], body.params);
  // Which output (sibling) each stacked row is.
  const stackOutputs = selectors.map((_, k) => k).filter((k) => selectors[k].kind !== 'carry');
  return {
    slots,
    plans: [bodyPlan],
    run(args, runner, into) {
      let values = args.slice(0, carries);
      const scanned = args.slice(carries, carries + xs);
      const captured = args.slice(carries + xs);
      const T = xs > 0 ? scanned[0].shape[0] : length;
      // Every row of a scan's stack is written each run: a planned array needs no zeroing.
      const stacks = rowIds.map((id, r) => {
        const node = body.graph.node(id);
        return stackFor(into, stackOutputs[r], node.dtype, [T, ...(node.shape as number[])], false);
      });
      for (let s = 0; s < T; s++) {
        const t = reverse ? T - 1 - s : s;
        const results = runIn(
          runner,
          bodyPlan,
          [...values, ...scanned.map((x) => row(x, t)), ...captured],
          () => `${what}, step ${t}`,
        );
        for (let k = 0; k < stacks.length; k++) {
          const value = results[carries + k];
          stacks[k].data.set(value.data, t * value.size);
        }
        values = results.slice(0, carries);
      }
      let next = 0;
      return selectors.map(({ kind, index }, k) =>
        kind === 'carry' ? placed(values[index], into, k, args) : stacks[next++],
      );
    },
  };
}

export type { RegionPlan };
