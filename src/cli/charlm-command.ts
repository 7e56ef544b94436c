/**
 * `lazygrad train --model charlm` and `lazygrad demo --model charlm` (`npm start -- --model charlm`): the
 * character-level LSTM language model of Moby Dick (charlm.ts), its flags, its log and its checkpoint.
 */
import { Session } from '..';
import { CommandSpec, FlagSpec, numberFlag, ParsedArgs, stringFlag, UsageError } from './args';
import {
  CharLmConfig,
  CORPUS_PACKAGE,
  evaluateCharLm,
  loadMobyDick,
  makeCorpus,
  trainCharLm,
  VALIDATION_WINDOWS,
} from './charlm';
import type { Io } from './commands';
import type { NodeApi } from './node';
import { formatCount } from './progress';

/** Defaults that get the loss well below the unigram entropy in about a minute on 2 cores. */
export const CHARLM_DEFAULTS = {
  steps: 400,
  batch: 32,
  seqLength: 48,
  layers: 1,
  learningRate: 0.01,
  clipNorm: 5,
  sampleEvery: 100,
  temperature: 0.7,
} as const;

export const CHARLM_FLAGS: readonly FlagSpec[] = [
  {
    name: 'steps',
    kind: 'integer',
    min: 1,
    placeholder: 'N',
    description: `charlm: training steps (windows of every stream) (default ${CHARLM_DEFAULTS.steps})`,
  },
  {
    name: 'seq-length',
    kind: 'integer',
    min: 1,
    default: CHARLM_DEFAULTS.seqLength,
    placeholder: 'N',
    description: 'charlm: characters per window (truncated backpropagation through time)',
  },
  {
    name: 'layers',
    kind: 'integer',
    min: 1,
    default: CHARLM_DEFAULTS.layers,
    placeholder: 'N',
    description: 'charlm: LSTM layers',
  },
  {
    name: 'sample-every',
    kind: 'integer',
    min: 1,
    default: CHARLM_DEFAULTS.sampleEvery,
    placeholder: 'N',
    description: 'charlm: print a sampled line every N steps (the loss every N / 4)',
  },
  {
    name: 'temperature',
    kind: 'number',
    min: 0.05,
    default: CHARLM_DEFAULTS.temperature,
    placeholder: 'T',
    description: 'charlm: sampling temperature (lower: likelier, more repetitive text)',
  },
];

const bits = (nats: number): string => `${(nats / Math.LN2).toFixed(2)} bits`;

/** The character model's settings from the flags; the MNIST-only flags are refused when given. */
function charLmConfig(args: ParsedArgs, spec: CommandSpec): CharLmConfig {
  if (args.flags.get('epochs') !== undefined) {
    throw new UsageError(`${spec.name} --model charlm trains for --steps, not --epochs`, spec);
  }
  if (stringFlag(args, 'optimizer') !== 'adam') {
    throw new UsageError(`${spec.name} --model charlm trains with adam (the --optimizer flag is for MNIST)`, spec);
  }
  const sampleEvery = numberFlag(args, 'sample-every');
  return {
    steps: (args.flags.get('steps') as number | undefined) ?? CHARLM_DEFAULTS.steps,
    batch: (args.flags.get('batch-size') as number | undefined) ?? CHARLM_DEFAULTS.batch,
    seqLength: numberFlag(args, 'seq-length'),
    hidden: numberFlag(args, 'hidden'),
    layers: numberFlag(args, 'layers'),
    seed: numberFlag(args, 'seed'),
    clipNorm: CHARLM_DEFAULTS.clipNorm,
    learningRate: (args.flags.get('lr') as number | undefined) ?? CHARLM_DEFAULTS.learningRate,
    logEvery: Math.max(1, Math.round(sampleEvery / 4)),
    sampleEvery,
    sampleLength: 120,
    temperature: numberFlag(args, 'temperature'),
  };
}

/** Trains the character model with a log of the loss and samples; saves, restores and checks the checkpoint. */
export async function runCharLm(spec: CommandSpec, args: ParsedArgs, io: Io, node: NodeApi): Promise<number> {
  const config = charLmConfig(args, spec);
  const savePath = stringFlag(args, 'save');
  const restorePath = stringFlag(args, 'restore');
  const outDir = stringFlag(args, 'out');
  if (restorePath !== undefined && !node.fs.existsSync(restorePath)) {
    throw new UsageError(`${spec.name} --restore: '${restorePath}' does not exist`, spec);
  }
  const resolve = (node.require as unknown as { resolve(id: string): string }).resolve;
  const text = loadMobyDick(resolve, (path) => node.fs.readFileSync(path, 'utf8'));
  const corpus = makeCorpus(text);
  io.out(
    `Moby Dick (the '${CORPUS_PACKAGE}' package, public domain): ${formatCount(corpus.train.length)} characters ` +
      `for training, ${formatCount(corpus.validation.length)} for validation, ${corpus.vocabulary.length} distinct; ` +
      `unigram entropy ${corpus.unigramEntropy.toFixed(3)} nats (${bits(corpus.unigramEntropy)}) per character\n`,
  );
  const result = trainCharLm(corpus, config, {
    onStart: (model, session) => {
      const parameters = model.parameters.reduce((n, p) => n + (p.shape as number[]).reduce((a, b) => a * b, 1), 0);
      io.out(
        `model: one-hot ${corpus.vocabulary.length} → ${config.layers} LSTM layer${config.layers === 1 ? '' : 's'} of ` +
          `${config.hidden} (each one scan) → dense ${corpus.vocabulary.length}, ${formatCount(parameters)} ` +
          `parameters; adam ${config.learningRate} (cosine decay to a tenth), gradients clipped to norm ` +
          `${config.clipNorm}; ${config.batch} streams × windows of ${config.seqLength} characters, ${config.steps} ` +
          `steps, seed ${config.seed}\n`,
      );
      io.out(`graph: ${model.graph.size} nodes (training step and the sampler), whatever the window length\n`);
      if (restorePath !== undefined) {
        session.restore(restorePath);
        const loss = evaluateCharLm(model, session, corpus.validation, VALIDATION_WINDOWS);
        io.out(`restored ${restorePath}: validation loss ${loss.toFixed(3)} nats before training\n`);
      }
    },
    onLog: (log) =>
      io.out(
        `step ${String(log.step).padStart(String(config.steps).length)}/${config.steps}  loss ` +
          `${log.loss.toFixed(3)} nats (${bits(log.loss)}/char)  ${log.stepsPerSecond.toFixed(1)} steps/s\n`,
      ),
    onSample: (step, sample) => io.out(`  sample after ${step} steps: "The ${sample.replace(/\s+/g, ' ')}"\n`),
  });
  const below = corpus.unigramEntropy - result.validationLoss;
  io.out(
    `validation loss ${result.validationLoss.toFixed(3)} nats (${bits(result.validationLoss)}/char), ` +
      `${below >= 0 ? `${below.toFixed(3)} below` : `${(-below).toFixed(3)} above`} the unigram entropy; ` +
      `${result.seconds.toFixed(1)} s\n`,
  );
  if (savePath !== undefined) {
    result.session.save(savePath);
    io.out(`saved checkpoint ${savePath}\n`);
  }
  if (outDir !== undefined) {
    node.fs.mkdirSync(outDir, { recursive: true });
    const path = node.path.join(outDir, 'charlm.safetensors');
    result.session.save(path);
    // Show that the checkpoint is complete: a fresh session restored from it gives the same validation loss.
    const fresh = new Session(result.model.graph);
    fresh.restore(path);
    const restored = evaluateCharLm(result.model, fresh, corpus.validation, VALIDATION_WINDOWS);
    const same = restored === result.validationLoss ? 'the same' : `DIFFERENT from ${result.validationLoss}`;
    io.out(`checkpoint ${path} restored into a new session: validation loss ${restored.toFixed(3)}, ${same}\n`);
    if (restored !== result.validationLoss) return 1;
  }
  return 0;
}
