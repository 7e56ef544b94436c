import { DTypeError, formatShape, GraphError, ShapeError, Tensor } from '../graph';
import { ADD, mul, relu, RELU, reluGrad, sigmoid, SIGMOID, square, sub, tanh, TANH } from './elementwise';
import { MAT_MUL, matMul } from './linalg';
import { sumTo } from './movement';
import type { Buf } from './kernels/types';
import { apply, defineOp, OpRecord, requireFloat, TensorLike } from './record';

/** The activations fusedMatMul applies in its epilogue (the names the wasm matMul kernel takes). */
export type FusedActivation = 'none' | 'relu' | 'sigmoid' | 'tanh';

export const FUSED_ACTIVATIONS: readonly FusedActivation[] = ['none', 'relu', 'sigmoid', 'tanh'];

export function isFusedActivation(value: unknown): value is FusedActivation {
  return typeof value === 'string' && (FUSED_ACTIVATIONS as readonly string[]).includes(value);
}

/**
 * The unfused kernels, run one after another over the output: the fused op gives bit for bit what
 * act(add(matMul(a, b), bias)) gives on the JS backend. The elementwise kernels read each element before writing
 * it, so they run in place over `out`.
 */
function kernelOf(record: OpRecord): NonNullable<OpRecord['kernel']> {
  const kernel = record.kernel;
  if (kernel === undefined) throw new GraphError(`fusedMatMul: the ${record.name} op has no kernel`);
  return kernel;
}
const MAT_MUL_KERNEL = kernelOf(MAT_MUL);

const ADD_KERNEL = kernelOf(ADD);
const ACTIVATION_KERNELS: { readonly [act in Exclude<FusedActivation, 'none'>]: NonNullable<OpRecord['kernel']> } = {
  relu: kernelOf(RELU),
  sigmoid: kernelOf(SIGMOID),
  tanh: kernelOf(TANH),
};

/**
 * The JS epilogue of the fused ops, over their product in `out`: the bias added (broadcast as add does) and the
 * activation applied, in place, by the unfused ops' own kernels.
 */
export function applyEpilogue(out: Buf, bias: Buf, activation: FusedActivation): void {
  ADD_KERNEL([out, bias], out, {});
  if (activation !== 'none') ACTIVATION_KERNELS[activation]([out], out, {});
}

/** The epilogue's activation: 'none' when absent (the attr is optional in files); a string checked against the list. */
export function activationOf(attrs: { readonly activation?: string }): FusedActivation {
  const activation = attrs.activation ?? 'none';
  if (!isFusedActivation(activation)) {
    throw new GraphError(
      `unknown activation '${String(activation)}'; valid: ${FUSED_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`,
    );
  }
  return activation;
}

/** dy through the activation, from the output y alone (as the unfused ops' rules compute it). */
export function activationGradient(activation: FusedActivation, y: Tensor, dy: Tensor): Tensor {
  switch (activation) {
    case 'none':
      return dy;
    case 'relu':
      // relu's rule is reluGrad(dy, x); y > 0 is the same mask as x > 0 (NaN and −0 included).
      return reluGrad(dy, y);
    case 'sigmoid':
      return mul(dy, mul(y, sub(1, y)));
    case 'tanh':
      return mul(dy, sub(1, square(y)));
  }
}

/**
 * fusedMatMul(a, b, bias; transposeA, transposeB, activation) = act(matMul(a, b) + bias), with the bias a row:
 * shape [N] or [1, …, 1, N] for N output columns, no more dims than the product. The epilogue pass makes it from
 * the unfused ops, so that a backend can apply bias and activation to the accumulators before storing them.
 */
export const FUSED_MAT_MUL = defineOp({
  name: 'fusedMatMul',
  arity: 3,
  attrs: { transposeA: 'bool?', transposeB: 'bool?', activation: 'string?' },
  infer([a, b, bias], attrs) {
    activationOf(attrs);
    const product = MAT_MUL.infer([a, b], attrs);
    requireFloat(a);
    if (bias.dtype !== product.dtype) {
      throw new DTypeError(`bias is ${bias.dtype} but the product is ${product.dtype}; cast one of them`);
    }
    const shape = product.shape;
    const n = shape[shape.length - 1];
    const rank = bias.shape.length;
    const last = bias.shape[rank - 1];
    const isRow =
      rank >= 1 &&
      rank <= shape.length &&
      bias.shape.slice(0, -1).every((d) => d === 1) &&
      (last === null || n === null ? last !== 1 || n === 1 : last === n);
    if (!isRow) {
      throw new ShapeError(
        `bias ${formatShape(bias.shape)} is not a row of the product ${formatShape(shape)}: valid bias shapes are ` +
          `[${n ?? 'N'}] or [1, …, 1, ${n ?? 'N'}] with at most ${shape.length} dims; for any other bias write ` +
          'add(matMul(a, b), bias)',
      );
    }
    return product;
  },
  kernel: ([a, b, bias], out, attrs) => {
    MAT_MUL_KERNEL([a, b], out, attrs);
    applyEpilogue(out, bias, activationOf(attrs));
  },
  vjp: ({ inputs: [a, b, bias], output: y, dy, attrs, needs }) => {
    const g = activationGradient(activationOf(attrs), y, dy);
    // Past the activation it is matMul's gradient (which reads only a, b and the attrs) and the bias-add's.
    const matMulVjp = MAT_MUL.vjp as NonNullable<OpRecord['vjp']>;
    const [da, db] = matMulVjp({ inputs: [a, b], output: y, dy: g, attrs, needs: [needs[0], needs[1]] });
    return [da, db, needs[2] ? sumTo(g, bias) : null];
  },
});

/** The activation names tfjs's fused.matMul takes; those past 'sigmoid' have no fused form here. */
export type FusedMatMulActivation = FusedActivation | 'linear' | 'elu' | 'relu6' | 'prelu' | 'leakyrelu';

/** The arguments of fused.matMul, as tfjs takes them (prelu weights and leaky-relu alpha are not supported). */
export interface FusedMatMulArgs {
  readonly a: TensorLike;
  readonly b: TensorLike;
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
  /** A row of the product: [N] or [1, …, 1, N]. Optional: without it the activation applies to the product. */
  readonly bias?: TensorLike;
  /** 'linear' (the default, also 'none'), 'relu', 'sigmoid' or 'tanh'. */
  readonly activation?: FusedMatMulActivation;
}

/** The activation as its own op (the unfused form). */
export function unfusedActivation(activation: FusedActivation, x: Tensor): Tensor {
  switch (activation) {
    case 'none':
      return x;
    case 'relu':
      return relu(x);
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return tanh(x);
  }
}

/**
 * act(matMul(a, b) + bias) as one op, as tfjs's tf.fused.matMul. Without a bias it is the plain ops
 * act(matMul(a, b)) (a zero bias would turn a −0 product into +0).
 * @example fusedMatMul({ a: x, b: w, bias: b, activation: 'relu' }) // [batch, in] · [in, out] + [out]
 */
export function fusedMatMul(args: FusedMatMulArgs): Tensor {
  const { a, b, bias, transposeA = false, transposeB = false } = args;
  const requested = args.activation ?? 'linear';
  const activation = requested === 'linear' ? 'none' : requested;
  if (!isFusedActivation(activation)) {
    throw new GraphError(
      `fused.matMul: activation '${String(requested)}' is not supported; valid: 'linear' (or 'none'), 'relu', ` +
        `'sigmoid', 'tanh'. For ${String(requested)}, apply it to fused.matMul's result instead`,
    );
  }
  if (bias === undefined) return unfusedActivation(activation, matMul(a, b, transposeA, transposeB));
  return apply(FUSED_MAT_MUL, [a, b, bias], { transposeA, transposeB, activation });
}
