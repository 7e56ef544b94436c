/**
 * The normalization composites cost no more at run time than fused kernels: after optimization, batchNorm is one
 * elementwise node over x (its per-channel factor is computed on the statistics' shape); localResponseNormalization
 * is a primitive, one node.
 */
import { batchNorm, Graph, localResponseNormalization, optimize, Tensor } from '../../src';

/** The ops of the optimized graph's nodes of x's shape, other than x itself. */
function opsOverX(x: Tensor, y: Tensor): string[] {
  const { graph } = optimize(x.graph, [y], { level: 2 });
  return graph.nodes
    .filter((n) => n.op !== 'placeholder' && n.shape.length === x.rank && n.shape.every((d, i) => d === x.shape[i]))
    .map((n) => n.op);
}

test('batchNorm with offset and scale is one fused node over x', () => {
  const g = new Graph();
  const x = g.placeholder('x', [8, 4, 4, 16]);
  const stats = ['mean', 'variance', 'offset', 'scale'].map((name) => g.placeholder(name, [16]));
  expect(opsOverX(x, batchNorm(x, stats[0], stats[1], stats[2], stats[3]))).toEqual(['fused']);
});

test('localResponseNormalization is one node', () => {
  const g = new Graph();
  const x = g.placeholder('x', [2, 4, 4, 16]);
  expect(opsOverX(x, localResponseNormalization(x, 2, 1, 1e-4, 0.75))).toEqual(['localResponseNormalization']);
});
