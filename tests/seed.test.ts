import { addMultiply, fanOut, logProductSine, neuron, SeedExample, sgdStep } from '../examples/seed-examples';

function byName(example: SeedExample): Map<string, number> {
  // Gradients are named like '∂y/∂x1': key them by the x alone.
  return new Map([...example.outputs, ...example.gradients].map((q) => [q.name.replace(/^∂.*\/∂/, ''), q.value]));
}

describe('the seed examples, with the tutorial numbers', () => {
  test('y = ln(x1) + x1·x2 − sin(x2) at (2, 5): y ≈ 11.652, ∂y/∂x1 = 5.5, ∂y/∂x2 ≈ 1.716', () => {
    const v = byName(logProductSine());
    expect(v.get('y')).toBeCloseTo(11.652, 3);
    expect(v.get('x1')).toBeCloseTo(5.5, 5);
    expect(v.get('x2')).toBeCloseTo(1.716, 3);
  });

  test('e = (a+b)(b+1) at (2, 1): e = 6, ∂e/∂a = 2, ∂e/∂b = 5', () => {
    const v = byName(fanOut());
    expect([v.get('e'), v.get('a'), v.get('b')]).toEqual([6, 2, 5]);
  });

  test('f = (x+y)z at (−2, 5, −4): f = −12, ∂f/∂x = ∂f/∂y = −4, ∂f/∂z = 3', () => {
    const v = byName(addMultiply());
    expect([v.get('f'), v.get('x'), v.get('y'), v.get('z')]).toEqual([-12, -4, -4, 3]);
  });

  test('the neuron σ(w0x0 + w1x1 + w2): f ≈ 0.731, ∂f/∂w ≈ [−0.197, −0.393, 0.197], ∂f/∂x ≈ [0.393, −0.590]', () => {
    const v = byName(neuron());
    expect(v.get('f')).toBeCloseTo(0.731, 3);
    expect(v.get('w0')).toBeCloseTo(-0.197, 3);
    expect(v.get('w1')).toBeCloseTo(-0.393, 3);
    expect(v.get('w2')).toBeCloseTo(0.197, 3);
    expect(v.get('x0')).toBeCloseTo(0.393, 3);
    expect(v.get('x1')).toBeCloseTo(-0.59, 3);
  });

  test('each example agrees with finite differences and prints its gradient graph and plan', () => {
    for (const example of [logProductSine(), fanOut(), addMultiply(), neuron()]) {
      expect(example.gradientCheck.ok).toBe(true);
      expect(example.gradientGraph).toContain('gradients/');
      expect(example.plan).toMatch(/^passes:/);
    }
  });

  test('one SGD step lowers the loss', () => {
    const step = sgdStep();
    expect(step.lossAfter).toBeLessThan(step.lossBefore);
    expect(step.weightsAfter).not.toEqual(step.weightsBefore);
  });
});
