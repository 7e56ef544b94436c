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
