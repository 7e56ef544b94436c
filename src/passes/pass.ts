import { now } from '../graph/clock';
import { GraphError } from '../graph/errors';
import { escapeName, quoteName } from '../graph/rules';
import { formatShape, shapesEqual } from '../graph/shape';
import { isLeafOp, opRecord } from '../ops/registry';
import { Slice } from './slice';

/** What one pass did: sizes before and after, each kind of change counted, time taken. */
export interface PassReport {
  readonly pass: string;
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  readonly changes: { readonly [rule: string]: number };
  readonly timeMs: number;
}

/** A pass: a named pure function from a slice to a rewritten slice, counting what it changed. */
export interface Pass {
  readonly name: string;
  /**
   * Run again on the slice it returned, the pass changes nothing (its one sweep reaches its own fixed point: folding
   * cascades, merges cascade, pruning). The pipeline does not run it again on that slice (`runPipeline`).
   */
  readonly idempotent?: boolean;
  run(slice: Slice): { slice: Slice; changes: { [rule: string]: number } };
  /** A pass doing several passes' work (`epilogueAndFusion`): their reports. Called instead of `run`. */
  runParts?(slice: Slice): { slice: Slice; reports: PassReport[] };
}

/** A pass doing several passes' work in one (`partsPass`). */
export type PartsPass = Pass & { runParts(slice: Slice): { slice: Slice; reports: PassReport[] } };

/**
 * The pass that does several passes' work in one (`runParts`, one report per part: `epilogueAndFusion`,
 * `simplifyAndAddn`); its `run` gives their changes together.
 */
export function partsPass(name: string, runParts: PartsPass['runParts']): PartsPass {
  return {
    name,
    run(slice) {
      const { slice: result, reports } = runParts(slice);
      return { slice: result, changes: Object.assign({}, ...reports.map((r) => r.changes)) };
    },
    runParts,
  };
}

/** The report of `pass`, which took a slice of `nodesBefore` nodes to `nodesAfter`, started at `start` (`now()`). */
export function passReport(
  pass: string,
  nodesBefore: number,
  nodesAfter: number,
  changes: PassReport['changes'],
  start: number,
): PassReport {
  return { pass, nodesBefore, nodesAfter, changes, timeMs: now() - start };
}

/** One line per report, Grappler style: `fold  nodes 12 → 7 (−5)  folded 5  0.3 ms`. */
export function formatReport(report: PassReport): string {
  const delta = report.nodesAfter - report.nodesBefore;
  const changes = Object.entries(report.changes)
    .filter(([, n]) => n > 0)
    .map(([rule, n]) => `${escapeName(rule)} ${n}`)
    .join(', ');
  const sign = delta > 0 ? `+${delta}` : delta < 0 ? `−${-delta}` : '±0';
  return (
    // Pass and rule names are the engine's own, but a custom pass may name itself: escaped like node names.
    `${escapeName(report.pass).padEnd(8)} nodes ${report.nodesBefore} → ${report.nodesAfter} (${sign})` +
    `${changes ? `  ${changes}` : ''}  ${report.timeMs.toFixed(2)} ms`
  );
}

/**
 * Runs passes in order, repeating the whole list until a round changes nothing (a true fixed point) or the
 * round cap is reached. Returns the final slice and one report per pass run.
 *
 * After the first round, a pass known to leave the current slice as it is is not run: it left this very slice (the
 * same object) unchanged before, or returned it itself and is `idempotent`. The pipeline stops as soon as every pass
 * is known to leave the current slice unchanged, without running the rest of the round. Reports are the same
 * (after the first round only passes that change something are reported, and a skipped pass would change nothing).
 */
export function runPipeline(
  slice: Slice,
  passes: readonly Pass[],
  maxRounds = 8,
  verify = false,
): { slice: Slice; reports: PassReport[] } {
  const reports: PassReport[] = [];
  let current = slice;
  // The slice each pass is known to leave unchanged.
  const settled = new Map<Pass, Slice>();
  const allSettled = (): boolean => passes.every((pass) => settled.get(pass) === current);
  for (let round = 0; round < maxRounds; round++) {
    let changed = false;
    for (const pass of passes) {
      if (round > 0 && allSettled()) return { slice: current, reports };
      if (round > 0 && settled.get(pass) === current) continue;
      if (pass.runParts !== undefined) {
        const result = pass.runParts(current);
        for (const report of result.reports) {
          const total = Object.values(report.changes).reduce((a, b) => a + b, 0);
          if (total > 0 || round === 0) reports.push(report);
          if (total > 0) changed = true;
        }
        if (result.slice === current || pass.idempotent === true) settled.set(pass, result.slice);
        current = result.slice;
        if (verify) verifySlice(current, pass.name);
        continue;
      }
      const start = now();
      const before = current.graph.size;
      const result = pass.run(current);
      const total = Object.values(result.changes).reduce((a, b) => a + b, 0);
      if (total > 0 || round === 0)
        reports.push(passReport(pass.name, before, result.slice.graph.size, result.changes, start));
      if (total > 0) changed = true;
      if (result.slice === current || pass.idempotent === true) settled.set(pass, result.slice);
      current = result.slice;
      if (verify) verifySlice(current, pass.name);
    }
    if (!changed) break;
  }
  return { slice: current, reports };
}

/**
 * The verifier run between passes in tests and with `{ verify: true }`: every node re-inferred by its op's rule
 * must give the dtype and shape it carries, inputs must precede their consumers, and outputs must exist.
 */
export function verifySlice(slice: Slice, after: string): void {
  const graph = slice.graph;
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (input >= node.id)
        throw new GraphError(`verify after ${after}: node %${node.id} reads a later node %${input}`);
    }
    if (isLeafOp(node.op)) continue;
    const info = opRecord(node.op).infer(
      node.inputs.map((i) => graph.node(i)),
      node.attrs,
    );
    if (info.dtype !== node.dtype || !shapesEqual(info.shape, node.shape)) {
      throw new GraphError(
        `verify after ${after}: ${node.op} ${quoteName(node.name)} carries ${node.dtype}${formatShape(node.shape)} but ` +
          `re-infers to ${info.dtype}${formatShape(info.shape)}`,
      );
    }
  }
  for (const id of slice.outputs) {
    if (id < 0 || id >= graph.size) throw new GraphError(`verify after ${after}: output %${id} does not exist`);
  }
}
