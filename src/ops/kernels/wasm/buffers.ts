/**
 * The wasm kernels over Bufs, with the JS kernels' signatures: inputs are copied into the arena, the kernel runs,
 * the result is copied out, and the temporaries are released. This is the API for tests and benchmarks until the
 * session keeps its buffers in the arena; anything the wasm kernels do not cover (float64, int32, other axes,
 * general broadcasting) runs the JS reference kernel instead, so every call gives the JS kernel's answer.
 */
/* eslint-disable no-restricted-imports -- '..' here is src/ops/kernels, the layer this folder belongs to (the JS
   reference kernels), not the graph the rule keeps kernels away from. */
import type { Buf, TypedArray } from '../types';
import { binary, broadcastShapes, unary } from '../broadcast';
import { softmaxCrossEntropy as jsSoftmaxCrossEntropy } from '../grouped';
import { matMul as jsMatMul } from '../linalg';
import { logSoftmax as jsLogSoftmax, softmax as jsSoftmax } from '../nn';
import { reduce as jsReduce } from '../reduce';
import { broadcastStrides, checkSize, shapeStr, sizeOf } from '../util';
/* eslint-enable no-restricted-imports */
import type { Activation, WasmBinaryOp, WasmKernels, WasmUnaryOp } from './kernels';

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
};

const jsReluGrad = binary((x, dy) => dy * (x > 0 ? 1 : 0));

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
  constructor(readonly wasm: WasmKernels) {}

  private put(data: TypedArray): number {
    const offset = this.wasm.arena.alloc(data.length * 4);
    this.wasm.arena.heapF32.set(data, offset >> 2);
    return offset;
  }

  private take(offset: number, out: TypedArray): void {
    const start = offset >> 2;
    out.set(this.wasm.arena.heapF32.subarray(start, start + out.length));
  }

  /** Runs `body` with arena temporaries that are all released afterwards, even if it throws. */
  private scoped(body: () => void): void {
    const mark = this.wasm.arena.mark();
    try {
      body();
    } finally {
      this.wasm.arena.release(mark);
    }
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
      jsMatMul(a, b, out, transposeA, transposeB);
      if (bias !== null) JS_BINARY.add(out, bias, out);
      if (activation !== 'none') JS_UNARY[activation](out, out);
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
    this.scoped(() => {
      const aOff = this.put(a.data);
      const bOff = this.put(b.data);
      const biasOff = bias === null ? 0 : this.put(bias.data);
      const oOff = wasm.arena.alloc(out.data.length * 4);
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
      this.take(oOff, out.data);
    });
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
    if (run === null) {
      JS_BINARY[op](a, b, out);
      return;
    }
    const body = run;
    this.scoped(() => {
      const aOff = this.put(a.data);
      const bOff = this.put(b.data);
      const oOff = wasm.arena.alloc(n * 4);
      body(aOff, bOff, oOff);
      this.take(oOff, out.data);
    });
  }

  /** out = op(x), x and out of one shape. */
  unary(op: WasmUnaryOp, x: Buf, out: Buf): void {
    const n = checkSize('unary', out);
    if (!isF32(x.data, out.data) || x.data.length !== n) {
      JS_UNARY[op](x, out);
      return;
    }
    this.scoped(() => {
      const xOff = this.put(x.data);
      this.wasm.unary(op, xOff, xOff, n);
      this.take(xOff, out.data);
    });
  }

  /** out = dy · (x > 0 ? 1 : 0): relu's gradient, x the relu input. */
  reluGrad(x: Buf, dy: Buf, out: Buf): void {
    const n = checkSize('reluGrad', out);
    if (!isF32(x.data, dy.data, out.data) || x.data.length !== n || dy.data.length !== n) {
      jsReluGrad(x, dy, out);
      return;
    }
    this.scoped(() => {
      const xOff = this.put(x.data);
      const dyOff = this.put(dy.data);
      this.wasm.reluGrad(xOff, dyOff, dyOff, n);
      this.take(dyOff, out.data);
    });
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
    if (rc === null) {
      jsSoftmax(x, axis, out);
      return;
    }
    this.scoped(() => {
      const xOff = this.put(x.data);
      this.wasm.softmax(xOff, xOff, rc[0], rc[1]);
      this.take(xOff, out.data);
    });
  }

  /** Log-softmax along `axis` (wasm for the last axis). */
  logSoftmax(x: Buf, axis: number, out: Buf): void {
    const rc = this.lastAxis(x, axis, out, (n) => n);
    if (rc === null) {
      jsLogSoftmax(x, axis, out);
      return;
    }
    this.scoped(() => {
      const xOff = this.put(x.data);
      this.wasm.logSoftmax(xOff, xOff, rc[0], rc[1]);
      this.take(xOff, out.data);
    });
  }

  /** −Σ labels · logSoftmax(logits) along `axis` (wasm for the last axis); out drops `axis`. */
  softmaxCrossEntropy(labels: Buf, logits: Buf, axis: number, out: Buf): void {
    const cols = logits.shape[logits.shape.length - 1];
    const rc = this.lastAxis(logits, axis, out, (n) => n / cols);
    if (rc === null || !isF32(labels.data) || !sameShape(labels.shape, logits.shape)) {
      jsSoftmaxCrossEntropy(labels, logits, axis, out);
      return;
    }
    this.scoped(() => {
      const yOff = this.put(labels.data);
      const xOff = this.put(logits.data);
      const oOff = this.wasm.arena.alloc(rc[0] * 4);
      this.wasm.softmaxCrossEntropy(yOff, xOff, oOff, rc[0], rc[1]);
      this.take(oOff, out.data);
    });
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
    if (out.data.length !== outSize) {
      jsReduce(kind, x, axes, out); // the JS kernel reports the mismatch
      return;
    }
    this.scoped(() => {
      const xOff = this.put(x.data);
      const oOff = this.wasm.arena.alloc(outSize * 4);
      if (!trailing) this.wasm.colSum(xOff, oOff, rows, cols);
      else if (kind === 'sum') this.wasm.rowSum(xOff, oOff, rows, cols);
      else this.wasm.rowMax(xOff, oOff, rows, cols);
      this.take(oOff, out.data);
    });
  }
}
