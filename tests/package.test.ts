import { execFileSync } from 'child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
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

  test('the core imports no Node-only module', () => {
    const output = execFileSync('grep', ['-rhoE', 'require\\("[^"]+"\\)', join(pkg, 'dist')]).toString();
    const modules = new Set(output.split('\n').filter(Boolean));
    for (const m of modules) expect(m).toMatch(/require\("\.\.?\//);
    expect(readFileSync(join(pkg, 'dist', 'index.d.ts'), 'utf8')).toContain('export');
  });
});
