/**
 * From a parsed expression to what the page shows: a lazygrad graph (one row per distinct node, in topological
 * order), its values, the forward-mode tangents (one jvp pass per input) and the reverse-mode adjoints (one
 * gradients pass for the one output), all computed by a lazygrad Session, plus each edge's local derivative.
 */
import * as lazygrad from '../../src/core';
import {
  Graph,
  Session,
  Tensor,
  formatReport,
  gradients,
  jvp,
  optimize,
  sessionKernels,
  unfusedUnder,
} from '../../src/core';
import { drawnNodes, planDot } from './dot';
import { Expression, format } from './parser';

export interface Row {
  /** A short name: the input's own name, e for the output, else v1, v2, …. */
  name: string;
  /** The node's expression in terms of its operands' names (`c × d`). */
  readonly label: string;
  readonly operands: number[];
  /** The local derivative ∂row/∂operand for each operand, at the current inputs. */
  readonly local: number[];
  readonly layer: number;
  value: number;
  /** tangents[i]: ∂row/∂(input i), one forward pass each. */
  tangents: number[];
  /** ∂e/∂row, from the one reverse pass. */
  adjoint: number;
}

export interface Evaluation {
  readonly rows: Row[];
  readonly inputs: string[];
  readonly value: number;
  readonly gradient: number[];
  readonly backend: string;
  /** e and ∂e/∂inputs as lazygrad built them: the gradient graph is what `toDot` draws of these. */
  readonly fetches: Tensor[];
  /** How many nodes that drawing has (the fetches and everything they read). */
  readonly gradientNodes: number;
  /** The optimized graph of the same fetches, as the session optimizes it: its DOT, fused groups as clusters. */
  readonly plan: { dot: string; nodes: number; steps: number; groups: number };
  /** Each pass's one-line report (`formatReport`) of that optimization. */
  readonly report: string[];
}

/** Each function of the parser: its lazygrad op and its local derivative (from x and y = f(x)). */
export const UNARY: Record<string, [(x: Tensor) => Tensor, (x: number, y: number) => number]> = {
  sin: [lazygrad.sin, (x) => Math.cos(x)],
  cos: [lazygrad.cos, (x) => -Math.sin(x)],
  tan: [lazygrad.tan, (_x, y) => 1 + y * y],
  exp: [lazygrad.exp, (_x, y) => y],
  log: [lazygrad.log, (x) => 1 / x],
  sqrt: [lazygrad.sqrt, (_x, y) => 0.5 / y],
  tanh: [lazygrad.tanh, (_x, y) => 1 - y * y],
  sigmoid: [lazygrad.sigmoid, (_x, y) => y * (1 - y)],
  relu: [lazygrad.relu, (x) => (x > 0 ? 1 : 0)],
  abs: [lazygrad.abs, (x) => Math.sign(x)],
  square: [lazygrad.square, (x) => 2 * x],
  sinh: [lazygrad.sinh, (x) => Math.cosh(x)],
  cosh: [lazygrad.cosh, (x) => Math.sinh(x)],
  atan: [lazygrad.atan, (x) => 1 / (1 + x * x)],
  softplus: [lazygrad.softplus, (x) => 1 / (1 + Math.exp(-x))],
};

export const BINARY = { '+': lazygrad.add, '-': lazygrad.sub, '*': lazygrad.mul, '/': lazygrad.div, '^': lazygrad.pow };
const SYMBOL = { '+': '+', '-': '−', '*': '×', '/': '÷', '^': '^' };

interface Built {
  readonly tensor: Tensor;
  readonly row: number | null;
  readonly constant?: number;
}

/** Builds the graph and computes every row's value, tangents and adjoint with a lazygrad Session. */
export function evaluate(
  expression: Expression,
  inputs: string[],
  feed: Record<string, number>,
  outputName = 'e',
): Evaluation {
  const graph = new Graph();
  const rows: Row[] = [];
  const tensors: Tensor[] = [];
  const rowOfTensor = new Map<number, number>();
  const kinds: { expression: Expression; operands: Built[] }[] = [];
  const placeholders = inputs.map((name) => graph.placeholder(name));

  const addRow = (tensor: Tensor, label: string, source: Expression, operands: Built[], name?: string): Built => {
    const known = rowOfTensor.get(tensor.id);
    if (known !== undefined) return { tensor, row: known }; // the graph merged an equal node: one row
    const rowOperands = operands.filter((o) => o.row !== null).map((o) => o.row as number);
    const layer = rowOperands.reduce((m, r) => Math.max(m, rows[r].layer + 1), 0);
    const index = rows.length;
    rows.push({
      name: name ?? `v${index + 1 - inputs.length}`,
      label,
      operands: rowOperands,
      local: [],
      layer,
      value: NaN,
      tangents: [],
      adjoint: NaN,
    });
    tensors.push(tensor);
    kinds.push({ expression: source, operands });
    rowOfTensor.set(tensor.id, index);
    return { tensor, row: index };
  };
  inputs.forEach((name, i) => addRow(placeholders[i], name, { kind: 'input', name }, [], name));

  const nameOf = (b: Built): string => (b.row === null ? String(b.constant) : rows[b.row].name);
  // Post-order over the expression with an explicit stack (deep expressions do not recurse).
  const results = new Map<Expression, Built>();
  const stack: { expression: Expression; visited: boolean }[] = [{ expression, visited: false }];
  while (stack.length > 0) {
    const top = stack.pop() as { expression: Expression; visited: boolean };
    const e = top.expression;
    const children =
      e.kind === 'binary' ? [e.left, e.right] : e.kind === 'negate' || e.kind === 'call' ? [e.operand] : [];
    if (!top.visited && children.length > 0) {
      stack.push({ expression: e, visited: true });
      for (const child of [...children].reverse()) stack.push({ expression: child, visited: false });
      continue;
    }
    let built: Built;
    if (e.kind === 'number') built = { tensor: graph.constant(e.value), row: null, constant: e.value };
    else if (e.kind === 'input') built = { tensor: placeholders[inputs.indexOf(e.name)], row: inputs.indexOf(e.name) };
    else {
      const operands = children.map((c) => results.get(c) as Built);
      const names = operands.map(nameOf);
      if (e.kind === 'negate') built = addRow(lazygrad.neg(operands[0].tensor), `−${names[0]}`, e, operands);
      else if (e.kind === 'call') {
        built = addRow(UNARY[e.name][0](operands[0].tensor), `${e.name}(${names[0]})`, e, operands);
      } else {
        const tensor = BINARY[e.operator](operands[0].tensor, operands[1].tensor);
        built = addRow(tensor, `${names[0]} ${SYMBOL[e.operator]} ${names[1]}`, e, operands);
      }
    }
    results.set(e, built);
  }
  const output = results.get(expression) as Built;
  if (output.row === null) throw new Error(`'${format(expression)}' is a constant: it has no inputs to vary`);
  const outputTensor = output.tensor;

  const adjoints = gradients(outputTensor, tensors, undefined, { unconnected: 'zero' });
  const tangentPasses = inputs.map((_, i) =>
    jvp(
      tensors,
      placeholders,
      inputs.map((_name, j) => (i === j ? 1 : 0)),
    ),
  );
  const session = new Session(graph);
  const fetched = session.run([...tensors, ...adjoints, ...tangentPasses.flat()], feed).map((x) => x.get() as number);
  const n = tensors.length;
  rows.forEach((row, r) => {
    row.value = fetched[r];
    row.adjoint = fetched[n + r];
    row.tangents = inputs.map((_, i) => fetched[2 * n + i * n + r]);
  });
  rows.forEach((row, r) => {
    const { expression: e, operands } = kinds[r];
    const v = operands.map((o) => (o.row === null ? (o.constant as number) : rows[o.row].value));
    let local: number[] = [];
    if (e.kind === 'negate') local = [-1];
    else if (e.kind === 'call') local = [UNARY[e.name][1](v[0], row.value)];
    else if (e.kind === 'binary') {
      const [x, y] = v;
      const both = {
        '+': [1, 1],
        '-': [1, -1],
        '*': [y, x],
        '/': [1 / y, -x / (y * y)],
        '^': [y * Math.pow(x, y - 1), row.value * Math.log(x)],
      }[e.operator];
      local = both.filter((_, k) => operands[k].row !== null);
    }
    row.local.push(...local);
  });
  const fetches = [outputTensor, ...adjoints.slice(0, inputs.length)];
  // The session's own optimization: level 2, and on the wasm backend the ops it has faster kernels for kept out of
  // fused groups (what Session passes to the same passes when it compiles a plan).
  const optimized = optimize(graph, fetches, { keepUnfused: unfusedUnder(sessionKernels(undefined, 1).overrides) });
  const outputRow = rows[output.row];
  // The output is the last row built, so no label names it yet: call it e, as the page's results do.
  if (output.row >= inputs.length && !inputs.includes(outputName)) outputRow.name = outputName;
  return {
    rows,
    inputs,
    value: outputRow.value,
    gradient: inputs.map((_, i) => rows[i].adjoint),
    backend: session.backend,
    fetches,
    gradientNodes: drawnNodes(fetches),
    plan: planDot(optimized.outputs),
    report: optimized.report.map(formatReport),
  };
}
