import { Attrs, DTypeError, GraphError, isDType, ShapeError } from '../graph';
import { broadcastStatic, Dim, formatShape } from '../graph';
import { FusedArg, FusedStep, fusedKernel } from './kernels';
import type { Buf } from './kernels/types';
import { OpRecord } from './record';

export type { FusedArg };

/** One step of a fused node's attrs: an op name (resolved to its template through the op table) and its args. */
export interface FusedStepAttr {
  readonly op: string;
  readonly args: readonly FusedArg[];
}

/** How fused steps find their ops' templates: given by the op table, which knows every record. */
export type TemplateLookup = (op: string) => string | undefined;

function stepsOf(attrs: Attrs, templateOf: TemplateLookup): FusedStep[] {
  const steps = attrs.steps as unknown;
  if (!Array.isArray(steps) || steps.length === 0) throw new GraphError('fused: attrs.steps must be a non-empty list');
  return steps.map((raw, j) => {
    const step = raw as FusedStepAttr;
    const template = typeof step?.op === 'string' ? templateOf(step.op) : undefined;
    if (template === undefined) {
      throw new GraphError(`fused: step ${j} names '${String(step?.op)}', which is not a fusible elementwise op`);
    }
    if (!Array.isArray(step.args)) throw new GraphError(`fused: step ${j} has no args list`);
    return { template, args: step.args };
  });
}

/**
 * The record of a group of elementwise ops computed in one loop. Only the elementwise fusion pass creates it, in
 * a session's private graph (after gradients are built), so it needs no gradient rule. `expr` is for reading
 * only; the kernel is generated from `steps`.
 */
export function makeFusedRecord(templateOf: TemplateLookup): OpRecord {
  type Kernel = (inputs: readonly Buf[], out: Buf) => void;
  const kernels = new Map<string, Kernel>();
  // A node's attrs object is stable, so per-run lookups go by identity; the structure key is computed once per node.
  const byAttrs = new WeakMap<Attrs, Kernel>();
  const kernelFor = (attrs: Attrs): Kernel => {
    let kernel = byAttrs.get(attrs);
    if (kernel === undefined) {
      const key = JSON.stringify(attrs.steps);
      kernel = kernels.get(key);
      if (kernel === undefined) {
        kernel = fusedKernel(stepsOf(attrs, templateOf));
        kernels.set(key, kernel);
      }
      byAttrs.set(attrs, kernel);
    }
    return kernel;
  };
  return {
    name: 'fused',
    arity: 'variadic',
    // One loop computes every step of an element before writing it, so the group runs in place like its ops.
    inPlace: true,
    infer(inputs, attrs) {
      if (!isDType(attrs.dtype)) throw new DTypeError(`fused: attrs.dtype must be a dtype`);
      stepsOf(attrs, templateOf);
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
  };
}
