/**
 * The JIT across a released and renewed memory: when the last session over the two-thread kernels is disposed, the
 * arena releases its memory and stops the helper worker; the next session takes the memory back (same object, so the
 * jitted instances survive) with a new helper worker, which must load each jitted module again before running its
 * half. Before that was tracked per worker, the second session's run failed in the worker.
 */
import { add, exp, Graph, mul, NDArray, neg, Session, sqrt, square, tanh, Tensor } from '../../src';
import { sessionKernels } from '../../src/backend/backend';
import type { WasmKernels } from '../../src/backend/wasm';

const SIZE = 1 << 18; // large enough for the fused group to split across two threads

function chain(): { g: Graph; x: Tensor; y: Tensor } {
  const g = new Graph();
  const x = g.placeholder('x', [SIZE]);
  const y = sqrt(add(exp(neg(square(tanh(add(mul(x, 0.5), 0.1))))), 1));
  return { g, x, y };
}

function reference(data: Float32Array): Float64Array {
  return Float64Array.from(data, (v) => Math.sqrt(Math.exp(-(Math.tanh(0.5 * v + 0.1) ** 2)) + 1));
}

test('a second two-thread session after dispose() runs its jitted group on the new helper worker', () => {
  const kernels = sessionKernels('wasm', 2).wasm?.wasm as WasmKernels | undefined;
  if (kernels === undefined || kernels.threads !== 2) return; // no shared memory here: nothing to check
  const data = Float32Array.from({ length: SIZE }, (_, i) => 2 * Math.sin(i * 0.37));
  const want = reference(data);
  const loadsBefore = kernels.jitStats.helperLoads;
  for (let round = 0; round < 3; round++) {
    const { g, x, y } = chain();
    const sess = new Session(g, { threads: 2 });
    const helperRunsBefore = kernels.jitStats.helperRuns;
    const got = sess.run(y, new Map([[x, new NDArray(data, [SIZE])]])).data as Float32Array;
    expect(kernels.jitStats.helperRuns).toBeGreaterThan(helperRunsBefore);
    let worst = 0;
    for (let i = 0; i < SIZE; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-6);
    sess.dispose();
  }
  // Each round's helper worker is new (the memory was released in between), so each loaded the module once.
  expect(kernels.jitStats.helperLoads - loadsBefore).toBe(3);
});
