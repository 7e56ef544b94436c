/**
 * The log-log plot of the central-difference error against the step h: truncation error falls as h² until
 * rounding error (growing as ε/h) takes over, sooner in float32 than in float64.
 */
import { STEPS } from './analysis';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 520;
const HEIGHT = 300;
const MARGIN = { left: 56, right: 110, top: 14, bottom: 40 };
/** Errors below this (exact zeros included) are drawn at it. */
const FLOOR = 1e-17;

function make<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Draws the two series (float32, float64) of errors against STEPS on log-log axes. */
export function drawDifferencePlot(series: { label: string; errors: number[]; className: string }[]): SVGSVGElement {
  const svg = make('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img' });
  svg.setAttribute('aria-label', 'central-difference error against step h, log-log, float32 and float64');
  const logs = series.flatMap((s) => s.errors.map((e) => Math.log10(Math.max(e, FLOOR))));
  const top = Math.ceil(Math.max(...logs, -1));
  const bottom = Math.floor(Math.min(...logs, top - 2));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (h: number): number => MARGIN.left + ((Math.log10(h) + 12) / 11) * plotWidth;
  const y = (error: number): number =>
    MARGIN.top + ((top - Math.log10(Math.max(error, FLOOR))) / (top - bottom)) * plotHeight;
  const axes = make('g', { class: 'axes' });
  for (let k = -12; k <= -1; k += 1) {
    axes.appendChild(make('line', { x1: x(10 ** k), x2: x(10 ** k), y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom }));
    if (k % 2 === 0) {
      axes.appendChild(
        make('text', { x: x(10 ** k), y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'middle' }, `1e${k}`),
      );
    }
  }
  const stride = Math.max(1, Math.ceil((top - bottom) / 8));
  for (let k = bottom; k <= top; k += stride) {
    axes.appendChild(make('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(10 ** k), y2: y(10 ** k) }));
    axes.appendChild(make('text', { x: MARGIN.left - 6, y: y(10 ** k) + 4, 'text-anchor': 'end' }, `1e${k}`));
  }
  axes.appendChild(make('text', { x: MARGIN.left + plotWidth / 2, y: HEIGHT - 6, 'text-anchor': 'middle' }, 'step h'));
  svg.appendChild(axes);
  series.forEach((s, k) => {
    const points = STEPS.map((h, i) => `${x(h)},${y(s.errors[i])}`).join(' ');
    svg.appendChild(make('polyline', { points, class: `series ${s.className}` }));
    for (const [i, h] of STEPS.entries()) {
      svg.appendChild(make('circle', { cx: x(h), cy: y(s.errors[i]), r: 3, class: `series ${s.className}` }));
    }
    const legendY = MARGIN.top + 14 + k * 20;
    svg.appendChild(
      make('line', {
        x1: WIDTH - MARGIN.right + 10,
        x2: WIDTH - MARGIN.right + 30,
        y1: legendY,
        y2: legendY,
        class: `series ${s.className}`,
      }),
    );
    svg.appendChild(make('text', { x: WIDTH - MARGIN.right + 36, y: legendY + 4 }, s.label));
  });
  return svg;
}

/** The training loss per step, on a linear scale from 0 to the largest loss. */
export function drawLossCurve(losses: readonly number[]): SVGSVGElement {
  const svg = make('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img' });
  svg.setAttribute('aria-label', `training loss over ${losses.length} steps`);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const top = Math.max(...losses, 1e-6);
  const steps = Math.max(losses.length - 1, 1);
  const x = (i: number): number => MARGIN.left + (i / steps) * plotWidth;
  const y = (loss: number): number => MARGIN.top + (1 - loss / top) * plotHeight;
  const axes = make('g', { class: 'axes' });
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    axes.appendChild(
      make('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(top * fraction), y2: y(top * fraction) }),
    );
    axes.appendChild(
      make('text', { x: MARGIN.left - 6, y: y(top * fraction) + 4, 'text-anchor': 'end' }, (top * fraction).toFixed(2)),
    );
  }
  axes.appendChild(
    make(
      'text',
      { x: MARGIN.left + plotWidth / 2, y: HEIGHT - 6, 'text-anchor': 'middle' },
      `step (1 … ${losses.length})`,
    ),
  );
  svg.appendChild(axes);
  svg.appendChild(
    make('polyline', { points: losses.map((loss, i) => `${x(i)},${y(loss)}`).join(' '), class: 'series float64' }),
  );
  return svg;
}
