/**
 * The playground's higher-order views in Node (playground/src/analysis.ts): the Hessian by differentiating the
 * gradient again, and central differences whose error is smallest at a moderate step, smaller in float64.
 */
import { differenceErrors, hessianAndGradient, STEPS } from '../../playground/src/analysis';
import { UNARY } from '../../playground/src/model';
import { FUNCTIONS, parse } from '../../playground/src/parser';

function parsed(text: string): { expression: Parameters<typeof hessianAndGradient>[0]; inputs: string[] } {
  const result = parse(text);
  if (!result.ok) throw new Error(result.message);
  return result;
}

describe('playground analysis', () => {
  test('every function the parser knows has a lazygrad op and a local derivative, and no other', () => {
    expect(Object.keys(UNARY).sort()).toEqual([...FUNCTIONS].sort());
  });

  test('the seed example (a + b)(b + 1) has gradient (2, 5) and Hessian [[0, 1], [1, 2]] at (2, 1)', () => {
    const { expression, inputs } = parsed('(a + b) * (b + 1)');
    const { gradient, hessian } = hessianAndGradient(expression, inputs, { a: 2, b: 1 });
    expect({ gradient, hessian }).toEqual({
      gradient: [2, 5],
      hessian: [
        [0, 1],
        [1, 2],
      ],
    });
  });

  test("the Hessian's graph: toDot of the second derivatives, every node it reads counted once", () => {
    const { expression, inputs } = parsed('(a + b) * (b + 1)');
    const { dot, nodes } = hessianAndGradient(expression, inputs, { a: 2, b: 1 });
    const drawn = dot.split('\n').filter((line) => /^\s+n\d+ \[label=/.test(line));
    expect(drawn).toHaveLength(nodes);
    expect(dot).toMatch(/n\d+ \[label="a\\nplaceholder float64\[\]"/);
    expect(dot).toContain('subgraph cluster_gradients');
  });

  test('sin(x) * y has Hessian [[−y sin x, cos x], [cos x, 0]]', () => {
    const { expression, inputs } = parsed('sin(x) * y');
    const { hessian } = hessianAndGradient(expression, inputs, { x: 1, y: 2 });
    expect(hessian[0][0]).toBeCloseTo(-2 * Math.sin(1), 12);
    expect(hessian[0][1]).toBeCloseTo(Math.cos(1), 12);
    expect(hessian[1][0]).toBeCloseTo(Math.cos(1), 12);
    expect(hessian[1][1]).toBe(0);
  });

  test('central differences: best near h = 1e-5 in float64, far worse at the smallest step, worse in float32', () => {
    const { expression, inputs } = parsed('exp(x) * sin(x)');
    const [errors] = differenceErrors(expression, inputs, { x: 0.5 });
    expect(errors.float64).toHaveLength(STEPS.length);
    const best64 = Math.min(...errors.float64);
    expect(best64).toBeLessThan(1e-9);
    expect(errors.float64[STEPS.length - 1]).toBeGreaterThan(best64 * 100);
    expect(Math.min(...errors.float32)).toBeGreaterThan(best64 * 100);
  });
});
