/** The worker thread of WorkerHost (harness.ts): hosts contenders that must not share lazygrad's isolate. */
import { parentPort, workerData } from 'worker_threads';
import { LocalHost, serveHost } from './harness';
import { Scale } from './workloads';

const { scale, warmupMs } = workerData as { scale: Scale; warmupMs: number };
if (parentPort === null) throw new Error('benchmarks/worker.ts runs only as a worker thread');
serveHost(new LocalHost(scale, warmupMs), parentPort);
