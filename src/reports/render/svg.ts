import { esc } from './format.ts';

/**
 * Inline SVG charts for the printed report: plain shapes and text, no script and no chart library,
 * so the page prints the same from a browser, from Chromium's PDF and from a mail client.
 */

export const CHART_COLOURS = ['#1f5fa8', '#e07b24', '#2e8b57', '#b8433a', '#7a5ca8', '#8c8c8c'] as const;
const FONT = `font-family="'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',sans-serif"`;
const AXIS = '#555';
const GRID = '#ddd';

const colour = (i: number) => CHART_COLOURS[i % CHART_COLOURS.length] ?? '#1f5fa8';
const num = (n: number) => Number(n.toFixed(1));

export interface Bar {
  label: string;
  value: number;
  /** Printed at the bar's end (e.g. `32.0% (8)`); default the value. */
  text?: string;
}

/** Horizontal bars, one per row: the fault mix ("plumbing 32%"). */
export function horizontalBars(title: string, bars: readonly Bar[], width = 340): string {
  const rowHeight = 22;
  const labelWidth = 140;
  const top = 24;
  const height = top + Math.max(1, bars.length) * rowHeight + 6;
  const max = Math.max(...bars.map((b) => b.value), 0) || 1;
  const span = width - labelWidth - 78;
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const w = num((bar.value / max) * span);
    return [
      `<text x="${labelWidth - 6}" y="${y + 15}" text-anchor="end" font-size="11">${esc(clip(bar.label, 14))}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${w}" height="14" fill="${colour(i)}"/>`,
      `<text x="${num(labelWidth + w + 4)}" y="${y + 15}" font-size="11">${esc(bar.text ?? bar.value)}</text>`,
    ].join('');
  });
  return svg(width, height, title, [heading(title), ...rows]);
}

export interface Series {
  name: string;
  /** One value per category; null: no figure (a gap). */
  values: ReadonlyArray<number | null>;
}

/** Vertical grouped bars in percent (0–100): arrival and repair compliance per site. */
export function groupedPercentBars(
  title: string,
  categories: readonly string[],
  series: readonly Series[],
  width = 340,
): string {
  const plot = { left: 34, top: 40, right: width - 8, bottom: 170 };
  const height = plot.bottom + 34;
  const groupWidth = (plot.right - plot.left) / Math.max(1, categories.length);
  const barWidth = Math.min(26, (groupWidth - 10) / Math.max(1, series.length));
  const y = (pct: number) => num(plot.bottom - (pct / 100) * (plot.bottom - plot.top));
  const parts = [heading(title), legend(series, plot.left, 30), ...percentGrid(plot, y)];
  categories.forEach((category, c) => {
    const x0 = plot.left + c * groupWidth + (groupWidth - barWidth * series.length) / 2;
    series.forEach((s, i) => {
      const value = s.values[c];
      if (value === null || value === undefined) return;
      const x = num(x0 + i * barWidth);
      parts.push(
        `<rect x="${x}" y="${y(value * 100)}" width="${num(barWidth - 2)}" height="${num(plot.bottom - y(value * 100))}" fill="${colour(i)}"/>`,
        `<text x="${num(x + barWidth / 2 - 1)}" y="${y(value * 100) - 3}" text-anchor="middle" font-size="9">${Math.round(value * 100)}</text>`,
      );
    });
    parts.push(
      `<text x="${num(plot.left + (c + 0.5) * groupWidth)}" y="${plot.bottom + 15}" text-anchor="middle" font-size="11">${esc(clip(category, 12))}</text>`,
    );
  });
  return svg(width, height, title, parts);
}

/** Lines over weeks (minutes): the week-over-week trend of the timings. */
export function lineChart(
  title: string,
  xLabels: readonly string[],
  series: readonly Series[],
  width = 700,
): string {
  const plot = { left: 44, top: 40, right: width - 24, bottom: 170 };
  const height = plot.bottom + 30;
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = niceMax(Math.max(0, ...values));
  const step = xLabels.length > 1 ? (plot.right - plot.left) / (xLabels.length - 1) : 0;
  const x = (i: number) => num(xLabels.length > 1 ? plot.left + i * step : (plot.left + plot.right) / 2);
  const y = (v: number) => num(plot.bottom - (v / max) * (plot.bottom - plot.top));
  const parts = [heading(title), legend(series, plot.left, 30)];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(
      `<line x1="${plot.left}" x2="${plot.right}" y1="${y(v)}" y2="${y(v)}" stroke="${GRID}"/>`,
      `<text x="${plot.left - 4}" y="${y(v) + 4}" text-anchor="end" font-size="10" fill="${AXIS}">${num(v)}</text>`,
    );
  }
  xLabels.forEach((label, i) => {
    parts.push(
      `<text x="${x(i)}" y="${plot.bottom + 15}" text-anchor="middle" font-size="10" fill="${AXIS}">${esc(label)}</text>`,
    );
  });
  series.forEach((s, i) => {
    const points = s.values.flatMap((v, j) => (v === null ? [] : [`${x(j)},${y(v)}`]));
    if (points.length > 1)
      parts.push(
        `<polyline points="${points.join(' ')}" fill="none" stroke="${colour(i)}" stroke-width="2"/>`,
      );
    for (const p of points) {
      const [px, py] = p.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${colour(i)}"/>`);
    }
  });
  return svg(width, height, title, parts);
}

function percentGrid(plot: { left: number; right: number }, y: (pct: number) => number): string[] {
  return [0, 25, 50, 75, 100].map(
    (pct) =>
      `<line x1="${plot.left}" x2="${plot.right}" y1="${y(pct)}" y2="${y(pct)}" stroke="${GRID}"/>` +
      `<text x="${plot.left - 4}" y="${y(pct) + 4}" text-anchor="end" font-size="10" fill="${AXIS}">${pct}%</text>`,
  );
}

function legend(series: readonly Series[], x: number, y: number): string {
  return series
    .map(
      (s, i) =>
        `<rect x="${x + i * 90}" y="${y - 9}" width="10" height="10" fill="${colour(i)}"/>` +
        `<text x="${x + i * 90 + 14}" y="${y}" font-size="11">${esc(clip(s.name, 10))}</text>`,
    )
    .join('');
}

const heading = (title: string) =>
  `<text x="0" y="13" font-size="13" font-weight="bold">${esc(title)}</text>`;

function svg(width: number, height: number, title: string, parts: readonly string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" ${FONT}>` +
    `<title>${esc(title)}</title>${parts.join('')}</svg>`
  );
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (value <= m * power) return m * power;
  return 10 * power;
}

/** Long labels (asset names from config) are cut so a chart keeps its layout; the tables show them whole. */
function clip(text: string, chars: number): string {
  return [...text].length > chars ? `${[...text].slice(0, chars - 1).join('')}…` : text;
}
