/**
 * Evaluating nodes at build or compile time with the op records' own (JavaScript) kernels, no session: constant
 * folding (passes/fold.ts) and the ONNX importer's folding of shape arithmetic share it.
 */
import {
  allocate,
  checkValueSize,
  DEFAULT_MAX_BYTES,
  dtypeOfArray,
  formatShape,
  GraphError,
  isFullyKnown,
  LazygradError,
  NDArray,
  Node,
  RuntimeError,
  sizeOf,
  Tensor,
} from '../graph';
import type { Buf } from './kernels/types';
import { isLeafOp, opRecord } from './registry';

/**
 * A node's value from its inputs' values, computed by its record's kernel into a new array of the node's (known)
 * shape. A shape-only op's inputs may be buffers without data (only their shapes are read). A value above
 * `maxBytes` is a ResourceExhaustedError before anything is allocated; a kernel's own failure (an index out of
 * range) is a RuntimeError naming the node, its op and its inputs.
 */
export function foldNode(node: Node, inputs: readonly Buf[], maxBytes = DEFAULT_MAX_BYTES): NDArray {
  const kernel = opRecord(node.op).kernel;
  if (kernel === undefined) throw new GraphError(`op '${node.op}' has no kernel to evaluate '${node.name}' with`);
  if (!isFullyKnown(node.shape)) {
    throw new GraphError(`cannot evaluate ${node.op} '${node.name}': its shape ${formatShape(node.shape)} is unknown`);
  }
  const shape = node.shape as readonly number[];
  checkValueSize(`cannot evaluate ${node.op} '${node.name}'`, shape, node.dtype, maxBytes);
  const out = new NDArray(allocate(node.dtype, sizeOf(shape)), shape, node.dtype);
  try {
    kernel(inputs, out, node.attrs);
  } catch (error) {
    if (error instanceof LazygradError) throw error;
    const described = inputs.map((x, i) => `%${node.inputs[i]} ${dtypeOfArray(x.data)}${formatShape(x.shape)}`);
    throw new RuntimeError(
      `cannot evaluate ${node.op} '${node.name}' on constant inputs (${described.join(', ')}): ${(error as Error).message}`,
    );
  }
  return out;
}

/**
 * The value of a tensor that depends on constants only: the nodes it needs, folded in id order (an explicit sweep,
 * no recursion). A placeholder or variable among them is a GraphError. A random op draws its first run's numbers.
 * Every value is checked against `maxBytes` (default 1 GiB) before it is allocated.
 *
 * @example evaluateConstant(add(g.constant(1), 2)).data  // Float32Array [3]
 */
export function evaluateConstant(tensor: Tensor, maxBytes = DEFAULT_MAX_BYTES): NDArray {
  const graph = tensor.graph;
  const needed = new Uint8Array(tensor.id + 1);
  needed[tensor.id] = 1;
  for (let id = tensor.id; id >= 0; id--) {
    if (needed[id] === 1) for (const input of graph.node(id).inputs) needed[input] = 1;
  }
  const values: NDArray[] = [];
  for (let id = 0; id <= tensor.id; id++) {
    if (needed[id] === 0) continue;
    const node = graph.node(id);
    if (node.op === 'constant') values[id] = node.value as NDArray;
    else if (isLeafOp(node.op))
      throw new GraphError(`cannot evaluate '${tensor.name}': it needs ${node.op} '${node.name}'`);
    else
      values[id] = foldNode(
        node,
        node.inputs.map((i) => values[i]),
        maxBytes,
      );
  }
  return values[tensor.id];
}
