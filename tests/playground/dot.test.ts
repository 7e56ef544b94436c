/**
 * The playground's DOT and the staged neuron in Node (playground/src/dot.ts, neuron.ts): the expression graph with
 * its local derivatives on the edges, the optimized plan with each fused node's ops as a cluster, and the neuron's
 * values, gradients and rewrite computed by lazygrad.
 */
import { expressionDot } from '../../playground/src/dot';
import { evaluate } from '../../playground/src/model';
import { neuron } from '../../playground/src/neuron';
import { parse } from '../../playground/src/parser';

function evaluated(text: string, feed: Record<string, number>): ReturnType<typeof evaluate> {
  const parsed = parse(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return evaluate(parsed.expression, parsed.inputs, feed);
}

describe('playground DOT', () => {
  test('the expression graph: one node per row with its value, one edge per operand labelled ∂row/∂operand', () => {
    const dot = expressionDot(evaluated('(a + b) * (b + 1)', { a: 2, b: 1 }).rows, 'row');
    expect(dot.match(/^ {2}r\d+ \[id="row-\d+"/gm)).toHaveLength(5);
    expect(dot).toContain('r2 [id="row-2", label="v1 = a + b\\n3"');
    expect(dot).toContain('r4 [id="row-4", label="e = v1 × v2\\n6"');
    expect(dot.match(/ -> /g)).toHaveLength(5);
    expect(dot).toContain('r1 -> r3 [label="∂v2/∂b = 1"]');
    expect(dot).toContain('r3 -> r4 [label="∂e/∂v2 = 3"]');
  });

  test('the plan: toDot of the optimized graph plus a cluster per fused node holding its ops, feeding it', () => {
    const { plan } = evaluated('sigmoid(x*y + exp(-x))', { x: 1, y: 2 });
    expect(plan.groups).toBeGreaterThan(0);
    expect(plan.dot.match(/subgraph cluster_fused_\d+ \{/g)).toHaveLength(plan.groups);
    expect(plan.dot.match(/class="fused-step"/g)).toHaveLength(plan.steps);
    expect(plan.dot.match(/^\s+n\d+ \[label=/gm)).toHaveLength(plan.nodes);
    // Each group's last op feeds its own fused node, a node of the optimized graph.
    const feeds = [...plan.dot.matchAll(/ {2}f(\d+)_\d+ -> n(\d+) \[style=dashed/g)];
    expect(feeds).toHaveLength(plan.groups);
    for (const [, group, target] of feeds) {
      expect(target).toBe(group);
      expect(plan.dot).toMatch(new RegExp(`\\n\\s+n${group} \\[label="[^"]*\\\\nfused `));
    }
  });
});

describe('the staged sigmoid neuron', () => {
  const result = neuron();
  const sigma = 1 / (1 + Math.exp(-1));
  const slope = sigma * (1 - sigma);

  test('written out and staged, f = σ(1), dx = σ′(1)·[w0, w1], dw = σ′(1)·[x0, x1, 1]', () => {
    for (const form of [result.written, result.staged]) {
      expect(form.f).toBeCloseTo(sigma, 6);
      form.dx.forEach((v, k) => expect(v).toBeCloseTo([2, -3][k] * slope, 6));
      form.dw.forEach((v, k) => expect(v).toBeCloseTo([-1, -2, 1][k] * slope, 6));
    }
    expect(result.written.evaluation.rows).toHaveLength(13);
    expect(result.staged.evaluation.rows).toHaveLength(10);
  });

  test('the optimizer rewrites the written-out form into the staged one (stabilize: sigmoid-formula, -gradient)', () => {
    expect(result.rules['sigmoid-formula']).toBe(1);
    expect(result.rules['sigmoid-gradient']).toBe(1);
    expect(result.report.some((line) => /^stabilize nodes \d+ → \d+ .*sigmoid-formula 1/.test(line))).toBe(true);
    expect(result.forwardOps.optimized).toEqual(result.forwardOps.staged);
    expect(result.forwardOps.optimized).toContain('sigmoid');
    expect(result.after).toBeLessThan(result.before);
  });
});
