import { setTimeout as sleep } from 'node:timers/promises';
import { progress } from './log.ts';
import { runPhase } from './phase.ts';
import { findPid, sampleProc } from './proc.ts';
import { telemetryText } from './report.ts';
import { apiWindows, startApiLoad } from './scenario-d.ts';
import type { BenchPlan, Collector, ThroughputResult } from './scenarios.ts';
import { startSut, sutProbe } from './scenarios.ts';
import { startInfluxd } from './services.ts';
import { type LatencySummary, summarizeLatencies, summarizeReps } from './stats.ts';

/** What a flood did to the server: memory, the API, and the SLA clocks. */
export interface FloodResult {
  /** Backpressure's holds on (as shipped) or off (the "before"). */
  holds: 'on' | 'off';
  seconds: number;
  connections: number;
  /** What the generator wrote, and what the ingest took, per second over the flood. */
  sentPerSecond: number;
  ingestedPerSecond: number;
  serverCpu: number;
  peakRssBytes: number;
  endRssBytes: number;
  /** The server's heap and buffers at the end of the flood (process.memoryUsage()). */
  memory: NodeJS.MemoryUsage;
  http: ThroughputResult['http'];
  seededBreaches: number;
  breaches: number;
  /** Breach event committed minus its deadline (ms). */
  lateness: LatencySummary;
  overOneSecond: number;
  flow: unknown;
  telemetry: string;
}

/**
 * The flood of issue 14: D's system (InfluxDB, seeded open tickets whose arrival deadlines fall
 * during the flood, 200 API requests/s, the live-feed clients) and six gateway connections
 * writing QoS 0 as fast as TCP lets them for `plan.flood.seconds`. The generator's per-gateway
 * ceiling is lifted so that the load-driven holds (in flight, telemetry, event loop) must do
 * the work; the shipped ceiling (5,000 msg/s per gateway) would stop such a flood sooner.
 */
export async function scenarioFlood(plan: BenchPlan, out: Collector, holds: 'on' | 'off'): Promise<void> {
  const seconds = plan.flood.seconds;
  const influxd = await startInfluxd();
  const influxPid = findPid(`${influxd.dir}/influxdb.conf`);
  // Deadlines from 10 s after seeding to 10 s before the flood ends: start-up and the clients'
  // connections take a few seconds, and every breach should land inside the flood.
  const leadMs = 10_000;
  const { sut, ready } = await startSut({
    mode: 'app',
    fleet: plan.fleet,
    rules: true,
    influxUrl: influxd.url,
    seed: { leadMs, spreadMs: Math.max(1000, (seconds - 12) * 1000) },
    ...(holds === 'off' ? { flowOff: true } : {}),
  });
  const api = await startApiLoad(plan, ready.httpPort);
  const pids: Record<string, number> = { server: sut.pid, ...(influxPid ? { influxd: influxPid } : {}) };
  let peakRssBytes = 0;
  const sampler = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, sampleProc(sut.pid)?.rssBytes ?? 0);
  }, 250);
  try {
    const windows = apiWindows(api);
    const reps = Math.max(1, Math.round(seconds / 10));
    const phase = await runPhase(
      { ...plan, warmupMs: 500, measureMs: (seconds * 1000) / reps, reps },
      {
        label: `flood (holds ${holds})`,
        port: ready.mqttPort,
        qos: 0,
        fleet: plan.fleet,
        faultEvery: plan.faultEvery,
        faultCursor: {},
        probe: sutProbe(sut),
        pids,
        onWindow: windows.onWindow,
      },
    );
    const endRssBytes = sampleProc(sut.pid)?.rssBytes ?? Number.NaN;
    const memory = await sut.call<NodeJS.MemoryUsage>('memory');
    const heapDir = process.env.BENCH_HEAP_DIR;
    if (heapDir) progress(`  flood: heap snapshot ${await sut.call<string>('heapSnapshot', heapDir)}`);
    await sleep(2000);
    const breaches = await sut.call<{ dueAt: number; lateMs: number }[]>('breaches');
    const late = breaches.map((b) => b.lateMs);
    const health = await sut.call<{ mqtt?: { flow?: unknown } } & Record<string, unknown>>('health');
    out.flood = [
      ...(out.flood ?? []),
      {
        holds,
        seconds,
        connections: plan.connectionsPerSite * plan.fleet.sites.length,
        // The measured windows span the flood's `seconds` (reps × seconds / reps).
        sentPerSecond: phase.windows.reduce((n, w) => n + w.sent, 0) / seconds,
        ingestedPerSecond: summarizeReps(phase.windows.map((w) => w.rate)).median,
        serverCpu: summarizeReps(phase.windows.map((w) => w.cpu.server ?? Number.NaN)).median,
        peakRssBytes: Math.max(peakRssBytes, endRssBytes),
        endRssBytes,
        memory,
        http: windows.summary(),
        seededBreaches: plan.fleet.seeded,
        breaches: breaches.length,
        lateness: summarizeLatencies(late),
        overOneSecond: late.filter((ms) => ms > 1000).length,
        flow: health.mqtt?.flow,
        telemetry: telemetryText(health),
      },
    ];
    progress(`  flood (holds ${holds}): health ${JSON.stringify(health.mqtt)}`);
  } finally {
    clearInterval(sampler);
    api.stop();
    await sut.stop();
    await influxd.stop();
  }
}
