import { Graph, Session, NDArray, add, mul } from '../src';
async function main() {
  const g = new Graph();
  const x = g.placeholder('x', [4]);
  const w = g.variable('w', NDArray.from([1, 2, 3, 4]));
  const y = mul(add(x, w), 2);
  const feeds = { x: NDArray.from([1, 2, 3, 4]) };
  const o = new Session(g, { backend: 'onnxruntime' });
  await o.runAsync(y, feeds);
  const t = performance.now();
  for (let i = 0; i < 40000; i++) await o.runAsync(y, feeds);
  console.log(((performance.now() - t) / 40000) * 1000);
}
main();
