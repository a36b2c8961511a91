import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loopbackConfig, spawnXiaoer } from '../test/helpers/xiaoer-process.ts';
import { progress } from './log.ts';
import type { Collector } from './scenarios.ts';
import { summarizeReps } from './stats.ts';

/**
 * Start-up time (issue 14): from spawning node to the "xiaoer started" line (every port bound,
 * the store migrated), with the TypeScript sources through tsx (`npm run dev`, and `npm start`
 * before issue 14) and with the compiled JavaScript `npm start` runs now. A fresh data folder
 * each time, so each start also creates the database.
 *
 * `npm run bench -- --only=startup`, or alone: `node --import tsx bench/startup.ts`.
 */
export async function startupTimes(out: Collector, reps = 5): Promise<void> {
  const figures: Record<string, number[]> = { sources: [], compiled: [] };
  for (let i = 0; i < reps; i++) {
    for (const from of ['sources', 'compiled'] as const) {
      const dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-bench-startup-'));
      const t0 = performance.now();
      const x = spawnXiaoer({ config: loopbackConfig(dir), dataDir: path.join(dir, 'data'), from });
      try {
        await x.started;
        figures[from]?.push(performance.now() - t0);
      } finally {
        x.child.kill('SIGTERM');
        await x.exited;
        rmSync(dir, { recursive: true, force: true });
      }
    }
    progress(`startup: ${i + 1}/${reps}`);
  }
  const f = (xs: number[]) => {
    const s = summarizeReps(xs);
    return `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  };
  out.notes.push(
    `start-up to "xiaoer started", median (min–max) of ${reps}: TypeScript through tsx ${f(figures.sources ?? [])}; compiled JavaScript (npm start) ${f(figures.compiled ?? [])}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out: Collector = { throughput: [], notes: [] };
  await startupTimes(out);
  for (const note of out.notes) process.stdout.write(`- ${note}\n`);
}
