/**
 * Tour step 5: backpropagation gate by gate. Every node is a gate that knows only its local gradient (∂out/∂in,
 * asked of lazygrad one gate at a time); the chain rule multiplies it by the upstream gradient ∂f/∂out. First
 * f = (x + y)z at (−2, 5, −4), then the sigmoid neuron f = σ(w₀x₀ + w₁x₁ + w₂) with w = [2, −3, −3], x = [−1, −2],
 * with σ written out as 1/(1 + exp(−z)). Then the same neuron with σ as one staged node (the `sigmoid` op, whose
 * gradient σ(z)(1 − σ(z)) reuses the forward output): a smaller gradient graph, and `optimize` turns the
 * written-out form into exactly the staged one (its stabilize pass: sigmoid-formula and sigmoid-gradient).
 */
import {
  add,
  ancestors,
  div,
  exp,
  formatGraph,
  gradients,
  Graph,
  mul,
  neg,
  optimize,
  Session,
  sigmoid,
  Tensor,
} from '../../src';
import { heading, num } from './util';

/** One gate of a worked example: its name, formula, tensor and the gates (or inputs) it reads. */
interface Gate {
  readonly name: string;
  readonly formula: string;
  readonly tensor: Tensor;
  readonly inputs: readonly string[];
}

export interface GateTrace {
  /** Gate values by name. */
  readonly values: { readonly [name: string]: number };
  /** ∂f/∂gate for every gate and input. */
  readonly upstream: { readonly [name: string]: number };
  /** Local gradient of each edge, keyed 'input->gate'. */
  readonly local: { readonly [edge: string]: number };
  readonly lines: string[];
}

/** Evaluates the gates, each edge's local gradient and ∂f/∂gate by reverse mode, and prints them top-down. */
function traceGates(g: Graph, gates: readonly Gate[], feeds: { [name: string]: number }): GateTrace {
  const byName = new Map(gates.map((s) => [s.name, s]));
  const f = gates[gates.length - 1];
  const edgeList = gates.flatMap((s) => s.inputs.map((input) => ({ from: input, to: s.name })));
  const localTensors = edgeList.map(
    ({ from, to }) => gradients(byName.get(to)!.tensor, [byName.get(from)!.tensor])[0] as Tensor,
  );
  const reverse = gradients(
    f.tensor,
    gates.map((s) => s.tensor),
  ) as Tensor[];
  const run = new Session(g).run({ values: gates.map((s) => s.tensor), localTensors, reverse }, feeds);
  const values = Object.fromEntries(gates.map((s, i) => [s.name, run.values[i].get()]));
  const upstream = Object.fromEntries(gates.map((s, i) => [s.name, run.reverse[i].get()]));
  const local = Object.fromEntries(edgeList.map(({ from, to }, i) => [`${from}->${to}`, run.localTensors[i].get()]));

  const lines = ['Forward, gate by gate:'];
  for (const s of gates) {
    lines.push(
      `  ${s.name.padEnd(3)} = ${(s.inputs.length === 0 ? 'input' : s.formula).padEnd(14)} = ${num(values[s.name])}`,
    );
  }
  lines.push(
    '',
    `Backward from ∂${f.name}/∂${f.name} = 1: ∂${f.name}/∂in = Σ over users (∂${f.name}/∂out · local ∂out/∂in):`,
  );
  for (const s of [...gates].reverse()) {
    const users = gates.filter((u) => u.inputs.includes(s.name));
    if (users.length === 0) {
      lines.push(`  ∂${f.name}/∂${s.name} = ${num(upstream[s.name])}   (seed)`);
      continue;
    }
    const terms = users.map((u) => `${num(upstream[u.name])}·${num(local[`${s.name}->${u.name}`])}`).join(' + ');
    const locals = users.map((u) => `∂${u.name}/∂${s.name} = ${num(local[`${s.name}->${u.name}`])}`).join(', ');
    lines.push(`  ∂${f.name}/∂${s.name} = ${terms} = ${num(upstream[s.name])}   (local ${locals})`);
  }
  return { values, upstream, local, lines };
}

const NEURON_FEEDS = { w0: 2, w1: -3, w2: -3, x0: -1, x1: -2 };
const NEURON_INPUTS = ['w0', 'w1', 'w2', 'x0', 'x1'] as const;

/** The neuron's inputs as float64 scalar placeholders and its pre-activation z = w₀x₀ + w₁x₁ + w₂. */
function neuronInputs(g: Graph): { inputs: Tensor[]; z: Tensor; products: [Tensor, Tensor]; partial: Tensor } {
  const inputs = NEURON_INPUTS.map((name) => g.placeholder(name, [], 'float64'));
  const [w0, w1, w2, x0, x1] = inputs;
  const products: [Tensor, Tensor] = [mul(w0, x0), mul(w1, x1)];
  const partial = add(products[0], products[1]);
  return { inputs, z: add(partial, w2), products, partial };
}

export interface NeuronForm {
  /** The gradient graph's text (formatGraph of ∂f/∂[w0, w1, w2, x0, x1]) and its node count. */
  readonly text: string;
  readonly nodes: number;
  /** The same gradients after optimize(g, [f, ...grads], { disable: ['fuse'] }): node count and text. */
  readonly optimizedNodes: number;
  readonly optimizedText: string;
  /** The optimizer's rewrite counts, by rule, over all passes. */
  readonly rules: { readonly [rule: string]: number };
  /** f and ∂f/∂[w0, w1, w2, x0, x1]. */
  readonly f: number;
  readonly grads: number[];
}

/** One form of the neuron in its own graph: its gradient graph and what the optimizer makes of it. */
function neuronForm(activation: (z: Tensor) => Tensor): NeuronForm {
  const g = new Graph();
  const { inputs, z } = neuronInputs(g);
  const f = activation(z);
  const grads = gradients(f, inputs) as Tensor[];
  // Fusion would merge each form into a few fused kernels and hide the rewrite; the rewrites alone show it.
  const opt = optimize(g, [f, ...grads], { disable: ['fuse'] });
  const rules: { [rule: string]: number } = {};
  for (const r of opt.report) {
    if (r.pass === 'prune') continue;
    for (const [rule, count] of Object.entries(r.changes)) {
      if (count > 0) rules[rule] = (rules[rule] ?? 0) + count;
    }
  }
  const run = new Session(g).run({ f, grads }, NEURON_FEEDS);
  return {
    text: formatGraph(grads),
    nodes: ancestors(
      g,
      grads.map((t) => t.id),
    ).length,
    optimizedNodes: ancestors(
      opt.graph,
      opt.outputs.map((t) => t.id),
    ).length,
    optimizedText: formatGraph(opt.outputs),
    rules,
    f: run.f.get(),
    grads: run.grads.map((t) => t.get()),
  };
}

export interface GatesAndStagedNeuron {
  /** f = (x + y)z: gate values, local gradients and ∂f/∂gate (q = x + y). */
  readonly simple: GateTrace;
  /** The neuron with σ written out as gates. */
  readonly neuron: GateTrace;
  /** σ written out as 1/(1 + exp(−z)) and σ as one staged `sigmoid` node. */
  readonly writtenOut: NeuronForm;
  readonly staged: NeuronForm;
  readonly text: string;
}

/** Runs step 5 and returns every trace's numbers, both neuron forms and the printed text. */
export function gatesAndStagedNeuron(): GatesAndStagedNeuron {
  const g1 = new Graph();
  const x = g1.placeholder('x', [], 'float64');
  const y = g1.placeholder('y', [], 'float64');
  const z = g1.placeholder('z', [], 'float64');
  const q = add(x, y);
  const simple = traceGates(
    g1,
    [
      { name: 'x', formula: 'x', tensor: x, inputs: [] },
      { name: 'y', formula: 'y', tensor: y, inputs: [] },
      { name: 'z', formula: 'z', tensor: z, inputs: [] },
      { name: 'q', formula: 'x + y', tensor: q, inputs: ['x', 'y'] },
      { name: 'f', formula: 'q · z', tensor: mul(q, z), inputs: ['q', 'z'] },
    ],
    { x: -2, y: 5, z: -4 },
  );

  const g2 = new Graph();
  const { inputs, z: dot, products, partial } = neuronInputs(g2);
  const [w0, w1, w2, x0, x1] = inputs;
  const negated = neg(dot);
  const e = exp(negated);
  const denominator = add(1, e);
  const neuron = traceGates(
    g2,
    [
      { name: 'w0', formula: 'w0', tensor: w0, inputs: [] },
      { name: 'x0', formula: 'x0', tensor: x0, inputs: [] },
      { name: 'w1', formula: 'w1', tensor: w1, inputs: [] },
      { name: 'x1', formula: 'x1', tensor: x1, inputs: [] },
      { name: 'w2', formula: 'w2', tensor: w2, inputs: [] },
      { name: 'a', formula: 'w0 · x0', tensor: products[0], inputs: ['w0', 'x0'] },
      { name: 'b', formula: 'w1 · x1', tensor: products[1], inputs: ['w1', 'x1'] },
      { name: 'c', formula: 'a + b', tensor: partial, inputs: ['a', 'b'] },
      { name: 'z', formula: 'c + w2', tensor: dot, inputs: ['c', 'w2'] },
      { name: 'n', formula: '−z', tensor: negated, inputs: ['z'] },
      { name: 'e', formula: 'exp(n)', tensor: e, inputs: ['n'] },
      { name: 'd', formula: '1 + e', tensor: denominator, inputs: ['e'] },
      { name: 'f', formula: '1 / d', tensor: div(1, denominator), inputs: ['d'] },
    ],
    NEURON_FEEDS,
  );

  const writtenOut = neuronForm((t) => div(1, add(1, exp(neg(t)))));
  const staged = neuronForm(sigmoid);
  const list = (values: readonly number[]): string => `[${values.map((v) => num(v, 3)).join(', ')}]`;
  const rules = (form: NeuronForm): string =>
    Object.entries(form.rules)
      .map(([rule, count]) => `${rule} ×${count}`)
      .join(', ');
  const text = [
    heading('Step 5: gates, local gradients and the staged sigmoid neuron'),
    '',
    'f = (x + y)z at x = −2, y = 5, z = −4, with q = x + y (local gradients from gradients(gate, [input])):',
    ...simple.lines,
    '',
    'The sigmoid neuron f = 1 / (1 + exp(−(w0·x0 + w1·x1 + w2))) at w = [2, −3, −3], x = [−1, −2], gate by gate:',
    ...neuron.lines,
    '',
    `∂f/∂w = ${list(staged.grads.slice(0, 3))}, ∂f/∂x = ${list(staged.grads.slice(3))}`,
    '',
    `Staged: σ as one node, whose gradient is σ(z)(1 − σ(z)) from the forward output (${staged.nodes} nodes):`,
    staged.text,
    '',
    `Written out: σ as 1 / (1 + exp(−z)), four gates and four gradient gates (${writtenOut.nodes} nodes):`,
    writtenOut.text,
    '',
    "optimize(g, [f, ...grads], { disable: ['fuse'] }) on the written-out form rewrites, by rule:",
    `  ${rules(writtenOut)}`,
    `and leaves ${writtenOut.optimizedNodes} nodes (the staged form optimizes to ${staged.optimizedNodes}):`,
    writtenOut.optimizedText,
  ].join('\n');
  return { simple, neuron, writtenOut, staged, text };
}

if (require.main === module) console.log(gatesAndStagedNeuron().text);
