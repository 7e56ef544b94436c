import type { Buf, TypedArray } from './types';
import { reduce } from './reduce';
import { binaryLoop, ternaryLoop, unaryLoop } from './specialize';
import { broadcastStrides, checkSize, coalesce, shapeStr } from './util';

/** NumPy broadcasting of two shapes, or null when some right-aligned pair of dims differs and neither is 1. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 1; i <= r; i++) {
    const da = i <= a.length ? a[a.length - i] : 1;
    const db = i <= b.length ? b[b.length - i] : 1;
    if (da === db || db === 1) out[r - i] = da;
    else if (da === 1) out[r - i] = db;
    else return null;
  }
  return out;
}

// Validation is O(rank) and allocation-free so it can run on every call, fast paths included: a mis-shaped
// operand whose length happens to match would otherwise be silently misread.
function assertBroadcastable(what: string, shape: readonly number[], outShape: readonly number[]): void {
  const lead = outShape.length - shape.length;
  let ok = lead >= 0;
  for (let d = 0; ok && d < shape.length; d++) ok = shape[d] === 1 || shape[d] === outShape[d + lead];
  if (!ok) throw new Error(`${what}: cannot broadcast ${shapeStr(shape)} to ${shapeStr(outShape)}`);
}

// Plans for the common cases, shared so that the fast paths allocate nothing but the one-element shape.
const UNIT: readonly number[] = [1];
const ZERO: readonly number[] = [0];

/**
 * Elementwise kernel over two broadcast operands. Call once per op, not per evaluation: each call compiles a loop
 * specialized to `fn` (see specialize.ts). The fast paths key on lengths alone: an operand that broadcasts to the
 * output with the output's length differs from it only by size-1 dims, so it has the same element order.
 */
export function binary(fn: (a: number, b: number) => number): (a: Buf, b: Buf, out: Buf) => void {
  const loop = binaryLoop(fn);
  return (a: Buf, b: Buf, out: Buf): void => {
    assertBroadcastable('binary', a.shape, out.shape);
    assertBroadcastable('binary', b.shape, out.shape);
    const n = checkSize('binary', out);
    if (n === 0) return;
    const ad = a.data;
    const bd = b.data;
    const od = out.data;
    if (bd.length === n && (ad.length === n || ad.length === 1)) {
      loop(ad, bd, od, n, [n], ad.length === n ? UNIT : ZERO, UNIT);
    } else if (ad.length === n && bd.length === 1) {
      loop(ad, bd, od, n, [n], UNIT, ZERO);
    } else {
      const plan = coalesce(out.shape, [broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape)]);
      loop(ad, bd, od, n, plan.shape, plan.strides[0], plan.strides[1]);
    }
  };
}

/**
 * Elementwise kernel; x and out have the same shape (out may have another dtype, e.g. isNaN -> bool). Call once per
 * op: like `binary`, it compiles a loop specialized to `fn`.
 */
export function unary(fn: (x: number) => number): (x: Buf, out: Buf) => void {
  const loop = unaryLoop(fn);
  return (x: Buf, out: Buf): void => {
    const n = checkSize('unary', out);
    if (x.data.length !== n) throw new Error(`unary: input ${shapeStr(x.shape)} vs output ${shapeStr(out.shape)}`);
    loop(x.data, out.data, n);
  };
}

/** Elementwise kernel over three broadcast operands (the condition first, as for `where`). Call once per op. */
export function ternary(fn: (c: number, a: number, b: number) => number): (c: Buf, a: Buf, b: Buf, out: Buf) => void {
  const loop = ternaryLoop(fn);
  return (c: Buf, a: Buf, b: Buf, out: Buf): void => {
    assertBroadcastable('ternary', c.shape, out.shape);
    assertBroadcastable('ternary', a.shape, out.shape);
    assertBroadcastable('ternary', b.shape, out.shape);
    const n = checkSize('ternary', out);
    if (n === 0) return;
    const plan = coalesce(out.shape, [
      broadcastStrides(c.shape, out.shape),
      broadcastStrides(a.shape, out.shape),
      broadcastStrides(b.shape, out.shape),
    ]);
    loop(c.data, a.data, b.data, out.data, n, plan.shape, plan.strides[0], plan.strides[1], plan.strides[2]);
  };
}

/** Copies x, broadcast NumPy-style, into out.shape. */
export function broadcastTo(x: Buf, out: Buf): void {
  assertBroadcastable('broadcastTo', x.shape, out.shape);
  const n = checkSize('broadcastTo', out);
  if (n === 0) return;
  const xd = x.data;
  const od = out.data;
  if (xd.length === n) {
    od.set(xd);
    return;
  }
  if (xd.length === 1) {
    od.fill(xd[0]);
    return;
  }
  const plan = coalesce(out.shape, [broadcastStrides(x.shape, out.shape)]);
  const shape = plan.shape;
  const st = plan.strides[0];
  const r = shape.length;
  const inner = shape[r - 1];
  const sx = st[r - 1];
  const outer = n / inner;
  const idx = new Int32Array(r);
  let ix = 0;
  let o = 0;
  for (let t = 0; t < outer; t++) {
    if (sx === 0) {
      od.fill(xd[ix], o, o + inner);
      o += inner;
    } else {
      for (let j = 0, p = ix; j < inner; j++, p += sx) od[o++] = xd[p];
    }
    for (let d = r - 2; d >= 0; d--) {
      ix += st[d];
      if (++idx[d] < shape[d]) break;
      ix -= st[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/**
 * The adjoint of broadcasting: sums x down to out.shape. Keeping the size-1 dims of out makes out's layout that of
 * a keepDims reduction of x, so this is a sum over the leading dims plus the dims out broadcasts along.
 */
export function sumTo(x: Buf, out: Buf): void {
  const xs = x.shape;
  const os = out.shape;
  const lead = xs.length - os.length;
  let ok = true;
  // Extra leading 1s on out change nothing in its layout, so they are accepted (e.g. [3] summed to [1, 3]).
  for (let d = 0; d < -lead; d++) ok = ok && os[d] === 1;
  const axes: number[] = [];
  for (let d = 0; d < xs.length; d++) {
    if (d < lead) {
      axes.push(d);
    } else if (os[d - lead] !== xs[d]) {
      ok = ok && os[d - lead] === 1;
      axes.push(d);
    }
  }
  if (!ok) throw new Error(`sumTo: cannot sum ${shapeStr(xs)} to ${shapeStr(os)}`);
  if (axes.length === 0) {
    copy(x, out);
    return;
  }
  reduce('sum', x, axes, out);
}

/**
 * Element copy between buffers of equal length (shapes may differ, as in reshape) converting dtype like `cast`.
 * TypedArray#set already converts as element assignment does (ToInt32 truncates toward zero, float64 -> float32
 * rounds), so only the bool target, which must map every nonzero (NaN included) to 1, needs its own loop.
 */
export function copy(x: Buf, out: Buf): void {
  const xd = x.data;
  const od = out.data;
  if (xd.length !== od.length) {
    throw new Error(`copy: ${xd.length} elements ${shapeStr(x.shape)} into ${od.length} ${shapeStr(out.shape)}`);
  }
  if (od instanceof Uint8Array && !(xd instanceof Uint8Array)) {
    toBool(xd, od);
    return;
  }
  od.set(xd);
}

function toBool(xd: TypedArray, od: Uint8Array): void {
  const n = xd.length;
  for (let i = 0; i < n; i++) od[i] = xd[i] !== 0 ? 1 : 0;
}

/** Converts x to out's dtype: int32 truncates toward zero, bool is x !== 0, bool reads as 0/1. */
export function cast(x: Buf, out: Buf): void {
  copy(x, out);
}
