import { chooseModuleKind, withSharedMemory, type ModuleKind } from '../../src/backend/wasm';
import { compileSync, createMemory, instantiate } from '../../src/backend/wasm/instance';
import { WASM_SINGLE_BASE64 } from '../../src/backend/wasm/embedded.generated';

// scripts/build-wasm.js is plain CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkShared } = require('../../scripts/build-wasm.js') as {
  checkShared(single: Uint8Array, shared: Uint8Array, name: string): void;
};

/** A validator that accepts only the given kinds (a runtime with or without relaxed SIMD). */
function features(valid: ModuleKind[], sharedMemory: boolean) {
  return { validates: (kind: ModuleKind) => valid.includes(kind), sharedMemory };
}

const ALL: ModuleKind[] = ['single', 'shared', 'single-relaxed', 'shared-relaxed'];
const BASELINE: ModuleKind[] = ['single', 'shared'];

describe('choosing the kernel module', () => {
  test('relaxed SIMD (fused multiply-add) is the default where the runtime validates it', () => {
    expect(chooseModuleKind(features(ALL, true), false)).toBe('single-relaxed');
    expect(chooseModuleKind(features(ALL, true), true)).toBe('shared-relaxed');
  });

  test('SIMD128 is the fallback where relaxed SIMD does not validate (Node 20, Safari)', () => {
    expect(chooseModuleKind(features(BASELINE, true), false)).toBe('single');
    expect(chooseModuleKind(features(BASELINE, true), true)).toBe('shared');
  });

  test('shared memory only when two threads are asked for and shared memories can be made', () => {
    expect(chooseModuleKind(features(ALL, false), true)).toBe('single-relaxed');
    expect(chooseModuleKind(features(BASELINE, false), true)).toBe('single');
  });

  test("'baseline' opts out of relaxed SIMD, 'relaxed' asks for it regardless", () => {
    expect(chooseModuleKind(features(ALL, true), true, 'baseline')).toBe('shared');
    expect(chooseModuleKind(features(BASELINE, true), false, 'relaxed')).toBe('single-relaxed');
  });

  test('the validator is asked about the memory kind that will be used', () => {
    const asked: ModuleKind[] = [];
    chooseModuleKind({ validates: (kind) => (asked.push(kind), false), sharedMemory: false }, true);
    expect(asked).toEqual(['single-relaxed']);
  });
});

describe('the shared-memory modules derived from the embedded ones', () => {
  const single = Buffer.from(WASM_SINGLE_BASE64, 'base64');

  test('differ from the single-memory module only in the memory import (shared, maximum 65536 pages)', () => {
    const shared = withSharedMemory(single);
    expect(shared.length).toBe(single.length + 3);
    expect(() => checkShared(single, shared, 'shared')).not.toThrow();
    // The import section: env.memory, flags 3 (shared, with a maximum), minimum 1, maximum 65536 (LEB128).
    const at = Buffer.from(shared).indexOf(Buffer.from('memory')) + 'memory'.length;
    expect(Array.from(shared.subarray(at, at + 6))).toEqual([2, 3, 1, 0x80, 0x80, 4]);
  });

  test('instantiate over a shared memory, and only over one', () => {
    const module = compileSync('shared');
    expect(instantiate(module, createMemory(2, 100, true)).matmul).toBeInstanceOf(Function);
    expect(() => instantiate(module, createMemory(2, 100, false))).toThrow();
  });

  test('the build refuses a shared build that differs elsewhere', () => {
    const shared = withSharedMemory(single);
    shared[shared.length - 1] ^= 1;
    expect(() => checkShared(single, shared, 'shared')).toThrow(/differs from its single-memory build/);
  });

  test('a module importing anything but memory is refused', () => {
    // magic, version, import section: one import "m"."f" of a function (kind 0, type 0).
    const bytes = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2, 7, 1, 1, 0x6d, 1, 0x66, 0, 0]);
    expect(() => withSharedMemory(bytes)).toThrow(/other than a memory/);
    expect(() => withSharedMemory(bytes.subarray(0, 8))).toThrow(/no import section/);
  });
});
