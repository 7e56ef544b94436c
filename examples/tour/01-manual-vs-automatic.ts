/**
 * Tour step 1: manual vs automatic differentiation. f(x) = 3x⁵ + 4x² differentiated by hand is 15x⁴ + 8x, and
 * lazygrad's gradient agrees at every point. A hand-written formula is easy to get wrong, though: writing
 * pow(3x, 5) for 3·pow(x, 5) is a different function, and a derivative "transcribed" the same way is wrong too,
 * while automatic differentiation always differentiates exactly the function the code computes.
 */
import { add, gradients, Graph, mul, pow, Session, sum, Tensor } from '../../src';
import { heading, num, table } from './util';

export interface ManualVsAutomatic {
  readonly points: number[];
  /** f(x) = 3x⁵ + 4x² as lazygrad computes it. */
  readonly f: number[];
  /** The hand derivative 15x⁴ + 8x. */
  readonly manual: number[];
  /** lazygrad's gradient of f. */
  readonly automatic: number[];
  /** The slip: pow(3x, 5) + pow(4x, 2), a different function. */
  readonly slipF: number[];
  /** The slipped hand derivative pow(15x, 4) + 8x. */
  readonly slipManual: number[];
  /** lazygrad's gradient of the slipped function: 1215x⁴ + 32x, its true derivative. */
  readonly slipAutomatic: number[];
  readonly text: string;
}

const POINTS = [-2, -1, -0.5, 0, 0.5, 1, 1.5, 2];

/** f and its lazygrad gradient at every point at once: f is elementwise, so ∂(Σf)/∂xᵢ = f'(xᵢ). */
function valueAndGradient(build: (x: Tensor) => Tensor, points: readonly number[]): { y: number[]; dy: number[] } {
  const g = new Graph();
  const x = g.placeholder('x', [points.length], 'float64');
  const y = build(x);
  const [dy] = gradients(sum(y), [x]) as Tensor[];
  const result = new Session(g).run({ y, dy }, { x: [...points] });
  return { y: Array.from(result.y.data), dy: Array.from(result.dy.data) };
}

/** Runs step 1 and returns its numbers and printed text. */
export function manualVsAutomatic(points: readonly number[] = POINTS): ManualVsAutomatic {
  const real = valueAndGradient((x) => add(mul(3, pow(x, 5)), mul(4, pow(x, 2))), points);
  const slip = valueAndGradient((x) => add(pow(mul(3, x), 5), pow(mul(4, x), 2)), points);
  const manual = points.map((x) => 15 * x ** 4 + 8 * x);
  const slipManual = points.map((x) => (15 * x) ** 4 + 8 * x);
  const rows = points.map((x, i) => [num(x), num(real.y[i]), num(manual[i]), num(real.dy[i])]);
  const slipRows = points.map((x, i) => [
    num(x),
    num(slip.y[i]),
    num(slipManual[i]),
    num(slip.dy[i]),
    num(1215 * x ** 4 + 32 * x),
  ]);
  const text = [
    heading('Step 1: manual vs automatic differentiation'),
    '',
    'f(x) = 3x⁵ + 4x²; by hand f′(x) = 15x⁴ + 8x; lazygrad: gradients(sum(f), [x]) on a float64 graph.',
    '',
    table(['x', 'f(x)', 'hand 15x⁴ + 8x', 'lazygrad ∂f/∂x'], rows),
    '',
    'The slip: writing pow(3*x, 5) + pow(4*x, 2) for 3x⁵ + 4x² (and pow(15*x, 4) + 8x for the derivative)',
    'computes another function, (3x)⁵ + (4x)² = 243x⁵ + 16x², and a derivative that belongs to neither.',
    'lazygrad differentiates whatever the code computes, so its gradient of the slipped code is that',
    "function's true derivative 1215x⁴ + 32x: AD cannot make the transcription error, only the code can.",
    '',
    table(['x', 'slipped f', 'slipped hand f′', 'lazygrad ∂/∂x', '1215x⁴ + 32x'], slipRows),
  ].join('\n');
  return {
    points: [...points],
    f: real.y,
    manual,
    automatic: real.dy,
    slipF: slip.y,
    slipManual,
    slipAutomatic: slip.dy,
    text,
  };
}

if (require.main === module) console.log(manualVsAutomatic().text);
