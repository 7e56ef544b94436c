/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The op table (tests/ops/cases) on the 'onnxruntime' backend: every forward case (float32 and the dtypes its
 * operands give) and every float64 finite-difference case's value and gradient, run by `runAsync` and compared with
 * the js backend (the reference kernels) on the same values: float results within tolerance, int32 and bool exactly.
 * Whatever ONNX Runtime cannot run is split off to lazygrad by the backend, so every case must run.
 */
import { gradients, Graph, NDArray, Session, Tensor } from '../../src';
import { casesOf } from '../ops/cases';
import { makeValue, Operand } from '../ops/harness';
import { Rng } from '../ops/util';

/** Relative error of a against b, with an absolute floor for values near 0. */
function close(a: number, b: number, tol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

function compare(got: NDArray, want: NDArray, tol: number, what: string): void {
  expect(`${what} ${got.dtype}[${got.shape.join(', ')}]`).toBe(`${what} ${want.dtype}[${want.shape.join(', ')}]`);
  const exact = want.dtype === 'int32' || want.dtype === 'bool';
  const bad: string[] = [];
  for (let i = 0; i < want.data.length && bad.length < 3; i++) {
    const a = Number(got.data[i]);
    const b = Number(want.data[i]);
    if (exact ? a !== b : !close(a, b, tol)) bad.push(`[${i}] ${a} vs ${b}`);
  }
  expect(`${what}: ${bad.join('; ')}`).toBe(`${what}: `);
}

/** How many cases ran (part of) their graph in ONNX Runtime, and which were split. */
const tally = { cases: 0, ort: 0, split: new Set<string>() };

async function runBoth(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor | Tensor[],
  dtype: 'float32' | 'float64',
  withGradients: boolean,
): Promise<void> {
  tally.cases++;
  const rng = new Rng(seed);
  const values = operands.map((o) => makeValue(rng, o, dtype));
  const g = new Graph();
  const xs = values.map((v, i) => g.placeholder(`x${i}`, [...v.shape], v.dtype));
  const built = build(...xs);
  const ys = Array.isArray(built) ? built : [built];
  const fetches: Tensor[] = [...ys];
  if (withGradients) {
    const floatXs = xs.filter((x) => x.dtype === dtype);
    const ly = ys.filter((y) => y.dtype === dtype);
    if (ly.length > 0 && floatXs.length > 0) {
      const grads = gradients(ly, floatXs);
      for (const grad of grads) if (grad !== null) fetches.push(grad);
    }
  }
  const feeds = new Map(xs.map((x, i) => [x, values[i]] as [Tensor, NDArray]));
  const want = new Session(g, { backend: 'js' }).run(fetches, feeds);
  const sess = new Session(g, { backend: 'onnxruntime' });
  const got = await sess.runAsync(fetches, feeds);
  const split = /(\d+) segments? \((\d+) in ONNX Runtime, (\d+) in lazygrad kernels\)/.exec(
    sess.explain(fetches, feeds),
  );
  const [ort, lazygrad] = split === null ? [0, 0] : [Number(split[2]), Number(split[3])];
  if (ort > 0) tally.ort++;
  if (lazygrad > 0) tally.split.add(`${dtype} ${fetches[0].name.replace(/_\d+$/, '')}`);
  const tol = dtype === 'float64' ? 1e-9 : 2e-4;
  fetches.forEach((t, i) => compare(got[i], want[i], tol, i < ys.length ? `output ${i}` : `gradient ${i - ys.length}`));
}

describe('forward cases', () => {
  test.each(casesOf('forward'))('$name', async ({ row, c, seed }) => {
    await runBoth(seed, c.inputs, c.build ?? row.build, 'float32', false);
  });
});

describe('float64 cases, values and gradients', () => {
  test.each(casesOf('gradFd'))('$name', async ({ row, c, seed }) => {
    await runBoth(seed, c.inputs, c.build ?? row.build, 'float64', true);
  });
});

afterAll(() => {
  // The backend really ran the table in ONNX Runtime: all but a few cases (graphs the passes fold to nothing).
  console.log(
    `${tally.ort} of ${tally.cases} cases ran (partly) in ONNX Runtime; with lazygrad segments: ` +
      [...tally.split].join(', '),
  );
  expect(tally.ort).toBeGreaterThan(tally.cases * 0.9);
});
