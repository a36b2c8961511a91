import { execFileSync } from 'node:child_process';
import type { WindowResult } from './phase.ts';
import type { MachineInfo } from './proc.ts';
import { clusterSection, externalSection } from './report-external.ts';
import { cpuSection, floodSection, singleSection } from './report-flood.ts';
import type { BenchPlan, Collector, ScenarioId, ThroughputResult } from './scenarios.ts';
import {
  formatMiB,
  formatMs,
  formatRate,
  formatRatio,
  type LatencySummary,
  summarizeReps,
  verdict,
} from './stats.ts';

export const RESULTS_BEGIN =
  '<!-- bench:results:begin (written by `npm run bench`; edit outside these markers) -->';
export const RESULTS_END = '<!-- bench:results:end -->';

interface ReportInput {
  machine: MachineInfo;
  plan: BenchPlan;
  mode: string;
  elapsedS: number;
  out: Collector;
}

const LABEL: Record<ScenarioId, string> = {
  A: 'A: aedes, no hooks → raw subscriber',
  Amosq: 'A: Mosquitto → raw subscriber (reference)',
  B: 'B: ingest + adapters, no rules',
  C: 'C: + validation, rules, tickets (0.1% leaks)',
  D: 'D: full pipeline (+ InfluxDB, 10k open tickets, API load)',
  scale: 'scale',
  sla: 'SLA',
};

const TARGET_RATIO: Partial<Record<ScenarioId, number>> = { B: 0.8, C: 0.6, D: 0.4 };
/** D: five times the ~5,000 msg/s published for the best-known open IoT platform on 2 vCPUs. */
const D_ABSOLUTE = 25_000;

const median = (xs: readonly number[]) => summarizeReps(xs).median;
const pct = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : '–');
const mib = formatMiB;

function rate(r: ThroughputResult) {
  return summarizeReps(r.phase.windows.map((w) => w.rate));
}

function reference(out: Collector, qos: 0 | 1): number {
  const a = out.throughput.find((r) => r.scenario === 'A' && r.qos === qos);
  return a ? rate(a).median : Number.NaN;
}

function throughputRow(r: ThroughputResult, out: Collector): string {
  const s = rate(r);
  const ratio = s.median / reference(out, r.qos);
  const target = TARGET_RATIO[r.scenario];
  let targetText = r.scenario === 'Amosq' ? 'reference' : r.scenario === 'A' ? '1.00' : '';
  if (target !== undefined) {
    const ok = ratio >= target && (r.scenario !== 'D' || s.median >= D_ABSOLUTE);
    targetText = `≥ ${target.toFixed(2)}${r.scenario === 'D' ? ' and ≥ 25,000/s' : ''}: ${verdict(ok)}`;
  }
  const w = r.phase.windows;
  const cpu = (name: string) => median(w.map((x: WindowResult) => x.cpu[name] ?? Number.NaN));
  const rss = Math.max(...w.map((x) => x.rssBytes.server ?? Number.NaN));
  const notes: string[] = [];
  const others = median(w.map((x) => x.othersCpu));
  if (others >= 5) notes.push(`other processes ${pct(others)}% CPU`);
  if (w[0]?.cpu.influxd !== undefined) notes.push(`influxd ${pct(cpu('influxd'))}% CPU`);
  if (w[0]?.serverBusy !== undefined)
    notes.push(`event loop ${pct(median(w.map((x) => (x.serverBusy ?? 0) * 100)))}% busy`);
  if (r.http)
    notes.push(
      `API ${formatRate(r.http.okPerSecond)} req/s, p99 ${formatMs(r.http.latency.p99)} ms` +
        (r.http.failed + r.http.skipped ? `, ${r.http.failed} failed, ${r.http.skipped} not sent` : ''),
    );
  if (r.sseEvents !== undefined) notes.push(`${formatRate(r.sseEvents)} live-feed events read`);
  return (
    `| ${LABEL[r.scenario]} | ${r.qos} | ${formatRate(s.median)} | ${formatRate(s.min)}–${formatRate(s.max)} | ` +
    `${formatRatio(ratio)} | ${targetText} | ${pct(cpu('server'))} | ${mib(rss)} | ` +
    `${pct(median(w.map((x) => x.generatorCpu)))} / ${pct(median(w.map((x) => x.clientsCpu)))} | ${notes.join('; ')} |`
  );
}

function throughputTable(out: Collector): string[] {
  if (out.throughput.length === 0) return [];
  return [
    '### Throughput',
    '',
    '| scenario | QoS | msg/s (median) | min–max | × A | target | server CPU % | server RSS MiB | generator / clients CPU % | notes |',
    '| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
    ...out.throughput.map((r) => throughputRow(r, out)),
    '',
  ];
}

function latencyRow(name: string, l: LatencySummary, targetMs?: number): string {
  const target = targetMs === undefined ? '' : `p99 < ${targetMs} ms: ${verdict(l.p99 < targetMs)}`;
  return `| ${name} | ${l.n} | ${formatMs(l.p50)} | ${formatMs(l.p99)} | ${formatMs(l.max)} | ${target} |`;
}

function latencySection(input: ReportInput): string[] {
  const l = input.out.latency;
  if (!l) return [];
  const achieved = summarizeReps(l.phase.windows.map((w) => w.rate));
  const cpu = median(l.phase.windows.map((w) => w.cpu.server ?? Number.NaN));
  const others = median(l.phase.windows.map((w) => w.othersCpu));
  return [
    `### Latency at a steady ${formatRate(input.plan.latencyRate)} msg/s (D, QoS 1)`,
    '',
    '| path (per leak on an asset with no open ticket) | samples | p50 ms | p99 ms | max ms | target |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    latencyRow('publish → rule decision (`alarm` on the bus)', l.decision, 10),
    latencyRow('publish → ticket committed (`ticketChanged` raised)', l.ticketCommitted),
    latencyRow('publish → ticket visible through the API (live feed event read)', l.ticketVisible, 50),
    '',
    `Ingested ${formatRate(achieved.median)} msg/s (min ${formatRate(achieved.min)}) at ${pct(cpu)}% server CPU ` +
      `(other processes on the machine: ${pct(others)}%); ` +
      `${l.faultsSent} leaks sent in the measured windows.` +
      (l.http
        ? ` API: ${formatRate(l.http.okPerSecond)} req/s answered, p50 ${formatMs(l.http.latency.p50)} ms, p99 ${formatMs(l.http.latency.p99)} ms.`
        : '') +
      ` Telemetry after this phase: ${telemetryText(l.health)}.`,
    '',
  ];
}

function sustainSection(out: Collector): string[] {
  const steps = out.sustain;
  if (!steps?.length) return [];
  const best = steps.filter((s) => s.ok).at(-1);
  const ratio = best ? best.offered / reference(out, 1) : Number.NaN;
  const ok = best !== undefined && ratio >= 0.4 && best.offered >= D_ABSOLUTE;
  return [
    '### D: highest rate sustained with the API answering (QoS 1, paced)',
    '',
    '| offered msg/s | ingested msg/s | server CPU % | other processes CPU % | API req/s answered | API p99 ms | kept up |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...steps.map(
      (s) =>
        `| ${formatRate(s.offered)} | ${formatRate(s.ingested)} | ${pct(s.serverCpu)} | ${pct(s.othersCpu)} | ${formatRate(s.http?.okPerSecond ?? Number.NaN)} | ${formatMs(s.http?.latency.p99 ?? Number.NaN)} | ${s.ok ? 'yes' : 'no'} |`,
    ),
    '',
    `Sustained: ${best ? `${formatRate(best.offered)} msg/s = ${formatRatio(ratio)} × A (QoS 1)` : 'not even the first step'}; ` +
      `target ≥ 0.40 × A and ≥ 25,000 msg/s: ${verdict(ok)}. "Kept up" means at least 97% of the offered rate ingested ` +
      'and at least 95% of the API requests answered; the steps stop at the first that does not.',
    '',
  ];
}

function scaleSection(out: Collector): string[] {
  const lines: string[] = [];
  const s = out.scale;
  const sla = out.sla;
  if (!s && !sla) return lines;
  lines.push('### Scale', '', '| figure | value | target |', '| --- | --- | --- |');
  if (s) {
    const what = `${formatRate(s.assets)} assets, ${formatRate(s.tickets)} open tickets`;
    lines.push(
      `| RSS, ${what}, 2 s after start (start took ${Math.round(s.startMs)} ms); after a forced full GC | ${mib(s.rssAfterStartBytes)} MiB; ${mib(s.rssAfterStartGcBytes)} MiB | < 300 MB: ${verdict(s.rssAfterStartBytes < 300e6)}; ${verdict(s.rssAfterStartGcBytes < 300e6)} |`,
      `| RSS after one message from every asset (${(s.sweepMs / 1000).toFixed(1)} s) | ${mib(s.rssAfterTrafficBytes)} MiB | < 300 MB: ${verdict(s.rssAfterTrafficBytes < 300e6)} |`,
      `| the same after a forced full GC (RSS; JS heap in use, ${mib(s.heapUsedAfterStartGcBytes)} MiB right after start) | ${mib(s.rssAfterGcBytes)} MiB; ${mib(s.heapUsedAfterGcBytes)} MiB | < 300 MB: ${verdict(s.rssAfterGcBytes < 300e6)} |`,
    );
  }
  if (sla) {
    const l = sla.lateness;
    const ok = sla.overOneSecond === 0 && sla.breaches >= sla.tickets && sla.dueBeforeStart === 0;
    const also = Object.entries(sla.otherEvents)
      .map(([k, v]) => `${formatRate(v)} ${k}`)
      .join(', ');
    lines.push(
      `| SLA: breach event minus deadline, ${formatRate(sla.tickets)} open tickets, deadlines spread over ${sla.spreadMs / 1000} s, one timer, store \`synchronous: ${sla.synchronous}\` | ` +
        `p50 ${formatMs(l.p50)} ms, p99 ${formatMs(l.p99)} ms, max ${formatMs(l.max)} ms; ${formatRate(sla.breaches)} breaches, ${sla.overOneSecond} over 1 s` +
        `${sla.dueBeforeStart ? `, ${sla.dueBeforeStart} due before the scheduler started (not counted)` : ''} | every one ≤ 1 s: ${verdict(ok)} |`,
      `| SLA: seeding ${formatRate(sla.tickets)} open tickets; re-arming them at start; RSS of that process; other events recorded meanwhile | ${(sla.seedMs / 1000).toFixed(1)} s; ${Math.round(sla.rearmMs)} ms; ${mib(sla.rssBytes)} MiB; ${also || 'none'} | |`,
    );
  }
  lines.push('');
  return lines;
}

/** The telemetry writer's figures from /api/health, in words. */
export function telemetryText(health: Record<string, unknown>): string {
  const t = (health.telemetry ?? {}) as Record<string, number | string | null>;
  const n = (k: string) => Number(t[k] ?? Number.NaN).toLocaleString('en-US');
  return (
    `${n('writtenPoints')} points written to InfluxDB, ${n('spooledPoints')} waiting in the disk spool ` +
    `(${n('spoolBytes')} bytes), ${n('pendingPoints')} in memory, ${n('droppedPoints')} dropped` +
    (t.lastError ? `; last error: ${t.lastError}` : '')
  );
}

function gitState(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'broker', 'adapters'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${rev} with uncommitted changes in src/broker/adapters` : rev;
  } catch {
    return 'unknown';
  }
}

export function renderReport(r: ReportInput): string {
  const { machine: m, plan: p } = r;
  const conns = p.connectionsPerSite * p.fleet.sites.length;
  return [
    `## Results (${r.mode} run)`,
    '',
    `Run on ${m.date}, ${Math.round(r.elapsedS)} s in all, code at ${gitState()}.`,
    `Machine: ${m.cores} × ${m.model}, ${m.memoryGiB} GiB RAM, ${m.os}, Linux ${m.kernel}, Node ${m.node}, ${m.mosquitto}, ${m.influxd}; load average at start ${m.loadAverage}.`,
    `Load: ${conns} gateway connections (${p.connectionsPerSite} per site), batches of ${p.batch} pre-built frames, QoS 1 window ${p.window} per connection; ` +
      `${formatRate(p.fleet.normal)} devices reporting normal values; warm-up ${p.warmupMs / 1000} s, then ${p.reps} × ${p.measureMs / 1000} s measured, median (min–max) over the windows. ` +
      `CPU is % of one core from /proc; "× A" divides by aedes A at the same QoS in this run.`,
    '',
    ...throughputTable(r.out),
    ...latencySection(r),
    ...sustainSection(r.out),
    ...floodSection(r.out),
    ...singleSection(r.out),
    ...cpuSection(r.out),
    ...externalSection(r.out),
    ...clusterSection(r.out),
    ...scaleSection(r.out),
    ...(r.out.notes.length ? ['Notes from the run:', '', ...r.out.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

/** Replaces the generated section of BENCHMARKS.md, keeping everything written outside it. */
export function spliceResults(existing: string, report: string): string {
  const block = `${RESULTS_BEGIN}\n\n${report.trim()}\n\n${RESULTS_END}`;
  const begin = existing.indexOf(RESULTS_BEGIN);
  const end = existing.indexOf(RESULTS_END);
  if (begin >= 0 && end > begin)
    return existing.slice(0, begin) + block + existing.slice(end + RESULTS_END.length);
  return `${existing.trimEnd() ? `${existing.trimEnd()}\n\n` : '# Benchmarks\n\n'}${block}\n`;
}
