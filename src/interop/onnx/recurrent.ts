/**
 * ONNX LSTM, GRU and RNN as a `scan` per direction with the gate math in primitive ops (so they run in any backend,
 * differentiate, and re-export as a Scan). The input projection X·Wᵀ + Wb (+ Rb where it adds straight in) is one
 * matMul over all steps outside the scan; the body holds only the recurrent product and the gates. Gate orders are
 * ONNX's: LSTM i, o, f, c; GRU z, r, h. sequence_lens masks each batch row past its length: the state keeps its
 * last value (so Y_h is the state at the row's last step) and Y is zero there, as ONNX specifies; in the reverse
 * direction a row's steps past its length come first and leave the initial state untouched, so its recurrence
 * starts at its own last step. W, R and B may be computed at run time (silero v5 slices and concats them).
 */
import { AttrValue, canonicalJSON, Graph, NDArray, Tensor } from '../../graph';
import * as ops from '../../ops';
import { ImportArgs, ImportRule } from './import-ops';
import { onnx, toNumber } from './proto';

type Activation = (x: Tensor) => Tensor;
type Kind = 'LSTM' | 'GRU' | 'RNN';

const GATES: { readonly [kind in Kind]: number } = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULT_ACTIVATIONS: { readonly [kind in Kind]: readonly string[] } = {
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  RNN: ['Tanh'],
};

/** Which activations take alpha and beta, and their defaults (ONNX Runtime's rnn_helpers; 0 when not listed). */
const ACTIVATION_ARGS: { readonly [name: string]: readonly [boolean, boolean, number, number] } = {
  affine: [true, true, 0, 0],
  relu: [false, false, 0, 0],
  leakyrelu: [true, false, 0.01, 0],
  thresholdedrelu: [true, false, 0, 0],
  tanh: [false, false, 0, 0],
  scaledtanh: [true, true, 0, 0],
  sigmoid: [false, false, 0, 0],
  hardsigmoid: [true, true, 0.2, 0.5],
  elu: [true, false, 1, 0],
  softsign: [false, false, 0, 0],
  softplus: [false, false, 0, 0],
};

function activationOf(name: string, alpha: number, beta: number): Activation {
  switch (name) {
    case 'affine':
      return (x) => ops.add(ops.mul(x, alpha), beta);
    case 'relu':
      return ops.relu;
    case 'leakyrelu':
      return (x) => ops.leakyRelu(x, alpha);
    case 'thresholdedrelu':
      return (x) => ops.where(ops.greater(x, alpha), x, ops.zerosLike(x));
    case 'tanh':
      return ops.tanh;
    case 'scaledtanh':
      return (x) => ops.mul(ops.tanh(ops.mul(x, beta)), alpha);
    case 'sigmoid':
      return ops.sigmoid;
    case 'hardsigmoid':
      return (x) => ops.hardSigmoid(x, alpha, beta);
    case 'elu':
      return (x) => (alpha === 1 ? ops.elu(x) : ops.where(ops.less(x, 0), ops.mul(ops.expm1(x), alpha), x));
    case 'softsign':
      return (x) => ops.div(x, ops.add(ops.abs(x), 1));
    default:
      return ops.softplus;
  }
}

/** The activations of each direction, with alpha and beta consumed in order by the ones that take them. */
function activations(a: ImportArgs, kind: Kind, directions: number): Activation[][] {
  const per = DEFAULT_ACTIVATIONS[kind].length;
  const names = a.attrs.has('activations')
    ? readStrings(a, 'activations')
    : Array.from({ length: directions }, () => DEFAULT_ACTIVATIONS[kind]).flat();
  if (names.length !== per * directions) {
    throw a.fail(
      `activations lists ${names.length} functions; ${kind} with ${directions} direction(s) needs ${per * directions}`,
    );
  }
  const alphas = a.attrs.has('activation_alpha') ? readFloats(a, 'activation_alpha') : [];
  const betas = a.attrs.has('activation_beta') ? readFloats(a, 'activation_beta') : [];
  let [ai, bi] = [0, 0];
  const fns = names.map((raw) => {
    const name = raw.toLowerCase();
    const args = Object.prototype.hasOwnProperty.call(ACTIVATION_ARGS, name) ? ACTIVATION_ARGS[name] : undefined;
    if (args === undefined) {
      throw a.fail(
        `activation '${raw}' is not one of Affine, Relu, LeakyRelu, ThresholdedRelu, Tanh, ScaledTanh, Sigmoid, ` +
          'HardSigmoid, Elu, Softsign, Softplus',
      );
    }
    const alpha = args[0] ? (ai < alphas.length ? alphas[ai++] : args[2]) : 0;
    const beta = args[1] ? (bi < betas.length ? betas[bi++] : args[3]) : 0;
    return activationOf(name, alpha, beta);
  });
  return Array.from({ length: directions }, (_, d) => fns.slice(d * per, (d + 1) * per));
}

function readStrings(a: ImportArgs, name: string): string[] {
  const attr = (a.node.attribute ?? []).find((x) => x.name === name);
  return (attr?.strings ?? []).map((s) => String.fromCharCode(...Array.from(s).slice(0, 64)));
}

function readFloats(a: ImportArgs, name: string): number[] {
  const attr = (a.node.attribute ?? []).find((x) => x.name === name);
  return [...(attr?.floats ?? [])];
}

/** Row d of a [D, ...] tensor, without its leading axis. */
function row(x: Tensor, d: number): Tensor {
  return ops.squeeze(
    ops.slice(
      x,
      x.shape.map((_, i) => (i === 0 ? d : 0)),
      x.shape.map((_, i) => (i === 0 ? 1 : -1)),
    ),
    0,
  );
}

/** Columns [from, from + size) of the last axis. */
function cols(x: Tensor, from: number, size: number): Tensor {
  return ops.slice(
    x,
    x.shape.map((_, i) => (i === x.rank - 1 ? from : 0)),
    x.shape.map((_, i) => (i === x.rank - 1 ? size : -1)),
  );
}

function recurrentRule(kind: Kind): ImportRule {
  return (a) => {
    const gates = GATES[kind];
    const direction = a.attrs.string('direction', 'forward');
    if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
      throw a.fail(`direction '${direction}' is not forward, reverse or bidirectional`);
    }
    const D = direction === 'bidirectional' ? 2 : 1;
    const layout = a.attrs.int('layout', 0);
    if (layout !== 0 && layout !== 1) throw a.fail(`layout ${layout} is not 0 or 1`);
    let X = a.tensor(0);
    if (X.rank !== 3) throw a.fail(`X must be rank 3, got shape [${X.shape.join(', ')}]`);
    if (layout === 1) X = ops.transpose(X, [1, 0, 2]);
    const W = a.tensor(1);
    const R = a.tensor(2);
    const I = X.shape[2] ?? W.shape[2];
    if (I === null) throw a.fail('the input size (X or W dim 2) must be known');
    const hiddenAttr = a.attrs.has('hidden_size') ? a.attrs.int('hidden_size') : null;
    const H = hiddenAttr ?? (R.shape[2] as number | null);
    if (H === null || !(H > 0)) throw a.fail('hidden_size is missing and R does not give it');
    const expect = (t: Tensor, shape: readonly (number | null)[], what: string): void => {
      const fitsShape =
        t.rank === shape.length && shape.every((d, i) => d === null || t.shape[i] === null || t.shape[i] === d);
      if (!fitsShape) {
        throw a.fail(
          `${what} must have shape [${shape.map((d) => d ?? '?').join(', ')}], got [${t.shape.map((d) => d ?? '?').join(', ')}]`,
        );
      }
    };
    expect(W, [D, gates * H, I], 'W');
    expect(R, [D, gates * H, H], 'R');
    if (X.dtype !== 'float32' && X.dtype !== 'float64') throw a.fail(`X must be float32 or float64, got ${X.dtype}`);
    const same = (t: Tensor): Tensor => (t.dtype === X.dtype ? t : ops.cast(t, X.dtype));
    const B = a.has(3) ? same(a.tensor(3)) : null;
    if (B !== null) expect(B, [D, 2 * gates * H], 'B');
    const seqLens = a.has(4) ? a.tensor(4) : null;
    const state = (i: number, what: string): Tensor | null => {
      if (!a.has(i)) return null;
      let s = same(a.tensor(i));
      if (layout === 1) s = ops.transpose(s, [1, 0, 2]);
      expect(s, [D, X.shape[1], H], what);
      return s;
    };
    const h0 = state(5, 'initial_h');
    const c0 = kind === 'LSTM' ? state(6, 'initial_c') : null;
    const P = kind === 'LSTM' && a.has(7) ? same(a.tensor(7)) : null;
    if (P !== null) expect(P, [D, 3 * H], 'P');
    const clip = a.attrs.has('clip') ? a.attrs.float('clip') : null;
    const clipped = (x: Tensor): Tensor => (clip === null ? x : ops.clipByValue(x, -clip, clip));
    const inputForget = kind === 'LSTM' && a.attrs.int('input_forget', 0) !== 0;
    const linearBeforeReset = kind === 'GRU' && a.attrs.int('linear_before_reset', 0) !== 0;
    const acts = activations(a, kind, D);

    // Zeros [B, H] for absent initial states (B may be known only at run time).
    const x0 = ops.reshape(ops.slice(X, [0, 0, 0], [1, -1, -1]), [-1, I]);
    const zeros = (): Tensor => ops.matMul(ops.zerosLike(x0), ops.zeros([I, H], X.dtype, a.graph));
    // sequence_lens: valid[t, b] = t < len[b], as [T, B, 1] to scan with the inputs.
    let valid: Tensor | null = null;
    if (seqLens !== null) {
      const ones = ops.onesLike(ops.slice(X, [0, 0, 0], [-1, -1, 1]));
      const position = ops.sub(ops.cumsum(ones, 0), 1);
      valid = ops.less(position, ops.reshape(ops.cast(seqLens, X.dtype), [1, -1, 1]));
    }

    const ys: Tensor[] = [];
    const lastH: Tensor[] = [];
    const lastC: Tensor[] = [];
    for (let d = 0; d < D; d++) {
      const reverse = direction === 'reverse' || d === 1;
      const [f, g, h] = acts[d];
      const Wd = row(W, d);
      const Rd = row(R, d);
      const Bd = B === null ? null : row(B, d);
      // The input projection of every step at once: [T, B, gates·H].
      let xw = ops.matMul(X, Wd, false, true);
      if (Bd !== null) {
        const wb = cols(Bd, 0, gates * H);
        const rb = cols(Bd, gates * H, gates * H);
        // GRU's Rbh multiplies with r (linear_before_reset) or sits inside g: it stays in the body.
        xw = ops.add(
          xw,
          kind === 'GRU'
            ? ops.add(wb, ops.concat([cols(rb, 0, 2 * H), ops.zerosLike(cols(rb, 2 * H, H))], 0))
            : ops.add(wb, rb),
        );
      }
      const rbh = kind === 'GRU' && Bd !== null ? cols(Bd, 5 * H, H) : null;
      const Pd = P === null ? null : row(P, d);
      const init = [h0 === null ? zeros() : row(h0, d)];
      if (kind === 'LSTM') init.push(c0 === null ? zeros() : row(c0, d));
      const xs = valid === null ? [xw] : [xw, valid];
      const [carry, y] = ops.scan(
        (state: Tensor[], step: Tensor[]) => {
          const [hPrev, cPrev] = state;
          const xt = step[0];
          let next: Tensor[];
          if (kind === 'RNN') {
            next = [f(clipped(ops.add(xt, ops.matMul(hPrev, Rd, false, true))))];
          } else if (kind === 'GRU') {
            const hr = ops.matMul(hPrev, cols(ops.transpose(Rd), 0, 2 * H));
            const z = f(clipped(ops.add(cols(xt, 0, H), cols(hr, 0, H))));
            const r = f(clipped(ops.add(cols(xt, H, H), cols(hr, H, H))));
            const Rh = ops.slice(Rd, [2 * H, 0], [H, -1]);
            let candidate: Tensor;
            if (linearBeforeReset) {
              let lin = ops.matMul(hPrev, Rh, false, true);
              if (rbh !== null) lin = ops.add(lin, rbh);
              candidate = ops.add(cols(xt, 2 * H, H), ops.mul(r, lin));
            } else {
              candidate = ops.add(cols(xt, 2 * H, H), ops.matMul(ops.mul(r, hPrev), Rh, false, true));
              if (rbh !== null) candidate = ops.add(candidate, rbh);
            }
            const hh = g(clipped(candidate));
            next = [ops.add(ops.mul(ops.sub(1, z), hh), ops.mul(z, hPrev))];
          } else {
            const pre = ops.add(xt, ops.matMul(hPrev, Rd, false, true));
            const gate = (k: number): Tensor => cols(pre, k * H, H);
            // ONNX Runtime clips a gate after adding its peephole term.
            const peep = (k: number, c: Tensor, x: Tensor): Tensor =>
              clipped(Pd === null ? x : ops.add(x, ops.mul(cols(Pd, k * H, H), c)));
            const i = f(peep(0, cPrev, gate(0)));
            const fg = inputForget ? ops.sub(1, i) : f(peep(2, cPrev, gate(2)));
            const c = ops.add(ops.mul(fg, cPrev), ops.mul(i, g(clipped(gate(3)))));
            const o = f(peep(1, c, gate(1)));
            next = [ops.mul(o, h(c)), c];
          }
          if (step.length === 1) return [next, next[0]];
          const ok = step[1];
          const kept = next.map((v, k) => ops.where(ok, v, state[k]));
          return [kept, ops.where(ok, next[0], ops.zerosLike(next[0]))];
        },
        init,
        xs,
        {
          reverse,
          name: `${a.node.name !== '' && a.node.name !== undefined && a.node.name !== null ? a.node.name : kind}_${d}`,
        },
      );
      ys.push(y as Tensor);
      lastH.push((carry as Tensor[])[0]);
      if (kind === 'LSTM') lastC.push((carry as Tensor[])[1]);
    }
    let Y = D === 1 ? ops.expandDims(ys[0], 1) : ops.stack(ys, 1); // [T, D, B, H]
    let Yh = ops.stack(lastH, 0); // [D, B, H]
    let Yc = kind === 'LSTM' ? ops.stack(lastC, 0) : null;
    if (layout === 1) {
      Y = ops.transpose(Y, [2, 0, 1, 3]);
      Yh = ops.transpose(Yh, [1, 0, 2]);
      if (Yc !== null) Yc = ops.transpose(Yc, [1, 0, 2]);
    }
    return tagged(a, kind, Yc === null ? [Y, Yh] : [Y, Yh, Yc]);
  };
}

/** The attr of an identity that marks an output of an imported LSTM/GRU/RNN (export-control.ts writes it back). */
export const RECURRENT_TAG = 'onnxRecurrent';

/** What the tag holds: the ONNX op and attributes, the ids of its inputs (-1 absent), the output, and a hash. */
export interface RecurrentTag {
  readonly op: Kind;
  readonly attrs: { readonly [name: string]: AttrValue };
  readonly inputs: readonly number[];
  readonly output: number;
  readonly hash: string;
}

/**
 * The outputs as identities tagged with the ONNX node they came from, so exportOnnx can write the node again while
 * the graph between its inputs and these outputs is still what this import built (the hash says). Only at the top
 * level: inside a region the ids are not the stored region's.
 */
function tagged(a: ImportArgs, kind: Kind, outputs: Tensor[]): Tensor[] {
  const graph = a.graph;
  if (graph.buildTarget() !== graph || graph.parent !== null) return outputs;
  const inputs = Array.from({ length: 8 }, (_, i) =>
    i < (a.node.input ?? []).length && a.has(i) ? a.tensor(i).id : -1,
  );
  const attrs: { [name: string]: AttrValue } = {};
  for (const attr of a.node.attribute ?? []) {
    const value = attrJSON(attr);
    if (value !== null) attrs[attr.name ?? ''] = value;
  }
  return outputs.map((y, k) => {
    const hash = recurrentHash(graph, y.id, inputs);
    if (hash === null) return y;
    const tag: RecurrentTag = { op: kind, attrs, inputs, output: k, hash };
    return ops.addOp(graph, ops.IDENTITY, [y.id], { [RECURRENT_TAG]: tag as unknown as AttrValue }, y.name);
  });
}

/** An attribute as OnnxAttr-shaped JSON ({int}, {float}, {string}, {ints}, {floats}, {strings}). */
function attrJSON(attr: onnx.IAttributeProto): AttrValue | null {
  const text = (b: Uint8Array): string => String.fromCharCode(...Array.from(b).slice(0, 64));
  switch (attr.type) {
    case 1:
      return { float: attr.f ?? 0 };
    case 2:
      return { int: toNumber(attr.i) };
    case 3:
      return { string: text(attr.s ?? new Uint8Array(0)) };
    case 6:
      return { floats: [...(attr.floats ?? [])] };
    case 7:
      return { ints: (attr.ints ?? []).map(toNumber) };
    case 8:
      return { strings: (attr.strings ?? []).map(text) };
    default:
      return null;
  }
}

/**
 * A hash of the nodes between `inputs` (graph ids, -1 for none) and `output`: their ops, attrs, wiring, types and
 * constant values. Null when the walk reaches a placeholder or variable that is not one of the inputs.
 */
export function recurrentHash(graph: Graph, output: number, inputs: readonly number[]): string | null {
  const stop = new Map<number, number>();
  inputs.forEach((id, k) => {
    if (id >= 0 && !stop.has(id)) stop.set(id, k);
  });
  const seen = new Set<number>();
  const stack = [output];
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (seen.has(id) || stop.has(id)) continue;
    const node = graph.node(id);
    if (node.op === 'placeholder' || node.op === 'variable') return null;
    seen.add(id);
    for (const input of node.inputs) stack.push(input);
  }
  const ids = [...seen].sort((p, q) => p - q);
  const index = new Map(ids.map((id, k) => [id, k]));
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const mix = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
  };
  for (const id of ids) {
    const node = graph.node(id);
    const rest: { [key: string]: AttrValue } = {};
    for (const key of Object.keys(node.attrs)) if (key !== RECURRENT_TAG) rest[key] = node.attrs[key];
    const wiring = node.inputs.map((i) => (index.has(i) ? `n${index.get(i)}` : `in${stop.get(i)}`)).join(',');
    const value = node.op === 'constant' ? Array.from((node.value as NDArray).data).join(',') : '';
    mix(`${node.op}|${canonicalJSON(rest)}|${wiring}|${node.dtype}[${node.shape.join(',')}]|${value};`);
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}:${ids.length}`;
}

export const RECURRENT_IMPORT_RULES: { readonly [opType: string]: ImportRule } = {
  LSTM: recurrentRule('LSTM'),
  GRU: recurrentRule('GRU'),
  RNN: recurrentRule('RNN'),
};
