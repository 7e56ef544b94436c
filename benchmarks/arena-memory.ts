/**
 * Issue 20, memory that comes back: the resident set (RSS) of a fresh Node process before wasm sessions, at their
 * peak, and after they are gone and collected, in two scenarios:
 *
 * - `large`: sessions running 200 MB tensors (a [12500, 4000] float32 feed through a fused group and a sum), then
 *   `dispose()` and a garbage collection;
 * - `many`: 30,000 small sessions (a 128×128 variable each, run once) dropped without `dispose()`, then garbage
 *   collections with a turn of the event loop between them (finalizers and the idle release run there).
 *
 * Each scenario runs in its own child process (`node --expose-gc`), twice: as lazygrad releases the arena's memory
 * now, and with that release switched off (`keep`: the memory stays, as before issue 20), the peer in the same run.
 *
 *   npm run bench -- --only arena
 *   node --expose-gc -r ts-node/register/transpile-only benchmarks/arena-memory.ts <large|many> <release|keep> [count]
 */
import { spawnSync } from 'child_process';
import { join } from 'path';
import { Graph, mul, NDArray, Session, sum, tanh, add, matMul } from '../src';

export type ArenaScenario = 'large' | 'many';
export type ArenaMode = 'release' | 'keep';

export interface ArenaMemoryResult {
  scenario: ArenaScenario;
  mode: ArenaMode;
  /** How many sessions the scenario made. */
  sessions: number;
  /** RSS in MiB: before any session, at the peak (sessions alive), after they were disposed / dropped and collected. */
  beforeMiB: number;
  peakMiB: number;
  afterMiB: number;
  /** after / before. */
  ratio: number;
  /** The arena's memory at the end: its byte size (0 when released) and how often it was replaced. */
  arenaBytes: number;
  /** V8's external memory at the end, MiB (a WebAssembly.Memory counts there until it is collected). */
  externalMiB?: number;
  error?: string;
}

const MiB = 2 ** 20;
const rss = (): number => process.memoryUsage().rss / MiB;

/**
 * Ten full collections, each after 20 ms of event loop: V8 runs finalizers in tasks after the collection that found
 * their owners dead, the idle release runs in a timer after the last block came back, and only the collection after
 * it frees the memory, so one `gc()` in a synchronous stretch frees nothing. The same ten rounds for both modes.
 */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
  }
}

function arenaOf(session: Session): { capacity: number } {
  return (session as unknown as { placement: { arena: { capacity: number } } }).placement.arena;
}

/** The `large` scenario: three sessions over 200 MB tensors, each run and disposed. */
function large(sessions: number): { peak: number; probe: Session } {
  const rows = 12_500;
  const cols = 4000;
  let peak = 0;
  let probe: Session | null = null;
  for (let k = 0; k < sessions; k++) {
    const g = new Graph();
    const x = g.placeholder('x', [rows, cols]);
    const y = sum(tanh(add(mul(x, 2), 1)));
    const data = new Float32Array(rows * cols).fill(0.001 * (k + 1));
    const s = new Session(g, { backend: 'wasm' });
    s.run(y, new Map([[x, new NDArray(data, [rows, cols])]]));
    peak = Math.max(peak, rss());
    s.dispose();
    probe = s;
  }
  return { peak, probe: probe as Session };
}

/** The `many` scenario: small sessions, each with a 128×128 variable, run once and dropped without dispose(). */
function many(sessions: number): { peak: number; probe: Session } {
  const g = new Graph();
  const x = g.placeholder('x', [8, 128]);
  const w = g.variable('w', new NDArray(new Float32Array(128 * 128).fill(0.01), [128, 128]));
  const y = sum(matMul(x, w));
  const feeds = new Map([[x, new NDArray(new Float32Array(8 * 128).fill(1), [8, 128])]]);
  let peak = 0;
  let kept: Session[] = [];
  for (let k = 0; k < sessions; k++) {
    const s = new Session(g, { backend: 'wasm' });
    s.run(y, feeds);
    kept.push(s);
    if (k % 1000 === 999) peak = Math.max(peak, rss());
  }
  peak = Math.max(peak, rss());
  const probe = kept[0];
  probe.dispose(); // the probe alone is disposed: it holds no block, and lets the child read the arena afterwards
  kept = [];
  return { peak, probe };
}

async function child(scenario: ArenaScenario, mode: ArenaMode, count: number): Promise<ArenaMemoryResult> {
  if (mode === 'keep') {
    // The process's wasm kernels are shared by every session: switch their release off through a session's (private)
    // placement, which is what lazygrad did before issue 20.
    const kernels = (new Session(new Graph()) as unknown as { placement: { kernels: { releaseMemory(): boolean } } })
      .placement.kernels;
    kernels.releaseMemory = () => false;
  }
  await collect();
  const before = rss();
  const { peak, probe } = scenario === 'large' ? large(count) : many(count);
  await collect();
  const after = rss();
  const externalMiB = process.memoryUsage().external / MiB;
  return {
    scenario,
    mode,
    sessions: count,
    beforeMiB: before,
    peakMiB: peak,
    afterMiB: after,
    ratio: after / before,
    arenaBytes: arenaOf(probe).capacity,
    externalMiB,
  };
}

/** Runs one scenario in a child process and returns what it printed. */
export function measureArena(scenario: ArenaScenario, mode: ArenaMode, count: number): ArenaMemoryResult {
  const args = ['--expose-gc', '-r', 'ts-node/register/transpile-only', join(__dirname, 'arena-memory.ts')];
  const out = spawnSync(process.execPath, [...args, scenario, mode, String(count)], {
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    maxBuffer: 1 << 20,
  });
  const line = out.stdout.split('\n').find((l) => l.startsWith('{'));
  if (out.status !== 0 || line === undefined) {
    const error = (out.stderr || out.stdout || `exit ${out.status}`).trim().split('\n').slice(-3).join(' ');
    return { scenario, mode, sessions: count, beforeMiB: 0, peakMiB: 0, afterMiB: 0, ratio: NaN, arenaBytes: 0, error };
  }
  return JSON.parse(line) as ArenaMemoryResult;
}

/** Both scenarios, each with and without the release, in child processes. */
export function arenaAnalysis(quick: boolean): ArenaMemoryResult[] {
  const rows: ArenaMemoryResult[] = [];
  for (const scenario of ['large', 'many'] as const) {
    const count = scenario === 'large' ? 3 : quick ? 3000 : 30_000;
    for (const mode of ['release', 'keep'] as const) rows.push(measureArena(scenario, mode, count));
  }
  return rows;
}

export function arenaLines(rows: readonly ArenaMemoryResult[]): string[] {
  const lines = ['arena memory (RSS, MiB, child process with --expose-gc; keep = the release switched off):'];
  for (const r of rows) {
    const what =
      r.scenario === 'large'
        ? `${r.sessions} sessions × 200 MB tensors, dispose()`
        : `${r.sessions} sessions, no dispose()`;
    if (r.error !== undefined) {
      lines.push(`  ${what}, ${r.mode}: failed: ${r.error}`);
      continue;
    }
    lines.push(
      `  ${what}, ${r.mode.padEnd(7)}: before ${r.beforeMiB.toFixed(0)}, peak ${r.peakMiB.toFixed(0)}, after ` +
        `${r.afterMiB.toFixed(0)} (${r.ratio.toFixed(2)}× before); arena memory at the end ${(r.arenaBytes / MiB).toFixed(0)} MiB, ` +
        `V8 external ${(r.externalMiB ?? 0).toFixed(0)} MiB`,
    );
  }
  return lines;
}

if (require.main === module) {
  const [scenario, mode, count] = process.argv.slice(2);
  if (scenario === undefined) {
    for (const line of arenaLines(arenaAnalysis(process.argv.includes('--quick')))) console.log(line);
  } else {
    const fallback = scenario === 'large' ? 3 : 30_000;
    child(scenario as ArenaScenario, mode as ArenaMode, count === undefined ? fallback : Number(count)).then(
      (result) => console.log(JSON.stringify(result)),
      (error: Error) => {
        console.error(error.stack);
        process.exitCode = 1;
      },
    );
  }
}
