/**
 * The playground's expression parser (playground/src/parser.ts): precedence, associativity, the Unicode and ASCII
 * operator spellings, unary minus, functions, inputs in order of appearance, and errors with their column.
 */
import { Expression, format, parse } from '../../playground/src/parser';

function parsed(text: string): { expression: Expression; inputs: string[] } {
  const result = parse(text);
  if (!result.ok) throw new Error(`${text}: ${result.message}`);
  return result;
}

/** Evaluates a parsed expression in plain JS, to check the tree's shape by its value. */
function value(expression: Expression, at: Record<string, number>): number {
  switch (expression.kind) {
    case 'number':
      return expression.value;
    case 'input':
      return at[expression.name];
    case 'negate':
      return -value(expression.operand, at);
    case 'call': {
      const x = value(expression.operand, at);
      const f: Record<string, (x: number) => number> = {
        sigmoid: (t) => 1 / (1 + Math.exp(-t)),
        relu: (t) => Math.max(t, 0),
        square: (t) => t * t,
        softplus: (t) => Math.log1p(Math.exp(t)),
      };
      return (f[expression.name] ?? (Math as unknown as Record<string, (x: number) => number>)[expression.name])(x);
    }
    case 'binary': {
      const l = value(expression.left, at);
      const r = value(expression.right, at);
      return { '+': l + r, '-': l - r, '*': l * r, '/': l / r, '^': l ** r }[expression.operator];
    }
  }
}

const evaluateText = (text: string, at: Record<string, number> = {}): number => value(parsed(text).expression, at);

describe('playground parser', () => {
  test('the seed expression has inputs a and b and evaluates to 6 at (2, 1)', () => {
    const { expression, inputs } = parsed('(a + b) * (b + 1)');
    expect(inputs).toEqual(['a', 'b']);
    expect(value(expression, { a: 2, b: 1 })).toBe(6);
  });

  test('× and ÷ bind tighter than + and −, which associate to the left', () => {
    expect(evaluateText('1 + 2 * 3')).toBe(7);
    expect(evaluateText('8 - 3 - 2')).toBe(3);
    expect(evaluateText('8 / 4 / 2')).toBe(1);
    expect(evaluateText('2 × 3 ÷ 4 − 1')).toBe(0.5);
  });

  test('^ is right-associative and binds tighter than unary minus', () => {
    expect(evaluateText('2 ^ 3 ^ 2')).toBe(512);
    expect(evaluateText('-2 ^ 2')).toBe(-4);
    expect(evaluateText('(-2) ^ 2')).toBe(4);
    expect(evaluateText('2 ^ -1')).toBe(0.5);
    expect(evaluateText('2 * -3')).toBe(-6);
  });

  test('functions take one argument; other names are inputs, listed once in order of appearance', () => {
    const { inputs } = parsed('sin(x) * y + tanh(x * z) - sigmoid(y)');
    expect(inputs).toEqual(['x', 'y', 'z']);
    expect(evaluateText('sin(x) * y', { x: 1, y: 2 })).toBeCloseTo(Math.sin(1) * 2, 12);
    expect(evaluateText('sqrt(exp(log(4)))')).toBeCloseTo(2, 12);
    expect(evaluateText('relu(-3) + abs(-3)')).toBe(3);
  });

  test('numbers: decimals and exponents', () => {
    expect(evaluateText('1.5e2 + .5')).toBe(150.5);
  });

  test('errors say what was wrong and at which column', () => {
    expect(parse('a +')).toEqual({
      ok: false,
      message: "expected a number, a name or '(' but found 'end of input'",
      column: 4,
    });
    expect(parse('(a + b')).toMatchObject({ ok: false, column: 7 });
    expect(parse('a $ b')).toEqual({ ok: false, message: "unexpected character '$'", column: 3 });
    expect(parse('foo(x)')).toMatchObject({
      ok: false,
      column: 1,
      message: expect.stringContaining("unknown function 'foo'"),
    });
    expect(parse('sin + 1')).toMatchObject({ ok: false, message: expect.stringContaining('is a function') });
    expect(parse('a b')).toMatchObject({ ok: false, column: 3 });
  });

  test('format prints the expression back with only the parentheses precedence needs', () => {
    expect(format(parsed('(a + b) * (b + 1)').expression)).toBe('(a + b) × (b + 1)');
    expect(format(parsed('a - (b - c)').expression)).toBe('a − (b − c)');
    expect(format(parsed('(2 ^ 3) ^ 2').expression)).toBe('(2 ^ 3) ^ 2');
  });
});
