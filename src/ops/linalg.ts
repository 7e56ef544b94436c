import { Dim, formatShape, GraphError, ShapeError, Tensor, broadcastStatic } from '../graph';
import { mul } from './elementwise';
import { matMul as matMulKernel } from './kernels';
import { expandDims, squeeze } from './movement';
import { apply, defineOp, OpRecord, requireNumeric, requireSameDType, TensorLike, toTensor } from './record';

/**
 * matMul(a, b, transposeA, transposeB): batched over all dims but the last two, with NumPy broadcasting of
 * the batch dims.
 */
export const MAT_MUL = defineOp({
  name: 'matMul',
  arity: 2,
  attrs: { transposeA: 'bool?', transposeB: 'bool?' },
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
});

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

/** Both operands as tensors of one graph; JS values become constants with the tensor operand's dtype. */
function operands(name: string, t1: TensorLike, t2: TensorLike): [Tensor, Tensor] {
  const tensor = t1 instanceof Tensor ? t1 : t2 instanceof Tensor ? t2 : null;
  if (tensor === null) {
    throw new GraphError(`${name}: needs at least one Tensor input to know its graph; got only JS values`);
  }
  return [toTensor(tensor.graph, t1, tensor.dtype), toTensor(tensor.graph, t2, tensor.dtype)];
}

function describe(name: string, a: Tensor, b: Tensor): string {
  return (
    `${name} '${a.graph.scopePrefix}${name}' (inputs: '${a.name}' ${a.dtype}${formatShape(a.shape)}, ` +
    `'${b.name}' ${b.dtype}${formatShape(b.shape)})`
  );
}

/**
 * Dot product of rank-1/2 operands, as tf.dot: vector·vector is a scalar, matrix·vector and vector·matrix are
 * vectors, matrix·matrix is matMul. @example dot(w, x)
 */
export function dot(t1: TensorLike, t2: TensorLike): Tensor {
  const [a, b] = operands('dot', t1, t2);
  if ((a.rank !== 1 && a.rank !== 2) || (b.rank !== 1 && b.rank !== 2)) {
    throw new ShapeError(`${describe('dot', a, b)}: inputs must be rank 1 or 2, got ranks ${a.rank} and ${b.rank}`);
  }
  const innerA = a.shape[a.rank - 1];
  const innerB = b.shape[0];
  if (innerA !== null && innerB !== null && innerA !== innerB) {
    throw new ShapeError(
      `${describe('dot', a, b)}: inner dims differ (${innerA} vs ${innerB}); the last dim of t1 must equal the ` +
        'first dim of t2',
    );
  }
  if (a.rank === 2 && b.rank === 2) return matMul(a, b);
  // A vector operand becomes a one-row (or one-column) matrix, and that dim is squeezed from the product.
  return a.graph.nameScope('dot', () => {
    const product = matMul(a.rank === 1 ? expandDims(a, 0) : a, b.rank === 1 ? expandDims(b, 1) : b);
    return squeeze(product, [...(a.rank === 1 ? [0] : []), ...(b.rank === 1 ? [1] : [])]);
  });
}

/** Outer product of two vectors: [m] and [n] give [m, n]. @example outerProduct(u, v) */
export function outerProduct(v1: TensorLike, v2: TensorLike): Tensor {
  const [a, b] = operands('outerProduct', v1, v2);
  if (a.rank !== 1 || b.rank !== 1) {
    throw new ShapeError(`${describe('outerProduct', a, b)}: inputs must be rank 1, got ranks ${a.rank} and ${b.rank}`);
  }
  return a.graph.nameScope('outerProduct', () => mul(expandDims(a, 1), expandDims(b, 0)));
}
