import { Graph, Session, NDArray, matMul, relu, add, softmaxCrossEntropyWithLogits, mean, train, Tensor } from '../src';
function median(a: number[]): number { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; }
function dense(g: Graph, name: string, x: Tensor, n: number, m: number, act: boolean, seed: number): Tensor {
  const w = g.variable(`${name}/w`, new NDArray(Float32Array.from({ length: n * m }, (_, i) => Math.sin(i * 0.37 + seed) * 0.05), [n, m]));
  const b = g.variable(`${name}/b`, new NDArray(new Float32Array(m), [m]));
  const y = add(matMul(x, w), b);
  return act ? relu(y) : y;
}
async function main() {
  const g = new Graph();
  const x = g.placeholder('x', [null, 784]);
  const labels = g.placeholder('labels', [null, 10]);
  const h = dense(g, 'd3', dense(g, 'd2', dense(g, 'd1', x, 784, 256, true, 1), 256, 256, true, 2), 256, 10, false, 3);
  const loss = mean(softmaxCrossEntropyWithLogits(labels, h));
  const step = train.sgd(0.01).minimize(loss);
  const B = 128;
  const feeds = { x: new NDArray(Float32Array.from({ length: B * 784 }, (_, i) => (i % 97) / 97), [B, 784]), labels: new NDArray(Float32Array.from({ length: B * 10 }, (_, i) => (i % 10 === (Math.floor(i / 10) % 10) ? 1 : 0)), [B, 10]) };
  const o = new Session(g, { backend: 'onnxruntime', threads: 1 });
  const w = new Session(g, { backend: 'wasm', threads: 1 });
  for (let i = 0; i < 3; i++) { await o.runAsync([loss, step], feeds); w.run([loss, step], feeds); }
  const res: Record<string, number[]> = { ortTrain: [], wasmTrain: [], ortInfer: [], wasmInfer: [] };
  for (let rep = 0; rep < 7; rep++) {
    let t = performance.now(); for (let i = 0; i < 10; i++) await o.runAsync([loss, step], feeds); res.ortTrain.push((performance.now() - t) / 10);
    t = performance.now(); for (let i = 0; i < 10; i++) w.run([loss, step], feeds); res.wasmTrain.push((performance.now() - t) / 10);
    t = performance.now(); for (let i = 0; i < 10; i++) await o.runAsync(h, { x: feeds.x }); res.ortInfer.push((performance.now() - t) / 10);
    t = performance.now(); for (let i = 0; i < 10; i++) w.run(h, { x: feeds.x }); res.wasmInfer.push((performance.now() - t) / 10);
  }
  for (const [k, v] of Object.entries(res)) console.log(k, 'median ms', median(v).toFixed(2), 'min', Math.min(...v).toFixed(2));
}
main();
