/**
 * Jitted groups cached per structure. The key is the interpreter program's words (op sequence, register use,
 * input kinds: full, scalar or row with its length, literal bits) plus the target (shared memory, relaxed SIMD);
 * the element count is a parameter of the function, so one module serves every size. A module is compiled once per
 * process and instantiated once per memory that imports it (the kernels keep their instances; helper.ts's worker
 * keeps its own).
 */
import { webAssembly } from '../instance';
import { compileFusedJit, type JitTarget } from './compile';

/** A compiled group: its module and bytes (sent to the helper worker, which compiles its own copy). */
export interface JitModule {
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly module: object;
}

/** How often the cache compiled, was hit, or declined (a group the JIT cannot express, or a module refused). */
export interface JitCacheStats {
  compiled: number;
  hits: number;
  declined: number;
}

// Distinct structures a process sees are few (one per fused group shape of its graphs); the bound keeps a program
// that builds endless new graphs from holding every module.
const MAX_ENTRIES = 1024;
const cache = new Map<string, JitModule | null>();
const stats: JitCacheStats = { compiled: 0, hits: 0, declined: 0 };

/** The cache's structural key of a program for a target. */
export function jitKey(program: Int32Array, target: JitTarget): string {
  return `${target.shared ? 's' : 'u'}${target.maximumPages}${target.relaxed ? 'r' : 'b'}:${program.join(',')}`;
}

/** A snapshot of the cache's counters (for tests and `explain`-style reports). */
export function jitCacheStats(): JitCacheStats {
  return { ...stats };
}

/** Empties the cache (tests use it to observe a compilation). */
export function clearJitCache(): void {
  cache.clear();
}

/**
 * The compiled module of a program, from the cache or compiled (validated with WebAssembly.validate, then
 * compiled synchronously); null when the JIT declines the group or the engine refuses the module (a browser's
 * main thread refuses synchronous compilation of large modules): the interpreter then runs the group.
 */
export function jitModule(program: Int32Array, target: JitTarget): JitModule | null {
  const key = jitKey(program, target);
  const cached = cache.get(key);
  if (cached !== undefined) {
    stats.hits++;
    return cached;
  }
  let entry: JitModule | null = null;
  const api = webAssembly();
  try {
    const bytes = api === undefined ? null : compileFusedJit(program, target);
    if (bytes !== null && api !== undefined && api.validate(bytes)) {
      entry = { key, bytes, module: new api.Module(bytes) };
    }
  } catch {
    entry = null;
  }
  if (entry === null) stats.declined++;
  else stats.compiled++;
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, entry);
  return entry;
}
