/**
 * Tour step 4: the computational graph e = (a + b)(b + 1) at a = 2, b = 1, split into c = a + b, d = b + 1,
 * e = c·d. The forward evaluation, a forward-mode pass w.r.t. b (every node's ∂/∂b, from lazygrad's `jvp`), and a
 * reverse-mode pass (∂e/∂node for every node, from `gradients` w.r.t. each intermediate), printed step by step
 * with the chain-rule sums spelled out from the edges' local derivatives (themselves asked of lazygrad). The
 * picture is DOT with each edge labelled by its local derivative.
 */
import { add, gradients, Graph, jvp, mul, renderSvg, Session, Tensor, toDot } from '../../src';
import { heading, num, writeOut } from './util';

/** One node of the worked example: its name, formula, tensor and the nodes it reads. */
interface Step {
  readonly name: string;
  readonly formula: string;
  readonly tensor: Tensor;
  readonly inputs: readonly string[];
}

export interface GraphTraces {
  /** Node values by name: a, b, c, d, e. */
  readonly values: { readonly [name: string]: number };
  /** ∂node/∂b from the forward-mode pass. */
  readonly forward: { readonly [name: string]: number };
  /** ∂node/∂a from a second forward-mode pass (forward mode needs one pass per input). */
  readonly forwardA: { readonly [name: string]: number };
  /** ∂e/∂node from the reverse-mode pass. */
  readonly reverse: { readonly [name: string]: number };
  /** Local derivative of each edge, keyed 'input->node'. */
  readonly edges: { readonly [edge: string]: number };
  readonly dot: string;
  readonly text: string;
  /** The graph's tensors, so callers can draw lazygrad's own picture (renderSvg). */
  readonly e: Tensor;
}

function build(): { steps: Step[]; g: Graph } {
  const g = new Graph();
  const a = g.placeholder('a');
  const b = g.placeholder('b');
  const c = add(a, b);
  const d = add(b, 1);
  const e = mul(c, d);
  return {
    g,
    steps: [
      { name: 'a', formula: 'a', tensor: a, inputs: [] },
      { name: 'b', formula: 'b', tensor: b, inputs: [] },
      { name: 'c', formula: 'a + b', tensor: c, inputs: ['a', 'b'] },
      { name: 'd', formula: 'b + 1', tensor: d, inputs: ['b'] },
      { name: 'e', formula: 'c · d', tensor: e, inputs: ['c', 'd'] },
    ],
  };
}

const record = (names: readonly string[], arrays: readonly { get(): number }[]): { [name: string]: number } =>
  Object.fromEntries(names.map((n, i) => [n, arrays[i].get()]));

/** Runs step 4 and returns every trace's numbers, the DOT text and the printed text. */
export function graphTraces(a0 = 2, b0 = 1): GraphTraces {
  const { steps, g } = build();
  const byName = new Map(steps.map((s) => [s.name, s]));
  const tensors = steps.map((s) => s.tensor);
  const names = steps.map((s) => s.name);
  const [a, b] = tensors;
  const e = tensors[4];

  // Each edge's local derivative ∂node/∂input, asked of lazygrad one node at a time.
  const edgeList = steps.flatMap((s) => s.inputs.map((input) => ({ from: input, to: s.name })));
  const local = edgeList.map(
    ({ from, to }) => gradients(byName.get(to)!.tensor, [byName.get(from)!.tensor])[0] as Tensor,
  );
  const forwardB = jvp(tensors, [a, b], [0, 1]);
  const forwardA = jvp(tensors, [a, b], [1, 0]);
  const reverse = gradients(e, tensors) as Tensor[];

  const feeds = { a: a0, b: b0 };
  const run = new Session(g).run({ values: tensors, local, forwardB, forwardA, reverse }, feeds);
  const values = record(names, run.values);
  const forward = record(names, run.forwardB);
  const forwardAValues = record(names, run.forwardA);
  const rev = record(names, run.reverse);
  const edges = Object.fromEntries(edgeList.map(({ from, to }, i) => [`${from}->${to}`, run.local[i].get()]));

  const lines: string[] = [heading('Step 4: the computational graph e = (a + b)(b + 1)'), ''];
  lines.push(`Forward evaluation (topological order) at a = ${a0}, b = ${b0}:`);
  steps.forEach((s, i) => {
    const formula = s.inputs.length === 0 ? 'input' : s.formula;
    lines.push(`  ${i + 1}. ${s.name} = ${formula.padEnd(6)} = ${num(values[s.name])}`);
  });

  lines.push('', 'Local derivatives on the edges (∂node/∂input, each from gradients(node, [input])):');
  for (const { from, to } of edgeList) lines.push(`  ∂${to}/∂${from} = ${num(edges[`${from}->${to}`])}`);

  const forwardTrace = (wrt: string, dots: { [name: string]: number }): void => {
    lines.push('', `Forward mode w.r.t. ${wrt} (jvp with tangent 1 for ${wrt}, 0 for the other input), bottom-up:`);
    for (const s of steps) {
      if (s.inputs.length === 0) {
        lines.push(`  ∂${s.name}/∂${wrt} = ${num(dots[s.name])}   (seed)`);
        continue;
      }
      const terms = s.inputs.map((i) => `∂${s.name}/∂${i}·∂${i}/∂${wrt}`).join(' + ');
      const numbers = s.inputs.map((i) => `${num(edges[`${i}->${s.name}`])}·${num(dots[i])}`).join(' + ');
      lines.push(`  ∂${s.name}/∂${wrt} = ${terms} = ${numbers} = ${num(dots[s.name])}`);
    }
  };
  forwardTrace('b', forward);
  lines.push('  One forward pass gives the derivative of every node w.r.t. one input; ∂e/∂a needs another pass:');
  forwardTrace('a', forwardAValues);

  lines.push('', 'Reverse mode (∂e/∂node from gradients(e, [a, b, c, d, e])), top-down from the seed ∂e/∂e = 1:');
  for (const s of [...steps].reverse()) {
    const users = steps.filter((u) => u.inputs.includes(s.name));
    if (users.length === 0) {
      lines.push(`  ∂e/∂${s.name} = ${num(rev[s.name])}   (seed)`);
      continue;
    }
    const terms = users.map((u) => `∂e/∂${u.name}·∂${u.name}/∂${s.name}`).join(' + ');
    const numbers = users.map((u) => `${num(rev[u.name])}·${num(edges[`${s.name}->${u.name}`])}`).join(' + ');
    lines.push(`  ∂e/∂${s.name} = ${terms} = ${numbers} = ${num(rev[s.name])}`);
  }
  lines.push('  One reverse pass gives ∂e/∂ of every node, both inputs included: b fans out, so its paths add up.');

  const dotLines = [
    'digraph computational_graph {',
    '  rankdir=BT;',
    '  node [shape=circle, fontname="sans-serif"];',
    '  edge [fontname="sans-serif", fontsize=10];',
    ...steps.map((s) => {
      const label =
        s.inputs.length === 0
          ? `${s.name} = ${num(values[s.name])}`
          : `${s.name} = ${s.formula}\\n= ${num(values[s.name])}`;
      const shape = s.inputs.length === 0 ? ', shape=box' : '';
      return `  ${s.name} [label="${label}\\n∂e/∂${s.name} = ${num(rev[s.name])}"${shape}];`;
    }),
    ...edgeList.map(
      ({ from, to }) => `  ${from} -> ${to} [label="∂${to}/∂${from} = ${num(edges[`${from}->${to}`])}"];`,
    ),
    '}',
  ];
  return {
    values,
    forward,
    forwardA: forwardAValues,
    reverse: rev,
    edges,
    dot: `${dotLines.join('\n')}\n`,
    text: lines.join('\n'),
    e,
  };
}

/** Prints step 4 and writes its pictures: the hand-labelled DOT, lazygrad's own toDot and its SVG rendering. */
export async function main(): Promise<void> {
  const result = graphTraces();
  console.log(result.text);
  console.log(`\nwrote ${writeOut('graph-traces.dot', result.dot)}`);
  // The hand-labelled DOT (edge derivatives as labels) laid out by Graphviz compiled to WebAssembly.
  const viz = await (await import('@viz-js/viz')).instance();
  console.log(`wrote ${writeOut('graph-traces.svg', viz.renderString(result.dot, { format: 'svg' }))}`);
  console.log(`wrote ${writeOut('graph-lazygrad.dot', toDot(result.e, { title: 'e = (a + b)(b + 1)' }))}`);
  const svg = await renderSvg(result.e, { title: 'e = (a + b)(b + 1)' });
  console.log(`wrote ${writeOut('graph-lazygrad.svg', svg)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
