// customGradient as docs/ops.md shows it, written as a user would: `save` is typed by context.
import { clipByValue, customGradient, Graph, identity, mul, SaveFunc, Tensor } from 'lazygrad';

const g = new Graph();
const x = g.placeholder('x', [3]);
const y = g.placeholder('y', [3]);

// The documented example, verbatim.
const clipGrad = customGradient((x: Tensor, save) => {
  save([x]);
  return { value: identity(x), gradFunc: (dy) => [clipByValue(dy, -1, 1)] };
});
const clipped: Tensor = clipGrad(x);

// Two inputs; the saved tensors come back to gradFunc.
const product = customGradient((a: Tensor, b: Tensor, save) => {
  save([a, b]);
  return {
    value: mul(a, b),
    gradFunc: (dy, saved) => {
      const [sa, sb] = saved;
      return [sb === undefined ? null : mul(dy, sb), sa === undefined ? null : mul(dy, sa)];
    },
  };
});
const xy: Tensor = product(x, y);

// `save` may be annotated, or left out when nothing is saved.
const annotated = customGradient((a: Tensor, save: SaveFunc) => {
  save([]);
  return { value: identity(a), gradFunc: (dy) => dy };
});
const noSave = customGradient((a: Tensor) => ({ value: identity(a), gradFunc: (dy) => dy }));
annotated(noSave(clipped.add(xy)));

// The types are tight:
customGradient((a: Tensor, save) => {
  // @ts-expect-error save takes a list of tensors
  save(a);
  return { value: a, gradFunc: (dy) => dy };
});
// @ts-expect-error a gradFunc returns tensors (or null), not numbers
customGradient((a: Tensor) => ({ value: a, gradFunc: () => 3 }));
// @ts-expect-error clipGrad takes one input
clipGrad(x, y);
// @ts-expect-error product takes two
product(x);
