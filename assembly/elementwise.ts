// Elementwise f32 kernels over four lanes at a time: one generic loop per arity, specialized on each op class of
// lanes.ts.
import { Abs, Add, Div, Exp, Log, Mul, Neg, Relu, Sigmoid, Sqrt, Square, Sub, Tanh, TanhFast } from './lanes';

export const BIN_ADD = 0;
export const BIN_SUB = 1;
export const BIN_MUL = 2;
export const BIN_DIV = 3;

export const UN_RELU = 1;
export const UN_SIGMOID = 2;
export const UN_TANH = 3;
export const UN_EXP = 4;
export const UN_NEG = 5;
export const UN_ABS = 6;
export const UN_SQRT = 7;
export const UN_SQUARE = 8;
export const UN_LOG = 9;
export const UN_TANH_FAST = 10;

// A partial vector (1–3 lanes) is read and written lane by lane, so no load or store leaves the caller's buffers.
// (No static staging buffer: two threads share this memory, and a shared scratch area raced when both threads
// handled a partial vector at once — rows split across the helper thread with cols not a multiple of 4.)
function loadPartial(p: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

function storePartial(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

function binaryVV<F>(a: usize, b: usize, out: usize, n: i32): void {
  const f = changetype<F>(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    v128.store(out, f.apply(v128.load(a), v128.load(b)));
    v128.store(out, f.apply(v128.load(a, 16), v128.load(b, 16)), 16);
    a += 32;
    b += 32;
    out += 32;
  }
  for (; i < n; i += 4) {
    const count = min(4, n - i);
    if (count == 4) v128.store(out, f.apply(v128.load(a), v128.load(b)));
    else storePartial(out, f.apply(loadPartial(a, count), loadPartial(b, count)), count);
    a += 16;
    b += 16;
    out += 16;
  }
}

// s op x[i] (scalarFirst) or x[i] op s: the branch is loop-invariant and both sides are one instruction.
function binaryVS<F>(x: usize, s: v128, out: usize, n: i32, scalarFirst: bool): void {
  const f = changetype<F>(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const x0 = v128.load(x);
    const x1 = v128.load(x, 16);
    v128.store(out, scalarFirst ? f.apply(s, x0) : f.apply(x0, s));
    v128.store(out, scalarFirst ? f.apply(s, x1) : f.apply(x1, s), 16);
    x += 32;
    out += 32;
  }
  for (; i < n; i += 4) {
    const count = min(4, n - i);
    const v = count == 4 ? v128.load(x) : loadPartial(x, count);
    const r = scalarFirst ? f.apply(s, v) : f.apply(v, s);
    if (count == 4) v128.store(out, r);
    else storePartial(out, r, count);
    x += 16;
    out += 16;
  }
}

function binaryOf<F>(a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  if (sa != 0 && sb != 0) binaryVV<F>(a, b, out, n);
  else if (sa != 0) binaryVS<F>(a, v128.load32_splat(b), out, n, false);
  else if (sb != 0) binaryVS<F>(b, v128.load32_splat(a), out, n, true);
  else {
    const r = changetype<F>(0).apply(v128.load32_splat(a), v128.load32_splat(b));
    for (let i = 0; i < n; i++) store<f32>(out + <usize>(i * 4), f32x4.extract_lane(r, 0));
  }
}

/**
 * out[i] = a[i] op b[i] for i < n, where an operand with stride 0 is a scalar broadcast (sa, sb are 0 or 1).
 * out may alias a or b.
 */
export function binary(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  if (op == BIN_ADD) binaryOf<Add>(a, sa, b, sb, out, n);
  else if (op == BIN_SUB) binaryOf<Sub>(a, sa, b, sb, out, n);
  else if (op == BIN_MUL) binaryOf<Mul>(a, sa, b, sb, out, n);
  else binaryOf<Div>(a, sa, b, sb, out, n);
}

/**
 * out[r, j] = a[r, j] op row[j] (rowFirst = false) or row[j] op a[r, j] (rowFirst = true) over rows x cols:
 * the bias-add shape, a [cols] operand broadcast along the leading dims.
 */
export function binaryRow(op: i32, a: usize, row: usize, out: usize, rows: i32, cols: i32, rowFirst: bool): void {
  const rowBytes = <usize>(cols * 4);
  for (let r = 0; r < rows; r++) {
    if (rowFirst) binary(op, row, 1, a, 1, out, cols);
    else binary(op, a, 1, row, 1, out, cols);
    a += rowBytes;
    out += rowBytes;
  }
}

function unaryOf<F>(x: usize, out: usize, n: i32): void {
  const f = changetype<F>(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    v128.store(out, f.apply(v128.load(x)));
    v128.store(out, f.apply(v128.load(x, 16)), 16);
    x += 32;
    out += 32;
  }
  for (; i < n; i += 4) {
    const count = min(4, n - i);
    if (count == 4) v128.store(out, f.apply(v128.load(x)));
    else storePartial(out, f.apply(loadPartial(x, count)), count);
    x += 16;
    out += 16;
  }
}

/** out[i] = op(x[i]) for i < n; out may alias x. */
export function unary(op: i32, x: usize, out: usize, n: i32): void {
  switch (op) {
    case UN_RELU:
      unaryOf<Relu>(x, out, n);
      break;
    case UN_SIGMOID:
      unaryOf<Sigmoid>(x, out, n);
      break;
    case UN_TANH:
      unaryOf<Tanh>(x, out, n);
      break;
    case UN_EXP:
      unaryOf<Exp>(x, out, n);
      break;
    case UN_NEG:
      unaryOf<Neg>(x, out, n);
      break;
    case UN_ABS:
      unaryOf<Abs>(x, out, n);
      break;
    case UN_SQRT:
      unaryOf<Sqrt>(x, out, n);
      break;
    case UN_SQUARE:
      unaryOf<Square>(x, out, n);
      break;
    case UN_LOG:
      unaryOf<Log>(x, out, n);
      break;
    case UN_TANH_FAST:
      unaryOf<TanhFast>(x, out, n);
      break;
  }
}

/** out[i] = dy[i] · (x[i] > 0 ? 1 : 0): relu's gradient as the graph computes it (so NaN·0 stays NaN). */
export function reluGrad(x: usize, dy: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const step = v128.and(f32x4.gt(v128.load(x), f32x4.splat(0)), f32x4.splat(1));
    v128.store(out, f32x4.mul(v128.load(dy), step));
    x += 16;
    dy += 16;
    out += 16;
  }
  for (; i < n; i++) {
    store<f32>(out, load<f32>(dy) * (load<f32>(x) > 0 ? 1 : 0));
    x += 4;
    dy += 4;
    out += 4;
  }
}
