/**
 * Line charts as hand-written SVG (no dependency): panels side by side, each with axes, ticks, a grid and a legend.
 * Used for the demo's loss and accuracy curves.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** A thin, translucent line: for noisy per-batch values behind the main lines. */
  readonly faint?: boolean;
  /** Dots at the points. */
  readonly markers?: boolean;
}

export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** The y range; by default the data's range with a margin. */
  readonly yMin?: number;
  readonly yMax?: number;
  readonly formatY?: (value: number) => string;
}

const PANEL_WIDTH = 460;
const PANEL_HEIGHT = 320;
const MARGIN = { left: 58, right: 16, top: 36, bottom: 46 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function number(value: number): string {
  return Number(value.toFixed(2)).toString();
}

function renderPanel(panel: Panel, left: number): string {
  const points = panel.series.flatMap((s) => s.points);
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y).filter(Number.isFinite);
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(xMin + 1, ...xs);
  let yMin = panel.yMin ?? Math.min(...ys);
  let yMax = panel.yMax ?? Math.max(...ys);
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) [yMin, yMax] = [0, 1];
  if (yMax <= yMin) yMax = yMin + 1;
  const width = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const height = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x0 = left + MARGIN.left;
  const y0 = MARGIN.top;
  const sx = (x: number): number => x0 + ((x - xMin) / (xMax - xMin)) * width;
  const sy = (y: number): number => y0 + height - ((Math.min(yMax, Math.max(yMin, y)) - yMin) / (yMax - yMin)) * height;
  const format = panel.formatY ?? ((v: number) => String(v));
  const out: string[] = [];
  out.push(
    `<text x="${x0 + width / 2}" y="22" text-anchor="middle" font-size="15" ${FONT}>${escapeXml(panel.title)}</text>`,
  );
  for (const t of niceTicks(yMin, yMax)) {
    out.push(`<line x1="${x0}" x2="${x0 + width}" y1="${number(sy(t))}" y2="${number(sy(t))}" stroke="#e5e7eb"/>`);
    out.push(
      `<text x="${x0 - 6}" y="${number(sy(t) + 4)}" text-anchor="end" font-size="11" ${FONT}>` +
        `${escapeXml(format(t))}</text>`,
    );
  }
  for (const t of niceTicks(xMin, xMax, 6)) {
    out.push(
      `<line x1="${number(sx(t))}" x2="${number(sx(t))}" y1="${y0 + height}" y2="${y0 + height + 4}" ` +
        'stroke="#374151"/>',
    );
    out.push(
      `<text x="${number(sx(t))}" y="${y0 + height + 17}" text-anchor="middle" font-size="11" ${FONT}>${t}</text>`,
    );
  }
  out.push(`<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="#374151"/>`);
  out.push(
    `<text x="${x0 + width / 2}" y="${PANEL_HEIGHT - 8}" text-anchor="middle" font-size="12" ${FONT}>` +
      `${escapeXml(panel.xLabel)}</text>`,
  );
  const midY = y0 + height / 2;
  out.push(
    `<text x="${left + 14}" y="${midY}" text-anchor="middle" font-size="12" transform="rotate(-90 ${left + 14} ` +
      `${midY})" ${FONT}>${escapeXml(panel.yLabel)}</text>`,
  );
  panel.series.forEach((series, index) => {
    const path = series.points
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y]) => `${number(sx(x))},${number(sy(y))}`)
      .join(' ');
    const style = series.faint ? 'stroke-width="1" stroke-opacity="0.35"' : 'stroke-width="2"';
    const dash = series.dashed === true ? ' stroke-dasharray="6,4"' : '';
    if (series.points.length > 1) {
      out.push(`<polyline points="${path}" fill="none" stroke="${series.color}" ${style}${dash}/>`);
    }
    if (series.markers === true || series.points.length === 1) {
      for (const [x, y] of series.points) {
        out.push(`<circle cx="${number(sx(x))}" cy="${number(sy(y))}" r="3" fill="${series.color}"/>`);
      }
    }
    const ly = y0 + 14 + index * 16;
    const lx = x0 + width - 150;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.color}" ${style}${dash}/>`,
    );
    out.push(`<text x="${lx + 24}" y="${ly}" font-size="11" ${FONT}>${escapeXml(series.name)}</text>`);
  });
  return out.join('\n');
}

/**
 * An SVG document with the panels side by side.
 *
 * @example writeFileSync('curves.svg', lineChart([{ title: 'loss', xLabel: 'epoch', yLabel: 'loss', series }]))
 */
export function lineChart(panels: readonly Panel[], title: string): string {
  const width = PANEL_WIDTH * panels.length;
  const body = panels.map((panel, i) => `<g>\n${renderPanel(panel, i * PANEL_WIDTH)}\n</g>`).join('\n');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_HEIGHT}" ` +
    `viewBox="0 0 ${width} ${PANEL_HEIGHT}">\n<title>${escapeXml(title)}</title>\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`
  );
}
