/**
 * The Node.js APIs the CLI uses, looked up at run time with `process.getBuiltinModule` (Node.js 20.16+). The
 * package is compiled without Node's types and its output must not `require` Node modules (the core also runs in
 * browsers), so the few functions the CLI needs are declared here.
 */

export interface NodeFs {
  existsSync(path: string): boolean;
  mkdirSync(path: string, options: { recursive: boolean }): unknown;
  readFileSync(path: string): Uint8Array;
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, data: string | Uint8Array): void;
}

export interface NodePath {
  join(...parts: string[]): string;
  resolve(...parts: string[]): string;
  dirname(path: string): string;
  relative(from: string, to: string): string;
}

export interface SpawnResult {
  readonly status: number | null;
  readonly error?: Error;
}

export interface NodeChildProcess {
  spawnSync(
    command: string,
    args: readonly string[],
    options: { cwd: string; stdio: 'inherit'; shell: boolean },
  ): SpawnResult;
}

export interface OutputStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface NodeProcess {
  readonly argv: readonly string[];
  readonly platform: string;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly version: string;
  exitCode?: number | string;
  cwd(): string;
  getBuiltinModule?(id: string): unknown;
}

/** What the CLI reaches in Node.js. */
export interface NodeApi {
  readonly process: NodeProcess;
  readonly fs: NodeFs;
  readonly path: NodePath;
  readonly childProcess: NodeChildProcess;
  /** `require` relative to this file, for CommonJS packages such as `mnist`. */
  readonly require: (id: string) => unknown;
  /** High-resolution time in milliseconds. */
  now(): number;
}

/** Set by Node.js's CommonJS wrapper; the CLI is compiled to CommonJS. */
declare const __filename: string;

let api: NodeApi | undefined;

/** The Node.js APIs, or an error naming the Node.js version needed. */
export function nodeApi(): NodeApi {
  if (api !== undefined) return api;
  const process = (globalThis as { process?: NodeProcess }).process;
  if (process === undefined || typeof process.getBuiltinModule !== 'function') {
    throw new Error(`lazygrad's command line needs Node.js 20.16 or later (found ${process?.version ?? 'no Node.js'})`);
  }
  const builtin = <T>(id: string): T => (process.getBuiltinModule as (id: string) => T)(id);
  const module = builtin<{ createRequire(path: string): (id: string) => unknown }>('node:module');
  const performance = builtin<{ performance: { now(): number } }>('node:perf_hooks').performance;
  api = {
    process,
    fs: builtin<NodeFs>('node:fs'),
    path: builtin<NodePath>('node:path'),
    childProcess: builtin<NodeChildProcess>('node:child_process'),
    require: module.createRequire(__filename),
    now: () => performance.now(),
  };
  return api;
}
