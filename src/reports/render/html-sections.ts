import { duration, esc, percent, shortDateTime } from './format.ts';
import type { ReportMessages } from './messages.ts';
import { type SlaGroup, TIMING_STEPS, type WeeklyReportView } from './model.ts';

/** The report's tables, each a section of the printed page; every value is escaped here. */

type Cell = string | number | null;

/** A table whose cells are already escaped HTML (built by `cell`). */
function table(
  head: readonly string[],
  rows: readonly Cell[][],
  opts: { numeric?: number; wrapOnly?: number } = {},
): string {
  if (rows.length === 0) return '';
  const from = opts.numeric ?? 1;
  // A list of tickets keeps its numbers and times on one line; only the place may wrap.
  const cls = (i: number) => {
    const names = [i >= from ? 'n' : '', opts.wrapOnly !== undefined && i !== opts.wrapOnly ? 'nw' : ''];
    const joined = names.filter(Boolean).join(' ');
    return joined ? ` class="${joined}"` : '';
  };
  const th = head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c ?? '—'}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

const empty = (m: ReportMessages) => `<p class="empty">${esc(m.none)}</p>`;

function slaTable(title: string, groups: readonly SlaGroup[], m: ReportMessages): string {
  const rows = groups.map((g) => [
    esc(g.label),
    g.arrival.total,
    g.arrival.breached,
    esc(percent(g.arrival.compliance)),
    g.repair.total,
    g.repair.breached,
    esc(percent(g.repair.compliance)),
  ]);
  const head = [
    m.group,
    `${m.arrival} · ${m.total}`,
    `${m.arrival} · ${m.breached}`,
    `${m.arrival} · ${m.compliance}`,
    `${m.repair} · ${m.total}`,
    `${m.repair} · ${m.breached}`,
    `${m.repair} · ${m.compliance}`,
  ];
  return `<h3>${esc(title)}</h3>${table(head, rows) || empty(m)}`;
}

export function slaSection(r: WeeklyReportView, m: ReportMessages): string {
  return `<section class="page-break"><h2>${esc(m.slaTitle)}</h2>
${slaTable(m.bySite, r.sla.bySite, m)}
${slaTable(m.byCategory, r.sla.byCategory, m)}
${slaTable(m.byMaintainer, r.sla.byMaintainer, m)}</section>`;
}

export function timingsSection(r: WeeklyReportView, m: ReportMessages): string {
  const t = r.timings;
  const d = (s: number | null) => esc(duration(s, r.lang));
  const rows = TIMING_STEPS.map((step) => [
    esc(m.steps[step]),
    t[step].count,
    d(t[step].meanSeconds),
    d(t[step].medianSeconds),
    d(t[step].p90Seconds),
  ]);
  const trendHead = [m.week, ...TIMING_STEPS.flatMap((s) => [`${m.steps[s]} · ${m.median}`])];
  const trend = t.trend.map((w) => [
    esc(w.week),
    ...TIMING_STEPS.map((s) => `${d(w[s].medianSeconds)} <small>(${w[s].count})</small>`),
  ]);
  return `<section><h2>${esc(m.timingsTitle)}</h2>
${table([m.step, m.count, m.mean, m.median, m.p90], rows)}
<h3>${esc(m.chartTrend.replace(/[（(].*$/, ''))}</h3>${table(trendHead, trend) || empty(m)}</section>`;
}

export function faultsSection(r: WeeklyReportView, m: ReportMessages): string {
  const f = r.faults;
  const noise = f.noise.map((n) => [esc(n.ruleId), n.tickets, esc(percent(n.score))]);
  const shares = (list: WeeklyReportView['faults']['byCategory']) =>
    list.map((s) => [esc(s.label), s.count, esc(percent(s.share))]);
  const categories = f.byCategory.map((c) => c.key);
  const labels = new Map(f.byCategory.map((c) => [c.key, c.label]));
  const perSite = f.bySite.map((s) => {
    const counts = new Map(s.byCategory.map((c) => [c.key, c]));
    return [
      esc(s.label),
      s.total,
      ...categories.map((k) => {
        const c = counts.get(k);
        return c ? `${c.count} <small>(${esc(percent(c.share))})</small>` : '0';
      }),
    ];
  });
  return `<section><h2>${esc(m.faultsTitle)}</h2>
<div class="cols"><div><h3>${esc(m.byCategory)}</h3>${table([m.category, m.total, m.share], shares(f.byCategory)) || empty(m)}</div>
<div><h3>${esc(m.byFault)}</h3>${table([m.fault, m.total, m.share], shares(f.byFault)) || empty(m)}</div></div>
<h3>${esc(m.bySiteCategory)}</h3>${table([m.site, m.total, ...categories.map((k) => labels.get(k) ?? k)], perSite) || empty(m)}
<h3>${esc(m.noiseTitle)}</h3>${table([m.rule, m.closedTickets, m.noiseScore], noise) || empty(m)}
</section>`;
}

export function repeatSection(r: WeeklyReportView, m: ReportMessages): string {
  const f = r.faults;
  const siteName = (id: string) => r.sla.bySite.find((s) => s.key === id)?.label ?? id;
  const assets = f.topAssets.map((a) => [
    esc(siteName(a.site)),
    `${esc(a.name)} <small>${esc(a.assetId)}</small>`,
    a.count,
  ]);
  const rooms = f.topRooms.map((room) => [esc(siteName(room.site)), esc(room.location), room.count]);
  return `<section><h2>${esc(m.repeatTitle)}</h2>
<div class="cols"><div><h3>${esc(m.asset)}</h3>${table([m.site, m.asset, m.total], assets, { numeric: 2 }) || empty(m)}</div>
<div><h3>${esc(m.room)}</h3>${table([m.site, m.room, m.total], rooms, { numeric: 2 }) || empty(m)}</div></div></section>`;
}

export function scoresSection(r: WeeklyReportView, m: ReportMessages): string {
  if (!r.scores && !r.satisfaction) return '';
  const parts = [`<section><h2>${esc(m.scoresTitle)}</h2>`];
  if (r.satisfaction) {
    parts.push(
      `<p>${esc(m.satisfaction)}: <b>${r.satisfaction.mean.toFixed(2)}</b> / 5 · ${esc(m.responses)} ${r.satisfaction.responses}</p>`,
    );
  }
  if (r.scores) {
    const rows = r.scores.rows.map((s) => [
      esc(s.label),
      esc(percent(s.slaCompliance)),
      esc(percent(s.reopenRate)),
      s.satisfaction === null ? null : s.satisfaction.toFixed(2),
      s.score === null ? null : s.score.toFixed(1),
    ]);
    const w = r.scores.weights;
    const weights = (['sla', 'reopen', 'satisfaction'] as const)
      .map((k) => `${esc(m.weightNames[k])} ${esc(w[k])}`)
      .join(' · ');
    parts.push(
      table([m.maintainer, m.compliance, m.reopenRate, m.satisfaction, m.score], rows) || empty(m),
      `<p class="note">${esc(m.weights)}: ${weights}</p>`,
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

export function notableSection(r: WeeklyReportView, m: ReportMessages): string {
  const tz = r.period.timeZone;
  const ref = (id: number) => r.tickets.get(id);
  const where = (id: number) => {
    const t = ref(id);
    if (!t) return `#${id}`;
    const place = t.location ? ` · ${esc(t.location)}` : '';
    return `${esc(t.siteName)} · ${esc(t.assetName)}${place}`;
  };
  const number = (id: number, workOrder: string | null | undefined) =>
    `${esc(workOrder ?? '')} <small>#${id}</small>`;
  const breaches = r.breaches.map((b) => [
    number(b.ticketId, b.workOrder),
    where(b.ticketId),
    esc(b.clock === 'arrival' ? m.arrival : m.repair),
    esc(shortDateTime(b.dueAt, tz)),
    b.at === null ? esc(m.notReached) : esc(shortDateTime(b.at, tz)),
    `<b>${esc(duration(b.overBySeconds, r.lang))}</b>`,
  ]);
  const detected = (id: number) => {
    const t = ref(id);
    return t ? esc(shortDateTime(t.detectedAt, tz)) : null;
  };
  const reopened = r.faults.reopened.map((t) => [
    number(t.ticketId, t.workOrder),
    where(t.ticketId),
    detected(t.ticketId),
    t.reopenCount,
  ]);
  const flapping = r.faults.flapping.map((t) => [
    number(t.ticketId, t.workOrder),
    where(t.ticketId),
    detected(t.ticketId),
  ]);
  return `<section><h2>${esc(m.notableTitle)}</h2>
<h3>${esc(m.breaches)} (${r.breaches.length})</h3>
${table([m.workOrder, m.asset, m.clock, m.due, m.reached, m.missedBy], breaches, { numeric: 5, wrapOnly: 1 }) || empty(m)}
<h3>${esc(m.reopened)} (${reopened.length})</h3>
${table([m.workOrder, m.asset, m.detected, m.reopenCount], reopened, { numeric: 3, wrapOnly: 1 }) || empty(m)}
<h3>${esc(m.flapping)} (${flapping.length})</h3>
${table([m.workOrder, m.asset, m.detected], flapping, { numeric: 3, wrapOnly: 1 }) || empty(m)}</section>`;
}
