/** What the package test needs around npm: a fresh build, an environment free of the parent npm's settings, sizes. */
import { execFileSync } from 'child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';

/** Every file under a folder, iteratively (symbolic links not followed). */
function filesUnder(folder: string): string[] {
  const files: string[] = [];
  const stack = [folder];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.isFile()) files.push(path);
    }
  }
  return files;
}

/** The bytes of the files under a folder (what npm calls the unpacked size; disk blocks not counted). */
export function folderBytes(folder: string): number {
  return filesUnder(folder).reduce((sum, file) => sum + statSync(file).size, 0);
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * The environment for npm and node in the temporary folders: without the npm_* variables `npm test` sets (such as
 * npm_config_local_prefix, which points at the repository), so the nested npm acts on the folder it runs in.
 */
export function packageEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  return env;
}

/** Newest modification time of the build's inputs: the sources, the build scripts and their configuration. */
function newestInput(root: string): number {
  const inputs = [
    ...filesUnder(join(root, 'src')),
    ...filesUnder(join(root, 'assembly')),
    join(root, 'scripts', 'build.js'),
    join(root, 'scripts', 'build-wasm.js'),
    join(root, 'tsconfig.json'),
    join(root, 'tsconfig.build.json'),
    join(root, 'tsconfig.esm.json'),
    join(root, 'package.json'),
  ];
  return Math.max(...inputs.filter((file) => existsSync(file)).map((file) => statSync(file).mtimeMs));
}

/**
 * Runs `npm run build` unless dist/ is newer than every input (as after .ci/run's build step), so the test checks
 * what the sources build today without paying for a second build in CI.
 */
export function ensureBuilt(root: string): void {
  const stamp = join(root, 'dist', 'esm', 'package.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs > newestInput(root)) return;
  execFileSync(process.execPath, [join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'pipe' });
}
