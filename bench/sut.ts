import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { Aedes } from 'aedes';
import { App } from '../src/app.ts';
import { createLogger } from '../src/core/logger.ts';
import type { MqttSourceStats } from '../src/ingest/mqtt-source.ts';
import { type FleetSpec, siteFleet } from './fleet.ts';
import { hrMicros } from './proc.ts';
import { installPubackTiming, takePubackSamples } from './puback-timing.ts';
import { serveRpc } from './rpc.ts';
import { benchConfig, seedOpenTickets } from './setup.ts';
import { runSlaPrecision } from './sla-precision.ts';
import { summarizeLatencies } from './stats.ts';

/**
 * The process under test (a child of bench/run.ts), run as JavaScript compiled with
 * tsconfig.bench.json (see bench/rpc.ts), as `npm start` runs xiaoer: either a bare aedes broker with no hooks
 * (scenario A) or the real xiaoer App (B, C, D, scale). It reports its counters and, for the
 * latency runs, when each leak became a rule decision and a ticket.
 */

export type SutSpec =
  | { mode: 'aedes' }
  | {
      mode: 'app';
      fleet: FleetSpec;
      rules: boolean;
      influxUrl?: string;
      /** Arrival deadlines of the seeded tickets: from `leadMs` after start, spread over `spreadMs`. */
      seed?: { leadMs: number; spreadMs: number };
      /** Per gateway login, messages a second (the bench lifts the production ceiling by default). */
      gatewayRate?: number;
      /** Backpressure's holds off (the flood's "before"): reading never waits. */
      flowOff?: boolean;
      /** Ingest from an external broker (issue 15), `inFlight` messages recorded at once per session. */
      external?: { url: string; inFlight: number };
      /** PostgreSQL, as a cluster member: partitions of sites, one MQTT session each. */
      database?: { url: string; instanceId: string; checkSeconds: number };
    };

export interface SutReady {
  mqttPort: number;
  httpPort: number;
  startMs: number;
  seedMs: number;
}

export interface SutSample {
  /** When the counters were read: ms on the shared monotonic clock. */
  at: number;
  received: number;
  accepted: number;
  alarms: number;
  /** Share of the main thread's event loop that was busy since the last sample (0..1). */
  busy: number;
  /** External broker, over every session: messages acknowledged (PUBACK written). */
  acknowledged: number;
  /** External broker: messages recorded (received and no longer being recorded), acknowledged or not. */
  recorded: number;
  /** External broker: messages MQTT.js handed to the ingest, over every session. */
  sessionsReceived: number;
  /** Cluster: the partitions this instance consumes. */
  partitions: number[];
  /** When `acknowledged`, `recorded` and `partitions` were read (ms, shared monotonic clock). */
  sessionsAt: number;
  /** How long `App.health()` took to answer (it queries the store). */
  healthMs: number;
}

export interface SutMarks {
  /** `<site>/<asset>` → first `alarm` (raised) on the bus, µs on the shared monotonic clock. */
  decisions: [string, number][];
  /** `<site>/<asset>` → first `ticketChanged` of type `raised`. */
  tickets: [string, number][];
}

const state: {
  app?: App;
  aedes?: Aedes;
  server?: Server;
  sockets: Set<Socket>;
  dataDir?: string;
  decisions: Map<string, number>;
  tickets: Map<string, number>;
  /** Arrival breaches as committed: the deadline, and how late (ms) the breach event came. */
  breaches: { dueAt: number; lateMs: number }[];
  elu: ReturnType<typeof performance.eventLoopUtilization>;
} = {
  sockets: new Set(),
  decisions: new Map(),
  tickets: new Map(),
  breaches: [],
  elu: performance.eventLoopUtilization(),
};

async function startBareAedes(): Promise<SutReady> {
  const started = performance.now();
  const aedes = await Aedes.createBroker();
  const server = createServer((socket) => {
    state.sockets.add(socket);
    socket.once('close', () => state.sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.aedes = aedes;
  state.server = server;
  const address = server.address();
  const mqttPort = typeof address === 'object' && address ? address.port : 0;
  return { mqttPort, httpPort: 0, startMs: performance.now() - started, seedMs: 0 };
}

async function startApp(spec: Extract<SutSpec, { mode: 'app' }>): Promise<SutReady> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xiaoer-bench-'));
  state.dataDir = dataDir;
  const config = benchConfig(dataDir, spec.fleet, {
    rules: spec.rules,
    ...(spec.influxUrl ? { influxUrl: spec.influxUrl } : {}),
    ...(spec.gatewayRate ? { gatewayRate: spec.gatewayRate } : {}),
    ...(spec.external ? { external: spec.external } : {}),
    ...(spec.database ? { database: spec.database } : {}),
  });
  if (spec.external) installPubackTiming();
  if (spec.flowOff)
    config.mqtt.flow = {
      ...config.mqtt.flow,
      maxInFlight: 1_000_000,
      maxLoopDelayMs: 10_000,
      holdForTelemetry: false,
    };
  const seedStarted = performance.now();
  if (spec.seed && spec.fleet.seeded > 0) {
    const { leadMs, spreadMs } = spec.seed;
    const devices = spec.fleet.sites.flatMap((site) => siteFleet(spec.fleet, site).seeded);
    const base = Date.now() + leadMs;
    await seedOpenTickets(config, devices, (i) => base + Math.floor((i * spreadMs) / devices.length));
  }
  const seedMs = performance.now() - seedStarted;
  const started = performance.now();
  const app = new App({ config, log: createLogger('silent') });
  await app.start();
  state.app = app;
  app.bus.on('alarm', (t) => {
    const key = `${t.alarm.site}/${t.alarm.assetId}`;
    if (t.type === 'raised' && !state.decisions.has(key)) state.decisions.set(key, hrMicros());
  });
  app.bus.on('ticketChanged', (ticket, event) => {
    const key = `${ticket.site}/${ticket.assetId}`;
    if (event.type === 'raised' && !state.tickets.has(key)) state.tickets.set(key, hrMicros());
    const detail = event.detail as { clock?: string; dueAt?: number };
    if (event.type === 'sla_breached' && detail.clock === 'arrival' && detail.dueAt !== undefined)
      state.breaches.push({ dueAt: detail.dueAt, lateMs: Date.now() - detail.dueAt });
  });
  return {
    mqttPort: app.ports.mqtt ?? 0,
    httpPort: app.ports.http,
    startMs: performance.now() - started,
    seedMs,
  };
}

async function start(spec: SutSpec): Promise<SutReady> {
  const ready = spec.mode === 'aedes' ? await startBareAedes() : await startApp(spec);
  state.elu = performance.eventLoopUtilization();
  return ready;
}

async function sample(): Promise<SutSample> {
  const elu = performance.eventLoopUtilization(state.elu);
  state.elu = performance.eventLoopUtilization();
  // health() reads the MQTT sessions' counters before its first await (a store query, which a busy
  // instance on PostgreSQL answers late): they are as of `readAt`.
  const readAt = hrMicros();
  const health = state.app ? await state.app.health() : {};
  const healthMs = (hrMicros() - readAt) / 1000;
  const ingest = health.ingest as Partial<SutSample> | undefined;
  const sessions = (health.mqtt as { sessions?: MqttSourceStats[] } | undefined)?.sessions ?? [];
  const cluster = health.cluster as { partitions: number[] } | null | undefined;
  return {
    at: hrMicros() / 1000,
    sessionsAt: readAt / 1000,
    healthMs,
    received: ingest?.received ?? 0,
    accepted: ingest?.accepted ?? 0,
    alarms: ingest?.alarms ?? 0,
    busy: elu.utilization,
    acknowledged: sessions.reduce((n, s) => n + s.acknowledged, 0),
    recorded: sessions.reduce((n, s) => n + s.received - s.inFlight, 0),
    sessionsReceived: sessions.reduce((n, s) => n + s.received, 0),
    partitions: cluster?.partitions ?? [],
  };
}

function marks(): SutMarks {
  const out = { decisions: [...state.decisions], tickets: [...state.tickets] };
  state.decisions.clear();
  state.tickets.clear();
  return out;
}

/** Arrival breaches committed since the last call. */
function breaches(): { dueAt: number; lateMs: number }[] {
  return state.breaches.splice(0);
}

async function health(): Promise<Record<string, unknown>> {
  return state.app ? state.app.health() : {};
}

/** Memory after a full collection (needs --expose-gc): what is retained, not garbage not yet collected. */
function collectGarbage(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage();
}

async function stop(): Promise<void> {
  if (state.app) await state.app.stop();
  if (state.aedes) {
    const aedes = state.aedes;
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const socket of state.sockets) socket.destroy();
    await new Promise<void>((resolve) => state.server?.close(() => resolve()));
  }
  if (state.dataDir) rmSync(state.dataDir, { recursive: true, force: true });
}

serveRpc({
  start,
  sample,
  marks,
  breaches,
  health,
  stop,
  runSlaPrecision,
  collectGarbage,
  memory: () => process.memoryUsage(),
  /** Receipt → PUBACK of the external broker's messages acknowledged since the last call. */
  pubackLatency: () => summarizeLatencies(takePubackSamples()),
  heapSnapshot: (dir: string) => writeHeapSnapshot(path.join(dir, `sut-${process.pid}.heapsnapshot`)),
});
