/**
 * Internal helpers shared by the kernels: shape arithmetic and the dimension-coalescing plan that lets every
 * strided kernel run one tight inner loop over the longest possible run of elements.
 */

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Row-major strides of a dense array of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}

/**
 * Strides of a dense array of `shape` seen through NumPy broadcasting to `outShape` (right-aligned): a stride of
 * 0 re-reads the same elements along a broadcast dim, so callers index without any per-element branching.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const r = outShape.length;
  const lead = r - shape.length;
  if (lead < 0) throw new Error(`cannot broadcast [${shape.join(',')}] to [${outShape.join(',')}]`);
  const st = new Array<number>(r).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    const o = outShape[d + lead];
    if (n !== o && n !== 1) throw new Error(`cannot broadcast [${shape.join(',')}] to [${outShape.join(',')}]`);
    st[d + lead] = n === 1 ? 0 : s;
    s *= n;
  }
  return st;
}

export interface IterPlan {
  shape: number[];
  /** One stride list per operand, aligned with `shape`. */
  strides: number[][];
}

/**
 * Drops size-1 dims and merges neighbouring dims that every operand walks through as one run (stride of the
 * outer dim equals stride * size of the inner one, which also holds for two broadcast dims). Same-shape operands
 * collapse to rank 1 and row broadcasting to rank 2, so the odometer in the callers rarely ticks.
 * Never returns rank 0: a single element is planned as shape [1] so callers need no scalar special case.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): IterPlan {
  const k = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = [];
  for (let j = 0; j < k; j++) outStrides.push([]);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (n === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    for (let j = 0; j < k && merge; j++) merge = outStrides[j][last] === strides[j][d] * n;
    if (merge) {
      outShape[last] *= n;
      for (let j = 0; j < k; j++) outStrides[j][last] = strides[j][d];
    } else {
      outShape.push(n);
      for (let j = 0; j < k; j++) outStrides[j].push(strides[j][d]);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (let j = 0; j < k; j++) outStrides[j].push(0);
  }
  return { shape: outShape, strides: outStrides };
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function checkSize(what: string, buf: { data: { length: number }; shape: readonly number[] }): number {
  const n = sizeOf(buf.shape);
  if (buf.data.length !== n) {
    throw new Error(`${what}: data length ${buf.data.length} does not match shape ${shapeStr(buf.shape)}`);
  }
  return n;
}
