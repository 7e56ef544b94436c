import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { allOps, exp, Graph, Rule } from '../../src';
import * as passes from '../../src/passes';
import { capture, emit, op, ruleOps } from '../../src/passes/pattern';
import { rewritePass } from '../../src/passes/simplify';

/**
 * Every op a rule names must exist: the rule tables spell ops as strings, and a misspelt or removed op would make a
 * pattern never match (silently) or a rewrite throw only when it fires. This test replaces run-time guards.
 */

const KNOWN = new Set(allOps().map((r) => r.name));

/** `table/rule: op` for every op name in the tables that `known` lacks. */
function unknownRuleOps(tables: { readonly [table: string]: readonly Rule[] }, known: ReadonlySet<string>): string[] {
  return Object.entries(tables).flatMap(([table, rules]) =>
    rules.flatMap((rule) =>
      ruleOps(rule)
        .filter((name) => !known.has(name))
        .map((name) => `${table}/${rule.name}: ${name}`),
    ),
  );
}

const isRule = (value: unknown): value is Rule =>
  typeof value === 'object' && value !== null && 'name' in value && 'pattern' in value && 'rewrite' in value;

/** Every rule table the passes module exports (an array of rules), so a new table is checked without listing it. */
const TABLES: { [table: string]: readonly Rule[] } = Object.fromEntries(
  Object.entries(passes).filter(
    (entry): entry is [string, readonly Rule[]] =>
      Array.isArray(entry[1]) && entry[1].length > 0 && entry[1].every(isRule),
  ),
);

test('the rule tables are found', () => {
  expect(Object.keys(TABLES).sort()).toEqual(['EXACT_RULES', 'STABILIZING_RULES']);
});

test('every op named in a rule table (pattern or replacement) exists in the registry', () => {
  expect(unknownRuleOps(TABLES, KNOWN)).toEqual([]);
  // Not vacuous: the tables name many ops, and replacement ops are seen too.
  const named = new Set(Object.values(TABLES).flatMap((rules) => rules.flatMap(ruleOps)));
  expect(named.size).toBeGreaterThan(30);
  expect([...named]).toEqual(expect.arrayContaining(['reciprocal', 'rsqrt', 'softmaxCrossEntropyFromLogSoftmax']));
});

test('the check reports an unknown op in a pattern, in a list of alternatives and in a replacement', () => {
  const fake: Rule[] = [
    { name: 'known', pattern: op('exp', [capture('x')]), rewrite: (c) => c.x.id, emits: ['log'] },
    {
      name: 'misspelt',
      pattern: op('nonesuch', [op(['add', 'adn'], [capture('x')])]),
      rewrite: (c) => c.x.id,
      emits: ['reciprocl'],
    },
  ];
  expect(unknownRuleOps({ FAKE: fake }, KNOWN).sort()).toEqual([
    'FAKE/misspelt: adn',
    'FAKE/misspelt: nonesuch',
    'FAKE/misspelt: reciprocl',
  ]);
});

test('a rule that builds an op its emits does not list is an error when it fires', () => {
  const g = new Graph();
  const x = g.placeholder('x', [2]);
  const y = exp(x);
  const undeclared: Rule = {
    name: 'exp-to-sin',
    pattern: op('exp', [capture('x')]),
    rewrite: (c, r, target) => emit(target, 'sin', [c.x.id], {}, r.name),
  };
  const slice = { graph: g, outputs: [y.id], bindings: new Map<number, number>() };
  expect(() => rewritePass('fake', [undeclared]).run(slice)).toThrow(/rule exp-to-sin built a sin node/);
  expect(rewritePass('fake', [{ ...undeclared, emits: ['sin'] }]).run(slice).changes).toEqual({ 'exp-to-sin': 1 });
});

test('every op the passes build by a literal name (emit, opRecord) exists', () => {
  const folder = join(__dirname, '../../src/passes');
  const names: string[] = [];
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(folder, file), 'utf8');
    for (const m of text.matchAll(/\bemit\(\s*\w+,\s*'(\w+)'|\bopRecord\(\s*'(\w+)'\)/g)) names.push(m[1] ?? m[2]);
  }
  expect(names.length).toBeGreaterThan(20);
  expect(names.filter((name) => !KNOWN.has(name))).toEqual([]);
});
