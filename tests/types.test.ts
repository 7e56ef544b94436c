/**
 * The public types as a user meets them: the examples in tests/types/examples import 'lazygrad' and are checked by
 * tsc against the package's declarations (as an installed package is), under `strict` and under `strict` with
 * `noUncheckedIndexedAccess`. Their `// @ts-expect-error` lines prove the types are tight: an unused one fails.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';

const root = resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
const examples = join(root, 'tests', 'types', 'examples');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lazygrad-types-'));
  // The declarations an installed package ships (dist/*.d.ts), built from src.
  const build = spawnSync(
    process.execPath,
    [tsc, '-p', join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', join(dir, 'lazygrad')],
    { encoding: 'utf8' },
  );
  expect(build.stdout + build.stderr).toBe('');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(name: string, options: { readonly [flag: string]: boolean }): string {
  const config = join(dir, `tsconfig.${name}.json`);
  const compilerOptions = {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    module: 'commonjs',
    moduleResolution: 'node',
    lib: ['ES2022'],
    types: [],
    skipLibCheck: true,
    paths: { lazygrad: [join(dir, 'lazygrad', 'index.d.ts')] },
    ...options,
  };
  const files = readdirSync(examples).map((file) => join(examples, file));
  writeFileSync(config, JSON.stringify({ compilerOptions, files }));
  const result = spawnSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8' });
  return (result.stdout + result.stderr).replaceAll(root, '.');
}

describe('the public types, as a user compiles them', () => {
  test('the examples type-check under strict', () => {
    expect(check('strict', {})).toBe('');
  }, 60_000);

  test('the examples type-check under strict with noUncheckedIndexedAccess', () => {
    expect(check('unchecked', { noUncheckedIndexedAccess: true })).toBe('');
  }, 60_000);
});
