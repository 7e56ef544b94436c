/**
 * `require` for the Node-only helpers, in both builds: the CommonJS build has Node's own; the ES module build has
 * none (and no `import.meta` in code that also compiles to CommonJS), so it resolves from the working directory,
 * where an application's node_modules are.
 */

/** Node.js's CommonJS `require` where the module runs as CommonJS (the core compiles without Node's types). */
declare const require: ((id: string) => unknown) | undefined;

interface NodeModuleApi {
  createRequire(from: string): (id: string) => unknown;
}

interface NodeProcess {
  cwd(): string;
  getBuiltinModule?(id: string): unknown;
}

/** A `require` that loads CommonJS packages (such as `mnist`) from ES modules and CommonJS alike. */
export function nodeRequire(what: string): (id: string) => unknown {
  if (typeof require === 'function') return require;
  const process = (globalThis as { process?: NodeProcess }).process;
  const module = process?.getBuiltinModule?.('node:module') as NodeModuleApi | undefined;
  if (process === undefined || module === undefined) {
    throw new Error(`${what} needs Node.js 20.16 or later (process.getBuiltinModule)`);
  }
  return module.createRequire(`${process.cwd()}/`);
}
