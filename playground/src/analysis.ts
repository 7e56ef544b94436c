/**
 * The page's two extra views of the current expression, both computed by lazygrad: the error of central differences
 * against the step h (float32 and float64 graphs), and the Hessian, by differentiating the gradient again.
 */
import { neg } from '../../src/core';
import { DType, Graph, Session, Tensor, gradients, toDot } from '../../src/core';
import { drawnNodes } from './dot';
import { BINARY, UNARY } from './model';
import { Expression } from './parser';

/** The expression as a lazygrad graph of scalars of `dtype`, built without recursion. */
export function buildScalar(
  expression: Expression,
  inputs: readonly string[],
  dtype: DType,
): { graph: Graph; placeholders: Tensor[]; output: Tensor } {
  const graph = new Graph();
  const placeholders = inputs.map((name) => graph.placeholder(name, [], dtype));
  const built = new Map<Expression, Tensor>();
  const stack: { expression: Expression; visited: boolean }[] = [{ expression, visited: false }];
  while (stack.length > 0) {
    const { expression: e, visited } = stack.pop() as { expression: Expression; visited: boolean };
    const children =
      e.kind === 'binary' ? [e.left, e.right] : e.kind === 'negate' || e.kind === 'call' ? [e.operand] : [];
    if (!visited && children.length > 0) {
      stack.push({ expression: e, visited: true });
      for (const child of children) stack.push({ expression: child, visited: false });
      continue;
    }
    const operands = children.map((c) => built.get(c) as Tensor);
    let tensor: Tensor;
    if (e.kind === 'number') tensor = graph.constant(e.value, dtype);
    else if (e.kind === 'input') tensor = placeholders[inputs.indexOf(e.name)];
    else if (e.kind === 'negate') tensor = neg(operands[0]);
    else if (e.kind === 'call') tensor = UNARY[e.name][0](operands[0]);
    else tensor = BINARY[e.operator](operands[0], operands[1]);
    built.set(e, tensor);
  }
  return { graph, placeholders, output: built.get(expression) as Tensor };
}

/** The steps the difference plot uses: 10^-1 … 10^-12. */
export const STEPS = Array.from({ length: 12 }, (_, k) => 10 ** -(k + 1));

export interface DifferenceErrors {
  readonly input: string;
  /** |central difference − automatic derivative| per step, for float32 and float64 graphs. */
  readonly float32: number[];
  readonly float64: number[];
}

/** For each input, how far (f(x+h) − f(x−h)) / 2h lands from the automatic derivative (float64) as h shrinks. */
export function differenceErrors(
  expression: Expression,
  inputs: readonly string[],
  feed: Record<string, number>,
): DifferenceErrors[] {
  const exact = hessianAndGradient(expression, inputs, feed).gradient;
  const sessions = (['float32', 'float64'] as const).map((dtype) => {
    const { graph, output } = buildScalar(expression, inputs, dtype);
    const session = new Session(graph);
    return (at: Record<string, number>): number => session.run([output], at)[0].get() as number;
  });
  return inputs.map((input, i) => {
    const [float32, float64] = sessions.map((f) =>
      STEPS.map((h) => {
        // In float32 the step actually taken is what x ± h rounds to, as a user of finite differences would get.
        const plus = f({ ...feed, [input]: feed[input] + h });
        const minus = f({ ...feed, [input]: feed[input] - h });
        return Math.abs((plus - minus) / (2 * h) - exact[i]);
      }),
    );
    return { input, float32, float64 };
  });
}

/**
 * The gradient and the Hessian (the gradient differentiated again), in float64, and the graph computing the
 * Hessian's entries as `toDot` draws it (with its node count).
 */
export function hessianAndGradient(
  expression: Expression,
  inputs: readonly string[],
  feed: Record<string, number>,
): { gradient: number[]; hessian: number[][]; dot: string; nodes: number } {
  const { graph, placeholders, output } = buildScalar(expression, inputs, 'float64');
  const gradient = gradients(output, placeholders, undefined, { unconnected: 'zero' });
  const second = gradient.map((g) => gradients(g, placeholders, undefined, { unconnected: 'zero' }));
  const values = new Session(graph).run([...gradient, ...second.flat()], feed).map((x) => x.get() as number);
  const n = inputs.length;
  return {
    gradient: values.slice(0, n),
    hessian: inputs.map((_, i) => values.slice(n + i * n, n + (i + 1) * n)),
    dot: toDot(second.flat(), { tooltips: true }),
    nodes: drawnNodes(second.flat()),
  };
}
