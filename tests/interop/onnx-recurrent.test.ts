/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * ONNX LSTM, GRU and RNN imported as scans, checked against onnxruntime-node on generated models (random weights):
 * every direction, the optional inputs (B, sequence_lens, initial_h/c, P), clip, input_forget, linear_before_reset,
 * activations with alpha/beta, W/R/B computed at run time. ORT runs these ops in float32 and layout 0 only: float64
 * and layout 1 are checked against ORT on the float32 / layout-0 form of the same model.
 */
import { importOnnx, NDArray, Session, Tensor } from '../../src';
import type { onnx } from '../../src/interop/onnx/proto';
import { OnnxAttr } from '../../src/interop/onnx/proto';
import { Rng } from '../ops/util';
import { runOrt } from './ort';
import { graph, info, init, model, node } from './onnx-build';
import { checkInputGradient } from './real-models';

type Kind = 'LSTM' | 'GRU' | 'RNN';

interface Case {
  readonly kind: Kind;
  readonly attrs?: { readonly [name: string]: OnnxAttr };
  readonly T?: number;
  readonly B?: number;
  readonly bias?: boolean;
  readonly seq?: readonly number[];
  readonly h0?: boolean;
  readonly c0?: boolean;
  readonly P?: boolean;
  /** W, R and B computed at run time: a Concat of two halves (as silero v5 does with Slice/Concat). */
  readonly computed?: boolean;
}

const [I, H] = [3, 5];

function random(rng: Rng, shape: readonly number[], scale: number): NDArray {
  const n = shape.reduce((p, d) => p * d, 1);
  return new NDArray(
    Float32Array.from({ length: n }, () => rng.uniform(-scale, scale)),
    [...shape],
  );
}

/** The model of a case (float32, layout 0) and its input X. */
function build(c: Case, layout: 0 | 1 = 0): { bytes: Uint8Array; x: NDArray; outs: string[] } {
  const rng = new Rng(7);
  const { kind, T = 4, B = 2 } = c;
  const G = kind === 'LSTM' ? 4 : kind === 'GRU' ? 3 : 1;
  const D =
    c.attrs?.direction !== undefined && 'string' in c.attrs.direction && c.attrs.direction.string === 'bidirectional'
      ? 2
      : 1;
  const inits: onnx.ITensorProto[] = [];
  const nodes: onnx.INodeProto[] = [];
  const ins = ['X'];
  const weight = (name: string, shape: number[]): void => {
    const value = random(rng, shape, 0.6);
    if (c.computed !== true) {
      inits.push(init(name, value));
      ins.push(name);
      return;
    }
    // Two halves along the last axis, concatenated by a node.
    const last = shape[shape.length - 1];
    const half = Math.floor(last / 2);
    const parts = [0, 1].map((k) => {
      const width = k === 0 ? half : last - half;
      const rows = value.data.length / last;
      const data = new Float32Array(rows * width);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < width; j++) data[r * width + j] = value.data[r * last + k * half + j];
      return new NDArray(data, [...shape.slice(0, -1), width]);
    });
    inits.push(init(`${name}_a`, parts[0]), init(`${name}_b`, parts[1]));
    nodes.push(node('Concat', [`${name}_a`, `${name}_b`], [name], { axis: { int: shape.length - 1 } }));
    ins.push(name);
  };
  weight('W', [D, G * H, I]);
  weight('R', [D, G * H, H]);
  if (c.bias === true) weight('B', [D, 2 * G * H]);
  else ins.push('');
  if (c.seq !== undefined) {
    inits.push({ name: 'L', dataType: 6, dims: [B], int32Data: [...c.seq] });
    ins.push('L');
  } else ins.push('');
  const state = (name: string, present: boolean | undefined): void => {
    if (present !== true) {
      ins.push('');
      return;
    }
    const value = random(rng, [D, B, H], 0.8);
    inits.push(init(name, layout === 0 ? value : transpose3(value)));
    ins.push(name);
  };
  state('h0', c.h0);
  if (kind === 'LSTM') {
    state('c0', c.c0);
    if (c.P === true) {
      inits.push(init('P', random(rng, [D, 3 * H], 0.6)));
      ins.push('P');
    }
  }
  while (ins[ins.length - 1] === '') ins.pop();
  const outs = kind === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const x0 = random(rng, [T, B, I], 1.5);
  const x = layout === 0 ? x0 : transpose3(x0);
  const attrs = { hidden_size: { int: H }, ...(c.attrs ?? {}), ...(layout === 1 ? { layout: { int: 1 } } : {}) };
  nodes.push(node(kind, ins, outs, attrs));
  const g = graph(
    nodes,
    [info('X', 'float32', [...x.shape])],
    outs.map((o) => info(o, 'float32', null)),
    inits,
  );
  return { bytes: model(g, 14), x, outs };
}

/** Swaps the first two axes of a rank-3 array. */
function transpose3(a: NDArray): NDArray {
  const [p, q, r] = a.shape;
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < q; j++) for (let k = 0; k < r; k++) out[(j * p + i) * r + k] = a.data[(i * q + j) * r + k];
  return new NDArray(out, [q, p, r]);
}

function runLazygrad(bytes: Uint8Array, x: NDArray): NDArray[] {
  const { graph: g, inputs, outputs } = importOnnx(bytes);
  return new Session(g).run(outputs, new Map([[inputs.get('X') as never, x]])) as NDArray[];
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const bidirectional = { direction: { string: 'bidirectional' } };
const reverse = { direction: { string: 'reverse' } };
const all = { bias: true, h0: true, c0: true };

const CASES: [string, Case][] = [];
for (const kind of ['LSTM', 'GRU', 'RNN'] as const) {
  CASES.push(
    [`${kind} defaults`, { kind }],
    [`${kind} with B, initial states (and P)`, { kind, ...all, P: true }],
    [`${kind} reverse`, { kind, ...all, attrs: reverse }],
    [`${kind} bidirectional with sequence_lens`, { kind, ...all, P: true, B: 3, seq: [4, 2, 1], attrs: bidirectional }],
    [
      `${kind} reverse with sequence_lens, zero initial state`,
      { kind, bias: true, B: 3, seq: [4, 2, 1], attrs: reverse },
    ],
    [`${kind} clip`, { kind, ...all, P: true, attrs: { clip: { float: 0.3 } } }],
    [`${kind} W, R, B computed at run time`, { kind, ...all, computed: true }],
    [`${kind} one step`, { kind, ...all, T: 1 }],
  );
}
CASES.push(
  ['GRU linear_before_reset', { kind: 'GRU', ...all, attrs: { linear_before_reset: { int: 1 } } }],
  [
    'GRU linear_before_reset, clip, bidirectional',
    { kind: 'GRU', ...all, attrs: { linear_before_reset: { int: 1 }, clip: { float: 0.4 }, ...bidirectional } },
  ],
  ['LSTM input_forget', { kind: 'LSTM', ...all, attrs: { input_forget: { int: 1 } } }],
  [
    'LSTM HardSigmoid, LeakyRelu, ScaledTanh with alpha/beta',
    {
      kind: 'LSTM',
      bias: true,
      attrs: {
        activations: { strings: ['HardSigmoid', 'LeakyRelu', 'ScaledTanh'] },
        activation_alpha: { floats: [0.3, 0.1, 0.9] },
        activation_beta: { floats: [0.4, 1.2] },
      },
    },
  ],
  [
    'RNN bidirectional Affine and Elu',
    {
      kind: 'RNN',
      bias: true,
      attrs: {
        activations: { strings: ['Affine', 'Elu'] },
        activation_alpha: { floats: [0.7, 0.5] },
        activation_beta: { floats: [0.1] },
        ...bidirectional,
      },
    },
  ],
  [
    'GRU Softsign and Softplus',
    { kind: 'GRU', bias: true, attrs: { activations: { strings: ['Softsign', 'Softplus'] } } },
  ],
  [
    'RNN ThresholdedRelu',
    {
      kind: 'RNN',
      bias: true,
      attrs: { activations: { strings: ['ThresholdedRelu'] }, activation_alpha: { floats: [0.1] } },
    },
  ],
  ['RNN Relu', { kind: 'RNN', ...all, attrs: { activations: { strings: ['Relu'] } } }],
);

describe('LSTM / GRU / RNN against ONNX Runtime', () => {
  test.each(CASES)('%s', async (_, c) => {
    const { bytes, x, outs } = build(c);
    const reference = await runOrt(bytes, new Map([['X', x]]));
    const got = runLazygrad(bytes, x);
    outs.forEach((name, k) => {
      const r = reference.get(name) as NDArray;
      expect(got[k].shape).toEqual(r.shape);
      expect(maxAbs(got[k].data, r.data)).toBeLessThan(1e-6); // measured ≤ 2.4e-7
    });
  });

  test.each(CASES.filter(([, c]) => c.kind !== 'LSTM' || c.P !== true))('%s, layout 1 (batch first)', async (_, c) => {
    const base = build(c);
    const reference = await runOrt(base.bytes, new Map([['X', base.x]]));
    const { bytes, x } = build(c, 1);
    const got = runLazygrad(bytes, x);
    // Y [T, D, B, H] is [B, T, D, H] in layout 1; Y_h/Y_c [D, B, H] are [B, D, H].
    const y = reference.get('Y') as NDArray;
    const [T, D, B] = y.shape;
    expect(got[0].shape).toEqual([B, T, D, H]);
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++)
        for (let b = 0; b < B; b++)
          for (let h = 0; h < H; h++)
            expect(
              Math.abs(got[0].data[((b * T + t) * D + d) * H + h] - y.data[((t * D + d) * B + b) * H + h]),
            ).toBeLessThan(1e-6);
    expect(maxAbs(got[1].data, transpose3(reference.get('Y_h') as NDArray).data)).toBeLessThan(1e-6);
  });

  test('float64 models (which ORT does not run) agree with ORT on their float32 form', async () => {
    for (const kind of ['LSTM', 'GRU', 'RNN'] as const) {
      const { bytes, x } = build({ kind, ...all, attrs: bidirectional, B: 3, seq: [4, 3, 1] });
      const reference = await runOrt(bytes, new Map([['X', x]]));
      const { graph: g, inputs, outputs } = importOnnx(asDouble(bytes));
      const got = new Session(g).run(
        outputs,
        new Map([[inputs.get('X') as never, new NDArray(Float64Array.from(x.data), x.shape)]]),
      ) as NDArray[];
      expect(got[0].dtype).toBe('float64');
      // float32 rounding of ORT's run: measured ≤ 1.2e-7.
      expect(maxAbs(got[0].data, (reference.get('Y') as NDArray).data)).toBeLessThan(1e-6);
    }
  });

  test('unknown activations and wrong shapes are errors naming the node', () => {
    const bad = build({ kind: 'RNN', attrs: { activations: { strings: ['Swish'] } } });
    expect(() => importOnnx(bad.bytes)).toThrow(/node 'RNN_Y' \(RNN\): activation 'Swish' is not one of Affine/);
    const wrong = build({ kind: 'GRU', attrs: { hidden_size: { int: 4 } } });
    expect(() => importOnnx(wrong.bytes)).toThrow(/\(GRU\): W must have shape \[1, 12, 3\], got \[1, 15, 3\]/);
  });
});

/** A float32 model as float64 (initializers, input, outputs). */
function asDouble(bytes: Uint8Array): Uint8Array {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { asFloat64 } = require('./real-models') as typeof import('./real-models');
  return asFloat64(bytes);
}

describe('gradients of imported recurrent layers', () => {
  test.each(['LSTM', 'GRU', 'RNN'] as const)(
    '%s (bidirectional, sequence_lens, float64): input gradient against central differences',
    (kind) => {
      const { bytes, x } = build({ kind, ...all, P: kind === 'LSTM', attrs: bidirectional, B: 3, seq: [4, 2, 3] });
      const { inputs, outputs } = importOnnx(asDouble(bytes));
      // The weighted sum covers Y and Y_h (and Y_c): every output's path back to X.
      for (const y of outputs) {
        const check = checkInputGradient(inputs.get('X') as Tensor, y, Float64Array.from(x.data), {
          shape: x.shape,
          directions: 2,
          pixels: [0, 17, 28], // rows within their sequence_lens (past it the gradient is 0)
          hDirection: 1e-6,
          hPixel: 1e-6,
          seed: 9,
        });
        expect(check.worst).toBeLessThan(1e-6);
      }
    },
  );
});
