/**
 * `npm run tour`: the tour of differentiation, step by step in the order of the tutorial lazygrad grew out of.
 * Each step prints its output and writes its pictures under out/tour/. With `--markdown`, it prints docs/tour.md's
 * generated sections instead (how the docs are kept in step with the code).
 */
import { manualVsAutomatic } from './01-manual-vs-automatic';
import { numericalDifferentiation } from './02-numerical';
import { symbolicSwell } from './03-symbolic-swell';
import { graphTraces, main as graphTracesMain } from './04-graph-traces';
import { gatesAndStagedNeuron } from './05-gates-and-staged-neuron';
import { eagerVsLazyTrace } from './06-eager-vs-lazy-trace';
import { autograd } from './07-autograd';
import * as fs from 'fs';
import * as path from 'path';
import { writeOut } from './util';

const RULE = `\n${'-'.repeat(100)}\n`;

async function tour(): Promise<void> {
  console.log(manualVsAutomatic().text);
  console.log(RULE);

  const numerical = numericalDifferentiation();
  console.log(numerical.text);
  console.log(`\nwrote ${writeOut('numerical-error.svg', numerical.svg)}`);
  console.log(RULE);

  const swell = symbolicSwell();
  console.log(swell.text);
  console.log(`\nwrote ${writeOut('symbolic-swell.svg', swell.svg)}`);
  console.log(RULE);

  await graphTracesMain();
  console.log(RULE);

  console.log(gatesAndStagedNeuron().text);
  console.log(RULE);

  console.log(eagerVsLazyTrace().text);
  console.log(RULE);

  console.log(autograd().text);
}

/**
 * The step outputs as fenced blocks, for pasting into docs/tour.md; the plots are written to docs/tour/, where
 * docs/tour.md shows them inline (out/ is not part of the repository).
 */
async function markdown(): Promise<void> {
  const block = (text: string): string => `\`\`\`text\n${text}\n\`\`\``;
  const docs = path.join(__dirname, '..', '..', 'docs', 'tour');
  fs.mkdirSync(docs, { recursive: true });
  console.log(block(manualVsAutomatic().text));
  const numerical = numericalDifferentiation();
  fs.writeFileSync(path.join(docs, 'numerical-error.svg'), numerical.svg);
  console.log(block(numerical.text));
  const swell = symbolicSwell();
  fs.writeFileSync(path.join(docs, 'symbolic-swell.svg'), swell.svg);
  console.log(block(swell.text));
  const traces = graphTraces();
  const viz = await (await import('@viz-js/viz')).instance();
  fs.writeFileSync(path.join(docs, 'graph-traces.svg'), viz.renderString(traces.dot, { format: 'svg' }));
  console.log(block(traces.text));
  console.log(`\`\`\`dot\n${traces.dot}\`\`\``);
  console.log(block(gatesAndStagedNeuron().text));
  console.log(block(eagerVsLazyTrace().text));
  console.log(block(autograd().text));
}

(process.argv.includes('--markdown') ? markdown() : tour()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
