/**
 * The shape of the op test table: one row per op (or per attribute variant of an op), read by the shared suites in
 * ../suites. A row names the registry op it covers, its builder and its tfjs twin, and the cases of each check:
 * inputs (shapes, dtypes, domains or values), optionally a builder override for an attribute variant or a
 * composite around the op. A check with no cases is not run for that row (tfjs lacks the op, no gradient, …).
 */
import { RandomOptions } from '../util';
import { Build, Operand, TfBuild } from '../harness';

export interface Case {
  readonly label: string;
  readonly inputs: readonly Operand[];
  /** Overrides the row's builder: an attribute variant or a composite around the op. */
  readonly build?: Build;
  /** Overrides the row's tfjs twin (tfjs needs broadcasting made explicit, or lacks an axis option). */
  readonly tfjs?: TfBuild;
}

export interface OpRow {
  /** The registry name of the op the row covers (coverage.test.ts checks every op has a row). */
  readonly op: string;
  /** An attribute variant (`alpha 0.05`), when an op has several rows. */
  readonly variant?: string;
  readonly build: Build;
  /** The TensorFlow.js twin; absent when tfjs lacks the op. */
  readonly tfjs?: TfBuild;
  /** Forward values against tfjs (float32 unless an operand says otherwise). */
  readonly forward?: readonly Case[];
  /** The optimize levels the forward check runs at (default: optimizing only). */
  readonly forwardLevels?: readonly boolean[];
  /** Gradient against central finite differences, float64. */
  readonly gradFd?: readonly Case[];
  /** Gradient against tf.grads with a random dy, float32. */
  readonly gradTfjs?: readonly Case[];
  /** Second derivative against finite differences of the gradient, float64. */
  readonly secondOrder?: readonly Case[];
  /** The closed form f''(x) of an elementwise unary op, and the domain it is checked on. */
  readonly d2?: { readonly fn: (x: number) => number; readonly options: RandomOptions };
  /** Piecewise-constant op: its gradient is exactly 0, so finite differences show 0 too. */
  readonly zeroGradient?: boolean;
  /** Piecewise-linear op: its second derivative is exactly 0. */
  readonly zeroSecondOrder?: boolean;
  readonly tol?: { readonly forward?: number; readonly gradTfjs?: number };
  /**
   * Mixed into the row's seeds. Ops with a zero region (relu below 0, prelu's mixed derivative above 0) need draws
   * with some input on the nonzero side, or the "some derivative is nonzero" guard fails: a salt picks such draws.
   */
  readonly seedSalt?: string;
}

export type Shape = readonly number[];
export type ShapePair = readonly [string, Shape, Shape];

const show = (s: Shape): string => `[${s.join(', ')}]`;

/** One case per shape, each a single operand with the domain `options`. */
export function unaryCases(shapes: readonly Shape[], options: RandomOptions = {}, extra: Partial<Case> = {}): Case[] {
  return shapes.map((shape) => ({
    ...extra,
    label: `${extra.label ?? ''}${show(shape)}`,
    inputs: [{ shape, options }],
  }));
}

/** One case per broadcasting pair, with domains `a` and `b`. */
export function binaryCases(pairs: readonly ShapePair[], a: RandomOptions = {}, b: RandomOptions = {}): Case[] {
  return pairs.map(([label, sa, sb]) => ({
    label,
    inputs: [
      { shape: sa, options: a },
      { shape: sb, options: b },
    ],
  }));
}

/** A case over explicit values of one vector. */
export function valuesCase(label: string, values: readonly number[], extra: Partial<Case> = {}): Case {
  return { ...extra, label, inputs: [{ shape: [values.length], values }] };
}

/** A stable seed per (suite, row, case): a small string hash, so adding a row changes no other row's inputs. */
export function seedOf(...parts: readonly string[]): number {
  let h = 2166136261;
  for (const c of parts.join('/')) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

export function rowName(row: OpRow): string {
  return row.variant === undefined ? row.op : `${row.op} (${row.variant})`;
}

// The shape sets shared by the elementwise rows.
export const UNARY_FORWARD_SHAPES: readonly Shape[] = [[], [5], [2, 3, 4], [2, 1, 3, 2], [0, 2]];
export const UNARY_FD_SHAPES: readonly Shape[] = [[], [7], [2, 3], [2, 1, 2, 2]];
export const UNARY_TFJS_GRAD_SHAPES: readonly Shape[] = [[], [2, 3], [2, 1, 2, 3]];
export const SECOND_ORDER_SHAPES: readonly Shape[] = [[2, 3]];

export const BINARY_FORWARD_PAIRS: readonly ShapePair[] = [
  ['same shape [2, 3]', [2, 3], [2, 3]],
  ['[2, 3] with [3]', [2, 3], [3]],
  ['[3] with [2, 3]', [3], [2, 3]],
  ['[2, 1] with [1, 4]', [2, 1], [1, 4]],
  ['[] with [2, 2]', [], [2, 2]],
  ['[2, 2] with []', [2, 2], []],
  ['two scalars', [], []],
  ['[2, 1, 3] with [4, 1]', [2, 1, 3], [4, 1]],
  ['[2, 3, 1, 4] with [3, 5, 1]', [2, 3, 1, 4], [3, 5, 1]],
  ['[0, 3] with [3]', [0, 3], [3]],
];
export const BINARY_FD_PAIRS: readonly ShapePair[] = [
  ['[2, 3] and [2, 3]', [2, 3], [2, 3]],
  ['[2, 3] and [3]', [2, 3], [3]],
  ['[3] and [2, 3]', [3], [2, 3]],
  ['[2, 1] and [1, 4]', [2, 1], [1, 4]],
  ['[] and [2, 2]', [], [2, 2]],
  ['[2, 2] and []', [2, 2], []],
  ['[2, 1, 3] and [4, 1]', [2, 1, 3], [4, 1]],
  ['[2, 2, 1, 3] and [2, 1, 1]', [2, 2, 1, 3], [2, 1, 1]],
];
export const BINARY_TFJS_GRAD_PAIRS: readonly ShapePair[] = [
  ['[2, 3] and [2, 3]', [2, 3], [2, 3]],
  ['[2, 3] and [3]', [2, 3], [3]],
  ['[] and [2, 2]', [], [2, 2]],
  ['[2, 1, 3] and [4, 1]', [2, 1, 3], [4, 1]],
  ['[2, 3, 1, 4] and [3, 2, 1]', [2, 3, 1, 4], [3, 2, 1]],
];
export const SECOND_ORDER_PAIRS: readonly ShapePair[] = [
  ['[2, 3] and [2, 3]', [2, 3], [2, 3]],
  ['[2, 3] and [3]', [2, 3], [3]],
];
