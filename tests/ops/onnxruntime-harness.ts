/**
 * The op table through ONNX Runtime: a case's graph (its forward outputs, its gradient graph, or its gradient
 * graph differentiated again) exported with exportOnnx, every operand fed as a graph input, run in
 * onnxruntime-node, and compared with the js backend's Session.run of the same graph. Used by
 * suites/onnxruntime-*.test.ts.
 */
import {
  add,
  DType,
  exportOnnx,
  gradients,
  Graph,
  mul,
  NDArray,
  onnxRuntimeSupport,
  Session,
  sum,
  Tensor,
} from '../../src';
import { runOrt } from '../interop/ort';
import { makeValue, Operand } from './harness';
import { expectClose, randomArray, Rng } from './util';

/** A case's graph, ready to run on both sides: its inputs with their values, and the tensors compared. */
export interface Built {
  readonly graph: Graph;
  readonly inputs: readonly Tensor[];
  readonly values: readonly NDArray[];
  readonly outputs: readonly Tensor[];
}

export type FloatDType = 'float32' | 'float64';

export interface GraphOptions {
  /** The dtype of the float operands (default: each operand's own, float32 unless it says otherwise). */
  dtype?: FloatDType;
  /** Placeholders with every dim unknown (null), the sizes known only from the fed values. */
  dynamic?: boolean;
}

/** A graph under construction: placeholders fed seeded values, later inputs (weights) appended. */
class Builder {
  readonly graph = new Graph();
  readonly inputs: Tensor[] = [];
  readonly values: NDArray[] = [];

  constructor(
    readonly rng: Rng,
    readonly options: GraphOptions,
  ) {}

  feed(value: NDArray): Tensor {
    const shape = this.options.dynamic === true ? value.shape.map(() => null) : [...value.shape];
    const x = this.graph.placeholder(`x${this.inputs.length}`, shape, value.dtype);
    this.inputs.push(x);
    this.values.push(value);
    return x;
  }

  operands(operands: readonly Operand[]): Tensor[] {
    return operands.map((o) => {
      const own = o.dtype ?? 'float32';
      const float = own === 'float32' || own === 'float64';
      return this.feed(makeValue(this.rng, o, float ? (this.options.dtype ?? own) : own));
    });
  }

  /** The value `t` takes on the fed values (its shape, when the graph leaves dims unknown). */
  private shapeOf(t: Tensor): number[] {
    if (t.shape.every((d) => d !== null)) return t.shape as number[];
    const feeds = new Map(this.inputs.map((x, i) => [x, this.values[i]] as [Tensor, NDArray]));
    return [...new Session(this.graph, { backend: 'js' }).run(t, feeds).shape];
  }

  /** sum(y · w) for a random w fed as an input (so no gradient cancels; as the finite-difference suite does). */
  weightedSum(y: Tensor): Tensor {
    const w = randomArray(this.rng, this.shapeOf(y), y.dtype, { lo: -1, hi: 1, awayFromZero: 0.1 });
    return sum(mul(y, this.feed(w)));
  }

  built(outputs: readonly Tensor[]): Built {
    return { graph: this.graph, inputs: this.inputs, values: this.values, outputs };
  }
}

function isFloat(t: Tensor): boolean {
  return t.dtype === 'float32' || t.dtype === 'float64';
}

/** The forward graph: every operand a placeholder of its value's dtype (as checkForward builds it). */
export function forwardGraph(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor | Tensor[],
  options: GraphOptions = {},
): Built {
  const b = new Builder(new Rng(seed), options);
  const built = build(...b.operands(operands));
  return b.built(Array.isArray(built) ? built : [built]);
}

/**
 * The gradient graph of sum(build(xs) · w) for a random w: float operands are differentiated; int32 and bool
 * operands (indices, labels) are fed too, not differentiated. The outputs are the op's value, then the gradients.
 */
export function gradientGraph(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  options: GraphOptions = {},
): Built {
  const b = new Builder(new Rng(seed), options);
  const inputs = b.operands(operands);
  const xs = inputs.filter(isFloat);
  const y = build(...inputs);
  const grads = gradients(b.weightedSum(y), xs, undefined, { unconnected: 'zero' }) as Tensor[];
  return b.built([y, ...grads]);
}

/**
 * The second-order graph: z = Σᵢ sum(∂loss/∂xᵢ · vᵢ) for loss = sum(build(xs) · w), differentiated again (as the
 * second-order suite builds it). The outputs are the first gradients, then the gradients of z.
 */
export function secondOrderGraph(
  seed: number,
  operands: readonly Operand[],
  build: (...xs: Tensor[]) => Tensor,
  options: GraphOptions = {},
): Built {
  const b = new Builder(new Rng(seed), options);
  const inputs = b.operands(operands);
  const xs = inputs.filter(isFloat);
  const first = gradients(b.weightedSum(build(...inputs)), xs, undefined, { unconnected: 'zero' }) as Tensor[];
  let z = b.weightedSum(first[0]);
  for (let i = 1; i < first.length; i++) z = add(z, b.weightedSum(first[i]));
  const second = gradients(z, xs, undefined, { unconnected: 'zero' }) as Tensor[];
  return b.built([...first, ...second]);
}

/** The float tolerance per dtype: relative, absolute below 1 (relError); other dtypes compare exactly. */
export const DEFAULT_TOLERANCE: { readonly [dtype in DType]: number } = {
  float32: 1e-5,
  float64: 1e-9,
  int32: 0,
  bool: 0,
};

/** The opset the suites export at: the highest exportOnnx writes (a backend has no reason to pick an older one). */
export const SUITE_OPSET = 21;

/** The model of `built`: its inputs as graph inputs, output k named `out<k>`. */
export function exportBuilt(built: Built, opset = SUITE_OPSET): Uint8Array {
  const names = Object.fromEntries(built.outputs.map((t, k) => [`out${k}`, t]));
  return exportOnnx(built.graph, { outputs: names, inputs: [...built.inputs], annotations: false, opset });
}

/** Runs `built` on the js backend (the reference). */
export function runJs(built: Built): NDArray[] {
  const feeds = new Map(built.inputs.map((x, i) => [x, built.values[i]] as [Tensor, NDArray]));
  return new Session(built.graph, { backend: 'js' }).run([...built.outputs], feeds);
}

/** Runs the exported model of `built` in ONNX Runtime; the outputs in order. */
export async function runExported(built: Built, opset = SUITE_OPSET): Promise<NDArray[]> {
  const got = await runOrt(exportBuilt(built, opset), new Map(built.inputs.map((x, i) => [x.name, built.values[i]])));
  return built.outputs.map((_, k) => got.get(`out${k}`) as NDArray);
}

/** Asserts `got` equals `want` output by output: dtype, shape, and values (floats within `tol`, else exactly). */
export function expectAgree(built: Built, got: readonly NDArray[], want: readonly NDArray[], tol: number): void {
  built.outputs.forEach((t, k) => {
    const a = got[k];
    const e = want[k];
    const what = `output ${k} ('${t.name}', ${t.node.op})`;
    expect([what, a.dtype]).toEqual([what, e.dtype]);
    if (e.dtype === 'float32' || e.dtype === 'float64') {
      expectClose(a, e, e.dtype === 'float64' ? Math.min(tol, DEFAULT_TOLERANCE.float64) : tol, what);
    } else {
      expect([what, [...a.shape]]).toEqual([what, [...e.shape]]);
      expect([what, Array.from(a.data)]).toEqual([what, Array.from(e.data)]);
    }
  });
}

/** Runs `built` on the js backend and exported in ONNX Runtime, and asserts they agree. */
export async function expectOrtAgrees(built: Built, tol: number = DEFAULT_TOLERANCE.float32): Promise<void> {
  const want = runJs(built);
  expectAgree(built, await runExported(built), want, tol);
}

/** The nodes the outputs of `built` need (stopping at its inputs) that ONNX Runtime cannot run, with why. */
export function unsupportedNodes(built: Built, opset = SUITE_OPSET): Map<number, string> {
  const { graph } = built;
  const fed = new Set(built.inputs.map((x) => x.id));
  const seen = new Set<number>();
  const stack = built.outputs.map((t) => t.id);
  const out = new Map<number, string>();
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (seen.has(id) || fed.has(id)) continue;
    seen.add(id);
    const support = onnxRuntimeSupport(graph, id, { opset });
    if (support !== true) out.set(id, support);
    stack.push(...graph.node(id).inputs);
  }
  return out;
}

/**
 * Asserts ONNX Runtime really cannot run node `id` alone (its inputs fed): exportOnnx refuses it, or ONNX Runtime
 * refuses the model.
 */
export async function expectOrtRefuses(built: Built, id: number, opset = SUITE_OPSET): Promise<void> {
  const { graph } = built;
  const node = graph.node(id);
  const inputs = [...new Set(node.inputs)].map((i) => graph.tensor(i)).filter((t) => t.node.op !== 'constant');
  const values = runJsTensors(built, inputs);
  let error: unknown = null;
  try {
    const bytes = exportOnnx(graph, { outputs: { y: graph.tensor(id) }, inputs, annotations: false, opset });
    await runOrt(bytes, new Map(inputs.map((x, i) => [x.name, values[i]])));
  } catch (e) {
    error = e;
  }
  // ONNX Runtime's errors come from the host's realm, not jest's: not `instanceof Error` here.
  const message = error === null ? 'no error' : String((error as { message?: unknown }).message ?? error);
  expect([`${node.op} node '${node.name}' (${node.dtype})`, message]).toEqual([
    expect.anything(),
    expect.stringMatching(/^exportOnnx: |Could not find an implementation/),
  ]);
}

function runJsTensors(built: Built, ts: readonly Tensor[]): NDArray[] {
  if (ts.length === 0) return [];
  const feeds = new Map(built.inputs.map((x, i) => [x, built.values[i]] as [Tensor, NDArray]));
  return new Session(built.graph, { backend: 'js' }).run([...ts], feeds);
}

/**
 * The fallback split by hand: the nodes in `cut` (those ONNX Runtime cannot run) are computed by lazygrad (the js
 * backend) and fed to the exported model as inputs, which computes the rest in ONNX Runtime; the outputs must agree
 * with the js backend's.
 */
export async function expectSplitAgrees(built: Built, cut: readonly number[], tol: number, opset = SUITE_OPSET) {
  const cutTensors = cut.map((id) => built.graph.tensor(id));
  const cutValues = runJsTensors(built, cutTensors);
  const split: Built = {
    graph: built.graph,
    inputs: [...built.inputs, ...cutTensors],
    values: [...built.values, ...cutValues],
    outputs: built.outputs,
  };
  expectAgree(built, await runExported(split, opset), runJs(built), tol);
}

/** Runs `built` on the 'onnxruntime' backend of Session (runAsync); the session, to explain its split. */
export async function runBackend(
  built: Built,
): Promise<{ got: NDArray[]; session: Session; feeds: Map<Tensor, NDArray> }> {
  const feeds = new Map(built.inputs.map((x, i) => [x, built.values[i]] as [Tensor, NDArray]));
  const session = new Session(built.graph, { backend: 'onnxruntime' });
  const got = await session.runAsync([...built.outputs], feeds);
  return { got, session, feeds };
}
