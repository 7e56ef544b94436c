/* global process, console */
/**
 * Builds the playground (playground/) into a self-contained static site: index.html and assets/ (the page's
 * script, with lazygrad bundled from its browser-safe core entry src/core.ts, which the sources import, wasm
 * kernels embedded; and the stylesheet). No network access at run time. `--serve [port]` then serves it on 127.0.0.1 with the
 * cross-origin-isolation headers that let a Session use two threads (docs/browser.md).
 *
 *   node scripts/build-playground.js [--out dir] [--serve [port]]
 */
'use strict';
const { buildSync } = require('esbuild');
const { copyFileSync, mkdirSync, readFileSync, existsSync, statSync } = require('fs');
const { createServer } = require('http');
const { extname, join, resolve, sep } = require('path');

const root = resolve(__dirname, '..');

/** Writes the site to `out` and returns the paths it wrote. */
function buildPlayground(out = join(root, 'playground/dist')) {
  mkdirSync(join(out, 'assets'), { recursive: true });
  buildSync({
    entryPoints: [join(root, 'playground/src/main.ts')],
    outfile: join(out, 'assets/playground.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'playground/index.html'), join(out, 'index.html'));
  copyFileSync(join(root, 'playground/playground.css'), join(out, 'assets/playground.css'));
  return ['index.html', 'assets/playground.js', 'assets/playground.css'].map((file) => join(out, file));
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

if (require.main === module) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? resolve(args[outAt + 1]) : join(root, 'playground/dist');
  const started = Date.now();
  buildPlayground(out);
  console.log(`playground built into ${out} (${Date.now() - started} ms)`);
  const serveAt = args.indexOf('--serve');
  if (serveAt >= 0) {
    const port = Number(args[serveAt + 1] ?? 8019);
    servePlayground(out, Number.isInteger(port) ? port : 8019);
  }
}
