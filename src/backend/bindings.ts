/**
 * The binding table: which op runs which wasm kernel, and the one guard around every such call. Adding a wasm kernel
 * for an existing op is a row here (plus its AssemblyScript and its test; see docs/wasm.md).
 */
import type { Attrs } from '../graph';
import {
  ABS,
  activationOf,
  ADD,
  allOps,
  applyEpilogue,
  AVG_POOL,
  AVG_POOL_GRAD,
  BROADCAST_LIKE,
  BROADCAST_TO,
  CONV2D,
  CONV2D_BACKPROP_FILTER,
  CONV2D_BACKPROP_INPUT,
  DIV,
  EXP,
  FUSED,
  FUSED_CONV2D,
  FUSED_MAT_MUL,
  LOG,
  LOG_SOFTMAX,
  MAT_MUL,
  MAX,
  MAX_POOL,
  MAX_POOL_GRAD,
  MAX_POOL_GRAD_GRAD,
  MUL,
  NEG,
  RELU,
  RELU_GRAD,
  SIGMOID,
  SOFTMAX,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX,
  SQRT,
  SQUARE,
  SUB,
  SUM,
  TANH,
  type OpRecord,
} from '../ops';
import { transpose, type Buf } from '../ops/kernels';
import type { ConvAttrs } from '../ops/kernels/conv';
import { FUSED_WASM_OPS, type WasmActivation, type WasmBinaryOp, type WasmBufKernels, type WasmUnaryOp } from './wasm';

type Kernel = NonNullable<OpRecord['kernel']>;

/**
 * A wasm kernel for an op's node: true when it ran, false when it declined (a layout it does not cover, no staging
 * room while the arena is locked), having written nothing. It is only called with float32 buffers.
 */
export type WasmRun = (wasm: WasmBufKernels, inputs: readonly Buf[], out: Buf, attrs: Attrs) => boolean;

export interface WasmBinding {
  /** The op, whose own kernel runs whenever the wasm kernel does not. */
  readonly record: OpRecord;
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

/**
 * A row of the table: `run` sees the node's attrs typed by the op record's schema (addOp checked every node's attrs
 * against it, so this is the one place the plain Attrs a kernel is given are read as the record's type).
 */
function bind<A extends Attrs>(
  record: OpRecord<A>,
  minElements: number,
  run: (wasm: WasmBufKernels, inputs: readonly Buf[], out: Buf, attrs: A) => boolean,
): WasmBinding {
  return { record, minElements, run: run as WasmRun };
}

const unary = (record: OpRecord, op: WasmUnaryOp, minElements: number): WasmBinding =>
  bind(record, minElements, (wasm, [x], out) => wasm.unary(op, x, out));
const binary = (record: OpRecord, op: WasmBinaryOp): WasmBinding =>
  bind(record, SMALL, (wasm, [a, b], out) => wasm.binary(op, a, b, out));
const reduce = (record: typeof SUM, kind: 'sum' | 'max'): WasmBinding =>
  bind(record, SMALL, (wasm, [x], out, { axes }) => wasm.reduce(kind, x, axes, out));

/**
 * A session's choices among the wasm kernels' forms: `jit` (default true) compiles fused groups to wasm, else the
 * block interpreter runs them; `fastTanh` (default false) computes float32 tanh as ONNX Runtime does (the rational
 * form of assembly/vmath.ts `tanhFast`, ≤ 7 ulp) in the tanh kernel, fused groups and matMul/conv epilogues.
 */
export interface WasmBindingOptions {
  readonly jit?: boolean;
  readonly fastTanh?: boolean;
}

/** The fused group's row: jitted groups (`jit`), else the wasm interpreter. */
const fusedRow = (jit: boolean, fastTanh: boolean): WasmBinding =>
  // A small group (a chain of scalar ops, say) costs less in the generated JS loop than a wasm call's setup.
  bind(FUSED, ANY, (wasm, inputs, out, attrs) =>
    out.data.length * attrs.steps.length < SMALL_FUSED_WORK
      ? false
      : wasm.fused(inputs, out, attrs.steps, attrs, jit, fastTanh),
  );

/** A node's epilogue activation as the wasm kernels name it: tanh's rational form under `fastTanh`. */
function epilogueActivation(attrs: { readonly activation?: string }, fastTanh: boolean): WasmActivation {
  const activation = activationOf(attrs);
  return fastTanh && activation === 'tanh' ? 'tanhFast' : activation;
}

const fusedMatMulRow = (fastTanh: boolean): WasmBinding =>
  bind(FUSED_MAT_MUL, ANY, (wasm, [a, b, bias], out, attrs) =>
    wasm.matMul(
      a,
      b,
      out,
      attrs.transposeA === true,
      attrs.transposeB === true,
      bias,
      epilogueActivation(attrs, fastTanh),
    ),
  );

// fusedConv2d's bias always holds one value per output channel in channel order, whatever its shape: the GEMM kernel
// applies it (and the activation) to its accumulators; a depthwise one runs the depthwise kernel, then the bias in
// JS and the activation (in wasm when it is tanh's rational form, so that every tanh of the session has one form).
const fusedConvRow = (fastTanh: boolean): WasmBinding =>
  bind(
    FUSED_CONV2D,
    ANY,
    eitherLayout({ inputs: [0], output: true }, (wasm, [x, filter, bias], out, attrs) => {
      const activation = epilogueActivation(attrs, fastTanh);
      if (wasm.conv2d(x, filter, out, attrs, bias, activation)) return true;
      if (!wasm.depthwiseConv2d(x, filter, out, attrs)) return false;
      const fast = activation === 'tanhFast';
      applyEpilogue(out, { data: bias.data, shape: [bias.data.length] }, fast ? 'none' : activation);
      // Where the wasm kernel declines (no staging room), the tanh record's own kernel, as the guard would run it.
      if (fast && !wasm.unary('tanhFast', out, out)) (TANH.kernel as Kernel)([out], out, {});
      return true;
    }),
  );

/** A rank-4 NCHW image as a fresh NHWC float32 array (a JS transpose). */
function toChannelsLast(image: Buf): Buf {
  const [n, c, h, w] = image.shape;
  const out: Buf = { data: new Float32Array(image.data.length), shape: [n, h, w, c] };
  transpose(image, [0, 2, 3, 1], out);
  return out;
}

/**
 * A conv row's kernel that also runs NCHW (every ONNX model's layout): the NHWC wasm kernel between transposes of
 * the image operands (`images`: which inputs, and whether the output, are images; a filter's layout does not
 * depend on dataFormat). The two transposes cost a pass over each image, small next to the convolution, which runs
 * ~10× faster in wasm than the JS kernel would. Declines (false, nothing written) when the NHWC kernel does.
 */
function eitherLayout<A extends ConvAttrs>(
  images: { readonly inputs: readonly number[]; readonly output: boolean },
  run: (wasm: WasmBufKernels, inputs: readonly Buf[], out: Buf, attrs: A) => boolean,
): (wasm: WasmBufKernels, inputs: readonly Buf[], out: Buf, attrs: A) => boolean {
  return (wasm, inputs, out, attrs) => {
    if (attrs.dataFormat !== 'NCHW') return run(wasm, inputs, out, attrs);
    if (images.inputs.some((k) => inputs[k].shape.length !== 4) || (images.output && out.shape.length !== 4)) {
      return false;
    }
    const staged = inputs.map((b, k) => (images.inputs.includes(k) ? toChannelsLast(b) : b));
    const [n, c, h, w] = out.shape;
    const result: Buf = images.output ? { data: new Float32Array(out.data.length), shape: [n, h, w, c] } : out;
    if (!run(wasm, staged, result, { ...attrs, dataFormat: 'NHWC' })) return false;
    if (images.output) transpose(result, [0, 3, 1, 2], out);
    return true;
  };
}

/**
 * Which op runs which wasm kernel, and from what size, under a session's forms (`jit` and `fastTanh` choose the rows
 * of fused groups and of whatever computes tanh). exp, tanh, sigmoid and log run in wasm at every size (as they always
 * have: their JS kernels are slow), the other elementwise ops and the reductions from 256 elements.
 */
const rowsFor = (jit: boolean, fastTanh: boolean): readonly WasmBinding[] => [
  bind(MAT_MUL, ANY, (wasm, [a, b], out, { transposeA = false, transposeB = false }) =>
    wasm.matMul(a, b, out, transposeA, transposeB),
  ),
  fusedMatMulRow(fastTanh),
  bind(SOFTMAX, ANY, (wasm, [x], out, { axis }) => wasm.softmax(x, axis, out)),
  bind(LOG_SOFTMAX, ANY, (wasm, [x], out, { axis }) => wasm.logSoftmax(x, axis, out)),
  bind(SOFTMAX_CROSS_ENTROPY, ANY, (wasm, [labels, logits], out, { axis }) =>
    wasm.softmaxCrossEntropy(labels, logits, axis, out),
  ),
  bind(SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX, ANY, (wasm, [labels, , ls], out, { axis }) =>
    wasm.crossEntropyFromLogSoftmax(labels, ls, axis, out),
  ),
  fusedRow(jit, fastTanh),
  unary(EXP, 'exp', ANY),
  unary(TANH, fastTanh ? 'tanhFast' : 'tanh', ANY),
  unary(SIGMOID, 'sigmoid', ANY),
  unary(LOG, 'log', ANY),
  unary(RELU, 'relu', SMALL),
  unary(NEG, 'neg', SMALL),
  unary(ABS, 'abs', SMALL),
  unary(SQRT, 'sqrt', SMALL),
  unary(SQUARE, 'square', SMALL),
  binary(ADD, 'add'),
  binary(SUB, 'sub'),
  binary(MUL, 'mul'),
  binary(DIV, 'div'),
  bind(RELU_GRAD, SMALL, (wasm, [dy, x], out) => wasm.reluGrad(x, dy, out)),
  reduce(SUM, 'sum'),
  reduce(MAX, 'max'),
  // Convolution: groups = 1 runs the GEMM kernels (assembly/conv.ts), groups = in channels the depthwise ones
  // (assembly/depthwise.ts), NCHW between transposes; each declines what it does not cover (other groupings), and
  // then the JS kernel runs. The geometry comes from the attrs and shapes through the JS kernels' axisGeometry.
  bind(
    CONV2D,
    ANY,
    eitherLayout(
      { inputs: [0], output: true },
      (wasm, [x, filter], out, attrs) =>
        wasm.conv2d(x, filter, out, attrs) || wasm.depthwiseConv2d(x, filter, out, attrs),
    ),
  ),
  bind(
    CONV2D_BACKPROP_INPUT,
    ANY,
    eitherLayout(
      { inputs: [0], output: true },
      (wasm, [dy, filter], out, attrs) =>
        wasm.conv2dBackpropInput(dy, filter, out, attrs) || wasm.depthwiseConv2dBackpropInput(dy, filter, out, attrs),
    ),
  ),
  bind(
    CONV2D_BACKPROP_FILTER,
    ANY,
    eitherLayout(
      { inputs: [0, 1], output: false },
      (wasm, [x, dy], out, attrs) =>
        wasm.conv2dBackpropFilter(x, dy, out, attrs) || wasm.depthwiseConv2dBackpropFilter(x, dy, out, attrs),
    ),
  ),
  fusedConvRow(fastTanh),
  // A broadcast of trailing dims (batchNorm's and bias gradients broadcast per-channel values to the whole batch).
  bind(BROADCAST_TO, SMALL, (wasm, [x], out) => wasm.broadcastRow(x, out)),
  bind(BROADCAST_LIKE, SMALL, (wasm, [x], out) => wasm.broadcastRow(x, out)),
  // Pooling over NHWC, bit for bit the JS kernels' results: assembly/pool.ts.
  bind(MAX_POOL, SMALL, (wasm, [x], out, attrs) => wasm.maxPool(x, attrs, out)),
  bind(AVG_POOL, SMALL, (wasm, [x], out, attrs) => wasm.avgPool(x, attrs, attrs.countPadding === true, out)),
  bind(MAX_POOL_GRAD, SMALL, (wasm, [x, dy], out, attrs) => wasm.maxPoolGrad(x, dy, attrs, out)),
  bind(AVG_POOL_GRAD, SMALL, (wasm, [dy], out, attrs) => wasm.avgPoolGrad(dy, attrs, attrs.countPadding === true, out)),
  bind(MAX_POOL_GRAD_GRAD, SMALL, (wasm, [x, g], out, attrs) => wasm.maxPoolGradGrad(x, g, attrs, out)),
];

/** The table by op name, under the default forms (fused groups jitted, the 2-ulp tanh). */
export const WASM_BINDINGS: { readonly [op: string]: WasmBinding } = Object.fromEntries(
  rowsFor(true, false).map((row) => [row.record.name, row]),
);

/**
 * The one guard around a wasm kernel: float32 arguments, enough elements, and the kernel ran; otherwise the op
 * record's own kernel runs, read at each call (a test may swap a record's kernel to make a step fail). Allocates
 * nothing per call.
 */
function guarded(wasm: WasmBufKernels, { record, minElements, run }: WasmBinding): Kernel {
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

/**
 * The kernels replacing the records' JS ones under the wasm backend: one guarded kernel per row of the table;
 * `jit: false` runs fused groups in the wasm interpreter instead of compiling them; `fastTanh` computes tanh (the
 * tanh kernel, fused groups, fusedMatMul and fusedConv2d epilogues) in its rational form.
 */
export function bindWasmKernels(wasm: WasmBufKernels, options: WasmBindingOptions = {}): Map<string, Kernel> {
  const kernels = new Map<string, Kernel>();
  for (const row of rowsFor(options.jit ?? true, options.fastTanh ?? false)) {
    kernels.set(row.record.name, guarded(wasm, row));
  }
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
