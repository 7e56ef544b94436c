import {
  add,
  Graph,
  gradients,
  matMul,
  mean,
  NDArray,
  optimize,
  relu,
  renderSvg,
  sigmoid,
  square,
  Tensor,
  toDot,
} from '../src';

/** A small model with every kind of node: placeholder, variable, constant, ops and (with gradients) gradient ops. */
function model(): { graph: Graph; loss: Tensor; grads: Tensor[]; x: Tensor } {
  const graph = new Graph();
  const x = graph.placeholder('x', [4, 3]);
  const w = graph.variable('dense/w', NDArray.from([[0.5], [-0.25], [1]]));
  const hidden = graph.nameScope('dense', () => relu(add(matMul(x, w), 0.5)));
  const loss = graph.nameScope('loss', () => mean(square(sigmoid(hidden).sub(1))));
  const grads = gradients(loss, [w]) as Tensor[];
  return { graph, loss, grads, x };
}

/** A chain of `layers` scopes with `perLayer` elementwise ops each: a large graph with name scopes. */
function deepGraph(layers: number, perLayer: number): { graph: Graph; y: Tensor } {
  const graph = new Graph();
  let y = graph.placeholder('x', [8]);
  for (let layer = 0; layer < layers; layer++) {
    y = graph.nameScope(`layer${layer}`, () => {
      let h = y;
      // Distinct constants: an interned constant shared by every layer would tie all the layers' boxes together.
      for (let i = 0; i < perLayer; i++) {
        h = graph.nameScope(`block${i % 2}`, () => sigmoid(h.mul(1.5 + i + 10 * layer)));
      }
      return h;
    });
  }
  return { graph, y };
}

/** Checks that every tag is closed in order: enough to know Graphviz produced a whole document. */
function wellFormed(xml: string): boolean {
  const body = xml
    .replace(/<\?xml[^>]*\?>/, '')
    .replace(/<!DOCTYPE[^>]*>/, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  for (const match of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing === '/') continue;
    if (closing === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name);
  }
  return stack.length === 0;
}

/** The node groups of an SVG, each with its classes (entities decoded) and fill colour. */
function svgNodes(svg: string): { classes: string[]; fill: string | undefined; title: string }[] {
  const nodes: { classes: string[]; fill: string | undefined; title: string }[] = [];
  for (const match of svg.matchAll(/<g id="node\d+" class="([^"]*)">\s*<title>([^<]*)<\/title>([\s\S]*?)<\/g>/g)) {
    const classes = match[1].replace(/&#45;/g, '-').split(' ');
    nodes.push({ classes, title: match[2], fill: /fill="(#[0-9a-f]{6})"/.exec(match[3])?.[1] });
  }
  return nodes;
}

describe('renderSvg', () => {
  test('produces a complete SVG document laid out by Graphviz', async () => {
    const { loss, grads } = model();
    const svg = await renderSvg([loss, ...grads]);
    expect(svg).toMatch(/^<\?xml/);
    expect(svg).toContain('<svg');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(wellFormed(svg)).toBe(true);
    expect(svg).toContain('dense/w');
  });

  test('placeholders, variables, constants, gradient ops and fused groups have distinct fills', async () => {
    const { graph, loss, grads, x } = model();
    const plain = svgNodes(await renderSvg([loss, ...grads]));
    const optimized = optimize(graph, grads, { shapes: new Map([[x, [4, 3]]]) });
    const fused = svgNodes(await renderSvg(optimized.outputs));
    const fillOf = new Map<string, string | undefined>();
    for (const node of [...plain, ...fused]) {
      const kind = node.classes.find((c) => c.startsWith('lazygrad-')) as string;
      expect(fillOf.get(kind) ?? node.fill).toBe(node.fill); // one colour per kind
      fillOf.set(kind, node.fill);
    }
    const kinds = ['placeholder', 'variable', 'constant', 'gradient', 'fused', 'op'].map((k) => `lazygrad-${k}`);
    for (const kind of kinds) expect(fillOf.has(kind)).toBe(true);
    const filled = kinds.filter((k) => k !== 'lazygrad-op').map((k) => fillOf.get(k));
    expect(new Set(filled).size).toBe(filled.length);
    expect(filled.every((fill) => fill !== undefined)).toBe(true);
  });

  test('a legend names each colour used, and can be left out', async () => {
    const { loss, grads } = model();
    const svg = await renderSvg([loss, ...grads]);
    for (const entry of ['legend', 'placeholder (input)', 'variable (state)', 'constant', 'gradient op']) {
      expect(svg).toContain(`>${entry}</text>`);
    }
    expect(svg).toContain('lazygrad&#45;legend');
    const bare = await renderSvg([loss, ...grads], { legend: false });
    expect(bare).not.toContain('lazygrad&#45;legend');
  });

  test('graphs above 150 nodes have name scopes collapsed into boxes; collapse: false draws all', async () => {
    const { graph, y } = deepGraph(20, 4); // 20 layers × 4 × (constant, mul, sigmoid) ≈ 241 nodes
    expect(graph.size).toBeGreaterThan(150);
    const collapsed = svgNodes(await renderSvg(y));
    expect(collapsed.length).toBeLessThanOrEqual(150);
    expect(collapsed.some((n) => n.classes.includes('lazygrad-scope'))).toBe(true);
    const full = svgNodes(await renderSvg(y, { collapse: false, legend: false }));
    expect(full.length).toBe(graph.size);
  });

  test('each node carries its text IR line as a tooltip', async () => {
    const { loss } = model();
    const svg = await renderSvg(loss);
    expect(svg).toMatch(/xlink:title="%\d+ = matMul\(%\d+, %\d+\)/);
  });
});

describe('toDot options', () => {
  test('without options the output keeps its structure: styled leaves, a gradient cluster, no legend', () => {
    const { loss, grads } = model();
    const dot = toDot([loss, ...grads]);
    expect(dot.startsWith('digraph lazygrad {')).toBe(true);
    expect(dot).toContain('subgraph cluster_gradients');
    expect(dot).toContain('fillcolor="#dbeafe"');
    expect(dot).not.toContain('legend');
    expect(dot).not.toContain('tooltip');
  });

  test('collapse keeps the deepest scope level that fits the limit', () => {
    const { y } = deepGraph(20, 4);
    // layer<i>/block<j>: 40 boxes at depth 2, 20 at depth 1 (plus the placeholder).
    const atDepthTwo = toDot(y, { collapse: 60 });
    expect(atDepthTwo).toContain('label="layer3/block1/\\n');
    const atDepthOne = toDot(y, { collapse: 30 });
    expect(atDepthOne).toContain('label="layer3/\\n');
    expect(atDepthOne).not.toContain('layer3/block1/');
    expect(atDepthOne.match(/class="lazygrad-scope"/g)?.length).toBe(20);
  });

  test('collapsed edges are drawn once and never loop back to their own box', () => {
    const { y } = deepGraph(5, 4);
    const dot = toDot(y, { collapse: true });
    const edges = dot.split('\n').filter((line) => line.includes('->'));
    expect(new Set(edges).size).toBe(edges.length);
    expect(edges.every((edge) => !/^\s*(\w+) -> \1;$/.test(edge))).toBe(true);
    expect(edges.length).toBe(5); // x -> layer0 -> layer1 -> ... -> layer4
  });

  test('placeholders and variables stay visible when their scope is collapsed', () => {
    const { loss, grads } = model();
    const dot = toDot([loss, ...grads], { collapse: true });
    expect(dot).toContain('label="dense/w\\nvariable');
    expect(dot).toContain('label="x\\nplaceholder');
    expect(dot).toContain('class="lazygrad-gradient-scope"');
  });

  test('a title is drawn above the picture', () => {
    const { loss } = model();
    expect(toDot(loss, { title: 'the "loss"' })).toContain('label="the \\"loss\\""; labelloc=t;');
  });
});
