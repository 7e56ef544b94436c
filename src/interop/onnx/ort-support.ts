/**
 * Which nodes ONNX Runtime can run: the question an ONNX Runtime backend asks to split a plan into ORT segments and
 * lazygrad-kernel segments. A node cannot go to ONNX Runtime when exportOnnx has no form for it (assign and group
 * have effects; some gradient ops need sizes known at export), or when ONNX Runtime's CPU provider has no kernel
 * for an ONNX op its export writes at its dtype (float64 lacks many). The kernel table was found by running the op
 * table's cases in onnxruntime-node (tests/ops/suites/onnxruntime-*.test.ts checks it both ways: a listed op is
 * refused by ONNX Runtime, an unlisted one runs and agrees).
 */
import { DType, Graph, GraphError, Node } from '../../graph';
import { isControlOp, RANDOM_OPS } from '../../ops';
import { regionsOf } from './export-control';
import { exportedNodes } from './export';
import { UNMAPPED_REASONS } from './export-ops';

/**
 * ONNX ops exportOnnx writes for which ONNX Runtime's CPU execution provider (onnxruntime-node 1.30) registers no
 * kernel at a dtype: a model with one is refused when the session is created ("Could not find an implementation").
 * `opsets` lists the model opsets where that happens when it is not all of them: ONNX Runtime expands some ops
 * without a kernel into their ONNX function bodies, which exist only for some opsets (PRelu's up to 18, Elu's at
 * 18). Found by running the op table's float64 cases node by node at every opset exportOnnx writes; an op whose
 * function body ONNX Runtime would run less accurately than lazygrad is listed at every opset (below).
 */
export const ORT_CPU_MISSING_KERNELS: readonly {
  readonly onnxOp: string;
  readonly dtype: DType;
  readonly opsets?: readonly number[];
}[] = [
  // convolution, pooling and resizing: float32 only
  ...['Conv', 'ConvTranspose', 'AveragePool', 'Resize'].map((onnxOp) => ({ onnxOp, dtype: 'float64' as const })),
  // activations. At opset 18 ONNX Runtime runs Elu, Selu, Softplus and HardSwish as their function bodies; Selu's
  // and HardSwish's then use float32 attributes (float32 accuracy) and Softplus's is log(exp(x) + 1), which
  // overflows where lazygrad's does not: only Elu's is kept there.
  { onnxOp: 'Elu', dtype: 'float64', opsets: [17, 19, 20, 21] },
  ...['Selu', 'Softplus', 'HardSigmoid', 'HardSwish', 'Erf'].map((onnxOp) => ({ onnxOp, dtype: 'float64' as const })),
  { onnxOp: 'PRelu', dtype: 'float64', opsets: [19, 20, 21] },
  // trigonometric and hyperbolic functions other than Sin and Cos
  ...['Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh'].map((onnxOp) => ({
    onnxOp,
    dtype: 'float64' as const,
  })),
];

export interface OnnxRuntimeSupportOptions {
  /** The opset the model is exported at (default 17, as exportOnnx). */
  opset?: number;
  /**
   * Random ops run in ONNX Runtime (its RandomUniform / RandomNormal: the same distributions, other numbers) when
   * true; by default they are refused, so a backend keeps lazygrad's seeded streams by running them itself.
   */
  allowRandom?: boolean;
}

const LEAVES = new Set(['placeholder', 'constant', 'variable']);

/** The reason ONNX Runtime's CPU provider cannot run the ONNX ops of `onnxOps` for `node` at its dtypes, or null. */
function missingKernel(graph: Graph, node: Node, onnxOps: readonly string[], opset: number): string | null {
  const dtypes = new Set<DType>([node.dtype, ...node.inputs.map((i) => graph.node(i).dtype)]);
  const missing = ORT_CPU_MISSING_KERNELS.find(
    (m) => dtypes.has(m.dtype) && onnxOps.includes(m.onnxOp) && (m.opsets === undefined || m.opsets.includes(opset)),
  );
  if (missing === undefined) return null;
  return (
    `ONNX Runtime's CPU provider has no ${missing.dtype} kernel for ${missing.onnxOp}, which ${node.op} node ` +
    `'${node.name}' exports to`
  );
}

/** Whether one non-control node exports, and its ONNX ops have kernels: true, or why not. */
function nodeSupport(graph: Graph, node: Node, opset: number): true | string {
  if (Object.prototype.hasOwnProperty.call(UNMAPPED_REASONS, node.op)) {
    return `${node.op} node '${node.name}' has no ONNX form: ${UNMAPPED_REASONS[node.op]}`;
  }
  let onnxOps: string[];
  try {
    const inputs = node.inputs.map((i) => graph.node(i).name);
    onnxOps = exportedNodes(graph, node.id, inputs, opset).nodes.map((n) => String(n.opType));
  } catch (e) {
    if (e instanceof GraphError) return e.message;
    throw e;
  }
  return missingKernel(graph, node, onnxOps, opset) ?? true;
}

/**
 * Whether node `id` of `graph` can run in ONNX Runtime (CPU provider) as exportOnnx writes it: true, or a reason
 * naming the op and the node. Leaves (placeholders, constants, variables) are true; a control-flow node (cond,
 * while, scan) is true when every node of its regions is, nested ones included. A backend runs the nodes with a
 * reason as lazygrad-kernel segments.
 *
 * @example
 * const reason = onnxRuntimeSupport(g, node.id);
 * if (reason !== true) console.log(reason); // "ONNX Runtime's CPU provider has no float64 kernel for Conv, …"
 */
export function onnxRuntimeSupport(graph: Graph, id: number, options: OnnxRuntimeSupportOptions = {}): true | string {
  const opset = options.opset ?? 17;
  const stack: [Graph, Node][] = [[graph, graph.node(id)]];
  while (stack.length > 0) {
    const [g, node] = stack.pop() as [Graph, Node];
    if (LEAVES.has(node.op)) continue;
    if (options.allowRandom !== true && RANDOM_OPS.some((r) => r.name === node.op)) {
      return (
        `${node.op} node '${node.name}' is a seeded random op: ONNX Runtime would draw other numbers than ` +
        `lazygrad's stream (pass allowRandom to run it there anyway)`
      );
    }
    if (!isControlOp(node.op)) {
      const support = nodeSupport(g, node, opset);
      if (support !== true) return support;
      continue;
    }
    for (const region of regionsOf(g, node)) {
      const params = new Set(region.params);
      for (const rid of region.ids) if (!params.has(rid)) stack.push([region.graph, region.graph.node(rid)]);
    }
  }
  return true;
}
