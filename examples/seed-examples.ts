/**
 * The four seed examples of the reverse-mode tutorial lazygrad grew out of, plus one SGD step. Each function
 * builds its graph, runs it, and returns the numbers next to their closed-form expected values, so
 * examples/seed.ts can print them and tests can check them.
 */
import {
  add,
  ArrayValue,
  assign,
  checkGradients,
  formatGraph,
  gradients,
  Graph,
  log,
  mul,
  Session,
  sigmoid,
  sin,
  square,
  sub,
  sum,
  Tensor,
  toDot,
} from '../src';

/** One computed number and the value the closed-form derivation gives. */
export interface Quantity {
  readonly name: string;
  readonly value: number;
  readonly expected: number;
}

export interface SeedExample {
  readonly title: string;
  readonly formula: string;
  /** The point the example is evaluated at, by placeholder name. */
  readonly inputs: { readonly [name: string]: number };
  readonly outputs: readonly Quantity[];
  readonly gradients: readonly Quantity[];
  /** Central finite differences of the output against the analytic gradients (checkGradients). */
  readonly gradientCheck: { readonly ok: boolean; readonly maxError: number };
  /** formatGraph of the gradient tensors: the gradient graph as text IR. */
  readonly gradientGraph: string;
  /** sess.explain of the gradient tensors with the example's feeds: pass reports and the optimized plan. */
  readonly plan: string;
  /** toDot of the gradient tensors: Graphviz source, gradient nodes in a cluster of their own. */
  readonly dot: string;
}

/** Everything the examples share once the graph is built: run, differentiate, check, print. */
function evaluate(
  title: string,
  formula: string,
  output: { name: string; tensor: Tensor; expected: number },
  wrt: readonly { name: string; tensor: Tensor; value: number; expected: number }[],
): SeedExample {
  const graph = output.tensor.graph;
  const xs = wrt.map((w) => w.tensor);
  // Every x of these examples is connected to the output, so no gradient is null.
  const grads = gradients(output.tensor, xs) as Tensor[];
  const inputs: { [name: string]: number } = {};
  for (const w of wrt) inputs[w.tensor.name] = w.value;

  const session = new Session(graph);
  const result = session.run({ y: output.tensor, grads }, inputs);
  const feeds = new Map<Tensor, ArrayValue>(wrt.map((w) => [w.tensor, w.value]));
  const check = checkGradients(output.tensor, xs, feeds);
  return {
    title,
    formula,
    inputs,
    outputs: [{ name: output.name, value: result.y.get(), expected: output.expected }],
    gradients: wrt.map((w, i) => ({
      name: `∂${output.name}/∂${w.name}`,
      value: result.grads[i].get(),
      expected: w.expected,
    })),
    gradientCheck: { ok: check.ok, maxError: check.maxError },
    gradientGraph: formatGraph(grads),
    plan: session.explain(grads, inputs),
    dot: toDot(grads),
  };
}

/**
 * y = ln(x1) + x1·x2 − sin(x2) at x1 = 2, x2 = 5 (the classic reverse-mode worked example).
 * Built with the functional builders, TensorFlow.js style.
 */
export function logProductSine(): SeedExample {
  const g = new Graph();
  const x1 = g.placeholder('x1'); // shape defaults to [] (a scalar)
  const x2 = g.placeholder('x2');
  const y = sub(add(log(x1), mul(x1, x2)), sin(x2));
  const [a, b] = [2, 5];
  return evaluate(
    'Reverse mode on a small expression',
    'y = ln(x1) + x1·x2 − sin(x2)',
    { name: 'y', tensor: y, expected: Math.log(a) + a * b - Math.sin(b) },
    [
      { name: 'x1', tensor: x1, value: a, expected: 1 / a + b },
      { name: 'x2', tensor: x2, value: b, expected: a - Math.cos(b) },
    ],
  );
}

/** e = (a + b)(b + 1) at a = 2, b = 1: b fans out to two uses, so its gradient is a sum of two paths. */
export function fanOut(): SeedExample {
  const g = new Graph();
  const a = g.placeholder('a');
  const b = g.placeholder('b');
  const e = a.add(b).mul(b.add(1)); // chained methods
  return evaluate(
    'Fan-out: gradients from two paths are summed',
    'e = (a + b)·(b + 1)',
    { name: 'e', tensor: e, expected: 6 },
    [
      { name: 'a', tensor: a, value: 2, expected: 2 },
      { name: 'b', tensor: b, value: 1, expected: 5 },
    ],
  );
}

/** f = (x + y)·z at x = −2, y = 5, z = −4: add routes the gradient, mul swaps its inputs. */
export function addMultiply(): SeedExample {
  const g = new Graph();
  const x = g.placeholder('x');
  const y = g.placeholder('y');
  const z = g.placeholder('z');
  const f = x.add(y).mul(z);
  return evaluate('Add distributes, multiply swaps', 'f = (x + y)·z', { name: 'f', tensor: f, expected: -12 }, [
    { name: 'x', tensor: x, value: -2, expected: -4 },
    { name: 'y', tensor: y, value: 5, expected: -4 },
    { name: 'z', tensor: z, value: -4, expected: 3 },
  ]);
}

/** The sigmoid neuron f = σ(w0·x0 + w1·x1 + w2) at w = [2, −3, −3], x = [−1, −2]. */
export function neuron(): SeedExample {
  const g = new Graph();
  const [w0, w1, w2] = ['w0', 'w1', 'w2'].map((name) => g.placeholder(name));
  const [x0, x1] = ['x0', 'x1'].map((name) => g.placeholder(name));
  const f = sigmoid(w0.mul(x0).add(w1.mul(x1)).add(w2));
  const w = [2, -3, -3];
  const x = [-1, -2];
  const sigma = 1 / (1 + Math.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])));
  const local = sigma * (1 - sigma); // dσ/dz
  return evaluate('A sigmoid neuron', 'f = σ(w0·x0 + w1·x1 + w2)', { name: 'f', tensor: f, expected: sigma }, [
    { name: 'w0', tensor: w0, value: w[0], expected: x[0] * local },
    { name: 'w1', tensor: w1, value: w[1], expected: x[1] * local },
    { name: 'w2', tensor: w2, value: w[2], expected: local },
    { name: 'x0', tensor: x0, value: x[0], expected: w[0] * local },
    { name: 'x1', tensor: x1, value: x[1], expected: w[1] * local },
  ]);
}

export interface SgdStep {
  readonly formula: string;
  readonly learningRate: number;
  readonly lossBefore: number;
  readonly lossAfter: number;
  readonly weightsBefore: number[];
  readonly weightsAfter: number[];
}

/**
 * One step of gradient descent on the neuron, with its weights (bias last) in a variable:
 * loss = (1 − σ(w·x))², x = [−1, −2, 1]. The fetched loss is computed from the weights before the assign.
 */
export function sgdStep(learningRate = 0.1): SgdStep {
  const g = new Graph();
  const w = g.variable('w', [2, -3, -3]);
  const x = g.placeholder('x', [3]);
  const loss = square(sub(1, sigmoid(sum(mul(w, x)))));
  const [dw] = gradients(loss, [w]) as Tensor[];
  const session = new Session(g);
  const feeds = { x: [-1, -2, 1] };
  const weightsBefore = Array.from(session.variableValue(w).data);
  const [lossBefore] = session.run([loss, assign(w, sub(w, mul(learningRate, dw)))], feeds);
  const lossAfter = session.run(loss, feeds);
  return {
    formula: `loss = (1 − σ(w·x))²,  w ← w − ${learningRate}·∂loss/∂w`,
    learningRate,
    lossBefore: lossBefore.get(),
    lossAfter: lossAfter.get(),
    weightsBefore,
    weightsAfter: Array.from(session.variableValue(w).data),
  };
}

/** The four seed examples in tutorial order. */
export function seedExamples(): SeedExample[] {
  return [logProductSine(), fanOut(), addMultiply(), neuron()];
}
