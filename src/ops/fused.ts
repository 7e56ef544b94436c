import { GraphError, ShapeError } from '../graph';
import { broadcastStatic, Dim, formatShape } from '../graph';
import { AttrsOf, FusedStepAttr } from './attrs';
import { FusedArg, FusedStep, fusedKernel } from './kernels';
import type { Buf } from './kernels/types';
import { defineOp, OpRecord } from './record';

export type { FusedArg };

/** A fused node's attrs: its steps, its dtype, and (for reading only) the expression they compute. */
const FUSED_ATTRS = { steps: 'steps', dtype: 'dtype', expr: 'string?' } as const;
export type FusedAttrs = AttrsOf<typeof FUSED_ATTRS>;

/** How fused steps find their ops' templates: given by the op table, which knows every record. */
export type TemplateLookup = (op: string) => string | undefined;

function stepsOf(steps: readonly FusedStepAttr[], templateOf: TemplateLookup): FusedStep[] {
  return steps.map((step, j) => {
    const template = templateOf(step.op);
    if (template === undefined) {
      throw new GraphError(`fused: step ${j} names '${step.op}', which is not a fusible elementwise op`);
    }
    return { template, args: step.args };
  });
}

/**
 * The record of a group of elementwise ops computed in one loop. Only the elementwise fusion pass creates it, in
 * a session's private graph (after gradients are built), so it needs no gradient rule. `expr` is for reading
 * only; the kernel is generated from `steps`, whose form addOp checked (the `steps` attribute kind).
 */
export function makeFusedRecord(templateOf: TemplateLookup): OpRecord<FusedAttrs> {
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
        kernel = fusedKernel(stepsOf(attrs.steps, templateOf));
        kernels.set(key, kernel);
      }
      byAttrs.set(attrs, kernel);
    }
    return kernel;
  };
  return defineOp({
    name: 'fused',
    arity: 'variadic',
    attrs: FUSED_ATTRS,
    // One loop computes every step of an element before writing it, so the group runs in place like its ops.
    inPlace: true,
    infer(inputs, attrs) {
      stepsOf(attrs.steps, templateOf);
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
