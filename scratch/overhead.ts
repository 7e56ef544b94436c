import * as ort from 'onnxruntime-node';
import { Graph, Session, exportOnnx, NDArray, add, mul, matMul, relu } from '../src';

function median(a: number[]): number { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; }
async function main() {
  const g = new Graph();
  const x = g.placeholder('x', [4]);
  const w = g.variable('w', NDArray.from([1, 2, 3, 4]));
  const y = mul(add(x, w), 2);
  const feeds = { x: NDArray.from([1, 2, 3, 4]) };
  const o = new Session(g, { backend: 'onnxruntime' });
  const wasm = new Session(g, { backend: 'wasm' });
  const bytes = exportOnnx(g, { outputs: { y }, inputs: [x, w] });
  const raw = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const wv = w.node.value as NDArray;
  await o.runAsync(y, feeds);
  const N = 2000;
  const res: Record<string, number[]> = { ort: [], rawOrt: [], wasmRun: [], wasmAsync: [] };
  for (let rep = 0; rep < 7; rep++) {
    let t = performance.now();
    for (let i = 0; i < N; i++) await o.runAsync(y, feeds);
    res.ort.push(((performance.now() - t) / N) * 1000);
    t = performance.now();
    for (let i = 0; i < N; i++) {
      const r = await raw.run({ x: new ort.Tensor('float32', feeds.x.data as Float32Array, [4]), w: new ort.Tensor('float32', wv.data as Float32Array, [4]) });
      void r.y.data;
    }
    res.rawOrt.push(((performance.now() - t) / N) * 1000);
    t = performance.now();
    for (let i = 0; i < N; i++) wasm.run(y, feeds);
    res.wasmRun.push(((performance.now() - t) / N) * 1000);
    t = performance.now();
    for (let i = 0; i < N; i++) await wasm.runAsync(y, feeds);
    res.wasmAsync.push(((performance.now() - t) / N) * 1000);
  }
  for (const [k, v] of Object.entries(res)) console.log(k, 'median µs/run', median(v).toFixed(1), 'min', Math.min(...v).toFixed(1));
}
main();
