/**
 * `mayMatch` (pattern.ts) is the rewrite passes' check before they make a captures object for a rule: it must never
 * turn down a node that `match` accepts. On random graphs over the ops the rule tables name (literals on either side
 * of commuted ops, nested patterns), every rule of both tables is tried on every node both ways.
 */
import fc from 'fast-check';
import {
  add,
  div,
  exp,
  Graph,
  identity,
  log,
  mul,
  neg,
  optimize,
  pow,
  sigmoid,
  softmax,
  sqrt,
  square,
  sub,
  sum,
  Tensor,
} from '../../src';
import { Captures, match, mayMatch } from '../../src/passes/pattern';
import { EXACT_RULES, STABILIZING_RULES } from '../../src/passes/simplify';

const RULES = [...EXACT_RULES, ...STABILIZING_RULES];

describe('mayMatch', () => {
  test('accepts every node a rule pattern matches, on random graphs', () => {
    const step = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.integer({ min: 0, max: 13 }) });
    let matched = 0;
    let turnedDown = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), (steps) => {
        const g = new Graph();
        const pool: Tensor[] = [g.placeholder('x', [2, 3]), g.placeholder('y', [2, 3])];
        for (const { a, b, kind } of steps) {
          const left = pool[a % pool.length];
          const right = pool[b % pool.length];
          const t = [
            () => add(left, 0),
            () => add(0, left),
            () => mul(1, left),
            () => mul(left, right),
            () => mul(left, left),
            () => sub(exp(left), 1),
            () => log(add(1, right)),
            () => div(left, sqrt(right)),
            () => pow(left, 2),
            () => neg(neg(left)),
            () => identity(left),
            () => div(1, add(1, exp(neg(left)))),
            () => log(softmax(left)),
            () => mul(sigmoid(left), sum(square(right), -1, true)),
          ][kind]();
          pool.push(t);
        }
        const { graph } = optimize(g, [pool[pool.length - 1]], { level: 0 });
        for (const node of graph.nodes) {
          for (const rule of RULES) {
            const captures: Captures = {};
            const matches = match(graph, node.id, rule.pattern, captures);
            const may = mayMatch(graph, node, rule.pattern);
            if (matches) matched++;
            if (!may) turnedDown++;
            if (matches) expect(may).toBe(true);
          }
        }
      }),
      { numRuns: 200, seed: 20261206 },
    );
    expect(matched).toBeGreaterThan(300);
    expect(turnedDown).toBeGreaterThan(10 * matched);
  });
});
