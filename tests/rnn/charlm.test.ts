/**
 * The character-level LSTM demo: its corpus and windows, a short training run on Moby Dick whose loss falls and
 * whose samples are text, and the CLI (`train --model charlm`) with its checkpoint saved, restored and checked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { loadMobyDick, makeCorpus, sampleText, trainCharLm, WindowReader } from '../../src/cli/charlm';
import { Io } from '../../src/cli/commands';
import { main } from '../../src/cli/main';
import { Rng } from '../../src/cli/random';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    stream: { write: (text: string) => ((out += text), true), isTTY: false },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lazygrad-charlm-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mobyDick = (): string =>
  loadMobyDick(
    (id) => require.resolve(id),
    (path) => readFileSync(path, 'utf8'),
  );

describe('corpus and windows', () => {
  test('makeCorpus: a sorted vocabulary, ids, a validation tail and the unigram entropy', () => {
    const corpus = makeCorpus('abab ba’', 0.25);
    expect(corpus.vocabulary).toEqual([' ', 'a', 'b', '’']);
    expect(Array.from(corpus.train)).toEqual([1, 2, 1, 2, 0, 2]);
    expect(Array.from(corpus.validation)).toEqual([1, 3]);
    // Training frequencies: a 2/6, b 3/6, space 1/6.
    const p = [2 / 6, 3 / 6, 1 / 6];
    expect(corpus.unigramEntropy).toBeCloseTo(-p.reduce((s, q) => s + q * Math.log(q), 0), 12);
  });

  test('Moby Dick from the package: 83 distinct characters, the novel’s first line', () => {
    const text = mobyDick();
    expect(text.startsWith('CHAPTER 1. Loomings.\n\nCall me Ishmael.')).toBe(true);
    const corpus = makeCorpus(text);
    expect(corpus.vocabulary.length).toBe(83);
    expect(corpus.train.length + corpus.validation.length).toBe(Array.from(text).length);
    expect(corpus.unigramEntropy).toBeGreaterThan(2.9);
    expect(corpus.unigramEntropy).toBeLessThan(3.3);
  });

  test('WindowReader: streams continue from window to window; targets are the next characters', () => {
    const ids = Int32Array.from({ length: 40 }, (_, i) => i);
    const reader = new WindowReader(ids, 2, 3); // two streams of 20: 0..19 and 20..39
    expect(reader.next()).toBe(false);
    // time-major [3, 2]: (t0: 0, 20), (t1: 1, 21), (t2: 2, 22)
    expect(Array.from(reader.inputs)).toEqual([0, 20, 1, 21, 2, 22]);
    expect(Array.from(reader.targets)).toEqual([1, 21, 2, 22, 3, 23]);
    reader.next();
    expect(Array.from(reader.inputs)).toEqual([3, 23, 4, 24, 5, 25]);
    for (let k = 0; k < 4; k++) reader.next(); // windows up to 18 fit (needs t + 1 ≤ 19)
    expect(reader.next()).toBe(true);
    expect(Array.from(reader.inputs)).toEqual([0, 20, 1, 21, 2, 22]);
  });
});

describe('training', () => {
  test('a short run on Moby Dick: the loss falls below the unigram entropy and samples are text', () => {
    const corpus = makeCorpus(mobyDick());
    const samples: string[] = [];
    const result = trainCharLm(
      corpus,
      {
        steps: 120,
        hidden: 32,
        layers: 1,
        batch: 16,
        seqLength: 16,
        seed: 3,
        clipNorm: 5,
        learningRate: 0.02,
        logEvery: 40,
        sampleEvery: 60,
        sampleLength: 80,
        temperature: 0.7,
      },
      { onSample: (_, text) => samples.push(text) },
    );
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(result.losses.slice(0, 5));
    const last = mean(result.losses.slice(-20));
    expect(first).toBeGreaterThan(3.6); // ln 83 = 4.42 at the very start
    expect(last).toBeLessThan(first - 1);
    expect(result.validationLoss).toBeLessThan(corpus.unigramEntropy - 0.1);
    expect(samples).toHaveLength(2);
    const vocabulary = new Set(corpus.vocabulary);
    for (const text of samples) {
      expect(text).toHaveLength(80);
      expect(Array.from(text).every((c) => vocabulary.has(c))).toBe(true);
    }
    // Text, not noise: after training, mostly lowercase letters and spaces, with words between the spaces.
    const late = samples[samples.length - 1];
    const letters = Array.from(late).filter((c) => /[a-z ]/.test(c)).length;
    expect(letters / late.length).toBeGreaterThan(0.75);
    expect(late.split(' ').length).toBeGreaterThan(5);
    // Sampling is seeded: the same generator state gives the same text.
    const again = (): string => sampleText(result.model, result.session, corpus, 'The ', 30, 0.7, new Rng(9));
    expect(again()).toBe(again());
  });
});

test('two layers: the loss falls too, and each layer carries its own h and c', () => {
  const corpus = makeCorpus(mobyDick());
  const config = {
    steps: 40,
    hidden: 16,
    layers: 2,
    batch: 8,
    seqLength: 12,
    seed: 5,
    clipNorm: 5,
    learningRate: 0.02,
    logEvery: 40,
    sampleEvery: 40,
    sampleLength: 10,
    temperature: 1,
  };
  const result = trainCharLm(corpus, config);
  expect(result.model.initial.h).toHaveLength(2);
  expect(result.model.final.c).toHaveLength(2);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  expect(mean(result.losses.slice(-10))).toBeLessThan(mean(result.losses.slice(0, 5)) - 0.5);
});

describe('command line', () => {
  test('train --model charlm logs the loss and samples, saves; a restored run starts from the checkpoint', async () => {
    const checkpoint = join(dir, 'charlm.safetensors');
    const small = ['--hidden', '16', '--batch-size', '4', '--seq-length', '8', '--sample-every', '4'];
    const first = await cli('train', '--model', 'charlm', '--steps', '8', ...small, '--save', checkpoint);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/unigram entropy 3\.\d+ nats/);
    expect(first.out).toMatch(/step 8\/8 {2}loss \d\.\d+ nats/);
    expect(first.out).toMatch(/sample after 4 steps: "The /);
    expect(first.out).toContain(`saved checkpoint ${checkpoint}`);
    const validation = Number(/validation loss (\d\.\d+) nats/.exec(first.out)?.[1]);

    const second = await cli(
      'train',
      '--model',
      'charlm',
      '--steps',
      '2',
      ...small,
      '--restore',
      checkpoint,
      '--out',
      dir,
    );
    expect(second.code).toBe(0);
    expect(second.out).toContain(
      `restored ${checkpoint}: validation loss ${validation.toFixed(3)} nats before training`,
    );
    expect(second.out).toMatch(/restored into a new session: validation loss \d\.\d+, the same/);
  });

  test('charlm refuses the MNIST-only --epochs', async () => {
    const result = await cli('train', '--model', 'charlm', '--epochs', '2');
    expect(result.code).toBe(2);
    expect(result.err).toContain('train --model charlm trains for --steps, not --epochs');
  });
});
