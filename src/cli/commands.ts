/**
 * The CLI's commands: each is a spec (flags, help text) and a handler. `demo` and `train` share the MNIST training
 * run; `inspect` prints a graph; `bench` runs the repository's benchmarks.
 */
import {
  exportOnnx,
  formatGraph,
  Graph,
  importOnnx,
  loadGraph,
  renderSvg,
  serializeGraph,
  Session,
  Tensor,
  toDot,
} from '..';
import { booleanFlag, CommandSpec, FlagSpec, numberFlag, ParsedArgs, stringFlag, UsageError } from './args';
import { loadMnist, TEST_POOL, TRAIN_POOL } from './mnist';
import { BUILTIN_MODELS, GraphWithOutputs } from './models';
import { CHARLM_DEFAULTS, CHARLM_FLAGS, runCharLm } from './charlm-command';
import {
  CNN_FILTERS,
  DEFAULT_EPOCHS,
  CNN_LEARNING_RATE,
  DEFAULT_LEARNING_RATE,
  defaultLearningRate,
  describeModel,
  evaluateAsync,
  ModelName,
  MODELS,
  OptimizerName,
  OPTIMIZERS,
  TrainConfig,
  trainModelAsync,
} from './model';
import type { NodeApi, OutputStream } from './node';
import { formatCount, percent, ProgressBar } from './progress';
import { writeReport } from './report';

/** Where a command writes: text for people on `out`, diagnostics on `err`, the progress bar on `stream`. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly stream: OutputStream;
}

export interface Command {
  readonly spec: CommandSpec;
  run(args: ParsedArgs, io: Io, node: NodeApi): Promise<number>;
}

const learningRates =
  OPTIMIZERS.map((name) => `${name} ${DEFAULT_LEARNING_RATE[name]}`).join(', ') +
  `; cnn: ${Object.entries(CNN_LEARNING_RATE)
    .map(([name, rate]) => `${name} ${rate}`)
    .join(', ')}`;

/** The backends `--backend` accepts (SessionOptions.backend). */
const BACKENDS = ['wasm', 'js', 'onnxruntime'] as const;

/** Digits per step of the MNIST models. */
const MNIST_BATCH = 64;

const TRAINING_FLAGS: readonly FlagSpec[] = [
  {
    name: 'model',
    kind: 'string',
    choices: [...MODELS, 'charlm'],
    default: 'mlp',
    placeholder: 'NAME',
    description:
      `the model, an MLP 784-hidden-10 or a CNN (conv 5×5 → ${CNN_FILTERS[0]}, max-pool 2, ` +
      `conv 5×5 → ${CNN_FILTERS[1]}, max-pool 2, dense → hidden → 10) on MNIST digits, or charlm, a ` +
      'character-level LSTM language model of Moby Dick',
  },
  {
    name: 'epochs',
    kind: 'integer',
    min: 1,
    placeholder: 'N',
    description: `passes over the data (default by model: ${MODELS.map((m) => `${m} ${DEFAULT_EPOCHS[m]}`).join(', ')})`,
  },
  {
    name: 'batch-size',
    kind: 'integer',
    min: 1,
    placeholder: 'N',
    description: `digits per step (default ${MNIST_BATCH}; charlm: text streams, default ${CHARLM_DEFAULTS.batch})`,
  },
  {
    name: 'lr',
    kind: 'number',
    min: 0,
    placeholder: 'RATE',
    description: `peak learning rate, decayed to 0 along a cosine (default by optimizer: ${learningRates})`,
  },
  {
    name: 'optimizer',
    kind: 'string',
    choices: OPTIMIZERS,
    default: 'adam',
    placeholder: 'NAME',
    description: 'the update rule',
  },
  { name: 'seed', kind: 'integer', default: 1, placeholder: 'N', description: 'initial weights, data order, shifts' },
  {
    name: 'hidden',
    kind: 'integer',
    min: 1,
    default: 128,
    placeholder: 'N',
    description: 'hidden (dense) layer width (charlm: LSTM units per layer)',
  },
  {
    name: 'train-samples',
    kind: 'integer',
    min: 1,
    default: TRAIN_POOL,
    placeholder: 'N',
    description: `training digits to use, at most ${TRAIN_POOL}`,
  },
  {
    name: 'test-samples',
    kind: 'integer',
    min: 1,
    default: TEST_POOL,
    placeholder: 'N',
    description: `test digits to use, at most ${TEST_POOL}`,
  },
  {
    name: 'augment',
    kind: 'boolean',
    default: true,
    description: 'shift training digits by up to one pixel (--augment=false to turn off)',
  },
  {
    name: 'backend',
    kind: 'string',
    choices: BACKENDS,
    placeholder: 'NAME',
    description:
      "the session's kernels (default wasm, or js where WebAssembly SIMD is missing): wasm (SIMD kernels), js (the " +
      'reference kernels) or onnxruntime (ONNX Runtime, native, through the optional package onnxruntime-node; ' +
      'each step runs with runAsync). MNIST models only',
  },
  ...CHARLM_FLAGS,
];

const DEMO: CommandSpec = {
  name: 'demo',
  summary: 'Train an MLP (or a CNN) on MNIST digits; write curves, graph pictures, a checkpoint and a report to out/.',
  description:
    'Trains an MLP 784-128-10 (or, with --model cnn, a small convolutional network) on 8,000 MNIST digits, tests it ' +
    'on 2,000 others, and writes the loss and accuracy curves, pictures of the forward, gradient and training-step ' +
    'graphs, a checkpoint and an HTML report to out/.',
  positionals: [],
  flags: [
    ...TRAINING_FLAGS,
    { name: 'out', kind: 'string', default: 'out', placeholder: 'DIR', description: 'where to write the report' },
  ],
  notes: [
    'Examples: lazygrad demo --epochs 3 --optimizer momentum --out /tmp/run',
    '          lazygrad demo --model cnn',
    '          lazygrad demo --model charlm --steps 300',
  ],
};

const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'Train the MNIST MLP (or CNN) with your settings; save or resume a checkpoint.',
  description:
    'Trains the MNIST MLP (or CNN) with your settings and prints its test accuracy; saves or resumes from a checkpoint, ' +
    'and writes the report only when asked (--out).',
  positionals: [],
  flags: [
    ...TRAINING_FLAGS,
    { name: 'save', kind: 'string', placeholder: 'FILE', description: 'write a checkpoint (safetensors) at the end' },
    {
      name: 'restore',
      kind: 'string',
      placeholder: 'FILE',
      description: 'start from a checkpoint of the same model and optimizer',
    },
    { name: 'out', kind: 'string', placeholder: 'DIR', description: 'also write the demo report there' },
  ],
  notes: ['Example: lazygrad train --epochs 2 --save model.safetensors && lazygrad train --restore model.safetensors'],
};

const INSPECT: CommandSpec = {
  name: 'inspect',
  summary: 'Print a graph (JSON, ONNX or built-in) as text IR, DOT or SVG, or convert it to JSON or ONNX.',
  description:
    'Reads a graph (a JSON graph file written by serializeGraph, an ONNX model, or a built-in model) and prints it ' +
    'as text IR, Graphviz DOT or SVG, or converts it to the JSON graph format or to ONNX.',
  positionals: [
    {
      name: 'graph',
      description: `a .json graph file, an .onnx model, or a built-in model: ${Object.keys(BUILTIN_MODELS).join(', ')}`,
    },
  ],
  flags: [
    {
      name: 'format',
      kind: 'string',
      choices: ['text', 'dot', 'svg', 'json', 'onnx'],
      default: 'text',
      placeholder: 'FORMAT',
      description: 'output format',
    },
    { name: 'output', kind: 'string', placeholder: 'FILE', description: 'write to a file instead of the terminal' },
    {
      name: 'collapse',
      kind: 'integer',
      min: 0,
      default: 150,
      placeholder: 'N',
      description: 'dot and svg: collapse name scopes into boxes above N nodes',
    },
  ],
  notes: [
    'Built-in models:',
    ...Object.entries(BUILTIN_MODELS).map(([name, model]) => `  ${name.padEnd(6)} ${model.description}`),
    'Examples: lazygrad inspect mlp --format svg --output mlp.svg',
    '          lazygrad inspect out/graph.json --format dot',
    '          lazygrad inspect mlp --format onnx --output mlp.onnx && lazygrad inspect mlp.onnx',
  ],
};

const BENCH: CommandSpec = {
  name: 'bench',
  summary: "Run the benchmarks ('npm run bench' in a checkout of the repository).",
  description:
    "Runs the benchmarks with 'npm run bench'. They live in the repository's benchmarks/ folder, not in the npm " +
    'package, so this works in a checkout of the repository.',
  positionals: [],
  flags: [
    { name: 'quick', kind: 'boolean', default: false, description: 'fewer samples: npm run bench -- --quick' },
    {
      name: 'only',
      kind: 'string',
      placeholder: 'IDS',
      description: "some workloads, by id or prefix, comma-separated (e.g. 'lenet' or 'matmul,chain'): -- --only IDS",
    },
  ],
};

/** The arguments of the `npm` call `lazygrad bench` makes: the bench script with the flags passed through. */
export function benchNpmArgs(args: ParsedArgs): string[] {
  const only = stringFlag(args, 'only');
  const passed = [...(booleanFlag(args, 'quick') ? ['--quick'] : []), ...(only === undefined ? [] : ['--only', only])];
  return ['run', 'bench', ...(passed.length > 0 ? ['--', ...passed] : [])];
}

/** The training settings from the flags, with the optimizer's default learning rate when none is given. */
function trainConfig(args: ParsedArgs, spec: CommandSpec): TrainConfig & { trainSamples: number; testSamples: number } {
  const optimizer = stringFlag(args, 'optimizer') as OptimizerName;
  const model = stringFlag(args, 'model') as ModelName;
  const trainSamples = numberFlag(args, 'train-samples');
  const testSamples = numberFlag(args, 'test-samples');
  if (trainSamples > TRAIN_POOL)
    throw new UsageError(`--train-samples: at most ${TRAIN_POOL}, got ${trainSamples}`, spec);
  if (testSamples > TEST_POOL) throw new UsageError(`--test-samples: at most ${TEST_POOL}, got ${testSamples}`, spec);
  return {
    model,
    epochs: (args.flags.get('epochs') as number | undefined) ?? DEFAULT_EPOCHS[model],
    batchSize: (args.flags.get('batch-size') as number | undefined) ?? MNIST_BATCH,
    learningRate: (args.flags.get('lr') as number | undefined) ?? defaultLearningRate(model, optimizer),
    optimizer,
    seed: numberFlag(args, 'seed'),
    hidden: numberFlag(args, 'hidden'),
    augment: booleanFlag(args, 'augment'),
    trainSamples,
    testSamples,
    backend: stringFlag(args, 'backend') as (typeof BACKENDS)[number] | undefined,
  };
}

function commandLine(name: string, config: ReturnType<typeof trainConfig>, outDir: string | undefined): string {
  const parts = [
    `lazygrad ${name}`,
    ...(config.model === 'mlp' ? [] : [`--model ${config.model}`]),
    `--epochs ${config.epochs}`,
    `--batch-size ${config.batchSize}`,
    `--optimizer ${config.optimizer}`,
    `--lr ${config.learningRate}`,
    `--seed ${config.seed}`,
  ];
  if (config.hidden !== 128) parts.push(`--hidden ${config.hidden}`);
  if (config.trainSamples !== TRAIN_POOL) parts.push(`--train-samples ${config.trainSamples}`);
  if (config.testSamples !== TEST_POOL) parts.push(`--test-samples ${config.testSamples}`);
  if (!config.augment) parts.push('--augment=false');
  if (config.backend !== undefined) parts.push(`--backend ${config.backend}`);
  if (outDir !== undefined && outDir !== 'out') parts.push(`--out ${outDir}`);
  return parts.join(' ');
}

/** `demo` and `train`: load the digits, train with a progress bar, report, save. */
async function runTraining(spec: CommandSpec, args: ParsedArgs, io: Io, node: NodeApi): Promise<number> {
  if (stringFlag(args, 'model') === 'charlm') {
    if (stringFlag(args, 'backend') !== undefined) {
      throw new UsageError(
        `${spec.name} --backend: charlm runs on the default backend; --backend is for mlp and cnn`,
        spec,
      );
    }
    return runCharLm(spec, args, io, node);
  }
  const config = trainConfig(args, spec);
  const outDir = stringFlag(args, 'out');
  const savePath = stringFlag(args, 'save');
  const restorePath = stringFlag(args, 'restore');
  // Checked first: loading MNIST and building the graph take seconds, and a typo should not cost them.
  if (restorePath !== undefined && !node.fs.existsSync(restorePath)) {
    throw new UsageError(`${spec.name} --restore: '${restorePath}' does not exist`, spec);
  }

  const loadStart = node.now();
  const data = loadMnist(node.require, config.trainSamples, config.testSamples);
  io.out(
    `MNIST: ${formatCount(data.train.count)} training and ${formatCount(data.test.count)} test digits ` +
      `(28×28, from the 'mnist' package), loaded in ${((node.now() - loadStart) / 1000).toFixed(1)} s\n`,
  );
  const bar = new ProgressBar(io.stream, () => node.now());
  const result = await trainModelAsync(data, config, {
    onStart: (model, session) => {
      const parameters = model.parameters.reduce((n, p) => n + (p.shape as number[]).reduce((a, b) => a * b, 1), 0);
      io.out(
        `model: ${describeModel(config)}, ${formatCount(parameters)} parameters; ${config.optimizer}, ` +
          `learning rate ${config.learningRate} (cosine decay), batch ${config.batchSize}, ` +
          `${config.epochs} epoch${config.epochs === 1 ? '' : 's'}, seed ${config.seed}` +
          `${config.augment ? ', ±1 pixel shifts' : ''}\n`,
      );
      io.out(
        `graph: ${model.graph.size} nodes (forward, gradients and the ${config.optimizer} update), ` +
          `${model.graph.variables().length} variables; ${session.backend} backend\n`,
      );
      if (restorePath !== undefined) session.restore(restorePath);
    },
    onStartEvaluated:
      restorePath === undefined
        ? undefined
        : (_, accuracy) => io.out(`restored ${restorePath}: test accuracy ${percent(accuracy, 2)} before training\n`),
    onBatch: (progress) => bar.update(progress),
    onEpoch: (stats) => bar.epoch(stats, config.epochs),
  });
  const right = Math.round(result.testAccuracy * data.test.count);
  const throughput = (config.epochs * data.train.count) / result.history.reduce((s, e) => s + e.seconds, 0);
  io.out(
    `\ntest accuracy ${percent(result.testAccuracy, 2)} (${formatCount(right)} of ${formatCount(data.test.count)} ` +
      `digits) after ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}; ` +
      `${result.seconds.toFixed(1)} s training and testing (${formatCount(throughput)} samples/s)\n`,
  );
  if (savePath !== undefined) {
    result.session.save(savePath);
    io.out(`saved checkpoint ${savePath}\n`);
  }
  if (outDir !== undefined) {
    const { trainSamples, testSamples } = config;
    const command = commandLine(spec.name, config, outDir);
    const files = await writeReport(outDir, { config, result, trainSamples, testSamples, command }, node);
    // Show that the checkpoint is complete: a fresh session restored from it scores the same.
    const fresh = new Session(result.model.graph, { backend: result.session.backend });
    fresh.restore(node.path.join(outDir, 'model.safetensors'));
    const [, restored] = await evaluateAsync(result.model, fresh, data.test);
    const same = restored === result.testAccuracy ? 'the same' : `DIFFERENT from ${percent(result.testAccuracy, 2)}`;
    io.out(
      `checkpoint ${node.path.join(outDir, 'model.safetensors')} restored into a new session: test accuracy ` +
        `${percent(restored, 2)}, ${same}\n`,
    );
    io.out(`wrote ${files.map((f) => node.path.join(outDir, f.name)).join(', ')}\n`);
    if (restored !== result.testAccuracy) return 1;
  }
  return 0;
}

/** The nodes nothing reads: what a graph file computes, when the file does not say. */
function sinks(graph: Graph): Tensor[] {
  const read = new Uint8Array(graph.size);
  for (const node of graph.nodes) for (const input of node.inputs) read[input] = 1;
  const leaves = new Set(['placeholder', 'variable', 'constant']);
  return graph.nodes.filter((n) => read[n.id] === 0 && !leaves.has(n.op)).map((n) => graph.tensor(n.id));
}

/** A built-in model, a JSON graph file or an ONNX model. */
function readGraph(source: string, node: NodeApi): GraphWithOutputs {
  if (Object.prototype.hasOwnProperty.call(BUILTIN_MODELS, source)) return BUILTIN_MODELS[source].build();
  if (!node.fs.existsSync(source)) {
    const names = Object.keys(BUILTIN_MODELS).join(', ');
    throw new UsageError(`inspect: '${source}' is neither a file nor a built-in model (${names})`, INSPECT);
  }
  const bytes = node.fs.readFileSync(source);
  // A JSON graph starts with '{' (after any whitespace); anything else is read as an ONNX protobuf.
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first === 0x7b) {
    const graph = loadGraph(node.fs.readFileSync(source, 'utf8'));
    return { graph, outputs: sinks(graph) };
  }
  const imported = importOnnx(bytes);
  return { graph: imported.graph, outputs: imported.outputs };
}

async function runInspect(args: ParsedArgs, io: Io, node: NodeApi): Promise<number> {
  const format = stringFlag(args, 'format');
  const output = stringFlag(args, 'output');
  if (format === 'onnx' && output === undefined) {
    throw new UsageError('inspect --format onnx: an ONNX model is binary; give --output FILE', INSPECT);
  }
  const { graph, outputs } = readGraph(args.positionals[0], node);
  const target = outputs.length > 0 ? outputs : graph;
  const collapse = numberFlag(args, 'collapse');
  let content: string | Uint8Array;
  if (format === 'dot') content = `${toDot(target, { collapse, legend: true })}\n`;
  else if (format === 'svg') content = await renderSvg(target, { collapse });
  else if (format === 'json') content = `${serializeGraph(graph, { indent: 1 })}\n`;
  else if (format === 'onnx') content = exportOnnx(graph, { outputs });
  else content = `${target instanceof Graph ? graph.toString() : formatGraph(target)}\n`;
  if (output === undefined) io.out(content as string);
  else {
    node.fs.writeFileSync(output, content);
    io.out(`wrote ${output} (${format}, ${graph.size} nodes)\n`);
  }
  return 0;
}

/** Set by Node.js's CommonJS wrapper. */
declare const __dirname: string;

/**
 * The folder of lazygrad's package.json above this file: src/cli under ts-node, dist/cjs/cli in the built package
 * (dist/cjs has a package.json of its own, which only says "type").
 */
function packageRoot(node: NodeApi): string {
  let folder = node.path.resolve(__dirname);
  for (let depth = 0; depth < 5; depth++) {
    const manifest = node.path.join(folder, 'package.json');
    if (node.fs.existsSync(manifest)) {
      const parsed = JSON.parse(node.fs.readFileSync(manifest, 'utf8')) as { name?: unknown };
      if (parsed.name === 'lazygrad') return folder;
    }
    folder = node.path.dirname(folder);
  }
  return node.path.resolve(__dirname, '..', '..');
}

async function runBench(args: ParsedArgs, io: Io, node: NodeApi): Promise<number> {
  const root = packageRoot(node);
  const manifest = node.path.join(root, 'package.json');
  let scripts: { [name: string]: unknown } = {};
  if (node.fs.existsSync(manifest)) {
    const parsed = JSON.parse(node.fs.readFileSync(manifest, 'utf8')) as { scripts?: { [name: string]: unknown } };
    scripts = parsed.scripts ?? {};
  }
  // An installed package has its package.json (and so the script) but neither benchmarks/ nor ts-node, which
  // are development files: say so rather than let npm fail with 'ts-node: not found'.
  const missing = [
    typeof scripts.bench === 'string' ? null : `${manifest} has no 'bench' script`,
    node.fs.existsSync(node.path.join(root, 'benchmarks', 'bench.ts')) ? null : `${root} has no benchmarks/ folder`,
    node.fs.existsSync(node.path.join(root, 'node_modules', 'ts-node')) ? null : `ts-node is not installed in ${root}`,
  ].filter((problem): problem is string => problem !== null);
  if (missing.length > 0) {
    io.err(
      'lazygrad bench: the benchmarks run from a clone of the repository (git clone, npm install, then ' +
        `'npx lazygrad bench' or 'npm run bench' there); they are not part of the npm package (${missing.join('; ')}).\n`,
    );
    return 2;
  }
  const npmArgs = benchNpmArgs(args);
  io.out(`running 'npm ${npmArgs.join(' ')}' in ${root}\n`);
  const npm = node.process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = node.childProcess.spawnSync(npm, npmArgs, {
    cwd: root,
    stdio: 'inherit',
    shell: node.process.platform === 'win32',
  });
  if (result.error !== undefined) throw new Error(`cannot run npm: ${result.error.message}`);
  return result.status ?? 1;
}

export const COMMANDS: readonly Command[] = [
  { spec: DEMO, run: (args, io, node) => runTraining(DEMO, args, io, node) },
  { spec: TRAIN, run: (args, io, node) => runTraining(TRAIN, args, io, node) },
  { spec: INSPECT, run: runInspect },
  { spec: BENCH, run: runBench },
];
