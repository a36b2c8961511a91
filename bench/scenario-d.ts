import { setTimeout as sleep } from 'node:timers/promises';
import { HttpLoad, type HttpWindow, login, SseClients } from './clients.ts';
import { influxCeiling } from './influx-ceiling.ts';
import { progress } from './log.ts';
import { runPhase } from './phase.ts';
import { findPid } from './proc.ts';
import { telemetryText } from './report.ts';
import type { RpcChild } from './rpc.ts';
import {
  type BenchPlan,
  type Collector,
  type LatencyResult,
  type SustainStep,
  startSut,
  sutProbe,
  type ThroughputResult,
} from './scenarios.ts';
import { startInfluxd } from './services.ts';
import { BENCH_ADMIN_PASSWORD } from './setup.ts';
import { matchLatencies, summarizeLatencies, summarizeReps } from './stats.ts';
import type { SutMarks, SutReady } from './sut.ts';

/**
 * Scenario D, the full pipeline: C plus InfluxDB, seeded open tickets with live SLA clocks, the
 * API answering a steady request loop and Server-Sent Events clients connected. In this order:
 * latencies at a steady rate on a fresh system, the highest rate it sustains with the API
 * answering, then saturation at QoS 0 and 1.
 */

export interface ApiLoad {
  sse: SseClients;
  /** Starts a measured window of the request loop. */
  mark(): void;
  /** Ends it: what the request loop saw since `mark()`. */
  take(): HttpWindow & { seconds: number };
  stop(): void;
}

export async function startApiLoad(plan: BenchPlan, httpPort: number): Promise<ApiLoad> {
  const base = `http://127.0.0.1:${httpPort}`;
  const token = await login(base, 'admin', BENCH_ADMIN_PASSWORD);
  const sse = new SseClients();
  await sse.connect(`${base}/api/live`, token, plan.sseClients);
  const http = new HttpLoad(`${base}/api/tickets?open=true&limit=50`, token, plan.httpRate);
  http.start();
  let startedAt = performance.now();
  return {
    sse,
    mark() {
      http.take();
      startedAt = performance.now();
    },
    take() {
      return { ...http.take(), seconds: (performance.now() - startedAt) / 1000 };
    },
    stop() {
      http.stop();
      sse.close();
    },
  };
}

function httpSummary(windows: readonly (HttpWindow & { seconds: number })[]): ThroughputResult['http'] {
  const seconds = windows.reduce((n, w) => n + w.seconds, 0);
  return {
    okPerSecond: windows.reduce((n, w) => n + w.ok, 0) / seconds,
    failed: windows.reduce((n, w) => n + w.failed, 0),
    skipped: windows.reduce((n, w) => n + w.skipped, 0),
    latency: summarizeLatencies(windows.flatMap((w) => w.latenciesMs)),
  };
}

/** Collects the API load's figures over a phase's measured windows. */
export function apiWindows(api: ApiLoad) {
  const windows: (HttpWindow & { seconds: number })[] = [];
  return {
    onWindow: (edge: 'start' | 'end') => {
      if (edge === 'start') api.mark();
      else windows.push(api.take());
    },
    summary: () => httpSummary(windows),
  };
}

/** D: C plus InfluxDB, seeded open tickets with live SLA clocks, the API under load. */
export async function scenarioD(plan: BenchPlan, out: Collector): Promise<void> {
  const influxd = await startInfluxd();
  const influxPid = findPid(`${influxd.dir}/influxdb.conf`);
  progress(`  influxd at ${influxd.url}, pid ${influxPid ?? 'not found'}`);
  const ceiling = await influxCeiling(influxd.url, plan.influxCeilingMs).catch((err: Error) => {
    out.notes.push(`D: InfluxDB ceiling not measured: ${err.message}`);
    return Number.NaN;
  });
  out.notes.push(
    `D: influxd alone took ${Math.round(ceiling).toLocaleString('en-US')} points/s here (5,000-point line-protocol writes, 2 in flight, ${plan.influxCeilingMs / 1000} s, nothing else running in D yet)`,
  );
  const { sut, ready } = await startSut({
    mode: 'app',
    fleet: plan.fleet,
    rules: true,
    influxUrl: influxd.url,
    seed: { leadMs: plan.seedLeadMs, spreadMs: plan.seedSpreadMs },
  });
  out.notes.push(
    `D: ${plan.fleet.seeded.toLocaleString('en-US')} open tickets seeded in ${Math.round(ready.seedMs)} ms; app started in ${Math.round(ready.startMs)} ms`,
  );
  const api = await startApiLoad(plan, ready.httpPort);
  const pids: Record<string, number> = { server: sut.pid, ...(influxPid ? { influxd: influxPid } : {}) };
  const faultCursor: Record<string, number> = {};
  try {
    // Latency first, on a fresh system: the saturating phases leave backlogs (telemetry spool,
    // broker buffers) that would otherwise be measured as latency.
    out.latency = await latencyPhase(plan, sut, ready, api, pids, faultCursor);
    out.sustain = await sustainSearch(plan, sut, ready, api, pids, faultCursor);
    for (const qos of plan.qos) {
      const sseBefore = api.sse.events;
      const windows = apiWindows(api);
      const phase = await runPhase(plan, {
        label: 'D',
        port: ready.mqttPort,
        qos,
        fleet: plan.fleet,
        faultEvery: plan.faultEvery,
        faultCursor,
        probe: sutProbe(sut),
        pids,
        onWindow: windows.onWindow,
      });
      Object.assign(faultCursor, phase.load.faultCursor);
      out.throughput.push({
        scenario: 'D',
        qos,
        phase,
        http: windows.summary(),
        sseEvents: api.sse.events - sseBefore,
      });
      await sleep(500);
    }
    const health = await sut.call<Record<string, unknown>>('health');
    progress(`  health after D: ${JSON.stringify(health)}`);
    out.notes.push(`D: telemetry after the saturating phases: ${telemetryText(health)}`);
  } finally {
    api.stop();
    await sut.stop();
    await influxd.stop();
  }
}

/**
 * D at a steady `latencyRate` (QoS 1, the acknowledged path): publish → rule decision (the
 * `alarm` on the bus), → ticket committed (`ticketChanged` raised), → ticket visible through
 * the API (its `raised` event read from the live feed by a client in this process).
 */
async function latencyPhase(
  plan: BenchPlan,
  sut: RpcChild,
  ready: SutReady,
  api: ApiLoad,
  pids: Record<string, number>,
  faultCursor: Record<string, number>,
): Promise<LatencyResult> {
  await sut.call<SutMarks>('marks');
  api.sse.raisedSeen.clear();
  const windows = apiWindows(api);
  const phase = await runPhase(plan, {
    label: 'D latency',
    port: ready.mqttPort,
    qos: 1,
    fleet: plan.fleet,
    faultEvery: plan.faultEvery,
    faultCursor,
    rate: plan.latencyRate,
    probe: sutProbe(sut),
    pids,
    onWindow: windows.onWindow,
  });
  Object.assign(faultCursor, phase.load.faultCursor);
  await sleep(1000);
  const marks = await sut.call<SutMarks>('marks');
  const sent = new Map(phase.load.faultSends.filter(([, at]) => at >= phase.measuredFromMicros));
  const ms = (seen: [string, number][] | Map<string, number>) =>
    summarizeLatencies(matchLatencies(sent, new Map(seen), 1 / 1000));
  return {
    phase,
    decision: ms(marks.decisions),
    ticketCommitted: ms(marks.tickets),
    ticketVisible: ms(api.sse.raisedSeen),
    faultsSent: sent.size,
    http: windows.summary(),
    health: await sut.call<Record<string, unknown>>('health'),
  };
}

/**
 * The highest offered rate (QoS 1, 0.1% leaks) at which the pipeline keeps up: it ingests at
 * least 97% of what is offered while the API answers at least 95% of its request rate.
 * Saturation alone would not say that: flooded, the ingest starves the API.
 */
async function sustainSearch(
  plan: BenchPlan,
  sut: RpcChild,
  ready: SutReady,
  api: ApiLoad,
  pids: Record<string, number>,
  faultCursor: Record<string, number>,
): Promise<SustainStep[]> {
  const steps: SustainStep[] = [];
  const stepPlan = { ...plan, warmupMs: plan.sustainMs.warmup, measureMs: plan.sustainMs.measure, reps: 1 };
  for (const offered of plan.sustainRates) {
    const windows = apiWindows(api);
    const phase = await runPhase(stepPlan, {
      label: 'D sustain',
      port: ready.mqttPort,
      qos: 1,
      fleet: plan.fleet,
      faultEvery: plan.faultEvery,
      faultCursor,
      rate: offered,
      probe: sutProbe(sut),
      pids,
      onWindow: windows.onWindow,
    });
    Object.assign(faultCursor, phase.load.faultCursor);
    const http = windows.summary();
    const ingested = summarizeReps(phase.windows.map((w) => w.rate)).median;
    const ok = ingested >= 0.97 * offered && (http?.okPerSecond ?? 0) >= 0.95 * plan.httpRate;
    const serverCpu = summarizeReps(phase.windows.map((w) => w.cpu.server ?? Number.NaN)).median;
    const othersCpu = summarizeReps(phase.windows.map((w) => w.othersCpu)).median;
    steps.push({ offered, ingested, serverCpu, othersCpu, http, ok });
    await sleep(1000);
    if (!ok) break;
  }
  return steps;
}
