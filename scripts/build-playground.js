/* global process, console, Buffer */
/**
 * Builds the playground (playground/) into a self-contained static site: index.html and assets/ (the page's
 * script, with lazygrad bundled from its browser-safe core entry src/core.ts, which the sources import, wasm
 * kernels embedded; Graphviz's wasm (@viz-js/viz) split into a chunk of its own that the page imports
 * dynamically; the stylesheet and the digits). No network access at run time. `--serve [port]` then serves it on 127.0.0.1 with the
 * cross-origin-isolation headers that let a Session use two threads (docs/browser.md).
 *
 *   node scripts/build-playground.js [--out dir] [--serve [port]]
 */
'use strict';
const { build, buildSync } = require('esbuild');
const {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  existsSync,
  rmSync,
  statSync,
  writeFileSync,
} = require('fs');
const { createServer } = require('http');
const { extname, join, resolve, sep } = require('path');

const root = resolve(__dirname, '..');

/** The train tab reuses the CLI's model (src/cli/model.ts), which imports `..`: the core entry is all it needs. */
const coreForCli = {
  name: 'core-for-cli',
  setup(build) {
    build.onResolve({ filter: /^\.\.$/ }, (args) =>
      args.importer.startsWith(join(root, 'src/cli') + sep) ? { path: join(root, 'src/core.ts') } : undefined,
    );
  },
};

/** How many of the CLI's training and test digits the page gets (playground/src/train.ts reads the same). */
const TRAIN_DIGITS = 2000;
const TEST_DIGITS = 500;

/**
 * assets/digits.bin: the first digits of the CLI's split (src/cli/mnist.ts, compiled here with esbuild), labels as
 * bytes, then pixels as bytes.
 */
function writeDigits(file) {
  const compiled = buildSync({
    entryPoints: [join(root, 'src/cli/mnist.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'warning',
  });
  const mnistModule = { exports: {} };
  new Function('module', 'exports', 'require', compiled.outputFiles[0].text)(mnistModule, mnistModule.exports, require);
  const { train, test } = mnistModule.exports.loadMnist(require, TRAIN_DIGITS, TEST_DIGITS);
  const total = TRAIN_DIGITS + TEST_DIGITS;
  const bytes = Buffer.alloc(total * 785);
  [...train.labels, ...test.labels].forEach((label, i) => (bytes[i] = label));
  [train.images, test.images].forEach((images, k) => {
    const offset = total + k * TRAIN_DIGITS * 784;
    for (let i = 0; i < images.length; i++) bytes[offset + i] = Math.round(images[i] * 255);
  });
  writeFileSync(file, bytes);
}

/** Writes the site to `out` (its assets/ anew); resolves with the paths it wrote. */
async function buildPlayground(out = join(root, 'playground/dist')) {
  rmSync(join(out, 'assets'), { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  await build({
    entryPoints: { playground: join(root, 'playground/src/main.ts') },
    outdir: join(out, 'assets'),
    // The dynamic import('@viz-js/viz') becomes a chunk of its own: the page shows values before Graphviz loads.
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
    plugins: [coreForCli],
  });
  writeDigits(join(out, 'assets/digits.bin'));
  copyFileSync(join(root, 'playground/index.html'), join(out, 'index.html'));
  copyFileSync(join(root, 'playground/playground.css'), join(out, 'assets/playground.css'));
  return ['index.html', ...readdirSync(join(out, 'assets')).map((file) => `assets/${file}`)].map((file) =>
    join(out, file),
  );
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
};

/** Serves `folder` on 127.0.0.1:`port` with COOP/COEP, so the page is cross-origin isolated. */
function servePlayground(folder, port) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    let file = resolve(folder, '.' + (path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(resolve(folder) + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res
      .writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cache-Control': 'no-store',
      })
      .end(readFileSync(file));
  });
  server.listen(port, '127.0.0.1', () =>
    console.log(`lazygrad playground: http://127.0.0.1:${server.address().port}/`),
  );
  return server;
}

module.exports = { buildPlayground, servePlayground };

async function main() {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? resolve(args[outAt + 1]) : join(root, 'playground/dist');
  const started = Date.now();
  await buildPlayground(out);
  console.log(`playground built into ${out} (${Date.now() - started} ms)`);
  const serveAt = args.indexOf('--serve');
  if (serveAt >= 0) {
    const port = Number(args[serveAt + 1] ?? 8019);
    servePlayground(out, Number.isInteger(port) ? port : 8019);
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
