/**
 * What the tour's steps share: plain-text tables, a hand-written SVG line plot (log or linear axes), and writing
 * pictures under out/tour/. Nothing here touches lazygrad; it only formats numbers.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Where the steps write their pictures (out/ is git-ignored). */
export const OUT_DIR = path.join(__dirname, '..', '..', 'out', 'tour');

/** Writes a file under out/tour/ and returns its path relative to the repository root. */
export function writeOut(name: string, text: string): string {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, name);
  fs.writeFileSync(file, text);
  return path.relative(path.join(__dirname, '..', '..'), file);
}

/** A title line underlined, as each step's output begins. */
export function heading(title: string): string {
  return `${title}\n${'='.repeat(title.length)}`;
}

/** A table with a header row: columns are right-aligned to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A number in short scientific notation (errors and step sizes span many decades). */
export function sci(value: number, digits = 2): string {
  return value === 0 ? '0' : value.toExponential(digits);
}

/** A number with up to `digits` decimals and no trailing zeros. */
export function num(value: number, digits = 6): string {
  return String(Number(value.toFixed(digits)));
}

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** A CSS colour. */
  readonly color: string;
  readonly dashed?: boolean;
}

export interface PlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Logarithmic x axis (the y axis is always logarithmic: the tour's quantities span decades). */
  readonly xLog: boolean;
}

const WIDTH = 640;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 170, top: 40, bottom: 50 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Whole decades covering [lo, hi] (positive values). */
function decades(lo: number, hi: number): [number, number] {
  return [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
}

/**
 * A line plot as SVG text with a log-scale y axis (and optionally x), decade grid lines and a legend. Points
 * whose y is not positive are left out (a log axis has no place for them).
 */
export function linePlot(series: readonly Series[], options: PlotOptions): string {
  const all = series.flatMap((s) => s.points.filter(([, y]) => y > 0 && Number.isFinite(y)));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [y0, y1] = decades(Math.min(...ys), Math.max(...ys));
  const [x0, x1] = options.xLog ? decades(Math.min(...xs), Math.max(...xs)) : [Math.min(...xs), Math.max(...xs)];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const fx = (x: number): number => {
    const t = options.xLog ? (Math.log10(x) - x0) / (x1 - x0) : (x - x0) / (x1 - x0 || 1);
    return MARGIN.left + t * plotW;
  };
  const fy = (y: number): number => MARGIN.top + (1 - (Math.log10(y) - y0) / (y1 - y0 || 1)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" ` +
      `font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
  ];
  // Show every decade on short axes, every other one on long axes, so labels never overlap.
  const yStep = y1 - y0 > 10 ? 2 : 1;
  for (let d = y0; d <= y1; d += yStep) {
    const y = fy(10 ** d);
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">1e${d}</text>`,
    );
  }
  const xTicks: number[] = [];
  if (options.xLog) {
    for (let d = x0; d <= x1; d++) xTicks.push(10 ** d);
  } else {
    for (let x = Math.ceil(x0); x <= x1; x++) xTicks.push(x);
  }
  // Grid lines at every tick, labels at every other one when there are many.
  const xLabelStep = xTicks.length > 8 ? 2 : 1;
  xTicks.forEach((t, i) => {
    const x = fx(t);
    const label = options.xLog ? `1e${Math.round(Math.log10(t))}` : String(t);
    parts.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e7eb"/>`);
    if ((xTicks.length - 1 - i) % xLabelStep === 0) {
      parts.push(`<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${label}</text>`);
    }
  });
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#111827"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">` +
      `${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => y > 0 && Number.isFinite(y));
    const d = pts.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${fx(x).toFixed(1)},${fy(y).toFixed(1)}`).join(' ');
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const [x, y] of pts) {
      parts.push(`<circle cx="${fx(x).toFixed(1)}" cy="${fy(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    }
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 12;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
