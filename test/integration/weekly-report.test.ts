import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/auth/auth-service.ts';
import { Directory } from '../../src/config/directory.ts';
import type { Config } from '../../src/config/schema.ts';
import { systemClock } from '../../src/core/clock.ts';
import { XiaoerError } from '../../src/core/errors.ts';
import { htmlToPdf } from '../../src/reports/render/chromium.ts';
import type { WeeklyReportView } from '../../src/reports/render/model.ts';
import { ReportSource, satisfactionFromCallbacks } from '../../src/reports/report-source.ts';
import { buildWeeklyReport } from '../../src/reports/weekly.ts';
import { renderWeeklyReport } from '../../src/reports/weekly-output.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import {
  ADMIN_PASSWORD,
  EXAMPLE_CONFIG,
  startTestApp,
  type TestApp,
  testConfig,
} from '../helpers/test-app.ts';
import { type PlannedTicket, planTickets, playHistory } from '../helpers/weekly-history.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The rendered report and its pages as PNG, for a reviewer (git-ignored). */
const OUT_DIR = path.join(ROOT, 'test-output', 'reports');
const HOUR = 3_600_000;

// 2026-W48 in Asia/Shanghai: Monday 2026-11-23 00:00 +08:00 (= 11-22 16:00 UTC) to the next Monday.
const W48_FROM = Date.parse('2026-11-22T16:00:00Z');
const W48_TO = Date.parse('2026-11-29T16:00:00Z');
const HOSTILE_NAME = `<script>alert("x")</script> & 'B1' 漏水探测器`;
const HOSTILE_LOCATION = '<img src=x onerror=alert(1)>';
/** A spreadsheet would run this as a formula (OWASP's CSV injection). */
const FORMULA_NAME = '=HYPERLINK("http://x","3F")';

/** Detections: a week before, the four instants around W48's two edges, and a busy W48. */
function detections(): number[] {
  const w47 = Array.from({ length: 17 }, (_, i) => Date.parse('2026-11-16T01:00:00Z') + i * 9 * HOUR);
  const w48 = Array.from({ length: 40 }, (_, i) => Date.parse('2026-11-22T18:30:00Z') + i * 4 * HOUR);
  const edges = [W48_FROM - 1000, W48_FROM, W48_TO - 1000, W48_TO];
  return [...w47, ...w48, ...edges].sort((a, b) => a - b);
}

/** The example config with an asset whose name and location are markup (they come from config). */
function reportConfig(dataDir: string): Config {
  return testConfig(dataDir, (c) => {
    const device = c.sites.find((s) => s.id === 'xincheng')?.devices.find((d) => d.id === 'leak-b1-riser');
    if (!device) throw new Error('example config changed: no xincheng leak-b1-riser');
    device.name = HOSTILE_NAME;
    device.location = HOSTILE_LOCATION;
    const lock = c.sites.find((site) => site.id === 'north')?.devices.find((d) => d.id === 'lock-3f-east');
    if (lock) lock.name = FORMULA_NAME;
    // A fault back within an hour of its verified repair reopens the ticket (the plan's reopens);
    // the repeat offender's later faults, a day apart, are tickets of their own.
    c.tickets.reopenHours = 1;
  });
}

/** The right answers, from the plan alone (not from the figures code). */
function expected(plan: readonly PlannedTicket[], from: number, to: number) {
  const inWeek = plan.filter((p) => p.detectedAt >= from && p.detectedAt < to);
  const arrivalMet = inWeek.filter((p) => p.arriveMin <= 5).length;
  const repairMet = inWeek.filter((p) => p.repairMin <= 60).length;
  const byCategory = new Map<string, number>();
  for (const p of inWeek) byCategory.set(p.category, (byCategory.get(p.category) ?? 0) + 1);
  return {
    tickets: inWeek.length,
    arrivalMet,
    repairMet,
    arrivalCompliance: arrivalMet / inWeek.length,
    repairCompliance: repairMet / inWeek.length,
    mttrSeconds: (inWeek.reduce((s, p) => s + p.repairMin, 0) / inWeek.length) * 60,
    byCategory,
    repairOverBy: inWeek.filter((p) => p.repairMin > 60).map((p) => Math.round((p.repairMin - 60) * 60)),
    reopened: inWeek.filter((p) => p.reopen).length,
    satisfaction: inWeek.flatMap((p) => p.satisfaction ?? []),
    flapping: inWeek.filter((p) => p.flapping).length,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

describe('weekly report over a generated week of tickets', () => {
  let dataDir: string;
  let config: Config;
  let plan: PlannedTicket[];
  let view: WeeklyReportView;
  let end: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'xiaoer-weekly-'));
    config = reportConfig(dataDir);
    plan = planTickets(config, detections());
    ({ end } = await playHistory(config, path.join(dataDir, 'xiaoer.db'), plan));
    mkdirSync(OUT_DIR, { recursive: true });
    view = await reportOf('2026-W48');
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function reportOf(week: string, lang: 'zh' | 'en' = 'zh', sites: string[] = []) {
    const store = new SqliteStore(path.join(dataDir, 'xiaoer.db'));
    const clock = { now: () => end };
    try {
      const directory = new Directory(config);
      const source = new ReportSource({
        store,
        directory,
        clock,
        config: config.reports,
        satisfaction: satisfactionFromCallbacks((ids) => store.satisfaction(ids)),
      });
      return await buildWeeklyReport(
        { source, directory, store, targets: config.sla, now: clock.now },
        { week, lang, sites },
      );
    } finally {
      await store.close();
    }
  }

  it('played every planned ticket through the ticket service', () => {
    expect(plan.every((p) => p.id !== undefined)).toBe(true);
    expect(new Set(plan.map((p) => p.id)).size).toBe(plan.length);
  });

  it('counts the headline figures as an independent count of the plan does', () => {
    const want = expected(plan, W48_FROM, W48_TO);
    expect(want.tickets).toBe(42); // 40 inside, and the first and last second of the week
    expect(view.faults.total).toBe(want.tickets);
    expect(view.overall.arrival).toMatchObject({ total: want.tickets, met: want.arrivalMet });
    expect(view.overall.repair).toMatchObject({ total: want.tickets, met: want.repairMet });
    expect(view.overall.arrival.compliance).toBeCloseTo(want.arrivalCompliance, 10);
    expect(view.overall.repair.compliance).toBeCloseTo(want.repairCompliance, 10);
    expect(view.timings.repair.meanSeconds).toBeCloseTo(want.mttrSeconds, 0);
    for (const [category, count] of want.byCategory) {
      expect(view.faults.byCategory.find((c) => c.key === category)?.count).toBe(count);
    }
    const repairBreaches = view.breaches.filter((b) => b.clock === 'repair').map((b) => b.overBySeconds);
    expect(repairBreaches.sort()).toEqual(want.repairOverBy.sort());
    expect(view.faults.reopened).toHaveLength(want.reopened);
    expect(view.faults.flapping).toHaveLength(want.flapping);
    expect(view.satisfaction?.responses).toBe(want.satisfaction.length);
    expect(view.satisfaction?.mean).toBeCloseTo(
      want.satisfaction.reduce((a, b) => a + b, 0) / want.satisfaction.length,
      10,
    );
    // The week before, for the headline's change.
    expect(view.previous?.tickets).toBe(expected(plan, W48_FROM - 7 * 24 * HOUR, W48_FROM).tickets);
  });

  it('reads week boundaries in Asia/Shanghai, not UTC', async () => {
    const ids = (from: number, to: number) =>
      plan.filter((p) => p.detectedAt >= from && p.detectedAt < to).map((p) => p.id);
    const lastOfW47 = plan.find((p) => p.detectedAt === W48_FROM - 1000);
    const firstOfW49 = plan.find((p) => p.detectedAt === W48_TO);
    expect(ids(W48_FROM, W48_TO)).toContain(plan.find((p) => p.detectedAt === W48_FROM)?.id);
    expect(ids(W48_FROM, W48_TO)).toContain(plan.find((p) => p.detectedAt === W48_TO - 1000)?.id);
    expect(view.tickets.has(lastOfW47?.id ?? -1) && view.faults.total).toBe(42);
    const w49 = await reportOf('2026-W49');
    expect(w49.faults.total).toBe(1);
    expect(w49.period.from).toBe(W48_TO);
    expect(firstOfW49?.id).toBeDefined();
    const html = (await renderWeeklyReport(view, 'html')).body as string;
    expect(html).toContain('统计周期: 2026-11-23 至 2026-11-29 · 时区 Asia/Shanghai');
  });

  it('renders print-ready Chinese HTML with the headline, tables, charts and notable tickets, all escaped', async () => {
    const want = expected(plan, W48_FROM, W48_TO);
    const html = (await renderWeeklyReport(view, 'html')).body as string;
    writeFileSync(path.join(OUT_DIR, 'weekly-2026-W48.html'), html);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('服务台周报 2026-W48');
    expect(html).toContain('@page { size: A4');
    expect(html).toContain(pct(want.arrivalCompliance));
    expect(html).toContain(pct(want.repairCompliance));
    expect(html).toContain('目标 5 分钟内');
    expect(html).toContain('目标 1 小时内');
    expect(html).toContain('上下水管道 Plumbing');
    expect(html).toContain('王师傅 (wang)');
    expect(html.match(/<svg /g)?.length).toBe(3);
    for (const heading of ['服务时效达标情况', '处理时长', '故障构成', '高频报修设备与房间', '重点工单'])
      expect(html).toContain(heading);
    // No markup from config gets through, and nothing active at all.
    expect(html).not.toMatch(/<script|<img|<[a-z]+[^>]*\son[a-z]+=|javascript:/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;B1&#39;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const en = (await renderWeeklyReport(await reportOf('2026-W48', 'en'), 'html')).body as string;
    writeFileSync(path.join(OUT_DIR, 'weekly-2026-W48.en.html'), en);
    expect(en).toContain('Service desk weekly report 2026-W48');
    expect(en).toContain(pct(want.repairCompliance));
  });

  it('writes one CSV in sections, UTF-8 with BOM, safe to open in Excel', async () => {
    const want = expected(plan, W48_FROM, W48_TO);
    const out = await renderWeeklyReport(view, 'csv');
    const csv = out.body as string;
    writeFileSync(path.join(OUT_DIR, 'weekly-2026-W48.csv'), csv);
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(Buffer.from(csv, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(csv).toContain(`tickets,${want.tickets}\r\n`);
    expect(csv).toContain(
      `arrivalCompliancePct,${(want.arrivalCompliance * 100).toFixed(1).replace(/\.0$/, '')}\r\n`,
    );
    expect(csv).toContain('# 服务时效达标情况 · 按院区');
    expect(csv).toContain('# 故障构成 · 按类别');
    // A name that begins like a formula stays text: a leading apostrophe, and quoted for its commas.
    expect(csv).toContain(`"'=HYPERLINK(""http://x"",""3F"")"`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    // Markup is quoted as text too.
    expect(csv).toContain(`"<script>alert(""x"")</script> & 'B1' 漏水探测器"`);
  });

  it('prints an A4 PDF through Chromium, and its pages as PNG for a reviewer', async () => {
    const out = await renderWeeklyReport(view, 'pdf');
    const pdf = out.body as Buffer;
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const pdfFile = path.join(OUT_DIR, 'weekly-2026-W48.pdf');
    writeFileSync(pdfFile, pdf);
    for (const f of readdirSync(OUT_DIR))
      if (/^weekly-2026-W48-page-\d+\.png$/.test(f)) rmSync(path.join(OUT_DIR, f));
    // poppler-utils (scripts/ensure-services.sh): the PDF's own pages, as printed.
    execFileSync('pdftoppm', ['-png', '-r', '80', pdfFile, path.join(OUT_DIR, 'weekly-2026-W48-page')]);
    const pages = readdirSync(OUT_DIR).filter((f) => /^weekly-2026-W48-page-\d+\.png$/.test(f));
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const info = execFileSync('pdfinfo', [pdfFile]).toString();
    expect(info).toMatch(/Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)/);
  });

  it('answers pdf_unavailable (503) naming format=html when Chromium is missing', async () => {
    const err = await htmlToPdf('<p>x</p>', { executablePath: '/nonexistent/chromium' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(XiaoerError);
    expect(err).toMatchObject({ code: 'pdf_unavailable', httpStatus: 503 });
    expect((err as Error).message).toContain('format=html');
  });

  it('covers only the sites asked for (a maintainer’s scope)', async () => {
    const north = await reportOf('2026-W48', 'zh', ['north']);
    const want = plan.filter((p) => p.site === 'north' && p.detectedAt >= W48_FROM && p.detectedAt < W48_TO);
    expect(north.faults.total).toBe(want.length);
    expect(north.siteNames).toEqual(['North office site']);
    expect(existsSync(path.join(OUT_DIR, 'weekly-2026-W48.html'))).toBe(true);
  });

  it('refuses a period that is not exactly one week or month', async () => {
    await expect(reportOf('2026-W54')).rejects.toMatchObject({ code: 'invalid_week', httpStatus: 400 });
  });

  describe('GET /api/reports/weekly', () => {
    let api: TestApp;
    let admin: string;
    const get = (url: string, token?: string) =>
      fetch(`${api.baseUrl}${url}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

    beforeAll(async () => {
      // xiaoer makes its admin only in an empty store, and the history has its maintainers.
      const store = new SqliteStore(path.join(dataDir, 'xiaoer.db'));
      const auth = new AuthService({ store, clock: systemClock, tokenTtlHours: 1 });
      await auth.createUser(
        { username: 'admin', displayName: 'Admin', role: 'admin', password: ADMIN_PASSWORD },
        'test',
      );
      await store.close();
      api = await startTestApp({
        dataDir,
        override: (c) => {
          Object.assign(c.sites, reportConfig(dataDir).sites);
          c.tickets.reopenHours = 1;
        },
      });
      admin = await api.adminToken();
    });
    afterAll(() => api.stop({ keepData: true }));

    it('serves the print-ready HTML with a CSP that allows no script, and the CSV as a download', async () => {
      const want = expected(plan, W48_FROM, W48_TO);
      const html = await get('/api/reports/weekly?week=2026-W48', admin);
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(html.headers.get('content-security-policy')).toContain("default-src 'none'");
      const page = await html.text();
      expect(page).toContain(pct(want.repairCompliance));
      expect(page).not.toContain('<script>');
      const csv = await get('/api/reports/weekly?week=2026-W48&format=csv&lang=en', admin);
      expect(csv.headers.get('content-disposition')).toBe(
        'attachment; filename="xiaoer-report-2026-W48.csv"',
      );
      expect(new Uint8Array(await csv.arrayBuffer()).subarray(0, 3)).toEqual(
        new Uint8Array([0xef, 0xbb, 0xbf]),
      );
    });

    it('serves the PDF, and the month', async () => {
      const pdf = await get('/api/reports/weekly?week=2026-W48&format=pdf', admin);
      expect(pdf.status).toBe(200);
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(
        Buffer.from(await pdf.arrayBuffer())
          .subarray(0, 5)
          .toString(),
      ).toBe('%PDF-');
      const month = await get('/api/reports/weekly?month=2026-11', admin);
      expect(month.status).toBe(200);
      expect(await month.text()).toContain('服务台月报 2026-11');
    });

    it('answers 400 for a bad or doubled period or an unknown key, and 401 without a login', async () => {
      const error = async (url: string) => {
        const res = await get(url, admin);
        return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code };
      };
      expect(await error('/api/reports/weekly?week=2026-48')).toEqual({ status: 400, code: 'invalid_week' });
      expect(await error('/api/reports/weekly?week=2026-W48&month=2026-11')).toEqual({
        status: 400,
        code: 'invalid_period',
      });
      expect((await error('/api/reports/weekly?week=2026-W48&fromat=pdf')).status).toBe(400);
      expect((await get('/api/reports/weekly?week=2026-W48')).status).toBe(401);
    });

    it("gives a maintainer their own sites' report only", async () => {
      const created = await api.request('POST', '/api/users', {
        token: admin,
        body: {
          username: 'zhao',
          displayName: '赵师傅',
          role: 'maintainer',
          password: 'zhao-password-1',
          sites: ['north'],
        },
      });
      expect(created.status).toBe(201);
      const zhao = await api.login('zhao', 'zhao-password-1');
      const page = await (await get('/api/reports/weekly?week=2026-W48&format=csv', zhao)).text();
      const north = plan.filter(
        (p) => p.site === 'north' && p.detectedAt >= W48_FROM && p.detectedAt < W48_TO,
      );
      expect(page).toContain(`tickets,${north.length}\r\n`);
      expect(page).not.toContain('xincheng');
    });
  });

  it('npm run report writes the file and its progress to standard error, reading the store only', () => {
    const configFile = path.join(dataDir, 'report.yaml');
    const yaml = readFileSync(EXAMPLE_CONFIG, 'utf8').replace(/^dataDir: .*$/m, `dataDir: ${dataDir}`);
    writeFileSync(configFile, yaml);
    const out = path.join(OUT_DIR, 'weekly-2026-W48.cli.csv');
    const before = statSync(path.join(dataDir, 'xiaoer.db')).mtimeMs;
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/report.ts',
        '--week',
        '2026-W48',
        '--format',
        'csv',
        '--out',
        out,
        '--config',
        configFile,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('report: 2026-W48: 42 tickets');
    expect(readFileSync(out, 'utf8')).toContain('tickets,42\r\n');
    expect(statSync(path.join(dataDir, 'xiaoer.db')).mtimeMs).toBe(before);
    const bad = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/report.ts', '--week', 'W48', '--config', configFile],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('is not an ISO week');
  });
});
