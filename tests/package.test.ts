import { execFileSync } from 'child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { builtinModules } from 'module';
import { tmpdir } from 'os';
import { join, resolve } from 'path';

const root = resolve(__dirname, '..');

/** Builds the package into a temporary node_modules/lazygrad and loads it the way users do. */
describe('the built package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lazygrad-pkg-'));
  const pkg = join(dir, 'node_modules', 'lazygrad');

  beforeAll(() => {
    mkdirSync(pkg, { recursive: true });
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')],
      {
        cwd: root,
      },
    );
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const script = `
    const g = new lg.Graph();
    const x = g.placeholder('x', [null, 3]);
    const w = g.variable('w', lg.NDArray.from([[1], [2], [3]]));
    const y = lg.relu(lg.add(lg.matMul(x, w), 1));
    const [dw] = lg.gradients(lg.sum(y), [w]);
    const r = new lg.Session(g).run([y, dw], { x: [[1, 2, 3]] });
    console.log(JSON.stringify(r.map((a) => a.toArray())));`;
  const expected = JSON.stringify([[[15]], [[1], [2], [3]]]);

  test("require('lazygrad') works", () => {
    writeFileSync(join(dir, 'cjs.cjs'), `const lg = require('lazygrad');${script}`);
    expect(
      execFileSync(process.execPath, [join(dir, 'cjs.cjs')], { cwd: dir })
        .toString()
        .trim(),
    ).toBe(expected);
  });

  test("import('lazygrad') works", () => {
    writeFileSync(join(dir, 'esm.mjs'), `const lg = await import('lazygrad');${script}`);
    expect(
      execFileSync(process.execPath, [join(dir, 'esm.mjs')], { cwd: dir })
        .toString()
        .trim(),
    ).toBe(expected);
  });

  test('the core requires no Node built-in module (only the CLI entry may)', () => {
    // Every require in dist outside dist/cli, whatever its quotes: relative files, or npm packages loaded lazily
    // (Graphviz, the ONNX schema); never a Node built-in such as fs, path or worker_threads.
    const output = execFileSync('grep', [
      '-rhoE',
      '--exclude-dir=cli',
      'require\\([\'"][^\'"]+[\'"]\\)',
      join(pkg, 'dist'),
    ])
      .toString()
      .split('\n')
      .filter(Boolean);
    const specifiers = new Set(output.map((m) => m.slice(9, -2)));
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect(specifiers.size).toBeGreaterThan(0);
    for (const spec of specifiers) expect(builtins.has(spec)).toBe(false);
    expect(readFileSync(join(pkg, 'dist', 'index.d.ts'), 'utf8')).toContain('export');
  });
});
