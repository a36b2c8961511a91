import { localDateTime, localDay } from './format.ts';
import { REPORT_MESSAGES, type ReportMessages } from './messages.ts';
import { type SlaGroup, TIMING_STEPS, type WeeklyReportView } from './model.ts';

type Value = string | number | null;

/** UTF-8's byte order mark: Excel reads the file as UTF-8 (Chinese) only with it. */
export const CSV_BOM = '\uFEFF';

/**
 * A text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading
 * apostrophe: asset names come from config and devices (OWASP "CSV injection").
 */
function field(value: Value): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const line = (values: readonly Value[]) => values.map(field).join(',');
const pct = (share: number | null) => (share === null ? null : Number((share * 100).toFixed(1)));
const secs = (s: number | null) => (s === null ? null : Math.round(s));

/** One section: its title line, a header line, its rows, and an empty line after it. */
function section(title: string, head: readonly string[], rows: readonly Value[][]): string[] {
  return [line([`# ${title}`]), line(head), ...rows.map(line), ''];
}

function slaRows(groups: readonly SlaGroup[]): Value[][] {
  return groups.map((g) => [
    g.key,
    g.label,
    g.arrival.total,
    g.arrival.met,
    g.arrival.breached,
    pct(g.arrival.compliance),
    g.repair.total,
    g.repair.met,
    g.repair.breached,
    pct(g.repair.compliance),
  ]);
}

function slaHead(m: ReportMessages): string[] {
  const clock = (c: string) => [
    `${c} ${m.total}`,
    `${c} ${m.met}`,
    `${c} ${m.breached}`,
    `${c} ${m.compliance} %`,
  ];
  return ['key', m.group, ...clock(m.arrival), ...clock(m.repair)];
}

/**
 * The report as one CSV file in sections (a `# title` line, a header, rows, an empty line):
 * headline, SLA by site, category and maintainer, timings and their weekly trend, fault mix,
 * repeat offenders and notable tickets. Durations in seconds, shares in percent, times local.
 */
export function renderReportCsv(r: WeeklyReportView): string {
  const m = REPORT_MESSAGES[r.lang];
  const tz = r.period.timeZone;
  const o = r.overall;
  const lines: string[] = [
    ...section(
      m.headline,
      ['key', 'value'],
      [
        ['period', r.period.label],
        ['from', localDay(r.period.from, tz)],
        ['to (exclusive)', localDay(r.period.to, tz)],
        ['timeZone', tz],
        ['tickets', r.faults.total],
        ['arrivalTargetMinutes', r.targets.arrivalMinutes],
        ['arrivalCompliancePct', pct(o.arrival.compliance)],
        ['arrivalBreached', o.arrival.breached],
        ['repairTargetMinutes', r.targets.repairMinutes],
        ['repairCompliancePct', pct(o.repair.compliance)],
        ['repairBreached', o.repair.breached],
        ['mttrSeconds', secs(r.timings.repair.meanSeconds)],
        ['satisfactionMean', r.satisfaction ? Number(r.satisfaction.mean.toFixed(2)) : null],
      ],
    ),
    ...section(`${m.slaTitle} · ${m.bySite}`, slaHead(m), slaRows(r.sla.bySite)),
    ...section(`${m.slaTitle} · ${m.byCategory}`, slaHead(m), slaRows(r.sla.byCategory)),
    ...section(`${m.slaTitle} · ${m.byMaintainer}`, slaHead(m), slaRows(r.sla.byMaintainer)),
    ...section(
      `${m.timingsTitle} (s)`,
      [m.week, 'step', m.count, m.mean, m.median, m.p90],
      [r.period.label, ...r.timings.trend.map((w) => w.week)].flatMap((week, i) => {
        const stats = i === 0 ? r.timings : r.timings.trend[i - 1];
        return TIMING_STEPS.map((step) => {
          const s = stats?.[step];
          return [
            week,
            step,
            s?.count ?? 0,
            secs(s?.meanSeconds ?? null),
            secs(s?.medianSeconds ?? null),
            secs(s?.p90Seconds ?? null),
          ];
        });
      }),
    ),
    ...section(
      `${m.faultsTitle} · ${m.byCategory}`,
      [m.site, 'category', m.category, m.total, `${m.share} %`],
      [
        ...r.faults.byCategory.map((c) => ['*', c.key, c.label, c.count, pct(c.share)]),
        ...r.faults.bySite.flatMap((s) =>
          s.byCategory.map((c) => [s.site, c.key, c.label, c.count, pct(c.share)]),
        ),
      ],
    ),
    ...section(
      `${m.faultsTitle} · ${m.byFault}`,
      [m.fault, m.total, `${m.share} %`],
      r.faults.byFault.map((f) => [f.key, f.count, pct(f.share)]),
    ),
    ...section(
      m.noiseTitle,
      [m.rule, m.closedTickets, `${m.noiseScore} %`],
      r.faults.noise.map((n) => [n.ruleId, n.tickets, pct(n.score)]),
    ),
    ...section(
      m.repeatTitle,
      ['type', m.site, 'id', m.asset, m.total],
      [
        ...r.faults.topAssets.map((a) => ['asset', a.site, a.assetId, a.name, a.count]),
        ...r.faults.topRooms.map((room) => ['room', room.site, null, room.location, room.count]),
      ],
    ),
    ...section(
      m.notableTitle,
      ['type', m.workOrder, 'ticketId', m.site, m.asset, m.clock, m.due, m.reached, `${m.missedBy} (s)`],
      notableRows(r, m),
    ),
  ];
  if (r.scores) {
    lines.push(
      ...section(
        m.scoresTitle,
        ['key', m.maintainer, `${m.compliance} %`, `${m.reopenRate} %`, m.satisfaction, m.score],
        r.scores.rows.map((s) => [
          s.key,
          s.label,
          pct(s.slaCompliance),
          pct(s.reopenRate),
          s.satisfaction,
          s.score,
        ]),
      ),
    );
  }
  return CSV_BOM + lines.join('\r\n');
}

function notableRows(r: WeeklyReportView, m: ReportMessages): Value[][] {
  const tz = r.period.timeZone;
  const ref = (id: number) => r.tickets.get(id);
  const breaches = r.breaches.map((b) => [
    'breach',
    b.workOrder,
    b.ticketId,
    b.site,
    ref(b.ticketId)?.assetName ?? b.assetId,
    b.clock,
    localDateTime(b.dueAt, tz),
    b.at === null ? m.notReached : localDateTime(b.at, tz),
    b.overBySeconds,
  ]);
  const others = [
    ...r.faults.reopened.map((t) => ({ type: `reopened ×${t.reopenCount}`, ...t })),
    ...r.faults.flapping.map((t) => ({ type: 'flapping', ...t })),
  ].map((t) => [
    t.type,
    t.workOrder ?? null,
    t.ticketId,
    ref(t.ticketId)?.site ?? null,
    ref(t.ticketId)?.assetName ?? null,
    null,
    null,
    null,
    null,
  ]);
  return [...breaches, ...others];
}
