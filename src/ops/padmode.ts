/**
 * Padding by copying x's own elements: tfjs's mirrorPad (reflect, symmetric) and edge padding (ONNX's Pad mode
 * 'edge'). Each padded dim is a gather of the positions its elements come from, so the gradient is gather's
 * adjoint, scatterAdd (the copies' gradients add up on their source), which has its own gradient: the same
 * composite the ONNX import builds for Pad's reflect and edge modes.
 */
import { NDArray, Tensor } from '../graph';
import { gather } from './gather';
import { argumentError } from './indexing-common';

export type PadMode = 'reflect' | 'symmetric' | 'edge';

/** Where element i of a padded dim of size n, with `before` added in front, reads from. */
function source(mode: PadMode, i: number, before: number, n: number): number {
  const j = i - before;
  if (mode === 'edge') return Math.min(n - 1, Math.max(0, j));
  if (mode === 'reflect') return j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
  return j < 0 ? -j - 1 : j >= n ? 2 * n - 1 - j : j;
}

function padByCopies(op: string, x: Tensor, paddings: readonly (readonly [number, number])[], mode: PadMode): Tensor {
  if (x.rank === 0) throw argumentError(op, [x], 'cannot pad a scalar; reshape it to [1] first');
  if (paddings.length !== x.rank) {
    throw argumentError(op, [x], `paddings ${JSON.stringify(paddings)} must hold one [before, after] pair per dim`);
  }
  let y = x;
  paddings.forEach((pair, d) => {
    const [before, after] = pair;
    const n = x.shape[d];
    const valid = pair.length === 2 && Number.isInteger(before) && Number.isInteger(after) && before >= 0 && after >= 0;
    if (!valid)
      throw argumentError(op, [x], `paddings of dim ${d}, ${JSON.stringify(pair)}, must be non-negative integers`);
    if (before === 0 && after === 0) return;
    if (n === null) throw argumentError(op, [x], `needs the size of padded dim ${d} known`);
    // reflect does not repeat the border element, so it can add at most n - 1; symmetric n; edge any number.
    const most = mode === 'reflect' ? n - 1 : mode === 'symmetric' ? n : Infinity;
    if (n === 0 || before > most || after > most) {
      throw argumentError(
        op,
        [x],
        `paddings ${JSON.stringify(pair)} of dim ${d} (size ${n}) must be at most ${n === 0 ? 0 : most} in ${mode} mode`,
      );
    }
    const indices = Array.from({ length: n + before + after }, (_, i) => source(mode, i, before, n));
    y = gather(y, new NDArray(Int32Array.from(indices), [indices.length], 'int32'), d);
  });
  return y;
}

/**
 * Pads x with its own mirrored elements, as tf.mirrorPad: 'reflect' mirrors about the border element (at most
 * size − 1 per side), 'symmetric' repeats it (at most size per side).
 * @example mirrorPad(x, [[1, 1], [2, 0]], 'reflect')
 */
export function mirrorPad(
  x: Tensor,
  paddings: readonly (readonly [number, number])[],
  mode: 'reflect' | 'symmetric',
): Tensor {
  if (mode !== 'reflect' && mode !== 'symmetric') {
    throw argumentError('mirrorPad', [x], `mode must be 'reflect' or 'symmetric', got '${String(mode)}'`);
  }
  return padByCopies('mirrorPad', x, paddings, mode);
}

/**
 * Pads x by repeating its border elements (ONNX Pad's 'edge' mode; not in tfjs).
 * @example edgePad(x, [[1, 1], [0, 3]])
 */
export function edgePad(x: Tensor, paddings: readonly (readonly [number, number])[]): Tensor {
  return padByCopies('edgePad', x, paddings, 'edge');
}
