/**
 * Gradient clipping by global norm (TensorFlow's tf.clip_by_global_norm), built from differentiable ops.
 */
import { DType, DTypeError, formatShape, GraphError, graphOf, Tensor } from '../graph';
import { add, addN, cast, div, minimum, mul, sqrt, square, sub, sum } from '../ops';

function present(what: string, tensors: readonly (Tensor | null)[]): Tensor[] {
  if (!Array.isArray(tensors)) throw new GraphError(`${what}: give an array of tensors (nulls are skipped)`);
  const list = tensors.filter((t): t is Tensor => t !== null && t !== undefined);
  if (list.length === 0) throw new GraphError(`${what}: needs at least one tensor (all ${tensors.length} are null)`);
  graphOf(list, what);
  for (const t of list) {
    if (!t.isFloat) throw new DTypeError(`${what}: '${t.name}' is ${t.dtype}; norms need float32 or float64 tensors`);
  }
  return list;
}

/**
 * The global norm √(Σ‖t‖²) of several tensors (nulls are skipped), in the first tensor's dtype.
 * @example globalNorm([dw, db])
 */
export function globalNorm(tensors: readonly (Tensor | null)[]): Tensor {
  const list = present('globalNorm', tensors);
  const dtype = list[0].dtype;
  const squares = list.map((t) => {
    const s = sum(square(t));
    return s.dtype === dtype ? s : cast(s, dtype);
  });
  return sqrt(squares.length === 1 ? squares[0] : addN(squares));
}

/**
 * Scales every tensor by clipNorm / max(globalNorm, clipNorm), so their global norm is at most clipNorm; returns
 * the clipped tensors (null stays null) and the global norm before clipping. An infinite or NaN norm gives NaN
 * tensors, as in TensorFlow, so a diverging step is visible rather than silently zeroed.
 *
 * @example const [clipped, norm] = clipByGlobalNorm(grads, 5);
 */
export function clipByGlobalNorm(
  tensors: readonly (Tensor | null)[],
  clipNorm: number | Tensor,
  useNorm?: Tensor,
): [(Tensor | null)[], Tensor] {
  const list = present('clipByGlobalNorm', tensors);
  const norm = useNorm ?? globalNorm(list);
  if (norm.rank !== 0 || !norm.isFloat) {
    throw new DTypeError(
      `clipByGlobalNorm: the norm '${norm.name}' is ${norm.dtype}${formatShape(norm.shape)}; it must be a float scalar`,
    );
  }
  if (typeof clipNorm === 'number' && !(Number.isFinite(clipNorm) && clipNorm > 0)) {
    throw new GraphError(`clipByGlobalNorm: clipNorm must be a finite number > 0, got ${clipNorm}`);
  }
  if (clipNorm instanceof Tensor && (clipNorm.rank !== 0 || clipNorm.dtype !== norm.dtype)) {
    throw new DTypeError(
      `clipByGlobalNorm: clipNorm '${clipNorm.name}' is ${clipNorm.dtype}${formatShape(clipNorm.shape)}; it must ` +
        `be a ${norm.dtype} scalar like the norm`,
    );
  }
  const clip = clipNorm instanceof Tensor ? clipNorm : norm.graph.constant(clipNorm, norm.dtype);
  // TensorFlow's formula: clip · min(1 / norm, 1 / clip) is 1 for a zero norm, and adding (norm − norm) turns an
  // infinite or NaN norm into NaN.
  const scale = add(mul(clip, minimum(div(1, norm), div(1, clip))), sub(norm, norm));
  const scaleAs = new Map<DType, Tensor>([[norm.dtype, scale]]);
  const clipped = tensors.map((t) => {
    if (t === null || t === undefined) return null;
    let s = scaleAs.get(t.dtype);
    if (s === undefined) {
      s = cast(scale, t.dtype);
      scaleAs.set(t.dtype, s);
    }
    return mul(t, s);
  });
  return [clipped, norm];
}
