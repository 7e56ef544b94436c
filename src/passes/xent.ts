import { attrsOf, SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX } from '../ops';
import { Pass } from './pass';
import { emit } from './pattern';
import { dropDead, liveNodes, rebuild } from './slice';

/**
 * softmaxCrossEntropyWithLogits builds logSoftmax(x) and the loss read from it, so that the gradient reuses the
 * log-softmax. Where nothing else reads that log-softmax (a loss computed without its gradient: evaluation), the
 * pair costs a [rows, classes] buffer and a second pass over it for nothing: this pass puts back the one-kernel
 * primitive softmaxCrossEntropyWithLogits(labels, x). A lowering pass (after the rewrites, so it never hides the
 * log-softmax from a rule), linear in the slice: the uses are counted once on the source.
 */
export const crossEntropyFusion: Pass = {
  name: 'xent',
  run(slice) {
    const source = slice.graph;
    const uses = new Int32Array(source.size);
    for (const node of source.nodes) for (const input of node.inputs) uses[input]++;
    for (const id of slice.outputs) uses[id]++;
    const live = liveNodes(source, slice.outputs);
    const fuses = new Uint8Array(source.size);
    let count = 0;
    for (const node of source.nodes) {
      if (node.op !== SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX.name || live[node.id] === 0) continue;
      const [, logits, ls] = node.inputs;
      const lsNode = source.node(ls);
      const { axis } = attrsOf(SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX, node);
      // Only the pair the builder makes: logSoftmax over the same logits and axis, read by this node alone.
      if (lsNode.op !== 'logSoftmax' || lsNode.inputs[0] !== logits || lsNode.attrs.axis !== axis) continue;
      if (uses[ls] !== 1) continue;
      fuses[node.id] = 1;
      count++;
    }
    if (count === 0) return { slice, changes: { 'loss-without-gradient': 0 } };
    const result = rebuild(slice, (node, inputs, target) => {
      if (fuses[node.id] === 0) return undefined;
      const { axis } = attrsOf(SOFTMAX_CROSS_ENTROPY_FROM_LOG_SOFTMAX, node);
      return emit(target, 'softmaxCrossEntropyWithLogits', [inputs[0], inputs[1]], { axis }, node.name);
    });
    return { slice: dropDead(result), changes: { 'loss-without-gradient': count } };
  },
};
