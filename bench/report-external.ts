import type { DrainInstance, DrainRun, DrainSeries } from './scenario-external.ts';
import type { Collector } from './scenarios.ts';
import { formatMiB, formatMs, formatRate, formatRatio, summarizeReps } from './stats.ts';

/** The sections of issue 15: an external broker's ingest, and a cluster of instances. */

const pct = (n: number | undefined) =>
  n !== undefined && Number.isFinite(n) ? Math.round(n).toString() : '–';
const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '–');
const acknowledged = (r: DrainRun) => r.instances.reduce((n, i) => n + i.acknowledged, 0);
/** Messages acknowledged over the whole drain: first frame written → last PUBACK from xiaoer. */
const drainRate = (r: DrainRun) => (acknowledged(r) * 1000) / r.drainMs;

/** The repetition with the median drain rate: its CPU, memory and latencies stand for the series. */
function medianRep(s: DrainSeries): DrainRun {
  const sorted = [...s.reps].sort((a, b) => drainRate(a) - drainRate(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as DrainRun;
}

function rates(s: DrainSeries) {
  return { drain: summarizeReps(s.reps.map(drainRate)), mid: summarizeReps(s.reps.map((r) => r.midRate)) };
}

const spread = (x: { median: number; min: number; max: number }, n: number) =>
  n > 1 ? `${formatRate(x.median)} (${formatRate(x.min)}–${formatRate(x.max)})` : formatRate(x.median);

const commitText = (i: DrainInstance) =>
  `${formatMs(i.commit.p50)} / ${formatMs(i.commit.max)} (${i.commit.n})`;

const timing = (r: DrainRun) => `${seconds(r.drainMs)} (${seconds(r.recordedMs)})`;

function lostNote(series: readonly DrainSeries[]): string {
  const short = series.flatMap((s) => s.reps).filter((r) => acknowledged(r) < r.messages);
  return short.length ? ` **Not every message was acknowledged** in ${short.length} drain(s).` : '';
}

export function externalSection(out: Collector): string[] {
  const series = out.external ?? [];
  if (series.length === 0) return [];
  const base = series.find((s) => s.inFlight === 1);
  const baseRate = base ? rates(base).drain.median : Number.NaN;
  const first = series[0]?.reps[0];
  const lines = [
    '### External broker: one instance on SQLite draining Mosquitto (issue 15)',
    '',
    `${formatRate(first?.messages ?? Number.NaN)} QoS 1 messages from ${first?.connections ?? '–'} publisher connections, written as fast as Mosquitto takes them, ` +
      'timed from the first frame written until xiaoer has acknowledged the last one (in brackets: recorded the last one). ' +
      'Median (min–max) over the repetitions; the other figures from the median one.',
    '',
    '| `mqtt.inFlight` | drained in s | msg/s acknowledged | msg/s recorded, 10% → 90% | × inFlight 1 | xiaoer CPU % | xiaoer peak RSS MiB | most received, not yet acknowledged | receipt → PUBACK p50 / p99 / max ms | leak: decision → ticket committed p50 / max ms | slowest health answer ms | Mosquitto CPU % | generator CPU % | other processes CPU % |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const s of series) {
    const r = medianRep(s);
    const x = rates(s);
    const i = r.instances[0];
    const n = s.reps.length;
    lines.push(
      `| ${s.inFlight}${s.inFlight === 1 ? ' (before)' : ''} | ${timing(r)} | ${spread(x.drain, n)} | ${spread(x.mid, n)} | ${formatRatio(x.drain.median / baseRate)} | ` +
        `${pct(i?.cpu)} | ${formatMiB(i?.peakRssBytes ?? Number.NaN)} | ${formatRate(i?.peakUnacknowledged ?? Number.NaN)} | ` +
        `${i ? `${formatMs(i.puback.p50)} / ${formatMs(i.puback.p99)} / ${formatMs(i.puback.max)}` : '–'} | ` +
        `${i ? commitText(i) : '–'} | ${formatMs(i?.healthMaxMs ?? Number.NaN)} | ` +
        `${pct(r.mosquittoCpu)} | ${pct(r.generatorCpu)} | ${pct(r.othersCpu)} |`,
    );
  }
  lines.push(
    '',
    `Mosquitto in memory, \`max_inflight_messages 100\`, \`max_queued_messages 0\` (no limit); the generator's writes were all acknowledged by Mosquitto after ${series
      .map((s) => `${seconds(medianRep(s).publishMs)} s`)
      .join(' and ')}. Leaks raised per drain: ${series
      .map((s) => `inFlight ${s.inFlight}: ${s.reps.map((r) => r.alarms).join(', ')}`)
      .join('; ')}.${lostNote(series)}`,
    '',
  );
  return lines;
}

export function clusterSection(out: Collector): string[] {
  const c = out.cluster;
  if (!c || c.series.length === 0) return [];
  const one = c.series.find((s) => s.members === 1 && s.inFlight > 1);
  const oneRate = one ? rates(one).drain.median : Number.NaN;
  const first = c.series[0]?.reps[0];
  const lines = [
    '### Cluster: instances on PostgreSQL draining one Mosquitto (issue 15)',
    '',
    `${formatRate(first?.messages ?? Number.NaN)} QoS 1 messages from ${first?.connections ?? '–'} publisher connections (one per site), ` +
      `8 sites in 8 partitions (${c.sites.map((s) => `${s.id} ${s.partition}`).join(', ')}); ${c.postgres}; a fresh database and Mosquitto per row. ` +
      'Drained as in the table above; "× one" divides by one instance with the same `mqtt.inFlight`.',
    '',
    '| instances | `mqtt.inFlight` | drained in s | msg/s acknowledged | msg/s recorded, 10% → 90% | × one | Mosquitto CPU % | PostgreSQL CPU % | generator CPU % | other processes CPU % |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of c.series) {
    const r = medianRep(s);
    const x = rates(s);
    const n = s.reps.length;
    const ratio = s.inFlight === one?.inFlight ? formatRatio(x.drain.median / oneRate) : '';
    lines.push(
      `| ${s.members} | ${s.inFlight} | ${timing(r)} | ${spread(x.drain, n)} | ${spread(x.mid, n)} | ${ratio} | ` +
        `${pct(r.mosquittoCpu)} | ${pct(r.postgresCpu)} | ${pct(r.generatorCpu)} | ${pct(r.othersCpu)} |`,
    );
  }
  lines.push(
    '',
    '| instances, `inFlight` | instance | partitions (sites) | acknowledged | msg/s recorded, 10% → 90% | last recorded / acknowledged at s | CPU % | peak RSS MiB | most received, not yet acknowledged | receipt → PUBACK p50 / p99 ms | leak: decision → ticket committed p50 / max ms | slowest health answer ms |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |',
  );
  for (const s of c.series) {
    const r = medianRep(s);
    for (const i of r.instances)
      lines.push(
        `| ${s.members}, ${s.inFlight} | ${i.id} | ${i.partitions.join(', ')} (${i.sites.join(', ')}) | ${formatRate(i.acknowledged)} | ${formatRate(i.midRate)} | ` +
          `${seconds(i.recordedMs)} / ${seconds(i.acknowledgedMs)} | ${pct(i.cpu)} | ${formatMiB(i.peakRssBytes)} | ${formatRate(i.peakUnacknowledged)} | ` +
          `${formatMs(i.puback.p50)} / ${formatMs(i.puback.p99)} | ${commitText(i)} | ${formatMs(i.healthMaxMs)} |`,
      );
  }
  lines.push(
    '',
    `Leaks raised per drain: ${c.series.map((s) => s.reps.map((r) => r.alarms).join(', ')).join('; ')}.${lostNote(c.series)}`,
    '',
  );
  return lines;
}
