import { Dim, formatShape, ShapeError, Tensor, broadcastStatic } from '../graph';
import { matMul as matMulKernel } from './kernels';
import { apply, OpRecord, requireNumeric, requireSameDType, TensorLike } from './record';

/**
 * matMul(a, b, transposeA, transposeB): batched over all dims but the last two, with NumPy broadcasting of
 * the batch dims.
 */
export const MAT_MUL: OpRecord = {
  name: 'matMul',
  arity: 2,
  infer([a, b], attrs) {
    const dtype = requireSameDType([a, b]);
    requireNumeric(a);
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new ShapeError(`both operands need rank >= 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
    }
    const ta = attrs.transposeA === true;
    const tb = attrs.transposeB === true;
    const [m, ka] = lastTwo(a.shape, ta);
    const [kb, n] = lastTwo(b.shape, tb);
    if (ka !== null && kb !== null && ka !== kb) {
      throw new ShapeError(
        `inner dims differ: ${formatShape(a.shape)}${ta ? 'ᵀ' : ''} · ${formatShape(b.shape)}${tb ? 'ᵀ' : ''} ` +
          `contracts ${ka} with ${kb}; the last dim of a (after transposeA) must equal the first of b's last two`,
      );
    }
    const batch = broadcastStatic(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (batch === null) {
      throw new ShapeError(
        `batch dims ${formatShape(a.shape.slice(0, -2))} and ${formatShape(b.shape.slice(0, -2))} cannot broadcast`,
      );
    }
    return { dtype, shape: [...batch, m, n] };
  },
  kernel: ([a, b], out, attrs) => matMulKernel(a, b, out, attrs.transposeA === true, attrs.transposeB === true),
  vjp: ({ inputs: [a, b], dy, attrs, needs }) => {
    const ta = attrs.transposeA === true;
    const tb = attrs.transposeB === true;
    // For y = op(a)·op(b): da and db each a single matMul with the transposes folded in.
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (!ta && !tb) {
      if (needs[0]) da = matMul(dy, b, false, true);
      if (needs[1]) db = matMul(a, dy, true, false);
    } else if (!ta && tb) {
      if (needs[0]) da = matMul(dy, b, false, false);
      if (needs[1]) db = matMul(dy, a, true, false);
    } else if (ta && !tb) {
      if (needs[0]) da = matMul(b, dy, false, true);
      if (needs[1]) db = matMul(a, dy, false, false);
    } else {
      if (needs[0]) da = matMul(b, dy, true, true);
      if (needs[1]) db = matMul(dy, a, true, true);
    }
    return [da, db];
  },
};

function lastTwo(shape: readonly Dim[], transposed: boolean): [Dim, Dim] {
  const r = shape[shape.length - 2];
  const c = shape[shape.length - 1];
  return transposed ? [c, r] : [r, c];
}

export const LINALG_OPS: readonly OpRecord[] = [MAT_MUL];

/**
 * Matrix product, optionally transposing either operand; rank >= 3 operands are batched.
 * @example matMul(x, w) // [batch, in] · [in, out]
 */
export function matMul(a: TensorLike, b: TensorLike, transposeA = false, transposeB = false): Tensor {
  return apply(MAT_MUL, [a, b], { transposeA, transposeB });
}
