/**
 * The op table through ONNX Runtime, as jest tests: one test per case of a check, each a graph built from the
 * case (forward, gradient or second-order; float32 or float64; static or unknown dims), run on the 'onnxruntime'
 * backend of Session (one Session, so one InferenceSession per ONNX Runtime segment, per case) or exported and run
 * in onnxruntime-node by hand, compared with the js backend. Where onnxRuntimeSupport says a node cannot run in
 * ONNX Runtime, the test checks that ONNX Runtime (or exportOnnx) really refuses each such node alone, and that
 * the split (the backend's; by hand: those nodes by lazygrad, fed to the model as inputs) agrees. */
import { casesOf } from './cases';
import { OpRow, rowName } from './cases/table';
import {
  Built,
  DEFAULT_TOLERANCE,
  expectAgree,
  expectOrtAgrees,
  expectOrtRefuses,
  expectSplitAgrees,
  forwardGraph,
  GraphOptions,
  gradientGraph,
  runBackend,
  runJs,
  secondOrderGraph,
  SUITE_OPSET,
  unsupportedNodes,
} from './onnxruntime-harness';
import { ORT_OPSET } from '../../src/session/ort/partition';

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

/**
 * How a case reaches ONNX Runtime: 'backend' runs it with `new Session(g, { backend: 'onnxruntime' }).runAsync`
 * (the backend splits the plan itself); 'export' exports it with exportOnnx and runs the model in
 * onnxruntime-node by hand, with the split done here (the nodes onnxRuntimeSupport refuses computed by the js
 * backend and fed to the model).
 */
export type Via = 'backend' | 'export';

/** The number of lazygrad-kernel segments the backend's explain shows. */
function lazygradSegments(text: string): number {
  const match = /\((\d+) in ONNX Runtime, (\d+) in lazygrad kernels\)/.exec(text);
  if (match === null) throw new Error(`explain shows no split:\n${text}`);
  return Number(match[2]);
}

/**
 * Runs one case. Every node onnxRuntimeSupport refuses must really be refused by ONNX Runtime (or exportOnnx) on
 * its own, so the list cannot go stale; then the case runs through ONNX Runtime `via` the backend or by hand, and
 * its outputs must agree with the js backend's. On the backend with static shapes, the plan is split (has a
 * lazygrad segment) exactly when some node is refused.
 */
export async function runOrtCase(kind: Kind, { row, built }: OrtCase, via: Via, dynamic: boolean): Promise<void> {
  const tol = toleranceOf(kind, row);
  // The backend exports at its own opset; by hand, at the highest exportOnnx writes.
  const opset = via === 'backend' ? ORT_OPSET : SUITE_OPSET;
  const unsupported = unsupportedNodes(built, opset);
  for (const id of unsupported.keys()) await expectOrtRefuses(built, id, opset);
  if (via === 'export') {
    if (unsupported.size === 0) await expectOrtAgrees(built, tol);
    else await expectSplitAgrees(built, [...unsupported.keys()], tol, opset);
    return;
  }
  const { got, session, feeds } = await runBackend(built);
  expectAgree(built, got, runJs(built), tol);
  if (!dynamic) {
    // (With unknown dims the backend compiles for the fed sizes, where sizes-known-only exports then work.)
    const text = session.explain([...built.outputs], feeds);
    if (lazygradSegments(text) > 0 !== unsupported.size > 0) {
      const refused = [...unsupported.values()].join('\n') || 'none';
      throw new Error(`the backend's split disagrees with onnxRuntimeSupport (refused: ${refused}):\n${text}`);
    }
  }
}

/** Defines the tests of one check: `test.each` over its cases. */
export function describeOrt(title: string, check: Check, kind: Kind, options: GraphOptions, via: Via): void {
  describe(title, () => {
    const cases = ortCases(check, kind, options);
    test.each(cases.map((c) => ({ ...c, label: c.name })))('$label', (c) =>
      runOrtCase(kind, c, via, options.dynamic === true),
    );
  });
}

export { rowName };
