import { broadcastTo, type Buf, type FusedArg } from '../../src/ops/kernels';
import { batchNorm, batchNormTraining, gradients, Graph, NDArray, Session, sum, Tensor } from '../../src';
import { compileFusedProgram, loadWasmKernels, WasmBufKernels } from '../../src/backend/wasm';
import { FUSED_WORDS, OP_FILL_ROW } from '../../src/backend/wasm/opcodes.generated';
import { Rng, nodeStartWorker, outF32, randF32, sizeOf } from './helpers';

const one = new WasmBufKernels(loadWasmKernels({ initialBytes: 32 << 20 }));
const twoKernels = loadWasmKernels({ initialBytes: 32 << 20, threads: 2, startWorker: nodeStartWorker });
const two = new WasmBufKernels(twoKernels);
afterAll(() => twoKernels.dispose());

function expectBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]))
      throw new Error(`${what}: element ${i} is ${actual[i]}, not ${expected[i]}`);
  }
}

/** (x − mean) · rsqrt(variance + 1e-3) · scale + offset, the steps batchNorm's fused group runs. */
const NORMALIZE: { op: string; args: FusedArg[] }[] = [
  { op: 'add', args: [{ input: 2 }, { value: 1e-3 }] },
  { op: 'rsqrt', args: [{ step: 0 }] },
  { op: 'mul', args: [{ step: 1 }, { input: 3 }] },
  { op: 'sub', args: [{ input: 0 }, { input: 1 }] },
  { op: 'mul', args: [{ step: 3 }, { step: 2 }] },
  { op: 'add', args: [{ step: 4 }, { input: 4 }] },
];

describe('fused groups with row-broadcast inputs (read in place, not expanded)', () => {
  test('row inputs give the same bits as the same inputs expanded to full size, odd sizes and two threads', () => {
    const rng = new Rng(21);
    const shapes = [
      [3, 5],
      [2, 7, 3],
      [1, 1, 9],
      [4, 4, 4, 64],
      [2, 33, 31, 13],
      [8, 40, 40, 16],
      [1, 300, 257],
    ];
    for (const shape of shapes) {
      const x = randF32(rng, shape);
      const c = shape[shape.length - 1];
      // Statistics as [c], [1, …, c] and (for rank ≥ 3) the last two dims: every trailing-row form.
      const rows = [[c], [1, c], shape.length >= 3 ? shape.slice(-2) : [c]];
      for (const rowShape of rows) {
        const stats = [0, 1, 2, 3].map(() => randF32(rng, rowShape));
        stats[1].data.forEach((v, i) => (stats[1].data[i] = Math.abs(v)));
        const expanded = stats.map((s) => {
          const full: Buf = { data: new Float32Array(sizeOf(shape)), shape };
          broadcastTo(s, full);
          return full;
        });
        for (const k of [one, two]) {
          const fromRows = outF32(shape);
          const fromFull = outF32(shape);
          expect(k.fused([x, ...stats], fromRows, NORMALIZE, {})).toBe(true);
          expect(k.fused([x, ...expanded], fromFull, NORMALIZE, {})).toBe(true);
          expectBits(fromRows.data, fromFull.data, `${shape} rows ${rowShape}`);
        }
      }
    }
  });

  test('a row kind compiles to one FILL_ROW per row input; a bad row length is not a program', () => {
    const program = compileFusedProgram(NORMALIZE, ['full', 'row:64', 'row:64', 'scalar', 'row:3']);
    const ops = Array.from(program ?? [], (w, i) => (i % FUSED_WORDS === 0 ? w : -1));
    expect(ops.filter((op) => op === OP_FILL_ROW).length).toBe(3);
    expect(compileFusedProgram(NORMALIZE, ['full', 'row:0', 'full', 'full', 'full'])).toBeNull();
    expect(compileFusedProgram(NORMALIZE, ['full', 'row:1.5', 'full', 'full', 'full'])).toBeNull();
  });

  test('broadcastTo of trailing dims (tileRow) equals the JS kernel; other broadcasts decline', () => {
    const rng = new Rng(22);
    const cases: [number[], number[]][] = [
      [[64], [8, 56, 56, 64]],
      [
        [1, 1, 1, 13],
        [3, 9, 7, 13],
      ],
      [
        [5, 3],
        [17, 5, 3],
      ],
      [[1], [40000]],
      [[7], [1, 7]],
    ];
    for (const [from, to] of cases) {
      const x = randF32(rng, from);
      const expected: Buf = { data: new Float32Array(sizeOf(to)), shape: to };
      broadcastTo(x, expected);
      for (const k of [one, two]) {
        const out = outF32(to);
        expect(k.broadcastRow(x, out)).toBe(true);
        expectBits(out.data, expected.data, `${from} -> ${to}`);
      }
    }
    const column = randF32(rng, [4, 1]);
    const out = outF32([4, 6]);
    expect(one.broadcastRow(column, out)).toBe(false);
    expect(out.data.every((v) => v === -12345)).toBe(true);
  });
});

describe('batchNorm in a wasm session', () => {
  const vec = (rng: Rng, positive = false): NDArray => {
    const data = randF32(rng, [16]).data;
    if (positive) data.forEach((v, i) => (data[i] = 0.5 + Math.abs(v)));
    return new NDArray(data, [16]);
  };

  test('inference and training (values, gradients, moving averages) match the js backend; wasm runs them', () => {
    const rng = new Rng(23);
    const g = new Graph();
    const x = g.placeholder('x', [null, 9, 7, 16]);
    const y = batchNorm(x, vec(rng), vec(rng, true), vec(rng), vec(rng), 1e-3);
    const mm = g.variable('mm', vec(rng));
    const mv = g.variable('mv', vec(rng, true));
    const beta = g.variable('beta', vec(rng));
    const gamma = g.variable('gamma', vec(rng));
    const bn = batchNormTraining(x, mm, mv, beta, gamma, { axes: [0, 1, 2] });
    const loss = sum(bn.y.mul(bn.y).mul(y));
    const grads = gradients(loss, [x, beta, gamma]) as Tensor[];
    const feeds = { x: new NDArray(randF32(rng, [4, 9, 7, 16]).data, [4, 9, 7, 16]) };
    const fetches = [y, bn.y, loss, ...grads, ...bn.updates];
    const js = new Session(g, { backend: 'js' }).run(fetches, feeds);
    const fused = jest.spyOn(WasmBufKernels.prototype, 'fused');
    const tile = jest.spyOn(WasmBufKernels.prototype, 'broadcastRow');
    for (const threads of [1, 2] as const) {
      fused.mockClear();
      tile.mockClear();
      const wasm = new Session(g, { backend: 'wasm', threads }).run(fetches, feeds);
      // Every full-size fused group ran in the interpreter, and the broadcasts of the statistics' gradients in wasm.
      const large = fused.mock.calls.filter(([, out]) => out.data.length >= 4 * 9 * 7 * 16);
      expect(large.length).toBeGreaterThan(2);
      expect(fused.mock.results.filter((r, i) => large.includes(fused.mock.calls[i])).every((r) => r.value)).toBe(true);
      expect(tile.mock.results.length).toBeGreaterThan(0);
      expect(tile.mock.results.every((r) => r.value === true)).toBe(true);
      js.forEach((r, k) => {
        let scale = 0;
        r.data.forEach((v) => (scale = Math.max(scale, Math.abs(v))));
        r.data.forEach((v, i) => {
          if (Math.abs(wasm[k].data[i] - v) > 2e-5 * scale) {
            throw new Error(`threads ${threads} fetch ${k} element ${i}: wasm ${wasm[k].data[i]}, js ${v}`);
          }
        });
      });
    }
    fused.mockRestore();
    tile.mockRestore();
  });
});
