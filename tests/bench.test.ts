/**
 * The benchmark harness cannot rot: every workload's builders run at toy sizes and every contender (lazygrad,
 * tfjs cpu and wasm, ONNX Runtime) must compute lazygrad's numbers. Nothing here asserts a time.
 */
import { analyzeHere, memoryOf, parseMemoryLine } from '../benchmarks/analyses';
import { LocalHost, maxNormalizedError, measureWorkload, Policy, WorkerHost } from '../benchmarks/harness';
import { ortBackendLines } from '../benchmarks/ort-backend';
import { evaluateTargets, markdown, RunResult } from '../benchmarks/report';
import { describeMachine } from '../benchmarks/machine';
import { ContenderId, useTfBackend, Workload, workloads } from '../benchmarks/workloads';

const toy = workloads('toy');

/**
 * ONNX Runtime (by hand, and lazygrad's ORT backend) runs in a worker thread here, as tfjs wasm does in the harness:
 * under jest, a module's typed arrays come from the test's realm, and onnxruntime-common rejects the native
 * Float32Arrays of ORT's outputs.
 */
let ortHost: WorkerHost | null = null;
afterAll(async () => ortHost?.close());

async function outputsOf(workload: Workload, contender: ContenderId): Promise<Float32Array[]> {
  if (contender === 'ort' || contender === 'ort-2t' || contender === 'lazygrad-ort') {
    ortHost ??= new WorkerHost('toy', 1);
    const { outputs } = await ortHost.setup(workload.id, contender);
    await ortHost.time(contender, 1, 1);
    await ortHost.dispose(contender);
    return outputs.map((a) => Float32Array.from(a));
  }
  if (contender === 'tfjs-cpu') await useTfBackend('cpu');
  if (contender === 'tfjs-wasm') await useTfBackend('wasm');
  const instance = await workload.build(contender);
  try {
    const outputs = await instance.check();
    await instance.run(); // the timed call works too
    return outputs;
  } finally {
    instance.dispose();
  }
}

describe('benchmark workloads at toy sizes', () => {
  const cases = toy.flatMap((w) => w.contenders.filter((c) => c !== 'lazygrad').map((c) => [w.id, c] as const));

  test.each(cases)('%s: %s computes lazygrad’s numbers', async (id, contender) => {
    const workload = toy.find((w) => w.id === id) as Workload;
    const reference = await outputsOf(workload, 'lazygrad');
    const outputs = await outputsOf(workload, contender);
    expect(outputs.length).toBe(reference.length);
    expect(maxNormalizedError(reference, outputs)).toBeLessThanOrEqual(workload.tolerance);
  });

  test('every workload has lazygrad first, so it is the reference the others are checked against', () => {
    for (const w of toy) expect(w.contenders[0]).toBe('lazygrad');
  });

  test('the benchmark sizes are the ones issues 7, 16, 20 and 21 name', () => {
    const ids = workloads('bench').map((w) => w.id);
    expect(ids).toEqual([
      'matmul-64',
      'matmul-128',
      'matmul-256',
      'matmul-512',
      'matmul-1024',
      'mlp-train',
      'mlp-infer',
      'chain',
      'chain-grad',
      'scalar-chain',
      'xent',
      'xent-grad',
      'lenet-train',
      'lenet-infer',
      'lstm-train',
      'batch1-dense-128',
      'batch1-dense-512',
      'batch1-dense-2048',
      'batch1-heyjarvis',
      'batch1-alexa',
      'batch1-heymycroft',
      'batch1-heyrhasspy',
      'batch1-timer',
      'ort-mlp-train',
      'ort-mlp-infer',
      'ort-lenet-train',
      'ort-chain',
      'ort-tiny',
    ]);
  });
});

describe('benchmark harness', () => {
  const tiny: Policy = {
    name: 'quick',
    budgetMs: 5,
    minSamples: 2,
    maxSamples: 4,
    rounds: 2,
    minBatchMs: 0.5,
    warmupMs: 1,
  };

  test('measures interleaved contenders and reports ratios to lazygrad', async () => {
    const host = new LocalHost('toy', 1);
    const chain = toy.find((w) => w.id === 'chain') as Workload;
    await useTfBackend('cpu');
    const result = await measureWorkload(chain, {
      policy: tiny,
      hostOf: () => host,
      peakGflopsPerCore: 100,
      contenders: ['lazygrad', 'lazygrad-unfused', 'tfjs-cpu'],
    });
    await host.close();
    expect(result.agree).toBe(true);
    expect(result.contenders.map((c) => c.contender)).toEqual(['lazygrad', 'lazygrad-unfused', 'tfjs-cpu']);
    for (const c of result.contenders) {
      expect(c.error).toBeUndefined();
      expect(c.samples?.length).toBeGreaterThanOrEqual(2);
      expect(c.ratio).toBeGreaterThan(0);
    }
    expect(result.contenders[0].ratio).toBe(1);
  });

  test('a mismatching contender is flagged', () => {
    const reference = [new Float32Array([1, 2, 4])];
    expect(maxNormalizedError(reference, [new Float32Array([1, 2, 4])])).toBe(0);
    expect(maxNormalizedError(reference, [new Float32Array([1, 2, 3])])).toBeCloseTo(0.25);
    expect(maxNormalizedError(reference, [new Float32Array([1, 2, NaN])])).toBe(Infinity);
    expect(maxNormalizedError(reference, [new Float32Array([1, 2])])).toBe(Infinity);
  });

  test('reads the memory plan from Session.explain', () => {
    const memory = memoryOf(toy.find((w) => w.id === 'mlp-train') as Workload);
    expect(memory.intermediateBytes).toBeGreaterThan(0);
    expect(memory.plannedBytes).toBeGreaterThan(0);
    expect(memory.ratio).toBeCloseTo(memory.plannedBytes / memory.intermediateBytes);
    const parsed = parseMemoryLine(
      'plan: 3 steps\nmemory: 1.50 MiB in 4 reused buffers (2 steps in place) for 3.00 MiB of intermediates; ' +
        '512 B of results allocated per run',
    );
    expect(parsed).toMatchObject({ plannedBytes: 1.5 * 2 ** 20, intermediateBytes: 3 * 2 ** 20, outputBytes: 512 });
    expect(parsed).toMatchObject({ buffers: 4, inPlace: 2, ratio: 0.5 });
  });

  test('measures compile time and gradient size of a small graph', () => {
    const row = analyzeHere(120, 1);
    expect(row.error).toBeUndefined();
    expect(row.optimizeMs).toBeGreaterThan(0);
    expect(row.compileMs).toBeDefined();
    expect(row.gradientNodes).toBeGreaterThan(0);
    expect(row.forwardNodes).toBeGreaterThanOrEqual(120);
  });

  test('issue 21: the ORT backend’s speedup over wasm and overhead over the hand-run, against the targets', () => {
    const contender = (c: ContenderId, medianMs: number, minMs: number) => ({
      contender: c,
      label: c,
      medianMs,
      minMs,
    });
    const result = (id: string, wasm: number, backend: number, hand: number) => ({
      id,
      title: id,
      tolerance: 1e-4,
      agree: true,
      contenders: [
        contender('lazygrad', wasm, wasm / 2),
        contender('lazygrad-ort', backend, backend / 2),
        contender('ort', hand, hand / 4),
      ],
    });
    const lines = ortBackendLines([
      result('ort-mlp-train', 6, 2, 1.8),
      result('ort-chain', 4, 2, 2),
      result('xent', 1, 1, 1),
    ]);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('ort-mlp-train: wasm 6.00 ms (min 3.00), ORT backend 2.00 ms (min 1.00)');
    expect(lines[1]).toContain('speedup ×3.00 (min ×3.00), overhead ×1.11 (min ×2.22)');
    expect(lines[2]).toContain('ort-chain:');
    expect(lines[3]).toBe(
      '  target: MLP training step ≥ ×2.5 faster than wasm: ×3.00 met (min ×3.00 met); ' +
        '≤ ×1.3 the hand-run ORT: ×1.11 met (min ×2.22 MISSED)',
    );
    expect(ortBackendLines([result('xent', 1, 1, 1)])).toEqual([]);
  });

  test('renders a run as markdown with the machine and the targets', async () => {
    const host = new LocalHost('toy', 1);
    const matmul = toy.find((w) => w.id === 'matmul-8') as Workload;
    await useTfBackend('cpu');
    const result = await measureWorkload(matmul, {
      policy: tiny,
      hostOf: () => host,
      peakGflopsPerCore: 100,
      contenders: ['lazygrad', 'tfjs-cpu'],
    });
    await host.close();
    const run: RunResult = {
      date: '2026-01-01',
      mode: 'quick',
      machine: describeMachine(),
      method: { isolation: 'test', probeStartMs: 1, probeEndMs: 1, loadStart: 0, loadEnd: 0 },
      workloads: [result],
      compile: [{ nodes: 1000, optimizeMs: 1, compileMs: 2 }],
      memory: [],
      targets: evaluateTargets([result], []),
      wallSeconds: 1,
    };
    const text = markdown(run);
    expect(text).toContain('matMul 8×8');
    expect(text).toContain('GFLOPS');
    expect(text).toContain(run.machine.node);
    expect(run.targets.every((t) => t.measured === undefined)).toBe(true);
  });
});
