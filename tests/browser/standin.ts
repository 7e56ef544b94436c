/**
 * The package as a bundler sees it. Where the package's own ESM build exists (dist/esm/core.js, made by `npm run
 * build`, which CI runs before the tests) it is the real package: its package.json and dist/. Otherwise a stand-in
 * with the same shape: an ESM build with a `lazygrad` main entry that holds the core (no ONNX, no SVG) and declares
 * its side-effect modules, made from src/ by esbuild's per-file transform (no bundling), with src/core.ts as the
 * entry where it exists, else src/index.ts without its interop re-exports.
 */
import { transform } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

const root = resolve(__dirname, '../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  }
  return out;
}

/**
 * Puts the package into `nodeModules`/lazygrad: the real build where dist/esm exists, else the stand-in. Returns
 * which it is.
 */
export async function writeStandIn(nodeModules: string): Promise<'dist' | 'stand-in'> {
  const pkg = join(nodeModules, 'lazygrad');
  if (existsSync(join(root, 'dist', 'esm', 'core.js'))) {
    mkdirSync(pkg, { recursive: true });
    copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(root, 'dist'), join(pkg, 'dist'), 'dir');
    return 'dist';
  }
  const src = join(root, 'src');
  await Promise.all(
    sources(src).map(async (file) => {
      const { code } = await transform(readFileSync(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'es2022' });
      const out = join(pkg, relative(src, file).replace(/\.ts$/, '.js'));
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, code);
    }),
  );
  if (!existsSync(join(src, 'core.ts'))) {
    const index = readFileSync(join(pkg, 'index.js'), 'utf8');
    writeFileSync(join(pkg, 'core.js'), index.replace(/^export \* from "\.\/interop[^"]*";\n/gm, ''));
  }
  const manifest = {
    name: 'lazygrad',
    version: '0.0.0-standin',
    module: './core.js',
    main: './core.js',
    exports: { '.': './core.js' },
    // The modules that install Tensor methods, and every module on the import path from the entry to them: a
    // bundler drops a side-effect-free importer together with its imports, so listing ops/chain.js alone loses the
    // methods when only `Graph` and `Session` are imported (esbuild, Rollup and webpack alike).
    sideEffects: ['./core.js', './ops/index.js', './ops/chain.js', './interop/methods.js'],
  };
  writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest, null, 2));
  return 'stand-in';
}
