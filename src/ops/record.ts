// From the defining modules, not the folder's index: a read through its re-export is a getter call, and addOp runs
// once per node a pass builds.
import { DType } from '../graph/dtype';
import { DTypeError, GraphError, LazygradError, ShapeError } from '../graph/errors';
import { Attrs, Graph, Node, Tensor } from '../graph/graph';
import { NDArray, NestedArray } from '../graph/ndarray';
import { quoteName } from '../graph/rules';
import { formatShape, Shape } from '../graph/shape';
import { AttrKind, AttrProblem, AttrSchema, AttrsOf, attrProblem } from './attrs';
import type { Buf } from './kernels/types';

/** What inference sees of an input: its dtype and static shape. */
export interface TensorInfo {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** What a gradient rule is given: the node's inputs and output as tensors, the incoming gradient dy. */
export interface VjpArgs<A extends Attrs = Attrs> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly dy: Tensor;
  readonly attrs: A;
  /** needs[i] is false when input i needs no gradient, so the rule can skip building it. */
  readonly needs: readonly boolean[];
}

/** What a gradient rule returns: one gradient per input, null where the input gets none. */
export type VjpResult = readonly (Tensor | null)[];

/** What a forward-mode rule is given: inputs, output, and each input's tangent (null where it is zero). */
export interface JvpArgs<A extends Attrs = Attrs> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly tangents: readonly (Tensor | null)[];
  readonly attrs: A;
}

/** What a session tells the kernel of a stateful op (such as a random op) about its node's state. */
export interface KernelContext {
  /** How many earlier runs of this session executed this node (only runs that succeeded count). */
  readonly counter: number;
}

/**
 * Everything about one primitive op, read together: its attributes, its shape/dtype rule, its CPU kernel and its
 * gradient rule. Adding an op is one record (plus its tests) in a family table.
 *
 * `A` is the type of the op's attrs, derived from its `attrs` schema by `defineOp`. Code that handles any op (the
 * registry, passes, the session) sees `OpRecord` (attrs as plain `Attrs`): the functions below are methods, whose
 * parameters TypeScript compares both ways, so an `OpRecord<A>` is an `OpRecord`. That is sound because every node
 * passed `addOp`'s check of its attrs against the schema, so a node's attrs always have its record's types.
 */
export interface OpRecord<A extends Attrs = Attrs> {
  readonly name: string;
  /** Number of inputs, or 'variadic'. */
  readonly arity: number | 'variadic';
  /** The op's attributes and their kinds, checked by addOp; absent when the op has none. */
  readonly attrs?: AttrSchema;
  /** Output dtype and static shape; throws ShapeError/DTypeError describing what is wrong. */
  infer(inputs: readonly TensorInfo[], attrs: A): TensorInfo;
  /**
   * Writes the output into `out`, which the session allocated with the concrete output shape. Stateful ops are
   * also given a context by the session (absent elsewhere, e.g. in tests calling the kernel directly).
   */
  kernel?(inputs: readonly Buf[], out: Buf, attrs: A, context?: KernelContext): void;
  /**
   * Gradient rule built from public builders (so it can be differentiated again). Returns one gradient
   * per input, with the output's broadcast shape allowed (autodiff undoes broadcasting centrally), or null
   * where the input gets no gradient. Ops without a rule pass no gradient (comparisons, casts to int).
   */
  vjp?(args: VjpArgs<A>): VjpResult;
  /**
   * Forward-mode rule: the output's tangent from the inputs' tangents (null = zero tangent). Optional: without
   * it, jvp() derives the tangent from `vjp` by the double-VJP construction.
   */
  jvp?(args: JvpArgs<A>): Tensor | null;
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
  /** false: constant folding never evaluates it (a whileLoop, which may run for long or forever). */
  readonly foldable?: boolean;
  /** Stateful ops are never merged, folded or removed while fetched. */
  readonly stateful?: boolean;
  /** The output depends only on the inputs' shapes, so it folds as soon as those are known. */
  readonly shapeOnly?: boolean;
  /**
   * Inputs whose values the kernel never reads, only their shapes (the `like` of broadcastLike): the node folds once
   * its other inputs are constants and these inputs' shapes are known, whatever computes them.
   */
  readonly shapeOnlyInputs?: readonly number[];
}

/** A record as `defineOp` takes it: its attrs schema S, with every rule given attrs of the type S describes. */
export type OpRecordSpec<S extends AttrSchema> = Omit<OpRecord<AttrsOf<S>>, 'attrs'> & { readonly attrs: S };

/**
 * An op record with an attribute schema: the rules' `attrs` parameter gets its type from the schema (one source
 * of truth), e.g. `defineOp({ name: 'cumsum', attrs: { axis: 'int', reverse: 'bool?' }, … })`.
 */
export function defineOp<const S extends AttrSchema>(record: OpRecordSpec<S>): OpRecord<AttrsOf<S>> {
  return record;
}

/**
 * A node's attrs with its record's types. addOp checked them against the record's schema when the node was added,
 * so this is a look, not a conversion; the op must match.
 */
export function attrsOf<A extends Attrs>(record: OpRecord<A>, node: { readonly op: string; readonly attrs: Attrs }): A {
  if (node.op !== record.name) throw new GraphError(`attrsOf: a ${node.op} node is not a ${record.name} node`);
  return node.attrs as A;
}

/** A value an op accepts as input: a Tensor, or a JS number/array that becomes a constant. */
export type TensorLike = Tensor | NDArray | NestedArray;

/**
 * Adds a node for `record` over existing input ids: the single place where its attrs are checked against the
 * record's schema and inference runs, and where their errors are given context (op, node name, input names,
 * shapes and dtypes).
 */
export function addOp<A extends Attrs>(
  graph: Graph,
  record: OpRecord<A>,
  inputIds: readonly number[],
  attrs: NoInfer<A> = {} as A,
  name?: string,
): Tensor {
  // While a cond/whileLoop/scan body is being built, an op over this graph's tensors goes into the body, which
  // captures the tensors it reads.
  const target = graph.buildTarget();
  if (target !== graph) {
    inputIds = inputIds.map((id) => target.lift(graph.tensor(id)));
    graph = target;
  }
  if (graph.parent !== null && record.stateful === true) {
    throw new GraphError(
      `${record.name} ${quoteName(`${graph.scopePrefix}${name ?? record.name}`)}: a stateful op (random, assign, ` +
        'custom gradient) cannot be built inside a cond/whileLoop/scan body; build it outside the body and use ' +
        'its value inside (it is captured)',
    );
  }
  const inputs = inputIds.map((id) => graph.node(id));
  if (record.arity !== 'variadic' && inputs.length !== record.arity) {
    throw new GraphError(`${record.name}: expects ${record.arity} inputs, got ${inputs.length}`);
  }
  if (record.attrs !== undefined) {
    const problem = attrProblem(record.attrs, attrs, inputs.length);
    if (problem !== null) throw attrError(record, `${graph.scopePrefix}${name ?? record.name}`, inputs, problem);
  }
  let info: TensorInfo;
  try {
    info = record.infer(inputs, attrs);
  } catch (error) {
    if (error instanceof LazygradError) {
      const nodeName = `${graph.scopePrefix}${name ?? record.name}`;
      const ErrorClass = error.constructor as new (message: string) => LazygradError;
      throw new ErrorClass(
        `${record.name} ${quoteName(nodeName)} (inputs: ${describeInputs(inputs)}): ${error.message}`,
      );
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

/** The error class that fits a kind of attribute: dtypes are DTypeErrors, axes and shapes ShapeErrors. */
const ATTR_ERRORS: { readonly [kind in AttrKind]: new (message: string) => LazygradError } = {
  dtype: DTypeError,
  int: ShapeError,
  ints: ShapeError,
  dims: ShapeError,
  bounds: ShapeError,
  pairs: ShapeError,
  bool: GraphError,
  number: GraphError,
  string: GraphError,
  seed: GraphError,
  steps: GraphError,
  region: GraphError,
  regions: GraphError,
};

/** An attribute that does not fit the schema, with the context addOp gives inference errors. */
function attrError(record: OpRecord, nodeName: string, inputs: readonly Node[], problem: AttrProblem): Error {
  return new ATTR_ERRORS[problem.kind](
    `${record.name} ${quoteName(nodeName)} (inputs: ${describeInputs(inputs)}): attribute '${problem.attr}' ${problem.message}`,
  );
}

/** Inputs as errors name them: `'x' float32[2, 3]`, or none. */
function describeInputs(inputs: readonly Node[]): string {
  return inputs.map((n) => `${quoteName(n.name)} ${n.dtype}${formatShape(n.shape)}`).join(', ') || 'none';
}

/**
 * Applies an op to tensor-like inputs. JS numbers and arrays become constants in the graph of the first
 * tensor input, with that tensor's dtype when it is a number type.
 */
export function apply<A extends Attrs>(
  record: OpRecord<A>,
  inputs: readonly TensorLike[],
  attrs: NoInfer<A> = {} as A,
  name?: string,
): Tensor {
  const tensors = inputs.filter((x): x is Tensor => x instanceof Tensor);
  if (tensors.length === 0) {
    throw new GraphError(`${record.name}: needs at least one Tensor input to know its graph; got only JS values`);
  }
  // Tensors of a body and of the graphs around it may meet (the body captures the outer ones): the op goes into the
  // innermost of them, or into the body being built.
  let inner = tensors[0].graph;
  for (const t of tensors) {
    if (inner.encloses(t.graph)) inner = t.graph;
    else if (!t.graph.encloses(inner)) {
      const inside = t.graph.parent !== null || inner.parent !== null;
      throw new GraphError(
        `${record.name}: inputs ${quoteName(tensors[0].name)} and ${quoteName(t.name)} belong to different graphs` +
          (inside
            ? ' (one was built inside a cond/whileLoop/scan body that is closed; return it from the body instead)'
            : '; all inputs of an op must come from the same Graph'),
      );
    }
  }
  const graph = inner.buildTarget();
  if (graph.parent !== null && !graph.isOpen) {
    const t = tensors.find((x) => x.graph === graph) as Tensor;
    throw new GraphError(
      `${record.name}: tensor ${quoteName(t.name)} was built inside a cond/whileLoop/scan body and cannot be used ` +
        'outside it; return it from the body instead',
    );
  }
  const constantDType = tensors.find((t) => t.dtype !== 'bool')?.dtype;
  const ids = inputs.map((x) => {
    if (x instanceof Tensor) return graph.lift(x);
    if (constantDType === 'int32' && !(x instanceof NDArray) && typeof x !== 'boolean') {
      // Converting to int32 would truncate silently: a fraction next to an int32 tensor is an error instead.
      const fraction = Array.from(NDArray.from(x, 'float64').data).find((v) => !Number.isInteger(v));
      if (fraction !== undefined) {
        throw new DTypeError(
          `${record.name}: the value ${fraction} is not an integer, but the other input ${quoteName(tensors[0].name)} is ` +
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
    if (value.graph !== graph) throw new GraphError(`tensor ${quoteName(value.name)} belongs to a different graph`);
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
