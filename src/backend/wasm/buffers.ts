/**
 * The wasm kernels over Bufs, with the JS kernels' signatures: what the binding table (src/backend/bindings.ts) calls
 * for a session's plan steps. A Buf that is a view of the arena (a session's planned buffers and variables are) is
 * read and written in place; any other is copied into a staging area and back.
 *
 * Every method takes float32 Bufs only (the binding table's guard checks the dtype once) and returns whether it
 * ran: false for a layout it does not cover (another axis, general broadcasting, …) or when its copies do not fit
 * the staging area, and then it has written nothing and the guard runs the op record's own JS kernel. Shapes that
 * no kernel accepts (a wrong output shape for matMul, say) throw, as the JS kernels do.
 */
import {
  broadcastShapes,
  broadcastTo,
  matMulDims,
  type Buf,
  type PoolWindow,
  type TypedArray,
} from '../../ops/kernels';
import { axisGeometry, type ConvAttrs } from '../../ops/kernels/conv';
import { broadcastStrides, checkSize, shapeStr, sizeOf } from '../../ops/kernels/util';
import { alignUp } from './arena';
import type {
  WasmActivation,
  WasmBinaryOp,
  WasmConvGeometry,
  WasmKernels,
  WasmUnaryOp,
  WindowGeometry,
} from './kernels';
import { compileFusedProgram, type FusedInputKind, type FusedProgramStep } from './program';

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

/** Whether b is a dense rank-4 buffer (its data holds exactly its shape's elements) with no empty dim. */
function dense4(b: Buf): boolean {
  const s = b.shape;
  return s.length === 4 && s.every((d) => Number.isSafeInteger(d) && d > 0) && b.data.length === sizeOf(s);
}

/**
 * A pooling window's geometry over x [n, h, w, c] (NHWC) with the pooled shape `pooled`, or null when the shapes do
 * not agree with the window (the JS kernel then runs and reports it).
 */
function poolGeometry(x: Buf, pooled: Buf, window: PoolWindow): WindowGeometry | null {
  if (!dense4(x) || !dense4(pooled)) return null;
  const [n, inH, inW, channels] = x.shape;
  const [pn, outH, outW, pc] = pooled.shape;
  const [filterH, filterW] = window.filterSize;
  const [strideH, strideW] = window.strides;
  const [top, bottom, left, right] = window.pads;
  const [dilationH, dilationW] = window.dilations ?? [1, 1];
  const rows = Math.floor((inH + top + bottom - (filterH - 1) * dilationH - 1) / strideH) + 1;
  const cols = Math.floor((inW + left + right - (filterW - 1) * dilationW - 1) / strideW) + 1;
  if (pn !== n || pc !== channels || rows !== outH || cols !== outW) return null;
  return { n, inH, inW, channels, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, top, left };
}

/**
 * A depthwise conv's geometry and channel multiplier: x [n, h, w, c] NHWC, a filter [fh, fw, 1, c·multiplier],
 * groups = c, y [n, oh, ow, c·multiplier]; null for anything else (NCHW, groups ≠ c, shapes that disagree).
 */
function depthwiseGeometry(
  x: Buf,
  filter: Buf,
  y: Buf,
  attrs: ConvAttrs,
): { geometry: WindowGeometry; multiplier: number } | null {
  if (attrs.dataFormat !== 'NHWC' || !dense4(x) || !dense4(filter) || !dense4(y)) return null;
  const [n, inH, inW, channels] = x.shape;
  const [filterH, filterW, one, oc] = filter.shape;
  if ((attrs.groups ?? 1) !== channels || one !== 1 || oc % channels !== 0) return null;
  const pads = attrs.pads ?? [0, 0, 0, 0];
  const [strideH, strideW] = attrs.strides;
  const [dilationH, dilationW] = attrs.dilations;
  const rows = axisGeometry(inH, filterH, strideH, dilationH, attrs.pad, pads[0], pads[1]);
  const cols = axisGeometry(inW, filterW, strideW, dilationW, attrs.pad, pads[2], pads[3]);
  const [yn, outH, outW, yc] = y.shape;
  if (yn !== n || yc !== oc || outH !== rows.out || outW !== cols.out) return null;
  const geometry = {
    n,
    inH,
    inW,
    channels,
    outH,
    outW,
    filterH,
    filterW,
    strideH,
    strideW,
    dilationH,
    dilationW,
    top: rows.before,
    left: cols.before,
  };
  return { geometry, multiplier: oc / channels };
}

/** A packRows4 copy of a matrix: where, its product shape, and whether the matrix is stored as Bᵀ. */
interface PackedCopy {
  readonly offset: number;
  readonly K: number;
  readonly N: number;
  readonly transposed: boolean;
}

export class WasmBufKernels {
  /** The staging block: where arguments that are not arena views are copied for one call (-1: none yet). */
  private staging = -1;
  private stagingBytes = 0;
  private stagingTop = 0;
  private locks = 0;
  private readonly programs = new WeakMap<object, Map<string, Int32Array | null>>();
  /** Arena views of [K, N] matrices with a packRows4 copy (a session's constant weights): used for one-row products. */
  private readonly packed = new WeakMap<TypedArray, PackedCopy>();

  /** The pending idle check of `releaseWhenIdle` (a timer handle), or null. */
  private idleTimer: unknown = null;

  constructor(readonly wasm: WasmKernels) {}

  /**
   * Gives the arena's memory back now if no block but the staging area is live and no run is in progress (see
   * WasmKernels.releaseMemory): the staging block is freed first, then the memory, its instance and the helper go.
   * True when the memory is released (or already was).
   */
  releaseMemory(): boolean {
    const arena = this.wasm.arena;
    if (arena.released) return true;
    if (this.locks > 0 || arena.blocks > (this.staging >= 0 ? 1 : 0)) return false;
    if (this.staging >= 0) arena.free(this.staging);
    this.staging = -1;
    this.stagingBytes = 0;
    return this.wasm.releaseMemory();
  }

  /**
   * Releases the memory at the next turn of the event loop if by then no block but the staging area is live: what a
   * session calls when it frees blocks outside a run (a finalizer, plan eviction). Waiting a turn lets a program that
   * frees and allocates in one synchronous stretch keep the same memory instead of making a new one each time.
   */
  releaseWhenIdle(): void {
    const arena = this.wasm.arena;
    if (this.idleTimer !== null || arena.released || arena.blocks > (this.staging >= 0 ? 1 : 0)) return;
    const timers = globalThis as unknown as {
      setTimeout?: (callback: () => void, ms: number) => { unref?: () => void } | number;
    };
    if (timers.setTimeout === undefined) return;
    const handle = timers.setTimeout(() => {
      this.idleTimer = null;
      this.releaseMemory();
    }, 0);
    // A pending check never keeps a Node process alive.
    if (typeof handle === 'object') handle.unref?.();
    this.idleTimer = handle;
  }

  /**
   * Makes the staging area hold at least `bytes`, which may grow the memory: a session calls it before it takes its
   * views for a run. False when the arena cannot supply it (calls needing more then decline, and the JS kernel runs).
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
   * those views. A call whose copies do not fit the reserved staging area declines (returns false) instead. Nests.
   */
  lock(): void {
    this.locks++;
  }

  unlock(): void {
    if (this.locks > 0) this.locks--;
  }

  /** Whether a step loop holds views of the arena now (a run is in progress on these kernels). */
  get locked(): boolean {
    return this.locks > 0;
  }

  /**
   * Says that `view` (an arena view holding B [K, N], or Bᵀ [N, K] when `transposed`) has a packRows4 copy at byte
   * offset `packed` (WasmKernels.packRows4): a one-row product with it as B (transposed as said) reads that copy. The
   * owner calls `unpack` before the copy's memory is freed; an entry also dies with its view.
   */
  setPacked(view: TypedArray, packed: number, K: number, N: number, transposed: boolean): void {
    this.packed.set(view, { offset: packed, K, N, transposed });
  }

  unpack(view: TypedArray): void {
    this.packed.delete(view);
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

  /** The byte offset of `data` in the arena: itself if an arena view, else its staging copy (copied when asked). */
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
   * matMul of 2-D operands that fit each other: the general path's kernel calls without its batch-dim arrays and
   * broadcasts, and with no staging lookups when every operand is an arena view (a session run's planned buffers and
   * placed constants; otherwise, e.g. a fetched result or a small bias, the others are staged as usual). False leaves
   * everything to the general path (which also throws for shapes that do not fit). A batch-1 layer's dispatch went
   * from 0.45 to 0.15 µs.
   */
  private matMul2d(
    a: Buf,
    b: Buf,
    out: Buf,
    transposeA: boolean,
    transposeB: boolean,
    bias: Buf | null,
    activation: WasmActivation,
  ): boolean {
    const A = a.data;
    const B = b.data;
    const O = out.data;
    const M = transposeA ? a.shape[1] : a.shape[0];
    const K = transposeA ? a.shape[0] : a.shape[1];
    const N = transposeB ? b.shape[0] : b.shape[1];
    const Kb = transposeB ? b.shape[1] : b.shape[0];
    if (K !== Kb || out.shape[0] !== M || out.shape[1] !== N || M === 0 || N === 0) return false;
    if (A.length !== M * K || B.length !== K * N || O.length !== M * N) return false;
    if (bias !== null && (bias.shape.length !== 1 || bias.shape[0] !== N || bias.data.length !== N)) return false;
    const wasm = this.wasm;
    const buffer = wasm.arena.holds(A) ? A.buffer : null;
    const views =
      buffer !== null && B.buffer === buffer && O.buffer === buffer && (bias === null || bias.data.buffer === buffer);
    // Otherwise (a fetched result, a small bias not placed with the constants, a feed) the others are staged.
    if (!views && !this.stageFor(bias === null ? [A, B, O] : [A, B, bias.data, O])) return false;
    const aOff = views ? A.byteOffset : this.at(A, true);
    const bOff = views ? B.byteOffset : this.at(B, true);
    const biasOff = bias === null ? 0 : views ? bias.data.byteOffset : this.at(bias.data, true);
    const oOff = views ? O.byteOffset : this.at(O, false);
    const packed = M === 1 ? this.packed.get(B) : undefined;
    if (!(
      packed !== undefined &&
      packed.transposed === transposeB &&
      packed.K === K &&
      packed.N === N &&
      wasm.matVecPacked(aOff, 1, packed.offset, oOff, N, K, biasOff, activation)
    )) {
      wasm.matMul(aOff, bOff, oOff, M, N, K, transposeA, transposeB, biasOff, activation);
    }
    if (!views) this.done(oOff, O);
    return true;
  }

  /**
   * The JS matMul's contract (batched, broadcast batch dims, transposes) plus an epilogue: out = act(a·b + bias),
   * bias of size N (shape [N] or [1, …, N]). Throws for shapes the JS kernel rejects; false only without room.
   */
  matMul(
    a: Buf,
    b: Buf,
    out: Buf,
    transposeA: boolean,
    transposeB: boolean,
    bias: Buf | null = null,
    activation: WasmActivation = 'none',
  ): boolean {
    if (a.shape.length === 2 && b.shape.length === 2 && out.shape.length === 2) {
      if (this.matMul2d(a, b, out, transposeA, transposeB, bias, activation)) return true;
    }
    const N = out.shape.length >= 2 ? out.shape[out.shape.length - 1] : -1;
    if (bias !== null && (bias.data.length !== N || checkSize('matMul', bias) !== N)) {
      throw new Error(`matMul: bias ${shapeStr(bias.shape)} must hold the ${N} output columns`);
    }
    // Validated in O(rank) here, as the JS kernel does, before anything is staged.
    const { M, K, aBatch, bBatch, batchShape, batch } = matMulDims(a, b, out, transposeA, transposeB);
    if (M === 0 || N === 0 || batch === 0) return true; // nothing to write
    const wasm = this.wasm;
    if (!this.stageFor(bias === null ? [a.data, b.data, out.data] : [a.data, b.data, bias.data, out.data])) {
      return false;
    }
    const aOff = this.at(a.data, true);
    const bOff = this.at(b.data, true);
    const biasOff = bias === null ? 0 : this.at(bias.data, true);
    const oOff = this.at(out.data, false);
    const aSize = sizeOf(aBatch);
    const packed = batch * M === 1 ? this.packed.get(b.data) : undefined;
    if (
      packed !== undefined &&
      packed.transposed === transposeB &&
      packed.K === K &&
      packed.N === N &&
      wasm.matVecPacked(aOff, 1, packed.offset, oOff, N, K, biasOff, activation)
    ) {
      // One row times a matrix with a packed copy (the constant weights of a batch-1 layer): done.
    } else if (!transposeA && sizeOf(bBatch) === 1 && aSize === batch) {
      // A batch of rows times one matrix is one tall product: [batch·M, K]·[K, N].
      wasm.matMul(aOff, bOff, oOff, batch * M, N, K, false, transposeB, biasOff, activation);
    } else {
      const aBS = broadcastStrides(aBatch, batchShape);
      const bBS = broadcastStrides(bBatch, batchShape);
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
          if (++idx[d] < batchShape[d]) break;
          ai -= aBS[d] * batchShape[d];
          bi -= bBS[d] * batchShape[d];
          idx[d] = 0;
        }
      }
    }
    this.done(oOff, out.data);
    return true;
  }

  /**
   * out = a op b for same shapes, a scalar on either side, or a row (trailing dims) broadcast on either side; false
   * for any other broadcast (and for empty outputs).
   */
  binary(op: WasmBinaryOp, a: Buf, b: Buf, out: Buf): boolean {
    const outShape = broadcastShapes(a.shape, b.shape);
    const n = out.data.length;
    const fits = outShape !== null && sameShape(outShape, out.shape) && checkSize('binary', out) === n;
    if (!fits || n === 0) return false;
    const al = checkSize('binary', a);
    const bl = checkSize('binary', b);
    // Which form: 0 same shapes, 1 a scalar, 2 b scalar, 3 b a trailing row, 4 a a trailing row.
    let form = -1;
    if (al === n && bl === n) form = 0;
    else if (al === 1 && bl === n) form = 1;
    else if (al === n && bl === 1) form = 2;
    else if (al === n && isTrailingOf(b.shape, out.shape)) form = 3;
    else if (bl === n && isTrailingOf(a.shape, out.shape)) form = 4;
    if (form < 0 || !this.stageFor([a.data, b.data, out.data])) return false;
    const aOff = this.at(a.data, true);
    const bOff = this.at(b.data, true);
    const oOff = this.at(out.data, false);
    const wasm = this.wasm;
    if (form === 0) wasm.binary(op, aOff, bOff, oOff, n);
    else if (form === 1) wasm.binary(op, aOff, bOff, oOff, n, 'a');
    else if (form === 2) wasm.binary(op, aOff, bOff, oOff, n, 'b');
    else if (form === 3) wasm.binaryRow(op, aOff, bOff, oOff, n / bl, bl);
    else wasm.binaryRow(op, bOff, aOff, oOff, n / al, al, true);
    this.done(oOff, out.data);
    return true;
  }

  /** out = op(x), x and out of one shape. */
  unary(op: WasmUnaryOp, x: Buf, out: Buf): boolean {
    const n = checkSize('unary', out);
    if (x.data.length !== n || !this.stageFor([x.data, out.data])) return false;
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.unary(op, xOff, oOff, n);
    this.done(oOff, out.data);
    return true;
  }

  /** out = dy · (x > 0 ? 1 : 0): relu's gradient, x the relu input. */
  reluGrad(x: Buf, dy: Buf, out: Buf): boolean {
    const n = checkSize('reluGrad', out);
    const datas = [x.data, dy.data, out.data];
    if (x.data.length !== n || dy.data.length !== n || !this.stageFor(datas)) return false;
    const xOff = this.at(x.data, true);
    const dyOff = this.at(dy.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.reluGrad(xOff, dyOff, oOff, n);
    this.done(oOff, out.data);
    return true;
  }

  /**
   * A fused elementwise group (src/ops/fused.ts) in the wasm interpreter: each input full-size, one scalar, a row
   * broadcast along the output (its trailing dims: a bias, per-channel statistics; read in place), or any other
   * broadcast (expanded to full size in the staging area first). False when the JS kernel must run it (an op outside
   * the interpreter's table, malformed steps, no staging room while locked). Programs are compiled once per (group,
   * input kinds), cached under `key` (the node's attrs object, stable for a plan's life); with `jit` (default) the
   * program runs compiled to wasm (WasmKernels.fused); with `fastTanh`, tanh steps run ONNX Runtime's rational form
   * (compileFusedProgram).
   */
  fused(
    inputs: readonly Buf[],
    out: Buf,
    steps: readonly FusedProgramStep[],
    key: object,
    jit = true,
    fastTanh = false,
  ): boolean {
    const n = out.data.length;
    const kindOf: FusedInputKind[] = [];
    let expanded = 0;
    for (const x of inputs) {
      const length = x.data.length;
      if (length === n) kindOf.push('full');
      else if (length === 1) kindOf.push('scalar');
      else if (isTrailingOf(x.shape, out.shape) && sizeOf(x.shape) === length) kindOf.push(`row:${length}`);
      else {
        // Another broadcast (a column, say) is expanded to full size in the staging area: one copy.
        expanded += alignUp(n * 4);
        kindOf.push('full');
      }
    }
    // The program depends on the input kinds and on tanh's form: both key it.
    const kinds = fastTanh ? `${kindOf.join()};fastTanh` : kindOf.join();
    let byKinds = this.programs.get(key);
    if (byKinds === undefined) {
      byKinds = new Map();
      this.programs.set(key, byKinds);
    }
    let program = byKinds.get(kinds);
    if (program === undefined) {
      try {
        program = Array.isArray(steps) ? compileFusedProgram(steps, kindOf, { fastTanh }) : null;
      } catch {
        program = null; // malformed steps: the JS kernel reports them
      }
      byKinds.set(kinds, program);
    }
    const datas: TypedArray[] = [];
    inputs.forEach((x, k) => {
      if (x.data.length === n || kindOf[k] !== 'full') datas.push(x.data);
    });
    datas.push(out.data);
    if (program === null || !this.stageFor(datas, expanded)) return false;
    const offsets = inputs.map((x, k) => {
      if (x.data.length === n || kindOf[k] !== 'full') return this.at(x.data, true);
      const offset = this.staging + this.stagingTop;
      this.stagingTop += alignUp(n * 4);
      broadcastTo(x, { data: new Float32Array(this.wasm.arena.memory.buffer, offset, n), shape: out.shape });
      return offset;
    });
    const oOff = this.at(out.data, false);
    this.wasm.fused(program, offsets, oOff, n, jit);
    this.done(oOff, out.data);
    return true;
  }

  /** [rows, cols] for a last-axis kernel, or null when the JS kernel must run. */
  private lastAxis(x: Buf, axis: number, out: Buf, outSize: (size: number) => number): [number, number] | null {
    const r = x.shape.length;
    if (axis !== r - 1) return null;
    const size = checkSize('wasm', x);
    if (out.data.length !== outSize(size) || checkSize('wasm', out) !== out.data.length) return null;
    const cols = x.shape[r - 1];
    return cols === 0 ? null : [size / cols, cols];
  }

  /** Softmax along `axis` (the last axis only). */
  softmax(x: Buf, axis: number, out: Buf): boolean {
    const rc = this.lastAxis(x, axis, out, (n) => n);
    if (rc === null || !this.stageFor([x.data, out.data])) return false;
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.softmax(xOff, oOff, rc[0], rc[1]);
    this.done(oOff, out.data);
    return true;
  }

  /** Log-softmax along `axis` (the last axis only). */
  logSoftmax(x: Buf, axis: number, out: Buf): boolean {
    const rc = this.lastAxis(x, axis, out, (n) => n);
    if (rc === null || !this.stageFor([x.data, out.data])) return false;
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.logSoftmax(xOff, oOff, rc[0], rc[1]);
    this.done(oOff, out.data);
    return true;
  }

  /** −Σ labels · logSoftmax(logits) along `axis` (the last axis only); out drops `axis`. */
  softmaxCrossEntropy(labels: Buf, logits: Buf, axis: number, out: Buf): boolean {
    const cols = logits.shape[logits.shape.length - 1];
    const rc = this.lastAxis(logits, axis, out, (n) => n / cols);
    if (rc === null || !sameShape(labels.shape, logits.shape) || !this.stageFor([labels.data, logits.data, out.data])) {
      return false;
    }
    const yOff = this.at(labels.data, true);
    const xOff = this.at(logits.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.softmaxCrossEntropy(yOff, xOff, oOff, rc[0], rc[1]);
    this.done(oOff, out.data);
    return true;
  }

  /** −Σ labels · ls along `axis` (the last axis only), ls a log-softmax; out drops `axis`. */
  crossEntropyFromLogSoftmax(labels: Buf, ls: Buf, axis: number, out: Buf): boolean {
    const cols = ls.shape[ls.shape.length - 1];
    const rc = this.lastAxis(ls, axis, out, (n) => n / cols);
    if (rc === null || !sameShape(labels.shape, ls.shape) || !this.stageFor([labels.data, ls.data, out.data])) {
      return false;
    }
    const yOff = this.at(labels.data, true);
    const xOff = this.at(ls.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.crossEntropyFromLogSoftmax(yOff, xOff, oOff, rc[0], rc[1]);
    this.done(oOff, out.data);
    return true;
  }

  /**
   * The JS reduce for 'sum' and 'max' (axes sorted, unique) when the axes are the trailing dims (a reduction of each
   * row, or of everything) or, for sums, the leading dims (column sums); false otherwise.
   */
  reduce(kind: 'sum' | 'max', x: Buf, axes: readonly number[], out: Buf): boolean {
    const shape = x.shape;
    const r = shape.length;
    const k = axes.length;
    const trailing = k > 0 && axes.every((a, i) => a === r - k + i);
    const leading = k > 0 && axes.every((a, i) => a === i);
    const size = sizeOf(shape);
    if (x.data.length !== size || size === 0 || !(trailing || (leading && kind === 'sum'))) return false;
    const split = trailing ? r - k : k;
    const rows = sizeOf(shape.slice(0, split));
    const cols = sizeOf(shape.slice(split));
    const outSize = trailing ? rows : cols;
    // A mismatched output goes to the JS kernel, which reports it.
    if (out.data.length !== outSize || !this.stageFor([x.data, out.data])) return false;
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    if (!trailing) this.wasm.colSum(xOff, oOff, rows, cols);
    else if (kind === 'sum') this.wasm.rowSum(xOff, oOff, rows, cols);
    else this.wasm.rowMax(xOff, oOff, rows, cols);
    this.done(oOff, out.data);
    return true;
  }

  // ---- convolution ------------------------------------------------------------------------------------------------

  /**
   * The wasm conv geometry of a conv op's node (NHWC, one group), with the JS kernels' own padding arithmetic
   * (axisGeometry); null when the wasm kernels do not cover it (NCHW, groups > 1, not rank 4, an empty operand) or
   * a shape does not agree, so that the JS kernel runs (and reports it).
   */
  private convGeometry(
    xShape: readonly number[],
    fShape: readonly number[],
    yShape: readonly number[],
    attrs: ConvAttrs,
  ): WasmConvGeometry | null {
    if (attrs.dataFormat !== 'NHWC' || (attrs.groups ?? 1) !== 1) return null;
    if (xShape.length !== 4 || fShape.length !== 4 || yShape.length !== 4) return null;
    const [n, inH, inW, inC] = xShape;
    const [fh, fw, fc, outC] = fShape;
    const pads = attrs.pads ?? [0, 0, 0, 0];
    const [sh, sw] = attrs.strides;
    const [dh, dw] = attrs.dilations;
    const rows = axisGeometry(inH, fh, sh, dh, attrs.pad, pads[0], pads[1]);
    const cols = axisGeometry(inW, fw, sw, dw, attrs.pad, pads[2], pads[3]);
    const expected = [n, rows.out, cols.out, outC];
    if (fc !== inC || !sameShape(yShape, expected) || [...xShape, ...fShape, ...yShape].some((d) => d === 0)) {
      return null;
    }
    return {
      n,
      inH,
      inW,
      inC,
      outH: rows.out,
      outW: cols.out,
      outC,
      fh,
      fw,
      sh,
      sw,
      dh,
      dw,
      top: rows.before,
      left: cols.before,
    };
  }

  /**
   * conv2d (NHWC, one group) with fusedMatMul's epilogue: out = act(conv2d(x, filter) + bias), bias of size outC or
   * null. False for what the wasm kernel does not cover (NCHW, groups > 1) and without staging room.
   */
  conv2d(
    x: Buf,
    filter: Buf,
    out: Buf,
    attrs: ConvAttrs,
    bias: Buf | null = null,
    activation: WasmActivation = 'none',
  ): boolean {
    const g = this.convGeometry(x.shape, filter.shape, out.shape, attrs);
    if (g === null || (bias !== null && bias.data.length !== g.outC)) return false;
    const datas = bias === null ? [x.data, filter.data, out.data] : [x.data, filter.data, bias.data, out.data];
    if (!this.stageFor(datas)) return false;
    const xOff = this.at(x.data, true);
    const fOff = this.at(filter.data, true);
    const biasOff = bias === null ? 0 : this.at(bias.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.conv2d(xOff, fOff, oOff, g, biasOff, activation);
    this.done(oOff, out.data);
    return true;
  }

  /** conv2dBackpropInput (NHWC, one group): out (dx, shaped as the forward x) from dy and the filter. */
  conv2dBackpropInput(dy: Buf, filter: Buf, out: Buf, attrs: ConvAttrs): boolean {
    const g = this.convGeometry(out.shape, filter.shape, dy.shape, attrs);
    if (g === null || !this.stageFor([dy.data, filter.data, out.data])) return false;
    const dyOff = this.at(dy.data, true);
    const fOff = this.at(filter.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.conv2dBackpropInput(dyOff, fOff, oOff, g);
    this.done(oOff, out.data);
    return true;
  }

  /** conv2dBackpropFilter (NHWC, one group): out (dW, [fh, fw, inC, outC]) from x and dy. */
  conv2dBackpropFilter(x: Buf, dy: Buf, out: Buf, attrs: ConvAttrs): boolean {
    const g = this.convGeometry(x.shape, out.shape, dy.shape, attrs);
    if (g === null || !this.stageFor([x.data, dy.data, out.data])) return false;
    const xOff = this.at(x.data, true);
    const dyOff = this.at(dy.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.conv2dBackpropFilter(xOff, dyOff, oOff, g);
    this.done(oOff, out.data);
    return true;
  }

  /**
   * broadcastTo when x is a row of out's trailing dims (or one float): out[i] = x[i mod size(x)]; false for other
   * broadcasts (a column, a middle axis).
   */
  broadcastRow(x: Buf, out: Buf): boolean {
    const n = checkSize('broadcastTo', out);
    const length = x.data.length;
    if (n === 0 || length === 0 || sizeOf(x.shape) !== length || !isTrailingOf(x.shape, out.shape)) return false;
    if (!this.stageFor([x.data, out.data])) return false;
    const xOff = this.at(x.data, true);
    const oOff = this.at(out.data, false);
    this.wasm.tileRow(xOff, length, oOff, n);
    this.done(oOff, out.data);
    return true;
  }

  // ---- Windowed NHWC kernels: pooling and depthwise convolution (the JS kernels' signatures). ----

  /** Stages the inputs and the output, runs `kernel(inputOffsets, outOffset)`; false without staging room. */
  private windowed(inputs: readonly Buf[], out: Buf, kernel: (at: number[], outAt: number) => void): boolean {
    const datas = inputs.map((b) => b.data);
    datas.push(out.data);
    if (!this.stageFor(datas)) return false;
    const at = inputs.map((b) => this.at(b.data, true));
    const oOff = this.at(out.data, false);
    kernel(at, oOff);
    this.done(oOff, out.data);
    return true;
  }

  /** maxPool over NHWC x: out = the maximum of each window (the JS kernel's ties and NaN rule, bit for bit). */
  maxPool(x: Buf, window: PoolWindow, out: Buf): boolean {
    const g = poolGeometry(x, out, window);
    return g !== null && this.windowed([x], out, ([xOff], o) => this.wasm.maxPool(g, xOff, o));
  }

  /** avgPool over NHWC x: out = the mean of each window (bit for bit the JS kernel's). */
  avgPool(x: Buf, window: PoolWindow, countPadding: boolean, out: Buf): boolean {
    const g = poolGeometry(x, out, window);
    return g !== null && this.windowed([x], out, ([xOff], o) => this.wasm.avgPool(g, xOff, o, countPadding));
  }

  /** maxPoolGrad: dx (x's shape) = dy added at each window's maximum (bit for bit the JS kernel's). */
  maxPoolGrad(x: Buf, dy: Buf, window: PoolWindow, dx: Buf): boolean {
    const g = poolGeometry(x, dy, window);
    if (g === null || !dense4(dx) || dx.data.length !== x.data.length) return false;
    return this.windowed([x, dy], dx, ([xOff, dyOff], o) => this.wasm.maxPoolGrad(g, xOff, dyOff, o));
  }

  /** maxPoolGradGrad: out (pooled) = g (x's shape) read at each window's maximum of x. */
  maxPoolGradGrad(x: Buf, gx: Buf, window: PoolWindow, out: Buf): boolean {
    const g = poolGeometry(x, out, window);
    if (g === null || gx.data.length !== x.data.length) return false;
    return this.windowed([x, gx], out, ([xOff, gOff], o) => this.wasm.maxPoolGradGrad(g, xOff, gOff, o));
  }

  /** avgPoolGrad: dx ([n, h, w, c]) = each dy spread evenly over its window (bit for bit the JS kernel's). */
  avgPoolGrad(dy: Buf, window: PoolWindow, countPadding: boolean, dx: Buf): boolean {
    const g = poolGeometry(dx, dy, window);
    return g !== null && this.windowed([dy], dx, ([dyOff], o) => this.wasm.avgPoolGrad(g, dyOff, o, countPadding));
  }

  /** conv2d when it is depthwise (NHWC, groups = in channels); false for every other conv. */
  depthwiseConv2d(x: Buf, filter: Buf, out: Buf, attrs: ConvAttrs): boolean {
    const d = depthwiseGeometry(x, filter, out, attrs);
    if (d === null) return false;
    return this.windowed([x, filter], out, ([xOff, fOff], o) =>
      this.wasm.depthwiseConv2d(d.geometry, d.multiplier, xOff, fOff, o),
    );
  }

  /** conv2dBackpropInput when depthwise: out (x's shape) from dy and the filter; false for every other conv. */
  depthwiseConv2dBackpropInput(dy: Buf, filter: Buf, out: Buf, attrs: ConvAttrs): boolean {
    const d = depthwiseGeometry(out, filter, dy, attrs);
    if (d === null) return false;
    return this.windowed([dy, filter], out, ([dyOff, fOff], o) =>
      this.wasm.depthwiseConv2dBackpropInput(d.geometry, d.multiplier, dyOff, fOff, o),
    );
  }

  /** conv2dBackpropFilter when depthwise: out (the filter's shape) from x and dy; false for every other conv. */
  depthwiseConv2dBackpropFilter(x: Buf, dy: Buf, out: Buf, attrs: ConvAttrs): boolean {
    const d = depthwiseGeometry(x, out, dy, attrs);
    if (d === null || !this.wasm.depthwiseFilterFits(d.geometry, d.multiplier)) return false;
    return this.windowed([x, dy], out, ([xOff, dyOff], o) =>
      this.wasm.depthwiseConv2dBackpropFilter(d.geometry, d.multiplier, xOff, dyOff, o),
    );
  }
}
