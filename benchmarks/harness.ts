/**
 * Timing and fairness: contenders are set up on "hosts" (this thread, or a worker thread for tfjs-wasm), checked
 * against lazygrad's numbers, then timed in interleaved rounds (A B C, B C A, …) so drift hits each alike.
 */
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { MessagePort, Worker } from 'worker_threads';
import { join } from 'path';
import { median, nowMs } from './stats';
import { CONTENDER_LABELS, ContenderId, Instance, Scale, Workload, workloads } from './workloads';

/** How long to measure. Counts are per contender per workload. */
export interface Policy {
  name: 'quick' | 'full';
  /** Time spent in timed calls per contender, beyond the minimum sample count. */
  budgetMs: number;
  minSamples: number;
  maxSamples: number;
  /** Interleaved rounds (fewer when a contender gets fewer samples than this). */
  rounds: number;
  /** Calls shorter than this are timed in batches this long, each sample the batch's mean. */
  minBatchMs: number;
  /** Untimed calls for this long after the check, to let the JIT settle (none when the check took longer). */
  warmupMs: number;
}

export const QUICK: Policy = {
  name: 'quick',
  budgetMs: 400,
  minSamples: 3,
  maxSamples: 40,
  rounds: 5,
  minBatchMs: 2,
  warmupMs: 150,
};
export const FULL: Policy = {
  name: 'full',
  budgetMs: 2000,
  minSamples: 7,
  maxSamples: 200,
  rounds: 10,
  minBatchMs: 5,
  warmupMs: 500,
};

setFlagsFromString('--expose-gc');
const gcFunction = runInNewContext('gc') as (() => void) | undefined;

/** A full collection before each timed batch, so no contender pays for another's garbage. */
export function collectGarbage(): void {
  gcFunction?.();
}

/**
 * The largest difference between two sets of outputs, relative to each reference output's largest magnitude:
 * max over outputs of max|a − b| / max|b|. Infinity when the structure differs or a value is NaN on one side only.
 */
export function maxNormalizedError(reference: readonly Float32Array[], got: readonly Float32Array[]): number {
  if (reference.length !== got.length) return Infinity;
  let worst = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k];
    const a = got[k];
    if (r.length !== a.length) return Infinity;
    let scale = 0;
    for (let i = 0; i < r.length; i++) scale = Math.max(scale, Math.abs(r[i]));
    let diff = 0;
    for (let i = 0; i < r.length; i++) {
      if (Number.isNaN(r[i]) !== Number.isNaN(a[i])) return Infinity;
      if (!Number.isNaN(r[i])) diff = Math.max(diff, Math.abs(r[i] - a[i]));
    }
    worst = Math.max(worst, diff / Math.max(scale, 1e-30));
  }
  return worst;
}

// ---------------------------------------------------------------------------------------------------------------
// Hosts

export interface SetupResult {
  outputs: Float32Array[];
  /** Median of the warm-up calls, ms. */
  estimateMs: number;
  note?: string;
}

/** Where contenders live: set up, timed and disposed on request. */
export interface Host {
  setup(workloadId: string, contender: ContenderId): Promise<SetupResult>;
  /** `count` samples, each the mean ms of `batch` consecutive calls. */
  time(contender: ContenderId, batch: number, count: number): Promise<number[]>;
  dispose(contender: ContenderId): Promise<void>;
  close(): Promise<void>;
}

/** Runs one call; awaits only when the contender is asynchronous (ORT), so sync contenders pay no await. */
async function callOnce(instance: Instance, isAsync: boolean): Promise<void> {
  if (isAsync) await instance.run();
  else instance.run();
}

/** Contenders in this thread. */
export class LocalHost implements Host {
  private readonly list: Workload[];
  private readonly live = new Map<ContenderId, { instance: Instance; isAsync: boolean }>();

  constructor(
    scale: Scale,
    private readonly warmupMs: number,
  ) {
    this.list = workloads(scale);
  }

  async setup(workloadId: string, contender: ContenderId): Promise<SetupResult> {
    const workload = this.list.find((w) => w.id === workloadId);
    if (workload === undefined) throw new Error(`unknown workload '${workloadId}'`);
    const instance = await workload.build(contender);
    const checkStart = nowMs();
    const outputs = await instance.check();
    const checkMs = nowMs() - checkStart;
    const isAsync = instance.isAsync === true;
    // The check ran every code path once; a contender whose call takes longer than the warm-up needs no more.
    const warm: number[] = [];
    const start = nowMs();
    // By time, not by count: V8 optimizes a function only after many calls, so a call of microseconds needs
    // thousands of them before its figures mean anything.
    while (checkMs < this.warmupMs && (warm.length < 2 || (nowMs() - start < this.warmupMs && warm.length < 1e5))) {
      const t = nowMs();
      await callOnce(instance, isAsync);
      warm.push(nowMs() - t);
    }
    const estimateMs = warm.length === 0 ? checkMs : median(warm.slice(warm.length >> 1));
    this.live.set(contender, { instance, isAsync });
    return { outputs, estimateMs, note: instance.note };
  }

  async time(contender: ContenderId, batch: number, count: number): Promise<number[]> {
    const entry = this.live.get(contender);
    if (entry === undefined) throw new Error(`contender '${contender}' is not set up`);
    const { instance, isAsync } = entry;
    collectGarbage();
    const samples: number[] = [];
    for (let s = 0; s < count; s++) {
      const start = nowMs();
      for (let b = 0; b < batch; b++) await callOnce(instance, isAsync);
      samples.push((nowMs() - start) / batch);
    }
    return samples;
  }

  async dispose(contender: ContenderId): Promise<void> {
    this.live.get(contender)?.instance.dispose();
    this.live.delete(contender);
  }

  async close(): Promise<void> {
    for (const contender of [...this.live.keys()]) await this.dispose(contender);
  }
}

type Request =
  | { kind: 'ping' }
  | { kind: 'setup'; workloadId: string; contender: ContenderId }
  | { kind: 'time'; contender: ContenderId; batch: number; count: number }
  | { kind: 'dispose'; contender: ContenderId };

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/**
 * Contenders in a worker thread. A worker is its own V8 isolate: when tfjs-wasm grows its WebAssembly memory
 * (detaching the old ArrayBuffer), only that isolate's typed-array code slows down (PERF-NOTES), not lazygrad's.
 * The worker idles while this thread times its contenders, and the other way round.
 */
export class WorkerHost implements Host {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(scale: Scale, warmupMs: number) {
    const entry = join(__dirname, 'worker.ts');
    const boot = `require('ts-node').register({ transpileOnly: true }); require(${JSON.stringify(entry)});`;
    this.worker = new Worker(boot, { eval: true, workerData: { scale, warmupMs } });
    this.worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiting?.reject(new Error(reply.error));
      else waiting?.resolve(reply.result);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`benchmark worker exited with code ${code}`)));
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  private request<T>(message: Request): Promise<T> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, ...message });
    });
  }

  /** Resolves once the worker has loaded everything: its start must not overlap a timed call. */
  ready(): Promise<void> {
    return this.request({ kind: 'ping' });
  }

  setup(workloadId: string, contender: ContenderId): Promise<SetupResult> {
    return this.request({ kind: 'setup', workloadId, contender });
  }

  time(contender: ContenderId, batch: number, count: number): Promise<number[]> {
    return this.request({ kind: 'time', contender, batch, count });
  }

  dispose(contender: ContenderId): Promise<void> {
    return this.request({ kind: 'dispose', contender });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** The worker side of WorkerHost: serves requests with a LocalHost. */
export function serveHost(host: Host, port: MessagePort): void {
  port.on('message', (message: Request & { id: number }) => {
    const reply = async (): Promise<unknown> => {
      switch (message.kind) {
        case 'ping':
          return undefined;
        case 'setup':
          return host.setup(message.workloadId, message.contender);
        case 'time':
          return host.time(message.contender, message.batch, message.count);
        case 'dispose':
          return host.dispose(message.contender);
      }
    };
    reply().then(
      (result) => port.postMessage({ id: message.id, result }),
      (error: Error) => port.postMessage({ id: message.id, error: error.stack ?? String(error) }),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring one workload

export interface ContenderResult {
  contender: ContenderId;
  label: string;
  /** Set when the contender could not be set up or run; it then has no figures. */
  error?: string;
  note?: string;
  /** max|a − b| / max|b| against lazygrad's outputs (0 for lazygrad itself). */
  maxError?: number;
  agrees?: boolean;
  batch?: number;
  samples?: number[];
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  /** This contender's median over lazygrad's: above 1, lazygrad is faster. */
  ratio?: number;
  /** The same for the minimums: less sensitive to other processes on a busy machine. */
  minRatio?: number;
  gflops?: number;
  /** Of one core's peak (two cores' for ORT with 2 threads). */
  peakPercent?: number;
  usPerOp?: number;
}

export interface WorkloadResult {
  id: string;
  title: string;
  tolerance: number;
  flops?: number;
  ops?: number;
  /** Every contender that ran agrees with lazygrad within the tolerance. */
  agree: boolean;
  contenders: ContenderResult[];
}

export interface MeasureOptions {
  policy: Policy;
  hostOf: (contender: ContenderId) => Host;
  /** One core's peak GFLOPS, for % of peak. */
  peakGflopsPerCore: number;
  contenders?: readonly ContenderId[];
  log?: (line: string) => void;
}

/** Sets up, checks and times every contender of a workload in interleaved rounds. */
export async function measureWorkload(workload: Workload, options: MeasureOptions): Promise<WorkloadResult> {
  const { policy, hostOf } = options;
  const wanted = workload.contenders.filter((c) => options.contenders === undefined || options.contenders.includes(c));
  const results = new Map<ContenderId, ContenderResult>();
  const estimates = new Map<ContenderId, number>();
  let reference: Float32Array[] | null = null;
  for (const contender of wanted) {
    const result: ContenderResult = { contender, label: CONTENDER_LABELS[contender] };
    results.set(contender, result);
    try {
      const setup = await hostOf(contender).setup(workload.id, contender);
      if (reference === null) reference = setup.outputs;
      result.note = setup.note;
      result.maxError = maxNormalizedError(reference, setup.outputs);
      result.agrees = result.maxError <= workload.tolerance;
      estimates.set(contender, Math.max(setup.estimateMs, 1e-4));
    } catch (error) {
      result.error = (error as Error).message.split('\n')[0];
      options.log?.(`  ${contender}: setup failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  const plan = new Map<ContenderId, { batch: number; count: number; samples: number[] }>();
  for (const [contender, estimate] of estimates) {
    const batch = estimate >= policy.minBatchMs ? 1 : Math.min(10_000, Math.ceil(policy.minBatchMs / estimate));
    const affordable = Math.floor(policy.budgetMs / (estimate * batch));
    const count = Math.min(policy.maxSamples, Math.max(policy.minSamples, affordable));
    plan.set(contender, { batch, count, samples: [] });
  }
  const running = [...plan.keys()];
  const rounds = Math.max(1, Math.min(policy.rounds, ...running.map((c) => (plan.get(c) as { count: number }).count)));
  for (let round = 0; round < rounds; round++) {
    // Rotate the order every round, so no contender always runs right after the same other one.
    const order = running.map((_, i) => running[(i + round) % running.length]);
    for (const contender of order) {
      const entry = plan.get(contender) as { batch: number; count: number; samples: number[] };
      const perRound = Math.ceil(entry.count / rounds);
      const result = results.get(contender) as ContenderResult;
      if (result.error !== undefined) continue;
      try {
        entry.samples.push(...(await hostOf(contender).time(contender, entry.batch, perRound)));
      } catch (error) {
        result.error = (error as Error).message.split('\n')[0];
      }
    }
  }
  for (const contender of wanted) {
    try {
      if (results.get(contender)?.error === undefined) await hostOf(contender).dispose(contender);
    } catch {
      // A contender that failed to dispose changes no figure.
    }
  }

  const base = plan.get('lazygrad');
  const baseMedian = base !== undefined && base.samples.length > 0 ? median(base.samples) : undefined;
  const baseMin = base !== undefined && base.samples.length > 0 ? Math.min(...base.samples) : undefined;
  for (const [contender, entry] of plan) {
    const result = results.get(contender) as ContenderResult;
    if (result.error !== undefined || entry.samples.length === 0) continue;
    result.batch = entry.batch;
    result.samples = entry.samples.map((s) => Number(s.toPrecision(6)));
    result.medianMs = median(entry.samples);
    result.minMs = Math.min(...entry.samples);
    result.maxMs = Math.max(...entry.samples);
    if (baseMedian !== undefined) result.ratio = result.medianMs / baseMedian;
    if (baseMin !== undefined) result.minRatio = result.minMs / baseMin;
    if (workload.flops !== undefined) {
      result.gflops = workload.flops / (result.medianMs * 1e6);
      const cores = contender === 'ort-2t' || contender === 'lazygrad-2t' ? 2 : 1;
      result.peakPercent = (100 * result.gflops) / (options.peakGflopsPerCore * cores);
    }
    if (workload.ops !== undefined) result.usPerOp = (result.medianMs * 1000) / workload.ops;
  }
  const contenders = wanted.map((c) => results.get(c) as ContenderResult);
  return {
    id: workload.id,
    title: workload.title,
    tolerance: workload.tolerance,
    flops: workload.flops,
    ops: workload.ops,
    agree: contenders.every((c) => c.error !== undefined || c.agrees === true),
    contenders,
  };
}
