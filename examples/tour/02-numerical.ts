/**
 * Tour step 2: numerical differentiation. Central and forward differences of f(x) = eˣ·sin(x) at x = 1 for step
 * sizes h = 1e-1 … 1e-12, computed inside lazygrad graphs of float32 and of float64 (so every add, sin and divide
 * rounds in that dtype), against lazygrad's exact gradient. Large h: truncation error (∝ h for forward, h² for
 * central) dominates; small h: roundoff in f(x + h) − f(x) (∝ ε/h) takes over. The error curve is a V whose
 * bottom sits near h ≈ √ε (forward) and ∛ε (central).
 */
import { DType, div, exp, gradients, Graph, mul, Session, sin, sub, add, Tensor } from '../../src';
import { heading, linePlot, sci, table, writeOut } from './util';

export const X0 = 1;
export const STEPS = Array.from({ length: 12 }, (_, i) => 10 ** -(i + 1));

export interface ErrorRow {
  readonly h: number;
  readonly central32: number;
  readonly forward32: number;
  readonly central64: number;
  readonly forward64: number;
}

export interface NumericalDifferentiation {
  readonly x0: number;
  /** lazygrad's gradient of f at x0 (float64 graph). */
  readonly exact: number;
  /** Absolute errors of each estimate against `exact`. */
  readonly rows: ErrorRow[];
  /** The h with the smallest error, per curve. */
  readonly best: { readonly [K in Exclude<keyof ErrorRow, 'h'>]: number };
  readonly svg: string;
  readonly text: string;
}

const f = (x: Tensor): Tensor => mul(exp(x), sin(x));

/** Both difference quotients for every h in one run of a graph of the given dtype. */
function differences(dtype: DType): { central: number[]; forward: number[] } {
  const g = new Graph();
  const x = g.placeholder('x', [], dtype);
  const h = g.placeholder('h', [STEPS.length], dtype);
  const fx = f(x);
  const fPlus = f(add(x, h));
  const central = div(sub(fPlus, f(sub(x, h))), mul(h, 2));
  const forward = div(sub(fPlus, fx), h);
  // No optimization: fusion would evaluate a chain of float32 ops in double precision and hide the roundoff.
  const result = new Session(g, { optimize: false, backend: 'js' }).run({ central, forward }, { x: X0, h: STEPS });
  return { central: Array.from(result.central.data), forward: Array.from(result.forward.data) };
}

function exactGradient(): number {
  const g = new Graph();
  const x = g.placeholder('x', [], 'float64');
  const [dx] = gradients(f(x), [x]) as Tensor[];
  return new Session(g).run(dx, { x: X0 }).get();
}

function argmin(rows: readonly ErrorRow[], key: Exclude<keyof ErrorRow, 'h'>): number {
  return rows.reduce((best, r) => (r[key] < best[key] ? r : best)).h;
}

/** Runs step 2 and returns the error table, the best step sizes, the SVG and the printed text. */
export function numericalDifferentiation(): NumericalDifferentiation {
  const exact = exactGradient();
  const d32 = differences('float32');
  const d64 = differences('float64');
  const rows: ErrorRow[] = STEPS.map((h, i) => ({
    h,
    central32: Math.abs(d32.central[i] - exact),
    forward32: Math.abs(d32.forward[i] - exact),
    central64: Math.abs(d64.central[i] - exact),
    forward64: Math.abs(d64.forward[i] - exact),
  }));
  const best = {
    central32: argmin(rows, 'central32'),
    forward32: argmin(rows, 'forward32'),
    central64: argmin(rows, 'central64'),
    forward64: argmin(rows, 'forward64'),
  };
  const curve = (key: keyof ErrorRow): [number, number][] => rows.map((r) => [r.h, r[key]]);
  const svg = linePlot(
    [
      { name: 'central, float64', points: curve('central64'), color: '#2563eb' },
      { name: 'forward, float64', points: curve('forward64'), color: '#2563eb', dashed: true },
      { name: 'central, float32', points: curve('central32'), color: '#dc2626' },
      { name: 'forward, float32', points: curve('forward32'), color: '#dc2626', dashed: true },
    ],
    {
      title: 'Finite-difference error of d/dx eˣ·sin x at x = 1',
      xLabel: 'step size h',
      yLabel: '|estimate − lazygrad gradient|',
      xLog: true,
    },
  );
  const text = [
    heading('Step 2: numerical differentiation'),
    '',
    `f(x) = eˣ·sin(x) at x = ${X0}; lazygrad's exact gradient eˣ(sin x + cos x) = ${exact}`,
    'central: (f(x + h) − f(x − h)) / 2h      forward: (f(x + h) − f(x)) / h',
    'Absolute errors, computed in lazygrad graphs of each dtype (no optimization passes):',
    '',
    table(
      ['h', 'central f32', 'forward f32', 'central f64', 'forward f64'],
      rows.map((r) => [sci(r.h, 0), sci(r.central32), sci(r.forward32), sci(r.central64), sci(r.forward64)]),
    ),
    '',
    `Smallest error at h = ${sci(best.central64, 0)} (central f64), ${sci(best.forward64, 0)} (forward f64), ` +
      `${sci(best.central32, 0)} (central f32), ${sci(best.forward32, 0)} (forward f32).`,
    'Right of the minimum the error falls with h (truncation: slope 2 for central, 1 for forward); left of it',
    'roundoff grows like ε/h, and in float32 x + h rounds back to x for h < 6e-8, so the estimate is 0.',
  ].join('\n');
  return { x0: X0, exact, rows, best, svg, text };
}

if (require.main === module) {
  const result = numericalDifferentiation();
  console.log(result.text);
  console.log(`\nwrote ${writeOut('numerical-error.svg', result.svg)}`);
}
