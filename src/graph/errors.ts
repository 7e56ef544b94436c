/**
 * Every error lazygrad throws on purpose is one of these classes. Messages name the op, the node and the
 * offending shapes or dtypes, and say what would be valid.
 */
export class LazygradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Incompatible or invalid shapes (at build time, or a fed value of the wrong shape). */
export class ShapeError extends LazygradError {}

/** A dtype that the op does not accept, or two inputs whose dtypes disagree. */
export class DTypeError extends LazygradError {}

/** A feed that names no tensor, a placeholder left unfed, or a fed value that cannot be used. */
export class FeedError extends LazygradError {}

/** A structural misuse of a graph: tensors of two graphs combined, duplicate names, unknown ops. */
export class GraphError extends LazygradError {}

/** A kernel failed while a session ran a plan; the message names the node and its input shapes. */
export class RuntimeError extends LazygradError {}

/**
 * A run with `checkNumerics` produced NaN or ±Inf: names the node, its op, its inputs and the first bad element
 * (inside a fused node: the original op), or says that an input was already non-finite.
 */
export class NumericsError extends LazygradError {}

/**
 * A value would take more memory than the limit for one allocation (TensorFlow's name for running out of memory):
 * names the node or builder, its dtype and shape, its size and the limit, and how to raise the limit.
 */
export class ResourceExhaustedError extends LazygradError {}

/**
 * A Session used wrongly: options it does not know or values they cannot take (the message lists what is valid),
 * something other than a Graph to run, or a call that would change the session during its own run (re-entry).
 */
export class SessionError extends LazygradError {}
