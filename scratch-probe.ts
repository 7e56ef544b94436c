import * as ort from 'onnxruntime-node';
import { casesOf } from './tests/ops/cases';
import { exportOnnx } from './src';
import { forwardGraph, gradientGraph, secondOrderGraph, Built } from './tests/ops/onnxruntime-harness';
const opset = Number(process.argv[2]);
(async () => {
  const seen = new Set<string>();
  const fails = new Map<string, Set<string>>();
  const oks = new Map<string, number>();
  for (const which of ['forward', 'gradFd'] as const) {
    for (const { row, c, seed } of casesOf(which)) {
      let built: Built;
      const build = c.build ?? row.build;
      try {
        const o = { dtype: 'float64' as const };
        built = which === 'forward' ? forwardGraph(seed, c.inputs, build, o) : gradientGraph(seed, c.inputs, build as any, o);
      } catch { continue; }
      const g = built.graph;
      for (const node of g.nodes) {
        if (['placeholder', 'constant', 'variable'].includes(node.op)) continue;
        const key = JSON.stringify([node.op, node.attrs, node.dtype, node.shape, node.inputs.map((i) => [g.node(i).dtype, g.node(i).shape, g.node(i).op === 'constant'])]);
        if (seen.has(key)) continue;
        seen.add(key);
        try {
          const inputs = [...new Set(node.inputs)].map((i) => g.tensor(i)).filter((t) => t.node.op !== 'constant');
          const bytes = exportOnnx(g, { outputs: { y: g.tensor(node.id) }, inputs, opset, annotations: false });
          const s = await ort.InferenceSession.create(bytes);
          await s.release();
          oks.set(node.op, (oks.get(node.op) ?? 0) + 1);
        } catch (e) {
          const m = /implementation for (\w+)\(\d+\)/.exec(String((e as Error).message));
          const k = m ? m[1] : String((e as Error).message).slice(0, 80);
          if (!fails.has(k)) fails.set(k, new Set());
          fails.get(k)!.add(node.op);
        }
      }
    }
  }
  for (const [k, v] of fails) console.log(opset, k, [...v].join(','));
})();
