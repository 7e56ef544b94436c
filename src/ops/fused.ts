import { DType, DTypeError, GraphError, LazygradError, ShapeError } from '../graph';
import { broadcastStatic, Dim, formatShape, freezeAttrs, isFrozenAttrs, shapesEqual } from '../graph';
import { AttrsOf, FusedStepAttr } from './attrs';

export { MAX_FUSED_STEPS } from './attrs';
import { FusedArg, FusedStep, fusedKernel } from './kernels';
import type { Buf } from './kernels/types';
import { defineOp, OpRecord, TensorInfo } from './record';

export type { FusedArg };

/** A fused node's attrs: its steps, its dtype, and (for reading only) the expression they compute. */
const FUSED_ATTRS = { steps: 'steps', dtype: 'dtype', expr: 'string?' } as const;
export type FusedAttrs = AttrsOf<typeof FUSED_ATTRS>;

/**
 * `attrs` frozen (freezeAttrs) to be shared by the fused nodes of one structure: the graph checks and keys it once,
 * inference of its steps' dtypes is kept per input dtypes, and the kernel is looked up by identity.
 */
export function sharedFusedAttrs(attrs: FusedAttrs): FusedAttrs {
  return freezeAttrs(attrs);
}

/** How fused steps find their ops' records (arity, inference, template): given by the op table, which knows them all. */
export type RecordLookup = (op: string) => OpRecord | undefined;

/** A step's op when it can be fused: a record with a template and a fixed arity. */
function fusibleRecord(step: FusedStepAttr, j: number, recordOf: RecordLookup): OpRecord & { template: string } {
  const record = recordOf(step.op);
  if (record === undefined || record.template === undefined || record.arity === 'variadic') {
    throw new GraphError(`fused: step ${j} names '${step.op}', which is not a fusible elementwise op`);
  }
  return record as OpRecord & { template: string };
}

function stepsOf(steps: readonly FusedStepAttr[], recordOf: RecordLookup): FusedStep[] {
  return steps.map((step, j) => ({ template: fusibleRecord(step, j, recordOf).template, args: step.args }));
}

const SCALAR: readonly Dim[] = [];

/**
 * The dtype a fused node's steps compute from its inputs, checking every step as its op would be checked on its
 * own: the number of arguments against the op's arity, and the operands' dtypes through the op's inference (on
 * scalars: shapes are the node's, broadcast once). A literal has the node's dtype, as the constant it replaced
 * had. One loop over the steps (at most MAX_FUSED_STEPS, which the `steps` attr kind checks), never recursion.
 */
function stepsDType(
  steps: readonly FusedStepAttr[],
  inputs: readonly TensorInfo[],
  nodeDType: DType,
  recordOf: RecordLookup,
): DType {
  const dtypes: DType[] = [];
  for (let j = 0; j < steps.length; j++) {
    const step = steps[j];
    const record = fusibleRecord(step, j, recordOf);
    if (step.args.length !== record.arity) {
      const count = `${step.args.length} argument${step.args.length === 1 ? '' : 's'}`;
      throw new GraphError(`step ${j} (${step.op}) has ${count}, but ${step.op} takes ${record.arity}`);
    }
    const operands = step.args.map((arg): TensorInfo => {
      if ('input' in arg) return { dtype: inputs[arg.input].dtype, shape: SCALAR };
      if ('step' in arg) return { dtype: dtypes[arg.step], shape: SCALAR };
      return { dtype: nodeDType, shape: SCALAR };
    });
    try {
      dtypes.push(record.infer(operands, {}).dtype);
    } catch (error) {
      if (!(error instanceof LazygradError)) throw error;
      const ErrorClass = error.constructor as new (message: string) => LazygradError;
      const given = operands.map((o) => o.dtype).join(', ');
      throw new ErrorClass(`step ${j} (${step.op}) of ${given}: ${error.message}`);
    }
  }
  return dtypes[dtypes.length - 1];
}

/**
 * The record of a group of elementwise ops computed in one loop. Only the elementwise fusion pass creates it, in
 * a session's private graph (after gradients are built), so it needs no gradient rule. `expr` is for reading
 * only; the kernel is generated from `steps`, whose form addOp checked (the `steps` attribute kind) and whose
 * arity and dtypes inference checks, so a node that builds (or loads) runs and exports.
 */
export function makeFusedRecord(recordOf: RecordLookup): OpRecord<FusedAttrs> {
  type Kernel = (inputs: readonly Buf[], out: Buf) => void;
  const kernels = new Map<string, Kernel>();
  // A node's attrs object is stable, so per-run lookups go by identity; the structure key is computed once per node.
  const byAttrs = new WeakMap<object, Kernel>();
  const kernelFor = (attrs: { readonly steps: readonly FusedStepAttr[] }): Kernel => {
    let kernel = byAttrs.get(attrs);
    if (kernel === undefined) {
      const key = JSON.stringify(attrs.steps);
      kernel = kernels.get(key);
      if (kernel === undefined) {
        kernel = fusedKernel(stepsOf(attrs.steps, recordOf));
        kernels.set(key, kernel);
      }
      byAttrs.set(attrs, kernel);
    }
    return kernel;
  };
  // For frozen attrs: the input dtypes the steps were last checked with, and the dtype they computed.
  const checked = new WeakMap<object, { dtypes: DType[]; computed: DType }>();
  const stepsDTypeOnce = (attrs: FusedAttrs, inputs: readonly TensorInfo[]): DType => {
    if (!isFrozenAttrs(attrs)) return stepsDType(attrs.steps, inputs, attrs.dtype, recordOf);
    const last = checked.get(attrs);
    if (last !== undefined && last.dtypes.length === inputs.length) {
      let same = true;
      for (let i = 0; i < inputs.length && same; i++) same = last.dtypes[i] === inputs[i].dtype;
      if (same) return last.computed;
    }
    const computed = stepsDType(attrs.steps, inputs, attrs.dtype, recordOf);
    checked.set(attrs, { dtypes: inputs.map((input) => input.dtype), computed });
    return computed;
  };
  return defineOp({
    name: 'fused',
    arity: 'variadic',
    attrs: FUSED_ATTRS,
    // One loop computes every step of an element before writing it, so the group runs in place like its ops.
    inPlace: true,
    infer(inputs, attrs) {
      const computed = stepsDTypeOnce(attrs, inputs);
      if (computed !== attrs.dtype) {
        throw new DTypeError(`the steps compute ${computed}, but the node's dtype attr says ${attrs.dtype}`);
      }
      // Inputs of one shape (a group's usual case) broadcast to that shape: no broadcast computed.
      let same = inputs.length > 0;
      for (let i = 1; i < inputs.length && same; i++) same = shapesEqual(inputs[i].shape, inputs[0].shape);
      if (same) return { dtype: attrs.dtype, shape: [...inputs[0].shape] };
      let shape: Dim[] | null = [];
      for (const input of inputs) {
        shape = shape === null ? null : broadcastStatic(shape, input.shape);
      }
      if (shape === null) {
        throw new ShapeError(`input shapes ${inputs.map((i) => formatShape(i.shape)).join(', ')} do not broadcast`);
      }
      return { dtype: attrs.dtype, shape };
    },
    kernel: (inputs, out, attrs) => kernelFor(attrs)(inputs, out),
  });
}
