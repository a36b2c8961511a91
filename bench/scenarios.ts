import { setTimeout as sleep } from 'node:timers/promises';
import { RawSubscriber } from './clients.ts';
import type { FleetSpec } from './fleet.ts';
import type { LoadResult, LoadSample, LoadSpec } from './loadgen.ts';
import { progress } from './log.ts';
import { type LoadPlan, type PhaseResult, type Probe, runPhase } from './phase.ts';
import { hrMicros, sampleProc } from './proc.ts';
import { RpcChild } from './rpc.ts';
import type { ClusterResult, DrainSeries } from './scenario-external.ts';
import type { FloodResult } from './scenario-flood.ts';
import { startBenchMosquitto } from './services.ts';
import type { SlaPrecisionResult, SlaPrecisionSpec } from './sla-precision.ts';
import type { LatencySummary } from './stats.ts';
import type { SutReady, SutSample, SutSpec } from './sut.ts';

export type ScenarioId = 'A' | 'Amosq' | 'B' | 'C' | 'D' | 'scale' | 'sla';

/** One gateway connection (the real shape: one Zigbee2MQTT per site), bare aedes against xiaoer. */
export interface SingleConnectionResult {
  devices: number;
  aedes: PhaseResult;
  xiaoer: PhaseResult;
}

/** Server CPU per message at one paced rate, the sources through tsx against the compiled build. */
export interface CpuPerMessage {
  rate: number;
  runs: { source: 'ts' | 'build'; phase: PhaseResult }[];
}

export interface BenchPlan extends LoadPlan {
  /** The QoS levels every throughput scenario runs at. */
  qos: readonly (0 | 1)[];
  fleet: FleetSpec;
  /** One leak every this many messages in C and D (1000: 0.1%). */
  faultEvery: number;
  /** D: the steady rate at which latencies are measured. */
  latencyRate: number;
  /** D: offered rates tried in turn (QoS 1) until the pipeline no longer keeps up. */
  sustainRates: number[];
  sustainMs: { warmup: number; measure: number };
  /** D: how long influxd's own write ceiling is measured before the app starts. */
  influxCeilingMs: number;
  httpRate: number;
  sseClients: number;
  /** D: open tickets' arrival deadlines, from this long after start, spread over `seedSpreadMs`. */
  seedLeadMs: number;
  seedSpreadMs: number;
  scale: { normal: number; tickets: number };
  sla: SlaPrecisionSpec;
  flood: { seconds: number };
  /** The single-connection scenario's configured devices. */
  singleDevices: number;
  /** The paced rate at which CPU per message is compared. */
  cpuRate: number;
  /** Issue 15, one instance on an external broker: `messages` drained with each `mqtt.inFlight`. */
  external: { fleet: FleetSpec; messages: number; inFlight: readonly number[]; timeoutMs: number };
  /** Issue 15, a cluster on PostgreSQL: eight sites' devices, drained by each set of instances. */
  cluster: {
    normal: number;
    faultPool: number;
    messages: number;
    runs: readonly { count: number; inFlight: number }[];
    timeoutMs: number;
  };
}

export interface ThroughputResult {
  scenario: ScenarioId;
  qos: 0 | 1;
  phase: PhaseResult;
  /** D: the API load during the phase. */
  http?: { okPerSecond: number; failed: number; skipped: number; latency: LatencySummary };
  sseEvents?: number;
}

/** D: one step of the search for the highest rate the full pipeline sustains. */
export interface SustainStep {
  offered: number;
  ingested: number;
  serverCpu: number;
  othersCpu: number;
  http: ThroughputResult['http'];
  ok: boolean;
}

export interface LatencyResult {
  phase: PhaseResult;
  decision: LatencySummary;
  ticketCommitted: LatencySummary;
  ticketVisible: LatencySummary;
  faultsSent: number;
  http: ThroughputResult['http'];
  health: Record<string, unknown>;
}

export interface ScaleResult {
  assets: number;
  tickets: number;
  seedMs: number;
  startMs: number;
  rssAfterStartBytes: number;
  rssAfterStartGcBytes: number;
  rssAfterTrafficBytes: number;
  /** After a forced full garbage collection: what the process really keeps. */
  rssAfterGcBytes: number;
  heapUsedAfterGcBytes: number;
  heapUsedAfterStartGcBytes: number;
  sweepMs: number;
}

export type Collector = {
  throughput: ThroughputResult[];
  latency?: LatencyResult;
  sustain?: SustainStep[];
  scale?: ScaleResult;
  sla?: SlaPrecisionResult;
  flood?: FloodResult[];
  single?: SingleConnectionResult;
  cpu?: CpuPerMessage;
  external?: DrainSeries[];
  cluster?: ClusterResult;
  notes: string[];
};

/** BENCH_PROFILE_DIR=<dir> writes a V8 CPU profile of every process under test there. */
function profileArgs(): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export async function startSut(
  spec: SutSpec,
  nodeArgs: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<{ sut: RpcChild; ready: SutReady }> {
  const sut = new RpcChild('sut.ts', 'sut', [...nodeArgs, ...profileArgs()], env);
  const ready = await sut.call<SutReady>('start', spec, 180_000);
  return { sut, ready };
}

export const sutProbe = (sut: RpcChild) => async (): Promise<Probe> => {
  const s = await sut.call<SutSample>('sample');
  return { count: s.accepted, at: s.at, busy: s.busy };
};

/** A: generator → broker with no hooks → raw subscriber, for aedes and for Mosquitto. */
export async function scenarioA(
  plan: BenchPlan,
  out: Collector,
  broker: 'aedes' | 'mosquitto',
): Promise<void> {
  const id: ScenarioId = broker === 'aedes' ? 'A' : 'Amosq';
  let port: number;
  let pid: number;
  let sut: RpcChild | undefined;
  let stopMosquitto: (() => Promise<void>) | undefined;
  if (broker === 'aedes') {
    const started = await startSut({ mode: 'aedes' });
    sut = started.sut;
    port = started.ready.mqttPort;
    pid = sut.pid;
  } else {
    const mosquitto = await startBenchMosquitto();
    port = mosquitto.port;
    pid = mosquitto.pid;
    stopMosquitto = mosquitto.stop;
  }
  try {
    for (const qos of plan.qos) {
      const sub = await RawSubscriber.connect(port, qos);
      try {
        const probe = async (): Promise<Probe> => {
          const count = sub.received;
          const at = hrMicros() / 1000;
          const busy = sut ? (await sut.call<SutSample>('sample')).busy : undefined;
          return { count, at, ...(busy !== undefined ? { busy } : {}) };
        };
        const phase = await runPhase(plan, {
          label: id,
          port,
          qos,
          fleet: plan.fleet,
          faultEvery: 0,
          faultCursor: {},
          probe,
          pids: { server: pid },
        });
        out.throughput.push({ scenario: id, qos, phase });
      } finally {
        sub.close();
      }
      await sleep(500);
    }
  } finally {
    await sut?.stop();
    await stopMosquitto?.();
  }
}

/** B (no rules: ingest and adapters only) and C (the example rules, 0.1% leaks raising tickets). */
export async function scenarioBC(plan: BenchPlan, out: Collector, id: 'B' | 'C'): Promise<void> {
  const { sut, ready } = await startSut({ mode: 'app', fleet: plan.fleet, rules: id === 'C' });
  const faultCursor: Record<string, number> = {};
  try {
    for (const qos of plan.qos) {
      const phase = await runPhase(plan, {
        label: id,
        port: ready.mqttPort,
        qos,
        fleet: plan.fleet,
        faultEvery: id === 'C' ? plan.faultEvery : 0,
        faultCursor,
        probe: sutProbe(sut),
        pids: { server: sut.pid },
      });
      Object.assign(faultCursor, phase.load.faultCursor);
      out.throughput.push({ scenario: id, qos, phase });
      await sleep(500);
    }
  } finally {
    await sut.stop();
  }
}

/** RSS with many registered assets and open tickets, before and after one message per asset. */
export async function scenarioScale(plan: BenchPlan, out: Collector): Promise<void> {
  const fleet: FleetSpec = {
    sites: plan.fleet.sites,
    normal: plan.scale.normal,
    faultPool: 0,
    seeded: plan.scale.tickets,
  };
  const { sut, ready } = await startSut(
    { mode: 'app', fleet, rules: true, seed: { leadMs: 3_600_000, spreadMs: 3_600_000 } },
    ['--expose-gc'],
  );
  try {
    await sleep(2000);
    const rssAfterStartBytes = sampleProc(sut.pid)?.rssBytes ?? Number.NaN;
    const startGc = await sut.call<NodeJS.MemoryUsage>('collectGarbage');
    const sweepStarted = performance.now();
    await sweep(plan, fleet, ready.mqttPort);
    const sweepMs = performance.now() - sweepStarted;
    await sleep(2000);
    const rssAfterTrafficBytes = sampleProc(sut.pid)?.rssBytes ?? Number.NaN;
    const afterGc = await sut.call<NodeJS.MemoryUsage>('collectGarbage');
    // BENCH_HEAP_DIR=<dir>: a heap snapshot of the server after the sweep, to see what it keeps.
    const heapDir = process.env.BENCH_HEAP_DIR;
    if (heapDir) progress(`  scale: heap snapshot ${await sut.call<string>('heapSnapshot', heapDir)}`);
    progress(
      `  scale: memory after start ${JSON.stringify(startGc)}, after traffic and GC ${JSON.stringify(afterGc)}`,
    );
    out.scale = {
      assets: fleet.normal + fleet.seeded,
      tickets: fleet.seeded,
      seedMs: ready.seedMs,
      startMs: ready.startMs,
      rssAfterStartBytes,
      rssAfterTrafficBytes,
      rssAfterGcBytes: afterGc.rss,
      heapUsedAfterGcBytes: afterGc.heapUsed,
      heapUsedAfterStartGcBytes: startGc.heapUsed,
      rssAfterStartGcBytes: startGc.rss,
      sweepMs,
    };
  } finally {
    await sut.stop();
  }
}

async function sweep(plan: BenchPlan, fleet: FleetSpec, port: number): Promise<void> {
  const gen = new RpcChild('loadgen.ts', 'loadgen');
  try {
    const spec: LoadSpec = {
      host: '127.0.0.1',
      port,
      qos: 1,
      fleet,
      connectionsPerSite: plan.connectionsPerSite,
      faultEvery: 0,
      faultCursor: {},
      window: plan.window,
      batch: plan.batch,
      sweep: true,
    };
    await gen.call('start', spec, 60_000);
    await gen.call<LoadSample>('sweepDone', undefined, 300_000);
    await gen.call<LoadResult>('stop');
  } finally {
    await gen.stop();
  }
}

/** SLA clock precision with many open tickets (in its own process: it needs the memory). */
export async function scenarioSla(plan: BenchPlan, out: Collector): Promise<void> {
  const sut = new RpcChild('sut.ts', 'sla', profileArgs());
  try {
    out.sla = await sut.call<SlaPrecisionResult>('runSlaPrecision', plan.sla, 600_000);
  } finally {
    await sut.stop();
  }
}

/**
 * One gateway connection, flat out at QoS 1: bare aedes relaying to a raw subscriber, then xiaoer
 * (rules and tickets, no InfluxDB: `npm start`'s defaults) with `singleDevices` configured devices
 * on one site and 0.1% leaks.
 */
export async function scenarioSingle(plan: BenchPlan, out: Collector): Promise<void> {
  const fleet: FleetSpec = { sites: ['xincheng'], normal: plan.singleDevices, faultPool: 3000, seeded: 0 };
  const onePlan = { ...plan, connectionsPerSite: 1 };
  const bare = await startSut({ mode: 'aedes' });
  let aedes: PhaseResult;
  try {
    const sub = await RawSubscriber.connect(bare.ready.mqttPort, 1);
    try {
      aedes = await runPhase(onePlan, {
        label: 'single aedes',
        port: bare.ready.mqttPort,
        qos: 1,
        fleet,
        faultEvery: 0,
        faultCursor: {},
        probe: async () => ({ count: sub.received, at: hrMicros() / 1000 }),
        pids: { server: bare.sut.pid },
      });
    } finally {
      sub.close();
    }
  } finally {
    await bare.sut.stop();
  }
  const { sut, ready } = await startSut({ mode: 'app', fleet, rules: true });
  try {
    const xiaoer = await runPhase(onePlan, {
      label: 'single xiaoer',
      port: ready.mqttPort,
      qos: 1,
      fleet,
      faultEvery: plan.faultEvery,
      faultCursor: {},
      probe: sutProbe(sut),
      pids: { server: sut.pid },
    });
    out.single = { devices: plan.singleDevices, aedes, xiaoer };
  } finally {
    await sut.stop();
  }
}

/** C at a paced rate (QoS 1), once from the TypeScript sources through tsx, once compiled. */
export async function scenarioCpu(plan: BenchPlan, out: Collector): Promise<void> {
  const runs: CpuPerMessage['runs'] = [];
  for (const source of ['ts', 'build'] as const) {
    const { sut, ready } = await startSut({ mode: 'app', fleet: plan.fleet, rules: true }, [], {
      XIAOER_BENCH_SOURCE: source,
    });
    try {
      const phase = await runPhase(plan, {
        label: `cpu (${source})`,
        port: ready.mqttPort,
        qos: 1,
        fleet: plan.fleet,
        faultEvery: plan.faultEvery,
        faultCursor: {},
        rate: plan.cpuRate,
        probe: sutProbe(sut),
        pids: { server: sut.pid },
      });
      runs.push({ source, phase });
    } finally {
      await sut.stop();
    }
  }
  out.cpu = { rate: plan.cpuRate, runs };
}
