/**
 * Every op of the registry has a row in the op table, or a line in COVERED_ELSEWHERE saying where it is tested:
 * a new op without either fails here. The lines are checked too, so they cannot go stale.
 */
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { Graph, allOps, gradients, sum } from '../../../src';
import { COMPOSITE_ROWS, COVERED_ELSEWHERE, OP_ROWS } from '../cases';

const registry = allOps().map((r) => r.name);
const rowOps = new Set(OP_ROWS.map((row) => row.op));

test.each(registry)('%s has a row in the op table or a reason to have none', (op) => {
  expect(rowOps.has(op) || op in COVERED_ELSEWHERE).toBe(true);
});

test('no op has both a row and a line in COVERED_ELSEWHERE', () => {
  expect(Object.keys(COVERED_ELSEWHERE).filter((op) => rowOps.has(op))).toEqual([]);
});

test('every row names a registry op, or a composite listed as such', () => {
  const known = new Set([...registry, ...COMPOSITE_ROWS]);
  expect([...rowOps].filter((op) => !known.has(op))).toEqual([]);
});

test.each(Object.entries(COVERED_ELSEWHERE))('%s: where it is covered says its name', (op, { file, via }) => {
  expect(registry).toContain(op);
  if (via !== undefined) {
    // A gradient op of `via`: the gradient of the row's second-order case builds it, and the second-order suite
    // differentiates that gradient again.
    const row = OP_ROWS.find((r) => r.op === via && (r.secondOrder?.length ?? 0) > 0);
    if (row?.secondOrder === undefined) throw new Error(`${op}: no row of '${via}' with second-order cases`);
    const c = row.secondOrder[0];
    const g = new Graph();
    const xs = c.inputs.map((o, i) => g.placeholder(`x${i}`, [...o.shape], 'float64'));
    gradients(sum((c.build ?? row.build)(...xs)), xs);
    expect(g.nodes.map((n) => n.op)).toContain(op);
    return;
  }
  if (file === undefined) throw new Error(`${op}: give a file or a row it is covered through`);
  const path = join(__dirname, '..', '..', file);
  expect(existsSync(path)).toBe(true);
  expect(readFileSync(path, 'utf8')).toMatch(new RegExp(`\\b${op}\\b`));
});

test('every row has some check, and every forward or tfjs-gradient case a tfjs twin', () => {
  for (const row of OP_ROWS) {
    const checks = [row.forward, row.gradFd, row.gradTfjs, row.secondOrder].map((c) => c?.length ?? 0);
    expect([row.op, checks.some((n) => n > 0)]).toEqual([row.op, true]);
    for (const c of [...(row.forward ?? []), ...(row.gradTfjs ?? [])]) {
      expect([row.op, c.label, (c.tfjs ?? row.tfjs) !== undefined]).toEqual([row.op, c.label, true]);
    }
  }
});
