/**
 * Names are data: a name with a newline, a NUL or an invisible character cannot forge a line or break a printer.
 * Every printer shows names through one function (escapeName, src/graph/rules.ts): as they are when plain,
 * JSON-quoted otherwise (issue 15, item 13).
 */
import {
  add,
  addOp,
  escapeName,
  formatGraph,
  Graph,
  gradients,
  matMul,
  NDArray,
  opRecord,
  quoteName,
  renderSvg,
  Session,
  ShapeError,
  Tensor,
  toDot,
} from '../src';

const FORGED = 'x\n%9 = forged() : float32[]  # y';

function graphWithName(name: string): { g: Graph; x: Tensor; y: Tensor } {
  const g = new Graph();
  const x = g.placeholder(name, [2]);
  const y = add(x, 1);
  return { g, x, y };
}

/** The lines of a printout that start like a node of the text IR. */
function nodeLines(text: string): string[] {
  return text.split('\n').filter((line) => /^\s*%\d+ = /.test(line));
}

describe('escapeName', () => {
  test('plain names print as they are', () => {
    for (const name of ['x', 'layer1/matMul_2', 'gradients/mul_grad/mul_1', 'input:0', 'a-b.c', 'w[0]']) {
      expect(escapeName(name)).toBe(name);
    }
  });

  test('other names print JSON-quoted, with controls, separators and invisible characters escaped', () => {
    expect(escapeName('a\nb')).toBe('"a\\nb"');
    expect(escapeName('a\u0000b')).toBe('"a\\u0000b"');
    expect(escapeName('my layer')).toBe('"my layer"');
    expect(escapeName('a\u2028b\u202ec')).toBe('"a\\u2028b\\u202ec"');
    expect(escapeName('')).toBe('""');
    expect(quoteName('x')).toBe("'x'");
    expect(quoteName('a\nb')).toBe('"a\\nb"');
  });
});

describe('a name with a newline forges no line', () => {
  test('in the text IR (toString of a graph and of a tensor)', () => {
    const { g, x } = graphWithName(FORGED);
    expect(nodeLines(g.toString())).toHaveLength(g.size);
    expect(g.toString().split('\n')).toHaveLength(g.size);
    expect(x.toString()).toBe('%0 = placeholder() : float32[2]  # "x\\n%9 = forged() : float32[]  # y"');
  });

  test('in formatGraph', () => {
    const { y } = graphWithName(FORGED);
    const text = formatGraph(y);
    expect(text.split('\n')).toHaveLength(4);
    expect(text).not.toMatch(/^%9/m);
    expect(text.split('\n')[0]).toContain('# "x\\n%9');
  });

  test('in explain (the plan and its pass reports)', () => {
    const { g, y } = graphWithName(FORGED);
    const text = new Session(g).explain(y, new Map([[g.placeholders()[0], NDArray.from([1, 2])]]));
    expect(text).not.toMatch(/^%9 = forged/m);
    expect(text.split('\n').filter((line) => line.includes('forged'))).toHaveLength(1);
  });

  test('in toDot labels and tooltips', () => {
    const { y } = graphWithName(FORGED);
    const dot = toDot(y, { tooltips: true });
    expect(dot).not.toContain('\n%9');
    expect(dot.split('\n').filter((line) => line.includes('forged'))).toHaveLength(1);
  });

  test('in error messages naming the node', () => {
    const g = new Graph();
    const a = g.placeholder(FORGED, [2, 3]);
    const b = g.placeholder('b', [2, 3]);
    let message = '';
    try {
      matMul(a, b);
    } catch (error) {
      expect(error).toBeInstanceOf(ShapeError);
      message = (error as Error).message;
    }
    expect(message).toContain('"x\\n%9 = forged() : float32[]  # y" float32[2, 3]');
    expect(message).not.toContain('\n');
  });

  test('the text IR of attrs escapes line separators JSON leaves alone', () => {
    const g = new Graph();
    const x = g.placeholder('x', [2]);
    const node = addOp(g, opRecord('neg'), [x.id], { note: 'a\u2028b' } as never);
    expect(node.toString()).toContain('{note="a\\u2028b"}');
  });
});

describe('a NUL in a name', () => {
  test('renderSvg draws the graph, showing the name escaped', async () => {
    const { g } = graphWithName('a\u0000b');
    const x = g.placeholders()[0];
    const grads = gradients(add(x, x).sum(), [x]);
    const svg = await renderSvg([...grads]);
    expect(svg).toContain('<svg');
    expect(svg).toContain('&quot;a\\u0000b&quot;');
    expect(svg).not.toContain('\u0000');
  });

  test('toDot holds no NUL', () => {
    const { y } = graphWithName('a\u0000b');
    expect(toDot(y, { tooltips: true, title: 'T\u0000' })).not.toContain('\u0000');
  });
});
