import { setTimeout as sleep } from 'node:timers/promises';
import type { FleetSpec } from './fleet.ts';
import type { LoadResult, LoadSample, LoadSpec } from './loadgen.ts';
import { progress } from './log.ts';
import { cpuPercent, hrMicros, machineCpuSeconds, type ProcSample, sampleProc } from './proc.ts';
import { RpcChild } from './rpc.ts';
import { ratePerSecond } from './stats.ts';

/** Timing and shape of the load, shared by every scenario of one run. */
export interface LoadPlan {
  warmupMs: number;
  measureMs: number;
  reps: number;
  connectionsPerSite: number;
  window: number;
  batch: number;
}

/** What the consumer side says: messages delivered or ingested so far, and its busy share. */
export interface Probe {
  count: number;
  /**
   * When `count` was read, in ms on the shared monotonic clock (`hrMicros() / 1000`). A flooded
   * server answers its IPC late, so the rate is taken from its own reading times, not ours.
   */
  at: number;
  /** Main-thread event loop utilisation of the process under test since the last probe (0..1). */
  busy?: number;
}

export interface PhaseSpec {
  label: string;
  port: number;
  qos: 0 | 1;
  fleet: FleetSpec;
  faultEvery: number;
  faultCursor: Record<string, number>;
  rate?: number;
  probe(): Promise<Probe>;
  /** Processes whose CPU and memory are reported: the server first. */
  pids: Record<string, number>;
  /** Called at the start of each measured window and at its end (e.g. to read the API load). */
  onWindow?(edge: 'start' | 'end'): void;
}

export interface WindowResult {
  rate: number;
  /** % of one core, per process in `pids`. */
  cpu: Record<string, number>;
  rssBytes: Record<string, number>;
  generatorCpu: number;
  /** This process: the raw subscriber (A) or the API clients (D). */
  clientsCpu: number;
  /** Everything else on the machine (other people's tests, the kernel's own threads), % of one core. */
  othersCpu: number;
  generatorBusy: number;
  serverBusy: number | undefined;
  /** Generator-side counts in the window: written, and acknowledged (QoS 1). */
  sent: number;
  acked: number;
}

export interface PhaseResult {
  windows: WindowResult[];
  load: LoadResult;
  /** When the first measured window began, on the shared monotonic clock (µs). */
  measuredFromMicros: number;
}

interface Snapshot {
  at: number;
  probe: Probe;
  procs: Record<string, ProcSample | undefined>;
  generator: ProcSample | undefined;
  clients: ProcSample | undefined;
  machineCpuSeconds: number;
  load: LoadSample;
}

async function snapshot(spec: PhaseSpec, gen: RpcChild): Promise<Snapshot> {
  const [probe, load] = await Promise.all([spec.probe(), gen.call<LoadSample>('sample')]);
  const procs: Record<string, ProcSample | undefined> = {};
  for (const [name, pid] of Object.entries(spec.pids)) procs[name] = sampleProc(pid);
  const generator = sampleProc(gen.pid);
  return {
    at: performance.now(),
    probe,
    procs,
    generator,
    clients: sampleProc(process.pid),
    machineCpuSeconds: machineCpuSeconds(),
    load,
  };
}

function windowResult(before: Snapshot, after: Snapshot): WindowResult {
  const cpu: Record<string, number> = {};
  const rssBytes: Record<string, number> = {};
  for (const name of Object.keys(after.procs)) {
    cpu[name] = cpuPercent(before.procs[name], after.procs[name]);
    rssBytes[name] = after.procs[name]?.rssBytes ?? Number.NaN;
  }
  const generatorCpu = cpuPercent(before.generator, after.generator);
  const clientsCpu = cpuPercent(before.clients, after.clients);
  const machine = ((after.machineCpuSeconds - before.machineCpuSeconds) * 100_000) / (after.at - before.at);
  const ours = Object.values(cpu).reduce(
    (n, c) => n + (Number.isFinite(c) ? c : 0),
    generatorCpu + clientsCpu,
  );
  return {
    rate: ratePerSecond(before.probe.count, after.probe.count, after.probe.at - before.probe.at),
    cpu,
    rssBytes,
    generatorCpu,
    clientsCpu,
    othersCpu: Math.max(0, machine - ours),
    generatorBusy: after.load.busy,
    serverBusy: after.probe.busy,
    sent: after.load.sent - before.load.sent,
    acked: after.load.acked - before.load.acked,
  };
}

/**
 * One load phase: the generator connects and runs, a warm-up passes, then `reps` measured
 * windows back to back, each read from the consumer's own counter (the raw subscriber's, or
 * the ingest's), never from what the generator wrote.
 */
export async function runPhase(plan: LoadPlan, spec: PhaseSpec): Promise<PhaseResult> {
  const gen = new RpcChild('loadgen.ts', 'loadgen');
  try {
    const loadSpec: LoadSpec = {
      host: '127.0.0.1',
      port: spec.port,
      qos: spec.qos,
      fleet: spec.fleet,
      connectionsPerSite: plan.connectionsPerSite,
      faultEvery: spec.faultEvery,
      faultCursor: spec.faultCursor,
      window: plan.window,
      batch: plan.batch,
      ...(spec.rate !== undefined ? { rate: spec.rate } : {}),
    };
    await gen.call('start', loadSpec, 60_000);
    progress(`  ${spec.label}: QoS ${spec.qos}${spec.rate ? ` at ${spec.rate} msg/s` : ''}, warming up`);
    await sleep(plan.warmupMs);
    let before = await snapshot(spec, gen);
    const measuredFromMicros = hrMicros();
    const windows: WindowResult[] = [];
    for (let i = 0; i < plan.reps; i++) {
      spec.onWindow?.('start');
      await sleep(plan.measureMs);
      const after = await snapshot(spec, gen);
      spec.onWindow?.('end');
      const w = windowResult(before, after);
      windows.push(w);
      progress(
        `  ${spec.label}: window ${i + 1}: ${Math.round(w.rate)} msg/s, server ${Math.round(w.cpu.server ?? 0)}% CPU`,
      );
      before = after;
    }
    const load = await gen.call<LoadResult>('stop', undefined, 30_000);
    return { windows, load, measuredFromMicros };
  } finally {
    await gen.stop();
  }
}
