/**
 * The wasm kernels over Bufs, with the JS kernels' signatures: what a session's plan steps call. A Buf that is a view
 * of the arena (a session's planned buffers and variables are) is read and written in place; any other is copied
 * into a staging area and back. Anything the wasm kernels do not cover (float64, int32, other axes,
 * general broadcasting) runs the JS reference kernel instead, so every call gives the JS kernel's answer.
 */
/* eslint-disable no-restricted-imports -- '..' here is src/ops/kernels, the layer this folder belongs to (the JS
   reference kernels), not the graph the rule keeps kernels away from. */
import type { Buf, TypedArray } from '../types';
import { binary, broadcastShapes, broadcastTo, unary } from '../broadcast';
import { softmaxCrossEntropy as jsSoftmaxCrossEntropy } from '../grouped';
import { matMul as jsMatMul } from '../linalg';
import { logSoftmax as jsLogSoftmax, softmax as jsSoftmax } from '../nn';
import { reduce as jsReduce } from '../reduce';
import { broadcastStrides, checkSize, shapeStr, sizeOf } from '../util';
/* eslint-enable no-restricted-imports */
import { alignUp } from './arena';
import type { Activation, WasmBinaryOp, WasmKernels, WasmUnaryOp } from './kernels';
import { compileFusedProgram, type FusedInputKind, type FusedProgramStep } from './program';

const jsRelu = (x: number): number => (x > 0 ? x : x === x ? 0 : x);
const jsSigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

const JS_BINARY: Record<WasmBinaryOp, (a: Buf, b: Buf, out: Buf) => void> = {
  add: binary((a, b) => a + b),
  sub: binary((a, b) => a - b),
  mul: binary((a, b) => a * b),
  div: binary((a, b) => a / b),
};

const JS_UNARY: Record<WasmUnaryOp, (x: Buf, out: Buf) => void> = {
  relu: unary(jsRelu),
  sigmoid: unary(jsSigmoid),
  tanh: unary(Math.tanh),
  exp: unary(Math.exp),
  neg: unary((x) => -x),
  abs: unary(Math.abs),
  sqrt: unary(Math.sqrt),
  square: unary((x) => x * x),
  log: unary(Math.log),
};

const jsReluGrad = binary((x, dy) => dy * (x > 0 ? 1 : 0));

/** The JS reference for matMul with its epilogue: out = act(a·b + bias). */
function jsMatMulEpilogue(
  a: Buf,
  b: Buf,
  out: Buf,
  transposeA: boolean,
  transposeB: boolean,
  bias: Buf | null,
  activation: Activation,
): void {
  jsMatMul(a, b, out, transposeA, transposeB);
  if (bias !== null) JS_BINARY.add(out, bias, out);
  if (activation !== 'none') JS_UNARY[activation](out, out);
}

function isF32(...datas: TypedArray[]): boolean {
  for (const d of datas) if (!(d instanceof Float32Array)) return false;
  return true;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** Whether `shape`, without its leading 1s, is the trailing part of `outShape` (the row-broadcast pattern). */
function isTrailingOf(shape: readonly number[], outShape: readonly number[]): boolean {
  let lead = 0;
  while (lead < shape.length && shape[lead] === 1) lead++;
  const rest = shape.length - lead;
  if (rest > outShape.length) return false;
  for (let d = 0; d < rest; d++) if (shape[lead + d] !== outShape[outShape.length - rest + d]) return false;
  return true;
}

export class WasmBufKernels {
  /** The staging block: where arguments that are not arena views are copied for one call (-1: none yet). */
  private staging = -1;
  private stagingBytes = 0;
  private stagingTop = 0;
  private locks = 0;
  private readonly programs = new WeakMap<object, Map<string, Int32Array | null>>();

  constructor(readonly wasm: WasmKernels) {}

  /**
   * Makes the staging area hold at least `bytes`, which may grow the memory: a session calls it before it takes its
   * views for a run. False when the arena cannot supply it (calls needing more then run the JS kernel).
   */
  reserve(bytes: number): boolean {
    if (bytes <= this.stagingBytes) return true;
    const arena = this.wasm.arena;
    const size = Math.max(bytes, 2 * this.stagingBytes, 1 << 20);
    if (this.staging >= 0) arena.free(this.staging);
    this.staging = -1;
    this.stagingBytes = 0;
    try {
      this.staging = arena.alloc(size);
      this.stagingBytes = size;
      return true;
    } catch {
      return false;
    }
  }

  /**
   * While locked (a session's step loop holds views of the arena), calls never grow the memory: growing would detach
   * those views. A call whose copies do not fit the reserved staging area runs the JS kernel instead. Nests.
   */
  lock(): void {
    this.locks++;
  }

  unlock(): void {
    if (this.locks > 0) this.locks--;
  }

  /**
   * Prepares a call over `datas`: arena views are used in place, the others get staging room. False when they do not
   * fit and the staging area cannot grow now (locked, or growing would detach an argument that is an arena view).
   */
  private stageFor(datas: readonly TypedArray[], extraBytes = 0): boolean {
    const arena = this.wasm.arena;
    let need = extraBytes;
    let viewsGiven = false;
    for (const d of datas) {
      if (arena.holds(d)) viewsGiven = true;
      else need += alignUp(d.length * 4);
    }
    this.stagingTop = 0;
    if (need <= this.stagingBytes) return true;
    if (this.locks > 0 || viewsGiven) return false;
    return this.reserve(need);
  }

  /** The byte offset of `data` in the arena: itself if it is an arena view, else its staging copy (copied when asked). */
  private at(data: TypedArray, copyIn: boolean): number {
    const arena = this.wasm.arena;
    if (arena.holds(data)) return data.byteOffset;
    const offset = this.staging + this.stagingTop;
    this.stagingTop += alignUp(data.length * 4);
    if (copyIn) arena.heapF32.set(data, offset >> 2);
    return offset;
  }

  /** Copies a staged result out (an arena view was written in place). */
  private done(offset: number, out: TypedArray): void {
    const arena = this.wasm.arena;
    if (arena.holds(out)) return;
    const start = offset >> 2;
    out.set(arena.heapF32.subarray(start, start + out.length));
  }

  /**
   * The JS matMul's contract (batched, broadcast batch dims, transposes) plus an epilogue: out = act(a·b + bias),
   * bias of size N (shape [N] or [1, …, N]).
   */
  matMul(
    a: Buf,
    b: Buf,
    out: Buf,
    transposeA: boolean,
    transposeB: boolean,
    bias: Buf | null = null,
    activation: Activation = 'none',
  ): void {
    const N = out.shape.length >= 2 ? out.shape[out.shape.length - 1] : -1;
    if (bias !== null && (bias.data.length !== N || checkSize('matMul', bias) !== N)) {
      throw new Error(`matMul: bias ${shapeStr(bias.shape)} must hold the ${N} output columns`);
    }
    if (!isF32(a.data, b.data, out.data) || (bias !== null && !isF32(bias.data))) {
      jsMatMulEpilogue(a, b, out, transposeA, transposeB, bias, activation);
      return;
    }
    // The JS kernel validates shapes in O(rank); running it on empty copies would cost O(size), so validate here.
    const as = a.shape;
    const bs = b.shape;
    const ra = as.length;
    const rb = bs.length;
    if (ra < 2 || rb < 2) throw new Error(`matMul: operands must have rank >= 2, got ${shapeStr(as)}, ${shapeStr(bs)}`);
    const M = transposeA ? as[ra - 1] : as[ra - 2];
    const K = transposeA ? as[ra - 2] : as[ra - 1];
    const Kb = transposeB ? bs[rb - 1] : bs[rb - 2];
    const aBatch = as.slice(0, ra - 2);
    const bBatch = bs.slice(0, rb - 2);
    const batchShape = broadcastShapes(aBatch, bBatch);
    const expected = batchShape === null ? null : [...batchShape, M, transposeB ? bs[rb - 2] : bs[rb - 1]];
    if (K !== Kb || expected === null || !sameShape(expected, out.shape)) {
      const how = `transposeA=${transposeA}, transposeB=${transposeB}`;
      throw new Error(`matMul: output ${shapeStr(out.shape)} for ${shapeStr(as)} x ${shapeStr(bs)} (${how})`);
    }
    checkSize('matMul', a);
    checkSize('matMul', b);
    const batch = checkSize('matMul', out) / Math.max(1, M * N);
    if (M === 0 || N === 0 || batch === 0) return;
    const wasm = this.wasm;
    if (!this.stageFor(bias === null ? [a.data, b.data, out.data] : [a.data, b.data, bias.data, out.data])) {
      jsMatMulEpilogue(a, b, out, transposeA, transposeB, bias, activation);
      return;
    }
    const aOff = this.at(a.data, true);
    const bOff = this.at(b.data, true);
    const biasOff = bias === null ? 0 : this.at(bias.data, true);
    const oOff = this.at(out.data, false);
    const aSize = sizeOf(aBatch);
    if (!transposeA && sizeOf(bBatch) === 1 && aSize === batch) {
      // A batch of rows times one matrix is one tall product: [batch·M, K]·[K, N].
      wasm.matMul(aOff, bOff, oOff, batch * M, N, K, false, transposeB, biasOff, activation);
    } else {
      const aBS = broadcastStrides(aBatch, expected.slice(0, -2));
      const bBS = broadcastStrides(bBatch, expected.slice(0, -2));
      const br = aBS.length;
      const idx = new Int32Array(br);
      let ai = 0;
      let bi = 0;
      for (let t = 0; t < batch; t++) {
        const o = oOff + t * M * N * 4;
        wasm.matMul(
          aOff + ai * M * K * 4,
          bOff + bi * K * N * 4,
          o,
          M,
          N,
          K,
          transposeA,
          transposeB,
          biasOff,
          activation,
        );
        for (let d = br - 1; d >= 0; d--) {
          ai += aBS[d];
          bi += bBS[d];
          if (++idx[d] < expected[d]) break;
          ai -= aBS[d] * expected[d];
          bi -= bBS[d] * expected[d];
          idx[d] = 0;
        }
      }
    }
    this.done(oOff, out.data);
  }

  /** out = a op b for same shapes, a scalar on either side, or a row (trailing dims) broadcast on either side. */
  binary(op: WasmBinaryOp, a: Buf, b: Buf, out: Buf): void {
    const outShape = broadcastShapes(a.shape, b.shape);
    const n = out.data.length;
    const fits = outShape !== null && sameShape(outShape, out.shape) && checkSize('binary', out) === n;
    if (!fits || !isF32(a.data, b.data, out.data) || n === 0) {
      JS_BINARY[op](a, b, out);
      return;
    }
    const al = checkSize('binary', a);
    const bl = checkSize('binary', b);
    const wasm = this.wasm;
    let run: ((aOff: number, bOff: number, oOff: number) => void) | null = null;
    if (al === n && bl === n) run = (x, y, o) => wasm.binary(op, x, y, o, n);
    else if (al === 1 && bl === n) run = (x, y, o) => wasm.binary(op, x, y, o, n, 'a');
    else if (al === n && bl === 1) run = (x, y, o) => wasm.binary(op, x, y, o, n, 'b');
    else if (al === n && isTrailingOf(b.shape, out.shape)) run = (x, y, o) => wasm.binaryRow(op, x, y, o, n / bl, bl);
    else if (bl === n && isTrailingOf(a.shape, out.shape)) {
      run = (x, y, o) => wasm.binaryRow(op, y, x, o, n / al, al, true);
    }
    if (run === null || !this.stageFor([a.data, b.data, out.data])) {
      JS_BINARY[op](a, b, out);
      return;
    }
    const aOff = this.at(a.data, true);
    const bOff = this.at(b.data, true);
    const oOff = this.at(out.data, false);
    run(aOff, bOff, oOff);
    this.done(oOff, out.data);
  }

  /** out = op(x), x and out of one shape. */
  unary(op: WasmUnaryOp, x: Buf, out: Buf): void {
    const n = checkSize('unary', out);
    if (!isF32(x.data, out.data) || x.data.length !== n || !this.stageFor([x.data, out.data])) {
      JS_UNARY[op](x, out);
      return;
    }
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.unary(op, xOff, oOff, n);
    this.done(oOff, out.data);
  }

  /** out = dy · (x > 0 ? 1 : 0): relu's gradient, x the relu input. */
  reluGrad(x: Buf, dy: Buf, out: Buf): void {
    const n = checkSize('reluGrad', out);
    const datas = [x.data, dy.data, out.data];
    if (!isF32(...datas) || x.data.length !== n || dy.data.length !== n || !this.stageFor(datas)) {
      jsReluGrad(x, dy, out);
      return;
    }
    const xOff = this.at(x.data, true);
    const dyOff = this.at(dy.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.reluGrad(xOff, dyOff, oOff, n);
    this.done(oOff, out.data);
  }

  /**
   * A fused elementwise group (src/ops/fused.ts) in the wasm interpreter: float32; each input full-size, one scalar,
   * or broadcast (expanded to full size in the staging area first). False when the JS kernel must run it (another
   * dtype, an op outside the interpreter's table, malformed steps, no staging room while locked). Programs are
   * compiled once per (group, input kinds), cached under `key` (the node's attrs object, stable for a plan's life).
   */
  fused(inputs: readonly Buf[], out: Buf, steps: readonly FusedProgramStep[], key: object): boolean {
    const n = out.data.length;
    if (!(out.data instanceof Float32Array)) return false;
    let kinds = '';
    let expanded = 0;
    for (const x of inputs) {
      const length = x.data.length;
      if (!(x.data instanceof Float32Array)) return false;
      // A broadcast input (a row, a column) is expanded to full size in the staging area: one cheap copy.
      if (length !== n && length !== 1) expanded += alignUp(n * 4);
      kinds += length === 1 && n !== 1 ? 's' : 'f';
    }
    let byKinds = this.programs.get(key);
    if (byKinds === undefined) {
      byKinds = new Map();
      this.programs.set(key, byKinds);
    }
    let program = byKinds.get(kinds);
    if (program === undefined) {
      const inputKinds: FusedInputKind[] = [...kinds].map((k) => (k === 'f' ? 'full' : 'scalar'));
      try {
        program = Array.isArray(steps) ? compileFusedProgram(steps, inputKinds) : null;
      } catch {
        program = null; // malformed steps: the JS kernel reports them
      }
      byKinds.set(kinds, program);
    }
    const datas: TypedArray[] = [];
    for (const x of inputs) if (x.data.length === n || x.data.length === 1) datas.push(x.data);
    datas.push(out.data);
    if (program === null || !this.stageFor(datas, expanded)) return false;
    const offsets = inputs.map((x) => {
      if (x.data.length === n || x.data.length === 1) return this.at(x.data, true);
      const offset = this.staging + this.stagingTop;
      this.stagingTop += alignUp(n * 4);
      broadcastTo(x, { data: new Float32Array(this.wasm.arena.memory.buffer, offset, n), shape: out.shape });
      return offset;
    });
    const oOff = this.at(out.data, false);
    this.wasm.fused(program, offsets, oOff, n);
    this.done(oOff, out.data);
    return true;
  }

  /** [rows, cols] for a last-axis kernel, or null when the JS kernel must run. */
  private lastAxis(x: Buf, axis: number, out: Buf, outSize: (size: number) => number): [number, number] | null {
    const r = x.shape.length;
    if (axis !== r - 1 || !isF32(x.data, out.data)) return null;
    const size = checkSize('wasm', x);
    if (out.data.length !== outSize(size) || checkSize('wasm', out) !== out.data.length) return null;
    const cols = x.shape[r - 1];
    return cols === 0 ? null : [size / cols, cols];
  }

  /** Softmax along `axis` (wasm for the last axis). */
  softmax(x: Buf, axis: number, out: Buf): void {
    const rc = this.lastAxis(x, axis, out, (n) => n);
    if (rc === null || !this.stageFor([x.data, out.data])) {
      jsSoftmax(x, axis, out);
      return;
    }
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.softmax(xOff, oOff, rc[0], rc[1]);
    this.done(oOff, out.data);
  }

  /** Log-softmax along `axis` (wasm for the last axis). */
  logSoftmax(x: Buf, axis: number, out: Buf): void {
    const rc = this.lastAxis(x, axis, out, (n) => n);
    if (rc === null || !this.stageFor([x.data, out.data])) {
      jsLogSoftmax(x, axis, out);
      return;
    }
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.logSoftmax(xOff, oOff, rc[0], rc[1]);
    this.done(oOff, out.data);
  }

  /** −Σ labels · logSoftmax(logits) along `axis` (wasm for the last axis); out drops `axis`. */
  softmaxCrossEntropy(labels: Buf, logits: Buf, axis: number, out: Buf): void {
    const cols = logits.shape[logits.shape.length - 1];
    const rc = this.lastAxis(logits, axis, out, (n) => n / cols);
    if (
      rc === null ||
      !isF32(labels.data) ||
      !sameShape(labels.shape, logits.shape) ||
      !this.stageFor([labels.data, logits.data, out.data])
    ) {
      jsSoftmaxCrossEntropy(labels, logits, axis, out);
      return;
    }
    const yOff = this.at(labels.data, true);
    const xOff = this.at(logits.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.softmaxCrossEntropy(yOff, xOff, oOff, rc[0], rc[1]);
    this.done(oOff, out.data);
  }

  /**
   * The JS reduce for 'sum' and 'max' (axes sorted, unique): wasm when the axes are the trailing dims (a reduction
   * of each row, or of everything) or, for sums, the leading dims (column sums); the JS kernel otherwise.
   */
  reduce(kind: 'sum' | 'max', x: Buf, axes: readonly number[], out: Buf): void {
    const shape = x.shape;
    const r = shape.length;
    const k = axes.length;
    const trailing = k > 0 && axes.every((a, i) => a === r - k + i);
    const leading = k > 0 && axes.every((a, i) => a === i);
    const size = sizeOf(shape);
    if (
      !isF32(x.data, out.data) ||
      x.data.length !== size ||
      size === 0 ||
      !(trailing || (leading && kind === 'sum'))
    ) {
      jsReduce(kind, x, axes, out);
      return;
    }
    const split = trailing ? r - k : k;
    const rows = sizeOf(shape.slice(0, split));
    const cols = sizeOf(shape.slice(split));
    const outSize = trailing ? rows : cols;
    // A mismatched output goes to the JS kernel, which reports it.
    if (out.data.length !== outSize || !this.stageFor([x.data, out.data])) {
      jsReduce(kind, x, axes, out);
      return;
    }
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    if (!trailing) this.wasm.colSum(xOff, oOff, rows, cols);
    else if (kind === 'sum') this.wasm.rowSum(xOff, oOff, rows, cols);
    else this.wasm.rowMax(xOff, oOff, rows, cols);
    this.done(oOff, out.data);
  }
}
