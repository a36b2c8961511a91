import { parseArgs } from 'node:util';
import { fuzzSeed } from '../test/fuzz/random.ts';
import { fuzzTheApp, summaryLine } from '../test/fuzz/run.ts';

/**
 * `npm run soak [-- --frames 200000 --seed 42 --concurrency 32]`: the MQTT fuzz of
 * test/integration/fuzz-mqtt.test.ts, longer (100,000 frames unless told; FUZZ_FRAMES and
 * FUZZ_SEED work too). Progress goes to stderr every few seconds, the summary line to stdout. Exits
 * 1 if xiaoer crashed, left a connection hanging, stopped answering /api/health, or did not raise
 * the leak ticket afterwards.
 */
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: process.env.FUZZ_FRAMES ?? '100000' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
  },
});

const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not "${text}"`);
  return n;
};

const frames = positive('frames', values.frames);
const concurrency = positive('concurrency', values.concurrency);
const seed = fuzzSeed(values.seed === undefined ? process.env : { FUZZ_SEED: values.seed });
const log = (line: string) =>
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

log(`seed ${seed}, ${frames} frames, ${concurrency} connections at once (replay with --seed ${seed})`);
const report = await fuzzTheApp({ seed, frames, concurrency, onProgress: log });
process.stdout.write(`${summaryLine(report)}\n`);
if (report.crashDetail) log(`faults:\n${report.crashDetail}`);
if (report.campaign.hung.length > 0)
  log(`hung connections (planConnection(${seed}, n)): ${report.campaign.hung.join(', ')}`);
const ok =
  report.crashes === 0 &&
  report.campaign.hung.length === 0 &&
  report.healthy &&
  report.leakTicket &&
  !report.sentinelTicketBefore;
process.exitCode = ok ? 0 : 1;
