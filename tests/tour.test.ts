import { readFileSync } from 'fs';
import { join } from 'path';
import { eagerVsLazyTrace } from '../examples/tour/06-eager-vs-lazy-trace';
import { manualVsAutomatic } from '../examples/tour/01-manual-vs-automatic';
import { numericalDifferentiation } from '../examples/tour/02-numerical';
import {
  differentiate,
  evaluate,
  logistic,
  product,
  symbolicSwell,
  treeSize,
} from '../examples/tour/03-symbolic-swell';
import { graphTraces } from '../examples/tour/04-graph-traces';
import { gatesAndStagedNeuron } from '../examples/tour/05-gates-and-staged-neuron';
import { autograd } from '../examples/tour/07-autograd';
import { gradientRow, jacobianRow } from '../benchmarks/forward-vs-reverse';

describe('tour step 1: manual vs automatic', () => {
  const step = manualVsAutomatic();

  test('lazygrad gradient equals the hand derivative 15x⁴ + 8x at every point', () => {
    step.points.forEach((x, i) => expect(step.automatic[i]).toBeCloseTo(15 * x ** 4 + 8 * x, 9));
    expect(step.automatic).toEqual(step.manual);
  });

  test('the slipped pow(3x, 5) + pow(4x, 2) is a different function', () => {
    const differs = step.points.filter((x, i) => x !== 0 && step.slipF[i] !== step.f[i]);
    expect(differs).toHaveLength(step.points.filter((x) => x !== 0).length);
  });

  test('lazygrad differentiates the slipped code exactly, unlike the slipped hand derivative', () => {
    step.points.forEach((x, i) => {
      expect(step.slipAutomatic[i]).toBeCloseTo(1215 * x ** 4 + 32 * x, 6);
      if (x !== 0) expect(step.slipManual[i]).not.toBeCloseTo(step.automatic[i], 3);
    });
  });
});

describe('tour step 2: numerical differentiation', () => {
  const step = numericalDifferentiation();

  test('the exact gradient is eˣ(sin x + cos x)', () => {
    expect(step.exact).toBeCloseTo(Math.exp(1) * (Math.sin(1) + Math.cos(1)), 14);
  });

  test('central differences in float64 are most accurate between h = 1e-4 and 1e-7', () => {
    expect(step.best.central64).toBeLessThanOrEqual(1e-4);
    expect(step.best.central64).toBeGreaterThanOrEqual(1e-7);
  });

  test('truncation error falls as h shrinks: central ∝ h², forward ∝ h', () => {
    const [r1, r2] = step.rows;
    expect(r1.central64 / r2.central64).toBeGreaterThan(50);
    expect(r1.forward64 / r2.forward64).toBeGreaterThan(5);
  });

  test('roundoff error rises again for tiny h', () => {
    const last = step.rows[step.rows.length - 1];
    const bestError = Math.min(...step.rows.map((r) => r.central64));
    expect(last.central64).toBeGreaterThan(1000 * bestError);
  });

  test('float32 has its best step at a larger h than float64 and a larger error there', () => {
    expect(step.best.central32).toBeGreaterThan(step.best.central64);
    expect(step.best.forward32).toBeGreaterThan(step.best.forward64);
    expect(Math.min(...step.rows.map((r) => r.central32))).toBeGreaterThan(
      100 * Math.min(...step.rows.map((r) => r.central64)),
    );
  });

  test('the plot is an SVG with one curve per method and dtype', () => {
    expect(step.svg.startsWith('<svg')).toBe(true);
    expect(step.svg.match(/<path /g)).toHaveLength(4);
  });
});

describe('tour step 3: symbolic vs automatic', () => {
  const step = symbolicSwell(8);

  test('the naive symbolic derivative is correct', () => {
    const x = 0.7;
    const h = 1e-6;
    for (const e of [product(4), logistic(3)]) {
      const numeric = (evaluate(e, x + h) - evaluate(e, x - h)) / (2 * h);
      expect(evaluate(differentiate(e), x)).toBeCloseTo(numeric, 5);
    }
  });

  test('the symbolic derivative and lazygrad agree', () => {
    for (const r of [...step.products, ...step.compositions]) {
      expect(r.lazygradValue).toBeCloseTo(r.symbolicValue, 6);
    }
  });

  test('the product rule copies subtrees: d(uv) has 3 + |u| + |v| + |du| + |dv| nodes', () => {
    expect(treeSize(differentiate(product(2)))).toBe(15);
  });

  test('expression swell grows faster than the gradient graph', () => {
    for (const rows of [step.products, step.compositions]) {
      const [first, last] = [rows[0], rows[rows.length - 1]];
      expect(last.symbolic / first.symbolic).toBeGreaterThan(last.gradientGraph / first.gradientGraph);
      expect(last.symbolic).toBeGreaterThan(last.gradientGraph);
    }
  });

  test('the gradient graph grows linearly while the composition swell grows exponentially', () => {
    const rows = step.compositions;
    const steps = rows.slice(1).map((r, i) => r.gradientGraph - rows[i].gradientGraph);
    expect(new Set(steps).size).toBe(1);
    expect(rows[7].symbolic / rows[6].symbolic).toBeGreaterThan(2);
  });

  test('optimization never enlarges the gradient graph', () => {
    for (const r of [...step.products, ...step.compositions]) {
      expect(r.unfused).toBeLessThanOrEqual(r.gradientGraph);
      expect(r.optimized).toBeLessThanOrEqual(r.unfused);
    }
  });
});

describe('tour step 4: graph traces', () => {
  const step = graphTraces();

  test('the forward evaluation gives c = 3, d = 2, e = 6', () => {
    expect(step.values).toEqual({ a: 2, b: 1, c: 3, d: 2, e: 6 });
  });

  test('forward mode w.r.t. b gives every node its ∂/∂b, ending in ∂e/∂b = 5', () => {
    expect(step.forward).toEqual({ a: 0, b: 1, c: 1, d: 1, e: 5 });
    expect(step.forwardA.e).toBe(2);
  });

  test('reverse mode gives ∂e/∂a = 2 and ∂e/∂b = 5 in one pass', () => {
    expect(step.reverse).toEqual({ a: 2, b: 5, c: 2, d: 3, e: 1 });
  });

  test('the printed traces list e = 6, ∂e/∂a = 2 and ∂e/∂b = 5', () => {
    expect(step.text).toMatch(/e = c · d\s+= 6/);
    expect(step.text).toMatch(/∂e\/∂a = .* = 2$/m);
    expect(step.text).toMatch(/∂e\/∂b = .* = 5$/m);
  });

  test('the DOT picture labels each edge with its local derivative', () => {
    expect(step.edges).toEqual({ 'a->c': 1, 'b->c': 1, 'b->d': 1, 'c->e': 2, 'd->e': 3 });
    expect(step.dot).toContain('c -> e [label="∂e/∂c = 2"]');
    expect(step.dot).toContain('d -> e [label="∂e/∂d = 3"]');
  });
});

describe('tour step 5: gates and the staged neuron', () => {
  const step = gatesAndStagedNeuron();

  test('f = (x + y)z gives f = −12, ∂f/∂x = ∂f/∂y = −4, ∂f/∂z = 3', () => {
    expect(step.simple.values.f).toBe(-12);
    expect(step.simple.upstream).toMatchObject({ x: -4, y: -4, z: 3, q: -4, f: 1 });
  });

  test('each gate of (x + y)z has its local gradient: ∂q/∂x = 1, ∂f/∂q = z, ∂f/∂z = q', () => {
    expect(step.simple.local).toEqual({ 'x->q': 1, 'y->q': 1, 'q->f': -4, 'z->f': 3 });
  });

  test('the written-out neuron gives f ≈ 0.731 and its gate-by-gate gradients', () => {
    const { values, upstream } = step.neuron;
    expect(values.f).toBeCloseTo(0.731, 3);
    const grads = ['w0', 'w1', 'w2', 'x0', 'x1'].map((name) => upstream[name]);
    [-0.197, -0.393, 0.197, 0.393, -0.59].forEach((v, i) => expect(grads[i]).toBeCloseTo(v, 3));
  });

  test('the staged gradient σ(z)(1 − σ(z)) matches the written-out gates exactly', () => {
    const s = step.staged.f;
    expect(step.staged.grads[2]).toBeCloseTo(s * (1 - s), 15);
    step.staged.grads.forEach((v, i) => expect(v).toBeCloseTo(step.writtenOut.grads[i], 15));
  });

  test('the staged neuron has a smaller gradient graph than the written-out one', () => {
    expect(step.staged.nodes).toBeLessThan(step.writtenOut.nodes);
    expect(step.staged.text).toContain('sigmoid(');
    expect(step.writtenOut.text).not.toContain('sigmoid(');
  });

  test('optimize stabilizes the written-out form into the staged one', () => {
    expect(step.writtenOut.rules).toMatchObject({ 'sigmoid-formula': 1, 'sigmoid-gradient': 1 });
    expect(step.writtenOut.optimizedText).toContain('sigmoid(');
    expect(step.writtenOut.optimizedNodes).toBe(step.staged.optimizedNodes);
  });
});

describe('tour step 7: autograd', () => {
  const step = autograd();

  test('z = xy + 1 at (2, 3) gives dz/dx = 3, dz/dy = 2', () => {
    expect([step.z, step.dzdx, step.dzdy]).toEqual([7, 3, 2]);
  });

  test('y = 2·dot(x, x) has gradient 4x', () => {
    expect(step.y).toBe(28);
    expect(step.dydx).toEqual([0, 4, 8, 12]);
  });

  test('a gradient graph returns fresh values on every run', () => {
    expect(step.freshRuns).toEqual([
      [0, 4, 8, 12],
      [0, 4, 8, 12],
    ]);
  });

  test('accumulating into a variable with assign doubles the gradient over two runs', () => {
    expect(step.accumulated).toEqual([
      [0, 4, 8, 12],
      [0, 8, 16, 24],
    ]);
  });

  test("PyTorch's un-zeroed sequence, done on purpose, gives 4x + 1", () => {
    expect(step.pytorchLike).toEqual([1, 5, 9, 13]);
  });
});

describe('forward vs reverse benchmark', () => {
  test('reverse mode needs one pass for ℝⁿ → ℝ, forward mode one per input; both agree', () => {
    const row = gradientRow(8);
    expect(row.maxDiff).toBeLessThan(1e-12);
    expect(row.reverse.nodes).toBe(gradientRow(1).reverse.nodes);
    expect(row.forward.nodes).toBeGreaterThan(4 * row.reverse.nodes);
  });

  test('forward mode needs one pass for ℝ → ℝᵐ, reverse mode one per output; both agree', () => {
    const row = jacobianRow(8);
    expect(row.maxDiff).toBeLessThan(1e-12);
    expect(row.forward.nodes).toBe(jacobianRow(1).forward.nodes);
    expect(row.reverse.nodes).toBeGreaterThan(2 * row.forward.nodes);
  });
});

describe('tour step 6: eager vs lazy trace', () => {
  test('the trace lists each step with its input and output values, and every node gets its gradient', () => {
    const result = eagerVsLazyTrace();
    expect(result.steps.map((s) => s.op)).toEqual(['log', 'mul', 'sin', 'add', 'sub']);
    expect(result.steps[1].inputs).toEqual([2, 5]);
    expect(result.y).toBeCloseTo(11.652, 3);
    const byNode = new Map(result.gradients.map((r) => [r.node, r.value]));
    expect(byNode.get('x1')).toBeCloseTo(5.5, 12);
    expect(byNode.get('x2')).toBeCloseTo(2 - Math.cos(5), 12);
    expect(byNode.get('sin')).toBe(-1);
  });
});

describe('docs/tour.md', () => {
  test("holds each deterministic step's output exactly as the scripts print it (no drift)", () => {
    const docs = readFileSync(join(__dirname, '..', 'docs', 'tour.md'), 'utf8');
    for (const text of [
      manualVsAutomatic().text,
      numericalDifferentiation().text,
      symbolicSwell().text,
      graphTraces().text,
      gatesAndStagedNeuron().text,
      eagerVsLazyTrace().text,
      autograd().text,
    ]) {
      expect(docs).toContain(text);
    }
  });
});
