/**
 * Per-op compiled loops for the elementwise kernels.
 *
 * V8 shares type feedback, and so optimized code, between all closures made from one function literal. A loop
 * written once and closed over each op's `fn` therefore sees a megamorphic call: `fn` is never inlined and every
 * element boxes its arguments and result as heap numbers. Measured on 1M float32 elements once six ops share the
 * loop: ~11 ms per call, against ~1.7 ms when each op has a loop of its own. `new Function` gives each op its own
 * copy; the serial number keeps the sources distinct, because V8 also caches compiled Function bodies by text.
 *
 * The loops only iterate: shape checks and the coalesced iteration plan (rank >= 1, see util.coalesce) are made in
 * typed code by the caller, so the untyped text here stays small.
 */
import type { TypedArray } from './types';

type Shape = readonly number[];

export type UnaryLoop = (xd: TypedArray, od: TypedArray, n: number) => void;
export type BinaryLoop = (
  ad: TypedArray,
  bd: TypedArray,
  od: TypedArray,
  n: number,
  shape: Shape,
  stA: Shape,
  stB: Shape,
) => void;
export type TernaryLoop = (
  cd: TypedArray,
  ad: TypedArray,
  bd: TypedArray,
  od: TypedArray,
  n: number,
  shape: Shape,
  stC: Shape,
  stA: Shape,
  stB: Shape,
) => void;

const UNARY_SRC = `
return function unaryLoop(xd, od, n) {
  for (let i = 0; i < n; i++) od[i] = fn(xd[i]);
};`;

// Odometer over all but the innermost coalesced dim; the innermost runs as one strided loop, with direct-index
// variants for the common plans (same shapes, one operand a scalar).
const BINARY_SRC = `
return function binaryLoop(ad, bd, od, n, shape, stA, stB) {
  const r = shape.length;
  const inner = shape[r - 1];
  const sa = stA[r - 1];
  const sb = stB[r - 1];
  if (r === 1) {
    if (sa === 1 && sb === 1) {
      for (let i = 0; i < n; i++) od[i] = fn(ad[i], bd[i]);
      return;
    }
    if (sa === 0 && sb === 1) {
      const av = ad[0];
      for (let i = 0; i < n; i++) od[i] = fn(av, bd[i]);
      return;
    }
    if (sa === 1 && sb === 0) {
      const bv = bd[0];
      for (let i = 0; i < n; i++) od[i] = fn(ad[i], bv);
      return;
    }
  }
  const outer = n / inner;
  const idx = new Int32Array(r);
  let ia = 0;
  let ib = 0;
  let o = 0;
  for (let t = 0; t < outer; t++) {
    let pa = ia;
    let pb = ib;
    for (let j = 0; j < inner; j++) {
      od[o++] = fn(ad[pa], bd[pb]);
      pa += sa;
      pb += sb;
    }
    for (let d = r - 2; d >= 0; d--) {
      ia += stA[d];
      ib += stB[d];
      if (++idx[d] < shape[d]) break;
      ia -= stA[d] * shape[d];
      ib -= stB[d] * shape[d];
      idx[d] = 0;
    }
  }
};`;

const TERNARY_SRC = `
return function ternaryLoop(cd, ad, bd, od, n, shape, stC, stA, stB) {
  const r = shape.length;
  const inner = shape[r - 1];
  const sc = stC[r - 1];
  const sa = stA[r - 1];
  const sb = stB[r - 1];
  if (r === 1 && sc === 1 && sa === 1 && sb === 1) {
    for (let i = 0; i < n; i++) od[i] = fn(cd[i], ad[i], bd[i]);
    return;
  }
  const outer = n / inner;
  const idx = new Int32Array(r);
  let ic = 0;
  let ia = 0;
  let ib = 0;
  let o = 0;
  for (let t = 0; t < outer; t++) {
    let pc = ic;
    let pa = ia;
    let pb = ib;
    for (let j = 0; j < inner; j++) {
      od[o++] = fn(cd[pc], ad[pa], bd[pb]);
      pc += sc;
      pa += sa;
      pb += sb;
    }
    for (let d = r - 2; d >= 0; d--) {
      ic += stC[d];
      ia += stA[d];
      ib += stB[d];
      if (++idx[d] < shape[d]) break;
      ic -= stC[d] * shape[d];
      ia -= stA[d] * shape[d];
      ib -= stB[d] * shape[d];
      idx[d] = 0;
    }
  }
};`;

let serial = 0;

function compile<F, L>(fn: F, source: string): L {
  const factory = new Function('fn', `'use strict';\n// lazygrad kernel #${serial++}${source}`) as (f: F) => L;
  return factory(fn);
}

export function unaryLoop(fn: (x: number) => number): UnaryLoop {
  return compile<typeof fn, UnaryLoop>(fn, UNARY_SRC);
}

export function binaryLoop(fn: (a: number, b: number) => number): BinaryLoop {
  return compile<typeof fn, BinaryLoop>(fn, BINARY_SRC);
}

export function ternaryLoop(fn: (c: number, a: number, b: number) => number): TernaryLoop {
  return compile<typeof fn, TernaryLoop>(fn, TERNARY_SRC);
}
