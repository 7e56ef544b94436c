import {
  Attrs,
  DType,
  DTypeError,
  formatShape,
  Graph,
  GraphError,
  LazygradError,
  NDArray,
  NestedArray,
  Shape,
  Tensor,
} from '../graph';
import type { Buf } from './kernels/types';

/** What inference sees of an input: its dtype and static shape. */
export interface TensorInfo {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** What a gradient rule is given: the node's inputs and output as tensors, the incoming gradient dy. */
export interface VjpArgs {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly dy: Tensor;
  readonly attrs: Attrs;
  /** needs[i] is false when input i needs no gradient, so the rule can skip building it. */
  readonly needs: readonly boolean[];
}

/** What a forward-mode rule is given: inputs, output, and each input's tangent (null where it is zero). */
export interface JvpArgs {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly tangents: readonly (Tensor | null)[];
  readonly attrs: Attrs;
}

/** What a session tells the kernel of a stateful op (such as a random op) about its node's state. */
export interface KernelContext {
  /** How many earlier runs of this session executed this node (only runs that succeeded count). */
  readonly counter: number;
}

/**
 * Everything about one primitive op, read together: its shape/dtype rule, its CPU kernel and its gradient
 * rule. Adding an op is one record (plus its tests) in a family table.
 */
export interface OpRecord {
  readonly name: string;
  /** Number of inputs, or 'variadic'. */
  readonly arity: number | 'variadic';
  /** Output dtype and static shape; throws ShapeError/DTypeError describing what is wrong. */
  infer(inputs: readonly TensorInfo[], attrs: Attrs): TensorInfo;
  /**
   * Writes the output into `out`, which the session allocated with the concrete output shape. Stateful ops are
   * also given a context by the session (absent elsewhere, e.g. in tests calling the kernel directly).
   */
  readonly kernel?: (inputs: readonly Buf[], out: Buf, attrs: Attrs, context?: KernelContext) => void;
  /**
   * Gradient rule built from public builders (so it can be differentiated again). Returns one gradient
   * per input, with the output's broadcast shape allowed (autodiff undoes broadcasting centrally), or null
   * where the input gets no gradient. Ops without a rule pass no gradient (comparisons, casts to int).
   */
  readonly vjp?: (args: VjpArgs) => readonly (Tensor | null)[];
  /**
   * Forward-mode rule: the output's tangent from the inputs' tangents (null = zero tangent). Optional: without
   * it, jvp() derives the tangent from `vjp` by the double-VJP construction.
   */
  readonly jvp?: (args: JvpArgs) => Tensor | null;
  /** For elementwise ops: the scalar function (used by constant folding of scalars and by fusion). */
  readonly scalar?: (...operands: number[]) => number;
  /**
   * For elementwise ops: the same function as a JavaScript expression over `$0`, `$1`, … (e.g. `($0 + $1)`),
   * from which fusion generates one loop for a group of ops. Only these engine-owned strings ever reach
   * generated code. Ops without a template are not fused.
   */
  readonly template?: string;
  /**
   * The inputs can be given in any order with the same result (value, dtype and broadcast shape), for every input,
   * NaN and ±Inf included: CSE puts them in a canonical order so `a + b` and `b + a` merge. (Which NaN payload
   * propagates is left open by IEEE 754 and by JS engines, so only NaN-ness counts, not payload bits.)
   */
  readonly commutative?: boolean;
  /**
   * The kernel may write its output over an input of the output's dtype and element count: each output element
   * depends only on the same element of the inputs, read before it is written (the memory planner reuses a dying
   * input's buffer). Set by the elementwise factories and records; the planner checks dtype and size itself.
   */
  readonly inPlace?: boolean;
  /** Stateful ops are never merged, folded or removed while fetched. */
  readonly stateful?: boolean;
  /** The output depends only on the inputs' shapes, so it folds as soon as those are known. */
  readonly shapeOnly?: boolean;
}

/** A value an op accepts as input: a Tensor, or a JS number/array that becomes a constant. */
export type TensorLike = Tensor | NDArray | NestedArray;

/**
 * Adds a node for `record` over existing input ids: the single place where inference runs and its errors
 * are given context (op, node name, input names, shapes and dtypes).
 */
export function addOp(
  graph: Graph,
  record: OpRecord,
  inputIds: readonly number[],
  attrs: Attrs = {},
  name?: string,
): Tensor {
  const inputs = inputIds.map((id) => graph.node(id));
  if (record.arity !== 'variadic' && inputs.length !== record.arity) {
    throw new GraphError(`${record.name}: expects ${record.arity} inputs, got ${inputs.length}`);
  }
  let info: TensorInfo;
  try {
    info = record.infer(inputs, attrs);
  } catch (error) {
    if (error instanceof LazygradError) {
      const nodeName = `${graph.scopePrefix}${name ?? record.name}`;
      const described = inputs.map((n) => `'${n.name}' ${n.dtype}${formatShape(n.shape)}`).join(', ');
      const ErrorClass = error.constructor as new (message: string) => LazygradError;
      throw new ErrorClass(`${record.name} '${nodeName}' (inputs: ${described || 'none'}): ${error.message}`);
    }
    throw error;
  }
  return graph.addNode({
    op: record.name,
    inputs: inputIds,
    attrs,
    dtype: info.dtype,
    shape: info.shape,
    name: name ?? record.name,
    stateful: record.stateful === true,
  });
}

/**
 * Applies an op to tensor-like inputs. JS numbers and arrays become constants in the graph of the first
 * tensor input, with that tensor's dtype when it is a number type.
 */
export function apply(record: OpRecord, inputs: readonly TensorLike[], attrs: Attrs = {}, name?: string): Tensor {
  const tensors = inputs.filter((x): x is Tensor => x instanceof Tensor);
  if (tensors.length === 0) {
    throw new GraphError(`${record.name}: needs at least one Tensor input to know its graph; got only JS values`);
  }
  const graph = tensors[0].graph;
  for (const t of tensors) {
    if (t.graph !== graph) {
      throw new GraphError(
        `${record.name}: inputs '${tensors[0].name}' and '${t.name}' belong to different graphs; ` +
          'all inputs of an op must come from the same Graph',
      );
    }
  }
  const constantDType = tensors.find((t) => t.dtype !== 'bool')?.dtype;
  const ids = inputs.map((x) => {
    if (x instanceof Tensor) return x.id;
    if (constantDType === 'int32' && !(x instanceof NDArray) && typeof x !== 'boolean') {
      // Converting to int32 would truncate silently: a fraction next to an int32 tensor is an error instead.
      const fraction = Array.from(NDArray.from(x, 'float64').data).find((v) => !Number.isInteger(v));
      if (fraction !== undefined) {
        throw new DTypeError(
          `${record.name}: the value ${fraction} is not an integer, but the other input '${tensors[0].name}' is ` +
            "int32; cast the tensor first, e.g. cast(x, 'float32')",
        );
      }
    }
    const isBoolean = typeof x === 'boolean';
    return graph.constant(x, isBoolean || x instanceof NDArray ? undefined : constantDType).id;
  });
  return addOp(graph, record, ids, attrs, name);
}

/** Converts a tensor-like to a Tensor in `graph`. */
export function toTensor(graph: Graph, value: TensorLike, dtype?: DType): Tensor {
  if (value instanceof Tensor) {
    if (value.graph !== graph) throw new GraphError(`tensor '${value.name}' belongs to a different graph`);
    return value;
  }
  return graph.constant(value, dtype);
}

// Small helpers that inference rules share.

export function requireSameDType(inputs: readonly TensorInfo[]): DType {
  const dtype = inputs[0].dtype;
  for (const input of inputs) {
    if (input.dtype !== dtype) {
      throw new DTypeError(
        `inputs must share one dtype, got ${inputs.map((i) => i.dtype).join(' and ')}; cast one with cast(x, dtype)`,
      );
    }
  }
  return dtype;
}

export function requireFloat(input: TensorInfo): void {
  if (input.dtype !== 'float32' && input.dtype !== 'float64') {
    throw new DTypeError(`expects a float32 or float64 input, got ${input.dtype}; cast it with cast(x, 'float32')`);
  }
}

export function requireNumeric(input: TensorInfo): void {
  if (input.dtype === 'bool') {
    throw new DTypeError(`expects a numeric input (float32, float64, int32), got bool; cast it first`);
  }
}
