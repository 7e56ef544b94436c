/* global process, console, Buffer */
/**
 * `npm run build` (and `prepack`): the package's two builds from one source.
 *
 *   dist/cjs  CommonJS, everything in src/ (the entries and the CLI, the package's "bin")
 *   dist/esm  ES modules, the four entries (core, onnx, svg, node) and what they import; a package.json there
 *             says "type": "module", and every relative import specifier gets its file name (`./graph` →
 *             `./graph/index.js`), as Node.js and browsers need
 *
 * Both carry declarations and no source maps: their files are tsc's readable output of src/ file for file, comments
 * kept. (The ES module build had maps with the TypeScript sources embedded: 3.3 MB of the 8 MB the installed
 * package may weigh, which it reached; docs/package.md.) The WebAssembly kernels are compiled first
 * (scripts/build-wasm.js).
 */
'use strict';
const { execFileSync } = require('child_process');
const { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('fs');
const { dirname, join, resolve } = require('path');

const root = resolve(__dirname, '..');
const dist = join(root, 'dist');

function run(script, ...args) {
  execFileSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });
}

function filesUnder(dir) {
  const out = [];
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop();
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else out.push(path);
    }
  }
  return out;
}

/** `./x` → `./x.js` or `./x/index.js`, whichever file tsc wrote; anything else as it is. */
function withFileName(fromFile, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return specifier;
  if (/\.(js|json)$/.test(specifier)) return specifier;
  const target = resolve(dirname(fromFile), specifier);
  if (existsSync(`${target}.js`)) return `${specifier}.js`;
  if (existsSync(join(target, 'index.js'))) return `${specifier}/index.js`;
  throw new Error(`build: ${fromFile} imports '${specifier}', which the ES module build did not write`);
}

/**
 * Static imports and re-exports (`from '…'`), bare imports (`import '…'`), dynamic `import('…')`, and module
 * augmentations in declarations (`declare module '…'`, how the Tensor and Graph methods get their types).
 */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*|\bdeclare module\s+)(['"])([^'"\n]+)\2/g;

function rewriteEsm(dir) {
  let rewritten = 0;
  for (const file of filesUnder(dir)) {
    if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const next = text.replace(SPECIFIER, (_, lead, quote, specifier) => {
      return `${lead}${quote}${withFileName(file, specifier)}${quote}`;
    });
    if (next !== text) {
      writeFileSync(file, next);
      rewritten++;
    }
  }
  return rewritten;
}

/**
 * The generated module of the wasm kernels is one long base64 string: its declaration file would repeat it (tsc
 * writes a const's literal type). Declare it a string.
 */
function slimGenerated(dir) {
  let saved = 0;
  for (const file of filesUnder(dir)) {
    if (!/\.generated\.d\.ts$/.test(file)) continue;
    const before = statSync(file).size;
    const next = readFileSync(file, 'utf8').replace(/^(export declare const \w+) = "[^"]{200,}";$/gm, '$1: string;');
    writeFileSync(file, next);
    saved += before - Buffer.byteLength(next);
  }
  return saved;
}

function main() {
  const started = Date.now();
  run(join(root, 'scripts', 'build-wasm.js'));
  rmSync(dist, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  run(tsc, '-p', 'tsconfig.build.json');
  run(tsc, '-p', 'tsconfig.esm.json');
  // Bundlers read `sideEffects` from the package.json nearest to a file: these, not the root one. The Tensor and
  // Graph methods are installed by imports for effect (ops/chain, interop/methods); a bundler keeps such an import
  // only if the module holding it is kept, so the modules on the way from the entry are listed too.
  const sideEffects = [
    './core.js',
    './ops/index.js',
    './ops/chain.js',
    './interop/json-entry.js',
    './interop/methods.js',
    './cli/index.js',
  ];
  for (const [format, type] of [
    ['cjs', 'commonjs'],
    ['esm', 'module'],
  ]) {
    writeFileSync(join(dist, format, 'package.json'), `${JSON.stringify({ type, sideEffects }, null, 2)}\n`);
  }
  const files = rewriteEsm(join(dist, 'esm'));
  const saved = slimGenerated(dist);
  const bytes = filesUnder(dist).reduce((sum, file) => sum + statSync(file).size, 0);
  console.log(
    `build: dist/cjs and dist/esm (${files} ES module files given file names; ${(saved / 1e6).toFixed(2)} MB of generated base64 repeats dropped), ${(bytes / 1e6).toFixed(2)} MB, ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

main();
