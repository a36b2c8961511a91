import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { consoleLoad } from './console-load.ts';
import { BENCH_SITES } from './fleet.ts';
import { progress } from './log.ts';
import { machineInfo } from './proc.ts';
import { REPLAY_FULL, REPLAY_SMOKE, scenarioReplay } from './replay.ts';
import { renderReport, spliceResults } from './report.ts';
import { buildBench } from './rpc.ts';
import { scenarioD } from './scenario-d.ts';
import { scenarioCluster, scenarioExternal } from './scenario-external.ts';
import { scenarioFlood } from './scenario-flood.ts';
import {
  type BenchPlan,
  type Collector,
  type ScenarioId,
  scenarioA,
  scenarioBC,
  scenarioCpu,
  scenarioScale,
  scenarioSingle,
  scenarioSla,
} from './scenarios.ts';
import { startupTimes } from './startup.ts';

/**
 * `npm run bench` — every scenario of issue 5 in one run on this machine, then a table on stdout
 * and the results section of BENCHMARKS.md. `--quick` for a short development run, `--smoke` for
 * a few-second check that every path works; `--only=A,C` picks scenarios; `--write` / `--no-write`
 * override whether BENCHMARKS.md is updated (by default only a full run writes it). `replay` is the
 * rule preview of issue 11 (bench/replay.ts) and `console` the web console's first page and bundle
 * (bench/console-load.ts): their figures go to the report's notes.
 */

const FULL: BenchPlan = {
  warmupMs: 3000,
  measureMs: 4000,
  reps: 3,
  qos: [0, 1],
  connectionsPerSite: 2,
  window: 1000,
  batch: 100,
  fleet: { sites: BENCH_SITES, normal: 3000, faultPool: 6000, seeded: 10_000 },
  faultEvery: 1000,
  latencyRate: 10_000,
  sustainRates: [10_000, 15_000, 20_000, 25_000, 30_000, 40_000],
  sustainMs: { warmup: 2000, measure: 4000 },
  influxCeilingMs: 5000,
  httpRate: 200,
  sseClients: 100,
  seedLeadMs: 30_000,
  seedSpreadMs: 600_000,
  scale: { normal: 90_000, tickets: 10_000 },
  sla: { tickets: 100_000, leadMs: 25_000, spreadMs: 60_000, arrivalMinutes: 1 },
  flood: { seconds: 60 },
  singleDevices: 1000,
  cpuRate: 10_000,
  external: {
    fleet: { sites: BENCH_SITES, normal: 3000, faultPool: 3000, seeded: 0 },
    messages: 300_000,
    inFlight: [1, 64],
    timeoutMs: 60_000,
  },
  cluster: {
    normal: 4000,
    faultPool: 4000,
    messages: 200_000,
    runs: [
      { count: 1, inFlight: 1 },
      { count: 1, inFlight: 64 },
      { count: 2, inFlight: 64 },
    ],
    timeoutMs: 60_000,
  },
};

const QUICK: BenchPlan = {
  ...FULL,
  warmupMs: 1000,
  measureMs: 3000,
  reps: 1,
  sustainMs: { warmup: 1000, measure: 2000 },
  influxCeilingMs: 2000,
  fleet: { sites: BENCH_SITES, normal: 3000, faultPool: 3000, seeded: 2000 },
  scale: { normal: 9000, tickets: 1000 },
  sla: { tickets: 10_000, leadMs: 15_000, spreadMs: 10_000, arrivalMinutes: 1 },
  flood: { seconds: 20 },
  external: { ...FULL.external, messages: 100_000 },
  cluster: { ...FULL.cluster, messages: 100_000 },
};

const SMOKE: BenchPlan = {
  ...QUICK,
  warmupMs: 300,
  measureMs: 700,
  qos: [1],
  fleet: { sites: BENCH_SITES, normal: 300, faultPool: 300, seeded: 100 },
  latencyRate: 2000,
  sustainRates: [2000, 4000],
  sustainMs: { warmup: 300, measure: 700 },
  influxCeilingMs: 500,
  httpRate: 20,
  sseClients: 5,
  scale: { normal: 900, tickets: 100 },
  sla: { tickets: 300, leadMs: 3000, spreadMs: 500, arrivalMinutes: 0.05 },
  flood: { seconds: 14 },
  singleDevices: 100,
  cpuRate: 2000,
  external: { ...QUICK.external, messages: 3000 },
  cluster: { ...QUICK.cluster, normal: 400, faultPool: 400, messages: 4000 },
};

type Part =
  | ScenarioId
  | 'flood'
  | 'floodoff'
  | 'single'
  | 'cpu'
  | 'external'
  | 'cluster'
  | 'replay'
  | 'console'
  | 'startup';
const ALL: readonly Part[] = [
  'A',
  'Amosq',
  'B',
  'C',
  'D',
  'flood',
  'single',
  'cpu',
  'external',
  'cluster',
  'scale',
  'sla',
  'replay',
  'console',
  'startup',
];
/** Run on request only: the flood with backpressure's holds off, the "before" of issue 14. */
const EXTRA: readonly Part[] = ['floodoff'];
const SMOKE_SCENARIOS: readonly Part[] = ['A', 'C'];

interface Options {
  mode: 'full' | 'quick' | 'smoke';
  only: readonly Part[];
  write: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const mode = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
  const onlyArg = argv.find((a) => a.startsWith('--only='));
  const only = onlyArg
    ? (onlyArg.slice('--only='.length).split(',') as Part[])
    : mode === 'smoke'
      ? SMOKE_SCENARIOS
      : ALL;
  for (const id of only)
    if (!ALL.includes(id) && !EXTRA.includes(id))
      throw new Error(`unknown scenario ${id} (known: ${[...ALL, ...EXTRA].join(', ')})`);
  const write = argv.includes('--write') || (mode === 'full' && !onlyArg && !argv.includes('--no-write'));
  return { mode, only, write };
}

const RUNNERS: Record<Part, (plan: BenchPlan, out: Collector) => Promise<void>> = {
  A: (plan, out) => scenarioA(plan, out, 'aedes'),
  Amosq: (plan, out) => scenarioA(plan, out, 'mosquitto'),
  B: (plan, out) => scenarioBC(plan, out, 'B'),
  C: (plan, out) => scenarioBC(plan, out, 'C'),
  D: scenarioD,
  flood: (plan, out) => scenarioFlood(plan, out, 'on'),
  floodoff: (plan, out) => scenarioFlood(plan, out, 'off'),
  single: scenarioSingle,
  cpu: scenarioCpu,
  external: scenarioExternal,
  cluster: scenarioCluster,
  scale: scenarioScale,
  sla: scenarioSla,
  // The full week of 300 assets in every mode but smoke: the target is about that size.
  replay: (plan, out) =>
    scenarioReplay(plan === SMOKE ? REPLAY_SMOKE : { ...REPLAY_FULL, reps: plan.reps }, out),
  // The console's first page and bundle (issue 12): its figures go to the notes.
  console: async (plan, out) => {
    await consoleLoad(out, plan === SMOKE ? 2 : 10);
  },
  // Start-up from the sources (tsx) and from the compiled build (issue 14).
  startup: (plan, out) => startupTimes(out, plan === SMOKE ? 1 : 5),
};

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const plan = opts.mode === 'full' ? FULL : opts.mode === 'quick' ? QUICK : SMOKE;
  const machine = machineInfo();
  const out: Collector = { throughput: [], notes: [] };
  const started = performance.now();
  progress('compiling the processes under test (tsconfig.bench.json → build-bench/)...');
  buildBench();
  for (const id of opts.only) {
    const t = performance.now();
    progress(`scenario ${id}...`);
    try {
      await RUNNERS[id](plan, out);
    } catch (err) {
      out.notes.push(`scenario ${id} failed: ${(err as Error).message.split('\n')[0]}`);
      progress(`scenario ${id} failed: ${(err as Error).stack}`);
    }
    progress(`scenario ${id} took ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const elapsedS = (performance.now() - started) / 1000;
  const report = renderReport({ machine, plan, mode: opts.mode, elapsedS, out });
  process.stdout.write(`\n${report}\n`);
  if (opts.write) {
    const file = path.resolve(import.meta.dirname, '../BENCHMARKS.md');
    writeFileSync(file, spliceResults(readOrEmpty(file), report));
    progress(`results written to ${file}`);
  }
  const failed = out.notes.some((n) => n.includes(' failed: '));
  process.exitCode = failed ? 1 : 0;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

await main();
