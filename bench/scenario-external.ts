import { setTimeout as sleep } from 'node:timers/promises';
import { partitionOf } from '../src/cluster/coordinator.ts';
import { createTestDatabase, type TestDatabase } from '../test/helpers/postgres.ts';
import type { FleetSpec } from './fleet.ts';
import type { LimitDone, LoadResult, LoadSpec } from './loadgen.ts';
import { progress } from './log.ts';
import { postgresSettings } from './postgres.ts';
import { cpuByName, cpuPercent, groupCpuPercent, machineCpuSeconds, sampleProc } from './proc.ts';
import { RpcChild } from './rpc.ts';
import type { BenchPlan, Collector } from './scenarios.ts';
import { startSut } from './scenarios.ts';
import { type RunningMosquitto, startIngestMosquitto } from './services.ts';
import { type LatencySummary, matchLatencies, summarizeLatencies } from './stats.ts';
import type { SutMarks, SutSample } from './sut.ts';

/**
 * Issue 15: ingest from an external broker (Mosquitto) over MQTT 5, the way a site runs it with
 * `mqtt.url`, and a cluster of instances on PostgreSQL splitting the sites into partitions.
 *
 * Both scenarios *drain a fixed amount*: the generator's connections write their share of
 * `messages` QoS 1 PUBLISHes as fast as Mosquitto takes them (Mosquitto acknowledges a publisher
 * on receipt and queues for xiaoer's persistent sessions), and the clock runs from the first
 * frame written until xiaoer has acknowledged the last of them (PUBACK written, so the broker may
 * forget it), as its own health counters say (`mqtt.sessions[]`). Two counts are followed every
 * 50 ms: *recorded* (received and no longer being recorded: `received − inFlight`) and
 * *acknowledged*. With pipelining the PUBACKs go in arrival order, so one slow message (a leak's
 * ticket commit) holds back the PUBACKs of those behind it: the two counts part, and rates over
 * short spans are read from the recorded one.
 */

export interface DrainInstance {
  id: string;
  partitions: number[];
  sites: string[];
  /** Messages this instance acknowledged in the run. */
  acknowledged: number;
  /** Its recording rate between 10% and 90% of the whole recorded (msg/s). */
  midRate: number;
  /** When it recorded / acknowledged its last message, ms after the first frame was written. */
  recordedMs: number;
  acknowledgedMs: number;
  /** Most messages received but not yet acknowledged at one time (held PUBACKs and those being recorded). */
  peakUnacknowledged: number;
  /** % of one core over the drain. */
  cpu: number;
  /** Largest RSS seen during the drain (sampled every 50 ms). */
  peakRssBytes: number;
  /** Receipt by MQTT.js → PUBACK written, per message (bench/puback-timing.ts). */
  puback: LatencySummary;
  /** Each leak of the drain: its `alarm` on the bus → its ticket committed (`ticketChanged` raised). */
  commit: LatencySummary;
  /** Longest `App.health()` (one store query) during the drain: what a request to the store waited. */
  healthMaxMs: number;
}

export interface DrainRun {
  label: string;
  inFlight: number;
  messages: number;
  connections: number;
  /** First frame written → last PUBACK from Mosquitto to the generator. */
  publishMs: number;
  /** First frame written → last message recorded by xiaoer (every instance). */
  recordedMs: number;
  /** First frame written → last message acknowledged by xiaoer (every instance). */
  drainMs: number;
  /** Recording rate of all instances between 10% and 90% recorded. */
  midRate: number;
  instances: DrainInstance[];
  mosquittoCpu: number;
  mosquittoPeakRssBytes: number;
  generatorCpu: number;
  postgresCpu?: number;
  othersCpu: number;
  /** Alarms (leaks) the instances raised during the run. */
  alarms: number;
}

/** The same drain repeated (`plan.reps` times) on the same processes. */
export interface DrainSeries {
  label: string;
  inFlight: number;
  /** Instances consuming. */
  members: number;
  reps: DrainRun[];
}

export interface ClusterResult {
  sites: { id: string; partition: number }[];
  postgres: string;
  series: DrainSeries[];
}

/** The cluster scenario's sites: eight whose ids hash to eight different partitions of 16. */
export const CLUSTER_SITES = [
  'xincheng',
  'north',
  'east',
  'west',
  'south',
  'harbour',
  'airport',
  'depot',
] as const;

interface Member {
  id: string;
  sut: RpcChild;
}

interface DrainSpec {
  label: string;
  inFlight: number;
  fleet: FleetSpec;
  connectionsPerSite: number;
  /** Messages in all; each connection writes its equal share. */
  messages: number;
  faultEvery: number;
  /** Where each site's leaks continue, so that every leak lands on an asset with no open ticket. */
  faultCursor: Record<string, number>;
  window: number;
  batch: number;
  mosquitto: RunningMosquitto;
  members: Member[];
  postgres: boolean;
  timeoutMs: number;
}

const sample = (m: Member) => m.sut.call<SutSample>('sample');

/** Rule decision → ticket committed, per leak (first of each asset) since the last `marks`. */
function commitLatency(marks: SutMarks): LatencySummary {
  const decided = new Map(marks.decisions);
  return summarizeLatencies(matchLatencies(decided, new Map(marks.tickets), 1 / 1000));
}
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

interface Point {
  at: number;
  recorded: number[];
  acknowledged: number[];
}

async function drain(spec: DrainSpec): Promise<DrainRun> {
  const connections = spec.fleet.sites.length * spec.connectionsPerSite;
  const limit = Math.ceil(spec.messages / connections);
  const messages = limit * connections;
  const gen = new RpcChild('loadgen.ts', 'loadgen');
  try {
    await gen.call('sample');
    const base = await Promise.all(spec.members.map(sample));
    for (const m of spec.members) {
      await m.sut.call('pubackLatency');
      await m.sut.call('marks');
    }
    const cpuAt = () => ({
      at: performance.now(),
      members: spec.members.map((m) => sampleProc(m.sut.pid)),
      mosquitto: sampleProc(spec.mosquitto.pid),
      generator: sampleProc(gen.pid),
      runner: sampleProc(process.pid),
      postgres: spec.postgres ? cpuByName('postgres') : undefined,
      machine: machineCpuSeconds(),
    });
    const before = cpuAt();
    const loadSpec: LoadSpec = {
      host: '127.0.0.1',
      port: spec.mosquitto.port,
      qos: 1,
      fleet: spec.fleet,
      connectionsPerSite: spec.connectionsPerSite,
      faultEvery: spec.faultEvery,
      faultCursor: spec.faultCursor,
      window: spec.window,
      batch: spec.batch,
      limit,
    };
    await gen.call('start', loadSpec, 60_000);
    progress(`  ${spec.label}: ${messages.toLocaleString('en-US')} messages from ${connections} connections`);
    const published = gen.call<LimitDone>('limitDone', undefined, spec.timeoutMs);
    const series: Point[] = [];
    const peakUnacked = spec.members.map(() => 0);
    const peakRss = spec.members.map(() => 0);
    const healthMax = spec.members.map(() => 0);
    let mosquittoPeakRss = 0;
    const deadline = performance.now() + spec.timeoutMs;
    let last: SutSample[] = base;
    for (;;) {
      last = await Promise.all(spec.members.map(sample));
      const point: Point = {
        at: Math.max(...last.map((s) => s.sessionsAt)),
        recorded: last.map((s, i) => s.recorded - (base[i]?.recorded ?? 0)),
        acknowledged: last.map((s, i) => s.acknowledged - (base[i]?.acknowledged ?? 0)),
      };
      series.push(point);
      for (const [i, s] of last.entries()) {
        peakUnacked[i] = Math.max(peakUnacked[i] ?? 0, s.sessionsReceived - s.acknowledged);
        healthMax[i] = Math.max(healthMax[i] ?? 0, s.healthMs);
        peakRss[i] = Math.max(peakRss[i] ?? 0, sampleProc(spec.members[i]?.sut.pid ?? 0)?.rssBytes ?? 0);
      }
      mosquittoPeakRss = Math.max(mosquittoPeakRss, sampleProc(spec.mosquitto.pid)?.rssBytes ?? 0);
      if (sum(point.acknowledged) >= messages) break;
      if (performance.now() > deadline) {
        progress(`  ${spec.label}: gave up after ${spec.timeoutMs / 1000} s`);
        break;
      }
      await sleep(50);
    }
    const after = cpuAt();
    const pub = await published;
    const elapsed = after.at - before.at;
    const t0 = pub.firstWriteAt / 1000;
    const end = series.at(-1) as Point;
    const firstAt = (reached: (p: Point) => boolean) => series.find(reached)?.at ?? end.at;
    const from = series.find((p) => sum(p.recorded) >= messages * 0.1);
    const to = series.find((p) => sum(p.recorded) >= messages * 0.9);
    const rateOf = (count: (p: Point) => number) =>
      from && to && to.at > from.at ? ((count(to) - count(from)) * 1000) / (to.at - from.at) : Number.NaN;
    const instances: DrainInstance[] = [];
    for (const [i, m] of spec.members.entries()) {
      const acknowledged = end.acknowledged[i] ?? 0;
      const recorded = end.recorded[i] ?? 0;
      const partitions = (last[i] as SutSample).partitions;
      instances.push({
        id: m.id,
        partitions,
        sites: spec.fleet.sites.filter((site) => partitions.includes(partitionOf(site, 16))),
        acknowledged,
        midRate: rateOf((p) => p.recorded[i] ?? 0),
        recordedMs: firstAt((p) => (p.recorded[i] ?? 0) >= recorded) - t0,
        acknowledgedMs: firstAt((p) => (p.acknowledged[i] ?? 0) >= acknowledged) - t0,
        peakUnacknowledged: peakUnacked[i] ?? 0,
        cpu: cpuPercent(before.members[i], after.members[i]),
        peakRssBytes: peakRss[i] ?? Number.NaN,
        puback: await m.sut.call<LatencySummary>('pubackLatency'),
        commit: commitLatency(await m.sut.call<SutMarks>('marks')),
        healthMaxMs: healthMax[i] ?? Number.NaN,
      });
    }
    const mosquittoCpu = cpuPercent(before.mosquitto, after.mosquitto);
    const generatorCpu = cpuPercent(before.generator, after.generator);
    const postgresCpu =
      before.postgres && after.postgres
        ? groupCpuPercent(before.postgres, after.postgres, elapsed)
        : undefined;
    const ours = [
      ...instances.map((x) => x.cpu),
      mosquittoCpu,
      generatorCpu,
      cpuPercent(before.runner, after.runner),
      postgresCpu ?? 0,
    ];
    const machine = ((after.machine - before.machine) * 100_000) / elapsed;
    const run: DrainRun = {
      label: spec.label,
      inFlight: spec.inFlight,
      messages,
      connections,
      publishMs: (pub.lastAckAt - pub.firstWriteAt) / 1000,
      recordedMs: firstAt((p) => sum(p.recorded) >= messages) - t0,
      drainMs: end.at - t0,
      midRate: rateOf((p) => sum(p.recorded)),
      instances,
      mosquittoCpu,
      mosquittoPeakRssBytes: mosquittoPeakRss,
      generatorCpu,
      ...(postgresCpu !== undefined ? { postgresCpu } : {}),
      othersCpu: Math.max(0, machine - sum(ours.map((c) => (Number.isFinite(c) ? c : 0)))),
      alarms: sum(last.map((s, i) => s.alarms - (base[i]?.alarms ?? 0))),
    };
    progress(
      `  ${spec.label}: ${sum(end.acknowledged)} acknowledged in ${(run.drainMs / 1000).toFixed(2)} s ` +
        `(${Math.round((sum(end.acknowledged) * 1000) / run.drainMs)} msg/s; recorded 10–90% at ${Math.round(run.midRate)} msg/s); ` +
        `published in ${(run.publishMs / 1000).toFixed(2)} s; ` +
        instances
          .map(
            (x) =>
              `${x.id}: CPU ${Math.round(x.cpu)}%, unacknowledged ≤ ${x.peakUnacknowledged}, PUBACK p50 ${x.puback.p50.toFixed(2)} ms, ` +
              `commit p50 ${x.commit.p50.toFixed(1)} ms (${x.commit.n}), health ≤ ${Math.round(x.healthMaxMs)} ms`,
          )
          .join('; ') +
        `; mosquitto ${Math.round(mosquittoCpu)}%, generator ${Math.round(generatorCpu)}%` +
        (postgresCpu !== undefined ? `, postgres ${Math.round(postgresCpu)}%` : ''),
    );
    const stopped = await gen.call<LoadResult>('stop', undefined, 30_000);
    Object.assign(spec.faultCursor, stopped.faultCursor);
    return run;
  } finally {
    await gen.stop();
  }
}

/** `reps` drains one after the other on the same processes (each waits until the last was acknowledged). */
async function drainReps(spec: Omit<DrainSpec, 'faultCursor'>, reps: number): Promise<DrainSeries> {
  const faultCursor: Record<string, number> = {};
  const runs: DrainRun[] = [];
  for (let i = 0; i < reps; i++) {
    runs.push(await drain({ ...spec, label: `${spec.label} (${i + 1}/${reps})`, faultCursor }));
    await sleep(300);
  }
  return { label: spec.label, inFlight: spec.inFlight, members: spec.members.length, reps: runs };
}

/**
 * `external`: one instance on SQLite (as a single site runs it) against a private Mosquitto, with
 * `mqtt.inFlight: 1` (one message recorded at a time, the code before issue 15) and the default 64.
 */
export async function scenarioExternal(plan: BenchPlan, out: Collector): Promise<void> {
  const series: DrainSeries[] = [];
  for (const inFlight of plan.external.inFlight) {
    const mosquitto = await startIngestMosquitto();
    try {
      const { sut } = await startSut({
        mode: 'app',
        fleet: plan.external.fleet,
        rules: true,
        external: { url: mosquitto.url, inFlight },
      });
      try {
        const spec = {
          label: `external, inFlight ${inFlight}`,
          inFlight,
          fleet: plan.external.fleet,
          connectionsPerSite: plan.connectionsPerSite,
          messages: plan.external.messages,
          faultEvery: plan.faultEvery,
          window: plan.window,
          batch: plan.batch,
          mosquitto,
          members: [{ id: 'xiaoer', sut }],
          postgres: false,
          timeoutMs: plan.external.timeoutMs,
        };
        series.push(await drainReps(spec, plan.reps));
      } finally {
        await sut.stop();
      }
    } finally {
      await mosquitto.stop();
    }
    await sleep(500);
  }
  out.external = series;
}

/**
 * `cluster`: instances on one PostgreSQL database (a fresh one per run) and one Mosquitto, eight
 * sites in eight partitions: for each run, `count` instances with `mqtt.inFlight` `inFlight`. A
 * run of several waits until each instance consumes its share of partitions before the load.
 */
export async function scenarioCluster(plan: BenchPlan, out: Collector): Promise<void> {
  const c = plan.cluster;
  const fleet: FleetSpec = { sites: CLUSTER_SITES, normal: c.normal, faultPool: c.faultPool, seeded: 0 };
  const sites = CLUSTER_SITES.map((id) => ({ id, partition: partitionOf(id, 16) }));
  const distinct = new Set(sites.map((s) => s.partition)).size;
  if (distinct !== CLUSTER_SITES.length)
    throw new Error(`the cluster sites fall in ${distinct} partitions, not ${CLUSTER_SITES.length}`);
  const result: ClusterResult = { sites, postgres: await postgresSettings(), series: [] };
  for (const { count, inFlight } of c.runs) {
    let db: TestDatabase | undefined;
    let mosquitto: RunningMosquitto | undefined;
    const members: Member[] = [];
    try {
      [db, mosquitto] = await Promise.all([createTestDatabase('xiaoer_bench'), startIngestMosquitto()]);
      const url = (db as TestDatabase).url;
      const broker = mosquitto as RunningMosquitto;
      // All at once on the empty database, as the integration test starts them.
      const started = await Promise.all(
        Array.from({ length: count }, (_, i) => String.fromCharCode(97 + i)).map(async (id) => {
          const { sut } = await startSut({
            mode: 'app',
            fleet,
            rules: true,
            external: { url: broker.url, inFlight },
            database: { url, instanceId: `bench-${id}`, checkSeconds: 0.25 },
          });
          return { id, sut };
        }),
      );
      members.push(...started);
      const share = Math.ceil(CLUSTER_SITES.length / count);
      const spreadStarted = performance.now();
      for (;;) {
        const held = (await Promise.all(members.map(sample))).map((s) => s.partitions.length);
        if (held.every((n) => n === share) && sum(held) === CLUSTER_SITES.length) break;
        if (performance.now() - spreadStarted > 30_000)
          throw new Error(`partitions not spread after 30 s: ${held.join(', ')}`);
        await sleep(100);
      }
      progress(
        `  cluster: ${count} instance(s), ${share} partitions each after ${Math.round(performance.now() - spreadStarted)} ms`,
      );
      const spec = {
        label: `cluster, ${count} instance${count > 1 ? 's' : ''}, inFlight ${inFlight}`,
        inFlight,
        fleet,
        connectionsPerSite: 1,
        messages: c.messages,
        faultEvery: plan.faultEvery,
        window: plan.window,
        batch: plan.batch,
        mosquitto: broker,
        members,
        postgres: true,
        timeoutMs: c.timeoutMs,
      };
      result.series.push(await drainReps(spec, plan.reps));
    } finally {
      await Promise.all(members.map((m) => m.sut.stop()));
      await mosquitto?.stop();
      await db?.drop();
    }
    await sleep(500);
  }
  out.cluster = result;
}
