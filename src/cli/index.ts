#!/usr/bin/env node
/**
 * The `lazygrad` command (package.json "bin"). Node.js only; the library itself is the package's main entry.
 *
 * @example npx lazygrad demo --epochs 3
 */
import { main } from './main';
import { nodeApi, NodeProcess } from './node';

export { main } from './main';

/** Set by Node.js's CommonJS wrapper. */
declare const require: { main?: unknown };
declare const module: unknown;

if (require.main === module) {
  try {
    const { process } = nodeApi();
    void main(process.argv.slice(2)).then((code) => {
      process.exitCode = code;
    });
  } catch (error) {
    // Node.js too old for process.getBuiltinModule: say so without a stack trace.
    const process = (globalThis as { process?: NodeProcess }).process;
    process?.stderr.write(`lazygrad: ${(error as Error).message}\n`);
    if (process !== undefined) process.exitCode = 1;
  }
}
