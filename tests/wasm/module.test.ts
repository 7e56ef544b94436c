import { execFileSync, spawnSync } from 'child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { decodeBase64 } from '../../src/backend/wasm/base64';
import { WASM_SINGLE_BASE64 } from '../../src/backend/wasm/embedded.generated';
import * as generated from '../../src/backend/wasm/opcodes.generated';
import { ALIGN, WasmBufKernels, loadWasmKernels, loadWasmKernelsAsync, wasmSupported } from '../../src/backend/wasm';
import { Rng } from './helpers';

const root = resolve(__dirname, '../..');

describe('the embedded wasm module', () => {
  test('is up to date with assembly/ (else: npm run build:wasm)', () => {
    expect(() =>
      execFileSync(process.execPath, [resolve(root, 'scripts/build-wasm.js'), '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  test('has the constants of assembly/ (opcodes, activation codes, tiles, limits), as a fresh parse finds them', () => {
    const parsed = new Map<string, number>();
    const declaration = /^export const ([A-Z][A-Z0-9_]*)\s*(?::\s*\w+\s*)?=\s*(-?\d+)\s*;/gm;
    for (const file of readdirSync(resolve(root, 'assembly')).filter((f) => f.endsWith('.ts'))) {
      for (const [, name, value] of readFileSync(resolve(root, 'assembly', file), 'utf8').matchAll(declaration)) {
        parsed.set(name, Number(value));
      }
    }
    const table = generated as unknown as Record<string, number | Record<string, number>>;
    const plain = Object.keys(table).filter((name) => !name.endsWith('_CODES'));
    expect(plain.sort()).toEqual([...parsed.keys()].sort());
    for (const [name, value] of parsed) expect([name, table[name]]).toEqual([name, value]);
    // The by-name families: UN_LOG_SIGMOID is UN_CODES.logSigmoid.
    for (const family of ['ACT', 'BIN', 'UN', 'OP']) {
      const codes = table[`${family}_CODES`] as Record<string, number>;
      const expected = [...parsed]
        .filter(([name]) => name.startsWith(`${family}_`))
        .map(([name, value]) => [
          name
            .slice(family.length + 1)
            .toLowerCase()
            .replace(/_(.)/g, (_, c: string) => c.toUpperCase()),
          value,
        ]);
      expect(Object.entries(codes)).toEqual(expected);
    }
    expect(generated.UN_CODES.exp).toBe(generated.UN_EXP);
  });

  test('--check reports stale constants (a hand edit, a changed assembly/ constant); a build rewrites them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lazygrad-build-wasm-'));
    try {
      cpSync(resolve(root, 'assembly'), join(dir, 'assembly'), { recursive: true });
      mkdirSync(join(dir, 'scripts'));
      copyFileSync(resolve(root, 'scripts/build-wasm.js'), join(dir, 'scripts/build-wasm.js'));
      mkdirSync(join(dir, 'src/backend/wasm'), { recursive: true });
      for (const f of ['embedded.generated.ts', 'opcodes.generated.ts']) {
        copyFileSync(resolve(root, 'src/backend/wasm', f), join(dir, 'src/backend/wasm', f));
      }
      symlinkSync(resolve(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const script = join(dir, 'scripts/build-wasm.js');
      const run = (...args: string[]): number | null =>
        spawnSync(process.execPath, [script, ...args], { stdio: 'pipe' }).status;
      expect(run('--check')).toBe(0);
      const constants = join(dir, 'src/backend/wasm/opcodes.generated.ts');
      const fresh = readFileSync(constants, 'utf8');
      expect(fresh).toContain('export const UN_EXP = 4;');
      writeFileSync(constants, fresh.replace('export const UN_EXP = 4;', 'export const UN_EXP = 5;'));
      expect(run('--check')).toBe(1);
      expect(run()).toBe(0); // the module is fresh: only the constants are rewritten, with no compile
      expect(readFileSync(constants, 'utf8')).toBe(fresh);
      expect(run('--check')).toBe(0);
      const source = join(dir, 'assembly/elementwise.ts');
      writeFileSync(source, readFileSync(source, 'utf8').replace('UN_EXP = 4;', 'UN_EXP = 10;'));
      expect(run('--check')).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('decodes from base64 to the same bytes as Node does', () => {
    expect(Array.from(decodeBase64(WASM_SINGLE_BASE64))).toEqual(Array.from(Buffer.from(WASM_SINGLE_BASE64, 'base64')));
    const rng = new Rng(60);
    for (let n = 0; n < 20; n++) {
      const bytes = Uint8Array.from({ length: n }, () => rng.int(0, 255));
      expect(Array.from(decodeBase64(Buffer.from(bytes).toString('base64')))).toEqual(Array.from(bytes));
    }
    expect(() => decodeBase64('ab$d')).toThrow(/invalid character/);
  });

  test('is supported here (WebAssembly with SIMD)', () => {
    expect(wasmSupported()).toBe(true);
  });

  test('loads asynchronously too, into working kernels', async () => {
    const kernels = new WasmBufKernels(await loadWasmKernelsAsync({ initialBytes: 1 << 20 }));
    const out = { data: new Float32Array(3), shape: [3] };
    kernels.binary(
      'add',
      { data: Float32Array.from([1, 2, 3]), shape: [3] },
      { data: Float32Array.of(1), shape: [] },
      out,
    );
    expect(Array.from(out.data)).toEqual([2, 3, 4]);
  });
});

describe('the wasm arena', () => {
  test('hands out cache-line aligned, disjoint blocks above its base', () => {
    const { arena } = loadWasmKernels({ initialBytes: 1 << 20 });
    const a = arena.alloc(10);
    const b = arena.alloc(0);
    const c = arena.alloc(100);
    expect(a).toBe(arena.base);
    for (const o of [a, b, c]) expect(o % ALIGN).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 10);
    expect(c).toBeGreaterThanOrEqual(b);
    expect(arena.used).toBe(c + 128 - arena.base);
  });

  test('reset frees everything; release frees what came after a mark', () => {
    const { arena } = loadWasmKernels({ initialBytes: 1 << 20 });
    arena.alloc(256);
    const mark = arena.mark();
    const x = arena.alloc(64);
    arena.release(mark);
    expect(arena.alloc(64)).toBe(x);
    arena.reset();
    expect(arena.used).toBe(0);
    expect(() => arena.release(arena.base + (1 << 20))).toThrow(/bad mark/);
  });

  test('views share memory with the kernels, so results need no copy', () => {
    const wasm = loadWasmKernels({ initialBytes: 1 << 20 });
    const x = wasm.arena.alloc(4 * 4);
    wasm.arena.f32(x, 4).set([-1, 2, -3, 4]);
    wasm.unary('relu', x, x, 4);
    expect(Array.from(wasm.arena.f32(x, 4))).toEqual([0, 2, 0, 4]);
    expect(wasm.arena.heapF32[(x >> 2) + 1]).toBe(2);
  });

  test('grows when an allocation does not fit, keeping the data and renewing heapF32', () => {
    const wasm = loadWasmKernels({ initialBytes: 1 << 20, maximumBytes: 64 << 20 });
    const { arena } = wasm;
    const x = arena.alloc(16);
    arena.f32(x, 4).set([1, 2, 3, 4]);
    const before = arena.heapF32;
    expect(arena.generation).toBe(0);
    const big = arena.alloc(3 << 20);
    expect(arena.generation).toBe(1);
    expect(arena.capacity).toBeGreaterThanOrEqual(big + (3 << 20));
    expect(before.length).toBe(0); // detached: the reason growth should be rare
    expect(Array.from(arena.heapF32.subarray(x >> 2, (x >> 2) + 4))).toEqual([1, 2, 3, 4]);
    expect(() => arena.alloc(128 << 20)).toThrow(/maximum/);
  });

  test('instances do not share memory', () => {
    const one = loadWasmKernels({ initialBytes: 1 << 20 });
    const two = loadWasmKernels({ initialBytes: 1 << 20 });
    expect(one.arena.memory).not.toBe(two.arena.memory);
  });
});
