/**
 * The `remat` analysis (issue 20): a 32-layer MLP (width 1024, batch 128) built twice, once with
 * `gradients(…, { remat: 'none' })` and once with `{ remat: 'auto' }`, in one process. For each: the planned memory
 * (explain's `memory:` line) and the median time of the gradient step (loss and every gradient fetched) and of the
 * SGD training step (loss fetched, updates assigned). Runs alternate between the two so both see the same load.
 * The SGD step is also run with the updates written as computed (`writeUpdates: 'early'`, the default) against
 * written at the end of the run (`'end-of-run'`, what the session did before): the "in place" column.
 */
import {
  add,
  assign,
  gradients,
  Graph,
  group,
  matMul,
  mean,
  mul,
  NDArray,
  relu,
  RematOption,
  Session,
  softmaxCrossEntropyWithLogits,
  sub,
  tanh,
  Tensor,
} from '../src';
import { parseMemoryLine } from './analyses';
import { glorot, oneHot, Rng, seedOf, uniformArray } from './rng';
import { median, nowMs } from './stats';

export interface RematShape {
  layers: number;
  width: number;
  batch: number;
  activation: 'relu' | 'tanh';
}

export const REMAT_SHAPE: Omit<RematShape, 'activation'> = { layers: 32, width: 1024, batch: 128 };
const CLASSES = 10;

interface Built {
  session: Session;
  /** The same graph in a session that writes every update at the end of the run. */
  endOfRun: Session;
  grads: { fetches: Tensor[]; feeds: Map<Tensor, NDArray> };
  train: { fetches: Tensor[]; feeds: Map<Tensor, NDArray> };
  /** explain's remat line (what was recomputed), or '' without remat. */
  rematLine: string;
  gradsPlanned: number;
  trainPlanned: number;
  /** The SGD step's planned bytes with every update written at the end of the run. */
  trainPlannedEnd: number;
  /** explain's `updates:` line of the SGD step. */
  updatesLine: string;
}

function build(shape: RematShape, remat: RematOption): Built {
  const { layers, width, batch, activation } = shape;
  const rng = new Rng(seedOf(`remat-${layers}-${width}-${batch}`));
  const g = new Graph();
  const x = g.placeholder('x', [batch, width]);
  const labels = g.placeholder('labels', [batch, CLASSES]);
  const params: Tensor[] = [];
  let h = x;
  for (let i = 0; i < layers; i++) {
    const out = i + 1 === layers ? CLASSES : width;
    const w = g.variable(`w${i}`, new NDArray(glorot(rng, width, out), [width, out]));
    const b = g.variable(`b${i}`, new NDArray(uniformArray(rng, out, -0.1, 0.1), [out]));
    params.push(w, b);
    h = add(matMul(h, w), b);
    if (i + 1 < layers) h = activation === 'relu' ? relu(h) : tanh(h);
  }
  const loss = mean(softmaxCrossEntropyWithLogits(labels, h));
  const grads = gradients(loss, params, undefined, { remat }) as Tensor[];
  const step = group(
    params.map((p, i) => assign(p, sub(p, mul(grads[i], 0.01)))),
    'sgd_step',
  );
  const feeds = new Map([
    [x, new NDArray(uniformArray(rng, batch * width, 0, 1), [batch, width])],
    [labels, new NDArray(oneHot(rng, batch, CLASSES), [batch, CLASSES])],
  ]);
  const session = new Session(g, { writeUpdates: 'early' });
  const endOfRun = new Session(g, { writeUpdates: 'end-of-run' });
  const gradsText = session.explain([loss, ...grads], feeds);
  const trainText = session.explain([loss, step], feeds);
  const trainTextEnd = endOfRun.explain([loss, step], feeds);
  return {
    session,
    endOfRun,
    grads: { fetches: [loss, ...grads], feeds },
    train: { fetches: [loss, step], feeds },
    rematLine: gradsText.split('\n').find((l) => l.startsWith('remat:')) ?? '',
    gradsPlanned: parseMemoryLine(gradsText).plannedBytes,
    trainPlanned: parseMemoryLine(trainText).plannedBytes,
    trainPlannedEnd: parseMemoryLine(trainTextEnd).plannedBytes,
    updatesLine: (trainText.split('\n').find((l) => l.startsWith('updates:')) ?? '').slice(0, 120),
  };
}

export interface RematResult {
  shape: RematShape;
  /** Planned bytes without and with remat: the gradient step, then the SGD training step. */
  gradsPlanned: [number, number];
  trainPlanned: [number, number];
  /** Median ms without and with remat. */
  gradsMs: [number, number];
  trainMs: [number, number];
  rematLine: string;
  /**
   * The SGD step with every update written at the end of the run (the peer of `trainPlanned`/`trainMs`, same run):
   * planned bytes and median ms, without and with remat.
   */
  trainPlannedEnd: [number, number];
  trainMsEnd: [number, number];
  updatesLine: string;
}

/** Builds both graphs and times them alternately (`repeats` timed runs each, after one warm-up run). */
export function analyzeRemat(shape: RematShape, repeats: number): RematResult {
  const none = build(shape, 'none');
  const auto = build(shape, 'auto');
  const time = (b: Built, which: 'grads' | 'train', end = false): number => {
    const start = nowMs();
    (end ? b.endOfRun : b.session).run(b[which].fetches, b[which].feeds);
    return nowMs() - start;
  };
  const samples = { grads: [[], []] as number[][], train: [[], []] as number[][], end: [[], []] as number[][] };
  for (const which of ['grads', 'train'] as const) {
    time(none, which);
    time(auto, which);
    if (which === 'train') {
      time(none, which, true);
      time(auto, which, true);
    }
    for (let r = 0; r < repeats; r++) {
      // Alternate which goes first, so neither always runs right after the other's garbage.
      const order = r % 2 === 0 ? [none, auto] : [auto, none];
      for (const b of order) samples[which][b === none ? 0 : 1].push(time(b, which));
      if (which === 'train') for (const b of order) samples.end[b === none ? 0 : 1].push(time(b, which, true));
    }
  }
  for (const b of [none, auto]) {
    b.session.dispose();
    b.endOfRun.dispose();
  }
  return {
    shape,
    gradsPlanned: [none.gradsPlanned, auto.gradsPlanned],
    trainPlanned: [none.trainPlanned, auto.trainPlanned],
    gradsMs: [median(samples.grads[0]), median(samples.grads[1])],
    trainMs: [median(samples.train[0]), median(samples.train[1])],
    rematLine: auto.rematLine,
    trainPlannedEnd: [none.trainPlannedEnd, auto.trainPlannedEnd],
    trainMsEnd: [median(samples.end[0]), median(samples.end[1])],
    updatesLine: auto.updatesLine,
  };
}

const MiB = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

export function rematLines(results: readonly RematResult[]): string[] {
  const lines = ['rematerialization (gradients remat none vs auto, same run):'];
  for (const r of results) {
    const { layers, width, batch, activation } = r.shape;
    const name = `MLP ${layers}×${width} ${activation}, batch ${batch}`;
    const row = (what: string, planned: [number, number], ms: [number, number]): string =>
      `  ${name}, ${what}: planned ${MiB(planned[0])} → ${MiB(planned[1])} (${(planned[1] / planned[0]).toFixed(2)}×), ` +
      `time ${ms[0].toFixed(0)} → ${ms[1].toFixed(0)} ms (${(ms[1] / ms[0]).toFixed(2)}×)`;
    lines.push(row('gradient step', r.gradsPlanned, r.gradsMs));
    lines.push(row('SGD step, updates at the end of the run', r.trainPlannedEnd, r.trainMsEnd));
    lines.push(row('SGD step, updates written as computed', r.trainPlanned, r.trainMs));
    // The target: remat auto with updates written as computed, against today's step (no remat, end of run).
    const [base, baseMs] = [r.trainPlannedEnd[0], r.trainMsEnd[0]];
    lines.push(
      `  ${name}, SGD step, in place + remat auto vs none at the end of the run: planned ${MiB(base)} → ` +
        `${MiB(r.trainPlanned[1])} (${(r.trainPlanned[1] / base).toFixed(2)}×), time ${baseMs.toFixed(0)} → ` +
        `${r.trainMs[1].toFixed(0)} ms (${(r.trainMs[1] / baseMs).toFixed(2)}×)`,
    );
    lines.push(`    ${r.rematLine}`);
    lines.push(`    ${r.updatesLine}`);
  }
  return lines;
}
