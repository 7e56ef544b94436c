/**
 * The binding table: which op runs which wasm kernel, and the one guard around every such call. Adding a wasm kernel
 * for an existing op is a row here (plus its AssemblyScript and its test; see docs/wasm.md).
 */
import type { Attrs } from '../graph';
import { allOps, opRecord, type FusedActivation, type OpRecord } from '../ops';
import type { Buf } from '../ops/kernels';
import {
  FUSED_WASM_OPS,
  type FusedProgramStep,
  type WasmBinaryOp,
  type WasmBufKernels,
  type WasmUnaryOp,
} from './wasm';

type Kernel = NonNullable<OpRecord['kernel']>;

/**
 * A wasm kernel for an op's node: true when it ran, false when it declined (a layout it does not cover, no staging
 * room while the arena is locked), having written nothing. It is only called with float32 buffers.
 */
export type WasmRun = (wasm: WasmBufKernels, inputs: readonly Buf[], out: Buf, attrs: Attrs) => boolean;

export interface WasmBinding {
  /**
   * The JS kernel runs when the output and every input hold fewer elements than this: below a few hundred, the
   * checks around a wasm call cost more than the JS loop.
   */
  readonly minElements: number;
  readonly run: WasmRun;
}

/** wasm at every size. */
const ANY = 0;
/** The JS kernel below 256 elements. */
const SMALL = 256;
/** Elements × ops below which a fused group keeps its JS kernel (the generated loop beats a wasm call's setup). */
const SMALL_FUSED_WORK = 1024;

const unary =
  (op: WasmUnaryOp): WasmRun =>
  (wasm, [x], out) =>
    wasm.unary(op, x, out);
const binary =
  (op: WasmBinaryOp): WasmRun =>
  (wasm, [a, b], out) =>
    wasm.binary(op, a, b, out);
const reduce =
  (kind: 'sum' | 'max'): WasmRun =>
  (wasm, [x], out, attrs) =>
    wasm.reduce(kind, x, attrs.axes as number[], out);

function fused(wasm: WasmBufKernels, inputs: readonly Buf[], out: Buf, attrs: Attrs): boolean {
  const steps = attrs.steps as unknown as FusedProgramStep[];
  // A small group (a chain of scalar ops, say) costs less in the generated JS loop than a wasm call's setup.
  if (!Array.isArray(steps) || out.data.length * steps.length < SMALL_FUSED_WORK) return false;
  return wasm.fused(inputs, out, steps, attrs);
}

/**
 * Which op runs which wasm kernel, by op name, and from what size. exp, tanh, sigmoid and log run in wasm at every
 * size (as they always have: their JS kernels are slow), the other elementwise ops and the reductions from 256
 * elements.
 */
export const WASM_BINDINGS: { readonly [op: string]: WasmBinding } = {
  matMul: {
    minElements: ANY,
    run: (wasm, [a, b], out, attrs) => wasm.matMul(a, b, out, attrs.transposeA === true, attrs.transposeB === true),
  },
  fusedMatMul: {
    minElements: ANY,
    run: (wasm, [a, b, bias], out, attrs) =>
      wasm.matMul(
        a,
        b,
        out,
        attrs.transposeA === true,
        attrs.transposeB === true,
        bias,
        (attrs.activation ?? 'none') as FusedActivation,
      ),
  },
  softmax: { minElements: ANY, run: (wasm, [x], out, attrs) => wasm.softmax(x, attrs.axis as number, out) },
  logSoftmax: { minElements: ANY, run: (wasm, [x], out, attrs) => wasm.logSoftmax(x, attrs.axis as number, out) },
  softmaxCrossEntropyWithLogits: {
    minElements: ANY,
    run: (wasm, [labels, logits], out, attrs) => wasm.softmaxCrossEntropy(labels, logits, attrs.axis as number, out),
  },
  fused: { minElements: ANY, run: fused },
  exp: { minElements: ANY, run: unary('exp') },
  tanh: { minElements: ANY, run: unary('tanh') },
  sigmoid: { minElements: ANY, run: unary('sigmoid') },
  log: { minElements: ANY, run: unary('log') },
  relu: { minElements: SMALL, run: unary('relu') },
  neg: { minElements: SMALL, run: unary('neg') },
  abs: { minElements: SMALL, run: unary('abs') },
  sqrt: { minElements: SMALL, run: unary('sqrt') },
  square: { minElements: SMALL, run: unary('square') },
  add: { minElements: SMALL, run: binary('add') },
  sub: { minElements: SMALL, run: binary('sub') },
  mul: { minElements: SMALL, run: binary('mul') },
  div: { minElements: SMALL, run: binary('div') },
  reluGrad: { minElements: SMALL, run: (wasm, [dy, x], out) => wasm.reluGrad(x, dy, out) },
  sum: { minElements: SMALL, run: reduce('sum') },
  max: { minElements: SMALL, run: reduce('max') },
};

/**
 * The one guard around a wasm kernel: float32 arguments, enough elements, and the kernel ran; otherwise the op
 * record's own kernel runs, read at each call (a test may swap a record's kernel to make a step fail). Allocates
 * nothing per call.
 */
function guarded(wasm: WasmBufKernels, record: OpRecord, { minElements, run }: WasmBinding): Kernel {
  return (inputs, out, attrs, context) => {
    if (out.data instanceof Float32Array) {
      let f32 = true;
      let large = out.data.length >= minElements;
      for (let i = 0; i < inputs.length; i++) {
        const data = inputs[i].data;
        if (!(data instanceof Float32Array)) {
          f32 = false;
          break;
        }
        if (data.length >= minElements) large = true;
      }
      if (f32 && large && run(wasm, inputs, out, attrs)) return;
    }
    (record.kernel as Kernel)(inputs, out, attrs, context);
  };
}

/** The kernels replacing the records' JS ones under the wasm backend: one guarded kernel per row of WASM_BINDINGS. */
export function bindWasmKernels(wasm: WasmBufKernels): Map<string, Kernel> {
  const kernels = new Map<string, Kernel>();
  for (const [op, binding] of Object.entries(WASM_BINDINGS)) kernels.set(op, guarded(wasm, opRecord(op), binding));
  return kernels;
}

/**
 * Ops fusion should leave to their own kernels under these overrides. With wasm, fused groups run in the wasm
 * interpreter, which knows most elementwise ops; the few it does not (pow, trigonometry, where, floorDiv, …) stay
 * out of groups, so that every float32 group runs in wasm rather than the whole group falling back to JavaScript.
 */
export function unfusedUnder(overrides: ReadonlyMap<string, Kernel>): readonly string[] {
  if (!overrides.has('fused')) return [];
  const interpreted = new Set(FUSED_WASM_OPS);
  return allOps()
    .filter((r) => r.template !== undefined && !interpreted.has(r.name))
    .map((r) => r.name);
}
