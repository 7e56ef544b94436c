/**
 * Which kernel module a runtime gets, and the shared-memory variants derived from the embedded ones. The `shared`
 * builds differ from the `single` builds only in their memory import (shared, with a maximum): scripts/build-wasm.js
 * checks that byte for byte at every build, so only the two `single` builds are embedded and the shared ones are
 * made here, halving what every bundle carries.
 */

/** `single` imports an ordinary memory, `shared` a SharedArrayBuffer-backed one; `-relaxed`: relaxed SIMD (FMA). */
export type ModuleKind = 'single' | 'shared' | 'single-relaxed' | 'shared-relaxed';

/** The maximum, in 64 KiB pages, that the shared memory import declares (assembly/asconfig.json maximumMemory). */
export const SHARED_MAXIMUM_PAGES = 65536;

const IMPORT_SECTION = 2;
const MEMORY_IMPORT = 2;

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length) throw new Error('wasm module: truncated LEB128');
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, at];
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/**
 * The module with its one imported memory made shared (limits flag 3, the given maximum). Throws for a module
 * whose imports are anything but memories, or with no import section: the kernels import exactly one memory.
 */
export function withSharedMemory(bytes: Uint8Array, maximumPages = SHARED_MAXIMUM_PAGES): Uint8Array {
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, body] = readLeb(bytes, at + 1);
    const end = body + size;
    if (id !== IMPORT_SECTION) {
      at = end;
      continue;
    }
    const [count, first] = readLeb(bytes, body);
    const section: number[] = leb(count);
    let p = first;
    for (let i = 0; i < count; i++) {
      const start = p;
      for (let name = 0; name < 2; name++) {
        const [length, text] = readLeb(bytes, p);
        p = text + length;
      }
      if (bytes[p] !== MEMORY_IMPORT) throw new Error('wasm module: an import other than a memory');
      section.push(...bytes.subarray(start, p + 1));
      const flags = bytes[p + 1];
      const [minimum, afterMinimum] = readLeb(bytes, p + 2);
      p = afterMinimum;
      if (flags & 1) p = readLeb(bytes, p)[1];
      section.push(3, ...leb(minimum), ...leb(maximumPages));
    }
    if (p !== end) throw new Error('wasm module: malformed import section');
    const head = [IMPORT_SECTION, ...leb(section.length)];
    const out = new Uint8Array(at + head.length + section.length + (bytes.length - end));
    out.set(bytes.subarray(0, at), 0);
    out.set(head, at);
    out.set(section, at + head.length);
    out.set(bytes.subarray(end), at + head.length + section.length);
    return out;
  }
  throw new Error('wasm module: no import section');
}

/** What the runtime offers, as the choice below needs it; tests inject their own. */
export interface WasmFeatures {
  /** Whether the engine validates the module of this kind (SIMD128; relaxed SIMD for `-relaxed`). */
  validates(kind: ModuleKind): boolean;
  /** Whether shared memories can be created (a browser needs cross-origin isolation). */
  sharedMemory: boolean;
}

/**
 * The module a runtime gets: shared memory only when two threads are asked for, a worker can be started and shared
 * memories can be created; relaxed SIMD (fused multiply-add) where the engine validates it unless `simd` says
 * otherwise, SIMD128 as the fallback. `shared` in the result says whether a helper thread can run.
 */
export function chooseModuleKind(
  features: WasmFeatures,
  wantShared: boolean,
  simd: 'auto' | 'relaxed' | 'baseline' = 'auto',
): ModuleKind {
  const memory = wantShared && features.sharedMemory ? 'shared' : 'single';
  const relaxed = simd === 'relaxed' || (simd === 'auto' && features.validates(`${memory}-relaxed`));
  return relaxed ? `${memory}-relaxed` : memory;
}
