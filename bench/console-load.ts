import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/e2e/console-harness.ts';
import { ADMIN_PASSWORD } from '../test/helpers/test-app.ts';
import { loopbackConfig, spawnXiaoer } from '../test/helpers/xiaoer-process.ts';
import { progress } from './log.ts';
import type { Collector } from './scenarios.ts';
import { summarizeReps } from './stats.ts';

/**
 * The console's first page on loopback (issue 12: under 1 s) and its bundle size. xiaoer runs
 * as `npm start` runs it; Debian's Chromium opens the login page in a fresh profile each time
 * (cold cache: every byte over the wire) and then once more from its cache, and the board after
 * logging in. "Usable" is when the login form's button is on screen (the app has mounted), not
 * the browser's load event alone.
 *
 * `npm run bench -- --only=console`, or alone: `node --import tsx bench/console-load.ts`.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dashboards/console/dist');

export interface BundleSize {
  files: number;
  rawKiB: number;
  gzipKiB: number;
  /** What the first page needs: index.html, the entry script and stylesheet. */
  entryRawKiB: number;
  entryGzipKiB: number;
  largest: { name: string; rawKiB: number; gzipKiB: number };
}

export function bundleSize(dir = DIST): BundleSize {
  const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
  const entry = new Set([
    'index.html',
    ...[...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]),
  ]);
  let raw = 0;
  let gz = 0;
  let entryRaw = 0;
  let entryGz = 0;
  let largest = { name: '', rawKiB: 0, gzipKiB: 0 };
  const files = ['index.html', ...readdirSync(path.join(dir, 'assets')).map((f) => `assets/${f}`)];
  for (const file of files) {
    const bytes = readFileSync(path.join(dir, file));
    const g = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length;
    gz += g;
    if (entry.has(file)) {
      entryRaw += bytes.length;
      entryGz += g;
    }
    if (bytes.length / 1024 > largest.rawKiB)
      largest = { name: file, rawKiB: bytes.length / 1024, gzipKiB: g / 1024 };
  }
  return {
    files: files.length,
    rawKiB: raw / 1024,
    gzipKiB: gz / 1024,
    entryRawKiB: entryRaw / 1024,
    entryGzipKiB: entryGz / 1024,
    largest,
  };
}

interface Load {
  /** From navigation start to the login button on screen (ms). */
  usableMs: number;
  domContentLoadedMs: number;
  loadMs: number;
  transferKiB: number;
}

export async function consoleLoad(out: Collector, reps = 10): Promise<{ cold: number[]; warm: number[] }> {
  statSync(path.join(DIST, 'index.html'));
  const size = bundleSize();
  const dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-bench-console-'));
  const xiaoer = spawnXiaoer({ config: loopbackConfig(dir), dataDir: path.join(dir, 'data') });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const cold: Load[] = [];
  const warm: Load[] = [];
  const board: number[] = [];
  try {
    const { http } = await xiaoer.started;
    const base = `http://127.0.0.1:${http}`;
    const measure = async (
      page: import('playwright-core').Page,
      url: string,
      ready: string,
    ): Promise<Load> => {
      await page.goto(url, { waitUntil: 'commit' });
      await page.locator(ready).first().waitFor({ state: 'visible' });
      const usableMs = await page.evaluate(() => performance.now());
      await page.waitForLoadState('load');
      return page.evaluate((usable) => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
        const bytes = nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0);
        return {
          usableMs: usable,
          domContentLoadedMs: nav.domContentLoadedEventEnd,
          loadMs: nav.loadEventEnd,
          transferKiB: bytes / 1024,
        };
      }, usableMs);
    };
    for (let i = 0; i < reps; i++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      cold.push(await measure(page, `${base}/login`, '[data-testid="login-submit"]'));
      warm.push(await measure(page, `${base}/login`, '[data-testid="login-submit"]'));
      await page.locator('input[name="username"]').fill('admin');
      await page.locator('input[name="password"]').fill(ADMIN_PASSWORD);
      const t0 = Date.now();
      await page.locator('[data-testid="login-submit"]').click();
      await page.waitForURL((u) => u.pathname === '/board');
      await page.locator('[data-testid="live-status"]').waitFor({ state: 'visible' });
      board.push(Date.now() - t0);
      await context.close();
      progress(`console: load ${i + 1}/${reps}: cold ${cold.at(-1)?.usableMs.toFixed(0)} ms`);
    }
  } finally {
    await browser.close().catch(() => {});
    xiaoer.child.kill('SIGTERM');
    await xiaoer.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  const f = (xs: number[]) => {
    const s = summarizeReps(xs);
    return `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  };
  out.notes.push(
    `console bundle: ${size.files} files, ${size.rawKiB.toFixed(0)} KiB (${size.gzipKiB.toFixed(0)} KiB gzip); the first page needs ${size.entryRawKiB.toFixed(0)} KiB (${size.entryGzipKiB.toFixed(0)} KiB gzip); largest ${size.largest.name} ${size.largest.rawKiB.toFixed(0)} KiB (${size.largest.gzipKiB.toFixed(0)} KiB gzip)`,
    `console first page on loopback, cold cache, median (min–max) of ${reps}: login form usable ${f(cold.map((l) => l.usableMs))}, DOMContentLoaded ${f(cold.map((l) => l.domContentLoadedMs))}, load ${f(cold.map((l) => l.loadMs))}, ${cold[0]?.transferKiB.toFixed(0)} KiB transferred (target: under 1 s)`,
    `console from the browser cache: usable ${f(warm.map((l) => l.usableMs))}; login → board with its live feed ${f(board)}`,
  );
  return { cold: cold.map((l) => l.usableMs), warm: warm.map((l) => l.usableMs) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out: Collector = { throughput: [], notes: [] };
  await consoleLoad(out, process.argv.includes('--smoke') ? 2 : 10);
  for (const note of out.notes) process.stdout.write(`- ${note}\n`);
}
