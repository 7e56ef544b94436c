/**
 * Issue 20, training updates: bytes copied per step of the benchmarks' MLP training step (784-256-256-10, batch
 * 128, SGD through `assign`, fetched as the loss and one `group`), counted by wrapping Float32Array.prototype.set
 * (every copy in the session's code goes through it), and the step's median time: with the update blocks exchanged
 * (now) and with the exchange switched off (the value copied into the variable's block, as before issue 20), the
 * peer in the same process, in ABBA order. Also the bytes of a fetched result with `{ copy: false }` against a copying run.
 *
 *   npm run bench -- --only arena
 */
import {
  add,
  assign,
  exp,
  gradients,
  Graph,
  group,
  matMul,
  mean,
  mul,
  NDArray,
  relu,
  Session,
  softmaxCrossEntropyWithLogits,
  sub,
  tanh,
  Tensor,
} from '../src';
import { median, nowMs } from './stats';
import { Rng, uniformArray } from './rng';

export interface UpdateCopies {
  /** Bytes of the MLP's parameters (what one copy of every weight moves). */
  parameterBytes: number;
  /** Bytes copied per step: with the exchange, and with it switched off. */
  exchanged: number;
  copied: number;
  /** Median step time, ms, of each (same process, alternating rounds). */
  exchangedMs: number;
  copiedMs: number;
  /** Bytes copied by one run fetching the 128×256 hidden layer: copying, and with { copy: false }. */
  resultCopy: number;
  resultView: number;
  /** Median run time, ms, of an elementwise chain over 1M floats fetched as a copy and with { copy: false }. */
  chainCopyMs: number;
  chainViewMs: number;
}

const LAYERS = [784, 256, 256, 10];
const BATCH = 128;

function mlp(): { g: Graph; fetches: Tensor[]; hidden: Tensor; feeds: Map<Tensor, NDArray>; params: Tensor[] } {
  const rng = new Rng(20);
  const g = new Graph();
  const x = g.placeholder('x', [BATCH, LAYERS[0]]);
  const labels = g.placeholder('labels', [BATCH, LAYERS[3]]);
  const params: Tensor[] = [];
  let h: Tensor = x;
  let hidden: Tensor = x;
  for (let i = 0; i < 3; i++) {
    const w = g.variable(
      `w${i}`,
      new NDArray(uniformArray(rng, LAYERS[i] * LAYERS[i + 1], -0.05, 0.05), [LAYERS[i], LAYERS[i + 1]]),
    );
    const b = g.variable(`b${i}`, new NDArray(new Float32Array(LAYERS[i + 1]), [LAYERS[i + 1]]));
    params.push(w, b);
    h = add(matMul(h, w), b);
    if (i < 2) h = relu(h);
    if (i === 0) hidden = h;
  }
  const loss = mean(softmaxCrossEntropyWithLogits(labels, h));
  const grads = gradients(loss, params) as Tensor[];
  const step = group(
    params.map((p, i) => assign(p, sub(p, mul(grads[i], 0.01)))),
    'sgd',
  );
  const onehot = new Float32Array(BATCH * LAYERS[3]);
  for (let r = 0; r < BATCH; r++) onehot[r * LAYERS[3] + (r % LAYERS[3])] = 1;
  const feeds = new Map<Tensor, NDArray>([
    [x, new NDArray(uniformArray(rng, BATCH * LAYERS[0], 0, 1), [BATCH, LAYERS[0]])],
    [labels, new NDArray(onehot, [BATCH, LAYERS[3]])],
  ]);
  return { g, fetches: [loss, step], hidden, feeds, params };
}

/** Bytes that pass through Float32Array.prototype.set while `body` runs. */
function copiedBy(body: () => void): number {
  const set = Float32Array.prototype.set;
  let bytes = 0;
  Float32Array.prototype.set = function (this: Float32Array, source: ArrayLike<number>, offset?: number): void {
    bytes += source.length * 4;
    set.call(this, source, offset);
  } as typeof set;
  try {
    body();
  } finally {
    Float32Array.prototype.set = set;
  }
  return bytes;
}

/** Switches a session's update exchange off (through its private store): every update is copied, as before. */
function copyUpdates(session: Session): void {
  const store = (session as unknown as { store: { write(id: number, v: NDArray): void; exchange: unknown } }).store;
  store.exchange = (id: number, _block: unknown, value: NDArray) => {
    store.write(id, value);
    return null;
  };
}

/** tanh(exp(x·0.5)·0.3 + x) over 1M floats, fetched whole: the result copy is a visible part of the run. */
function chainTimes(rounds: number): [number, number] {
  const g = new Graph();
  const x = g.placeholder('x', [1024, 1024]);
  const y = tanh(add(mul(exp(mul(x, 0.5)), 0.3), x));
  const feeds = new Map([[x, new NDArray(uniformArray(new Rng(7), 1 << 20, -1, 1), [1024, 1024])]]);
  const s = new Session(g, { backend: 'wasm' });
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < rounds + 3; r++) {
    for (const copy of r % 2 === 0 ? [true, false] : [false, true]) {
      const start = nowMs();
      s.run(y, feeds, { copy });
      if (r >= 3) times[copy ? 0 : 1].push(nowMs() - start);
    }
  }
  s.dispose();
  return [median(times[0]), median(times[1])];
}

export function updateCopies(rounds: number): UpdateCopies {
  const { g, fetches, hidden, feeds, params } = mlp();
  const exchanged = new Session(g, { backend: 'wasm' });
  const copied = new Session(g, { backend: 'wasm' });
  copyUpdates(copied);
  for (let k = 0; k < 3; k++) {
    exchanged.run(fetches, feeds);
    copied.run(fetches, feeds);
  }
  const bytes = [exchanged, copied].map((s) => copiedBy(() => s.run(fetches, feeds)));
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < rounds; r++) {
    // ABBA order: neither session always runs first.
    for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const start = nowMs();
      [exchanged, copied][i].run(fetches, feeds);
      times[i].push(nowMs() - start);
    }
  }
  exchanged.run(hidden, feeds);
  exchanged.run(hidden, feeds, { copy: false });
  const resultCopy = copiedBy(() => exchanged.run(hidden, feeds));
  const resultView = copiedBy(() => exchanged.run(hidden, feeds, { copy: false }));
  const parameterBytes = params.reduce((sum, p) => sum + 4 * (p.shape as number[]).reduce((a, b) => a * b, 1), 0);
  exchanged.dispose();
  copied.dispose();
  const [chainCopyMs, chainViewMs] = chainTimes(rounds);
  return {
    chainCopyMs,
    chainViewMs,
    parameterBytes,
    exchanged: bytes[0],
    copied: bytes[1],
    exchangedMs: median(times[0]),
    copiedMs: median(times[1]),
    resultCopy,
    resultView,
  };
}

export function updateLines(u: UpdateCopies): string[] {
  const kB = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
  return [
    `training-step copies (MLP ${LAYERS.join('-')}, batch ${BATCH}, SGD via assign; parameters ${kB(u.parameterBytes)}):`,
    `  bytes copied per step: ${kB(u.exchanged)} with the update blocks exchanged, ${kB(u.copied)} with the ` +
      `update copied (saved ${kB(u.copied - u.exchanged)} per step)`,
    `  step time: ${u.exchangedMs.toFixed(2)} ms exchanged vs ${u.copiedMs.toFixed(2)} ms copied ` +
      `(${(u.copiedMs / u.exchangedMs).toFixed(2)}×, same process, ABBA order)`,
    `  fetching the 128×256 hidden layer: ${kB(u.resultCopy)} copied per run, ${kB(u.resultView)} with { copy: false }`,
    `  a 4-op chain over 1M floats, fetched: ${u.chainCopyMs.toFixed(2)} ms copied vs ${u.chainViewMs.toFixed(2)} ms ` +
      `with { copy: false } (${(u.chainCopyMs / u.chainViewMs).toFixed(2)}×)`,
  ];
}

if (require.main === module) {
  for (const line of updateLines(updateCopies(process.argv.includes('--quick') ? 50 : 300))) console.log(line);
}
