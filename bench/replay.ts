import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Asset } from '../src/config/directory.ts';
import { type RuleConfig, ruleSchema } from '../src/rules/config.ts';
import { RuleEngine } from '../src/rules/engine.ts';
import { historyMetrics, type ReplayResult, replayRule } from '../src/rules/replay.ts';
import { influxSchema } from '../src/telemetry/config.ts';
import { readHistory } from '../src/telemetry/history.ts';
import { progress } from './log.ts';
import { cpuPercent, findPid, machineCpuSeconds, machineInfo, sampleProc } from './proc.ts';
import type { Collector } from './scenarios.ts';
import { startInfluxd } from './services.ts';
import { summarizeReps } from './stats.ts';

/**
 * The rule preview of issue 11: a week of one-minute temperatures of 300 air handlers (3,024,000
 * readings) in a private influxd, replayed through a threshold rule as it is and as proposed, by
 * `replayRule` with `readHistory` exactly as the API does it, the InfluxDB query included. Target:
 * under 10 s on this 2-core machine. Two proposals: (a) a lower threshold, (b) the same threshold
 * held for 60 s (a duration: every reading over the limit schedules a wake-up).
 *
 * `npm run bench -- --only=replay`, or alone: `node --import tsx bench/replay.ts [--smoke]`.
 */

export interface ReplaySize {
  assets: number;
  days: number;
  reps: number;
}

export const REPLAY_FULL: ReplaySize = { assets: 300, days: 7, reps: 3 };
export const REPLAY_SMOKE: ReplaySize = { assets: 30, days: 1, reps: 1 };

const SITE = 'xincheng';
const MIN = 60_000;
/** A Monday: the week is one InfluxDB shard, as a week of real history mostly is. */
const FROM = Date.UTC(2026, 10, 23);

const current = ruleSchema.parse({
  id: 'office-overheat',
  type: 'threshold',
  kinds: ['hvac'],
  metric: 'temperature_c',
  fault: 'over_temperature',
  above: 28,
  clearBelow: 27,
});
const PROPOSALS: { label: string; rule: RuleConfig }[] = [
  { label: '(a) threshold 28 → 27 °C', rule: ruleSchema.parse({ ...current, above: 27, clearBelow: 26 }) },
  { label: '(b) 28 °C held for 60 s', rule: ruleSchema.parse({ ...current, forSeconds: 60 }) },
];

export interface ReplayRun {
  label: string;
  result: ReplayResult;
  seconds: number[];
  influxCpuSeconds: number;
  nodeCpuSeconds: number;
  /** The rest of the machine meanwhile, in % of one core: other engineers test on this machine. */
  othersCpuPercent: number;
}

/** A deterministic pseudo-random sequence (mulberry32): the same week on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * One asset's week as line protocol, shaped like the writer's points (points.ts): a daily swing
 * of 21–25 °C with sensor noise, and on some afternoons an overheat of 10–90 minutes at 27–30 °C,
 * so that both rules raise, now and then flap, and the proposals differ.
 */
function assetLines(n: number, days: number): string[] {
  const next = random(n + 1);
  const id = `ahu-${String(n).padStart(3, '0')}`;
  const lines: string[] = [];
  const episodes = new Map<number, { start: number; end: number; peak: number }>();
  for (let d = 0; d < days; d++) {
    if (next() < 0.4) {
      const start = d * 1440 + 780 + Math.floor(next() * 240);
      episodes.set(d, { start, end: start + 10 + Math.floor(next() * 80), peak: 27 + next() * 3 });
    }
  }
  for (let m = 0; m < days * 1440; m++) {
    const e = episodes.get(Math.floor(m / 1440));
    const daily = 23 + 2 * Math.sin(((m % 1440) / 1440 - 0.3) * 2 * Math.PI);
    const hot = e && m >= e.start && m < e.end ? e.peak - daily : 0;
    const value = daily + hot + (next() - 0.5) * 0.6;
    lines.push(
      `temperature_c,asset=${id},kind=hvac,site=${SITE} value=${value.toFixed(2)} ${FROM + m * MIN}`,
    );
  }
  return lines;
}

/** Writes the fleet's week in requests of ~50,000 points, two in flight. */
async function load(url: string, database: string, size: ReplaySize): Promise<number> {
  await post(`${url}/query`, new URLSearchParams({ q: `CREATE DATABASE ${database}` }));
  let points = 0;
  let batch: string[] = [];
  const inFlight: Promise<void>[] = [];
  const send = async (body: string) => post(`${url}/write?db=${database}&precision=ms`, body);
  for (let n = 0; n < size.assets; n++) {
    batch = batch.concat(assetLines(n, size.days));
    if (batch.length < 50_000 && n < size.assets - 1) continue;
    points += batch.length;
    inFlight.push(send(batch.join('\n')));
    batch = [];
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return points;
}

async function post(url: string, body: string | URLSearchParams): Promise<void> {
  const res = await fetch(url, { method: 'POST', body });
  if (!res.ok) throw new Error(`influxd answered ${res.status} to ${url}: ${await res.text()}`);
}

/**
 * Until influxd has finished what the load left it to do (writing its cache to disk, compacting),
 * so that the first replay does not pay for it: less than 5% of a core over a second, twice.
 */
async function settled(pid: number): Promise<void> {
  const started = performance.now();
  let quiet = 0;
  let before = sampleProc(pid);
  while (quiet < 2 && performance.now() - started < 120_000) {
    await sleep(1000);
    const after = sampleProc(pid);
    quiet = cpuPercent(before, after) < 5 ? quiet + 1 : 0;
    before = after;
  }
  progress(`replay: influxd settled after ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export async function benchReplay(size: ReplaySize): Promise<ReplayRun[]> {
  const influxd = await startInfluxd();
  try {
    const config = influxSchema.parse({ url: influxd.url, database: 'xiaoer_replay' });
    const started = performance.now();
    const points = await load(influxd.url, config.database, size);
    progress(
      `replay: ${points.toLocaleString('en')} points loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const influxPid = findPid(influxd.dir);
    if (influxPid) await settled(influxPid);
    const assets: Asset[] = Array.from({ length: size.assets }, (_, n) => {
      const id = `ahu-${String(n).padStart(3, '0')}`;
      return { site: SITE, id, kind: 'hvac', category: 'hvac', name: id };
    });
    const to = FROM + size.days * 1440 * MIN;
    const runs: ReplayRun[] = [];
    for (const proposal of PROPOSALS) {
      const seconds: number[] = [];
      let result: ReplayResult | undefined;
      const influxBefore = influxPid ? sampleProc(influxPid) : undefined;
      const nodeBefore = process.cpuUsage();
      const machineBefore = machineCpuSeconds();
      const wallBefore = performance.now();
      for (let rep = 0; rep < size.reps; rep++) {
        const t = performance.now();
        result = await replayRule({
          rule: current,
          engines: {
            current: () => new RuleEngine([current]),
            proposed: () => new RuleEngine([proposal.rule]),
          },
          assets,
          from: FROM,
          to,
          history: (onAsset) =>
            readHistory(
              config,
              {
                assets,
                metrics: historyMetrics([current, proposal.rule]),
                from: FROM,
                to,
                maxReadings: 5_000_000,
              },
              onAsset,
            ),
        });
        seconds.push((performance.now() - t) / 1000);
        progress(`replay ${proposal.label}: ${seconds.at(-1)?.toFixed(2)} s`);
      }
      const influxAfter = influxPid ? sampleProc(influxPid) : undefined;
      const node = process.cpuUsage(nodeBefore);
      const influxCpu = (influxAfter?.cpuSeconds ?? Number.NaN) - (influxBefore?.cpuSeconds ?? 0);
      const nodeCpu = (node.user + node.system) / 1e6;
      const others = machineCpuSeconds() - machineBefore - influxCpu - nodeCpu;
      runs.push({
        label: proposal.label,
        result: result as ReplayResult,
        seconds,
        influxCpuSeconds: influxCpu / size.reps,
        nodeCpuSeconds: nodeCpu / size.reps,
        othersCpuPercent: Math.max(0, (others * 100_000) / (performance.now() - wallBefore)),
      });
    }
    return runs;
  } finally {
    await influxd.stop();
  }
}

/** One line per proposal, for the report's notes and the console. */
export function replayText(run: ReplayRun): string {
  const s = summarizeReps(run.seconds).median;
  const { result: r } = run;
  const spread =
    run.seconds.length > 1
      ? ` (${Math.min(...run.seconds).toFixed(2)}–${Math.max(...run.seconds).toFixed(2)})`
      : '';
  return (
    `replay ${run.label}: ${r.readings.toLocaleString('en')} readings of ${r.assets} assets in ${s.toFixed(2)} s${spread}, ` +
    `${Math.round(r.readings / s).toLocaleString('en')} readings/s, query included; ` +
    // The target is about a week of 300 assets: a smaller run only shows that the path works.
    (r.readings >= 3_000_000 ? `target < 10 s: ${s < 10 ? 'met' : '**missed**'}; ` : '') +
    `per run influxd ${run.influxCpuSeconds.toFixed(1)} s CPU, node ` +
    `${run.nodeCpuSeconds.toFixed(1)} s CPU, other processes ${Math.round(run.othersCpuPercent)}% CPU; alarms ${r.current.alarms} → ${r.proposed.alarms}, tickets ` +
    `${r.current.tickets} → ${r.proposed.tickets}, flapping ${r.current.flaps} → ${r.proposed.flaps}`
  );
}

/** The runner bench/run.ts calls: one note per proposal in the report. */
export async function scenarioReplay(size: ReplaySize, out: Collector): Promise<void> {
  for (const run of await benchReplay(size)) out.notes.push(replayText(run));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const size = process.argv.includes('--smoke') ? REPLAY_SMOKE : REPLAY_FULL;
  const m = machineInfo();
  progress(
    `${m.cores} × ${m.model}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.influxd}; load ${m.loadAverage}`,
  );
  for (const run of await benchReplay(size)) process.stdout.write(`${replayText(run)}\n`);
}
