/** The worker thread of analyzeInWorker (analyses.ts): measures one graph size and posts each figure. */
import { parentPort, workerData } from 'worker_threads';
import { analyzeSize } from './analyses';

const { nodes, repeats } = workerData as { nodes: number; repeats: number };
const port = parentPort;
if (port === null) throw new Error('benchmarks/analysis-worker.ts runs only as a worker thread');
try {
  analyzeSize(nodes, repeats, (partial) => port.postMessage(partial));
} catch (error) {
  port.postMessage({ error: (error as Error).message.split('\n')[0] });
}
port.postMessage('done');
