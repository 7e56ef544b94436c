/**
 * Tour step 7: the tutorial's PyTorch autograd examples in lazygrad. z = xy + 1 and y = 2·dot(x, x) are built as
 * graphs, `gradients` adds their gradient nodes, and a session runs both. PyTorch's backward() adds into x.grad
 * across calls until it is zeroed; a lazygrad gradient is an ordinary tensor computed afresh by every run, so
 * nothing accumulates by accident. Accumulating on purpose is explicit state: a variable and an assign.
 */
import { add, assign, dot, gradients, Graph, mul, Session, sum, Tensor } from '../../src';
import { heading, num } from './util';

export interface Autograd {
  /** z = xy + 1 at x = 2, y = 3, and dz/dx, dz/dy. */
  readonly z: number;
  readonly dzdx: number;
  readonly dzdy: number;
  /** y = 2·dot(x, x) at x = [0, 1, 2, 3], and its gradient 4x. */
  readonly x: number[];
  readonly y: number;
  readonly dydx: number[];
  /** dy/dx from two runs of the same gradient graph (equal: nothing carries over). */
  readonly freshRuns: number[][];
  /** The accumulator variable after each of two runs of acc ← acc + dy/dx. */
  readonly accumulated: number[][];
  /** PyTorch's sequence done on purpose: acc ← acc + ∂y/∂x, then acc ← acc + ∂sum(x)/∂x. */
  readonly pytorchLike: number[];
  readonly text: string;
}

const list = (values: readonly number[]): string => `[${values.map((v) => num(v)).join(', ')}]`;

/** Runs step 7 and returns its numbers and printed text. */
export function autograd(): Autograd {
  const g1 = new Graph();
  const xs = g1.placeholder('x', [], 'float64');
  const ys = g1.placeholder('y', [], 'float64');
  const z = add(mul(xs, ys), 1);
  const [dzdx, dzdy] = gradients(z, [xs, ys]) as Tensor[];
  const scalars = new Session(g1).run({ z, dzdx, dzdy }, { x: 2, y: 3 });

  const g2 = new Graph();
  const x = g2.placeholder('x', [4], 'float64');
  const y = mul(2, dot(x, x));
  const [dydx] = gradients(y, [x]) as Tensor[];
  const [dsum] = gradients(sum(x), [x]) as Tensor[];
  // The accumulator is state that lives in the session; each fetch of `accumulate` adds one gradient into it.
  const acc = g2.variable('acc', [0, 0, 0, 0], 'float64');
  const accumulate = assign(acc, add(acc, dydx));
  const feeds = { x: [0, 1, 2, 3] };
  const sess = new Session(g2);
  const vector = sess.run({ y, dydx }, feeds);
  const freshRuns = [0, 1].map(() => Array.from(sess.run(dydx, feeds).data));
  const accumulated = [0, 1].map(() => Array.from(sess.run(accumulate, feeds).data));
  // PyTorch's own sequence (backward of y, then of sum(x), without zeroing) reproduced explicitly.
  const torch = new Session(g2);
  torch.run(accumulate, feeds);
  const pytorchLike = Array.from(torch.run(assign(acc, add(acc, dsum)), feeds).data);

  const result = {
    z: scalars.z.get(),
    dzdx: scalars.dzdx.get(),
    dzdy: scalars.dzdy.get(),
    x: feeds.x,
    y: vector.y.get(),
    dydx: Array.from(vector.dydx.data),
    freshRuns,
    accumulated,
    pytorchLike,
  };
  const text = [
    heading('Step 7: the autograd examples'),
    '',
    'z = x·y + 1 at x = 2, y = 3: gradients(z, [x, y])',
    `  z = ${num(result.z)}, dz/dx = ${num(result.dzdx)} (= y), dz/dy = ${num(result.dzdy)} (= x)`,
    '',
    `y = 2·dot(x, x) at x = ${list(result.x)}: gradients(y, [x])`,
    `  y = ${num(result.y)}, dy/dx = ${list(result.dydx)} (= 4x)`,
    '',
    'Accumulation. In PyTorch, y.backward() then x.sum().backward() leaves x.grad = 4x + 1 = [1, 5, 9, 13]',
    'unless x.grad.zero_() runs in between. A lazygrad gradient is a graph node, recomputed by every run:',
    `  run 1 of dy/dx: ${list(freshRuns[0])}`,
    `  run 2 of dy/dx: ${list(freshRuns[1])}   (fresh: nothing carries over, nothing to zero)`,
    '',
    "To accumulate on purpose, keep the sum in a variable: acc = g.variable('acc', [0, 0, 0, 0], 'float64') and",
    'fetch assign(acc, add(acc, dydx)); the variable lives in the session and grows by one gradient per run:',
    `  after run 1: acc = ${list(accumulated[0])}`,
    `  after run 2: acc = ${list(accumulated[1])}   (2× the gradient)`,
    `PyTorch's sequence, on purpose: acc ← acc + dy/dx, then acc ← acc + ∂sum(x)/∂x gives ${list(pytorchLike)};`,
    "zeroing is assign(acc, zerosLike(acc)), and a new Session starts from the variable's initial value.",
  ].join('\n');
  return { ...result, text };
}

if (require.main === module) console.log(autograd().text);
