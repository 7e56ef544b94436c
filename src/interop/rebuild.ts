/**
 * Rebuilding a node that a file describes, safely: the op must exist, its attrs must fit the op record's schema,
 * and the node is added through `addOp`, so the op's own inference checks everything else and gives the dtype and
 * shape. Shared by the JSON loader and the ONNX importer (for models lazygrad wrote).
 */
import {
  Attrs,
  Dim,
  formatShape,
  Graph,
  GraphError,
  LazygradError,
  MAX_RANK,
  shapeProblem as shapeRule,
  Tensor,
} from '../graph';
import { addOp, attrProblem, isLeafOp, OpRecord, opRecord } from '../ops';

/** Limits that keep a small file from demanding large amounts of memory. */
export interface LoadLimits {
  /** Most nodes a file may hold (default 2^22). */
  maxNodes?: number;
  /** Most elements of any one tensor with a known shape, constants and computed nodes alike (default 2^28). */
  maxElements?: number;
  /** Most elements summed over every node whose shape is known (default 2^31). */
  maxTotalElements?: number;
  /** Highest rank of any shape (default and most: 64, the rank any graph may have). */
  maxRank?: number;
}

export const DEFAULT_LIMITS: Required<LoadLimits> = {
  maxNodes: 2 ** 22,
  maxElements: 2 ** 28,
  maxTotalElements: 2 ** 31,
  maxRank: MAX_RANK,
};

export function resolveLimits(limits: LoadLimits | undefined): Required<LoadLimits> {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof LoadLimits)[]) {
    const value = limits?.[key];
    if (value !== undefined) {
      if (typeof value !== 'number' || !(value >= 0)) throw new GraphError(`load limit ${key} must be a number >= 0`);
      if (key === 'maxRank' && value > MAX_RANK) {
        throw new GraphError(
          `load limit maxRank is at most ${MAX_RANK}, the highest rank a graph may hold; got ${value}`,
        );
      }
      out[key] = value;
    }
  }
  return out;
}

/** Reports a problem with one field of one node as a GraphError. */
export type Fail = (field: string, message: string) => GraphError;

/**
 * A file's shape against the rule every graph follows (graph/rules.ts `shapeProblem`: rank, dims) and then the limits: a problem
 * message, or null. `budget` carries the running total of elements over a whole file.
 */
export function shapeProblem(shape: unknown, limits: Required<LoadLimits>, budget: { total: number }): string | null {
  const problem = shapeRule(shape, limits.maxRank);
  if (problem !== null) return problem;
  const dims = shape as Dim[];
  let known = 1;
  for (const d of dims) {
    if (d === null) continue;
    known *= d;
    if (known > limits.maxElements) {
      return `${formatShape(dims)} holds more than the limit of ${limits.maxElements} elements`;
    }
  }
  if (dims.every((d) => d !== null)) {
    budget.total += known;
    if (budget.total > limits.maxTotalElements) {
      return `brings the total over all nodes above the limit of ${limits.maxTotalElements} elements`;
    }
  }
  return null;
}

/** The record of a non-leaf op named by a file, or a GraphError naming the field. */
export function recordFor(op: unknown, fail: Fail): OpRecord {
  if (typeof op !== 'string') throw fail('op', 'must be a string');
  let record: OpRecord;
  try {
    record = opRecord(op);
  } catch {
    throw fail('op', `unknown op '${op}'`);
  }
  return record;
}

/**
 * The first attribute of a file's node that does not fit its op's schema, as a GraphError naming the field
 * (`attrs.<name>`), or nothing. addOp checks the same schema; checking here first keeps the field in the message.
 */
export function checkAttrs(record: OpRecord, attrs: Attrs, inputCount: number, fail: Fail): void {
  const problem = record.attrs === undefined ? null : attrProblem(record.attrs, attrs, inputCount);
  if (problem !== null) throw fail(`attrs.${problem.attr}`, problem.message);
}

/**
 * Adds a non-leaf node through the op's own inference, after checking its attribute types. Any error (the op's
 * ShapeError/DTypeError, or anything an op's inference throws on attrs it did not expect) becomes a GraphError
 * naming the node.
 */
export function addCheckedOp(
  graph: Graph,
  record: OpRecord,
  inputs: readonly number[],
  attrs: Attrs,
  name: string,
  fail: Fail,
): Tensor {
  if (isLeafOp(record.name)) throw fail('op', `${record.name} nodes take no inputs and are not built by an op`);
  checkAttrs(record, attrs, inputs.length, fail);
  try {
    return addOp(graph, record, inputs, attrs, name);
  } catch (error) {
    const message = error instanceof LazygradError ? error.message : `${record.name}: ${(error as Error).message}`;
    throw fail('attrs/inputs', `re-inference failed: ${message}`);
  }
}
