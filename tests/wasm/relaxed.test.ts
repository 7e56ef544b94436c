import { execFileSync } from 'child_process';
import { resolve } from 'path';
import { loadWasmKernels, wasmSupported } from '../../src/backend/wasm';

const root = resolve(__dirname, '../..');

interface Report {
  variants: string[];
  matMulWorst: number;
  expUlps: number;
  tanhUlps: number;
  tanhFastUlps: number;
  sigmoidUlps: number;
  logUlps: number;
  threadsIdentical: boolean;
}

describe('the relaxed-SIMD (fused multiply-add) builds', () => {
  test("are picked by default exactly where the engine validates them, and 'baseline' opts out", () => {
    const relaxed = wasmSupported('single-relaxed');
    expect(loadWasmKernels({ initialBytes: 1 << 20 }).variant).toBe(relaxed ? 'single-relaxed' : 'single');
    expect(loadWasmKernels({ initialBytes: 1 << 20, simd: 'baseline' }).variant).toBe('single');
    if (!relaxed) expect(() => loadWasmKernels({ simd: 'relaxed' })).toThrow(/cannot run/);
  });

  // Node 20 keeps relaxed SIMD behind a flag: the checks run in a child Node that has it (later Nodes need none).
  test('keep matMul within the float32 error bound, the transcendentals within their ulps, threads bit-identical', () => {
    const flags = wasmSupported('single-relaxed') ? [] : ['--experimental-wasm-relaxed-simd'];
    const args = [...flags, '-r', 'ts-node/register/transpile-only', 'tests/wasm/relaxed-child.ts'];
    const output = execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    const report = JSON.parse(output.trim().split('\n').pop() ?? '{}') as Report;
    expect(report.variants).toEqual(['single-relaxed', 'shared-relaxed']);
    expect(report.matMulWorst).toBeLessThanOrEqual(1);
    expect(report.expUlps).toBeLessThanOrEqual(1.5);
    expect(report.tanhUlps).toBeLessThanOrEqual(2);
    expect(report.tanhFastUlps).toBeLessThanOrEqual(7);
    expect(report.sigmoidUlps).toBeLessThanOrEqual(3);
    expect(report.logUlps).toBeLessThanOrEqual(1.5);
    expect(report.threadsIdentical).toBe(true);
  }, 60_000);
});
