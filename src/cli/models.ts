/** Built-in graphs for `lazygrad inspect`, so there is something to look at without a graph file. */
import { Graph, gradients, optimize, sigmoid, Tensor } from '..';
import { buildMlp, buildModel } from './model';

/** A graph and the tensors it computes (drawn bold, and the outputs of an ONNX export). */
export interface GraphWithOutputs {
  readonly graph: Graph;
  readonly outputs: readonly Tensor[];
}

export interface BuiltinModel {
  readonly description: string;
  build(): GraphWithOutputs;
}

/** The seed examples' sigmoid neuron f = σ(w0·x0 + w1·x1 + w2) and its gradients. */
function neuron(): GraphWithOutputs {
  const graph = new Graph();
  const [w0, w1, w2, x0, x1] = ['w0', 'w1', 'w2', 'x0', 'x1'].map((name) => graph.placeholder(name));
  const f = sigmoid(w0.mul(x0).add(w1.mul(x1)).add(w2));
  return { graph, outputs: [f, ...(gradients(f, [w0, w1, w2, x0, x1]) as Tensor[])] };
}

export const BUILTIN_MODELS: { readonly [name: string]: BuiltinModel } = {
  mlp: {
    description: 'the demo MLP 784-128-10: loss, accuracy and the gradients of the loss',
    build: () => {
      const model = buildMlp({ hidden: 128, optimizer: 'adam', seed: 1 });
      // Only the nodes these outputs need (level 0 is slicing alone: names and ops kept), so every format, JSON
      // included, shows the loss and gradient graph, not the Adam update built beside it.
      const { graph, outputs } = optimize(model.graph, [model.loss, model.correct, ...model.gradients], { level: 0 });
      return { graph, outputs };
    },
  },
  'mlp-train': {
    description: 'the same with its Adam training step (slots, step count, assigns)',
    build: () => {
      const model = buildMlp({ hidden: 128, optimizer: 'adam', seed: 1 });
      return { graph: model.graph, outputs: [model.loss, model.correct, model.trainOp] };
    },
  },
  cnn: {
    description: 'the demo CNN (conv, max-pool, conv, max-pool, dense): loss, accuracy and gradients',
    build: () => {
      const model = buildModel({ model: 'cnn', hidden: 128, optimizer: 'adam', seed: 1 });
      const { graph, outputs } = optimize(model.graph, [model.loss, model.correct, ...model.gradients], { level: 0 });
      return { graph, outputs };
    },
  },
  seed: {
    description: "the seed examples' sigmoid neuron σ(w0·x0 + w1·x1 + w2) and its gradients",
    build: neuron,
  },
};
