/**
 * The ONNX Runtime module the 'onnxruntime' backend runs plans with: the part of its JavaScript API it uses (the same
 * in onnxruntime-node and onnxruntime-web), and its loading. Nothing here imports it statically: the package is an
 * optional peer dependency, imported at a session's first run by a specifier bundlers leave alone, or passed in.
 */
import { SessionError } from '../../graph';

/** An ONNX Runtime tensor, as the backend reads and makes them. */
export interface OrtTensor {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** An ONNX Runtime InferenceSession, as the backend uses it. */
export interface OrtInferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: { [name: string]: OrtTensor }): Promise<{ [name: string]: OrtTensor }>;
  release(): Promise<void>;
}

/** What the backend needs of the `onnxruntime-node` / `onnxruntime-web` module. */
export interface OnnxRuntimeModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: object): Promise<OrtInferenceSession>;
  };
  readonly Tensor: new (type: string, data: ArrayLike<number>, dims: readonly number[]) => OrtTensor;
}

/** SessionOptions.onnxruntime: the module, or a function loading it (sync or async). */
export type OnnxRuntimeOption = OnnxRuntimeModule | (() => OnnxRuntimeModule | Promise<OnnxRuntimeModule>);

/** Imports a package by name at run time (replaceable in tests). */
export type PackageImporter = (name: string) => Promise<unknown>;

/** Whether this is Node.js (then onnxruntime-node; else onnxruntime-web). */
export function runningInNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof process?.versions?.node === 'string';
}

/**
 * The dynamic import, with a specifier held in a variable: bundlers neither resolve nor bundle it (onnxruntime-node
 * is a native addon; a browser app passes onnxruntime-web as SessionOptions.onnxruntime, or maps the name with an
 * import map: tests/browser/onnxruntime-web.test.ts runs both).
 */
const importPackage: PackageImporter = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ name);

function isModule(value: unknown): value is OnnxRuntimeModule {
  const m = value as { InferenceSession?: { create?: unknown }; Tensor?: unknown } | null;
  return typeof m?.InferenceSession?.create === 'function' && typeof m?.Tensor === 'function';
}

/** A namespace object of an ES import of a CommonJS module has the exports as `default` too. */
function unwrap(value: unknown): unknown {
  if (isModule(value)) return value;
  const inner = (value as { default?: unknown } | null)?.default;
  return isModule(inner) ? inner : value;
}

function isMissing(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as { message?: unknown } | null)?.message);
  return (
    code === 'MODULE_NOT_FOUND' ||
    code === 'ERR_MODULE_NOT_FOUND' ||
    (message.includes(name) && /cannot find|not found|failed to resolve/i.test(message))
  );
}

function missingMessage(name: string): string {
  const how =
    name === 'onnxruntime-node'
      ? "or pass the module: new Session(g, { backend: 'onnxruntime', onnxruntime: require('onnxruntime-node') })"
      : "and pass the module: import * as ort from 'onnxruntime-web'; " +
        "new Session(g, { backend: 'onnxruntime', onnxruntime: ort }) (or map the name 'onnxruntime-web' to its " +
        'dist/ort.min.mjs with an import map)';
  return (
    `Session: backend 'onnxruntime' needs the '${name}' package (an optional peer dependency of lazygrad), ` +
    `which could not be loaded: npm install ${name}, ${how}`
  );
}

/**
 * Loads ONNX Runtime: the module given in the options (or what the given function returns), else the package of
 * the platform (onnxruntime-node in Node.js, onnxruntime-web elsewhere). A package that is missing is a SessionError
 * naming it and the install command; anything else that is not the module is a SessionError saying what it got.
 */
export async function loadOnnxRuntime(
  option: OnnxRuntimeOption | undefined,
  importer: PackageImporter = importPackage,
): Promise<OnnxRuntimeModule> {
  const name = runningInNode() ? 'onnxruntime-node' : 'onnxruntime-web';
  let loaded: unknown;
  try {
    if (option === undefined) loaded = await importer(name);
    else loaded = typeof option === 'function' ? await option() : option;
  } catch (error) {
    const where = option === undefined ? `importing '${name}'` : 'the onnxruntime loader given in the options';
    const wrapped = isMissing(error, name)
      ? new SessionError(missingMessage(name))
      : new SessionError(
          `Session: backend 'onnxruntime' could not load ONNX Runtime: ${where} threw: ${(error as Error)?.message}`,
        );
    Object.defineProperty(wrapped, 'cause', { value: error, configurable: true, writable: true });
    throw wrapped;
  }
  const module = unwrap(loaded);
  if (!isModule(module)) {
    throw new SessionError(
      `Session: backend 'onnxruntime': the ONNX Runtime module has no InferenceSession.create or Tensor ` +
        `(got ${typeof loaded}); pass the module of onnxruntime-node or onnxruntime-web`,
    );
  }
  return module;
}
