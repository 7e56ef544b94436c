/**
 * `import { Graph, Session, gradients } from 'lazygrad'` bundles with esbuild, Rollup and webpack in their default
 * configurations, and each bundle runs the seed example (e = (a+b)(b+1) at (2, 1): 6, 2, 5) on the wasm backend.
 * The package is its ESM build where `npm run build` made one, else the stand-in of standin.ts. The minified
 * esbuild bundle, wasm included, stays within 600 KB.
 */
import { execFileSync } from 'child_process';
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import webpack from 'webpack';
import { writeStandIn } from './standin';

const ENTRY = `import { Graph, Session, gradients } from 'lazygrad';
const g = new Graph();
const a = g.placeholder('a');
const b = g.placeholder('b');
const e = a.add(b).mul(b.add(1));
const [da, db] = gradients(e, [a, b]);
const sess = new Session(g);
const values = sess.run([e, da, db], { a: 2, b: 1 }).map((x) => x.get());
console.log(JSON.stringify({ values, backend: sess.backend }));
`;

const LIMIT = 600 * 1024;

let dir: string;
const sizes: Record<string, number | string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lazygrad-bundlers-'));
  sizes.package = await writeStandIn(join(dir, 'node_modules'));
  writeFileSync(join(dir, 'entry.js'), ENTRY);
}, 60000);

afterAll(() => {
  // The figures for docs/browser.md; printed only when asked.
  if (process.env.LAZYGRAD_BROWSER_REPORT) console.log(JSON.stringify(sizes));
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a bundle in Node and returns what the seed example printed. */
function runBundle(file: string): { values: number[]; backend: string } | string {
  try {
    const output = execFileSync(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    return JSON.parse(output.trim().split('\n').pop() ?? '{}') as { values: number[]; backend: string };
  } catch (error) {
    // A minified bundle's failing line is the whole bundle: keep the message.
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error);
    return stderr
      .split('\n')
      .filter((line) => line.length < 300)
      .join('\n');
  }
}

describe('bundling the core with each bundler, no flags', () => {
  test('esbuild: the minified bundle (wasm included) is within 600 KB and runs the seed example', async () => {
    const out = join(dir, 'esbuild.mjs');
    await build({
      entryPoints: [join(dir, 'entry.js')],
      bundle: true,
      minify: true,
      format: 'esm',
      outfile: out,
      logLevel: 'silent',
    });
    sizes.esbuild = statSync(out).size;
    expect(statSync(out).size).toBeLessThanOrEqual(LIMIT);
    expect(runBundle(out)).toEqual({ values: [6, 2, 5], backend: 'wasm' });
  }, 60000);

  test('Rollup (with node-resolve, as Vite has it): the bundle runs the seed example', async () => {
    const bundle = await rollup({ input: join(dir, 'entry.js'), plugins: [nodeResolve()], onwarn: () => undefined });
    const out = join(dir, 'rollup.mjs');
    await bundle.write({ file: out, format: 'es' });
    await bundle.close();
    sizes.rollupUnminified = statSync(out).size;
    expect(runBundle(out)).toEqual({ values: [6, 2, 5], backend: 'wasm' });
  }, 60000);

  test('webpack (production mode): the bundle runs the seed example', async () => {
    const stats = await new Promise<webpack.Stats>((resolve, reject) =>
      webpack(
        { mode: 'production', context: dir, entry: './entry.js', output: { path: dir, filename: 'webpack.js' } },
        (error, result) => (error || result === undefined ? reject(error) : resolve(result)),
      ),
    );
    expect(stats.compilation.errors.map((e) => e.message)).toEqual([]);
    const out = join(dir, 'webpack.js');
    sizes.webpack = statSync(out).size;
    expect(statSync(out).size).toBeLessThanOrEqual(LIMIT);
    expect(readFileSync(out, 'utf8')).not.toMatch(/require\("(fs|path|url|worker_threads)"\)/);
    expect(runBundle(out)).toEqual({ values: [6, 2, 5], backend: 'wasm' });
  }, 90000);
});
