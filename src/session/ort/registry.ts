/**
 * Where the 'onnxruntime' backend's runner is found. The runner (the split, the ONNX exporter, the segment runner:
 * ~80 KB minified) is not part of the core entry: `lazygrad/onnxruntime` registers it when imported, so a bundle
 * of `lazygrad` alone stays one file without it, in every bundler's default configuration (no dynamic import for
 * it to split or inline).
 */
import { SessionError } from '../../graph';
import type { OrtBackend } from './backend';

/** What `lazygrad/onnxruntime` registers: the runner's class. */
export interface OrtRunnerModule {
  readonly OrtBackend: typeof OrtBackend;
}

let registered: OrtRunnerModule | null = null;

/** Called by `lazygrad/onnxruntime` (src/onnxruntime.ts) on import; idempotent. */
export function registerOnnxRuntimeBackend(runner: OrtRunnerModule): void {
  registered = runner;
}

/** The registered runner, or a SessionError saying which entry to import. */
export function ortRunner(): OrtRunnerModule {
  if (registered !== null) return registered;
  throw new SessionError(
    "Session: backend 'onnxruntime' lives in the entry 'lazygrad/onnxruntime' (the runner and the ONNX exporter, " +
      "kept out of the core): add import 'lazygrad/onnxruntime'; once, before making the session (and install " +
      "onnxruntime-node in Node.js or onnxruntime-web in browsers); or use backend: 'wasm' or 'js'",
  );
}
