/**
 * Run by arena-release.test.ts in a child Node started with --expose-gc: sessions dropped without dispose() give
 * their blocks back once the engine collects them, then the memory goes. A process of its own, so what the jest
 * worker ran before (other test files' contexts and garbage) cannot delay or hold the collection it waits for.
 * Prints the findings as JSON.
 */
import { add, Graph, matMul, NDArray, relu, Session, sum } from '../../src';
import type { WasmArena } from '../../src/backend/wasm';
import { Rng, randF32 } from './helpers';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const dense = (rng: Rng, shape: number[]): NDArray =>
  new NDArray(randF32(rng, shape).data as Float32Array, shape, 'float32');
const arenaOf = (s: Session): WasmArena => (s as unknown as { placement: { arena: WasmArena } }).placement.arena;

async function main(): Promise<void> {
  const rng = new Rng(4);
  const g = new Graph();
  const x = g.placeholder('x', [16, 64]);
  const y = sum(relu(add(matMul(x, g.variable('w', dense(rng, [64, 96]))), g.variable('b', dense(rng, [96])))));
  const feeds = new Map([[x, dense(rng, [16, 64])]]);
  const probe = new Session(g);
  const arena = arenaOf(probe);
  const expected = probe.run(y, feeds).toArray();
  probe.dispose();
  const releasedAtFirst = arena.released;
  (() => {
    for (let k = 0; k < 20; k++) new Session(g).run(y, feeds); // never disposed
  })();
  const blocksHeld = arena.blocks;
  // Collected within seconds; the loop ends as soon as the memory went.
  const start = Date.now();
  while (!arena.released && Date.now() - start < 10_000) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const report = {
    releasedAtFirst,
    blocksHeld,
    blocksAfter: arena.blocks,
    released: arena.released,
    sameValues: JSON.stringify(probe.run(y, feeds).toArray()) === JSON.stringify(expected),
  };
  probe.dispose();
  console.log(JSON.stringify(report));
}

void main();
