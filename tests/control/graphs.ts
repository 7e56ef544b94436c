/** Small graphs with cond, whileLoop and scan (nested too) shared by the IR, format and pass tests. */
import {
  add,
  cond,
  Graph,
  greater,
  less,
  matMul,
  mul,
  neg,
  scan,
  sum,
  tanh,
  Tensor,
  transpose,
  whileLoop,
} from '../../src';

/** A cond with a captured tensor, a scan whose body reads two captured weights, a whileLoop with a cond inside. */
export function controlGraph(dtype: 'float32' | 'float64' = 'float64'): {
  g: Graph;
  y: Tensor;
  last: Tensor;
  ys: Tensor;
  count: Tensor;
  acc: Tensor;
} {
  const g = new Graph();
  const x = g.placeholder('x', [2], dtype);
  const w = g.placeholder('W', [2, 2], dtype);
  const u = g.placeholder('U', [2, 2], dtype);
  const xs = g.placeholder('xs', [4, 1, 2], dtype);
  const y = cond(
    greater(sum(x), 0),
    () => mul(x, 2),
    () => neg(x),
  );
  const h0 = x.reshape([1, 2]);
  const [last, ys] = scan(
    (h: Tensor, xt: Tensor) => {
      const h2 = tanh(add(matMul(xt, w), matMul(h, matMul(u, transpose(w)))));
      return [h2, h2];
    },
    h0,
    xs,
  );
  const [count, acc] = whileLoop(
    ([i]) => less(i, 3),
    ([i, a]) => [
      add(i, 1),
      cond(
        greater(sum(a), 0),
        () => mul(a, 0.5),
        () => add(a, x),
      ),
    ],
    [g.constant(0, 'int32'), x],
    { maximumIterations: 8 },
  );
  return { g, y, last, ys, count, acc };
}
