/**
 * The `remat` pass (session option remat: 'auto'): cheap values live across the plan's peak are recomputed just
 * before their later readers, so they die before the peak. Same kernels on the same inputs: the same values.
 */
import fc from 'fast-check';
import { add, Graph, matMul, mul, NDArray, Session, SessionOptions, sin, sum, tanh, Tensor } from '../../src';
import { randomArray, Rng } from '../ops/util';

function explainAndRun(
  g: Graph,
  fetches: Tensor[],
  feeds: Map<Tensor, NDArray>,
  options: SessionOptions,
): { values: NDArray[]; text: string; planned: number } {
  const sess = new Session(g, options);
  const values = sess.run(fetches, feeds) as NDArray[];
  const text = sess.explain(fetches, feeds);
  const match = /^memory: ([\d.]+) (B|KiB|MiB)/m.exec(text);
  const planned = match === null ? NaN : Number(match[1]) * { B: 1, KiB: 1024, MiB: 1024 * 1024 }[match[2] as 'B'];
  sess.dispose();
  return { values, text, planned };
}

/** Four sin(k·x) read by the first matMul of a chain and again at its end: all four live across the chain. */
function program(): { g: Graph; fetches: Tensor[]; feeds: Map<Tensor, NDArray> } {
  const rng = new Rng(9);
  const g = new Graph();
  const x = g.placeholder('x', [64, 64]);
  const w = g.variable('w', randomArray(rng, [64, 64], 'float32', { lo: -0.2, hi: 0.2 }));
  const early = [1, 2, 3, 4].map((k) => sin(mul(x, k)));
  let h = matMul(add(add(early[0], early[1]), add(early[2], early[3])), w);
  for (let i = 0; i < 6; i++) h = tanh(matMul(h, w));
  let out = h;
  for (const e of early) out = add(matMul(out, w), e);
  return { g, fetches: [sum(out)], feeds: new Map([[x, randomArray(rng, [64, 64], 'float32')]]) };
}

describe('the remat pass', () => {
  test('recomputes the cheap values live across the peak: less memory, the same values bit for bit', () => {
    const p = program();
    const kept = explainAndRun(p.g, p.fetches, p.feeds, {});
    const remat = explainAndRun(p.g, p.fetches, p.feeds, { remat: 'auto' });
    expect(Array.from(remat.values[0].data)).toEqual(Array.from(kept.values[0].data));
    // sin(x) from x, and each sin(k·x) through its k·x (which died long before): 7 copies.
    expect(remat.text).toMatch(/^ {2}remat +nodes \d+ → \d+ \(\+7\) {2}recomputed 7 /m);
    expect(remat.planned).toBeLessThan(kept.planned);
    // The copies run after the chain, each just before its reader, named after the value they recompute.
    const plan = remat.text.split('\n');
    const lastTanh = plan.reduce((last, line, i) => (/= fused\(|= tanh\(|activation="tanh"/.test(line) ? i : last), -1);
    const copies = plan.flatMap((line, i) => (/# remat\//.test(line) ? [i] : []));
    expect(copies.length).toBeGreaterThan(0);
    for (const i of copies) expect(i).toBeGreaterThan(lastTanh);
  });

  test('without remat: "auto" the pipeline has no remat pass', () => {
    const p = program();
    expect(explainAndRun(p.g, p.fetches, p.feeds, {}).text).not.toMatch(/^ {2}remat /m);
  });

  test('random graphs: the same values with and without the pass (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 3, maxLength: 16 }),
        (seed, choices) => {
          const rng = new Rng(seed);
          const g = new Graph();
          const x = g.placeholder('x', [8, 8]);
          const w = g.variable('w', randomArray(rng, [8, 8], 'float32', { lo: -0.5, hi: 0.5 }));
          const values: Tensor[] = [x];
          for (const c of choices) {
            const a = values[values.length - 1];
            const b = values[c % values.length];
            const kinds = [() => matMul(a, w), () => sin(add(a, b)), () => tanh(mul(a, b)), () => add(matMul(b, w), a)];
            values.push(kinds[c % kinds.length]());
          }
          const fetches = [sum(values[values.length - 1])];
          const feeds = new Map([[x, randomArray(rng, [8, 8], 'float32')]]);
          const kept = explainAndRun(g, fetches, feeds, {}).values;
          const remat = explainAndRun(g, fetches, feeds, { remat: 'auto' }).values;
          expect(Array.from(remat[0].data)).toEqual(Array.from(kept[0].data));
        },
      ),
      { numRuns: 40, seed: 2026 },
    );
  });
});
