/**
 * Rematerialization for reverse mode: which forward values a gradient graph keeps, and copies of the others that the
 * backward pass recomputes from the kept ones (JAX's `checkpoint`, TensorFlow's `recompute_grad`, Chen et al.'s
 * sqrt(n) checkpointing). The copies read kept values through `recompute` barriers (src/ops/remat.ts), so they are
 * new nodes that run late, just before the gradient rules that read them.
 */
import { Graph, GraphError, Tensor } from '../graph';
import { addOp, isControlOp, isLeafOp, OP_FAMILIES, opRecord, recompute } from '../ops';

/**
 * What `gradients()` keeps of the forward pass. 'none' (default): every value a gradient rule reads (and
 * `checkpoint(fn)` regions are still recomputed); 'auto': sqrt(n) checkpointing, with the expensive ops (matMul,
 * conv, control flow) on the path counted as units, the output of every k-th unit kept (k ≈ √units), and every
 * other value between them recomputed segment by segment in the backward pass (the segment after the last kept
 * values is not: it is live when the backward pass starts anyway); `{ every: k }`: the same with k given.
 */
export type RematOption = 'none' | 'auto' | { readonly every: number };

/** Ops whose recomputation costs as much as their forward run: the units sqrt(n) checkpointing counts. */
const EXPENSIVE_FAMILIES = ['linalg', 'conv', 'fusedConv', 'conv3d', 'control'];
let expensiveOps: Set<string> | null = null;

function isExpensive(op: string): boolean {
  expensiveOps ??= new Set(EXPENSIVE_FAMILIES.flatMap((family) => (OP_FAMILIES[family] ?? []).map((r) => r.name)));
  return expensiveOps.has(op);
}

/** Node id ranges built inside `checkpoint(fn)` calls, per graph: their values are recomputed, never kept. */
const regions = new WeakMap<Graph, { start: number; end: number }[]>();

/**
 * Wraps a function of tensors so that the gradient graphs built through it keep only its inputs and outputs: the
 * values it computes in between are recomputed in the backward pass (JAX's `jax.checkpoint`, TensorFlow's
 * `tf.recompute_grad`). Values and gradients are the same as without it; the trade is memory for compute.
 *
 * @example
 * const block = checkpoint((h: Tensor) => relu(add(matMul(h, w), b)));
 * const y = block(block(x)); // gradients(loss, [w, b]) recomputes each block's matMul from its input
 */
export function checkpoint<A extends readonly Tensor[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    if (args.length === 0) throw new GraphError('checkpoint: the function needs at least one tensor argument');
    const graph = args[0].graph;
    const start = graph.size;
    const result = fn(...args);
    const list = regions.get(graph) ?? [];
    // The outputs are kept (the next block's recomputation starts from them): the region is what lies between.
    const outputs = new Set(tensorsIn(result).map((t) => t.id));
    let runStart = start;
    for (let id = start; id <= graph.size; id++) {
      if (id < graph.size && !outputs.has(id)) continue;
      if (id > runStart) list.push({ start: runStart, end: id });
      runStart = id + 1;
    }
    regions.set(graph, list);
    return result;
  };
}

/** The tensors in a function's result: a tensor, or the tensors of an array or object of them (one level). */
function tensorsIn(result: unknown): Tensor[] {
  if (result instanceof Tensor) return [result];
  const values = Array.isArray(result)
    ? result
    : typeof result === 'object' && result !== null
      ? Object.values(result)
      : [];
  return values.filter((v): v is Tensor => v instanceof Tensor);
}

/** What the backward pass of one `gradients()` call recomputed (for tests and reports). */
export interface RematStats {
  /** Forward nodes recomputed (copies built), and the barriers that start their segments. */
  readonly recomputed: number;
  readonly barriers: number;
}

/**
 * The forward values gradient rules read: a kept node as itself, a recomputed one as a copy built (once) from kept
 * values behind barriers. `onPath` says which nodes lie between the xs and the ys.
 */
export class Rematerializer {
  private readonly recomputable: Uint8Array;
  private readonly copies = new Map<number, Tensor>();
  private readonly barriers = new Map<number, Tensor>();
  readonly active: boolean;

  constructor(
    private readonly graph: Graph,
    lowest: number,
    highest: number,
    onPath: (id: number) => boolean,
    option: RematOption,
  ) {
    this.recomputable = new Uint8Array(graph.size);
    const pure = (id: number): boolean => {
      const node = graph.node(id);
      if (isLeafOp(node.op) || isControlOp(node.op) || node.op === 'recompute') return false;
      const record = opRecord(node.op);
      return record.stateful !== true && record.kernel !== undefined;
    };
    let any = false;
    for (const region of regions.get(graph) ?? []) {
      for (let id = region.start; id < Math.min(region.end, graph.size); id++) {
        if (pure(id)) {
          this.recomputable[id] = 1;
          any = true;
        }
      }
    }
    if (option !== 'none') any = this.chooseSegments(lowest, highest, onPath, pure, option) || any;
    this.active = any;
  }

  /** sqrt(n) checkpointing over the path: returns whether anything is recomputed. */
  private chooseSegments(
    lowest: number,
    highest: number,
    onPath: (id: number) => boolean,
    pure: (id: number) => boolean,
    option: Exclude<RematOption, 'none'>,
  ): boolean {
    const graph = this.graph;
    const path: number[] = [];
    for (let id = lowest; id <= highest; id++) if (onPath(id) && !isLeafOp(graph.node(id).op)) path.push(id);
    const expensive = path.filter((id) => isExpensive(graph.node(id).op));
    const units = expensive.length > 0 ? expensive : path;
    if (typeof option === 'object' && !(Number.isInteger(option.every) && option.every >= 1)) {
      throw new GraphError(`gradients: remat.every is ${String(option.every)}; give a whole number of units >= 1`);
    }
    const every = typeof option === 'object' ? option.every : Math.max(2, Math.round(Math.sqrt(units.length)));
    const kept = new Uint8Array(graph.size);
    let lastKept = -1;
    // The output of every k-th unit is kept (a matMul's, not the activation after it: the activation's gradient
    // reads the pre-activation, which would otherwise cost one more matMul per segment to recompute).
    for (let j = every; j < units.length; j += every) {
      const unit = units[j - 1];
      if (!pure(unit)) continue;
      kept[unit] = 1;
      lastKept = Math.max(lastKept, unit);
    }
    // Past the last kept values, the forward values are live when the backward pass starts: recomputing them
    // would cost time and save nothing.
    let any = false;
    for (const id of path) {
      if (id > lastKept || kept[id] === 1 || !pure(id)) continue;
      this.recomputable[id] = 1;
      any = true;
    }
    return any;
  }

  /** What was built so far. */
  stats(): RematStats {
    return { recomputed: this.copies.size, barriers: this.barriers.size };
  }

  /**
   * The value of forward node `id` for a gradient rule that runs once `after` (its dy) is computed: the node
   * itself when kept, else its recomputed copy (built now with its recomputed inputs, iteratively).
   */
  value(id: number, after: Tensor): Tensor {
    const graph = this.graph;
    if (this.recomputable[id] === 0) return graph.tensor(id);
    const done = this.copies.get(id);
    if (done !== undefined) return done;
    return graph.nameScope('remat', () => {
      const stack = [id];
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        if (this.copies.has(top)) {
          stack.pop();
          continue;
        }
        const node = graph.node(top);
        const missing = node.inputs.filter((i) => this.recomputable[i] === 1 && !this.copies.has(i));
        if (missing.length > 0) {
          stack.push(...missing);
          continue;
        }
        stack.pop();
        const inputs = node.inputs.map(
          (i) => (this.recomputable[i] === 1 ? (this.copies.get(i) as Tensor) : this.kept(i, after)).id,
        );
        this.copies.set(top, addOp(graph, opRecord(node.op), inputs, node.attrs, node.name));
      }
      return this.copies.get(id) as Tensor;
    });
  }

  /**
   * A kept value as a recomputed node reads it: through a barrier, so the copy is a new node scheduled after
   * `after`; variables and constants are read as they are (always live, never copied).
   */
  private kept(id: number, after: Tensor): Tensor {
    const graph = this.graph;
    const op = graph.node(id).op;
    if (op === 'variable' || op === 'constant') return graph.tensor(id);
    let barrier = this.barriers.get(id);
    if (barrier === undefined) {
      barrier = recompute(graph.tensor(id), after);
      this.barriers.set(id, barrier);
    }
    return barrier;
  }
}
