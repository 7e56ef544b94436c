/**
 * toDot / renderSvg of control flow: each construct's regions as Graphviz clusters (once per group of siblings), fed
 * by labelled edges from the construct's inputs into the parameters, with labelled edges from the region nodes each
 * sibling reads; nested constructs as nested clusters.
 */
import { renderSvg, toDot } from '../../src';
import { controlGraph } from './graphs';

describe('toDot of control flow', () => {
  test('a scan body is one cluster; its inputs feed its parameters and its outputs feed each sibling', () => {
    const { g, last, ys } = controlGraph();
    const dot = toDot(g);
    const s = last.id;
    // One cluster for the two siblings.
    expect(dot.match(new RegExp(`subgraph cluster_r${s}_0 \\{`, 'g'))).toHaveLength(1);
    expect(dot).toContain(`label="scan body"; style="rounded,dashed"; class="lazygrad-region";`);
    expect(dot).toContain(`r${s}_0_6 [label="matMul_1\\nmatMul float64[2, 2]", shape=ellipse, class="lazygrad-op"];`);
    const [h0, xs, w, u] = last.node.inputs;
    expect(dot).toContain(`n${h0} -> r${s}_0_0 [style=dashed, label="carry0"];`);
    expect(dot).toContain(`n${xs} -> r${s}_0_1 [style=dashed, label="x0"];`);
    expect(dot).toContain(`n${w} -> r${s}_0_2 [style=dashed, label="W"];`);
    expect(dot).toContain(`n${u} -> r${s}_0_5 [style=dashed, label="U"];`);
    expect(dot).toContain(`r${s}_0_9 -> n${s} [style=dashed, label="carry:0"];`);
    expect(dot).toContain(`r${s}_0_9 -> n${ys.id} [style=dashed, label="ys:0"];`);
    // Edges inside the body, and none from the inputs straight into the construct's nodes.
    expect(dot).toContain(`r${s}_0_5 -> r${s}_0_6;`);
    expect(dot).not.toContain(`n${w} -> n${s};`);
  });

  test("a cond's branches are two clusters, its predicate still points at the node", () => {
    const { g, y } = controlGraph();
    const dot = toDot(g);
    const c = y.id;
    expect(dot).toContain(`subgraph cluster_r${c}_0 {\n    label="cond then";`);
    expect(dot).toContain(`subgraph cluster_r${c}_1 {\n    label="cond else";`);
    expect(dot).toContain(`n${y.node.inputs[0]} -> n${c};`);
    expect(dot).toContain(`r${c}_0_2 -> n${c} [style=dashed, label="0"];`);
    expect(dot).toContain(`r${c}_1_1 -> n${c} [style=dashed, label="0"];`);
  });

  test('a cond inside a whileLoop body is a cluster inside the body cluster', () => {
    const { g, count, acc } = controlGraph();
    const dot = toDot(g);
    const w = count.id;
    const body = dot.indexOf(`  subgraph cluster_r${w}_1 {`);
    const inner = dot.indexOf(`    subgraph cluster_r${w}_1_8_0 {\n      label="cond then";`);
    expect(body).toBeGreaterThan(0);
    expect(inner).toBeGreaterThan(body);
    expect(dot).toContain(`r${w}_1_1 -> r${w}_1_8_0_0 [style=dashed, label="var1"];`);
    expect(dot).toContain(`r${w}_1_8 -> n${acc.id} [style=dashed, label="var:1"];`);
    expect(dot).toContain(`r${w}_1_3 -> n${w} [style=dashed, label="var:0"];`);
  });

  test('toDot of a slice draws the clusters of the constructs in it only', () => {
    const { ys } = controlGraph();
    const dot = toDot(ys);
    expect(dot).toContain(`subgraph cluster_r${ys.id}_0 {`);
    expect(dot).not.toContain('cond then');
  });

  test('renderSvg lays the clusters out', async () => {
    const { g } = controlGraph();
    const svg = await renderSvg(g);
    expect(svg).toContain('<svg');
    expect(svg).toContain('class="cluster lazygrad&#45;region"');
    expect(svg).toContain('scan body');
    expect(svg).toContain('cond then');
  });
});
