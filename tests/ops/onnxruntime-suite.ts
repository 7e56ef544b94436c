/**
 * The op table through ONNX Runtime, as jest tests: one test per case of a check, each a graph built from the
 * case (forward, gradient or second-order; float32 or float64; static or unknown dims), exported and run in
 * onnxruntime-node (one ORT session per case), compared with the js backend. Where onnxRuntimeSupport says a node
 * cannot run in ONNX Runtime, the test checks that ONNX Runtime (or exportOnnx) really refuses each such node alone,
 * and that the split (those nodes by lazygrad, fed to the model as inputs; the rest in ONNX Runtime) agrees.
 */
import { casesOf } from './cases';
import { OpRow, rowName } from './cases/table';
import {
  Built,
  DEFAULT_TOLERANCE,
  expectOrtAgrees,
  expectOrtRefuses,
  expectSplitAgrees,
  forwardGraph,
  GraphOptions,
  gradientGraph,
  secondOrderGraph,
  unsupportedNodes,
} from './onnxruntime-harness';

export type Kind = 'forward' | 'gradient' | 'secondOrder';
type Check = 'forward' | 'gradFd' | 'gradTfjs' | 'secondOrder';

interface OrtCase {
  readonly name: string;
  readonly row: OpRow;
  readonly built: Built;
}

/**
 * The cases of `check` built as `kind` graphs. With unknown dims, a case whose builder itself needs known sizes
 * (lazygrad refuses to build it: a graph-construction error, before any export) is left out, as its op is tested
 * with static shapes.
 */
export function ortCases(check: Check, kind: Kind, options: GraphOptions): OrtCase[] {
  const out: OrtCase[] = [];
  for (const { name, row, c, seed } of casesOf(check)) {
    const build = c.build ?? row.build;
    const make = (): Built =>
      kind === 'forward'
        ? forwardGraph(seed, c.inputs, build, options)
        : kind === 'gradient'
          ? gradientGraph(seed, c.inputs, build, options)
          : secondOrderGraph(seed, c.inputs, build, options);
    if (options.dynamic !== true) {
      out.push({ name, row, built: make() });
      continue;
    }
    try {
      out.push({ name, row, built: make() });
    } catch {
      // the builder needs static sizes (checked by the static suites)
    }
  }
  return out;
}

/** The tolerance of a case: the row's forward tolerance for forward float32 graphs, else the dtype's default. */
function toleranceOf(kind: Kind, row: OpRow): number {
  return kind === 'forward' ? (row.tol?.forward ?? DEFAULT_TOLERANCE.float32) : DEFAULT_TOLERANCE.float32;
}

/** Runs one case: whole in ONNX Runtime when every node can run there, else checks the refusals and the split. */
export async function runOrtCase(kind: Kind, { row, built }: OrtCase): Promise<void> {
  const tol = toleranceOf(kind, row);
  const unsupported = unsupportedNodes(built);
  if (unsupported.size === 0) {
    await expectOrtAgrees(built, tol);
    return;
  }
  for (const id of unsupported.keys()) await expectOrtRefuses(built, id);
  await expectSplitAgrees(built, [...unsupported.keys()], tol);
}

/** Defines the tests of one check: `test.each` over its cases. */
export function describeOrt(title: string, check: Check, kind: Kind, options: GraphOptions): void {
  describe(title, () => {
    const cases = ortCases(check, kind, options);
    test.each(cases.map((c) => ({ ...c, label: c.name })))('$label', (c) => runOrtCase(kind, c));
  });
}

export { rowName };
