/**
 * The second core: one helper worker that instantiates the `shared` module over the same SharedArrayBuffer-backed
 * memory and runs half of a large kernel while the calling thread runs the other half. Jobs travel through a small
 * control block of int32s in that memory (a job counter, the export to call and its arguments), signalled with
 * Atomics, so a call stays synchronous: the caller starts the helper, does its half, and waits for the helper.
 *
 * Starting a thread is the embedder's part (`StartWorker`): Node's worker_threads and the web's Worker differ, and
 * the core must not import a Node-only module. See docs/wasm.md for both.
 */
import type { WasmMemory } from './instance';

// Control block layout, in int32 slots.
const JOB = 0; // incremented by the caller for every job; the helper waits on it
const DONE = 1; // set by the helper to the job number it finished; the caller waits on it
const READY = 2; // 1 once the helper has instantiated the module
const KIND = 3; // index into `names` of the export to call, -1 to stop
const NARGS = 4;
const FAILED = 5; // 1 if the last job threw
const ARGS = 8;
// KIND values besides an export's index: stop, load a jitted module (slot, byte offset, length), run one (slot, args).
const STOP = -1;
const JIT_LOAD = -2;
const JIT_RUN = -3;
const MAX_ARGS = 16;

/** Bytes the control block needs in the shared memory. */
export const CONTROL_BYTES = (ARGS + MAX_ARGS) * 4;

/** What the helper needs to start; every field survives structured cloning into a worker. */
export interface HelperInit {
  /** The compiled `shared` kernel module. */
  readonly module: object;
  /** The shared memory (its buffer is a SharedArrayBuffer). */
  readonly memory: WasmMemory;
  /** Byte offset of the control block. */
  readonly control: number;
  /** The exports a job may call, by index. */
  readonly names: readonly string[];
  /** How many times the helper polls for the next job before it sleeps in Atomics.wait. */
  readonly spin: number;
}

/** A started worker: all the kernels need of it is a way to stop it. */
export interface WorkerHandle {
  terminate(): unknown;
  /**
   * True when the worker can only start once this thread returns to its event loop (a browser's Worker): the kernels
   * then do not wait for it but use it from the first call after it is ready (see WasmHelper.ready).
   */
  readonly startsLater?: boolean;
}

/**
 * Starts a worker that evaluates `source` and then calls `lazygradWasmWorker(init)` with `init` as it received it.
 * In Node: a worker_threads Worker over that source with `eval: true` and `workerData: init` (docs/wasm.md).
 */
export type StartWorker = (source: string, init: HelperInit) => WorkerHandle;

/**
 * The worker's program: plain ES2017 so that it runs in any worker. It is a string rather than a stringified
 * function so that no build step (minifier, coverage instrumentation) can rewrite it into something that refers to
 * this module's scope.
 */
export const WORKER_SOURCE = `
function lazygradWasmWorker(init) {
  'use strict';
  var exports = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports;
  var fns = init.names.map(function (name) { return exports[name]; });
  // Jitted fused groups (src/backend/wasm/jit/), by slot: the bytes arrive in the shared memory, are copied out of
  // it and compiled here once per structure.
  var jit = [];
  var ctl = new Int32Array(init.memory.buffer, init.control, ${ARGS + MAX_ARGS});
  Atomics.store(ctl, ${READY}, 1);
  Atomics.notify(ctl, ${READY});
  var seen = 0;
  for (;;) {
    for (var i = 0; i < init.spin && Atomics.load(ctl, ${JOB}) === seen; i++);
    while (Atomics.load(ctl, ${JOB}) === seen) Atomics.wait(ctl, ${JOB}, seen);
    seen = Atomics.load(ctl, ${JOB});
    var kind = ctl[${KIND}];
    if (kind === ${STOP}) break;
    var args = [];
    for (var a = 0; a < ctl[${NARGS}]; a++) args.push(ctl[${ARGS} + a]);
    try {
      if (kind === ${JIT_LOAD}) {
        var bytes = new Uint8Array(init.memory.buffer, args[1], args[2]).slice();
        var module = new WebAssembly.Module(bytes);
        jit[args[0]] = new WebAssembly.Instance(module, { env: { memory: init.memory } }).exports.run;
      } else if (kind === ${JIT_RUN}) {
        jit[args[0]].apply(null, args.slice(1));
      } else {
        fns[kind].apply(null, args);
      }
      ctl[${FAILED}] = 0;
    } catch (e) {
      ctl[${FAILED}] = 1;
    }
    Atomics.store(ctl, ${DONE}, seen);
    Atomics.notify(ctl, ${DONE});
  }
  Atomics.store(ctl, ${DONE}, seen);
  Atomics.notify(ctl, ${DONE});
}
`;

// Polls before sleeping: a futex wake-up costs tens of microseconds, about what a 64³ matMul takes.
const SPIN = 20000;

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
function canBlock(control: Int32Array): boolean {
  try {
    Atomics.wait(control, FAILED, -12345, 0);
    return true;
  } catch {
    return false;
  }
}

export class WasmHelper {
  private readonly control: Int32Array;
  private readonly blocking: boolean;
  private readonly worker: WorkerHandle;
  private job = 0;
  private running = false;
  private stopped = false;

  constructor(
    startWorker: StartWorker,
    module: object,
    memory: WasmMemory,
    controlOffset: number,
    private readonly names: readonly string[],
    readyTimeoutMs = 10000,
  ) {
    this.control = new Int32Array(memory.buffer, controlOffset, ARGS + MAX_ARGS);
    this.control.fill(0);
    this.blocking = canBlock(this.control);
    this.worker = startWorker(WORKER_SOURCE, { module, memory, control: controlOffset, names, spin: SPIN });
    if (this.worker.startsLater !== true) this.waitFor(READY, 1, readyTimeoutMs);
  }

  /** How many jobs the worker has finished (its DONE slot): evidence that a second thread really ran. */
  get jobsDone(): number {
    return Atomics.load(this.control, DONE);
  }

  /** Whether the worker has started (always true once the constructor returned, unless the worker starts later). */
  get ready(): boolean {
    return Atomics.load(this.control, READY) === 1;
  }

  /** Hands the helper a call of export `name` with int32 arguments; it runs until `finish()`. */
  start(name: string, args: readonly number[]): void {
    const kind = this.names.indexOf(name);
    if (kind < 0) throw new Error(`wasm helper: unknown export ${name}`);
    this.startKind(kind, args);
  }

  /**
   * Has the helper compile and instantiate a jitted group's module (its `length` bytes at byte offset `at` of the
   * shared memory) as `slot`; waits for it. False when the worker could not (it then runs no job of that slot).
   */
  loadJit(slot: number, at: number, length: number): boolean {
    this.startKind(JIT_LOAD, [slot, at, length]);
    try {
      this.finish();
      return true;
    } catch {
      return false;
    }
  }

  /** Hands the helper a call of the jitted function in slot `args[0]` with the rest of `args`; see `finish()`. */
  startJit(args: readonly number[]): void {
    this.startKind(JIT_RUN, args);
  }

  private startKind(kind: number, args: readonly number[]): void {
    if (this.stopped) throw new Error('wasm helper: the worker was terminated');
    if (this.running) throw new Error('wasm helper: a job is already running');
    if (args.length > MAX_ARGS) throw new Error(`wasm helper: at most ${MAX_ARGS} arguments`);
    const c = this.control;
    c[KIND] = kind;
    c[NARGS] = args.length;
    for (let i = 0; i < args.length; i++) c[ARGS + i] = args[i];
    this.running = true;
    Atomics.store(c, JOB, ++this.job);
    Atomics.notify(c, JOB);
  }

  /** Waits for the running job; throws if it failed in the helper. */
  finish(): void {
    if (!this.running) return;
    this.waitFor(DONE, this.job, Infinity);
    this.running = false;
    if (this.control[FAILED] !== 0) throw new Error('wasm helper: the kernel failed in the worker');
  }

  /** Stops the worker: lets it leave its loop, then terminates it. */
  terminate(): void {
    if (this.stopped) return;
    this.finish();
    this.stopped = true;
    this.control[KIND] = STOP;
    Atomics.store(this.control, JOB, ++this.job);
    Atomics.notify(this.control, JOB);
    this.worker.terminate();
  }

  private waitFor(slot: number, value: number, timeoutMs: number): void {
    const c = this.control;
    for (let i = 0; i < SPIN && Atomics.load(c, slot) !== value; i++);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = Atomics.load(c, slot);
      if (now === value) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('wasm helper: the worker did not start in time');
      if (this.blocking) Atomics.wait(c, slot, now, Math.min(left, 1000));
    }
  }
}
