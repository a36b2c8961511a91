import type { WindowResult } from './phase.ts';
import type { Collector } from './scenarios.ts';
import { formatMiB, formatMs, formatRate, formatRatio, summarizeReps, verdict } from './stats.ts';

/** The sections of issue 14: the flood, one gateway connection, CPU per message. */

const mib = formatMiB;
const medianRate = (w: readonly WindowResult[]) => summarizeReps(w.map((x) => x.rate)).median;
const medianCpu = (w: readonly WindowResult[]) =>
  summarizeReps(w.map((x) => x.cpu.server ?? Number.NaN)).median;

export function floodSection(out: Collector): string[] {
  const runs = out.flood ?? [];
  if (runs.length === 0) return [];
  const lines = [
    '### Flood: QoS 0 as fast as TCP takes it, with the API and SLA clocks running',
    '',
    '| holds | connections × s | written msg/s | ingested msg/s | server CPU % | peak RSS MiB | API answered req/s, p99 ms | arrival breaches on time | breach minus deadline p50 / p99 / max ms | targets (RSS < 400 MB, API p99 < 100 ms, breaches ≤ 1 s late) |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- |',
  ];
  for (const f of runs) {
    const http = f.http;
    const apiOk = http !== undefined && http.latency.p99 < 100;
    const slaOk = f.overOneSecond === 0 && f.breaches >= f.seededBreaches;
    const rssOk = f.peakRssBytes < 400e6;
    lines.push(
      `| ${f.holds} | ${f.connections} × ${f.seconds} | ${formatRate(f.sentPerSecond)} | ${formatRate(f.ingestedPerSecond)} | ${Math.round(f.serverCpu)} | ${mib(f.peakRssBytes)} | ` +
        `${http ? `${formatRate(http.okPerSecond)}, ${formatMs(http.latency.p99)}` : '–'} | ` +
        `${formatRate(f.breaches - f.overOneSecond)} of ${formatRate(f.seededBreaches)} | ` +
        `${formatMs(f.lateness.p50)} / ${formatMs(f.lateness.p99)} / ${formatMs(f.lateness.max)} | ` +
        `${verdict(rssOk)}, ${verdict(apiOk)}, ${verdict(slaOk)} |`,
    );
  }
  lines.push('');
  for (const f of runs) {
    const m = f.memory;
    lines.push(
      `Holds ${f.holds}: at the end, JS heap ${mib(m.heapUsed)} of ${mib(m.heapTotal)} MiB, external ${mib(m.external)} MiB (buffers ${mib(m.arrayBuffers)} MiB), RSS ${mib(f.endRssBytes)} MiB. ` +
        `Backpressure: ${JSON.stringify(f.flow)}. Telemetry: ${f.telemetry}.`,
      '',
    );
  }
  return lines;
}

export function singleSection(out: Collector): string[] {
  const s = out.single;
  if (!s) return [];
  const aedes = medianRate(s.aedes.windows);
  const xiaoer = medianRate(s.xiaoer.windows);
  const ratio = xiaoer / aedes;
  return [
    '### One gateway connection (QoS 1, flat out)',
    '',
    '| server | msg/s (median) | server CPU % | × aedes | target |',
    '| --- | ---: | ---: | ---: | --- |',
    `| bare aedes → raw subscriber | ${formatRate(aedes)} | ${Math.round(medianCpu(s.aedes.windows))} | 1.00 | |`,
    `| xiaoer (rules, tickets; ${formatRate(s.devices)} configured devices on one site, 0.1% leaks) | ${formatRate(xiaoer)} | ${Math.round(medianCpu(s.xiaoer.windows))} | ${formatRatio(ratio)} | ≥ 0.50: ${verdict(ratio >= 0.5)} |`,
    '',
  ];
}

export function cpuSection(out: Collector): string[] {
  const c = out.cpu;
  if (!c) return [];
  const perMessage = (w: readonly WindowResult[]) => (medianCpu(w) / 100) * (1e6 / medianRate(w));
  return [
    `### CPU per message: TypeScript through tsx against compiled JavaScript (C, QoS 1, paced at ${formatRate(c.rate)} msg/s)`,
    '',
    '| how the server runs | ingested msg/s | server CPU % | CPU µs per message |',
    '| --- | ---: | ---: | ---: |',
    ...c.runs.map(
      (r) =>
        `| ${r.source === 'ts' ? 'sources through tsx (before)' : 'compiled build (`npm start` now)'} | ${formatRate(medianRate(r.phase.windows))} | ${Math.round(medianCpu(r.phase.windows))} | ${perMessage(r.phase.windows).toFixed(1)} |`,
    ),
    '',
  ];
}
