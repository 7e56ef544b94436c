import { gradients, optimize, Session, sum, Tensor } from './src';
import { blockChain } from './benchmarks/analyses';
const nodes = Number(process.argv[2] ?? 200000);
const mode = process.argv[3] ?? 'both';
const chain = blockChain(Math.round(nodes / 3.25));
const loss = sum(chain.y);
const fetches = [loss, ...(gradients(loss, chain.params) as Tensor[])];
const cpu = (f: () => void): number => { const s = process.cpuUsage(); f(); const u = process.cpuUsage(s); return (u.user + u.system) / 1000; };
function compile(opt: boolean): number {
  const s = new Session(chain.graph, { optimize: opt });
  const first = cpu(() => s.run(fetches, chain.feeds));
  const steady = [0, 1, 2].map(() => cpu(() => s.run(fetches, chain.feeds))).sort((a, b) => a - b)[1];
  return first - steady;
}
const out: string[] = [];
for (let r = 0; r < 2; r++) {
  if (mode !== 'opt') out.push(`plain ${compile(false).toFixed(0)}`);
  if (mode !== 'plain') out.push(`opt ${compile(true).toFixed(0)}`);
}
if (mode === 'both') {
  const res = optimize(chain.graph, fetches);
  const t = cpu(() => optimize(chain.graph, fetches));
  out.push(`optimize ${t.toFixed(0)}`);
  for (const r of res.report) out.push(`  ${r.pass} ${r.timeMs.toFixed(0)} ${JSON.stringify(r.changes)}`);
}
console.log(chain.graph.size, out.join('\n'));
