/**
 * ONNX control flow (If, Loop, Scan) as lazygrad's cond, whileLoop and scan. A subgraph is imported inside the
 * region builder of the construct, so the outer values it reads by name are captured as any body's outer tensors
 * are. An If whose condition is known while importing (silero's `Shape(h)[0] != 0`) imports only its taken branch,
 * inline, as TensorFlow's smart_cond does: its branches may then differ in rank, which a cond cannot express.
 */
import { Tensor } from '../../graph';
import * as ops from '../../ops';
import { ImportArgs, ImportRule, Value } from './import-ops';
import { onnx } from './proto';

const hostTrue: Value = { kind: 'host', host: { type: 9, dims: [], data: [1] }, fromInitializer: false };

function nodeName(a: ImportArgs): string {
  const name = a.node.name ?? '';
  return name !== '' ? name : ((a.node.output ?? [])[0] ?? a.node.opType ?? 'control');
}

function graphAttr(a: ImportArgs, attr: string): onnx.IGraphProto {
  const g = (a.node.attribute ?? []).find((x) => x.name === attr)?.g;
  if (g === null || g === undefined) throw a.fail(`attribute '${attr}' (a graph) is missing`);
  return g;
}

/** A bool predicate of one element as a scalar (ONNX allows a tensor of one element). */
function scalarBool(a: ImportArgs, t: Tensor, what: string): Tensor {
  if (t.dtype !== 'bool') throw a.fail(`${what} must be bool, got ${t.dtype}`);
  if (t.rank === 0) return t;
  if (t.shape.every((d) => d === 1)) return ops.reshape(t, []);
  throw a.fail(`${what} must hold one element, got shape [${t.shape.join(', ')}]`);
}

/** A known value of one element, or undefined. */
function knownScalar(a: ImportArgs, i: number): number | undefined {
  const host = a.host(i);
  if (host === undefined) return undefined;
  if (host.data.length !== 1) throw a.fail(`input ${i} must hold one element, got ${host.data.length}`);
  return host.data[0];
}

function tensors(a: ImportArgs, values: readonly Value[], base: string): Tensor[] {
  return values.map((v, k) => a.asTensor(v, `${base}_${k}`));
}

/** If: the taken branch inline when the condition is known now, else a cond of the two subgraphs. */
export const ifRule: ImportRule = (a) => {
  const known = knownScalar(a, 0);
  if (known !== undefined) return a.subgraph(known !== 0 ? 'then_branch' : 'else_branch', []);
  const pred = scalarBool(a, a.tensor(0), 'the condition');
  const name = nodeName(a);
  const outputs = ops.cond(
    pred,
    () => tensors(a, a.subgraph('then_branch', []), `${name}_then`),
    () => tensors(a, a.subgraph('else_branch', []), `${name}_else`),
    name,
  );
  return outputs as Tensor[];
};

/** Whether a Loop body's condition output is its condition input passed through (or constant true). */
function conditionStaysTrue(body: onnx.IGraphProto): boolean {
  const condIn = (body.input ?? [])[1]?.name ?? '';
  let out = (body.output ?? [])[0]?.name ?? '';
  const producers = new Map<string, onnx.INodeProto>();
  for (const n of body.node ?? []) for (const o of n.output ?? []) producers.set(o, n);
  for (let hops = 0; hops < 64; hops++) {
    if (out === condIn) return true;
    const n = producers.get(out);
    if (n === undefined) return false;
    if (n.opType === 'Identity') out = (n.input ?? [])[0] ?? '';
    else if (n.opType === 'Constant') {
      const t = (n.attribute ?? []).find((x) => x.name === 'value')?.t;
      const data = t?.int32Data ?? [];
      const raw = t?.rawData ?? new Uint8Array(0);
      return t !== undefined && t !== null && t.dataType === 9 && (data[0] === 1 || raw[0] === 1);
    } else return false;
  }
  return false;
}

/**
 * Loop(M, cond, v...): with a trip count known now and a condition that stays true, a scan of M steps (its scan
 * outputs are the scan's ys); otherwise a whileLoop over [iteration, condition, v...] whose condition is
 * `cond && iteration < M` (maximumIterations = M when known). Scan outputs need the scan form: a loop that may end
 * early has outputs whose length only the run knows.
 */
export const loopRule: ImportRule = (a) => {
  const body = graphAttr(a, 'body');
  const inputNames = a.node.input ?? [];
  const carried = inputNames.length - 2;
  if (carried < 0) throw a.fail('a Loop has inputs M, cond and the loop-carried values');
  const bodyOutputs = (body.output ?? []).length;
  const scanOutputs = bodyOutputs - 1 - carried;
  if ((body.input ?? []).length !== carried + 2 || scanOutputs < 0) {
    throw a.fail(
      `the body has ${(body.input ?? []).length} inputs and ${bodyOutputs} outputs for ${carried} loop-carried ` +
        `values; it must take (iteration, cond, ${carried} values) and return (cond, ${carried} values, scan outputs)`,
    );
  }
  const name = nodeName(a);
  let trip: number | undefined;
  let tripTensor: Tensor | undefined;
  if (a.has(0)) {
    const m = knownScalar(a, 0);
    if (m === undefined) tripTensor = ops.cast(ops.reshape(a.tensor(0), []), 'int32');
    else if (m < 2 ** 31 - 1) trip = Math.max(0, m); // INT64_MAX (or anything past int32) means no trip count
  }
  const condKnown = a.has(1) ? knownScalar(a, 1) : 1;
  const init = Array.from({ length: carried }, (_, j) => a.tensor(j + 2));
  const zero = a.graph.constant(0, 'int32');
  if (trip !== undefined && condKnown !== undefined && condKnown !== 0 && conditionStaysTrue(body)) {
    const [last, ys] = ops.scan(
      (carry: Tensor[]) => {
        const [i, ...vars] = carry;
        const out = a.subgraph('body', [
          { kind: 'tensor', tensor: i },
          hostTrue,
          ...vars.map((tensor): Value => ({ kind: 'tensor', tensor })),
        ]);
        const next = tensors(a, out.slice(1), `${name}_body`);
        return [[ops.add(i, 1), ...next.slice(0, carried)], next.slice(carried)];
      },
      [zero, ...init],
      null,
      { length: trip, name },
    );
    return [...(last as Tensor[]).slice(1), ...(ys as Tensor[])];
  }
  if (scanOutputs > 0) {
    throw a.fail(
      `a Loop with scan outputs is read when its trip count M is known while importing and its condition stays ` +
        `true (the body passes cond through); this one ${trip === undefined ? 'has no known M' : 'may end early'}, ` +
        `so the length of its scan outputs is known only at run time`,
    );
  }
  const cond0 = a.has(1) ? scalarBool(a, a.tensor(1), 'the condition') : a.graph.constant(true, 'bool');
  const limit = tripTensor ?? (trip !== undefined ? trip : undefined);
  const result = ops.whileLoop(
    ([i, c]) => (limit === undefined ? c : ops.logicalAnd(c, ops.less(i, limit))),
    ([i, c, ...vars]) => {
      const out = a.subgraph('body', [
        { kind: 'tensor', tensor: i },
        { kind: 'tensor', tensor: c },
        ...vars.map((tensor): Value => ({ kind: 'tensor', tensor })),
      ]);
      const next = tensors(a, out, `${name}_body`);
      return [ops.add(i, 1), scalarBool(a, next[0], "the body's condition output"), ...next.slice(1)];
    },
    [zero, cond0, ...init],
    { ...(trip !== undefined ? { maximumIterations: trip } : {}), name },
  );
  return result.slice(2);
};

/**
 * Scan (opset 9+): the state variables are the carries; each scan input is moved to axis 0 (scan_input_axes) and
 * reversed for direction 1; each scan output is reversed for direction 1 and moved from axis 0 to its
 * scan_output_axes axis.
 */
export const scanRule: ImportRule = (a) => {
  if (a.opset < 9) throw a.fail(`Scan version 8 (batched, with sequence_lens) is not supported; opset 9+ is read`);
  const body = graphAttr(a, 'body');
  const count = (a.node.input ?? []).length;
  const m = a.attrs.int('num_scan_inputs');
  const n = count - m;
  if (!(m >= 1 && n >= 0)) throw a.fail(`num_scan_inputs ${m} does not fit ${count} inputs`);
  const k = (body.output ?? []).length - n;
  if ((body.input ?? []).length !== count || k < 0) {
    throw a.fail(`the body must take ${count} inputs and return at least ${n} (the states)`);
  }
  const inAxes = a.attrs.ints('scan_input_axes', new Array(m).fill(0));
  const inDirs = a.attrs.ints('scan_input_directions', new Array(m).fill(0));
  const outAxes = a.attrs.ints('scan_output_axes', new Array(k).fill(0));
  const outDirs = a.attrs.ints('scan_output_directions', new Array(k).fill(0));
  if (inAxes.length !== m || inDirs.length !== m || outAxes.length !== k || outDirs.length !== k) {
    throw a.fail(`the scan_input_* attributes need ${m} entries and the scan_output_* ones ${k}`);
  }
  const states = Array.from({ length: n }, (_, j) => a.tensor(j));
  const xs = Array.from({ length: m }, (_, j) => {
    let x = a.tensor(n + j);
    const axis = inAxes[j] < 0 ? inAxes[j] + x.rank : inAxes[j];
    if (!(axis >= 0 && axis < x.rank)) throw a.fail(`scan_input_axes[${j}] = ${inAxes[j]} is outside rank ${x.rank}`);
    if (axis !== 0) x = ops.transpose(x, [axis, ...x.shape.map((_, d) => d).filter((d) => d !== axis)]);
    return inDirs[j] === 1 ? ops.reverse(x, 0) : x;
  });
  const name = nodeName(a);
  const [last, ys] = ops.scan(
    (carry: Tensor[], rows: Tensor[]) => {
      const out = a.subgraph(
        'body',
        [...carry, ...rows].map((tensor): Value => ({ kind: 'tensor', tensor })),
      );
      const next = tensors(a, out, `${name}_body`);
      return [next.slice(0, n), next.slice(n)];
    },
    states,
    xs,
    { name },
  );
  const outs = (ys as Tensor[]).map((y0, j) => {
    let y = outDirs[j] === 1 ? ops.reverse(y0, 0) : y0;
    const axis = outAxes[j] < 0 ? outAxes[j] + y.rank : outAxes[j];
    if (!(axis >= 0 && axis < y.rank)) throw a.fail(`scan_output_axes[${j}] = ${outAxes[j]} is outside rank ${y.rank}`);
    if (axis !== 0) {
      const perm = y.shape.map((_, d) => d).slice(1);
      perm.splice(axis, 0, 0);
      y = ops.transpose(y, perm);
    }
    return y;
  });
  return [...(last as Tensor[]), ...outs];
};

export const CONTROL_IMPORT_RULES: { readonly [opType: string]: ImportRule } = {
  If: ifRule,
  Loop: loopRule,
  Scan: scanRule,
};
