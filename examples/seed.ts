/**
 * The seed examples printer (the first part of `npm start`, examples/demo.ts): values and gradients next to their
 * expected values, the gradient graph as text IR, and the plan the session compiled for it, then one SGD step on a
 * variable. Run on its own (`npx ts-node examples/seed.ts`), it exits with code 1 if any number differs from its
 * expected value.
 */
import { Quantity, SeedExample, seedExamples, sgdStep } from './seed-examples';

const WIDTH = 100;
let mismatches = 0;

function header(title: string): void {
  console.log(`\n${'='.repeat(WIDTH)}\n${title}\n${'='.repeat(WIDTH)}`);
}

function subheader(title: string): void {
  console.log(`\n-- ${title} ${'-'.repeat(Math.max(0, WIDTH - title.length - 4))}`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function number(value: number): string {
  return (value >= 0 ? ' ' : '') + value.toFixed(4);
}

function close(value: number, expected: number): boolean {
  return Math.abs(value - expected) <= 1e-5 * Math.max(1, Math.abs(expected));
}

function quantities(list: readonly Quantity[]): void {
  const width = Math.max(...list.map((q) => q.name.length));
  for (const q of list) {
    const ok = close(q.value, q.expected);
    if (!ok) mismatches++;
    const mark = ok ? 'ok' : 'MISMATCH';
    console.log(`  ${q.name.padEnd(width)} = ${number(q.value)}   expected ${number(q.expected)}   ${mark}`);
  }
}

function printExample(index: number, example: SeedExample): void {
  header(`${index}. ${example.title}:  ${example.formula}`);
  const at = Object.entries(example.inputs)
    .map(([name, value]) => `${name} = ${value}`)
    .join(', ');
  console.log(`at ${at}`);
  subheader('value');
  quantities(example.outputs);
  subheader('gradients');
  quantities(example.gradients);
  const check = example.gradientCheck;
  if (!check.ok) mismatches++;
  console.log(
    `  finite differences (checkGradients): ${check.ok ? 'agree' : 'DISAGREE'}, ` +
      `max error ${check.maxError.toExponential(1)}`,
  );
  subheader('gradient graph: formatGraph(grads)');
  console.log(indent(example.gradientGraph));
  subheader('optimized plan: sess.explain(grads, feeds)');
  console.log(indent(example.plan));
}

/** Prints the seed examples and returns how many numbers differ from their expected values (0 when all agree). */
export function printSeedExamples(): number {
  mismatches = 0;
  console.log('lazygrad seed examples: graphs are built first, computed only when a Session runs them.');
  const examples = seedExamples();
  examples.forEach((example, i) => printExample(i + 1, example));

  const step = sgdStep();
  header(`5. One SGD step on a variable:  ${step.formula}`);
  console.log(`  sess.run([loss, assign(w, sub(w, mul(${step.learningRate}, dw)))], { x: [-1, -2, 1] })`);
  console.log(`  w     ${JSON.stringify(step.weightsBefore.map((v) => +v.toFixed(4)))}`);
  console.log(`     -> ${JSON.stringify(step.weightsAfter.map((v) => +v.toFixed(4)))}`);
  console.log(`  loss  ${step.lossBefore.toFixed(4)} -> ${step.lossAfter.toFixed(4)}`);
  if (!(step.lossAfter < step.lossBefore)) mismatches++;

  const neuron = examples[examples.length - 1];
  header('Graphviz');
  console.log(
    `  toDot(grads) gives Graphviz source (${neuron.dot.split('\n').length} lines for the neuron's gradients); ` +
      'await renderSvg(grads) lays it out as SVG with Graphviz compiled to WebAssembly.',
  );

  if (mismatches > 0) console.log(`\n${mismatches} result(s) differ from the expected values.`);
  else console.log('\nAll values and gradients match their expected values.');
  return mismatches;
}

if (require.main === module && printSeedExamples() > 0) process.exitCode = 1;
