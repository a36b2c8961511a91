import { change, duration, esc, localDateTime, localDay, percent } from './format.ts';
import {
  faultsSection,
  notableSection,
  repeatSection,
  scoresSection,
  slaSection,
  timingsSection,
} from './html-sections.ts';
import { REPORT_MESSAGES, type ReportMessages } from './messages.ts';
import type { WeeklyReportView } from './model.ts';
import { groupedPercentBars, horizontalBars, lineChart } from './svg.ts';

/**
 * The weekly or monthly report as one print-ready A4 page set: no script, inline SVG charts, and
 * CSS page rules, so a browser's print and Chromium's PDF give the same pages.
 */
export function renderReportHtml(r: WeeklyReportView): string {
  const m = REPORT_MESSAGES[r.lang];
  const title = `${r.kind === 'week' ? m.titleWeek : m.titleMonth} ${r.period.label}`;
  return `<!doctype html>
<html lang="${r.lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="cover">
<div class="org">${esc(m.org)}</div>
<h1>${esc(title)}</h1>
<p class="meta">${periodLine(r, m)}</p>
<p class="meta">${esc(m.sites)}: ${r.siteNames.map(esc).join('、')} · ${esc(m.generated)} ${esc(localDateTime(r.generatedAt, r.period.timeZone))}</p>
</header>
${headline(r, m)}
${charts(r, m)}
${slaSection(r, m)}
${timingsSection(r, m)}
${faultsSection(r, m)}
${repeatSection(r, m)}
${scoresSection(r, m)}
${notableSection(r, m)}
</body>
</html>
`;
}

function periodLine(r: WeeklyReportView, m: ReportMessages): string {
  const tz = r.period.timeZone;
  // `to` is exclusive: the last day shown is the one before it.
  const last = localDay(r.period.to - 1, tz);
  return `${esc(m.period)}: ${esc(localDay(r.period.from, tz))} ${esc(m.to)} ${esc(last)} · ${esc(m.timeZone)} ${esc(tz)}`;
}

function tile(label: string, value: string, sub: string, trend = ''): string {
  const delta = trend ? `<span class="delta">${esc(trend)}</span>` : '';
  return `<div class="tile"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="sub">${esc(sub)} ${delta}</div></div>`;
}

function headline(r: WeeklyReportView, m: ReportMessages): string {
  const o = r.overall;
  const p = r.previous;
  const vs = (text: string) => (text && p ? `${m.vsPrevious} ${text}` : '');
  const tiles = [
    tile(m.tickets, String(r.faults.total), '', vs(change(r.faults.total, p?.tickets, 'count'))),
    tile(
      m.arrivalCompliance,
      percent(o.arrival.compliance),
      `${m.target(r.targets.arrivalMinutes)} · ${m.breachedOf(o.arrival.breached, o.arrival.total)}`,
      vs(change(o.arrival.compliance, p?.overall.arrival.compliance, 'pp')),
    ),
    tile(
      m.repairCompliance,
      percent(o.repair.compliance),
      `${m.target(r.targets.repairMinutes)} · ${m.breachedOf(o.repair.breached, o.repair.total)}`,
      vs(change(o.repair.compliance, p?.overall.repair.compliance, 'pp')),
    ),
    tile(
      m.mttr,
      duration(r.timings.repair.meanSeconds, r.lang),
      `${m.median} ${duration(r.timings.repair.medianSeconds, r.lang)} · ${m.p90} ${duration(r.timings.repair.p90Seconds, r.lang)}`,
    ),
  ];
  if (r.satisfaction) {
    tiles.push(
      tile(
        m.satisfaction,
        `${r.satisfaction.mean.toFixed(2)} / 5`,
        `${m.responses} ${r.satisfaction.responses}`,
      ),
    );
  }
  const cls = tiles.length > 4 ? 'tiles five' : 'tiles';
  return `<section><h2>${esc(m.headline)}</h2><div class="${cls}">${tiles.join('')}</div></section>`;
}

function charts(r: WeeklyReportView, m: ReportMessages): string {
  const mix = horizontalBars(
    m.chartFaultMix,
    r.faults.byCategory.map((c) => ({
      label: c.label,
      value: c.count,
      text: `${percent(c.share)} (${c.count})`,
    })),
  );
  const sites = groupedPercentBars(
    m.chartSiteCompliance,
    r.sla.bySite.map((s) => s.label),
    [
      { name: m.arrival, values: r.sla.bySite.map((s) => s.arrival.compliance) },
      { name: m.repair, values: r.sla.bySite.map((s) => s.repair.compliance) },
    ],
  );
  const minutes = (s: number | null) => (s === null ? null : s / 60);
  const trend = lineChart(
    m.chartTrend,
    // `W48`: the year is in the title, and eight full labels would not fit the width.
    r.timings.trend.map((w) => w.week.replace(/^\d{4}-/, '')),
    [
      { name: m.steps.dispatch, values: r.timings.trend.map((w) => minutes(w.dispatch.medianSeconds)) },
      { name: m.steps.arrive, values: r.timings.trend.map((w) => minutes(w.arrive.medianSeconds)) },
      { name: m.steps.repair, values: r.timings.trend.map((w) => minutes(w.repair.medianSeconds)) },
    ],
  );
  return `<section class="charts"><h2>${esc(m.charts)}</h2><div class="cols"><div>${mix}</div><div>${sites}</div></div><div>${trend}</div></section>`;
}

const CSS = `
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
html { font-family: 'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif; font-size: 10.5pt; color: #1d1d1f; }
body { margin: 0; max-width: 186mm; }
@media screen { body { margin: 12mm auto; } }
h1 { font-size: 20pt; margin: 2mm 0 1mm; color: #0d3f78; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; padding-bottom: 1mm; border-bottom: 1.5pt solid #0d3f78; color: #0d3f78; break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm; break-after: avoid; }
.cover { border-bottom: 3pt solid #0d3f78; padding-bottom: 2mm; }
.org { font-size: 10pt; color: #555; letter-spacing: 0.05em; }
.meta { margin: 0.5mm 0; color: #333; font-size: 9.5pt; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; }
.tiles.five { grid-template-columns: repeat(5, 1fr); gap: 2mm; }
.tiles.five .value { font-size: 15pt; }
.tile { border: 0.75pt solid #c9d4e3; border-radius: 2mm; padding: 2.5mm 3mm; background: #f4f7fb; break-inside: avoid; }
.tile .label { font-size: 9pt; color: #444; }
.tile .value { font-size: 18pt; font-weight: bold; color: #0d3f78; margin: 1mm 0; }
.tile .sub { font-size: 8pt; color: #555; }
.tile .delta { display: block; margin-top: 0.5mm; color: #333; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 4mm; }
.charts svg { max-width: 100%; height: auto; }
section { break-inside: auto; }
.charts, .tiles { break-inside: avoid; }
.page-break { break-before: page; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; margin-bottom: 2mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th { background: #e8eef6; text-align: left; font-weight: bold; }
th, td { border: 0.5pt solid #c9d4e3; padding: 1mm 1.5mm; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.nw, th.nw { white-space: nowrap; }
small { color: #666; font-size: 7.5pt; }
.empty, .note { color: #666; font-size: 9pt; }
`;
