/**
 * `npm start`: the main job. (1) The seed examples: values, gradients, gradient graphs as text. (2) An MLP
 * 784-128-10 (or with `--model cnn` a small CNN) trained on 8,000 MNIST digits with a progress bar, tested on 2,000
 * others. (3) Curves, graph pictures, a checkpoint and an HTML report in out/. Flags go to the training:
 * `npm start -- --epochs 3 --optimizer sgd`, `npm start -- --model cnn`.
 */
import { printSeedExamples } from './seed';
// The CLI is the package's Node.js entry (its "bin"), built on the public API like the examples; parts 2 and 3
// are its `demo` command, so `npx lazygrad demo` and `npm start` train the same way.
// eslint-disable-next-line no-restricted-imports
import { main } from '../src/cli/main';

async function run(): Promise<void> {
  const args = process.argv.slice(2);
  const help = args.includes('--help') || args.includes('-h');
  const mismatches = help ? 0 : printSeedExamples();
  if (!help) {
    const rule = '='.repeat(100);
    const at = args.indexOf('--model');
    const cnn = args.includes('--model=cnn') || (at >= 0 && args[at + 1] === 'cnn');
    const what = cnn ? 'a CNN learns MNIST digits' : 'an MLP learns MNIST digits';
    const same = cnn ? 'npx lazygrad demo --model cnn' : 'npx lazygrad demo';
    console.log(`\n${rule}\n6. The main job: ${what} (the same as '${same}')\n${rule}`);
  }
  const code = await main(['demo', ...args]);
  process.exitCode = code !== 0 ? code : mismatches > 0 ? 1 : 0;
}

void run();
