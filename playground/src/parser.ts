/**
 * The playground's expression language: numbers, named inputs, + − × ÷ ^ (and their ASCII spellings * / -),
 * parentheses, unary minus and the unary functions of lazygrad listed in FUNCTIONS. A precedence-climbing parser
 * with no recursion depth beyond the expression's nesting; errors carry the column they were found at.
 */

/** The unary functions the page knows; each is a lazygrad op of the same name. */
export const FUNCTIONS = [
  'sin',
  'cos',
  'tan',
  'exp',
  'log',
  'sqrt',
  'tanh',
  'sigmoid',
  'relu',
  'abs',
  'square',
  'sinh',
  'cosh',
  'atan',
  'softplus',
] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export type BinaryOperator = '+' | '-' | '*' | '/' | '^';

export type Expression =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'input'; readonly name: string }
  | { readonly kind: 'negate'; readonly operand: Expression }
  | { readonly kind: 'call'; readonly name: FunctionName; readonly operand: Expression }
  | {
      readonly kind: 'binary';
      readonly operator: BinaryOperator;
      readonly left: Expression;
      readonly right: Expression;
    };

export type ParseResult =
  | { readonly ok: true; readonly expression: Expression; readonly inputs: string[] }
  | { readonly ok: false; readonly message: string; readonly column: number };

interface Token {
  readonly kind: 'number' | 'name' | 'operator' | '(' | ')' | 'end';
  readonly text: string;
  readonly column: number;
}

const OPERATORS: Record<string, BinaryOperator | undefined> = {
  '+': '+',
  '-': '-',
  '−': '-',
  '*': '*',
  '×': '*',
  '·': '*',
  '/': '/',
  '÷': '/',
  '^': '^',
};

class ParseError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(text.slice(i));
    const name = /^[A-Za-z_][A-Za-z_0-9]*/.exec(text.slice(i));
    if (number !== null) {
      tokens.push({ kind: 'number', text: number[0], column: i + 1 });
      i += number[0].length;
    } else if (name !== null) {
      tokens.push({ kind: 'name', text: name[0], column: i + 1 });
      i += name[0].length;
    } else if (OPERATORS[c] !== undefined) {
      tokens.push({ kind: 'operator', text: OPERATORS[c] as string, column: i + 1 });
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, column: i + 1 });
      i++;
    } else {
      throw new ParseError(`unexpected character '${c}'`, i + 1);
    }
  }
  tokens.push({ kind: 'end', text: 'end of input', column: text.length + 1 });
  return tokens;
}

const PRECEDENCE: Record<BinaryOperator, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '^': 4 };

class Parser {
  private at = 0;
  readonly inputs: string[] = [];

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token {
    return this.tokens[this.at];
  }

  private next(): Token {
    return this.tokens[this.at++];
  }

  /** Binary operators at or above `minimum` precedence; ^ is right-associative and binds tighter than unary minus. */
  binary(minimum: number): Expression {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      const operator = token.kind === 'operator' ? (token.text as BinaryOperator) : null;
      if (operator === null || PRECEDENCE[operator] < minimum) return left;
      this.next();
      const right = operator === '^' ? this.binary(PRECEDENCE[operator]) : this.binary(PRECEDENCE[operator] + 1);
      left = { kind: 'binary', operator, left, right };
    }
  }

  /** Unary minus binds looser than ^ (so -x^2 is −(x²)) and tighter than × and ÷. */
  private unary(): Expression {
    const token = this.peek();
    if (token.kind === 'operator' && (token.text === '-' || token.text === '+')) {
      this.next();
      const operand = this.binary(3);
      return token.text === '-' ? { kind: 'negate', operand } : operand;
    }
    return this.primary();
  }

  private primary(): Expression {
    const token = this.next();
    if (token.kind === 'number') return { kind: 'number', value: Number(token.text) };
    if (token.kind === '(') {
      const inner = this.binary(1);
      this.expect(')');
      return inner;
    }
    if (token.kind === 'name') {
      if (this.peek().kind === '(') {
        if (!(FUNCTIONS as readonly string[]).includes(token.text)) {
          throw new ParseError(`unknown function '${token.text}' (known: ${FUNCTIONS.join(', ')})`, token.column);
        }
        this.next();
        const operand = this.binary(1);
        this.expect(')');
        return { kind: 'call', name: token.text as FunctionName, operand };
      }
      if ((FUNCTIONS as readonly string[]).includes(token.text)) {
        throw new ParseError(`'${token.text}' is a function: write ${token.text}(…)`, token.column);
      }
      if (!this.inputs.includes(token.text)) this.inputs.push(token.text);
      return { kind: 'input', name: token.text };
    }
    throw new ParseError(`expected a number, a name or '(' but found '${token.text}'`, token.column);
  }

  expect(kind: Token['kind']): void {
    const token = this.next();
    if (token.kind !== kind) {
      throw new ParseError(
        `expected '${kind === 'end' ? 'end of input' : kind}' but found '${token.text}'`,
        token.column,
      );
    }
  }
}

/**
 * Parses an expression; the inputs are its names in order of first appearance.
 *
 * @example parse('(a + b) * (b + 1)') // { ok: true, inputs: ['a', 'b'], expression: … }
 */
export function parse(text: string): ParseResult {
  try {
    const parser = new Parser(tokenize(text));
    const expression = parser.binary(1);
    parser.expect('end');
    return { ok: true, expression, inputs: parser.inputs };
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, message: error.message, column: error.column };
    throw error;
  }
}

/** The expression as text, fully parenthesized only where precedence needs it (for node labels). */
export function format(expression: Expression): string {
  switch (expression.kind) {
    case 'number':
      return String(expression.value);
    case 'input':
      return expression.name;
    case 'negate':
      return `−${wrap(expression.operand, 3)}`;
    case 'call':
      return `${expression.name}(${format(expression.operand)})`;
    case 'binary': {
      const p = PRECEDENCE[expression.operator];
      const symbol = { '+': '+', '-': '−', '*': '×', '/': '÷', '^': '^' }[expression.operator];
      const left = wrap(expression.left, expression.operator === '^' ? p + 1 : p);
      const right = wrap(expression.right, expression.operator === '^' ? p : p + 1);
      return `${left} ${symbol} ${right}`;
    }
  }
}

function precedenceOf(expression: Expression): number {
  if (expression.kind === 'binary') return PRECEDENCE[expression.operator];
  if (expression.kind === 'negate') return 3;
  return 5;
}

function wrap(expression: Expression, minimum: number): string {
  const text = format(expression);
  return precedenceOf(expression) < minimum ? `(${text})` : text;
}
