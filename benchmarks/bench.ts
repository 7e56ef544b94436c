/**
 * `npm run bench`: lazygrad against TensorFlow.js (cpu, wasm) and ONNX Runtime, side by side in one process.
 *
 *   npm run bench                      every workload, full mode (a few minutes)
 *   npm run bench -- --quick           fewer samples (under two minutes)
 *   npm run bench -- --only chain,xent one workload, or several (ids or prefixes: matmul, compile, memory, arena)
 *   npm run bench -- --profile mlp-train       where lazygrad's time goes, per plan step
 *   npm run bench -- --profile chain:unfused   the same with fusion off
 *
 * A run prints its results and writes nothing; with --save it writes benchmarks/results/<date>.json, latest.json
 * and latest.md, and a complete run (no --only) also copies the table into docs/benchmarks.md (not with --no-docs).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { loadavg } from 'os';
import { join } from 'path';
import { analyzeHere, analyzeInWorker, memoryOf, MemoryResult, SizeResult } from './analyses';
import { arenaAnalysis, arenaLines } from './arena-memory';
import { updateCopies, updateLines } from './arena-updates';
import { FULL, Host, LocalHost, measureWorkload, Policy, QUICK, WorkerHost, WorkloadResult } from './harness';
import { describeMachine, typedArrayProbe } from './machine';
import { scanCompile, scanCompileLines } from './lstm';
import { ortBackendLines } from './ort-backend';
import { profileProgram } from './profile';
import { analyzeRemat, REMAT_SHAPE, rematLines } from './remat';
import { compileLines, evaluateTargets, markdown, memoryLines, RunResult, targetLines, workloadLines } from './report';
import { nowMs } from './stats';
import { ContenderId, useTfBackend, Workload, workloads } from './workloads';

interface Args {
  quick: boolean;
  only: string[] | null;
  profile: string | null;
  save: boolean;
  docs: boolean;
}

const USAGE =
  'usage: npm run bench -- [--quick] [--only <id>[,<id>…]] [--profile <workload>[:unfused]] [--save] [--no-docs]';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, only: null, profile: null, save: false, docs: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--quick') args.quick = true;
    else if (a === '--only')
      args.only = value()
        .split(',')
        .filter((s) => s !== '');
    else if (a === '--profile') args.profile = value();
    else if (a === '--save') args.save = true;
    else if (a === '--no-docs') args.docs = false;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  return args;
}

/** Whether `id` is selected by --only (an exact id or a prefix before '-': 'matmul' selects 'matmul-256'). */
function selected(only: readonly string[] | null, id: string): boolean {
  return only === null || only.some((o) => id === o || id.startsWith(`${o}-`));
}

const ANALYSES = ['compile', 'memory', 'lstm-compile', 'remat', 'arena'];

/** Graph sizes for the compile analysis; from 50k on, each runs in a worker under a time limit (see analyses.ts). */
const COMPILE_SIZES = [1000, 10_000, 50_000, 100_000, 200_000];
/** The time limit of a size's worker, by size, in quick and full mode. */
const COMPILE_LIMIT_MS: { readonly [nodes: number]: readonly [number, number] } = {
  50_000: [120_000, 180_000],
  100_000: [240_000, 360_000],
  200_000: [480_000, 720_000],
};

async function runCompile(policy: Policy, log: (line: string) => void): Promise<SizeResult[]> {
  analyzeHere(300, 1); // warm the compiler's code before timing it
  const quick = policy.name === 'quick';
  const rows: SizeResult[] = [];
  for (const nodes of COMPILE_SIZES) {
    const repeats = nodes <= 1000 ? (quick ? 3 : 5) : nodes <= 10_000 ? (quick ? 1 : 2) : 1;
    const row =
      nodes < 50_000
        ? analyzeHere(nodes, repeats)
        : await analyzeInWorker(nodes, repeats, COMPILE_LIMIT_MS[nodes][quick ? 0 : 1]);
    rows.push(row);
    log(compileLines(rows)[rows.length]);
  }
  return rows;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const policy = args.quick ? QUICK : FULL;
  const list = workloads('bench');
  const log = (line: string): void => console.log(line);

  if (args.profile !== null) {
    const [id, variant] = args.profile.split(':');
    const workload = list.find((w) => w.id === id);
    if (workload === undefined) throw new Error(`no workload '${id}'; workloads: ${list.map((w) => w.id).join(', ')}`);
    const program = workload.program(variant === 'unfused' ? 'lazygrad-unfused' : 'lazygrad');
    for (const line of profileProgram(args.profile, program, { budgetMs: args.quick ? 1500 : 5000, top: 15 }))
      log(line);
    return;
  }

  const started = nowMs();
  const machine = describeMachine();
  log(`lazygrad benchmarks, ${policy.name} mode: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  const loadStart = loadavg()[0];
  if (loadStart > 0.5 * machine.cores) {
    log(`note: load average ${loadStart.toFixed(2)} on ${machine.cores} cores: other processes will skew the figures`);
  }
  const probeStartMs = typedArrayProbe();
  const chosen = list.filter((w) => selected(args.only, w.id));
  if (args.only !== null) {
    const unknown = args.only.filter((o) => !list.some((w) => selected([o], w.id)) && !ANALYSES.includes(o));
    if (unknown.length > 0) {
      throw new Error(
        `no workload matches ${unknown.join(', ')}; workloads: ${[...list.map((w) => w.id), ...ANALYSES].join(', ')}`,
      );
    }
  }

  // lazygrad, tfjs cpu and ORT share this thread; tfjs wasm runs in a worker thread (harness.ts says why).
  await useTfBackend('cpu');
  const local = new LocalHost('bench', policy.warmupMs);
  const needsWorker = chosen.some((w) => w.contenders.includes('tfjs-wasm'));
  const remote = needsWorker ? new WorkerHost('bench', policy.warmupMs) : null;
  try {
    await remote?.ready();
  } catch (error) {
    // Each tfjs wasm setup will then fail and be reported as such; the other contenders still run.
    log(`tfjs wasm worker failed to start: ${(error as Error).message.split('\n')[0]}`);
  }
  const hostOf = (contender: ContenderId): Host => (contender === 'tfjs-wasm' && remote !== null ? remote : local);

  const results: WorkloadResult[] = [];
  for (const workload of chosen) {
    const result = await measureWorkload(workload, {
      policy,
      hostOf,
      peakGflopsPerCore: machine.peakGflopsPerCore,
      log,
    });
    results.push(result);
    for (const line of workloadLines(result)) log(line);
  }
  await local.close();
  await remote?.close();
  for (const line of ortBackendLines(results)) log(line);

  let memory: MemoryResult[] = [];
  if (selected(args.only, 'memory')) {
    const planned = ['mlp-train', 'chain-grad', 'xent-grad'];
    memory = planned.map((id) => memoryOf(list.find((w) => w.id === id) as Workload));
    log('memory planning (planned buffers vs one array per intermediate):');
    for (const line of memoryLines(memory)) log(line);
  }
  let compile: SizeResult[] = [];
  if (selected(args.only, 'compile')) {
    log(compileLines([])[0]);
    compile = await runCompile(policy, log);
  }

  if (selected(args.only, 'arena')) {
    // Issue 20: RSS before sessions, at their peak and after dispose / collection, each scenario in a child process.
    for (const line of arenaLines(arenaAnalysis(policy.name === 'quick'))) log(line);
    for (const line of updateLines(updateCopies(policy.name === 'quick' ? 50 : 300))) log(line);
  }

  if (selected(args.only, 'lstm-compile')) {
    // The scan's body compiles once whatever T is: its compile time must not grow with T.
    for (const line of scanCompileLines(scanCompile([10, 50, 200], policy.name === 'quick' ? 1 : 5))) log(line);
  }

  if (selected(args.only, 'remat')) {
    // Issue 20: planned memory and step time of a 32-layer MLP with and without rematerialization, same run.
    const activations = policy.name === 'quick' ? (['relu'] as const) : (['relu', 'tanh'] as const);
    const repeats = policy.name === 'quick' ? 3 : 5;
    const rows = activations.map((activation) => analyzeRemat({ ...REMAT_SHAPE, activation }, repeats));
    for (const line of rematLines(rows)) log(line);
  }

  const probeEndMs = typedArrayProbe();
  const targets = evaluateTargets(results, memory);
  if (args.only === null) {
    log('targets:');
    for (const line of targetLines(targets)) log(line);
  }
  log(
    `typed-array probe: ${probeStartMs.toFixed(2)} ms at start, ${probeEndMs.toFixed(2)} ms at end; ` +
      `load average ${loadStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`,
  );
  if (probeEndMs > 1.25 * probeStartMs) {
    log('warning: typed-array loops in lazygrad’s thread got slower during the run (a detached ArrayBuffer?)');
  }
  const run: RunResult = {
    date: new Date().toISOString().slice(0, 10),
    mode: policy.name,
    machine,
    method: {
      isolation: 'lazygrad, tfjs cpu and ORT in the main thread; tfjs wasm in a worker thread (own V8 isolate)',
      probeStartMs,
      probeEndMs,
      loadStart,
      loadEnd: loadavg()[0],
    },
    workloads: results,
    compile,
    memory,
    targets: args.only === null ? targets : [],
    wallSeconds: (nowMs() - started) / 1000,
  };
  log(`done in ${run.wallSeconds.toFixed(0)} s`);
  if (args.save) save(run, args.docs && args.only === null);
  else log('nothing written (add --save to write benchmarks/results/ and, for a complete run, docs/benchmarks.md)');
  if (results.some((r) => !r.agree)) process.exitCode = 1;
}

const DOCS_START = '<!-- bench:results:start -->';
const DOCS_END = '<!-- bench:results:end -->';

function save(run: RunResult, updateDocs: boolean): void {
  const dir = join(__dirname, 'results');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(run, null, 2)}\n`;
  writeFileSync(join(dir, `${run.date}.json`), json);
  writeFileSync(join(dir, 'latest.json'), json);
  const table = markdown(run);
  writeFileSync(join(dir, 'latest.md'), `${table}\n`);
  console.log(`wrote benchmarks/results/${run.date}.json, latest.json, latest.md`);
  const docs = join(__dirname, '..', 'docs', 'benchmarks.md');
  if (!updateDocs || !existsSync(docs)) return;
  const text = readFileSync(docs, 'utf8');
  const start = text.indexOf(DOCS_START);
  const end = text.indexOf(DOCS_END);
  if (start < 0 || end < start) return;
  writeFileSync(docs, `${text.slice(0, start + DOCS_START.length)}\n${table}\n${text.slice(end)}`);
  console.log('updated docs/benchmarks.md');
}

main().then(
  () => process.exit(),
  (error: Error) => {
    console.error(error.message);
    process.exit(2);
  },
);
